//! Accounts (NETWORK.md §1.8): ALEPH balances, credit balances and the credit history.
//!
//! Amounts the reference serializes as floats (`balance`, `locked_amount`, per-chain details)
//! are JSON numbers here too; credits are integers. Datetimes are written as pydantic does
//! (`2026-01-01T00:00:00Z`, microseconds only when non-zero).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use base64::Engine;
use rusqlite::types::Value as SqlValue;
use serde_json::{json, Map, Value};

use aleph_core::content::PaymentType;
use aleph_core::cost::{floor_cost, to_f64};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::AppState;
use crate::pipeline::now;
use crate::storage::balances::{
    self, BalanceFilter, CreditCursor, CreditDirection, CreditEntry, CreditHistoryFilter, CreditSort,
};

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

/// Cursor mode (any `cursor` parameter, even empty): the page size, capped at 200, not 0.
fn cursor_page(params: &Params, default: u64) -> ApiResult<Option<u64>> {
    let per_page = query::number::<u64>(params, "pagination")?.unwrap_or(default);
    if !params.contains_key("cursor") {
        return Ok(None);
    }
    if per_page == 0 {
        return Err(ApiError::Unprocessable(
            "pagination=0 is not allowed with cursor-based pagination".into(),
        ));
    }
    Ok(Some(per_page.min(CURSOR_MAX_PAGINATION)))
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
fn min_balance(params: &Params) -> ApiResult<u64> {
    match query::number::<u64>(params, "min_balance")? {
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
) -> ApiResult<Json<Value>> {
    let chain = match params.get("chain").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<aleph_core::Chain>()
                .map_err(|e| ApiError::Unprocessable(e.to_string()))?
                .as_str()
                .to_owned(),
        ),
    };
    let with_details = query::boolean(&params, "include_credit_details")?.unwrap_or(false);
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let (total, by_chain) = balances::detailed_balance(c, &address, chain.as_deref())?;
            let locked = floor_cost(balances::cost_sum(c, &address, PaymentType::Hold, None)?);
            let at = now();
            let (credits, credit_details) = if with_details {
                let details = balances::credit_balance_details(c, &address, at)?;
                let total: i64 = details.iter().map(|(_, n)| *n).fold(0i64, i64::saturating_add).max(0);
                let items: Vec<Value> = details
                    .iter()
                    .map(|(exp, amount)| json!({"expiration_date": exp.and_then(py_datetime), "amount": amount}))
                    .collect();
                (total, Value::Array(items))
            } else {
                (balances::credit_balance(c, &address, at)?.max(0), Value::Null)
            };
            let by_chain: Map<String, Value> = by_chain.into_iter().map(|(k, v)| (k, json!(to_f64(v)))).collect();
            Ok(json!({
                "address": address,
                "balance": to_f64(total),
                "details": by_chain,
                "locked_amount": to_f64(locked),
                "credit_balance": credits,
                "credit_balance_details": credit_details,
            }))
        })
        .await?;
    Ok(Json(body))
}

/// `GET /api/v0/balances` (`chains`, `pagination` 100, `page`, `min_balance`, `cursor`).
pub(crate) async fn balances_list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let chains = query::list(&params, "chains");
    for c in &chains {
        c.parse::<aleph_core::Chain>().map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    }
    let filter = BalanceFilter { chains, min_balance: min_balance(&params)? };
    let per_page = query::number::<u64>(&params, "pagination")?.unwrap_or(100);
    let page = query::page(&params, per_page, None)?;
    let cursor_mode = cursor_page(&params, 100)?;
    let after = address_cursor(&params)?;
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let row_json = |b: &balances::BalanceRow| json!({"address": b.address, "balance": to_f64(b.balance), "chain": b.chain});
            if let Some(per_page) = cursor_mode {
                let mut rows = balances::list_balances(c, &filter, after.as_deref(), 0, per_page + 1)?;
                let has_more = rows.len() as u64 > per_page;
                rows.truncate(per_page as usize);
                let next = if has_more { rows.last().map(|r| encode_address_cursor(&r.address)) } else { None };
                return Ok(json!({
                    "balances": rows.iter().map(row_json).collect::<Vec<_>>(),
                    "pagination_per_page": per_page,
                    "next_cursor": next,
                }));
            }
            let rows = balances::list_balances(c, &filter, None, page.saturating_sub(1).saturating_mul(per_page), per_page)?;
            let total = balances::count_balances(c, &filter)?;
            Ok(json!({
                "balances": rows.iter().map(row_json).collect::<Vec<_>>(),
                "pagination_per_page": per_page,
                "pagination_page": page,
                "pagination_total": total,
                "pagination_item": "balances",
            }))
        })
        .await?;
    Ok(Json(body))
}

