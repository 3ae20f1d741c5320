//! `aleph authorization`: the delegations of your `security` aggregate.

use aleph_sdk::core::{Chain, MessageType, Signer};
use aleph_sdk::Authorization;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::ctx::Ctx;
use crate::output::table;

/// Authorizations.
#[derive(Debug, Args)]
pub struct AuthorizationArgs {
    #[command(subcommand)]
    command: AuthorizationCommand,
}

#[derive(Debug, Subcommand)]
enum AuthorizationCommand {
    /// Let an address send messages on your behalf (optionally only some kinds).
    ///
    /// Examples:
    ///   aleph authorization add 0xDelegate…
    ///   aleph authorization add 0xDelegate… --types POST --post-types chat --channels TEST
    #[command(verbatim_doc_comment)]
    Add {
        /// The delegate's address.
        delegate: String,
        /// Only messages signed for this chain.
        #[arg(long = "delegate-chain", value_parser = crate::opts::parse_chain)]
        delegate_chain: Option<Chain>,
        /// Only these channels (comma-separated).
        #[arg(long, value_delimiter = ',')]
        channels: Vec<String>,
        /// Only these message types (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = super::message::parse_type)]
        types: Vec<MessageType>,
        /// Only these post types (comma-separated).
        #[arg(long, value_delimiter = ',')]
        post_types: Vec<String>,
        /// Only these aggregate keys (comma-separated).
        #[arg(long, value_delimiter = ',')]
        aggregate_keys: Vec<String>,
    },
    /// List the delegations an address has granted.
    ///
    /// Example: aleph authorization list --address 0xAbc…
    #[command(verbatim_doc_comment)]
    List {
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
    /// Remove every delegation to an address.
    ///
    /// Example: aleph authorization revoke 0xDelegate…
    #[command(verbatim_doc_comment)]
    Revoke {
        /// The delegate's address.
        delegate: String,
    },
}

impl AuthorizationArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            AuthorizationCommand::Add {
                delegate,
                delegate_chain,
                channels,
                types,
                post_types,
                aggregate_keys,
            } => {
                let signer = ctx.signer()?;
                let mut a = Authorization::new(delegate);
                if let Some(c) = delegate_chain {
                    a = a.chain(c);
                }
                for c in channels {
                    a = a.channel(c);
                }
                for t in types {
                    a = a.message_type(t);
                }
                for p in post_types {
                    a = a.post_type(p);
                }
                for k in aggregate_keys {
                    a = a.aggregate_key(k);
                }
                let builder = ctx.client()?.compose_add_authorization(signer.address(), a).await?;
                ctx.write(&signer, builder).await.map(drop)
            }
            AuthorizationCommand::List { address } => {
                let address = ctx.address_or_own(address)?;
                let list = ctx.client()?.get_authorizations(&address).await?;
                ctx.out.emit(&json!({"address": address, "authorizations": list}), || {
                    if list.is_empty() {
                        return format!("{address} has authorized no one");
                    }
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|a| {
                            let any = |v: &[String]| if v.is_empty() { "*".to_owned() } else { v.join(",") };
                            vec![
                                a.address.clone(),
                                a.chain.clone().unwrap_or_else(|| "*".into()),
                                any(&a.channels),
                                any(&a.types),
                                any(&a.post_types),
                                any(&a.aggregate_keys),
                            ]
                        })
                        .collect();
                    table(&["DELEGATE", "CHAIN", "CHANNELS", "TYPES", "POST_TYPES", "AGGREGATE_KEYS"], &rows)
                })
            }
            AuthorizationCommand::Revoke { delegate } => {
                let signer = ctx.signer()?;
                let Some(builder) =
                    ctx.client()?.compose_revoke_authorization(signer.address(), &delegate).await?
                else {
                    return Err(
                        crate::error::CliError::Failed(format!("{delegate} has no authorization")).into()
                    );
                };
                ctx.write(&signer, builder).await.map(drop)
            }
        }
    }
}
