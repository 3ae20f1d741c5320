//! Per-address views: message counts, stored files, post types, channels, and the
//! authorizations of `security` aggregates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::SortOrder;
use super::paging::{CursorInfo, PageInfo};
use super::query::query_params;

query_params! {
    /// `GET /api/v1/addresses/stats.json` (with `pagination` and `page`).
    pub struct AddressStatsParams {
        /// `addressContains`: a case-insensitive part of the address (at most 66 characters).
        address_contains: Option<String> = "addressContains" => address_contains,
        /// `sortBy`: the count to sort by: `total` (default), `post`, `aggregate`, `store`,
        /// `forget`, `program` or `instance`.
        sort_by: Option<String> = "sortBy" => sort_by,
        /// `sortOrder`: `-1` (default) or `1`.
        sort_order: Option<SortOrder> = "sortOrder" => sort_order,
    }
}

query_params! {
    /// `GET /api/v0/addresses/{address}/files` (with `pagination`, `page` and `cursor`).
    pub struct AccountFileParams {
        /// `sort_order`: `-1` (newest first, default) or `1`.
        sort_order: Option<SortOrder> = "sort_order" => sort_order,
        /// `file_hash`: only this file (totals still count every file).
        file_hash: Option<String> = "file_hash" => file_hash,
    }
}

query_params! {
    /// The filters of the authorization listings
    /// (`GET /api/v0/authorizations/{granted,received}/{address}.json`, with `pagination`,
    /// 1–500, default 20, and `page`): an authorization is listed when it names every value
    /// asked (and, for `chains`, one of them).
    pub struct AuthorizationParams {
        /// `types`: message types the authorization allows.
        types: Vec<String> = "types" => message_type,
        /// `channels`.
        channels: Vec<String> = "channels" => channel,
        /// `chains`: any of these.
        chains: Vec<String> = "chains" => chain,
        /// `postTypes`.
        post_types: Vec<String> = "postTypes" => post_type,
        /// `aggregateKeys`.
        aggregate_keys: Vec<String> = "aggregateKeys" => aggregate_key,
    }
}

query_params! {
    /// `GET /api/v0/authorizations/granted/{address}.json`: whom to list.
    pub struct GranteeParams {
        /// `grantee`: only this grantee (case-insensitive).
        grantee: Option<String> = "grantee" => grantee,
    }
}

query_params! {
    /// `GET /api/v0/authorizations/received/{address}.json`: whose to list.
    pub struct GranterParams {
        /// `granter`: only this granter (case-insensitive).
        granter: Option<String> = "granter" => granter,
    }
}

/// Message counts of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl AddressStats {
    /// Counts `n` more messages of `message_type` (`POST`, `STORE`…; others count only in
    /// `messages`).
    pub fn add(&mut self, message_type: &str, n: u64) {
        self.messages += n;
        let slot = match message_type {
            "POST" => &mut self.post,
            "AGGREGATE" => &mut self.aggregate,
            "STORE" => &mut self.store,
            "FORGET" => &mut self.forget,
            "PROGRAM" => &mut self.program,
            "INSTANCE" => &mut self.instance,
            _ => return,
        };
        *slot = n;
    }
}

/// `GET /api/v0/addresses/stats.json`: address → counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressStatsMap {
    /// Address → counts.
    #[serde(default)]
    pub data: BTreeMap<String, AddressStats>,
}

/// `GET /api/v1/addresses/stats.json`: one page of address → counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressStatsPage {
    /// Address → counts.
    #[serde(default)]
    pub data: BTreeMap<String, AddressStats>,
    /// Where this page is (`pagination_item`: `addresses`).
    #[serde(flatten)]
    pub page: PageInfo,
}

/// A file of an address, page mode (`created` in RFC 3339); a cursor page's `created` (epoch
/// seconds) is read into the same text form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFile {
    /// The file's hash.
    pub file_hash: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// `file` or `directory`.
    #[serde(default, rename = "type")]
    pub file_type: Option<String>,
    /// When it was stored (RFC 3339).
    #[serde(default, deserialize_with = "iso_or_epoch")]
    pub created: Option<String>,
    /// The STORE message.
    #[serde(default)]
    pub item_hash: Option<String>,
}

