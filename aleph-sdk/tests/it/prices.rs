//! Prices: estimate a message before sending it, read the stored cost after.

use aleph_sdk::{MessageBuilder, StoreOptions, SubmitMode};

use crate::common::{TestNode, WAIT};

#[tokio::test]
async fn estimate_and_stored_cost() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let data = vec![1u8; 4096];
    let hash = aleph_sdk::ItemHash::sha256(&data);
    let draft = MessageBuilder::store(&hash).build(&signer).unwrap();
    let estimate = c.estimate_price(&draft).await.unwrap();
    assert!(estimate.required_tokens >= 0.0);
    let stored = c
        .create_store(&signer, data, &StoreOptions::new().mode(SubmitMode::WaitProcessed(WAIT)))
        .await
        .unwrap();
    let price = c.get_price(stored.item_hash()).await.unwrap();
    assert!(price.payment_type.is_some());
    node.stop().await;
}
