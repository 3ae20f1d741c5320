//! Which balance must cover a new resource: the cutoffs by time and height, the payment
//! methods allowed, and the verdicts of errors 5 and 6.

use rust_decimal::Decimal;

use super::{
    floor_cost, python_decimal_str, Costs, CREDIT_ONLY_CUTOFF_TIMESTAMP, DAY,
    HOLD_AND_STREAM_CUTOFF_TIMESTAMP, MIB, MIN_RUNTIME_DAYS, STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT,
    STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP,
};
use crate::content::{Content, PaymentType};
use crate::validate::{ErrorList, ProcessingError};

/// When a message was sent, for the cutoffs: the envelope `time` and, for a message confirmed on
/// chain, the height of its first confirmation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageTiming {
    /// The envelope time (unsigned).
    pub time: f64,
    /// The first confirmation's height, if confirmed.
    pub first_confirmation_height: Option<u64>,
}

impl MessageTiming {
    /// An unconfirmed message sent at `time`.
    pub fn at(time: f64) -> Self {
        MessageTiming { time, first_confirmation_height: None }
    }
}

/// Whether STOREs and on-demand PROGRAMs are still free for this message: confirmed before block
/// [`STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT`], or (unconfirmed) sent before
/// [`STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP`].
pub fn are_store_and_program_free(timing: &MessageTiming) -> bool {
    match timing.first_confirmation_height {
        Some(h) => h < STORE_AND_PROGRAM_COST_CUTOFF_HEIGHT,
        None => timing.time < STORE_AND_PROGRAM_COST_CUTOFF_TIMESTAMP,
    }
}

/// Whether every paid resource must use credits ([`CREDIT_ONLY_CUTOFF_TIMESTAMP`]).
pub fn is_credit_only_required(time: f64) -> bool {
    time >= CREDIT_ONLY_CUTOFF_TIMESTAMP
}

/// Whether INSTANCEs and persistent PROGRAMs must use credits ([`HOLD_AND_STREAM_CUTOFF_TIMESTAMP`]).
pub fn is_hold_and_stream_deprecated(time: f64) -> bool {
    time >= HOLD_AND_STREAM_CUTOFF_TIMESTAMP
}

/// What must cover a new resource's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BalanceCheck {
    /// Nothing: the resource is free (or the message type has no cost). Costs are still recorded.
    Free,
    /// Nothing at processing time: a PAYG stream, whose cost is only recorded.
    StreamRecorded,
    /// The token balance must cover the held costs plus `cost` tokens ([`check_hold_balance`]).
    Hold {
        /// The new resource's hold cost.
        cost: Decimal,
    },
    /// The token balance must cover the streamed costs plus `cost` tokens/s (a STORE declaring
    /// a stream, which its schema forbids; kept for parity with the reference).
    Stream {
        /// The new resource's stream cost.
        cost: Decimal,
    },
    /// The credit balance must cover one day of credit costs including `cost_per_second`
    /// ([`check_credit_balance`]).
    Credit {
        /// The new resource's credit cost, per second.
        cost_per_second: Decimal,
    },
}

fn invalid_payment() -> ProcessingError {
    ProcessingError::InvalidPaymentMethod(ErrorList::none())
}

