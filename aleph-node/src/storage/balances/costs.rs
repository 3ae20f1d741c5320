//! The costs recorded for paid resources (`account_costs`): per resource, per owner, summed.

use aleph_core::content::PaymentType;
use aleph_core::cost::{CostRow, CostType, Decimal};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};

use super::{decimal_of, sum_texts};
use crate::storage::StorageError;

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
    crate::storage::sql::where_all(&clauses)
}

/// The three summed costs of a resource or of a selection.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    hold: Decimal,
    stream: Decimal,
    credit: Decimal,
}

impl Sums {
    /// Adds one recorded row's amounts (unreadable ones count as 0, an overflow is skipped).
    fn add(&mut self, row: &CostAmounts) {
        let add = |acc: Decimal, text: &str| acc.checked_add(decimal_of(text)).unwrap_or(acc);
        self.hold = add(self.hold, &row.hold);
        self.stream = add(self.stream, &row.stream);
        self.credit = add(self.credit, &row.credit);
    }
}

/// One recorded cost row, as stored, with the resource it belongs to.
struct CostAmounts {
    item_hash: String,
    owner: String,
    payment_type: String,
    hold: String,
    stream: String,
    credit: String,
}

/// The recorded rows matching `filter`, ordered by resource (item hash, owner, payment type).
fn matching_rows(conn: &Connection, filter: &CostFilter) -> Result<Vec<CostAmounts>, StorageError> {
    let mut args = Vec::new();
    let sql = format!(
        "SELECT item_hash, owner, payment_type, cost_hold, cost_stream, cost_credit FROM account_costs{}
         ORDER BY item_hash, owner, payment_type",
        cost_filter_sql(filter, &mut args)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok(CostAmounts {
                item_hash: r.get(0)?,
                owner: r.get(1)?,
                payment_type: r.get(2)?,
                hold: r.get(3)?,
                stream: r.get(4)?,
                credit: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Sums of the three cost columns and the number of distinct resources matching `filter`.
pub(crate) fn cost_summary(
    conn: &Connection,
    filter: &CostFilter,
) -> Result<(Decimal, Decimal, Decimal, u64), StorageError> {
    let rows = matching_rows(conn, filter)?;
    let mut sums = Sums::default();
    for row in &rows {
        sums.add(row);
    }
    let items: std::collections::HashSet<&str> = rows.iter().map(|r| r.item_hash.as_str()).collect();
    Ok((sums.hold, sums.stream, sums.credit, items.len() as u64))
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
    let mut grouped: Vec<(CostAmounts, Sums)> = Vec::new();
    for row in matching_rows(conn, filter)? {
        let same = grouped.last().is_some_and(|(g, _)| {
            g.item_hash == row.item_hash && g.owner == row.owner && g.payment_type == row.payment_type
        });
        if !same {
            grouped.push((row, Sums::default()));
            if let Some((first, sums)) = grouped.last_mut() {
                sums.add(first);
            }
        } else if let Some((_, sums)) = grouped.last_mut() {
            sums.add(&row);
        }
    }
    let total =
        grouped.iter().map(|(g, _)| &g.item_hash).collect::<std::collections::HashSet<_>>().len() as u64;
    let start = page.saturating_sub(1).saturating_mul(per_page) as usize;
    let page_rows = grouped
        .into_iter()
        .skip(start)
        .take(per_page.max(1) as usize)
        .map(|(g, sums)| ResourceCosts {
            item_hash: g.item_hash,
            owner: g.owner,
            payment_type: g.payment_type,
            cost_hold: sums.hold,
            cost_stream: sums.stream,
            cost_credit: sums.credit,
        })
        .collect();
    Ok((page_rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cost_type: CostType, name: &str, hold: i64) -> CostRow {
        CostRow {
            cost_type,
            name: name.into(),
            reference: None,
            cost_hold: Decimal::from(hold),
            cost_stream: Decimal::ZERO,
            cost_credit: Decimal::new(1, 1),
            size_mib: None,
        }
    }

    fn seeded() -> Connection {
        let c = super::super::test_db();
        let vm = [row(CostType::Execution, "vm", 1000), row(CostType::ExecutionVolumePersistent, "disk", 5)];
        record_costs(&c, "0xa", "i1", PaymentType::Hold, &vm).unwrap();
        record_costs(&c, "0xa", "i2", PaymentType::Hold, &[row(CostType::Storage, "file", 3)]).unwrap();
        record_costs(&c, "0xb", "i3", PaymentType::Credit, &[row(CostType::Storage, "file", 0)]).unwrap();
        c
    }

    #[test]
    fn recording_again_replaces_a_component() {
        let c = seeded();
        record_costs(&c, "0xa", "i2", PaymentType::Hold, &[row(CostType::Storage, "file", 4)]).unwrap();
        let costs = message_costs(&c, "i2").unwrap();
        assert_eq!(costs.len(), 1);
        assert_eq!((costs[0].row.cost_hold, costs[0].owner.as_str()), (Decimal::from(4), "0xa"));
        assert_eq!(message_costs(&c, "i1").unwrap()[1].row.name, "disk");
    }

    #[test]
    fn sums_leave_out_the_resource_judged_again() {
        let c = seeded();
        assert_eq!(cost_sum(&c, "0xa", PaymentType::Hold, None).unwrap(), Decimal::from(1008));
        assert_eq!(cost_sum(&c, "0xa", PaymentType::Hold, Some("i1")).unwrap(), Decimal::from(3));
        assert_eq!(cost_sum(&c, "0xa", PaymentType::Credit, None).unwrap(), Decimal::ZERO);
    }

    #[test]
    fn the_overview_groups_rows_by_resource() {
        let c = seeded();
        let owner = CostFilter { address: Some("0xa".into()), ..CostFilter::default() };
        let (hold, _, credit, count) = cost_summary(&c, &owner).unwrap();
        assert_eq!((hold, credit, count), (Decimal::from(1008), Decimal::new(3, 1), 2));
        let (page, total) = resources_with_costs(&c, &owner, 1, 10).unwrap();
        assert_eq!(total, 2);
        assert_eq!(page[0].item_hash, "i1");
        assert_eq!(page[0].cost_hold, Decimal::from(1005));
        assert_eq!(page[0].cost_credit, Decimal::new(2, 1));
        let (second, _) = resources_with_costs(&c, &CostFilter::default(), 2, 2).unwrap();
        assert_eq!(second.iter().map(|r| r.item_hash.as_str()).collect::<Vec<_>>(), ["i3"]);
    }
}
