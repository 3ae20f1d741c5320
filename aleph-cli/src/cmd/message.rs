//! `aleph message`: messages of any type: get, list, watch, forget, sign, submit, verify.

use std::path::PathBuf;

use aleph_sdk::core::{Chain, Message, MessageStatus, MessageType, PendingMessage};
use aleph_sdk::types::{SortBy, SortOrder};
use aleph_sdk::{MessageBuilder, MessageFilter, MessageWithStatus, SubmitMode, WatchOptions};
use clap::{Args, Subcommand};
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::error::{usage, CliError};
use crate::output::{self, table};

/// Messages of any type.
#[derive(Debug, Args)]
pub struct MessageArgs {
    #[command(subcommand)]
    command: MessageCommand,
}

#[derive(Debug, Subcommand)]
enum MessageCommand {
    /// Show one message and its status.
    ///
    /// Example: aleph message get 3f2a…c9
    #[command(verbatim_doc_comment)]
    Get {
        /// The item hash.
        hash: String,
    },
    /// List messages, newest first, with every filter of the API.
    ///
    /// Examples:
    ///   aleph message list --type POST --channels TEST
    ///   aleph message list --address 0xAbc… --start-date 1700000000 --json
    #[command(verbatim_doc_comment)]
    #[command(visible_alias = "find")]
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Page number (1 = newest).
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Messages per page.
        #[arg(long, default_value_t = 20)]
        per_page: u32,
    },
    /// Follow messages live (websocket), resuming after connection drops without gaps.
    ///
    /// Prints each message as it arrives (one JSON line with --json) until interrupted.
    ///
    /// Example: aleph message watch --channels TEST --type POST --json
    #[command(verbatim_doc_comment)]
    Watch {
        #[command(flatten)]
        filter: FilterArgs,
        /// Replay this many past messages first.
        #[arg(long, value_name = "N")]
        history: Option<u32>,
        /// Stop after this many messages.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Forget (hide) messages you sent.
    ///
    /// Example: aleph message forget 3f2a…c9 --reason "posted by mistake"
    #[command(verbatim_doc_comment)]
    Forget {
        /// The item hashes of the messages.
        #[arg(required = true)]
        hashes: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Sign a message and print it, without sending it (`message submit` sends it later).
    ///
    /// The content is the message type's content object; `address` and `time` are filled in.
    ///
    /// Example: aleph message sign --type POST --content '{"type":"chat","content":{"body":"hi"}}' > msg.json
    #[command(verbatim_doc_comment)]
    Sign {
        /// The message type.
        #[arg(long = "type", value_parser = parse_type)]
        message_type: MessageType,
        /// The content, as JSON.
        #[arg(long, conflicts_with = "file")]
        content: Option<String>,
        /// A file holding the content (`-` for stdin).
        #[arg(long)]
        file: Option<PathBuf>,
        /// The time (float seconds), default now.
        #[arg(long)]
        time: Option<f64>,
    },
    /// Check a signed message (from `message sign`), then send it.
    ///
    /// Example: aleph message submit msg.json
    #[command(verbatim_doc_comment)]
    Submit {
        /// The file holding the message (`-` or absent: stdin).
        file: Option<PathBuf>,
    },
    /// Verify messages offline: signatures and inline content hashes.
    ///
    /// The input is one message, a JSON array, an API page (`{"messages": [...]}`) or NDJSON.
    /// Prints a verdict per message (`{"item_hash", "valid", "error"}` lines with --json) and
    /// exits 0 when all are valid, 1 when any is invalid, 2 when the input cannot be read.
    ///
    /// Examples:
    ///   aleph message verify dump.json
    ///   curl -s $CCN/api/v0/messages.json | aleph message verify - --json
    #[command(verbatim_doc_comment)]
    Verify {
        /// The input file (`-` or absent: stdin).
        file: Option<PathBuf>,
    },
}

/// Every filter of the messages API.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FilterArgs {
    /// Message type (comma-separated or repeated): POST, AGGREGATE, STORE, PROGRAM, INSTANCE, FORGET.
    #[arg(long = "types", visible_alias = "type", value_name = "TYPE", value_delimiter = ',', value_parser = parse_type)]
    types: Vec<MessageType>,
    /// Sender address (comma-separated or repeated).
    #[arg(long = "addresses", visible_alias = "address", value_name = "ADDRESS", value_delimiter = ',')]
    addresses: Vec<String>,
    /// Owner address (content.address, repeatable).
    #[arg(long = "owners", visible_alias = "owner", value_name = "ADDRESS", value_delimiter = ',')]
    owners: Vec<String>,
    /// Channel (comma-separated or repeated).
    #[arg(long = "channels", value_name = "CHANNEL", value_delimiter = ',')]
    channels: Vec<String>,
    /// Chain (comma-separated or repeated).
    #[arg(long = "chains", value_name = "CHAIN", value_delimiter = ',', value_parser = crate::opts::parse_chain)]
    chains: Vec<Chain>,
    /// Reference (content.ref, repeatable).
    #[arg(long = "refs", visible_alias = "ref", value_name = "REF", value_delimiter = ',')]
    refs: Vec<String>,
    /// Content key (aggregate key, repeatable).
    #[arg(long = "content-keys", visible_alias = "content-key", value_name = "KEY", value_delimiter = ',')]
    content_keys: Vec<String>,
    /// Content type (post type, repeatable).
    #[arg(
        long = "content-types",
        visible_alias = "content-type",
        value_name = "TYPE",
        value_delimiter = ','
    )]
    content_types: Vec<String>,
    /// Content hash (STORE file hash, repeatable).
    #[arg(
        long = "content-hashes",
        visible_alias = "content-hash",
        value_name = "HASH",
        value_delimiter = ','
    )]
    content_hashes: Vec<String>,
    /// Item hash (comma-separated or repeated).
    #[arg(long = "hashes", visible_alias = "hash", value_name = "HASH", value_delimiter = ',')]
    hashes: Vec<String>,
    /// Tag (comma-separated or repeated).
    #[arg(long = "tags", visible_alias = "tag", value_name = "TAG", value_delimiter = ',')]
    tags: Vec<String>,
    /// Status (comma-separated or repeated): pending, processed, rejected, forgotten, removing, removed.
    #[arg(long = "statuses", visible_alias = "status", value_name = "STATUS", value_delimiter = ',', value_parser = parse_status)]
    statuses: Vec<MessageStatus>,
    /// Payment type (comma-separated or repeated): hold, superfluid, credit.
    #[arg(
        long = "payment-types",
        visible_alias = "payment-type",
        value_name = "TYPE",
        value_delimiter = ','
    )]
    payment_types: Vec<String>,
    /// Not before this time (float seconds).
    #[arg(long, value_name = "SECONDS")]
    start_date: Option<f64>,
    /// Not after this time (float seconds).
    #[arg(long, value_name = "SECONDS")]
    end_date: Option<f64>,
    /// Not before this block height.
    #[arg(long, value_name = "HEIGHT")]
    start_block: Option<u64>,
    /// Not after this block height.
    #[arg(long, value_name = "HEIGHT")]
    end_block: Option<u64>,
    /// Sort key: time or tx-time.
    #[arg(long, value_parser = ["time", "tx-time"])]
    sort_by: Option<String>,
    /// Sort order: desc (default) or asc.
    #[arg(long, value_parser = ["asc", "desc"])]
    sort_order: Option<String>,
}

