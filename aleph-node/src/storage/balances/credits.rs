//! Credit balances: the sums of the credit history still valid at a time, per address, per
//! expiry lot, and the credits consumed by resources.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};

use crate::storage::StorageError;

/// The credits of `address` at time `at`: every grant and expense not expired by then.
pub(crate) fn credit_balance(conn: &Connection, address: &str, at: f64) -> Result<i64, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(amount), 0) FROM credit_history
         WHERE address = ?1 AND (expiration_date IS NULL OR expiration_date > ?2)",
        )?
        .query_row(rusqlite::params![address, at], |r| r.get(0))?)
}

/// Credit balances at time `at`, per address, of at least `min_balance`, ordered by address: a
/// page (`offset`, `limit`; 0 = all) or those after `after_address`. Negative sums read as 0.
pub(crate) fn list_credit_balances(
    conn: &Connection,
    at: f64,
    min_balance: i64,
    after_address: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<(String, i64)>, StorageError> {
    let mut sql = String::from(
        "SELECT address, MAX(0, COALESCE(SUM(CASE WHEN expiration_date IS NULL OR expiration_date > ?1 THEN amount ELSE 0 END), 0)) AS credits
         FROM credit_history",
    );
    let mut args: Vec<SqlValue> = vec![SqlValue::Real(at)];
    if let Some(after) = after_address {
        sql.push_str(" WHERE address > ?2");
        args.push(SqlValue::Text(after.to_owned()));
    }
    sql.push_str(&format!(" GROUP BY address HAVING credits >= {min_balance} ORDER BY address ASC"));
    if limit > 0 {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many addresses have a credit balance of at least `min_balance` at `at`.
pub(crate) fn count_credit_balances(
    conn: &Connection,
    at: f64,
    min_balance: i64,
) -> Result<u64, StorageError> {
    let n: i64 = conn.prepare_cached("SELECT COUNT(*) FROM (
            SELECT MAX(0, COALESCE(SUM(CASE WHEN expiration_date IS NULL OR expiration_date > ?1 THEN amount ELSE 0 END), 0)) AS credits
            FROM credit_history GROUP BY address HAVING credits >= ?2)")?.query_row(params![at, min_balance],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// The credits of `address` still valid at `at`, per expiration date (`None`: never expires),
/// non-expiring first then by date: grants are spent in the order they were given (FIFO), each
/// expense drawing on the grants given before it and still valid when it happened.
pub(crate) fn credit_balance_details(
    conn: &Connection,
    address: &str,
    at: f64,
) -> Result<Vec<(Option<f64>, i64)>, StorageError> {
    struct Lot {
        granted: f64,
        expires: Option<f64>,
        left: i64,
    }
    let mut stmt = conn.prepare_cached(
        "SELECT amount, expiration_date, message_timestamp FROM credit_history WHERE address = ?1
         ORDER BY message_timestamp, credit_ref, credit_index",
    )?;
    let entries = stmt
        .query_map([address], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<f64>>(1)?, r.get::<_, f64>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut lots: Vec<Lot> = Vec::new();
    for (amount, expires, time) in entries {
        if amount > 0 {
            lots.push(Lot { granted: time, expires, left: amount });
            continue;
        }
        let mut due = amount.saturating_neg();
        for lot in lots.iter_mut().filter(|l| l.granted <= time && l.expires.is_none_or(|e| e > time)) {
            if due <= 0 {
                break;
            }
            let take = lot.left.min(due);
            lot.left -= take;
            due -= take;
        }
    }
    let mut by_expiry: Vec<(Option<f64>, i64)> = Vec::new();
    for lot in lots.iter().filter(|l| l.left > 0 && l.expires.is_none_or(|e| e > at)) {
        match by_expiry.iter_mut().find(|(e, _)| *e == lot.expires) {
            Some((_, n)) => *n = n.saturating_add(lot.left),
            None => by_expiry.push((lot.expires, lot.left)),
        }
    }
    by_expiry.sort_by(|a, b| match (a.0, b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    });
    Ok(by_expiry)
}

/// Credits consumed (`credit_expense` entries, absolute amounts), by `address` and/or by the
/// resource an expense names (`origin`, else `origin_ref`).
pub(crate) fn consumed_credits(
    conn: &Connection,
    address: Option<&str>,
    item_hash: Option<&str>,
) -> Result<i64, StorageError> {
    let mut sql = String::from(
        "SELECT COALESCE(SUM(ABS(amount)), 0) FROM credit_history WHERE payment_method = 'credit_expense'",
    );
    let mut args = Vec::new();
    if let Some(a) = address.filter(|a| !a.is_empty()) {
        sql.push_str(" AND address = ?");
        args.push(SqlValue::Text(a.to_owned()));
    }
    if let Some(h) = item_hash.filter(|h| !h.is_empty()) {
        sql.push_str(" AND COALESCE(NULLIF(origin, ''), origin_ref) = ?");
        args.push(SqlValue::Text(h.to_owned()));
    }
    Ok(conn.query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grants and expenses: (address, amount, expiration, time, ref, method, origin).
    fn seeded() -> Connection {
        let c = super::super::test_db();
        type Row<'a> = (&'a str, i64, Option<f64>, f64, &'a str, Option<&'a str>, Option<&'a str>);
        let rows: [Row<'_>; 5] = [
            ("0xa", 500, None, 100.0, "g1", Some("card"), None),
            ("0xa", 300, Some(1000.0), 200.0, "g2", Some("card"), None),
            ("0xa", -600, None, 300.0, "e1", Some("credit_expense"), Some("vm")),
            ("0xa", 50, Some(250.0), 240.0, "g3", None, None),
            ("0xb", 7, None, 100.0, "g4", None, None),
        ];
        for (i, (address, amount, exp, time, r, method, origin)) in rows.into_iter().enumerate() {
            c.execute(
                "INSERT INTO credit_history (address, amount, expiration_date, message_timestamp, credit_ref,
                                             credit_index, payment_method, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![address, amount, exp, time, r, i as i64, method, origin],
            )
            .unwrap();
        }
        c
    }

    #[test]
    fn expired_grants_no_longer_count() {
        let c = seeded();
        assert_eq!(credit_balance(&c, "0xa", 210.0).unwrap(), 250);
        assert_eq!(credit_balance(&c, "0xa", 2000.0).unwrap(), -100);
    }

    #[test]
    fn expenses_draw_on_the_oldest_valid_grants_first() {
        let c = seeded();
        // The expense at 300 takes all of g1 (500) then 100 of g2; g3 had expired by then, so it
        // keeps its 50 until it expires at 250.
        assert_eq!(
            credit_balance_details(&c, "0xa", 210.0).unwrap(),
            [(Some(250.0), 50), (Some(1000.0), 200)]
        );
        assert_eq!(credit_balance_details(&c, "0xa", 260.0).unwrap(), [(Some(1000.0), 200)]);
        assert!(credit_balance_details(&c, "0xa", 2000.0).unwrap().is_empty());
    }

    #[test]
    fn credit_balances_list_with_a_minimum_and_a_cursor() {
        let c = seeded();
        let all = list_credit_balances(&c, 210.0, 0, None, 0, 0).unwrap();
        assert_eq!(all, [("0xa".to_owned(), 250), ("0xb".to_owned(), 7)]);
        assert_eq!(count_credit_balances(&c, 210.0, 10).unwrap(), 1);
        assert_eq!(list_credit_balances(&c, 210.0, 0, Some("0xa"), 0, 0).unwrap().len(), 1);
        // A negative sum reads as 0.
        assert_eq!(list_credit_balances(&c, 2000.0, 0, None, 0, 1).unwrap(), [("0xa".to_owned(), 0)]);
    }

    #[test]
    fn consumed_credits_count_expenses_by_owner_or_resource() {
        let c = seeded();
        assert_eq!(consumed_credits(&c, Some("0xa"), None).unwrap(), 600);
        assert_eq!(consumed_credits(&c, None, Some("vm")).unwrap(), 600);
        assert_eq!(consumed_credits(&c, Some("0xb"), None).unwrap(), 0);
    }
}
