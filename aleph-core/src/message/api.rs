//! The API form of a message: what nodes return from `messages.json` and the single-message
//! endpoints, and what dumps of the network hold.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::pending::{parse_parts, EnvelopeError, Strictness};
use super::time::parse_time_value;
use super::verification::SignedFields;
use super::{ItemType, MessageType, PendingMessage};
use crate::chain::Chain;
use crate::item_hash::ItemHash;

/// An on-chain confirmation of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The chain the message was anchored on (kept as written).
    pub chain: String,
    /// The transaction hash.
    pub hash: String,
    /// The block height.
    pub height: u64,
    /// The block time, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Who published the transaction, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
}

/// A message as nodes serve it: the envelope plus the parsed `content`, confirmations and size.
///
/// Reading is lenient in the ways real API answers differ from what was signed: `time` may be an
/// ISO string, `signature` may be a JSON object (kept as its JSON text), `item_content` may be null
/// for a forgotten inline message, and unknown keys are ignored. Serializing gives the list
/// endpoint's keys, sorted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The chain.
    pub chain: Chain,
    /// The application channel.
    pub channel: Option<String>,
    /// On-chain confirmations.
    pub confirmations: Vec<Confirmation>,
    /// Whether `confirmations` is non-empty.
    pub confirmed: bool,
    /// The parsed content (null for forgotten messages).
    pub content: Option<Value>,
    /// The inline content string, exactly as hashed.
    pub item_content: Option<String>,
    /// The item hash.
    pub item_hash: ItemHash,
    /// Where the content lives.
    pub item_type: ItemType,
    /// The sender.
    pub sender: String,
    /// The signature string.
    pub signature: Option<String>,
    /// Content size in bytes (code points for inline content, as the reference counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Envelope time in float seconds.
    pub time: f64,
    /// The message type.
    #[serde(rename = "type")]
    pub message_type: MessageType,
}

impl Message {
    /// Reads an API-form message with the leniency described on [`Message`]. The inline hash is
    /// checked when the content is present.
    pub fn from_value(value: &Value) -> Result<Self, EnvelopeError> {
        let obj = value.as_object().ok_or(EnvelopeError::NotAnObject)?;
        Self::from_map(obj, Strictness { allow_forgotten_inline: true, check_hash: true })
    }

    /// Reads the envelope's shape only, without checking that inline content hashes to
    /// `item_hash` (for tools that report the two separately).
    pub fn from_value_unchecked(value: &Value) -> Result<Self, EnvelopeError> {
        let obj = value.as_object().ok_or(EnvelopeError::NotAnObject)?;
        Self::from_map(obj, Strictness { allow_forgotten_inline: true, check_hash: false })
    }

    fn from_map(obj: &Map<String, Value>, rules: Strictness) -> Result<Self, EnvelopeError> {
        let parts = parse_parts(obj, rules)?;
        let time = obj.get("time").ok_or(EnvelopeError::Missing("time")).and_then(|v| {
            parse_time_value(v)
                .ok_or(EnvelopeError::WrongType { field: "time", expected: "a number or an ISO-8601 string" })
        })?;
        let confirmations: Vec<Confirmation> = match obj.get("confirmations") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| EnvelopeError::WrongType {
                field: "confirmations",
                expected: "a list of confirmations",
            })?,
        };
        Ok(Message {
            chain: parts.chain,
            channel: parts.channel,
            confirmed: obj.get("confirmed").and_then(Value::as_bool).unwrap_or(!confirmations.is_empty()),
            confirmations,
            content: obj.get("content").filter(|v| !v.is_null()).cloned(),
            item_content: parts.item_content,
            item_hash: parts.item_hash,
            item_type: parts.item_type,
            sender: parts.sender,
            signature: signature_text(obj.get("signature"))?,
            size: obj.get("size").and_then(Value::as_u64),
            time,
            message_type: parts.message_type,
        })
    }

    /// The signature check's view of this message.
    pub fn signed_fields(&self) -> SignedFields<'_> {
        SignedFields {
            chain: self.chain.as_str(),
            sender: &self.sender,
            message_type: self.message_type.as_str(),
            item_hash: self.item_hash.as_str(),
            signature: self.signature.as_deref().unwrap_or(""),
            time: self.time,
        }
    }

    /// Whether the inline content (when present) hashes to `item_hash`: `None` when it cannot be
    /// told here (non-inline content, or content removed by a FORGET).
    pub fn item_hash_matches(&self) -> Option<bool> {
        match (self.item_type, &self.item_content) {
            (ItemType::Inline, Some(c)) => Some(ItemHash::sha256(c.as_bytes()) == self.item_hash),
            _ => None,
        }
    }

    /// The pending (wire) form, for resubmission or gossip. Fails for forgotten inline messages,
    /// whose content is gone.
    pub fn to_pending(&self) -> Result<PendingMessage, EnvelopeError> {
        if self.item_type == ItemType::Inline && self.item_content.is_none() {
            return Err(EnvelopeError::Missing("item_content"));
        }
        Ok(PendingMessage {
            sender: self.sender.clone(),
            chain: self.chain,
            signature: self.signature.clone(),
            message_type: self.message_type,
            item_type: self.item_type,
            item_content: self.item_content.clone(),
            item_hash: self.item_hash.clone(),
            time: self.time,
            channel: self.channel.clone(),
        })
    }
}

/// A signature that is a string, null, or an object (some API answers give Solana signatures as
/// objects): objects are kept as their compact JSON text, which verifiers parse.
fn signature_text(v: Option<&Value>) -> Result<Option<String>, EnvelopeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(obj @ Value::Object(_)) => Ok(Some(obj.to_string())),
        Some(_) => Err(EnvelopeError::WrongType { field: "signature", expected: "a string" }),
    }
}

impl From<PendingMessage> for Message {
    fn from(p: PendingMessage) -> Self {
        let content = p.item_content.as_deref().and_then(|c| serde_json::from_str(c).ok());
        let size = p.item_content.as_deref().map(|c| c.chars().count() as u64);
        Message {
            chain: p.chain,
            channel: p.channel,
            confirmations: Vec::new(),
            confirmed: false,
            content,
            item_content: p.item_content,
            item_hash: p.item_hash,
            item_type: p.item_type,
            sender: p.sender,
            signature: p.signature,
            size,
            time: p.time,
            message_type: p.message_type,
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Message::from_value(&value).map_err(serde::de::Error::custom)
    }
}
