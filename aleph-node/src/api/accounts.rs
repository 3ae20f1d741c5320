//! Accounts (NETWORK.md §1.8): ALEPH balances, credit balances and the credit history.
//!
//! Amounts the reference serializes as floats (`balance`, `locked_amount`, per-chain details)
//! are JSON numbers here too; credits are integers. Datetimes are written as pydantic does
//! (`2026-01-01T00:00:00Z`, microseconds only when non-zero).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use base64::Engine;
use rusqlite::types::Value as SqlValue;
use serde_json::{json, Map, Value};

use aleph_core::api::paging::split_extra;
use aleph_core::api::{
    Balance, BalanceCursorPage, BalanceEntry, BalanceList, BalanceListParams, BalancePage, BalanceParams,
    ConsumedCredits, CreditBalanceCursorPage, CreditBalanceEntry, CreditBalanceList, CreditBalanceListParams,
    CreditBalancePage, CreditHistory, CreditHistoryCursorPage, CreditHistoryEntry, CreditHistoryPage,
    CreditHistoryParams, CreditHistorySummary, CreditLot, CreditSortParams, CursorInfo, PageInfo,
};
use aleph_core::content::PaymentType;
use aleph_core::cost::{floor_cost, to_f64};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{AppState, Wire};
use crate::pipeline::now;
use crate::storage::balances::{
    self, BalanceFilter, BalanceRow, CreditCursor, CreditDirection, CreditEntry, CreditHistoryFilter,
    CreditSort,
};
use crate::storage::StorageError;

/// Largest page in cursor mode.
const CURSOR_MAX_PAGINATION: u64 = 200;

/// A datetime as pydantic serializes it (UTC, `Z`, microseconds only when non-zero).
pub(crate) fn py_datetime(t: f64) -> Option<String> {
    if !t.is_finite() {
        return None;
    }
    let mut secs = t.floor() as i64;
    let mut micros = ((t - t.floor()) * 1e6).round() as u32;
    if micros >= 1_000_000 {
        secs += 1;
        micros -= 1_000_000;
    }
    let dt = chrono::DateTime::from_timestamp(secs, micros * 1000)?;
    Some(if micros == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    })
}

/// A datetime as Python's `isoformat()` writes an aware UTC datetime (cursor values).
fn iso_offset(t: f64) -> Option<String> {
    py_datetime(t).map(|s| format!("{}+00:00", s.trim_end_matches('Z')))
}

fn encode_cursor(doc: &BTreeMap<&str, Value>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_string(doc).unwrap_or_default())
}

fn decode_cursor(cursor: &str) -> ApiResult<Map<String, Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .map_err(|e| ApiError::Unprocessable(format!("Invalid cursor: {e}")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::Unprocessable("Invalid cursor: payload is not a dict".into())),
    }
}

/// Page or cursor mode of the account lists, as the reference reads them: any `cursor`
/// parameter (even empty) selects cursor mode, where the page size is capped at 200 and may not
/// be 0; `page` is checked in both modes.
#[derive(Debug, Clone, Copy)]
enum ListPaging {
    Page { page: u64, per_page: u64 },
    Cursor { per_page: u64 },
}

fn list_paging(params: &Params, default_per_page: u64) -> ApiResult<ListPaging> {
    let per_page = query::number::<u64>(params, "pagination")?.unwrap_or(default_per_page);
    let page = query::page(params, per_page, None)?;
    if !params.contains_key("cursor") {
        return Ok(ListPaging::Page { page, per_page });
    }
    if per_page == 0 {
        return Err(ApiError::Unprocessable(
            "pagination=0 is not allowed with cursor-based pagination".into(),
        ));
    }
    Ok(ListPaging::Cursor { per_page: per_page.min(CURSOR_MAX_PAGINATION) })
}

/// The rows of one page, with where the page is.
enum Listing<T> {
    Page(Vec<T>, PageInfo),
    Cursor(Vec<T>, CursorInfo),
}

/// Reads one page of a list in the mode asked: `fetch(offset, limit)` reads rows (after the
/// request's cursor, in cursor mode; `limit` 0 = all), `count` counts every match (page mode),
/// `cursor_of` names the row a next page starts after.
fn fetch_listing<T>(
    paging: ListPaging,
    item: &str,
    mut fetch: impl FnMut(u64, u64) -> Result<Vec<T>, StorageError>,
    count: impl FnOnce() -> Result<u64, StorageError>,
    cursor_of: impl Fn(&T) -> String,
) -> Result<Listing<T>, StorageError> {
    Ok(match paging {
        ListPaging::Cursor { per_page } => {
            let mut rows = fetch(0, per_page + 1)?;
            let more = split_extra(&mut rows, per_page);
            let next_cursor = if more { rows.last().map(cursor_of) } else { None };
            Listing::Cursor(rows, CursorInfo { pagination_per_page: per_page, next_cursor })
        }
        ListPaging::Page { page, per_page } => {
            let rows = fetch(page.saturating_sub(1).saturating_mul(per_page), per_page)?;
            Listing::Page(rows, PageInfo::new(page, per_page, count()?, item))
        }
    })
}

