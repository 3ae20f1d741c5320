#![doc = include_str!("../README.md")]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod accounts;
mod builder;
mod client;
pub mod compose;
pub mod crn;
mod error;
mod http;
pub mod keyfile;
pub mod types;
mod ws;

pub use aleph_core as core;
pub use aleph_core::message::Message;
pub use aleph_core::{Chain, ItemHash, MessageStatus, MessageType, PendingMessage, Signer, UnsignedMessage};
/// The HTTP client crate this SDK uses, for [`ClientBuilder::http_client`].
pub use reqwest;

pub use accounts::{AccountError, AnySigner};
pub use aleph_core::validate::{ErrorCode, ProcessingError};
pub use builder::{
    node_from_env, ClientBuilder, DEFAULT_API_URL, DEFAULT_USER_AGENT, LOCAL_NODE_URL, NODE_ENV,
    NODE_ENV_ALIAS,
};
pub use client::{
    package_directory, AlephClient, ProgramPublished, Progress, ProgressFn, StoreOptions, SubmitMode,
};
pub use compose::{Composed, ContentUpload, InstanceSpec, MessageBuilder, ProgramSpec, StorageEngine};
pub use error::{error_code_name, ClientError, Result};
pub use http::RetryPolicy;
pub use types::{
    Authorization, Balance, ContentFormat, CursorPage, MessageFilter, MessageStatusInfo, MessageWithStatus,
    MessagesPage, Post, PostFilter, PostV1, PostsPage, Price, SortBy, SortOrder, Submitted,
};
pub use ws::{MessageWatch, WatchOptions};

#[cfg(test)]
mod fake_node_tests;
#[cfg(test)]
mod vector_tests;
