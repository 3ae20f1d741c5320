//! Answers of the posts, aggregates, accounts, storage and price endpoints.

use aleph_core::{Chain, MessageType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ClientError, Result};

/// A post as `GET /api/v0/posts.json` returns it (the v0 shape, 19 keys): the original post
/// merged with its latest amend.
pub use aleph_core::api::Post;

/// A post as `GET /api/v1/posts.json` returns it.
pub use aleph_core::api::PostV1;

/// One page of posts (page mode).
#[derive(Debug, Clone, PartialEq)]
pub struct PostsPage<T> {
    /// The posts.
    pub posts: Vec<T>,
    /// The page number.
    pub page: u64,
    /// Posts per page.
    pub per_page: u64,
    /// Total matching posts.
    pub total: u64,
}

/// `GET /api/v0/aggregates/{address}.json?with_info=true`: the merged documents and when each
/// was created and last updated.
pub use aleph_core::api::AddressAggregates;

/// One entry of `GET /api/v0/aggregates`.
pub use aleph_core::api::AggregateEntry;

/// `GET /api/v0/addresses/{address}/balance` (credits are integers, token amounts floats).
pub use aleph_core::api::Balance;

/// Message counts of one address (`/api/v1/addresses/stats.json`).
pub use aleph_core::api::AddressStats;

/// A file of an address (`/api/v0/addresses/{address}/files`).
pub use aleph_core::api::AccountFile;

/// `GET /api/v0/addresses/{address}/files`.
pub use aleph_core::api::AccountFiles;

/// A cost estimate or the stored cost of a message (`/api/v0/price/…`).
pub use aleph_core::api::Price;

/// `GET /api/v0/storage/metadata/{hash}`.
pub use aleph_core::api::FileMetadata;

/// The answer of an upload endpoint.
pub use aleph_core::api::UploadResponse;

/// A delegation in the owner's `security` aggregate: `address` may send messages on the
/// owner's behalf, restricted by the optional filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The delegate.
    pub address: String,
    /// Only messages signed on this chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Only these channels (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Only these message types (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Only these POST types (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_types: Vec<String>,
    /// Only these aggregate keys (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregate_keys: Vec<String>,
}

impl Authorization {
    /// An unrestricted delegation to `address`.
    pub fn new(address: impl Into<String>) -> Self {
        Authorization {
            address: address.into(),
            chain: None,
            channels: Vec::new(),
            types: Vec::new(),
            post_types: Vec::new(),
            aggregate_keys: Vec::new(),
        }
    }

    /// Restricts to one signing chain.
    #[must_use]
    pub fn chain(mut self, chain: Chain) -> Self {
        self.chain = Some(chain.as_str().to_owned());
        self
    }

    /// Restricts to a channel (cumulative).
    #[must_use]
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channels.push(channel.into());
        self
    }

    /// Restricts to a message type (cumulative).
    #[must_use]
    pub fn message_type(mut self, t: MessageType) -> Self {
        self.types.push(t.as_str().to_owned());
        self
    }

    /// Restricts to a POST type (cumulative).
    #[must_use]
    pub fn post_type(mut self, t: impl Into<String>) -> Self {
        self.post_types.push(t.into());
        self
    }

    /// Restricts to an aggregate key (cumulative).
    #[must_use]
    pub fn aggregate_key(mut self, k: impl Into<String>) -> Self {
        self.aggregate_keys.push(k.into());
        self
    }
}

/// Reads a page-mode envelope: the list under `item_key` plus the pagination numbers
/// ([`aleph_core::api::PageInfo`], read leniently).
pub(crate) fn page_of<T: DeserializeOwned>(
    v: &Value,
    item_key: &str,
    url: &str,
) -> Result<(Vec<T>, u64, u64, u64)> {
    let decode = |what: &str, e: serde_json::Error| ClientError::Decode {
        url: url.to_owned(),
        reason: format!("{what}: {e}"),
    };
    let items = v.get(item_key).cloned().unwrap_or(Value::Array(Vec::new()));
    let items: Vec<T> = serde_json::from_value(items).map_err(|e| decode(item_key, e))?;
    let info: aleph_core::api::PageInfo =
        serde_json::from_value(v.clone()).map_err(|e| decode("pagination", e))?;
    Ok((items, info.pagination_page, info.pagination_per_page, info.pagination_total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn authorizations_serialize_without_empty_filters() {
        let a = Authorization::new("0xB").channel("TEST").message_type(MessageType::Post);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"address": "0xB", "channels": ["TEST"], "types": ["POST"]})
        );
        let back: Authorization = serde_json::from_value(json!({"address": "0xC"})).unwrap();
        assert_eq!(back, Authorization::new("0xC"));
    }
}