fn address_cursor(params: &Params) -> ApiResult<Option<String>> {
    match params.get("cursor").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(c) => {
            let doc = decode_cursor(c)?;
            let a = doc
                .get("a")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::Unprocessable("Invalid cursor: missing required fields".into()))?;
            Ok(Some(a.to_owned()))
        }
    }
}

fn encode_address_cursor(address: &str) -> String {
    encode_cursor(&BTreeMap::from([("a", json!(address))]))
}

/// `min_balance`: absent, or an integer ≥ 1.
fn min_balance(value: Option<u64>) -> ApiResult<u64> {
    match value {
        None => Ok(0),
        Some(0) => Err(ApiError::Unprocessable("min_balance must be ≥ 1".into())),
        Some(n) => Ok(n),
    }
}

/// `GET /api/v0/addresses/{address}/balance` (`chain`, `include_credit_details`): never 404.
pub(crate) async fn balance(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<Balance>> {
    let p = BalanceParams::from_query(&params)?;
    let chain = match p.chain.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<aleph_core::Chain>()
                .map_err(|e| ApiError::Unprocessable(e.to_string()))?
                .as_str()
                .to_owned(),
        ),
    };
    let with_details = p.include_credit_details.unwrap_or(false);
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let (total, by_chain) = balances::detailed_balance(c, &address, chain.as_deref())?;
            let locked = floor_cost(balances::cost_sum(c, &address, PaymentType::Hold, None)?);
            let at = now();
            let (credit_balance, credit_balance_details) = if with_details {
                let lots: Vec<CreditLot> = balances::credit_balance_details(c, &address, at)?
                    .into_iter()
                    .map(|(exp, amount)| CreditLot { expiration_date: exp.and_then(py_datetime), amount })
                    .collect();
                let total = lots.iter().map(|l| l.amount).fold(0i64, i64::saturating_add).max(0);
                (total, Some(lots))
            } else {
                (balances::credit_balance(c, &address, at)?.max(0), None)
            };
            Ok(Balance {
                address,
                balance: to_f64(total),
                details: Some(by_chain.into_iter().map(|(k, v)| (k, to_f64(v))).collect()),
                locked_amount: to_f64(locked),
                credit_balance,
                credit_balance_details,
            })
        })
        .await?;
    Ok(Wire(body))
}

/// `GET /api/v0/balances` (`chains`, `pagination` 100, `page`, `min_balance`, `cursor`).
pub(crate) async fn balances_list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<BalanceList>> {
    let p = BalanceListParams::from_query(&params)?;
    let chains = p.chains.iter().map(|c| c.as_str().to_owned()).collect();
    let filter = BalanceFilter { chains, min_balance: min_balance(p.min_balance)? };
    let paging = list_paging(&params, 100)?;
    let after = address_cursor(&params)?;
    let listing = state
        .pipeline
        .db()
        .read(move |c| {
            fetch_listing(
                paging,
                "balances",
                |offset, limit| balances::list_balances(c, &filter, after.as_deref(), offset, limit),
                || balances::count_balances(c, &filter),
                |r| encode_address_cursor(&r.address),
            )
        })
        .await?;
    let entry =
        |b: BalanceRow| BalanceEntry { address: b.address, balance: to_f64(b.balance), chain: b.chain };
    Ok(Wire(match listing {
        Listing::Page(rows, page) => {
            BalanceList::Page(BalancePage { balances: rows.into_iter().map(entry).collect(), page })
        }
        Listing::Cursor(rows, cursor) => {
            BalanceList::Cursor(BalanceCursorPage { balances: rows.into_iter().map(entry).collect(), cursor })
        }
    }))
}

