//! `aleph-node`: run an Aleph.im node.

use std::net::SocketAddr;
use std::path::PathBuf;

use aleph_node::config::{IdentityConfig, P2pConfig};
use aleph_node::{Node, NodeConfig};
use anyhow::Context;
use clap::{Parser, Subcommand};

/// Runs an Aleph.im node: a CCN with embedded storage, a CRN running programs, or both.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = "Examples:\n  aleph-node                       # local dev node on 127.0.0.1:4024\n  aleph-node --listen 0.0.0.0:4024 --data-dir /var/lib/aleph   # public address: no dev mode\n  aleph-node --config node.toml\n  aleph-node --role both           # CCN and CRN in one process (programs at /vm/{hash})\n  aleph-node --role crn --listen 127.0.0.1:4020 --ccn-url http://127.0.0.1:4024")]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// TOML configuration file (flags override it).
    #[arg(long, short = 'c', env = "ALEPH_NODE_CONFIG")]
    config: Option<PathBuf>,
    /// Address the HTTP API listens on.
    #[arg(long, env = "ALEPH_NODE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory holding the database and the file store.
    #[arg(long, env = "ALEPH_NODE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Dev mode: funded dev accounts with well-known keys. On by default on loopback addresses;
    /// on any other address only with this flag.
    #[arg(long, conflicts_with = "no_dev")]
    dev: bool,
    /// Disable dev mode (no funded dev accounts).
    #[arg(long)]
    no_dev: bool,
    /// Address whose `balances-update` POSTs are trusted (repeatable; replaces the defaults).
    #[arg(long = "balance-sender")]
    balance_senders: Vec<String>,
    /// Largest JSON request body in bytes.
    #[arg(long)]
    max_body_bytes: Option<usize>,
    /// Join the P2P network (gossip, content fetch from peers, catch-up sync).
    #[arg(long)]
    p2p: bool,
    /// Multiaddr the P2P layer listens on.
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/4025")]
    p2p_listen: String,
    /// Bootstrap peer multiaddr (repeatable; replaces the live network's).
    #[arg(long = "bootstrap")]
    bootstrap: Vec<String>,
    /// RSA key in PKCS#8 DER (keeps an existing Qm… peer id); default: an Ed25519 key kept in
    /// the data directory.
    #[arg(long)]
    p2p_key: Option<PathBuf>,
    /// Gossip topic for messages (private networks change it).
    #[arg(long, default_value = aleph_node::config::DEFAULT_MESSAGE_TOPIC)]
    topic: String,
    /// Gossip topic for peer announcements.
    #[arg(long, default_value = aleph_node::config::DEFAULT_ALIVE_TOPIC)]
    alive_topic: String,
    /// HTTP API URL announced to peers (default: the listening address).
    #[arg(long)]
    public_http: Option<String>,
    /// What the node runs: a CCN, a CRN (running programs), or both in one process.
    #[arg(long, value_enum, env = "ALEPH_NODE_ROLE")]
    role: Option<RoleArg>,
    /// The CCN a CRN resolves programs through (default with `--role both`: this node).
    #[arg(long)]
    ccn_url: Option<String>,
    /// The CRN's public URL, as registered with `create-resource-node`.
    #[arg(long)]
    crn_url: Option<String>,
}

/// `--role`: the binary's own flag values, mapped onto the library's [`Role`](aleph_node::config::Role)
/// (the library's configuration carries no command-line derive).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// A core channel node: the API, the message pipeline, storage.
    Ccn,
    /// A compute resource node: runs programs resolved through a CCN.
    Crn,
    /// Both in one process.
    Both,
}

