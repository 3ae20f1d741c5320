//! Watch: a WebSocket subscription delivers new messages matching its filter.

use std::time::Duration;

use aleph_sdk::{MessageFilter, SubmitMode};
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
