//! Pieces shared by PROGRAM, INSTANCE and V-PROGRAM contents (§5.4): resources, environments,
//! host requirements, and the common executable fields.

use std::collections::BTreeMap;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::payment::{Payment, PaymentType};
use super::reader::{
    boolean, int_in, integer, invalid, item_hash, list, object_max, string, string_max, wire, Extra, Obj, R,
};
use super::volume::MachineVolume;
use super::{base, pyregex, rendering_nulls, skip_none};
use crate::item_hash::ItemHash;

/// Caps of the executable base model.
pub(super) const MAX_METADATA_ENTRIES: usize = 256;
const MAX_AUTHORIZED_KEYS: usize = 256;
const MAX_AUTHORIZED_KEY_LENGTH: usize = 8192;
const MAX_VARIABLE_ENTRIES: usize = 256;
const MAX_VARIABLE_KEY_LENGTH: usize = 128;
const MAX_VARIABLE_VALUE_LENGTH: usize = 4096;
pub(super) const MAX_VOLUMES: usize = 256;
const MAX_REPLACES_LENGTH: usize = 128;

/// Bounds of [`MachineResources`].
const MAX_VCPUS: i128 = 256;
const MAX_MEMORY_MIB: i128 = 1024 * 1024;
const MAX_SECONDS: i128 = 10 * 365 * 24 * 3600;

/// System resources of a VM (`MachineResources`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineResources {
    /// Virtual CPUs, 1..=256 (default 1).
    pub vcpus: u32,
    /// Memory in MiB, 1..=1_048_576 (default 128).
    pub memory: u32,
    /// Execution timeout in seconds, 1..=315_360_000 (default 1).
    pub seconds: u32,
    /// IPv4 ports to expose.
    #[serde(skip_serializing_if = "skip_none")]
    pub published_ports: Option<Vec<PublishedPort>>,
}

impl MachineResources {
    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let r = MachineResources {
            vcpus: o.or_default("vcpus", 1, int_in(1, MAX_VCPUS))?,
            memory: o.or_default("memory", 128, int_in(1, MAX_MEMORY_MIB))?,
            seconds: o.or_default("seconds", 1, int_in(1, MAX_SECONDS))?,
            published_ports: o.optional("published_ports", list(None, PublishedPort::parse))?,
        };
        o.finish()?;
        Ok(r)
    }
}

str_enum! {
    /// A transport protocol.
    NetworkProtocol {
        /// `tcp`
        Tcp => "tcp",
        /// `udp`
        Udp => "udp",
    }
}

/// A port to expose (`PublishedPort`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPort {
    /// The protocol (default `tcp`).
    pub protocol: NetworkProtocol,
    /// The port, 1..=65535.
    pub port: u16,
}

impl PublishedPort {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let p = PublishedPort {
            protocol: o.or_default("protocol", NetworkProtocol::Tcp, wire("one of tcp, udp"))?,
            port: o.required("port", int_in(1, 65535))?,
        };
        o.finish()?;
        Ok(p)
    }
}

/// The environment of a function VM (`FunctionEnvironment`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FunctionEnvironment {
    /// Reproducible build.
    pub reproducible: bool,
    /// Internet access.
    pub internet: bool,
    /// Access to the Aleph API.
    pub aleph_api: bool,
    /// Shared cache.
    pub shared_cache: bool,
}

impl FunctionEnvironment {
    /// The keys of the model (for the union resolution of PROGRAM environments).
    pub(super) const FIELDS: &'static [&'static str] =
        &["reproducible", "internet", "aleph_api", "shared_cache"];

    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let e = FunctionEnvironment {
            reproducible: o.or_default("reproducible", false, boolean)?,
            internet: o.or_default("internet", false, boolean)?,
            aleph_api: o.or_default("aleph_api", false, boolean)?,
            shared_cache: o.or_default("shared_cache", false, boolean)?,
        };
        o.finish()?;
        Ok(e)
    }
}

