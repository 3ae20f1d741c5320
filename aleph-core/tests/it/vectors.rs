//! Every vector of `../shared/vectors/*.json` (real messages from the reference repositories and
//! SDK-generated ones) must get exactly its expected verdicts: envelope shape, item hash and
//! signature, each as the reference node judges it.

#![cfg_attr(not(aleph_vectors), allow(dead_code, unused_imports))]

use std::path::PathBuf;

use aleph_core::message::Message;
use aleph_core::{verify_batch, verify_signature, ItemHash, SignedFields};
use serde_json::Value;

pub(crate) fn vectors_dir() -> PathBuf {
    PathBuf::from(option_env!("ALEPH_VECTORS_DIR").unwrap_or("../../shared/vectors"))
}

pub(crate) fn load(file: &str) -> Value {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// All vectors, from every file, as (name, vector object).
pub(crate) fn all_vectors() -> Vec<Value> {
    let mut out = Vec::new();
    for file in ["eth.json", "sol.json", "tezos.json", "other-chains.json"] {
        out.extend(load(file).as_array().cloned().unwrap_or_default());
    }
    let sdk = load("sdk-generated.json");
    for part in ["vectors", "negatives", "edge"] {
        out.extend(sdk[part].as_array().cloned().unwrap_or_default());
    }
    out
}

/// Keys a client's pending envelope has; anything else marks an API answer or a database row.
const PENDING_KEYS: &[&str] = &[
    "sender",
    "chain",
    "signature",
    "type",
    "item_type",
    "item_content",
    "item_hash",
    "time",
    "channel",
    "content",
];

struct Verdicts {
    envelope_ok: bool,
    item_hash_ok: Option<bool>,
    signature_ok: bool,
}

fn raw_str<'a>(m: &'a Value, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

fn judge(v: &Value) -> (Verdicts, Option<String>) {
    let m = &v["message"];
    let obj = m.as_object().expect("message is an object");
    let api_form = obj.keys().any(|k| !PENDING_KEYS.contains(&k.as_str()))
        || (!obj.contains_key("item_content") && raw_str(m, "item_type") == "inline");

    // Envelope: the shape rules; API answers may carry ISO times and forgotten (null) content.
    let parsed = Message::from_value_unchecked(m);
    let envelope_ok = match &parsed {
        // The shape is fine; the hash check below reports the mismatch.
        Err(aleph_core::message::EnvelopeError::HashMismatch { .. }) => true,
        Err(_) => false,
        Ok(msg) => {
            api_form
                || (m["time"].is_number()
                    && (msg.item_type != aleph_core::ItemType::Inline || msg.item_content.is_some()))
        }
    };

    // Item hash: inline content (or the stored bytes of SDK storage messages) against item_hash.
    let item_hash_ok = match (m.get("item_content").and_then(Value::as_str), v.get("stored_content")) {
        (Some(content), _) => Some(ItemHash::sha256(content.as_bytes()).as_str() == raw_str(m, "item_hash")),
        (None, Some(Value::String(stored))) => {
            Some(ItemHash::sha256(stored.as_bytes()).as_str() == raw_str(m, "item_hash"))
        }
        // A pending inline message without content cannot match its hash.
        _ if !api_form && raw_str(m, "item_type") == "inline" => Some(false),
        _ => None,
    };

    // Signature: on the raw strings, as received.
    let signature = match m.get("signature") {
        Some(Value::String(s)) => s.clone(),
        Some(other @ Value::Object(_)) => other.to_string(),
        _ => String::new(),
    };
    let time = aleph_core::message::parse_time_value(&m["time"]).unwrap_or(0.0);
    let fields = SignedFields {
        chain: raw_str(m, "chain"),
        sender: raw_str(m, "sender"),
        message_type: raw_str(m, "type"),
        item_hash: raw_str(m, "item_hash"),
        signature: &signature,
        time,
    };
    let sig = verify_signature(&fields);
    let detail = sig.as_ref().err().map(|e| e.to_string());
    (Verdicts { envelope_ok, item_hash_ok, signature_ok: sig.is_ok() }, detail)
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn every_vector_gets_its_expected_verdicts() {
    let vectors = all_vectors();
    assert!(vectors.len() >= 230, "expected the full vector set, found {}", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let checks = &v["checks"];
        let (got, detail) = judge(v);
        let mut wrong = Vec::new();
        if let Some(want) = checks.get("signature_ok").and_then(Value::as_bool) {
            if want != got.signature_ok {
                wrong.push(format!("signature_ok: want {want}, got {} ({detail:?})", got.signature_ok));
            }
        }
        if let Some(want) = checks.get("envelope_ok").and_then(Value::as_bool) {
            if want != got.envelope_ok {
                wrong.push(format!("envelope_ok: want {want}, got {}", got.envelope_ok));
            }
        }
        match checks.get("item_hash_ok") {
            Some(Value::Bool(want)) if got.item_hash_ok != Some(*want) => {
                wrong.push(format!("item_hash_ok: want {want}, got {:?}", got.item_hash_ok));
            }
            _ => {}
        }
        let expected_valid = v["expected_valid"].as_bool().expect("expected_valid");
        let envelope_ok = checks.get("envelope_ok").and_then(Value::as_bool).is_none_or(|_| got.envelope_ok);
        let valid = got.signature_ok && got.item_hash_ok != Some(false) && envelope_ok;
        if valid != expected_valid {
            wrong.push(format!("expected_valid: want {expected_valid}, got {valid}"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{name}: {}", wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn batch_verdicts_equal_single_verdicts() {
    let vectors = all_vectors();
    let owned: Vec<(String, String, String, String, String, f64)> = vectors
        .iter()
        .map(|v| {
            let m = &v["message"];
            let sig = match m.get("signature") {
                Some(Value::String(s)) => s.clone(),
                Some(o @ Value::Object(_)) => o.to_string(),
                _ => String::new(),
            };
            let time = aleph_core::message::parse_time_value(&m["time"]).unwrap_or(0.0);
            (
                raw_str(m, "chain").to_owned(),
                raw_str(m, "sender").to_owned(),
                raw_str(m, "type").to_owned(),
                raw_str(m, "item_hash").to_owned(),
                sig,
                time,
            )
        })
        .collect();
    let fields: Vec<SignedFields<'_>> = owned
        .iter()
        .map(|(c, s, t, h, sig, time)| SignedFields {
            chain: c,
            sender: s,
            message_type: t,
            item_hash: h,
            signature: sig,
            time: *time,
        })
        .collect();
    let batch = verify_batch(&fields);
    for (f, b) in fields.iter().zip(&batch) {
        assert_eq!(&verify_signature(f), b, "{f:?}");
    }
}
