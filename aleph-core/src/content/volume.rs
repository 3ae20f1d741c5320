//! VM volumes (§5.7): immutable, ephemeral and persistent, and parent images.

use serde::Serialize;
use serde_json::Value;

use super::reader::{
    boolean, invalid, item_hash, literal_true, strict_int_in, string_max, wire, Extra, Obj, R,
};
use super::skip_none;
use crate::item_hash::ItemHash;

/// Cap on `comment`, `mount` and `name`.
const MAX_LABEL: usize = 256;
/// The largest ephemeral volume, in MiB (1 GiB).
pub const MAX_EPHEMERAL_SIZE_MIB: u32 = 1000;
/// The largest persistent volume or rootfs, in MiB (2048 GB).
pub const MAX_PERSISTENT_SIZE_MIB: u32 = 1_953_125;

/// A volume of a VM. The reference resolves the union in this order, the first kind that
/// validates winning; since every kind forbids unknown keys, an object with only `size_mib`
/// (and `comment`/`mount`) is ephemeral.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MachineVolume {
    /// A read-only file from a STORE message.
    Immutable(ImmutableVolume),
    /// A scratch volume discarded with the VM.
    Ephemeral(EphemeralVolume),
    /// A volume kept across runs.
    Persistent(PersistentVolume),
}

impl MachineVolume {
    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let immutable = match ImmutableVolume::parse(v, path) {
            Ok(x) => return Ok(MachineVolume::Immutable(x)),
            Err(e) => e,
        };
        let ephemeral = match EphemeralVolume::parse(v, path) {
            Ok(x) => return Ok(MachineVolume::Ephemeral(x)),
            Err(e) => e,
        };
        let persistent = match PersistentVolume::parse(v, path) {
            Ok(x) => return Ok(MachineVolume::Persistent(x)),
            Err(e) => e,
        };
        if !v.is_object() {
            return Err(super::reader::wrong(path, "a volume object"));
        }
        Err(invalid(
            path,
            format!(
                "matches no volume kind (immutable: {immutable}; ephemeral: {ephemeral}; persistent: {persistent})"
            ),
        ))
    }

    /// The mount point, when given.
    pub fn mount(&self) -> Option<&str> {
        match self {
            MachineVolume::Immutable(v) => v.mount.as_deref(),
            MachineVolume::Ephemeral(v) => v.mount.as_deref(),
            MachineVolume::Persistent(v) => v.mount.as_deref(),
        }
    }

    /// Whether the VM cannot write to it.
    pub fn is_read_only(&self) -> bool {
        matches!(self, MachineVolume::Immutable(_))
    }
}

/// A read-only volume (`ImmutableVolume`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImmutableVolume {
    /// A comment (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub comment: Option<String>,
    /// Mount point (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub mount: Option<String>,
    /// The STORE message (or, with `use_latest`, file tag) holding the volume.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// Follow the latest version of the file tag (default true).
    pub use_latest: bool,
}

impl ImmutableVolume {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let x = ImmutableVolume {
            comment: o.optional("comment", string_max(MAX_LABEL))?,
            mount: o.optional("mount", string_max(MAX_LABEL))?,
            reference: o.required("ref", item_hash)?,
            use_latest: o.or_default("use_latest", true, boolean)?,
        };
        o.finish()?;
        Ok(x)
    }
}

/// A scratch volume (`EphemeralVolume`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EphemeralVolume {
    /// A comment (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub comment: Option<String>,
    /// Mount point (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub mount: Option<String>,
    /// Always true (the model's literal).
    pub ephemeral: bool,
    /// Size in MiB, a strict integer in 1..=1000.
    pub size_mib: u32,
}

impl EphemeralVolume {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let x = EphemeralVolume {
            comment: o.optional("comment", string_max(MAX_LABEL))?,
            mount: o.optional("mount", string_max(MAX_LABEL))?,
            ephemeral: o.or_default("ephemeral", true, literal_true)?,
            size_mib: o.required("size_mib", strict_int_in(1, i128::from(MAX_EPHEMERAL_SIZE_MIB)))?,
        };
        o.finish()?;
        Ok(x)
    }
}

str_enum! {
    /// Where a persistent volume is kept.
    VolumePersistence {
        /// `host`: on the CRN.
        Host => "host",
        /// `store`: in the network's storage.
        Store => "store",
    }
}

/// A base image a volume is copied from (`ParentVolume`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentVolume {
    /// The STORE message (or, with `use_latest`, file tag) holding the image.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// Follow the latest version of the file tag (default true).
    pub use_latest: bool,
}

impl ParentVolume {
    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let x = ParentVolume {
            reference: o.required("ref", item_hash)?,
            use_latest: o.or_default("use_latest", true, boolean)?,
        };
        o.finish()?;
        Ok(x)
    }
}

/// A volume kept across runs (`PersistentVolume`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersistentVolume {
    /// A comment (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub comment: Option<String>,
    /// Mount point (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub mount: Option<String>,
    /// The image the volume starts from.
    #[serde(skip_serializing_if = "skip_none")]
    pub parent: Option<ParentVolume>,
    /// Where it is kept.
    #[serde(skip_serializing_if = "skip_none")]
    pub persistence: Option<VolumePersistence>,
    /// Its name (≤ 256 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub name: Option<String>,
    /// Size in MiB, a strict integer in 1..=1_953_125.
    pub size_mib: u32,
}

impl PersistentVolume {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let x = PersistentVolume {
            comment: o.optional("comment", string_max(MAX_LABEL))?,
            mount: o.optional("mount", string_max(MAX_LABEL))?,
            parent: o.optional("parent", ParentVolume::parse)?,
            persistence: o.optional("persistence", wire("one of host, store"))?,
            name: o.optional("name", string_max(MAX_LABEL))?,
            size_mib: o.required("size_mib", strict_int_in(1, i128::from(MAX_PERSISTENT_SIZE_MIB)))?,
        };
        o.finish()?;
        Ok(x)
    }
}
