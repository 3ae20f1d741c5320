//! Posts: the strict v0 shape, amends (101 retry until the original arrives, 102 amend of
//! amend), the displayed version by content time, v1 posts and the post filters.

use aleph_core::{MessageType, Signer};
use aleph_node::Event;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

const V0_POST_KEYS: [&str; 19] = [
    "address",
    "chain",
    "channel",
    "confirmations",
    "confirmed",
    "content",
    "hash",
    "item_content",
    "item_hash",
    "item_type",
    "original_item_hash",
    "original_signature",
    "original_type",
    "ref",
    "sender",
    "signature",
    "size",
    "time",
    "type",
];

fn amend(signer: &dyn Signer, original: &str, body: Value, time: f64) -> aleph_core::PendingMessage {
    sign(signer, MessageType::Post, json!({"type": "amend", "ref": original, "content": body, "time": time}))
}

#[tokio::test]
async fn v0_posts_have_exactly_the_19_keys_and_merge_the_latest_amend() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let t = now();
    let original = sign(
        &owner,
        MessageType::Post,
        json!({"type": "blog", "content": {"v": 1}, "time": t, "ref": "topic"}),
    );
    node.submit_ok(&original).await;
    let posts = node.get_ok("/api/v0/posts.json").await;
    let p = &posts["posts"][0];
    assert_eq!(keys(p), V0_POST_KEYS, "{p}");
    assert_eq!(p["item_hash"], original.item_hash.as_str());
    assert_eq!(p["hash"], original.item_hash.as_str());
    assert_eq!(p["original_item_hash"], original.item_hash.as_str());
    assert_eq!(p["type"], "blog");
    assert_eq!(p["original_type"], "blog");
    assert_eq!(p["ref"], "topic");
    assert_eq!(p["content"], json!({"v": 1}));
    assert_eq!(p["sender"], owner.address());
    assert_eq!(p["address"], owner.address());
    assert_eq!(p["confirmed"], false);
    assert_eq!(p["channel"], CHANNEL);
    for k in ["pagination_page", "pagination_per_page", "pagination_total", "pagination_item"] {
        assert!(posts.get(k).is_some(), "{k} missing");
    }
    assert_eq!(posts["pagination_item"], "posts");

    let a1 = amend(&owner, original.item_hash.as_str(), json!({"v": 2}), t + 10.0);
    node.submit_ok(&a1).await;
    // An amend with an older content time does not replace the displayed version.
    let a0 = amend(&owner, original.item_hash.as_str(), json!({"v": "older"}), t + 5.0);
    node.submit_ok(&a0).await;
    let posts = node.get_ok("/api/v0/posts.json").await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 1, "amends are never listed themselves: {posts}");
    let p = &posts["posts"][0];
    assert_eq!(keys(p), V0_POST_KEYS);
    assert_eq!(p["item_hash"], a1.item_hash.as_str());
    assert_eq!(p["type"], "amend");
    assert_eq!(p["original_type"], "blog");
    assert_eq!(p["original_item_hash"], original.item_hash.as_str());
    assert_eq!(p["original_signature"], original.signature.clone().unwrap());
    assert_eq!(p["signature"], a1.signature.clone().unwrap());
    assert_eq!(p["item_content"], a1.item_content.clone().unwrap());
    assert_eq!(p["content"], json!({"v": 2}));
    assert_eq!(p["ref"], "topic");

    // v1: one row per original, with ISO times.
    let v1 = node.get_ok("/api/v1/posts.json").await;
    let p = &v1["posts"][0];
    assert_eq!(
        keys(p),
        [
            "address",
            "channel",
            "content",
            "created",
            "item_hash",
            "last_updated",
            "original_item_hash",
            "original_type",
            "ref"
        ]
    );
    assert_eq!(p["item_hash"], a1.item_hash.as_str());
    assert_eq!(p["content"], json!({"v": 2}));
    assert!(p["created"].as_str().is_some_and(|s| s.ends_with("+00:00")), "{p}");
    // The content endpoint of a post is its payload.
    let content = node.get_ok(&format!("/api/v0/messages/{}/content", a1.item_hash)).await;
    assert_eq!(content, json!({"v": 2}));
    node.stop().await;
}

#[tokio::test]
async fn an_amend_waits_for_its_original_then_is_processed() {
    let node = TestNode::start_with(|c| c.processing.max_retries = 200).await;
    let owner = node.eth(0);
    let original = post(&owner, "blog", json!({"v": 1}));
    let a = amend(&owner, original.item_hash.as_str(), json!({"v": 2}), now() + 1.0);
    let mut events = node.handle.pipeline().subscribe();
    let (status, _) = node.submit(&a, false).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The target is unknown: error 101 is a retry, not a rejection.
    let e = TestNode::next_event(&mut events, a.item_hash.as_str()).await;
    assert!(matches!(e, Event::Retry { .. }), "{e:?}");
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}/status", a.item_hash)).await["status"], "pending");
    node.submit_ok(&original).await;
    node.wait_status(a.item_hash.as_str(), "processed").await;
    let posts = node.get_ok(&format!("/api/v0/posts.json?hashes={}", original.item_hash)).await;
    assert_eq!(posts["posts"][0]["content"], json!({"v": 2}));
    node.stop().await;
}

#[tokio::test]
async fn an_amend_whose_original_never_comes_is_rejected_101() {
    let node = TestNode::start_with(|c| c.processing.max_retries = 2).await;
    let a = amend(&node.eth(0), &sha256_hex(b"missing"), json!({}), now());
    let (status, body) = node.submit(&a, true).await;
    // Either the sync wait saw the rejection, or it answered pending before the retries ran out.
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::ACCEPTED, "{status} {body}");
    let rejected = node.wait_status(a.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 101, "{rejected}");
    node.stop().await;
}

