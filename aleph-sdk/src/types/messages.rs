//! Message answers: pages of messages, one message with its status, submission outcomes.

use aleph_core::api::MessageWithStatusBody;
use aleph_core::message::{parse_time_value, Message};
use aleph_core::{ItemHash, MessageStatus, PendingMessage};
use serde_json::{Map, Value};

use crate::error::{ClientError, Result};

/// One page of `messages.json` (page mode).
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesPage {
    /// The messages of this page, in the node's order.
    pub messages: Vec<Message>,
    /// The page number (from 1).
    pub page: u64,
    /// Messages per page.
    pub per_page: u64,
    /// Total matching messages, as the node estimates it.
    pub total: u64,
}

/// One page in cursor mode: items plus the cursor of the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// Items per page.
    pub per_page: u64,
    /// Where the next page starts; `None` when this is the last one.
    pub next_cursor: Option<String>,
}

/// Reads the `messages` list of an answer into messages; a message whose envelope is invalid
/// fails the whole page with the index and the reason.
pub(crate) fn parse_message_list(items: &[Value], url: &str) -> Result<Vec<Message>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let m = Message::from_value(item).map_err(|e| ClientError::Decode {
            url: url.to_owned(),
            reason: format!("messages[{i}]: {e}"),
        })?;
        out.push(m);
    }
    Ok(out)
}

/// Decodes an answer into its wire type, a mismatch reported with the URL.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(v: Value, url: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| ClientError::Decode { url: url.to_owned(), reason: e.to_string() })
}

/// `GET /api/v0/messages/{hash}/status`.
pub use aleph_core::api::MessageStatusInfo;

/// One message with its status on the node (`GET /api/v0/messages/{hash}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MessageWithStatus {
    /// Accepted and applied.
    Processed {
        /// The message.
        message: Box<Message>,
        /// When the node received it (ISO-8601).
        reception_time: Option<String>,
    },
    /// Accepted, but its owner no longer pays for it: it will be removed.
    Removing {
        /// The message.
        message: Box<Message>,
        /// Why (`balance_insufficient`, `credit_insufficient`).
        reason: Option<String>,
        /// When the node received it.
        reception_time: Option<String>,
    },
    /// Received but not processed yet: the envelopes the node holds for this hash.
    Pending {
        /// The message.
        item_hash: ItemHash,
        /// The pending envelopes (usually one).
        messages: Vec<Message>,
        /// When the node received it.
        reception_time: Option<String>,
    },
    /// Refused by processing.
    Rejected {
        /// The message.
        item_hash: ItemHash,
        /// The message as it was submitted (raw JSON: it may not even parse).
        message: Value,
        /// The processing error code as the node sent it ([`crate::error_code_name`]). It stays a
        /// number here so that a code this SDK does not know survives;
        /// [`ClientError::Rejected`] carries it typed.
        error_code: Option<i32>,
        /// The rejection details.
        details: Value,
        /// When the node received it.
        reception_time: Option<String>,
    },
    /// Removed by one or more FORGET messages; only envelope metadata is left.
    Forgotten {
        /// The message.
        item_hash: ItemHash,
        /// The FORGET messages.
        forgotten_by: Vec<ItemHash>,
        /// What the node keeps of the message (sender, chain, type, times…).
        message: Value,
        /// When the node received it.
        reception_time: Option<String>,
    },
    /// Its resources were deleted after `removing`.
    Removed {
        /// The message.
        item_hash: ItemHash,
        /// Why.
        reason: Option<String>,
        /// What the node keeps of the message.
        message: Value,
        /// When the node received it.
        reception_time: Option<String>,
    },
}

