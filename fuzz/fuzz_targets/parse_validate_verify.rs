//! Any bytes, as a submitted envelope or an API answer: parsing, content validation and
//! signature verification (every chain) must return verdicts, never panic.
//!
//! Run with: `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_validate_verify -- -max_total_time=300`
#![no_main]

use aleph_core::message::Message;
use aleph_core::{verify_signature, PendingMessage, SignedFields};
use libfuzzer_sys::fuzz_target;

const CHAINS: &[&str] = &["ETH", "BASE", "SOL", "ES", "TEZOS", "NULS", "NULS2", "CSDK", "DOT", "AVAX", "AURORA", "XYZ"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(m) = PendingMessage::from_value(&value) {
            let _ = verify_signature(&m.signed_fields());
            let _ = aleph_core::validate::validate_pending(&m);
            let _ = aleph_core::validate::decode_stored_content(m.message_type, data, &m.sender, m.time);
            let _ = serde_json::to_string(&m);
        }
        if let Ok(m) = Message::from_value(&value) {
            let _ = verify_signature(&m.signed_fields());
            let _ = m.to_pending();
        }
    }
    // Raw strings straight into every verifier: split the input into sender / signature.
    let middle = text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(i, _)| i);
    let (sender, signature) = text.split_at(middle);
    for chain in CHAINS {
        let fields = SignedFields {
            chain,
            sender,
            message_type: "POST",
            item_hash: "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c",
            signature,
            time: data.len() as f64 * 1e7,
        };
        let _ = verify_signature(&fields);
    }
});