str_enum! {
    /// A hypervisor.
    HypervisorType {
        /// `qemu`
        Qemu => "qemu",
        /// `firecracker`
        Firecracker => "firecracker",
    }
}

/// The environment of an instance (`InstanceEnvironment`, `extra = ignore`).
///
/// The reference checks `trusted_execution` on its raw value: `{}` passes without `qemu` and
/// becomes the default settings. Such a value is written back as `{}` by the compact rendering,
/// so that it parses again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceEnvironment {
    /// Internet access.
    pub internet: bool,
    /// Access to the Aleph API.
    pub aleph_api: bool,
    /// The hypervisor (`None`: the node's default).
    pub hypervisor: Option<HypervisorType>,
    /// Confidential computing settings; only with `hypervisor: qemu`.
    pub trusted_execution: Option<TrustedExecutionEnvironment>,
    /// Legacy flag.
    pub reproducible: bool,
    /// Legacy flag.
    pub shared_cache: bool,
}

impl Serialize for InstanceEnvironment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize_fields(s, false)
    }
}

impl InstanceEnvironment {
    /// Serializes the model's fields; `force_hypervisor` writes `hypervisor` even when `None`.
    pub(super) fn serialize_fields<S: Serializer>(
        &self,
        s: S,
        force_hypervisor: bool,
    ) -> Result<S::Ok, S::Error> {
        let with_hypervisor = force_hypervisor || !skip_none(&self.hypervisor);
        let with_te = !skip_none(&self.trusted_execution);
        let mut st = s.serialize_struct(
            "InstanceEnvironment",
            4 + usize::from(with_hypervisor) + usize::from(with_te),
        )?;
        st.serialize_field("internet", &self.internet)?;
        st.serialize_field("aleph_api", &self.aleph_api)?;
        if with_hypervisor {
            st.serialize_field("hypervisor", &self.hypervisor)?;
        }
        match &self.trusted_execution {
            // Only `{}` can carry settings without qemu: write it back as such.
            Some(_) if self.hypervisor != Some(HypervisorType::Qemu) && !rendering_nulls() => {
                st.serialize_field("trusted_execution", &Map::new())?;
            }
            te if with_te => st.serialize_field("trusted_execution", te)?,
            _ => {}
        }
        st.serialize_field("reproducible", &self.reproducible)?;
        st.serialize_field("shared_cache", &self.shared_cache)?;
        st.end()
    }

    /// The keys of the model (for the union resolution of PROGRAM environments).
    pub(super) const FIELDS: &'static [&'static str] =
        &["internet", "aleph_api", "hypervisor", "trusted_execution", "reproducible", "shared_cache"];

    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let internet = o.or_default("internet", false, boolean)?;
        let aleph_api = o.or_default("aleph_api", false, boolean)?;
        let hypervisor = o.optional("hypervisor", wire::<HypervisorType>("one of qemu, firecracker"))?;
        let trusted_execution = o.optional("trusted_execution", |v, p| {
            // The reference checks the raw value first: any truthy value needs qemu (so `{}`
            // passes without qemu and becomes the default settings).
            if truthy(v) && hypervisor != Some(HypervisorType::Qemu) {
                return Err(invalid(p, "Trusted Execution Environment is only supported for QEmu"));
            }
            TrustedExecutionEnvironment::parse(v, p)
        })?;
        let e = InstanceEnvironment {
            internet,
            aleph_api,
            hypervisor,
            trusted_execution,
            reproducible: o.or_default("reproducible", false, boolean)?,
            shared_cache: o.or_default("shared_cache", false, boolean)?,
        };
        o.finish()?;
        Ok(e)
    }
}

/// Python truthiness of a JSON value.
pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Confidential computing settings (`TrustedExecutionEnvironment`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedExecutionEnvironment {
    /// The confidential OVMF firmware.
    #[serde(skip_serializing_if = "skip_none")]
    pub firmware: Option<ItemHash>,
    /// The AMD SEV policy bits (default 1, no debugging).
    pub policy: i128,
}

impl TrustedExecutionEnvironment {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let t = TrustedExecutionEnvironment {
            firmware: o.optional("firmware", item_hash)?,
            policy: o.or_default("policy", 1, integer)?,
        };
        o.finish()?;
        Ok(t)
    }
}

