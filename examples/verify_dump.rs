//! Run with: `cargo run -p examples --example verify_dump -- DUMP.json`
//!
//! Verifies a dump of messages offline: a JSON array of messages, or a `messages.json` answer
//! (`{"messages": [...]}`), as saved from any node. Each message's signature and inline item hash
//! are checked; no network is used. Without an argument a small dump is generated and checked.
use aleph_sdk::core::{verify_batch, ItemHash, SignedFields};
use aleph_sdk::{Message, MessageBuilder};
use serde_json::Value;

/// A small dump: three posts signed by a fresh key.
pub(crate) fn sample() -> Result<Value, Box<dyn std::error::Error>> {
    let signer = aleph_sdk::core::chain::ethereum::EthereumSigner::random();
    let mut list = Vec::new();
    for i in 0..3 {
        let pending = MessageBuilder::post("dump", i).channel("EXAMPLES").build(&signer)?;
        list.push(serde_json::to_value(Message::from(pending))?);
    }
    Ok(Value::Array(list))
}

/// Checks every message of `dump`, printing each invalid one; returns how many were checked and
/// how many are invalid.
pub(crate) fn check(dump: &Value) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let items = match dump {
        Value::Array(a) => a.clone(),
        other => other.get("messages").and_then(Value::as_array).cloned().ok_or("no message list")?,
    };
    let mut messages = Vec::new();
    let mut bad = 0usize;
    for (i, item) in items.iter().enumerate() {
        match Message::from_value_unchecked(item) {
            Ok(m) => messages.push(m),
            Err(e) => {
                bad += 1;
                println!("#{i}: invalid envelope: {e}");
            }
        }
    }
    let fields: Vec<SignedFields<'_>> = messages.iter().map(Message::signed_fields).collect();
    for (m, verdict) in messages.iter().zip(verify_batch(&fields)) {
        let hash_ok = m.item_hash_matches();
        match (verdict, hash_ok) {
            (Ok(()), Some(true) | None) => {}
            (Ok(()), Some(false)) => {
                bad += 1;
                let actual = m.item_content.as_deref().map(|c| ItemHash::sha256(c.as_bytes()).to_string());
                println!("{}: content hashes to {}", m.item_hash, actual.unwrap_or_default());
            }
            (Err(e), _) => {
                bad += 1;
                println!("{}: {e}", m.item_hash);
            }
        }
    }
    println!("{} messages, {} valid, {bad} invalid", items.len(), items.len() - bad);
    Ok((items.len(), bad))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dump: Value = match std::env::args().nth(1) {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => sample()?,
    };
    let (_, bad) = check(&dump)?;
    if bad > 0 {
        std::process::exit(1);
    }
    Ok(())
}
