//! Balances: ALEPH per (address, chain, dapp), credits from the credit history, and the costs
//! recorded for paid resources (`account_costs`).
//!
//! ALEPH amounts are stored as decimal text (as `balances-update` posts wrote them) and summed
//! here as exact decimals; a stored amount that does not parse counts as zero.

use std::collections::BTreeMap;

use aleph_core::content::PaymentType;
use aleph_core::cost::{parse_decimal, CostRow, CostType, Decimal};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::StorageError;

/// The credits of `address` at time `at`: every grant and expense not expired by then.
pub(crate) fn credit_balance(conn: &Connection, address: &str, at: f64) -> Result<i64, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(amount), 0) FROM credit_history
         WHERE address = ?1 AND (expiration_date IS NULL OR expiration_date > ?2)",
        )?
        .query_row(rusqlite::params![address, at], |r| r.get(0))?)
}

fn decimal_of(text: &str) -> Decimal {
    parse_decimal(text).unwrap_or_else(|| {
        tracing::warn!(amount = text, "unreadable stored balance, counted as 0");
        Decimal::ZERO
    })
}

fn sum_texts(texts: impl IntoIterator<Item = String>) -> Decimal {
    texts.into_iter().fold(Decimal::ZERO, |acc, t| acc.checked_add(decimal_of(&t)).unwrap_or(acc))
}

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
    super::sql::where_all(&clauses)
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

/// The column of `account_costs` holding the amount for a payment type.
fn cost_column(payment_type: PaymentType) -> &'static str {
    match payment_type {
        PaymentType::Superfluid => "cost_stream",
        PaymentType::Credit => "cost_credit",
        _ => "cost_hold",
    }
}

/// The sum of the recorded costs of `owner`'s resources paid with `payment_type`, in that
/// payment's unit (tokens, tokens/s or credits/s), unfloored; the rows of `except_item` (a
/// resource being judged again) are left out.
pub(crate) fn cost_sum(
    conn: &Connection,
    owner: &str,
    payment_type: PaymentType,
    except_item: Option<&str>,
) -> Result<Decimal, StorageError> {
    let sql = format!(
        "SELECT {} FROM account_costs WHERE owner = ?1 AND payment_type = ?2 AND item_hash IS NOT ?3",
        cost_column(payment_type)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![owner, payment_type.as_str(), except_item], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sum_texts(rows))
}

/// Records the cost rows of a resource (replacing rows of the same owner, item, type and name),
/// amounts written with 18 decimals.
pub(crate) fn record_costs(
    conn: &Connection,
    owner: &str,
    item_hash: &str,
    payment_type: PaymentType,
    rows: &[CostRow],
) -> Result<(), StorageError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO account_costs (owner, item_hash, type, name, ref, payment_type, cost_hold, cost_stream, cost_credit, size_mib)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (owner, item_hash, type, name) DO UPDATE SET
            cost_hold = excluded.cost_hold, cost_stream = excluded.cost_stream, cost_credit = excluded.cost_credit,
            ref = excluded.ref, payment_type = excluded.payment_type, size_mib = excluded.size_mib",
    )?;
    for r in rows {
        stmt.execute(params![
            owner,
            item_hash,
            r.cost_type.as_str(),
            r.name,
            r.reference,
            payment_type.as_str(),
            aleph_core::cost::cost_string(r.cost_hold),
            aleph_core::cost::cost_string(r.cost_stream),
            aleph_core::cost::cost_string(r.cost_credit),
            r.size_mib.map(aleph_core::cost::to_f64),
        ])?;
    }
    Ok(())
}

/// The recorded cost rows of a resource, in recording order, with its payment type (the first
/// row's) and owner.
pub(crate) fn message_costs(conn: &Connection, item_hash: &str) -> Result<Vec<StoredCost>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner, payment_type, type, name, ref, cost_hold, cost_stream, cost_credit, size_mib
         FROM account_costs WHERE item_hash = ?1 ORDER BY rowid",
    )?;
    let rows = stmt
        .query_map([item_hash], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<f64>>(8)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (owner, payment_type, cost_type, name, reference, hold, stream, credit, size) in rows {
        let Ok(cost_type) = cost_type.parse::<CostType>() else {
            tracing::warn!(item_hash, cost_type, "unknown recorded cost type, skipped");
            continue;
        };
        out.push(StoredCost {
            owner,
            payment_type,
            row: CostRow {
                cost_type,
                name,
                reference,
                cost_hold: decimal_of(&hold),
                cost_stream: decimal_of(&stream),
                cost_credit: decimal_of(&credit),
                size_mib: size.and_then(Decimal::from_f64_retain),
            },
        });
    }
    Ok(out)
}

