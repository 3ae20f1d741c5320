//! Balances: ALEPH per (address, chain, dapp), credits from the credit history, and the costs
//! recorded for paid resources (`account_costs`).
//!
//! ALEPH amounts are stored as decimal text (as `balances-update` posts wrote them) and summed
//! here as exact decimals; a stored amount that does not parse counts as zero.

use aleph_core::cost::{parse_decimal, Decimal};
use rusqlite::{Connection, OptionalExtension};

use super::StorageError;

mod costs;
mod credit_history;
mod credits;
mod tokens;

pub(crate) use costs::{
    cost_sum, cost_summary, message_costs, record_costs, resources_with_costs, CostFilter,
};
pub(crate) use credit_history::{
    credit_history, credit_history_summary, CreditCursor, CreditDirection, CreditEntry, CreditHistoryFilter,
    CreditSort,
};
pub(crate) use credits::{
    consumed_credits, count_credit_balances, credit_balance, credit_balance_details, list_credit_balances,
};
pub(crate) use tokens::{
    count_balances, detailed_balance, list_balances, total_balance, BalanceFilter, BalanceRow,
};

fn decimal_of(text: &str) -> Decimal {
    parse_decimal(text).unwrap_or_else(|| {
        tracing::warn!(amount = text, "unreadable stored balance, counted as 0");
        Decimal::ZERO
    })
}

fn sum_texts(texts: impl IntoIterator<Item = String>) -> Decimal {
    texts.into_iter().fold(Decimal::ZERO, |acc, t| acc.checked_add(decimal_of(&t)).unwrap_or(acc))
}

/// The first confirmation height of a message, if it is confirmed.
pub(crate) fn first_confirmation_height(
    conn: &Connection,
    item_hash: &str,
) -> Result<Option<u64>, StorageError> {
    let h: Option<i64> = conn
        .prepare_cached("SELECT height FROM confirmations WHERE item_hash = ?1 ORDER BY rowid LIMIT 1")?
        .query_row([item_hash], |r| r.get(0))
        .optional()?;
    Ok(h.map(|h| h.max(0) as u64))
}

/// A fresh in-memory database with the node's schema, for the parts' unit tests.
#[cfg(test)]
fn test_db() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    conn.execute_batch(include_str!("../schema.sql")).expect("schema");
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_amounts_read_as_exact_decimals_or_zero() {
        assert_eq!(decimal_of("1.5"), Decimal::new(15, 1));
        assert_eq!(decimal_of("not a number"), Decimal::ZERO);
        assert_eq!(sum_texts(["0.1".to_owned(), "0.2".to_owned(), "x".to_owned()]), Decimal::new(3, 1));
    }

    #[test]
    fn the_first_confirmation_is_the_earliest_recorded() {
        let c = test_db();
        assert_eq!(first_confirmation_height(&c, "h").unwrap(), None);
        for (hash, height) in [("t1", 7), ("t2", 3)] {
            c.execute(
                "INSERT INTO confirmations (item_hash, chain, height, hash) VALUES ('h', 'ETH', ?1, ?2)",
                rusqlite::params![height, hash],
            )
            .unwrap();
        }
        assert_eq!(first_confirmation_height(&c, "h").unwrap(), Some(7));
    }
}
