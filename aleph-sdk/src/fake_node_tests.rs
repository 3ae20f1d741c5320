//! Failure injection against a small fake node (axum on 127.0.0.1:0): what a real node cannot be
//! made to do on demand — time out, fail with 5xx then recover, answer malformed JSON, drop a
//! WebSocket — and the client's handling of each submission status.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{ItemHash, MessageStatus, PendingMessage};
use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::{AlephClient, ClientError, MessageBuilder, MessageFilter, SubmitMode, WatchOptions};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn client(url: &str) -> AlephClient {
    AlephClient::builder(url)
        .retries(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(40))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn signer() -> EthereumSigner {
    EthereumSigner::from_hex(&"ac".repeat(32)).unwrap()
}

/// A signed POST in the API (list) form, and its pending form.
fn api_message(body: &str, time: f64) -> (Value, PendingMessage) {
    let pending = MessageBuilder::post("chat", json!({"body": body}))
        .channel("TEST")
        .time(time)
        .build(&signer())
        .unwrap();
    let api = serde_json::to_value(crate::Message::from(pending.clone())).unwrap();
    (api, pending)
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let url = serve(Router::new().route(
        "/api/v0/version",
        get(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) < 2 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                } else {
                    Json(json!({"version": "fake-1"})).into_response()
                }
            }
        }),
    ))
    .await;
    assert_eq!(client(&url).node_version().await.unwrap(), "fake-1");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn persistent_server_errors_surface_after_the_retries() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let url = serve(Router::new().route(
        "/api/v0/version",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { (StatusCode::BAD_GATEWAY, "down") }
        }),
    ))
    .await;
    let err = client(&url).node_version().await.unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
    assert!(err.is_transient());
    assert_eq!(hits.load(Ordering::SeqCst), 4, "one attempt and three retries");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let url = serve(Router::new().route(
        "/api/v0/version",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"version": "late"}))
        }),
    ))
    .await;
    let c = AlephClient::builder(&url)
        .timeout(Duration::from_millis(200))
        .retries(1)
        .backoff(Duration::from_millis(10), Duration::from_millis(10))
        .build()
        .unwrap();
    let err = c.node_version().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let url = serve(
        Router::new()
            .route("/api/v0/version", get(|| async { ([("content-type", "application/json")], "{not json") }))
            .route("/api/v0/messages.json", get(|| async { Json(json!({"messages": [{"chain": "NOPE"}]})) })),
    )
    .await;
    let c = client(&url);
    assert!(matches!(c.node_version().await, Err(ClientError::Decode { .. })));
    let err = c.get_messages(&MessageFilter::new(), 1, 20).await.unwrap_err();
    assert!(matches!(&err, ClientError::Decode { reason, .. } if reason.contains("messages[0]")), "{err}");
}

#[tokio::test]
async fn a_dead_url_falls_back_to_the_next() {
    let dead = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let live =
        serve(Router::new().route("/api/v0/version", get(|| async { Json(json!({"version": "up"})) }))).await;
    let c = AlephClient::builder(&dead)
        .fallback(&live)
        .retries(0)
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build()
        .unwrap();
    assert_eq!(c.node_version().await.unwrap(), "up");
    assert_eq!(c.base_url(), live, "the URL that answered is kept");
    assert_eq!(c.node_version().await.unwrap(), "up");
}

#[derive(Default)]
struct SubmitState {
    answers: Mutex<HashMap<String, (u16, String)>>,
    legacy: Mutex<Vec<Value>>,
}

