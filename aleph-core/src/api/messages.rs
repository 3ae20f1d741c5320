//! Messages: the filters of `messages.json` (and the message WebSocket), list pages, one message
//! with its status, the status alone, item hashes, and the answer to a submission.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paging::{CursorInfo, PageInfo};
use super::query::{query_enum, query_params, QueryError, Scalar};
use crate::{Chain, ItemHash, MessageStatus, MessageType};

query_enum! {
    /// Sort key of message and post listings (`sortBy`).
    pub enum SortBy("sortBy") {
        /// The message time (default).
        #[default]
        Time = "time",
        /// The earliest chain confirmation time (not usable with cursors).
        TxTime = "tx-time",
    }
}

query_enum! {
    /// How much of each message's content a listing returns (`contentFormat`).
    pub enum ContentFormat("contentFormat") {
        /// The whole content (default).
        #[default]
        Full = "full",
        /// `address` plus the type's identifying fields.
        Headers = "headers",
        /// No `content` key.
        None = "none",
    }
}

/// Sort direction (`sortOrder`, `sort_order`): `-1` (newest first, the default) or `1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// Newest first (default).
    #[default]
    Descending,
    /// Oldest first.
    Ascending,
}

impl SortOrder {
    /// The query-string text.
    pub const fn as_param(self) -> &'static str {
        match self {
            SortOrder::Descending => "-1",
            SortOrder::Ascending => "1",
        }
    }

    /// Whether an absent or given order is ascending.
    pub fn is_ascending(order: Option<SortOrder>) -> bool {
        order == Some(SortOrder::Ascending)
    }
}

impl Scalar for SortOrder {
    fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
        match i32::parse_scalar(key, raw)? {
            None => Ok(None),
            Some(-1) => Ok(Some(SortOrder::Descending)),
            Some(1) => Ok(Some(SortOrder::Ascending)),
            Some(other) => Err(QueryError::new(key, format!("{key} must be -1 or 1, not {other}"))),
        }
    }

    fn render_scalar(&self) -> String {
        self.as_param().to_owned()
    }

    #[cfg(feature = "openapi")]
    fn schema_type() -> utoipa::openapi::schema::Type {
        utoipa::openapi::schema::Type::Integer
    }
}

query_params! {
    /// Every filter of `GET /api/v0/messages.json` and the message WebSocket.
    ///
    /// ```
    /// use aleph_core::api::MessageParams;
    /// use aleph_core::MessageType;
    /// let filter = MessageParams::new().message_type(MessageType::Post).channel("TEST").content_type("chat");
    /// assert!(filter.to_query().contains(&("msgTypes".to_string(), "POST".to_string())));
    /// ```
    pub struct MessageParams {
        /// `msgTypes`: message types.
        message_types: Vec<MessageType> = "msgTypes" => message_type,
        /// `msgType`: one more type (the reference's older, singular name).
        message_type_legacy: Vec<MessageType> = "msgType" => message_type_legacy,
        /// `msgStatuses` (the node defaults to `processed,removing`; `forgotten` and `removed` alone).
        statuses: Vec<MessageStatus> = "msgStatuses" => status,
        /// `addresses`: senders.
        addresses: Vec<String> = "addresses" => address,
        /// `owners`: `content.address`.
        owners: Vec<String> = "owners" => owner,
        /// `refs`: `content.ref`.
        refs: Vec<String> = "refs" => reference,
        /// `contentHashes`: STORE `content.item_hash`.
        content_hashes: Vec<ItemHash> = "contentHashes" => content_hash,
        /// `contentKeys`: AGGREGATE keys.
        content_keys: Vec<String> = "contentKeys" => content_key,
        /// `contentTypes`: POST types.
        content_types: Vec<String> = "contentTypes" => content_type,
        /// `chains`.
        chains: Vec<Chain> = "chains" => chain,
        /// `channels`.
        channels: Vec<String> = "channels" => channel,
        /// `tags`.
        tags: Vec<String> = "tags" => tag,
        /// `hashes`: item hashes.
        hashes: Vec<ItemHash> = "hashes" => hash,
        /// `paymentTypes` (`hold`, `superfluid`, `credit`).
        payment_types: Vec<String> = "paymentTypes" => payment_type,
        /// `startDate`: time ≥ this (seconds; 0: no bound).
        start_date: Option<f64> = "startDate" => start_date,
        /// `endDate`: time < this (seconds; 0: no bound).
        end_date: Option<f64> = "endDate" => end_date,
        /// `startBlock`: confirmed at or after this height (unconfirmed ones are kept).
        start_block: Option<u64> = "startBlock" => start_block,
        /// `endBlock`: confirmed before this height.
        end_block: Option<u64> = "endBlock" => end_block,
        /// `sortBy`: `time` or `tx-time`.
        sort_by: Option<SortBy> = "sortBy" => sort_by,
        /// `sortOrder`: `-1` or `1`.
        sort_order: Option<SortOrder> = "sortOrder" => sort_order,
        /// `contentFormat`: `full`, `headers` or `none`.
        content_format: Option<ContentFormat> = "contentFormat" => content_format,
        /// `excludeContent`: no content (as `contentFormat=none`).
        exclude_content: Option<bool> = "excludeContent" => exclude_content,
    }
}

