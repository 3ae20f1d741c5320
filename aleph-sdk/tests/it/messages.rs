//! Messages: submit in every mode, read back with status, list, stream, forget, trustless reads.

use aleph_sdk::core::{MessageStatus, MessageType, Signer};
use aleph_sdk::{
    AlephClient, ClientError, MessageBuilder, MessageFilter, MessageWithStatus, PendingMessage, SubmitMode,
};
use futures_util::StreamExt;
use serde_json::json;

use crate::common::{TestNode, CHANNEL, WAIT};

#[tokio::test]
async fn publish_read_back_list_and_stream() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let mut hashes = Vec::new();
    for i in 0..3 {
        let b = MessageBuilder::post("it-chat", json!({"n": i})).channel(CHANNEL);
        let sent = c.publish(&signer, &b, SubmitMode::WaitProcessed(WAIT)).await.expect("published");
        hashes.push(sent.item_hash().clone());
    }
    let m = c.get_message(&hashes[0]).await.expect("read back");
    assert_eq!(m.sender, signer.address());
    assert_eq!(m.content.as_ref().unwrap()["content"]["n"], 0);
    let status = c.get_message_status(&hashes[0]).await.unwrap();
    assert_eq!(status.status, MessageStatus::Processed);
    let content = c.get_message_content(&hashes[1]).await.unwrap();
    assert_eq!(content["n"], 1);
    assert!(matches!(
        c.get_message_with_status(&hashes[2]).await.unwrap(),
        MessageWithStatus::Processed { .. }
    ));

    let filter =
        MessageFilter::new().message_type(MessageType::Post).channel(CHANNEL).address(signer.address());
    let page = c.get_messages(&filter, 1, 2).await.unwrap();
    assert_eq!((page.messages.len(), page.total), (2, 3));
    let cursor = c.get_messages_cursor(&filter, None, 2).await.unwrap();
    assert_eq!(cursor.items.len(), 2);
    assert!(cursor.next_cursor.is_some());
    let all: Vec<_> = c.stream_messages(&filter, 2).map(Result::unwrap).collect().await;
    assert_eq!(all.len(), 3);
    let paged: Vec<_> = c.stream_messages_paged(&filter, 2).map(Result::unwrap).collect().await;
    assert_eq!(all, paged);

    let trustless = AlephClient::builder(c.base_url()).trustless(true).build().unwrap();
    assert_eq!(trustless.get_messages(&filter, 1, 20).await.unwrap().messages.len(), 3);
    trustless.get_message(&hashes[0]).await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn sign_now_submit_later() {
    let node = TestNode::start().await;
    let signer = node.eth(1);
    let pending = MessageBuilder::post("later", "offline").channel(CHANNEL).build(&signer).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string(&pending).unwrap()).unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    let back = PendingMessage::from_json(&text).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    let submitted = node.client.submit(&back, SubmitMode::WaitProcessed(WAIT)).await.unwrap();
    assert_eq!(submitted.status, MessageStatus::Processed);
    assert_eq!(node.client.get_message(&back.item_hash).await.unwrap().item_hash, pending.item_hash);
    // Submitting again is harmless.
    node.client.submit(&back, SubmitMode::Sync).await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn rejections_carry_their_code() {
    let node = TestNode::start().await;
    let signer = node.eth(0);
    // Acting for an owner who granted nothing: permission denied (2).
    let b = MessageBuilder::post("t", 1).channel(CHANNEL).on_behalf_of(node.eth(1).address());
    let err = node.client.publish(&signer, &b, SubmitMode::WaitProcessed(WAIT)).await.unwrap_err();
    assert!(err.is_rejected(), "{err}");
    assert_eq!(err.rejection_code(), Some(aleph_sdk::ErrorCode::PermissionDenied), "{err}");
    let missing = aleph_sdk::ItemHash::sha256(b"never sent");
    assert!(node.client.get_message(&missing).await.unwrap_err().is_not_found());
    node.stop().await;
}

#[tokio::test]
async fn forget_messages() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let sent = c
        .create_post(&signer, "bye", json!("x"), Some(CHANNEL), SubmitMode::WaitProcessed(WAIT))
        .await
        .unwrap();
    let forget = c
        .forget(&signer, &[sent.item_hash().clone()], Some("test"), SubmitMode::WaitProcessed(WAIT))
        .await
        .unwrap();
    match c.get_message(sent.item_hash()).await {
        Err(ClientError::Forgotten { forgotten_by, .. }) => {
            assert_eq!(forgotten_by, vec![forget.item_hash().clone()])
        }
        other => panic!("{other:?}"),
    }
    node.stop().await;
}

#[tokio::test]
async fn large_content_is_uploaded_then_referenced() {
    let node = TestNode::start().await;
    let signer = node.eth(0);
    let big = "y".repeat(60_000);
    let b = MessageBuilder::post("big", json!({"text": big})).channel(CHANNEL);
    let sent = node.client.publish(&signer, &b, SubmitMode::WaitProcessed(WAIT)).await.unwrap();
    assert_eq!(sent.message.item_type, aleph_sdk::core::ItemType::Storage);
    let m = node.client.get_message(sent.item_hash()).await.unwrap();
    assert_eq!(m.content.unwrap()["content"]["text"].as_str().map(str::len), Some(60_000));
    node.stop().await;
}
