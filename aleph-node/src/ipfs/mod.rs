//! The embedded IPFS engine: a block store under the data directory, UnixFS import and export as
//! kubo does them, CARv1 import, and bitswap 1.2 on a libp2p swarm of its own (`[ipfs] listen`),
//! so that the node fetches IPFS content from IPFS peers (kubo among them) and serves what it
//! holds, with no daemon beside it.
//!
//! Pins are the node's file pins: the roots kept are the IPFS files the database records (pinned
//! by a STORE, or within their upload grace period); [`IpfsEngine::collect_garbage`] removes
//! every block not reachable from them.

mod bitswap;
mod bitswap_message;
mod bitswap_net;
pub(crate) mod blockstore;
pub(crate) mod car;
pub(crate) mod dag;
mod dht;
mod hamt;
mod pb;
#[cfg(test)]
mod wrong_block;

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aleph_core::cid::Cid;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

pub(crate) use bitswap::BitswapStats;
pub use blockstore::{BlockStore, FsBlockStore};
pub use dag::{node_kind, Block, DagError, FileImporter, ImportOptions, Imported, NodeKind};
pub use dht::{DhtMode, DEFAULT_BOOTSTRAP_PEERS};

use crate::storage::BoxFuture;

/// Imports of at most this many bytes in memory are hashed in place; larger ones on a blocking
/// thread.
const INLINE_HASHING: usize = 1 << 20;

/// How long a fetch waits for a first IPFS peer to connect before it gives up.
const NO_PEER_GRACE: Duration = Duration::from_secs(2);

/// The `[ipfs]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpfsConfig {
    /// Runs the engine (on by default).
    pub enabled: bool,
    /// The bitswap swarm's listen multiaddr.
    pub listen: String,
    /// IPFS peers (multiaddrs with `/p2p/<peer id>`), dialed at start and kept connected.
    pub peers: Vec<String>,
    /// Join the IPFS DHT through `bootstrap_peers`: provider lookups for content no connected
    /// peer has, and provider announcements of what the node keeps.
    pub bootstrap: bool,
    /// The DHT's bootstrap peers (multiaddrs with `/p2p/<peer id>`); kubo's by default. Only
    /// used with `bootstrap = true`.
    pub bootstrap_peers: Vec<String>,
    /// Whether the node answers DHT queries: `auto` (the LAN table serves, the public one once
    /// a listen address is public), `client` or `server`. Only used with `bootstrap = true`.
    pub dht_mode: DhtMode,
    /// Largest DAG fetched over bitswap, in bytes.
    pub max_fetch_bytes: u64,
    /// How long a fetch over bitswap may take, in seconds.
    pub fetch_timeout_secs: f64,
}

impl Default for IpfsConfig {
    fn default() -> Self {
        IpfsConfig {
            enabled: true,
            listen: "/ip4/0.0.0.0/tcp/4001".into(),
            peers: Vec::new(),
            bootstrap: false,
            bootstrap_peers: DEFAULT_BOOTSTRAP_PEERS.iter().map(|s| s.to_string()).collect(),
            dht_mode: DhtMode::Auto,
            max_fetch_bytes: 1 << 30,
            fetch_timeout_secs: 60.0,
        }
    }
}

/// Why an IPFS operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpfsError {
    /// Disk I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A block's bytes do not hash to its CID.
    #[error("block {0} does not match its CID")]
    HashMismatch(String),
    /// A block is not a UnixFS node this engine reads.
    #[error(transparent)]
    Dag(#[from] DagError),
    /// The swarm could not start.
    #[error("IPFS network: {0}")]
    Network(String),
    /// A block could not be had (not stored, and no peer sent it in time).
    #[error("block {0} not found (locally nor from IPFS peers in time)")]
    NotFound(String),
    /// The DAG is over the size limit.
    #[error("the content is over the {0}-byte limit")]
    TooLarge(u64),
    /// A CAR archive is malformed or its roots do not check.
    #[error("CAR: {0}")]
    Car(String),
    /// A directory where a file was expected.
    #[error("{0} is a directory")]
    IsDirectory(String),
    /// The configuration cannot be used.
    #[error("invalid [ipfs] configuration: {0}")]
    Config(String),
}

