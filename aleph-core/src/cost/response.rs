//! The bodies of the price endpoints.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{cost_string, total_of, CostRow, Result};
use crate::content::PaymentType;

/// One row of a price response's `detail` (on the wire: `aleph_core::api::CostLine`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostDetail {
    /// The cost type (`EXECUTION`, `STORAGE`…).
    #[serde(rename = "type")]
    pub cost_type: String,
    /// The component's name.
    pub name: String,
    /// Tokens held, 18 decimals.
    pub cost_hold: String,
    /// Tokens per second, 18 decimals.
    pub cost_stream: String,
    /// Credits per second, 18 decimals.
    pub cost_credit: String,
    /// The component's size in MiB when asked for and known, else `null`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub size_mib: Option<f64>,
}

impl CostDetail {
    /// The detail row of a cost row.
    pub fn of(row: &CostRow, include_size: bool) -> CostDetail {
        CostDetail {
            cost_type: row.cost_type.as_str().to_owned(),
            name: row.name.clone(),
            cost_hold: cost_string(row.cost_hold),
            cost_stream: cost_string(row.cost_stream),
            cost_credit: cost_string(row.cost_credit),
            size_mib: if include_size { row.size_mib.map(to_f64) } else { None },
        }
    }
}

/// The nearest float (Python's `float(Decimal)`).
pub fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// The body of `GET /api/v0/price/{item_hash}`, `POST /api/v0/price/estimate` and
/// `POST /api/v0/price/estimate/instance` (NETWORK.md §1.9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceResponse {
    /// The total for the payment type, as a float: tokens (hold), tokens per second (stream) or
    /// credits per second (credit).
    pub required_tokens: f64,
    /// The payment type.
    pub payment_type: PaymentType,
    /// The same total written with 18 decimals.
    pub cost: String,
    /// The components.
    pub detail: Vec<CostDetail>,
    /// Who pays (`content.address`).
    pub charged_address: String,
}

impl PriceResponse {
    /// The response for cost rows of a resource paid with `payment_type` by `charged_address`.
    pub fn new(
        payment_type: PaymentType,
        charged_address: &str,
        rows: &[CostRow],
        include_size: bool,
    ) -> Result<PriceResponse> {
        let total = total_of(rows, payment_type)?;
        Ok(PriceResponse {
            required_tokens: to_f64(total),
            payment_type,
            cost: cost_string(total),
            detail: rows.iter().map(|r| CostDetail::of(r, include_size)).collect(),
            charged_address: charged_address.to_owned(),
        })
    }
}
