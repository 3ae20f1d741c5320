//! Checking a message that arrived from the network before anything else touches it.

use aleph_core::message::PendingMessage;
use serde_json::Value;

/// Why a payload from the network was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum GossipRejection {
    /// Not UTF-8 (after percent-decoding).
    #[error("payload is not UTF-8")]
    NotUtf8,
    /// Not JSON.
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    /// Not a valid envelope (fields, item type, inline content hash).
    #[error("invalid envelope: {0}")]
    Envelope(String),
    /// Fails the intake rules (content schema, missing signature).
    #[error("fails intake: {0}")]
    Intake(String),
    /// The signature does not verify.
    #[error("invalid signature: {0}")]
    Signature(String),
}

/// Percent-decodes a payload as Python's `urllib.parse.unquote` does on bytes (invalid escapes
/// are kept as they are).
pub(crate) fn percent_decode(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !data.contains(&b'%') {
        return std::borrow::Cow::Borrowed(data);
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

/// Checks a gossip payload as the node requires before processing or forwarding it: JSON
/// (percent-decoded first when it is not JSON as it is — the legacy IPFS-pubsub encoding the
/// reference undoes with `unquote`), a valid envelope whose inline content hashes to its item
/// hash, the intake rules, and a valid signature. Returns the parsed envelope JSON.
///
/// A payload that is JSON as received is not percent-decoded: decoding it would corrupt inline
/// content holding `%XX` text (its hash would no longer match) and punish an honest sender.
pub(crate) fn validate_gossip(data: &[u8]) -> Result<(Value, PendingMessage), GossipRejection> {
    let value: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(raw_error) => {
            let decoded = percent_decode(data);
            if matches!(decoded, std::borrow::Cow::Borrowed(_)) && std::str::from_utf8(data).is_err() {
                return Err(GossipRejection::NotUtf8);
            }
            let text = std::str::from_utf8(&decoded).map_err(|_| GossipRejection::NotUtf8)?;
            serde_json::from_str(text).map_err(|_| GossipRejection::NotJson(raw_error.to_string()))?
        }
    };
    let message = validate_value(&value)?;
    Ok((value, message))
}

/// [`validate_gossip`] on an already parsed envelope.
pub(crate) fn validate_value(value: &Value) -> Result<PendingMessage, GossipRejection> {
    let message = PendingMessage::from_value(value).map_err(|e| GossipRejection::Envelope(e.to_string()))?;
    aleph_core::validate::validate_pending(&message).map_err(|e| GossipRejection::Intake(e.to_string()))?;
    aleph_core::verify_signature(&message.signed_fields())
        .map_err(|e| GossipRejection::Signature(e.to_string()))?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_like_unquote() {
        assert_eq!(&*percent_decode(b"a%20b"), b"a b");
        assert_eq!(&*percent_decode(b"%7B%22a%22%3A1%7D"), br#"{"a":1}"#);
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(&*percent_decode(b"%41"), b"A");
    }

    #[test]
    fn percent_encoded_envelopes_are_decoded_and_json_is_taken_as_is() {
        // Percent-encoded: decoded, then judged (here: not an envelope).
        assert!(matches!(validate_gossip(b"%7B%7D").unwrap_err(), GossipRejection::Envelope(_)));
        // JSON as received keeps its `%XX` text.
        assert!(matches!(validate_gossip(br#"{"x":"%41"}"#).unwrap_err(), GossipRejection::Envelope(_)));
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(validate_gossip(&[0xff, 0xfe]).unwrap_err(), GossipRejection::NotUtf8);
        assert!(matches!(validate_gossip(b"nope").unwrap_err(), GossipRejection::NotJson(_)));
        assert!(matches!(validate_gossip(b"{}").unwrap_err(), GossipRejection::Envelope(_)));
    }
}
