//! [`ClientError`]: everything a call of this crate can fail with.

use aleph_core::message::EnvelopeError;
use aleph_core::validate::{ErrorCode, ErrorKind, ProcessingError};
use aleph_core::{ItemHash, MessageStatus, SignError, VerifyError};
use serde_json::Value;

use crate::accounts::AccountError;

/// A `Result` whose error defaults to [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node answered 404 for this resource.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked up (a path or an item hash).
        what: String,
    },
    /// The node answered with an unexpected HTTP status.
    #[error("HTTP {status} from {url}: {body}")]
    Http {
        /// The status code.
        status: u16,
        /// The URL requested.
        url: String,
        /// The body (first 1 000 characters), as the reference node answers errors in plain text.
        body: String,
    },
    /// A request timed out (after every retry and fallback URL).
    #[error("request to {url} timed out")]
    Timeout {
        /// The URL requested.
        url: String,
    },
    /// The connection failed, or another transport error (after every retry and fallback URL).
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The node's answer is not the JSON this call expects.
    #[error("malformed answer from {url}: {reason}")]
    Decode {
        /// The URL requested.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// A message in an answer (or given to this crate) has an invalid envelope.
    #[error("invalid message envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The node refused a submitted message at intake (HTTP 422 without a status record).
    #[error("the node refused the message: {0}")]
    InvalidMessage(String),
    /// The node could not broadcast a submitted message (HTTP 500 on submission).
    #[error("broadcast failed: {0}")]
    Broadcast(String),
    /// The message was rejected by the node's processing.
    #[error("message {item_hash} was rejected{}", rejection_suffix(*.error_code, .details))]
    Rejected {
        /// The rejected message.
        item_hash: ItemHash,
        /// The processing error code (`error_code`), when the node reported one the network
        /// defines.
        error_code: Option<ErrorCode>,
        /// The `details` the node stored with the rejection.
        details: Value,
    },
    /// The account cannot pay for the message (rejection code 5 or 6, or HTTP 402 on upload).
    #[error("insufficient funds: {required} required, {available} available")]
    InsufficientFunds {
        /// What the message costs (tokens or credits).
        required: f64,
        /// What the account has.
        available: f64,
    },
    /// The message was forgotten.
    #[error("message {item_hash} was forgotten by {}", join(.forgotten_by))]
    Forgotten {
        /// The forgotten message.
        item_hash: ItemHash,
        /// The FORGET messages that removed it.
        forgotten_by: Vec<ItemHash>,
    },
    /// The message's resources were removed (the owner's balance ran out).
    #[error("message {item_hash} was removed ({reason})")]
    Removed {
        /// The removed message.
        item_hash: ItemHash,
        /// Why (`balance_insufficient`, `credit_insufficient`).
        reason: String,
    },
    /// The message did not reach `processed` within the wait.
    #[error("message {item_hash} is still {status} after waiting")]
    WaitTimeout {
        /// The message waited for.
        item_hash: ItemHash,
        /// Its last status.
        status: MessageStatus,
    },
    /// Trustless mode: a fetched message's signature does not verify.
    #[error("message {item_hash} does not verify: {source}")]
    Unverified {
        /// The message.
        item_hash: ItemHash,
        /// Why.
        #[source]
        source: VerifyError,
    },
    /// Trustless mode: the node sent a message whose content cannot be checked (an inline
    /// message without its `item_content`, or an `item_content` that is not JSON).
    #[error("message {item_hash} cannot be verified: {reason}")]
    Unverifiable {
        /// The message.
        item_hash: ItemHash,
        /// Why.
        reason: String,
    },
    /// Downloaded or fetched bytes do not hash to what was asked for.
    #[error("content does not match {expected}: got {actual}")]
    IntegrityMismatch {
        /// The hash asked for.
        expected: ItemHash,
        /// What the bytes hash to (a sha256 digest or a CID of the expected kind).
        actual: String,
    },
    /// Content composed for a message is invalid.
    #[error("invalid content: {0}")]
    Content(#[from] aleph_core::content::ContentError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Loading an account failed.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A WebSocket failure that reconnecting cannot fix.
    #[error("websocket: {0}")]
    WebSocket(String),
    /// A local file operation failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON (de)serialization of caller data failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// A string is not an item hash.
    #[error(transparent)]
    InvalidItemHash(#[from] aleph_core::item_hash::ItemHashError),
    /// An argument cannot be used (bad URL, content too large for inline, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

fn rejection_suffix(code: Option<ErrorCode>, details: &Value) -> String {
    let mut out = String::new();
    if let Some(code) = code {
        out.push_str(&format!(" with code {} ({})", code.code(), code.name()));
    }
    if !details.is_null() {
        out.push_str(&format!(": {details}"));
    }
    out
}

/// The reference node's name for a processing error code (`INVALID_SIGNATURE` for 1, …).
pub fn error_code_name(code: i32) -> Option<&'static str> {
    ErrorCode::from_i32(code).map(ErrorCode::name)
}

impl ClientError {
    /// Whether the resource does not exist on the node (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClientError::NotFound { .. })
    }

    /// Whether the call timed out (a request, or a wait for processing).
    pub fn is_timeout(&self) -> bool {
        match self {
            ClientError::Timeout { .. } | ClientError::WaitTimeout { .. } => true,
            ClientError::Transport(e) => e.is_timeout(),
            _ => false,
        }
    }

    /// Whether the node rejected the message (at intake or during processing).
    pub fn is_rejected(&self) -> bool {
        matches!(
            self,
            ClientError::Rejected { .. }
                | ClientError::InvalidMessage(_)
                | ClientError::InsufficientFunds { .. }
        )
    }

    /// Whether the message was forgotten.
    pub fn is_forgotten(&self) -> bool {
        matches!(self, ClientError::Forgotten { .. })
    }

    /// Whether the account lacks the funds for the message.
    pub fn is_insufficient_funds(&self) -> bool {
        matches!(self, ClientError::InsufficientFunds { .. })
            || matches!(
                self,
                ClientError::Rejected {
                    error_code: Some(ErrorCode::BalanceInsufficient | ErrorCode::CreditInsufficient),
                    ..
                }
            )
            || matches!(self, ClientError::Http { status: 402, .. })
    }

    /// The processing error code of a rejection ([`ErrorCode::InvalidSignature`], …).
    pub fn rejection_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Rejected { error_code, .. } => *error_code,
            _ => None,
        }
    }

    /// The rejection decoded into the protocol's typed processing error (with its payload, e.g.
    /// the amounts of a balance rejection).
    pub fn processing_error(&self) -> Option<ProcessingError> {
        match self {
            ClientError::Rejected { error_code: Some(code), details, .. } => {
                Some(ProcessingError::from_code(code.code(), details))
            }
            _ => None,
        }
    }

    /// The HTTP status the node answered with, where the failure is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            ClientError::NotFound { .. } => Some(404),
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (transport failures, timeouts, 5xx, and
    /// rejection codes the network itself retries).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Timeout { .. } | ClientError::Transport(_) | ClientError::WaitTimeout { .. } => true,
            ClientError::Http { status, .. } => *status >= 500,
            ClientError::Rejected { error_code: Some(c), .. } => c.kind() == ErrorKind::Retry,
            _ => false,
        }
    }

    /// Builds the error for a rejected message from the `error_code` number and `details` the
    /// node returned, decoding insufficient-funds details into
    /// [`ClientError::InsufficientFunds`]. A number the network does not define leaves the
    /// code out (the details are kept).
    pub fn from_rejection(item_hash: ItemHash, error_code: Option<i32>, details: Value) -> Self {
        let error_code = error_code.and_then(ErrorCode::from_i32);
        if matches!(error_code, Some(ErrorCode::BalanceInsufficient | ErrorCode::CreditInsufficient)) {
            if let Some((required, available)) = funds_of(&details) {
                return ClientError::InsufficientFunds { required, available };
            }
        }
        ClientError::Rejected { item_hash, error_code, details }
    }
}

