//! Typed message contents: the documents `item_content` (or the stored file) holds, one type per
//! message type, with the reference schemas of MESSAGES.md §5 (aleph-message's pydantic models as
//! pyaleph validates them).
//!
//! [`Content::parse`] validates a parsed JSON value against the schema of a message type and
//! returns the typed content or a [`ContentError`] naming the offending field. Validation follows
//! the reference model by model:
//!
//! * required fields, defaults, numeric bounds and length caps as in §5;
//! * `extra = "forbid"` models (base content, POST, AGGREGATE, FORGET, executables, volumes,
//!   triggers, host requirements…) refuse unknown keys; `extra = "ignore"` models (STORE, payment,
//!   resources, environments, code/runtime/data…) drop them;
//! * the reference's lax scalar conversions (`"10"` or `10.0` for an integer, `1` or `"yes"` for a
//!   boolean), except where §7.14 makes integers strict (volume and rootfs `size_mib`);
//! * item-hash typed fields accept only the hash shapes of [`ItemHash`](crate::ItemHash);
//! * the model-level rules: POST amend needs a non-empty `ref`; STORE `item_type` must match its
//!   `item_hash` and its payment cannot be `superfluid`; PROGRAM `environment` and volumes resolve
//!   their unions in the reference's order (§5.7); INSTANCE cross-field requirements; FORGET caps.
//!
//! Typed contents do not keep unknown keys: the node stores the raw parsed JSON it validated
//! (§3.6 step 6), see [`crate::validate::DecodedContent`].
//!
//! # Renderings
//!
//! * `serde::Serialize` (and [`Content::to_json`]) writes the model's fields in model order,
//!   leaving out those that are `None`: the Python SDK's `model_dump(exclude_none=True)`, what a
//!   client puts in `item_content`. Parsing that output gives the same typed value back.
//! * [`Content::to_model_json`] writes every field, `null`s included, in model order: the
//!   `content` of the reference node's single-message endpoint (§2.4(b)).
//!
//! # Deviations from the reference node
//!
//! * STORE `item_type` not matching the shape of `item_hash` is a schema error here. The
//!   reference detects it later, when fetching the file (also error 0), so a message that is both
//!   unauthorized and mismatched is rejected with 0 here and 2 there.
//! * Content `time` must be a JSON number. The reference's model also takes booleans and numeric
//!   strings, then fails on strings with an internal error (retried, then rejected) and accepts
//!   booleans; here both are refused at once.
//! * Lax integers are read within the 128-bit range; the reference takes decimal strings of any
//!   length. Lax floats (a POST `ref` object's `time`) must be finite.
//! * `address_regex` is checked with a re-implementation of Python's `re` parser (see
//!   `pyregex.rs`); look-behinds are not checked for fixed width.
//! * Free-form objects (POST and AGGREGATE `content`, `metadata`, subscriptions, `variables`) are
//!   held as `serde_json` maps, which sort their keys: renderings list those keys sorted where the
//!   reference keeps their input order. Model fields are always in model order.
//! * The compact rendering departs from `model_dump(exclude_none=True)` in three places, so that
//!   parsing it gives the same value back: a PROGRAM `data.use_latest` is always written (an
//!   explicit `null` differs from the `false` default); a PROGRAM environment of the instance
//!   form always writes `hypervisor` (else it would parse as the function form); and default
//!   `trusted_execution` settings without `qemu` (only reachable through `{}`) are written `{}`.
//! * V-PROGRAM: the reference model (`VerifiableProgramContent`) is not in the snapshot this was
//!   written from; its schema here is inferred from §5.10 and pyaleph's use of it (see
//!   [`VProgramContent`]).

use std::cell::Cell;

use serde::Serialize;
use serde_json::Value;

