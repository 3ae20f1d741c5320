//! `aleph aggregate`: key-value documents merged from AGGREGATE messages.

use aleph_sdk::core::MessageType;
use aleph_sdk::{MessageBuilder, MessageFilter};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::error::{usage, CliError};
use crate::output::{self, table};

/// Aggregates.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    #[command(subcommand)]
    command: AggregateCommand,
}

#[derive(Debug, Subcommand)]
enum AggregateCommand {
    /// Merge a JSON object into one of your aggregates.
    ///
    /// Example: aleph aggregate post profile '{"name":"Alice","avatar":"…"}'
    #[command(verbatim_doc_comment)]
    Post {
        /// The aggregate key.
        key: String,
        /// The object to merge, as JSON.
        content: String,
        /// Write to this owner's aggregate (which must have authorized you).
        #[arg(long, value_name = "ADDRESS")]
        on_behalf_of: Option<String>,
    },
    /// Print an aggregate.
    ///
    /// Example: aleph aggregate get profile --address 0xAbc…
    #[command(verbatim_doc_comment)]
    Get {
        /// The aggregate key.
        key: String,
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
    /// List the aggregates of an address.
    ///
    /// Example: aleph aggregate list --address 0xAbc… --json
    #[command(verbatim_doc_comment)]
    List {
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
    /// Forget an aggregate: FORGET every AGGREGATE message you sent for the key.
    ///
    /// Example: aleph aggregate forget profile --reason "reset"
    #[command(verbatim_doc_comment)]
    Forget {
        /// The aggregate key.
        key: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

impl AggregateArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            AggregateCommand::Post { key, content, on_behalf_of } => {
                let content: Value = serde_json::from_str(&content)
                    .map_err(|e| usage(format!("the content is not valid JSON: {e}")))?;
                if !content.is_object() {
                    return Err(usage("the content of an aggregate must be a JSON object"));
                }
                let mut b = MessageBuilder::aggregate(key, content);
                if let Some(o) = on_behalf_of {
                    b = b.on_behalf_of(o);
                }
                ctx.write(&ctx.signer()?, b).await.map(drop)
            }
            AggregateCommand::Get { key, address } => {
                let address = ctx.address_or_own(address)?;
                let value = ctx.client()?.get_aggregate_value(&address, &key).await?;
                ctx.out.document(&value)
            }
            AggregateCommand::List { address } => {
                let address = ctx.address_or_own(address)?;
                let client = ctx.client()?;
                let data = match client.get_aggregates(&address, &[]).await {
                    Ok(a) => a.data,
                    Err(e) if e.is_not_found() => serde_json::Map::new(),
                    Err(e) => return Err(e.into()),
                };
                let value = json!({"address": address, "aggregates": data});
                ctx.out.emit(&value, || {
                    let rows: Vec<Vec<String>> =
                        data.iter().map(|(k, v)| vec![k.clone(), output::compact(v, 80)]).collect();
                    if rows.is_empty() {
                        format!("{address} has no aggregate")
                    } else {
                        table(&["KEY", "CONTENT"], &rows)
                    }
                })
            }
            AggregateCommand::Forget { key, reason } => {
                let signer = ctx.signer()?;
                let filter = MessageFilter::new()
                    .message_type(MessageType::Aggregate)
                    .address(aleph_sdk::core::Signer::address(&signer))
                    .content_key(key.clone());
                let page = ctx.client()?.get_messages(&filter, 1, 200).await?;
                if page.messages.is_empty() {
                    return Err(
                        CliError::Failed(format!("you have no aggregate message for key {key:?}")).into()
                    );
                }
                let mut b = MessageBuilder::forget(page.messages.into_iter().map(|m| m.item_hash));
                if let Some(r) = reason {
                    b = b.reason(r);
                }
                ctx.write(&signer, b).await.map(drop)
            }
        }
    }
}