#[tokio::test]
async fn submission_statuses_map_to_outcomes() {
    let state = Arc::new(SubmitState::default());
    let router = Router::new()
        .route(
            "/api/v0/messages",
            post(|State(s): State<Arc<SubmitState>>, Json(body): Json<Value>| async move {
                let channel = body["message"]["channel"].as_str().unwrap_or("").to_owned();
                let (code, text) =
                    s.answers.lock().unwrap().get(&channel).cloned().unwrap_or((500, "?".into()));
                Response::builder()
                    .status(code)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(text))
                    .unwrap()
            }),
        )
        .route(
            "/api/v0/messages/{hash}",
            get(|Path(hash): Path<String>| async move {
                Json(
                    json!({"status": "rejected", "item_hash": hash, "reception_time": "2026-01-01T00:00:00Z",
                    "message": {}, "error_code": 2, "details": {"errors": ["not allowed"]}}),
                )
            }),
        )
        .route(
            "/api/v0/ipfs/pubsub/pub",
            post(|State(s): State<Arc<SubmitState>>, Json(body): Json<Value>| async move {
                s.legacy.lock().unwrap().push(body);
                Json(json!({"status": "success", "failed": []}))
            }),
        )
        .with_state(state.clone());
    let url = serve(router).await;
    let ok = r#"{"publication_status":{"status":"success","failed":[]},"message_status":"pending"}"#;
    let processed = r#"{"publication_status":{"status":"success","failed":[]},"message_status":"processed"}"#;
    {
        let mut a = state.answers.lock().unwrap();
        a.insert("PENDING".into(), (202, ok.into()));
        a.insert("PROCESSED".into(), (200, processed.into()));
        a.insert(
            "REJECTED".into(),
            (
                422,
                r#"{"publication_status":{"status":"success","failed":[]},"message_status":"rejected"}"#
                    .into(),
            ),
        );
        a.insert("REFUSED".into(), (422, "InvalidMessageFormat".into()));
        a.insert("BROKEN".into(), (500, "both networks failed".into()));
        a.insert("LEGACY".into(), (404, "404: Not Found".into()));
    }
    let c = client(&url);
    let s = signer();
    let send = |channel: &'static str| {
        let c = c.clone();
        let s = s.clone();
        async move { c.publish(&s, &MessageBuilder::post("t", 1).channel(channel), SubmitMode::Sync).await }
    };
    let r = send("PENDING").await.unwrap();
    assert_eq!(r.status, MessageStatus::Pending);
    assert_eq!(r.publication.unwrap().status, "success");
    assert_eq!(send("PROCESSED").await.unwrap().status, MessageStatus::Processed);
    let e = send("REJECTED").await.unwrap_err();
    assert_eq!(e.rejection_code(), Some(crate::ErrorCode::PermissionDenied), "{e}");
    assert!(e.to_string().contains("PERMISSION_DENIED"));
    assert!(
        matches!(send("REFUSED").await, Err(ClientError::InvalidMessage(t)) if t == "InvalidMessageFormat")
    );
    assert!(matches!(send("BROKEN").await, Err(ClientError::Broadcast(_))));
    assert_eq!(send("LEGACY").await.unwrap().status, MessageStatus::Pending);
    let legacy = state.legacy.lock().unwrap();
    assert_eq!(legacy[0]["topic"], "ALEPH-TEST");
    let data = PendingMessage::from_json(legacy[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data.channel.as_deref(), Some("LEGACY"));
}

#[tokio::test]
async fn waiting_polls_until_processed() {
    let (api, pending) = api_message("wait", 10.0);
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let router = Router::new()
        .route(
            "/api/v0/messages",
            post(|| async { (StatusCode::ACCEPTED, Json(json!({"publication_status": {"status": "success", "failed": []}, "message_status": "pending"}))) }),
        )
        .route(
            "/api/v0/messages/{hash}",
            get(move |Path(hash): Path<String>| {
                let p = p.clone();
                let api = api.clone();
                async move {
                    match p.fetch_add(1, Ordering::SeqCst) {
                        0 => (StatusCode::NOT_FOUND, "404").into_response(),
                        1 | 2 => Json(json!({"status": "pending", "item_hash": hash, "reception_time": "2026-01-01T00:00:00Z", "messages": [api]})).into_response(),
                        _ => Json(json!({"status": "processed", "item_hash": hash, "reception_time": "2026-01-01T00:00:00Z", "message": api})).into_response(),
                    }
                }
            }),
        );
    let url = serve(router).await;
    let c = client(&url);
    let submitted = c.submit(&pending, SubmitMode::WaitProcessed(Duration::from_secs(10))).await.unwrap();
    assert_eq!(submitted.status, MessageStatus::Processed);
    assert_eq!(submitted.item_hash(), &pending.item_hash);
    assert!(polls.load(Ordering::SeqCst) >= 4);

    // A message that stays pending times out.
    let url = serve(Router::new().route(
        "/api/v0/messages/{hash}",
        get(|Path(hash): Path<String>| async move {
            Json(json!({"status": "pending", "item_hash": hash, "messages": []}))
        }),
    ))
    .await;
    let err =
        client(&url).wait_for_processed(&pending.item_hash, Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, ClientError::WaitTimeout { status: MessageStatus::Pending, .. }), "{err}");
}