impl MessageWithStatus {
    /// Reads the status envelope of the single-message endpoint, in every form the reference
    /// node gives ([`aleph_core::api::MessageWithStatusBody`]).
    pub fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let body: MessageWithStatusBody = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        let reception_time = body.reception_time.clone();
        let item_hash = || -> std::result::Result<ItemHash, String> {
            body.item_hash
                .as_deref()
                .or_else(|| body.message.as_ref().and_then(|m| m.get("item_hash")).and_then(Value::as_str))
                .ok_or_else(|| "no `item_hash`".to_owned())?
                .parse()
                .map_err(|e| format!("{e}"))
        };
        let message = || -> std::result::Result<Box<Message>, String> {
            let m = body.message.as_ref().ok_or("no `message`")?;
            Message::from_value(m).map(Box::new).map_err(|e| format!("message: {e}"))
        };
        let raw_message = || body.message.clone().unwrap_or(Value::Null);
        let reason = || body.reason.clone();
        Ok(match body.status {
            MessageStatus::Processed => MessageWithStatus::Processed { message: message()?, reception_time },
            MessageStatus::Removing => {
                MessageWithStatus::Removing { message: message()?, reason: reason(), reception_time }
            }
            MessageStatus::Pending => {
                let mut messages = Vec::new();
                for (i, m) in body.messages.iter().flatten().enumerate() {
                    messages.push(Message::from_value(m).map_err(|e| format!("messages[{i}]: {e}"))?);
                }
                if messages.is_empty() {
                    // Some nodes give the singular form.
                    if let Some(m) = &body.message {
                        messages.push(Message::from_value(m).map_err(|e| format!("message: {e}"))?);
                    }
                }
                MessageWithStatus::Pending { item_hash: item_hash()?, messages, reception_time }
            }
            MessageStatus::Rejected => MessageWithStatus::Rejected {
                item_hash: item_hash()?,
                message: raw_message(),
                error_code: body.error_code.and_then(|c| i32::try_from(c).ok()),
                details: body.details.clone().unwrap_or(Value::Null),
                reception_time,
            },
            MessageStatus::Forgotten => MessageWithStatus::Forgotten {
                item_hash: item_hash()?,
                forgotten_by: forgotten_by(body.forgotten_by.as_ref())?,
                message: raw_message(),
                reception_time,
            },
            MessageStatus::Removed => MessageWithStatus::Removed {
                item_hash: item_hash()?,
                reason: reason(),
                message: raw_message(),
                reception_time,
            },
        })
    }

    /// The status.
    pub fn status(&self) -> MessageStatus {
        match self {
            MessageWithStatus::Processed { .. } => MessageStatus::Processed,
            MessageWithStatus::Removing { .. } => MessageStatus::Removing,
            MessageWithStatus::Pending { .. } => MessageStatus::Pending,
            MessageWithStatus::Rejected { .. } => MessageStatus::Rejected,
            MessageWithStatus::Forgotten { .. } => MessageStatus::Forgotten,
            MessageWithStatus::Removed { .. } => MessageStatus::Removed,
        }
    }

    /// The message's item hash.
    pub fn item_hash(&self) -> &ItemHash {
        match self {
            MessageWithStatus::Processed { message, .. } | MessageWithStatus::Removing { message, .. } => {
                &message.item_hash
            }
            MessageWithStatus::Pending { item_hash, .. }
            | MessageWithStatus::Rejected { item_hash, .. }
            | MessageWithStatus::Forgotten { item_hash, .. }
            | MessageWithStatus::Removed { item_hash, .. } => item_hash,
        }
    }

    /// The full message, when the node still has it (processed, removing, pending).
    pub fn message(&self) -> Option<&Message> {
        match self {
            MessageWithStatus::Processed { message, .. } | MessageWithStatus::Removing { message, .. } => {
                Some(message)
            }
            MessageWithStatus::Pending { messages, .. } => messages.first(),
            _ => None,
        }
    }

    /// When the node received the message, in seconds.
    pub fn reception_time(&self) -> Option<f64> {
        let t = match self {
            MessageWithStatus::Processed { reception_time, .. }
            | MessageWithStatus::Removing { reception_time, .. }
            | MessageWithStatus::Pending { reception_time, .. }
            | MessageWithStatus::Rejected { reception_time, .. }
            | MessageWithStatus::Forgotten { reception_time, .. }
            | MessageWithStatus::Removed { reception_time, .. } => reception_time,
        };
        t.as_ref().and_then(|s| parse_time_value(&Value::String(s.clone())))
    }

    /// The message, or the error its status means: [`ClientError::Rejected`] (or
    /// [`ClientError::InsufficientFunds`]), [`ClientError::Forgotten`], [`ClientError::Removed`].
    /// A pending message is returned as received.
    pub fn into_message(self) -> Result<Message> {
        match self {
            MessageWithStatus::Processed { message, .. } | MessageWithStatus::Removing { message, .. } => {
                Ok(*message)
            }
            MessageWithStatus::Pending { item_hash, mut messages, .. } => {
                if messages.is_empty() {
                    Err(ClientError::NotFound { what: item_hash.to_string() })
                } else {
                    Ok(messages.swap_remove(0))
                }
            }
            MessageWithStatus::Rejected { item_hash, error_code, details, .. } => {
                Err(ClientError::from_rejection(item_hash, error_code, details))
            }
            MessageWithStatus::Forgotten { item_hash, forgotten_by, .. } => {
                Err(ClientError::Forgotten { item_hash, forgotten_by })
            }
            MessageWithStatus::Removed { item_hash, reason, .. } => {
                Err(ClientError::Removed { item_hash, reason: reason.unwrap_or_default() })
            }
        }
    }
}

