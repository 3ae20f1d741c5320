//! Posts: `GET /api/v0/posts.json` (the SDK's strict 19-key shape) and `/api/v1/posts.json`.

use axum::extract::{Path, Query, State};
use axum::Json;
use rusqlite::types::Value as SqlValue;
use serde_json::{json, Map, Value};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{iso_offset, AppState};
use crate::storage::messages::{encode_cursor, Paging};

struct PostQuery {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
}

fn build(params: &Params) -> ApiResult<PostQuery> {
    let mut q = PostQuery { clauses: vec!["p.amends IS NULL".into()], params: Vec::new() };
    let mut any_of = |col: &str, key: &str| {
        let vals = query::list(params, key);
        if !vals.is_empty() {
            q.clauses.push(format!("{col} IN ({})", vec!["?"; vals.len()].join(",")));
            q.params.extend(vals.into_iter().map(SqlValue::Text));
        }
    };
    any_of("p.owner", "addresses");
    any_of("p.item_hash", "hashes");
    any_of("p.ref", "refs");
    any_of("p.type", "types");
    any_of("p.channel", "channels");
    let tags = query::list(params, "tags");
    if !tags.is_empty() {
        q.clauses.push(format!(
            "EXISTS (SELECT 1 FROM messages tm, json_each(tm.tags) WHERE tm.item_hash = p.item_hash AND json_each.value IN ({}))",
            vec!["?"; tags.len()].join(",")
        ));
        q.params.extend(tags.into_iter().map(SqlValue::Text));
    }
    let (start, end) = query::date_range(params)?;
    if start > 0.0 {
        q.clauses.push("p.last_updated >= ?".into());
        q.params.push(SqlValue::Real(start));
    }
    if end > 0.0 {
        q.clauses.push("p.last_updated < ?".into());
        q.params.push(SqlValue::Real(end));
    }
    Ok(q)
}

const SELECT: &str = "SELECT p.item_hash, p.owner, p.type, p.ref, p.channel, p.creation, p.last_updated, p.content,
        lm.item_hash, lm.type, lm.chain, lm.signature, lm.item_type, lm.item_content, lm.size, lm.time, lm.content_type,
        om.chain, om.signature, lm.content
    FROM posts p
    JOIN messages om ON om.item_hash = p.item_hash
    JOIN messages lm ON lm.item_hash = COALESCE(p.latest_amend, p.item_hash)";

fn row_v0(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let original: String = r.get(0)?;
    let latest: String = r.get(8)?;
    let latest_content: String = r.get(19)?;
    let latest_content: Value = serde_json::from_str(&latest_content).unwrap_or(Value::Null);
    let mut m = Map::new();
    m.insert("chain".into(), Value::String(r.get(17)?));
    m.insert("item_hash".into(), Value::String(latest.clone()));
    m.insert("sender".into(), Value::String(r.get(1)?));
    m.insert("type".into(), Value::String(if latest != original { "amend".into() } else { r.get(2)? }));
    m.insert("channel".into(), r.get::<_, Option<String>>(4)?.map_or(Value::Null, Value::String));
    m.insert("confirmed".into(), Value::Bool(false));
    m.insert("confirmations".into(), Value::Array(Vec::new()));
    m.insert("content".into(), latest_content.get("content").cloned().unwrap_or(Value::Null));
    m.insert("item_content".into(), r.get::<_, Option<String>>(13)?.map_or(Value::Null, Value::String));
    m.insert("item_type".into(), Value::String(r.get(12)?));
    m.insert("signature".into(), r.get::<_, Option<String>>(11)?.map_or(Value::Null, Value::String));
    m.insert("size".into(), json!(r.get::<_, i64>(14)?));
    m.insert("time".into(), json!(r.get::<_, f64>(15)?));
    m.insert("original_item_hash".into(), Value::String(original.clone()));
    m.insert("original_signature".into(), r.get::<_, Option<String>>(18)?.map_or(Value::Null, Value::String));
    m.insert("original_type".into(), Value::String(r.get(2)?));
    m.insert("hash".into(), Value::String(original));
    m.insert("address".into(), Value::String(r.get(1)?));
    m.insert("ref".into(), r.get::<_, Option<String>>(3)?.map_or(Value::Null, Value::String));
    Ok(Value::Object(m))
}

