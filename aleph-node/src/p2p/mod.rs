//! The P2P layer (NETWORK.md §3): libp2p gossipsub wire-compatible with the reference
//! `p2p-service`, ALIVE announcements and a peer table, HTTP content fetch from peers, and a
//! request/response catch-up sync so a node that was down receives what it missed.
//!
//! [`spawn`] starts a private event loop that owns the `Swarm` and returns a cloneable
//! [`P2pHandle`]; the handle is the node's [`Broadcaster`] (messages accepted by the API are
//! published) and the pipeline's [`ContentFetcher`](crate::pipeline::ContentFetcher).
//!
//! Every message that arrives from the network, by gossip or by sync, is checked — envelope
//! format, item hash, intake rules, signature — before it is submitted to the pipeline and, for
//! gossip, before gossipsub may forward it; invalid gossip is rejected, which penalises the peer
//! that sent it in gossipsub's peer score.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::Broadcaster;
use crate::pipeline::Pipeline;

mod catch_up;
mod event_loop;
pub(crate) mod fetch;
pub(crate) mod message_id;
pub(crate) mod sync;
mod validate;

pub(crate) use message_id::message_id;
pub(crate) use validate::validate_gossip;

/// The reference's topic for messages.
pub const DEFAULT_MESSAGE_TOPIC: &str = "ALEPH-TEST";
/// The reference's topic for peer announcements.
pub const DEFAULT_ALIVE_TOPIC: &str = "ALIVE";
/// Largest gossip message, in bytes (the reference's `max_transmit_size`).
pub(crate) const MAX_TRANSMIT_SIZE: usize = 262_144;

/// The live network's bootstrap peers (NETWORK.md §3.2).
pub const LIVE_BOOTSTRAP_PEERS: &[&str] = &[
    "/dns/api2.aleph.im/tcp/4025/p2p/QmZkurbY2G2hWay59yiTgQNaQxHSNzKZFt2jbnwJhQcKgV",
    "/dns/api3.aleph.im/tcp/4025/p2p/Qmb5b2ZwJm9pVWrppf3D3iMF1bXbjZhbJTwGvKEBMZNxa2",
];

/// Where the node's libp2p key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "path")]
pub enum IdentityConfig {
    /// An Ed25519 key generated on first start and kept in `p2p-ed25519.key` in the data
    /// directory (a `12D3Koo…` peer id).
    Ed25519,
    /// An RSA key read from a PKCS#8 DER file, as the reference's `node-secret.pkcs8.der`
    /// (keeps an existing `Qm…` peer id).
    RsaPkcs8Der(PathBuf),
}

/// How the P2P layer runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pConfig {
    /// The multiaddr to listen on (the reference: `/ip4/0.0.0.0/tcp/4025`).
    pub listen: String,
    /// Peers dialled at start and every [`P2pConfig::reconnect_secs`] (multiaddrs ending in
    /// `/p2p/<peer id>`).
    pub bootstrap: Vec<String>,
    /// The topic messages are gossiped on.
    pub message_topic: String,
    /// The topic peers announce themselves on.
    pub alive_topic: String,
    /// The node's key.
    pub identity: IdentityConfig,
    /// The HTTP API URL announced to peers (`http://ip:port`); the node fills in its own
    /// listening address when unset.
    pub public_http: Option<String>,
    /// HTTP peers asked for content a node lacks, besides those learned from ALIVE.
    pub http_peers: Vec<String>,
    /// Seconds between ALIVE announcements (the reference: 120).
    pub alive_interval_secs: f64,
    /// Seconds between re-dials of bootstrap peers and catch-up rounds (the reference: 60).
    pub reconnect_secs: f64,
    /// Gossipsub heartbeat, in seconds (the reference: 1).
    pub heartbeat_secs: f64,
    /// Messages per catch-up page.
    pub sync_page_size: u32,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: "/ip4/0.0.0.0/tcp/4025".into(),
            bootstrap: LIVE_BOOTSTRAP_PEERS.iter().map(|s| (*s).to_owned()).collect(),
            message_topic: DEFAULT_MESSAGE_TOPIC.into(),
            alive_topic: DEFAULT_ALIVE_TOPIC.into(),
            identity: IdentityConfig::Ed25519,
            public_http: None,
            http_peers: Vec::new(),
            alive_interval_secs: 120.0,
            reconnect_secs: 60.0,
            heartbeat_secs: 1.0,
            sync_page_size: 1000,
        }
    }
}

