//! Reading messages: the list endpoint's filters and pagination, and the per-message views.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{json, Map, Value};

use super::StorageError;

/// How much of `content` a listing returns (the API's `contentFormat`).
pub(crate) use aleph_core::api::ContentFormat;

/// The filters and paging of `GET /api/v0/messages.json` (and the websocket).
#[derive(Debug, Clone, Default)]
pub(crate) struct MessageQuery {
    /// `type IN`.
    pub types: Vec<String>,
    /// `sender IN`.
    pub addresses: Vec<String>,
    /// `content.address IN`.
    pub owners: Vec<String>,
    /// `content.ref IN`.
    pub refs: Vec<String>,
    /// `content.item_hash IN`.
    pub content_hashes: Vec<String>,
    /// `content.key IN`.
    pub content_keys: Vec<String>,
    /// `content.type IN`.
    pub content_types: Vec<String>,
    /// `chain IN`.
    pub chains: Vec<String>,
    /// `channel IN`.
    pub channels: Vec<String>,
    /// Any overlap with the message's tags.
    pub tags: Vec<String>,
    /// `item_hash IN`.
    pub hashes: Vec<String>,
    /// Payment types.
    pub payment_types: Vec<String>,
    /// `status IN` (empty: every listed message, i.e. `processed` and `removing`).
    pub statuses: Vec<String>,
    /// `time >= start` (0 = off).
    pub start_date: f64,
    /// `time < end` (0 = off).
    pub end_date: f64,
    /// Ascending instead of descending time.
    pub ascending: bool,
    /// `startBlock`: unconfirmed messages, or first confirmed at this height or above.
    pub start_block: Option<u64>,
    /// `endBlock`: messages first confirmed below this height.
    pub end_block: Option<u64>,
    /// `sortBy=tx-time`: by first confirmation time (unconfirmed first when descending, last
    /// when ascending), then by time, as the reference sorts.
    pub by_tx_time: bool,
    /// Messages processed after this sequence number (for resumable streams).
    pub after_seq: Option<i64>,
}

/// A page of messages.
#[derive(Debug)]
pub(crate) struct MessagePage {
    /// The messages, list form.
    pub messages: Vec<Value>,
    /// Total matching (page mode only).
    pub total: Option<u64>,
    /// The cursor of the next page (cursor mode only).
    pub next_cursor: Option<String>,
}

/// Paging: page numbers or an opaque cursor.
#[derive(Debug, Clone)]
pub(crate) enum Paging {
    /// Page `page` (from 1) of `per_page` (0 = everything).
    Page {
        /// Page number.
        page: u64,
        /// Items per page.
        per_page: u64,
    },
    /// Keyset paging from a cursor (`None` = first page).
    Cursor {
        /// Decoded cursor: (time, item_hash) of the last item of the previous page.
        after: Option<(f64, String)>,
        /// Items per page.
        per_page: u64,
    },
}

const COLUMNS: &str =
    "m.item_hash, m.type, m.chain, m.sender, m.signature, m.item_type, m.item_content, m.content, \
                       m.time, m.channel, m.size, m.seq, m.first_confirmed_at";

struct Where {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
}

impl Where {
    fn new() -> Self {
        Where { clauses: Vec::new(), params: Vec::new() }
    }

    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(",");
        self.clauses.push(format!("{column} IN ({marks})"));
        self.params.extend(values.iter().map(|v| SqlValue::Text(v.clone())));
    }

    fn push(&mut self, clause: impl Into<String>, params: impl IntoIterator<Item = SqlValue>) {
        self.clauses.push(clause.into());
        self.params.extend(params);
    }

    fn sql(&self) -> String {
        super::sql::where_all(&self.clauses)
    }
}

/// The filters of `q` as one or two disjoint arms whose union is the listing.
///
/// Most messages are owned by their sender, so the owner index only holds the others
/// (`owner <> sender`, see schema.sql). An `owners` filter is therefore two arms: messages sent by
/// one of the owners for themselves (read through the sender index), and messages sent for one of
/// them by someone else (through the owner index). Each arm is read in listing order from its
/// index and the two are merged.
fn build_arms(q: &MessageQuery) -> Vec<Where> {
    if q.owners.is_empty() {
        return vec![build_where(q, None)];
    }
    vec![build_where(q, Some(OwnerArm::Sender)), build_where(q, Some(OwnerArm::Delegate))]
}

#[derive(Clone, Copy)]
enum OwnerArm {
    /// `owner = sender`, owner among the owners.
    Sender,
    /// `owner <> sender`, owner among the owners.
    Delegate,
}