/// Item hashes, comma-separated (error texts).
fn join(hashes: &[ItemHash]) -> String {
    hashes.iter().map(ItemHash::to_string).collect::<Vec<_>>().join(", ")
}

/// Reads `details.errors[0]` of a balance (5) or credit (6) rejection: required and available
/// amounts, given as strings or numbers.
fn funds_of(details: &Value) -> Option<(f64, f64)> {
    let first = details.get("errors")?.get(0)?;
    let num = |keys: &[&str]| {
        keys.iter().find_map(|k| match first.get(*k)? {
            Value::String(s) => s.parse::<f64>().ok(),
            Value::Number(n) => n.as_f64(),
            _ => None,
        })
    };
    Some((num(&["required_balance", "required_credits"])?, num(&["account_balance", "account_credits"])?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hash() -> ItemHash {
        ItemHash::sha256(b"x")
    }

    #[test]
    fn balance_rejections_decode_to_insufficient_funds() {
        let details = json!({"errors": [{"required_balance": "12.5", "account_balance": "3"}]});
        let e = ClientError::from_rejection(hash(), Some(5), details);
        assert!(
            matches!(e, ClientError::InsufficientFunds { required, available } if required == 12.5 && available == 3.0)
        );
        assert!(e.is_insufficient_funds() && e.is_rejected());
        let details =
            json!({"errors": [{"required_credits": 100, "account_credits": 1, "min_runtime_days": 1}]});
        assert!(ClientError::from_rejection(hash(), Some(6), details).is_insufficient_funds());
    }

    #[test]
    fn other_rejections_keep_code_and_details() {
        let e = ClientError::from_rejection(hash(), Some(1), Value::Null);
        assert_eq!(e.rejection_code(), Some(ErrorCode::InvalidSignature));
        assert!(e.to_string().contains("with code 1 (INVALID_SIGNATURE)"), "{e}");
        assert!(!e.is_transient());
        assert!(ClientError::from_rejection(hash(), Some(501), Value::Null).is_transient());
        // A balance rejection without readable details stays a rejection with its code.
        let e = ClientError::from_rejection(hash(), Some(5), json!({"errors": ["nope"]}));
        assert_eq!(e.rejection_code(), Some(ErrorCode::BalanceInsufficient));
        assert!(e.is_insufficient_funds());
        // A number the network does not define keeps the rejection, without a code.
        let e = ClientError::from_rejection(hash(), Some(7), json!({"errors": ["x"]}));
        assert!(matches!(e, ClientError::Rejected { error_code: None, .. }), "{e}");
        assert!(e.is_rejected() && !e.is_transient());
    }

    #[test]
    fn helpers() {
        assert!(ClientError::NotFound { what: "x".into() }.is_not_found());
        assert_eq!(ClientError::NotFound { what: "x".into() }.status(), Some(404));
        let e = ClientError::Http { status: 503, url: "u".into(), body: String::new() };
        assert!(e.is_transient() && !e.is_not_found());
        assert!(ClientError::Timeout { url: "u".into() }.is_timeout());
        assert_eq!(error_code_name(504), Some("FORGOTTEN_DUPLICATE"));
        assert_eq!(error_code_name(7), None);
        let e = ClientError::from_rejection(hash(), Some(504), Value::Null);
        assert!(matches!(e.processing_error(), Some(ProcessingError::ForgottenDuplicate)));
    }
}
