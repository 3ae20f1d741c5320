//! The payment error paths of processing: 5 (balance), 6 (credits), 202 (payment method after
//! the hold cutoff), free small STOREs, and 402 on an authenticated upload that cannot be paid
//! (checked before the bytes are taken, with no free small files).

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, PendingMessage, Signer};
use axum::http::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::common::*;

fn program_with(signer: &dyn Signer, code: &str, payment: Value) -> PendingMessage {
    sign(
        signer,
        MessageType::Program,
        json!({
            "type": "vm-function", "allow_amend": false, "on": {"http": true, "persistent": false},
            "environment": {"reproducible": false, "internet": false, "aleph_api": false, "shared_cache": false},
            "resources": {"vcpus": 2, "memory": 4096, "seconds": 30},
            "runtime": {"ref": code, "use_latest": true, "comment": ""},
            "volumes": [], "variables": {}, "payment": payment,
            "code": {"encoding": "zip", "entrypoint": "main:app", "ref": code, "use_latest": true},
        }),
    )
}

fn instance_with(signer: &dyn Signer, rootfs: &str, payment: Value) -> PendingMessage {
    sign(
        signer,
        MessageType::Instance,
        json!({
            "allow_amend": false,
            "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 2048, "seconds": 30}, "volumes": [], "payment": payment,
            "rootfs": {"parent": {"ref": rootfs, "use_latest": true}, "persistence": "host", "size_mib": 20480},
        }),
    )
}

async fn stored(node: &TestNode, bytes: &[u8]) -> PendingMessage {
    upload_and_store(node, &node.eth(0), bytes, None).await
}

async fn rejection(node: &TestNode, m: &PendingMessage) -> Value {
    let (status, body) = node.submit(m, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(rejected["status"], "rejected");
    rejected
}

#[tokio::test]
async fn an_unfunded_account_cannot_hold_a_program_5() {
    let node = TestNode::start().await;
    let code = stored(&node, b"code").await;
    let poor = EthereumSigner::random();
    let m = program_with(&poor, code.item_hash.as_str(), json!({"chain": "ETH", "type": "hold"}));
    let rejected = rejection(&node, &m).await;
    assert_eq!(rejected["error_code"], 5, "{rejected}");
    let e = &rejected["details"]["errors"][0];
    // Decimal strings, as the SDK parses them with float().
    let required: f64 = e["required_balance"].as_str().unwrap().parse().unwrap();
    let available: f64 = e["account_balance"].as_str().unwrap().parse().unwrap();
    assert!(required > 0.0 && available == 0.0, "{e}");
    // A funded dev account may.
    node.submit_ok(&program_with(
        &node.eth(1),
        code.item_hash.as_str(),
        json!({"chain": "ETH", "type": "hold"}),
    ))
    .await;
    node.stop().await;
}

#[tokio::test]
async fn credits_and_payment_methods_6_and_202() {
    let node = TestNode::start().await;
    let rootfs = stored(&node, b"rootfs").await;
    let poor = EthereumSigner::random();
    let m = instance_with(&poor, rootfs.item_hash.as_str(), json!({"chain": "ETH", "type": "credit"}));
    let rejected = rejection(&node, &m).await;
    assert_eq!(rejected["error_code"], 6, "{rejected}");
    let e = &rejected["details"]["errors"][0];
    assert!(e.get("required_credits").is_some() && e.get("account_credits").is_some(), "{e}");
    assert!(e["min_runtime_days"].is_number(), "{e}");
    // Instances can no longer be paid by holding tokens.
    let hold =
        instance_with(&node.eth(0), rootfs.item_hash.as_str(), json!({"chain": "ETH", "type": "hold"}));
    assert_eq!(rejection(&node, &hold).await["error_code"], 202);
    node.submit_ok(&instance_with(
        &node.eth(0),
        rootfs.item_hash.as_str(),
        json!({"chain": "ETH", "type": "credit"}),
    ))
    .await;
    node.stop().await;
}

#[tokio::test]
async fn small_stores_are_free_and_large_ones_are_paid() {
    let node = TestNode::start_with(|c| c.limits.max_unauthenticated_upload = 1000).await;
    let poor = EthereumSigner::random();
    // Small: free even for an empty account.
    let small = b"small".to_vec();
    node.http.post(format!("{}/api/v0/storage/add_file", node.url)).body(small.clone()).send().await.unwrap();
    node.submit_ok(&store(&poor, &sha256_hex(&small))).await;
    // Large: the dev account uploads it (authenticated), then an empty account's STORE is refused.
    let big = vec![1u8; 4000];
    let mine = store(&node.eth(0), &sha256_hex(&big));
    let form = Form::new()
        .part("metadata", Part::text(json!({"message": mine, "sync": true}).to_string()))
        .part("file", Part::bytes(big.clone()).file_name("big"));
    let resp =
        node.http.post(format!("{}/api/v0/storage/add_file", node.url)).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let theirs = store(&poor, &sha256_hex(&big));
    assert_eq!(rejection(&node, &theirs).await["error_code"], 5);
    // An authenticated upload that its owner cannot pay for: 402, and nothing is submitted.
    let other = vec![2u8; 4000];
    let unpaid = store(&poor, &sha256_hex(&other));
    let form = Form::new()
        .part("metadata", Part::text(json!({"message": unpaid, "sync": true}).to_string()))
        .part("file", Part::bytes(other).file_name("big"));
    let resp =
        node.http.post(format!("{}/api/v0/storage/add_file", node.url)).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 402);
    assert_eq!(node.get(&format!("/api/v0/messages/{}", unpaid.item_hash)).await.0, StatusCode::NOT_FOUND);
    node.stop().await;
}