/// `GET /api/v0/credit_balances` (`pagination` 100, `page`, `min_balance`, `cursor`).
pub(crate) async fn credit_balances(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let min = min_balance(&params)? as i64;
    let per_page = query::number::<u64>(&params, "pagination")?.unwrap_or(100);
    let page = query::page(&params, per_page, None)?;
    let cursor_mode = cursor_page(&params, 100)?;
    let after = address_cursor(&params)?;
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let at = now();
            let item = |(address, credits): &(String, i64)| json!({"address": address, "credits": credits});
            if let Some(per_page) = cursor_mode {
                let mut rows = balances::list_credit_balances(c, at, min, after.as_deref(), 0, per_page + 1)?;
                let has_more = rows.len() as u64 > per_page;
                rows.truncate(per_page as usize);
                let next = if has_more { rows.last().map(|(a, _)| encode_address_cursor(a)) } else { None };
                return Ok(json!({
                    "credit_balances": rows.iter().map(item).collect::<Vec<_>>(),
                    "pagination_per_page": per_page,
                    "next_cursor": next,
                }));
            }
            let rows = balances::list_credit_balances(
                c,
                at,
                min,
                None,
                page.saturating_sub(1).saturating_mul(per_page),
                per_page,
            )?;
            let total = balances::count_credit_balances(c, at, min)?;
            Ok(json!({
                "credit_balances": rows.iter().map(item).collect::<Vec<_>>(),
                "pagination_per_page": per_page,
                "pagination_page": page,
                "pagination_total": total,
                "pagination_item": "credit_balances",
            }))
        })
        .await?;
    Ok(Json(body))
}

fn optional(params: &Params, key: &str) -> Option<String> {
    params.get(key).cloned()
}

/// The filters shared by the credit history listing and summary.
fn credit_filter(params: &Params) -> ApiResult<CreditHistoryFilter> {
    let date = |key: &str| -> ApiResult<Option<f64>> {
        match query::number::<f64>(params, key)? {
            Some(t) if !(t >= 0.0 && t.is_finite()) => {
                Err(ApiError::Unprocessable("timestamp must not be negative".into()))
            }
            other => Ok(other),
        }
    };
    let start_date = date("startDate")?;
    let end_date = date("endDate")?;
    if let (Some(s), Some(e)) = (start_date, end_date) {
        if e < s {
            return Err(ApiError::Unprocessable("end date cannot be lower than start date.".into()));
        }
    }
    let direction = match params.get("direction").map(String::as_str) {
        None => None,
        Some("incoming") => Some(CreditDirection::Incoming),
        Some("outgoing") => Some(CreditDirection::Outgoing),
        Some(other) => return Err(ApiError::Unprocessable(format!("invalid direction {other:?}"))),
    };
    let resource_types = query::list(params, "resourceTypes");
    for t in &resource_types {
        t.parse::<aleph_core::MessageType>().map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    }
    Ok(CreditHistoryFilter {
        tx_hash: optional(params, "tx_hash"),
        token: optional(params, "token"),
        chain: optional(params, "chain"),
        provider: optional(params, "provider"),
        origin: optional(params, "origin"),
        origin_ref: optional(params, "origin_ref"),
        payment_method: optional(params, "payment_method"),
        has_expiration: query::boolean(params, "has_expiration")?,
        exclude_payment_method: query::list(params, "exclude_payment_method"),
        start_date,
        end_date,
        direction,
        resource_types,
        resource: optional(params, "resource"),
    })
}

fn entry_json(e: &CreditEntry) -> Value {
    json!({
        "amount": e.amount,
        "price": e.price,
        "bonus_amount": e.bonus_amount,
        "tx_hash": e.tx_hash,
        "token": e.token,
        "chain": e.chain,
        "provider": e.provider,
        "origin": e.origin,
        "origin_ref": e.origin_ref,
        "payment_method": e.payment_method,
        "credit_ref": e.credit_ref,
        "credit_index": e.credit_index,
        "expiration_date": e.expiration_date.and_then(py_datetime),
        "message_timestamp": py_datetime(e.message_timestamp),
        "expense_count": null,
        "expense_size_mib": null,
    })
}

