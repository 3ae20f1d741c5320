//! Pure validation of messages as the reference node performs it: the processing error codes
//! (§6.5), content decoding (§3.6) and the intake checks of a pending message (§6.2).
//!
//! Nothing here fetches, stores or looks anything up: the node passes in what it has (the raw
//! content bytes it fetched, the envelope) and gets typed content or the [`ProcessingError`] the
//! reference would record.
//!
//! # Deviations from the reference node
//!
//! * Content that parses as JSON but is not an object (a list, a string…) is rejected with
//!   [`ProcessingError::InvalidFormat`]. For stored (non-inline) content the reference fails on it
//!   with an internal error, retried until the retry budget is spent and then rejected (code -1).
//! * Rejections for schema errors carry one human-readable reason (`{"errors": ["time: field
//!   required"]}`) where the reference stores pydantic's list of error objects.
//! * See also the deviations of [`crate::content`] (schema-level) and [`crate::permissions`].

use serde_json::Value;

mod codes;

pub use codes::{ErrorCode, ErrorKind, ErrorList, ProcessingError};

use crate::content::{Content, ContentError};
use crate::message::{EnvelopeError, ItemType, MessageType, PendingMessage};

/// The six characters `\u0000` (an escaped NUL), refused anywhere in raw content because the
/// reference's database cannot store NUL.
pub const ESCAPED_NUL: &str = "\\u0000";

/// A content document decoded and validated as the reference does it (§3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedContent {
    /// The typed, validated content.
    pub content: Content,
    /// The raw parsed JSON, with `address`/`time` filled in from the envelope where stored
    /// content lacked them: what the node stores and serves as `content` (§3.6 step 6).
    pub value: Value,
    /// The content size the reference records: Unicode code points of inline content, bytes of
    /// stored content.
    pub size: u64,
}

impl From<EnvelopeError> for ProcessingError {
    fn from(e: EnvelopeError) -> Self {
        ProcessingError::invalid_format(e.to_string())
    }
}

impl From<ContentError> for ProcessingError {
    fn from(e: ContentError) -> Self {
        ProcessingError::invalid_format(e.to_string())
    }
}

/// Parses raw content text as the reference's JSON parser (orjson) does: strict RFC 8259 (no
/// NaN/Infinity, comments or trailing commas), and integers outside the 64-bit range refused.
/// Duplicate keys keep the last value. The `\u0000` check is separate ([`check_escaped_nul`]).
pub fn parse_content_json(text: &str) -> Result<Value, ProcessingError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ProcessingError::invalid_format(format!("Can't decode JSON: {e}")))?;
    check_integer_range(text)?;
    Ok(value)
}

/// Refuses text holding the six characters `\u0000` anywhere, even inside an escaped string.
pub fn check_escaped_nul(text: &str) -> Result<(), ProcessingError> {
    if text.contains(ESCAPED_NUL) {
        return Err(ProcessingError::invalid_format("Unsupported character in message: \\u0000"));
    }
    Ok(())
}

/// Refuses integer literals (numbers without fraction or exponent) outside `i64::MIN..=u64::MAX`,
/// which serde_json would silently read as floats. Only called on text that parsed as JSON.
fn check_integer_range(text: &str) -> Result<(), ProcessingError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let token = &text[start..i];
                if !token.contains(['.', 'e', 'E'])
                    && token.parse::<i64>().is_err()
                    && token.parse::<u64>().is_err()
                {
                    return Err(ProcessingError::invalid_format(format!(
                        "Can't decode JSON: integer {token} exceeds 64 bits"
                    )));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Decodes and validates inline content (§3.6 with §2.2 step 4): the `\u0000` check, strict JSON,
/// then the schema of `message_type`, with `address` and `time` required.
pub fn decode_inline_content(
    message_type: MessageType,
    item_content: &str,
) -> Result<DecodedContent, ProcessingError> {
    check_escaped_nul(item_content)?;
    let value = parse_content_json(item_content)?;
    let content = Content::parse(message_type, &value)?;
    Ok(DecodedContent { content, value, size: item_content.chars().count() as u64 })
}

/// Decodes and validates stored (`storage`/`ipfs`) content fetched as `raw` bytes (§3.6): valid
/// UTF-8, the `\u0000` check, strict JSON, an object, then `address` and `time` filled from the
/// envelope when absent or null (`sender`; the envelope `time` rounded to the microsecond as the
/// reference stores it), then the schema of `message_type`.
pub fn decode_stored_content(
    message_type: MessageType,
    raw: &[u8],
    sender: &str,
    envelope_time: f64,
) -> Result<DecodedContent, ProcessingError> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| ProcessingError::invalid_format(format!("Can't decode JSON: invalid UTF-8: {e}")))?;
    check_escaped_nul(text)?;
    let mut value = parse_content_json(text)?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| ProcessingError::invalid_format("message content must be a JSON object"))?;
    if obj.get("address").is_none_or(Value::is_null) {
        obj.insert("address".into(), Value::String(sender.to_owned()));
    }
    if obj.get("time").is_none_or(Value::is_null) {
        let t = microsecond_time(envelope_time)
            .ok_or_else(|| ProcessingError::invalid_format("the envelope time is not a valid timestamp"))?;
        obj.insert("time".into(), Value::from(t));
    }
    let content = Content::parse(message_type, &value)?;
    Ok(DecodedContent { content, value, size: raw.len() as u64 })
}

