//! PROGRAM and INSTANCE: volumes resolved against STOREs (301 retry until they exist), parent
//! sizes (304), `replaces` (300, 302, 303), and STOREs in use that cannot be forgotten (503).

use aleph_core::{MessageType, PendingMessage, Signer};
use aleph_node::Event;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

fn program_content(code: &str, runtime: &str, allow_amend: bool) -> Value {
    json!({
        "type": "vm-function", "allow_amend": allow_amend, "metadata": {"name": "it"},
        "on": {"http": true, "persistent": false},
        "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
        "resources": {"vcpus": 1, "memory": 128, "seconds": 30},
        "runtime": {"ref": runtime, "use_latest": true, "comment": "runtime"},
        "volumes": [], "variables": {}, "payment": {"chain": "ETH", "type": "hold"},
        "code": {"encoding": "zip", "entrypoint": "main:app", "ref": code, "use_latest": false},
    })
}

fn program(signer: &dyn Signer, code: &str, runtime: &str) -> PendingMessage {
    sign(signer, MessageType::Program, program_content(code, runtime, false))
}

fn instance(signer: &dyn Signer, rootfs: &str, size_mib: u64) -> PendingMessage {
    sign(
        signer,
        MessageType::Instance,
        json!({
            "allow_amend": false, "metadata": {"name": "it"},
            "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 2048, "seconds": 30}, "volumes": [],
            "payment": {"chain": "ETH", "type": "credit"},
            "rootfs": {"parent": {"ref": rootfs, "use_latest": true}, "persistence": "host", "size_mib": size_mib},
        }),
    )
}

#[tokio::test]
async fn a_program_with_missing_volumes_is_rejected_301() {
    let node = TestNode::start().await;
    let m = program(&node.eth(0), &sha256_hex(b"no code"), &sha256_hex(b"no runtime"));
    node.submit(&m, false).await;
    let rejected = node.wait_status(m.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 301, "{rejected}");
    assert!(rejected["details"]["errors"].as_array().is_some_and(|e| !e.is_empty()));
    node.stop().await;
}

