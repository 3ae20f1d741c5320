//! Posts: `GET /api/v0/posts.json` (the v0 shape, 19 keys: the original post merged with its
//! latest amend) and `GET /api/v1/posts.json`, each in page or cursor mode.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::{SortBy, SortOrder};
use super::paging::list_answer;
use super::query::query_params;
use crate::message::Confirmation;
use crate::{Chain, ItemHash};

query_params! {
    /// The filters and order of `GET /api/v0/posts.json` and `/api/v1/posts.json` (paging is
    /// [`super::PageParams`]). As the reference does, a value that is not an item hash in
    /// `hashes`, or an unknown `sortBy`/`sortOrder`, is refused (422).
    ///
    /// ```
    /// use aleph_core::api::PostParams;
    /// let filter = PostParams::new().post_type("chat").channel("TEST").channel("MAIN");
    /// assert_eq!(filter.to_query(), [("types".to_string(), "chat".to_string()), ("channels".to_string(), "TEST,MAIN".to_string())]);
    /// ```
    pub struct PostParams {
        /// `addresses`: owners.
        addresses: Vec<String> = "addresses" => address,
        /// `hashes`: item hashes of original posts.
        hashes: Vec<ItemHash> = "hashes" => hash,
        /// `refs`: `content.ref`.
        refs: Vec<String> = "refs" => reference,
        /// `types`: post types (of the original post).
        types: Vec<String> = "types" => post_type,
        /// `tags`: any of these tags.
        tags: Vec<String> = "tags" => tag,
        /// `channels`.
        channels: Vec<String> = "channels" => channel,
        /// `startDate`: last updated at or after this (seconds; 0: no bound).
        start_date: Option<f64> = "startDate" => start_date,
        /// `endDate`: last updated before this (seconds; 0: no bound).
        end_date: Option<f64> = "endDate" => end_date,
        /// `sortBy`: `time` (the last update, default) or `tx-time` (the original's earliest
        /// confirmation, then its creation; not usable with a cursor).
        sort_by: Option<SortBy> = "sortBy" => sort_by,
        /// `sortOrder`: `-1` (default) or `1`.
        sort_order: Option<SortOrder> = "sortOrder" => sort_order,
    }
}

/// A post in the v0 shape. Every key is written (`null` when empty); reading is lenient (the
/// reference's nodes have served `time` as a float and as ISO 8601 text, and left keys out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Post {
    /// The chain of the original message.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
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
    /// Whether the latest version is confirmed on chain (as the reference reads it).
    #[serde(default)]
    pub confirmed: bool,
    /// The latest version's confirmations.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub confirmations: Vec<Confirmation>,
    /// The user payload of the latest version.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: Value,
    /// The latest version's inline content.
    #[serde(default)]
    pub item_content: Option<String>,
    /// The latest version's item type.
    #[serde(default)]
    pub item_type: Option<String>,
    /// The latest version's signature.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub signature: Option<Value>,
    /// The latest version's size.
    #[serde(default)]
    pub size: Option<u64>,
    /// The latest version's time (seconds; read from a float or ISO 8601 text).
    #[serde(default, deserialize_with = "lenient_time")]
    pub time: f64,
    /// The original item hash.
    #[serde(default)]
    pub original_item_hash: Option<String>,
    /// The original signature.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub reference: Option<Value>,
}

impl Post {
    /// The payload deserialized into the caller's type.
    pub fn content_as<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_value(self.content.clone())
    }
}

/// A post in the v1 shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostV1 {
    /// The latest version's item hash.
    pub item_hash: String,
    /// The user payload of the latest version.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub reference: Option<Value>,
    /// The channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Creation time (Python's `isoformat()`, `+00:00`).
    #[serde(default)]
    pub created: Option<String>,
    /// Last update time (Python's `isoformat()`, `+00:00`).
    #[serde(default)]
    pub last_updated: Option<String>,
}

impl PostV1 {
    /// The payload deserialized into the caller's type.
    pub fn content_as<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_value(self.content.clone())
    }
}

fn lenient_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = Value::deserialize(d)?;
    crate::message::parse_time_value(&v).ok_or_else(|| serde::de::Error::custom("invalid time"))
}

list_answer!(
    /// `GET /api/v0/posts.json`.
    PostList, PostPage, PostCursorPage, posts: Post
);
list_answer!(
    /// `GET /api/v1/posts.json`.
    PostV1List, PostV1Page, PostV1CursorPage, posts: PostV1
);

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
        assert_eq!(serde_json::to_value(&post).unwrap(), p, "every key written back as read");
        #[derive(Deserialize)]
        struct Chat {
            body: String,
        }
        assert_eq!(post.content_as::<Chat>().unwrap().body, "hi");
        p["time"] = json!("2022-10-06T11:15:54.517756Z");
        let post: Post = serde_json::from_value(p).unwrap();
        assert_eq!(post.time, 1665054954.517756);
    }
}
