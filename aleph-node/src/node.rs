//! Assembling and running a node: [`Node::builder`] → [`NodeBuilder::launch`] → [`NodeHandle`].

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::Layer;

use crate::api::{self, AppState, Broadcaster};
use crate::config::{NodeConfig, Role};
use crate::crn::{self, Crn};
use crate::dev::DevAccounts;
use crate::p2p::{P2pConfig, P2pError, P2pHandle};
use crate::pipeline::Pipeline;
use crate::storage::{Db, FileStore, FsFileStore, StorageError};
use crate::tasks::TaskManager;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Storage could not be opened.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The API address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The P2P layer could not start.
    #[error(transparent)]
    P2p(#[from] P2pError),
    /// The IPFS engine could not start.
    #[error(transparent)]
    Ipfs(#[from] crate::ipfs::IpfsError),
    /// The configuration cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The node.
#[derive(Debug)]
pub struct Node;

impl Node {
    /// A builder for a node with `config`; components not set take their defaults (SQLite and a
    /// file store under the data directory, no P2P).
    pub fn builder(config: NodeConfig) -> NodeBuilder {
        NodeBuilder { config, files: None, broadcaster: None, p2p: None, ipfs: None }
    }
}

/// Builds a node from swappable components.
#[derive(Debug)]
pub struct NodeBuilder {
    config: NodeConfig,
    files: Option<Arc<dyn FileStore>>,
    broadcaster: Option<Arc<dyn Broadcaster>>,
    p2p: Option<P2pConfig>,
    ipfs: Option<Arc<dyn crate::ipfs::IpfsEngine>>,
}

impl NodeBuilder {
    /// Networks the node: gossip, peer table, content fetch from peers and catch-up sync (see
    /// [`crate::p2p`]), overriding the configuration's `[p2p]` section. The P2P handle becomes
    /// the broadcaster unless one was set explicitly.
    pub fn p2p(mut self, config: P2pConfig) -> Self {
        self.p2p = Some(config);
        self
    }

    /// Uses `store` for file bytes instead of the on-disk default.
    pub fn file_store(mut self, store: impl FileStore) -> Self {
        self.files = Some(Arc::new(store));
        self
    }

    /// Uses `engine` as the IPFS engine instead of starting one from `[ipfs]`.
    pub fn ipfs(mut self, engine: Arc<dyn crate::ipfs::IpfsEngine>) -> Self {
        self.ipfs = Some(engine);
        self
    }

    /// Gossips accepted messages through `broadcaster`.
    pub fn broadcaster(mut self, broadcaster: Arc<dyn Broadcaster>) -> Self {
        self.broadcaster = Some(broadcaster);
        self
    }

    /// Opens storage, starts the pipeline and binds the API.
    pub async fn launch(self) -> Result<NodeHandle, NodeError> {
        let config = self.config;
        let dir = config.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| NodeError::DataDir { path: dir.clone(), source })?;
        let db = Db::open(&dir.join("aleph.sqlite3"))?;
        let files: Arc<dyn FileStore> = match self.files {
            Some(f) => f,
            None => Arc::new(FsFileStore::open(&dir.join("files"))?),
        };
        let dev_accounts = if config.dev {
            let accounts = DevAccounts::generate();
            let seeded = accounts.clone();
            db.write(move |tx| seeded.seed(tx)).await?;
            accounts
                .write_json(&dir.join("dev-accounts.json"))
                .map_err(|source| NodeError::DataDir { path: dir.clone(), source })?;
            Some(accounts)
        } else {
            None
        };

        let mut tasks = TaskManager::new();
        let ipfs = if let Some(engine) = self.ipfs {
            Some(engine)
        } else if config.ipfs.enabled {
            let engine = crate::ipfs::Ipfs::start(&config.ipfs, &dir.join("ipfs"), tasks.token()).await?;
            Some(Arc::new(engine) as Arc<dyn crate::ipfs::IpfsEngine>)
        } else {
            None
        };
        let pipeline = Pipeline::start(db.clone(), files, ipfs, config.clone(), tasks.token(), &mut tasks);
        if let Some(scheduler) = &config.scheduler {
            let task = crate::scheduler::task(scheduler.clone(), pipeline.clone(), tasks.token())
                .map_err(|e| NodeError::Config(e.to_string()))?;
            tasks.spawn_critical("scheduler", task);
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| NodeError::Bind { addr: config.listen, source })?;
        let local_addr =
            listener.local_addr().map_err(|source| NodeError::Bind { addr: config.listen, source })?;
        let p2p = match self.p2p.or_else(|| config.p2p.clone()) {
            Some(mut p2p_config) => {
                if p2p_config.public_http.is_none() {
                    let mut addr = local_addr;
                    if addr.ip().is_unspecified() {
                        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                    }
                    p2p_config.public_http = Some(format!("http://{addr}"));
                }
                Some(crate::p2p::spawn(p2p_config, pipeline.clone(), tasks.token()).await?)
            }
            None => None,
        };
        let broadcaster = match (self.broadcaster, &p2p) {
            (Some(b), _) => Some(b),
            (None, Some(h)) => Some(Arc::new(h.clone()) as Arc<dyn Broadcaster>),
            (None, None) => None,
        };
        crate::chains::spawn(&config.chains, &pipeline, broadcaster.clone(), &mut tasks)
            .map_err(|e| NodeError::Config(e.to_string()))?;
        let own_url = {
            let mut addr = local_addr;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        };
        let state = AppState::new(pipeline.clone(), broadcaster, crate::VERSION);
        let limits = state.limits.clone();
        let mut app = if config.role.is_ccn() { api::router(state) } else { api::minimal_router(state) };
        let crn = if config.role.is_crn() {
            let ccn_url = match (&config.crn.ccn_url, config.role) {
                (Some(url), _) => url.clone(),
                (None, Role::Both) => own_url.clone(),
                (None, _) => {
                    return Err(NodeError::Config("a CRN needs `crn.ccn_url` (or --ccn-url)".into()))
                }
            };
            let public_url = config.crn.public_url.clone().unwrap_or_else(|| own_url.clone());
            let crn = Crn::start(config.crn.clone(), ccn_url, public_url, &dir).await;
            app = app.merge(crn::router(crn.clone()));
            Some(crn)
        } else {
            None
        };
        let http_stop = CancellationToken::new();
        let stop = http_stop.clone();
        let server = tokio::spawn(async move {
            // Program subdomains (`<b32 hash>.<domain>`) are rewritten before routing.
            let app = tower::util::MapRequestLayer::new(crn::host_routing).layer(app);
            api::serve::serve(listener, app, limits, stop).await;
        });
        tracing::info!(%local_addr, "aleph-node API listening");
        Ok(NodeHandle { local_addr, http_stop, server, tasks, db, pipeline, dev_accounts, p2p, crn })
    }
}

/// A running node. Stop it with [`NodeHandle::shutdown`].
#[must_use = "a node runs until shut down; dropping the handle leaves it running detached"]
#[derive(Debug)]
pub struct NodeHandle {
    local_addr: SocketAddr,
    http_stop: CancellationToken,
    server: JoinHandle<()>,
    tasks: TaskManager,
    db: Db,
    pipeline: Pipeline,
    dev_accounts: Option<DevAccounts>,
    p2p: Option<P2pHandle>,
    crn: Option<Crn>,
}

impl NodeHandle {
    /// The P2P layer, when the node is networked.
    pub fn p2p(&self) -> Option<&P2pHandle> {
        self.p2p.as_ref()
    }

    /// The CRN role, when the node runs programs.
    pub fn crn(&self) -> Option<&Crn> {
        self.crn.as_ref()
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The API's base URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The message pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The funded dev accounts (dev mode).
    pub fn dev_accounts(&self) -> Option<&DevAccounts> {
        self.dev_accounts.as_ref()
    }

    /// Resolves when a critical task has failed (the node should then be shut down).
    pub async fn failed(&self) {
        self.tasks.failed().cancelled().await
    }

    /// Stops the node in order: the API stops accepting and drains in-flight requests, running
    /// programs are stopped, the P2P layer closes its connections, then the pipeline tasks stop,
    /// then the database is checkpointed.
    pub async fn shutdown(self) {
        self.http_stop.cancel();
        if let Err(e) = self.server.await {
            tracing::error!(error = %e, "HTTP server task panicked");
        }
        if let Some(crn) = &self.crn {
            crn.shutdown().await;
        }
        if let Some(p2p) = &self.p2p {
            p2p.shutdown().await;
        }
        self.tasks.shutdown().await;
        if let Err(e) = self.db.checkpoint() {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
        tracing::info!("aleph-node stopped");
    }
}
