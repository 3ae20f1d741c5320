//! The credit history of an address: filters, sort orders, cursor pages and totals.

use aleph_core::api::CreditHistoryParams;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};

use crate::storage::StorageError;

/// Which way credits moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreditDirection {
    /// Received (amount > 0).
    Incoming,
    /// Spent or sent (amount < 0).
    Outgoing,
}

/// Filters of the credit history endpoints: the API's parameters (all optional; text filters
/// match exactly, `message_timestamp` lies between the dates, both included; an excluded payment
/// method leaves out the entries without one too, as in SQL), checked, with the direction read.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreditHistoryFilter {
    /// The filters as the API names them (`params.direction` is read into `direction`).
    pub params: CreditHistoryParams,
    /// Only incoming (amount > 0) or outgoing (amount < 0) entries.
    pub direction: Option<CreditDirection>,
}

impl CreditHistoryFilter {
    fn sql(&self, args: &mut Vec<SqlValue>) -> String {
        let p = &self.params;
        let mut out = String::new();
        for (column, value) in [
            ("tx_hash", &p.tx_hash),
            ("token", &p.token),
            ("chain", &p.chain),
            ("provider", &p.provider),
            ("origin", &p.origin),
            ("origin_ref", &p.origin_ref),
            ("payment_method", &p.payment_method),
        ] {
            if let Some(v) = value {
                out.push_str(&format!(" AND {column} = ?"));
                args.push(SqlValue::Text(v.clone()));
            }
        }
        match p.has_expiration {
            Some(true) => out.push_str(" AND expiration_date IS NOT NULL"),
            Some(false) => out.push_str(" AND expiration_date IS NULL"),
            None => {}
        }
        if !p.exclude_payment_method.is_empty() {
            out.push_str(&format!(
                " AND payment_method NOT IN ({})",
                vec!["?"; p.exclude_payment_method.len()].join(",")
            ));
            args.extend(p.exclude_payment_method.iter().cloned().map(SqlValue::Text));
        }
        if let Some(t) = p.start_date {
            out.push_str(" AND message_timestamp >= ?");
            args.push(SqlValue::Real(t));
        }
        if let Some(t) = p.end_date {
            out.push_str(" AND message_timestamp <= ?");
            args.push(SqlValue::Real(t));
        }
        match self.direction {
            Some(CreditDirection::Incoming) => out.push_str(" AND amount > 0"),
            Some(CreditDirection::Outgoing) => out.push_str(" AND amount < 0"),
            None => {}
        }
        if !p.resource_types.is_empty() {
            out.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM messages m WHERE m.item_hash = COALESCE(NULLIF(credit_history.origin, ''), credit_history.origin_ref)
                   AND m.type IN ({}))",
                vec!["?"; p.resource_types.len()].join(",")
            ));
            args.extend(p.resource_types.iter().map(|t| SqlValue::Text(t.as_str().to_owned())));
        }
        if let Some(r) = &p.resource {
            out.push_str(" AND COALESCE(NULLIF(origin, ''), origin_ref) = ?");
            args.push(SqlValue::Text(r.clone()));
        }
        out
    }
}

/// The column a credit history listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreditSort {
    /// `message_timestamp` (default).
    MessageTimestamp,
    /// `expiration_date` (nulls last).
    ExpirationDate,
    /// `payment_method`.
    PaymentMethod,
    /// `amount`.
    Amount,
    /// `origin` (nulls last).
    Origin,
    /// `tx_hash` (nulls last).
    TxHash,
    /// `provider` (nulls last).
    Provider,
}