/// kubo's `ipfs id` answer, in its shape (`{"ID", "Addresses"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpfsId {
    /// The swarm's peer id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its listen multiaddrs, each ending in `/p2p/<ID>`.
    #[serde(rename = "Addresses")]
    pub addresses: Vec<String>,
}

/// What a CAR import stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarImport {
    /// The header's roots (each present, with its whole DAG).
    pub roots: Vec<Cid>,
    /// Blocks stored.
    pub blocks: u64,
    /// Bytes of those blocks.
    pub bytes: u64,
}

/// The IPFS engine as the node's other parts use it.
pub trait IpfsEngine: Send + Sync + std::fmt::Debug + 'static {
    /// The swarm's identity and addresses.
    fn id(&self) -> IpfsId;
    /// Imports the file at `path` as `ipfs add` with `options` would.
    fn import_file<'a>(
        &'a self,
        path: &'a Path,
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>>;
    /// Imports file bytes held in memory.
    fn import_bytes<'a>(
        &'a self,
        data: &'a [u8],
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>>;
    /// Imports a directory tree as `ipfs add -r` does: hidden entries skipped (as kubo does
    /// without `--hidden`), symlinks stored as symlinks, and a directory whose links reach
    /// 256 KiB HAMT-sharded.
    fn import_directory<'a>(
        &'a self,
        path: &'a Path,
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>>;
    /// Writes the DAG under `root` to `dest`: a file, or a directory tree (basic or HAMT-sharded
    /// directories, files, symlinks). Below `dest` nothing that exists is overwritten.
    fn export_path<'a>(&'a self, root: &'a Cid, dest: &'a Path) -> BoxFuture<'a, Result<(), IpfsError>>;
    /// Imports a CARv1 archive: every block hash-checked, every root present with its whole DAG.
    fn import_car<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<CarImport, IpfsError>>;
    /// Makes the DAG under `root` local (fetching missing blocks over bitswap within the
    /// configured timeout), refusing past `max_bytes` of blocks; returns the file size the root
    /// declares (for a directory, the bytes of its blocks).
    fn fetch<'a>(&'a self, root: &'a Cid, max_bytes: u64) -> BoxFuture<'a, Result<u64, IpfsError>>;
    /// The file bytes under `root`, in order, from local blocks ([`IpfsEngine::fetch`] first).
    fn export(&self, root: Cid) -> BoxStream<'static, Result<Bytes, IpfsError>>;
    /// Removes every block not reachable from `roots`; returns how many were removed.
    fn collect_garbage(&self, roots: Vec<Cid>) -> BoxFuture<'_, Result<usize, IpfsError>>;
    /// Bitswap's counters and the connected peers (zero offline).
    fn stats(&self) -> BitswapStats;
    /// Whether the DAG under `root` is complete locally.
    fn has_dag<'a>(&'a self, root: &'a Cid) -> BoxFuture<'a, Result<bool, IpfsError>>;
}

/// The engine: a block store and, networked, bitswap.
#[derive(Debug, Clone)]
pub struct Ipfs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn BlockStore>,
    bitswap: Option<bitswap::Bitswap>,
    timeout: Duration,
    /// Imports and fetches hold it shared; garbage collection exclusively, so that it never
    /// removes the blocks of a DAG being written.
    gc_lock: RwLock<()>,
}