#[tokio::test]
async fn downloads_are_checked_against_their_hash() {
    let good = b"the real bytes".to_vec();
    let good_hash = ItemHash::sha256(&good);
    let liar_hash = ItemHash::sha256(b"what was asked");
    let g = good.clone();
    let url = serve(Router::new().route(
        "/api/v0/storage/raw/{hash}",
        get(move |Path(_hash): Path<String>| {
            let g = g.clone();
            async move { g }
        }),
    ))
    .await;
    let c = client(&url);
    assert_eq!(&c.download(&good_hash).await.unwrap()[..], &good[..]);
    assert!(matches!(c.download(&liar_hash).await, Err(ClientError::IntegrityMismatch { .. })));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let progress: crate::ProgressFn = Arc::new(move |p: crate::Progress| {
        s.store(p.done as usize, Ordering::SeqCst);
    });
    assert_eq!(c.download_to_file(&good_hash, &dest, Some(progress)).await.unwrap(), good.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), good);
    assert_eq!(seen.load(Ordering::SeqCst), good.len());
    let bad_dest = dir.path().join("bad.bin");
    assert!(c.download_to_file(&liar_hash, &bad_dest, None).await.is_err());
    assert!(!bad_dest.exists() && !dir.path().join("bad.bin.part").exists(), "nothing is left behind");
}

#[tokio::test]
async fn cursor_and_page_streams_walk_every_page() {
    let messages: Vec<Value> =
        (0..5).map(|i| api_message(&format!("m{i}"), 100.0 + f64::from(i)).0).collect();
    let all = messages.clone();
    let url = serve(Router::new().route(
        "/api/v0/messages.json",
        get(move |Query(q): Query<HashMap<String, String>>| {
            let all = all.clone();
            async move {
                let per: usize = q.get("pagination").and_then(|p| p.parse().ok()).unwrap_or(20);
                if let Some(cursor) = q.get("cursor") {
                    let start: usize = cursor.parse().unwrap_or(0);
                    let end = (start + per).min(all.len());
                    let next = if end < all.len() { json!(end.to_string()) } else { Value::Null };
                    Json(json!({"messages": all[start..end], "pagination_per_page": per, "next_cursor": next}))
                } else {
                    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                    let start = ((page - 1) * per).min(all.len());
                    let end = (start + per).min(all.len());
                    Json(json!({"messages": all[start..end], "pagination_page": page, "pagination_per_page": per,
                        "pagination_total": all.len(), "pagination_item": "messages"}))
                }
            }
        }),
    ))
    .await;
    let c = client(&url);
    let by_cursor: Vec<_> = c.stream_messages(&MessageFilter::new(), 2).map(Result::unwrap).collect().await;
    let by_page: Vec<_> =
        c.stream_messages_paged(&MessageFilter::new(), 2).map(Result::unwrap).collect().await;
    assert_eq!(by_cursor.len(), 5);
    assert_eq!(by_cursor, by_page);
    let page = c.get_messages(&MessageFilter::new(), 2, 2).await.unwrap();
    assert_eq!((page.page, page.per_page, page.total, page.messages.len()), (2, 2, 5, 2));
}

