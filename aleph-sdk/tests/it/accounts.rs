//! Accounts: balances, statistics, channels, version; every signer kind publishes.

use aleph_sdk::core::{Chain, Signer};
use aleph_sdk::{AnySigner, MessageBuilder, SubmitMode};

use crate::common::{TestNode, CHANNEL, WAIT};

#[tokio::test]
async fn balances_stats_and_node_info() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let balance = c.get_balance(signer.address()).await.unwrap();
    assert!(balance.balance > 0.0 || balance.credit_balance > 0, "{balance:?}");
    let unknown = c.get_balance("0x0000000000000000000000000000000000000001").await.unwrap();
    assert_eq!(unknown.balance, 0.0);
    c.create_post(&signer, "stats", 1, Some(CHANNEL), SubmitMode::WaitProcessed(WAIT)).await.unwrap();
    let stats = c.get_address_stats(signer.address(), 1, 20).await.unwrap();
    assert!(stats.values().any(|s| s.post >= 1), "{stats:?}");
    assert!(c.get_address_channels(signer.address()).await.unwrap().contains(&CHANNEL.to_owned()));
    assert!(c.get_address_post_types(signer.address()).await.unwrap().contains(&"stats".to_owned()));
    assert!(c.get_channels().await.unwrap().contains(&CHANNEL.to_owned()));
    assert!(!c.node_version().await.unwrap().is_empty());
    node.stop().await;
}

#[tokio::test]
async fn solana_and_keystore_signers_publish() {
    let node = TestNode::start().await;
    let sol = node.signer(Chain::Sol, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = node.eth(2).to_keystore(dir.path(), "k.json", "pw").unwrap();
    let from_keystore = AnySigner::from_keystore(&path, "pw").unwrap();
    for s in [sol, from_keystore] {
        let b = MessageBuilder::post("multi", s.chain().as_str()).channel(CHANNEL);
        node.client
            .publish(&s, &b, SubmitMode::WaitProcessed(WAIT))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.chain()));
    }
    node.stop().await;
}