#[tokio::test]
async fn a_program_waits_for_its_volumes_then_forgetting_them_is_refused_503() {
    let node = TestNode::start_with(|c| c.processing.max_retries = 200).await;
    let owner = node.eth(0);
    let code_bytes = b"PK fake zip".to_vec();
    let code_store = store(&owner, &sha256_hex(&code_bytes));
    let runtime = upload_and_store(&node, &owner, b"runtime image", None).await;
    let m = program(&owner, code_store.item_hash.as_str(), runtime.item_hash.as_str());
    let mut events = node.handle.pipeline().subscribe();
    let (status, _) = node.submit(&m, false).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let e = TestNode::next_event(&mut events, m.item_hash.as_str()).await;
    assert!(matches!(e, Event::Retry { .. }), "301 is retried: {e:?}");
    // The code arrives: the program is processed.
    node.http.post(format!("{}/api/v0/storage/add_file", node.url)).body(code_bytes).send().await.unwrap();
    node.submit_ok(&code_store).await;
    node.wait_status(m.item_hash.as_str(), "processed").await;
    let listed =
        node.get_ok(&format!("/api/v0/messages.json?msgTypes=PROGRAM&owners={}", owner.address())).await;
    assert_eq!(listed["messages"][0]["item_hash"], m.item_hash.as_str());
    assert_eq!(listed["messages"][0]["content"]["code"]["ref"], code_store.item_hash.as_str());

    // The STOREs it uses cannot be forgotten.
    for used in [&code_store, &runtime] {
        let f = forget(&owner, &[used.item_hash.as_str()]);
        let (status, _) = node.submit(&f, true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let rejected = node.get_ok(&format!("/api/v0/messages/{}", f.item_hash)).await;
        assert_eq!(rejected["error_code"], 503, "{rejected}");
        assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", used.item_hash)).await["status"], "processed");
    }
    // Once the program is forgotten, they can be.
    node.submit_ok(&forget(&owner, &[m.item_hash.as_str()])).await;
    node.submit_ok(&forget(&owner, &[code_store.item_hash.as_str()])).await;
    assert_eq!(
        node.get_ok(&format!("/api/v0/messages/{}", code_store.item_hash)).await["status"],
        "forgotten"
    );
    node.stop().await;
}

#[tokio::test]
async fn an_instance_rootfs_must_fit_its_parent_304() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    // A 2 MiB root image.
    let rootfs = upload_and_store(&node, &owner, &vec![0u8; 2 << 20], None).await;
    let small = instance(&owner, rootfs.item_hash.as_str(), 1);
    let (status, body) = node.submit(&small, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let rejected = node.get_ok(&format!("/api/v0/messages/{}", small.item_hash)).await;
    assert_eq!(rejected["error_code"], 304);
    let e = &rejected["details"]["errors"][0];
    assert_eq!(
        (e["volume_name"].clone(), e["parent_size"].clone(), e["volume_size"].clone()),
        (json!("rootfs"), json!(2 << 20), json!(1 << 20))
    );
    let ok = instance(&owner, rootfs.item_hash.as_str(), 20480);
    node.submit_ok(&ok).await;
    let listed = node.get_ok("/api/v0/messages.json?msgTypes=INSTANCE").await;
    assert_eq!(listed["messages"][0]["item_hash"], ok.item_hash.as_str());
    // An instance whose root image is unknown: 301.
    let orphan = instance(&owner, &sha256_hex(b"no image"), 20480);
    node.submit(&orphan, false).await;
    assert_eq!(node.wait_status(orphan.item_hash.as_str(), "rejected").await["error_code"], 301);
    node.stop().await;
}

#[tokio::test]
async fn program_replacement_rules() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let code = upload_and_store(&node, &owner, b"code", None).await;
    let runtime = upload_and_store(&node, &owner, b"runtime", None).await;
    let (c, r) = (code.item_hash.as_str(), runtime.item_hash.as_str());
    let with_replaces = |allow_amend: bool, replaces: &str| {
        let mut content = program_content(c, r, allow_amend);
        content["replaces"] = json!(replaces);
        sign(&owner, MessageType::Program, content)
    };
    let locked = program(&owner, c, r);
    node.submit_ok(&locked).await;
    let amendable = sign(&owner, MessageType::Program, program_content(c, r, true));
    node.submit_ok(&amendable).await;
    // 302: the target does not allow amends.
    let m = with_replaces(true, locked.item_hash.as_str());
    node.submit(&m, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["error_code"], 302);
    // Allowed.
    let update = with_replaces(true, amendable.item_hash.as_str());
    node.submit_ok(&update).await;
    // 303: the target is itself an update.
    let m = with_replaces(true, update.item_hash.as_str());
    node.submit(&m, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["error_code"], 303);
    // 300: an unknown target, retried then rejected.
    let m = with_replaces(true, &sha256_hex(b"no program"));
    node.submit(&m, false).await;
    assert_eq!(node.wait_status(m.item_hash.as_str(), "rejected").await["error_code"], 300);
    // Forgetting the original forgets its update too.
    node.submit_ok(&forget(&owner, &[amendable.item_hash.as_str()])).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", update.item_hash)).await["status"], "forgotten");
    node.stop().await;
}

#[tokio::test]
async fn programs_subscribed_to_messages_are_listed() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let code = upload_and_store(&node, &owner, b"PK subscriber code", None).await;
    let runtime = upload_and_store(&node, &owner, b"subscriber runtime", None).await;
    let (code, runtime) = (code.item_hash.as_str(), runtime.item_hash.as_str());
    // One program on HTTP only, two subscribed to messages.
    node.submit_ok(&program(&owner, code, runtime)).await;
    let subscriptions = json!([{"sender": owner.address(), "channel": "TEST"}]);
    let mut subscribed = Vec::new();
    for n in 0..2 {
        let mut content = program_content(code, runtime, false);
        content["on"]["message"] = subscriptions.clone();
        content["metadata"]["n"] = json!(n);
        let m = sign(&owner, MessageType::Program, content);
        node.submit_ok(&m).await;
        subscribed.push(m.item_hash.to_string());
    }
    let newest_first = node.get_ok("/api/v0/programs/on/message").await;
    assert_eq!(
        newest_first,
        json!([
            {"item_hash": subscribed[1], "content": {"on": {"message": subscriptions}}},
            {"item_hash": subscribed[0], "content": {"on": {"message": subscriptions}}},
        ])
    );
    let oldest_first = node.get_ok("/api/v0/programs/on/message?sort_order=1").await;
    assert_eq!(oldest_first[0]["item_hash"], subscribed[0]);
    assert_eq!(node.get("/api/v0/programs/on/message?sort_order=3").await.0, StatusCode::BAD_REQUEST);
    node.stop().await;
}