impl CreditSort {
    /// The query-string name (also the column).
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            CreditSort::MessageTimestamp => "message_timestamp",
            CreditSort::ExpirationDate => "expiration_date",
            CreditSort::PaymentMethod => "payment_method",
            CreditSort::Amount => "amount",
            CreditSort::Origin => "origin",
            CreditSort::TxHash => "tx_hash",
            CreditSort::Provider => "provider",
        }
    }

    /// Reads a query-string name.
    pub(crate) fn parse(s: &str) -> Option<CreditSort> {
        [
            CreditSort::MessageTimestamp,
            CreditSort::ExpirationDate,
            CreditSort::PaymentMethod,
            CreditSort::Amount,
            CreditSort::Origin,
            CreditSort::TxHash,
            CreditSort::Provider,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    fn nullable(&self) -> bool {
        matches!(
            self,
            CreditSort::ExpirationDate | CreditSort::Origin | CreditSort::TxHash | CreditSort::Provider
        )
    }
}

/// One credit history entry: its wire form, whose two times are left for the API to write
/// (`expiration_date` and `message_timestamp` are `None` there), and those times as stored,
/// which cursors and sorting use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CreditEntry {
    /// The entry as answered, times aside.
    pub entry: aleph_core::api::CreditHistoryEntry,
    /// When the credits expire (epoch seconds).
    pub expiration_date: Option<f64>,
    /// The message's time (epoch seconds).
    pub message_timestamp: f64,
}

/// Where a cursor page starts: after the entry with this sort value and tiebreakers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CreditCursor {
    /// The last entry's sort value (`Null` for a null column).
    pub value: SqlValue,
    /// Its `credit_ref`.
    pub credit_ref: String,
    /// Its `credit_index`.
    pub credit_index: i64,
}

const CREDIT_COLUMNS: &str =
    "amount, price, bonus_amount, tx_hash, token, chain, provider, origin, origin_ref, payment_method,
     credit_ref, credit_index, expiration_date, message_timestamp";

