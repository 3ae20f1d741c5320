//! Every vector of `../shared/vectors/*.json` (real messages from the reference repositories and
//! SDK-generated ones) must get exactly its expected verdicts: envelope shape, item hash and
//! signature, each as the reference node judges it.

#![cfg_attr(not(aleph_vectors), allow(dead_code, unused_imports))]

use std::path::PathBuf;

use aleph_core::message::{EnvelopeError, Message};
use aleph_core::{verify_batch, verify_signature, ItemHash, PendingMessage, SignedFields};
use serde_json::Value;

/// The shared vectors: `$ALEPH_VECTORS` when set at run time, else the directory the build found.
pub(crate) fn vectors_dir() -> PathBuf {
    std::env::var_os("ALEPH_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(option_env!("ALEPH_VECTORS_DIR").unwrap_or("../../shared/vectors")))
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

/// The library's verdicts on one vector.
struct Verdicts {
    envelope_ok: bool,
    item_hash_ok: Option<bool>,
    signature: Result<(), aleph_core::VerifyError>,
}

fn raw_str<'a>(m: &'a Value, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The signature check's input taken from the raw strings as received (for envelopes the
/// library refuses to read, whose signature the reference still judges).
fn raw_fields(m: &Value) -> (String, f64) {
    let signature = match m.get("signature") {
        Some(Value::String(s)) => s.clone(),
        Some(other @ Value::Object(_)) => other.to_string(),
        _ => String::new(),
    };
    (signature, aleph_core::message::parse_time_value(&m["time"]).unwrap_or(0.0))
}

/// What aleph-core says of a vector's message. The test only picks the reader that applies: the
/// intake reader ([`PendingMessage::from_value`]) for what a client submits, the API reader
/// ([`Message::from_value_unchecked`]) for what nodes serve (extra keys, or an ISO-8601 time,
/// which only API answers carry). Every verdict is the library's, but the item-hash verdict of an
/// envelope the library refuses to read, where the library's sha256 is applied to the raw content.
fn judge(v: &Value) -> Verdicts {
    let m = &v["message"];
    let obj = m.as_object().expect("message is an object");
    let api_form = obj.keys().any(|k| !PENDING_KEYS.contains(&k.as_str())) || m["time"].is_string();

    let read = if api_form {
        Message::from_value_unchecked(m)
    } else {
        PendingMessage::from_value(m).map(Message::from)
    };
    // A content that does not hash to item_hash is the hash verdict's business, not the shape's.
    let envelope_ok = matches!(read, Ok(_) | Err(EnvelopeError::HashMismatch { .. }));

    let item_hash_ok = match (&read, v.get("stored_content").and_then(Value::as_str)) {
        // SDK storage messages come with the exact bytes the SDK uploaded.
        (Ok(msg), Some(stored)) => Some(ItemHash::sha256(stored.as_bytes()) == msg.item_hash),
        (Ok(msg), None) => msg.item_hash_matches(),
        (Err(EnvelopeError::HashMismatch { .. }), _) => Some(false),
        // An envelope the library refuses to read (unknown chain or type, content where none
        // belongs): the reference still compares the content's sha256 with item_hash, and an
        // inline message without content matches nothing.
        (Err(_), _) => match m.get("item_content").and_then(Value::as_str) {
            Some(content) => Some(ItemHash::sha256(content.as_bytes()).as_str() == raw_str(m, "item_hash")),
            None => (raw_str(m, "item_type") == "inline").then_some(false),
        },
    };

    let signature = match &read {
        Ok(msg) => verify_signature(&msg.signed_fields()),
        Err(_) => {
            let (signature, time) = raw_fields(m);
            verify_signature(&SignedFields {
                chain: raw_str(m, "chain"),
                sender: raw_str(m, "sender"),
                message_type: raw_str(m, "type"),
                item_hash: raw_str(m, "item_hash"),
                signature: &signature,
                time,
            })
        }
    };
    Verdicts { envelope_ok, item_hash_ok, signature }
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
    let (mut envelope_checks, mut hash_checks) = (0, 0);
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let checks = &v["checks"];
        let got = judge(v);
        let mut wrong = Vec::new();
        let want = checks["signature_ok"].as_bool().unwrap_or_else(|| panic!("{name}: no signature verdict"));
        if want != got.signature.is_ok() {
            wrong.push(format!("signature_ok: want {want}, got {:?}", got.signature));
        }
        if let Some(want) = checks.get("envelope_ok").and_then(Value::as_bool) {
            envelope_checks += 1;
            if want != got.envelope_ok {
                wrong.push(format!("envelope_ok: want {want}, got {}", got.envelope_ok));
            }
        }
        // `null` means the reference cannot tell either (content elsewhere, or forgotten).
        let want_hash = checks.get("item_hash_ok").and_then(Value::as_bool);
        if want_hash.is_some() {
            hash_checks += 1;
        }
        if want_hash != got.item_hash_ok {
            wrong.push(format!("item_hash_ok: want {want_hash:?}, got {:?}", got.item_hash_ok));
        }
        // The vectors define validity as the conjunction of their checks; an absent envelope
        // check (SDK-generated vectors) is not part of it.
        let expected_valid = v["expected_valid"].as_bool().expect("expected_valid");
        let envelope_counts = checks.get("envelope_ok").and_then(Value::as_bool).is_some();
        let valid =
            got.signature.is_ok() && got.item_hash_ok != Some(false) && (!envelope_counts || got.envelope_ok);
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
    // Most vectors carry an envelope and a hash verdict: the comparison is not vacuous.
    assert!(
        envelope_checks >= 150 && hash_checks >= 150,
        "{envelope_checks} envelope, {hash_checks} hash checks"
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
            let (sig, time) = raw_fields(m);
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
