//! Posts: `GET /api/v0/posts.json` (the SDK's strict 19-key shape) and `/api/v1/posts.json`.

use aleph_core::api::paging::split_extra;
use aleph_core::api::{
    CursorInfo, PageInfo, Post, PostCursorPage, PostList, PostPage, PostParams, PostV1, PostV1CursorPage,
    PostV1List, PostV1Page, SortBy, SortOrder,
};
use axum::extract::{Path, Query, State};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::{iso_offset, AppState, Wire};
use crate::storage::messages::{encode_cursor, Paging};
use crate::storage::StorageError;

struct PostQuery {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
    ascending: bool,
    by_tx_time: bool,
}

/// The filters and order ([`PostParams`]), with the reference's rules that join parameters.
fn build(params: &Params) -> ApiResult<PostQuery> {
    let p = PostParams::from_query(params)?;
    if p.sort_by == Some(SortBy::TxTime) && params.contains_key("cursor") {
        return Err(ApiError::Unprocessable("sortBy=tx-time cannot be used with a cursor".into()));
    }
    let (start, end) = aleph_core::api::date_range(p.start_date, p.end_date)?;
    let mut q = PostQuery {
        clauses: vec!["p.amends IS NULL".into()],
        params: Vec::new(),
        ascending: SortOrder::is_ascending(p.sort_order),
        by_tx_time: p.sort_by == Some(SortBy::TxTime),
    };
    let mut any_of = |col: &str, vals: Vec<String>| {
        if !vals.is_empty() {
            q.clauses.push(format!("{col} IN ({})", vec!["?"; vals.len()].join(",")));
            q.params.extend(vals.into_iter().map(SqlValue::Text));
        }
    };
    any_of("p.owner", p.addresses);
    any_of("p.item_hash", p.hashes.iter().map(ToString::to_string).collect());
    any_of("p.ref", p.refs);
    any_of("p.type", p.types);
    any_of("p.channel", p.channels);
    if !p.tags.is_empty() {
        q.clauses.push(format!(
            "EXISTS (SELECT 1 FROM messages tm, json_each(tm.tags) WHERE tm.item_hash = p.item_hash AND json_each.value IN ({}))",
            vec!["?"; p.tags.len()].join(",")
        ));
        q.params.extend(p.tags.into_iter().map(SqlValue::Text));
    }
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

impl PostQuery {
    /// `ORDER BY`: the last update (ties by original hash), or with `sortBy=tx-time` the
    /// original's earliest confirmation (unconfirmed first when descending, last when
    /// ascending), then its creation, then the latest version's hash, as the reference orders
    /// them.
    fn order(&self) -> &'static str {
        match (self.by_tx_time, self.ascending) {
            (false, true) => "p.last_updated ASC, p.item_hash ASC",
            (false, false) => "p.last_updated DESC, p.item_hash ASC",
            (true, true) => {
                "om.first_confirmed_at IS NULL, om.first_confirmed_at ASC, p.creation ASC, lm.item_hash ASC"
            }
            (true, false) => {
                "om.first_confirmed_at IS NOT NULL, om.first_confirmed_at DESC, p.creation DESC, lm.item_hash ASC"
            }
        }
    }
}

const SELECT: &str = "SELECT p.item_hash, p.owner, p.type, p.ref, p.channel, p.creation, p.last_updated, p.content,
        lm.item_hash, lm.type, lm.chain, lm.signature, lm.item_type, lm.item_content, lm.size, lm.time, lm.content_type,
        om.chain, om.signature, lm.content
    FROM posts p
    JOIN messages om ON om.item_hash = p.item_hash
    JOIN messages lm ON lm.item_hash = COALESCE(p.latest_amend, p.item_hash)";

