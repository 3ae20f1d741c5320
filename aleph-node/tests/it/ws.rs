//! `/api/ws0/messages`: history first (oldest to newest, list form), then live messages (single
//! form) matching the filters; rejections are never streamed.

use std::time::Duration;

use aleph_core::{MessageType, PendingMessage, Signer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::common::*;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(node: &TestNode, query: &str) -> Ws {
    let url = format!("{}/api/ws0/messages?{query}", node.url.replacen("http", "ws", 1));
    tokio_tungstenite::connect_async(url).await.expect("websocket").0
}

/// The next text frame as JSON, or `None` if nothing comes within `wait`.
async fn next_json(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.expect("frame");
        match frame {
            WsMessage::Text(t) => return Some(serde_json::from_str(t.as_str()).expect("JSON frame")),
            WsMessage::Close(_) => return None,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn history_then_live() {
    let node = TestNode::start().await;
    let signer = node.eth(0);
    let on = |n: i32, channel: &str| {
        sign_on(&signer, MessageType::Post, json!({"type": "ws", "content": {"n": n}}), channel)
    };
    let history: Vec<PendingMessage> = (0..3).map(|n| on(n, "WS")).collect();
    for m in &history {
        node.submit_ok(m).await;
    }
    node.submit_ok(&on(99, "ELSEWHERE")).await;

    let mut ws = connect(&node, "channels=WS&history=2").await;
    // The two most recent, oldest first, in list form (with `size`).
    for expected in &history[1..] {
        let m = next_json(&mut ws, Duration::from_secs(5)).await.expect("a history frame");
        assert_eq!(m["item_hash"], expected.item_hash.as_str());
        assert!(m.get("size").is_some(), "{m}");
    }
    assert!(next_json(&mut ws, Duration::from_millis(300)).await.is_none(), "only the asked history");

    // Live: a message on another channel, a rejected one, then a matching one.
    node.submit_ok(&on(100, "ELSEWHERE")).await;
    let mut rejected = on(101, "WS");
    rejected.signature = None;
    node.submit(&rejected, true).await;
    let live = on(4, "WS");
    node.submit_ok(&live).await;
    let m = next_json(&mut ws, Duration::from_secs(5)).await.expect("a live frame");
    assert_eq!(m["item_hash"], live.item_hash.as_str());
    assert!(m.get("size").is_none(), "live frames are the single form: {m}");
    assert_eq!(m["content"]["content"], json!({"n": 4}));
    assert_eq!(m["channel"], "WS");
    ws.send(WsMessage::Close(None)).await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn live_filters_and_formats() {
    let node = TestNode::start().await;
    let (eth, sol) = (node.eth(0), node.sol(0));
    let mut by_type = connect(&node, "msgTypes=AGGREGATE&history=0").await;
    let mut by_sender = connect(&node, &format!("addresses={}&contentFormat=none", sol.address())).await;
    // The server subscribes a socket after the upgrade: wait until both are, by sending probes
    // (SOL AGGREGATEs, which both filters match) until `by_type` streams one live. `by_sender`
    // subscribes before it reads its history, so it gets every probe exactly once.
    let mut probes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let first_seen = loop {
        let probe = aggregate(&sol, "probe", json!({"n": probes.len()}), now());
        node.submit_ok(&probe).await;
        probes.push(probe.item_hash.to_string());
        if let Some(frame) = next_json(&mut by_type, Duration::from_millis(100)).await {
            break frame["item_hash"].as_str().expect("a hash").to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "the sockets never subscribed");
    };
    // Frames come in order: `by_type` has the probes from the one it got to the last.
    let from = probes.iter().position(|h| *h == first_seen).expect("one of the probes");
    for h in &probes[from + 1..] {
        let frame = next_json(&mut by_type, Duration::from_secs(5)).await.expect("a probe frame");
        assert_eq!(frame["item_hash"], h.as_str());
    }
    let mut seen = Vec::new();
    for _ in &probes {
        let frame = next_json(&mut by_sender, Duration::from_secs(5)).await.expect("a probe frame");
        seen.push(frame["item_hash"].as_str().expect("a hash").to_owned());
    }
    seen.sort();
    probes.sort();
    assert_eq!(seen, probes, "every probe once on by_sender");
    let p = post(&eth, "note", json!({}));
    let a = aggregate(&eth, "k", json!({"v": 1}), now());
    let s = post(&sol, "note", json!({"from": "sol"}));
    for m in [&p, &a, &s] {
        node.submit_ok(m).await;
    }
    let got = next_json(&mut by_type, Duration::from_secs(5)).await.expect("frame");
    assert_eq!(got["item_hash"], a.item_hash.as_str());
    assert!(next_json(&mut by_type, Duration::from_millis(300)).await.is_none());
    let got = next_json(&mut by_sender, Duration::from_secs(5)).await.expect("frame");
    assert_eq!(got["item_hash"], s.item_hash.as_str());
    assert!(got.get("content").is_none(), "contentFormat=none: {got}");
    node.stop().await;
}

#[tokio::test]
async fn bad_websocket_queries_are_refused() {
    let node = TestNode::start().await;
    for query in ["history=200", "history=abc", "msgTypes=TWEET", "hashes=nothash"] {
        let url = format!("{}/api/ws0/messages?{query}", node.url.replacen("http", "ws", 1));
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 422, "{query}");
            }
            other => panic!("{query}: expected an HTTP error, got {:?}", other.map(|_| ())),
        }
    }
    node.stop().await;
}

#[tokio::test]
async fn status_socket_sends_the_metrics_object() {
    let node = TestNode::start().await;
    node.submit_ok(&post(&node.eth(0), "status", json!({}))).await;
    let url = format!("{}/api/ws0/status", node.url.replacen("http", "ws", 1));
    let mut ws = tokio_tungstenite::connect_async(url).await.expect("websocket").0;
    let frame = next_json(&mut ws, Duration::from_secs(5)).await.expect("a status frame at connection");
    assert_eq!(frame, node.get_ok("/metrics.json").await);
    assert_eq!(frame["sync_messages_total"], 1, "{frame}");
    // Unchanged metrics are not sent again.
    assert!(next_json(&mut ws, Duration::from_millis(500)).await.is_none());
    ws.close(None).await.ok();
    node.stop().await;
}