/// The sort value of an entry, as cursors carry it (datetimes in `isoformat()`).
fn sort_value(e: &CreditEntry, sort: CreditSort) -> Value {
    match sort {
        CreditSort::MessageTimestamp => json!(iso_offset(e.message_timestamp)),
        CreditSort::ExpirationDate => json!(e.expiration_date.and_then(iso_offset)),
        CreditSort::PaymentMethod => json!(e.payment_method),
        CreditSort::Amount => json!(e.amount),
        CreditSort::Origin => json!(e.origin),
        CreditSort::TxHash => json!(e.tx_hash),
        CreditSort::Provider => json!(e.provider),
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

/// `GET /api/v0/addresses/{address}/credit_history`: filtered, sorted (`sort_by`, `sort_order`),
/// all entries by default (`pagination` 0); 404 when nothing matches.
pub(crate) async fn credit_history(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let filter = credit_filter(&params)?;
    let sort = match params.get("sort_by").map(String::as_str) {
        None => CreditSort::MessageTimestamp,
        Some(s) => {
            CreditSort::parse(s).ok_or_else(|| ApiError::Unprocessable(format!("invalid sort_by {s:?}")))?
        }
    };
    let ascending = query::ascending(&params, "sort_order")?;
    let order = if ascending { 1 } else { -1 };
    let per_page = query::number::<u64>(&params, "pagination")?.unwrap_or(0);
    let page = query::page(&params, per_page, None)?;
    let cursor_mode = cursor_page(&params, 0)?;
    let after = match params.get("cursor").map(String::as_str) {
        None | Some("") => None,
        Some(c) => {
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
            Some(CreditCursor {
                value: sql_sort_value(&value, sort)?,
                credit_ref: doc.get("r").and_then(Value::as_str).ok_or_else(missing)?.to_owned(),
                credit_index: doc.get("i").and_then(Value::as_i64).ok_or_else(missing)?,
            })
        }
    };
    let body = state
        .pipeline
        .db()
        .read(move |c| -> Result<ApiResult<Value>, crate::storage::StorageError> {
            if let Some(per_page) = cursor_mode {
                let mut rows = balances::credit_history(
                    c,
                    &address,
                    &filter,
                    sort,
                    ascending,
                    after.as_ref(),
                    0,
                    per_page + 1,
                )?;
                if rows.is_empty() {
                    return Ok(Err(ApiError::NotFound("No credit history found for this address".into())));
                }
                let has_more = rows.len() as u64 > per_page;
                rows.truncate(per_page as usize);
                let next = match rows.last() {
                    Some(last) if has_more => Some(encode_cursor(&BTreeMap::from([
                        ("s", json!(sort.as_str())),
                        ("v", sort_value(last, sort)),
                        ("o", json!(order)),
                        ("r", json!(last.credit_ref)),
                        ("i", json!(last.credit_index)),
                    ]))),
                    _ => None,
                };
                return Ok(Ok(json!({
                    "address": address,
                    "credit_history": rows.iter().map(entry_json).collect::<Vec<_>>(),
                    "pagination_per_page": per_page,
                    "next_cursor": next,
                })));
            }
            let offset = page.saturating_sub(1).saturating_mul(per_page);
            let rows =
                balances::credit_history(c, &address, &filter, sort, ascending, None, offset, per_page)?;
            if rows.is_empty() {
                return Ok(Err(ApiError::NotFound("No credit history found for this address".into())));
            }
            let (total, ..) = balances::credit_history_summary(c, &address, &filter)?;
            Ok(Ok(json!({
                "address": address,
                "credit_history": rows.iter().map(entry_json).collect::<Vec<_>>(),
                "pagination_page": page,
                "pagination_total": total,
                "pagination_per_page": per_page,
            })))
        })
        .await??;
    Ok(Json(body))
}

/// `GET /api/v0/addresses/{address}/credit_history/summary`: totals over the filtered history
/// (always 200; `total_outgoing` is negative).
pub(crate) async fn credit_history_summary(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let filter = credit_filter(&params)?;
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let (count, total, incoming, outgoing) = balances::credit_history_summary(c, &address, &filter)?;
            Ok(json!({
                "address": address,
                "entry_count": count,
                "total_amount": total,
                "total_incoming": incoming,
                "total_outgoing": outgoing,
            }))
        })
        .await?;
    Ok(Json(body))
}

/// `GET /api/v0/messages/{item_hash}/consumed_credits`: credits spent on a resource
/// (`credit_expense` entries naming it).
pub(crate) async fn consumed_credits(
    State(state): State<AppState>,
    Path(item_hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let consumed = balances::consumed_credits(c, None, Some(&item_hash))?;
            Ok(json!({"item_hash": item_hash, "consumed_credits": consumed}))
        })
        .await?;
    Ok(Json(body))
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
