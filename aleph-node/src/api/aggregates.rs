//! Aggregates: one address's (`/api/v0/aggregates/{address}.json`) and the list.

use std::collections::BTreeMap;

use aleph_core::api::paging::split_extra;
use aleph_core::api::{
    AddressAggregates, AddressAggregatesParams, AggregateCursorPage, AggregateEntry, AggregateInfo,
    AggregateList, AggregateListParams, AggregatePage, CursorInfo, PageInfo, SortOrder,
};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::{iso_offset, AppState, Wire};
use crate::corechannel::CORECHANNEL_KEY;
use crate::storage::messages::{encode_cursor, Paging};

/// `GET /api/v0/aggregates/{address}.json?keys=…&with_info=…&value_only=…`.
pub(crate) async fn of_address(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let address = address.strip_suffix(".json").unwrap_or(&address).to_owned();
    let p = AddressAggregatesParams::from_query(&params)?;
    let keys = p.keys;
    let with_info = p.with_info.unwrap_or(false);
    let value_only = p.value_only.unwrap_or(false);
    // The `corechannel` key of its publisher is this node's own replay (see `crate::corechannel`).
    let corechannel = state.pipeline.corechannel();
    let computed =
        if corechannel.serves(&address, &keys) { Some(corechannel.computed().await?) } else { None };
    let addr = address.clone();
    let rows = state
        .pipeline
        .db()
        .read(move |c| {
            let mut sql = String::from(
                "SELECT key, content, creation, last_updated, original_item_hash, last_update_item_hash
                 FROM aggregates WHERE owner = ?",
            );
            let mut args = vec![SqlValue::Text(addr)];
            if !keys.is_empty() {
                sql.push_str(&format!(" AND key IN ({})", vec!["?"; keys.len()].join(",")));
                args.extend(keys.into_iter().map(SqlValue::Text));
            }
            sql.push_str(" ORDER BY key");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, f64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    let mut rows = rows;
    if computed.is_some() {
        rows.retain(|r| r.0 != CORECHANNEL_KEY);
    }
    if rows.is_empty() && computed.is_none() {
        return Err(ApiError::NotFound(format!("no aggregate found for {address}")));
    }
    if value_only && rows.len() + usize::from(computed.is_some()) == 1 {
        // The bare document: free-form JSON.
        return Ok(Json(match &computed {
            Some(c) => c.view.to_json(),
            None => serde_json::from_str(&rows[0].1).unwrap_or(Value::Null),
        })
        .into_response());
    }
    let text = |t: Value| t.as_str().map(str::to_owned);
    let mut data = Map::new();
    let mut info = BTreeMap::new();
    for (key, content, created, updated, original, last) in rows {
        data.insert(key.clone(), serde_json::from_str(&content).unwrap_or(Value::Null));
        if with_info {
            info.insert(
                key,
                AggregateInfo {
                    created: text(iso_offset(created)),
                    last_updated: text(iso_offset(updated)),
                    original_item_hash: Some(original),
                    last_update_item_hash: Some(last),
                },
            );
        }
    }
    if let Some(c) = computed {
        data.insert(CORECHANNEL_KEY.to_owned(), c.view.to_json());
        if with_info {
            let (first, last) = (c.first.clone().unzip(), c.last.clone().unzip());
            info.insert(
                CORECHANNEL_KEY.to_owned(),
                AggregateInfo {
                    created: first.1.and_then(|t| text(iso_offset(t))),
                    last_updated: last.1.and_then(|t| text(iso_offset(t))),
                    original_item_hash: first.0,
                    last_update_item_hash: last.0,
                },
            );
        }
    }
    Ok(Wire(AddressAggregates { address, data, info }).into_response())
}

/// `GET /api/v0/aggregates` (and `.json`): every aggregate, filtered by keys and addresses.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<AggregateList>> {
    let p = AggregateListParams::from_query(&params)?;
    let (keys, addresses) = (p.keys, p.addresses);
    let by_creation = match p.sort_by.as_deref() {
        None | Some("") | Some("last_modified") => false,
        Some("creation_time") => true,
        Some(other) => return Err(ApiError::Unprocessable(format!("invalid sortBy {other:?}"))),
    };
    let ascending = SortOrder::is_ascending(p.sort_order);
    let paging = state.paging(&params, 20, None)?;
    if let Paging::Page { per_page, .. } = &paging {
        if *per_page == 0 || *per_page > 500 {
            return Err(ApiError::Unprocessable("pagination must be between 1 and 500".into()));
        }
    }
    let column = if by_creation { "creation" } else { "last_updated" };
    let dir = if ascending { "ASC" } else { "DESC" };
    let (limit, offset, after) = match &paging {
        Paging::Page { page, per_page } => (*per_page, (page - 1) * per_page, None),
        Paging::Cursor { after, per_page } => (*per_page + 1, 0, after.clone()),
    };
    let cursor_mode = matches!(paging, Paging::Cursor { .. });
    let (mut items, total) = state
        .pipeline
        .db()
        .read(move |c| {
            let mut clauses = Vec::new();
            let mut args = Vec::new();
            for (col, vals) in [("key", &keys), ("owner", &addresses)] {
                if !vals.is_empty() {
                    clauses.push(format!("{col} IN ({})", vec!["?"; vals.len()].join(",")));
                    args.extend(vals.iter().cloned().map(SqlValue::Text));
                }
            }
            let count_where = crate::storage::sql::where_all(&clauses);
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM aggregates{count_where}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            if let Some((t, k)) = after {
                let cmp = if ascending { ">" } else { "<" };
                clauses.push(format!("({column} {cmp} ? OR ({column} = ? AND owner || '/' || key > ?))"));
                args.extend([SqlValue::Real(t), SqlValue::Real(t), SqlValue::Text(k)]);
            }
            let w = crate::storage::sql::where_all(&clauses);
            let sql = format!(
                "SELECT owner, key, content, creation, last_updated FROM aggregates{w}
                 ORDER BY {column} {dir}, owner || '/' || key ASC LIMIT {limit} OFFSET {offset}"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    let content: String = r.get(2)?;
                    let (created, updated): (f64, f64) = (r.get(3)?, r.get(4)?);
                    let sort = if by_creation { created } else { updated };
                    let owner: String = r.get(0)?;
                    let key: String = r.get(1)?;
                    let cursor_key = format!("{owner}/{key}");
                    Ok((
                        AggregateEntry {
                            address: owner,
                            key,
                            content: serde_json::from_str::<Value>(&content).unwrap_or(Value::Null),
                            created: iso_offset(created).as_str().map(str::to_owned),
                            last_updated: iso_offset(updated).as_str().map(str::to_owned),
                        },
                        sort,
                        cursor_key,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, total))
        })
        .await?;
    let body = match paging {
        Paging::Page { page, per_page } => AggregateList::Page(AggregatePage {
            aggregates: items.into_iter().map(|(v, _, _)| v).collect(),
            page: PageInfo::new(page, per_page, total.max(0) as u64, "aggregates"),
        }),
        Paging::Cursor { per_page, .. } => {
            let more = split_extra(&mut items, per_page);
            let next_cursor =
                if more && cursor_mode { items.last().map(|(_, t, k)| encode_cursor(*t, k)) } else { None };
            AggregateList::Cursor(AggregateCursorPage {
                aggregates: items.into_iter().map(|(v, _, _)| v).collect(),
                cursor: CursorInfo { pagination_per_page: per_page, next_cursor },
            })
        }
    };
    Ok(Wire(body))
}
