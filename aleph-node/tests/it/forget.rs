//! FORGET: posts, aggregates and stores disappear from every view, the forgotten status names
//! the FORGET, and the FORGET error codes (2, 500, 501, 502, 504).

use aleph_core::{MessageType, Signer};
use aleph_node::Event;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// A 64-hex aggregate key: FORGET's `aggregates` takes keys shaped as item hashes.
fn hash_key(name: &str) -> String {
    sha256_hex(name.as_bytes())
}

#[tokio::test]
async fn forgetting_a_post_removes_its_content_everywhere() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let original = post(&owner, "blog", json!({"secret": "s3cr3t"}));
    node.submit_ok(&original).await;
    let amend = sign(
        &owner,
        MessageType::Post,
        json!({"type": "amend", "ref": original.item_hash.as_str(), "content": {"secret": "v2"}}),
    );
    node.submit_ok(&amend).await;
    let f = forget(&owner, &[original.item_hash.as_str()]);
    node.submit_ok(&f).await;

    let one = node.get_ok(&format!("/api/v0/messages/{}", original.item_hash)).await;
    assert_eq!(one["status"], "forgotten");
    assert_eq!(one["forgotten_by"], json!([f.item_hash.as_str()]));
    let text = one.to_string();
    assert!(!text.contains("s3cr3t"), "content is gone: {one}");
    assert!(one["message"].get("content").is_none() && one["message"].get("item_content").is_none());
    assert_eq!(one["message"]["sender"], owner.address());
    assert!(one["message"]["forgotten_at"].is_string());
    // Its amends are forgotten with it.
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", amend.item_hash)).await["status"], "forgotten");
    assert_eq!(
        node.get_ok(&format!("/api/v0/messages/{}/status", original.item_hash)).await["status"],
        "forgotten"
    );
    let posts = node.get_ok("/api/v0/posts.json").await;
    assert_eq!(posts["posts"], json!([]));
    let listed = node.get_ok(&format!("/api/v0/messages.json?hashes={}", original.item_hash)).await;
    assert_eq!(listed["messages"], json!([]));
    let (status, _) = node.get(&format!("/api/v0/messages/{}/content", original.item_hash)).await;
    assert!(status.is_client_error(), "{status}");
    // The forgotten list.
    let forgotten = node.get_ok("/api/v0/messages.json?msgStatuses=forgotten").await;
    let items = forgotten["messages"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{forgotten}");
    assert!(items
        .iter()
        .all(|m| m["status"] == "forgotten" && m["forgotten_by"] == json!([f.item_hash.as_str()])));
    let (status, _) = node.get("/api/v0/messages.json?msgStatuses=forgotten,processed").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The FORGET itself is an ordinary processed message.
    let listed =
        node.get_ok(&format!("/api/v0/messages.json?msgTypes=FORGET&addresses={}", owner.address())).await;
    assert_eq!(listed["messages"][0]["item_hash"], f.item_hash.as_str());
    node.stop().await;
}

#[tokio::test]
async fn forgetting_aggregates_by_key_and_by_element() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let key = hash_key("profile");
    let t = now();
    let e1 = aggregate(&owner, &key, json!({"a": 1, "b": 1}), t);
    let e2 = aggregate(&owner, &key, json!({"b": 2}), t + 1.0);
    node.submit_ok(&e1).await;
    node.submit_ok(&e2).await;
    // Forgetting one element recomputes the merge from the others.
    node.submit_ok(&forget(&owner, &[e2.item_hash.as_str()])).await;
    let got = node.get_ok(&format!("/api/v0/aggregates/{}.json?keys={key}", owner.address())).await;
    assert_eq!(got["data"][&key], json!({"a": 1, "b": 1}));
    // Forgetting by key removes the aggregate.
    let other = hash_key("other");
    node.submit_ok(&aggregate(&owner, &other, json!({"keep": true}), t)).await;
    let f = sign(&owner, MessageType::Forget, json!({"hashes": [], "aggregates": [key]}));
    node.submit_ok(&f).await;
    let (status, _) = node.get(&format!("/api/v0/aggregates/{}.json?keys={key}", owner.address())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        node.get_ok(&format!("/api/v0/messages/{}", e1.item_hash)).await["forgotten_by"],
        json!([f.item_hash.as_str()])
    );
    let rest = node.get_ok(&format!("/api/v0/aggregates/{}.json", owner.address())).await;
    assert_eq!(keys(&rest["data"]), [other]);
    // Forgetting a key that does not exist: 501, retried then rejected.
    let none = sign(&owner, MessageType::Forget, json!({"hashes": [], "aggregates": [hash_key("none")]}));
    node.submit(&none, false).await;
    assert_eq!(node.wait_status(none.item_hash.as_str(), "rejected").await["error_code"], 501);
    node.stop().await;
}

