//! Content decoding and intake tests.

use serde_json::{json, Value};

use super::*;
use crate::item_hash::ItemHash;

const POST: &str = r#"{"type":"05567c5b-0606-4a6e-a639-25734c06e2a0","address":"0xB68B9D4f3771c246233823ed1D3Add451055F9Ef","content":{"body":"Hello World"},"time":1762515431.653}"#;

fn pending(message_type: MessageType, item_content: &str) -> PendingMessage {
    PendingMessage {
        sender: "0xB68B9D4f3771c246233823ed1D3Add451055F9Ef".into(),
        chain: crate::Chain::Eth,
        signature: Some("0x00".into()),
        message_type,
        item_type: ItemType::Inline,
        item_content: Some(item_content.to_owned()),
        item_hash: ItemHash::sha256(item_content),
        time: 1762515431.653,
        channel: Some("TEST".into()),
    }
}

fn stored(message_type: MessageType) -> PendingMessage {
    PendingMessage {
        item_type: ItemType::Storage,
        item_content: None,
        item_hash: ItemHash::sha256(b"stored"),
        ..pending(message_type, "{}")
    }
}

fn code(r: Result<DecodedContent, ProcessingError>) -> i32 {
    r.map(|_| i32::MAX).unwrap_or_else(|e| e.code())
}

#[test]
fn inline_content_decodes() {
    let d = decode_inline_content(MessageType::Post, POST).unwrap();
    assert_eq!(d.content.address(), "0xB68B9D4f3771c246233823ed1D3Add451055F9Ef");
    assert_eq!(d.value, serde_json::from_str::<Value>(POST).unwrap());
    assert_eq!(d.size, POST.len() as u64);
    // Size counts code points, not bytes.
    let text = r#"{"address":"a","time":1,"type":"t","content":"é"}"#;
    assert_eq!(decode_inline_content(MessageType::Post, text).unwrap().size, text.chars().count() as u64);
}

#[test]
fn inline_content_rejections_are_invalid_format() {
    let cases = [
        // The escaped NUL, even as text inside a string.
        r#"{"address":"a","time":1,"type":"t","content":"x\u0000y"}"#,
        r#"{"address":"a","time":1,"type":"t","content":"x\\u0000y"}"#,
        // Not strict JSON.
        r#"{"address":"a","time":NaN,"type":"t"}"#,
        r#"{"address":"a","time":1,"type":"t",}"#,
        "{\"address\":\"a\",\"time\":1,\"type\":\"t\"} // c",
        // Integers beyond 64 bits.
        r#"{"address":"a","time":1,"type":"t","content":18446744073709551616}"#,
        r#"{"address":"a","time":1,"type":"t","content":[-9223372036854775809]}"#,
        // Not an object, or missing the base fields (inline content gets no defaults).
        "[1,2]",
        r#"{"time":1,"type":"t"}"#,
        r#"{"address":"a","type":"t"}"#,
        "",
    ];
    for text in cases {
        let e = decode_inline_content(MessageType::Post, text).unwrap_err();
        assert_eq!(e.code(), 0, "{text}: {e}");
        assert_eq!(e.kind(), ErrorKind::Reject);
    }
    // 64-bit integers are fine, as are big floats and escaped slashes.
    let ok = r#"{"address":"a","time":1,"type":"t","content":[18446744073709551615,-9223372036854775808,1e300,"\u0001\\"]}"#;
    assert!(decode_inline_content(MessageType::Post, ok).is_ok());
    // Duplicate keys: the last one wins.
    let dup = r#"{"address":"a","time":1,"type":"t","type":"u"}"#;
    let d = decode_inline_content(MessageType::Post, dup).unwrap();
    assert_eq!(d.value["type"], "u");
}

