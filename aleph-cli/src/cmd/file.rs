//! `aleph file`: stored files.

use std::path::PathBuf;
use std::sync::Arc;

use aleph_sdk::core::{ItemHash, MessageType, PendingMessage};
use aleph_sdk::{AlephClient, MessageBuilder, ProgressFn, StoreOptions, SubmitMode};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::error::usage;
use crate::output::table;

/// Files.
#[derive(Debug, Args)]
pub struct FileArgs {
    #[command(subcommand)]
    command: FileCommand,
}

#[derive(Debug, Subcommand)]
enum FileCommand {
    /// Upload a file and publish its STORE message (with a progress bar).
    ///
    /// Examples:
    ///   aleph file upload photo.jpg
    ///   aleph file upload site.tar.gz --ipfs --ref my-site
    #[command(verbatim_doc_comment)]
    Upload {
        /// The file.
        path: PathBuf,
        /// Store on IPFS instead of the nodes' native storage.
        #[arg(long)]
        ipfs: bool,
        /// `ref`: a previous STORE message to replace, or a name.
        #[arg(long = "ref")]
        reference: Option<String>,
        /// The MIME type.
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Download a file, checked against its hash.
    ///
    /// Examples:
    ///   aleph file download 2cf24d…9824 -o hello.txt   # the file hash
    ///   aleph file download 3f2a…c9 -o hello.txt       # or its STORE message's item hash
    #[command(verbatim_doc_comment)]
    Download {
        /// The file hash (sha256 or IPFS CID), or the item hash of the STORE message that stores
        /// it.
        hash: String,
        /// Where to write it (`-` for stdout); default: the hash, in the current directory.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the files an address stores.
    ///
    /// Example: aleph file list --address 0xAbc…
    #[command(verbatim_doc_comment)]
    List {
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
        /// Page number.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Files per page.
        #[arg(long, default_value_t = 100)]
        per_page: u32,
    },
    /// Forget files: FORGET their STORE messages.
    ///
    /// Example: aleph file forget 3f2a…c9 --reason "obsolete"
    #[command(verbatim_doc_comment)]
    Forget {
        /// The item hashes of the STORE messages.
        #[arg(required = true)]
        hashes: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

fn bar(ctx: &Ctx, len: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if ctx.out.is_json() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        pb.set_style(style);
    }
    pb
}

/// The file hash a STORE message names (`content.item_hash`).
fn stored_file(message: &PendingMessage) -> Option<String> {
    let content: Value = serde_json::from_str(message.item_content.as_deref()?).ok()?;
    content.get("item_hash")?.as_str().map(str::to_owned)
}

/// The file `hash` designates: itself, unless it is the item hash of a STORE message, whose file
/// it then is. Another message type is a usage error.
async fn file_of(client: &AlephClient, hash: ItemHash) -> anyhow::Result<ItemHash> {
    let message = match client.get_message(&hash).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(hash),
        Err(e) => return Err(e.into()),
    };
    if message.message_type != MessageType::Store {
        return Err(usage(format!(
            "{hash} is a {} message, not a file or a STORE message",
            message.message_type
        )));
    }
    let file = message.content.as_ref().and_then(|c| c.get("item_hash")).and_then(Value::as_str);
    let file = file.with_context(|| format!("STORE message {hash} names no file"))?;
    super::item_hash(file)
}

impl FileArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            FileCommand::Upload { path, ipfs, reference, content_type } => {
                let meta = std::fs::metadata(&path)
                    .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
                if !meta.is_file() {
                    return Err(usage(format!("{} is not a file", path.display())));
                }
                let signer = ctx.signer()?;
                let mut options = StoreOptions::new().mode(SubmitMode::Sync);
                if ipfs {
                    options = options.ipfs();
                }
                if let Some(r) = reference {
                    options = options.reference(r);
                }
                if let Some(t) = content_type {
                    options = options.content_type(t);
                }
                if let Some(c) = &ctx.global.channel {
                    options = options.channel(c.clone());
                }
                if ctx.dry_run() {
                    if ipfs {
                        return Err(usage("--dry-run needs the file's hash: it is only known for native storage (not --ipfs)"));
                    }
                    let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                    let pending = options.sign(&data, &signer)?;
                    return ctx.out.signed(&[pending]);
                }
                let pb = bar(ctx, meta.len());
                let progress: ProgressFn = {
                    let pb = pb.clone();
                    Arc::new(move |p| pb.set_position(p.done))
                };
                let submitted =
                    ctx.client()?.create_store_from_path(&signer, &path, &options, Some(progress)).await;
                pb.finish_and_clear();
                let submitted = submitted?;
                let file_hash =
                    stored_file(&submitted.message).context("the STORE message sent names no file hash")?;
                ctx.out.stored(&submitted, &file_hash, meta.len())
            }
            FileCommand::Download { hash, output } => {
                let hash = super::item_hash(&hash)?;
                let client = ctx.client()?;
                let hash = file_of(&client, hash).await?;
                if output.as_deref() == Some(std::path::Path::new("-")) {
                    let bytes = client.download(&hash).await?;
                    use std::io::Write as _;
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes)?;
                    return Ok(out.flush()?);
                }
                let dest = output.unwrap_or_else(|| PathBuf::from(hash.as_str()));
                let pb = bar(ctx, 0);
                let progress: ProgressFn = {
                    let pb = pb.clone();
                    Arc::new(move |p| {
                        if let Some(t) = p.total {
                            pb.set_length(t);
                        }
                        pb.set_position(p.done)
                    })
                };
                let size = client.download_to_file(&hash, &dest, Some(progress)).await;
                pb.finish_and_clear();
                let size = size?;
                let value = json!({"hash": hash.as_str(), "path": dest.display().to_string(), "size": size});
                ctx.out.emit(&value, || format!("{} bytes written to {}", size, dest.display()))
            }
            FileCommand::List { address, page, per_page } => {
                let address = ctx.address_or_own(address)?;
                let files = ctx.client()?.get_account_files(&address, page, per_page).await?;
                ctx.out.emit(&files, || {
                    let rows: Vec<Vec<String>> = files
                        .files
                        .iter()
                        .map(|f| {
                            vec![
                                f.file_hash.clone(),
                                f.size.to_string(),
                                f.file_type.clone().unwrap_or_default(),
                                f.item_hash.clone().unwrap_or_default(),
                            ]
                        })
                        .collect();
                    let mut s = table(&["FILE_HASH", "SIZE", "TYPE", "ITEM_HASH"], &rows);
                    s += &format!("{} file(s), {} bytes in all\n", files.pagination_total, files.total_size);
                    s
                })
            }
            FileCommand::Forget { hashes, reason } => {
                let hashes =
                    hashes.iter().map(|h| super::item_hash(h)).collect::<anyhow::Result<Vec<_>>>()?;
                let mut b = MessageBuilder::forget(hashes);
                if let Some(r) = reason {
                    b = b.reason(r);
                }
                ctx.write(&ctx.signer()?, b).await.map(drop)
            }
        }
    }
}
