//! Accounts (NETWORK.md §1.8): ALEPH balances, credit balances and the credit history.
//!
//! Amounts the reference serializes as floats (`balance`, `locked_amount`, per-chain details)
//! are JSON floats (`200.0`); credits are integers. Datetimes are written as pydantic does
//! (`2026-01-01T00:00:00Z`, microseconds only when non-zero).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::paging::{list_answer, CursorInfo, PageInfo};
use super::query::query_params;
use crate::Chain;

query_params! {
    /// `GET /api/v0/addresses/{address}/balance`.
    pub struct BalanceParams {
        /// `chain`: only this chain's balance (the per-chain `details` are then empty).
        chain: Option<String> = "chain" => chain,
        /// `include_credit_details`: list the credit lots with their expiry.
        include_credit_details: Option<bool> = "include_credit_details" => include_credit_details,
    }
}

query_params! {
    /// `GET /api/v0/balances`.
    pub struct BalanceListParams {
        /// `chains`: only these chains.
        chains: Vec<Chain> = "chains" => chain,
        /// `min_balance`: only balances of at least this (an integer ≥ 1).
        min_balance: Option<u64> = "min_balance" => min_balance,
    }
}

query_params! {
    /// `GET /api/v0/credit_balances`.
    pub struct CreditBalanceListParams {
        /// `min_balance`: only credit balances of at least this (an integer ≥ 1).
        min_balance: Option<u64> = "min_balance" => min_balance,
    }
}

query_params! {
    /// Filters of `GET /api/v0/addresses/{address}/credit_history` and its `/summary`.
    pub struct CreditHistoryParams {
        /// `tx_hash`.
        tx_hash: Option<String> = "tx_hash" => tx_hash,
        /// `token`.
        token: Option<String> = "token" => token,
        /// `chain`.
        chain: Option<String> = "chain" => chain,
        /// `provider`.
        provider: Option<String> = "provider" => provider,
        /// `origin`.
        origin: Option<String> = "origin" => origin,
        /// `origin_ref`.
        origin_ref: Option<String> = "origin_ref" => origin_ref,
        /// `payment_method`.
        payment_method: Option<String> = "payment_method" => payment_method,
        /// `has_expiration`: only entries with (true) or without (false) an expiration date.
        has_expiration: Option<bool> = "has_expiration" => has_expiration,
        /// `exclude_payment_method`: leave out these payment methods.
        exclude_payment_method: Vec<String> = "exclude_payment_method" => exclude_payment_method,
        /// `startDate`: `message_timestamp` ≥ this (seconds).
        start_date: Option<f64> = "startDate" => start_date,
        /// `endDate`: `message_timestamp` ≤ this (seconds).
        end_date: Option<f64> = "endDate" => end_date,
        /// `direction`: `incoming` or `outgoing`.
        direction: Option<String> = "direction" => direction,
        /// `resourceTypes`: only entries whose resource is a message of these types.
        resource_types: Vec<crate::MessageType> = "resourceTypes" => resource_type,
        /// `resource`: only entries whose resource is this hash.
        resource: Option<String> = "resource" => resource,
    }
}

query_params! {
    /// The order of `GET /api/v0/addresses/{address}/credit_history` (not of its summary).
    pub struct CreditSortParams {
        /// `sort_by`: `message_timestamp` (default), `expiration_date`,
        /// `payment_method`, `amount`, `origin`, `tx_hash`, `provider`.
        sort_by: Option<String> = "sort_by" => sort_by,
        /// `sort_order`: `-1` (default) or `1`.
        sort_order: Option<super::messages::SortOrder> = "sort_order" => sort_order,
    }
}

/// Credits that expire together (`credit_balance_details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditLot {
    /// When they expire (`null`: never).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub expiration_date: Option<String>,
    /// How many.
    pub amount: i64,
}

/// `GET /api/v0/addresses/{address}/balance` (never 404: an unknown address has zeros).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balance {
    /// The address.
    pub address: String,
    /// Total token balance over chains (a float).
    #[serde(default)]
    pub balance: f64,
    /// Per chain (empty when one `chain` was asked).
    #[serde(default)]
    pub details: Option<BTreeMap<String, f64>>,
    /// Tokens held by the address's resources (a float).
    #[serde(default)]
    pub locked_amount: f64,
    /// Credits (an integer, never negative).
    #[serde(default)]
    pub credit_balance: i64,
    /// Credit lots with their expiry (`include_credit_details=true`), else `null`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub credit_balance_details: Option<Vec<CreditLot>>,
}

impl Balance {
    /// Tokens not held by resources.
    pub fn available(&self) -> f64 {
        self.balance - self.locked_amount
    }
}