/// A minimal wire-string enumeration: `as_str`, `FromStr`, `Display`, `Serialize`.
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            /// The wire string.
            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $($code => Ok($name::$variant),)*
                    _ => Err(()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

mod aggregate;
mod executable;
mod forget;
mod instance;
mod payment;
mod post;
mod program;
mod pyregex;
mod reader;
mod store;
mod volume;
mod vprogram;

pub use aggregate::{AggregateContent, AggregateKey, SECURITY_KEY};
pub use executable::{
    CpuArchitecture, CpuProperties, ExecutableBase, FunctionEnvironment, GpuDeviceClass, GpuProperties,
    HostRequirements, HypervisorType, InstanceEnvironment, MachineResources, NetworkProtocol,
    NodeRequirements, PublishedPort, TrustedExecutionEnvironment,
};
pub use forget::{ForgetContent, MAX_FORGET_REASON_LENGTH, MAX_FORGET_TARGETS};
pub use instance::{InstanceContent, RootfsVolume};
pub use payment::{Payment, PaymentType};
pub use post::{ChainRef, PostContent, PostRef, AMEND};
pub use program::{
    CodeContent, DataContent, Encoding, Export, FunctionRuntime, FunctionTriggers, Interface, MachineType,
    ProgramContent, ProgramEnvironment,
};
pub use store::StoreContent;
pub use volume::{
    EphemeralVolume, ImmutableVolume, MachineVolume, ParentVolume, PersistentVolume, VolumePersistence,
    MAX_EPHEMERAL_SIZE_MIB, MAX_PERSISTENT_SIZE_MIB,
};
pub use vprogram::{
    Measurement, VProgramContent, VProgramEnvironment, VProgramRuntime, Verification, VerifiedVolume,
    Workload,
};

use crate::message::MessageType;
use reader::{number, string, Obj, R};

/// The largest content `time` the reference accepts (year 2262).
pub const MAX_CONTENT_TIME: f64 = 9_223_372_036.0;

/// Why a content document does not validate against its schema. `path` is the dotted location of
/// the offending value (`volumes.0.size_mib`); empty for the document itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// A required field is absent.
    #[error("{}: field required", at(.path))]
    Missing {
        /// Where.
        path: String,
    },
    /// A key the model forbids.
    #[error("{}: extra fields not permitted", at(.path))]
    Unexpected {
        /// Where.
        path: String,
    },
    /// A value of the wrong JSON type or not one of the allowed values.
    #[error("{}: expected {expected}", at(.path))]
    WrongType {
        /// Where.
        path: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value of the right type that breaks a rule (bound, length, cross-field rule…).
    #[error("{}: {reason}", at(.path))]
    Invalid {
        /// Where.
        path: String,
        /// The rule broken.
        reason: String,
    },
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "content"
    } else {
        path
    }
}

impl ContentError {
    /// The dotted location of the offending value (empty for the document itself).
    pub fn path(&self) -> &str {
        match self {
            ContentError::Missing { path }
            | ContentError::Unexpected { path }
            | ContentError::WrongType { path, .. }
            | ContentError::Invalid { path, .. } => path,
        }
    }
}

thread_local! {
    /// Set while rendering the model form, where `None` fields are written as `null`.
    static WITH_NULLS: Cell<bool> = const { Cell::new(false) };
}

/// `skip_serializing_if` for optional model fields: left out, except in the model rendering.
pub(crate) fn skip_none<T>(v: &Option<T>) -> bool {
    v.is_none() && !WITH_NULLS.with(Cell::get)
}

/// Whether the model rendering (nulls written) is in progress.
pub(crate) fn rendering_nulls() -> bool {
    WITH_NULLS.with(Cell::get)
}

/// Serializes `v` compactly with every `None` model field written as `null`.
fn render_with_nulls<T: Serialize + ?Sized>(v: &T) -> String {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WITH_NULLS.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(WITH_NULLS.with(|c| c.replace(true)));
    render(v)
}

fn render<T: Serialize + ?Sized>(v: &T) -> String {
    // Our types only hold string-keyed maps and finite numbers: serialization cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| String::from("null"))
}

/// The two fields every content has (`BaseContent`, §5.0).
fn base(o: &mut Obj<'_>) -> R<(String, f64)> {
    let address = o.required("address", string)?;
    let time = o.required("time", content_time)?;
    Ok((address, time))
}

/// A content time: a number in `0..=MAX_CONTENT_TIME`.
fn content_time(v: &Value, p: &str) -> R<f64> {
    let t = number(v, p)?;
    if !(0.0..=MAX_CONTENT_TIME).contains(&t) {
        return Err(reader::invalid(p, format!("must be between 0 and {MAX_CONTENT_TIME}, got {t}")));
    }
    Ok(t)
}

