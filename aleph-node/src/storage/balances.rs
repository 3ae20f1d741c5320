//! Balances: ALEPH per (address, chain, dapp), and credits from the credit history.

use rusqlite::Connection;

use super::StorageError;

/// The credits of `address` at time `at`: every grant and expense not expired by then.
pub fn credit_balance(conn: &Connection, address: &str, at: f64) -> Result<i64, StorageError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_history
         WHERE address = ?1 AND (expiration_date IS NULL OR expiration_date > ?2)",
        rusqlite::params![address, at],
        |r| r.get(0),
    )?)
}