impl FilterArgs {
    pub(crate) fn to_filter(&self) -> anyhow::Result<MessageFilter> {
        let mut f = MessageFilter::new();
        f.message_types = self.types.clone();
        f.addresses = self.addresses.clone();
        f.owners = self.owners.clone();
        f.channels = self.channels.clone();
        f.chains = self.chains.clone();
        f.refs = self.refs.clone();
        f.content_keys = self.content_keys.clone();
        f.content_types = self.content_types.clone();
        f.tags = self.tags.clone();
        f.statuses = self.statuses.clone();
        f.payment_types = self.payment_types.clone();
        f.start_date = self.start_date;
        f.end_date = self.end_date;
        f.start_block = self.start_block;
        f.end_block = self.end_block;
        for h in &self.hashes {
            f.hashes.push(super::item_hash(h)?);
        }
        for h in &self.content_hashes {
            f.content_hashes.push(super::item_hash(h)?);
        }
        f.sort_by =
            self.sort_by.as_deref().map(|s| if s == "tx-time" { SortBy::TxTime } else { SortBy::Time });
        f.sort_order = self.sort_order.as_deref().map(|s| {
            if s == "asc" {
                SortOrder::Ascending
            } else {
                SortOrder::Descending
            }
        });
        Ok(f)
    }
}

pub(crate) fn parse_type(s: &str) -> Result<MessageType, String> {
    s.trim().to_ascii_uppercase().parse::<MessageType>().map_err(|e| e.to_string())
}

fn parse_status(s: &str) -> Result<MessageStatus, String> {
    s.trim().to_ascii_lowercase().parse::<MessageStatus>().map_err(|e| e.to_string())
}

