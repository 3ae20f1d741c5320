//! What paid resources cost, and which payments the network accepts (MESSAGES.md §6.13,
//! NETWORK.md §1.9): the reference node's cost model (pyaleph `services/cost.py`,
//! `toolkit/costs.py`, `toolkit/constants.py`, `services/cost_validation.py`) as pure functions.
//!
//! * [`Pricing`] is the price list: [`Pricing::default`] is the built-in
//!   `DEFAULT_PRICE_AGGREGATE`; [`Pricing::from_aggregate`] reads the network's `pricing`
//!   aggregate, which replaces it. [`Settings`] holds the GPU list of the `settings` aggregate.
//! * [`message_costs`] prices a STORE, PROGRAM, INSTANCE or V-PROGRAM content: one
//!   [`CostRow`] per component (execution, each volume, the included-disk discount, or the
//!   stored file), with hold, stream and credit prices, all floored to 18 decimals.
//!   The caller resolves file sizes through [`FileSizes`]; estimates can name sizes
//!   themselves ([`EstimatedSizes`]).
//! * [`balance_check`] applies the cutoffs and free cases and says which balance must cover
//!   the new cost (or rejects the payment method, error 202); [`check_hold_balance`] and
//!   [`check_credit_balance`] give the verdicts of errors 5 and 6.
//! * [`PriceResponse`] is the body of the price endpoints.
//!
//! # Arithmetic
//!
//! Amounts are [`Decimal`]s (96-bit mantissa, up to 28 decimals). Every cost is a product of a
//! size or a compute-unit count with a price, divided by 3 600 for per-second rates, then floored
//! to 18 decimals. The reference divides first in a 28-significant-digit context; here the
//! product is formed first and divided once, which gives the exact result whenever it has at
//! most 18 decimals (`6 CU × 14 250 / 3 600 = 23.75` credits/s, where dividing first in a
//! 28-decimal type would give `23.749999999999999999`) and otherwise agrees with the reference
//! on every digit kept (rates over 3 600 never end in repeating 9s).
//!
//! # Deviations from the reference
//!
//! * JSON floats in a pricing aggregate are read from their shortest decimal form, not from the
//!   float's exact binary expansion (the network's aggregate writes prices as strings).
//! * A float `estimated_size_mib` of a STORE estimate is read from its binary expansion like the
//!   reference, but rounded to 28 decimals.
//! * `size_mib` of a cost row is the size used to compute it (the file size for a STORE billed
//!   at the 25 MiB minimum); the reference looks sizes up again when answering.

mod balance;
mod decimal;
mod message_costs;
mod pricing;
mod response;
mod rows;
mod sizes;

pub use rust_decimal::Decimal;

use crate::message::MessageType;
pub use balance::{
    are_store_and_program_free, balance_check, check_credit_balance, check_hold_balance,
    is_credit_only_required, is_hold_and_stream_deprecated, BalanceCheck, MessageTiming,
};
pub use decimal::{cost_string, floor_cost, parse_decimal, python_decimal_str};
pub use message_costs::{
    compute_units, message_costs, message_costs_from_value, min_credit_cost_per_second, product_of, CostEnv,
};
pub use pricing::{
    CompatibleGpu, ComputeUnit, PriceOptions, Pricing, Product, ProductPrice, ProductPricing, Settings, Tier,
};
pub use response::{to_f64, CostDetail, PriceResponse};
pub use rows::{total_of, CostRow, CostTotals, CostType, Costs};
pub use sizes::{EstimatedSizes, FileRef, FileSizes, NoFiles};

/// Decimals kept in every cost (`PRICE_PRECISION`).
pub const PRICE_PRECISION: u32 = 18;
/// Seconds in an hour: hourly prices are divided by this for per-second rates.
pub const HOUR: u32 = 3600;
/// Seconds in a day: credit holders must cover one day of their resources.
pub const DAY: u32 = 86_400;
/// Bytes in a MiB.
pub const MIB: u64 = 1 << 20;

