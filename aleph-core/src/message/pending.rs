//! The pending form: the envelope a client signs and submits, and what nodes gossip.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::verification::SignedFields;
use super::{ItemType, MessageType};
use crate::chain::Chain;
use crate::item_hash::ItemHash;

/// The reference node's cap on inline content, in Unicode code points.
pub const INLINE_CONTENT_MAX_CHARS: usize = 200_000;

/// A signed message in the form a client submits (`POST /api/v0/messages`) and nodes gossip.
///
/// Serializes to exactly the nine envelope keys the official SDKs send. `item_content` is kept as
/// the exact string that was hashed: it is never re-serialized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingMessage {
    /// The signer's address, in the chain's native format and case.
    pub sender: String,
    /// The chain whose signature rule applies.
    pub chain: Chain,
    /// The chain-specific signature string (JSON inside a string for several chains).
    pub signature: Option<String>,
    /// The message type.
    #[serde(rename = "type")]
    pub message_type: MessageType,
    /// Where the content lives.
    pub item_type: ItemType,
    /// The content document as a JSON string, for inline messages.
    pub item_content: Option<String>,
    /// sha256 of the content bytes, or the CID of IPFS content.
    pub item_hash: ItemHash,
    /// Envelope time in float seconds (not signed, except by Tezos Micheline signatures).
    pub time: f64,
    /// Application channel.
    pub channel: Option<String>,
}

/// Why an envelope does not parse under the reference node's intake rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The message is not a JSON object.
    #[error("message must be a JSON object")]
    NotAnObject,
    /// The message is not JSON at all.
    #[error("message is not valid JSON: {0}")]
    Json(String),
    /// A required field is absent or null.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// The chain label is not one of the network's.
    #[error(transparent)]
    Chain(#[from] crate::chain::UnknownChain),
    /// The message type is not one of the network's.
    #[error(transparent)]
    MessageType(#[from] super::UnknownMessageType),
    /// The item type is not `inline`, `storage` or `ipfs`.
    #[error(transparent)]
    ItemType(#[from] super::UnknownItemType),
    /// The item hash has no known shape.
    #[error(transparent)]
    ItemHash(#[from] crate::item_hash::ItemHashError),
    /// The item type contradicts the item hash's shape or the presence of `item_content`.
    #[error("item_type {item_type} does not match {reason}")]
    ItemTypeMismatch {
        /// The declared item type.
        item_type: ItemType,
        /// What it contradicts.
        reason: &'static str,
    },
    /// A non-inline message carries `item_content`.
    #[error("item_content must be absent for {0} messages")]
    UnexpectedContent(ItemType),
    /// Inline content is over the network's limit.
    #[error("item_content is {0} characters, over the limit of {INLINE_CONTENT_MAX_CHARS}")]
    ContentTooLarge(usize),
    /// sha256 of `item_content` is not `item_hash`.
    #[error("item_hash {expected} is not the sha256 of item_content ({actual})")]
    HashMismatch {
        /// The envelope's item hash.
        expected: String,
        /// sha256 of the content.
        actual: String,
    },
}

fn get_str<'a>(obj: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>, EnvelopeError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EnvelopeError::WrongType { field, expected: "a string" }),
    }
}

fn req_str<'a>(obj: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, EnvelopeError> {
    get_str(obj, field)?.ok_or(EnvelopeError::Missing(field))
}

/// Fields shared by the strict and the lenient readers, after the item-type rules.
pub(crate) struct EnvelopeParts {
    pub(crate) chain: Chain,
    pub(crate) sender: String,
    pub(crate) message_type: MessageType,
    pub(crate) item_hash: ItemHash,
    pub(crate) item_type: ItemType,
    pub(crate) item_content: Option<String>,
    pub(crate) channel: Option<String>,
}

/// How strictly [`parse_parts`] reads an envelope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strictness {
    /// Admit inline messages whose content was removed (API answers for forgotten messages);
    /// intake never does.
    pub(crate) allow_forgotten_inline: bool,
    /// Check that inline content hashes to `item_hash`.
    pub(crate) check_hash: bool,
}

impl Strictness {
    pub(crate) const INTAKE: Strictness = Strictness { allow_forgotten_inline: false, check_hash: true };
}