impl MessageArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            MessageCommand::Get { hash } => get(ctx, &hash).await,
            MessageCommand::List { filter, page, per_page } => {
                let page = ctx.client()?.get_messages(&filter.to_filter()?, page, per_page).await?;
                print_page(ctx, &page.messages, page.page, page.per_page, page.total)
            }
            MessageCommand::Watch { filter, history, count } => watch(ctx, &filter, history, count).await,
            MessageCommand::Forget { hashes, reason } => {
                let hashes =
                    hashes.iter().map(|h| super::item_hash(h)).collect::<anyhow::Result<Vec<_>>>()?;
                let mut b = MessageBuilder::forget(hashes);
                if let Some(r) = reason {
                    b = b.reason(r);
                }
                ctx.write(&ctx.signer()?, b).await.map(drop)
            }
            MessageCommand::Sign { message_type, content, file, time } => {
                let content = super::json_content(content.as_deref(), file.as_deref())?;
                let mut b = ctx.with_channel(MessageBuilder::raw(message_type, content));
                if let Some(t) = time {
                    b = b.time(t);
                }
                let pending = b.build(&ctx.signer()?)?;
                ctx.out.signed(&[pending])
            }
            MessageCommand::Submit { file } => submit(ctx, file).await,
            MessageCommand::Verify { file } => verify(ctx, file),
        }
    }
}

async fn get(ctx: &Ctx, hash: &str) -> anyhow::Result<()> {
    let hash = super::item_hash(hash)?;
    let found = ctx.client()?.get_message_with_status(&hash).await?;
    let status = found.status();
    let message = found.message().cloned();
    // What the status adds: the rejection code and details, the FORGETs, the removal reason.
    let details = match &found {
        MessageWithStatus::Rejected { error_code, details, .. } => json!({
            "error_code": error_code,
            "error": error_code.and_then(aleph_sdk::error_code_name),
            "details": details,
        }),
        MessageWithStatus::Forgotten { forgotten_by, .. } => json!({"forgotten_by": forgotten_by}),
        MessageWithStatus::Removing { reason, .. } | MessageWithStatus::Removed { reason, .. } => {
            json!({"reason": reason})
        }
        _ => Value::Null,
    };
    let value = json!({"item_hash": hash.as_str(), "status": status.as_str(), "message": message, "details": details});
    ctx.out.emit(&value, || {
        let mut s = format!("item_hash: {hash}\nstatus:    {}\n", status.as_str());
        if let Some(m) = &message {
            s += &format!(
                "type:      {}\nchain:     {}\nsender:    {}\nchannel:   {}\ntime:      {}\n",
                m.message_type,
                m.chain,
                m.sender,
                m.channel.as_deref().unwrap_or("-"),
                output::time(m.time)
            );
            if m.confirmations.is_empty() {
                s += "confirmed: no\n";
            }
            for c in &m.confirmations {
                s += &format!("confirmed: {} tx {} at height {}\n", c.chain, c.hash, c.height);
            }
            if let Some(c) = &m.content {
                s += &format!("content:\n{}\n", serde_json::to_string_pretty(c).unwrap_or_default());
            }
        }
        if !details.is_null() {
            s += &format!("details:   {}\n", output::compact(&details, 200));
        }
        s
    })
}

/// Prints a page of messages: a table, or `{"messages", "page", "per_page", "total"}`.
pub(crate) fn print_page(
    ctx: &Ctx,
    messages: &[Message],
    page: u64,
    per_page: u64,
    total: u64,
) -> anyhow::Result<()> {
    let value = json!({"messages": messages, "page": page, "per_page": per_page, "total": total});
    ctx.out.emit(&value, || {
        let rows: Vec<Vec<String>> = messages
            .iter()
            .map(|m| {
                vec![
                    output::time(m.time),
                    m.message_type.to_string(),
                    m.chain.to_string(),
                    m.sender.clone(),
                    m.item_hash.to_string(),
                ]
            })
            .collect();
        let mut s = table(&["TIME", "TYPE", "CHAIN", "SENDER", "ITEM_HASH"], &rows);
        s += &format!("page {page}: {} of {total} message(s)\n", messages.len());
        s
    })
}

async fn watch(
    ctx: &Ctx,
    filter: &FilterArgs,
    history: Option<u32>,
    count: Option<u64>,
) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let mut options = WatchOptions::new();
    if let Some(h) = history {
        options = options.history(h);
    }
    let mut stream = client.watch_with(&filter.to_filter()?, options).await?;
    let mut seen = 0u64;
    loop {
        if count.is_some_and(|c| seen >= c) {
            return Ok(());
        }
        let next = tokio::select! {
            next = stream.next() => next,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(item) = next else { return Ok(()) };
        let m = item?;
        seen += 1;
        ctx.out.emit(&m, || {
            format!("{} {} {} {} {}", output::time(m.time), m.message_type, m.chain, m.sender, m.item_hash)
        })?;
    }
}