/// A recorded cost row with its owner and payment type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredCost {
    /// Who pays.
    pub owner: String,
    /// The payment type, as recorded.
    pub payment_type: String,
    /// The row.
    pub row: CostRow,
}

/// Filters of the costs overview (`GET /api/v0/costs`).
#[derive(Debug, Clone, Default)]
pub(crate) struct CostFilter {
    /// Only this owner.
    pub address: Option<String>,
    /// Only this resource.
    pub item_hash: Option<String>,
    /// Only this payment type.
    pub payment_type: Option<String>,
}

fn cost_filter_sql(filter: &CostFilter, args: &mut Vec<SqlValue>) -> String {
    let mut clauses = Vec::new();
    for (column, value) in
        [("owner", &filter.address), ("item_hash", &filter.item_hash), ("payment_type", &filter.payment_type)]
    {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            clauses.push(format!("{column} = ?"));
            args.push(SqlValue::Text(v.clone()));
        }
    }
    super::sql::where_all(&clauses)
}

/// Sums of the three cost columns and the number of distinct resources matching `filter`.
pub(crate) fn cost_summary(
    conn: &Connection,
    filter: &CostFilter,
) -> Result<(Decimal, Decimal, Decimal, u64), StorageError> {
    let mut args = Vec::new();
    let sql = format!(
        "SELECT item_hash, cost_hold, cost_stream, cost_credit FROM account_costs{}",
        cost_filter_sql(filter, &mut args)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = std::collections::HashSet::new();
    let (mut hold, mut stream, mut credit) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (item, h, s, c) in rows {
        items.insert(item);
        hold = hold.checked_add(decimal_of(&h)).unwrap_or(hold);
        stream = stream.checked_add(decimal_of(&s)).unwrap_or(stream);
        credit = credit.checked_add(decimal_of(&c)).unwrap_or(credit);
    }
    Ok((hold, stream, credit, items.len() as u64))
}

/// One resource of the costs overview: its summed costs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceCosts {
    /// The resource's message hash.
    pub item_hash: String,
    /// Who pays.
    pub owner: String,
    /// How.
    pub payment_type: String,
    /// Summed hold costs.
    pub cost_hold: Decimal,
    /// Summed stream costs.
    pub cost_stream: Decimal,
    /// Summed credit costs.
    pub cost_credit: Decimal,
}

