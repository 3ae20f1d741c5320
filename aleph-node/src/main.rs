//! `aleph-node`: run an Aleph.im node.

use std::net::SocketAddr;
use std::path::PathBuf;

use aleph_node::{Node, NodeConfig};
use anyhow::Context;
use clap::Parser;

/// Runs an Aleph.im node (CCN) with embedded storage.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = "Examples:\n  aleph-node                       # local dev node on 127.0.0.1:4024\n  aleph-node --listen 0.0.0.0:4024 --data-dir /var/lib/aleph --no-dev\n  aleph-node --config node.toml")]
struct Args {
    /// TOML configuration file (flags override it).
    #[arg(long, short = 'c', env = "ALEPH_NODE_CONFIG")]
    config: Option<PathBuf>,
    /// Address the HTTP API listens on.
    #[arg(long, env = "ALEPH_NODE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory holding the database and the file store.
    #[arg(long, env = "ALEPH_NODE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Disable dev mode (no funded dev accounts).
    #[arg(long)]
    no_dev: bool,
    /// Address whose `balances-update` POSTs are trusted (repeatable; replaces the defaults).
    #[arg(long = "balance-sender")]
    balance_senders: Vec<String>,
    /// Largest JSON request body in bytes.
    #[arg(long)]
    max_body_bytes: Option<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => NodeConfig::from_file(path)?,
        None => NodeConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if args.no_dev {
        config.dev = false;
    }
    if !args.balance_senders.is_empty() {
        config.balance_senders = args.balance_senders;
    }
    if let Some(n) = args.max_body_bytes {
        config.limits.max_body_bytes = n;
    }
    let node = Node::builder(config.clone()).launch().await.context("starting the node")?;
    if let Some(accounts) = node.dev_accounts() {
        println!("{}", accounts.table());
        println!("Accounts also written to {}", config.data_dir.join("dev-accounts.json").display());
    }
    println!("aleph-node listening on {}", node.url());
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = node.failed() => {}
    }
    node.shutdown().await;
    Ok(())
}