#[tokio::test]
async fn trustless_mode_refuses_forged_messages() {
    let (good, _) = api_message("fine", 5.0);
    let mut forged = good.clone();
    // Another signer's signature over the same hash.
    let other = EthereumSigner::from_hex(&"bd".repeat(32)).unwrap();
    let other_sig = {
        use aleph_core::Signer;
        let buf = aleph_core::verification_buffer(
            "ETH",
            good["sender"].as_str().unwrap(),
            "POST",
            good["item_hash"].as_str().unwrap(),
        );
        other.sign_payload(&aleph_core::SigningPayload { buffer: &buf, time: 5.0 }).unwrap()
    };
    forged["signature"] = json!(other_sig);
    let g = good.clone();
    let f = forged.clone();
    let url = serve(
        Router::new()
            .route("/api/v0/messages.json", get(move || {
                let g = g.clone();
                async move { Json(json!({"messages": [g], "pagination_page": 1, "pagination_per_page": 20, "pagination_total": 1})) }
            }))
            .route("/api/v0/messages/{hash}", get(move |Path(hash): Path<String>| {
                let f = f.clone();
                async move { Json(json!({"status": "processed", "item_hash": hash, "message": f})) }
            })),
    )
    .await;
    let trusting = client(&url);
    let trustless = AlephClient::builder(&url).trustless(true).build().unwrap();
    assert_eq!(trustless.get_messages(&MessageFilter::new(), 1, 20).await.unwrap().messages.len(), 1);
    let h: ItemHash = forged["item_hash"].as_str().unwrap().parse().unwrap();
    assert!(trusting.get_message(&h).await.is_ok(), "without trustless mode the node is believed");
    assert!(matches!(trustless.get_message(&h).await, Err(ClientError::Unverified { .. })));
}

/// A node that answers every `GET /api/v0/messages/{hash}` with `message`, processed.
async fn serving_message(message: Value) -> String {
    serve(Router::new().route(
        "/api/v0/messages/{hash}",
        get(move |Path(hash): Path<String>| {
            let m = message.clone();
            async move { Json(json!({"status": "processed", "item_hash": hash, "message": m})) }
        }),
    ))
    .await
}

#[tokio::test]
async fn trustless_mode_returns_only_content_it_verified() {
    let (good, _) = api_message("genuine", 6.0);
    let h: ItemHash = good["item_hash"].as_str().unwrap().parse().unwrap();
    let trustless = |url: &str| AlephClient::builder(url).trustless(true).build().unwrap();

    // The node's `content` forged, the signed item content intact: the item content wins.
    let mut forged_content = good.clone();
    forged_content["content"]["content"]["body"] = json!("forged");
    let url = serving_message(forged_content).await;
    let believed = client(&url).get_message(&h).await.unwrap();
    assert_eq!(believed.content.unwrap()["content"]["body"], "forged", "a trusting client believes the node");
    let verified = trustless(&url).get_message(&h).await.unwrap();
    assert_eq!(verified.content.unwrap()["content"]["body"], "genuine");

    // The item content itself forged (and the content to match): it no longer hashes to the
    // signed item hash (already refused when the message is decoded).
    let mut forged_item = good.clone();
    let text = good["item_content"].as_str().unwrap().replace("genuine", "forged!");
    forged_item["content"] = serde_json::from_str(&text).unwrap();
    forged_item["item_content"] = json!(text);
    let url = serving_message(forged_item).await;
    let mismatch = trustless(&url).get_message(&h).await;
    assert!(
        matches!(mismatch, Err(ClientError::IntegrityMismatch { .. } | ClientError::Decode { .. })),
        "{mismatch:?}"
    );

    // The item content left out, forged content in its place: nothing to check it against.
    let mut stripped = good.clone();
    stripped.as_object_mut().unwrap().remove("item_content");
    stripped["content"]["content"]["body"] = json!("forged");
    let url = serving_message(stripped.clone()).await;
    assert!(client(&url).get_message(&h).await.is_ok());
    let refused = trustless(&url).get_message(&h).await;
    assert!(matches!(refused, Err(ClientError::Unverifiable { .. })), "{refused:?}");

    // Neither item content nor content (a header-only listing): the signed header is returned.
    stripped.as_object_mut().unwrap().remove("content");
    let url = serving_message(stripped).await;
    let header = trustless(&url).get_message(&h).await.unwrap();
    assert!(header.content.is_none());
}

#[tokio::test]
async fn page_streams_go_on_without_a_total_and_with_smaller_pages_than_asked() {
    let messages: Vec<Value> =
        (0..7).map(|i| api_message(&format!("n{i}"), 200.0 + f64::from(i)).0).collect();
    let all = messages.clone();
    // No `pagination_total`, and pages of at most 3 whatever is asked.
    let url = serve(Router::new().route(
        "/api/v0/messages.json",
        get(move |Query(q): Query<HashMap<String, String>>| {
            let all = all.clone();
            async move {
                let per: usize = q.get("pagination").and_then(|p| p.parse().ok()).unwrap_or(20).min(3);
                let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let start = ((page - 1) * per).min(all.len());
                let end = (start + per).min(all.len());
                Json(
                    json!({"messages": all[start..end], "pagination_page": page, "pagination_per_page": per}),
                )
            }
        }),
    ))
    .await;
    let c = client(&url);
    let two: Vec<_> = c.stream_messages_paged(&MessageFilter::new(), 2).map(Result::unwrap).collect().await;
    assert_eq!(two.len(), 7, "pages of 2 without a total: every page is walked");
    let capped: Vec<_> =
        c.stream_messages_paged(&MessageFilter::new(), 10).map(Result::unwrap).collect().await;
    assert_eq!(capped.len(), 7, "pages capped at 3 when 10 were asked: every page is walked");
}

