//! Run with: `cargo run -p examples --example quickstart -- [--node URL]`
//! (or `ALEPH_CCN=…`, alias `ALEPH_NODE_URL`; default `http://127.0.0.1:4024`, a local
//! `aleph-node`). The key is `ALEPH_PRIVATE_KEY` (hex), by default the local node's first funded
//! dev account.
//!
//! Publishes a post, reads it back with its status, then writes and reads an aggregate.
use std::time::Duration;

use aleph_sdk::core::Signer;
use aleph_sdk::{AlephClient, AnySigner, MessageBuilder, MessageWithStatus, SubmitMode};
use serde_json::{json, Value};

/// Posts, reads back, writes an aggregate and returns it as read from the node.
pub(crate) async fn run(
    client: &AlephClient,
    signer: &AnySigner,
) -> Result<Value, Box<dyn std::error::Error>> {
    println!("node {} ({}), account {}", client.base_url(), client.node_version().await?, signer.address());

    let post = MessageBuilder::post("quickstart", json!({"body": "hello from Rust"})).channel("EXAMPLES");
    let sent = client.publish(signer, &post, SubmitMode::WaitProcessed(Duration::from_secs(30))).await?;
    println!("posted {}", sent.item_hash());

    match client.get_message_with_status(sent.item_hash()).await? {
        MessageWithStatus::Processed { message, .. } => {
            println!("read back: {}", message.content.unwrap_or_default()["content"]);
        }
        other => println!("status: {}", other.status()),
    }

    // `SubmitMode::Sync` may still answer `pending`: wait for processing before reading back.
    let wait = SubmitMode::WaitProcessed(Duration::from_secs(30));
    client.create_aggregate(signer, "quickstart", json!({"runs": 1}), Some("EXAMPLES"), wait).await?;
    let settings: Value = client.get_aggregate(signer.address(), "quickstart").await?;
    println!("aggregate: {settings}");
    Ok(settings)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let client = AlephClient::builder(examples::node_url(&args)).timeout(Duration::from_secs(30)).build()?;
    run(&client, &examples::signer()?).await.map(drop)
}
