//! Authorizations: grant, act on behalf of the owner, list, revoke.

use aleph_sdk::core::{MessageType, Signer};
use aleph_sdk::{Authorization, MessageBuilder, SubmitMode};

use crate::common::{TestNode, CHANNEL, WAIT};

#[tokio::test]
async fn delegate_then_revoke() {
    let node = TestNode::start().await;
    let c = &node.client;
    let (owner, delegate) = (node.eth(0), node.eth(1));
    let mode = SubmitMode::WaitProcessed(WAIT);
    let grant = Authorization::new(delegate.address()).message_type(MessageType::Post).channel(CHANNEL);
    c.add_authorization(&owner, grant.clone(), mode).await.unwrap();
    assert_eq!(c.get_authorizations(owner.address()).await.unwrap(), vec![grant]);

    let on_behalf = MessageBuilder::post("delegated", 1).channel(CHANNEL).on_behalf_of(owner.address());
    let sent = c.publish(&delegate, &on_behalf, mode).await.expect("allowed by the grant");
    let m = c.get_message(sent.item_hash()).await.unwrap();
    assert_eq!(m.sender, delegate.address());
    assert_eq!(m.content.unwrap()["address"], owner.address());

    c.revoke_authorization(&owner, delegate.address(), mode).await.unwrap();
    assert!(c.get_authorizations(owner.address()).await.unwrap().is_empty());
    let err = c
        .publish(&delegate, &on_behalf.clone().time(aleph_sdk::compose::now() + 1.0), mode)
        .await
        .unwrap_err();
    assert_eq!(err.rejection_code(), Some(aleph_sdk::ErrorCode::PermissionDenied), "{err}");
    node.stop().await;
}

#[tokio::test]
async fn changes_are_composed_against_the_current_list() {
    let node = TestNode::start().await;
    let c = &node.client;
    let (owner, delegate) = (node.eth(0), node.eth(1));
    let mode = SubmitMode::WaitProcessed(WAIT);
    // Nothing granted: nothing to revoke.
    assert!(c.compose_revoke_authorization(owner.address(), delegate.address()).await.unwrap().is_none());

    let grant = Authorization::new(delegate.address()).channel(CHANNEL);
    let add = c.compose_add_authorization(owner.address(), grant.clone()).await.unwrap();
    // Composing signs nothing and sends nothing: the node still has no delegation.
    let signed = add.build(&owner).unwrap();
    assert_eq!(signed.message_type, MessageType::Aggregate);
    assert!(c.get_authorizations(owner.address()).await.unwrap().is_empty());
    c.submit(&signed, mode).await.unwrap();
    assert_eq!(c.get_authorizations(owner.address()).await.unwrap(), vec![grant.clone()]);

    // Adding the same grant again keeps one; revoking matches the address without regard to case.
    let again = c.compose_add_authorization(owner.address(), grant.clone()).await.unwrap();
    let content: serde_json::Value =
        serde_json::from_str(again.build(&owner).unwrap().item_content.as_deref().unwrap()).unwrap();
    assert_eq!(content["content"]["authorizations"].as_array().map(Vec::len), Some(1));
    let revoke = c
        .compose_revoke_authorization(owner.address(), &delegate.address().to_lowercase())
        .await
        .unwrap()
        .expect("a delegation to revoke");
    c.publish(&owner, &revoke, mode).await.unwrap();
    assert!(c.get_authorizations(owner.address()).await.unwrap().is_empty());
    node.stop().await;
}
