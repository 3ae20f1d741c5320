//! Run with: `cargo run -p examples --example watch_channel -- [--node URL] [CHANNEL]`
//! (node from `--node`, `ALEPH_CCN` (alias `ALEPH_NODE_URL`), or `http://127.0.0.1:4024`;
//! channel default `EXAMPLES`).
//!
//! Prints every new message of a channel as it is processed, after the channel's last five; the
//! subscription reconnects and resumes by itself if the connection drops. Stop with Ctrl-C.
use aleph_sdk::{AlephClient, Message, MessageFilter, WatchOptions};
use futures_util::StreamExt;

/// Watches `channel`, printing each message; returns after `max` messages, if given.
pub(crate) async fn run(
    client: &AlephClient,
    channel: &str,
    max: Option<usize>,
) -> Result<Vec<Message>, Box<dyn std::error::Error>> {
    let filter = MessageFilter::new().channel(channel);
    let mut watch = client.watch_with(&filter, WatchOptions::new().history(5)).await?;
    println!("watching channel {channel} on {}", client.base_url());
    let mut seen = Vec::new();
    while max.is_none_or(|m| seen.len() < m) {
        let Some(message) = watch.next().await else { break };
        let m = message?;
        println!("{} {} {} from {}", m.time, m.message_type, m.item_hash, m.sender);
        seen.push(m);
    }
    Ok(seen)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let channel = examples::positional(&args).into_iter().next().unwrap_or_else(|| "EXAMPLES".to_owned());
    run(&AlephClient::new(examples::node_url(&args))?, &channel, None).await.map(drop)
}
