//! Per-type processing: permission, dependency and balance checks, then the effects of each
//! message type on the node's state. Content here has already passed core validation, so field
//! access on the raw JSON is safe.

use aleph_core::message::{MessageType, PendingMessage};
use aleph_core::validate::ProcessingError;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::{json, Value};

use super::process::Item;
use crate::config::NodeConfig;
use crate::storage::StorageError;

pub(crate) mod aggregate;
mod forget;
mod permissions;
mod post;
mod store;
mod vm;

/// A handler failure: a processing verdict, or storage trouble (which aborts the batch).
#[derive(Debug)]
pub(crate) enum HandlerError {
    Processing(ProcessingError),
    Storage(StorageError),
}

impl From<aleph_core::permissions::PermissionError> for HandlerError {
    fn from(e: aleph_core::permissions::PermissionError) -> Self {
        HandlerError::Processing(e.into())
    }
}

impl From<ProcessingError> for HandlerError {
    fn from(e: ProcessingError) -> Self {
        HandlerError::Processing(e)
    }
}

impl From<StorageError> for HandlerError {
    fn from(e: StorageError) -> Self {
        HandlerError::Storage(e)
    }
}

impl From<rusqlite::Error> for HandlerError {
    fn from(e: rusqlite::Error) -> Self {
        HandlerError::Storage(e.into())
    }
}

pub(crate) type HResult<T> = Result<T, HandlerError>;

/// Decoded content: the raw object as stored (address and time filled in) and its size.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub(crate) raw: Value,
    pub(crate) content: aleph_core::content::Content,
    pub(crate) size: u64,
}

impl From<aleph_core::validate::DecodedContent> for Decoded {
    fn from(d: aleph_core::validate::DecodedContent) -> Self {
        Decoded { raw: d.value, content: d.content, size: d.size }
    }
}

impl Decoded {
    pub(crate) fn owner(&self) -> &str {
        self.raw.get("address").and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn time(&self) -> f64 {
        self.raw.get("time").and_then(Value::as_f64).unwrap_or(0.0)
    }

    pub(crate) fn str_field(&self, key: &str) -> Option<&str> {
        self.raw.get(key).and_then(Value::as_str)
    }
}

/// Decodes and validates a message's content (inline, or the fetched bytes of stored content)
/// with the network's rules.
pub(crate) fn decode_content(
    message: &PendingMessage,
    fetched: Option<&[u8]>,
) -> Result<Decoded, ProcessingError> {
    aleph_core::validate::decode_message_content(message, fetched).map(Decoded::from)
}

/// Per-batch context.
pub(crate) struct Ctx {
    pub(crate) now: f64,
    pub(crate) max_retries: u32,
    pub(crate) max_backoff: f64,
    pub(crate) balance_senders: Vec<String>,
    pub(crate) credit_senders: Vec<String>,
    pub(crate) grace_secs: f64,
    /// Held files up to this size are free (the unauthenticated upload limit).
    pub(crate) free_store_max_bytes: u64,
    /// Runtime refs taken as present without their STORE (dev mode: the official Python
    /// runtimes, which a local network cannot hold since their STOREs are the foundation's).
    pub(crate) builtin_runtimes: Vec<String>,
    next_seq: std::cell::Cell<i64>,
}

impl Ctx {
    pub(crate) fn new(tx: &Transaction<'_>, config: &NodeConfig) -> Result<Self, StorageError> {
        Ok(Ctx {
            now: super::now(),
            max_retries: config.processing.max_retries,
            max_backoff: config.processing.max_backoff_secs,
            balance_senders: config.balance_senders.clone(),
            credit_senders: config.credit_senders.clone(),
            grace_secs: config.processing.file_grace_period_secs,
            free_store_max_bytes: config.limits.max_unauthenticated_upload as u64,
            builtin_runtimes: if config.dev { config.crn.python_runtime_refs.clone() } else { Vec::new() },
            next_seq: std::cell::Cell::new(crate::storage::messages::last_seq(tx)? + 1),
        })
    }