/// Resources matching `filter` with their summed costs, ordered by item hash, one page.
pub(crate) fn resources_with_costs(
    conn: &Connection,
    filter: &CostFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<ResourceCosts>, u64), StorageError> {
    let mut args = Vec::new();
    let sql = format!(
        "SELECT item_hash, owner, payment_type, cost_hold, cost_stream, cost_credit FROM account_costs{}
         ORDER BY item_hash, owner, payment_type",
        cost_filter_sql(filter, &mut args)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut grouped: Vec<ResourceCosts> = Vec::new();
    for (item_hash, owner, payment_type, h, s, c) in rows {
        let same = grouped
            .last()
            .is_some_and(|g| g.item_hash == item_hash && g.owner == owner && g.payment_type == payment_type);
        if !same {
            grouped.push(ResourceCosts {
                item_hash,
                owner,
                payment_type,
                cost_hold: Decimal::ZERO,
                cost_stream: Decimal::ZERO,
                cost_credit: Decimal::ZERO,
            });
        }
        if let Some(g) = grouped.last_mut() {
            g.cost_hold = g.cost_hold.checked_add(decimal_of(&h)).unwrap_or(g.cost_hold);
            g.cost_stream = g.cost_stream.checked_add(decimal_of(&s)).unwrap_or(g.cost_stream);
            g.cost_credit = g.cost_credit.checked_add(decimal_of(&c)).unwrap_or(g.cost_credit);
        }
    }
    let total = grouped.iter().map(|g| &g.item_hash).collect::<std::collections::HashSet<_>>().len() as u64;
    let start = page.saturating_sub(1).saturating_mul(per_page) as usize;
    let page_rows = grouped.into_iter().skip(start).take(per_page.max(1) as usize).collect();
    Ok((page_rows, total))
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

/// Which way credits moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreditDirection {
    /// Received (amount > 0).
    Incoming,
    /// Spent or sent (amount < 0).
    Outgoing,
}

/// Filters of the credit history endpoints (all optional; text filters match exactly).
#[derive(Debug, Clone, Default)]
pub(crate) struct CreditHistoryFilter {
    /// `tx_hash`.
    pub tx_hash: Option<String>,
    /// `token`.
    pub token: Option<String>,
    /// `chain`.
    pub chain: Option<String>,
    /// `provider`.
    pub provider: Option<String>,
    /// `origin`.
    pub origin: Option<String>,
    /// `origin_ref`.
    pub origin_ref: Option<String>,
    /// `payment_method`.
    pub payment_method: Option<String>,
    /// Only entries with (true) or without (false) an expiration date.
    pub has_expiration: Option<bool>,
    /// Leave out these payment methods (entries without one are left out too, as in SQL).
    pub exclude_payment_method: Vec<String>,
    /// `message_timestamp >= start_date`.
    pub start_date: Option<f64>,
    /// `message_timestamp <= end_date`.
    pub end_date: Option<f64>,
    /// Only incoming or outgoing entries.
    pub direction: Option<CreditDirection>,
    /// Only entries whose resource (`origin`, else `origin_ref`) is a known message of these types.
    pub resource_types: Vec<String>,
    /// Only entries whose resource is this hash.
    pub resource: Option<String>,
}

impl CreditHistoryFilter {
    fn sql(&self, args: &mut Vec<SqlValue>) -> String {
        let mut out = String::new();
        for (column, value) in [
            ("tx_hash", &self.tx_hash),
            ("token", &self.token),
            ("chain", &self.chain),
            ("provider", &self.provider),
            ("origin", &self.origin),
            ("origin_ref", &self.origin_ref),
            ("payment_method", &self.payment_method),
        ] {
            if let Some(v) = value {
                out.push_str(&format!(" AND {column} = ?"));
                args.push(SqlValue::Text(v.clone()));
            }
        }
        match self.has_expiration {
            Some(true) => out.push_str(" AND expiration_date IS NOT NULL"),
            Some(false) => out.push_str(" AND expiration_date IS NULL"),
            None => {}
        }
        if !self.exclude_payment_method.is_empty() {
            out.push_str(&format!(
                " AND payment_method NOT IN ({})",
                vec!["?"; self.exclude_payment_method.len()].join(",")
            ));
            args.extend(self.exclude_payment_method.iter().cloned().map(SqlValue::Text));
        }
        if let Some(t) = self.start_date {
            out.push_str(" AND message_timestamp >= ?");
            args.push(SqlValue::Real(t));
        }
        if let Some(t) = self.end_date {
            out.push_str(" AND message_timestamp <= ?");
            args.push(SqlValue::Real(t));
        }
        match self.direction {
            Some(CreditDirection::Incoming) => out.push_str(" AND amount > 0"),
            Some(CreditDirection::Outgoing) => out.push_str(" AND amount < 0"),
            None => {}
        }
        if !self.resource_types.is_empty() {
            out.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM messages m WHERE m.item_hash = COALESCE(NULLIF(credit_history.origin, ''), credit_history.origin_ref)
                   AND m.type IN ({}))",
                vec!["?"; self.resource_types.len()].join(",")
            ));
            args.extend(self.resource_types.iter().cloned().map(SqlValue::Text));
        }
        if let Some(r) = &self.resource {
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

/// One credit history entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CreditEntry {
    /// Credits (negative for expenses and sent transfers).
    pub amount: i64,
    /// The price paid, as recorded.
    pub price: Option<String>,
    /// Bonus credits.
    pub bonus_amount: Option<i64>,
    /// The payment transaction.
    pub tx_hash: Option<String>,
    /// The token paid with.
    pub token: Option<String>,
    /// The chain paid on.
    pub chain: Option<String>,
    /// The payment provider.
    pub provider: Option<String>,
    /// The origin (resource or message kind).
    pub origin: Option<String>,
    /// The origin's reference.
    pub origin_ref: Option<String>,
    /// The payment method.
    pub payment_method: Option<String>,
    /// The message that moved the credits.
    pub credit_ref: String,
    /// The entry's index in that message.
    pub credit_index: i64,
    /// When the credits expire.
    pub expiration_date: Option<f64>,
    /// The message's time.
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
