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

mod decimal;
mod pricing;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::content::{
    Content, InstanceContent, MachineResources, MachineVolume, PaymentType, ProgramContent, StoreContent,
    VProgramContent,
};
use crate::message::MessageType;
use crate::validate::{ErrorList, ProcessingError};
use decimal::{add, div, mul};
pub use decimal::{cost_string, floor_cost, parse_decimal, python_decimal_str};
pub use pricing::{
    CompatibleGpu, ComputeUnit, PriceOptions, Pricing, Product, ProductPrice, ProductPricing, Settings, Tier,
};

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

/// A file whose size the caller knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRef<'a> {
    /// The file a STORE names (`content.item_hash`).
    StoreFile(&'a str),
    /// The file behind a VM volume `ref`: with `use_latest`, the newest file of the file tag
    /// `reference`; otherwise the file of the STORE message `reference`.
    Volume {
        /// The `ref`.
        reference: &'a str,
        /// Whether `ref` is followed to the newest revision.
        use_latest: bool,
    },
}

/// Resolves file sizes (in bytes) for pricing; `None` for an unknown file. Closures
/// `Fn(FileRef<'_>) -> Option<u64>` implement it.
pub trait FileSizes {
    /// The size of the file, in bytes.
    fn file_size(&self, file: FileRef<'_>) -> Option<u64>;
}

impl<F: Fn(FileRef<'_>) -> Option<u64>> FileSizes for F {
    fn file_size(&self, file: FileRef<'_>) -> Option<u64> {
        self(file)
    }
}

/// A [`FileSizes`] that knows no file.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileSizes for NoFiles {
    fn file_size(&self, _: FileRef<'_>) -> Option<u64> {
        None
    }
}

/// Sizes named by a cost estimate (`estimated_size_mib` fields, §1.9), used instead of looking
/// files up. Zero means "not given", as in the reference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EstimatedSizes {
    /// STORE: the file's size (a float in MiB).
    pub store_mib: Option<Decimal>,
    /// PROGRAM `code`.
    pub code_mib: Option<u64>,
    /// PROGRAM `runtime`.
    pub runtime_mib: Option<u64>,
    /// PROGRAM `data`.
    pub data_mib: Option<u64>,
    /// Immutable `volumes[i]`, by index.
    pub volumes_mib: BTreeMap<usize, u64>,
}