#[test]
fn schema_errors_name_the_field() {
    let e =
        decode_inline_content(MessageType::Aggregate, r#"{"address":"a","time":1,"key":"k","content":[]}"#)
            .unwrap_err();
    assert_eq!(e, ProcessingError::invalid_format("content: expected an object"));
    assert_eq!(e.details(), json!({"errors": ["content: expected an object"]}));
}

#[test]
fn stored_content_fills_address_and_time() {
    let raw = br#"{"type":"t","content":{"x":1}}"#;
    let d = decode_stored_content(MessageType::Post, raw, "0xSender", 1700000000.1234567).unwrap();
    assert_eq!(d.value["address"], "0xSender");
    // The envelope time as the reference stores it: rounded to the microsecond.
    assert_eq!(d.value["time"], json!(1700000000.123457));
    assert_eq!(d.content.time(), 1700000000.123457);
    assert_eq!(d.size, raw.len() as u64);
    // Null counts as missing; present values are kept.
    let raw = br#"{"address":null,"time":5,"type":"t"}"#;
    let d = decode_stored_content(MessageType::Post, raw, "0xS", 1.0).unwrap();
    assert_eq!((d.value["address"].as_str(), d.content.time()), (Some("0xS"), 5.0));
    // The raw value keeps what the typed content drops (STORE ignores unknown keys).
    let cid = "QmXSEnpQCnUfeGFoSjY1XAK1Cuad5CtAaqyachGTtsFSuA";
    let raw = format!(r#"{{"item_type":"ipfs","item_hash":"{cid}","name":"nft"}}"#);
    let d = decode_stored_content(MessageType::Store, raw.as_bytes(), "0xS", 1.0).unwrap();
    assert_eq!(d.value["name"], "nft");
    assert!(!d.content.to_json().contains("nft"));
}

#[test]
fn stored_content_rejections() {
    for raw in [&b"\xff\xfe"[..], b"[1]", b"\"x\"", br#"{"type":"t","c":"\u0000"}"#, b"{"] {
        assert_eq!(code(decode_stored_content(MessageType::Post, raw, "s", 1.0)), 0, "{raw:?}");
    }
    assert_eq!(code(decode_stored_content(MessageType::Post, br#"{"type":"t"}"#, "s", f64::NAN)), 0);
}

#[test]
fn message_content_dispatch() {
    let m = pending(MessageType::Post, POST);
    assert!(decode_message_content(&m, None).is_ok());
    let s = stored(MessageType::Post);
    let e = decode_message_content(&s, None).unwrap_err();
    assert_eq!((e.code(), e.kind()), (3, ErrorKind::Retry));
    assert!(decode_message_content(&s, Some(br#"{"type":"t"}"#)).is_ok());
}

#[test]
fn intake_order_of_checks() {
    // Valid.
    let m = pending(MessageType::Post, POST);
    let d = validate_pending(&m).unwrap().unwrap();
    assert_eq!(d.content.message_type(), MessageType::Post);
    // Schema errors come before the missing signature.
    let mut bad = pending(MessageType::Post, r#"{"address":"a","type":"t"}"#);
    bad.signature = None;
    assert_eq!(validate_pending(&bad).unwrap_err().code(), 0);
    // A missing or empty signature on valid content is code 1.
    let mut unsigned = pending(MessageType::Post, POST);
    unsigned.signature = None;
    assert_eq!(
        validate_pending(&unsigned).unwrap_err(),
        ProcessingError::invalid_signature("Missing signature")
    );
    unsigned.signature = Some(String::new());
    assert_eq!(validate_pending(&unsigned).unwrap_err().code(), 1);
    // ... but not for chain-event messages.
    assert!(validate_pending_unsigned(&unsigned).unwrap().is_some());
    // The escaped NUL is checked after the signature.
    let nul = r#"{"address":"a","time":1,"type":"t","content":"\u0000"}"#;
    let mut m = pending(MessageType::Post, nul);
    assert_eq!(validate_pending(&m).unwrap_err().code(), 0);
    m.signature = None;
    assert_eq!(validate_pending(&m).unwrap_err().code(), 1);
    // Stored content is decoded later.
    assert_eq!(validate_pending(&stored(MessageType::Store)).unwrap(), None);
}

#[test]
fn intake_of_raw_envelopes() {
    let m = pending(MessageType::Post, POST);
    let v = serde_json::to_value(&m).unwrap();
    let (parsed, content) = validate_pending_value(&v).unwrap();
    assert_eq!(parsed, m);
    assert!(content.is_some());
    // Envelope errors are code 0.
    let mut bad = v.clone();
    bad["chain"] = json!("NOPE");
    assert_eq!(validate_pending_value(&bad).unwrap_err().code(), 0);
    let mut bad = v.clone();
    bad["item_hash"] = json!(ItemHash::sha256(b"other").to_string());
    assert_eq!(validate_pending_value(&bad).unwrap_err().code(), 0);
    assert_eq!(validate_pending_value(&json!([])).unwrap_err().code(), 0);
}

#[test]
fn microsecond_rounding_matches_python() {
    assert_eq!(microsecond_time(1663944079.0289996), Some(1663944079.029));
    assert_eq!(microsecond_time(1.0000005), Some(1.000001));
    assert_eq!(microsecond_time(-0.5), Some(-0.5));
    assert_eq!(microsecond_time(f64::INFINITY), None);
}