impl P2pConfig {
    /// A configuration for a private network on loopback: an ephemeral port, no bootstrap
    /// peers (add them), Ed25519 identity.
    pub fn local() -> Self {
        P2pConfig { listen: "/ip4/127.0.0.1/tcp/0".into(), bootstrap: Vec::new(), ..Default::default() }
    }
}

/// Why the P2P layer could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum P2pError {
    /// A multiaddr in the configuration does not parse.
    #[error("invalid multiaddr {addr:?}: {reason}")]
    Multiaddr {
        /// The text.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The key file cannot be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file does not hold a usable key.
    #[error("invalid key in {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The libp2p stack could not be assembled or could not listen.
    #[error("libp2p: {0}")]
    Transport(String),
    /// The sync state table could not be created.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The event loop has stopped.
    #[error("the P2P layer has stopped")]
    Stopped,
}

/// Loads or creates the node's libp2p key.
pub(crate) fn load_identity(identity: &IdentityConfig, data_dir: &Path) -> Result<Keypair, P2pError> {
    match identity {
        IdentityConfig::RsaPkcs8Der(path) => {
            let mut der =
                std::fs::read(path).map_err(|source| P2pError::KeyFile { path: path.clone(), source })?;
            Keypair::rsa_from_pkcs8(&mut der)
                .map_err(|e| P2pError::Key { path: path.clone(), reason: e.to_string() })
        }
        IdentityConfig::Ed25519 => {
            let path = data_dir.join("p2p-ed25519.key");
            match std::fs::read(&path) {
                Ok(bytes) => Keypair::from_protobuf_encoding(&bytes)
                    .map_err(|e| P2pError::Key { path: path.clone(), reason: e.to_string() }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = Keypair::generate_ed25519();
                    let bytes = key
                        .to_protobuf_encoding()
                        .map_err(|e| P2pError::Key { path: path.clone(), reason: e.to_string() })?;
                    std::fs::create_dir_all(data_dir)
                        .map_err(|source| P2pError::KeyFile { path: path.clone(), source })?;
                    std::fs::write(&path, bytes)
                        .map_err(|source| P2pError::KeyFile { path: path.clone(), source })?;
                    Ok(key)
                }
                Err(source) => Err(P2pError::KeyFile { path, source }),
            }
        }
    }
}

/// What the node knows of one peer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeerInfo {
    /// Whether a libp2p connection to it is open.
    pub connected: bool,
    /// Addresses it announced on ALIVE, by kind.
    pub addresses: HashMap<String, String>,
    /// The version it announced.
    pub version: Option<String>,
    /// Seconds since the Unix epoch when it was last heard from.
    pub last_seen: f64,
    /// Invalid messages it sent us.
    pub invalid_messages: u64,
    /// Its sequence watermark in our catch-up sync.
    pub synced_seq: i64,
    /// The agent it reported on identify.
    pub agent_version: Option<String>,
    /// Whether it speaks our catch-up protocol (listed on identify, not refused).
    pub speaks_sync: bool,
}

/// Counters for benchmarks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct P2pStats {
    /// Gossip messages accepted and submitted.
    pub gossip_accepted: u64,
    /// Gossip messages rejected by validation.
    pub gossip_rejected: u64,
    /// Messages submitted from catch-up pages.
    pub synced: u64,
    /// Messages from catch-up pages that failed validation.
    pub sync_rejected: u64,
    /// Catch-up pages received.
    pub sync_pages: u64,
    /// Contents fetched from HTTP peers.
    pub content_fetched: u64,
}

pub(crate) enum Command {
    Publish { topic: String, data: Vec<u8> },
    Dial(Multiaddr),
    PeerScore(PeerId, oneshot::Sender<Option<f64>>),
    SyncNow,
}

