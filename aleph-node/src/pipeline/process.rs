//! Processing pending messages: decode, verify, check, apply, in batches.

use std::time::Duration;

use aleph_core::message::{ItemType, PendingMessage};
use aleph_core::validate::ProcessingError;
use aleph_core::verify_signature;
use futures_util::StreamExt;
use rayon::prelude::*;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::handlers::{self, Decoded};
use super::{now, record_rejection, Event, Pipeline};
use crate::storage::StorageError;

/// One message, decoded and ready to be judged.
pub(crate) struct Item {
    /// Its row in `pending_messages`, when it has one (inline messages are judged straight from
    /// intake, in the transaction that records them).
    pub(crate) id: Option<i64>,
    /// Where it came from (`api`, `p2p`), recorded if it has to wait for a retry.
    pub(crate) origin: &'static str,
    pub(crate) message: PendingMessage,
    pub(crate) raw: Value,
    pub(crate) reception_time: f64,
    pub(crate) retries: u32,
    pub(crate) content: Result<Decoded, ProcessingError>,
    pub(crate) signature: Result<(), String>,
    /// The chain transaction it was read from, if any: processed, it is confirmed by it.
    pub(crate) chain: Option<super::ChainRef>,
}

/// Whether `message` is the processed message stored under its item hash: same sender and the
/// same signature string (so that a chain copy confirms only the message it repeats).
pub(crate) fn same_message(tx: &Transaction<'_>, message: &PendingMessage) -> Result<bool, StorageError> {
    let stored: Option<(String, Option<String>)> = tx
        .prepare_cached("SELECT sender, signature FROM messages WHERE item_hash = ?1")?
        .query_row([message.item_hash.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(stored.is_some_and(|(sender, signature)| sender == message.sender && signature == message.signature))
}

/// Messages of a batch whose content or file is fetched at the same time.
const CONCURRENT_FETCHES: usize = 16;

async fn fetch_content(p: &Pipeline, message: &PendingMessage) -> Result<Decoded, ProcessingError> {
    if message.item_type == ItemType::Inline {
        return handlers::decode_content(message, None);
    }
    let key = message.item_hash.as_str();
    let bytes = match p.files().get(key).await {
        Ok(Some(b)) => b,
        Ok(None) => match fetch_missing(p, key).await {
            Some(b) => b,
            None => return Err(ProcessingError::content_unavailable(key)),
        },
        Err(e) => return Err(ProcessingError::internal(e.to_string())),
    };
    if message.item_type == ItemType::Storage && aleph_core::ItemHash::sha256(&bytes) != message.item_hash {
        return Err(ProcessingError::invalid_format("stored content does not hash to item_hash"));
    }
    handlers::decode_content(message, Some(&bytes))
}

/// Asks IPFS peers over bitswap (for a CID, when the engine runs) and the content fetcher (the
/// P2P layer's HTTP peers) at once for message content this node lacks, and keeps the first
/// answer in the file store; both check the bytes against `hash`.
pub(super) async fn fetch_missing(p: &Pipeline, hash: &str) -> Option<bytes::Bytes> {
    let max = p.config().limits.max_body_bytes as u64;
    let ipfs = async {
        fetch_ipfs_file(p, hash, max).await?;
        p.files().get(hash).await.ok().flatten()
    };
    first_some(ipfs, fetch_http(p, hash)).await
}

/// The first `Some` of two lookups run together (`None` once both found nothing).
async fn first_some<T>(
    a: impl std::future::Future<Output = Option<T>>,
    b: impl std::future::Future<Output = Option<T>>,
) -> Option<T> {
    tokio::pin!(a);
    tokio::pin!(b);
    let (mut a_done, mut b_done) = (false, false);
    loop {
        tokio::select! {
            r = &mut a, if !a_done => match r {
                Some(v) => return Some(v),
                None => a_done = true,
            },
            r = &mut b, if !b_done => match r {
                Some(v) => return Some(v),
                None => b_done = true,
            },
            else => return None,
        }
    }
}

/// The content fetcher's (the P2P layer's HTTP peers') bytes for `hash`, kept in the file store
/// (and, for a CID, imported into the IPFS engine, so that IPFS peers can fetch it from here).
async fn fetch_http(p: &Pipeline, hash: &str) -> Option<bytes::Bytes> {
    let bytes = p.content_fetcher()?.fetch(hash).await?;
    if let (Some(engine), Ok(cid)) = (p.ipfs(), hash.parse::<aleph_core::cid::Cid>()) {
        if hash.len() != 64 {
            let options = crate::ipfs::ImportOptions::for_version(cid.version());
            if let Err(e) = engine.import_bytes(&bytes, options).await {
                tracing::warn!(hash, error = %e, "content fetched over HTTP not imported into IPFS");
            }
        }
    }
    if let Err(e) = p.files().put(hash, bytes.clone()).await {
        tracing::warn!(hash, error = %e, "fetched content could not be stored");
        return None;
    }
    Some(bytes)
}

/// Makes the IPFS file `hash` local over bitswap (at most `max` bytes, within the engine's
/// timeout) and moves a copy into the file store; returns its size. `None` when `hash` is not a
/// CID, the engine is off, or the DAG could not be had.
pub(crate) async fn fetch_ipfs_file(p: &Pipeline, hash: &str, max: u64) -> Option<u64> {
    let engine = p.ipfs()?;
    if hash.len() == 64 {
        return None; // a sha256 hash: not on IPFS
    }
    let cid: aleph_core::cid::Cid = hash.parse().ok()?;
    let size = match engine.fetch(&cid, max).await {
        Ok(size) => size,
        Err(e) => {
            tracing::info!(hash, error = %e, "IPFS content not fetched");
            return None;
        }
    };
    let dir = p.config().data_dir.join("incoming");
    let staged = async {
        tokio::fs::create_dir_all(&dir).await?;
        let path = RemovedOnDrop(dir.join(format!("ipfs-{hash}-{}", p.jitter().to_bits())));
        let mut file = tokio::fs::File::create(&path.0).await?;
        let size = export_into(engine.as_ref(), cid, &mut file, max).await?;
        drop(file);
        p.files()
            .put_file(hash, &path.0)
            .await
            .map_err(|e| crate::ipfs::IpfsError::Io(std::io::Error::other(e)))?;
        Ok::<_, crate::ipfs::IpfsError>(size)
    };
    match staged.await {
        Ok(size) => Some(size),
        // A directory (a website, a volume's tree) has no flat copy: its blocks are the content.
        Err(crate::ipfs::IpfsError::IsDirectory(_)) => Some(size),
        Err(e) => {
            tracing::warn!(hash, error = %e, "IPFS content could not be exported");
            None
        }
    }
}

/// A staged file, removed when dropped (also when its fetch is cancelled).
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes the file under `cid` to `out` from local blocks, refusing past `max` bytes.
async fn export_into(
    engine: &dyn crate::ipfs::IpfsEngine,
    cid: aleph_core::cid::Cid,
    out: &mut tokio::fs::File,
    max: u64,
) -> Result<u64, crate::ipfs::IpfsError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let mut stream = engine.export(cid);
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        n += chunk.len() as u64;
        if n > max {
            return Err(crate::ipfs::IpfsError::TooLarge(max));
        }
        out.write_all(&chunk).await?;
    }
    out.sync_data().await?;
    Ok(n)
}