impl Ipfs {
    /// Opens the engine under `dir` (`blocks/`, `identity.key`) and starts bitswap on
    /// `config.listen`, until `token` is cancelled.
    pub async fn start(config: &IpfsConfig, dir: &Path, token: CancellationToken) -> Result<Ipfs, IpfsError> {
        let listen: Multiaddr = config
            .listen
            .parse()
            .map_err(|e| IpfsError::Config(format!("listen {:?}: {e}", config.listen)))?;
        let listen = free_or_ephemeral(listen);
        let peers = config
            .peers
            .iter()
            .map(|p| p.parse::<Multiaddr>().map_err(|e| IpfsError::Config(format!("peer {p:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let bootstrap = match config.bootstrap {
            false => None,
            true => Some((
                config
                    .bootstrap_peers
                    .iter()
                    .map(|p| {
                        let addr: Multiaddr =
                            p.parse().map_err(|e| IpfsError::Config(format!("bootstrap peer {p:?}: {e}")))?;
                        match addr.iter().last() {
                            Some(libp2p::multiaddr::Protocol::P2p(_)) => Ok(addr),
                            _ => {
                                Err(IpfsError::Config(format!("bootstrap peer {p:?} has no /p2p/<peer id>")))
                            }
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                config.dht_mode,
            )),
        };
        let store: Arc<dyn BlockStore> = Arc::new(FsBlockStore::open(&dir.join("blocks"))?);
        let key = load_or_create_key(&dir.join("identity.key"))?;
        let bitswap = bitswap::Bitswap::spawn(key, listen, peers, bootstrap, store.clone(), token).await?;
        Ok(Ipfs::from_parts(
            store,
            Some(bitswap),
            Duration::from_secs_f64(config.fetch_timeout_secs.max(0.1)),
        ))
    }

    /// An engine over `store` with no network (content is only what is imported).
    pub fn offline(store: Arc<dyn BlockStore>) -> Ipfs {
        Ipfs::from_parts(store, None, Duration::ZERO)
    }

    fn from_parts(store: Arc<dyn BlockStore>, bitswap: Option<bitswap::Bitswap>, timeout: Duration) -> Ipfs {
        Ipfs { inner: Arc::new(Inner { store, bitswap, timeout, gc_lock: RwLock::new(()) }) }
    }

    /// The block store.
    pub fn store(&self) -> &Arc<dyn BlockStore> {
        &self.inner.store
    }

    /// The connected IPFS peers' ids.
    pub fn connected_peers(&self) -> Vec<String> {
        self.inner
            .bitswap
            .as_ref()
            .map(|b| b.connected().iter().map(|p| p.to_string()).collect())
            .unwrap_or_default()
    }

    /// Dials an IPFS peer (a multiaddr with `/p2p/…`).
    pub fn dial(&self, addr: &str) -> Result<(), IpfsError> {
        let addr: Multiaddr = addr.parse().map_err(|e| IpfsError::Config(format!("{addr:?}: {e}")))?;
        if let Some(b) = &self.inner.bitswap {
            b.dial(addr);
        }
        Ok(())
    }

    /// Stores `blocks` (concurrently: the writes are independent files).
    async fn put_all(&self, blocks: Vec<Block>) -> Result<(), IpfsError> {
        use futures_util::StreamExt;
        let store = &self.inner.store;
        let mut results = futures_util::stream::iter(blocks)
            .map(|b| async move { store.put(&b.cid, b.data).await })
            .buffer_unordered(8);
        while let Some(r) = results.next().await {
            r?;
        }
        Ok(())
    }

    /// Blocks, local or asked over bitswap together before `deadline`, in order.
    async fn blocks(&self, cids: &[Cid], deadline: Instant) -> Result<Vec<Bytes>, IpfsError> {
        let mut out = Vec::with_capacity(cids.len());
        let mut missing = Vec::new();
        for (i, cid) in cids.iter().enumerate() {
            let block = self.inner.store.get(cid).await?;
            if block.is_none() {
                missing.push(i);
            }
            out.push(block);
        }
        if !missing.is_empty() {
            let Some(bitswap) = &self.inner.bitswap else {
                return Err(IpfsError::NotFound(cids[missing[0]].to_string()));
            };
            let wanted: Vec<Cid> = missing.iter().map(|&i| cids[i]).collect();
            let left = deadline.saturating_duration_since(Instant::now());
            // With no IPFS peer at all, nobody can answer: fail now (the caller's retry rules
            // apply) rather than hold the caller for the whole timeout.
            if !bitswap.wait_connected(left.min(NO_PEER_GRACE)).await {
                return Err(IpfsError::NotFound(wanted[0].to_string()));
            }
            for (&i, got) in missing.iter().zip(bitswap.want_many(&wanted, left).await) {
                out[i] = got;
            }
        }
        out.into_iter()
            .zip(cids)
            .map(|(b, cid)| b.ok_or_else(|| IpfsError::NotFound(cid.to_string())))
            .collect()
    }

    /// A block, local or over bitswap before `deadline`.
    async fn block(&self, cid: &Cid, deadline: Instant) -> Result<Bytes, IpfsError> {
        if let Some(b) = self.inner.store.get(cid).await? {
            return Ok(b);
        }
        Ok(self.blocks(std::slice::from_ref(cid), deadline).await?.remove(0))
    }
}

impl IpfsEngine for Ipfs {
    fn id(&self) -> IpfsId {
        match &self.inner.bitswap {
            Some(b) => {
                let id = b.peer_id();
                let addresses = b
                    .listen_addrs()
                    .into_iter()
                    .map(|a| a.with(libp2p::multiaddr::Protocol::P2p(id)).to_string())
                    .collect();
                IpfsId { id: id.to_string(), addresses }
            }
            None => IpfsId { id: String::new(), addresses: Vec::new() },
        }
    }

    fn import_file<'a>(
        &'a self,
        path: &'a Path,
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>> {
        Box::pin(async move {
            let _guard = self.inner.gc_lock.read().await;
            // Read and hashed on a blocking thread (a 100 MiB file is ~0.3 s of SHA-256, which
            // would stall the runtime's worker); the blocks are written here as they come, up
            // to two batches behind.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Block>>(2);
            let path = path.to_path_buf();
            let hashing =
                tokio::task::spawn_blocking(move || -> Result<(Imported, Vec<Block>), IpfsError> {
                    use std::io::Read;
                    let mut file = std::fs::File::open(&path)?;
                    let mut importer = FileImporter::new(options);
                    let mut buf = vec![0u8; 1 << 20];
                    loop {
                        let n = match file.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => n,
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(e.into()),
                        };
                        importer.update(&buf[..n]);
                        if tx.blocking_send(importer.take_blocks()).is_err() {
                            // The writer failed (or the import was dropped): stop reading.
                            return Err(std::io::Error::other("the import was abandoned").into());
                        }
                    }
                    Ok(importer.finish())
                });
            while let Some(blocks) = rx.recv().await {
                self.put_all(blocks).await?;
            }
            let (imported, blocks) = hashing.await.map_err(|e| IpfsError::Io(std::io::Error::other(e)))??;
            self.put_all(blocks).await?;
            self.announce(&imported.root);
            Ok(imported)
        })
    }

    fn import_bytes<'a>(
        &'a self,
        data: &'a [u8],
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>> {
        Box::pin(async move {
            let _guard = self.inner.gc_lock.read().await;
            let (imported, blocks) = if data.len() <= INLINE_HASHING {
                let mut importer = FileImporter::new(options);
                importer.update(data);
                importer.finish()
            } else {
                // Hashed on a blocking thread, from a copy (a memcpy is ~20x faster than the
                // hashing it moves off the runtime).
                let data = Bytes::copy_from_slice(data);
                tokio::task::spawn_blocking(move || {
                    let mut importer = FileImporter::new(options);
                    importer.update(&data);
                    importer.finish()
                })
                .await
                .map_err(|e| IpfsError::Io(std::io::Error::other(e)))?
            };
            self.put_all(blocks).await?;
            self.announce(&imported.root);
            Ok(imported)
        })
    }

    fn import_directory<'a>(
        &'a self,
        path: &'a Path,
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>> {
        Box::pin(async move {
            let mut entries = Vec::new();
            let mut dir = tokio::fs::read_dir(path).await?;
            while let Some(entry) = dir.next_entry().await? {
                let Ok(name) = entry.file_name().into_string() else { continue };
                if name.starts_with('.') {
                    continue;
                }
                let kind = entry.file_type().await?;
                let child = if kind.is_symlink() {
                    use std::os::unix::ffi::OsStrExt;
                    let target = tokio::fs::read_link(entry.path()).await?;
                    let (imported, block) = dag::symlink_node(options.version, target.as_os_str().as_bytes());
                    let _guard = self.inner.gc_lock.read().await;
                    self.inner.store.put(&block.cid, block.data).await?;
                    imported
                } else if kind.is_dir() {
                    self.import_directory(&entry.path(), options).await?
                } else if kind.is_file() {
                    self.import_file(&entry.path(), options).await?
                } else {
                    continue;
                };
                entries.push((name, child));
            }
            let _guard = self.inner.gc_lock.read().await;
            let imported = if hamt::needs_sharding(&entries) {
                let (imported, blocks) = hamt::sharded_directory(options.version, &entries)?;
                self.put_all(blocks).await?;
                imported
            } else {
                let (imported, block) = dag::directory_node(options.version, &entries);
                self.inner.store.put(&block.cid, block.data).await?;
                imported
            };
            self.announce(&imported.root);
            Ok(imported)
        })
    }

    fn export_path<'a>(&'a self, root: &'a Cid, dest: &'a Path) -> BoxFuture<'a, Result<(), IpfsError>> {
        self.export_node(*root, dest.to_path_buf(), true)
    }

    fn import_car<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<CarImport, IpfsError>> {
        Box::pin(async move {
            let _guard = self.inner.gc_lock.read().await;
            let file = tokio::io::BufReader::with_capacity(1 << 20, tokio::fs::File::open(path).await?);
            let mut blocks = 0u64;
            let mut bytes = 0u64;
            let store = self.inner.store.clone();
            let roots = car::read_car(file, |cid, data| {
                blocks += 1;
                bytes += data.len() as u64;
                let store = store.clone();
                async move { store.put(&cid, data).await }
            })
            .await?;
            for root in &roots {
                if let Some(missing) = self.missing_under(root).await? {
                    return Err(IpfsError::Car(format!(
                        "root {root}: block {missing} is not in the archive"
                    )));
                }
            }
            for root in &roots {
                self.announce(root);
            }
            Ok(CarImport { roots, blocks, bytes })
        })
    }

    fn fetch<'a>(&'a self, root: &'a Cid, max_bytes: u64) -> BoxFuture<'a, Result<u64, IpfsError>> {
        Box::pin(async move {
            let _guard = self.inner.gc_lock.read().await;
            let deadline = Instant::now() + self.inner.timeout;
            let walk = self.walk(root, max_bytes, deadline);
            let Some(bitswap) = self.inner.bitswap.as_ref().filter(|b| b.has_dht()) else {
                return walk.await;
            };
            // With the DHT: a fetch the connected peers have not completed within a second
            // looks the root's providers up (and again every few seconds while it waits); the
            // providers dialed are asked for every wanted block as they connect.
            tokio::pin!(walk);
            let lookups = async {
                let mut pause = dht::PROVIDER_DELAY;
                loop {
                    tokio::time::sleep(pause).await;
                    let found = bitswap.find_providers(*root, dht::MAX_PROVIDERS).await;
                    tracing::debug!(%root, providers = found.len(), "IPFS provider lookup");
                    pause = dht::PROVIDER_RETRY;
                }
            };
            let size = tokio::select! {
                r = &mut walk => r?,
                _ = lookups => unreachable!("the lookups never end"),
            };
            bitswap.announce(root);
            Ok(size)
        })
    }

    fn export(&self, root: Cid) -> BoxStream<'static, Result<Bytes, IpfsError>> {
        self.export_stream(root)
    }

    fn collect_garbage(&self, roots: Vec<Cid>) -> BoxFuture<'_, Result<usize, IpfsError>> {
        self.collect(roots)
    }

    fn stats(&self) -> BitswapStats {
        self.inner.bitswap.as_ref().map(|b| b.stats()).unwrap_or_default()
    }

    fn has_dag<'a>(&'a self, root: &'a Cid) -> BoxFuture<'a, Result<bool, IpfsError>> {
        Box::pin(async move { Ok(self.missing_under(root).await?.is_none()) })
    }
}

impl Ipfs {
    /// Announces `root` on the DHT (when it is on).
    fn announce(&self, root: &Cid) {
        if let Some(b) = &self.inner.bitswap {
            b.announce(root);
        }
    }

