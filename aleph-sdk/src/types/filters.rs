//! Query filters of the list endpoints, turned into the API's query parameters.

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

/// Filters of `GET /api/v0/posts.json` and `/api/v1/posts.json`: the node's own definition
/// ([`aleph_core::api::PostParams`]), with a builder setter per parameter.
///
/// ```
/// use aleph_sdk::{PostFilter, SortOrder};
/// let filter = PostFilter::new().post_type("blog").sort_order(SortOrder::Ascending);
/// assert!(filter.to_query().contains(&("types".to_string(), "blog".to_string())));
/// ```
pub type PostFilter = aleph_core::api::PostParams;

#[cfg(test)]
mod tests {
    use super::*;
    use aleph_core::{Chain, ItemHash, MessageStatus, MessageType};

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
