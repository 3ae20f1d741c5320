#![doc = include_str!("../README.md")]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod api;
pub mod chains;
pub mod config;
pub mod corechannel;
pub mod crn;
pub mod dev;
#[doc(hidden)]
pub mod fuzzing;
pub mod ipfs;
mod node;
pub mod p2p;
pub(crate) mod payment;
pub mod pipeline;
pub mod scheduler;
pub mod storage;
mod tasks;

pub use config::NodeConfig;
pub use node::{Node, NodeBuilder, NodeError, NodeHandle};

/// The node's version, as `/api/v0/version` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