/// One row of `GET /api/v0/balances` (dapp rows included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceEntry {
    /// The address.
    pub address: String,
    /// The amount (a float).
    pub balance: f64,
    /// The chain.
    pub chain: String,
}

/// One row of `GET /api/v0/credit_balances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditBalanceEntry {
    /// The address.
    pub address: String,
    /// Its credits.
    pub credits: i64,
}

list_answer!(
    /// `GET /api/v0/balances`.
    BalanceList, BalancePage, BalanceCursorPage, balances: BalanceEntry
);
list_answer!(
    /// `GET /api/v0/credit_balances`.
    CreditBalanceList, CreditBalancePage, CreditBalanceCursorPage, credit_balances: CreditBalanceEntry
);

/// One credit history entry. `expense_count` and `expense_size_mib` are always `null` here
/// (the reference fills them for expense entries it aggregates; this node records none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditHistoryEntry {
    /// Credits (negative for expenses and sent transfers).
    pub amount: i64,
    /// The price paid, as recorded.
    pub price: Option<String>,
    /// Bonus credits.
    pub bonus_amount: Option<i64>,
    /// The payment transaction.
    pub tx_hash: Option<String>,
    /// The token paid with.
    pub token: Option<String>,
    /// The chain paid on.
    pub chain: Option<String>,
    /// The payment provider.
    pub provider: Option<String>,
    /// The origin (resource or message kind).
    pub origin: Option<String>,
    /// The origin's reference.
    pub origin_ref: Option<String>,
    /// The payment method.
    pub payment_method: Option<String>,
    /// The message that moved the credits.
    pub credit_ref: String,
    /// The entry's index in that message.
    pub credit_index: i64,
    /// When the credits expire.
    pub expiration_date: Option<String>,
    /// The message's time.
    pub message_timestamp: Option<String>,
    /// Aggregated expenses (always `null` here).
    pub expense_count: Option<u64>,
    /// Aggregated expense size (always `null` here).
    pub expense_size_mib: Option<f64>,
}

/// `GET /api/v0/addresses/{address}/credit_history`, page mode (its page info has no
/// `pagination_item`, as the reference answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditHistoryPage {
    /// The address.
    pub address: String,
    /// The entries.
    pub credit_history: Vec<CreditHistoryEntry>,
    /// Where this page is.
    #[serde(flatten)]
    pub page: PageInfo,
}

/// `GET /api/v0/addresses/{address}/credit_history`, cursor mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditHistoryCursorPage {
    /// The address.
    pub address: String,
    /// The entries.
    pub credit_history: Vec<CreditHistoryEntry>,
    /// The next page.
    #[serde(flatten)]
    pub cursor: CursorInfo,
}

/// `GET /api/v0/addresses/{address}/credit_history` (404 when nothing matches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum CreditHistory {
    /// Cursor mode (tried first when reading: its `next_cursor` key tells it).
    Cursor(CreditHistoryCursorPage),
    /// Page mode.
    Page(CreditHistoryPage),
}

/// `GET /api/v0/addresses/{address}/credit_history/summary` (always 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditHistorySummary {
    /// The address.
    pub address: String,
    /// Matching entries.
    pub entry_count: u64,
    /// Their sum.
    pub total_amount: i64,
    /// The sum of the positive ones.
    pub total_incoming: i64,
    /// The sum of the negative ones (negative).
    pub total_outgoing: i64,
}

/// `GET /api/v0/messages/{item_hash}/consumed_credits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsumedCredits {
    /// The resource.
    pub item_hash: String,
    /// Credits spent on it.
    pub consumed_credits: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn balance_numbers_keep_their_kinds() {
        let b = Balance {
            address: "a".into(),
            balance: 200.0,
            details: Some(BTreeMap::from([("ETH".to_owned(), 200.0)])),
            locked_amount: 0.0,
            credit_balance: 7,
            credit_balance_details: None,
        };
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.contains(r#""balance":200.0"#) && text.contains(r#""credit_balance":7,"#), "{text}");
        assert!(text.contains(r#""credit_balance_details":null"#));
        assert_eq!(b.available(), 200.0);
    }

    #[test]
    fn lists_read_back_in_their_mode() {
        let page = json!({"balances": [{"address": "a", "balance": 1.0, "chain": "ETH"}],
            "pagination_page": 1, "pagination_per_page": 100, "pagination_total": 1, "pagination_item": "balances"});
        assert!(matches!(serde_json::from_value::<BalanceList>(page).unwrap(), BalanceList::Page(_)));
        let cursor = json!({"credit_balances": [], "pagination_per_page": 2, "next_cursor": null});
        assert!(matches!(
            serde_json::from_value::<CreditBalanceList>(cursor).unwrap(),
            CreditBalanceList::Cursor(_)
        ));
    }
}
