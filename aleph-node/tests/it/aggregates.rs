//! Aggregates: shallow merge by content time, whatever the arrival order (concurrent writers and
//! amends included), and the aggregate endpoints.

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
    // The three written here, and the foundation's three that dev mode seeds.
    assert_eq!(seen, 6);
    let (status, _) = node.get("/api/v0/aggregates?pagination=501").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = node.get("/api/v0/aggregates?sortBy=size").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // contentKeys takes plain key names (pyaleph's 422 there is a bug).
    let msgs = node.get_ok("/api/v0/messages.json?msgTypes=AGGREGATE&contentKeys=settings").await;
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 1);
    node.stop().await;
}

/// Submits every message at once (no `sync`), so intake batches and processing interleave.
async fn submit_all_at_once(node: &TestNode, messages: &[&aleph_core::PendingMessage]) {
    let submissions = messages.iter().map(|m| node.submit(m, false));
    for (status, body) in futures_util::future::join_all(submissions).await {
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    for m in messages {
        node.wait_status(m.item_hash.as_str(), "processed").await;
    }
}

#[tokio::test]
async fn concurrent_writers_reach_the_same_aggregates_and_amends_in_any_order() {
    let (a, b) = (TestNode::start().await, TestNode::start().await);
    let (alice, bob) = (a.eth(0), a.eth(1));
    // Two writers on one aggregate key each, every element setting a shared field and one of its
    // own; some content times are equal (ties merge in item-hash order).
    let mut elements = Vec::new();
    for i in 0..24u32 {
        let time = 1_700_000_000.0 + f64::from(i / 3);
        for (who, signer) in [("alice", &alice), ("bob", &bob)] {
            let body = json!({"last": format!("{who}-{i}"), format!("{who}{}", i % 4): i});
            elements.push(aggregate(signer, "shared", body, time));
        }
    }
    // One post, amended concurrently; the displayed version is the latest amend by content time.
    let original = post(&alice, "blog", json!({"v": "original"}));
    a.submit_ok(&original).await;
    b.submit_ok(&original).await;
    let amends: Vec<_> = (0..16u32)
        .map(|i| {
            let time = 1_700_000_000.0 + f64::from(i * 7 % 16);
            sign(
                &alice,
                MessageType::Post,
                json!({"type": "amend", "ref": original.item_hash.as_str(), "content": {"v": i}, "time": time}),
            )
        })
        .collect();

    let forward: Vec<_> = elements.iter().chain(&amends).collect();
    let backward: Vec<_> = forward.iter().rev().copied().collect();
    tokio::join!(submit_all_at_once(&a, &forward), submit_all_at_once(&b, &backward));

    for owner in [&alice, &bob] {
        let path = format!("/api/v0/aggregates/{}.json?keys=shared&with_info=true", owner.address());
        let (on_a, on_b) = (a.get_ok(&path).await, b.get_ok(&path).await);
        assert_eq!(on_a["data"], on_b["data"], "{}", owner.address());
        assert_eq!(on_a["info"], on_b["info"]);
        // The newest content time is 1_700_000_007 (i = 21..=23): its last element by item hash
        // sets `last`; every own field holds its highest i.
        let who = if owner.address() == alice.address() { "alice" } else { "bob" };
        let data = &on_a["data"]["shared"];
        for k in 0..4u32 {
            let highest = (0..24u32).filter(|i| i % 4 == k).max().unwrap();
            assert_eq!(data[format!("{who}{k}")], highest, "{data}");
        }
        let last = data["last"].as_str().unwrap().to_owned();
        assert!(["21", "22", "23"].iter().any(|i| last == format!("{who}-{i}")), "{data}");
    }
    let posts_path = format!("/api/v0/posts.json?hashes={}", original.item_hash);
    let (pa, pb) = (a.get_ok(&posts_path).await, b.get_ok(&posts_path).await);
    assert_eq!(pa["posts"], pb["posts"]);
    // i * 7 % 16 == 15 for i = 9: the latest amend.
    assert_eq!(pa["posts"][0]["content"], json!({"v": 9}), "{pa}");
    assert_eq!(pa["posts"][0]["item_hash"], amends[9].item_hash.as_str());
    a.stop().await;
    b.stop().await;
}
