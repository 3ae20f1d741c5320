//! Message endpoints: submit, list, and one message with its status.

use std::time::Duration;

use aleph_core::api::{
    HashEntry, HashesPage, MessageCursorPage, MessageList, MessagePage, MessageStatusInfo,
    MessageWithStatusBody, PageInfo, PublicationStatus, SubmitResponse,
};
use aleph_core::message::MessageStatus;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::OptionalExtension;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{iso_z as iso, AppState, Wire};
use crate::pipeline::{Event, Intake, Origin};
use crate::storage::messages as store;
use crate::storage::sql;
use crate::storage::StorageError;

fn status_code_of(status: MessageStatus) -> StatusCode {
    match status {
        MessageStatus::Processed | MessageStatus::Removing => StatusCode::OK,
        MessageStatus::Pending => StatusCode::ACCEPTED,
        MessageStatus::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        MessageStatus::Forgotten | MessageStatus::Removed => StatusCode::GONE,
    }
}

fn submit_response(status: StatusCode, message_status: &str) -> Response {
    let body = SubmitResponse {
        publication_status: PublicationStatus { status: "success".into(), failed: Vec::new() },
        message_status: message_status.to_owned(),
    };
    (status, Wire(body)).into_response()
}

/// `POST /api/v0/messages`: `{"sync": bool, "message": envelope}`.
pub(crate) async fn submit(State(state): State<AppState>, body: axum::body::Bytes) -> ApiResult<Response> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unprocessable(format!("body is not JSON: {e}")))?;
    let obj = body.as_object().ok_or_else(|| ApiError::Unprocessable("body must be a JSON object".into()))?;
    let sync = match obj.get("sync") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::Unprocessable("sync must be a boolean".into())),
    };
    let message = obj
        .get("message")
        .cloned()
        .ok_or_else(|| ApiError::Unprocessable("missing field `message`".into()))?;
    if !message.is_object() {
        return Err(ApiError::Unprocessable("`message` must be an object".into()));
    }
    submit_message(&state, message, sync).await
}

/// Submits one message and answers as the reference does for `POST /api/v0/messages`.
pub(crate) async fn submit_message(state: &AppState, message: Value, sync: bool) -> ApiResult<Response> {
    // Subscribe before submitting, so a fast outcome is not missed.
    let mut events = sync.then(|| state.pipeline.subscribe());
    let (pending, intake) = state.pipeline.submit(message.clone(), Origin::Api).await?;
    let hash = pending.item_hash.to_string();
    match intake {
        Intake::Known(status) => return Ok(submit_response(status_code_of(status), status.as_str())),
        Intake::Rejected(_) => return Ok(submit_response(StatusCode::UNPROCESSABLE_ENTITY, "rejected")),
        Intake::Queued => {}
    }
    state.broadcast(&message).await;
    let Some(events) = events.as_mut() else {
        return Ok(submit_response(StatusCode::ACCEPTED, "pending"));
    };
    let timeout = Duration::from_secs_f64(state.pipeline.config().processing.sync_timeout_secs);
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) if e.item_hash() == hash => return Some(e),
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    };
    let outcome = match tokio::time::timeout(timeout, wait).await {
        Ok(Some(Event::Processed { .. })) => submit_response(StatusCode::OK, "processed"),
        Ok(Some(Event::Rejected { .. })) => submit_response(StatusCode::UNPROCESSABLE_ENTITY, "rejected"),
        _ => {
            // Lagged receivers or a timeout: answer with whatever the database says now.
            let h = hash.clone();
            let status = state.pipeline.db().read(move |c| store::status(c, &h)).await?;
            match status.and_then(|(s, _)| s.parse::<MessageStatus>().ok()) {
                Some(s) => submit_response(status_code_of(s), s.as_str()),
                None => submit_response(StatusCode::ACCEPTED, "pending"),
            }
        }
    };
    Ok(outcome)
}

/// `GET /api/v0/messages.json`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<MessageList>> {
    list_page(state, params, None).await
}

