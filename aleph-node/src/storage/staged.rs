//! Files written as their bytes arrive: an upload or a download goes to a temporary file while
//! it is hashed and counted, so no body is ever held in memory whole, and a size limit stops it
//! at the first byte too many.

use std::path::{Path, PathBuf};

use aleph_core::cid::{Cid, CidBuilder, CidVersion};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// A running content hash: the sha256 hex digest of native storage, or an IPFS CID.
pub(crate) enum ContentHasher {
    /// sha256, hex.
    Sha256(Sha256),
    /// The CID `ipfs add` gives the bytes.
    Cid(Box<CidBuilder>),
}

impl std::fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ContentHasher::Sha256(_) => "ContentHasher::Sha256",
            ContentHasher::Cid(_) => "ContentHasher::Cid",
        })
    }
}

impl ContentHasher {
    /// sha256 (native storage).
    pub(crate) fn sha256() -> Self {
        ContentHasher::Sha256(Sha256::new())
    }

    /// CIDv0 (`ipfs add` with default settings).
    pub(crate) fn cid_v0() -> Self {
        ContentHasher::Cid(Box::new(CidBuilder::new(CidVersion::V0)))
    }

    /// The hasher that recomputes `expected` (a sha256 hex digest or a CID); `None` when `expected`
    /// is neither or names a CID that cannot be recomputed.
    pub(crate) fn for_expected(expected: &str) -> Option<Self> {
        if expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(Self::sha256());
        }
        let cid: Cid = expected.parse().ok()?;
        CidBuilder::for_cid(&cid).ok().map(|b| ContentHasher::Cid(Box::new(b)))
    }

    /// Feeds the next bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            ContentHasher::Sha256(h) => h.update(bytes),
            ContentHasher::Cid(b) => b.update(bytes),
        }
    }

    /// The hash, as the store names files.
    pub(crate) fn finish(self) -> String {
        match self {
            ContentHasher::Sha256(h) => hex::encode(h.finalize()),
            ContentHasher::Cid(b) => b.finish().to_string(),
        }
    }

    /// Whether the bytes fed are what `expected` names (hex compared without regard to case, CIDs
    /// in either version's text form through their parsed value).
    pub(crate) fn matches(self, expected: &str) -> bool {
        match self {
            ContentHasher::Sha256(h) => hex::encode(h.finalize()).eq_ignore_ascii_case(expected),
            ContentHasher::Cid(b) => match expected.parse::<Cid>() {
                Ok(cid) => b.verify(&cid).is_ok(),
                Err(_) => false,
            },
        }
    }
}

/// Why bytes could not be staged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StageError {
    /// More bytes than the limit.
    #[error("over the {limit}-byte limit")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The temporary file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A temporary file being filled; removed when dropped unless it was [`StagedFile::finish`]ed and
/// then moved away by its owner.
#[derive(Debug)]
pub(crate) struct StagedFile {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Option<ContentHasher>,
    size: u64,
    limit: u64,
}

/// A staged file with all its bytes: where it is, what it hashes to, how long it is. The file is
/// removed when this is dropped, unless it was moved into the store first.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The temporary file.
    pub(crate) path: PathBuf,
    /// Its content hash.
    pub(crate) hash: String,
    /// Its length.
    pub(crate) size: u64,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Already moved into the store, or removed: nothing to do.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl StagedFile {
    /// A new empty temporary file in `dir` (created if needed) taking at most `limit` bytes.
    pub(crate) async fn create(dir: &Path, hasher: ContentHasher, limit: u64) -> std::io::Result<Self> {
        tokio::fs::create_dir_all(dir).await?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("incoming-{}-{n}", std::process::id()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(StagedFile { path, file: Some(file), hasher: Some(hasher), size: 0, limit })
    }

    /// Appends `bytes`; refuses them, before writing any, when they would pass the limit.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), StageError> {
        let size = self.size.saturating_add(bytes.len() as u64);
        if size > self.limit {
            return Err(StageError::TooLarge { limit: self.limit });
        }
        let (Some(file), Some(hasher)) = (self.file.as_mut(), self.hasher.as_mut()) else {
            return Err(std::io::Error::other("staged file already finished").into());
        };
        hasher.update(bytes);
        file.write_all(bytes).await?;
        self.size = size;
        Ok(())
    }

    /// Flushes the file to disk and hashes it.
    pub(crate) async fn finish(self) -> std::io::Result<Staged> {
        let (path, hasher, size) = self.close().await?;
        Ok(Staged { path, hash: hasher.finish(), size })
    }

    /// Flushes the file and checks it against `expected`; the path of the complete file, or
    /// `None` (the file removed) when it does not match.
    pub(crate) async fn finish_checked(self, expected: &str) -> std::io::Result<Option<Staged>> {
        let (path, hasher, size) = self.close().await?;
        if !hasher.matches(expected) {
            let _ = tokio::fs::remove_file(&path).await;
            return Ok(None);
        }
        Ok(Some(Staged { path, hash: expected.to_owned(), size }))
    }

    /// Flushes and syncs the file; its path (which the caller now owns), hasher and length.
    async fn close(mut self) -> std::io::Result<(PathBuf, ContentHasher, u64)> {
        let hasher =
            self.hasher.take().ok_or_else(|| std::io::Error::other("staged file already finished"))?;
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_data().await?;
        }
        Ok((std::mem::take(&mut self.path), hasher, self.size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn staged_files_hash_count_and_stop_at_the_limit() {
        let dir = tempfile_dir("staged");
        let mut f = StagedFile::create(&dir, ContentHasher::sha256(), 8).await.unwrap();
        f.write(b"hel").await.unwrap();
        f.write(b"lo").await.unwrap();
        assert!(matches!(f.write(b"worlds").await, Err(StageError::TooLarge { limit: 8 })));
        let staged = f.finish().await.unwrap();
        assert_eq!(staged.hash, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(std::fs::read(&staged.path).unwrap(), b"hello");
        let path = staged.path.clone();
        drop(staged);
        assert!(!path.exists(), "a staged file nobody moved is removed");

        let mut f = StagedFile::create(&dir, ContentHasher::cid_v0(), 1 << 20).await.unwrap();
        f.write(b"hello").await.unwrap();
        assert_eq!(f.finish().await.unwrap().hash, aleph_core::cid::cid_v0(b"hello"));

        let cid = aleph_core::cid::cid_v0(b"hello");
        let mut f = StagedFile::create(&dir, ContentHasher::for_expected(&cid).unwrap(), 99).await.unwrap();
        f.write(b"hellO").await.unwrap();
        assert!(f.finish_checked(&cid).await.unwrap().is_none());
        let abandoned = StagedFile::create(&dir, ContentHasher::sha256(), 1).await.unwrap();
        drop(abandoned);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing is left behind");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("aleph-{name}-{}", std::process::id()))
    }
}
