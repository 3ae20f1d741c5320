//! Aggregates: shallow merge by content time, whatever the arrival order, and the aggregate
//! endpoints.

use aleph_core::{MessageType, Signer};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

fn elements() -> [(Value, f64); 3] {
    [
        (json!({"a": 1, "b": {"x": 1}, "c": 1}), 1_700_000_100.0),
        (json!({"b": {"y": 2}, "d": null}), 1_700_000_200.0),
        (json!({"a": 3}), 1_700_000_300.0),
    ]
}

#[tokio::test]
async fn merge_by_content_time_is_independent_of_arrival_order() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let [e1, e2, e3] = elements();
    let expected = json!({"a": 3, "b": {"y": 2}, "c": 1, "d": null});
    for (key, order) in
        [("in-order", [&e1, &e2, &e3]), ("shuffled", [&e3, &e1, &e2]), ("reversed", [&e3, &e2, &e1])]
    {
        for (body, time) in order {
            node.submit_ok(&aggregate(&owner, key, body.clone(), *time)).await;
        }
        let got = node.get_ok(&format!("/api/v0/aggregates/{}.json?keys={key}", owner.address())).await;
        assert_eq!(got["data"][key], expected, "{key}: {got}");
    }
    // Every key at once; `info` is always present.
    let all = node.get_ok(&format!("/api/v0/aggregates/{}.json", owner.address())).await;
    assert_eq!(keys(&all), ["address", "data", "info"]);
    assert_eq!(keys(&all["data"]), ["in-order", "reversed", "shuffled"]);
    assert_eq!(all["info"], json!({}));
    node.stop().await;
}

#[tokio::test]
async fn out_of_order_arrival_on_two_nodes_gives_the_same_state() {
    let (n1, n2) = (TestNode::start().await, TestNode::start().await);
    let owner = n1.eth(0);
    let messages: Vec<_> = elements().into_iter().map(|(b, t)| aggregate(&owner, "profile", b, t)).collect();
    for m in &messages {
        n1.submit_ok(m).await;
    }
    for m in messages.iter().rev() {
        // Asynchronously, so the second node may process them in one batch or several.
        n2.submit(m, false).await;
    }
    for m in &messages {
        n2.wait_status(m.item_hash.as_str(), "processed").await;
    }
    let path = format!("/api/v0/aggregates/{}.json?keys=profile&with_info=true", owner.address());
    let (a, b) = (n1.get_ok(&path).await, n2.get_ok(&path).await);
    assert_eq!(a["data"], b["data"]);
    assert_eq!(a["info"], b["info"]);
    let info = &a["info"]["profile"];
    assert_eq!(info["original_item_hash"], messages[0].item_hash.as_str());
    assert_eq!(info["last_update_item_hash"], messages[2].item_hash.as_str());
    assert!(info["created"].as_str().is_some_and(|s| s.ends_with("+00:00")));
    n1.stop().await;
    n2.stop().await;
}

#[tokio::test]
async fn aggregate_endpoints() {
    let node = TestNode::start().await;
    let (a, b) = (node.eth(0), node.sol(0));
    node.submit_ok(&aggregate(&a, "settings", json!({"theme": "dark"}), now())).await;
    node.submit_ok(&aggregate(&a, "profile", json!({"name": "a"}), now())).await;
    // The key may also be given as {"name": key}.
    let named =
        sign(&b, MessageType::Aggregate, json!({"key": {"name": "profile"}, "content": {"name": "b"}}));
    node.submit_ok(&named).await;

    let only =
        node.get_ok(&format!("/api/v0/aggregates/{}.json?keys=settings&value_only=true", a.address())).await;
    assert_eq!(only, json!({"theme": "dark"}));
    let two = node.get_ok(&format!("/api/v0/aggregates/{}.json?keys=settings,profile", a.address())).await;
    assert_eq!(two["data"], json!({"settings": {"theme": "dark"}, "profile": {"name": "a"}}));
    let b_profile = node.get_ok(&format!("/api/v0/aggregates/{}.json?keys=profile", b.address())).await;
    assert_eq!(b_profile["data"]["profile"], json!({"name": "b"}));
    // Nothing matching: 404.
    let (status, _) = node.get(&format!("/api/v0/aggregates/{}.json?keys=none", a.address())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = node.get("/api/v0/aggregates/0x0000000000000000000000000000000000000000.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = node.get(&format!("/api/v0/aggregates/{}.json?with_info=maybe", a.address())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The list, in both spellings.
    let list = node.get_ok("/api/v0/aggregates.json?keys=profile").await;
    assert_eq!(list["aggregates"].as_array().unwrap().len(), 2);
    assert_eq!(list["pagination_item"], "aggregates");
    let item = &list["aggregates"][0];
    assert_eq!(keys(item), ["address", "content", "created", "key", "last_updated"]);
    let mine = node.get_ok(&format!("/api/v0/aggregates?addresses={}", a.address())).await;
    assert_eq!(mine["pagination_total"], 2);
    let paged = node.get_ok("/api/v0/aggregates?pagination=1&page=3").await;
    assert_eq!(paged["aggregates"].as_array().unwrap().len(), 1);
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = node.get_ok(&format!("/api/v0/aggregates?pagination=2&cursor={cursor}")).await;
        seen += page["aggregates"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 3);
    let (status, _) = node.get("/api/v0/aggregates?pagination=501").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = node.get("/api/v0/aggregates?sortBy=size").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // contentKeys takes plain key names (pyaleph's 422 there is a bug).
    let msgs = node.get_ok("/api/v0/messages.json?msgTypes=AGGREGATE&contentKeys=settings").await;
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 1);
    node.stop().await;
}