fn build_where(q: &MessageQuery, arm: Option<OwnerArm>) -> Where {
    let mut w = Where::new();
    // With no statistics SQLite may walk the type or channel index (a few values, each holding a
    // large share of all messages) and filter by sender on the way, reading every message of the
    // type when the sender has none. A sender or owner is the selective term: `+` keeps the type
    // and channel terms off their indexes then.
    let by_address = !q.addresses.is_empty() || !q.owners.is_empty();
    let (type_column, channel_column) =
        if by_address { ("+m.type", "+m.channel") } else { ("m.type", "m.channel") };
    w.any_of(type_column, &q.types);
    w.any_of("m.sender", &q.addresses);
    match arm {
        None => {}
        Some(OwnerArm::Sender) => {
            w.any_of("m.sender", &q.owners);
            w.push("m.owner = m.sender", []);
        }
        Some(OwnerArm::Delegate) => {
            w.any_of("m.owner", &q.owners);
            w.push("m.owner <> m.sender", []);
        }
    }
    w.any_of("m.content_ref", &q.refs);
    w.any_of("m.content_item_hash", &q.content_hashes);
    w.any_of("m.content_key", &q.content_keys);
    w.any_of("m.content_type", &q.content_types);
    w.any_of("m.chain", &q.chains);
    w.any_of(channel_column, &q.channels);
    w.any_of("m.item_hash", &q.hashes);
    w.any_of("COALESCE(m.payment_type, 'hold')", &q.payment_types);
    if !q.tags.is_empty() {
        let marks = vec!["?"; q.tags.len()].join(",");
        w.push(
            format!("EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value IN ({marks}))"),
            q.tags.iter().map(|t| SqlValue::Text(t.clone())),
        );
    }
    if !q.statuses.is_empty() {
        let marks = vec!["?"; q.statuses.len()].join(",");
        w.push(
            format!("EXISTS (SELECT 1 FROM message_status s WHERE s.item_hash = m.item_hash AND s.status IN ({marks}))"),
            q.statuses.iter().map(|s| SqlValue::Text(s.clone())),
        );
    }
    if q.start_date > 0.0 {
        w.push("m.time >= ?", [SqlValue::Real(q.start_date)]);
    }
    if q.end_date > 0.0 {
        w.push("m.time < ?", [SqlValue::Real(q.end_date)]);
    }
    if let Some(seq) = q.after_seq {
        w.push("m.seq > ?", [SqlValue::Integer(seq)]);
    }
    if let Some(h) = q.start_block.filter(|h| *h > 0) {
        w.push(
            "(m.first_confirmed_height IS NULL OR m.first_confirmed_height >= ?)",
            [SqlValue::Integer(h.min(i64::MAX as u64) as i64)],
        );
    }
    if let Some(h) = q.end_block.filter(|h| *h > 0) {
        w.push("m.first_confirmed_height < ?", [SqlValue::Integer(h.min(i64::MAX as u64) as i64)]);
    }
    w
}