/// A STORE's file, when this node does not have it: fetched from IPFS peers (an `ipfs` STORE)
/// or the P2P layer's HTTP peers, and recorded with an upload grace pin (the STORE pins it for
/// good when applied).
async fn ensure_store_file(p: &Pipeline, message: &PendingMessage, decoded: &Decoded) {
    if message.message_type != aleph_core::MessageType::Store
        || (p.content_fetcher().is_none() && p.ipfs().is_none())
    {
        return;
    }
    let Some(file_hash) = decoded.str_field("item_hash").map(str::to_owned) else { return };
    let h = file_hash.clone();
    let known = p
        .db()
        .read(move |c| {
            Ok(c.prepare_cached("SELECT 1 FROM files WHERE hash = ?1")?
                .query_row([h], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
        .unwrap_or(true);
    if known {
        return;
    }
    let ipfs_item = decoded.str_field("item_type") == Some("ipfs");
    let size = match p.files().get(&file_hash).await {
        Ok(Some(b)) => b.len() as i64,
        Ok(None) => {
            let ipfs = async {
                match ipfs_item {
                    true => fetch_ipfs_file(p, &file_hash, p.config().ipfs.max_fetch_bytes)
                        .await
                        .map(|n| n as i64),
                    false => None,
                }
            };
            let http = async { fetch_http(p, &file_hash).await.map(|b| b.len() as i64) };
            match first_some(ipfs, http).await {
                Some(n) => n,
                None => return,
            }
        }
        Err(_) => return,
    };
    let grace = p.config().processing.file_grace_period_secs;
    let recorded = p
        .db()
        .write(move |tx| {
            tx.execute("INSERT OR IGNORE INTO files (hash, size, type) VALUES (?1, ?2, 'file')", params![file_hash, size])?;
            let t = now();
            tx.execute(
                "INSERT INTO file_pins (file_hash, kind, created, delete_by) VALUES (?1, 'grace_period', ?2, ?3)",
                params![file_hash, t, t + grace],
            )?;
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "fetched file could not be recorded");
    }
}

/// How long until the next pending message is due.
pub(crate) async fn next_due_in(p: &Pipeline) -> Option<Duration> {
    let next: Option<f64> = p
        .db()
        .read(|c| {
            Ok(c.prepare_cached("SELECT MIN(next_attempt) FROM pending_messages")?
                .query_row([], |r| r.get(0))?)
        })
        .await
        .ok()?;
    next.map(|t| Duration::from_secs_f64((t - now()).clamp(0.0, 3600.0)))
}

/// Processes one batch of due messages; returns how many were handled.
pub(crate) async fn process_due(p: &Pipeline) -> Result<usize, StorageError> {
    let limit = p.config().processing.batch_size as i64;
    type Row = (i64, String, f64, u32, Option<super::ChainRef>);
    let rows: Vec<Row> = p
        .db()
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, message, reception_time, retries, tx_chain, tx_hash, unsigned FROM pending_messages
                 WHERE next_attempt <= ?1 ORDER BY next_attempt, id LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now(), limit], |r| {
                    let chain = match (r.get::<_, Option<String>>(4)?, r.get::<_, Option<String>>(5)?) {
                        (Some(chain), Some(tx_hash)) => {
                            Some(super::ChainRef { chain, tx_hash, unsigned: r.get(6)? })
                        }
                        _ => None,
                    };
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, chain))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len();
    let mut items = Vec::with_capacity(n);
    let mut broken = Vec::new();
    // Content and files missing here are fetched from peers (bitswap, HTTP) for several messages
    // at once, so that one slow fetch does not hold the others; the batch keeps its order.
    let prepared = futures_util::stream::iter(rows)
        .map(|(id, json, reception_time, retries, chain)| async move {
            let raw: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
            let Ok(message) = PendingMessage::from_value(&raw) else { return Err(id) };
            let content = fetch_content(p, &message).await;
            if let Ok(decoded) = &content {
                ensure_store_file(p, &message, decoded).await;
            }
            Ok(Item {
                id: Some(id),
                origin: "pending",
                message,
                raw,
                reception_time,
                retries,
                content,
                signature: Ok(()),
                chain,
            })
        })
        .buffered(CONCURRENT_FETCHES)
        .collect::<Vec<_>>()
        .await;
    for item in prepared {
        match item {
            Ok(item) => items.push(item),
            Err(id) => broken.push(id),
        }
    }
    // Signatures are independent: verify them on every core.
    let items = tokio::task::spawn_blocking(move || {
        items.par_iter_mut().filter(|item| !item.chain.as_ref().is_some_and(|c| c.unsigned)).for_each(
            |item| {
                item.signature = verify_signature(&item.message.signed_fields()).map_err(|e| e.to_string());
            },
        );
        items
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))?;

    let pipeline = p.clone();
    let events = p
        .db()
        .write(move |tx| {
            for id in broken {
                tx.prepare_cached("DELETE FROM pending_messages WHERE id = ?1")?.execute([id])?;
            }
            let ctx = handlers::Ctx::new(tx, pipeline.config())?;
            let mut events = Vec::with_capacity(items.len());
            for item in &items {
                if let Some(e) = process_one(tx, &ctx, &pipeline, item)? {
                    events.push(e);
                }
            }
            Ok(events)
        })
        .await?;
    for e in events {
        p.emit(e);
    }
    Ok(n)
}

fn delete_pending(tx: &Transaction<'_>, item: &Item) -> Result<(), StorageError> {
    if let Some(id) = item.id {
        tx.prepare_cached("DELETE FROM pending_messages WHERE id = ?1")?.execute([id])?;
    }
    Ok(())
}

/// Judges one message and records the outcome: processed, rejected, or rescheduled (a message
/// without a pending row gets one).
pub(crate) fn process_one(
    tx: &Transaction<'_>,
    ctx: &handlers::Ctx,
    p: &Pipeline,
    item: &Item,
) -> Result<Option<Event>, StorageError> {
    let hash = item.message.item_hash.as_str();
    // A copy of a message already processed: the signature must be the same string.
    let existing: Option<Option<String>> = tx
        .prepare_cached("SELECT signature FROM messages WHERE item_hash = ?1")?
        .query_row([hash], |r| r.get(0))
        .optional()?;
    if let Some(existing) = existing {
        delete_pending(tx, item)?;
        if existing != item.message.signature {
            tracing::debug!(item_hash = hash, "dropped a copy with a different signature");
        } else if let Some(chain) = &item.chain {
            if same_message(tx, &item.message)? {
                crate::storage::chains::confirm(tx, hash, &chain.chain, &chain.tx_hash)?;
            }
        }
        return Ok(None);
    }
    let forgotten: bool = tx
        .prepare_cached("SELECT 1 FROM forgotten_messages WHERE item_hash = ?1")?
        .query_row([hash], |_| Ok(true))
        .optional()?
        .is_some();
    let verdict = if forgotten {
        Err(ProcessingError::ForgottenDuplicate)
    } else if let Err(reason) = &item.signature {
        Err(ProcessingError::invalid_signature(reason.clone()))
    } else {
        match &item.content {
            Err(e) => Err(e.clone()),
            Ok(decoded) if !handlers::may_fail_after_writing(item.message.message_type) => {
                // Every verdict comes before the first write: no savepoint to roll back to (a
                // savepoint copies each page it dirties into a sub-journal first).
                match handlers::check_and_apply(tx, ctx, item, decoded) {
                    Ok(list_json) => Ok(list_json),
                    Err(handlers::HandlerError::Processing(e)) => Err(e),
                    Err(handlers::HandlerError::Storage(e)) => return Err(e),
                }
            }
            Ok(decoded) => {
                tx.prepare_cached("SAVEPOINT message")?.execute([])?;
                match handlers::check_and_apply(tx, ctx, item, decoded) {
                    Ok(list_json) => {
                        tx.prepare_cached("RELEASE message")?.execute([])?;
                        Ok(list_json)
                    }
                    Err(handlers::HandlerError::Processing(e)) => {
                        tx.prepare_cached("ROLLBACK TO message")?.execute([])?;
                        tx.prepare_cached("RELEASE message")?.execute([])?;
                        Err(e)
                    }
                    Err(handlers::HandlerError::Storage(e)) => {
                        tx.prepare_cached("ROLLBACK TO message")?.execute([])?;
                        tx.prepare_cached("RELEASE message")?.execute([])?;
                        return Err(e);
                    }
                }
            }
        }
    };
    match verdict {
        Ok(mut message) => {
            delete_pending(tx, item)?;
            if let Some(chain) = &item.chain {
                crate::storage::chains::confirm(tx, hash, &chain.chain, &chain.tx_hash)?;
                // Subscribers see the message as the API serves it: confirmed.
                if let Some(m) = message.as_object_mut() {
                    let list = crate::storage::messages::confirmations(tx, hash)?;
                    m.insert("confirmed".into(), Value::Bool(!list.is_empty()));
                    m.insert("confirmations".into(), Value::Array(list));
                }
            }
            tx.prepare_cached(
                "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, 'processed', ?2)
                 ON CONFLICT (item_hash) DO UPDATE SET status = 'processed'",
            )?
            .execute(params![hash, item.reception_time])?;
            Ok(Some(Event::Processed { item_hash: hash.to_owned(), message: std::sync::Arc::new(message) }))
        }
        Err(e)
            if e.kind() == aleph_core::validate::ErrorKind::Retry && item.retries + 1 < ctx.max_retries =>
        {
            let backoff = (2f64.powi(item.retries as i32 + 1)).min(ctx.max_backoff);
            let next_attempt = now() + p.jitter() * backoff;
            match item.id {
                Some(id) => {
                    tx.prepare_cached(
                        "UPDATE pending_messages SET retries = retries + 1, next_attempt = ?2 WHERE id = ?1",
                    )?
                    .execute(params![id, next_attempt])?;
                }
                None => {
                    let queued = (item.origin, item.chain.as_ref());
                    super::insert_pending(tx, &item.message, queued, item.reception_time, next_attempt, 1)?;
                    super::mark_pending(tx, hash, item.reception_time)?;
                }
            }
            Ok(Some(Event::Retry { item_hash: hash.to_owned() }))
        }
        Err(e) => {
            delete_pending(tx, item)?;
            record_rejection(tx, hash, &item.raw, &e, item.reception_time)?;
            Ok(Some(Event::Rejected { item_hash: hash.to_owned(), code: e.code() }))
        }
    }
}
