//! V-PROGRAM content (§5.10): a verifiable program run in a measured confidential VM.
//!
//! The reference model (`VerifiableProgramContent`, in an aleph-message commit newer than the
//! snapshot this was written from) could not be read; this schema is inferred from MESSAGES.md
//! §5.10, pyaleph's tests and pyaleph's handler, which reads `allow_amend`, `replaces`,
//! `variables`, `metadata`, `environment.internet`, `resources`, `requirements`, `payment.type`,
//! `runtime {ref, comment}`, `workload {ref, hash_tree, roothash}` and `volumes[]
//! {ref, hash_tree, roothash, comment}`. Choices made here:
//!
//! * the document forbids unknown keys, like every other executable content;
//! * `allow_amend` is required and must be false; `replaces`, `variables` and `authorized_keys`
//!   must be absent or null (V-Programs are immutable and have no unmeasured host-to-guest
//!   channels);
//! * `payment` is required and must be `credit`;
//! * nested objects ignore unknown keys; `verification.backend` must be `sev_snp`;
//! * the model rendering lists fields in the order of the base executable model, then
//!   `runtime`, `workload`, `verification`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::executable::{HostRequirements, MachineResources, MAX_METADATA_ENTRIES, MAX_VOLUMES};
use super::payment::{Payment, PaymentType};
use super::reader::{boolean, integer, invalid, item_hash, list, literal, object_max, string, Extra, Obj, R};
use super::{base, skip_none, ContentError};
use crate::item_hash::ItemHash;

/// V-PROGRAM content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VProgramContent {
    /// The owner.
    pub address: String,
    /// The signed time.
    pub time: f64,
    /// Always false: V-Programs cannot be replaced.
    pub allow_amend: bool,
    /// Free-form metadata (≤ 256 entries).
    #[serde(skip_serializing_if = "skip_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The execution environment.
    pub environment: VProgramEnvironment,
    /// The resources.
    pub resources: MachineResources,
    /// Payment: always `credit`.
    pub payment: Payment,
    /// Host requirements.
    #[serde(skip_serializing_if = "skip_none")]
    pub requirements: Option<HostRequirements>,
    /// Verified volumes (≤ 256).
    pub volumes: Vec<VerifiedVolume>,
    /// The runtime bundle.
    pub runtime: VProgramRuntime,
    /// The workload image.
    pub workload: Workload,
    /// How the VM's launch is verified.
    pub verification: Verification,
}

/// The environment of a V-Program (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct VProgramEnvironment {
    /// Internet access.
    pub internet: bool,
}

/// The runtime of a V-Program (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VProgramRuntime {
    /// The STORE message holding the runtime bundle.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// A description.
    pub comment: String,
}

/// The workload of a V-Program (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// The STORE message holding the image.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// The STORE message holding the image's hash tree.
    pub hash_tree: ItemHash,
    /// The hash tree's root hash (hex).
    pub roothash: String,
}

/// A verified volume of a V-Program (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedVolume {
    /// The STORE message holding the volume.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// The STORE message holding its hash tree.
    pub hash_tree: ItemHash,
    /// The hash tree's root hash (hex).
    pub roothash: String,
    /// A comment.
    #[serde(skip_serializing_if = "skip_none")]
    pub comment: Option<String>,
}

/// Launch verification settings (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The attestation backend: `sev_snp`.
    pub backend: String,
    /// The SNP guest policy (64-bit).
    pub policy: i128,
    /// Accepted launch measurements.
    pub measurements: Vec<Measurement>,
}

/// One accepted launch measurement (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measurement {
    /// The platform (`sev_snp`).
    pub platform: String,
    /// The measurement digest (hex).
    pub digest: String,
    /// The vCPU type measured (`EPYC-v4`…).
    pub vcpu_type: String,
}

fn runtime(v: &Value, p: &str) -> R<VProgramRuntime> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    let r =
        VProgramRuntime { reference: o.required("ref", item_hash)?, comment: o.required("comment", string)? };
    o.finish()?;
    Ok(r)
}

fn workload(v: &Value, p: &str) -> R<Workload> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    let w = Workload {
        reference: o.required("ref", item_hash)?,
        hash_tree: o.required("hash_tree", item_hash)?,
        roothash: o.required("roothash", string)?,
    };
    o.finish()?;
    Ok(w)
}

fn verified_volume(v: &Value, p: &str) -> R<VerifiedVolume> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    let x = VerifiedVolume {
        reference: o.required("ref", item_hash)?,
        hash_tree: o.required("hash_tree", item_hash)?,
        roothash: o.required("roothash", string)?,
        comment: o.optional("comment", string)?,
    };
    o.finish()?;
    Ok(x)
}

fn measurement(v: &Value, p: &str) -> R<Measurement> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    let m = Measurement {
        platform: o.required("platform", string)?,
        digest: o.required("digest", string)?,
        vcpu_type: o.required("vcpu_type", string)?,
    };
    o.finish()?;
    Ok(m)
}

fn verification(v: &Value, p: &str) -> R<Verification> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    o.required("backend", literal("sev_snp", "\"sev_snp\""))?;
    let x = Verification {
        backend: "sev_snp".to_owned(),
        policy: o.required("policy", integer)?,
        measurements: o.required("measurements", list(None, measurement))?,
    };
    o.finish()?;
    Ok(x)
}

fn environment(v: &Value, p: &str) -> R<VProgramEnvironment> {
    let mut o = Obj::new(v, p, Extra::Ignore)?;
    let e = VProgramEnvironment { internet: o.or_default("internet", false, boolean)? };
    o.finish()?;
    Ok(e)
}

/// A field V-Programs do not have: absent or null only.
fn absent(v: &Value, p: &str) -> R<()> {
    if v.is_null() {
        Ok(())
    } else {
        Err(invalid(p, "not allowed in V-PROGRAM content"))
    }
}

impl VProgramContent {
    /// Validates `v` against the V-PROGRAM schema (see the module documentation).
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let (address, time) = base(&mut o)?;
        let allow_amend = o.required("allow_amend", boolean)?;
        if allow_amend {
            return Err(invalid("allow_amend", "V-Programs are immutable: allow_amend must be false"));
        }
        for field in ["replaces", "variables", "authorized_keys"] {
            let _ = o.optional(field, absent)?;
        }
        let c = VProgramContent {
            address,
            time,
            allow_amend,
            metadata: o.optional("metadata", object_max(MAX_METADATA_ENTRIES))?,
            environment: o.required("environment", environment)?,
            resources: o.required("resources", MachineResources::parse)?,
            payment: o.required("payment", Payment::parse)?,
            requirements: o.optional("requirements", HostRequirements::parse)?,
            volumes: o.or_default("volumes", Vec::new(), list(Some(MAX_VOLUMES), verified_volume))?,
            runtime: o.required("runtime", runtime)?,
            workload: o.required("workload", workload)?,
            verification: o.required("verification", verification)?,
        };
        o.finish()?;
        if c.payment.payment_type != PaymentType::Credit {
            return Err(invalid("payment", "V-Programs are paid with credits only"));
        }
        Ok(c)
    }
}
