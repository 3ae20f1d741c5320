//! PROGRAM content (§5.5): a function VM started on demand or kept running.

use serde::Serialize;
use serde_json::{Map, Value};

use super::executable::{ExecutableBase, FunctionEnvironment, InstanceEnvironment};
use super::payment::PaymentType;
use super::reader::{boolean, invalid, item_hash, list, literal, string, wire, Extra, Obj, R};
use super::{skip_none, ContentError};
use crate::item_hash::ItemHash;

/// Cap on the keys of one message subscription.
const MAX_SUBSCRIPTION_ENTRIES: usize = 32;

str_enum! {
    /// The kind of executable.
    MachineType {
        /// `vm-instance`
        VmInstance => "vm-instance",
        /// `vm-function`
        VmFunction => "vm-function",
    }
}

str_enum! {
    /// How code and data are packaged.
    Encoding {
        /// `plain`
        Plain => "plain",
        /// `zip`
        Zip => "zip",
        /// `squashfs`
        Squashfs => "squashfs",
    }
}

str_enum! {
    /// How a program is run.
    Interface {
        /// `asgi`: an ASGI application.
        Asgi => "asgi",
        /// `binary`: an executable serving HTTP on port 8000.
        Binary => "binary",
    }
}

/// PROGRAM content (`ProgramContent`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgramContent {
    /// The fields INSTANCE contents have too (written first, in place).
    #[serde(flatten)]
    pub base: ExecutableBase<ProgramEnvironment>,
    /// Always [`MachineType::VmFunction`] (the model's literal).
    #[serde(rename = "type")]
    pub machine_type: MachineType,
    /// The code.
    pub code: CodeContent,
    /// The runtime (root filesystem with the interpreter).
    pub runtime: FunctionRuntime,
    /// Input data.
    #[serde(skip_serializing_if = "skip_none")]
    pub data: Option<DataContent>,
    /// Data to export after computations.
    #[serde(skip_serializing_if = "skip_none")]
    pub export: Option<Export>,
    /// What starts the program.
    pub on: FunctionTriggers,
}

/// A PROGRAM's `environment`: the reference types it as a union of the function and instance
/// environments. Both ignore unknown keys, so the function form always matches unless a flag is
/// invalid; the instance form wins when it validates and the input sets more of its fields
/// (`hypervisor` or `trusted_execution` present), as pydantic's smart union picks.
///
/// Serializing the instance form always writes `hypervisor` (`null` included), so that parsing
/// the output picks the instance form again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramEnvironment {
    /// The function environment.
    Function(FunctionEnvironment),
    /// The instance environment.
    Instance(InstanceEnvironment),
}

impl Serialize for ProgramEnvironment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ProgramEnvironment::Function(f) => f.serialize(s),
            ProgramEnvironment::Instance(i) => i.serialize_fields(s, true),
        }
    }
}

impl ProgramEnvironment {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let function = FunctionEnvironment::parse(v, path);
        let instance = InstanceEnvironment::parse(v, path);
        let set = |fields: &[&str]| {
            v.as_object().map_or(0, |m| fields.iter().filter(|f| m.contains_key(**f)).count())
        };
        match (function, instance) {
            (Ok(f), Ok(i)) => {
                if set(InstanceEnvironment::FIELDS) > set(FunctionEnvironment::FIELDS) {
                    Ok(ProgramEnvironment::Instance(i))
                } else {
                    Ok(ProgramEnvironment::Function(f))
                }
            }
            (Ok(f), Err(_)) => Ok(ProgramEnvironment::Function(f)),
            (Err(_), Ok(i)) => Ok(ProgramEnvironment::Instance(i)),
            (Err(e), Err(_)) => Err(e),
        }
    }

    /// Internet access.
    pub fn internet(&self) -> bool {
        match self {
            ProgramEnvironment::Function(e) => e.internet,
            ProgramEnvironment::Instance(e) => e.internet,
        }
    }

    /// Access to the Aleph API.
    pub fn aleph_api(&self) -> bool {
        match self {
            ProgramEnvironment::Function(e) => e.aleph_api,
            ProgramEnvironment::Instance(e) => e.aleph_api,
        }
    }
}

/// The code of a program (`CodeContent`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeContent {
    /// Packaging.
    pub encoding: Encoding,
    /// Entrypoint (`module:app` for ASGI, a command otherwise).
    pub entrypoint: String,
    /// The STORE message holding the code.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// The interface, when given (see [`CodeContent::inferred_interface`]).
    #[serde(skip_serializing_if = "skip_none")]
    pub interface: Option<Interface>,
    /// Arguments.
    #[serde(skip_serializing_if = "skip_none")]
    pub args: Option<Vec<String>>,
    /// Follow the latest version of the file tag (default false).
    pub use_latest: bool,
}

