//! Router-level tests (`router(state).oneshot(request)`): bad input always gets a 4xx with a
//! reason and never a panic, body limits, response headers, and gossip of accepted messages.

use std::sync::{Arc, Mutex};

use aleph_node::{AppState, Broadcaster};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

fn post_body(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

/// Asserts a 4xx with the expected code and a non-empty reason.
async fn refused(router: &axum::Router, request: Request<Body>, expected: StatusCode) {
    let what = format!("{} {}", request.method(), request.uri());
    let (status, body) = oneshot(router, request).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, expected, "{what}: {text}");
    assert!(text.len() > 5, "{what}: a reason is given, got {text:?}");
}

#[tokio::test]
async fn malformed_submissions_get_422_with_a_reason() {
    let node = TestNode::start().await;
    let router = node.router();
    let valid = serde_json::to_value(post(&node.eth(0), "note", json!({}))).unwrap();
    let bodies: Vec<(&str, String)> = vec![
        ("not JSON", "{\"sync\": tru".into()),
        ("empty", String::new()),
        ("an array", "[]".into()),
        ("a string", "\"message\"".into()),
        ("no message", "{\"sync\": true}".into()),
        ("message is a number", json!({"message": 5}).to_string()),
        ("message is null", json!({"message": null}).to_string()),
        ("sync is a string", json!({"sync": "yes", "message": valid}).to_string()),
        ("message is an empty object", json!({"message": {}}).to_string()),
        ("invalid UTF-8", String::from_utf8_lossy(&[0xff, 0xfe, b'{']).into_owned()),
    ];
    for (what, body) in bodies {
        let (status, resp) = oneshot(&router, post_body("/api/v0/messages", "application/json", body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", String::from_utf8_lossy(&resp));
        assert!(!resp.is_empty(), "{what}: a reason");
    }
    // Numbers where strings are expected, and the reverse.
    let mut wrong = valid.clone();
    wrong["sender"] = json!(12);
    refused(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": wrong}).to_string()),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut wrong = valid.clone();
    wrong["channel"] = json!(["a"]);
    refused(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": wrong}).to_string()),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut wrong = valid.clone();
    wrong["item_content"] = json!({"an": "object"});
    refused(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": wrong}).to_string()),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Inline content over the 200 000-character cap.
    let mut big = valid.clone();
    let content =
        json!({"type": "x", "address": "a", "time": 1.0, "content": "y".repeat(200_001)}).to_string();
    big["item_hash"] = json!(sha256_hex(content.as_bytes()));
    big["item_content"] = json!(content);
    let (status, _) = oneshot(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": big}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The node still works.
    let (status, _) = oneshot(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": valid}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    node.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let node = TestNode::start_with(|c| c.limits.max_body_bytes = 64 << 10).await;
    let router = node.router();
    let huge = json!({"message": {"blob": "z".repeat(100 << 10)}}).to_string();
    let (status, _) = oneshot(&router, post_body("/api/v0/messages", "application/json", huge.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Also when the client sends no length (chunked).
    let stream = futures_util::stream::iter(
        huge.into_bytes().chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let (status, _) =
        oneshot(&router, post_body("/api/v0/messages", "application/json", Body::from_stream(stream))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Over the network, a default node refuses a 2 MiB submission the same way.
    let default = TestNode::start().await;
    let resp = default
        .http
        .post(format!("{}/api/v0/messages", default.url))
        .header("content-type", "application/json")
        .body(json!({"message": {"blob": "z".repeat(2 << 20)}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(default.get("/api/v0/version").await.0, StatusCode::OK);
    default.stop().await;
    node.stop().await;
}

#[tokio::test]
async fn bad_query_parameters_and_paths_get_4xx() {
    let node = TestNode::start().await;
    let router = node.router();
    let unprocessable = [
        "/api/v0/messages.json?pagination=abc",
        "/api/v0/messages.json?pagination=-1",
        "/api/v0/messages.json?page=0",
        "/api/v0/messages.json?page=x",
        "/api/v0/messages.json?msgTypes=TWEET",
        "/api/v0/messages.json?chains=NOTACHAIN",
        "/api/v0/messages.json?hashes=nothex",
        "/api/v0/messages.json?contentHashes=zz",
        "/api/v0/messages.json?startDate=-1",
        "/api/v0/messages.json?startDate=10&endDate=5",
        "/api/v0/messages.json?startDate=yesterday",
        "/api/v0/messages.json?sortOrder=2",
        "/api/v0/messages.json?sortBy=size",
        "/api/v0/messages.json?contentFormat=xml",
        "/api/v0/messages.json?msgStatuses=bogus",
        "/api/v0/messages.json?paymentTypes=cash",
        "/api/v0/messages.json?excludeContent=perhaps",
        "/api/v0/messages.json?cursor=%25%25%25",
        "/api/v0/messages.json?cursor=&pagination=0",
        "/api/v0/messages.json?sortBy=tx-time&cursor=",
        "/api/v0/posts.json?startDate=abc",
        "/api/v0/posts.json?sortOrder=0",
        "/api/v0/posts.json?cursor=bm90IGpzb24",
        "/api/v0/posts.json?hashes=not-a-hash",
        "/api/v0/posts.json?sortBy=size",
        "/api/v1/posts.json?sortBy=tx-time&cursor=",
        "/api/v1/posts.json?page=0",
        "/api/v0/aggregates.json?pagination=0",
        "/api/v0/aggregates.json?sortOrder=abc",
        "/api/v1/addresses/stats.json?sortBy=bytes",
        "/api/v0/addresses/0xabc/files?pagination=many",
        "/api/v0/addresses/0xabc/files?sort_order=3",
        "/api/v0/authorizations/granted/0xabc.json?pagination=0",
    ];
    for path in unprocessable {
        refused(&router, get(path), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let long = format!("/api/v1/addresses/stats.json?addressContains={}", "a".repeat(67));
    refused(&router, get(&long), StatusCode::UNPROCESSABLE_ENTITY).await;
    for path in [
        "/api/v0/messages/nothex",
        "/api/v0/messages/nothex/status",
        "/api/v0/messages/nothex/content",
        "/api/v0/storage/raw/..%2F..%2Fetc%2Fpasswd",
        "/api/v0/storage/count/xyz",
        "/api/v0/storage/by-message-hash/xyz",
        "/api/v0/messages.json?msgStatuses=forgotten,rejected",
    ] {
        refused(&router, get(path), StatusCode::BAD_REQUEST).await;
    }
    for path in [
        "/api/v0/messages/page/abc.json",
        "/api/v0/posts/page/two.json",
        "/api/v0/nothing",
        "/api/v0/messages/page/1",
    ] {
        let (status, _) = oneshot(&router, get(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // Wrong methods.
    let (status, _) = oneshot(&router, get("/api/v0/messages")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = oneshot(&router, post_body("/api/v0/messages.json", "application/json", "{}")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Uploads: not multipart where required, broken multipart.
    refused(
        &router,
        post_body("/api/v0/ipfs/add_file", "application/octet-stream", "bytes"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let broken = post_body(
        "/api/v0/storage/add_file",
        "multipart/form-data; boundary=XYZ",
        "--XYZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
    );
    let (status, _) = oneshot(&router, broken).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let no_boundary = post_body("/api/v0/storage/add_file", "multipart/form-data", "x");
    let (status, _) = oneshot(&router, no_boundary).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(
        &router,
        post_body("/api/v0/storage/add_json", "application/json", "{\"a\":"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(
        &router,
        post_body("/api/v0/ipfs/add_json", "application/json", ""),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Still serving.
    let (status, _) = oneshot(&router, get("/api/v0/version")).await;
    assert_eq!(status, StatusCode::OK);
    node.stop().await;
}

#[tokio::test]
async fn json_responses_say_so_and_cors_is_open() {
    let node = TestNode::start().await;
    let router = node.router();
    node.submit_ok(&post(&node.eth(0), "note", json!({}))).await;
    for path in [
        "/api/v0/messages.json",
        "/api/v0/posts.json",
        "/api/v0/version",
        "/api/v0/storage/limits.json",
        "/metrics.json",
        "/api/openapi.json",
    ] {
        let resp = tower::ServiceExt::oneshot(router.clone(), get(path)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json", "{path}");
    }
    let request = Request::builder()
        .uri("/api/v0/messages.json")
        .header(header::ORIGIN, "https://explorer.example")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(router.clone(), request).await.unwrap();
    assert_eq!(resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v0/messages")
        .header(header::ORIGIN, "https://explorer.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(router, preflight).await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    node.stop().await;
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Value>>);

impl Broadcaster for Recorder {
    fn publish(&self, message: &Value) {
        self.0.lock().unwrap().push(message.clone());
    }
}

#[tokio::test]
async fn accepted_messages_are_gossiped_once() {
    let node = TestNode::start().await;
    let recorder = Arc::new(Recorder::default());
    let router =
        aleph_node::router(AppState::new(node.handle.pipeline().clone(), Some(recorder.clone()), "it"));
    let m = post(&node.eth(0), "gossip", json!({}));
    let body = json!({"sync": true, "message": m}).to_string();
    let (status, _) = oneshot(&router, post_body("/api/v0/messages", "application/json", body.clone())).await;
    assert_eq!(status, StatusCode::OK);
    // A duplicate and a rejected message are not gossiped.
    let (status, _) = oneshot(&router, post_body("/api/v0/messages", "application/json", body)).await;
    assert_eq!(status, StatusCode::OK);
    let mut unsigned = post(&node.eth(0), "gossip", json!({"unsigned": true}));
    unsigned.signature = None;
    let (status, _) = oneshot(
        &router,
        post_body("/api/v0/messages", "application/json", json!({"message": unsigned}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let sent = recorder.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["item_hash"], m.item_hash.as_str());
    assert_eq!(sent[0]["signature"], m.signature.clone().unwrap());
    node.stop().await;
}
