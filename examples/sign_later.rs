//! Run with: `cargo run -p examples --example sign_later -- sign FILE` (offline), then
//! `cargo run -p examples --example sign_later -- submit FILE [--node URL]`
//! (node from `--node`, `ALEPH_NODE_URL`, or `http://127.0.0.1:4024`; key from
//! `ALEPH_PRIVATE_KEY`, by default the local node's first dev account).
//!
//! Signs a message now, without network, writes it to a file; later, reads the file back
//! (byte-exact) and submits it, waiting until it is processed.
use std::time::Duration;

use aleph_sdk::core::Chain;
use aleph_sdk::{AlephClient, AnySigner, MessageBuilder, PendingMessage};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let node = args
        .windows(2)
        .find(|w| w[0] == "--node")
        .map(|w| w[1].clone())
        .or_else(|| std::env::var("ALEPH_NODE_URL").ok())
        .unwrap_or_else(|| aleph_sdk::LOCAL_NODE_URL.to_owned());
    let default_file = std::env::temp_dir().join("aleph-signed-message.json").display().to_string();
    let (command, file) = match args.as_slice() {
        [c, f, ..] if !f.starts_with("--") => (c.as_str(), f.clone()),
        [c, ..] => (c.as_str(), default_file),
        [] => ("both", default_file),
    };
    if command == "sign" || command == "both" {
        let key = std::env::var("ALEPH_PRIVATE_KEY").unwrap_or_else(|_| format!("0xac{}", "0".repeat(62)));
        let signer = AnySigner::from_hex(Chain::Eth, &key)?;
        let pending = MessageBuilder::post("signed-offline", "written now, sent later")
            .channel("EXAMPLES")
            .build(&signer)?;
        std::fs::write(&file, serde_json::to_string(&pending)?)?;
        println!("signed {} into {file}", pending.item_hash);
    }
    if command == "submit" || command == "both" {
        let text = std::fs::read_to_string(&file)?;
        let pending = PendingMessage::from_json(&text)?;
        let client = AlephClient::new(node)?;
        let (_, message) = client.submit_and_wait(&pending, Duration::from_secs(30)).await?;
        println!("{} processed at {}", message.item_hash, message.time);
    }
    Ok(())
}
