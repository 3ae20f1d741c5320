//! The price list: the network's `pricing` aggregate (with the reference's built-in default,
//! `DEFAULT_PRICE_AGGREGATE`) and the GPU list of the `settings` aggregate.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::decimal::price_value;
use super::CostError;

/// A priced product: one entry of the `pricing` aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Product {
    /// `storage`: files kept by STORE messages.
    Storage,
    /// `web3_hosting`: hosted websites (priced, not used by message costs).
    Web3Hosting,
    /// `program`: on-demand programs.
    Program,
    /// `program_persistent`: programs kept running.
    ProgramPersistent,
    /// `instance`: instances.
    Instance,
    /// `instance_confidential`: confidential (SEV) instances, and V-Programs.
    InstanceConfidential,
    /// `instance_gpu_standard`: instances with standard-tier GPUs.
    InstanceGpuStandard,
    /// `instance_gpu_premium`: instances with premium-tier GPUs.
    InstanceGpuPremium,
}

impl Product {
    /// Every product, in the reference's declaration order.
    pub const ALL: [Product; 8] = [
        Product::Storage,
        Product::Web3Hosting,
        Product::Program,
        Product::ProgramPersistent,
        Product::Instance,
        Product::InstanceGpuPremium,
        Product::InstanceConfidential,
        Product::InstanceGpuStandard,
    ];

    /// The aggregate key (also the `name` of execution cost rows).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Product::Storage => "storage",
            Product::Web3Hosting => "web3_hosting",
            Product::Program => "program",
            Product::ProgramPersistent => "program_persistent",
            Product::Instance => "instance",
            Product::InstanceConfidential => "instance_confidential",
            Product::InstanceGpuStandard => "instance_gpu_standard",
            Product::InstanceGpuPremium => "instance_gpu_premium",
        }
    }
}

impl FromStr for Product {
    type Err = CostError;
    fn from_str(s: &str) -> Result<Self, CostError> {
        Product::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| CostError::InvalidPricing(format!("unknown product {s:?}")))
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Product {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The three prices of one thing (a compute unit, or a MiB of storage). A price the aggregate
/// leaves out is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PriceOptions {
    /// Tokens held (hold payment).
    #[serde(with = "super::decimal::serde_str", default)]
    pub holding: Decimal,
    /// Tokens per hour (pay-as-you-go stream).
    #[serde(with = "super::decimal::serde_str", default)]
    pub payg: Decimal,
    /// Credits per hour.
    #[serde(with = "super::decimal::serde_str", default)]
    pub credit: Decimal,
}

impl PriceOptions {
    /// Hold, stream (per hour) and credit (per hour) prices.
    pub fn new(holding: Decimal, payg: Decimal, credit: Decimal) -> Self {
        PriceOptions { holding, payg, credit }
    }

    fn parse(v: &Value, what: &str) -> Result<Self, CostError> {
        let o = v.as_object().ok_or_else(|| CostError::InvalidPricing(format!("{what}: not an object")))?;
        Ok(PriceOptions {
            holding: price_value(o.get("holding"), &format!("{what}.holding"))?,
            payg: price_value(o.get("payg"), &format!("{what}.payg"))?,
            credit: price_value(o.get("credit"), &format!("{what}.credit"))?,
        })
    }
}

/// What one compute unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeUnit {
    /// vCPUs per unit.
    pub vcpus: u64,
    /// Disk included per unit, in MiB.
    pub disk_mib: u64,
    /// Memory per unit, in MiB.
    pub memory_mib: u64,
}

impl ComputeUnit {
    /// The unit the reference assumes when a product defines none: 1 vCPU, 2 GiB, 2 GiB.
    pub const DEFAULT: ComputeUnit = ComputeUnit { vcpus: 1, disk_mib: 2048, memory_mib: 2048 };

    fn parse(v: &Value, what: &str) -> Result<Self, CostError> {
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| CostError::InvalidPricing(format!("{what}.{k}: not a non-negative integer")))
        };
        Ok(ComputeUnit {
            vcpus: field("vcpus")?,
            disk_mib: field("disk_mib")?,
            memory_mib: field("memory_mib")?,
        })
    }
}

