//! `POST /api/v0/messages`: status codes, recorded rejections with their codes, duplicates,
//! signatures, permissions and delegation through `security` aggregates.

use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, Signer};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn sync_submission_answers_200_processed() {
    let node = TestNode::start().await;
    let m = post(&node.eth(0), "note", json!({"body": "hello"}));
    let (status, body) = node.submit(&m, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"publication_status": {"status": "success", "failed": []}, "message_status": "processed"})
    );
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["status"], "processed");
    assert_eq!(one["item_hash"], m.item_hash.as_str());
    assert!(one["reception_time"].as_str().is_some_and(|t| t.ends_with('Z')), "{one}");
    // The message form the SDK parses with `extra = forbid`: only known keys, no `size` here.
    let allowed = [
        "chain",
        "sender",
        "type",
        "channel",
        "confirmations",
        "confirmed",
        "signature",
        "size",
        "time",
        "item_type",
        "item_content",
        "hash_type",
        "item_hash",
        "content",
        "forgotten_by",
        "_id",
    ];
    let message = &one["message"];
    for k in keys(message) {
        assert!(allowed.contains(&k.as_str()), "unexpected key {k} in {message}");
    }
    assert!(message.get("size").is_none());
    assert_eq!(message["item_content"], m.item_content.clone().unwrap());
    assert_eq!(message["signature"], m.signature.clone().unwrap());
    assert_eq!(message["content"]["content"], json!({"body": "hello"}));
    let status = node.get_ok(&format!("/api/v0/messages/{}/status", m.item_hash)).await;
    assert_eq!(keys(&status), ["item_hash", "reception_time", "status"]);
    assert_eq!(status["status"], "processed");
    node.stop().await;
}

#[tokio::test]
async fn async_submission_answers_202_pending_then_processes() {
    let node = TestNode::start().await;
    let m = post(&node.sol(0), "note", json!({"n": 1}));
    let (status, body) = node.submit(&m, false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["message_status"], "pending");
    node.wait_status(m.item_hash.as_str(), "processed").await;
    let list = node.get_ok(&format!("/api/v0/messages.json?hashes={}", m.item_hash)).await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 1);
    assert_eq!(list["messages"][0]["size"], m.item_content.as_ref().unwrap().len());
    node.stop().await;
}

#[tokio::test]
async fn pending_message_view_has_plural_messages_with_iso_time() {
    let node = TestNode::start_with(|c| c.processing.max_retries = 1000).await;
    // An amend whose original never comes stays pending.
    let amend = sign(
        &node.eth(0),
        MessageType::Post,
        json!({"type": "amend", "ref": sha256_hex(b"no such post"), "content": {"x": 1}}),
    );
    let (status, _) = node.submit(&amend, false).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let body = node.wait_status(amend.item_hash.as_str(), "pending").await;
    assert!(body.get("message").is_none(), "{body}");
    let pending = &body["messages"][0];
    assert_eq!(pending["item_hash"], amend.item_hash.as_str());
    assert!(pending["time"].as_str().is_some_and(|t| t.contains('T')), "ISO time: {pending}");
    assert_eq!(pending["content"]["type"], "amend");
    assert!(pending["reception_time"].is_string());
    // A duplicate of a pending message answers at once with its known status.
    let t = Instant::now();
    let (status, body) = node.submit(&amend, true).await;
    assert_eq!((status, body["message_status"].clone()), (StatusCode::ACCEPTED, json!("pending")));
    assert!(t.elapsed() < Duration::from_secs(3), "a known message must not wait for the sync timeout");
    node.stop().await;
}

