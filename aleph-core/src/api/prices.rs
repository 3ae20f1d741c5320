//! Prices and costs (NETWORK.md §1.9): a resource's price, estimates, the costs overview.
//!
//! Amounts are written with 18 decimals as strings (`"1000.000000000000000000"`), except
//! `required_tokens`, a float, and `size_mib`, a float or `null`.

use serde::{Deserialize, Serialize};

use super::query::query_params;
use crate::cost::PriceResponse;

query_params! {
    /// `GET /api/v0/price/{item_hash}`.
    pub struct PriceParams {
        /// `include_size`: each component's size (only the text `true`, in any case, asks for it,
        /// as the reference reads it).
        include_size: Option<String> = "include_size" => include_size,
    }
}

impl PriceParams {
    /// Whether sizes were asked for.
    pub fn sizes(&self) -> bool {
        self.include_size.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

query_params! {
    /// `GET /api/v0/costs` (with `pagination`, 10–1000, default 100, and `page`).
    pub struct CostsParams {
        /// `address`: only this owner's resources.
        address: Option<String> = "address" => address,
        /// `item_hash`: only this resource.
        item_hash: Option<String> = "item_hash" => item_hash,
        /// `payment_type`: `hold`, `superfluid` or `credit` (default).
        payment_type: Option<String> = "payment_type" => payment_type,
        /// `include_details`: 0 totals only, 1 the resources, 2 each one's components too
        /// (needs `address` or `item_hash`).
        include_details: Option<u8> = "include_details" => include_details,
        /// `include_size`: components' sizes.
        include_size: Option<bool> = "include_size" => include_size,
    }
}

/// One component of a price (`detail`).
pub use crate::cost::CostDetail as CostLine;

/// `GET /api/v0/price/{item_hash}`, `POST /api/v0/price/estimate` and
/// `POST /api/v0/price/estimate/instance`: the wire form of [`PriceResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    /// The total as a float: tokens to hold, tokens per second (superfluid) or credits per
    /// second (credit).
    #[serde(default)]
    pub required_tokens: f64,
    /// `hold`, `superfluid` or `credit`.
    pub payment_type: String,
    /// The same total with 18 decimals.
    pub cost: String,
    /// The components.
    #[serde(default)]
    pub detail: Vec<CostLine>,
    /// Who pays.
    pub charged_address: String,
}

impl From<PriceResponse> for Price {
    fn from(r: PriceResponse) -> Self {
        Price {
            required_tokens: r.required_tokens,
            payment_type: r.payment_type.as_str().to_owned(),
            cost: r.cost,
            detail: r.detail,
            charged_address: r.charged_address,
        }
    }
}

/// `POST /api/v0/price/estimate`: a message whose signature is not checked; `sender`, `chain`,
/// `time`, `signature` and `channel` may be left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateRequest {
    /// The message: `type`, `item_type`, `item_hash` and `item_content` (or content the node
    /// stores); contents may carry `estimated_size_mib`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub message: serde_json::Value,
}

/// The totals of `GET /api/v0/costs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostSummary {
    /// Credits consumed by the matching resources' owner or resource.
    pub total_consumed_credits: i64,
    /// Summed hold costs.
    pub total_cost_hold: String,
    /// Summed stream costs.
    pub total_cost_stream: String,
    /// Summed credit costs.
    pub total_cost_credit: String,
    /// Distinct matching resources.
    pub resource_count: u64,
}

/// The filters `GET /api/v0/costs` applied (each `null` when not given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostFilters {
    /// The owner.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub address: Option<String>,
    /// The resource.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub item_hash: Option<String>,
    /// The payment type (always given: `credit` by default).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub payment_type: Option<String>,
}

/// One resource of `GET /api/v0/costs?include_details=1` (or 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceCost {
    /// The resource's message.
    pub item_hash: String,
    /// Who pays.
    pub owner: String,
    /// How.
    pub payment_type: String,
    /// Credits consumed by it.
    pub consumed_credits: i64,
    /// Summed hold costs.
    pub cost_hold: String,
    /// Summed stream costs.
    pub cost_stream: String,
    /// Summed credit costs.
    pub cost_credit: String,
    /// Its components (`include_details=2`), else `null`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub detail: Option<Vec<CostLine>>,
}

/// `GET /api/v0/costs`. The resources and paging keys are always written: `null` unless
/// `include_details` ≥ 1, as the reference answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostsOverview {
    /// The totals.
    pub summary: CostSummary,
    /// The filters applied.
    pub filters: CostFilters,
    /// The resources of this page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resources: Option<Vec<ResourceCost>>,
    /// The page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_page: Option<u64>,
    /// Distinct matching resources.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_total: Option<u64>,
    /// Resources per page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_per_page: Option<u64>,
    /// `resources`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_item: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn include_size_is_the_text_true() {
        let q =
            |v: &str| PriceParams::from_query(&HashMap::from([("include_size".to_owned(), v.to_owned())]));
        assert!(q("TRUE").unwrap().sizes());
        assert!(!q("1").unwrap().sizes());
        assert!(!PriceParams::new().sizes());
    }

    #[test]
    fn an_overview_without_details_writes_nulls() {
        let o = CostsOverview {
            summary: CostSummary {
                total_consumed_credits: 0,
                total_cost_hold: "0".into(),
                total_cost_stream: "0".into(),
                total_cost_credit: "0".into(),
                resource_count: 0,
            },
            filters: CostFilters { address: None, item_hash: None, payment_type: Some("credit".into()) },
            resources: None,
            pagination_page: None,
            pagination_total: None,
            pagination_per_page: None,
            pagination_item: None,
        };
        let v = serde_json::to_value(&o).unwrap();
        assert!(v["resources"].is_null() && v.as_object().unwrap().contains_key("pagination_item"));
        assert_eq!(serde_json::from_value::<CostsOverview>(v).unwrap(), o);
    }
}