/// Properties the host must have (`HostRequirements`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HostRequirements {
    /// CPU requirements.
    #[serde(skip_serializing_if = "skip_none")]
    pub cpu: Option<CpuProperties>,
    /// Node requirements.
    #[serde(skip_serializing_if = "skip_none")]
    pub node: Option<NodeRequirements>,
    /// GPUs to pass through.
    #[serde(skip_serializing_if = "skip_none")]
    pub gpu: Option<Vec<GpuProperties>>,
}

impl HostRequirements {
    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let h = HostRequirements {
            cpu: o.optional("cpu", CpuProperties::parse)?,
            node: o.optional("node", NodeRequirements::parse)?,
            gpu: o.optional("gpu", list(None, GpuProperties::parse))?,
        };
        o.finish()?;
        Ok(h)
    }

    /// The required node's hash, when given.
    pub fn node_hash(&self) -> Option<&ItemHash> {
        self.node.as_ref()?.node_hash.as_ref()
    }

    /// The GPUs required (empty when none).
    pub fn gpus(&self) -> &[GpuProperties] {
        self.gpu.as_deref().unwrap_or_default()
    }
}

str_enum! {
    /// A CPU architecture.
    CpuArchitecture {
        /// `x86_64`
        X86_64 => "x86_64",
        /// `arm64`
        Arm64 => "arm64",
    }
}

/// CPU requirements (`CpuProperties`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpuProperties {
    /// Architecture.
    #[serde(skip_serializing_if = "skip_none")]
    pub architecture: Option<CpuArchitecture>,
    /// Vendor (`AuthenticAMD`, `GenuineIntel`, or any other string).
    #[serde(skip_serializing_if = "skip_none")]
    pub vendor: Option<String>,
    /// CPU features the VM needs (`sev`, `sev_es`, `sev_snp`…).
    #[serde(skip_serializing_if = "skip_none")]
    pub features: Option<Vec<String>>,
}

impl CpuProperties {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let c = CpuProperties {
            architecture: o.optional("architecture", wire("one of x86_64, arm64"))?,
            vendor: o.optional("vendor", string)?,
            features: o.optional("features", list(None, string))?,
        };
        o.finish()?;
        Ok(c)
    }
}

/// Node requirements (`NodeRequirements`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRequirements {
    /// The node owner's address.
    #[serde(skip_serializing_if = "skip_none")]
    pub owner: Option<String>,
    /// A Python regular expression the node address must match (at most 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub address_regex: Option<String>,
    /// The CRN that must run the VM.
    #[serde(skip_serializing_if = "skip_none")]
    pub node_hash: Option<ItemHash>,
    /// The CRN's terms and conditions.
    #[serde(skip_serializing_if = "skip_none")]
    pub terms_and_conditions: Option<ItemHash>,
}

impl NodeRequirements {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let n = NodeRequirements {
            owner: o.optional("owner", string)?,
            address_regex: o.optional("address_regex", |v, p| {
                let re = string_max(256)(v, p)?;
                pyregex::check(&re).map_err(|e| invalid(p, format!("invalid regular expression: {e}")))?;
                Ok(re)
            })?,
            node_hash: o.optional("node_hash", item_hash)?,
            terms_and_conditions: o.optional("terms_and_conditions", item_hash)?,
        };
        o.finish()?;
        Ok(n)
    }
}

str_enum! {
    /// A PCI GPU device class.
    GpuDeviceClass {
        /// `0300`: VGA-compatible controller.
        VgaCompatibleController => "0300",
        /// `0302`: 3D controller.
        ThreeDController => "0302",
    }
}