/// `GET /api/v0/messages/page/{page}.json`.
pub(crate) async fn list_page_path(
    State(state): State<AppState>,
    Path(page): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<MessageList>> {
    let page = page
        .strip_suffix(".json")
        .and_then(|p| p.parse::<u64>().ok())
        .ok_or_else(|| ApiError::NotFound("no such page".into()))?;
    list_page(state, params, Some(page)).await
}

async fn list_page(state: AppState, params: Params, path_page: Option<u64>) -> ApiResult<Wire<MessageList>> {
    let statuses = query::list(&params, "msgStatuses");
    if statuses.iter().any(|s| s == "forgotten" || s == "removed") {
        if statuses.len() > 1 {
            return Err(ApiError::BadRequest(
                "forgotten and removed statuses must be requested alone".into(),
            ));
        }
        return forgotten_list(state, params, path_page).await.map(|p| Wire(MessageList::Page(p)));
    }
    let (q, format) = query::message_query(&params)?;
    let paging = state.paging(&params, 20, path_page)?;
    let p2 = paging.clone();
    let page = state.pipeline.db().read(move |c| store::list_messages(c, &q, &p2, format)).await?;
    let body = match paging {
        store::Paging::Page { page: n, per_page } => MessageList::Page(MessagePage {
            messages: page.messages,
            page: PageInfo::new(n, per_page, page.total.unwrap_or(0), "messages"),
        }),
        store::Paging::Cursor { per_page, .. } => MessageList::Cursor(MessageCursorPage {
            messages: page.messages,
            cursor: aleph_core::api::CursorInfo {
                pagination_per_page: per_page,
                next_cursor: page.next_cursor,
            },
        }),
    };
    Ok(Wire(body))
}

fn forgotten_skeleton(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Map<String, Value>, Value)> {
    let mut m = Map::new();
    m.insert("item_hash".into(), Value::String(row.get("item_hash")?));
    m.insert("type".into(), Value::String(row.get("type")?));
    m.insert("chain".into(), Value::String(row.get("chain")?));
    m.insert("sender".into(), Value::String(row.get("sender")?));
    m.insert(
        "signature".into(),
        row.get::<_, Option<String>>("signature")?.map_or(Value::Null, Value::String),
    );
    m.insert("item_type".into(), Value::String(row.get("item_type")?));
    m.insert("time".into(), Value::from(row.get::<_, f64>("time")?));
    m.insert("channel".into(), row.get::<_, Option<String>>("channel")?.map_or(Value::Null, Value::String));
    m.insert("owner".into(), row.get::<_, Option<String>>("owner")?.map_or(Value::Null, Value::String));
    m.insert(
        "payment_type".into(),
        row.get::<_, Option<String>>("payment_type")?.map_or(Value::Null, Value::String),
    );
    m.insert("size".into(), row.get::<_, Option<i64>>("size")?.map_or(Value::Null, Value::from));
    m.insert("forgotten_at".into(), iso(row.get("forgotten_at")?));
    let by: String = row.get("forgotten_by")?;
    let by: Value = serde_json::from_str(&by).unwrap_or(Value::Array(Vec::new()));
    Ok((m, by))
}

async fn forgotten_list(state: AppState, params: Params, path_page: Option<u64>) -> ApiResult<MessagePage> {
    if params.contains_key("cursor") {
        return Err(ApiError::BadRequest("cursor paging is not available for forgotten messages".into()));
    }
    let (page, per_page) = match state.paging(&params, 20, path_page)? {
        store::Paging::Page { page, per_page } => (page, per_page),
        store::Paging::Cursor { .. } => (1, 20),
    };
    let addresses = query::list(&params, "addresses");
    let types = query::list(&params, "msgTypes");
    let (items, total) = state
        .pipeline
        .db()
        .read(move |c| {
            let mut clauses = Vec::new();
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            for (col, vals) in [("sender", &addresses), ("type", &types)] {
                if !vals.is_empty() {
                    clauses.push(format!("{col} IN ({})", vec!["?"; vals.len()].join(",")));
                    args.extend(vals.iter().map(|v| rusqlite::types::Value::Text(v.clone())));
                }
            }
            let filter = sql::where_all(&clauses);
            let limit = sql::page_limit(page, per_page);
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM forgotten_messages{filter} ORDER BY forgotten_at DESC{limit}"
            ))?;
            let items = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    let (mut m, by) = forgotten_skeleton(r)?;
                    m.insert("status".into(), Value::String("forgotten".into()));
                    m.insert("forgotten_by".into(), by);
                    Ok(Value::Object(m))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM forgotten_messages{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            Ok((items, total))
        })
        .await?;
    Ok(MessagePage { messages: items, page: PageInfo::new(page, per_page, total.max(0) as u64, "messages") })
}

