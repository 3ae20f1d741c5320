//! The WAL checkpointer: a thread with its own connection that copies committed WAL frames into
//! the database file, so that the writer rarely waits for it.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses the threshold, on the
//! writer's thread: the copy and its two `fsync`s stall every submission waiting for that writer.
//! Here the copying is done by passive checkpoints on another connection, concurrent with the
//! writer (they take no write lock). Under steady writes they never quite catch up (frames keep
//! arriving while they copy), and SQLite starts the WAL over only once every frame is copied: a
//! pass that holds the writer off copies the rest when little is left, or when the WAL reaches
//! its cap, and the writer's next transaction starts the WAL from the beginning. Between those
//! stalls the WAL grows, which also lets a page rewritten by many commits (the tips of the
//! time-ordered indexes, counters) be copied once instead of once per checkpoint.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::Connection;

/// Checkpoint once the WAL holds this many frames (pages): 64 MiB with 4 KiB pages. Each cycle
/// ends with a pass that holds the writer off; at 4,000 frames those holds cost intake ~5% of
/// its wall clock under load, at 16,000 about a third of that.
const FRAMES: u64 = 16_000;
/// Hold the writer off for the last pass once at most this many frames are left to copy…
const SMALL_RESIDUE: u64 = 256;
/// …or once the WAL has grown to this many frames (128 MiB; its file keeps that size).
const CAP: u64 = 32_000;
/// Checkpoint after this long below the threshold, if anything was committed.
const INTERVAL: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// The WAL's size in frames after the last commit.
    frames: u64,
    stop: bool,
}

type Shared = (Mutex<State>, Condvar);

/// The writer's side: reports commits; stops the thread when dropped.
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`; `writer` is held during the last pass.
    pub(super) fn start(
        path: &Path,
        configure: fn(&Connection) -> rusqlite::Result<()>,
        writer: Arc<Mutex<Connection>>,
    ) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let shared: Arc<Shared> = Arc::default();
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &writer, &theirs))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer { shared })
    }

    /// Called after each commit with the WAL's size in frames.
    pub(super) fn committed(&self, frames: u64) {
        let (lock, wake) = &*self.shared;
        if let Ok(mut state) = lock.lock() {
            state.frames = frames;
            if frames >= FRAMES {
                wake.notify_one();
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        if let Ok(mut state) = lock.lock() {
            state.stop = true;
        }
        wake.notify_one();
    }
}

/// A passive checkpoint: copies what it can without waiting for readers or the writer (a frame
/// a reader still needs is copied next time). Returns how many frames of the WAL are copied.
fn passive(conn: &Connection) -> u64 {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(2)) {
        Ok(copied) => copied.max(0) as u64,
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            0
        }
    }
}

fn run(conn: &Connection, writer: &Mutex<Connection>, shared: &Shared) {
    let (lock, wake) = shared;
    let frames = || lock.lock().map(|s| s.frames).unwrap_or(0);
    // Frames copied since the WAL last started over.
    let mut done = 0;
    loop {
        {
            let Ok(state) = lock.lock() else { return };
            let Ok((state, _)) = wake.wait_timeout_while(state, INTERVAL, |s| !s.stop && s.frames < FRAMES)
            else {
                return;
            };
            if state.stop {
                return;
            }
            if state.frames == 0 {
                continue;
            }
        }
        let copied = passive(conn);
        let frames = frames();
        if frames.saturating_sub(copied) > SMALL_RESIDUE && frames < CAP {
            // Frames arrived while this pass copied: copy them concurrently too; but a reader on
            // an old snapshot can hold a pass back: then let it finish.
            if copied <= done {
                std::thread::sleep(Duration::from_millis(20));
            }
            done = copied;
            continue;
        }
        {
            let Ok(_writer) = writer.lock() else { return };
            passive(conn);
        }
        done = 0;
        if let Ok(mut state) = lock.lock() {
            state.frames = 0;
        }
    }
}
