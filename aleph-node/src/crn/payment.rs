//! Whether a program's owner still pays for it, checked at start and by the monitor.
//!
//! The CCN is authoritative: it only processes a PROGRAM its owner covers, and marks messages
//! `removing` when a balance falls short. The CRN re-reads the owner's balance: with `hold`
//! payment the balance must cover everything the owner's messages hold (`locked_amount`), with
//! `credit` payment the credit balance must be positive. Superfluid streams are checked on chain
//! by the reference; this CRN has no chain access and relies on the CCN's verdict for them.

use aleph_core::content::PaymentType;
use serde_json::Value;

use super::ccn::CcnClient;
use super::program::ProgramSpec;
use super::CrnError;

/// The reference's tolerance (`PAYMENT_BUFFER`).
const BUFFER: f64 = 1e-10;

/// `Ok` when `spec`'s owner covers it.
pub(crate) async fn check(ccn: &CcnClient, spec: &ProgramSpec) -> Result<(), CrnError> {
    check_owner(ccn, &spec.owner, spec.payment_type(), &spec.item_hash).await
}

/// `Ok` when `owner` covers the VM `item_hash` paid with `payment`.
pub(crate) async fn check_owner(
    ccn: &CcnClient,
    owner: &str,
    payment: PaymentType,
    item_hash: &str,
) -> Result<(), CrnError> {
    if payment == PaymentType::Superfluid {
        return Ok(());
    }
    let balance = ccn.balance(owner).await?;
    let number = |key: &str| balance.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    if payment == PaymentType::Credit {
        let credits = number("credit_balance");
        if credits <= 0.0 {
            return Err(CrnError::PaymentRequired(format!("{owner} has no credits left to run {item_hash}")));
        }
        return Ok(());
    }
    let (held, locked) = (number("balance"), number("locked_amount"));
    if held + BUFFER < locked {
        return Err(CrnError::PaymentRequired(format!(
            "the balance of {owner} ({held} ALEPH) does not cover the {locked} ALEPH its messages hold"
        )));
    }
    Ok(())
}
