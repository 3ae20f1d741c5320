//! The `corechannel` view: real signed `corechan-operation` POSTs from dev accounts, replayed by
//! the node and served as the `corechannel` aggregate of its publisher.

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, PendingMessage, Signer};
use aleph_node::config::DEFAULT_CORECHANNEL_ADDRESS;
use aleph_node::{CoreChannelView, NodeStatus, ResourceNodeStatus};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// A node operation as the official clients build it: channel FOUNDATION, tags [action, network].
pub(crate) fn operation(
    signer: &dyn Signer,
    action: &str,
    reference: Option<&str>,
    details: Value,
) -> PendingMessage {
    let mut content = json!({
        "type": "corechan-operation",
        "content": {"action": action, "tags": [action, "mainnet"], "details": details},
    });
    if let Some(r) = reference {
        content["ref"] = json!(r);
    }
    sign_on(signer, MessageType::Post, content, "FOUNDATION")
}

/// An edit of a node as the account app sends it: an `amend` POST whose ref is the node.
fn amend_node(signer: &dyn Signer, node: &str, details: Value) -> PendingMessage {
    let content = json!({
        "type": "amend",
        "ref": node,
        "content": {"action": "create-node", "tags": ["create-node", "mainnet"], "details": details},
    });
    sign_on(signer, MessageType::Post, content, "FOUNDATION")
}

/// The `corechannel` value the SDKs read: `data.corechannel` of `GET …/{address}.json?keys=corechannel`.
async fn served(node: &TestNode, address: &str) -> CoreChannelView {
    let body = node.get_ok(&format!("/api/v0/aggregates/{address}.json?keys=corechannel")).await;
    assert_eq!(keys(&body), ["address", "data", "info"], "{body}");
    assert_eq!(keys(&body["data"]), ["corechannel"]);
    serde_json::from_value(body["data"]["corechannel"].clone()).expect("the view's shape")
}

fn crn_details(i: usize) -> Value {
    json!({"name": format!("crn {i}"), "address": format!("https://crn{i}.example.org"), "type": "compute"})
}

