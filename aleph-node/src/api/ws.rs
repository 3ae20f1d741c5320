//! `GET /api/ws0/messages`: a websocket of messages, history first, then live.

use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::AppState;
use crate::pipeline::Event;
use crate::storage::messages::{self as store, ContentFormat, MessageQuery, Paging};

/// Whether a list-form message matches the filters (applied to live messages; history is
/// filtered by the database).
pub(crate) fn matches(q: &MessageQuery, m: &Value) -> bool {
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default();
    let c = m.get("content").cloned().unwrap_or(Value::Null);
    let cs = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    let in_list =
        |list: &[String], v: Option<String>| list.is_empty() || v.is_some_and(|v| list.contains(&v));
    let time = m.get("time").and_then(Value::as_f64).unwrap_or(0.0);
    let reference = match c.get("ref") {
        Some(Value::Object(o)) => o.get("item_hash").and_then(Value::as_str).map(str::to_owned),
        other => other.and_then(Value::as_str).map(str::to_owned),
    };
    let tags: Vec<String> = [
        c.get("content").and_then(|x| x.get("tags")),
        c.get("tags"),
        c.get("metadata").and_then(|x| x.get("tags")),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_array)
    .flatten()
    .filter_map(|t| t.as_str().map(str::to_owned))
    .collect();
    let payment =
        c.get("payment").and_then(|p| p.get("type")).and_then(Value::as_str).unwrap_or("hold").to_owned();
    in_list(&q.types, Some(s("type").to_owned()))
        && in_list(&q.addresses, Some(s("sender").to_owned()))
        && in_list(&q.owners, cs("address"))
        && in_list(&q.refs, reference)
        && in_list(&q.content_hashes, if s("type") == "STORE" { cs("item_hash") } else { None })
        && in_list(&q.content_keys, if s("type") == "AGGREGATE" { cs("key") } else { None })
        && in_list(&q.content_types, if s("type") == "POST" { cs("type") } else { None })
        && in_list(&q.chains, Some(s("chain").to_owned()))
        && in_list(&q.channels, m.get("channel").and_then(Value::as_str).map(str::to_owned))
        && in_list(&q.hashes, Some(s("item_hash").to_owned()))
        && in_list(&q.payment_types, Some(payment))
        // Live messages have just been processed.
        && in_list(&q.statuses, Some("processed".to_owned()))
        && (q.tags.is_empty() || tags.iter().any(|t| q.tags.contains(t)))
        && (q.start_date <= 0.0 || time >= q.start_date)
        && (q.end_date <= 0.0 || time < q.end_date)
}

/// `GET /api/ws0/messages`.
pub(crate) async fn messages(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let (q, format) = query::message_query(&params)?;
    let history = query::number::<u64>(&params, "history")?.unwrap_or(10);
    if history > 199 {
        return Err(ApiError::Unprocessable("history must be between 0 and 199".into()));
    }
    let format = if format == ContentFormat::Headers { ContentFormat::None } else { format };
    let slot = match state.limits.websocket() {
        Ok(slot) => slot,
        Err(busy) => return Ok(*busy),
    };
    Ok(ws.on_upgrade(move |socket| async move {
        serve(socket, state, q, format, history).await;
        drop(slot);
    }))
}

async fn serve(mut socket: WebSocket, state: AppState, q: MessageQuery, format: ContentFormat, history: u64) {
    // Subscribe before reading history, so nothing processed in between is missed.
    let mut events = state.pipeline.subscribe();
    let mut sent = std::collections::HashSet::new();
    if history > 0 {
        let hq = q.clone();
        let page = state
            .pipeline
            .db()
            .read(move |c| {
                store::list_messages(
                    c,
                    &MessageQuery { ascending: false, ..hq },
                    &Paging::Page { page: 1, per_page: history },
                    format,
                )
            })
            .await;
        if let Ok(page) = page {
            for m in page.messages.into_iter().rev() {
                if let Some(h) = m.get("item_hash").and_then(Value::as_str) {
                    sent.insert(h.to_owned());
                }
                if socket.send(WsMessage::Text(m.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::Processed { item_hash, message }) => {
                    if sent.remove(&item_hash) || !matches(&q, &message) {
                        continue;
                    }
                    let mut m = (*message).clone();
                    if let Some(obj) = m.as_object_mut() {
                        obj.remove("size");
                        if format == ContentFormat::None {
                            obj.remove("content");
                        }
                    }
                    if socket.send(WsMessage::Text(m.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "websocket client fell behind");
                }
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            // The pipeline has stopped (node shutdown): no event will come, and this session,
            // detached from the HTTP server once upgraded, would otherwise outlive the node and
            // keep its client answering pings on a dead subscription. Close it so the client
            // reconnects.
            _ = state.pipeline.stopped() => {
                let _ = socket.send(WsMessage::Close(None)).await;
                return;
            }
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `GET /api/ws0/status`: the `/metrics.json` object at connection, then every 10 s when it
/// changed.
pub(crate) async fn status(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let slot = match state.limits.websocket() {
        Ok(slot) => slot,
        Err(busy) => return *busy,
    };
    ws.on_upgrade(move |socket| async move {
        serve_status(socket, state).await;
        drop(slot);
    })
}

async fn serve_status(mut socket: WebSocket, state: AppState) {
    let mut last: Option<Value> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Ok(now) = super::misc::metrics_object(&state).await else { continue };
                if last.as_ref() != Some(&now) {
                    if socket.send(WsMessage::Text(now.to_string().into())).await.is_err() {
                        return;
                    }
                    last = Some(now);
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = state.pipeline.stopped() => {
                let _ = socket.send(WsMessage::Close(None)).await;
                return;
            }
        }
    }
}
