//! How a STORE, PROGRAM, INSTANCE or V-PROGRAM is paid for (§5.8).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::reader::{string, wire, Extra, Obj, R};
use super::skip_none;
use crate::chain::Chain;

/// The payment model of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaymentType {
    /// `hold`: ALEPH tokens are held (the default when no payment is given).
    Hold,
    /// `superfluid`: pay-as-you-go token stream (executables only).
    Superfluid,
    /// `credit`: prepaid off-chain credits.
    Credit,
}

impl PaymentType {
    /// The wire string.
    pub const fn as_str(&self) -> &'static str {
        match self {
            PaymentType::Hold => "hold",
            PaymentType::Superfluid => "superfluid",
            PaymentType::Credit => "credit",
        }
    }
}

impl FromStr for PaymentType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "hold" => Ok(PaymentType::Hold),
            "superfluid" => Ok(PaymentType::Superfluid),
            "credit" => Ok(PaymentType::Credit),
            _ => Err(()),
        }
    }
}

impl fmt::Display for PaymentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PaymentType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Payment details (`extra = ignore`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    /// The chain where the funds or the stream live.
    #[serde(skip_serializing_if = "skip_none")]
    pub chain: Option<Chain>,
    /// The stream's recipient (the CRN's reward address).
    #[serde(skip_serializing_if = "skip_none")]
    pub receiver: Option<String>,
    /// The payment model.
    #[serde(rename = "type")]
    pub payment_type: PaymentType,
}

impl Payment {
    pub(super) fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let p = Payment {
            chain: o.optional("chain", wire::<Chain>("a chain code"))?,
            receiver: o.optional("receiver", string)?,
            payment_type: o.required("type", wire::<PaymentType>("one of hold, superfluid, credit"))?,
        };
        o.finish()?;
        Ok(p)
    }

    /// The effective payment type of an optional payment: absent means `hold`.
    pub fn type_of(payment: Option<&Payment>) -> PaymentType {
        payment.map_or(PaymentType::Hold, |p| p.payment_type)
    }

    /// Whether this is a pay-as-you-go stream.
    pub fn is_stream(&self) -> bool {
        self.payment_type == PaymentType::Superfluid
    }

    /// Whether this is paid with credits.
    pub fn is_credit(&self) -> bool {
        self.payment_type == PaymentType::Credit
    }
}