#[tokio::test]
async fn forgetting_a_store_unpins_its_file() {
    let node = TestNode::start().await;
    let owner = node.sol(0);
    let bytes = b"to be forgotten".to_vec();
    let resp = node
        .http
        .post(format!("{}/api/v0/storage/add_file", node.url))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let hash = sha256_hex(&bytes);
    let s = store(&owner, &hash);
    node.submit_ok(&s).await;
    assert_eq!(node.get_ok(&format!("/api/v0/storage/count/{hash}")).await, json!(1));
    node.submit_ok(&forget(&owner, &[s.item_hash.as_str()])).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", s.item_hash)).await["status"], "forgotten");
    let (status, _) = node.get(&format!("/api/v0/addresses/{}/files", owner.address())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = node.get(&format!("/api/v0/storage/by-message-hash/{}", s.item_hash)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Only the grace-period pin is left.
    assert_eq!(node.get_ok(&format!("/api/v0/storage/count/{hash}")).await, json!(1));
    let listed = node.get_ok(&format!("/api/v0/messages.json?msgTypes=STORE&contentHashes={hash}")).await;
    assert_eq!(listed["messages"], json!([]));
    node.stop().await;
}

#[tokio::test]
async fn forget_error_codes() {
    let node = TestNode::start().await;
    let (owner, other) = (node.eth(0), node.eth(1));
    let p = post(&owner, "blog", json!({}));
    node.submit_ok(&p).await;

    // 2: forgetting someone else's message.
    let denied = forget(&other, &[p.item_hash.as_str()]);
    let (status, _) = node.submit(&denied, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", denied.item_hash)).await["error_code"], 2);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await["status"], "processed");

    // A delegate whose grant covers the target may.
    let grant = json!({"authorizations": [{"address": other.address(), "types": ["POST"]}]});
    node.submit_ok(&aggregate(&owner, "security", grant, now())).await;
    let p2 = post(&owner, "blog", json!({"n": 2}));
    node.submit_ok(&p2).await;
    node.submit_ok(&forget(&other, &[p2.item_hash.as_str()])).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", p2.item_hash)).await["status"], "forgotten");

    // 500: nothing to forget.
    let empty = sign(&owner, MessageType::Forget, json!({"hashes": []}));
    let (status, _) = node.submit(&empty, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", empty.item_hash)).await["error_code"], 500);

    // 501: an unknown target, retried then rejected.
    let unknown = forget(&owner, &[&sha256_hex(b"unknown target")]);
    node.submit(&unknown, false).await;
    let rejected = node.wait_status(unknown.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 501);
    assert!(rejected["details"]["errors"].as_array().is_some_and(|e| !e.is_empty()));

    // 502: forgetting a FORGET.
    let f = forget(&owner, &[p.item_hash.as_str()]);
    node.submit_ok(&f).await;
    let ff = forget(&owner, &[f.item_hash.as_str()]);
    let (status, _) = node.submit(&ff, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", ff.item_hash)).await;
    assert_eq!(rejected["error_code"], 502);
    assert_eq!(rejected["details"], json!({"errors": [{"message": f.item_hash.as_str()}]}));
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", f.item_hash)).await["status"], "processed");

    // Forgetting an already forgotten message (with a live one): as the reference, the forgotten
    // target is not found (501), retried, then rejected; neither target changes.
    let p3 = post(&owner, "blog", json!({"n": 3}));
    node.submit_ok(&p3).await;
    let again = forget(&owner, &[p.item_hash.as_str(), p3.item_hash.as_str()]);
    node.submit(&again, false).await;
    let rejected = node.wait_status(again.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 501);
    let by = node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await["forgotten_by"].clone();
    assert_eq!(by, json!([f.item_hash.as_str()]));
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", p3.item_hash)).await["status"], "processed");
    // Nor can someone else append to it.
    let intruder = forget(&node.eth(1), &[p.item_hash.as_str()]);
    node.submit(&intruder, false).await;
    assert_eq!(node.wait_status(intruder.item_hash.as_str(), "rejected").await["error_code"], 501);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await["forgotten_by"], by);
    node.stop().await;
}

#[tokio::test]
async fn a_forgotten_message_cannot_come_back() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let p = post(&owner, "blog", json!({"gone": true}));
    node.submit_ok(&p).await;
    let f = forget(&owner, &[p.item_hash.as_str()]);
    node.submit_ok(&f).await;
    // Resubmitted through the API: answered at once with the known status, nothing changes.
    let (status, body) = node.submit(&p, true).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["message_status"], "forgotten");
    let one = node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await;
    assert_eq!(one["status"], "forgotten");
    assert_eq!(node.get_ok("/api/v0/posts.json").await["posts"], json!([]));

    // A copy that was already queued when the message got forgotten (as a peer's copy can be)
    // is rejected at processing with 504, and the message stays forgotten.
    let mut events = node.handle.pipeline().subscribe();
    aleph_node::testing::queue_as_received_earlier(node.handle.pipeline(), &p).await.unwrap();
    // Wake the processor with any submission.
    node.submit_ok(&post(&owner, "blog", json!({"wake": true}))).await;
    let e = TestNode::next_event(&mut events, p.item_hash.as_str()).await;
    assert!(matches!(e, Event::Rejected { code: 504, .. }), "{e:?}");
    let one = node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await;
    assert_eq!(one["status"], "forgotten");
    assert_eq!(one["forgotten_by"], json!([f.item_hash.as_str()]));
    let metrics = node.get_ok("/metrics.json").await;
    assert_eq!(metrics["sync_pending_messages_total"], 0, "{metrics}");
    node.stop().await;
}

#[tokio::test]
async fn forget_by_a_sol_owner_and_a_tezos_owner() {
    let node = TestNode::start().await;
    for signer in [&node.sol(1) as &dyn Signer, &node.tezos(1)] {
        let p = post(signer, "blog", json!({"chain": signer.chain().as_str()}));
        node.submit_ok(&p).await;
        node.submit_ok(&forget(signer, &[p.item_hash.as_str()])).await;
        let one: Value = node.get_ok(&format!("/api/v0/messages/{}", p.item_hash)).await;
        assert_eq!(one["status"], "forgotten");
    }
    node.stop().await;
}
