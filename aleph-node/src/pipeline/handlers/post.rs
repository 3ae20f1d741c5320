//! POST: originals and amends, and the special posts that move balances and credits.

use aleph_core::message::PendingMessage;
use aleph_core::validate::{ErrorList, ProcessingError};
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::{Ctx, Decoded, HResult};

/// Amend dependencies: the original must exist (retry) and must not be an amend. (Its owner was
/// checked with the permissions, against the original.)
pub(super) fn check(tx: &Transaction<'_>, _m: &PendingMessage, content: &Decoded) -> HResult<()> {
    if content.str_field("type") != Some("amend") {
        return Ok(());
    }
    let Some(target) = ref_of(&content.raw) else {
        return Err(ProcessingError::PostAmendNoTarget(ErrorList::one("an amend needs a ref")).into());
    };
    let original: Option<(String, Option<String>)> = tx
        .prepare_cached("SELECT owner, amends FROM posts WHERE item_hash = ?1")?
        .query_row([&target], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match original {
        None => Err(ProcessingError::PostAmendTargetNotFound(ErrorList::one(target)).into()),
        Some((_, Some(_))) => Err(ProcessingError::PostAmendAmend(ErrorList::one(target)).into()),
        Some(_) => Ok(()),
    }
}

/// The `ref` of a post: a string, or the `item_hash` of a ChainRef object.
pub(super) fn ref_of(content: &Value) -> Option<String> {
    match content.get("ref")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("item_hash").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

pub(super) fn apply(tx: &Transaction<'_>, ctx: &Ctx, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let post_type = content.str_field("type").unwrap_or("");
    let is_amend = post_type == "amend";
    let reference = ref_of(&content.raw);
    let time = content.time();
    tx.prepare_cached("INSERT OR REPLACE INTO posts (item_hash, owner, type, ref, amends, channel, creation, content, latest_amend, last_updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?7)")?.execute(
        params![
            m.item_hash.as_str(),
            content.owner(),
            post_type,
            reference,
            if is_amend { reference.clone() } else { None },
            m.channel,
            time,
            content.raw.get("content").map(Value::to_string),
        ],
    )?;
    if is_amend {
        if let Some(original) = reference {
            recompute_latest_amend(tx, &original)?;
        }
    } else {
        special_post(tx, ctx, m, content)?;
    }
    Ok(())
}

/// Points an original at its newest amend (by content time; ties broken by hash for a result
/// independent of arrival order).
pub(crate) fn recompute_latest_amend(tx: &Transaction<'_>, original: &str) -> HResult<()> {
    let latest: Option<(String, f64)> = tx
        .prepare_cached("SELECT item_hash, creation FROM posts WHERE amends = ?1 ORDER BY creation DESC, item_hash DESC LIMIT 1")?.query_row([original],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match latest {
        Some((hash, time)) => tx
            .prepare_cached(
                "UPDATE posts SET latest_amend = ?2, last_updated = MAX(creation, ?3) WHERE item_hash = ?1",
            )?
            .execute(params![original, hash, time])?,
        None => tx
            .prepare_cached(
                "UPDATE posts SET latest_amend = NULL, last_updated = creation WHERE item_hash = ?1",
            )?
            .execute([original])?,
    };
    Ok(())
}

fn is_trusted(list: &[String], address: &str) -> bool {
    list.iter().any(|a| a.eq_ignore_ascii_case(address))
}

/// Posts with node-side effects: balances from trusted senders, and credits.
fn special_post(tx: &Transaction<'_>, ctx: &Ctx, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let payload = content.raw.get("content").cloned().unwrap_or(Value::Null);
    match content.str_field("type") {
        Some("balances-update") if is_trusted(&ctx.balance_senders, content.owner()) => {
            let chain = payload.get("chain").and_then(Value::as_str).unwrap_or("ETH");
            let height = payload.get("main_height").and_then(Value::as_i64).unwrap_or(0);
            let dapp = payload.get("dapp").and_then(Value::as_str).unwrap_or("");
            if let Some(balances) = payload.get("balances").and_then(Value::as_object) {
                for (address, amount) in balances {
                    let amount = match amount {
                        Value::Number(n) => n.to_string(),
                        Value::String(s) => s.clone(),
                        _ => continue,
                    };
                    tx.prepare_cached("INSERT INTO balances (address, chain, dapp, balance, height) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (address, chain, dapp) DO UPDATE SET balance = excluded.balance, height = excluded.height")?.execute(
                        params![address, chain, dapp, amount, height],
                    )?;
                }
            }
        }
        Some(kind @ ("aleph_credit_distribution" | "aleph_credit_expense" | "aleph_credit_transfer"))
            if m.channel.as_deref() == Some("ALEPH_CREDIT") =>
        {
            let trusted = is_trusted(&ctx.credit_senders, content.owner());
            let (section, sign) = match kind {
                "aleph_credit_distribution" if trusted => ("distribution", 1i64),
                "aleph_credit_expense" if trusted => ("expense", -1),
                "aleph_credit_transfer" => ("transfer", 1),
                _ => return Ok(()),
            };
            let entries =
                payload.get(section).and_then(|s| s.get("credits")).and_then(Value::as_array).cloned();
            let Some(entries) = entries else { return Ok(()) };
            if kind == "aleph_credit_transfer" {
                transfer_credits(tx, m, content, &entries)?;
                return Ok(());
            }
            for (i, e) in entries.iter().enumerate() {
                let (Some(address), Some(amount)) =
                    (e.get("address").and_then(Value::as_str), e.get("amount").and_then(Value::as_i64))
                else {
                    continue;
                };
                insert_credit(
                    tx,
                    address,
                    sign * amount,
                    e,
                    m.item_hash.as_str(),
                    i as i64,
                    content.time(),
                    kind,
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_credit(
    tx: &Transaction<'_>,
    address: &str,
    amount: i64,
    entry: &Value,
    credit_ref: &str,
    index: i64,
    time: f64,
    origin: &str,
) -> HResult<()> {
    let s = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_owned);
    tx.prepare_cached("INSERT INTO credit_history (address, amount, price, bonus_amount, tx_hash, token, chain, provider, origin, origin_ref,
                                     payment_method, credit_ref, credit_index, expiration_date, message_timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")?.execute(
        params![
            address,
            amount,
            s("price"),
            entry.get("bonus_amount").and_then(Value::as_i64),
            s("tx_hash"),
            s("token"),
            s("chain"),
            s("provider"),
            s("origin").unwrap_or_else(|| origin.to_owned()),
            s("ref"),
            s("payment_method"),
            credit_ref,
            index,
            entry.get("expiration").and_then(Value::as_f64),
            time,
        ],
    )?;
    Ok(())
}

/// A credit transfer: no self-transfer, no duplicate recipients, positive amounts, and the
/// sender's balance must cover the total; otherwise the post stays but moves nothing.
fn transfer_credits(
    tx: &Transaction<'_>,
    m: &PendingMessage,
    content: &Decoded,
    entries: &[Value],
) -> HResult<()> {
    let from = content.owner();
    let mut seen = std::collections::HashSet::new();
    let mut total = 0i64;
    for e in entries {
        let (Some(to), Some(amount)) =
            (e.get("address").and_then(Value::as_str), e.get("amount").and_then(Value::as_i64))
        else {
            return Ok(());
        };
        if amount <= 0 || to.eq_ignore_ascii_case(from) || !seen.insert(to.to_ascii_lowercase()) {
            return Ok(());
        }
        total = total.saturating_add(amount);
    }
    let balance = crate::storage::balances::credit_balance(tx, from, content.time())?;
    if balance < total {
        return Ok(());
    }
    for (i, e) in entries.iter().enumerate() {
        let to = e.get("address").and_then(Value::as_str).unwrap_or_default();
        let amount = e.get("amount").and_then(Value::as_i64).unwrap_or_default();
        insert_credit(tx, to, amount, e, m.item_hash.as_str(), 2 * i as i64, content.time(), "transfer")?;
        insert_credit(
            tx,
            from,
            -amount,
            e,
            m.item_hash.as_str(),
            2 * i as i64 + 1,
            content.time(),
            "transfer",
        )?;
    }
    Ok(())
}