/// Reads the envelope fields both forms share.
pub(crate) fn parse_parts(
    obj: &Map<String, Value>,
    rules: Strictness,
) -> Result<EnvelopeParts, EnvelopeError> {
    let chain: Chain = req_str(obj, "chain")?.parse()?;
    let sender = req_str(obj, "sender")?.to_owned();
    let message_type: MessageType = req_str(obj, "type")?.parse()?;
    let item_hash_str = req_str(obj, "item_hash")?;
    let item_content = get_str(obj, "item_content")?;
    let declared_type: Option<ItemType> = get_str(obj, "item_type")?.map(str::parse).transpose()?;
    let item_hash: ItemHash = match item_hash_str.parse() {
        Ok(hash) => hash,
        // Inline hashes are only ever compared with the content's sha256: a malformed one is a
        // mismatch, not a shape error.
        Err(_)
            if declared_type == Some(ItemType::Inline)
                || (declared_type.is_none() && item_content.is_some()) =>
        {
            return Err(EnvelopeError::HashMismatch {
                expected: item_hash_str.to_owned(),
                actual: item_content.map(|c| ItemHash::sha256(c.as_bytes()).to_string()).unwrap_or_default(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let item_type = match declared_type {
        Some(t) => t,
        None if item_content.is_some() => ItemType::Inline,
        None => item_hash.item_type(),
    };
    match item_type {
        ItemType::Inline => match item_content {
            Some(content) => {
                let chars = content.chars().count();
                if chars > super::INLINE_CONTENT_MAX_CHARS {
                    return Err(EnvelopeError::ContentTooLarge(chars));
                }
                let actual = ItemHash::sha256(content.as_bytes());
                if rules.check_hash && actual != item_hash {
                    return Err(EnvelopeError::HashMismatch {
                        expected: item_hash_str.to_owned(),
                        actual: actual.to_string(),
                    });
                }
            }
            None if rules.allow_forgotten_inline => {}
            None => return Err(EnvelopeError::Missing("item_content")),
        },
        other => {
            if item_content.is_some() {
                return Err(EnvelopeError::UnexpectedContent(other));
            }
            if item_hash.item_type() != other {
                return Err(EnvelopeError::ItemTypeMismatch {
                    item_type: other,
                    reason: "the item_hash shape",
                });
            }
        }
    }
    Ok(EnvelopeParts {
        chain,
        sender,
        message_type,
        item_hash,
        item_type,
        item_content: item_content.map(str::to_owned),
        channel: get_str(obj, "channel")?.map(str::to_owned),
    })
}

impl PendingMessage {
    /// Parses a submitted envelope with the reference node's intake rules: known chain and type,
    /// a well-shaped item hash matching the item type, inline content present, within the size
    /// limit and hashing to `item_hash`, non-inline content absent, `time` a JSON number.
    ///
    /// The signature is not checked here (see [`crate::verify`]); a missing signature is allowed
    /// at this stage, as it is by the reference schema, and rejected when the message is queued.
    pub fn from_value(value: &Value) -> Result<Self, EnvelopeError> {
        let obj = value.as_object().ok_or(EnvelopeError::NotAnObject)?;
        let parts = parse_parts(obj, Strictness::INTAKE)?;
        let time = match obj.get("time") {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing("time")),
            Some(Value::Number(n)) => n.as_f64().filter(|t| t.is_finite()),
            Some(_) => None,
        }
        .ok_or(EnvelopeError::WrongType { field: "time", expected: "a number" })?;
        Ok(PendingMessage {
            sender: parts.sender,
            chain: parts.chain,
            signature: get_str(obj, "signature")?.map(str::to_owned),
            message_type: parts.message_type,
            item_type: parts.item_type,
            item_content: parts.item_content,
            item_hash: parts.item_hash,
            time,
            channel: parts.channel,
        })
    }

    /// Parses a JSON text with [`PendingMessage::from_value`]'s rules.
    pub fn from_json(text: &str) -> Result<Self, EnvelopeError> {
        let value: Value = serde_json::from_str(text).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        Self::from_value(&value)
    }

    /// The signature check's view of this message (an absent signature reads as empty).
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
}

impl<'de> Deserialize<'de> for PendingMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        PendingMessage::from_value(&value).map_err(serde::de::Error::custom)
    }
}