impl From<RoleArg> for aleph_node::config::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Ccn => Self::Ccn,
            RoleArg::Crn => Self::Crn,
            RoleArg::Both => Self::Both,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Starts a local network of N nodes on loopback (own data dirs and ports); Ctrl-C stops all.
    Devnet {
        /// How many nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Where the nodes' data directories go (default: a temporary directory, removed at exit).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// API port of the first node; the others follow (default: any free ports).
        #[arg(long)]
        base_port: Option<u16>,
    },
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
    if let Some(Cmd::Devnet { nodes, data_dir, base_port }) = args.command {
        return devnet(nodes, data_dir, base_port).await;
    }
    let mut config = match &args.config {
        Some(path) => NodeConfig::from_file(path)?,
        None => NodeConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    config.dev = dev_mode(&args, &config)?;
    if config.dev && !config.listen.ip().is_loopback() {
        let warning = format!(
            "WARNING: dev mode on {}, a non-loopback address: anyone who can reach it can use the dev accounts, whose keys are public and funded with ALEPH and credits",
            config.listen
        );
        eprintln!("{warning}");
        tracing::warn!("{warning}");
    }
    if !args.balance_senders.is_empty() {
        config.balance_senders = args.balance_senders;
    }
    if let Some(n) = args.max_body_bytes {
        config.limits.max_body_bytes = n;
    }
    if let Some(role) = args.role {
        config.role = role.into();
    }
    if args.ccn_url.is_some() {
        config.crn.ccn_url = args.ccn_url.clone();
    }
    if args.crn_url.is_some() {
        config.crn.public_url = args.crn_url.clone();
    }
    let mut builder = Node::builder(config.clone());
    // `--p2p` networks the node from flags; a `[p2p]` section in the file does it too.
    if args.p2p {
        let mut bootstrap = args.bootstrap.clone();
        if bootstrap.is_empty() {
            bootstrap = P2pConfig::default().bootstrap;
        }
        builder = builder.p2p(P2pConfig {
            listen: args.p2p_listen.clone(),
            bootstrap,
            message_topic: args.topic.clone(),
            alive_topic: args.alive_topic.clone(),
            identity: args.p2p_key.clone().map_or(IdentityConfig::Ed25519, IdentityConfig::RsaPkcs8Der),
            public_http: args.public_http.clone(),
            ..P2pConfig::default()
        });
    }
    let node = builder.launch().await.context("starting the node")?;
    if let Some(accounts) = node.dev_accounts() {
        println!("{}", accounts.table());
        println!("Accounts also written to {}", config.data_dir.join("dev-accounts.json").display());
    }
    println!("aleph-node listening on {}", node.url());
    if let Some(p2p) = node.p2p() {
        println!("peer id {}", p2p.local_peer_id());
        for addr in p2p.listen_addrs() {
            println!("P2P listening on {addr}");
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = node.failed() => {}
    }
    node.shutdown().await;
    Ok(())
}

/// `aleph-node devnet --nodes N`: N networked nodes on loopback, the first one the others'
/// bootstrap peer, until Ctrl-C.
async fn devnet(n: usize, data_dir: Option<PathBuf>, base_port: Option<u16>) -> anyhow::Result<()> {
    anyhow::ensure!((1..=64).contains(&n), "--nodes must be between 1 and 64");
    let (root, _temp) = match data_dir {
        Some(dir) => (dir, None),
        None => {
            let t = std::env::temp_dir().join(format!("aleph-devnet-{}", std::process::id()));
            (t.clone(), Some(TempDir(t)))
        }
    };
    let mut nodes = Vec::with_capacity(n);
    let mut bootstrap: Vec<String> = Vec::new();
    for i in 0..n {
        let mut config = NodeConfig::ephemeral(root.join(format!("node{i}")));
        config.dev = true;
        if let Some(port) = base_port {
            let port = port.checked_add(i as u16).context("port out of range")?;
            config.listen = SocketAddr::from(([127, 0, 0, 1], port));
        }
        let p2p = P2pConfig { bootstrap: bootstrap.clone(), ..P2pConfig::local() };
        let node =
            Node::builder(config).p2p(p2p).launch().await.with_context(|| format!("starting node {i}"))?;
        let handle = node.p2p().context("P2P layer")?;
        if i == 0 {
            bootstrap = handle.listen_addrs().iter().map(ToString::to_string).collect();
        }
        println!("node {i}: API {}  peer id {}", node.url(), handle.local_peer_id());
        nodes.push(node);
    }
    println!("devnet of {n} nodes running (data in {}); Ctrl-C to stop", root.display());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

/// Whether the node runs in dev mode: `--dev` or `--no-dev` when given; otherwise the file's
/// `dev` on loopback addresses (on by default there). Elsewhere only `--dev` turns it on: a
/// file's `dev = true` on a public address is refused, as it would publish funded keys.
fn dev_mode(args: &Args, config: &NodeConfig) -> anyhow::Result<bool> {
    if args.dev {
        return Ok(true);
    }
    if args.no_dev {
        return Ok(false);
    }
    let from_file = match &args.config {
        Some(path) => std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|table| table.get("dev").and_then(toml::Value::as_bool)),
        None => None,
    };
    let loopback = config.listen.ip().is_loopback();
    match from_file {
        Some(true) if !loopback => anyhow::bail!(
            "`dev = true` in the configuration, but {} is not a loopback address: dev mode there publishes funded, well-known keys; pass --dev to mean it",
            config.listen
        ),
        Some(dev) => Ok(dev),
        None => Ok(loopback),
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
