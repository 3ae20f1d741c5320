//! Answers of the posts, aggregates, accounts, storage and price endpoints.

use std::collections::BTreeMap;

use aleph_core::message::Confirmation;
use aleph_core::{Chain, MessageType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ClientError, Result};

/// A post as `GET /api/v0/posts.json` returns it (the v0 shape, 19 keys): the original post
/// merged with its latest amend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The chain of the original message.
    pub chain: Chain,
    /// The latest version's item hash (the latest amend, or the original).
    pub item_hash: String,
    /// The owner.
    pub sender: String,
    /// The post type (`amend` when amended).
    #[serde(rename = "type")]
    pub post_type: String,
    /// The original's channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Whether the original is confirmed on chain.
    #[serde(default)]
    pub confirmed: bool,
    /// The original's confirmations.
    #[serde(default)]
    pub confirmations: Vec<Confirmation>,
    /// The user payload of the latest version.
    #[serde(default)]
    pub content: Value,
    /// The latest version's inline content.
    #[serde(default)]
    pub item_content: Option<String>,
    /// The latest version's item type.
    #[serde(default)]
    pub item_type: Option<String>,
    /// The latest version's signature.
    #[serde(default)]
    pub signature: Option<Value>,
    /// The latest version's size.
    #[serde(default)]
    pub size: Option<u64>,
    /// The latest version's time.
    #[serde(default, deserialize_with = "lenient_time")]
    pub time: f64,
    /// The original item hash.
    #[serde(default)]
    pub original_item_hash: Option<String>,
    /// The original signature.
    #[serde(default)]
    pub original_signature: Option<Value>,
    /// The original post type.
    #[serde(default)]
    pub original_type: Option<String>,
    /// Same as `original_item_hash`.
    #[serde(default)]
    pub hash: Option<String>,
    /// The owner.
    #[serde(default)]
    pub address: Option<String>,
    /// The original's `ref`.
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
}

impl Post {
    /// The payload deserialized into the caller's type.
    pub fn content_as<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_value(self.content.clone())?)
    }
}

/// A post as `GET /api/v1/posts.json` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostV1 {
    /// The latest version's item hash.
    pub item_hash: String,
    /// The user payload of the latest version.
    #[serde(default)]
    pub content: Value,
    /// The original item hash.
    #[serde(default)]
    pub original_item_hash: Option<String>,
    /// The original post type.
    #[serde(default)]
    pub original_type: Option<String>,
    /// The owner.
    #[serde(default)]
    pub address: Option<String>,
    /// The original's `ref`.
    #[serde(default, rename = "ref")]
    pub reference: Option<Value>,
    /// The channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Creation time (ISO-8601).
    #[serde(default)]
    pub created: Option<String>,
    /// Last update time (ISO-8601).
    #[serde(default)]
    pub last_updated: Option<String>,
}

impl PostV1 {
    /// The payload deserialized into the caller's type.
    pub fn content_as<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_value(self.content.clone())?)
    }
}

fn lenient_time<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v = Value::deserialize(d)?;
    aleph_core::message::parse_time_value(&v).ok_or_else(|| serde::de::Error::custom("invalid time"))
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressAggregates {
    /// The owner.
    pub address: String,
    /// Key → merged document.
    #[serde(default)]
    pub data: serde_json::Map<String, Value>,
    /// Key → `{created, last_updated, original_item_hash, last_update_item_hash}` when asked.
    #[serde(default)]
    pub info: serde_json::Map<String, Value>,
}

/// One entry of `GET /api/v0/aggregates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateEntry {
    /// The owner.
    pub address: String,
    /// The key.
    pub key: String,
    /// The merged document.
    #[serde(default)]
    pub content: Value,
    /// Creation time (ISO-8601).
    #[serde(default)]
    pub created: Option<String>,
    /// Last update (ISO-8601).
    #[serde(default)]
    pub last_updated: Option<String>,
}

/// `GET /api/v0/addresses/{address}/balance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// The address.
    pub address: String,
    /// Total token balance over chains.
    #[serde(default)]
    pub balance: f64,
    /// Per chain.
    #[serde(default)]
    pub details: Option<BTreeMap<String, f64>>,
    /// Tokens held by the address's resources.
    #[serde(default)]
    pub locked_amount: f64,
    /// Credits.
    #[serde(default)]
    pub credit_balance: f64,
    /// Credit lots with their expiry, when asked.
    #[serde(default)]
    pub credit_balance_details: Option<Value>,
}

impl Balance {
    /// Tokens not held by resources.
    pub fn available(&self) -> f64 {
        self.balance - self.locked_amount
    }
}

