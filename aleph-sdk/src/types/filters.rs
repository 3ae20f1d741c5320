//! Query filters of the list endpoints, turned into the API's query parameters.

use aleph_core::{Chain, ItemHash, MessageStatus, MessageType};

use crate::http::join;

/// Sort key of message and post listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// The message time (default).
    #[default]
    Time,
    /// The earliest chain confirmation time (not usable with cursors).
    TxTime,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Newest first (default).
    #[default]
    Descending,
    /// Oldest first.
    Ascending,
}

impl SortOrder {
    fn as_param(self) -> &'static str {
        match self {
            SortOrder::Descending => "-1",
            SortOrder::Ascending => "1",
        }
    }
}

/// How much of each message's content a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentFormat {
    /// The whole content (default).
    #[default]
    Full,
    /// The owner and the type's key fields only.
    Headers,
    /// No content.
    None,
}

/// Every filter `GET /api/v0/messages.json` (and the message WebSocket) takes.
///
/// ```
/// use aleph_sdk::{MessageFilter, core::MessageType};
/// let filter = MessageFilter::new().message_type(MessageType::Post).channel("TEST").content_type("chat");
/// assert!(filter.to_query().contains(&("msgTypes".to_string(), "POST".to_string())));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct MessageFilter {
    /// `msgTypes`.
    pub message_types: Vec<MessageType>,
    /// `msgStatuses` (the node defaults to `processed,removing`).
    pub statuses: Vec<MessageStatus>,
    /// `addresses`: senders.
    pub addresses: Vec<String>,
    /// `owners`: `content.address`.
    pub owners: Vec<String>,
    /// `refs`: `content.ref`.
    pub refs: Vec<String>,
    /// `contentHashes`: STORE `content.item_hash`.
    pub content_hashes: Vec<ItemHash>,
    /// `contentKeys`: AGGREGATE keys.
    pub content_keys: Vec<String>,
    /// `contentTypes`: POST types.
    pub content_types: Vec<String>,
    /// `chains`.
    pub chains: Vec<Chain>,
    /// `channels`.
    pub channels: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `hashes`: item hashes.
    pub hashes: Vec<ItemHash>,
    /// `paymentTypes` (`hold`, `superfluid`, `credit`).
    pub payment_types: Vec<String>,
    /// `startDate`: time ≥ this (seconds).
    pub start_date: Option<f64>,
    /// `endDate`: time < this (seconds).
    pub end_date: Option<f64>,
    /// `startBlock`.
    pub start_block: Option<u64>,
    /// `endBlock`.
    pub end_block: Option<u64>,
    /// `sortBy`.
    pub sort_by: Option<SortBy>,
    /// `sortOrder`.
    pub sort_order: Option<SortOrder>,
    /// `contentFormat`.
    pub content_format: Option<ContentFormat>,
}

impl MessageFilter {
    /// No filter: every processed message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message type.
    pub fn message_type(mut self, t: MessageType) -> Self {
        self.message_types.push(t);
        self
    }

    /// Adds a status.
    pub fn status(mut self, s: MessageStatus) -> Self {
        self.statuses.push(s);
        self
    }

    /// Adds a sender address.
    pub fn address(mut self, a: impl Into<String>) -> Self {
        self.addresses.push(a.into());
        self
    }

    /// Adds an owner (`content.address`).
    pub fn owner(mut self, a: impl Into<String>) -> Self {
        self.owners.push(a.into());
        self
    }

    /// Adds a `content.ref`.
    pub fn reference(mut self, r: impl Into<String>) -> Self {
        self.refs.push(r.into());
        self
    }

    /// Adds a STORE file hash.
    pub fn content_hash(mut self, h: ItemHash) -> Self {
        self.content_hashes.push(h);
        self
    }

    /// Adds an aggregate key.
    pub fn content_key(mut self, k: impl Into<String>) -> Self {
        self.content_keys.push(k.into());
        self
    }

    /// Adds a POST type.
    pub fn content_type(mut self, t: impl Into<String>) -> Self {
        self.content_types.push(t.into());
        self
    }