/// Lists messages matching `q`.
pub(crate) fn list_messages(
    conn: &Connection,
    q: &MessageQuery,
    paging: &Paging,
    format: ContentFormat,
) -> Result<MessagePage, StorageError> {
    let mut arms = build_arms(q);
    // Output column names, so that the order also applies to a union of arms.
    // `start_block`/`end_block` sort by confirmation time too, as the reference does.
    let order = match (q.by_tx_time || q.start_block.is_some() || q.end_block.is_some(), q.ascending) {
        (false, true) => "time ASC, item_hash ASC",
        (false, false) => "time DESC, item_hash ASC",
        (true, true) => "first_confirmed_at IS NULL, first_confirmed_at ASC, time ASC, item_hash ASC",
        (true, false) => "first_confirmed_at IS NOT NULL, first_confirmed_at DESC, time DESC, item_hash ASC",
    };
    let (limit, offset, cursor_mode, per_page) = match paging {
        Paging::Page { page, per_page } => {
            let off = if *per_page == 0 { 0 } else { page.saturating_sub(1) * per_page };
            (*per_page, off, false, *per_page)
        }
        Paging::Cursor { after, per_page } => {
            if let Some((t, h)) = after {
                let cmp = if q.ascending { ">" } else { "<" };
                for w in &mut arms {
                    w.push(
                        format!("(m.time {cmp} ? OR (m.time = ? AND m.item_hash > ?))"),
                        [SqlValue::Real(*t), SqlValue::Real(*t), SqlValue::Text(h.clone())],
                    );
                }
            }
            (*per_page + 1, 0, true, *per_page)
        }
    };
    let limit_sql = if limit == 0 { String::new() } else { format!(" LIMIT {limit} OFFSET {offset}") };
    let selects: Vec<String> =
        arms.iter().map(|w| format!("SELECT {COLUMNS} FROM messages m{}", w.sql())).collect();
    let sql = format!("{} ORDER BY {order}{limit_sql}", selects.join(" UNION ALL "));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(arms.iter().flat_map(|w| w.params.iter())))?;
    let mut messages = Vec::new();
    let mut last: Option<(f64, String)> = None;
    // In cursor mode the query fetches one row more than a page: its presence means more follow.
    let mut has_more = false;
    while let Some(row) = rows.next()? {
        if cursor_mode && messages.len() as u64 == per_page {
            has_more = true;
            break;
        }
        last = Some((row.get(8)?, row.get(0)?));
        let mut m = row_to_list_json(row, format)?;
        fill_confirmations(conn, row, &mut m)?;
        messages.push(m);
    }
    drop(rows);
    drop(stmt);
    if cursor_mode {
        let next_cursor = if has_more { last.map(|(t, h)| encode_cursor(t, &h)) } else { None };
        return Ok(MessagePage { messages, total: None, next_cursor });
    }
    // The reference's shortcut: a partial page tells the total without counting.
    let total = if per_page == 0 || (messages.len() as u64) < per_page && !(messages.is_empty() && offset > 0)
    {
        offset + messages.len() as u64
    } else {
        match counted_total(conn, q)? {
            Some(n) => n,
            None => {
                // Page mode: the arms carry no cursor clause, so they filter the count as well.
                let counts: Vec<String> =
                    arms.iter().map(|w| format!("(SELECT COUNT(*) FROM messages m{})", w.sql())).collect();
                let sql = format!("SELECT {}", counts.join(" + "));
                let params = arms.iter().flat_map(|w| w.params.iter());
                conn.query_row(&sql, rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))? as u64
            }
        }
    };
    Ok(MessagePage { messages, total: Some(total), next_cursor: None })
}

/// The total of a listing filtered only by senders or only by owners (and types), without
/// counting the owners' or senders' rows: `sender_counts`, corrected for owners by the messages
/// sent for someone else (few, and indexed on their own); `None` for any other filter.
fn counted_total(conn: &Connection, q: &MessageQuery) -> Result<Option<u64>, StorageError> {
    let only_senders_or_owners = (q.addresses.is_empty() != q.owners.is_empty())
        && q.refs.is_empty()
        && q.content_hashes.is_empty()
        && q.content_keys.is_empty()
        && q.content_types.is_empty()
        && q.chains.is_empty()
        && q.channels.is_empty()
        && q.tags.is_empty()
        && q.hashes.is_empty()
        && q.payment_types.is_empty()
        && (q.statuses.is_empty()
            || (q.statuses.iter().any(|s| s == "processed")
                && q.statuses.iter().any(|s| s == "removing")
                && q.statuses.iter().all(|s| s == "processed" || s == "removing")))
        && q.start_date <= 0.0
        && q.end_date <= 0.0
        && q.after_seq.is_none();
    if !only_senders_or_owners {
        return Ok(None);
    }
    let count = |sql: String, w: &Where| -> Result<i64, StorageError> {
        Ok(conn.query_row(
            &format!("{sql}{}", w.sql()),
            rusqlite::params_from_iter(w.params.iter()),
            |r| r.get(0),
        )?)
    };
    let people = if q.owners.is_empty() { &q.addresses } else { &q.owners };
    let mut sent = Where::new();
    sent.any_of("sender", people);
    sent.any_of("type", &q.types);
    let mut total = count("SELECT COALESCE(SUM(n), 0) FROM sender_counts".into(), &sent)?;
    if !q.owners.is_empty() {
        // Owned = sent − sent for someone else + sent by someone else for them.
        let delegated = |column: &str| {
            let mut w = Where::new();
            w.any_of(column, &q.owners);
            w.push("owner <> sender", []);
            w.any_of("type", &q.types);
            w
        };
        total -= count("SELECT COUNT(*) FROM messages".into(), &delegated("sender"))?;
        total += count("SELECT COUNT(*) FROM messages".into(), &delegated("owner"))?;
    }
    Ok(Some(total.max(0) as u64))
}

