//! The SQLite database: one writer connection, a small pool of readers, WAL journaling, and
//! helpers to run closures on the blocking pool.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, Transaction};

use super::checkpoint::Checkpointer;
use super::StorageError;

const READERS: usize = 4;

/// The node's database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Arc<Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
    checkpointer: Checkpointer,
    stats: WriterStats,
}

/// What the single writer connection has done since the database was opened.
#[derive(Default)]
struct WriterStats {
    transactions: AtomicU64,
    /// Time holding the writer (transaction body and commit), in microseconds.
    busy_us: AtomicU64,
    /// Time waiting for the writer connection, in microseconds.
    waiting_us: AtomicU64,
    /// WAL frames (pages) written by commits.
    wal_frames: AtomicU64,
    /// The WAL's size after the last commit, in frames.
    wal_size: AtomicU64,
}

/// A snapshot of the writer's statistics (the node's `/metrics` exposes them): with one writer,
/// `busy` against wall clock tells how close the node is to its write bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterSnapshot {
    /// Write transactions run (committed or not).
    pub transactions: u64,
    /// Microseconds spent holding the writer connection.
    pub busy_us: u64,
    /// Microseconds spent waiting for it.
    pub waiting_us: u64,
    /// WAL frames (database pages) its commits wrote.
    pub wal_frames: u64,
}

thread_local! {
    /// The WAL's size in frames after the last commit on this thread, as the writer's WAL hook
    /// reports it (the hook is a plain function: it cannot reach the checkpointer itself).
    static WAL_FRAMES: Cell<Option<u64>> = const { Cell::new(None) };
}

fn wal_frames_hook(_: &rusqlite::hooks::Wal, frames: std::os::raw::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(Some(frames.max(0) as u64)));
    Ok(())
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.inner.path).finish()
    }
}

/// Columns added to existing tables since they were first created: `(table, column, declaration)`.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // The chain transaction a pending message was read from (its confirmation once processed).
    ("pending_messages", "tx_chain", "TEXT"),
    ("pending_messages", "tx_hash", "TEXT"),
    ("pending_messages", "unsigned", "INTEGER NOT NULL DEFAULT 0"),
    // The first confirmation: `startBlock`/`endBlock` filters and `sortBy=tx-time`.
    ("messages", "first_confirmed_at", "REAL"),
    ("messages", "first_confirmed_height", "INTEGER"),
];

fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> rusqlite::Result<()> {
    let exists: bool = conn
        .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?
        .exists([column])?;
    if !exists {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Durable against process crashes (kill -9): a committed WAL frame is in the OS page cache.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // The pipeline and the API use a few dozen statements; keep them all prepared.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let writer = Connection::open(path)?;
        configure(&writer)?;
        // A small page cache for the writer (4 MiB; the readers keep 32 MiB). When a B-tree
        // rebalance swaps two pages, SQLite parks one under a page number past 1 GiB; the next
        // commit then truncates the page cache by walking every cached page, a walk as long as
        // the cache. At 32 MiB that was ~8% of the writer's time under load (BENCHMARKS.md);
        // pages that drop out are still in the OS page cache.
        writer.pragma_update(None, "cache_size", -4_000)?;
        writer.execute_batch(include_str!("schema.sql"))?;
        // Columns added after the first release: a database made before them gains them here.
        for (table, column, decl) in ADDED_COLUMNS {
            add_column(&writer, table, column, decl)?;
        }
        writer.execute_batch(
            "CREATE INDEX IF NOT EXISTS messages_first_confirmed ON messages (first_confirmed_at)
                 WHERE first_confirmed_at IS NOT NULL",
        )?;
        // Replaces SQLite's automatic checkpoint on this connection (run inside the commit that
        // crosses the threshold) with the checkpointer thread.
        writer.wal_hook(Some(wal_frames_hook));
        // Databases created before `sender_counts` existed: count once.
        writer.execute_batch(
            "INSERT INTO sender_counts (sender, type, n)
             SELECT sender, type, COUNT(*) FROM messages
             WHERE NOT EXISTS (SELECT 1 FROM sender_counts) GROUP BY sender, type",
        )?;
        let writer = Arc::new(Mutex::new(writer));
        let checkpointer = Checkpointer::start(path, configure, writer.clone())?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&conn)?;
            readers.push(conn);
        }
        Ok(Db {
            inner: Arc::new(Inner {
                writer,
                readers: Mutex::new(readers),
                path: path.into(),
                checkpointer,
                stats: WriterStats::default(),
            }),
        })
    }

    /// Runs `f` in a write transaction on the blocking pool; commits if it returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))?
    }

    /// Runs `f` in a write transaction on the current thread.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let asked = Instant::now();
        let mut conn = self.inner.writer.lock().map_err(|_| StorageError::Poisoned)?;
        let held = Instant::now();
        let out = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        drop(conn);
        let stats = &self.inner.stats;
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats.busy_us.fetch_add(held.elapsed().as_micros() as u64, Ordering::Relaxed);
        stats.waiting_us.fetch_add((held - asked).as_micros() as u64, Ordering::Relaxed);
        if let Some(frames) = WAL_FRAMES.with(Cell::take) {
            // A WAL smaller than before has started over: all its frames are new.
            let before = stats.wal_size.swap(frames, Ordering::Relaxed);
            let added = if frames >= before { frames - before } else { frames };
            stats.wal_frames.fetch_add(added, Ordering::Relaxed);
            self.inner.checkpointer.committed(frames);
        }
        out
    }

    /// The writer's statistics so far.
    pub fn writer_stats(&self) -> WriterSnapshot {
        let s = &self.inner.stats;
        WriterSnapshot {
            transactions: s.transactions.load(Ordering::Relaxed),
            busy_us: s.busy_us.load(Ordering::Relaxed),
            waiting_us: s.waiting_us.load(Ordering::Relaxed),
            wal_frames: s.wal_frames.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` in a write transaction that is always rolled back: a dry run of checks that
    /// write (such as recording costs), on the blocking pool.
    pub async fn dry_run<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.inner.writer.lock().map_err(|_| StorageError::Poisoned)?;
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            f(&tx)
            // Dropping the transaction rolls it back.
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))?
    }

    /// Runs `f` with a read-only connection on the current thread.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let conn = self.inner.readers.lock().map_err(|_| StorageError::Poisoned)?.pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.inner.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&c)?;
                c
            }
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.inner.readers.lock() {
            if pool.len() < READERS * 4 {
                pool.push(conn);
            }
        }
        out
    }

    /// Checkpoints the WAL into the main file (used at shutdown).
    pub fn checkpoint(&self) -> Result<(), StorageError> {
        let conn = self.inner.writer.lock().map_err(|_| StorageError::Poisoned)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}