fn row_v0(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    let original: String = r.get(0)?;
    let latest: String = r.get(8)?;
    let latest_content: String = r.get(19)?;
    let latest_content: Value = serde_json::from_str(&latest_content).unwrap_or(Value::Null);
    let chain: String = r.get(17)?;
    let chain = chain.parse().map_err(|e: aleph_core::chain::UnknownChain| {
        rusqlite::Error::FromSqlConversionFailure(17, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Post {
        chain,
        post_type: if latest != original { "amend".into() } else { r.get(2)? },
        item_hash: latest,
        sender: r.get(1)?,
        channel: r.get(4)?,
        confirmed: false,
        confirmations: Vec::new(),
        content: latest_content.get("content").cloned().unwrap_or(Value::Null),
        item_content: r.get(13)?,
        item_type: Some(r.get(12)?),
        signature: r.get::<_, Option<String>>(11)?.map(Value::String),
        size: Some(r.get::<_, i64>(14)?.max(0) as u64),
        time: r.get(15)?,
        original_item_hash: Some(original.clone()),
        original_signature: r.get::<_, Option<String>>(18)?.map(Value::String),
        original_type: Some(r.get(2)?),
        hash: Some(original),
        address: Some(r.get(1)?),
        reference: r.get::<_, Option<String>>(3)?.map(Value::String),
    })
}

fn row_v1(r: &rusqlite::Row<'_>) -> rusqlite::Result<PostV1> {
    let latest_content: String = r.get(19)?;
    let latest_content: Value = serde_json::from_str(&latest_content).unwrap_or(Value::Null);
    let time = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(iso_offset(r.get(i)?).as_str().map(str::to_owned))
    };
    Ok(PostV1 {
        item_hash: r.get(8)?,
        content: latest_content.get("content").cloned().unwrap_or(Value::Null),
        original_item_hash: Some(r.get(0)?),
        original_type: Some(r.get(2)?),
        address: Some(r.get(1)?),
        reference: r.get::<_, Option<String>>(3)?.map(Value::String),
        channel: r.get(4)?,
        created: time(5)?,
        last_updated: time(6)?,
    })
}

/// One page of posts, in the form each listing wraps in its own answer.
enum Posts<P> {
    Page(Vec<P>, PageInfo),
    Cursor(Vec<P>, CursorInfo),
}

/// The confirmations of a v0 post's latest version, as the reference gives them (`confirmed` is
/// whether there is one).
fn confirm_v0(c: &rusqlite::Connection, post: &mut Post) -> Result<(), StorageError> {
    post.confirmations = crate::storage::messages::confirmations(c, &post.item_hash)?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?;
    post.confirmed = !post.confirmations.is_empty();
    Ok(())
}

/// v1 posts carry no confirmations.
fn no_confirmations(_: &rusqlite::Connection, _: &mut PostV1) -> Result<(), StorageError> {
    Ok(())
}

async fn list<P: Send + 'static>(
    state: AppState,
    params: Params,
    path_page: Option<u64>,
    row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<P>,
    finish: fn(&rusqlite::Connection, &mut P) -> Result<(), StorageError>,
) -> ApiResult<Posts<P>> {
    let mut q = build(&params)?;
    let ascending = q.ascending;
    let paging = state.paging(&params, 20, path_page)?;
    let order = q.order();
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
                    Ok((row(r)?, r.get::<_, f64>(6)?, r.get::<_, String>(0)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = if cursor_mode {
                0
            } else {
                c.query_row(&count_sql, rusqlite::params_from_iter(q.params.iter()), |r| r.get(0))?
            };
            let keys: Vec<(f64, String)> = rows.iter().map(|(_, t, h)| (*t, h.clone())).collect();
            let mut posts = rows.into_iter().map(|(v, _, _)| v).collect::<Vec<_>>();
            for post in &mut posts {
                finish(c, post)?;
            }
            Ok((posts, keys, total))
        })
        .await?;
    Ok(match paging {
        Paging::Page { page, per_page } => {
            Posts::Page(posts, PageInfo::new(page, per_page, total.max(0) as u64, "posts"))
        }
        Paging::Cursor { per_page, .. } => {
            let more = split_extra(&mut posts, per_page);
            let next_cursor =
                if more { keys.get(per_page as usize - 1).map(|(t, h)| encode_cursor(*t, h)) } else { None };
            Posts::Cursor(posts, CursorInfo { pagination_per_page: per_page, next_cursor })
        }
    })
}

async fn list_v0_posts(state: AppState, params: Params, path_page: Option<u64>) -> ApiResult<Wire<PostList>> {
    Ok(Wire(match list(state, params, path_page, row_v0, confirm_v0).await? {
        Posts::Page(posts, page) => PostList::Page(PostPage { posts, page }),
        Posts::Cursor(posts, cursor) => PostList::Cursor(PostCursorPage { posts, cursor }),
    }))
}

async fn list_v1_posts(
    state: AppState,
    params: Params,
    path_page: Option<u64>,
) -> ApiResult<Wire<PostV1List>> {
    Ok(Wire(match list(state, params, path_page, row_v1, no_confirmations).await? {
        Posts::Page(posts, page) => PostV1List::Page(PostV1Page { posts, page }),
        Posts::Cursor(posts, cursor) => PostV1List::Cursor(PostV1CursorPage { posts, cursor }),
    }))
}

fn page_of(path: &str) -> ApiResult<u64> {
    path.strip_suffix(".json")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ApiError::NotFound("no such page".into()))
}

/// `GET /api/v0/posts.json`.
pub(crate) async fn list_v0(State(s): State<AppState>, Query(p): Query<Params>) -> ApiResult<Wire<PostList>> {
    list_v0_posts(s, p, None).await
}

/// `GET /api/v0/posts/page/{page}.json`.
pub(crate) async fn list_v0_page(
    State(s): State<AppState>,
    Path(page): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Wire<PostList>> {
    list_v0_posts(s, p, Some(page_of(&page)?)).await
}

/// `GET /api/v1/posts.json`.
pub(crate) async fn list_v1(
    State(s): State<AppState>,
    Query(p): Query<Params>,
) -> ApiResult<Wire<PostV1List>> {
    list_v1_posts(s, p, None).await
}

/// `GET /api/v1/posts/page/{page}.json`.
pub(crate) async fn list_v1_page(
    State(s): State<AppState>,
    Path(page): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Wire<PostV1List>> {
    list_v1_posts(s, p, Some(page_of(&page)?)).await
}
