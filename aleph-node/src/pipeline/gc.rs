//! Garbage collection of files: a file whose only pins are expired grace periods is deleted from
//! the database and the file store.

use std::time::Duration;

use rusqlite::params;
use tokio_util::sync::CancellationToken;

use super::{now, Pipeline};
use crate::storage::StorageError;

/// Deletes every collectable file now; returns how many were deleted.
pub async fn collect_files(p: &Pipeline) -> Result<usize, StorageError> {
    let hashes: Vec<String> = p
        .db()
        .write(|tx| {
            let t = now();
            let hashes: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT f.hash FROM files f
                     WHERE NOT EXISTS (SELECT 1 FROM file_pins p WHERE p.file_hash = f.hash
                                       AND (p.kind != 'grace_period' OR p.delete_by > ?1))",
                )?;
                let rows = stmt.query_map([t], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
                rows
            };
            for h in &hashes {
                tx.execute("DELETE FROM file_pins WHERE file_hash = ?1", params![h])?;
                tx.execute("DELETE FROM files WHERE hash = ?1", params![h])?;
                tx.execute("DELETE FROM file_tags WHERE file_hash = ?1", params![h])?;
            }
            Ok(hashes)
        })
        .await?;
    for h in &hashes {
        p.files().delete(h).await?;
    }
    Ok(hashes.len())
}

/// Runs [`collect_files`] every `every` until cancelled.
pub(crate) async fn run(p: Pipeline, every: Duration, token: CancellationToken) -> Result<(), String> {
    loop {
        tokio::select! {
            _ = token.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
        match collect_files(&p).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "collected unreferenced files"),
            Err(e) => tracing::warn!(error = %e, "file collection failed"),
        }
    }
}