/// The `forgotten_by` list of a forgotten message: item hashes (a missing or `null` list is empty;
/// anything else that is not a list of item hashes is an error, not silently dropped).
fn forgotten_by(v: Option<&Value>) -> std::result::Result<Vec<ItemHash>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, h)| {
                h.as_str()
                    .ok_or_else(|| format!("forgotten_by[{i}]: not a string"))?
                    .parse()
                    .map_err(|e| format!("forgotten_by[{i}]: {e}"))
            })
            .collect(),
        Some(_) => Err("forgotten_by: not a list".to_owned()),
    }
}

/// How a node reported the publication of a submitted message.
pub use aleph_core::api::PublicationStatus;

/// The outcome of a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The message, as submitted.
    pub message: PendingMessage,
    /// Its status after submission (`pending`, `processed`).
    pub status: MessageStatus,
    /// The node's publication report, when it sent one.
    pub publication: Option<PublicationStatus>,
}

impl Submitted {
    /// The submitted message's item hash.
    pub fn item_hash(&self) -> &ItemHash {
        &self.message.item_hash
    }
}

/// Free JSON object (extra keys the node returned).
pub type JsonObject = Map<String, Value>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: &str = "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c";

    fn envelope() -> Value {
        let content =
            r#"{"address":"0xB68B9D4f3771c246233823ed1D3Add451055F9Ef","time":1.5,"type":"t","content":{}}"#;
        json!({
            "sender": "0xB68B9D4f3771c246233823ed1D3Add451055F9Ef", "chain": "ETH", "type": "POST",
            "item_type": "inline", "item_content": content,
            "item_hash": ItemHash::sha256(content.as_bytes()).to_string(),
            "signature": "0x00", "time": 1.5, "channel": "TEST"
        })
    }

    #[test]
    fn every_status_form_parses() {
        let processed = json!({"status": "processed", "item_hash": H, "reception_time": "2026-05-11T10:08:17.772651Z", "message": envelope()});
        let s = MessageWithStatus::from_value(&processed).unwrap();
        assert_eq!(s.status(), MessageStatus::Processed);
        assert!(s.message().is_some());
        assert!(s.reception_time().unwrap() > 1.7e9);

        let mut pending_item = envelope();
        pending_item["time"] = json!("2024-11-20T16:02:43.214390+00:00");
        pending_item["reception_time"] = json!("2024-11-20T16:02:43.214390+00:00");
        let pending =
            json!({"status": "pending", "item_hash": H, "reception_time": "x", "messages": [pending_item]});
        let s = MessageWithStatus::from_value(&pending).unwrap();
        assert_eq!(s.status(), MessageStatus::Pending);
        assert_eq!(s.message().unwrap().time, 1732118563.21439);

        let rejected = json!({"status": "rejected", "item_hash": H, "message": {"garbage": true}, "error_code": 5,
            "details": {"errors": [{"required_balance": "10", "account_balance": "1"}]}});
        let s = MessageWithStatus::from_value(&rejected).unwrap();
        assert!(matches!(s.clone().into_message(), Err(ClientError::InsufficientFunds { .. })));
        assert!(matches!(s, MessageWithStatus::Rejected { error_code: Some(5), .. }));

        let forgotten = json!({"status": "forgotten", "item_hash": H, "forgotten_by": [H],
            "message": {"sender": "a", "chain": "ETH", "type": "POST", "item_hash": H, "time": 1.0, "forgotten_at": "x"}});
        let s = MessageWithStatus::from_value(&forgotten).unwrap();
        match s.into_message() {
            Err(ClientError::Forgotten { forgotten_by, .. }) => {
                assert_eq!(forgotten_by, vec![H.parse::<ItemHash>().unwrap()])
            }
            other => panic!("{other:?}"),
        }
        let mut no_list = forgotten.clone();
        no_list["forgotten_by"] = Value::Null;
        assert!(matches!(
            MessageWithStatus::from_value(&no_list).unwrap(),
            MessageWithStatus::Forgotten { forgotten_by, .. } if forgotten_by.is_empty()
        ));
        let mut not_hashes = forgotten.clone();
        not_hashes["forgotten_by"] = json!([H, "not a hash"]);
        let err = MessageWithStatus::from_value(&not_hashes).unwrap_err();
        assert!(err.starts_with("forgotten_by[1]"), "{err}");

        let removed =
            json!({"status": "removed", "item_hash": H, "reason": "balance_insufficient", "message": {}});
        assert!(matches!(
            MessageWithStatus::from_value(&removed).unwrap().into_message(),
            Err(ClientError::Removed { .. })
        ));
        let removing = json!({"status": "removing", "item_hash": H, "reason": "credit_insufficient", "message": envelope()});
        assert_eq!(MessageWithStatus::from_value(&removing).unwrap().status(), MessageStatus::Removing);

        assert!(MessageWithStatus::from_value(&json!({"status": "weird"})).is_err());
        assert!(MessageWithStatus::from_value(&json!({"status": "processed"})).is_err());
    }
}
