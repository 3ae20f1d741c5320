//! `aleph program`: programs (function VMs) from a directory or a zip archive.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aleph_sdk::core::{ItemHash, MessageType};
use aleph_sdk::{package_directory, MessageBuilder, MessageFilter, ProgramSpec, StoreOptions, SubmitMode};
use clap::{Args, Subcommand};

use crate::ctx::Ctx;
use crate::error::usage;

/// Programs.
#[derive(Debug, Args)]
pub struct ProgramArgs {
    #[command(subcommand)]
    command: ProgramCommand,
}

#[derive(Debug, Subcommand)]
enum ProgramCommand {
    /// Package code, store it, and publish the PROGRAM that runs it.
    ///
    /// Examples:
    ///   aleph program create ./my-app --entrypoint main:app
    ///   aleph program create app.zip --entrypoint main:app --memory 512 --env MODE=prod --persistent
    #[command(verbatim_doc_comment)]
    Create {
        /// A directory (zipped deterministically) or a zip archive.
        path: PathBuf,
        /// The entrypoint, e.g. `main:app` for Python ASGI apps.
        #[arg(long)]
        entrypoint: String,
        /// Memory in MiB.
        #[arg(long, default_value_t = 256)]
        memory: u64,
        /// Virtual CPUs.
        #[arg(long, default_value_t = 1)]
        vcpus: u64,
        /// Seconds a request may run.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
        /// Keep the VM running instead of starting it on demand.
        #[arg(long)]
        persistent: bool,
        /// Environment variable (repeatable).
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = crate::opts::parse_key_value)]
        env: Vec<(String, String)>,
        /// The runtime's STORE hash (default: the official Debian 12 Python runtime).
        #[arg(long)]
        runtime: Option<String>,
        /// Allow later messages to amend this program.
        #[arg(long)]
        allow_amend: bool,
    },
    /// List the programs of an address.
    ///
    /// Example: aleph program list --address 0xAbc…
    #[command(verbatim_doc_comment)]
    List {
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
    /// Show a program's message.
    ///
    /// Example: aleph program show 3f2a…c9
    #[command(verbatim_doc_comment)]
    Show {
        /// The item hash of the PROGRAM message.
        hash: String,
    },
}

impl ProgramArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            ProgramCommand::Create {
                path,
                entrypoint,
                memory,
                vcpus,
                timeout,
                persistent,
                env,
                runtime,
                allow_amend,
            } => {
                if !path.exists() {
                    return Err(usage(format!("{} does not exist", path.display())));
                }
                let signer = ctx.signer()?;
                let archive = tokio::task::spawn_blocking({
                    let path = path.clone();
                    move || package_directory(&path)
                })
                .await??;
                let mut store = StoreOptions::new().content_type("application/zip").mode(SubmitMode::Sync);
                if let Some(c) = &ctx.global.channel {
                    store = store.channel(c.clone());
                }
                let configure = |code_ref: ItemHash| -> anyhow::Result<MessageBuilder> {
                    let mut spec = ProgramSpec::new(code_ref, entrypoint.clone());
                    spec.memory_mib = memory;
                    spec.vcpus = vcpus;
                    spec.timeout_seconds = timeout;
                    spec.persistent = persistent;
                    spec.allow_amend = allow_amend;
                    spec.variables = env.iter().cloned().collect::<BTreeMap<_, _>>();
                    if let Some(r) = &runtime {
                        spec.runtime = super::item_hash(r)?.to_string();
                    }
                    Ok(ctx.with_channel(MessageBuilder::program(&spec)))
                };
                if ctx.dry_run() {
                    let code = store.sign(&archive, &signer)?;
                    let program = configure(code.item_hash.clone())?.build(&signer)?;
                    return ctx.out.signed(&[code, program]);
                }
                let client = ctx.client()?;
                let code = client.create_store(&signer, archive, &store).await?;
                ctx.out.submitted(&code)?;
                let builder = configure(code.item_hash().clone())?;
                let program = client.publish(&signer, &builder, SubmitMode::Sync).await?;
                ctx.out.submitted(&program)
            }
            ProgramCommand::List { address } => list_vms(ctx, MessageType::Program, address).await,
            ProgramCommand::Show { hash } => {
                let hash = super::item_hash(&hash)?;
                let m = ctx.client()?.get_message(&hash).await?;
                ctx.out.document(&m)
            }
        }
    }
}

/// Lists the PROGRAM or INSTANCE messages of an address.
pub(crate) async fn list_vms(ctx: &Ctx, t: MessageType, address: Option<String>) -> anyhow::Result<()> {
    let address = ctx.address_or_own(address)?;
    let filter = MessageFilter::new().message_type(t).owner(address);
    let page = ctx.client()?.get_messages(&filter, 1, 100).await?;
    super::message::print_page(ctx, &page.messages, page.page, page.per_page, page.total)
}
