//! Query filters and the shapes of the node's answers.

mod filters;
mod messages;
mod responses;

pub use filters::{ContentFormat, MessageFilter, PostFilter, SortBy, SortOrder};
pub(crate) use messages::{decode, parse_message_list};
pub use messages::{
    CursorPage, JsonObject, MessageStatusInfo, MessageWithStatus, MessagesPage, PublicationStatus, Submitted,
};
pub(crate) use responses::page_of;
pub use responses::{
    AccountFile, AccountFiles, AddressAggregates, AddressStats, AggregateEntry, Authorization, Balance,
    FileMetadata, Post, PostV1, PostsPage, Price, UploadResponse,
};
