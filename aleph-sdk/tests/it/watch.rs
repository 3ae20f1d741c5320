//! Watch: a WebSocket subscription delivers new messages matching its filter.

use std::time::Duration;

use aleph_sdk::{Message, MessageFilter, MessageWatch, SubmitMode, WatchOptions};
use futures_util::StreamExt;

use crate::common::{TestNode, WAIT};

#[tokio::test]
async fn watch_a_channel() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let mut watch = c.watch(&MessageFilter::new().channel("WATCHED")).await.unwrap();
    c.create_post(&signer, "w", 1, Some("OTHER"), SubmitMode::WaitProcessed(WAIT)).await.unwrap();
    let sent =
        c.create_post(&signer, "w", 2, Some("WATCHED"), SubmitMode::WaitProcessed(WAIT)).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(20), watch.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(&got.item_hash, sent.item_hash());
    drop(watch);
    node.stop().await;
}

async fn next(w: &mut MessageWatch) -> Message {
    let item = tokio::time::timeout(Duration::from_secs(20), w.next()).await.expect("a message within 20 s");
    item.expect("the watch is open").expect("no error")
}

/// A watch survives its node restarting on the same data and address: the messages posted after
/// the restart arrive, in order, with no gap and no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_the_node_restarts() {
    let node = TestNode::start().await;
    let options = WatchOptions::new().backoff(Duration::from_millis(50), Duration::from_millis(500));
    let mut watch = node.client.watch_with(&MessageFilter::new().channel("RESTART"), options).await.unwrap();
    let signer = node.eth(0);
    let before = node
        .client
        .create_post(&signer, "r", 0, Some("RESTART"), SubmitMode::WaitProcessed(WAIT))
        .await
        .unwrap();
    assert_eq!(&next(&mut watch).await.item_hash, before.item_hash());

    let node = node.restart().await;
    let signer = node.eth(0);
    let post = |i: u32| {
        let (c, signer) = (node.client.clone(), signer.clone());
        async move {
            let r = c.create_post(&signer, "r", i, Some("RESTART"), SubmitMode::WaitProcessed(WAIT)).await;
            r.unwrap().item_hash().clone()
        }
    };
    // Posted while the watch may still be reconnecting: recovered by the resumption.
    let mut sent = vec![post(1).await, post(2).await];
    let mut got = Vec::new();
    for _ in 0..sent.len() {
        got.push(next(&mut watch).await.item_hash);
    }
    // Posted once the watch has resumed: delivered live on the new connection.
    sent.extend([post(3).await, post(4).await]);
    for _ in 2..sent.len() {
        got.push(next(&mut watch).await.item_hash);
    }
    assert_eq!(got, sent, "every message after the restart, once, in order");
    // Nothing else (no duplicate of the message before the restart, nor of these).
    let extra = tokio::time::timeout(Duration::from_millis(1500), watch.next()).await;
    assert!(extra.is_err(), "unexpected extra item: {extra:?}");
    drop(watch);
    node.stop().await;
}
