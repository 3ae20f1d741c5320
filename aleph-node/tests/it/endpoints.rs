//! The small endpoints (version, node info, metrics, OpenAPI, channels, per-address views) and
//! sweeps over every operation the OpenAPI document lists: each is routed to a handler, and
//! hostile parameters and bodies never get a 5xx.

use aleph_core::{MessageType, Signer};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn version_info_and_metrics() {
    let node = TestNode::start().await;
    for path in ["/api/v0/version", "/version"] {
        assert_eq!(node.get_ok(path).await, json!({"version": aleph_node::VERSION}));
    }
    assert_eq!(node.get_ok("/api/v0/info/public.json").await, json!({"node_multi_addresses": []}));
    let before = node.get_ok("/metrics.json").await;
    node.submit_ok(&post(&node.eth(0), "note", json!({}))).await;
    let mut unsigned = post(&node.eth(0), "note", json!({"n": 2}));
    unsigned.signature = None;
    node.submit(&unsigned, true).await;
    let after = node.get_ok("/metrics.json").await;
    assert_eq!(
        after["sync_messages_total"].as_i64().unwrap(),
        before["sync_messages_total"].as_i64().unwrap() + 1
    );
    assert_eq!(
        after["sync_rejected_messages_total"].as_i64().unwrap(),
        before["sync_rejected_messages_total"].as_i64().unwrap() + 1
    );
    assert_eq!(after["version"], aleph_node::VERSION);
    let (status, text) = node.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("Prometheus text").to_owned();
    assert!(text.contains("aleph_node_sync_messages_total "), "{text}");
    for line in text.lines() {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "every sample has a number: {line}");
    }
    node.stop().await;
}

#[tokio::test]
async fn channels_post_types_and_address_stats() {
    let node = TestNode::start().await;
    let (a, b) = (node.eth(0), node.sol(0));
    node.submit_ok(&sign_on(&a, MessageType::Post, json!({"type": "blog", "content": {}}), "CH-A")).await;
    node.submit_ok(&sign_on(&a, MessageType::Post, json!({"type": "chat", "content": {}}), "CH-B")).await;
    node.submit_ok(&sign_on(&a, MessageType::Aggregate, json!({"key": "k", "content": {}}), "CH-A")).await;
    node.submit_ok(&sign_on(&b, MessageType::Post, json!({"type": "blog", "content": {}}), "CH-C")).await;

    assert_eq!(
        node.get_ok("/api/v0/channels/list.json").await,
        json!({"channels": ["CH-A", "CH-B", "CH-C"]})
    );
    let pt = node.get_ok(&format!("/api/v0/addresses/{}/post_types", a.address())).await;
    assert_eq!(pt, json!({"address": a.address(), "post_types": ["blog", "chat"]}));
    let ch = node.get_ok(&format!("/api/v0/addresses/{}/channels", b.address())).await;
    assert_eq!(ch, json!({"address": b.address(), "channels": ["CH-C"]}));

    let stats = |n: i64, post: i64, aggregate: i64| json!({"messages": n, "post": post, "aggregate": aggregate, "store": 0, "forget": 0, "program": 0, "instance": 0});
    let v0 = node.get_ok(&format!("/api/v0/addresses/stats.json?addresses[]={}", a.address())).await;
    assert_eq!(v0, json!({"data": {a.address(): stats(3, 2, 1)}}));
    let both =
        node.get_ok(&format!("/api/v0/addresses/stats.json?addresses={},{}", a.address(), b.address())).await;
    assert_eq!(both["data"].as_object().unwrap().len(), 2);
    let v1 = node.get_ok("/api/v1/addresses/stats.json").await;
    assert_eq!(v1["pagination_item"], "addresses");
    assert_eq!(v1["pagination_total"], 2);
    assert_eq!(v1["data"][a.address()], stats(3, 2, 1));
    assert_eq!(v1["data"][b.address()], stats(1, 1, 0));
    // Substring filter (case-insensitive) and sorting.
    let needle = a.address()[2..10].to_lowercase();
    let filtered = node.get_ok(&format!("/api/v1/addresses/stats.json?addressContains={needle}")).await;
    assert_eq!(keys(&filtered["data"]), [a.address().to_owned()]);
    let sorted = node.get_ok("/api/v1/addresses/stats.json?sortBy=aggregate&sortOrder=1&pagination=1").await;
    assert_eq!(keys(&sorted["data"]), [b.address().to_owned()], "{sorted}");
    node.stop().await;
}