/// A tier of a product: a named bundle of compute units (for GPU products, one GPU model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// `tier-1`…
    pub id: String,
    /// Compute units of the tier.
    pub compute_units: u64,
    /// The GPU model (GPU products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The GPU memory in MiB (GPU products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vram: Option<u64>,
}

impl Tier {
    fn parse(v: &Value, what: &str) -> Result<Self, CostError> {
        let id = match v.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(CostError::InvalidPricing(format!("{what}.id: missing"))),
        };
        let compute_units = v.get("compute_units").and_then(Value::as_u64).ok_or_else(|| {
            CostError::InvalidPricing(format!("{what}.compute_units: not a non-negative integer"))
        })?;
        Ok(Tier {
            id,
            compute_units,
            model: v.get("model").and_then(Value::as_str).map(str::to_owned),
            vram: v.get("vram").and_then(Value::as_u64),
        })
    }
}

/// The `price` object of a product.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductPrice {
    /// Per-MiB storage prices (`storage` is required by the reference).
    pub storage: PriceOptions,
    /// Per-compute-unit prices, when given.
    pub compute_unit: Option<PriceOptions>,
    /// A fixed price (`web3_hosting`), when given.
    pub fixed: Option<Decimal>,
}

impl Serialize for ProductPrice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Dec<'a>(&'a Decimal);
        impl Serialize for Dec<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self.0)
            }
        }
        let mut m = s.serialize_map(None)?;
        if let Some(f) = &self.fixed {
            m.serialize_entry("fixed", &Dec(f))?;
        }
        m.serialize_entry("storage", &self.storage)?;
        if let Some(cu) = &self.compute_unit {
            m.serialize_entry("compute_unit", cu)?;
        }
        m.end()
    }
}

/// The pricing of one product.
///
/// Two rules of the reference (`ProductPricing.from_aggregate`) are kept by the accessors:
/// compute-unit prices count only when the product defines a `compute_unit`
/// ([`ProductPricing::unit_price`]), and the compute-unit definition counts only when the product
/// has `tiers` ([`ProductPricing::unit_definition`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductPricing {
    /// Prices.
    pub price: ProductPrice,
    /// What a compute unit is, when defined.
    pub compute_unit: Option<ComputeUnit>,
    /// The tiers (possibly empty).
    pub tiers: Vec<Tier>,
}

