//! Aggregates: one address's (`/api/v0/aggregates/{address}.json`) and the list.

use axum::extract::{Path, Query, State};
use axum::Json;
use rusqlite::types::Value as SqlValue;
use serde_json::{json, Map, Value};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{iso_offset, AppState};
use crate::corechannel::CORECHANNEL_KEY;
use crate::storage::messages::{encode_cursor, Paging};

/// `GET /api/v0/aggregates/{address}.json?keys=…&with_info=…&value_only=…`.
pub(crate) async fn of_address(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let address = address.strip_suffix(".json").unwrap_or(&address).to_owned();
    let keys = query::list(&params, "keys");
    let with_info = query::boolean(&params, "with_info")?.unwrap_or(false);
    let value_only = query::boolean(&params, "value_only")?.unwrap_or(false);
    let _limit = query::number::<u64>(&params, "limit")?;
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
        return Ok(Json(match &computed {
            Some(c) => c.view.to_json(),
            None => serde_json::from_str(&rows[0].1).unwrap_or(Value::Null),
        }));
    }
    let mut data = Map::new();
    let mut info = Map::new();
    for (key, content, created, updated, original, last) in rows {
        data.insert(key.clone(), serde_json::from_str(&content).unwrap_or(Value::Null));
        if with_info {
            info.insert(
                key,
                json!({"created": iso_offset(created), "last_updated": iso_offset(updated),
                       "original_item_hash": original, "last_update_item_hash": last}),
            );
        }
    }
    if let Some(c) = computed {
        data.insert(CORECHANNEL_KEY.to_owned(), c.view.to_json());
        if with_info {
            let (first, last) = (c.first.clone().unzip(), c.last.clone().unzip());
            info.insert(
                CORECHANNEL_KEY.to_owned(),
                json!({"created": first.1.map_or(Value::Null, iso_offset),
                       "last_updated": last.1.map_or(Value::Null, iso_offset),
                       "original_item_hash": first.0, "last_update_item_hash": last.0}),
            );
        }
    }
    Ok(Json(json!({"address": address, "data": data, "info": info})))
}

/// `GET /api/v0/aggregates` (and `.json`): every aggregate, filtered by keys and addresses.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let keys = query::list(&params, "keys");
    let addresses = query::list(&params, "addresses");
    let by_creation = match params.get("sortBy").map(String::as_str) {
        None | Some("") | Some("last_modified") => false,
        Some("creation_time") => true,
        Some(other) => return Err(ApiError::Unprocessable(format!("invalid sortBy {other:?}"))),
    };
    let ascending = query::ascending(&params, "sortOrder")?;
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
                    Ok((
                        json!({"address": owner, "key": key,
                               "content": serde_json::from_str::<Value>(&content).unwrap_or(Value::Null),
                               "created": iso_offset(created), "last_updated": iso_offset(updated)}),
                        sort,
                        format!("{owner}/{key}"),
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, total))
        })
        .await?;
    let body = match paging {
        Paging::Page { page, per_page } => json!({
            "aggregates": items.into_iter().map(|(v, _, _)| v).collect::<Vec<_>>(),
            "pagination_per_page": per_page, "pagination_page": page, "pagination_total": total,
            "pagination_item": "aggregates",
        }),
        Paging::Cursor { per_page, .. } => {
            let more = items.len() as u64 > per_page;
            items.truncate(per_page as usize);
            let next =
                if more && cursor_mode { items.last().map(|(_, t, k)| encode_cursor(*t, k)) } else { None };
            json!({"aggregates": items.into_iter().map(|(v, _, _)| v).collect::<Vec<_>>(),
                   "pagination_per_page": per_page, "next_cursor": next})
        }
    };
    Ok(Json(body))
}
