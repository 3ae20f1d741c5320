#![doc = include_str!("../README.md")]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

// The public surface is what an embedder uses: the node, its builder and configuration, the
// component traits with their errors, and the handles a running node gives out. Everything
// else is crate-private.
mod api;
mod chains;
pub mod config;
mod corechannel;
mod crn;
mod dev;
#[doc(hidden)]
pub mod fuzzing;
mod ipfs;
mod node;
mod p2p;
mod payment;
mod pipeline;
mod scheduler;
mod storage;
mod tasks;
#[doc(hidden)]
pub mod testing;

pub use config::NodeConfig;
pub use node::{Node, NodeBuilder, NodeError, NodeHandle};

// Swappable components: files, IPFS blocks and engine, the broadcast of accepted messages, the
// fetching of content this node lacks.
pub use api::Broadcaster;
pub use ipfs::{BlockStore, FsBlockStore, Ipfs, IpfsEngine, IpfsError};
pub use pipeline::ContentFetcher;
pub use storage::{BoxFuture, FileStore, FsFileStore, MemoryFileStore, StorageError};

// What a running node hands out.
pub use api::{router, AppState};
pub use corechannel::{
    CoreChannel, CoreChannelView, CoreNode, NodeInfo, NodeStatus, ResourceNode, ResourceNodeStatus,
};
pub use crn::{program_hostname, Crn, CrnError};
pub use dev::{DevAccount, DevAccounts};
pub use p2p::{P2pError, P2pHandle, P2pStats, PeerInfo};
pub use pipeline::{Event, Intake, Origin, Pipeline, SubmitError};

/// The node's version, as `/api/v0/version` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Tools for this crate's benchmarks (not a stable API).
#[doc(hidden)]
pub mod bench {
    pub use crate::storage::bench_fill;
}

// UnixFS import and CAR archives, as the IPFS engine builds them (CIDs equal to kubo's).
pub use ipfs::car::write_car;
pub use ipfs::{node_kind, Block, DagError, FileImporter, ImportOptions, Imported, NodeKind};
