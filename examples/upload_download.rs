//! Run with: `cargo run -p examples --example upload_download -- [--node URL] [FILE]`
//! (node from `--node`, `ALEPH_NODE_URL`, or `http://127.0.0.1:4024`; key from
//! `ALEPH_PRIVATE_KEY`, by default the local node's first dev account).
//!
//! Stores a file (streamed from disk with a progress line; a generated 2 MiB file when none is
//! given), then downloads it again to a temporary file, checked against its hash.
use std::sync::Arc;
use std::time::Duration;

use aleph_sdk::core::Chain;
use aleph_sdk::{AlephClient, AnySigner, Progress, ProgressFn, StoreOptions, SubmitMode};

fn args() -> (String, Option<String>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut node = std::env::var("ALEPH_NODE_URL").unwrap_or_else(|_| aleph_sdk::LOCAL_NODE_URL.to_owned());
    let mut file = None;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--node" && i + 1 < args.len() {
            node = args[i + 1].clone();
            i += 2;
        } else {
            file = Some(args[i].clone());
            i += 1;
        }
    }
    (node, file)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (node, file) = args();
    let client = AlephClient::new(node)?;
    let key = std::env::var("ALEPH_PRIVATE_KEY").unwrap_or_else(|_| format!("0xac{}", "0".repeat(62)));
    let signer = AnySigner::from_hex(Chain::Eth, &key)?;
    let dir = std::env::temp_dir().join(format!("aleph-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = match file {
        Some(f) => f.into(),
        None => {
            let p = dir.join("sample.bin");
            std::fs::write(&p, (0..2_000_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>())?;
            p
        }
    };
    let progress: ProgressFn = Arc::new(|p: Progress| {
        eprint!("\ruploaded {} / {} bytes", p.done, p.total.unwrap_or(0));
    });
    let options = StoreOptions::new().mode(SubmitMode::WaitProcessed(Duration::from_secs(60)));
    let sent = client.create_store_from_path(&signer, &path, &options, Some(progress)).await?;
    eprintln!();
    let message = client.get_message(sent.item_hash()).await?;
    let file_hash =
        message.content.as_ref().and_then(|c| c["item_hash"].as_str()).ok_or("no file hash")?.parse()?;
    println!("STORE {} holds file {file_hash}", sent.item_hash());
    let dest = dir.join("downloaded.bin");
    let size = client.download_to_file(&file_hash, &dest, None).await?;
    println!("downloaded {size} bytes to {} (hash checked)", dest.display());
    Ok(())
}
