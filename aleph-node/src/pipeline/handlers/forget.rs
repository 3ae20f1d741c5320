//! FORGET: removes messages (and aggregate elements) with every effect they had.

use aleph_core::message::{MessageType, PendingMessage};
use aleph_core::validate::ProcessingError;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::{json, Value};

use super::{permissions, processed_message, Ctx, Decoded, HResult};

fn strings(content: &Value, key: &str) -> Vec<String> {
    content
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The targets a FORGET names: explicit hashes, plus every element of each named aggregate.
fn targets(tx: &Transaction<'_>, content: &Decoded) -> HResult<Vec<String>> {
    let mut out = strings(&content.raw, "hashes");
    for key in strings(&content.raw, "aggregates") {
        let mut stmt =
            tx.prepare_cached("SELECT item_hash FROM aggregate_elements WHERE owner = ?1 AND key = ?2")?;
        let elements = stmt
            .query_map(params![content.owner(), key], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        if elements.is_empty() {
            return Err(ProcessingError::ForgetTargetNotFound {
                target_hash: None,
                aggregate_key: Some(key),
            }
            .into());
        }
        out.extend(elements);
    }
    Ok(out)
}

pub(super) fn check(tx: &Transaction<'_>, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    if strings(&content.raw, "hashes").is_empty() && strings(&content.raw, "aggregates").is_empty() {
        return Err(ProcessingError::ForgetNoTarget.into());
    }
    for target in targets(tx, content)? {
        let status = crate::pipeline::status_of(tx, &target)?;
        // As the reference: a target must be there now (processed or removing). An already
        // forgotten (or rejected, or removed) one is "not found", retried, then rejected; so no
        // one can append to the `forgotten_by` of a message they could not forget.
        match status.map(|s| s.as_str()) {
            Some("processed" | "removing") => {}
            _ => {
                return Err(ProcessingError::ForgetTargetNotFound {
                    target_hash: Some(target),
                    aggregate_key: None,
                }
                .into())
            }
        }
        let Some((target_type, _, _)) = processed_message(tx, &target)? else {
            return Err(ProcessingError::ForgetTargetNotFound {
                target_hash: Some(target),
                aggregate_key: None,
            }
            .into());
        };
        if target_type == MessageType::Forget.as_str() {
            return Err(ProcessingError::ForgetForget { target_hash: target }.into());
        }
        if target_type == MessageType::Store.as_str() {
            if let Some(vm_hash) = used_by_vm(tx, &target)? {
                let file_hash: String = tx
                    .prepare_cached(
                        "SELECT COALESCE(content_item_hash, '') FROM messages WHERE item_hash = ?1",
                    )?
                    .query_row([&target], |r| r.get(0))?;
                return Err(ProcessingError::ForgetNotAllowed { file_hash, vm_hash }.into());
            }
        }
        permissions::check_forget_target(tx, m, &target)?;
    }
    Ok(())
}

/// A VM that uses a STORE message as a volume (code, runtime, data, volume, rootfs), if any.
fn used_by_vm(tx: &Transaction<'_>, store_hash: &str) -> HResult<Option<String>> {
    let tags: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT tag FROM file_tags WHERE item_hash = ?1")?;
        let rows = stmt.query_map([store_hash], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        rows
    };
    let direct: Option<String> = tx
        .prepare_cached("SELECT vm_hash FROM vm_volumes WHERE ref = ?1")?
        .query_row([store_hash], |r| r.get(0))
        .optional()?;
    if direct.is_some() {
        return Ok(direct);
    }
    for tag in tags {
        let vm: Option<String> = tx
            .prepare_cached("SELECT vm_hash FROM vm_volumes WHERE ref = ?1 AND use_latest = 1")?
            .query_row([&tag], |r| r.get(0))
            .optional()?;
        if vm.is_some() {
            return Ok(vm);
        }
    }
    Ok(None)
}

pub(super) fn apply(tx: &Transaction<'_>, ctx: &Ctx, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let reason = content.str_field("reason").map(str::to_owned);
    for target in targets(tx, content)? {
        forget_one(tx, ctx, &target, m.item_hash.as_str(), m.time, reason.as_deref())?;
    }
    Ok(())
}

/// Forgets one message: keeps its envelope metadata, removes its content and every effect.
pub(crate) fn forget_one(
    tx: &Transaction<'_>,
    ctx: &Ctx,
    target: &str,
    forget_hash: &str,
    forgotten_at: f64,
    reason: Option<&str>,
) -> HResult<()> {
    let already: Option<String> = tx
        .prepare_cached("SELECT forgotten_by FROM forgotten_messages WHERE item_hash = ?1")?
        .query_row([target], |r| r.get(0))
        .optional()?;
    if let Some(by) = already {
        let mut list: Vec<String> = serde_json::from_str(&by).unwrap_or_default();
        if !list.iter().any(|h| h == forget_hash) {
            list.push(forget_hash.to_owned());
        }
        tx.prepare_cached("UPDATE forgotten_messages SET forgotten_by = ?2 WHERE item_hash = ?1")?
            .execute(params![target, json!(list).to_string()])?;
        return Ok(());
    }
    let exists = tx
        .prepare_cached("SELECT 1 FROM messages WHERE item_hash = ?1")?
        .query_row([target], |_| Ok(()))
        .optional()?;
    if exists.is_none() {
        return Ok(());
    }
    // The envelope metadata stays; content, confirmations and costs go.
    tx.prepare_cached("INSERT INTO forgotten_messages (item_hash, type, chain, sender, signature, item_type, time, channel, owner,
                                         payment_type, size, forgotten_at, forgotten_by, reason)
         SELECT m.item_hash, m.type, m.chain, m.sender, m.signature, m.item_type, m.time, m.channel, m.owner,
                COALESCE(m.payment_type, 'hold'),
                CASE WHEN m.type = 'STORE' THEN COALESCE((SELECT size FROM files WHERE hash = m.content_item_hash), m.size)
                     ELSE m.size END,
                ?2, ?3, ?4
         FROM messages m WHERE m.item_hash = ?1")?.execute(
        params![target, forgotten_at, json!([forget_hash]).to_string(), reason],
    )?;
    let (message_type, item_type, owner, content, file_hash): (
        String,
        String,
        String,
        String,
        Option<String>,
    ) = tx
        .prepare_cached(
            "SELECT type, item_type, owner, content, content_item_hash FROM messages WHERE item_hash = ?1",
        )?
        .query_row([target], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    let sender: String = tx
        .prepare_cached("SELECT sender FROM messages WHERE item_hash = ?1")?
        .query_row([target], |r| r.get(0))?;
    super::adjust_sender_count(tx, &sender, &message_type, -1)?;
    tx.prepare_cached("DELETE FROM messages WHERE item_hash = ?1")?.execute([target])?;
    tx.prepare_cached("DELETE FROM confirmations WHERE item_hash = ?1")?.execute([target])?;
    tx.prepare_cached("DELETE FROM account_costs WHERE item_hash = ?1")?.execute([target])?;
    tx.prepare_cached("UPDATE message_status SET status = 'forgotten' WHERE item_hash = ?1")?
        .execute([target])?;
    if item_type != "inline" {
        tx.prepare_cached("DELETE FROM file_pins WHERE item_hash = ?1 AND kind = 'content'")?
            .execute([target])?;
        super::store::grace_if_unpinned(tx, ctx, target)?;
    }
    let content: Value = serde_json::from_str(&content).unwrap_or(Value::Null);
    match message_type.as_str() {
        "POST" => {
            let amends: Option<String> = tx
                .prepare_cached("SELECT amends FROM posts WHERE item_hash = ?1")?
                .query_row([target], |r| r.get(0))
                .optional()?
                .flatten();
            tx.prepare_cached("DELETE FROM posts WHERE item_hash = ?1")?.execute([target])?;
            match amends {
                Some(original) => super::post::recompute_latest_amend(tx, &original)?,
                None => {
                    // Forgetting an original forgets its amends.
                    let children: Vec<String> = {
                        let mut stmt = tx.prepare_cached("SELECT item_hash FROM posts WHERE amends = ?1")?;
                        let rows = stmt.query_map([target], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
                        rows
                    };
                    for child in children {
                        forget_one(tx, ctx, &child, forget_hash, forgotten_at, reason)?;
                    }
                }
            }
        }
        "AGGREGATE" => {
            tx.prepare_cached("DELETE FROM aggregate_elements WHERE item_hash = ?1")?.execute([target])?;
            super::aggregate::recompute(tx, &owner, &super::aggregate::key_of(&content))?;
        }
        "STORE" => {
            if let Some(file_hash) = file_hash {
                super::store::unpin(tx, ctx, target, &file_hash)?;
            }
        }
        "PROGRAM" | "INSTANCE" | "V-PROGRAM" => {
            tx.prepare_cached("DELETE FROM vms WHERE item_hash = ?1")?.execute([target])?;
            tx.prepare_cached("DELETE FROM vm_volumes WHERE vm_hash = ?1")?.execute([target])?;
            let replacing: Vec<String> = {
                let mut stmt = tx.prepare_cached("SELECT item_hash FROM vms WHERE replaces = ?1")?;
                let rows = stmt.query_map([target], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
                rows
            };
            for r in replacing {
                forget_one(tx, ctx, &r, forget_hash, forgotten_at, reason)?;
            }
        }
        _ => {}
    }
    Ok(())
}
