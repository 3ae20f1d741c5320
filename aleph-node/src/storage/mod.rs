//! Storage: the SQLite database and the file store.

pub(crate) mod balances;
pub(crate) mod chains;
mod checkpoint;
mod db;
mod files;
pub(crate) mod messages;
pub(crate) mod sql;
pub(crate) mod staged;

pub(crate) use db::Db;
pub use files::{BoxFuture, FileStore, FsFileStore, MemoryFileStore};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed.
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    /// Stored JSON is unreadable.
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A key that cannot name a file.
    #[error("invalid file key {0:?}")]
    InvalidKey(String),
    /// A lock was poisoned by a panic.
    #[error("a storage lock was poisoned")]
    Poisoned,
    /// A blocking task failed.
    #[error("storage task failed: {0}")]
    Task(String),
    /// The data directory's disk is full: nothing was written.
    #[error("the data directory's disk is full")]
    DiskFull,
}

impl StorageError {
    /// Whether the failure is the disk being full (SQLite's `SQLITE_FULL`, `ENOSPC`, or a
    /// quota): a condition that passes once space returns, not a fault of the node.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StorageError::DiskFull => true,
            StorageError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            StorageError::Io(e) => {
                matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
            }
            _ => false,
        }
    }
}

/// Bulk-inserts `n` synthetic processed messages from eight `0xFILL…` senders, for the query
/// benchmark (bypasses the pipeline: these messages are not signed).
#[doc(hidden)]
pub fn bench_fill(path: &std::path::Path, n: usize) -> Result<(), StorageError> {
    let db = Db::open(path)?;
    let chunk = 50_000;
    let mut done = 0;
    while done < n {
        let upto = (done + chunk).min(n);
        db.write_blocking(|tx| {
            let base: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM messages", [], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (item_hash, seq, type, chain, sender, signature, item_type, item_content, content,
                                       time, channel, size, owner, content_type)
                 VALUES (?1, ?2, 'POST', 'ETH', ?3, '0x00', 'inline', ?4, ?4, ?5, 'FILL', ?6, ?3, 'fill')",
            )?;
            let mut st = tx.prepare_cached(
                "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, 'processed', ?2)",
            )?;
            let mut counts = tx.prepare_cached(
                "INSERT INTO sender_counts (sender, type, n) VALUES (?1, 'POST', 1)
                 ON CONFLICT (sender, type) DO UPDATE SET n = n + 1",
            )?;
            for i in done..upto {
                let sender = format!("0xFILL{:036x}", (i % 8) * 7919);
                let time = 1_600_000_000.0 + i as f64;
                let content = format!(r#"{{"address":"{sender}","time":{time},"type":"fill","content":{{"i":{i}}}}}"#);
                let hash = aleph_core::ItemHash::sha256(content.as_bytes()).to_string();
                stmt.execute(rusqlite::params![hash, base + 1 + (i - done) as i64, sender, content, time, content.len() as i64])?;
                st.execute(rusqlite::params![hash, time])?;
                counts.execute([&sender])?;
            }
            Ok(())
        })?;
        done = upto;
    }
    Ok(())
}
