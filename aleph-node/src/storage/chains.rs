//! What the chain bridges record: transactions, confirmations, reader positions, skipped
//! events, and token balances (NETWORK.md §4).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};

use super::StorageError;

/// A chain transaction whose messages the node processes (`ChainTx` of §4.1).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChainTx {
    pub(crate) chain: String,
    pub(crate) hash: String,
    pub(crate) height: u64,
    /// Block (or event) time, float seconds.
    pub(crate) time: f64,
    pub(crate) publisher: String,
    pub(crate) protocol: String,
    pub(crate) protocol_version: u32,
    pub(crate) content: Value,
}

/// Records a transaction (once: a transaction read again keeps its first record).
pub(crate) fn record_tx(tx: &Transaction<'_>, t: &ChainTx) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO chain_txs (chain, hash, height, time, publisher, protocol, protocol_version, content)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        t.chain,
        t.hash,
        t.height as i64,
        t.time,
        t.publisher,
        t.protocol,
        t.protocol_version,
        t.content.to_string()
    ])?;
    Ok(())
}

/// Confirms a processed message by a recorded transaction, and keeps its first confirmation
/// (time and height) on the message row.
pub(crate) fn confirm(
    tx: &Transaction<'_>,
    item_hash: &str,
    chain: &str,
    tx_hash: &str,
) -> Result<(), StorageError> {
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO confirmations (item_hash, chain, height, hash, time, publisher)
             SELECT ?1, chain, height, hash, time, publisher FROM chain_txs WHERE chain = ?2 AND hash = ?3",
        )?
        .execute(params![item_hash, chain, tx_hash])?;
    if added > 0 {
        tx.prepare_cached("DELETE FROM chain_outbox_items WHERE item_hash = ?1")?.execute([item_hash])?;
        tx.prepare_cached(
            "UPDATE messages SET
                 first_confirmed_at = (SELECT MIN(time) FROM confirmations WHERE item_hash = ?1),
                 first_confirmed_height = (SELECT height FROM confirmations WHERE item_hash = ?1
                                           ORDER BY time, height LIMIT 1)
             WHERE item_hash = ?1",
        )?
        .execute([item_hash])?;
    }
    Ok(())
}

/// Where a reader stopped: the last height (or event count) it consumed.
pub(crate) fn sync_height(conn: &Connection, chain: &str, kind: &str) -> Result<Option<u64>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT height FROM chain_sync_status WHERE chain = ?1 AND kind = ?2")?
        .query_row([chain, kind], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|h| h.max(0) as u64))
}

/// Moves a reader's position.
pub(crate) fn set_sync_height(
    tx: &Transaction<'_>,
    chain: &str,
    kind: &str,
    height: u64,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO chain_sync_status (chain, kind, height, last_update) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (chain, kind) DO UPDATE SET height = excluded.height, last_update = excluded.last_update",
    )?
    .execute(params![chain, kind, height as i64, crate::pipeline::now()])?;
    Ok(())
}

/// Records an event or message a reader skipped, with the reason.
pub(crate) fn record_skip(
    tx: &Transaction<'_>,
    chain: &str,
    tx_hash: &str,
    height: u64,
    reason: &str,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO chain_skipped (chain, tx_hash, height, reason, time) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![chain, tx_hash, height as i64, reason, crate::pipeline::now()])?;
    Ok(())
}

