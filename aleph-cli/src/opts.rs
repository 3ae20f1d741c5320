//! The command line: the root [`Cli`], the [`Command`] enum, and the option groups every command
//! shares ([`GlobalOpts`], [`SignerOpts`]). Each command's own arguments live beside its code in
//! [`crate::cmd`].

use aleph_sdk::core::Chain;
use clap::{Args, Parser, Subcommand};

use crate::cmd;
use crate::ctx::Ctx;

const AFTER_HELP: &str = "\
Examples:
  aleph account create --name main              # a new encrypted ETH key, used by default
  aleph post create --type chat --content '{\"body\":\"hi\"}'
  aleph message list --types POST --channels TEST --per-page 5
  aleph message verify messages.json            # offline: exit 0 when all are valid
  aleph --dry-run aggregate post profile '{\"name\":\"me\"}'

Environment:
  ALEPH_CCN           the node (URL or profile name), as --ccn (alias: ALEPH_NODE_URL)
  ALEPH_PRIVATE_KEY   a private key, as --private-key
  ALEPH_ACCOUNT       the stored account to use, as --account
  ALEPH_PASSPHRASE    the passphrase of encrypted accounts (otherwise prompted)
  ALEPH_CONFIG_HOME   the configuration directory (default: <platform config dir>/aleph)

Exit codes:
  0  success
  1  failure: the node refused or could not be reached, a message is invalid
  2  bad input or usage: unknown option, unreadable file, malformed JSON";

/// `aleph`: accounts, messages, posts, aggregates, files, programs and instances on the Aleph.im
/// network, with offline verification.
#[derive(Debug, Parser)]
#[command(name = "aleph", version, propagate_version = true, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// The node to talk to: a URL or the name of a profile (`aleph config ccn list`).
    #[arg(long, global = true, env = "ALEPH_CCN", value_name = "URL|NAME")]
    pub ccn: Option<String>,
    /// Machine-readable output: JSON (one object per line for streams and per-message verdicts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Sign and print the message(s) a write would send, and send nothing (local changes to
    /// accounts and profiles are not saved either).
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// The channel of the messages written (default ALEPH-CLOUDSOLUTIONS).
    #[arg(long, global = true, value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// More detail: the causes of errors, then logs (-vv, -vvv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Which key signs.
    #[command(flatten)]
    pub signer: SignerOpts,
}

/// Which key signs: `--private-key`, else `--account`, else the default account.
#[derive(Debug, Clone, Default, Args)]
pub struct SignerOpts {
    /// A stored account (`aleph account list`); default: the one chosen with `aleph account use`.
    #[arg(long, global = true, env = "ALEPH_ACCOUNT", value_name = "NAME")]
    pub account: Option<String>,
    /// A private key: hex (any chain), base58 keypair (SOL) or edsk…/spsk…/p2sk… (TEZOS).
    #[arg(long, global = true, env = "ALEPH_PRIVATE_KEY", hide_env_values = true, value_name = "KEY")]
    pub private_key: Option<String>,
    /// The chain the key signs for: ETH (default), SOL, TEZOS, or another EVM label (BASE, ARB…).
    #[arg(long, global = true, value_name = "CHAIN", value_parser = parse_chain)]
    pub chain: Option<Chain>,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, import, list and export keys (ETH, SOL, TEZOS), stored encrypted.
    Account(cmd::account::AccountArgs),
    /// Publish, amend and list posts.
    Post(cmd::post::PostArgs),
    /// Write, read, list and forget aggregates (key-value documents).
    Aggregate(cmd::aggregate::AggregateArgs),
    /// Upload, download, list and forget stored files.
    File(cmd::file::FileArgs),
    /// Publish and inspect programs (function VMs).
    Program(cmd::program::ProgramArgs),
    /// Publish and list instances (persistent VMs).
    Instance(cmd::instance::InstanceArgs),
    /// Let other addresses send messages on your behalf.
    Authorization(cmd::authorization::AuthorizationArgs),
    /// List the network's core (CCN) and compute (CRN) nodes.
    Node(cmd::node::NodeArgs),
    /// Node profiles and settings.
    Config(cmd::config::ConfigArgs),
    /// Get, list, watch, sign, submit, verify and forget messages of any type.
    Message(Box<cmd::message::MessageArgs>),
    /// Print a shell completion script.
    Completions(cmd::completions::CompletionsArgs),
}

impl Command {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            Command::Account(a) => a.run(ctx).await,
            Command::Post(a) => a.run(ctx).await,
            Command::Aggregate(a) => a.run(ctx).await,
            Command::File(a) => a.run(ctx).await,
            Command::Program(a) => a.run(ctx).await,
            Command::Instance(a) => a.run(ctx).await,
            Command::Authorization(a) => a.run(ctx).await,
            Command::Node(a) => a.run(ctx).await,
            Command::Config(a) => a.run(ctx).await,
            Command::Message(a) => a.run(ctx).await,
            Command::Completions(a) => a.run(ctx).await,
        }
    }
}

/// Parses a chain label, case-insensitively.
pub(crate) fn parse_chain(s: &str) -> Result<Chain, String> {
    s.trim().to_ascii_uppercase().parse::<Chain>().map_err(|e| e.to_string())
}

/// Parses a `KEY=VALUE` pair.
pub(crate) fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests;
