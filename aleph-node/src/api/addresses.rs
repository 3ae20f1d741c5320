//! Per-address views: stats, files, post types, channels, and authorizations from `security`
//! aggregates.

use std::collections::BTreeMap;

use aleph_core::api::paging::split_extra;
use aleph_core::api::{
    AccountFile, AccountFileList, AccountFileParams, AccountFileSeconds, AccountFiles,
    AccountFilesCursorPage, AddressChannels, AddressPostTypes, AddressStats, AddressStatsMap,
    AddressStatsPage, AddressStatsParams, AuthorizationParams, AuthorizationsPage, ChannelList, CursorInfo,
    GranteeParams, GranterParams, PageInfo, PageNumberParams, SortOrder,
};
use axum::extract::{Path, Query, State};
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{AppState, Wire};
use crate::storage::messages::Paging;

/// The counted types: the key of each in the stats, and the message type.
const STAT_TYPES: [(&str, &str); 6] = [
    ("post", "POST"),
    ("aggregate", "AGGREGATE"),
    ("store", "STORE"),
    ("forget", "FORGET"),
    ("program", "PROGRAM"),
    ("instance", "INSTANCE"),
];

fn stats_of(rows: &[(String, String, i64)]) -> BTreeMap<String, AddressStats> {
    let mut out: BTreeMap<String, AddressStats> = BTreeMap::new();
    for (address, message_type, n) in rows {
        out.entry(address.clone()).or_default().add(message_type, (*n).max(0) as u64);
    }
    out
}