/// Decides, in the reference's order, whether a resource is free, which balance must cover it,
/// or that its payment method is refused (202):
///
/// * STORE: free before the cost cutoff; after [`CREDIT_ONLY_CUTOFF_TIMESTAMP`] only `credit`;
///   `hold` files up to `free_store_max_bytes` (25 MiB) are free; else its payment's balance.
/// * PROGRAM / INSTANCE: on-demand programs are free before the cost cutoff; only `credit`
///   after [`CREDIT_ONLY_CUTOFF_TIMESTAMP`], and for instances and persistent programs after
///   [`HOLD_AND_STREAM_CUTOFF_TIMESTAMP`]; streams are recorded, not checked.
/// * V-PROGRAM: only `credit`.
/// * Other types: free.
pub fn balance_check(
    content: &Content,
    costs: &Costs,
    timing: &MessageTiming,
    free_store_max_bytes: u64,
) -> Result<BalanceCheck, ProcessingError> {
    let total = || costs.total().map_err(|e| ProcessingError::internal(e.to_string()));
    match content {
        Content::Store(s) => {
            if are_store_and_program_free(timing) {
                return Ok(BalanceCheck::Free);
            }
            let payment = s.payment_type();
            if is_credit_only_required(timing.time) && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            let free_max = Decimal::from(free_store_max_bytes) / Decimal::from(MIB);
            if payment == PaymentType::Hold
                && costs.storage_size_mib.is_some_and(|s| !s.is_zero() && s <= free_max)
            {
                return Ok(BalanceCheck::Free);
            }
            Ok(match payment {
                PaymentType::Credit => BalanceCheck::Credit { cost_per_second: total()? },
                PaymentType::Superfluid => BalanceCheck::Stream { cost: total()? },
                _ => BalanceCheck::Hold { cost: total()? },
            })
        }
        Content::Program(_) | Content::Instance(_) => {
            let (payment, on_demand) = match content {
                Content::Program(p) => (p.payment_type(), !p.is_persistent()),
                Content::Instance(i) => (i.payment_type(), false),
                _ => (PaymentType::Hold, false),
            };
            if on_demand && are_store_and_program_free(timing) {
                return Ok(BalanceCheck::Free);
            }
            if is_credit_only_required(timing.time) && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            if is_hold_and_stream_deprecated(timing.time) && !on_demand && payment != PaymentType::Credit {
                return Err(invalid_payment());
            }
            Ok(match payment {
                PaymentType::Superfluid => BalanceCheck::StreamRecorded,
                PaymentType::Credit => BalanceCheck::Credit { cost_per_second: total()? },
                _ => BalanceCheck::Hold { cost: total()? },
            })
        }
        Content::VProgram(v) => {
            if !v.payment.is_credit() {
                return Err(invalid_payment());
            }
            Ok(BalanceCheck::Credit { cost_per_second: total()? })
        }
        _ => Ok(BalanceCheck::Free),
    }
}

/// The hold (or stream) verdict: `balance` must be at least the owner's existing costs
/// (`existing`, summed over their resources of the same payment type) plus `cost`; else error 5
/// with both amounts written as the reference writes them.
pub fn check_hold_balance(balance: Decimal, existing: Decimal, cost: Decimal) -> Result<(), ProcessingError> {
    let required = floor_cost(existing)
        .checked_add(floor_cost(cost))
        .ok_or_else(|| ProcessingError::internal("cost overflow"))?;
    if balance < required {
        return Err(ProcessingError::BalanceInsufficient {
            required_balance: python_decimal_str(required),
            account_balance: python_decimal_str(balance),
        });
    }
    Ok(())
}

/// The credit verdict: `credits` must cover [`MIN_RUNTIME_DAYS`] day of the owner's existing
/// credit costs (`existing_per_second`) plus `cost_per_second`; else error 6.
pub fn check_credit_balance(
    credits: i64,
    existing_per_second: Decimal,
    cost_per_second: Decimal,
) -> Result<(), ProcessingError> {
    let overflow = || ProcessingError::internal("cost overflow");
    let per_second =
        floor_cost(existing_per_second).checked_add(floor_cost(cost_per_second)).ok_or_else(overflow)?;
    let required = per_second.checked_mul(Decimal::from(DAY)).ok_or_else(overflow)?;
    if Decimal::from(credits) < required {
        return Err(ProcessingError::CreditInsufficient {
            required_credits: python_decimal_str(required),
            account_credits: credits.to_string(),
            min_runtime_days: MIN_RUNTIME_DAYS,
        });
    }
    Ok(())
}