impl Serialize for ProductPricing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = 1 + usize::from(self.compute_unit.is_some()) + usize::from(!self.tiers.is_empty());
        let mut st = s.serialize_struct("ProductPricing", n)?;
        st.serialize_field("price", &self.price)?;
        if !self.tiers.is_empty() {
            st.serialize_field("tiers", &self.tiers)?;
        }
        if let Some(cu) = &self.compute_unit {
            st.serialize_field("compute_unit", cu)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for ProductPricing {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ProductPricing::from_value(&v, "product").map_err(serde::de::Error::custom)
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

impl ProductPricing {
    /// Reads one product of a pricing aggregate, as the reference does: `price.storage` is
    /// required; `price.compute_unit` is required when the product defines `compute_unit`;
    /// missing prices are zero.
    pub fn from_value(v: &Value, what: &str) -> Result<Self, CostError> {
        let price =
            v.get("price").ok_or_else(|| CostError::InvalidPricing(format!("{what}.price: missing")))?;
        let storage = price
            .get("storage")
            .ok_or_else(|| CostError::InvalidPricing(format!("{what}.price.storage: missing")))?;
        let storage = PriceOptions::parse(storage, &format!("{what}.price.storage"))?;
        let defines_unit = truthy(v.get("compute_unit"));
        let compute_unit_price = match price.get("compute_unit") {
            Some(cu) if !cu.is_null() => {
                Some(PriceOptions::parse(cu, &format!("{what}.price.compute_unit"))?)
            }
            _ if defines_unit => {
                return Err(CostError::InvalidPricing(format!("{what}.price.compute_unit: missing")));
            }
            _ => None,
        };
        let fixed = match price.get("fixed") {
            None | Some(Value::Null) => None,
            f => Some(price_value(f, &format!("{what}.price.fixed"))?),
        };
        let compute_unit = if defines_unit {
            Some(ComputeUnit::parse(
                v.get("compute_unit").unwrap_or(&Value::Null),
                &format!("{what}.compute_unit"),
            )?)
        } else {
            None
        };
        let tiers = match v.get("tiers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, t)| Tier::parse(t, &format!("{what}.tiers.{i}")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(CostError::InvalidPricing(format!("{what}.tiers: not a list"))),
        };
        Ok(ProductPricing {
            price: ProductPrice { storage, compute_unit: compute_unit_price, fixed },
            compute_unit,
            tiers,
        })
    }

    /// The compute-unit definition the reference uses: the product's, only when it has tiers.
    pub fn unit_definition(&self) -> Option<&ComputeUnit> {
        if self.tiers.is_empty() {
            None
        } else {
            self.compute_unit.as_ref()
        }
    }

    /// The compute-unit prices the reference uses: only when the product defines a compute unit.
    pub fn unit_price(&self) -> Option<&PriceOptions> {
        self.compute_unit.as_ref().and(self.price.compute_unit.as_ref())
    }
}

/// A price list: the products of a `pricing` aggregate.
///
/// [`Pricing::default`] is the reference's `DEFAULT_PRICE_AGGREGATE`, used while the network
/// has no `pricing` aggregate. An aggregate replaces it whole (no per-product merge, as in the
/// reference): a product the aggregate lacks, or defines badly, cannot be priced
/// ([`CostError::MissingProduct`], [`CostError::InvalidPricing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    products: BTreeMap<Product, ProductPricing>,
    invalid: BTreeMap<Product, String>,
}

impl Pricing {
    /// Reads the content of a `pricing` aggregate. Unknown keys are ignored; a malformed
    /// product is remembered and reported only when it is needed.
    pub fn from_aggregate(content: &Value) -> Pricing {
        let mut products = BTreeMap::new();
        let mut invalid = BTreeMap::new();
        if let Some(o) = content.as_object() {
            for p in Product::ALL {
                if let Some(v) = o.get(p.as_str()) {
                    match ProductPricing::from_value(v, p.as_str()) {
                        Ok(pp) => {
                            products.insert(p, pp);
                        }
                        Err(CostError::InvalidPricing(reason)) => {
                            invalid.insert(p, reason);
                        }
                        Err(e) => {
                            invalid.insert(p, e.to_string());
                        }
                    }
                }
            }
        }
        Pricing { products, invalid }
    }

    /// An empty price list (every product missing).
    pub fn empty() -> Pricing {
        Pricing { products: BTreeMap::new(), invalid: BTreeMap::new() }
    }

    /// The pricing of `product`.
    pub fn product(&self, product: Product) -> Result<&ProductPricing, CostError> {
        if let Some(p) = self.products.get(&product) {
            return Ok(p);
        }
        match self.invalid.get(&product) {
            Some(reason) => Err(CostError::InvalidPricing(reason.clone())),
            None => Err(CostError::MissingProduct(product)),
        }
    }

    /// Sets (or replaces) the pricing of `product`.
    pub fn set(&mut self, product: Product, pricing: ProductPricing) {
        self.invalid.remove(&product);
        self.products.insert(product, pricing);
    }

    /// The well-formed products.
    pub fn products(&self) -> impl Iterator<Item = (Product, &ProductPricing)> {
        self.products.iter().map(|(p, pp)| (*p, pp))
    }

    /// The aggregate content this price list is read from (well-formed products only).
    pub fn to_aggregate(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Pricing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.products.len()))?;
        for (p, pp) in &self.products {
            m.serialize_entry(p.as_str(), pp)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Pricing {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Pricing::from_aggregate(&v))
    }
}

/// `mantissa × 10^-scale`.
const fn dec(mantissa: i64, scale: u32) -> Decimal {
    Decimal::from_parts(
        (mantissa.unsigned_abs() & 0xFFFF_FFFF) as u32,
        (mantissa.unsigned_abs() >> 32) as u32,
        0,
        mantissa < 0,
        scale,
    )
}

/// Per-MiB credit price of storage for instances and STOREs: 0.17967489030626108 credits/hour.
const STORAGE_CREDIT: Decimal = dec(17_967_489_030_626_108, 17);
/// Per-MiB payg price of VM storage: 0.000000977 tokens/hour.
const VM_STORAGE_PAYG: Decimal = dec(977, 9);