impl EstimatedSizes {
    /// Prepares the content of a cost estimate for validation: removes the `estimated_size_mib`
    /// fields the estimate schemas add (returning them), and for INSTANCE and V-PROGRAM
    /// estimates fills `time` (0) and `allow_amend` (`false`), which estimates may leave out.
    pub fn prepare(message_type: MessageType, content: &mut Value) -> Result<EstimatedSizes> {
        let mut out = EstimatedSizes::default();
        let Some(obj) = content.as_object_mut() else { return Ok(out) };
        match message_type {
            MessageType::Store => {
                if let Some(v) = obj.remove("estimated_size_mib") {
                    out.store_mib = float_mib(&v, "estimated_size_mib")?.filter(|d| !d.is_zero());
                }
            }
            MessageType::Program => {
                for (key, slot) in [
                    ("code", &mut out.code_mib),
                    ("runtime", &mut out.runtime_mib),
                    ("data", &mut out.data_mib),
                ] {
                    if let Some(v) = obj
                        .get_mut(key)
                        .and_then(Value::as_object_mut)
                        .and_then(|o| o.remove("estimated_size_mib"))
                    {
                        *slot = int_mib(&v, &format!("{key}.estimated_size_mib"))?.filter(|n| *n != 0);
                    }
                }
            }
            MessageType::Instance | MessageType::VProgram => {
                if obj.get("time").is_none_or(Value::is_null) {
                    obj.insert("time".into(), Value::from(0.0));
                }
                obj.entry("allow_amend").or_insert(Value::Bool(false));
            }
            _ => {}
        }
        if matches!(message_type, MessageType::Program | MessageType::Instance) {
            if let Some(volumes) = obj.get_mut("volumes").and_then(Value::as_array_mut) {
                for (i, v) in volumes.iter_mut().enumerate() {
                    // Only immutable volumes (those with a `ref`) may carry an estimate.
                    let Some(vo) = v.as_object_mut().filter(|o| o.contains_key("ref")) else { continue };
                    if let Some(e) = vo.remove("estimated_size_mib") {
                        if let Some(n) =
                            int_mib(&e, &format!("volumes.{i}.estimated_size_mib"))?.filter(|n| *n != 0)
                        {
                            out.volumes_mib.insert(i, n);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// An optional integer size (the reference's lax `Optional[int]`): integers, integral floats,
/// integer strings.
fn int_mib(v: &Value, path: &str) -> Result<Option<u64>> {
    let bad = || CostError::InvalidEstimate(path.to_owned());
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(Some(u)),
            (None, Some(f)) if f.fract() == 0.0 && (0.0..1e15).contains(&f) => Ok(Some(f as u64)),
            _ => Err(bad()),
        },
        Value::String(s) => s.trim().parse::<u64>().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// An optional float size, read from the float's binary value as the reference does.
fn float_mib(v: &Value, path: &str) -> Result<Option<Decimal>> {
    let bad = || CostError::InvalidEstimate(path.to_owned());
    let f = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !f.is_finite() || f < 0.0 {
        return Err(bad());
    }
    Decimal::from_f64_retain(f).map(Some).ok_or_else(bad)
}

/// What pricing needs besides the content.
#[derive(Clone, Copy)]
pub struct CostEnv<'a> {
    /// The price list.
    pub pricing: &'a Pricing,
    /// The GPU list.
    pub settings: &'a Settings,
    /// File sizes.
    pub sizes: &'a dyn FileSizes,
    /// Sizes named by an estimate, if this is one.
    pub estimates: Option<&'a EstimatedSizes>,
}

impl fmt::Debug for CostEnv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CostEnv")
            .field("pricing", self.pricing)
            .field("settings", self.settings)
            .field("estimates", &self.estimates)
            .finish_non_exhaustive()
    }
}

/// Prices a resource: `content` of a STORE, PROGRAM, INSTANCE or V-PROGRAM message whose
/// item hash is `item_hash` (it names the STORE's cost row).
pub fn message_costs(content: &Content, item_hash: &str, env: &CostEnv<'_>) -> Result<Costs> {
    match content {
        Content::Store(c) => store_costs(c, item_hash, env),
        Content::Program(c) => program_costs(c, env),
        Content::Instance(c) => instance_costs(c, env),
        Content::VProgram(c) => vprogram_costs(c, env),
        other => Err(CostError::NotPriced(other.message_type())),
    }
}

/// [`message_costs`] for content given as JSON: validated against the schema of
/// `message_type` first.
pub fn message_costs_from_value(
    message_type: MessageType,
    content: &Value,
    item_hash: &str,
    env: &CostEnv<'_>,
) -> Result<Costs> {
    if !matches!(
        message_type,
        MessageType::Store | MessageType::Program | MessageType::Instance | MessageType::VProgram
    ) {
        return Err(CostError::NotPriced(message_type));
    }
    let content = Content::parse(message_type, content)?;
    message_costs(&content, item_hash, env)
}

/// The product a content is priced as (for GPU instances: premium when any GPU is premium,
/// else standard).
pub fn product_of(content: &Content, pricing: &Pricing, settings: &Settings) -> Result<Product> {
    match content {
        Content::Store(_) => Ok(Product::Storage),
        Content::Program(p) => Ok(program_product(p)),
        Content::VProgram(_) => Ok(Product::InstanceConfidential),
        Content::Instance(i) => instance_product(i, pricing, settings),
        other => Err(CostError::NotPriced(other.message_type())),
    }
}

fn program_product(p: &ProgramContent) -> Product {
    if p.is_persistent() {
        Product::ProgramPersistent
    } else {
        Product::Program
    }
}

fn instance_product(i: &InstanceContent, pricing: &Pricing, settings: &Settings) -> Result<Product> {
    if i.is_confidential() {
        return Ok(Product::InstanceConfidential);
    }
    if !i.requires_gpu() {
        return Ok(Product::Instance);
    }
    let tiers = gpu_breakdown(i, pricing, settings)?;
    if tiers.iter().all(|(p, _)| *p == Product::InstanceGpuStandard) {
        Ok(Product::InstanceGpuStandard)
    } else {
        Ok(Product::InstanceGpuPremium)
    }
}

/// Compute units for `resources`: `max(vcpus, ceil(memory / unit.memory_mib))`, with the default
/// unit (2 GiB) when the product defines none.
pub fn compute_units(resources: &MachineResources, unit: Option<&ComputeUnit>) -> Result<u64> {
    let unit = unit.unwrap_or(&ComputeUnit::DEFAULT);
    if unit.memory_mib == 0 {
        return Err(CostError::InvalidPricing("compute_unit.memory_mib is 0".into()));
    }
    let memory_units = u64::from(resources.memory).div_ceil(unit.memory_mib);
    Ok(u64::from(resources.vcpus).max(memory_units))
}

/// The per-second minimum of a credit-paid component: 1 credit/hour, floored
/// (0.000277777777777777).
pub fn min_credit_cost_per_second() -> Decimal {
    floor_cost(Decimal::from(MIN_CREDIT_COST_PER_HOUR) / Decimal::from(HOUR))
}

/// `floor(n × price)`, `floor(n × price / 3600)` for the hold, stream and credit prices.
fn priced(n: Decimal, price: &PriceOptions) -> Result<(Decimal, Decimal, Decimal)> {
    let hour = Decimal::from(HOUR);
    Ok((
        floor_cost(mul(n, price.holding)?),
        floor_cost(div(mul(n, price.payg)?, hour)?),
        floor_cost(div(mul(n, price.credit)?, hour)?),
    ))
}

fn execution_row(
    product: Product,
    units: u64,
    price: &PriceOptions,
    payment: PaymentType,
    min_credit: bool,
) -> Result<CostRow> {
    let (hold, stream, mut credit) = priced(Decimal::from(units), price)?;
    if min_credit && payment == PaymentType::Credit {
        credit = credit.max(min_credit_cost_per_second());
    }
    Ok(CostRow {
        cost_type: CostType::Execution,
        name: product.as_str().to_owned(),
        reference: None,
        cost_hold: hold,
        cost_stream: stream,
        cost_credit: credit,
        size_mib: None,
    })
}

/// A volume to price: its size is given, or read from the file behind a `ref`.
struct Volume {
    cost_type: CostType,
    name: String,
    reference: Option<String>,
    size: VolumeSize,
}

enum VolumeSize {
    Mib(Decimal),
    File { use_latest: bool },
}

impl Volume {
    fn sized(cost_type: CostType, name: Option<String>, mib: Decimal, reference: Option<String>) -> Volume {
        Volume {
            cost_type,
            name: name.unwrap_or_else(|| cost_type.as_str().to_owned()),
            reference,
            size: VolumeSize::Mib(mib),
        }
    }

    /// A referenced file, or its estimate when one is given.
    fn file(
        cost_type: CostType,
        name: Option<String>,
        reference: String,
        use_latest: bool,
        estimate: Option<u64>,
    ) -> Volume {
        match estimate {
            Some(mib) => Volume::sized(cost_type, name, Decimal::from(mib), Some(reference)),
            None => Volume {
                cost_type,
                name: name.unwrap_or_else(|| cost_type.as_str().to_owned()),
                reference: Some(reference),
                size: VolumeSize::File { use_latest },
            },
        }
    }
}

fn bytes_to_mib(bytes: u64) -> Result<Decimal> {
    div(Decimal::from(bytes), Decimal::from(MIB))
}

/// Prices volumes at `storage` per MiB; volumes whose file is unknown are skipped, as the
/// reference skips legacy volumes with missing references.
fn volume_rows(
    volumes: Vec<Volume>,
    storage: &PriceOptions,
    payment: PaymentType,
    sizes: &dyn FileSizes,
) -> Result<Vec<CostRow>> {
    let mut rows = Vec::with_capacity(volumes.len());
    for v in volumes {
        let mib = match v.size {
            VolumeSize::Mib(m) => m,
            VolumeSize::File { use_latest } => {
                let reference = v.reference.as_deref().unwrap_or_default();
                match sizes.file_size(FileRef::Volume { reference, use_latest }) {
                    Some(bytes) => bytes_to_mib(bytes)?,
                    None => continue,
                }
            }
        };
        let (hold, stream, mut credit) = priced(mib, storage)?;
        if payment == PaymentType::Credit {
            credit = credit.max(min_credit_cost_per_second());
        }
        rows.push(CostRow {
            cost_type: v.cost_type,
            name: v.name,
            reference: v.reference,
            cost_hold: hold,
            cost_stream: stream,
            cost_credit: credit,
            size_mib: Some(mib),
        });
    }
    Ok(rows)
}

/// The included-disk discount: minus the volumes' cost, up to `CU × disk_mib` MiB of storage.
fn discount_row(rows: &[CostRow], pricing: &ProductPricing, resources: &MachineResources) -> Result<CostRow> {
    let units = compute_units(resources, pricing.unit_definition())?;
    let disk_mib = pricing.unit_definition().map_or(0, |u| u.disk_mib);
    let included = mul(Decimal::from(disk_mib), Decimal::from(units))?;
    let storage = &pricing.price.storage;
    let hour = Decimal::from(HOUR);
    let max_hold = mul(included, storage.holding)?;
    let max_stream = div(mul(included, storage.payg)?, hour)?;
    let max_credit = div(mul(included, storage.credit)?, hour)?;
    let mut sums = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for r in rows {
        sums = (add(sums.0, r.cost_hold)?, add(sums.1, r.cost_stream)?, add(sums.2, r.cost_credit)?);
    }
    Ok(CostRow {
        cost_type: CostType::ExecutionVolumeDiscount,
        name: CostType::ExecutionVolumeDiscount.as_str().to_owned(),
        reference: None,
        cost_hold: floor_cost(-sums.0.min(max_hold)),
        cost_stream: floor_cost(-sums.1.min(max_stream)),
        cost_credit: floor_cost(-sums.2.min(max_credit)),
        size_mib: None,
    })
}

/// `volumes[]` of a PROGRAM or INSTANCE, as cost components.
fn listed_volumes(volumes: &[MachineVolume], estimates: Option<&EstimatedSizes>) -> Vec<Volume> {
    let mut out = Vec::with_capacity(volumes.len());
    for (i, v) in volumes.iter().enumerate() {
        let mount = v.mount().filter(|m| !m.is_empty());
        match v {
            MachineVolume::Immutable(im) => {
                let name = format!("#{i}:{}", mount.unwrap_or(CostType::ExecutionVolumeInmutable.as_str()));
                let estimate = estimates.and_then(|e| e.volumes_mib.get(&i).copied());
                out.push(Volume::file(
                    CostType::ExecutionVolumeInmutable,
                    Some(name),
                    im.reference.to_string(),
                    im.use_latest,
                    estimate,
                ));
            }
            MachineVolume::Ephemeral(e) => out.push(persistent(i, mount, e.size_mib)),
            MachineVolume::Persistent(p) => out.push(persistent(i, mount, p.size_mib)),
        }
    }
    out
}

fn persistent(i: usize, mount: Option<&str>, size_mib: u32) -> Volume {
    let name = format!("#{i}:{}", mount.unwrap_or(CostType::ExecutionVolumePersistent.as_str()));
    Volume::sized(CostType::ExecutionVolumePersistent, Some(name), Decimal::from(size_mib), None)
}

/// Execution, volumes and discount of a non-GPU executable priced as `product`.
fn executable_costs(
    product: Product,
    resources: &MachineResources,
    multiplier: u64,
    payment: PaymentType,
    volumes: Vec<Volume>,
    env: &CostEnv<'_>,
) -> Result<Vec<CostRow>> {
    let pricing = env.pricing.product(product)?;
    let unit_price = pricing.unit_price().ok_or(CostError::MissingComputeUnitPrice(product))?;
    let units = compute_units(resources, pricing.unit_definition())?;
    let units = units.checked_mul(multiplier).ok_or(CostError::Overflow)?;
    let mut rows = vec![execution_row(product, units, unit_price, payment, true)?];
    let volume_rows = volume_rows(volumes, &pricing.price.storage, payment, env.sizes)?;
    let discount = discount_row(&volume_rows, pricing, resources)?;
    rows.extend(volume_rows);
    rows.push(discount);
    Ok(rows)
}

fn program_costs(p: &ProgramContent, env: &CostEnv<'_>) -> Result<Costs> {
    let payment = p.payment_type();
    let product = program_product(p);
    // On-demand programs with internet access cost twice the compute units.
    let multiplier = if !p.is_persistent() && p.environment.internet() { 2 } else { 1 };
    let est = env.estimates;
    let mut volumes = vec![
        Volume::file(
            CostType::ExecutionProgramVolumeCode,
            None,
            p.code.reference.to_string(),
            p.code.use_latest,
            est.and_then(|e| e.code_mib),
        ),
        Volume::file(
            CostType::ExecutionProgramVolumeRuntime,
            None,
            p.runtime.reference.to_string(),
            p.runtime.use_latest,
            est.and_then(|e| e.runtime_mib),
        ),
    ];
    if let Some(data) = &p.data {
        volumes.push(Volume::file(
            CostType::ExecutionProgramVolumeData,
            None,
            data.reference.to_string(),
            data.use_latest.unwrap_or(false),
            est.and_then(|e| e.data_mib),
        ));
    }
    volumes.extend(listed_volumes(&p.volumes, est));
    let rows = executable_costs(product, &p.resources, multiplier, payment, volumes, env)?;
    Ok(Costs { payment_type: payment, product, rows, storage_size_mib: None })
}

fn instance_costs(i: &InstanceContent, env: &CostEnv<'_>) -> Result<Costs> {
    let payment = i.payment_type();
    let mut volumes = vec![Volume::sized(
        CostType::ExecutionInstanceVolumeRootfs,
        None,
        Decimal::from(i.rootfs.size_mib),
        Some(i.rootfs.parent.reference.to_string()),
    )];
    volumes.extend(listed_volumes(&i.volumes, env.estimates));
    if i.requires_gpu() {
        let product = instance_product(i, env.pricing, env.settings)?;
        let mut rows = gpu_execution_rows(i, env)?;
        // Storage of GPU instances is priced with the premium product (holding price: none).
        let storage = env.pricing.product(Product::InstanceGpuPremium)?;
        let volume_rows = volume_rows(volumes, &storage.price.storage, payment, env.sizes)?;
        let discount = discount_row(&volume_rows, storage, &i.resources)?;
        rows.extend(volume_rows);
        rows.push(discount);
        return Ok(Costs { payment_type: payment, product, rows, storage_size_mib: None });
    }
    let product = instance_product(i, env.pricing, env.settings)?;
    let rows = executable_costs(product, &i.resources, 1, payment, volumes, env)?;
    Ok(Costs { payment_type: payment, product, rows, storage_size_mib: None })
}

fn vprogram_costs(v: &VProgramContent, env: &CostEnv<'_>) -> Result<Costs> {
    // Priced as a confidential instance; its verified volumes are paid as STOREs.
    let payment = crate::content::Payment::type_of(Some(&v.payment));
    let product = Product::InstanceConfidential;
    let rows = executable_costs(product, &v.resources, 1, payment, Vec::new(), env)?;
    Ok(Costs { payment_type: payment, product, rows, storage_size_mib: None })
}

/// Compute units per GPU product, in the order the GPUs first appear.
fn gpu_breakdown(i: &InstanceContent, pricing: &Pricing, settings: &Settings) -> Result<Vec<(Product, u64)>> {
    let premium = pricing.product(Product::InstanceGpuPremium)?;
    let standard = pricing.product(Product::InstanceGpuStandard)?;
    let gpus = i.requirements.as_ref().map(|r| r.gpus()).unwrap_or_default();
    let mut out: Vec<(Product, u64)> = Vec::new();
    for gpu in gpus {
        let model =
            settings.gpu_model(&gpu.device_id).ok_or_else(|| CostError::UnknownGpu(gpu.device_id.clone()))?;
        let tier_of = |p: &ProductPricing| {
            p.tiers.iter().find(|t| t.model.as_deref() == Some(model)).map(|t| t.compute_units)
        };
        let (product, units) = match (tier_of(premium), tier_of(standard)) {
            (Some(u), _) => (Product::InstanceGpuPremium, u),
            (None, Some(u)) => (Product::InstanceGpuStandard, u),
            (None, None) => return Err(CostError::GpuNotPriced(model.to_owned())),
        };
        match out.iter_mut().find(|(p, _)| *p == product) {
            Some((_, n)) => *n = n.checked_add(units).ok_or(CostError::Overflow)?,
            None => out.push((product, units)),
        }
    }
    Ok(out)
}

/// Execution rows of a GPU instance: one per GPU product used. The GPUs' compute units are a
/// floor: when the resources need more units (counted with the dominant product's unit), the
/// dominant product (premium if present) gets the difference. No credit minimum applies.
fn gpu_execution_rows(i: &InstanceContent, env: &CostEnv<'_>) -> Result<Vec<CostRow>> {
    let mut tiers = gpu_breakdown(i, env.pricing, env.settings)?;
    let dominant = if tiers.iter().any(|(p, _)| *p == Product::InstanceGpuPremium) {
        Product::InstanceGpuPremium
    } else {
        Product::InstanceGpuStandard
    };
    let resource_units = compute_units(&i.resources, env.pricing.product(dominant)?.unit_definition())?;
    let gpu_units =
        tiers.iter().try_fold(0u64, |acc, (_, n)| acc.checked_add(*n)).ok_or(CostError::Overflow)?;
    if resource_units > gpu_units {
        if let Some((_, n)) = tiers.iter_mut().find(|(p, _)| *p == dominant) {
            *n += resource_units - gpu_units;
        }
    }
    let payment = i.payment_type();
    tiers
        .into_iter()
        .map(|(product, units)| {
            let price = env
                .pricing
                .product(product)?
                .unit_price()
                .ok_or(CostError::MissingComputeUnitPrice(product))?;
            execution_row(product, units, price, payment, false)
        })
        .collect()
}

fn store_costs(s: &StoreContent, item_hash: &str, env: &CostEnv<'_>) -> Result<Costs> {
    let payment = s.payment_type();
    let size = match env.estimates.and_then(|e| e.store_mib) {
        Some(mib) => Some(mib),
        None => {
            env.sizes.file_size(FileRef::StoreFile(s.item_hash.as_str())).map(bytes_to_mib).transpose()?
        }
    };
    let Some(size) = size else {
        return Ok(Costs {
            payment_type: payment,
            product: Product::Storage,
            rows: Vec::new(),
            storage_size_mib: None,
        });
    };
    let min = Decimal::from(MIN_STORE_COST_MIB);
    let billed = if payment == PaymentType::Credit && size < min { min } else { size };
    let storage = env.pricing.product(Product::Storage)?;
    let volume = Volume::sized(CostType::Storage, None, billed, Some(item_hash.to_owned()));
    let mut rows = volume_rows(vec![volume], &storage.price.storage, payment, env.sizes)?;
    for r in &mut rows {
        r.size_mib = Some(size);
    }
    Ok(Costs { payment_type: payment, product: Product::Storage, rows, storage_size_mib: Some(size) })
}

/// When a message was sent, for the cutoffs: the envelope `time` and, for a message confirmed on
/// chain, the height of its first confirmation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageTiming {
    /// The envelope time (unsigned).
    pub time: f64,
    /// The first confirmation's height, if confirmed.
    pub first_confirmation_height: Option<u64>,
}

impl MessageTiming {
    /// An unconfirmed message sent at `time`.
    pub fn at(time: f64) -> Self {
        MessageTiming { time, first_confirmation_height: None }
    }
}

/// Whether STOREs and on-demand PROGRAMs are still free for this message: confirmed before block
/// [`STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT`], or (unconfirmed) sent before
/// [`STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP`].
pub fn are_store_and_program_free(timing: &MessageTiming) -> bool {
    match timing.first_confirmation_height {
        Some(h) => h < STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT,
        None => timing.time < STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP,
    }
}

/// Whether every paid resource must use credits ([`CREDIT_ONLY_CUTOFF_TIMESTAMP`]).
pub fn is_credit_only_required(time: f64) -> bool {
    time >= CREDIT_ONLY_CUTOFF_TIMESTAMP
}

/// Whether INSTANCEs and persistent PROGRAMs must use credits ([`HOLD_AND_STREAM_CUTOFF_TIMESTAMP`]).
pub fn is_hold_and_stream_deprecated(time: f64) -> bool {
    time >= HOLD_AND_STREAM_CUTOFF_TIMESTAMP
}

/// What must cover a new resource's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BalanceCheck {
    /// Nothing: the resource is free (or the message type has no cost). Costs are still recorded.
    Free,
    /// Nothing at processing time: a PAYG stream, whose cost is only recorded.
    StreamRecorded,
    /// The token balance must cover the held costs plus `cost` tokens ([`check_hold_balance`]).
    Hold {
        /// The new resource's hold cost.
        cost: Decimal,
    },
    /// The token balance must cover the streamed costs plus `cost` tokens/s (a STORE declaring
    /// a stream, which its schema forbids; kept for parity with the reference).
    Stream {
        /// The new resource's stream cost.
        cost: Decimal,
    },
    /// The credit balance must cover one day of credit costs including `cost_per_second`
    /// ([`check_credit_balance`]).
    Credit {
        /// The new resource's credit cost, per second.
        cost_per_second: Decimal,
    },
}

fn invalid_payment() -> ProcessingError {
    ProcessingError::InvalidPaymentMethod(ErrorList::none())
}

/// Decides, in the reference's order, whether a resource is free, which balance must cover it,
/// or that its payment method is refused (202):
///
/// * STORE: free before the cost cutoff; after [`CREDIT_ONLY_CUTOFF_TIMESTAMP`] only `credit`;
///   `hold` files up to `free_store_max_bytes` (25 MiB) are free; else its payment's balance.
/// * PROGRAM / INSTANCE: on-demand programs are free before the cost cutoff; only `credit`
///   after [`CREDIT_ONLY_CUTOFF_TIMESTAMP`], and for instances and persistent programs after
///   [`HOLD_AND_STREAM_CUTOFF_TIMESTAMP`]; streams are recorded, not checked.
/// * V-PROGRAM: only `credit`.
/// * Other types: free.
pub fn balance_check(
    content: &Content,
    costs: &Costs,
    timing: &MessageTiming,
    free_store_max_bytes: u64,
) -> Result<BalanceCheck, ProcessingError> {
    let total = || costs.total().map_err(|e| ProcessingError::internal(e.to_string()));
    match content {
        Content::Store(s) => {
            if are_store_and_program_free(timing) {
                return Ok(BalanceCheck::Free);
            }
            let payment = s.payment_type();
            if is_credit_only_required(timing.time) && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            let free_max = Decimal::from(free_store_max_bytes) / Decimal::from(MIB);
            if payment == PaymentType::Hold
                && costs.storage_size_mib.is_some_and(|s| !s.is_zero() && s <= free_max)
            {
                return Ok(BalanceCheck::Free);
            }
            Ok(match payment {
                PaymentType::Credit => BalanceCheck::Credit { cost_per_second: total()? },
                PaymentType::Superfluid => BalanceCheck::Stream { cost: total()? },
                _ => BalanceCheck::Hold { cost: total()? },
            })
        }
        Content::Program(_) | Content::Instance(_) => {
            let (payment, on_demand) = match content {
                Content::Program(p) => (p.payment_type(), !p.is_persistent()),
                Content::Instance(i) => (i.payment_type(), false),
                _ => (PaymentType::Hold, false),
            };
            if on_demand && are_store_and_program_free(timing) {
                return Ok(BalanceCheck::Free);
            }
            if is_credit_only_required(timing.time) && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            if is_hold_and_stream_deprecated(timing.time) && !on_demand && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            Ok(match payment {
                PaymentType::Superfluid => BalanceCheck::StreamRecorded,
                PaymentType::Credit => BalanceCheck::Credit { cost_per_second: total()? },
                _ => BalanceCheck::Hold { cost: total()? },
            })
        }
        Content::VProgram(v) => {
            if !v.payment.is_credit() {
                return Err(invalid_payment());
            }
            Ok(BalanceCheck::Credit { cost_per_second: total()? })
        }
        _ => Ok(BalanceCheck::Free),
    }
}

/// The hold (or stream) verdict: `balance` must be at least the owner's existing costs
/// (`existing`, summed over their resources of the same payment type) plus `cost`; else error 5
/// with both amounts written as the reference writes them.
pub fn check_hold_balance(balance: Decimal, existing: Decimal, cost: Decimal) -> Result<(), ProcessingError> {
    let required = floor_cost(existing)
        .checked_add(floor_cost(cost))
        .ok_or_else(|| ProcessingError::internal("cost overflow"))?;
    if balance < required {
        return Err(ProcessingError::BalanceInsufficient {
            required_balance: python_decimal_str(required),
            account_balance: python_decimal_str(balance),
        });
    }
    Ok(())
}

/// The credit verdict: `credits` must cover [`MIN_RUNTIME_DAYS`] day of the owner's existing
/// credit costs (`existing_per_second`) plus `cost_per_second`; else error 6.
pub fn check_credit_balance(
    credits: i64,
    existing_per_second: Decimal,
    cost_per_second: Decimal,
) -> Result<(), ProcessingError> {
    let overflow = || ProcessingError::internal("cost overflow");
    let per_second =
        floor_cost(existing_per_second).checked_add(floor_cost(cost_per_second)).ok_or_else(overflow)?;
    let required = per_second.checked_mul(Decimal::from(DAY)).ok_or_else(overflow)?;
    if Decimal::from(credits) < required {
        return Err(ProcessingError::CreditInsufficient {
            required_credits: python_decimal_str(required),
            account_credits: credits.to_string(),
            min_runtime_days: MIN_RUNTIME_DAYS,
        });
    }
    Ok(())
}

/// One row of a price response's `detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The component's size in MiB, when asked for and known.
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

#[cfg(test)]
mod tests;