/// Implements `Deserialize` through `parse`, and the two renderings.
macro_rules! content_impls {
    ($($t:ident),*) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = Value::deserialize(d)?;
                $t::parse(&v).map_err(serde::de::Error::custom)
            }
        }

        impl $t {
            /// Compact JSON leaving out `None` fields (what a client puts in `item_content`).
            pub fn to_json(&self) -> String {
                render(self)
            }

            /// Compact JSON with every field, `null`s included, in model order (§2.4(b)).
            pub fn to_model_json(&self) -> String {
                render_with_nulls(self)
            }
        }
    )*};
}

content_impls!(
    PostContent,
    AggregateContent,
    StoreContent,
    ProgramContent,
    InstanceContent,
    ForgetContent,
    VProgramContent
);

/// A validated content document of any message type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Content {
    /// POST content.
    Post(PostContent),
    /// AGGREGATE content.
    Aggregate(AggregateContent),
    /// STORE content.
    Store(StoreContent),
    /// PROGRAM content.
    Program(Box<ProgramContent>),
    /// INSTANCE content.
    Instance(Box<InstanceContent>),
    /// FORGET content.
    Forget(ForgetContent),
    /// V-PROGRAM content.
    VProgram(Box<VProgramContent>),
}

impl Content {
    /// Validates `value` against the content schema of `message_type`.
    pub fn parse(message_type: MessageType, value: &Value) -> Result<Content, ContentError> {
        Ok(match message_type {
            MessageType::Post => Content::Post(PostContent::parse(value)?),
            MessageType::Aggregate => Content::Aggregate(AggregateContent::parse(value)?),
            MessageType::Store => Content::Store(StoreContent::parse(value)?),
            MessageType::Program => Content::Program(Box::new(ProgramContent::parse(value)?)),
            MessageType::Instance => Content::Instance(Box::new(InstanceContent::parse(value)?)),
            MessageType::Forget => Content::Forget(ForgetContent::parse(value)?),
            MessageType::VProgram => Content::VProgram(Box::new(VProgramContent::parse(value)?)),
        })
    }

    /// The message type this content belongs to.
    pub fn message_type(&self) -> MessageType {
        match self {
            Content::Post(_) => MessageType::Post,
            Content::Aggregate(_) => MessageType::Aggregate,
            Content::Store(_) => MessageType::Store,
            Content::Program(_) => MessageType::Program,
            Content::Instance(_) => MessageType::Instance,
            Content::Forget(_) => MessageType::Forget,
            Content::VProgram(_) => MessageType::VProgram,
        }
    }

    /// `content.address`: the owner the message acts for.
    pub fn address(&self) -> &str {
        match self {
            Content::Post(c) => &c.address,
            Content::Aggregate(c) => &c.address,
            Content::Store(c) => &c.address,
            Content::Program(c) => &c.base.address,
            Content::Instance(c) => &c.base.address,
            Content::Forget(c) => &c.address,
            Content::VProgram(c) => &c.address,
        }
    }

    /// `content.time`: the signed time, in float seconds.
    pub fn time(&self) -> f64 {
        match self {
            Content::Post(c) => c.time,
            Content::Aggregate(c) => c.time,
            Content::Store(c) => c.time,
            Content::Program(c) => c.base.time,
            Content::Instance(c) => c.base.time,
            Content::Forget(c) => c.time,
            Content::VProgram(c) => c.time,
        }
    }

    /// The payment of a paid resource (STORE, PROGRAM, INSTANCE, V-PROGRAM), when given.
    pub fn payment(&self) -> Option<&Payment> {
        match self {
            Content::Store(c) => c.payment.as_ref(),
            Content::Program(c) => c.base.payment.as_ref(),
            Content::Instance(c) => c.base.payment.as_ref(),
            Content::VProgram(c) => Some(&c.payment),
            Content::Post(_) | Content::Aggregate(_) | Content::Forget(_) => None,
        }
    }

    /// Compact JSON leaving out `None` fields (what a client puts in `item_content`).
    pub fn to_json(&self) -> String {
        render(self)
    }

    /// Compact JSON with every model field, defaults and `null`s materialised, in model field
    /// order: the `content` of the reference node's single-message endpoint (§2.4(b)).
    pub fn to_model_json(&self) -> String {
        render_with_nulls(self)
    }
}

#[cfg(test)]
mod tests;