impl CodeContent {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let c = CodeContent {
            encoding: o.required("encoding", wire("one of plain, zip, squashfs"))?,
            entrypoint: o.required("entrypoint", string)?,
            reference: o.required("ref", item_hash)?,
            interface: o.optional("interface", wire("one of asgi, binary"))?,
            args: o.optional("args", list(None, string))?,
            use_latest: o.or_default("use_latest", false, boolean)?,
        };
        o.finish()?;
        Ok(c)
    }

    /// The interface: as given, else `asgi` when the entrypoint contains `:`, else `binary`.
    pub fn inferred_interface(&self) -> Interface {
        match self.interface {
            Some(i) => i,
            None if self.entrypoint.contains(':') => Interface::Asgi,
            None => Interface::Binary,
        }
    }
}

/// The runtime of a program (`FunctionRuntime`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionRuntime {
    /// The STORE message holding the runtime.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// Follow the latest version of the file tag (default true).
    pub use_latest: bool,
    /// A description (required).
    pub comment: String,
}

impl FunctionRuntime {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let r = FunctionRuntime {
            reference: o.required("ref", item_hash)?,
            use_latest: o.or_default("use_latest", true, boolean)?,
            comment: o.required("comment", string)?,
        };
        o.finish()?;
        Ok(r)
    }
}

/// Input data of a program (`DataContent`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataContent {
    /// Packaging.
    pub encoding: Encoding,
    /// Mount point.
    pub mount: String,
    /// The STORE message holding the data.
    #[serde(rename = "ref")]
    pub reference: ItemHash,
    /// Follow the latest version of the file tag (default false; null is allowed). Always
    /// written, `null` included, so that an explicit null survives a round trip.
    pub use_latest: Option<bool>,
}

impl DataContent {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let d = DataContent {
            encoding: o.required("encoding", wire("one of plain, zip, squashfs"))?,
            mount: o.required("mount", string)?,
            reference: o.required("ref", item_hash)?,
            use_latest: o.or_default("use_latest", Some(false), |v, p| {
                if v.is_null() {
                    Ok(None)
                } else {
                    boolean(v, p).map(Some)
                }
            })?,
        };
        o.finish()?;
        Ok(d)
    }
}

/// Data to export after computations (`Export`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    /// Packaging.
    pub encoding: Encoding,
    /// Mount point.
    pub mount: String,
}

impl Export {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let e = Export {
            encoding: o.required("encoding", wire("one of plain, zip, squashfs"))?,
            mount: o.required("mount", string)?,
        };
        o.finish()?;
        Ok(e)
    }
}

/// What starts a program (`FunctionTriggers`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionTriggers {
    /// Route HTTP requests to the program (required).
    pub http: bool,
    /// Run on new messages matching these free-form filters (each ≤ 32 keys).
    #[serde(skip_serializing_if = "skip_none")]
    pub message: Option<Vec<Map<String, Value>>>,
    /// Keep the program running instead of starting it on demand.
    #[serde(skip_serializing_if = "skip_none")]
    pub persistent: Option<bool>,
}

impl FunctionTriggers {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Forbid)?;
        let t = FunctionTriggers {
            http: o.required("http", boolean)?,
            message: o.optional("message", list(None, subscription))?,
            persistent: o.optional("persistent", boolean)?,
        };
        o.finish()?;
        Ok(t)
    }
}

fn subscription(v: &Value, p: &str) -> R<Map<String, Value>> {
    let m = v.as_object().ok_or_else(|| super::reader::wrong(p, "an object"))?;
    if m.len() > MAX_SUBSCRIPTION_ENTRIES {
        return Err(invalid(
            p,
            format!("subscription has {} entries, maximum allowed is {MAX_SUBSCRIPTION_ENTRIES}", m.len()),
        ));
    }
    Ok(m.clone())
}

impl ProgramContent {
    /// Validates `v` against the PROGRAM schema.
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let base = ExecutableBase::parse(&mut o, ProgramEnvironment::parse)?;
        o.required("type", literal("vm-function", "\"vm-function\""))?;
        let code = o.required("code", CodeContent::parse)?;
        let runtime = o.required("runtime", FunctionRuntime::parse)?;
        let data = o.optional("data", DataContent::parse)?;
        let export = o.optional("export", Export::parse)?;
        let on = o.required("on", FunctionTriggers::parse)?;
        o.finish()?;
        Ok(ProgramContent { base, machine_type: MachineType::VmFunction, code, runtime, data, export, on })
    }

    /// Whether the program is kept running (`on.persistent` truthy) rather than on demand.
    pub fn is_persistent(&self) -> bool {
        self.on.persistent == Some(true)
    }

    /// The effective payment type (`hold` when absent).
    pub fn payment_type(&self) -> PaymentType {
        self.base.payment_type()
    }
}
