//! Every message object of the shared vectors (`../shared/vectors/*.json`, or `$ALEPH_VECTORS`)
//! must parse into the SDK's message type, whatever API form it comes in (ISO times, signatures
//! as objects, nulled content of forgotten messages); those whose envelope is invalid must fail
//! with an error naming the problem. Without the vectors the test is compiled as ignored.

#![cfg_attr(not(aleph_vectors), allow(dead_code, unused_imports))]

use std::path::PathBuf;

use serde_json::Value;

use crate::{ClientError, Message, MessageWithStatus};

fn load(file: &str) -> Value {
    let dir = PathBuf::from(option_env!("ALEPH_VECTORS_DIR").unwrap_or("../../shared/vectors"));
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn all_vectors() -> Vec<Value> {
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

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are absent"
)]
fn every_vector_message_parses_or_fails_clearly() {
    let vectors = all_vectors();
    assert!(vectors.len() > 150, "only {} vectors", vectors.len());
    let (mut parsed, mut refused) = (0, 0);
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let m = &v["message"];
        let envelope_ok = v["checks"]["envelope_ok"].as_bool().unwrap_or(true);
        let hash_ok = v["checks"]["item_hash_ok"].as_bool();
        // What the list endpoint would carry, and what the single-message endpoint wraps.
        let as_list = Message::from_value_unchecked(m);
        let wrapped = serde_json::json!({"status": "processed", "item_hash": m["item_hash"], "message": m});
        let as_status = MessageWithStatus::from_value(&wrapped);
        if let (Err(aleph_core::message::EnvelopeError::HashMismatch { .. }), Some(false)) =
            (&as_list, hash_ok)
        {
            // An inline hash that is not even a hash (`fake-hash…`): a mismatch, reported as such.
            refused += 1;
            continue;
        }
        if envelope_ok {
            let msg = as_list.unwrap_or_else(|e| panic!("{name}: valid envelope refused: {e}"));
            assert_eq!(msg.item_hash.as_str(), m["item_hash"].as_str().unwrap_or(""), "{name}");
            // The checked reader agrees with the recorded item-hash verdict.
            match (Message::from_value(m), hash_ok) {
                (Err(e), Some(true) | None) => panic!("{name}: {e}"),
                (Ok(_), Some(false)) if msg.item_content.is_some() => {
                    panic!("{name}: hash mismatch accepted")
                }
                _ => {}
            }
            if hash_ok != Some(false) {
                as_status.unwrap_or_else(|e| panic!("{name}: status form refused: {e}"));
            }
            parsed += 1;
        } else {
            let err = match as_list {
                Err(e) => e.to_string(),
                // Shapes the SDK reads leniently but the reference refuses (e.g. an ISO time in a
                // pending form): the strict reader must refuse them.
                Ok(_) => aleph_core::PendingMessage::from_value(m)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| panic!("{name}: invalid envelope accepted by every reader")),
            };
            assert!(!err.is_empty(), "{name}");
            let through_sdk = ClientError::from(
                Message::from_value(m).err().unwrap_or(aleph_core::message::EnvelopeError::NotAnObject),
            );
            assert!(through_sdk.to_string().starts_with("invalid message envelope"), "{name}");
            refused += 1;
        }
    }
    assert!(parsed > 100 && refused > 0, "parsed {parsed}, refused {refused}");
}
