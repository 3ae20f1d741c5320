//! Every example, run against an in-process `aleph-node` (the networked ones) or alone (the
//! offline ones). Each example file is compiled here as a module, so the code a reader runs is
//! the code tested; its `main` only reads the command line and the environment.

#[path = "../../quickstart.rs"]
#[allow(dead_code)]
mod quickstart;
#[path = "../../sign_later.rs"]
#[allow(dead_code)]
mod sign_later;
#[path = "../../sign_offline.rs"]
#[allow(dead_code)]
mod sign_offline;
#[path = "../../upload_download.rs"]
#[allow(dead_code)]
mod upload_download;
#[path = "../../verify_dump.rs"]
#[allow(dead_code)]
mod verify_dump;
#[path = "../../watch_channel.rs"]
#[allow(dead_code)]
mod watch_channel;

use std::time::Duration;

use aleph_node::{Node, NodeConfig, NodeHandle};
use aleph_sdk::core::Signer;
use aleph_sdk::{AlephClient, AnySigner, MessageStatus, MessageType};
use serde_json::json;

/// A dev-mode node (its first ETH dev account is the examples' default key) in a temporary
/// directory, and a client of it.
async fn node() -> (NodeHandle, AlephClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = NodeConfig::ephemeral(dir.path());
    config.dev = true;
    config.processing.max_backoff_secs = 0.2;
    let node = Node::builder(config).launch().await.expect("node starts");
    let client = AlephClient::builder(node.url()).timeout(Duration::from_secs(30)).build().expect("client");
    (node, client, dir)
}

fn dev_signer() -> AnySigner {
    AnySigner::from_hex(aleph_sdk::Chain::Eth, examples::LOCAL_DEV_KEY).expect("dev key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_reads_back_the_aggregate_it_wrote() {
    let (node, client, _dir) = node().await;
    let signer = dev_signer();
    assert_eq!(examples::signer().map(|s| s.address().to_owned()).ok(), Some(signer.address().to_owned()));
    let aggregate = quickstart::run(&client, &signer).await.expect("quickstart runs");
    assert_eq!(aggregate, json!({"runs": 1}));
    let posts = client
        .get_messages(
            &aleph_sdk::MessageFilter::new().message_type(MessageType::Post).channel("EXAMPLES"),
            1,
            10,
        )
        .await
        .expect("posts");
    assert_eq!(posts.messages.len(), 1);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_download_gets_the_same_bytes_back() {
    let (node, client, dir) = node().await;
    let path = dir.path().join("sample.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).expect("sample");
    let (store, file, copy) =
        upload_download::run(&client, &dev_signer(), &path, dir.path()).await.expect("example runs");
    assert_eq!(file, aleph_sdk::ItemHash::sha256(&bytes));
    assert_eq!(std::fs::read(copy).expect("copy"), bytes);
    let status = client.get_message_status(&store).await.expect("status");
    assert_eq!(status.status, MessageStatus::Processed);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_later_submits_what_it_signed() {
    let (node, client, dir) = node().await;
    let file = dir.path().join("signed.json");
    let hash = sign_later::sign(&dev_signer(), &file).expect("signs offline");
    let message = sign_later::submit(&client, &file).await.expect("submits");
    assert_eq!(message.item_hash, hash);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_channel_sees_the_channel_history() {
    let (node, client, _dir) = node().await;
    let signer = dev_signer();
    let mut sent = Vec::new();
    for i in 0..2 {
        let post = aleph_sdk::MessageBuilder::post("watched", i).channel("WATCHED");
        let wait = aleph_sdk::SubmitMode::WaitProcessed(Duration::from_secs(30));
        sent.push(client.publish(&signer, &post, wait).await.expect("post").item_hash().clone());
    }
    let seen = tokio::time::timeout(Duration::from_secs(30), watch_channel::run(&client, "WATCHED", Some(2)))
        .await
        .expect("two messages within 30 s")
        .expect("watch runs");
    let mut seen: Vec<_> = seen.into_iter().map(|m| m.item_hash).collect();
    seen.sort();
    sent.sort();
    assert_eq!(seen, sent);
    node.shutdown().await;
}

#[test]
fn verify_dump_counts_a_tampered_message() {
    let mut dump = verify_dump::sample().expect("sample");
    assert_eq!(verify_dump::check(&dump).expect("checks"), (3, 0));
    dump[1]["item_content"] =
        json!(dump[1]["item_content"].as_str().expect("inline").replace("dump", "dumb"));
    assert_eq!(verify_dump::check(&dump).expect("checks"), (3, 1));
    assert!(verify_dump::check(&json!({"nothing": []})).is_err());
}

#[test]
fn sign_offline_signs_a_verifiable_post() {
    let message = sign_offline::run().expect("signs and verifies");
    assert_eq!(message.message_type, MessageType::Post);
    let mut tampered = message.clone();
    tampered.sender = dev_signer().address().to_owned();
    assert!(aleph_sdk::core::verify_signature(&tampered.signed_fields()).is_err());
}
