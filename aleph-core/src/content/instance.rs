//! INSTANCE content (§5.6): a persistent VM booted from a root filesystem image.

use serde::Serialize;
use serde_json::Value;

use super::executable::{ExecutableBase, HypervisorType, InstanceEnvironment};
use super::payment::PaymentType;
use super::reader::{invalid, list, strict_int_in, string, wire, Extra, Obj, R};
use super::volume::{ParentVolume, VolumePersistence, MAX_PERSISTENT_SIZE_MIB};
use super::{skip_none, ContentError};

/// INSTANCE content (`InstanceContent`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceContent {
    /// The fields PROGRAM contents have too (written first, in place).
    #[serde(flatten)]
    pub base: ExecutableBase<InstanceEnvironment>,
    /// The root filesystem.
    pub rootfs: RootfsVolume,
}

/// The root filesystem of an instance (`RootfsVolume`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootfsVolume {
    /// The base image.
    pub parent: ParentVolume,
    /// Where it is kept.
    pub persistence: VolumePersistence,
    /// Size in MiB, a strict integer in 1..=1_953_125.
    pub size_mib: u32,
    /// Present in the model; unused.
    #[serde(skip_serializing_if = "skip_none")]
    pub forgotten_by: Option<Vec<String>>,
}

impl RootfsVolume {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let r = RootfsVolume {
            parent: o.required("parent", ParentVolume::parse)?,
            persistence: o.required("persistence", wire("one of host, store"))?,
            size_mib: o.required("size_mib", strict_int_in(1, i128::from(MAX_PERSISTENT_SIZE_MIB)))?,
            forgotten_by: o.optional("forgotten_by", list(None, string))?,
        };
        o.finish()?;
        Ok(r)
    }
}

impl InstanceContent {
    /// Validates `v` against the INSTANCE schema, cross-field rules included.
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let base = ExecutableBase::parse(&mut o, InstanceEnvironment::parse)?;
        let rootfs = o.required("rootfs", RootfsVolume::parse)?;
        o.finish()?;
        let content = InstanceContent { base, rootfs };
        content.check_requirements()?;
        Ok(content)
    }

    /// The model's cross-field rules, evaluated only when `requirements` is given.
    fn check_requirements(&self) -> R<()> {
        let Some(req) = &self.base.requirements else { return Ok(()) };
        let has_node_hash = req.node_hash().is_some();
        let paid_over_time = self.base.payment.as_ref().is_some_and(|p| p.is_stream() || p.is_credit());
        if paid_over_time && !has_node_hash {
            return Err(invalid(
                "requirements",
                "node hash assignment is needed for PAYG or Credit payments",
            ));
        }
        if !req.gpus().is_empty() {
            if !has_node_hash {
                return Err(invalid("requirements", "node hash assignment is needed for GPU support"));
            }
            if self.base.environment.hypervisor != Some(HypervisorType::Qemu) {
                return Err(invalid("requirements", "GPU option is only supported for QEmu hypervisor"));
            }
        }
        if req.node.as_ref().is_some_and(|n| n.terms_and_conditions.is_some()) {
            if !has_node_hash {
                return Err(invalid(
                    "requirements",
                    "terms_and_conditions field needs a requirements.node.node_hash value",
                ));
            }
            if !paid_over_time && self.base.environment.trusted_execution.is_none() {
                return Err(invalid(
                    "requirements",
                    "only PAYG/CoCo/Credit instances can have a terms_and_conditions",
                ));
            }
        }
        Ok(())
    }

    /// The effective payment type (`hold` when absent).
    pub fn payment_type(&self) -> PaymentType {
        self.base.payment_type()
    }

    /// Whether the instance is confidential (`environment.trusted_execution` set).
    pub fn is_confidential(&self) -> bool {
        self.base.environment.trusted_execution.is_some()
    }

    /// Whether the instance asks for GPUs.
    pub fn requires_gpu(&self) -> bool {
        self.base.requirements.as_ref().is_some_and(|r| !r.gpus().is_empty())
    }
}
