//! Aggregates: write, read raw and typed, list, forget.

use aleph_sdk::core::Signer;
use aleph_sdk::SubmitMode;
use serde_json::json;

use crate::common::{TestNode, CHANNEL, WAIT};

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Profile {
    name: String,
    age: u32,
}

#[tokio::test]
async fn write_merge_read_list_forget() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let me = signer.address();
    let mode = SubmitMode::WaitProcessed(WAIT);
    c.create_aggregate(&signer, "profile", json!({"name": "ada"}), Some(CHANNEL), mode).await.unwrap();
    c.create_aggregate(&signer, "profile", json!({"age": 36}), Some(CHANNEL), mode).await.unwrap();
    let p: Profile = c.get_aggregate(me, "profile").await.unwrap();
    assert_eq!(p, Profile { name: "ada".into(), age: 36 });
    assert_eq!(c.get_aggregate_value(me, "profile").await.unwrap()["age"], 36);
    let all = c.get_aggregates(me, &["profile"]).await.unwrap();
    assert!(all.data.contains_key("profile"));
    assert!(c.find_aggregate::<Profile>(me, "nothing").await.unwrap().is_none());
    assert!(c.get_aggregate_value(me, "nothing").await.unwrap_err().is_not_found());
    let listed = c.list_aggregates(&[me], &[], 1, 20).await.unwrap();
    assert!(listed.iter().any(|a| a.key == "profile"));
    // FORGET types aggregate keys as item hashes (aleph-message): only hash-shaped keys can be
    // forgotten, and the SDK refuses other keys before signing.
    let err = c.forget_aggregates(&signer, &["profile"], None, mode).await.unwrap_err();
    assert!(matches!(err, aleph_sdk::ClientError::Content(_)), "{err}");
    let key = aleph_sdk::ItemHash::sha256(b"a hash-shaped key").to_string();
    c.create_aggregate(&signer, &key, json!({"x": 1}), Some(CHANNEL), mode).await.unwrap();
    c.forget_aggregates(&signer, &[key.as_str()], None, mode).await.unwrap();
    assert!(c.find_aggregate::<serde_json::Value>(me, &key).await.unwrap().is_none());
    node.stop().await;
}
