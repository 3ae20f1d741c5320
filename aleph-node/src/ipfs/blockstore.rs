//! The block store: IPFS blocks on disk under the data directory, keyed by CID, checked against
//! their multihash when written and when read.

use std::path::{Path, PathBuf};

use aleph_core::cid::Cid;
use bytes::Bytes;

use super::dag::block_matches;
use super::IpfsError;
use crate::storage::BoxFuture;

/// Where blocks live. Implementations must be safe to share across tasks, refuse a block whose
/// bytes do not hash to its CID, and never return such a block.
pub trait BlockStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a block (idempotent); [`IpfsError::HashMismatch`] if `data` is not `cid`'s.
    fn put<'a>(&'a self, cid: &'a Cid, data: Bytes) -> BoxFuture<'a, Result<(), IpfsError>>;
    /// The block, if stored (and intact).
    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Option<Bytes>, IpfsError>>;
    /// Whether the block is stored.
    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool, IpfsError>>;
    /// Removes a block (no error when absent).
    fn delete<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<(), IpfsError>>;
    /// Every stored block's CID (in its CIDv1 form).
    fn list(&self) -> BoxFuture<'_, Result<Vec<Cid>, IpfsError>>;
}

/// Blocks as files `<root>/<shard>/<CIDv1 base32>`; a CIDv0 and its CIDv1 name the same file.
#[derive(Debug, Clone)]
pub struct FsBlockStore {
    root: PathBuf,
}

impl FsBlockStore {
    /// A store rooted at `root` (created if needed).
    pub fn open(root: &Path) -> Result<Self, IpfsError> {
        std::fs::create_dir_all(root)?;
        Ok(FsBlockStore { root: root.into() })
    }

    fn path_of(&self, cid: &Cid) -> PathBuf {
        let key = cid.to_v1().to_string();
        // The two characters before the last, as kubo's flatfs shards (`next-to-last/2`).
        let shard = &key[key.len() - 3..key.len() - 1];
        self.root.join(shard).join(key)
    }
}

impl BlockStore for FsBlockStore {
    fn put<'a>(&'a self, cid: &'a Cid, data: Bytes) -> BoxFuture<'a, Result<(), IpfsError>> {
        let cid = *cid;
        let path = self.path_of(&cid);
        // One blocking task per block: the hash check and the few file operations together.
        Box::pin(blocking(move || {
            if !block_matches(&cid, &data) {
                return Err(IpfsError::HashMismatch(cid.to_string()));
            }
            if path.exists() {
                return Ok(());
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            // A temporary name, then a rename: a crash never leaves a partial block under its key
            // (and a block damaged later fails the check on read).
            let tmp = path.with_extension(format!("tmp{}.{}", std::process::id(), fastrand_suffix()));
            std::fs::write(&tmp, &data)?;
            std::fs::rename(&tmp, &path)?;
            Ok(())
        }))
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Option<Bytes>, IpfsError>> {
        let cid = *cid;
        let path = self.path_of(&cid);
        Box::pin(blocking(move || match std::fs::read(&path) {
            Ok(b) if block_matches(&cid, &b) => Ok(Some(Bytes::from(b))),
            Ok(_) => {
                tracing::warn!(%cid, "a damaged block was removed from the block store");
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }))
    }

    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool, IpfsError>> {
        Box::pin(async move { Ok(tokio::fs::try_exists(self.path_of(cid)).await?) })
    }

    fn delete<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<(), IpfsError>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(cid)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Cid>, IpfsError>> {
        Box::pin(async move {
            let root = self.root.clone();
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                for shard in std::fs::read_dir(&root)? {
                    let shard = shard?;
                    if !shard.file_type()?.is_dir() {
                        continue;
                    }
                    for entry in std::fs::read_dir(shard.path())? {
                        let name = entry?.file_name();
                        if let Some(cid) = name.to_str().and_then(|n| n.parse::<Cid>().ok()) {
                            out.push(cid);
                        }
                    }
                }
                Ok(out)
            })
            .await
            .map_err(|e| IpfsError::Io(std::io::Error::other(e)))?
        })
    }
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, IpfsError> + Send + 'static,
) -> Result<T, IpfsError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| IpfsError::Io(std::io::Error::other(e)))?
}

/// A per-write suffix so that concurrent writers of one block do not share a temporary file.
fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::dag::Block;
    use aleph_core::cid::{CidVersion, Codec};

    #[tokio::test]
    async fn blocks_are_hash_checked_on_write_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlockStore::open(dir.path()).unwrap();
        let block = Block::new(CidVersion::V0, Codec::DAG_PB, Bytes::from_static(b"\x0a\x02\x08\x02"));
        store.put(&block.cid, block.data.clone()).await.unwrap();
        assert_eq!(store.get(&block.cid).await.unwrap().unwrap(), block.data);
        // The CIDv1 of the same block names the same entry.
        assert!(store.has(&block.cid.to_v1()).await.unwrap());
        let wrong = Block::new(CidVersion::V1, Codec::RAW, Bytes::from_static(b"other"));
        assert!(matches!(
            store.put(&wrong.cid, Bytes::from_static(b"not it")).await,
            Err(IpfsError::HashMismatch(_))
        ));
        // A block damaged on disk is not served.
        std::fs::write(store.path_of(&block.cid), b"damaged").unwrap();
        assert_eq!(store.get(&block.cid).await.unwrap(), None);
        assert_eq!(store.list().await.unwrap(), Vec::<Cid>::new());
    }
}
