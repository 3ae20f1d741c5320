//! Query filters of the list endpoints, turned into the API's query parameters.

use aleph_core::ItemHash;

use crate::http::join;

pub use aleph_core::api::{ContentFormat, SortBy, SortOrder};

/// Every filter `GET /api/v0/messages.json` (and the message WebSocket) takes: the node's own
/// definition of the parameters ([`aleph_core::api::MessageParams`]), with a builder setter per
/// parameter.
///
/// ```
/// use aleph_sdk::{MessageFilter, core::MessageType};
/// let filter = MessageFilter::new().message_type(MessageType::Post).channel("TEST").content_type("chat");
/// assert!(filter.to_query().contains(&("msgTypes".to_string(), "POST".to_string())));
/// ```
pub type MessageFilter = aleph_core::api::MessageParams;

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
    use aleph_core::{Chain, MessageStatus, MessageType};

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