impl MessageParams {
    /// Every asked type: `msgTypes` then `msgType`.
    pub fn all_types(&self) -> Vec<MessageType> {
        self.message_types.iter().chain(&self.message_type_legacy).copied().collect()
    }

    /// The content format, `excludeContent` winning.
    pub fn format(&self) -> ContentFormat {
        if self.exclude_content == Some(true) {
            ContentFormat::None
        } else {
            self.content_format.unwrap_or_default()
        }
    }
}

/// `startDate` and `endDate` (0 or absent: no bound), with the reference's rules: neither is
/// negative and the end is not before the start.
pub fn date_range(start: Option<f64>, end: Option<f64>) -> Result<(f64, f64), QueryError> {
    let (start, end) = (start.unwrap_or(0.0), end.unwrap_or(0.0));
    if start < 0.0 {
        return Err(QueryError::new("startDate", "startDate must not be negative"));
    }
    if end < 0.0 {
        return Err(QueryError::new("endDate", "endDate must not be negative"));
    }
    if end > 0.0 && end < start {
        return Err(QueryError::new("endDate", "invalid date range"));
    }
    Ok((start, end))
}

query_params! {
    /// Page or cursor paging of a list (`pagination`, `page`, `cursor`).
    pub struct PageParams {
        /// `pagination`: items per page (the endpoint's default when absent).
        pagination: Option<u64> = "pagination" => pagination,
        /// `page`: from 1.
        page: Option<u64> = "page" => page,
        /// `cursor`: cursor mode (empty for the first page), the previous answer's `next_cursor`.
        cursor: Option<String> = "cursor" => cursor,
    }
}

query_params! {
    /// Page paging only (`pagination`, `page`), for the lists that have no cursor mode.
    pub struct PageNumberParams {
        /// `pagination`: items per page (the endpoint's default and bounds apply).
        pagination: Option<u64> = "pagination" => pagination,
        /// `page`: from 1.
        page: Option<u64> = "page" => page,
    }
}

query_params! {
    /// The message WebSocket's own parameter, beside [`MessageParams`].
    pub struct WsParams {
        /// `history`: how many past messages to send first.
        history: Option<u64> = "history" => history,
    }
}

query_params! {
    /// `GET /api/v0/messages/hashes`.
    pub struct HashesParams {
        /// `status`: only hashes of this status.
        status: Option<String> = "status" => status,
        /// `startDate`: received at or after (seconds).
        start_date: Option<f64> = "startDate" => start_date,
        /// `endDate`: received before (seconds).
        end_date: Option<f64> = "endDate" => end_date,
        /// `sortOrder`: by reception time.
        sort_order: Option<SortOrder> = "sortOrder" => sort_order,
        /// `hash_only`: bare hashes (default) or `{status, item_hash, reception_time}`.
        hash_only: Option<bool> = "hash_only" => hash_only,
    }
}

/// One page of messages (page mode): the API form of each message (see
/// [`crate::Message::from_value`] for the forms the reference gives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    /// The messages, in the node's order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub messages: Vec<Value>,
    /// Where this page is.
    #[serde(flatten)]
    pub page: PageInfo,
}

/// One page of messages in cursor mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageCursorPage {
    /// The messages.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub messages: Vec<Value>,
    /// The next page.
    #[serde(flatten)]
    pub cursor: CursorInfo,
}

/// `GET /api/v0/messages.json`: a page or a cursor page, as the request asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum MessageList {
    /// Cursor mode (tried first when reading: its `next_cursor` key tells it).
    Cursor(MessageCursorPage),
    /// Page mode.
    Page(MessagePage),
}

/// `GET /api/v0/messages/{item_hash}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageStatusInfo {
    /// The status.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: MessageStatus,
    /// The message.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub item_hash: ItemHash,
    /// When the node received it (ISO 8601, `Z`), where given.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reception_time: Option<String>,
}

/// `GET /api/v0/messages/{item_hash}`: the message with its status. Which keys are present
/// depends on the status, as the reference answers:
/// - processed: `message` (its API form without `size`); removing adds `reason`;
/// - pending: `messages`, the envelopes held, each with ISO `time`, `content` and `reception_time`;
/// - rejected: `message` (as submitted, any JSON), `error_code` and `details` (either may be `null`);
/// - forgotten: `message` (what is kept of it) and `forgotten_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageWithStatusBody {
    /// The status.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: MessageStatus,
    /// The message's item hash (some reference answers leave it to `message.item_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_hash: Option<String>,
    /// When the node received it (ISO 8601, `Z`; some nodes give epoch seconds, read as text).
    #[serde(default, deserialize_with = "time_text")]
    pub reception_time: Option<String>,
    /// The message (processed, removing, rejected, forgotten).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub message: Option<Value>,
    /// The pending envelopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub messages: Option<Vec<Value>>,
    /// Why a message is being removed (`balance_insufficient`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rejection's error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// The rejection's details (written, `null` included, for a rejected message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Option<Value>,
    /// The FORGET messages of a forgotten message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub forgotten_by: Option<Value>,
}