    /// Adds a chain.
    pub fn chain(mut self, c: Chain) -> Self {
        self.chains.push(c);
        self
    }

    /// Adds a channel.
    pub fn channel(mut self, c: impl Into<String>) -> Self {
        self.channels.push(c.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, t: impl Into<String>) -> Self {
        self.tags.push(t.into());
        self
    }

    /// Adds an item hash.
    pub fn hash(mut self, h: ItemHash) -> Self {
        self.hashes.push(h);
        self
    }

    /// Adds a payment type.
    pub fn payment_type(mut self, p: impl Into<String>) -> Self {
        self.payment_types.push(p.into());
        self
    }

    /// Messages at or after this time (seconds).
    pub fn start_date(mut self, t: f64) -> Self {
        self.start_date = Some(t);
        self
    }

    /// Messages before this time (seconds).
    pub fn end_date(mut self, t: f64) -> Self {
        self.end_date = Some(t);
        self
    }

    /// Messages confirmed at or after this height (unconfirmed ones are kept).
    pub fn start_block(mut self, h: u64) -> Self {
        self.start_block = Some(h);
        self
    }

    /// Messages confirmed before this height.
    pub fn end_block(mut self, h: u64) -> Self {
        self.end_block = Some(h);
        self
    }

    /// The sort key.
    pub fn sort_by(mut self, s: SortBy) -> Self {
        self.sort_by = Some(s);
        self
    }

    /// The sort order.
    pub fn sort_order(mut self, o: SortOrder) -> Self {
        self.sort_order = Some(o);
        self
    }

    /// How much content to return.
    pub fn content_format(mut self, f: ContentFormat) -> Self {
        self.content_format = Some(f);
        self
    }

    /// The query parameters, in the API's names, lists comma-separated.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        let mut list = |name: &str, values: Vec<&str>| {
            if !values.is_empty() {
                q.push((name.to_owned(), join(values)));
            }
        };
        list("msgTypes", self.message_types.iter().map(MessageType::as_str).collect());
        list("msgStatuses", self.statuses.iter().map(MessageStatus::as_str).collect());
        list("addresses", self.addresses.iter().map(String::as_str).collect());
        list("owners", self.owners.iter().map(String::as_str).collect());
        list("refs", self.refs.iter().map(String::as_str).collect());
        list("contentHashes", self.content_hashes.iter().map(ItemHash::as_str).collect());
        list("contentKeys", self.content_keys.iter().map(String::as_str).collect());
        list("contentTypes", self.content_types.iter().map(String::as_str).collect());
        list("chains", self.chains.iter().map(Chain::as_str).collect());
        list("channels", self.channels.iter().map(String::as_str).collect());
        list("tags", self.tags.iter().map(String::as_str).collect());
        list("hashes", self.hashes.iter().map(ItemHash::as_str).collect());
        list("paymentTypes", self.payment_types.iter().map(String::as_str).collect());
        if let Some(t) = self.start_date {
            q.push(("startDate".into(), t.to_string()));
        }
        if let Some(t) = self.end_date {
            q.push(("endDate".into(), t.to_string()));
        }
        if let Some(h) = self.start_block {
            q.push(("startBlock".into(), h.to_string()));
        }
        if let Some(h) = self.end_block {
            q.push(("endBlock".into(), h.to_string()));
        }
        if let Some(s) = self.sort_by {
            q.push(("sortBy".into(), if s == SortBy::TxTime { "tx-time" } else { "time" }.into()));
        }
        if let Some(o) = self.sort_order {
            q.push(("sortOrder".into(), o.as_param().into()));
        }
        if let Some(f) = self.content_format {
            let v = match f {
                ContentFormat::Full => "full",
                ContentFormat::Headers => "headers",
                ContentFormat::None => "none",
            };
            q.push(("contentFormat".into(), v.into()));
        }
        q
    }
}