/// `GET /api/v0/credit_balances` (`pagination` 100, `page`, `min_balance`, `cursor`).
pub(crate) async fn credit_balances(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<CreditBalanceList>> {
    let p = CreditBalanceListParams::from_query(&params)?;
    let min = min_balance(p.min_balance)? as i64;
    let paging = list_paging(&params, 100)?;
    let after = address_cursor(&params)?;
    let listing = state
        .pipeline
        .db()
        .read(move |c| {
            let at = now();
            fetch_listing(
                paging,
                "credit_balances",
                |offset, limit| balances::list_credit_balances(c, at, min, after.as_deref(), offset, limit),
                || balances::count_credit_balances(c, at, min),
                |(address, _)| encode_address_cursor(address),
            )
        })
        .await?;
    let entry = |(address, credits): (String, i64)| CreditBalanceEntry { address, credits };
    Ok(Wire(match listing {
        Listing::Page(rows, page) => CreditBalanceList::Page(CreditBalancePage {
            credit_balances: rows.into_iter().map(entry).collect(),
            page,
        }),
        Listing::Cursor(rows, cursor) => CreditBalanceList::Cursor(CreditBalanceCursorPage {
            credit_balances: rows.into_iter().map(entry).collect(),
            cursor,
        }),
    }))
}

/// The filters shared by the credit history listing and summary.
fn credit_filter(params: &Params) -> ApiResult<CreditHistoryFilter> {
    let p = CreditHistoryParams::from_query(params)?;
    let date = |t: Option<f64>| -> ApiResult<Option<f64>> {
        match t {
            Some(t) if !(t >= 0.0 && t.is_finite()) => {
                Err(ApiError::Unprocessable("timestamp must not be negative".into()))
            }
            other => Ok(other),
        }
    };
    let start_date = date(p.start_date)?;
    let end_date = date(p.end_date)?;
    if let (Some(s), Some(e)) = (start_date, end_date) {
        if e < s {
            return Err(ApiError::Unprocessable("end date cannot be lower than start date.".into()));
        }
    }
    let direction = match p.direction.as_deref() {
        None => None,
        Some("incoming") => Some(CreditDirection::Incoming),
        Some("outgoing") => Some(CreditDirection::Outgoing),
        Some(other) => return Err(ApiError::Unprocessable(format!("invalid direction {other:?}"))),
    };
    Ok(CreditHistoryFilter { params: p, direction })
}

fn history_entry(e: CreditEntry) -> CreditHistoryEntry {
    CreditHistoryEntry {
        expiration_date: e.expiration_date.and_then(py_datetime),
        message_timestamp: py_datetime(e.message_timestamp),
        ..e.entry
    }
}

/// The sort value of an entry, as cursors carry it (datetimes in `isoformat()`).
fn sort_value(e: &CreditEntry, sort: CreditSort) -> Value {
    match sort {
        CreditSort::MessageTimestamp => json!(iso_offset(e.message_timestamp)),
        CreditSort::ExpirationDate => json!(e.expiration_date.and_then(iso_offset)),
        CreditSort::PaymentMethod => json!(e.entry.payment_method),
        CreditSort::Amount => json!(e.entry.amount),
        CreditSort::Origin => json!(e.entry.origin),
        CreditSort::TxHash => json!(e.entry.tx_hash),
        CreditSort::Provider => json!(e.entry.provider),
    }
}

/// A cursor's sort value back as an SQL value of the sorted column.
fn sql_sort_value(v: &Value, sort: CreditSort) -> ApiResult<SqlValue> {
    let bad = || ApiError::Unprocessable("Invalid cursor: bad sort value".into());
    Ok(match (sort, v) {
        (_, Value::Null) => SqlValue::Null,
        (CreditSort::MessageTimestamp | CreditSort::ExpirationDate, v) => {
            SqlValue::Real(aleph_core::message::parse_time_value(v).ok_or_else(bad)?)
        }
        (CreditSort::Amount, Value::Number(n)) => SqlValue::Integer(n.as_i64().ok_or_else(bad)?),
        (_, Value::String(s)) => SqlValue::Text(s.clone()),
        _ => return Err(bad()),
    })
}

/// The credit history cursor a request carries, checked against its sort.
fn credit_cursor(params: &Params, sort: CreditSort, order: i64) -> ApiResult<Option<CreditCursor>> {
    let c = match params.get("cursor").map(String::as_str) {
        None | Some("") => return Ok(None),
        Some(c) => c,
    };
    let doc = decode_cursor(c)?;
    let missing = || ApiError::Unprocessable("Invalid cursor: missing required fields".into());
    let (cursor_sort, value, cursor_order) = if doc.contains_key("s") {
        (
            doc.get("s").and_then(Value::as_str).ok_or_else(missing)?.to_owned(),
            doc.get("v").cloned().ok_or_else(missing)?,
            doc.get("o").and_then(Value::as_i64).ok_or_else(missing)?,
        )
    } else {
        ("message_timestamp".to_owned(), doc.get("t").cloned().ok_or_else(missing)?, -1)
    };
    if cursor_sort != sort.as_str() {
        return Err(ApiError::Unprocessable(format!(
            "Cursor sort field mismatch: cursor was created with sort_by={cursor_sort}, but request has sort_by={}",
            sort.as_str()
        )));
    }
    if cursor_order != order {
        return Err(ApiError::Unprocessable(format!(
            "Cursor sort order mismatch: cursor was created with sort_order={cursor_order}, but request has sort_order={order}"
        )));
    }
    Ok(Some(CreditCursor {
        value: sql_sort_value(&value, sort)?,
        credit_ref: doc.get("r").and_then(Value::as_str).ok_or_else(missing)?.to_owned(),
        credit_index: doc.get("i").and_then(Value::as_i64).ok_or_else(missing)?,
    }))
}

/// `GET /api/v0/addresses/{address}/credit_history`: filtered, sorted (`sort_by`, `sort_order`),
/// all entries by default (`pagination` 0); 404 when nothing matches.
pub(crate) async fn credit_history(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<CreditHistory>> {
    let filter = credit_filter(&params)?;
    let order_params = CreditSortParams::from_query(&params)?;
    let sort = match order_params.sort_by.as_deref() {
        None => CreditSort::MessageTimestamp,
        Some(s) => {
            CreditSort::parse(s).ok_or_else(|| ApiError::Unprocessable(format!("invalid sort_by {s:?}")))?
        }
    };
    let ascending = aleph_core::api::SortOrder::is_ascending(order_params.sort_order);
    let order = if ascending { 1 } else { -1 };
    let paging = list_paging(&params, 0)?;
    let after = credit_cursor(&params, sort, order)?;
    let who = address.clone();
    let listing = state
        .pipeline
        .db()
        .read(move |c| {
            fetch_listing(
                paging,
                "credit_history",
                |offset, limit| {
                    balances::credit_history(c, &who, &filter, sort, ascending, after.as_ref(), offset, limit)
                },
                || Ok(balances::credit_history_summary(c, &who, &filter)?.0),
                |last| {
                    encode_cursor(&BTreeMap::from([
                        ("s", json!(sort.as_str())),
                        ("v", sort_value(last, sort)),
                        ("o", json!(order)),
                        ("r", json!(last.entry.credit_ref)),
                        ("i", json!(last.entry.credit_index)),
                    ]))
                },
            )
        })
        .await?;
    let (Listing::Page(rows, _) | Listing::Cursor(rows, _)) = &listing;
    if rows.is_empty() {
        return Err(ApiError::NotFound("No credit history found for this address".into()));
    }
    Ok(Wire(match listing {
        Listing::Page(rows, page) => CreditHistory::Page(CreditHistoryPage {
            address,
            credit_history: rows.into_iter().map(history_entry).collect(),
            page: PageInfo { pagination_item: None, ..page },
        }),
        Listing::Cursor(rows, cursor) => CreditHistory::Cursor(CreditHistoryCursorPage {
            address,
            credit_history: rows.into_iter().map(history_entry).collect(),
            cursor,
        }),
    }))
}

/// `GET /api/v0/addresses/{address}/credit_history/summary`: totals over the filtered history
/// (always 200; `total_outgoing` is negative).
pub(crate) async fn credit_history_summary(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<CreditHistorySummary>> {
    let filter = credit_filter(&params)?;
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let (entry_count, total_amount, total_incoming, total_outgoing) =
                balances::credit_history_summary(c, &address, &filter)?;
            Ok(CreditHistorySummary { address, entry_count, total_amount, total_incoming, total_outgoing })
        })
        .await?;
    Ok(Wire(body))
}

/// `GET /api/v0/messages/{item_hash}/consumed_credits`: credits spent on a resource
/// (`credit_expense` entries naming it).
pub(crate) async fn consumed_credits(
    State(state): State<AppState>,
    Path(item_hash): Path<String>,
) -> ApiResult<Wire<ConsumedCredits>> {
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let consumed_credits = balances::consumed_credits(c, None, Some(&item_hash))?;
            Ok(ConsumedCredits { item_hash, consumed_credits })
        })
        .await?;
    Ok(Wire(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_as_pydantic_writes_them() {
        assert_eq!(py_datetime(1_767_225_600.0).as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(py_datetime(1_767_225_600.25).as_deref(), Some("2026-01-01T00:00:00.250000Z"));
        assert_eq!(iso_offset(1_767_225_600.0).as_deref(), Some("2026-01-01T00:00:00+00:00"));
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode_address_cursor("0xabc");
        assert_eq!(
            address_cursor(&Params::from([("cursor".to_owned(), c)])).unwrap().as_deref(),
            Some("0xabc")
        );
        assert!(decode_cursor("!!").is_err());
        let v = sql_sort_value(&json!("2026-01-01T00:00:00+00:00"), CreditSort::MessageTimestamp).unwrap();
        assert_eq!(v, SqlValue::Real(1_767_225_600.0));
    }
}
