//! Prices: estimate a message before sending it, read the stored cost after.
//!
//! Expected amounts follow the reference's cost model (MESSAGES.md §6.13, the default price list):
//! a STORE paid by holding costs `size_mib × 0.333333333` ALEPH, floored to 18 decimals.

use aleph_sdk::{MessageType, Signer, StoreOptions, SubmitMode, UnsignedMessage};

use crate::common::{TestNode, WAIT};

const MIB: usize = 1 << 20;

#[tokio::test]
async fn estimate_and_stored_cost() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);

    // Before the file exists anywhere: priced on the size the estimate names (2 MiB), a field
    // of the reference's estimation schema that the builder's typed content does not carry.
    let data = vec![7u8; MIB];
    let hash = aleph_sdk::ItemHash::sha256(&data);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let content = serde_json::json!({"address": signer.address(), "time": now, "item_type": "storage",
                                     "item_hash": hash.as_str(), "estimated_size_mib": 2});
    let draft =
        signer.sign(UnsignedMessage::inline(MessageType::Store, content.to_string(), now, None)).unwrap();
    let estimate = c.estimate_price(&draft).await.unwrap();
    assert_eq!(estimate.cost, "0.666666666000000000", "{estimate:?}");
    assert_eq!(estimate.required_tokens, 0.666666666);
    assert_eq!(estimate.payment_type, "hold");
    assert_eq!(estimate.charged_address, signer.address());
    assert_eq!(estimate.detail.len(), 1, "one storage row: {estimate:?}");
    assert_eq!(estimate.detail[0].cost_type, "STORAGE");

    // Stored: the cost of the actual 1 MiB file is recorded.
    let stored = c
        .create_store(&signer, data, &StoreOptions::new().mode(SubmitMode::WaitProcessed(WAIT)))
        .await
        .unwrap();
    let price = c.get_price(stored.item_hash()).await.unwrap();
    assert_eq!(price.cost, "0.333333333000000000", "{price:?}");
    assert_eq!(price.required_tokens, 0.333333333);
    assert_eq!(price.payment_type, "hold");
    assert_eq!(price.charged_address, signer.address());
    assert_eq!(price.detail.len(), 1, "{price:?}");
    assert_eq!(price.detail[0].cost_type, "STORAGE");
    node.stop().await;
}
