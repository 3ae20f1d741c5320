//! Run with: `cargo run -p examples --example quickstart -- [--node URL]`
//! (or `ALEPH_NODE_URL=…`; default `http://127.0.0.1:4024`, a local `aleph-node`). The key is
//! `ALEPH_PRIVATE_KEY` (hex), by default the local node's first funded dev account.
//!
//! Publishes a post, reads it back with its status, then writes and reads an aggregate.
use std::time::Duration;

use aleph_sdk::core::{Chain, Signer};
use aleph_sdk::{AlephClient, AnySigner, MessageBuilder, MessageWithStatus, SubmitMode};
use serde_json::json;

fn node_url() -> String {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--node")
        .map(|w| w[1].clone())
        .or_else(|| std::env::var("ALEPH_NODE_URL").ok())
        .unwrap_or_else(|| aleph_sdk::LOCAL_NODE_URL.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = AlephClient::builder(node_url()).timeout(Duration::from_secs(30)).build()?;
    let key = std::env::var("ALEPH_PRIVATE_KEY").unwrap_or_else(|_| format!("0xac{}", "0".repeat(62)));
    let signer = AnySigner::from_hex(Chain::Eth, &key)?;
    println!("node {} ({}), account {}", client.base_url(), client.node_version().await?, signer.address());

    let post = MessageBuilder::post("quickstart", json!({"body": "hello from Rust"})).channel("EXAMPLES");
    let sent = client.publish(&signer, &post, SubmitMode::WaitProcessed(Duration::from_secs(30))).await?;
    println!("posted {}", sent.item_hash());

    match client.get_message_with_status(sent.item_hash()).await? {
        MessageWithStatus::Processed { message, .. } => {
            println!("read back: {}", message.content.unwrap_or_default()["content"]);
        }
        other => println!("status: {}", other.status()),
    }

    client
        .create_aggregate(&signer, "quickstart", json!({"runs": 1}), Some("EXAMPLES"), SubmitMode::Sync)
        .await?;
    let settings: serde_json::Value = client.get_aggregate(signer.address(), "quickstart").await?;
    println!("aggregate: {settings}");
    Ok(())
}
