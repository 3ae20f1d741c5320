//! Run with: `cargo run -p examples --example sign_offline`
//!
//! Builds and signs a POST with a fresh Ethereum key, verifies it, and prints the message as a
//! client would submit it. No network.
use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{verify_signature, MessageType, PendingMessage, Signer, UnsignedMessage};

/// Signs a post with a fresh key and verifies the signature.
pub(crate) fn run() -> Result<PendingMessage, Box<dyn std::error::Error>> {
    let signer = EthereumSigner::random();
    let time = 1_700_000_000.0;
    let content = serde_json::json!({
        "address": signer.address(),
        "time": time,
        "type": "note",
        "content": {"body": "signed offline"},
    });
    let message = signer.sign(UnsignedMessage::inline(
        MessageType::Post,
        content.to_string(),
        time,
        Some("TEST".into()),
    ))?;
    verify_signature(&message.signed_fields())?;
    Ok(message)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", serde_json::to_string_pretty(&run()?)?);
    Ok(())
}
