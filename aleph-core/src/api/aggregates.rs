//! Aggregates: one address's documents (`/api/v0/aggregates/{address}.json`) and the list of
//! every aggregate (`/api/v0/aggregates`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::messages::SortOrder;
use super::paging::list_answer;
use super::query::query_params;

query_params! {
    /// `GET /api/v0/aggregates/{address}.json`.
    pub struct AddressAggregatesParams {
        /// `keys`: only these keys.
        keys: Vec<String> = "keys" => key,
        /// `with_info`: when each document was created and last updated.
        with_info: Option<bool> = "with_info" => with_info,
        /// `value_only`: with one key, the bare document instead of the envelope.
        value_only: Option<bool> = "value_only" => value_only,
        /// `limit`: accepted, as the reference does, and not applied.
        limit: Option<u64> = "limit" => limit,
    }
}

query_params! {
    /// `GET /api/v0/aggregates` (with `pagination`, 1–500, default 20, `page` or `cursor`).
    pub struct AggregateListParams {
        /// `keys`: only these keys.
        keys: Vec<String> = "keys" => key,
        /// `addresses`: only these owners.
        addresses: Vec<String> = "addresses" => address,
        /// `sortBy`: `last_modified` (default) or `creation_time`.
        sort_by: Option<String> = "sortBy" => sort_by,
        /// `sortOrder`: `-1` (default) or `1`.
        sort_order: Option<SortOrder> = "sortOrder" => sort_order,
    }
}

/// When an aggregate document was created and last updated (`with_info=true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AggregateInfo {
    /// The first element's time (Python's `isoformat()`).
    pub created: Option<String>,
    /// The last element's time.
    pub last_updated: Option<String>,
    /// The first element's message.
    pub original_item_hash: Option<String>,
    /// The last element's message.
    pub last_update_item_hash: Option<String>,
}

/// `GET /api/v0/aggregates/{address}.json` (404 when the address has none): the merged
/// documents by key, and (`with_info=true`) when each was made; `info` is `{}` otherwise.
/// With `value_only=true` and one key, the answer is that document alone, free-form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressAggregates {
    /// The owner.
    pub address: String,
    /// Key → merged document.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Map<String, Value>,
    /// Key → when it was created and updated.
    #[serde(default)]
    pub info: BTreeMap<String, AggregateInfo>,
}

/// One entry of `GET /api/v0/aggregates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AggregateEntry {
    /// The owner.
    pub address: String,
    /// The key.
    pub key: String,
    /// The merged document.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: Value,
    /// Creation time (Python's `isoformat()`).
    #[serde(default)]
    pub created: Option<String>,
    /// Last update (Python's `isoformat()`).
    #[serde(default)]
    pub last_updated: Option<String>,
}

list_answer!(
    /// `GET /api/v0/aggregates`.
    AggregateList, AggregatePage, AggregateCursorPage, aggregates: AggregateEntry
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_address_without_info_writes_an_empty_info() {
        let a = AddressAggregates {
            address: "0xa".into(),
            data: Map::from_iter([("k".to_owned(), json!({"x": 1}))]),
            info: BTreeMap::new(),
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"address": "0xa", "data": {"k": {"x": 1}}, "info": {}})
        );
        let back: AddressAggregates = serde_json::from_value(json!({"address": "0xa"})).unwrap();
        assert!(back.data.is_empty() && back.info.is_empty());
    }
}