#[derive(Default)]
struct WsState {
    connections: AtomicUsize,
    queries: Mutex<Vec<HashMap<String, String>>>,
    messages: Vec<Value>,
}

#[tokio::test]
async fn watch_resumes_after_a_drop_without_gap_or_duplicate() {
    let messages: Vec<Value> =
        (0..4).map(|i| api_message(&format!("w{i}"), 1000.0 + f64::from(i)).0).collect();
    let state = Arc::new(WsState { messages: messages.clone(), ..Default::default() });
    let router = Router::new()
        .route(
            "/api/ws0/messages",
            get(|ws: WebSocketUpgrade, Query(q): Query<HashMap<String, String>>, State(s): State<Arc<WsState>>| async move {
                let n = s.connections.fetch_add(1, Ordering::SeqCst);
                s.queries.lock().unwrap().push(q);
                ws.on_upgrade(move |mut socket| async move {
                    if n == 0 {
                        // First connection: two messages, then the connection dies without a close frame.
                        for m in &s.messages[..2] {
                            let _ = socket.send(WsMessage::Text(m.to_string().into())).await;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        drop(socket);
                    } else {
                        // After the resumption: a replayed message (duplicate) and a new one.
                        let _ = socket.send(WsMessage::Text(s.messages[1].to_string().into())).await;
                        let _ = socket.send(WsMessage::Text("not json".into())).await;
                        let _ = socket.send(WsMessage::Text(s.messages[3].to_string().into())).await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                })
            }),
        )
        .route(
            "/api/v0/messages.json",
            // The HTTP backfill: what was processed while disconnected (message 2), plus overlap.
            get(|State(s): State<Arc<WsState>>| async move {
                Json(json!({"messages": [s.messages[1], s.messages[2]], "pagination_per_page": 200, "next_cursor": null}))
            }),
        )
        .with_state(state.clone());
    let url = serve(router).await;
    let c = client(&url);
    let options = WatchOptions::new().backoff(Duration::from_millis(20), Duration::from_millis(50));
    let mut watch = c.watch_with(&MessageFilter::new().channel("TEST"), options).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let m = tokio::time::timeout(Duration::from_secs(10), watch.next()).await.unwrap().unwrap().unwrap();
        got.push(m.item_hash.to_string());
    }
    let expected: Vec<String> =
        messages.iter().map(|m| m["item_hash"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, expected, "in order, none missing, none twice");
    let queries = state.queries.lock().unwrap();
    assert_eq!(queries[0].get("channels").map(String::as_str), Some("TEST"));
    let start: f64 = queries[1]["startDate"].parse().unwrap();
    assert!((1001.0 - 30.0..=1001.0).contains(&start), "resumes from the last message's time: {start}");
    drop(watch);
}

#[tokio::test]
async fn an_injected_http_client_carries_every_request() {
    // The fake node answers only requests bearing the header the injected client adds.
    let router = Router::new().route(
        "/api/v0/version",
        get(|headers: axum::http::HeaderMap| async move {
            match headers.get("x-injected").and_then(|v| v.to_str().ok()) {
                Some("yes") => Json(json!({"version": "injected"})).into_response(),
                _ => (StatusCode::FORBIDDEN, "no header").into_response(),
            }
        }),
    );
    let url = serve(router).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-injected", reqwest::header::HeaderValue::from_static("yes"));
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let injected = AlephClient::builder(&url).http_client(http).build().unwrap();
    assert_eq!(injected.node_version().await.unwrap(), "injected");
    let plain = client(&url).node_version().await.unwrap_err();
    assert_eq!(plain.status(), Some(403), "{plain}");
}