fn row_v1(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let latest_content: String = r.get(19)?;
    let latest_content: Value = serde_json::from_str(&latest_content).unwrap_or(Value::Null);
    Ok(json!({
        "item_hash": r.get::<_, String>(8)?,
        "content": latest_content.get("content").cloned().unwrap_or(Value::Null),
        "original_item_hash": r.get::<_, String>(0)?,
        "original_type": r.get::<_, String>(2)?,
        "address": r.get::<_, String>(1)?,
        "ref": r.get::<_, Option<String>>(3)?,
        "channel": r.get::<_, Option<String>>(4)?,
        "created": iso_offset(r.get(5)?),
        "last_updated": iso_offset(r.get(6)?),
    }))
}

async fn list(state: AppState, params: Params, path_page: Option<u64>, v1: bool) -> ApiResult<Json<Value>> {
    let mut q = build(&params)?;
    let ascending = query::ascending(&params, "sortOrder")?;
    let paging = state.paging(&params, 20, path_page)?;
    let order = if ascending {
        "p.last_updated ASC, p.item_hash ASC"
    } else {
        "p.last_updated DESC, p.item_hash ASC"
    };
    let (limit, offset) = match &paging {
        Paging::Page { page, per_page } => {
            (*per_page, if *per_page == 0 { 0 } else { (page - 1) * per_page })
        }
        Paging::Cursor { after, per_page } => {
            if let Some((t, h)) = after {
                let cmp = if ascending { ">" } else { "<" };
                q.clauses
                    .push(format!("(p.last_updated {cmp} ? OR (p.last_updated = ? AND p.item_hash > ?))"));
                q.params.extend([SqlValue::Real(*t), SqlValue::Real(*t), SqlValue::Text(h.clone())]);
            }
            (*per_page + 1, 0)
        }
    };
    let cursor_mode = matches!(paging, Paging::Cursor { .. });
    let where_sql = format!(" WHERE {}", q.clauses.join(" AND "));
    let limit_sql = if limit == 0 { String::new() } else { format!(" LIMIT {limit} OFFSET {offset}") };
    let sql = format!("{SELECT}{where_sql} ORDER BY {order}{limit_sql}");
    let count_sql = format!("SELECT COUNT(*) FROM posts p{where_sql}");
    let (mut posts, keys, total) = state
        .pipeline
        .db()
        .read(move |c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(q.params.iter()), |r| {
                    Ok((
                        if v1 { row_v1(r)? } else { row_v0(r)? },
                        r.get::<_, f64>(6)?,
                        r.get::<_, String>(0)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = if cursor_mode {
                0
            } else {
                c.query_row(&count_sql, rusqlite::params_from_iter(q.params.iter()), |r| r.get(0))?
            };
            let keys: Vec<(f64, String)> = rows.iter().map(|(_, t, h)| (*t, h.clone())).collect();
            Ok((rows.into_iter().map(|(v, _, _)| v).collect::<Vec<_>>(), keys, total))
        })
        .await?;
    let body = match paging {
        Paging::Page { page, per_page } => json!({
            "posts": posts, "pagination_page": page, "pagination_total": total,
            "pagination_per_page": per_page, "pagination_item": "posts",
        }),
        Paging::Cursor { per_page, .. } => {
            let more = posts.len() as u64 > per_page;
            posts.truncate(per_page as usize);
            let next =
                if more { keys.get(per_page as usize - 1).map(|(t, h)| encode_cursor(*t, h)) } else { None };
            json!({"posts": posts, "pagination_per_page": per_page, "next_cursor": next})
        }
    };
    Ok(Json(body))
}

fn page_of(path: &str) -> ApiResult<u64> {
    path.strip_suffix(".json")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ApiError::NotFound("no such page".into()))
}

/// `GET /api/v0/posts.json`.
pub(crate) async fn list_v0(State(s): State<AppState>, Query(p): Query<Params>) -> ApiResult<Json<Value>> {
    list(s, p, None, false).await
}

/// `GET /api/v0/posts/page/{page}.json`.
pub(crate) async fn list_v0_page(
    State(s): State<AppState>,
    Path(page): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Value>> {
    list(s, p, Some(page_of(&page)?), false).await
}

/// `GET /api/v1/posts.json`.
pub(crate) async fn list_v1(State(s): State<AppState>, Query(p): Query<Params>) -> ApiResult<Json<Value>> {
    list(s, p, None, true).await
}

/// `GET /api/v1/posts/page/{page}.json`.
pub(crate) async fn list_v1_page(
    State(s): State<AppState>,
    Path(page): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Value>> {
    list(s, p, Some(page_of(&page)?), true).await
}
