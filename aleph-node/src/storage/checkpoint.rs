//! The WAL checkpointer: a thread with its own connection that copies committed WAL frames into
//! the database file, so that the writer never does it.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses the threshold, on the
//! writer's thread: the copy and its two `fsync`s stall every submission waiting for that
//! writer. A passive checkpoint on another connection runs concurrently with the writer (it takes
//! no write lock), and a larger interval lets pages rewritten by many commits (the tips of the
//! time-ordered indexes, counters) be copied once.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::Connection;

/// Checkpoint once this many frames (pages) have been committed since the last one.
const FRAMES: u64 = 4_000;
/// …or this long after the last one, if anything was committed since.
const INTERVAL: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// Frames committed since the last checkpoint (as the writer's WAL hook counts them).
    pending: u64,
    stop: bool,
}

/// The writer's side: reports commits; stops the thread when dropped.
pub(super) struct Checkpointer {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`.
    pub(super) fn start(
        path: &Path,
        configure: fn(&Connection) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &theirs))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Checkpointer { shared })
    }

    /// Called after each commit with the WAL's size in frames.
    pub(super) fn committed(&self, frames: u64) {
        let (lock, wake) = &*self.shared;
        if let Ok(mut state) = lock.lock() {
            // The WAL restarts from frame 0 after a full checkpoint, so the count since the last
            // checkpoint is the WAL's current size.
            state.pending = frames;
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

fn run(conn: &Connection, shared: &(Mutex<State>, Condvar)) {
    let (lock, wake) = shared;
    loop {
        {
            let Ok(state) = lock.lock() else { return };
            let Ok((state, _)) = wake.wait_timeout_while(state, INTERVAL, |s| !s.stop && s.pending < FRAMES)
            else {
                return;
            };
            if state.stop {
                return;
            }
            if state.pending == 0 {
                continue;
            }
        }
        // PASSIVE: copies what it can without waiting for readers or blocking the writer; a
        // frame a reader still needs is copied next time.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        if let Ok(mut state) = lock.lock() {
            state.pending = 0;
        }
    }
}