#[tokio::test]
async fn operations_register_link_unlink_amend_and_drop_nodes() {
    let node = TestNode::start().await;
    let (ccn_owner, crn_owner, stranger) = (node.eth(0), node.eth(1), node.eth(2));
    let publisher = DEFAULT_CORECHANNEL_ADDRESS;

    // An account without ALEPH cannot register a CCN; a funded one can, once.
    let unfunded = EthereumSigner::from_hex(&"42".repeat(32)).expect("key");
    node.submit_ok(&operation(
        &unfunded,
        "create-node",
        None,
        json!({"name": "poor", "multiaddress": "/ip4/9.9.9.9/tcp/4025"}),
    ))
    .await;
    let create = operation(
        &ccn_owner,
        "create-node",
        None,
        json!({"name": "ccn", "multiaddress": "/ip4/1.2.3.4/tcp/4025"}),
    );
    node.submit_ok(&create).await;
    node.submit_ok(&operation(
        &ccn_owner,
        "create-node",
        None,
        json!({"name": "second", "multiaddress": "/ip4/5.6.7.8/tcp/4025"}),
    ))
    .await;
    let ccn = create.item_hash.to_string();
    let view = served(&node, publisher).await;
    assert_eq!(view.nodes.len(), 1, "{view:?}");
    assert_eq!(view.nodes[0].info.hash, ccn);
    assert_eq!(view.nodes[0].info.owner, ccn_owner.address());
    assert_eq!(view.nodes[0].status, NodeStatus::Waiting);

    // Nine CRNs.
    let mut crns = Vec::new();
    for i in 0..9 {
        let m = operation(&crn_owner, "create-resource-node", None, crn_details(i));
        node.submit_ok(&m).await;
        crns.push(m.item_hash.to_string());
    }
    // A link by someone who owns no CCN is ignored.
    node.submit_ok(&operation(&stranger, "link", Some(&crns[0]), json!({}))).await;
    let view = served(&node, publisher).await;
    assert_eq!(view.resource_nodes.len(), 9);
    assert!(view
        .resource_nodes
        .iter()
        .all(|c| c.status == ResourceNodeStatus::Waiting && c.parent.is_none()));

    // The CCN owner links all nine: the ninth is over the limit of eight.
    let mut links = Vec::new();
    for crn in &crns {
        let m = operation(&ccn_owner, "link", Some(crn), json!({}));
        node.submit_ok(&m).await;
        links.push(m.item_hash.to_string());
    }
    let view = node.handle.pipeline().corechannel().view().await.expect("view");
    assert_eq!(served(&node, publisher).await, *view, "the endpoint serves the accessor's view");
    let linked: Vec<String> = view.linked_crns(&ccn).iter().map(|c| c.info.hash.clone()).collect();
    assert_eq!(linked, crns[..8]);
    let first = view.resource_node(&crns[0]).expect("crn");
    assert_eq!((first.status, first.parent.as_deref()), (ResourceNodeStatus::Linked, Some(ccn.as_str())));
    assert_eq!(first.info.address, "https://crn0.example.org");
    assert_eq!(view.resource_node(&crns[8]).expect("crn").parent, None);
    assert_eq!(view.node_of_owner(ccn_owner.address()).map(|n| n.info.hash.clone()), Some(ccn.clone()));

    // The CRN owner unlinks one; the CCN owner renames its node with an amend.
    node.submit_ok(&operation(&crn_owner, "unlink", Some(&crns[0]), json!({}))).await;
    node.submit_ok(&amend_node(&ccn_owner, &ccn, json!({"name": "renamed", "description": "hello"}))).await;
    let view = served(&node, publisher).await;
    let c = view.node(&ccn).expect("ccn");
    assert_eq!((c.info.name.as_str(), c.info.description.as_str()), ("renamed", "hello"));
    assert_eq!(c.info.multiaddress, "/ip4/1.2.3.4/tcp/4025");
    assert_eq!(view.resource_node(&crns[0]).expect("crn").status, ResourceNodeStatus::Waiting);
    assert_eq!(view.linked_crns(&ccn).len(), 7);

    // Forgetting a link replays the history without it: the second CRN was never linked, so
    // the ninth link was within the limit after all.
    node.submit_ok(&forget(&ccn_owner, &[links[1].as_str()])).await;
    let view = served(&node, publisher).await;
    assert_eq!(view.resource_node(&crns[1]).expect("crn").parent, None);
    assert_eq!(view.resource_node(&crns[8]).expect("crn").parent.as_deref(), Some(ccn.as_str()));
    let linked: Vec<String> = view.linked_crns(&ccn).iter().map(|c| c.info.hash.clone()).collect();
    assert_eq!(linked, crns[2..]);

    // Dropping the CCN unlinks every CRN.
    node.submit_ok(&operation(&stranger, "drop-node", Some(&ccn), json!({}))).await;
    assert_eq!(served(&node, publisher).await.nodes.len(), 1, "only the owner drops a node");
    node.submit_ok(&operation(&ccn_owner, "drop-node", Some(&ccn), json!({}))).await;
    let view = served(&node, publisher).await;
    assert!(view.nodes.is_empty());
    assert_eq!(view.resource_nodes.len(), 9);
    assert!(view
        .resource_nodes
        .iter()
        .all(|c| c.status == ResourceNodeStatus::Waiting && c.parent.is_none()));
    node.stop().await;
}