/// State shared by the handle, the event loop and the content fetcher.
pub(crate) struct Shared {
    pub(crate) peer_id: PeerId,
    pub(crate) config: P2pConfig,
    pub(crate) listen_addrs: RwLock<Vec<Multiaddr>>,
    pub(crate) peers: RwLock<HashMap<PeerId, PeerInfo>>,
    pub(crate) stats: Mutex<P2pStats>,
    pub(crate) http: reqwest::Client,
}

impl Shared {
    pub(crate) fn bump(&self, f: impl FnOnce(&mut P2pStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    pub(crate) fn with_peer(&self, peer: PeerId, f: impl FnOnce(&mut PeerInfo)) {
        if let Ok(mut peers) = self.peers.write() {
            f(peers.entry(peer).or_default());
        }
    }

    /// HTTP base URLs of peers, configured ones first, excluding our own.
    pub(crate) fn http_peers(&self) -> Vec<String> {
        let own = self.config.public_http.as_deref().unwrap_or_default();
        let mut out: Vec<String> = self.config.http_peers.clone();
        if let Ok(peers) = self.peers.read() {
            for info in peers.values() {
                if let Some(url) = info.addresses.get("HTTP") {
                    if !out.contains(url) {
                        out.push(url.clone());
                    }
                }
            }
        }
        out.retain(|u| u.trim_end_matches('/') != own.trim_end_matches('/'));
        out
    }
}

/// A running P2P layer. Cheap to clone; stop it with [`P2pHandle::shutdown`].
#[derive(Clone)]
#[must_use = "the P2P layer runs until shut down"]
pub struct P2pHandle {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    stop: CancellationToken,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for P2pHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2pHandle").field("peer_id", &self.shared.peer_id).finish_non_exhaustive()
    }
}

/// Starts the P2P layer for `pipeline`: binds the listener, dials the bootstrap peers,
/// subscribes to the topics, installs the HTTP content fetcher in the pipeline, and runs until
/// `token` is cancelled or [`P2pHandle::shutdown`] is called.
pub(crate) async fn spawn(
    config: P2pConfig,
    pipeline: Pipeline,
    token: CancellationToken,
) -> Result<P2pHandle, P2pError> {
    let key = load_identity(&config.identity, &pipeline.config().data_dir)?;
    let listen: Multiaddr = parse_addr(&config.listen)?;
    let bootstrap = config.bootstrap.iter().map(|a| parse_addr(a)).collect::<Result<Vec<_>, _>>()?;
    sync::create_tables(&pipeline).await?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| P2pError::Transport(e.to_string()))?;
    let shared = Arc::new(Shared {
        peer_id: key.public().to_peer_id(),
        config,
        listen_addrs: RwLock::new(Vec::new()),
        peers: RwLock::new(HashMap::new()),
        stats: Mutex::new(P2pStats::default()),
        http,
    });
    let (tx, rx) = mpsc::channel(16_384);
    let stop = token.child_token();
    let (ready_tx, ready_rx) = oneshot::channel();
    let event_loop = event_loop::EventLoop::new(key, shared.clone(), pipeline.clone(), rx, stop.clone())?;
    let task = tokio::spawn(event_loop.run(listen, bootstrap, ready_tx));
    match ready_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            stop.cancel();
            let _ = task.await;
            return Err(e);
        }
        Err(_) => return Err(P2pError::Stopped),
    }
    pipeline.set_content_fetcher(Arc::new(fetch::HttpFetcher::new(shared.clone())));
    Ok(P2pHandle { shared, commands: tx, stop, task: Arc::new(Mutex::new(Some(task))) })
}

fn parse_addr(text: &str) -> Result<Multiaddr, P2pError> {
    text.parse().map_err(|e: libp2p::multiaddr::Error| P2pError::Multiaddr {
        addr: text.into(),
        reason: e.to_string(),
    })
}

