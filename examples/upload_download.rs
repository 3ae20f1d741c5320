//! Run with: `cargo run -p examples --example upload_download -- [--node URL] [FILE]`
//! (node from `--node`, `ALEPH_CCN` (alias `ALEPH_NODE_URL`), or `http://127.0.0.1:4024`; key
//! from `ALEPH_PRIVATE_KEY`, by default the local node's first dev account).
//!
//! Stores a file (streamed from disk with a progress line; a generated 2 MiB file when none is
//! given), then downloads it again to a temporary file, checked against its hash.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aleph_sdk::{AlephClient, AnySigner, ItemHash, Progress, ProgressFn, StoreOptions, SubmitMode};

/// Stores `path`, downloads it into `dir`; returns the STORE message's hash, the file's hash and
/// the downloaded copy.
pub(crate) async fn run(
    client: &AlephClient,
    signer: &AnySigner,
    path: &Path,
    dir: &Path,
) -> Result<(ItemHash, ItemHash, PathBuf), Box<dyn std::error::Error>> {
    let progress: ProgressFn = Arc::new(|p: Progress| {
        eprint!("\ruploaded {} / {} bytes", p.done, p.total.unwrap_or(0));
    });
    let options = StoreOptions::new().mode(SubmitMode::WaitProcessed(Duration::from_secs(60)));
    let sent = client.create_store_from_path(signer, path, &options, Some(progress)).await?;
    eprintln!();
    let message = client.get_message(sent.item_hash()).await?;
    let file_hash: ItemHash =
        message.content.as_ref().and_then(|c| c["item_hash"].as_str()).ok_or("no file hash")?.parse()?;
    println!("STORE {} holds file {file_hash}", sent.item_hash());
    let dest = dir.join("downloaded.bin");
    let size = client.download_to_file(&file_hash, &dest, None).await?;
    println!("downloaded {size} bytes to {} (hash checked)", dest.display());
    Ok((sent.item_hash().clone(), file_hash, dest))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let client = AlephClient::new(examples::node_url(&args))?;
    let dir = std::env::temp_dir().join(format!("aleph-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = match examples::positional(&args).into_iter().next() {
        Some(f) => f.into(),
        None => {
            let p = dir.join("sample.bin");
            std::fs::write(&p, (0..2_000_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>())?;
            p
        }
    };
    run(&client, &examples::signer()?, &path, &dir).await.map(drop)
}
