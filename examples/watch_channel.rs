//! Run with: `cargo run -p examples --example watch_channel -- [--node URL] [CHANNEL]`
//! (node from `--node`, `ALEPH_NODE_URL`, or `http://127.0.0.1:4024`; channel default `EXAMPLES`).
//!
//! Prints every new message of a channel as it is processed; the subscription reconnects and
//! resumes by itself if the connection drops. Stop with Ctrl-C.
use aleph_sdk::{AlephClient, MessageFilter, WatchOptions};
use futures_util::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut node = std::env::var("ALEPH_NODE_URL").unwrap_or_else(|_| aleph_sdk::LOCAL_NODE_URL.to_owned());
    let mut channel = "EXAMPLES".to_owned();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--node" && i + 1 < args.len() {
            node = args[i + 1].clone();
            i += 2;
        } else {
            channel = args[i].clone();
            i += 1;
        }
    }
    let client = AlephClient::new(node)?;
    let filter = MessageFilter::new().channel(&channel);
    let mut watch = client.watch_with(&filter, WatchOptions::new().history(5)).await?;
    println!("watching channel {channel} on {}", client.base_url());
    while let Some(message) = watch.next().await {
        let m = message?;
        println!("{} {} {} from {}", m.time, m.message_type, m.item_hash, m.sender);
    }
    Ok(())
}
