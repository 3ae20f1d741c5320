//! FORGET content (§5.9): removes earlier messages, or whole aggregates of the sender's owner.

use serde::Serialize;
use serde_json::Value;

use super::reader::{item_hash, list, string_max, Extra, Obj};
use super::{base, skip_none, ContentError};
use crate::item_hash::ItemHash;

/// The most targets of each kind one FORGET may name.
pub const MAX_FORGET_TARGETS: usize = 1000;
/// The longest `reason`, in characters.
pub const MAX_FORGET_REASON_LENGTH: usize = 1000;

/// FORGET content (`ForgetContent`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForgetContent {
    /// The FORGET's owner (also the owner of the aggregates it names).
    pub address: String,
    /// The signed time.
    pub time: f64,
    /// Item hashes of the messages to forget (required, may be empty; ≤ 1000).
    pub hashes: Vec<ItemHash>,
    /// Keys of `address`'s aggregates to forget (≤ 1000). Typed as item hashes by the reference,
    /// so only keys shaped like a hash validate.
    pub aggregates: Vec<ItemHash>,
    /// Why (≤ 1000 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub reason: Option<String>,
}

impl ForgetContent {
    /// Validates `v` against the FORGET schema. Both lists empty is valid here: the reference
    /// rejects it later, as a dependency error (500).
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let (address, time) = base(&mut o)?;
        let f = ForgetContent {
            address,
            time,
            hashes: o.required("hashes", list(Some(MAX_FORGET_TARGETS), item_hash))?,
            aggregates: o.or_default("aggregates", Vec::new(), list(Some(MAX_FORGET_TARGETS), item_hash))?,
            reason: o.optional("reason", string_max(MAX_FORGET_REASON_LENGTH))?,
        };
        o.finish()?;
        Ok(f)
    }

    /// Whether the FORGET names nothing at all (error 500 at processing).
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty() && self.aggregates.is_empty()
    }
}