/// Message counts of one address (`/api/v1/addresses/stats.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddressStats {
    /// All messages.
    #[serde(default)]
    pub messages: u64,
    /// POSTs.
    #[serde(default)]
    pub post: u64,
    /// AGGREGATEs.
    #[serde(default)]
    pub aggregate: u64,
    /// STOREs.
    #[serde(default)]
    pub store: u64,
    /// FORGETs.
    #[serde(default)]
    pub forget: u64,
    /// PROGRAMs.
    #[serde(default)]
    pub program: u64,
    /// INSTANCEs.
    #[serde(default)]
    pub instance: u64,
}

/// A file of an address (`/api/v0/addresses/{address}/files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountFile {
    /// The file's hash.
    pub file_hash: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// `file` or `dir`/`directory`.
    #[serde(default, rename = "type")]
    pub file_type: Option<String>,
    /// When it was stored (ISO-8601; cursor pages give epoch seconds, read into the same form).
    #[serde(default, deserialize_with = "iso_or_epoch")]
    pub created: Option<String>,
    /// The STORE message.
    #[serde(default)]
    pub item_hash: Option<String>,
}

/// A time given as ISO-8601 text or as epoch seconds, kept as ISO-8601 text.
fn iso_or_epoch<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => n.as_f64().and_then(aleph_core::message::time_to_rfc3339),
        Some(other) => return Err(serde::de::Error::custom(format!("expected a time, not {other}"))),
    })
}

/// `GET /api/v0/addresses/{address}/files`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountFiles {
    /// The address.
    pub address: String,
    /// Total bytes.
    #[serde(default)]
    pub total_size: u64,
    /// The files of this page.
    #[serde(default)]
    pub files: Vec<AccountFile>,
    /// The page.
    #[serde(default)]
    pub pagination_page: u64,
    /// Total files.
    #[serde(default)]
    pub pagination_total: u64,
    /// Files per page.
    #[serde(default)]
    pub pagination_per_page: u64,
}

/// A cost estimate or the stored cost of a message (`/api/v0/price/…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// Tokens to hold, tokens per second (superfluid) or credits per second (credit).
    #[serde(default)]
    pub required_tokens: f64,
    /// `hold`, `superfluid` or `credit`.
    #[serde(default)]
    pub payment_type: Option<String>,
    /// `required_tokens` with 18 decimals.
    #[serde(default)]
    pub cost: Option<String>,
    /// Per-component costs.
    #[serde(default)]
    pub detail: Vec<Value>,
    /// Who pays.
    #[serde(default)]
    pub charged_address: Option<String>,
}

/// `GET /api/v0/storage/metadata/{hash}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMetadata {
    /// The file hash.
    pub file_hash: String,
    /// `file` or `dir`.
    #[serde(default, rename = "type")]
    pub file_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Where to download it.
    #[serde(default)]
    pub download_url: Option<String>,
}

/// The answer of an upload endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// `success`.
    #[serde(default)]
    pub status: Option<String>,
    /// The stored content's hash (sha256 or CID).
    pub hash: String,
    /// IPFS uploads: the file name.
    #[serde(default)]
    pub name: Option<String>,
    /// IPFS uploads: the size.
    #[serde(default)]
    pub size: Option<u64>,
}

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

/// Reads a page-mode envelope: the list under `item_key` plus the pagination numbers.
pub(crate) fn page_of<T: DeserializeOwned>(
    v: &Value,
    item_key: &str,
    url: &str,
) -> Result<(Vec<T>, u64, u64, u64)> {
    let items = v.get(item_key).cloned().unwrap_or(Value::Array(Vec::new()));
    let items: Vec<T> = serde_json::from_value(items)
        .map_err(|e| ClientError::Decode { url: url.to_owned(), reason: format!("{item_key}: {e}") })?;
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Ok((items, n("pagination_page"), n("pagination_per_page"), n("pagination_total")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v0_post_parses_with_iso_or_float_time() {
        let mut p = json!({
            "chain": "ETH", "item_hash": "h", "sender": "0xA", "type": "chat", "channel": "TEST",
            "confirmed": false, "confirmations": [], "content": {"body": "hi"}, "item_content": "{}",
            "item_type": "inline", "signature": "0x", "size": 2, "time": 1.5, "original_item_hash": "h",
            "original_signature": "0x", "original_type": "chat", "hash": "h", "address": "0xA", "ref": null
        });
        let post: Post = serde_json::from_value(p.clone()).unwrap();
        assert_eq!(post.time, 1.5);
        #[derive(Deserialize)]
        struct Chat {
            body: String,
        }
        assert_eq!(post.content_as::<Chat>().unwrap().body, "hi");
        p["time"] = json!("2022-10-06T11:15:54.517756Z");
        let post: Post = serde_json::from_value(p).unwrap();
        assert_eq!(post.time, 1665054954.517756);
    }

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

    #[test]
    fn balance_numbers_are_floats() {
        let b: Balance =
            serde_json::from_value(json!({"address": "a", "balance": 10.5, "details": {"ETH": 10.5},
            "locked_amount": 0.5, "credit_balance": 3, "credit_balance_details": null}))
            .unwrap();
        assert_eq!(b.available(), 10.0);
    }
}