/// Fills an OpenAPI path template with values that exist on the node.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut path = template.to_owned();
    for (name, value) in values {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let node = TestNode::start_with(|c| c.role = aleph_node::config::Role::Both).await;
    let owner = node.eth(0);
    let bytes = b"sweep".to_vec();
    node.http.post(format!("{}/api/v0/storage/add_file", node.url)).body(bytes.clone()).send().await.unwrap();
    let s = store(&owner, &sha256_hex(&bytes));
    node.submit_ok(&s).await;
    let values = [
        ("item_hash", s.item_hash.to_string()),
        ("hash", sha256_hex(&bytes)),
        ("address", owner.address().to_owned()),
        ("page", "1".to_owned()),
        ("ref", s.item_hash.to_string()),
        ("reference", s.item_hash.to_string()),
        ("rest", "a/b".to_owned()),
    ];
    let doc = node.get_ok("/api/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "{}", paths.len());
    for (template, ops) in paths {
        for (method, _) in ops.as_object().unwrap() {
            let path = fill(template, &values);
            assert!(!path.contains('{'), "unfilled {template}");
            if path.starts_with("/api/ws0/") {
                continue;
            }
            let url = format!("{}{path}", node.url);
            let request = match method.as_str() {
                "get" => node.http.get(url),
                "post" => node.http.post(url).json(&json!({})),
                other => panic!("unexpected method {other}"),
            };
            let resp = request.send().await.unwrap();
            let status = resp.status();
            let body = resp.text().await.unwrap();
            assert_ne!(status, 405, "{method} {template} is not routed for this method");
            assert!(
                status != 404 || !body.is_empty(),
                "{method} {template}: the router's own 404 (no route)"
            );
            assert!(status.as_u16() < 500, "{method} {template}: {status} {body}");
            if status == 200 && body.starts_with('{') {
                let _: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{template}: {e}"));
            }
        }
    }
    node.stop().await;
}

/// Query values, already in URL form: empty, negative, huge, not numbers, NUL, bytes that are not
/// UTF-8, list separators only, a very long value, non-ASCII, JSON where text is expected.
const HOSTILE_VALUES: &[&str] = &[
    "",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "abc",
    "%00",
    "%ff%fe",
    ",,,",
    "%F0%9F%99%82",
    "%5B%5D",
    "%7B%22a%22%3A1%7D",
];

/// Request bodies with the content types they claim.
fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("application/json", Vec::new()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", br#"{"message": 7, "sync": "yes", "topic": [], "data": {}}"#.to_vec()),
        ("application/json", nested.into_bytes()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x80]),
        (
            "multipart/form-data; boundary=X",
            b"--X\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".to_vec(),
        ),
        ("multipart/form-data", b"no boundary".to_vec()),
        ("text/plain", b"\x00\x01\x02 plain bytes".to_vec()),
    ]
}

/// Every documented operation of a node running both roles, through the production composition
/// (the server the node launches, its limits included), with hostile path and query values and
/// bodies: no 5xx, the node still serves, no message recorded, and no file stored but those an
/// upload answered with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_never_gets_a_5xx() {
    let node = TestNode::start_with(|c| c.role = aleph_node::config::Role::Both).await;
    node.submit_ok(&post(&node.eth(0), "sweep", json!({"n": 1}))).await;
    let files_before = stored_files(&node).await;
    let doc = node.get_ok("/api/openapi.json").await;
    let long = "x".repeat(5_000);
    let mut values: Vec<&str> = HOSTILE_VALUES.to_vec();
    values.push(&long);
    let mut requests = 0;
    let mut uploaded = std::collections::HashSet::new();
    // A fresh connection per request: a refusal answered before its body was read ends the
    // connection (as HTTP allows), and a pooled one could be reused as that happens.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for (template, ops) in doc["paths"].as_object().expect("paths") {
        if template.starts_with("/api/ws0/") {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let params = op["parameters"].as_array().unwrap();
            let (path_params, query_params): (Vec<&Value>, Vec<&Value>) =
                params.iter().partition(|p| p["in"] == "path");
            // Every path parameter and every query parameter, one at a time, with each value.
            let mut uris = Vec::new();
            for value in &values {
                let mut path = template.clone();
                for p in &path_params {
                    path = path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), value);
                }
                if !path_params.is_empty() && !value.is_empty() {
                    uris.push(path);
                }
                let path = fill(
                    template,
                    &[
                        ("item_hash", sha256_hex(b"x")),
                        ("hash", sha256_hex(b"x")),
                        ("address", node.eth(0).address().to_owned()),
                        ("page", "1".into()),
                        ("ref", "r".into()),
                        ("reference", sha256_hex(b"x")),
                        ("rest", "a/b".into()),
                    ],
                );
                for q in &query_params {
                    uris.push(format!("{path}?{}={value}", q["name"].as_str().unwrap()));
                }
            }
            for uri in uris {
                let bodies =
                    if method == "post" { hostile_bodies() } else { vec![("application/json", Vec::new())] };
                for (content_type, body) in bodies {
                    let url = format!("{}{uri}", node.url);
                    let request = if method == "post" { http.post(url) } else { http.get(url) };
                    let resp = request.header("content-type", content_type).body(body).send().await.unwrap();
                    let status = resp.status();
                    let answer = resp.text().await.unwrap_or_default();
                    requests += 1;
                    assert!(status.as_u16() < 500, "{method} {uri} ({content_type}): {status} {answer}");
                    if status.is_success() && uri.contains("/add_") {
                        if let Some(h) = serde_json::from_str::<Value>(&answer)
                            .ok()
                            .and_then(|v| v["hash"].as_str().map(str::to_owned))
                        {
                            uploaded.insert(h);
                        }
                    }
                }
            }
        }
    }
    assert!(requests > 2_500, "{requests}");
    println!("{requests} hostile requests, no 5xx");
    // Still serving, and nothing was recorded from the garbage.
    assert!(node.get_ok("/api/v0/version").await["version"].is_string());
    assert_eq!(node.get_ok("/api/v0/messages.json").await["pagination_total"], 1);
    let stray: Vec<String> = stored_files(&node)
        .await
        .difference(&files_before)
        .filter(|h| !uploaded.contains(*h))
        .cloned()
        .collect();
    assert!(stray.is_empty(), "files stored by requests that did not upload them: {stray:?}");
    let incoming = node.handle.pipeline().config().data_dir.join("incoming");
    let staged = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(staged, 0, "partial uploads left in {}", incoming.display());
    node.stop().await;
}

/// The hashes of the files in the node's file store (`<data_dir>/files/<2 chars>/<hash>`).
async fn stored_files(node: &TestNode) -> std::collections::HashSet<String> {
    let root = node.handle.pipeline().config().data_dir.join("files");
    let mut hashes = std::collections::HashSet::new();
    for shard in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            hashes.insert(file.file_name().to_string_lossy().into_owned());
        }
    }
    hashes
}