#[tokio::test]
async fn an_amend_of_an_amend_is_rejected_102() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let original = post(&owner, "blog", json!({}));
    node.submit_ok(&original).await;
    let a1 = amend(&owner, original.item_hash.as_str(), json!({"v": 2}), now());
    node.submit_ok(&a1).await;
    let a2 = amend(&owner, a1.item_hash.as_str(), json!({"v": 3}), now());
    let (status, body) = node.submit(&a2, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", a2.item_hash)).await;
    assert_eq!(rejected["error_code"], 102, "{rejected}");
    node.stop().await;
}

#[tokio::test]
async fn only_the_owner_or_a_delegate_may_amend() {
    let node = TestNode::start().await;
    let (owner, other) = (node.eth(0), node.sol(0));
    let original = post(&owner, "blog", json!({"v": 1}));
    node.submit_ok(&original).await;
    // Someone else amending in their own name: the owner must not change.
    let hijack = amend(&other, original.item_hash.as_str(), json!({"v": "hijacked"}), now());
    node.submit(&hijack, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", hijack.item_hash)).await["error_code"], 2);
    // …or in the owner's name without a grant.
    let mut c = json!({"type": "amend", "ref": original.item_hash.as_str(), "content": {"v": "forged"}});
    c["address"] = json!(owner.address());
    let forged = sign(&other, MessageType::Post, c.clone());
    node.submit(&forged, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", forged.item_hash)).await["error_code"], 2);
    // With a grant for the original's post type, the delegate may amend.
    let grant = json!({"authorizations": [{"address": other.address(), "post_types": ["blog"]}]});
    node.submit_ok(&aggregate(&owner, "security", grant, now())).await;
    c["content"] = json!({"v": "delegated"});
    let delegated = sign(&other, MessageType::Post, c);
    node.submit_ok(&delegated).await;
    let posts = node.get_ok(&format!("/api/v0/posts.json?hashes={}", original.item_hash)).await;
    assert_eq!(posts["posts"][0]["content"], json!({"v": "delegated"}));
    node.stop().await;
}

#[tokio::test]
async fn post_filters_and_pages() {
    let node = TestNode::start().await;
    let (a, b) = (node.eth(0), node.sol(0));
    let t = now();
    let mut hashes = Vec::new();
    for i in 0..5 {
        let signer: &dyn Signer = if i % 2 == 0 { &a } else { &b };
        let post_type = if i < 3 { "alpha" } else { "beta" };
        let tags = if i == 4 { json!(["tagged"]) } else { json!([]) };
        let m = sign(
            signer,
            MessageType::Post,
            json!({"type": post_type, "content": {"i": i, "tags": tags}, "time": t + i as f64}),
        );
        node.submit_ok(&m).await;
        hashes.push(m.item_hash.to_string());
    }
    let count = |v: &Value| v["posts"].as_array().map(Vec::len).unwrap_or(usize::MAX);
    assert_eq!(count(&node.get_ok("/api/v0/posts.json?types=alpha").await), 3);
    assert_eq!(count(&node.get_ok(&format!("/api/v0/posts.json?addresses={}", b.address())).await), 2);
    assert_eq!(count(&node.get_ok("/api/v0/posts.json?tags=tagged").await), 1);
    assert_eq!(
        count(&node.get_ok(&format!("/api/v0/posts.json?hashes={},{}", hashes[0], hashes[1])).await),
        2
    );
    assert_eq!(count(&node.get_ok("/api/v0/posts.json?channels=NOPE").await), 0);
    // Newest first by default, oldest first with sortOrder=1.
    let desc = node.get_ok("/api/v0/posts.json").await;
    assert_eq!(desc["posts"][0]["item_hash"], hashes[4].as_str());
    let asc = node.get_ok("/api/v0/posts.json?sortOrder=1").await;
    assert_eq!(asc["posts"][0]["item_hash"], hashes[0].as_str());
    // Pages, by query and by path.
    let p2 = node.get_ok("/api/v0/posts.json?pagination=2&page=2").await;
    assert_eq!((p2["pagination_page"].clone(), p2["pagination_total"].clone()), (json!(2), json!(5)));
    assert_eq!(p2["posts"][0]["item_hash"], hashes[2].as_str());
    let p3 = node.get_ok("/api/v0/posts/page/3.json?pagination=2").await;
    assert_eq!(count(&p3), 1);
    assert_eq!(p3["posts"][0]["item_hash"], hashes[0].as_str());
    assert_eq!(count(&node.get_ok("/api/v1/posts/page/1.json?pagination=4").await), 4);
    // Cursor mode walks everything once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = node.get_ok(&format!("/api/v0/posts.json?pagination=2&cursor={cursor}")).await;
        assert!(page.get("pagination_total").is_none(), "{page}");
        seen.extend(
            page["posts"].as_array().unwrap().iter().map(|p| p["item_hash"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let mut expected = hashes.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    node.stop().await;
}

#[tokio::test]
async fn a_sync_submission_that_must_be_retried_answers_202_without_waiting() {
    let node = TestNode::start_with(|c| {
        c.processing.max_retries = 1000;
        c.processing.sync_timeout_secs = 20.0;
    })
    .await;
    let a = amend(&node.eth(0), &sha256_hex(b"not yet"), json!({}), now());
    let t = std::time::Instant::now();
    let (status, body) = node.submit(&a, true).await;
    assert_eq!((status, body["message_status"].clone()), (StatusCode::ACCEPTED, json!("pending")), "{body}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "a retry answers at once: {:?}", t.elapsed());
    node.stop().await;
}