/// `GET /api/v0/addresses/stats.json?addresses[]=…` (also `addresses=a,b`).
pub(crate) async fn stats_v0(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Wire<AddressStatsMap>> {
    let mut addresses: Vec<String> = Vec::new();
    for (k, v) in params {
        if k == "addresses[]" || k == "addresses" {
            addresses.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_owned));
        }
    }
    let rows = state
        .pipeline
        .db()
        .read(move |c| {
            let (filter, args): (String, Vec<SqlValue>) = if addresses.is_empty() {
                (String::new(), Vec::new())
            } else {
                (
                    format!(" WHERE sender IN ({})", vec!["?"; addresses.len()].join(",")),
                    addresses.into_iter().map(SqlValue::Text).collect(),
                )
            };
            let mut stmt = c.prepare(&format!(
                "SELECT sender, type, COUNT(*) FROM messages{filter} GROUP BY sender, type"
            ))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    Ok(Wire(AddressStatsMap { data: stats_of(&rows) }))
}

/// `GET /api/v1/addresses/stats.json`: paginated, sortable, with a substring filter.
pub(crate) async fn stats_v1(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<AddressStatsPage>> {
    let p = AddressStatsParams::from_query(&params)?;
    let contains = p.address_contains.unwrap_or_default();
    if contains.len() > 66 {
        return Err(ApiError::Unprocessable("addressContains is limited to 66 characters".into()));
    }
    let sort_by = p.sort_by.unwrap_or_else(|| "total".into());
    let sort_type = match sort_by.as_str() {
        "total" | "" => None,
        other => Some(
            STAT_TYPES
                .iter()
                .find(|(k, _)| *k == other)
                .map(|(_, t)| *t)
                .ok_or_else(|| ApiError::Unprocessable(format!("invalid sortBy {other:?}")))?,
        ),
    };
    let ascending = SortOrder::is_ascending(p.sort_order);
    let (page, per_page) = match state.paging(&params, 20, None)? {
        crate::storage::messages::Paging::Page { page, per_page } => (page, per_page),
        crate::storage::messages::Paging::Cursor { per_page, .. } => (1, per_page),
    };
    let (rows, total) = state
        .pipeline
        .db()
        .read(move |c| {
            let like = format!("%{}%", contains.to_lowercase());
            let order_expr = match sort_type {
                None => "COUNT(*)".to_owned(),
                Some(t) => format!("SUM(type = '{t}')"),
            };
            let dir = if ascending { "ASC" } else { "DESC" };
            let limit = crate::storage::sql::page_limit(page, per_page);
            let mut stmt = c.prepare(&format!(
                "SELECT sender FROM messages WHERE lower(sender) LIKE ?1 GROUP BY sender ORDER BY {order_expr} {dir}, sender{limit}"
            ))?;
            let senders: Vec<String> = stmt.query_map([&like], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            let total: i64 = c.query_row("SELECT COUNT(DISTINCT sender) FROM messages WHERE lower(sender) LIKE ?1", [&like], |r| r.get(0))?;
            let mut rows = Vec::new();
            let mut stmt = c.prepare_cached("SELECT sender, type, COUNT(*) FROM messages WHERE sender = ?1 GROUP BY type")?;
            for s in &senders {
                rows.extend(stmt.query_map([s], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?);
            }
            Ok((rows, total))
        })
        .await?;
    Ok(Wire(AddressStatsPage {
        data: stats_of(&rows),
        page: PageInfo::new(page, per_page, total.max(0) as u64, "addresses"),
    }))
}

/// One file pin of an address, as `/addresses/{address}/files` lists it.
struct FileRow {
    file_hash: String,
    size: i64,
    kind: String,
    created: f64,
    item_hash: String,
}

impl FileRow {
    fn file_type(&self) -> String {
        if self.kind == "dir" {
            "directory".into()
        } else {
            self.kind.clone()
        }
    }

    /// The page-mode form: `created` in RFC 3339.
    fn listed(&self) -> AccountFile {
        AccountFile {
            file_hash: self.file_hash.clone(),
            size: self.size.max(0) as u64,
            file_type: Some(self.file_type()),
            created: aleph_core::message::time_to_rfc3339(self.created),
            item_hash: Some(self.item_hash.clone()),
        }
    }

    /// The cursor-mode form: `created` in epoch seconds, as the reference answers.
    fn listed_seconds(&self) -> AccountFileSeconds {
        AccountFileSeconds {
            file_hash: self.file_hash.clone(),
            size: self.size.max(0) as u64,
            file_type: self.file_type(),
            created: self.created,
            item_hash: self.item_hash.clone(),
        }
    }
}

/// `GET /api/v0/addresses/{address}/files`: the files an address's STORE messages pin, newest
/// first (`sort_order=1`: oldest first; ties by item hash), in pages or, when `cursor` is given
/// (even empty), in keyset pages with a `next_cursor` made of the last file's (created,
/// item_hash). `total_size` and `pagination_total` count every file of the address, whatever
/// `file_hash` selects; an empty page is 404, as in the reference.
pub(crate) async fn files(
    State(state): State<AppState>,
    Path(address): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<AccountFileList>> {
    let paging = state.paging(&params, 100, None)?;
    let p = AccountFileParams::from_query(&params)?;
    let ascending = SortOrder::is_ascending(p.sort_order);
    let file_hash = p.file_hash;
    let addr = address.clone();
    let query_paging = paging.clone();
    let (mut rows, total, total_size) = state
        .pipeline
        .db()
        .read(move |c| {
            let mut filter = "p.owner = ?1 AND p.kind = 'message'".to_owned();
            let mut args = vec![SqlValue::Text(addr)];
            let (total, total_size): (i64, i64) = c.query_row(
                &format!("SELECT COUNT(*), COALESCE(SUM(f.size), 0) FROM file_pins p JOIN files f ON f.hash = p.file_hash WHERE {filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some(h) = file_hash {
                args.push(SqlValue::Text(h));
                filter.push_str(&format!(" AND p.file_hash = ?{}", args.len()));
            }
            let (cmp, dir) = if ascending { (">", "ASC") } else { ("<", "DESC") };
            let limit = match query_paging {
                Paging::Page { page, per_page } => crate::storage::sql::page_limit(page, per_page),
                Paging::Cursor { after, per_page } => {
                    if let Some((t, h)) = after {
                        args.push(SqlValue::Real(t));
                        args.push(SqlValue::Text(h));
                        let (t, h) = (args.len() - 1, args.len());
                        filter.push_str(&format!(
                            " AND (p.created {cmp} ?{t} OR (p.created = ?{t} AND p.item_hash > ?{h}))"
                        ));
                    }
                    format!(" LIMIT {}", per_page + 1)
                }
            };
            let mut stmt = c.prepare(&format!(
                "SELECT p.file_hash, f.size, f.type, p.created, p.item_hash
                 FROM file_pins p JOIN files f ON f.hash = p.file_hash
                 WHERE {filter} ORDER BY p.created {dir}, p.item_hash ASC{limit}"
            ))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok(FileRow {
                        file_hash: r.get(0)?,
                        size: r.get(1)?,
                        kind: r.get(2)?,
                        created: r.get(3)?,
                        item_hash: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, total, total_size))
        })
        .await?;
    match paging {
        Paging::Page { page, per_page } => {
            if rows.is_empty() {
                return Err(ApiError::NotFound(format!("no files for {address}")));
            }
            Ok(Wire(AccountFileList::Page(AccountFiles {
                address,
                total_size: total_size.max(0) as u64,
                files: rows.iter().map(FileRow::listed).collect(),
                pagination_page: page,
                pagination_total: total.max(0) as u64,
                pagination_per_page: per_page,
            })))
        }
        Paging::Cursor { per_page, .. } => {
            let has_more = split_extra(&mut rows, per_page);
            let Some(last) = rows.last() else {
                return Err(ApiError::NotFound(format!("no files for {address}")));
            };
            let next_cursor =
                has_more.then(|| crate::storage::messages::encode_cursor(last.created, &last.item_hash));
            Ok(Wire(AccountFileList::Cursor(AccountFilesCursorPage {
                address,
                total_size: total_size.max(0) as u64,
                files: rows.iter().map(FileRow::listed_seconds).collect(),
                cursor: CursorInfo { pagination_per_page: per_page, next_cursor },
            })))
        }
    }
}

async fn distinct(state: &AppState, sql: &'static str, address: String) -> ApiResult<Vec<String>> {
    Ok(state
        .pipeline
        .db()
        .read(move |c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map([address], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?)
}

/// `GET /api/v0/addresses/{address}/post_types`.
pub(crate) async fn post_types(
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> ApiResult<Wire<AddressPostTypes>> {
    let types = distinct(
        &state,
        "SELECT DISTINCT type FROM posts WHERE owner = ?1 AND amends IS NULL ORDER BY type",
        address.clone(),
    )
    .await?;
    Ok(Wire(AddressPostTypes { address, post_types: types }))
}

/// `GET /api/v0/addresses/{address}/channels`.
pub(crate) async fn channels(
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> ApiResult<Wire<AddressChannels>> {
    let channels = distinct(
        &state,
        "SELECT DISTINCT channel FROM messages WHERE sender = ?1 AND channel IS NOT NULL ORDER BY channel",
        address.clone(),
    )
    .await?;
    Ok(Wire(AddressChannels { address, channels }))
}

/// `GET /api/v0/channels/list.json`.
pub(crate) async fn all_channels(State(state): State<AppState>) -> ApiResult<Wire<ChannelList>> {
    let channels: Vec<String> = state
        .pipeline
        .db()
        .read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT channel FROM messages WHERE channel IS NOT NULL ORDER BY channel",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    Ok(Wire(ChannelList { channels }))
}

fn entry_view(entry: &Value) -> Value {
    let mut out = Map::new();
    for key in ["types", "channels", "chain", "post_types", "aggregate_keys"] {
        if let Some(v) = entry.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn matches_filters(entry: &Value, filters: &AuthorizationParams) -> bool {
    let list_has = |key: &str, wanted: &[String]| {
        wanted.is_empty()
            || entry
                .get(key)
                .and_then(Value::as_array)
                .is_some_and(|a| wanted.iter().all(|w| a.iter().any(|v| v.as_str() == Some(w))))
    };
    let chains = &filters.chains;
    list_has("types", &filters.types)
        && list_has("channels", &filters.channels)
        && list_has("post_types", &filters.post_types)
        && list_has("aggregate_keys", &filters.aggregate_keys)
        && (chains.is_empty()
            || entry.get("chain").and_then(Value::as_str).is_some_and(|c| chains.iter().any(|w| w == c)))
}

async fn authorizations(
    state: AppState,
    address: String,
    params: Params,
    granted: bool,
) -> ApiResult<Wire<AuthorizationsPage>> {
    let address = address.strip_suffix(".json").unwrap_or(&address).to_owned();
    let addr = address.clone();
    let rows: Vec<(String, String)> = state
        .pipeline
        .db()
        .read(move |c| {
            let sql = if granted {
                "SELECT owner, content FROM aggregates WHERE key = 'security' AND owner = ?1"
            } else {
                "SELECT owner, content FROM aggregates WHERE key = 'security' AND instr(lower(content), lower(?1)) > 0"
            };
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map([addr], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    let filters = AuthorizationParams::from_query(&params)?;
    let other_filter = if granted {
        GranteeParams::from_query(&params)?.grantee
    } else {
        GranterParams::from_query(&params)?.granter
    };
    let mut by_other: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (owner, content) in rows {
        let content: Value = serde_json::from_str(&content).unwrap_or(Value::Null);
        for entry in content.get("authorizations").and_then(Value::as_array).into_iter().flatten() {
            let Some(grantee) = entry.get("address").and_then(Value::as_str) else { continue };
            if !granted && !grantee.eq_ignore_ascii_case(&address) {
                continue;
            }
            let other = if granted { grantee.to_owned() } else { owner.clone() };
            if other_filter.as_deref().is_some_and(|f| !f.eq_ignore_ascii_case(&other))
                || !matches_filters(entry, &filters)
            {
                continue;
            }
            by_other.entry(other).or_default().push(entry_view(entry));
        }
    }
    let paging = PageNumberParams::from_query(&params)?;
    let per_page = paging.pagination.unwrap_or(20);
    if per_page == 0 || per_page > 500 {
        return Err(ApiError::Unprocessable("pagination must be between 1 and 500".into()));
    }
    let page = match paging.page {
        None | Some(0) => 1,
        Some(page) => query::page_in_range(page, per_page)?,
    };
    let total = by_other.len();
    let authorizations =
        by_other.into_iter().skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
    Ok(Wire(AuthorizationsPage {
        address,
        authorizations,
        page: PageInfo::new(page, per_page, total as u64, "authorizations"),
    }))
}

/// `GET /api/v0/authorizations/granted/{address}.json`.
pub(crate) async fn granted(
    State(s): State<AppState>,
    Path(a): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Wire<AuthorizationsPage>> {
    authorizations(s, a, p, true).await
}

/// `GET /api/v0/authorizations/received/{address}.json`.
pub(crate) async fn received(
    State(s): State<AppState>,
    Path(a): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult<Wire<AuthorizationsPage>> {
    authorizations(s, a, p, false).await
}