fn standard_tiers() -> Vec<Tier> {
    [1, 2, 4, 6, 8, 12]
        .iter()
        .enumerate()
        .map(|(i, cu)| Tier { id: format!("tier-{}", i + 1), compute_units: *cu, model: None, vram: None })
        .collect()
}

fn gpu_tiers(tiers: &[(u64, &str, u64)]) -> Vec<Tier> {
    tiers
        .iter()
        .enumerate()
        .map(|(i, (vram, model, cu))| Tier {
            id: format!("tier-{}", i + 1),
            compute_units: *cu,
            model: Some((*model).to_owned()),
            vram: Some(*vram),
        })
        .collect()
}

fn vm_product(
    storage: PriceOptions,
    unit: PriceOptions,
    cu: ComputeUnit,
    tiers: Vec<Tier>,
) -> ProductPricing {
    ProductPricing {
        price: ProductPrice { storage, compute_unit: Some(unit), fixed: None },
        compute_unit: Some(cu),
        tiers,
    }
}

impl Default for Pricing {
    /// The reference's `DEFAULT_PRICE_AGGREGATE` (pyaleph `toolkit/constants.py`).
    fn default() -> Pricing {
        let cu_small = ComputeUnit { vcpus: 1, disk_mib: 2048, memory_mib: 2048 };
        let cu_vm = ComputeUnit { vcpus: 1, disk_mib: 20480, memory_mib: 2048 };
        let cu_gpu = ComputeUnit { vcpus: 1, disk_mib: 61440, memory_mib: 6144 };
        let program_storage = PriceOptions::new(dec(5, 2), VM_STORAGE_PAYG, dec(977, 3));
        let instance_storage = PriceOptions::new(dec(5, 2), VM_STORAGE_PAYG, STORAGE_CREDIT);
        let gpu_storage = PriceOptions::new(Decimal::ZERO, VM_STORAGE_PAYG, STORAGE_CREDIT);
        let file_storage = PriceOptions::new(dec(333_333_333, 9), Decimal::ZERO, STORAGE_CREDIT);
        let mut p = Pricing::empty();
        p.set(
            Product::Program,
            vm_product(
                program_storage,
                PriceOptions::new(dec(200, 0), dec(11, 3), dec(11_000, 0)),
                cu_small,
                standard_tiers(),
            ),
        );
        p.set(
            Product::Storage,
            ProductPricing {
                price: ProductPrice { storage: file_storage, compute_unit: None, fixed: None },
                compute_unit: None,
                tiers: Vec::new(),
            },
        );
        p.set(
            Product::Instance,
            vm_product(
                instance_storage,
                PriceOptions::new(dec(1000, 0), dec(55, 3), dec(14_250, 0)),
                cu_vm,
                standard_tiers(),
            ),
        );
        p.set(
            Product::Web3Hosting,
            ProductPricing {
                price: ProductPrice { storage: file_storage, compute_unit: None, fixed: Some(dec(50, 0)) },
                compute_unit: None,
                tiers: Vec::new(),
            },
        );
        p.set(
            Product::ProgramPersistent,
            vm_product(
                program_storage,
                PriceOptions::new(dec(1000, 0), dec(55, 3), dec(55_000, 0)),
                cu_vm,
                standard_tiers(),
            ),
        );
        p.set(
            Product::InstanceGpuPremium,
            vm_product(
                gpu_storage,
                PriceOptions::new(dec(560, 0), dec(56, 2), dec(86_250, 0)),
                cu_gpu,
                gpu_tiers(&[(81920, "A100", 16), (81920, "H100", 24)]),
            ),
        );
        p.set(
            Product::InstanceConfidential,
            vm_product(
                instance_storage,
                PriceOptions::new(dec(2000, 0), dec(11, 2), dec(28_500, 0)),
                cu_vm,
                standard_tiers(),
            ),
        );
        p.set(
            Product::InstanceGpuStandard,
            vm_product(
                gpu_storage,
                PriceOptions::new(dec(280, 0), dec(28, 2), dec(43_125, 0)),
                cu_gpu,
                gpu_tiers(&[
                    (20480, "RTX 4000 ADA", 3),
                    (24576, "RTX 3090", 4),
                    (24576, "RTX 4090", 6),
                    (49152, "L40S", 12),
                ]),
            ),
        );
        p
    }
}

