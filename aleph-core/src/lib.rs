#![doc = include_str!("../README.md")]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "api")]
pub mod api;
pub mod chain;
pub mod chain_sync;
pub mod cid;
pub mod content;
pub mod cost;
pub mod item_hash;
pub mod message;
pub mod permissions;
pub mod signer;
pub mod validate;
pub mod verify;
#[cfg(feature = "vm-auth")]
pub mod vm_auth;

pub use chain::{Chain, ChainFamily};
pub use content::{
    AggregateContent, AggregateKey, Content, ContentError, ForgetContent, InstanceContent, PostContent,
    ProgramContent, StoreContent, VProgramContent,
};
pub use item_hash::ItemHash;
pub use message::{
    verification_buffer, ItemType, Message, MessageStatus, MessageType, PendingMessage, SignedFields,
    UnsignedMessage,
};
pub use permissions::{Grant, MessageFacts, PermissionError};
pub use signer::{SignError, Signer, SigningPayload};
pub use validate::{DecodedContent, ErrorCode, ErrorKind, ProcessingError};
pub use verify::{verify_batch, verify_signature, VerifyError};
