//! File sizes for pricing: the files a content refers to, what the caller knows of their sizes,
//! and the sizes a cost estimate names itself.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use super::{CostError, Result};
use crate::message::MessageType;

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