/// Encodes a keyset cursor (opaque to clients).
pub(crate) fn encode_cursor(time: f64, item_hash: &str) -> String {
    use base64::Engine;
    let doc = json!({"h": item_hash, "t": time});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

/// Decodes a cursor made by [`encode_cursor`].
pub(crate) fn decode_cursor(cursor: &str) -> Option<(f64, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    let doc: Value = serde_json::from_slice(&bytes).ok()?;
    Some((doc.get("t")?.as_f64()?, doc.get("h")?.as_str()?.to_owned()))
}

/// The confirmations of a message, as `[{chain, hash, height}]`.
pub(crate) fn confirmations(conn: &Connection, item_hash: &str) -> Result<Vec<Value>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT chain, hash, height FROM confirmations WHERE item_hash = ?1 ORDER BY time, height",
    )?;
    let rows = stmt
        .query_map([item_hash], |r| {
            Ok(json!({"chain": r.get::<_, String>(0)?, "hash": r.get::<_, String>(1)?, "height": r.get::<_, i64>(2)?}))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn headers_of(message_type: &str, content: &Value) -> Value {
    let mut out = Map::new();
    if let Some(a) = content.get("address") {
        out.insert("address".into(), a.clone());
    }
    let keys: &[&str] = match message_type {
        "POST" => &["type", "ref"],
        "AGGREGATE" => &["key"],
        "STORE" => &["item_hash", "ref"],
        _ => &[],
    };
    for k in keys {
        if let Some(v) = content.get(*k) {
            out.insert((*k).into(), v.clone());
        }
    }
    Value::Object(out)
}

/// A message row in list form (`messages.json`, websocket history): sorted keys, with `size`.
pub(crate) fn row_to_list_json(row: &Row<'_>, format: ContentFormat) -> Result<Value, StorageError> {
    let item_hash: String = row.get(0)?;
    let message_type: String = row.get(1)?;
    let content_text: String = row.get(7)?;
    let mut m = Map::new();
    m.insert("chain".into(), Value::String(row.get(2)?));
    m.insert("channel".into(), row.get::<_, Option<String>>(9)?.map_or(Value::Null, Value::String));
    // Confirmed messages get their confirmations from `fill_confirmations`.
    m.insert("confirmations".into(), Value::Array(Vec::new()));
    m.insert("confirmed".into(), Value::Bool(false));
    match format {
        ContentFormat::Full => {
            m.insert("content".into(), serde_json::from_str(&content_text)?);
        }
        ContentFormat::Headers => {
            let content: Value = serde_json::from_str(&content_text)?;
            m.insert("content".into(), headers_of(&message_type, &content));
        }
        ContentFormat::None => {}
    }
    m.insert("item_content".into(), row.get::<_, Option<String>>(6)?.map_or(Value::Null, Value::String));
    m.insert("item_hash".into(), Value::String(item_hash));
    m.insert("item_type".into(), Value::String(row.get(5)?));
    m.insert("sender".into(), Value::String(row.get(3)?));
    m.insert("signature".into(), row.get::<_, Option<String>>(4)?.map_or(Value::Null, Value::String));
    m.insert("size".into(), json!(row.get::<_, i64>(10)?));
    m.insert("time".into(), json!(row.get::<_, f64>(8)?));
    m.insert("type".into(), Value::String(message_type));
    Ok(Value::Object(m))
}

/// Sets `confirmed` and `confirmations` of a message built from `row` (one with [`COLUMNS`]).
fn fill_confirmations(conn: &Connection, row: &Row<'_>, message: &mut Value) -> Result<(), StorageError> {
    if row.get::<_, Option<f64>>(12)?.is_none() {
        return Ok(());
    }
    let item_hash: String = row.get(0)?;
    let list = confirmations(conn, &item_hash)?;
    if let Some(m) = message.as_object_mut() {
        m.insert("confirmed".into(), Value::Bool(!list.is_empty()));
        m.insert("confirmations".into(), Value::Array(list));
    }
    Ok(())
}

/// One processed message in list form, if present.
pub(crate) fn get_message(conn: &Connection, item_hash: &str) -> Result<Option<Value>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.item_hash = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([item_hash])?;
    match rows.next()? {
        Some(row) => {
            let mut m = row_to_list_json(row, ContentFormat::Full)?;
            fill_confirmations(conn, row, &mut m)?;
            Ok(Some(m))
        }
        None => Ok(None),
    }
}

/// `(status, reception_time)` of an item hash.
pub(crate) fn status(conn: &Connection, item_hash: &str) -> Result<Option<(String, f64)>, StorageError> {
    Ok(conn
        .query_row(
            "SELECT status, reception_time FROM message_status WHERE item_hash = ?1",
            [item_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The highest processing sequence number so far (0 when empty).
pub(crate) fn last_seq(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM messages", [], |r| r.get(0))?)
}