/// A file of an address in a cursor page: `created` in epoch seconds, as the reference writes it
/// there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFileSeconds {
    /// The file's hash.
    pub file_hash: String,
    /// Its size in bytes.
    pub size: u64,
    /// `file` or `directory`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// When it was stored (seconds).
    pub created: f64,
    /// The STORE message.
    pub item_hash: String,
}

/// A time given as RFC 3339 text or as epoch seconds, kept as RFC 3339 text.
fn iso_or_epoch<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => n.as_f64().and_then(crate::message::time_to_rfc3339),
        Some(other) => return Err(serde::de::Error::custom(format!("expected a time, not {other}"))),
    })
}

/// `GET /api/v0/addresses/{address}/files`, page mode (404 for an empty page; its page info
/// has no `pagination_item`, as the reference answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFiles {
    /// The address.
    pub address: String,
    /// Bytes of every file of the address.
    #[serde(default)]
    pub total_size: u64,
    /// The files of this page.
    #[serde(default)]
    pub files: Vec<AccountFile>,
    /// The page.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_page: u64,
    /// Total files.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_total: u64,
    /// Files per page.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_per_page: u64,
}

/// `GET /api/v0/addresses/{address}/files`, cursor mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFilesCursorPage {
    /// The address.
    pub address: String,
    /// Bytes of every file of the address.
    pub total_size: u64,
    /// The files of this page.
    pub files: Vec<AccountFileSeconds>,
    /// The next page.
    #[serde(flatten)]
    pub cursor: CursorInfo,
}

/// `GET /api/v0/addresses/{address}/files`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AccountFileList {
    /// Cursor mode (tried first when reading: its `next_cursor` key tells it).
    Cursor(AccountFilesCursorPage),
    /// Page mode.
    Page(AccountFiles),
}

/// `GET /api/v0/addresses/{address}/post_types`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressPostTypes {
    /// The address.
    pub address: String,
    /// Its post types.
    pub post_types: Vec<String>,
}

/// `GET /api/v0/addresses/{address}/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressChannels {
    /// The address.
    pub address: String,
    /// The channels it posted on.
    pub channels: Vec<String>,
}

/// `GET /api/v0/channels/list.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelList {
    /// Every channel in use.
    pub channels: Vec<String>,
}

/// `GET /api/v0/authorizations/{granted,received}/{address}.json`: by the other party, the
/// delegations' restrictions as the owner's `security` aggregate writes them (`types`,
/// `channels`, `chain`, `post_types`, `aggregate_keys`, each only when set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizationsPage {
    /// The address.
    pub address: String,
    /// The other party → its delegations.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Vec<Object>>))]
    pub authorizations: BTreeMap<String, Vec<Value>>,
    /// Where this page is.
    #[serde(flatten)]
    pub page: PageInfo,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_add_up_per_type() {
        let mut s = AddressStats::default();
        s.add("POST", 2);
        s.add("STORE", 1);
        s.add("V-PROGRAM", 4);
        assert_eq!((s.messages, s.post, s.store, s.program), (7, 2, 1, 0));
    }

    #[test]
    fn a_cursor_files_page_reads_its_epoch_times_as_text() {
        let v = json!({"address": "a", "total_size": 3, "pagination_per_page": 1, "next_cursor": null,
            "files": [{"file_hash": "h", "size": 3, "type": "file", "created": 0.0, "item_hash": "i"}]});
        let AccountFileList::Cursor(page) = serde_json::from_value(v.clone()).unwrap() else {
            panic!("cursor")
        };
        assert_eq!(page.files[0].created, 0.0);
        let as_files: AccountFile = serde_json::from_value(v["files"][0].clone()).unwrap();
        assert!(as_files.created.unwrap().starts_with("1970-01-01T00:00:00"));
    }
}
