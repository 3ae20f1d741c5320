//! Pricing a content: the product it is priced as, its compute units, and the rows of its
//! execution, volumes, discount or stored file.

use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

use super::decimal::{add, div, mul};
use super::{
    floor_cost, ComputeUnit, CostError, CostRow, CostType, Costs, EstimatedSizes, FileRef, FileSizes,
    PriceOptions, Pricing, Product, ProductPricing, Result, Settings, HOUR, MIB, MIN_CREDIT_COST_PER_HOUR,
    MIN_STORE_COST_MIB,
};
use crate::content::{
    Content, InstanceContent, MachineResources, MachineVolume, PaymentType, ProgramContent, StoreContent,
    VProgramContent,
};
use crate::message::MessageType;

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
    let multiplier = if !p.is_persistent() && p.base.environment.internet() { 2 } else { 1 };
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
    volumes.extend(listed_volumes(&p.base.volumes, est));
    let rows = executable_costs(product, &p.base.resources, multiplier, payment, volumes, env)?;
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
    volumes.extend(listed_volumes(&i.base.volumes, env.estimates));
    if i.requires_gpu() {
        let product = instance_product(i, env.pricing, env.settings)?;
        let mut rows = gpu_execution_rows(i, env)?;
        // Storage of GPU instances is priced with the premium product (holding price: none).
        let storage = env.pricing.product(Product::InstanceGpuPremium)?;
        let volume_rows = volume_rows(volumes, &storage.price.storage, payment, env.sizes)?;
        let discount = discount_row(&volume_rows, storage, &i.base.resources)?;
        rows.extend(volume_rows);
        rows.push(discount);
        return Ok(Costs { payment_type: payment, product, rows, storage_size_mib: None });
    }
    let product = instance_product(i, env.pricing, env.settings)?;
    let rows = executable_costs(product, &i.base.resources, 1, payment, volumes, env)?;
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
    let gpus = i.base.requirements.as_ref().map(|r| r.gpus()).unwrap_or_default();
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
    let resource_units = compute_units(&i.base.resources, env.pricing.product(dominant)?.unit_definition())?;
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