fn check_hash(hash: &str) -> ApiResult<()> {
    if aleph_core::ItemHash::is_valid(hash) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("invalid item hash {hash:?}")))
    }
}

/// `GET /api/v0/messages/{item_hash}`: the message with its status, in the reference's shapes.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Wire<MessageWithStatusBody>> {
    check_hash(&hash)?;
    let h = hash.clone();
    let body = state.pipeline.db().read(move |c| lookup(c, &h)).await?;
    body.map(Wire).ok_or_else(|| ApiError::NotFound(format!("message {hash} not found")))
}

/// The message `h` with its status, as `GET /api/v0/messages/{item_hash}` answers it (`None`
/// when the node has never seen it).
pub(crate) fn lookup(
    c: &rusqlite::Connection,
    h: &str,
) -> Result<Option<MessageWithStatusBody>, StorageError> {
    let Some((status, reception_time)) = store::status(c, h)? else { return Ok(None) };
    let Ok(parsed) = status.parse::<MessageStatus>() else { return Ok(None) };
    let mut out = MessageWithStatusBody::new(parsed, h, iso(reception_time).as_str().map(str::to_owned));
    match status.as_str() {
        "processed" | "removing" => {
            let Some(mut message) = store::get_message(c, h)? else { return Ok(None) };
            if let Some(obj) = message.as_object_mut() {
                obj.remove("size");
            }
            out.message = Some(message);
            if status == "removing" {
                out.reason = Some("balance_insufficient".into());
            }
        }
        "pending" => {
            let mut stmt = c.prepare_cached(
                "SELECT message, reception_time FROM pending_messages WHERE item_hash = ?1 ORDER BY id",
            )?;
            let messages = stmt
                .query_map([h], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter_map(|(text, rt)| {
                    let mut m: Map<String, Value> = serde_json::from_str(&text).ok()?;
                    let content = m
                        .get("item_content")
                        .and_then(Value::as_str)
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or(Value::Null);
                    let t = m.get("time").and_then(Value::as_f64).unwrap_or(0.0);
                    m.insert("time".into(), iso(t));
                    m.insert("content".into(), content);
                    m.insert("reception_time".into(), iso(rt));
                    Some(Value::Object(m))
                })
                .collect::<Vec<_>>();
            out.messages = Some(messages);
        }
        "rejected" => {
            let row: Option<(String, i64, Option<String>)> = c
                .query_row(
                    "SELECT message, error_code, details FROM rejected_messages WHERE item_hash = ?1",
                    [h],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (message, code, details) = row.unwrap_or_else(|| ("null".into(), -1, None));
            out.message = Some(serde_json::from_str(&message).unwrap_or(Value::Null));
            out.error_code = Some(code);
            out.details = Some(details.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null));
        }
        "forgotten" => {
            let row = c
                .query_row("SELECT * FROM forgotten_messages WHERE item_hash = ?1", [h], forgotten_skeleton)
                .optional()?;
            let (message, by) = row.unwrap_or_default();
            out.message = Some(Value::Object(message));
            out.forgotten_by = Some(by);
        }
        _ => {}
    }
    Ok(Some(out))
}

/// `GET /api/v0/messages/{item_hash}/status`.
pub(crate) async fn get_status(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Wire<MessageStatusInfo>> {
    check_hash(&hash)?;
    let h = hash.clone();
    let status = state.pipeline.db().read(move |c| store::status(c, &h)).await?;
    let not_found = || ApiError::NotFound(format!("message {hash} not found"));
    let (status, reception_time) = status.ok_or_else(not_found)?;
    Ok(Wire(MessageStatusInfo {
        status: status.parse().map_err(|_| not_found())?,
        item_hash: hash.parse().map_err(|_| not_found())?,
        reception_time: iso(reception_time).as_str().map(str::to_owned),
    }))
}

/// `GET /api/v0/messages/{item_hash}/content`: the content of a processed message (the user
/// payload for POSTs).
pub(crate) async fn get_content(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    check_hash(&hash)?;
    let h = hash.clone();
    let (status, message) =
        state.pipeline.db().read(move |c| Ok((store::status(c, &h)?, store::get_message(c, &h)?))).await?;
    let Some((status, _)) = status else {
        return Err(ApiError::NotFound(format!("message {hash} not found")));
    };
    let message = message
        .filter(|_| status == "processed" || status == "removing")
        .ok_or_else(|| ApiError::Unprocessable(format!("message {hash} is {status}, not processed")))?;
    let content = message.get("content").cloned().unwrap_or(Value::Null);
    if message.get("type").and_then(Value::as_str) == Some("POST") {
        return Ok(Json(content.get("content").cloned().unwrap_or(Value::Null)));
    }
    Ok(Json(content))
}

/// `GET /api/v0/messages/hashes`: item hashes by reception time, from the status table (every
/// status, or the one `status` names), bare or with their status and reception time
/// (`hash_only=false`).
pub(crate) async fn hashes(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<HashesPage>> {
    let status = match params.get("status") {
        None => None,
        Some(s) => Some(
            s.parse::<MessageStatus>()
                .map_err(|_| ApiError::Unprocessable(format!("unknown message status {s:?}")))?,
        ),
    };
    let (page, per_page) = match state.paging(&params, 20, None)? {
        store::Paging::Page { page, per_page } => (page, per_page),
        store::Paging::Cursor { .. } => {
            return Err(ApiError::Unprocessable("cursor paging is not available for hashes".into()))
        }
    };
    let (start, end) = query::date_range(&params)?;
    let ascending = query::ascending(&params, "sortOrder")?;
    let hash_only = query::boolean(&params, "hash_only")?.unwrap_or(true);
    let (rows, total) = state
        .pipeline
        .db()
        .read(move |c| {
            let mut clauses = Vec::new();
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(s) = status {
                clauses.push("status = ?");
                args.push(rusqlite::types::Value::Text(s.as_str().to_owned()));
            }
            if start > 0.0 {
                clauses.push("reception_time >= ?");
                args.push(rusqlite::types::Value::Real(start));
            }
            if end > 0.0 {
                clauses.push("reception_time < ?");
                args.push(rusqlite::types::Value::Real(end));
            }
            let filter = sql::where_all(&clauses);
            let order = if ascending { "ASC" } else { "DESC" };
            let limit = sql::page_limit(page, per_page);
            let mut stmt = c.prepare(&format!(
                "SELECT item_hash, status, reception_time FROM message_status{filter} \
                 ORDER BY reception_time {order}, item_hash ASC{limit}"
            ))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM message_status{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            Ok((rows, total))
        })
        .await?;
    let hashes = rows
        .into_iter()
        .map(|(hash, status, reception_time)| {
            if hash_only {
                HashEntry::Hash(hash)
            } else {
                let reception_time = super::iso_offset(reception_time).as_str().map(str::to_owned);
                HashEntry::WithStatus { status, item_hash: hash, reception_time }
            }
        })
        .collect();
    Ok(Wire(HashesPage { hashes, page: PageInfo::new(page, per_page, total.max(0) as u64, "hashes") }))
}
