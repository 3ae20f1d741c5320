//! Processing pending messages: decode, verify, check, apply, in batches.

use std::time::Duration;

use aleph_core::message::{ItemType, PendingMessage};
use aleph_core::validate::ProcessingError;
use aleph_core::verify_signature;
use rayon::prelude::*;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::handlers::{self, Decoded};
use super::{now, record_rejection, Event, Pipeline};
use crate::storage::StorageError;

/// One pending message, decoded and ready to be judged.
pub(crate) struct Item {
    pub(crate) id: i64,
    pub(crate) message: PendingMessage,
    pub(crate) raw: Value,
    pub(crate) reception_time: f64,
    pub(crate) retries: u32,
    pub(crate) content: Result<Decoded, ProcessingError>,
    pub(crate) signature: Result<(), String>,
}

async fn fetch_content(p: &Pipeline, message: &PendingMessage) -> Result<Decoded, ProcessingError> {
    if message.item_type == ItemType::Inline {
        return handlers::decode_content(message, None);
    }
    let key = message.item_hash.as_str();
    let bytes = match p.files().get(key).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err(ProcessingError::content_unavailable(key)),
        Err(e) => return Err(ProcessingError::internal(e.to_string())),
    };
    if message.item_type == ItemType::Storage && aleph_core::ItemHash::sha256(&bytes) != message.item_hash {
        return Err(ProcessingError::invalid_format("stored content does not hash to item_hash"));
    }
    handlers::decode_content(message, Some(&bytes))
}

/// How long until the next pending message is due.
pub(crate) async fn next_due_in(p: &Pipeline) -> Option<Duration> {
    let next: Option<f64> = p
        .db()
        .read(|c| Ok(c.query_row("SELECT MIN(next_attempt) FROM pending_messages", [], |r| r.get(0))?))
        .await
        .ok()?;
    next.map(|t| Duration::from_secs_f64((t - now()).clamp(0.0, 3600.0)))
}

/// Processes one batch of due messages; returns how many were handled.
pub(crate) async fn process_due(p: &Pipeline) -> Result<usize, StorageError> {
    let limit = p.config().processing.batch_size as i64;
    let rows: Vec<(i64, String, f64, u32)> = p
        .db()
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, message, reception_time, retries FROM pending_messages
                 WHERE next_attempt <= ?1 ORDER BY next_attempt, id LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now(), limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
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
    for (id, json, reception_time, retries) in rows {
        let raw: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
        match PendingMessage::from_value(&raw) {
            Ok(message) => {
                let content = fetch_content(p, &message).await;
                items.push(Item { id, message, raw, reception_time, retries, content, signature: Ok(()) });
            }
            Err(_) => broken.push(id),
        }
    }
    // Signatures are independent: verify them on every core.
    let items = tokio::task::spawn_blocking(move || {
        items.par_iter_mut().for_each(|item| {
            item.signature = verify_signature(&item.message.signed_fields()).map_err(|e| e.to_string());
        });
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

fn process_one(
    tx: &Transaction<'_>,
    ctx: &handlers::Ctx,
    p: &Pipeline,
    item: &Item,
) -> Result<Option<Event>, StorageError> {
    let hash = item.message.item_hash.as_str();
    // A copy of a message already processed: the signature must be the same string.
    let existing: Option<Option<String>> = tx
        .query_row("SELECT signature FROM messages WHERE item_hash = ?1", [hash], |r| r.get(0))
        .optional()?;
    if let Some(existing) = existing {
        tx.prepare_cached("DELETE FROM pending_messages WHERE id = ?1")?.execute([item.id])?;
        if existing != item.message.signature {
            tracing::debug!(item_hash = hash, "dropped a copy with a different signature");
        }
        return Ok(None);
    }
    let forgotten: bool = tx
        .query_row("SELECT 1 FROM forgotten_messages WHERE item_hash = ?1", [hash], |_| Ok(true))
        .optional()?
        .is_some();
    let verdict = if forgotten {
        Err(ProcessingError::ForgottenDuplicate)
    } else if let Err(reason) = &item.signature {
        Err(ProcessingError::invalid_signature(reason.clone()))
    } else {
        match &item.content {
            Err(e) => Err(e.clone()),
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
        Ok(message) => {
            tx.prepare_cached("DELETE FROM pending_messages WHERE id = ?1")?.execute([item.id])?;
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
            tx.prepare_cached(
                "UPDATE pending_messages SET retries = retries + 1, next_attempt = ?2 WHERE id = ?1",
            )?
            .execute(params![item.id, now() + p.jitter() * backoff])?;
            Ok(Some(Event::Retry { item_hash: hash.to_owned() }))
        }
        Err(e) => {
            tx.prepare_cached("DELETE FROM pending_messages WHERE id = ?1")?.execute([item.id])?;
            record_rejection(tx, hash, &item.raw, &e, item.reception_time)?;
            Ok(Some(Event::Rejected { item_hash: hash.to_owned(), code: e.code() }))
        }
    }
}