async fn submit(ctx: &Ctx, file: Option<PathBuf>) -> anyhow::Result<()> {
    let bytes = super::read_input(file.as_deref())?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| usage(format!("the input is not JSON: {e}")))?;
    let pending =
        PendingMessage::from_value(&value).map_err(|e| usage(format!("not a valid message: {e}")))?;
    aleph_sdk::core::verify_signature(&pending.signed_fields())
        .map_err(|e| CliError::Failed(format!("message {}: {e}", pending.item_hash)))?;
    if ctx.dry_run() {
        return ctx
            .out
            .emit(&json!({"item_hash": pending.item_hash.as_str(), "valid": true, "error": null}), || {
                format!("{} is valid (not sent: --dry-run)", pending.item_hash)
            });
    }
    let submitted = ctx.client()?.submit(&pending, SubmitMode::Sync).await?;
    ctx.out.submitted(&submitted)
}

/// One verdict of `message verify`.
#[derive(Debug, serde::Serialize)]
struct Verdict {
    item_hash: Option<String>,
    valid: bool,
    error: Option<String>,
}

/// Splits the input into message values: one message, an array, a `{"messages": [...]}` page, or
/// NDJSON.
fn split_messages(bytes: &[u8]) -> anyhow::Result<Vec<Value>> {
    let text = std::str::from_utf8(bytes).map_err(|_| usage("the input is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(usage("the input is empty"));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(Value::Object(mut obj)) => match obj.remove("messages") {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(usage("`messages` is not an array")),
            None => Ok(vec![Value::Object(obj)]),
        },
        Ok(_) => Err(usage("the input is neither a message, an array nor a page of messages")),
        Err(first) => {
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v = serde_json::from_str(line).map_err(|e| {
                    if i == 0 {
                        usage(format!("the input is not JSON: {first}"))
                    } else {
                        usage(format!("line {}: not JSON: {e}", i + 1))
                    }
                })?;
                out.push(v);
            }
            Ok(out)
        }
    }
}

fn verify(ctx: &Ctx, file: Option<PathBuf>) -> anyhow::Result<()> {
    let bytes = super::read_input(file.as_deref())?;
    let values = split_messages(&bytes)?;
    // Parse every envelope (checking inline hashes), then verify all signatures on every core.
    let parsed: Vec<Result<Message, String>> = values
        .iter()
        .map(|v| {
            let m = Message::from_value_unchecked(v).map_err(|e| e.to_string())?;
            match m.item_hash_matches() {
                Some(false) => Err("item_hash does not match the inline content".to_owned()),
                _ => Ok(m),
            }
        })
        .collect();
    let ok: Vec<&Message> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let fields: Vec<_> = ok.iter().map(|m| m.signed_fields()).collect();
    let mut sigs = aleph_sdk::core::verify_batch(&fields).into_iter();
    let mut verdicts = Vec::with_capacity(values.len());
    for (value, p) in values.iter().zip(&parsed) {
        let hash_of = |v: &Value| v.get("item_hash").and_then(Value::as_str).map(str::to_owned);
        let verdict = match p {
            Ok(m) => match sigs.next() {
                Some(Ok(())) => {
                    Verdict { item_hash: Some(m.item_hash.to_string()), valid: true, error: None }
                }
                Some(Err(e)) => Verdict {
                    item_hash: Some(m.item_hash.to_string()),
                    valid: false,
                    error: Some(e.to_string()),
                },
                None => {
                    Verdict { item_hash: hash_of(value), valid: false, error: Some("not verified".into()) }
                }
            },
            Err(e) => Verdict { item_hash: hash_of(value), valid: false, error: Some(e.clone()) },
        };
        verdicts.push(verdict);
    }
    let invalid = verdicts.iter().filter(|v| !v.valid).count();
    for v in &verdicts {
        ctx.out.emit(v, || {
            let hash = v.item_hash.as_deref().unwrap_or("(no item_hash)");
            match &v.error {
                None => format!("valid    {hash}"),
                Some(e) => format!("INVALID  {hash}: {e}"),
            }
        })?;
    }
    if !ctx.out.is_json() {
        eprintln!("{} message(s): {} valid, {invalid} invalid", verdicts.len(), verdicts.len() - invalid);
    }
    if invalid > 0 {
        return Err(CliError::Exit(1).into());
    }
    Ok(())
}