    /// Writes the node `cid` at `dest`: a file, a directory (basic or HAMT-sharded) or a
    /// symlink. Below the top, nothing that exists is overwritten or followed (files are
    /// created new, directories too), so a DAG cannot write outside `dest` through one of its
    /// own symlinks or a repeated name.
    fn export_node(
        &self,
        cid: Cid,
        dest: std::path::PathBuf,
        top: bool,
    ) -> BoxFuture<'_, Result<(), IpfsError>> {
        Box::pin(async move {
            let block =
                self.inner.store.get(&cid).await?.ok_or_else(|| IpfsError::NotFound(cid.to_string()))?;
            let entries = match dag::file_part(&cid, &block)? {
                dag::FilePart::Directory(links) => links.into_iter().map(|l| (l.name, l.cid)).collect(),
                dag::FilePart::Shard { links, prefix } => self.shard_entries(links, prefix).await?,
                dag::FilePart::Symlink(target) => {
                    use std::os::unix::ffi::OsStrExt;
                    if target.is_empty() || target.contains(&0) {
                        return Err(malformed("a symlink with an empty target or a NUL byte"));
                    }
                    tokio::fs::symlink(std::ffi::OsStr::from_bytes(target), &dest).await?;
                    return Ok(());
                }
                dag::FilePart::File { .. } => {
                    use futures_util::StreamExt;
                    use tokio::io::AsyncWriteExt;
                    let mut out = if top {
                        tokio::fs::File::create(&dest).await?
                    } else {
                        tokio::fs::OpenOptions::new().write(true).create_new(true).open(&dest).await?
                    };
                    let mut stream = self.export_stream(cid);
                    while let Some(chunk) = stream.next().await {
                        out.write_all(&chunk?).await?;
                    }
                    out.flush().await?;
                    return Ok(());
                }
            };
            if top {
                tokio::fs::create_dir_all(&dest).await?;
            } else {
                tokio::fs::create_dir(&dest).await?;
            }
            let mut seen = HashSet::new();
            for (name, child) in entries {
                // A name that could leave the directory, or one seen before, is refused.
                if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
                    return Err(malformed("a directory entry with an unsafe name"));
                }
                if !seen.insert(name.clone()) {
                    return Err(malformed("a directory with a repeated entry name"));
                }
                self.export_node(child, dest.join(&name), false).await?;
            }
            Ok(())
        })
    }

    /// The entries of a HAMT-sharded directory (sub-shards read from the block store), by name.
    async fn shard_entries(
        &self,
        links: Vec<dag::PbLink>,
        prefix: usize,
    ) -> Result<Vec<(String, Cid)>, IpfsError> {
        let mut entries = Vec::new();
        let mut shards = vec![(links, prefix)];
        while let Some((links, prefix)) = shards.pop() {
            for link in links {
                if link.name.len() < prefix || !link.name.is_char_boundary(prefix) {
                    return Err(malformed("a HAMT link without its bucket"));
                }
                if link.name.len() > prefix {
                    entries.push((link.name[prefix..].to_owned(), link.cid));
                    continue;
                }
                let block = self
                    .inner
                    .store
                    .get(&link.cid)
                    .await?
                    .ok_or_else(|| IpfsError::NotFound(link.cid.to_string()))?;
                match dag::file_part(&link.cid, &block)? {
                    dag::FilePart::Shard { links, prefix } => shards.push((links, prefix)),
                    _ => return Err(malformed("a HAMT bucket that is not a shard")),
                }
            }
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        Ok(entries)
    }

    /// [`IpfsEngine::fetch`]'s DAG walk, within `deadline`.
    async fn walk(&self, root: &Cid, max_bytes: u64, deadline: Instant) -> Result<u64, IpfsError> {
        // Blocks are bigger than file bytes by their framing (under 1% for 256 KiB chunks).
        let budget = max_bytes.saturating_add(max_bytes / 64).saturating_add(1 << 20);
        let root_block = self.block(root, deadline).await?;
        let declared = dag::declared_size(root, &root_block);
        if declared.is_some_and(|d| d > max_bytes) {
            return Err(IpfsError::TooLarge(max_bytes));
        }
        let mut total = root_block.len() as u64;
        let mut queue: VecDeque<Cid> = dag::links_of(root, &root_block)?.into();
        while !queue.is_empty() {
            let batch: Vec<Cid> = queue.drain(..queue.len().min(256)).collect();
            for (cid, block) in batch.iter().zip(self.blocks(&batch, deadline).await?) {
                total += block.len() as u64;
                if total > budget {
                    return Err(IpfsError::TooLarge(max_bytes));
                }
                queue.extend(dag::links_of(cid, &block)?);
            }
        }
        Ok(declared.unwrap_or(total))
    }

    fn export_stream(&self, root: Cid) -> BoxStream<'static, Result<Bytes, IpfsError>> {
        use futures_util::StreamExt;
        let store = self.inner.store.clone();
        futures_util::stream::try_unfold((store, vec![root]), |(store, mut stack)| async move {
            while let Some(cid) = stack.pop() {
                let block = store.get(&cid).await?.ok_or_else(|| IpfsError::NotFound(cid.to_string()))?;
                let data = match dag::file_part(&cid, &block)? {
                    dag::FilePart::File { data, children } => {
                        stack.extend(children.into_iter().rev());
                        block.slice_ref(data)
                    }
                    dag::FilePart::Directory(_) | dag::FilePart::Shard { .. } => {
                        return Err(IpfsError::IsDirectory(cid.to_string()))
                    }
                    dag::FilePart::Symlink(target) => {
                        return Err(DagError::Symlink(String::from_utf8_lossy(target).into_owned()).into())
                    }
                };
                if !data.is_empty() {
                    return Ok(Some((data, (store, stack))));
                }
            }
            Ok(None)
        })
        .boxed()
    }

    fn collect(&self, roots: Vec<Cid>) -> BoxFuture<'_, Result<usize, IpfsError>> {
        Box::pin(async move {
            if let Some(b) = &self.inner.bitswap {
                b.retain_announced(&roots);
            }
            let _guard = self.inner.gc_lock.write().await;
            let mut keep: HashSet<Cid> = HashSet::new();
            let mut stack: Vec<Cid> = roots;
            while let Some(cid) = stack.pop() {
                if !keep.insert(cid.to_v1()) {
                    continue;
                }
                if cid.codec() == aleph_core::cid::Codec::RAW {
                    continue;
                }
                if let Some(block) = self.inner.store.get(&cid).await? {
                    stack.extend(dag::links_of(&cid, &block).unwrap_or_default());
                }
            }
            let mut removed = 0;
            for cid in self.inner.store.list().await? {
                if !keep.contains(&cid.to_v1()) {
                    self.inner.store.delete(&cid).await?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    /// The first block under `root` that is not stored, if any.
    async fn missing_under(&self, root: &Cid) -> Result<Option<Cid>, IpfsError> {
        let mut stack = vec![*root];
        let mut seen = HashSet::new();
        while let Some(cid) = stack.pop() {
            if !seen.insert(cid) {
                continue;
            }
            if cid.codec() == aleph_core::cid::Codec::RAW {
                if !self.inner.store.has(&cid).await? {
                    return Ok(Some(cid));
                }
                continue;
            }
            match self.inner.store.get(&cid).await? {
                Some(block) => stack.extend(dag::links_of(&cid, &block)?),
                None => return Ok(Some(cid)),
            }
        }
        Ok(None)
    }
}

/// A DAG that export refuses (`why`).
fn malformed(why: &'static str) -> IpfsError {
    IpfsError::Dag(DagError::Pb(pb::PbError(why)))
}

/// `listen`, or the same address on a port the system picks when that port is taken. libp2p's
/// TCP listeners set `SO_REUSEPORT`, so a second node on the port would share it with the first
/// (the kernel spreading incoming connections between them) instead of failing: a plain bind
/// first tells whether the port is free.
fn free_or_ephemeral(listen: Multiaddr) -> Multiaddr {
    use libp2p::multiaddr::Protocol;
    let mut parts: Vec<Protocol<'_>> = listen.iter().collect();
    let socket = match parts.as_slice() {
        [Protocol::Ip4(ip), Protocol::Tcp(port)] if *port != 0 => std::net::SocketAddr::from((*ip, *port)),
        [Protocol::Ip6(ip), Protocol::Tcp(port)] if *port != 0 => std::net::SocketAddr::from((*ip, *port)),
        _ => return listen,
    };
    match std::net::TcpListener::bind(socket) {
        Ok(_) => listen,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            parts[1] = Protocol::Tcp(0);
            let fallback: Multiaddr = parts.into_iter().collect();
            tracing::warn!(%listen, %fallback, "the IPFS listen port is taken; listening on a port the system picks (see /api/v0/ipfs/id)");
            fallback
        }
        Err(_) => listen,
    }
}

/// The swarm's Ed25519 key, kept so that the peer id survives restarts.
fn load_or_create_key(path: &Path) -> Result<libp2p::identity::Keypair, IpfsError> {
    if let Ok(bytes) = std::fs::read(path) {
        return libp2p::identity::Keypair::from_protobuf_encoding(&bytes)
            .map_err(|e| IpfsError::Config(format!("{}: {e}", path.display())));
    }
    let key = libp2p::identity::Keypair::generate_ed25519();
    let bytes = key.to_protobuf_encoding().map_err(|e| IpfsError::Config(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(key)
}
