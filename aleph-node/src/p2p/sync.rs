//! Catch-up sync between peers: a node asks each peer, over a libp2p request/response protocol
//! with JSON bodies, for the envelopes of the messages it processed after a watermark (the
//! peer's own processing sequence number), page by page. Each envelope is verified like gossip
//! before it is submitted. The watermark per peer is kept in the database, so a node that was
//! down resumes where it stopped.

use std::collections::HashSet;

use libp2p::PeerId;
use rayon::prelude::*;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::Shared;
use crate::pipeline::{Origin, Pipeline, Prepared};
use crate::storage::StorageError;

/// The protocol name.
pub(crate) const PROTOCOL: &str = "/aleph/sync/1.0.0";
/// Most envelope bytes in one answer (the codec's limit is above this).
const MAX_PAGE_BYTES: usize = 8 << 20;
/// The codec's answer size limit.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// "Send me what you processed after `after_seq`."
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SyncRequest {
    pub(crate) after_seq: i64,
    pub(crate) limit: u32,
    /// The requester's HTTP API URL, for content fetch.
    #[serde(default)]
    pub(crate) http: Option<String>,
}

/// One page of envelopes, in processing order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SyncResponse {
    pub(crate) messages: Vec<Value>,
    /// The sequence number of the last envelope sent (the next watermark).
    pub(crate) last_seq: i64,
    /// Whether more follow.
    pub(crate) more: bool,
    /// The answering node's HTTP API URL, for content fetch.
    #[serde(default)]
    pub(crate) http: Option<String>,
}

pub(crate) async fn create_tables(p: &Pipeline) -> Result<(), StorageError> {
    p.db()
        .write(|tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS p2p_sync_state (peer_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)",
            )?;
            Ok(())
        })
        .await
}

/// The watermark of `peer`.
pub(crate) async fn watermark(p: &Pipeline, peer: PeerId) -> i64 {
    let id = peer.to_string();
    p.db()
        .read(move |c| {
            Ok(c.query_row("SELECT last_seq FROM p2p_sync_state WHERE peer_id = ?1", [id], |r| r.get(0))
                .optional()?)
        })
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

async fn set_watermark(p: &Pipeline, peer: PeerId, seq: i64) -> Result<(), StorageError> {
    let id = peer.to_string();
    p.db()
        .write(move |tx| {
            tx.execute(
                "INSERT INTO p2p_sync_state (peer_id, last_seq) VALUES (?1, ?2)
                 ON CONFLICT (peer_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                params![id, seq],
            )?;
            Ok(())
        })
        .await
}

/// Answers a request from the processed messages.
pub(crate) async fn serve_page(p: &Pipeline, req: SyncRequest) -> SyncResponse {
    let limit = i64::from(req.limit.clamp(1, 5000));
    let after = req.after_seq;
    let rows = p
        .db()
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, chain, sender, type, item_type, item_content, item_hash, time, signature, channel
                 FROM messages WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after, limit + 1], |r| {
                    let mut m = Map::new();
                    m.insert("chain".into(), json!(r.get::<_, String>(1)?));
                    m.insert("sender".into(), json!(r.get::<_, String>(2)?));
                    m.insert("type".into(), json!(r.get::<_, String>(3)?));
                    m.insert("item_type".into(), json!(r.get::<_, String>(4)?));
                    if let Some(content) = r.get::<_, Option<String>>(5)? {
                        m.insert("item_content".into(), json!(content));
                    }
                    m.insert("item_hash".into(), json!(r.get::<_, String>(6)?));
                    m.insert("time".into(), json!(r.get::<_, f64>(7)?));
                    m.insert("signature".into(), json!(r.get::<_, Option<String>>(8)?));
                    m.insert("channel".into(), json!(r.get::<_, Option<String>>(9)?));
                    Ok((r.get::<_, i64>(0)?, Value::Object(m)))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "sync page could not be read");
            return SyncResponse { messages: Vec::new(), last_seq: after, more: false, http: None };
        }
    };
    let mut out = SyncResponse { messages: Vec::new(), last_seq: after, more: false, http: None };
    let mut bytes = 0usize;
    for (i, (seq, m)) in rows.into_iter().enumerate() {
        if i as i64 >= limit || (bytes > MAX_PAGE_BYTES && !out.messages.is_empty()) {
            out.more = true;
            break;
        }
        bytes += m.get("item_content").and_then(Value::as_str).map_or(0, str::len) + 512;
        out.last_seq = seq;
        out.messages.push(m);
    }
    out
}

/// Verifies and submits a page from `peer`, then advances its watermark. Returns how many
/// envelopes were submitted, or `None` when some could not be recorded (the watermark then
/// stays, and the page is asked again in the next round).
pub(crate) async fn apply_page(
    p: &Pipeline,
    shared: &Shared,
    peer: PeerId,
    page: SyncResponse,
) -> Option<usize> {
    let hashes: Vec<String> = page
        .messages
        .iter()
        .filter_map(|m| m.get("item_hash").and_then(Value::as_str).map(str::to_owned))
        .collect();
    // Skip what is already known (anything but rejected): no need to verify it again.
    let known: HashSet<String> = p
        .db()
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT 1 FROM message_status WHERE item_hash = ?1 AND status != 'rejected'",
            )?;
            let mut known = HashSet::new();
            for h in hashes {
                if stmt.query_row([&h], |_| Ok(())).optional()?.is_some() {
                    known.insert(h);
                }
            }
            Ok(known)
        })
        .await
        .unwrap_or_default();
    let fresh: Vec<Value> = page
        .messages
        .into_iter()
        .filter(|m| m.get("item_hash").and_then(Value::as_str).is_none_or(|h| !known.contains(h)))
        .collect();
    // Signatures are independent: verify them on every core, once (the prepared submissions
    // carry the verdicts to the intake writer).
    let checked = tokio::task::spawn_blocking(move || {
        fresh
            .into_par_iter()
            .map(|m| {
                let prepared = Prepared::new(m).map_err(|e| e.to_string())?;
                match prepared.peer_rejection() {
                    None => Ok(prepared),
                    Some(reason) => Err(reason),
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let mut valid = Vec::with_capacity(checked.len());
    let mut invalid = 0u64;
    for verdict in checked {
        match verdict {
            Ok(prepared) => valid.push(prepared),
            Err(reason) => {
                invalid += 1;
                tracing::debug!(%peer, %reason, "invalid envelope in a sync page");
            }
        }
    }
    let n = valid.len();
    let results =
        futures_util::future::join_all(valid.into_iter().map(|m| p.submit_prepared(m, Origin::P2p))).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        // Not recorded: do not advance past them.
        tracing::warn!(%peer, failed, "sync submissions failed; the page will be asked again");
        return None;
    }
    shared.bump(|s| {
        s.synced += n as u64;
        s.sync_rejected += invalid;
        s.sync_pages += 1;
    });
    if invalid > 0 {
        shared.with_peer(peer, |i| i.invalid_messages += invalid);
    }
    if let Err(e) = set_watermark(p, peer, page.last_seq).await {
        tracing::warn!(%peer, error = %e, "sync watermark not saved");
    }
    shared.with_peer(peer, |i| i.synced_seq = i.synced_seq.max(page.last_seq));
    Some(n)
}
