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
mod pb;

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aleph_core::cid::Cid;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

pub(crate) use bitswap::BitswapStats;
pub use blockstore::{BlockStore, FsBlockStore};
pub use dag::{Block, DagError, FileImporter, ImportOptions, Imported};

use crate::storage::BoxFuture;

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
    /// Join the public IPFS DHT. Not implemented: `true` is refused at start.
    pub bootstrap: bool,
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
    /// Imports a directory tree as `ipfs add -r` does (hidden entries and symlinks skipped, as
    /// kubo does without `--hidden`).
    fn import_directory<'a>(
        &'a self,
        path: &'a Path,
        options: ImportOptions,
    ) -> BoxFuture<'a, Result<Imported, IpfsError>>;
    /// Writes the DAG under `root` to `dest`: a file, or a directory tree.
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
        if config.bootstrap {
            return Err(IpfsError::Config(
                "bootstrap = true (the public IPFS DHT) is not implemented; list peers in `peers`".into(),
            ));
        }
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
        let store: Arc<dyn BlockStore> = Arc::new(FsBlockStore::open(&dir.join("blocks"))?);
        let key = load_or_create_key(&dir.join("identity.key"))?;
        let bitswap = bitswap::Bitswap::spawn(key, listen, peers, store.clone(), token).await?;
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
            let mut file = tokio::fs::File::open(path).await?;
            let mut importer = FileImporter::new(options);
            let mut buf = vec![0u8; 1 << 20];
            let mut writes: Option<tokio::task::JoinHandle<Result<(), IpfsError>>> = None;
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                importer.update(&buf[..n]);
                let blocks = importer.take_blocks();
                // The previous batch is written while the next one is read and hashed.
                if let Some(w) = writes.take() {
                    w.await.map_err(|e| IpfsError::Io(std::io::Error::other(e)))??;
                }
                let engine = self.clone();
                writes = Some(tokio::spawn(async move { engine.put_all(blocks).await }));
            }
            if let Some(w) = writes.take() {
                w.await.map_err(|e| IpfsError::Io(std::io::Error::other(e)))??;
            }
            let (imported, blocks) = importer.finish();
            self.put_all(blocks).await?;
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
            let mut importer = FileImporter::new(options);
            importer.update(data);
            let (imported, blocks) = importer.finish();
            self.put_all(blocks).await?;
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
                let child = if kind.is_dir() {
                    self.import_directory(&entry.path(), options).await?
                } else if kind.is_file() {
                    self.import_file(&entry.path(), options).await?
                } else {
                    continue;
                };
                entries.push((name, child));
            }
            let _guard = self.inner.gc_lock.read().await;
            let (imported, block) = dag::directory_node(options.version, &entries);
            self.inner.store.put(&block.cid, block.data).await?;
            Ok(imported)
        })
    }

    fn export_path<'a>(&'a self, root: &'a Cid, dest: &'a Path) -> BoxFuture<'a, Result<(), IpfsError>> {
        Box::pin(async move {
            let block =
                self.inner.store.get(root).await?.ok_or_else(|| IpfsError::NotFound(root.to_string()))?;
            if let dag::FilePart::Directory(links) = dag::file_part(root, &block)? {
                tokio::fs::create_dir_all(dest).await?;
                for link in links {
                    // A name that could leave the directory is refused.
                    if link.name.is_empty()
                        || link.name == "."
                        || link.name == ".."
                        || link.name.contains(['/', '\\', '\0'])
                    {
                        return Err(IpfsError::Dag(DagError::Pb(pb::PbError(
                            "a directory entry with an unsafe name",
                        ))));
                    }
                    self.export_path(&link.cid, &dest.join(&link.name)).await?;
                }
                return Ok(());
            }
            use futures_util::StreamExt;
            use tokio::io::AsyncWriteExt;
            let mut out = tokio::fs::File::create(dest).await?;
            let mut stream = self.export(*root);
            while let Some(chunk) = stream.next().await {
                out.write_all(&chunk?).await?;
            }
            out.flush().await?;
            Ok(())
        })
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
            Ok(CarImport { roots, blocks, bytes })
        })
    }

    fn fetch<'a>(&'a self, root: &'a Cid, max_bytes: u64) -> BoxFuture<'a, Result<u64, IpfsError>> {
        Box::pin(async move {
            let _guard = self.inner.gc_lock.read().await;
            let deadline = Instant::now() + self.inner.timeout;
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
        })
    }

    fn export(&self, root: Cid) -> BoxStream<'static, Result<Bytes, IpfsError>> {
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
                    dag::FilePart::Directory(_) => return Err(IpfsError::IsDirectory(cid.to_string())),
                };
                if !data.is_empty() {
                    return Ok(Some((data, (store, stack))));
                }
            }
            Ok(None)
        })
        .boxed()
    }

    fn collect_garbage(&self, roots: Vec<Cid>) -> BoxFuture<'_, Result<usize, IpfsError>> {
        Box::pin(async move {
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

    fn stats(&self) -> BitswapStats {
        self.inner.bitswap.as_ref().map(|b| b.stats()).unwrap_or_default()
    }

    fn has_dag<'a>(&'a self, root: &'a Cid) -> BoxFuture<'a, Result<bool, IpfsError>> {
        Box::pin(async move { Ok(self.missing_under(root).await?.is_none()) })
    }
}

impl Ipfs {
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