    fn take_seq(&self) -> i64 {
        let s = self.next_seq.get();
        self.next_seq.set(s + 1);
        s
    }
}

/// Whether judging a message of this type can end in a processing verdict after it has written
/// something (and so needs a savepoint to undo it). POSTs and AGGREGATEs are judged entirely by
/// reads (permissions, the amended original) before `insert_message`, and their `apply` fails only
/// on storage errors, which abort the whole transaction anyway.
pub(crate) fn may_fail_after_writing(message_type: MessageType) -> bool {
    !matches!(message_type, MessageType::Post | MessageType::Aggregate)
}

/// Checks a message and applies it; returns its list-form JSON.
pub(crate) fn check_and_apply(
    tx: &Transaction<'_>,
    ctx: &Ctx,
    item: &Item,
    content: &Decoded,
) -> HResult<Value> {
    let m = &item.message;
    // FORGET judges permission per target; every other type against content.address.
    if m.message_type != MessageType::Forget {
        permissions::check(tx, m, content)?;
    }
    match m.message_type {
        MessageType::Post => post::check(tx, m, content)?,
        MessageType::Aggregate => {}
        MessageType::Store => store::check(tx, ctx, m, content)?,
        MessageType::Forget => forget::check(tx, m, content)?,
        MessageType::Program | MessageType::Instance | MessageType::VProgram => {
            vm::check(tx, ctx, m, content)?
        }
    }
    crate::payment::check_and_record(tx, ctx.now, m, &content.content, ctx.free_store_max_bytes)?;
    insert_message(tx, ctx, item, content)?;
    match m.message_type {
        MessageType::Post => post::apply(tx, ctx, m, content)?,
        MessageType::Aggregate => aggregate::apply(tx, m, content)?,
        MessageType::Store => store::apply(tx, m, content)?,
        MessageType::Forget => forget::apply(tx, ctx, m, content)?,
        MessageType::Program | MessageType::Instance | MessageType::VProgram => vm::apply(tx, m, content)?,
    }
    Ok(list_json(m, content))
}

fn tags_of(message_type: MessageType, content: &Value) -> Option<Value> {
    let tags = match message_type {
        MessageType::Post | MessageType::Aggregate => content.get("content").and_then(|c| c.get("tags")),
        MessageType::Store => content.get("tags"),
        _ => content.get("metadata").and_then(|c| c.get("tags")),
    }?;
    tags.as_array().map(|a| Value::Array(a.iter().filter(|t| t.is_string()).cloned().collect()))
}

fn insert_message(tx: &Transaction<'_>, ctx: &Ctx, item: &Item, content: &Decoded) -> HResult<()> {
    let m = &item.message;
    let c = &content.raw;
    let payment_type = c.get("payment").and_then(|p| p.get("type")).and_then(Value::as_str);
    let key = match c.get("key") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let content_ref = match c.get("ref") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("item_hash").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    tx.prepare_cached("INSERT INTO messages (item_hash, seq, type, chain, sender, signature, item_type, item_content, content, time,
                               channel, size, owner, content_type, content_ref, content_key, content_item_hash,
                               payment_type, tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)")?.execute(
        params![
            m.item_hash.as_str(),
            ctx.take_seq(),
            m.message_type.as_str(),
            m.chain.as_str(),
            m.sender,
            m.signature,
            m.item_type.as_str(),
            m.item_content,
            c.to_string(),
            m.time,
            m.channel,
            content.size as i64,
            content.owner(),
            if m.message_type == MessageType::Post { content.str_field("type") } else { None },
            content_ref,
            key,
            if m.message_type == MessageType::Store { content.str_field("item_hash") } else { None },
            payment_type,
            tags_of(m.message_type, c).map(|t| t.to_string()),
        ],
    )?;
    adjust_sender_count(tx, &m.sender, m.message_type.as_str(), 1)?;
    if m.item_type != aleph_core::ItemType::Inline {
        // The content file of a non-inline message is kept while the message is.
        tx.prepare_cached("INSERT INTO file_pins (file_hash, kind, owner, item_hash, created) VALUES (?1, 'content', ?2, ?1, ?3)")?.execute(
            params![m.item_hash.as_str(), content.owner(), ctx.now],
        )?;
    }
    Ok(())
}

/// Keeps `sender_counts` in step with the `messages` table.
pub(crate) fn adjust_sender_count(
    tx: &Transaction<'_>,
    sender: &str,
    message_type: &str,
    delta: i64,
) -> HResult<()> {
    tx.prepare_cached(
        "INSERT INTO sender_counts (sender, type, n) VALUES (?1, ?2, ?3)
         ON CONFLICT (sender, type) DO UPDATE SET n = n + excluded.n",
    )?
    .execute(params![sender, message_type, delta])?;
    Ok(())
}

/// The list-form JSON of a just-processed message.
pub(crate) fn list_json(m: &PendingMessage, content: &Decoded) -> Value {
    json!({
        "chain": m.chain,
        "channel": m.channel,
        "confirmations": [],
        "confirmed": false,
        "content": content.raw,
        "item_content": m.item_content,
        "item_hash": m.item_hash,
        "item_type": m.item_type,
        "sender": m.sender,
        "signature": m.signature,
        "size": content.size,
        "time": m.time,
        "type": m.message_type,
    })
}

/// The message type and owner of a processed message, if present.
pub(crate) fn processed_message(
    tx: &Transaction<'_>,
    item_hash: &str,
) -> HResult<Option<(String, String, Value)>> {
    Ok(tx
        .prepare_cached("SELECT type, owner, content FROM messages WHERE item_hash = ?1")?
        .query_row([item_hash], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .optional()?
        .map(|(t, o, c)| (t, o, serde_json::from_str(&c).unwrap_or(Value::Null))))
}
