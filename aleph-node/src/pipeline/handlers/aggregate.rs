//! AGGREGATE: elements merged by content time into one document per (owner, key).

use aleph_core::message::PendingMessage;
use rusqlite::{params, Transaction};
use serde_json::{Map, Value};

use super::{Decoded, HResult};

/// The reference node never materializes aggregates of this address (its elements are kept).
const NEVER_MATERIALIZED: &str = "0x51A58800b26AA1451aaA803d1746687cB88E0501";

/// The aggregate key of a content (`key` or `{"name": key}`).
pub(crate) fn key_of(content: &Value) -> String {
    match content.get("key") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        _ => String::new(),
    }
}

pub(super) fn apply(tx: &Transaction<'_>, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let key = key_of(&content.raw);
    let body = content.raw.get("content").cloned().unwrap_or(Value::Object(Map::new()));
    tx.prepare_cached("INSERT OR REPLACE INTO aggregate_elements (item_hash, owner, key, content, creation) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(
        params![m.item_hash.as_str(), content.owner(), key, body.to_string(), content.time()],
    )?;
    recompute(tx, content.owner(), &key)
}

/// Rebuilds an aggregate from its elements: a shallow merge in ascending content time (ties by
/// item hash, so every node reaches the same value whatever the arrival order).
pub(crate) fn recompute(tx: &Transaction<'_>, owner: &str, key: &str) -> HResult<()> {
    if owner == NEVER_MATERIALIZED {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "SELECT item_hash, content, creation FROM aggregate_elements WHERE owner = ?1 AND key = ?2
         ORDER BY creation ASC, item_hash ASC",
    )?;
    let elements = stmt
        .query_map(params![owner, key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
        tx.prepare_cached("DELETE FROM aggregates WHERE owner = ?1 AND key = ?2")?
            .execute(params![owner, key])?;
        return Ok(());
    };
    let mut merged = Map::new();
    for (_, text, _) in &elements {
        if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
            for (k, v) in obj {
                merged.insert(k, v);
            }
        }
    }
    tx.prepare_cached("INSERT INTO aggregates (owner, key, content, creation, last_updated, original_item_hash, last_update_item_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (owner, key) DO UPDATE SET content = excluded.content, creation = excluded.creation,
            last_updated = excluded.last_updated, original_item_hash = excluded.original_item_hash,
            last_update_item_hash = excluded.last_update_item_hash")?.execute(
        params![owner, key, Value::Object(merged).to_string(), first.2, last.2, first.0, last.0],
    )?;
    Ok(())
}