/// The latest skipped events, newest first, as `{chain, tx_hash, height, reason, time}`.
pub(crate) fn skipped(conn: &Connection, limit: u32) -> Result<Vec<Value>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT chain, tx_hash, height, reason, time FROM chain_skipped ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(json!({
                "chain": r.get::<_, String>(0)?,
                "tx_hash": r.get::<_, String>(1)?,
                "height": r.get::<_, i64>(2)?,
                "reason": r.get::<_, String>(3)?,
                "time": r.get::<_, f64>(4)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every reader's position, as `{chain, kind, height, last_update}`.
pub(crate) fn sync_positions(conn: &Connection) -> Result<Vec<Value>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT chain, kind, height, last_update FROM chain_sync_status ORDER BY chain, kind",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(json!({
                "chain": r.get::<_, String>(0)?,
                "kind": r.get::<_, String>(1)?,
                "height": r.get::<_, i64>(2)?,
                "last_update": r.get::<_, f64>(3)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A token balance in the token's base unit (decimal text), if the address has one.
pub(crate) fn token_amount(
    tx: &Transaction<'_>,
    chain: &str,
    address: &str,
) -> Result<Option<String>, StorageError> {
    Ok(tx
        .prepare_cached("SELECT amount FROM token_balances WHERE chain = ?1 AND address = ?2")?
        .query_row([chain, address], |r| r.get(0))
        .optional()?)
}

/// Sets a token balance (base unit) and the ALEPH balance payment reads (`aleph`, decimal
/// text in whole tokens), not yet published.
pub(crate) fn set_token_amount(
    tx: &Transaction<'_>,
    chain: &str,
    address: &str,
    amount: &str,
    aleph: &str,
    height: u64,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO token_balances (chain, address, amount, height, published) VALUES (?1, ?2, ?3, ?4, 0)
         ON CONFLICT (chain, address) DO UPDATE SET amount = excluded.amount, height = excluded.height, published = 0",
    )?
    .execute(params![chain, address, amount, height as i64])?;
    tx.prepare_cached(
        "INSERT INTO balances (address, chain, dapp, balance, height) VALUES (?1, ?2, '', ?3, ?4)
         ON CONFLICT (address, chain, dapp) DO UPDATE SET balance = excluded.balance, height = excluded.height",
    )?
    .execute(params![address, chain, aleph, height as i64])?;
    Ok(())
}

/// Token balances changed since they were last published: `(address, amount, height)`.
pub(crate) fn unpublished_token_amounts(
    conn: &Connection,
    chain: &str,
    limit: u32,
) -> Result<Vec<(String, String, u64)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT address, amount, height FROM token_balances WHERE chain = ?1 AND published = 0
         ORDER BY address LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![chain, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Marks token balances as published, unless they changed since `amount` was read.
pub(crate) fn mark_published(
    tx: &Transaction<'_>,
    chain: &str,
    rows: &[(String, String, u64)],
) -> Result<(), StorageError> {
    let mut stmt = tx.prepare_cached(
        "UPDATE token_balances SET published = 1 WHERE chain = ?1 AND address = ?2 AND amount = ?3",
    )?;
    for (address, amount, _) in rows {
        stmt.execute(params![chain, address, amount])?;
    }
    Ok(())
}

/// Messages signed by their senders and confirmed by no transaction, oldest reception first:
/// what a packing node emits next (`get_unconfirmed_messages`).
pub(crate) fn unconfirmed_messages(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<aleph_core::chain_sync::OnChainMessage>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.sender, m.chain, m.signature, m.type, m.item_content, m.item_type, m.item_hash, m.time, m.channel
         FROM messages m JOIN message_status s ON s.item_hash = m.item_hash
         WHERE m.signature IS NOT NULL AND m.first_confirmed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM chain_outbox_items o WHERE o.item_hash = m.item_hash)
         ORDER BY s.reception_time, m.item_hash LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(aleph_core::chain_sync::OnChainMessage {
                sender: r.get(0)?,
                chain: r.get(1)?,
                signature: r.get(2)?,
                message_type: r.get(3)?,
                item_content: r.get(4)?,
                item_type: r.get(5)?,
                item_hash: r.get(6)?,
                time: r.get(7)?,
                channel: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Records the messages of a batch sent in transaction `tx_hash`.
pub(crate) fn add_outbox(
    tx: &Transaction<'_>,
    chain: &str,
    tx_hash: &str,
    item_hashes: &[String],
) -> Result<(), StorageError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO chain_outbox_items (item_hash, chain, tx_hash) VALUES (?1, ?2, ?3)",
    )?;
    for h in item_hashes {
        stmt.execute(params![h, chain, tx_hash])?;
    }
    Ok(())
}

/// Forgets a batch whose transaction failed: its messages may be emitted again.
pub(crate) fn drop_outbox(tx: &Transaction<'_>, chain: &str, tx_hash: &str) -> Result<(), StorageError> {
    tx.prepare_cached("DELETE FROM chain_outbox_items WHERE chain = ?1 AND tx_hash = ?2")?
        .execute([chain, tx_hash])?;
    Ok(())
}

/// Keeps a transaction whose archive is missing for a later attempt (`attempts` so far).
pub(crate) fn defer_tx(
    tx: &Transaction<'_>,
    chain: &str,
    hash: &str,
    attempts: u32,
    next_attempt: f64,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO chain_pending_txs (chain, hash, attempts, next_attempt) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (chain, hash) DO UPDATE SET attempts = excluded.attempts, next_attempt = excluded.next_attempt",
    )?
    .execute(params![chain, hash, attempts, next_attempt])?;
    Ok(())
}

/// Done with a deferred transaction.
pub(crate) fn undefer_tx(tx: &Transaction<'_>, chain: &str, hash: &str) -> Result<(), StorageError> {
    tx.prepare_cached("DELETE FROM chain_pending_txs WHERE chain = ?1 AND hash = ?2")?
        .execute([chain, hash])?;
    Ok(())
}

/// Deferred transactions due by `now`, with their attempts so far.
pub(crate) fn due_txs(conn: &Connection, chain: &str, now: f64) -> Result<Vec<(ChainTx, u32)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.chain, t.hash, t.height, t.time, t.publisher, t.protocol, t.protocol_version, t.content, p.attempts
         FROM chain_pending_txs p JOIN chain_txs t ON t.chain = p.chain AND t.hash = p.hash
         WHERE p.chain = ?1 AND p.next_attempt <= ?2 ORDER BY t.height LIMIT 16",
    )?;
    let rows = stmt
        .query_map(params![chain, now], |r| {
            let content: String = r.get(7)?;
            Ok((
                ChainTx {
                    chain: r.get(0)?,
                    hash: r.get(1)?,
                    height: r.get::<_, i64>(2)?.max(0) as u64,
                    time: r.get(3)?,
                    publisher: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    protocol: r.get(5)?,
                    protocol_version: r.get(6)?,
                    content: serde_json::from_str(&content).unwrap_or(Value::Null),
                },
                r.get(8)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Keeps a sync archive: a file row and a `tx` pin naming the transaction that carries it.
pub(crate) fn pin_archive(
    tx: &Transaction<'_>,
    file_hash: &str,
    size: u64,
    tx_hash: &str,
) -> Result<(), StorageError> {
    tx.prepare_cached("INSERT OR IGNORE INTO files (hash, size, type) VALUES (?1, ?2, 'file')")?
        .execute(params![file_hash, size as i64])?;
    let pinned = tx
        .prepare_cached("SELECT 1 FROM file_pins WHERE file_hash = ?1 AND kind = 'tx' AND item_hash = ?2")?
        .exists(params![file_hash, tx_hash])?;
    if !pinned {
        tx.prepare_cached(
            "INSERT INTO file_pins (file_hash, kind, item_hash, created) VALUES (?1, 'tx', ?2, ?3)",
        )?
        .execute(params![file_hash, tx_hash, crate::pipeline::now()])?;
    }
    Ok(())
}