/// Float seconds as the reference stores them: rounded half-even to the microsecond (CPython's
/// `datetime.fromtimestamp`), then back to float seconds (`datetime.timestamp()`).
fn microsecond_time(t: f64) -> Option<f64> {
    if !t.is_finite() || t.abs() > 1e15 {
        return None;
    }
    let int = t.trunc();
    let us = ((t - int) * 1e6).round_ties_even();
    let total = (int as i64).checked_mul(1_000_000)?.checked_add(us as i64)?;
    Some(total as f64 / 1e6)
}

/// Decodes the content of `message`: its `item_content` when inline, else the `fetched` bytes
/// (whose hash the caller has checked). Non-inline content not fetched yet is
/// [`ProcessingError::ContentUnavailable`] (retried).
pub fn decode_message_content(
    message: &PendingMessage,
    fetched: Option<&[u8]>,
) -> Result<DecodedContent, ProcessingError> {
    match (message.item_type, &message.item_content, fetched) {
        (ItemType::Inline, Some(text), _) => decode_inline_content(message.message_type, text),
        (ItemType::Inline, None, _) => {
            Err(ProcessingError::invalid_format("inline message without item_content"))
        }
        (_, _, Some(raw)) => decode_stored_content(message.message_type, raw, &message.sender, message.time),
        (_, _, None) => Err(ProcessingError::content_unavailable(message.item_hash.as_str())),
    }
}

/// The intake checks of a signed pending message (§6.2 steps 1–3), in the reference's order:
/// inline content parsed and validated against its schema (0), the signature present (1), then
/// the `\u0000` check of inline content (0). Returns the decoded inline content, or `None` for
/// content stored elsewhere (decoded after fetching, with [`decode_message_content`]).
///
/// The signature itself is not verified here (that happens at processing, §6.3).
pub fn validate_pending(message: &PendingMessage) -> Result<Option<DecodedContent>, ProcessingError> {
    let inline = inline_schema_check(message)?;
    if message.signature.as_deref().is_none_or(str::is_empty) {
        return Err(ProcessingError::invalid_signature("Missing signature"));
    }
    inline.map(|(text, decoded)| check_escaped_nul(text).map(|()| decoded)).transpose()
}

/// [`validate_pending`] for messages whose authenticity comes from a chain transaction
/// (smart-contract events, §4.10): the signature may be absent.
pub fn validate_pending_unsigned(
    message: &PendingMessage,
) -> Result<Option<DecodedContent>, ProcessingError> {
    let inline = inline_schema_check(message)?;
    inline.map(|(text, decoded)| check_escaped_nul(text).map(|()| decoded)).transpose()
}

/// Parses a submitted envelope (§2.2) and runs [`validate_pending`] on it: every intake failure
/// comes back as the [`ProcessingError`] the reference records.
pub fn validate_pending_value(
    value: &Value,
) -> Result<(PendingMessage, Option<DecodedContent>), ProcessingError> {
    let message = PendingMessage::from_value(value)?;
    let content = validate_pending(&message)?;
    Ok((message, content))
}

/// The schema step of intake: inline content must parse and validate (the `\u0000` check comes
/// later). Returns the inline text and its decoding; `None` for stored content.
fn inline_schema_check(message: &PendingMessage) -> Result<Option<(&str, DecodedContent)>, ProcessingError> {
    if message.item_type != ItemType::Inline {
        return Ok(None);
    }
    let text = message
        .item_content
        .as_deref()
        .ok_or_else(|| ProcessingError::invalid_format("inline message without item_content"))?;
    let value = parse_content_json(text)?;
    let content = Content::parse(message.message_type, &value)?;
    Ok(Some((text, DecodedContent { content, value, size: text.chars().count() as u64 })))
}

#[cfg(test)]
mod tests;