/// Filters of `GET /api/v0/posts.json` and `/api/v1/posts.json`.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct PostFilter {
    /// `addresses`: owners.
    pub addresses: Vec<String>,
    /// `hashes`: original item hashes.
    pub hashes: Vec<ItemHash>,
    /// `refs`.
    pub refs: Vec<String>,
    /// `types`: post types.
    pub types: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `channels`.
    pub channels: Vec<String>,
    /// `startDate` (on the last update time).
    pub start_date: Option<f64>,
    /// `endDate`.
    pub end_date: Option<f64>,
    /// `sortBy`.
    pub sort_by: Option<SortBy>,
    /// `sortOrder`.
    pub sort_order: Option<SortOrder>,
}

impl PostFilter {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an owner address.
    pub fn address(mut self, a: impl Into<String>) -> Self {
        self.addresses.push(a.into());
        self
    }

    /// Adds an original post hash.
    pub fn hash(mut self, h: ItemHash) -> Self {
        self.hashes.push(h);
        self
    }

    /// Adds a ref.
    pub fn reference(mut self, r: impl Into<String>) -> Self {
        self.refs.push(r.into());
        self
    }

    /// Adds a post type.
    pub fn post_type(mut self, t: impl Into<String>) -> Self {
        self.types.push(t.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, t: impl Into<String>) -> Self {
        self.tags.push(t.into());
        self
    }

    /// Adds a channel.
    pub fn channel(mut self, c: impl Into<String>) -> Self {
        self.channels.push(c.into());
        self
    }

    /// Posts updated at or after this time.
    pub fn start_date(mut self, t: f64) -> Self {
        self.start_date = Some(t);
        self
    }

    /// Posts updated before this time.
    pub fn end_date(mut self, t: f64) -> Self {
        self.end_date = Some(t);
        self
    }

    /// The sort order.
    pub fn sort_order(mut self, o: SortOrder) -> Self {
        self.sort_order = Some(o);
        self
    }

    /// The query parameters.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        let mut list = |name: &str, values: Vec<&str>| {
            if !values.is_empty() {
                q.push((name.to_owned(), join(values)));
            }
        };
        list("addresses", self.addresses.iter().map(String::as_str).collect());
        list("hashes", self.hashes.iter().map(ItemHash::as_str).collect());
        list("refs", self.refs.iter().map(String::as_str).collect());
        list("types", self.types.iter().map(String::as_str).collect());
        list("tags", self.tags.iter().map(String::as_str).collect());
        list("channels", self.channels.iter().map(String::as_str).collect());
        if let Some(t) = self.start_date {
            q.push(("startDate".into(), t.to_string()));
        }
        if let Some(t) = self.end_date {
            q.push(("endDate".into(), t.to_string()));
        }
        if let Some(s) = self.sort_by {
            q.push(("sortBy".into(), if s == SortBy::TxTime { "tx-time" } else { "time" }.into()));
        }
        if let Some(o) = self.sort_order {
            q.push(("sortOrder".into(), o.as_param().into()));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_filter_has_its_api_name() {
        let h = ItemHash::sha256(b"a");
        let f = MessageFilter::new()
            .message_type(MessageType::Post)
            .message_type(MessageType::Store)
            .status(MessageStatus::Pending)
            .address("A")
            .owner("O")
            .reference("R")
            .content_hash(h.clone())
            .content_key("K")
            .content_type("T")
            .chain(Chain::Eth)
            .channel("C")
            .tag("G")
            .hash(h.clone())
            .payment_type("credit")
            .start_date(1.5)
            .end_date(2.0)
            .start_block(3)
            .end_block(4)
            .sort_by(SortBy::TxTime)
            .sort_order(SortOrder::Ascending)
            .content_format(ContentFormat::Headers);
        let q = f.to_query();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("msgTypes"), Some("POST,STORE"));
        assert_eq!(get("msgStatuses"), Some("pending"));
        assert_eq!(get("contentHashes"), Some(h.as_str()));
        assert_eq!(get("chains"), Some("ETH"));
        assert_eq!(get("startDate"), Some("1.5"));
        assert_eq!(get("endDate"), Some("2"));
        assert_eq!(get("sortBy"), Some("tx-time"));
        assert_eq!(get("sortOrder"), Some("1"));
        assert_eq!(get("contentFormat"), Some("headers"));
        assert_eq!(q.len(), 20);
        assert!(MessageFilter::new().to_query().is_empty());
    }
}
