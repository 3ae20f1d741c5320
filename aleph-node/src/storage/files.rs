//! The content-addressed file store: files are named by the hash they are stored under.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::StorageError;

/// Where file bytes live. Implementations must be safe to share across tasks.
pub trait FileStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores `bytes` under `hash` (idempotent).
    fn put<'a>(&'a self, hash: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>>;
    /// The bytes stored under `hash`, if any.
    fn get<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>>;
    /// Whether something is stored under `hash`.
    fn contains<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<bool, StorageError>>;
    /// Removes what is stored under `hash` (no error when absent).
    fn delete<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<(), StorageError>>;
    /// Stores the complete file at `path` (an upload staged on disk) under `hash` (idempotent);
    /// `path` may be moved or left for the caller to remove. The default reads it into memory
    /// and calls [`FileStore::put`]; stores on disk move it instead.
    fn put_file<'a>(&'a self, hash: &'a str, path: &'a Path) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            let bytes = tokio::fs::read(path).await?;
            self.put(hash, Bytes::from(bytes)).await
        })
    }
}

/// A boxed future, as the object-safe [`FileStore`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Files on disk under a directory, sharded by the first two characters of the hash.
#[derive(Debug, Clone)]
pub struct FsFileStore {
    root: PathBuf,
}

impl FsFileStore {
    /// A store rooted at `root` (created if needed).
    pub fn open(root: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root)?;
        Ok(FsFileStore { root: root.into() })
    }

    fn path_of(&self, hash: &str) -> Result<PathBuf, StorageError> {
        // Hashes are hex or base58/base32 CIDs: reject anything that could escape the directory.
        if hash.len() < 4 || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StorageError::InvalidKey(hash.to_owned()));
        }
        Ok(self.root.join(&hash[..2]).join(hash))
    }

    /// Where `hash` goes, with its directory made; `None` when it is stored already.
    async fn new_path(&self, hash: &str) -> Result<Option<PathBuf>, StorageError> {
        let path = self.path_of(hash)?;
        if tokio::fs::try_exists(&path).await? {
            return Ok(None);
        }
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        Ok(Some(path))
    }
}

impl FileStore for FsFileStore {
    fn put<'a>(&'a self, hash: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            let Some(path) = self.new_path(hash).await? else {
                return Ok(());
            };
            // Write to a temporary name, then rename, so a crash never leaves a partial file.
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(&bytes).await?;
            f.sync_data().await?;
            drop(f);
            tokio::fs::rename(&tmp, &path).await?;
            Ok(())
        })
    }

    fn put_file<'a>(&'a self, hash: &'a str, source: &'a Path) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            let Some(path) = self.new_path(hash).await? else {
                return Ok(());
            };
            // The staged file is complete and synced: a rename puts it in place atomically. Across
            // file systems, copy to a temporary name first.
            if tokio::fs::rename(source, &path).await.is_err() {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                tokio::fs::copy(source, &tmp).await?;
                tokio::fs::File::open(&tmp).await?.sync_data().await?;
                tokio::fs::rename(&tmp, &path).await?;
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>> {
        Box::pin(async move {
            match tokio::fs::read(self.path_of(hash)?).await {
                Ok(b) => Ok(Some(Bytes::from(b))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn contains<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<bool, StorageError>> {
        Box::pin(async move { Ok(tokio::fs::try_exists(self.path_of(hash)?).await?) })
    }

    fn delete<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(hash)?).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }
}

/// Files in memory, for tests and embedding.
#[derive(Debug, Default)]
pub struct MemoryFileStore {
    files: std::sync::Mutex<std::collections::HashMap<String, Bytes>>,
}

impl FileStore for MemoryFileStore {
    fn put<'a>(&'a self, hash: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            self.files.lock().map_err(|_| StorageError::Poisoned)?.insert(hash.to_owned(), bytes);
            Ok(())
        })
    }

    fn get<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>> {
        Box::pin(async move { Ok(self.files.lock().map_err(|_| StorageError::Poisoned)?.get(hash).cloned()) })
    }

    fn contains<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<bool, StorageError>> {
        Box::pin(async move { Ok(self.files.lock().map_err(|_| StorageError::Poisoned)?.contains_key(hash)) })
    }

    fn delete<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            self.files.lock().map_err(|_| StorageError::Poisoned)?.remove(hash);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(store: &dyn FileStore) {
        let h = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(!store.contains(h).await.unwrap());
        store.put(h, Bytes::from_static(b"hello")).await.unwrap();
        store.put(h, Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(store.get(h).await.unwrap().unwrap(), Bytes::from_static(b"hello"));
        store.delete(h).await.unwrap();
        store.delete(h).await.unwrap();
        assert_eq!(store.get(h).await.unwrap(), None);
    }

    #[tokio::test]
    async fn fs_and_memory_stores_behave_alike() {
        let dir = std::env::temp_dir().join(format!("aleph-files-{}", std::process::id()));
        let fs = FsFileStore::open(&dir).unwrap();
        exercise(&fs).await;
        assert!(fs.get("../../etc/passwd").await.is_err());
        exercise(&MemoryFileStore::default()).await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