/// Owner of the `pricing` and `settings` aggregates.
pub const PRICE_AGGREGATE_OWNER: &str = "0xFba561a84A537fCaa567bb7A2257e7142701ae2A";
/// Key of the pricing aggregate.
pub const PRICE_AGGREGATE_KEY: &str = "pricing";
/// Owner of the `settings` aggregate.
pub const SETTINGS_AGGREGATE_OWNER: &str = "0xFba561a84A537fCaa567bb7A2257e7142701ae2A";
/// Key of the settings aggregate.
pub const SETTINGS_AGGREGATE_KEY: &str = "settings";

/// Before this ETH block height (for confirmed messages), STOREs and on-demand PROGRAMs are free.
pub const STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT: u64 = 22_196_000;
/// Before this envelope time (for unconfirmed messages), STOREs and on-demand PROGRAMs are free.
pub const STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP: f64 = 1_743_775_079.0;
/// From this envelope time (2026-03-11), INSTANCEs and persistent PROGRAMs must pay with credits.
pub const HOLD_AND_STREAM_CUTOFF_TIMESTAMP: f64 = 1_773_187_200.0;
/// From this envelope time (2027-01-01), every paid STORE, PROGRAM and INSTANCE must pay with
/// credits, and small held files are no longer free.
pub const CREDIT_ONLY_CUTOFF_TIMESTAMP: f64 = 1_798_761_600.0;
/// Credit amounts of messages before this time (2026-02-02) are in the old unit (×10 000).
pub const CREDIT_PRECISION_CUTOFF_TIMESTAMP: f64 = 1_769_990_400.0;
/// The old-to-new credit unit ratio (1 USD = 100 old credits = 1 000 000 credits).
pub const CREDIT_PRECISION_MULTIPLIER: i64 = 10_000;
/// A STORE paid with credits is billed for at least this many MiB.
pub const MIN_STORE_COST_MIB: u64 = 25;
/// Every credit-paid component costs at least this many credits per hour.
pub const MIN_CREDIT_COST_PER_HOUR: u64 = 1;
/// Files up to this size held with `hold` payment are free (the reference's
/// `max_unauthenticated_upload_file_size` default), until [`CREDIT_ONLY_CUTOFF_TIMESTAMP`].
pub const DEFAULT_FREE_STORE_MAX_BYTES: u64 = 25 * MIB;
/// Days of runtime a credit balance must cover.
pub const MIN_RUNTIME_DAYS: i64 = 1;

/// Why a content cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CostError {
    /// Only STORE, PROGRAM, INSTANCE and V-PROGRAM messages have costs.
    #[error("{0} messages have no cost")]
    NotPriced(MessageType),
    /// The price list has no entry for a product the content needs.
    #[error("product {0} is not in the pricing aggregate")]
    MissingProduct(Product),
    /// The price list, or the settings aggregate, is malformed.
    #[error("invalid pricing: {0}")]
    InvalidPricing(String),
    /// A product used for execution has no compute-unit price.
    #[error("compute_unit price not defined for type '{0}' in pricing aggregate")]
    MissingComputeUnitPrice(Product),
    /// A requested GPU is not in the settings aggregate's `compatible_gpus`.
    #[error("GPU device_id {0} not found in compatible GPUs")]
    UnknownGpu(String),
    /// A GPU model is in no GPU product's tiers.
    #[error("GPU model {0} not found in any pricing tier (premium or standard)")]
    GpuNotPriced(String),
    /// An `estimated_size_mib` is not a usable size.
    #[error("invalid estimated_size_mib at {0}")]
    InvalidEstimate(String),
    /// The content does not validate.
    #[error(transparent)]
    Content(#[from] crate::content::ContentError),
    /// An amount does not fit the decimal type.
    #[error("cost overflow")]
    Overflow,
}

/// A `Result` with [`CostError`].
pub type Result<T, E = CostError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