/// A GPU to pass through (`GpuProperties`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuProperties {
    /// Vendor name.
    pub vendor: String,
    /// Card name.
    pub device_name: String,
    /// PCI device class.
    pub device_class: GpuDeviceClass,
    /// Vendor and device ids.
    pub device_id: String,
}

impl GpuProperties {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let g = GpuProperties {
            vendor: o.required("vendor", string)?,
            device_name: o.required("device_name", string)?,
            device_class: o.required("device_class", wire("one of 0300, 0302"))?,
            device_id: o.required("device_id", string)?,
        };
        o.finish()?;
        Ok(g)
    }
}

/// The fields PROGRAM and INSTANCE contents share (`BaseExecutableContent`), which both write
/// first (`#[serde(flatten)]`), in this order; `E` is the type's environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutableBase<E> {
    /// The owner.
    pub address: String,
    /// The signed time.
    pub time: f64,
    /// Whether later messages may replace this one.
    pub allow_amend: bool,
    /// Free-form metadata (≤ 256 entries).
    #[serde(skip_serializing_if = "skip_none")]
    pub metadata: Option<Map<String, Value>>,
    /// SSH public keys (≤ 256, each ≤ 8192 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub authorized_keys: Option<Vec<String>>,
    /// Environment variables (≤ 256).
    #[serde(skip_serializing_if = "skip_none")]
    pub variables: Option<BTreeMap<String, String>>,
    /// The execution environment.
    pub environment: E,
    /// The resources.
    pub resources: MachineResources,
    /// Payment (absent means `hold`).
    #[serde(skip_serializing_if = "skip_none")]
    pub payment: Option<Payment>,
    /// Host requirements.
    #[serde(skip_serializing_if = "skip_none")]
    pub requirements: Option<HostRequirements>,
    /// Volumes (≤ 256).
    pub volumes: Vec<MachineVolume>,
    /// The program this one replaces (≤ 128 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub replaces: Option<String>,
}

impl<E> ExecutableBase<E> {
    /// Reads the shared fields, the environment with `environment`.
    pub(super) fn parse(o: &mut Obj<'_>, environment: impl FnOnce(&Value, &str) -> R<E>) -> R<Self> {
        let (address, time) = base(o)?;
        Ok(ExecutableBase {
            address,
            time,
            allow_amend: o.required("allow_amend", boolean)?,
            metadata: o.optional("metadata", object_max(MAX_METADATA_ENTRIES))?,
            authorized_keys: o.optional(
                "authorized_keys",
                list(Some(MAX_AUTHORIZED_KEYS), string_max(MAX_AUTHORIZED_KEY_LENGTH)),
            )?,
            variables: o.optional("variables", variables)?,
            environment: o.required("environment", environment)?,
            resources: o.required("resources", MachineResources::parse)?,
            payment: o.optional("payment", Payment::parse)?,
            requirements: o.optional("requirements", HostRequirements::parse)?,
            volumes: o.or_default("volumes", Vec::new(), list(Some(MAX_VOLUMES), MachineVolume::parse))?,
            replaces: o.optional("replaces", string_max(MAX_REPLACES_LENGTH))?,
        })
    }

    /// The effective payment type (`hold` when absent).
    pub fn payment_type(&self) -> PaymentType {
        Payment::type_of(self.payment.as_ref())
    }
}

/// `variables`: at most 256 string entries, keys ≤ 128 and values ≤ 4096 characters.
fn variables(v: &Value, p: &str) -> R<BTreeMap<String, String>> {
    let map = object_max(MAX_VARIABLE_ENTRIES)(v, p)?;
    let mut out = BTreeMap::new();
    for (k, val) in &map {
        let path = super::reader::join(p, k);
        if k.chars().count() > MAX_VARIABLE_KEY_LENGTH {
            return Err(invalid(
                &path,
                format!("variable names are at most {MAX_VARIABLE_KEY_LENGTH} characters"),
            ));
        }
        out.insert(k.clone(), string_max(MAX_VARIABLE_VALUE_LENGTH)(val, &path)?);
    }
    Ok(out)
}
