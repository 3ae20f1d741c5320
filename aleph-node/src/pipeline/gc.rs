//! Garbage collection of files: a file whose only pins are expired grace periods is deleted from
//! the database and the file store. Then the IPFS block store keeps only the blocks of the IPFS
//! files still recorded (pinned by a STORE or in their grace period).

use std::time::Duration;

use rusqlite::params;
use tokio_util::sync::CancellationToken;

use super::{now, Pipeline};
use crate::storage::StorageError;

/// Deletes every collectable file now; returns how many were deleted.
pub(crate) async fn collect_files(p: &Pipeline) -> Result<usize, StorageError> {
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
    collect_blocks(p).await?;
    Ok(hashes.len())
}

/// Removes the IPFS blocks no recorded file reaches; returns how many.
pub(crate) async fn collect_blocks(p: &Pipeline) -> Result<usize, StorageError> {
    let Some(engine) = p.ipfs() else { return Ok(0) };
    let roots: Vec<aleph_core::cid::Cid> = p
        .db()
        .read(|c| {
            let mut stmt = c.prepare_cached("SELECT hash FROM files WHERE length(hash) != 64")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?
        .iter()
        .filter_map(|h| h.parse().ok())
        .collect();
    let removed =
        engine.collect_garbage(roots).await.map_err(|e| StorageError::Task(format!("IPFS GC: {e}")))?;
    if removed > 0 {
        tracing::info!(blocks = removed, "collected unpinned IPFS blocks");
    }
    Ok(removed)
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
