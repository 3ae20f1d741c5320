//! ALEPH balances per (address, chain, dapp), as `balances-update` posts wrote them.

use std::collections::BTreeMap;

use aleph_core::cost::Decimal;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};

use super::{decimal_of, sum_texts};
use crate::storage::StorageError;

/// The ALEPH balance of `address` summed over every chain, leaving out dapp balances: what
/// must cover held resources.
pub(crate) fn total_balance(conn: &Connection, address: &str) -> Result<Decimal, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT balance FROM balances WHERE address = ?1 AND dapp = ''")?;
    let rows = stmt.query_map([address], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(sum_texts(rows))
}

/// The ALEPH balance of `address` (dapp balances left out) and its split per chain. With
/// `chain`, only that chain is counted and the split is empty, as the reference answers.
pub(crate) fn detailed_balance(
    conn: &Connection,
    address: &str,
    chain: Option<&str>,
) -> Result<(Decimal, BTreeMap<String, Decimal>), StorageError> {
    if let Some(chain) = chain {
        let mut stmt = conn
            .prepare_cached("SELECT balance FROM balances WHERE address = ?1 AND chain = ?2 AND dapp = ''")?;
        let rows =
            stmt.query_map([address, chain], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        return Ok((sum_texts(rows), BTreeMap::new()));
    }
    let mut stmt =
        conn.prepare_cached("SELECT chain, balance FROM balances WHERE address = ?1 AND dapp = ''")?;
    let rows = stmt
        .query_map([address], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_chain: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut total = Decimal::ZERO;
    for (chain, text) in rows {
        let amount = decimal_of(&text);
        let slot = by_chain.entry(chain).or_default();
        *slot = slot.checked_add(amount).unwrap_or(*slot);
        total = total.checked_add(amount).unwrap_or(total);
    }
    Ok((total, by_chain))
}

/// One row of the balances table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BalanceRow {
    /// The address.
    pub address: String,
    /// The amount.
    pub balance: Decimal,
    /// The chain.
    pub chain: String,
}

/// Filters of the balance list (`GET /api/v0/balances`).
#[derive(Debug, Clone, Default)]
pub(crate) struct BalanceFilter {
    /// Only these chains (all when empty).
    pub chains: Vec<String>,
    /// Only balances of at least this amount (0: no minimum).
    pub min_balance: u64,
}

fn balance_filter_sql(filter: &BalanceFilter, args: &mut Vec<SqlValue>) -> String {
    let mut clauses = Vec::new();
    if !filter.chains.is_empty() {
        clauses.push(format!("chain IN ({})", vec!["?"; filter.chains.len()].join(",")));
        args.extend(filter.chains.iter().cloned().map(SqlValue::Text));
    }
    if filter.min_balance > 0 {
        clauses.push("CAST(balance AS REAL) >= ?".to_owned());
        args.push(SqlValue::Real(filter.min_balance as f64));
    }
    crate::storage::sql::where_all(&clauses)
}

/// Balance rows (dapp rows included, as the reference lists them) ordered by address: a page
/// (`offset`, `limit`; `limit` 0 = all), or those after `after_address` (cursor paging).
pub(crate) fn list_balances(
    conn: &Connection,
    filter: &BalanceFilter,
    after_address: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<BalanceRow>, StorageError> {
    let mut args = Vec::new();
    let mut sql =
        format!("SELECT address, balance, chain FROM balances{}", balance_filter_sql(filter, &mut args));
    if let Some(after) = after_address {
        sql.push_str(if args.is_empty() { " WHERE address > ?" } else { " AND address > ?" });
        args.push(SqlValue::Text(after.to_owned()));
    }
    sql.push_str(" ORDER BY address ASC, chain ASC, dapp ASC");
    if limit > 0 {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(address, b, chain)| BalanceRow { address, balance: decimal_of(&b), chain })
        .collect())
}

/// How many balance rows match `filter`.
pub(crate) fn count_balances(conn: &Connection, filter: &BalanceFilter) -> Result<u64, StorageError> {
    let mut args = Vec::new();
    let sql = format!("SELECT COUNT(*) FROM balances{}", balance_filter_sql(filter, &mut args));
    let n: i64 = conn.query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn seeded() -> Connection {
        let c = super::super::test_db();
        for (address, chain, dapp, amount) in [
            ("0xa", "ETH", "", "10.5"),
            ("0xa", "SOL", "", "2"),
            ("0xa", "ETH", "app", "100"),
            ("0xb", "ETH", "", "1"),
        ] {
            c.execute(
                "INSERT INTO balances (address, chain, dapp, balance) VALUES (?1, ?2, ?3, ?4)",
                params![address, chain, dapp, amount],
            )
            .unwrap();
        }
        c
    }

    #[test]
    fn totals_leave_dapp_balances_out() {
        let c = seeded();
        assert_eq!(total_balance(&c, "0xa").unwrap(), Decimal::new(125, 1));
        let (total, by_chain) = detailed_balance(&c, "0xa", None).unwrap();
        assert_eq!(total, Decimal::new(125, 1));
        assert_eq!(by_chain["SOL"], Decimal::from(2));
        let (total, by_chain) = detailed_balance(&c, "0xa", Some("ETH")).unwrap();
        assert_eq!((total, by_chain.len()), (Decimal::new(105, 1), 0));
    }

    #[test]
    fn lists_page_and_continue_after_an_address() {
        let c = seeded();
        let all = BalanceFilter::default();
        assert_eq!(count_balances(&c, &all).unwrap(), 4);
        let page = list_balances(&c, &all, None, 1, 2).unwrap();
        assert_eq!(page.iter().map(|r| r.chain.as_str()).collect::<Vec<_>>(), ["ETH", "SOL"]);
        let after = list_balances(&c, &all, Some("0xa"), 0, 0).unwrap();
        assert_eq!(after, [BalanceRow { address: "0xb".into(), balance: Decimal::ONE, chain: "ETH".into() }]);
        let rich = BalanceFilter { chains: vec!["ETH".into()], min_balance: 10 };
        assert_eq!(count_balances(&c, &rich).unwrap(), 2);
    }
}