async fn authenticated_upload(
    node: &TestNode,
    path: &str,
    m: &PendingMessage,
    bytes: &[u8],
) -> (u16, String) {
    let form = Form::new()
        .part("metadata", Part::text(json!({"message": m, "sync": true}).to_string()))
        .part("file", Part::bytes(bytes.to_vec()).file_name("tiny"));
    let resp = node.http.post(format!("{}{path}", node.url)).multipart(form).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn an_upload_is_refused_before_its_bytes_when_its_owner_cannot_pay() {
    // The reference's `_verify_user_balance`: an empty account's 16-byte upload is priced as 1 MiB
    // and refused with a bare 402, although processing lets such a small file through for free.
    let node = TestNode::start().await;
    let poor = EthereumSigner::random();
    let bytes = b"sixteen bytes!!\n".to_vec();
    for (path, hash) in [
        ("/api/v0/storage/add_file", sha256_hex(&bytes)),
        ("/api/v0/ipfs/add_file", aleph_core::cid::cid_v0(&bytes)),
    ] {
        let m = store(&poor, &hash);
        assert_eq!(
            authenticated_upload(&node, path, &m, &bytes).await,
            (402, "402: Payment Required".to_owned())
        );
        // Neither the bytes nor the message were taken.
        assert_eq!(node.get(&format!("/api/v0/storage/raw/{hash}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(node.get(&format!("/api/v0/messages/{}", m.item_hash)).await.0, StatusCode::NOT_FOUND);
    }
    // The same STORE over an anonymous upload is still free to process.
    node.http.post(format!("{}/api/v0/storage/add_file", node.url)).body(bytes.clone()).send().await.unwrap();
    node.submit_ok(&store(&poor, &sha256_hex(&bytes))).await;
    // A funded account uploads the same way.
    let mine = b"sixteen bytes ok".to_vec();
    let m = store(&node.eth(1), &sha256_hex(&mine));
    assert_eq!(authenticated_upload(&node, "/api/v0/storage/add_file", &m, &mine).await.0, 200);
    // A credit STORE needs a day of credits for at least 25 MiB.
    let credit = sign(
        &poor,
        MessageType::Store,
        json!({"item_type": "storage", "item_hash": sha256_hex(b"credit paid"), "payment": {"type": "credit"}}),
    );
    assert_eq!(authenticated_upload(&node, "/api/v0/storage/add_file", &credit, b"credit paid").await.0, 402);
    let credit = sign(
        &node.eth(1),
        MessageType::Store,
        json!({"item_type": "storage", "item_hash": sha256_hex(b"credit paid"), "payment": {"type": "credit"}}),
    );
    assert_eq!(authenticated_upload(&node, "/api/v0/storage/add_file", &credit, b"credit paid").await.0, 200);
    node.stop().await;
}
