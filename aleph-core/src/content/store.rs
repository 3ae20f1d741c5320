//! STORE content (§5.3): a reference to a file in the node-native store or on IPFS.

use serde::Serialize;
use serde_json::{Map, Value};

use super::payment::{Payment, PaymentType};
use super::reader::{int_in, invalid, item_hash, object, string, wire, Extra, Obj};
use super::{base, skip_none, ContentError};
use crate::item_hash::ItemHash;
use crate::message::ItemType;

/// STORE content (`StoreContent`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreContent {
    /// The owner.
    pub address: String,
    /// The signed time.
    pub time: f64,
    /// Where the file lives: `storage` or `ipfs`, matching `item_hash`.
    pub item_type: ItemType,
    /// The file's sha256 or CID.
    pub item_hash: ItemHash,
    /// Informational size (nodes compute the real one).
    #[serde(skip_serializing_if = "skip_none")]
    pub size: Option<i128>,
    /// MIME hint.
    #[serde(skip_serializing_if = "skip_none")]
    pub content_type: Option<String>,
    /// An earlier STORE's item hash (a revision of that file) or a user-defined name.
    #[serde(rename = "ref", skip_serializing_if = "skip_none")]
    pub reference: Option<String>,
    /// Free-form metadata.
    #[serde(skip_serializing_if = "skip_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Payment (`hold` or `credit`; absent means `hold`).
    #[serde(skip_serializing_if = "skip_none")]
    pub payment: Option<Payment>,
}

impl StoreContent {
    /// Validates `v` against the STORE schema.
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Ignore)?;
        let (address, time) = base(&mut o)?;
        let item_type = o.required("item_type", wire::<ItemType>("one of inline, storage, ipfs"))?;
        let hash = o.required("item_hash", item_hash)?;
        let size = o.optional("size", int_in::<i128>(i128::MIN, i128::MAX))?;
        let content_type = o.optional("content_type", string)?;
        let reference = o.optional("ref", string)?;
        let metadata = o.optional("metadata", object)?;
        let payment = o.optional("payment", Payment::parse)?;
        o.finish()?;
        if let Some(p) = &payment {
            if !matches!(p.payment_type, PaymentType::Hold | PaymentType::Credit) {
                return Err(invalid(
                    "payment",
                    "only 'hold' and 'credit' payment types are supported for store messages",
                ));
            }
        }
        if hash.item_type() != item_type {
            return Err(invalid(
                "item_type",
                format!("item hash '{hash}' is not of the expected type ('{item_type}')"),
            ));
        }
        Ok(StoreContent {
            address,
            time,
            item_type,
            item_hash: hash,
            size,
            content_type,
            reference,
            metadata,
            payment,
        })
    }

    /// The effective payment type (`hold` when absent).
    pub fn payment_type(&self) -> PaymentType {
        Payment::type_of(self.payment.as_ref())
    }

    /// Whether `ref` names an earlier STORE (it has the shape of an item hash) rather than a
    /// user-defined name.
    pub fn ref_is_hash(&self) -> bool {
        self.reference.as_deref().is_some_and(ItemHash::is_valid)
    }

    /// The file tag this STORE updates (§6.10): its own item hash without `ref`; `ref` itself
    /// when it is an item hash; `address/ref` otherwise.
    pub fn file_tag(&self, message_item_hash: &ItemHash) -> String {
        match self.reference.as_deref() {
            None => message_item_hash.to_string(),
            Some(r) if ItemHash::is_valid(r) => r.to_owned(),
            Some(r) => format!("{}/{}", self.address, r),
        }
    }
}