/// A GPU the network accepts, from the `settings` aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatibleGpu {
    /// The PCI device name.
    pub name: String,
    /// The model, matched against GPU tiers' `model`.
    pub model: String,
    /// The vendor.
    pub vendor: String,
    /// `vendor:device` PCI id, matched against `requirements.gpu[].device_id`.
    pub device_id: String,
}

/// The parts of the network's `settings` aggregate that pricing reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// GPUs instances may request.
    #[serde(default)]
    pub compatible_gpus: Vec<CompatibleGpu>,
    /// The community wallet (20 % of PAYG streams).
    #[serde(default)]
    pub community_wallet_address: String,
    /// Since when the community wallet applies.
    #[serde(default)]
    pub community_wallet_timestamp: i64,
}

impl Settings {
    /// Reads the content of a `settings` aggregate (missing keys take empty values, as in the
    /// reference).
    pub fn from_aggregate(content: &Value) -> Result<Settings, CostError> {
        let o = content.as_object().cloned().unwrap_or_default();
        let gpus = o.get("compatible_gpus").cloned().unwrap_or(Value::Array(Vec::new()));
        let compatible_gpus: Vec<CompatibleGpu> = serde_json::from_value(gpus)
            .map_err(|e| CostError::InvalidPricing(format!("settings.compatible_gpus: {e}")))?;
        Ok(Settings {
            compatible_gpus,
            community_wallet_address: o
                .get("community_wallet_address")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            community_wallet_timestamp: o
                .get("community_wallet_timestamp")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        })
    }

    /// The model of the GPU with this PCI id (first match, as in the reference).
    pub fn gpu_model(&self, device_id: &str) -> Option<&str> {
        self.compatible_gpus.iter().find(|g| g.device_id == device_id).map(|g| g.model.as_str())
    }
}

impl Default for Settings {
    /// The reference's `DEFAULT_SETTINGS_AGGREGATE`.
    fn default() -> Settings {
        const GPUS: &[(&str, &str, &str)] = &[
            ("AD102GL [L40S]", "L40S", "10de:26b9"),
            ("GB202 [GeForce RTX 5090]", "RTX 5090", "10de:2685"),
            ("GB202 [GeForce RTX 5090 D]", "RTX 5090", "10de:2687"),
            ("AD102 [GeForce RTX 4090]", "RTX 4090", "10de:2684"),
            ("AD102 [GeForce RTX 4090 D]", "RTX 4090", "10de:2685"),
            ("GA102 [GeForce RTX 3090]", "RTX 3090", "10de:2204"),
            ("GA102 [GeForce RTX 3090 Ti]", "RTX 3090", "10de:2203"),
            ("AD104GL [RTX 4000 SFF Ada Generation]", "RTX 4000 ADA", "10de:27b0"),
            ("AD104GL [RTX 4000 Ada Generation]", "RTX 4000 ADA", "10de:27b2"),
            ("GH100 [H100]", "H100", "10de:2336"),
            ("GH100 [H100 NVSwitch]", "H100", "10de:22a3"),
            ("GH100 [H100 CNX]", "H100", "10de:2313"),
            ("GH100 [H100 SXM5 80GB]", "H100", "10de:2330"),
            ("GH100 [H100 PCIe]", "H100", "10de:2331"),
            ("GA100", "A100", "10de:2080"),
            ("GA100", "A100", "10de:2081"),
            ("GA100 [A100 SXM4 80GB]", "A100", "10de:20b2"),
            ("GA100 [A100 PCIe 80GB]", "A100", "10de:20b5"),
            ("GA100 [A100X]", "A100", "10de:20b8"),
        ];
        Settings {
            compatible_gpus: GPUS
                .iter()
                .map(|(name, model, device_id)| CompatibleGpu {
                    name: (*name).to_owned(),
                    model: (*model).to_owned(),
                    vendor: "NVIDIA".to_owned(),
                    device_id: (*device_id).to_owned(),
                })
                .collect(),
            community_wallet_address: "0x5aBd3258C5492fD378EBC2e0017416E199e5Da56".to_owned(),
            community_wallet_timestamp: 1_739_301_770,
        }
    }
}