#[tokio::test]
async fn the_aggregate_endpoint_merges_the_view_with_the_publishers_other_keys() {
    // The publisher is configurable: here dev account 4 (dev accounts are deterministic), so
    // that it can post other keys too.
    let accounts = aleph_node::DevAccounts::generate();
    let publisher_address =
        accounts.accounts.iter().filter(|a| a.chain == "ETH").nth(4).expect("dev account").address.clone();
    let node = TestNode::start_with(|c| c.corechannel.address = publisher_address.clone()).await;
    let publisher = node.eth(4);
    assert_eq!(publisher.address().to_string(), publisher_address);
    let owner = node.eth(0);
    let create = operation(
        &owner,
        "create-node",
        None,
        json!({"name": "ccn", "multiaddress": "/dns4/ccn.example.org/tcp/4025"}),
    );
    node.submit_ok(&create).await;
    node.submit_ok(&aggregate(&publisher, "profile", json!({"name": "publisher"}), now())).await;
    // A `corechannel` the publisher posts itself is replaced by the view.
    node.submit_ok(&aggregate(&publisher, "corechannel", json!({"nodes": "posted"}), now())).await;
    let addr = publisher.address().to_string();

    let all = node.get_ok(&format!("/api/v0/aggregates/{addr}.json")).await;
    assert_eq!(keys(&all["data"]), ["corechannel", "profile"]);
    assert_eq!(all["data"]["profile"], json!({"name": "publisher"}));
    assert_eq!(all["data"]["corechannel"]["nodes"][0]["hash"], create.item_hash.as_str());
    assert_eq!(all["data"]["corechannel"]["nodes"][0]["name"], "ccn");
    assert_eq!(all["data"]["corechannel"]["resource_nodes"], json!([]));

    let only = node.get_ok(&format!("/api/v0/aggregates/{addr}.json?keys=profile")).await;
    assert_eq!(keys(&only["data"]), ["profile"]);
    let bare = node.get_ok(&format!("/api/v0/aggregates/{addr}.json?keys=corechannel&value_only=true")).await;
    assert_eq!(keys(&bare), ["nodes", "resource_nodes"]);
    let info = node.get_ok(&format!("/api/v0/aggregates/{addr}.json?keys=corechannel&with_info=true")).await;
    assert_eq!(info["info"]["corechannel"]["original_item_hash"], create.item_hash.as_str());
    assert_eq!(info["info"]["corechannel"]["last_update_item_hash"], create.item_hash.as_str());

    // The default publisher is not special any more; an operation for another network is left out.
    let (code, _) = node.get(&format!("/api/v0/aggregates/{DEFAULT_CORECHANNEL_ADDRESS}.json")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    node.stop().await;

    // Tag filter and switch.
    let node = TestNode::start_with(|c| c.corechannel.tag = "devnet".into()).await;
    node.submit_ok(&operation(
        &node.eth(0),
        "create-node",
        None,
        json!({"multiaddress": "/ip4/1.1.1.1/tcp/1"}),
    ))
    .await;
    assert!(served(&node, DEFAULT_CORECHANNEL_ADDRESS).await.nodes.is_empty(), "tagged mainnet, not devnet");
    node.stop().await;
    let node = TestNode::start_with(|c| c.corechannel.enabled = false).await;
    let (code, _) =
        node.get(&format!("/api/v0/aggregates/{DEFAULT_CORECHANNEL_ADDRESS}.json?keys=corechannel")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    node.stop().await;
}

#[tokio::test]
async fn a_balance_update_recomputes_the_view() {
    let accounts = aleph_node::DevAccounts::generate();
    let oracle =
        accounts.accounts.iter().filter(|a| a.chain == "ETH").nth(3).expect("dev account").address.clone();
    let node = TestNode::start_with(|c| c.balance_senders = vec![oracle.clone()]).await;
    let newcomer = EthereumSigner::from_hex(&"43".repeat(32)).expect("key");
    let create = operation(&newcomer, "create-node", None, json!({"multiaddress": "/ip4/7.7.7.7/tcp/4025"}));
    node.submit_ok(&create).await;
    assert!(served(&node, DEFAULT_CORECHANNEL_ADDRESS).await.nodes.is_empty(), "no ALEPH, no node");
    let update = post(
        &node.eth(3),
        "balances-update",
        json!({"chain": "ETH", "main_height": 1, "dapp": null, "balances": {newcomer.address().to_string(): 250_000}}),
    );
    node.submit_ok(&update).await;
    let view = served(&node, DEFAULT_CORECHANNEL_ADDRESS).await;
    assert_eq!(
        view.nodes.iter().map(|n| n.info.hash.as_str()).collect::<Vec<_>>(),
        [create.item_hash.as_str()]
    );
    node.stop().await;
}
