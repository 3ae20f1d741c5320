//! `POST /api/v0/price/estimate` as the official clients call it: the TypeScript SDK sends only
//! `type`, `item_type`, `item_hash` and `item_content` (no sender, chain or time).

use aleph_core::Signer;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

async fn estimate(node: &TestNode, message: Value) -> (StatusCode, Value) {
    let resp = node
        .http
        .post(format!("{}/api/v0/price/estimate", node.url))
        .json(&json!({"message": message}))
        .send()
        .await
        .unwrap();
    read(resp).await
}

#[tokio::test]
async fn estimates_need_no_sender_chain_or_time() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let content = json!({"address": owner.address(), "time": now(), "item_type": "storage",
                         "item_hash": sha256_hex(b"to be priced"), "estimated_size_mib": 100});
    let item_content = content.to_string();
    let bare = json!({"type": "STORE", "item_type": "inline", "item_content": item_content,
                      "item_hash": sha256_hex(item_content.as_bytes())});
    let (status, body) = estimate(&node, bare.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cost"], "33.333333300000000000");
    assert_eq!(body["payment_type"], "hold");
    assert_eq!(body["charged_address"], owner.address());
    // The full envelope prices the same; null fields count as absent.
    let mut full = bare.clone();
    full["sender"] = json!(owner.address());
    full["chain"] = json!("ETH");
    full["time"] = json!(now());
    assert_eq!(estimate(&node, full).await, (StatusCode::OK, body.clone()));
    let mut nulls = bare.clone();
    for k in ["sender", "chain", "time", "signature", "channel"] {
        nulls[k] = Value::Null;
    }
    assert_eq!(estimate(&node, nulls).await, (StatusCode::OK, body));
    // Present fields must still be well formed.
    for (k, v) in [("chain", json!("NOPE")), ("sender", json!(42)), ("time", json!("yesterday"))] {
        let mut bad = bare.clone();
        bad[k] = v;
        let (status, body) = estimate(&node, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{k}: {body}");
    }
    node.stop().await;
}
