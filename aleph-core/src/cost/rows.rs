//! Cost rows: the kinds of cost, one priced component, the components of one resource and
//! their totals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use super::decimal::add;
use super::{floor_cost, CostError, PriceResponse, Product, Result};
use crate::content::PaymentType;

macro_rules! cost_types {
    ($($(#[$m:meta])* $variant:ident => $code:literal),* $(,)?) => {
        /// The kind of a cost row (`account_costs.type`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum CostType { $($(#[$m])* $variant),* }

        impl CostType {
            /// The wire string.
            pub const fn as_str(&self) -> &'static str {
                match self { $(CostType::$variant => $code),* }
            }
        }

        impl FromStr for CostType {
            type Err = CostError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($code => Ok(CostType::$variant),)*
                    _ => Err(CostError::InvalidPricing(format!("unknown cost type {s:?}"))),
                }
            }
        }
    };
}

cost_types! {
    /// Compute units of a VM.
    Execution => "EXECUTION",
    /// A persistent or ephemeral volume.
    ExecutionVolumePersistent => "EXECUTION_VOLUME_PERSISTENT",
    /// An immutable volume (the reference's spelling).
    ExecutionVolumeInmutable => "EXECUTION_VOLUME_INMUTABLE",
    /// The included disk, subtracted from the volumes (≤ 0).
    ExecutionVolumeDiscount => "EXECUTION_VOLUME_DISCOUNT",
    /// An instance's root filesystem.
    ExecutionInstanceVolumeRootfs => "EXECUTION_INSTANCE_VOLUME_ROOTFS",
    /// A program's code.
    ExecutionProgramVolumeCode => "EXECUTION_PROGRAM_VOLUME_CODE",
    /// A program's runtime.
    ExecutionProgramVolumeRuntime => "EXECUTION_PROGRAM_VOLUME_RUNTIME",
    /// A program's data.
    ExecutionProgramVolumeData => "EXECUTION_PROGRAM_VOLUME_DATA",
    /// A STORE's file.
    Storage => "STORAGE",
}

impl fmt::Display for CostType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CostType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One component of a resource's cost. Amounts are floored to 18 decimals; `cost_stream` is in
/// tokens per second, `cost_credit` in credits per second, `cost_hold` in tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRow {
    /// The kind of component.
    pub cost_type: CostType,
    /// Its name: the product for execution rows, `#i:mount` for `volumes[i]`, else the type.
    pub name: String,
    /// The STORE (message hash or tag) the component is made of, when it is a referenced file;
    /// the message's own hash for a STORE.
    pub reference: Option<String>,
    /// Tokens held.
    pub cost_hold: Decimal,
    /// Tokens streamed per second.
    pub cost_stream: Decimal,
    /// Credits per second.
    pub cost_credit: Decimal,
    /// The size the component was priced for, in MiB (volumes and files).
    pub size_mib: Option<Decimal>,
}

impl CostRow {
    /// The amount for a payment type (`cost_hold`, `cost_stream` or `cost_credit`).
    pub fn amount(&self, payment_type: PaymentType) -> Decimal {
        match payment_type {
            PaymentType::Superfluid => self.cost_stream,
            PaymentType::Credit => self.cost_credit,
            _ => self.cost_hold,
        }
    }
}

/// The priced components of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Costs {
    /// How the resource is paid.
    pub payment_type: PaymentType,
    /// The product it is priced as (the storage baseline for GPU instances).
    pub product: Product,
    /// The components, in the reference's order.
    pub rows: Vec<CostRow>,
    /// For a STORE: the file's size in MiB, when known.
    pub storage_size_mib: Option<Decimal>,
}

impl Costs {
    /// The total for the resource's own payment type, floored: tokens to hold, tokens per second,
    /// or credits per second (`required_tokens` of the price endpoints).
    pub fn total(&self) -> Result<Decimal> {
        total_of(&self.rows, self.payment_type)
    }

    /// Totals for each payment type.
    pub fn totals(&self) -> Result<CostTotals> {
        Ok(CostTotals {
            hold: total_of(&self.rows, PaymentType::Hold)?,
            stream: total_of(&self.rows, PaymentType::Superfluid)?,
            credit: total_of(&self.rows, PaymentType::Credit)?,
        })
    }

    /// The body of the price endpoints for these costs.
    pub fn price_response(&self, charged_address: &str, include_size: bool) -> Result<PriceResponse> {
        PriceResponse::new(self.payment_type, charged_address, &self.rows, include_size)
    }
}

/// Totals of a set of cost rows, per payment type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostTotals {
    /// Tokens held.
    pub hold: Decimal,
    /// Tokens per second.
    pub stream: Decimal,
    /// Credits per second.
    pub credit: Decimal,
}

/// The floored sum of the rows' amounts for a payment type.
pub fn total_of(rows: &[CostRow], payment_type: PaymentType) -> Result<Decimal> {
    let mut sum = Decimal::ZERO;
    for r in rows {
        sum = add(sum, r.amount(payment_type))?;
    }
    Ok(floor_cost(sum))
}