/// The credit history of `address`: filtered, sorted by `sort` (then `credit_ref`, `credit_index`
/// in the same direction), one page (`offset`, `limit`; `limit` 0 = all) or the entries after
/// `after` (cursor paging).
#[allow(clippy::too_many_arguments)]
pub(crate) fn credit_history(
    conn: &Connection,
    address: &str,
    filter: &CreditHistoryFilter,
    sort: CreditSort,
    ascending: bool,
    after: Option<&CreditCursor>,
    offset: u64,
    limit: u64,
) -> Result<Vec<CreditEntry>, StorageError> {
    let mut args = vec![SqlValue::Text(address.to_owned())];
    let mut sql = format!("SELECT {CREDIT_COLUMNS} FROM credit_history WHERE address = ?");
    sql.push_str(&filter.sql(&mut args));
    let col = sort.as_str();
    let (cmp, dir) = if ascending { (">", "ASC") } else { ("<", "DESC") };
    if let Some(c) = after {
        let tiebreak = format!("(credit_ref {cmp} ? OR (credit_ref = ? AND credit_index {cmp} ?))");
        let tie_args = [
            SqlValue::Text(c.credit_ref.clone()),
            SqlValue::Text(c.credit_ref.clone()),
            SqlValue::Integer(c.credit_index),
        ];
        if c.value == SqlValue::Null && sort.nullable() {
            sql.push_str(&format!(" AND ({col} IS NULL AND {tiebreak})"));
            args.extend(tie_args);
        } else {
            sql.push_str(&format!(" AND (({col} {cmp} ?) OR ({col} = ? AND {tiebreak}) OR {col} IS NULL)"));
            args.push(c.value.clone());
            args.push(c.value.clone());
            args.extend(tie_args);
        }
    }
    let nulls = if sort.nullable() { " NULLS LAST" } else { "" };
    sql.push_str(&format!(" ORDER BY {col} {dir}{nulls}, credit_ref {dir}, credit_index {dir}"));
    if limit > 0 {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok(CreditEntry {
                entry: aleph_core::api::CreditHistoryEntry {
                    amount: r.get(0)?,
                    price: r.get(1)?,
                    bonus_amount: r.get(2)?,
                    tx_hash: r.get(3)?,
                    token: r.get(4)?,
                    chain: r.get(5)?,
                    provider: r.get(6)?,
                    origin: r.get(7)?,
                    origin_ref: r.get(8)?,
                    payment_method: r.get(9)?,
                    credit_ref: r.get(10)?,
                    credit_index: r.get(11)?,
                    expiration_date: None,
                    message_timestamp: None,
                    expense_count: None,
                    expense_size_mib: None,
                },
                expiration_date: r.get(12)?,
                message_timestamp: r.get(13)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Count, total, incoming total and outgoing total (negative) of the filtered credit history of
/// `address`.
pub(crate) fn credit_history_summary(
    conn: &Connection,
    address: &str,
    filter: &CreditHistoryFilter,
) -> Result<(u64, i64, i64, i64), StorageError> {
    let mut args = vec![SqlValue::Text(address.to_owned())];
    let sql = format!(
        "SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN amount < 0 THEN amount ELSE 0 END), 0)
         FROM credit_history WHERE address = ?{}",
        filter.sql(&mut args)
    );
    let (n, total, incoming, outgoing): (i64, i64, i64, i64) =
        conn.query_row(&sql, params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok((n.max(0) as u64, total, incoming, outgoing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn seeded() -> Connection {
        let c = super::super::test_db();
        type Row<'a> = (i64, Option<f64>, f64, &'a str, Option<&'a str>);
        let rows: [Row<'_>; 4] = [
            (500, None, 100.0, "a", Some("card")),
            (300, Some(1000.0), 200.0, "b", Some("card")),
            (-100, None, 300.0, "c", Some("credit_expense")),
            (20, Some(500.0), 300.0, "d", None),
        ];
        for (i, (amount, exp, time, r, method)) in rows.into_iter().enumerate() {
            c.execute(
                "INSERT INTO credit_history (address, amount, expiration_date, message_timestamp, credit_ref,
                                             credit_index, payment_method)
                 VALUES ('0xa', ?1, ?2, ?3, ?4, ?5, ?6)",
                params![amount, exp, time, r, i as i64, method],
            )
            .unwrap();
        }
        c
    }

    fn refs(entries: &[CreditEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.entry.credit_ref.as_str()).collect()
    }

    #[test]
    fn sorts_put_nulls_last_and_break_ties_by_reference() {
        let c = seeded();
        let all = CreditHistoryFilter::default();
        let newest =
            credit_history(&c, "0xa", &all, CreditSort::MessageTimestamp, false, None, 0, 0).unwrap();
        assert_eq!(refs(&newest), ["d", "c", "b", "a"]);
        let by_expiry =
            credit_history(&c, "0xa", &all, CreditSort::ExpirationDate, true, None, 0, 0).unwrap();
        assert_eq!(refs(&by_expiry), ["d", "b", "a", "c"]);
        assert_eq!(CreditSort::parse("tx_hash"), Some(CreditSort::TxHash));
        assert_eq!(CreditSort::parse("nope"), None);
    }

    #[test]
    fn a_cursor_continues_after_its_entry() {
        let c = seeded();
        let all = CreditHistoryFilter::default();
        let after = CreditCursor { value: SqlValue::Real(300.0), credit_ref: "c".into(), credit_index: 2 };
        let rest =
            credit_history(&c, "0xa", &all, CreditSort::MessageTimestamp, false, Some(&after), 0, 0).unwrap();
        assert_eq!(refs(&rest), ["b", "a"]);
        let null_after = CreditCursor { value: SqlValue::Null, credit_ref: "c".into(), credit_index: 2 };
        let rest =
            credit_history(&c, "0xa", &all, CreditSort::ExpirationDate, false, Some(&null_after), 0, 0)
                .unwrap();
        assert_eq!(refs(&rest), ["a"]);
    }

    #[test]
    fn filters_and_totals() {
        let c = seeded();
        let incoming =
            CreditHistoryFilter { direction: Some(CreditDirection::Incoming), ..Default::default() };
        assert_eq!(credit_history_summary(&c, "0xa", &incoming).unwrap(), (3, 820, 820, 0));
        let all = CreditHistoryFilter::default();
        assert_eq!(credit_history_summary(&c, "0xa", &all).unwrap(), (4, 720, 820, -100));
        let expiring = CreditHistoryFilter {
            params: CreditHistoryParams::new().has_expiration(true).exclude_payment_method("credit_expense"),
            ..Default::default()
        };
        let rows = credit_history(&c, "0xa", &expiring, CreditSort::Amount, true, None, 0, 0).unwrap();
        // `d` has no payment method: NOT IN leaves it out, as in SQL.
        assert_eq!(refs(&rows), ["b"]);
        let dated = CreditHistoryFilter {
            params: CreditHistoryParams::new().start_date(150.0).end_date(250.0),
            ..Default::default()
        };
        assert_eq!(credit_history_summary(&c, "0xa", &dated).unwrap().0, 1);
    }
}
