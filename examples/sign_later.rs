//! Run with: `cargo run -p examples --example sign_later -- sign FILE` (offline), then
//! `cargo run -p examples --example sign_later -- submit FILE [--node URL]`
//! (node from `--node`, `ALEPH_CCN` (alias `ALEPH_NODE_URL`), or `http://127.0.0.1:4024`; key
//! from `ALEPH_PRIVATE_KEY`, by default the local node's first dev account).
//!
//! Signs a message now, without network, writes it to a file; later, reads the file back
//! (byte-exact) and submits it, waiting until it is processed.
use std::path::Path;
use std::time::Duration;

use aleph_sdk::{AlephClient, AnySigner, ItemHash, Message, MessageBuilder, PendingMessage, SubmitMode};

/// Signs a post and writes it to `file`, without network.
pub(crate) fn sign(signer: &AnySigner, file: &Path) -> Result<ItemHash, Box<dyn std::error::Error>> {
    let pending = MessageBuilder::post("signed-offline", "written now, sent later")
        .channel("EXAMPLES")
        .build(signer)?;
    std::fs::write(file, serde_json::to_string(&pending)?)?;
    println!("signed {} into {}", pending.item_hash, file.display());
    Ok(pending.item_hash)
}

/// Reads the signed message back from `file`, submits it and waits until it is processed.
pub(crate) async fn submit(client: &AlephClient, file: &Path) -> Result<Message, Box<dyn std::error::Error>> {
    let pending = PendingMessage::from_json(&std::fs::read_to_string(file)?)?;
    client.submit(&pending, SubmitMode::WaitProcessed(Duration::from_secs(30))).await?;
    let message = client.get_message(&pending.item_hash).await?;
    println!("{} processed at {}", message.item_hash, message.time);
    Ok(message)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default_file = std::env::temp_dir().join("aleph-signed-message.json").display().to_string();
    let (command, file) = match examples::positional(&args).as_slice() {
        [c, f, ..] => (c.clone(), f.clone()),
        [c] => (c.clone(), default_file),
        [] => ("both".to_owned(), default_file),
    };
    if command == "sign" || command == "both" {
        sign(&examples::signer()?, file.as_ref())?;
    }
    if command == "submit" || command == "both" {
        submit(&AlephClient::new(examples::node_url(&args))?, file.as_ref()).await?;
    }
    Ok(())
}