#[tokio::test]
async fn invalid_envelopes_are_422_and_not_recorded() {
    let node = TestNode::start().await;
    let good = serde_json::to_value(post(&node.eth(0), "note", json!({}))).unwrap();
    let hash = good["item_hash"].as_str().unwrap().to_owned();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut without_sender = good.clone();
    without_sender.as_object_mut().unwrap().remove("sender");
    cases.push(("no sender", without_sender));
    let mut tampered = good.clone();
    tampered["item_content"] = json!("{\"tampered\": true}");
    cases.push(("content not matching item_hash", tampered));
    let mut chain = good.clone();
    chain["chain"] = json!("NOPE");
    cases.push(("unknown chain", chain));
    let mut time = good.clone();
    time["time"] = json!("yesterday");
    cases.push(("time as a string", time));
    let mut kind = good.clone();
    kind["type"] = json!("TWEET");
    cases.push(("unknown type", kind));
    let mut storage_with_content = good.clone();
    storage_with_content["item_type"] = json!("storage");
    cases.push(("storage item with inline content", storage_with_content));
    let mut bad_hash = good.clone();
    bad_hash["item_hash"] = json!("xyz");
    cases.push(("malformed hash", bad_hash));
    for (what, message) in cases {
        let (status, body) = node.submit_value(json!({"sync": true, "message": message})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert!(body.as_str().is_some_and(|s| !s.is_empty()), "{what}: a reason is given: {body}");
    }
    let (status, _) = node.get(&format!("/api/v0/messages/{hash}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "invalid envelopes are not recorded");
    node.stop().await;
}

#[tokio::test]
async fn intake_rejections_are_recorded_with_their_code() {
    let node = TestNode::start().await;
    // No signature: rejected at intake with code 1, recorded.
    let mut unsigned = post(&node.eth(0), "note", json!({"unsigned": true}));
    unsigned.signature = None;
    let (status, body) = node.submit(&unsigned, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["message_status"], "rejected");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", unsigned.item_hash)).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["error_code"], 1);
    assert_eq!(rejected["message"]["item_hash"], unsigned.item_hash.as_str(), "the raw message is kept");

    // Content that does not validate (a POST without `type`): code 0 with details.
    let bad = sign(&node.eth(0), MessageType::Post, json!({"content": {"no": "type"}}));
    let (status, body) = node.submit(&bad, false).await;
    assert_eq!(
        (status, body["message_status"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("rejected"))
    );
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", bad.item_hash)).await;
    assert_eq!(rejected["error_code"], 0);
    assert!(rejected["details"]["errors"].as_array().is_some_and(|e| !e.is_empty()), "{rejected}");
    let status = node.get_ok(&format!("/api/v0/messages/{}/status", bad.item_hash)).await;
    assert_eq!(status["status"], "rejected");
    // Rejected messages are not listed by default, but are with msgStatuses=rejected… or not at
    // all: what matters is that they never show as processed.
    let list = node.get_ok(&format!("/api/v0/messages.json?hashes={}", bad.item_hash)).await;
    assert_eq!(list["messages"], json!([]));
    node.stop().await;
}

#[tokio::test]
async fn a_bad_signature_is_rejected_with_code_1_and_the_hash_can_be_retried() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let m = post(&owner, "note", json!({"signed": "twice"}));
    // The same message with a signature by another key.
    let mut forged = m.clone();
    let other = EthereumSigner::random();
    forged.signature = other
        .sign(aleph_core::UnsignedMessage {
            message_type: m.message_type,
            item_type: m.item_type,
            item_content: m.item_content.clone(),
            item_hash: m.item_hash.clone(),
            time: m.time,
            channel: m.channel.clone(),
        })
        .unwrap()
        .signature;
    let (status, body) = node.submit(&forged, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["message_status"], "rejected");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["error_code"], 1);
    assert!(rejected["details"]["errors"].as_array().is_some_and(|e| !e.is_empty()), "{rejected}");
    assert_eq!(rejected["message"]["signature"], forged.signature.clone().unwrap());
    // The genuine message with the same hash is accepted afterwards.
    node.submit_ok(&m).await;
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["status"], "processed");
    assert_eq!(one["message"]["signature"], m.signature.clone().unwrap());
    node.stop().await;
}

#[tokio::test]
async fn a_processed_duplicate_answers_at_once() {
    let node = TestNode::start_with(|c| c.processing.sync_timeout_secs = 20.0).await;
    let m = post(&node.tezos(0), "note", json!({"dup": 1}));
    node.submit_ok(&m).await;
    for _ in 0..3 {
        let t = Instant::now();
        let (status, body) = node.submit(&m, true).await;
        assert_eq!((status, body["message_status"].clone()), (StatusCode::OK, json!("processed")));
        assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
    }
    // Still one message.
    let list = node.get_ok(&format!("/api/v0/messages.json?hashes={}", m.item_hash)).await;
    assert_eq!(list["pagination_total"], 1);
    node.stop().await;
}

#[tokio::test]
async fn each_chain_is_verified() {
    let node = TestNode::start().await;
    let signers: Vec<Box<dyn Signer>> =
        vec![Box::new(node.eth(1)), Box::new(node.sol(1)), Box::new(node.tezos(1))];
    for s in &signers {
        let m = post(s.as_ref(), "chain-test", json!({"chain": s.chain().as_str()}));
        node.submit_ok(&m).await;
        let mut forged = post(s.as_ref(), "chain-test", json!({"forged": s.chain().as_str()}));
        let real = forged.signature.clone().unwrap();
        // Another message's valid signature: wrong for this hash.
        forged.signature = m.signature.clone();
        assert_ne!(forged.signature.as_deref(), Some(real.as_str()));
        let (status, _) = node.submit(&forged, true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", s.chain());
        let rejected = node.get_ok(&format!("/api/v0/messages/{}", forged.item_hash)).await;
        assert_eq!(rejected["error_code"], 1, "{}", s.chain());
    }
    node.stop().await;
}

fn security(authorizations: Value) -> Value {
    json!({"authorizations": authorizations})
}

#[tokio::test]
async fn posting_for_someone_else_is_denied_without_a_grant() {
    let node = TestNode::start().await;
    let (owner, other) = (node.eth(0), node.eth(1));
    let m =
        sign(&other, MessageType::Post, json!({"type": "note", "content": {}, "address": owner.address()}));
    let (status, body) = node.submit(&m, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(rejected["error_code"], 2, "{rejected}");
    // The same for an aggregate and a store.
    let agg =
        sign(&other, MessageType::Aggregate, json!({"key": "k", "content": {}, "address": owner.address()}));
    node.submit(&agg, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", agg.item_hash)).await["error_code"], 2);
    node.stop().await;
}

#[tokio::test]
async fn delegation_through_the_security_aggregate() {
    let node = TestNode::start().await;
    let (owner, delegate, sol) = (node.eth(0), node.eth(1), node.sol(0));
    let grant = aggregate(
        &owner,
        "security",
        security(json!([
            {"address": delegate.address(), "types": ["POST"], "post_types": ["delegated"]},
            {"address": sol.address(), "chain": "SOL", "channels": [CHANNEL]},
        ])),
        now(),
    );
    node.submit_ok(&grant).await;

    let for_owner = |s: &dyn Signer, t: MessageType, c: Value| {
        let mut c = c;
        c["address"] = json!(owner.address());
        sign(s, t, c)
    };
    // Allowed: the delegate posts the permitted post type for the owner.
    let ok =
        for_owner(&delegate, MessageType::Post, json!({"type": "delegated", "content": {"by": "delegate"}}));
    node.submit_ok(&ok).await;
    let posts =
        node.get_ok(&format!("/api/v0/posts.json?addresses={}&types=delegated", owner.address())).await;
    assert_eq!(posts["posts"][0]["item_hash"], ok.item_hash.as_str());
    assert_eq!(posts["posts"][0]["address"], owner.address());
    // Denied: another post type, and another message type.
    for m in [
        for_owner(&delegate, MessageType::Post, json!({"type": "other", "content": {}})),
        for_owner(&delegate, MessageType::Aggregate, json!({"key": "profile", "content": {}})),
    ] {
        let (status, _) = node.submit(&m, true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["error_code"], 2);
    }
    // A Solana account granted on its chain and channel may send anything on that channel…
    let sol_ok =
        for_owner(&sol, MessageType::Aggregate, json!({"key": "profile", "content": {"from": "sol"}}));
    node.submit_ok(&sol_ok).await;
    // …but not on another channel.
    let c = json!({"type": "note", "content": {}, "address": owner.address()});
    let off_channel = sign_on(&sol, MessageType::Post, c, "ELSEWHERE");
    node.submit(&off_channel, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", off_channel.item_hash)).await["error_code"], 2);

    // The authorization endpoints reflect the grant.
    let granted = node.get_ok(&format!("/api/v0/authorizations/granted/{}.json", owner.address())).await;
    let by = granted["authorizations"].as_object().unwrap();
    assert_eq!(by.len(), 2, "{granted}");
    assert_eq!(by[delegate.address()][0]["post_types"], json!(["delegated"]));
    let received = node.get_ok(&format!("/api/v0/authorizations/received/{}.json", sol.address())).await;
    assert_eq!(received["authorizations"][owner.address()][0]["chain"], "SOL", "{received}");
    assert_eq!(received["pagination_item"], "authorizations");

    // Revoking (a later element replacing `authorizations`) closes the door.
    node.submit_ok(&aggregate(&owner, "security", security(json!([])), now() + 1.0)).await;
    let late =
        for_owner(&delegate, MessageType::Post, json!({"type": "delegated", "content": {"late": true}}));
    node.submit(&late, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", late.item_hash)).await["error_code"], 2);
    node.stop().await;
}

#[tokio::test]
async fn a_delegate_cannot_write_the_owners_security_aggregate() {
    let node = TestNode::start().await;
    let (owner, delegate, intruder) = (node.eth(0), node.eth(1), node.eth(2));
    // An unrestricted grant.
    node.submit_ok(&aggregate(&owner, "security", security(json!([{"address": delegate.address()}])), now()))
        .await;
    let mut profile = json!({"key": "profile", "content": {"name": "set by delegate"}});
    profile["address"] = json!(owner.address());
    node.submit_ok(&sign(&delegate, MessageType::Aggregate, profile)).await;
    // Writing `security` itself, to let someone else in, is denied.
    let mut takeover =
        json!({"key": "security", "content": security(json!([{"address": intruder.address()}]))});
    takeover["address"] = json!(owner.address());
    let takeover = sign(&delegate, MessageType::Aggregate, takeover);
    let (status, _) = node.submit(&takeover, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", takeover.item_hash)).await["error_code"], 2);
    let sec = node.get_ok(&format!("/api/v0/aggregates/{}.json?keys=security", owner.address())).await;
    assert_eq!(sec["data"]["security"]["authorizations"], json!([{"address": delegate.address()}]));
    // So the intruder still cannot post for the owner.
    let mut c = json!({"type": "note", "content": {}});
    c["address"] = json!(owner.address());
    let m = sign(&intruder, MessageType::Post, c);
    node.submit(&m, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["error_code"], 2);
    node.stop().await;
}

#[tokio::test]
async fn a_delegate_cannot_forget_the_owners_security_aggregate() {
    let node = TestNode::start().await;
    let (owner, delegate) = (node.eth(0), node.eth(1));
    let t = now();
    // An older, broader grant, then a narrower one.
    let broad = aggregate(&owner, "security", security(json!([{"address": delegate.address()}])), t);
    let narrow = aggregate(
        &owner,
        "security",
        security(json!([{"address": delegate.address(), "types": ["FORGET", "POST"]}])),
        t + 1.0,
    );
    node.submit_ok(&broad).await;
    node.submit_ok(&narrow).await;
    // Forgetting the narrow element would restore the broad grant: denied.
    let f = forget(&delegate, &[narrow.item_hash.as_str()]);
    let (status, _) = node.submit(&f, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", f.item_hash)).await["error_code"], 2);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", narrow.item_hash)).await["status"], "processed");
    // The delegate is still limited by the narrow grant.
    let mut c = json!({"key": "profile", "content": {}});
    c["address"] = json!(owner.address());
    let m = sign(&delegate, MessageType::Aggregate, c);
    node.submit(&m, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["error_code"], 2);
    // The owner may forget it.
    node.submit_ok(&forget(&owner, &[narrow.item_hash.as_str()])).await;
    node.stop().await;
}

#[tokio::test]
async fn unicode_content_is_kept_byte_for_byte() {
    let node = TestNode::start().await;
    let m = post(&node.sol(2), "note", json!({"body": "héllo ✓ 🦀 \u{2028} \"quoted\" \\ back"}));
    node.submit_ok(&m).await;
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["message"]["item_content"], m.item_content.clone().unwrap());
    assert_eq!(sha256_hex(one["message"]["item_content"].as_str().unwrap().as_bytes()), m.item_hash.as_str());
    let posts = node.get_ok(&format!("/api/v0/posts.json?hashes={}", m.item_hash)).await;
    assert_eq!(posts["posts"][0]["content"]["body"], "héllo ✓ 🦀 \u{2028} \"quoted\" \\ back");
    node.stop().await;
}

#[tokio::test]
async fn legacy_pubsub_publish_takes_the_message_as_text_or_object() {
    let node = TestNode::start().await;
    let publish = |path: &'static str, body: Value| {
        let http = node.http.clone();
        let url = format!("{}{path}", node.url);
        async move { read(http.post(url).json(&body).send().await.unwrap()).await }
    };
    // `data` as the reference wants it: the message JSON as a string.
    let text = post(&node.eth(0), "legacy", json!({"as": "text"}));
    let (status, body) = publish(
        "/api/v0/ipfs/pubsub/pub",
        json!({"topic": "ALEPH-TEST", "data": serde_json::to_string(&text).unwrap()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "success", "failed": []}));
    node.wait_status(text.item_hash.as_str(), "processed").await;
    // `data` as the Python SDK's fallback sends it: an object.
    let object = post(&node.eth(0), "legacy", json!({"as": "object"}));
    let (status, _) = publish("/api/v0/p2p/pubsub/pub", json!({"topic": "ALEPH-TEST", "data": object})).await;
    assert_eq!(status, StatusCode::OK);
    node.wait_status(object.item_hash.as_str(), "processed").await;

    // Another topic: 403; no message or a malformed one: 422, and nothing recorded.
    let other = post(&node.eth(0), "legacy", json!({"as": "elsewhere"}));
    let (status, body) = publish("/api/v0/p2p/pubsub/pub", json!({"topic": "OTHER", "data": other})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let mut bad_hash = serde_json::to_value(post(&node.eth(0), "legacy", json!({"as": "bad"}))).unwrap();
    bad_hash["item_hash"] = json!(sha256_hex(b"not the content"));
    for body in [
        json!({"topic": "ALEPH-TEST"}),
        json!({"topic": "ALEPH-TEST", "data": "{not json"}),
        json!({"topic": "ALEPH-TEST", "data": 7}),
        json!({"data": other}),
        json!({"topic": "ALEPH-TEST", "data": bad_hash}),
    ] {
        let (status, answer) = publish("/api/v0/ipfs/pubsub/pub", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
    }
    for h in [other.item_hash.to_string(), sha256_hex(b"not the content")] {
        assert_eq!(node.get(&format!("/api/v0/messages/{h}")).await.0, StatusCode::NOT_FOUND);
    }
    node.stop().await;
}