impl MessageWithStatusBody {
    /// The answer's skeleton: status, hash and reception time, nothing else.
    pub fn new(status: MessageStatus, item_hash: &str, reception_time: Option<String>) -> Self {
        MessageWithStatusBody {
            status,
            item_hash: Some(item_hash.to_owned()),
            reception_time,
            message: None,
            messages: None,
            reason: None,
            error_code: None,
            details: None,
            forgotten_by: None,
        }
    }
}

/// A time given as text or as a number, kept as text.
fn time_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// One entry of `GET /api/v0/messages/hashes`: the bare hash, or (`hash_only=false`) with its
/// status and reception time (Python's `isoformat()`, `+00:00`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum HashEntry {
    /// `hash_only` (default).
    Hash(String),
    /// With status.
    WithStatus {
        /// The status.
        status: String,
        /// The item hash.
        item_hash: String,
        /// When the node received it.
        reception_time: Option<String>,
    },
}

/// `GET /api/v0/messages/hashes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HashesPage {
    /// The hashes.
    pub hashes: Vec<HashEntry>,
    /// Where this page is.
    #[serde(flatten)]
    pub page: PageInfo,
}

/// How a node reported the publication of a submitted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicationStatus {
    /// `success`, `warning` (some networks failed) or `error`.
    pub status: String,
    /// The networks that failed (`p2p`, `ipfs`).
    #[serde(default)]
    pub failed: Vec<String>,
}

/// `POST /api/v0/messages`: `{sync, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitRequest {
    /// Wait for processing (up to the node's sync timeout).
    #[serde(default)]
    pub sync: bool,
    /// The signed message.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub message: Value,
}

/// The answer to `POST /api/v0/messages` (200 processed, 202 pending, 422 rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitResponse {
    /// The publication report.
    pub publication_status: PublicationStatus,
    /// The message's status: `processed`, `pending`, `rejected`…
    pub message_status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn message_params_round_trip_through_the_query_string() {
        let h = ItemHash::sha256(b"a");
        let p = MessageParams::new()
            .message_type(MessageType::Post)
            .message_type(MessageType::Store)
            .status(MessageStatus::Pending)
            .content_hash(h.clone())
            .chain(Chain::Eth)
            .start_date(1.5)
            .end_date(2.0)
            .start_block(3u64)
            .sort_by(SortBy::TxTime)
            .sort_order(SortOrder::Ascending)
            .content_format(ContentFormat::Headers);
        let q = p.to_query();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("msgTypes"), Some("POST,STORE"));
        assert_eq!(get("endDate"), Some("2"));
        assert_eq!(get("sortBy"), Some("tx-time"));
        assert_eq!(get("sortOrder"), Some("1"));
        let map: HashMap<String, String> = q.into_iter().collect();
        assert_eq!(MessageParams::from_query(&map).unwrap(), p);
    }

    #[test]
    fn bad_values_are_refused_with_the_nodes_words() {
        let q = |k: &str, v: &str| HashMap::from([(k.to_owned(), v.to_owned())]);
        let e = MessageParams::from_query(&q("sortOrder", "2")).unwrap_err();
        assert_eq!(e.message, "sortOrder must be -1 or 1, not 2");
        let e = MessageParams::from_query(&q("contentFormat", "xml")).unwrap_err();
        assert_eq!(e.message, "invalid contentFormat \"xml\"");
        let e = MessageParams::from_query(&q("msgStatuses", "gone")).unwrap_err();
        assert_eq!(e.message, "invalid message status \"gone\"");
        let p = MessageParams::from_query(&q("sortBy", "")).unwrap();
        assert_eq!(p.sort_by, None);
        let p = MessageParams::from_query(&q("excludeContent", "1")).unwrap();
        assert_eq!(p.format(), ContentFormat::None);
        assert_eq!(date_range(Some(2.0), Some(1.0)).unwrap_err().message, "invalid date range");
        assert_eq!(date_range(None, None).unwrap(), (0.0, 0.0));
    }

    #[test]
    fn a_page_and_a_cursor_page_read_back_as_themselves() {
        let page =
            MessageList::Page(MessagePage { messages: vec![], page: PageInfo::new(1, 20, 0, "messages") });
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(serde_json::from_str::<MessageList>(&text).unwrap(), page);
        let cursor = MessageList::Cursor(MessageCursorPage {
            messages: vec![],
            cursor: CursorInfo { pagination_per_page: 5, next_cursor: Some("c".into()) },
        });
        let text = serde_json::to_string(&cursor).unwrap();
        assert_eq!(serde_json::from_str::<MessageList>(&text).unwrap(), cursor);
    }
}
