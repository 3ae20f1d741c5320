//! The node's own small answers: its version, its P2P addresses, and the programs subscribed to
//! messages.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::SortOrder;
use super::query::query_params;

query_params! {
    /// `GET /api/v0/programs/on/message`.
    pub struct ProgramSubscriptionParams {
        /// `sort_order`: `-1` (newest first, default) or `1`.
        sort_order: Option<SortOrder> = "sort_order" => sort_order,
    }
}

/// `GET /api/v0/version` and `/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeVersion {
    /// The node's version string.
    pub version: String,
}

/// `GET /api/v0/info/public.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicInfo {
    /// The node's P2P multiaddrs (none for a standalone node).
    pub node_multi_addresses: Vec<String>,
}

/// One program of `GET /api/v0/programs/on/message`: its `content.on.message` subscriptions
/// (free-form filters, as the PROGRAM wrote them), under the same path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgramSubscription {
    /// The PROGRAM message.
    pub item_hash: String,
    /// `{"on": {"message": subscriptions}}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: Value,
}

impl ProgramSubscription {
    /// The program `item_hash` subscribed with `subscriptions`.
    pub fn new(item_hash: String, subscriptions: Value) -> Self {
        ProgramSubscription { item_hash, content: serde_json::json!({"on": {"message": subscriptions}}) }
    }
}