impl P2pHandle {
    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.shared.peer_id
    }

    /// The addresses the node listens on, each ending in `/p2p/<peer id>`.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        let addrs = self.shared.listen_addrs.read().map(|a| a.clone()).unwrap_or_default();
        addrs.into_iter().map(|a| a.with_p2p(self.shared.peer_id).unwrap_or_else(|a| a)).collect()
    }

    /// Peers with an open connection.
    pub fn connected_peers(&self) -> Vec<PeerId> {
        self.shared
            .peers
            .read()
            .map(|p| p.iter().filter(|(_, i)| i.connected).map(|(id, _)| *id).collect())
            .unwrap_or_default()
    }

    /// The peer table: every peer connected or heard from.
    pub fn peers(&self) -> HashMap<PeerId, PeerInfo> {
        self.shared.peers.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// Traffic counters.
    pub fn stats(&self) -> P2pStats {
        self.shared.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Publishes raw bytes on `topic` (no validation: callers publish what they accepted).
    pub fn publish_raw(&self, topic: &str, data: Vec<u8>) -> Result<(), P2pError> {
        self.commands
            .try_send(Command::Publish { topic: topic.to_owned(), data })
            .map_err(|_| P2pError::Stopped)
    }

    /// Dials a peer.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), P2pError> {
        self.commands.send(Command::Dial(addr)).await.map_err(|_| P2pError::Stopped)
    }

    /// Gossipsub's score of `peer` (negative after invalid messages).
    pub async fn peer_score(&self, peer: PeerId) -> Option<f64> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::PeerScore(peer, tx)).await.ok()?;
        rx.await.ok().flatten()
    }

    /// Starts a catch-up round with every connected peer now.
    pub async fn sync_now(&self) -> Result<(), P2pError> {
        self.commands.send(Command::SyncNow).await.map_err(|_| P2pError::Stopped)
    }

    /// Stops the event loop (closing every connection) and waits for it.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "P2P event loop panicked");
            }
        }
    }
}

impl Broadcaster for P2pHandle {
    fn publish(&self, message: &Value) {
        let data = message.to_string().into_bytes();
        if let Err(e) = self.publish_raw(&self.shared.config.message_topic, data) {
            tracing::warn!(error = %e, "message not gossiped");
        }
    }

    fn multiaddrs(&self) -> Vec<String> {
        self.listen_addrs().iter().map(ToString::to_string).collect()
    }

    fn peer_count(&self) -> usize {
        self.connected_peers().len()
    }

    fn peer_table(&self) -> Vec<(String, PeerInfo)> {
        self.peers().into_iter().map(|(id, info)| (id.to_string(), info)).collect()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> f64 {
    crate::pipeline::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_pkcs8_der_keys_keep_their_qm_peer_id() {
        // A throwaway test key: `openssl genrsa 2048 | openssl pkcs8 -topk8 -outform DER -nocrypt`.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/p2p/testdata/rsa-test-key.pkcs8.der");
        let dir = tempfile_dir("rsa");
        let key = load_identity(&IdentityConfig::RsaPkcs8Der(path.clone()), &dir).unwrap();
        let id = key.public().to_peer_id().to_string();
        assert!(id.starts_with("Qm"), "{id}");
        let again = load_identity(&IdentityConfig::RsaPkcs8Der(path), &dir).unwrap();
        assert_eq!(again.public().to_peer_id().to_string(), id);
        let missing = load_identity(&IdentityConfig::RsaPkcs8Der(dir.join("absent.der")), &dir);
        assert!(matches!(missing, Err(P2pError::KeyFile { .. })));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn ed25519_keys_are_generated_once_and_kept() {
        let dir = tempfile_dir("ed");
        let first = load_identity(&IdentityConfig::Ed25519, &dir).unwrap().public().to_peer_id();
        let second = load_identity(&IdentityConfig::Ed25519, &dir).unwrap().public().to_peer_id();
        assert_eq!(first, second);
        assert!(first.to_string().starts_with("12D3Koo"));
        std::fs::write(dir.join("p2p-ed25519.key"), b"garbage").unwrap();
        assert!(matches!(load_identity(&IdentityConfig::Ed25519, &dir), Err(P2pError::Key { .. })));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("aleph-p2p-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
