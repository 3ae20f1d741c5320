//! Posts: create, amend, the v0 and v1 listings, streams.

use aleph_sdk::core::Signer;
use aleph_sdk::{PostFilter, SubmitMode};
use futures_util::StreamExt;
use serde_json::json;

use crate::common::{TestNode, CHANNEL, WAIT};

#[tokio::test]
async fn create_amend_and_list() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let original = c
        .create_post(&signer, "blog", json!({"title": "v1"}), Some(CHANNEL), SubmitMode::WaitProcessed(WAIT))
        .await
        .unwrap();
    let amend = c
        .amend_post(
            &signer,
            original.item_hash(),
            json!({"title": "v2"}),
            Some(CHANNEL),
            SubmitMode::WaitProcessed(WAIT),
        )
        .await
        .unwrap();
    let filter = PostFilter::new().address(signer.address()).post_type("blog");
    let page = c.get_posts(&filter, 1, 20).await.unwrap();
    assert_eq!(page.posts.len(), 1);
    let post = &page.posts[0];
    assert_eq!(post.item_hash, amend.item_hash().to_string());
    assert_eq!(post.original_item_hash.as_deref(), Some(original.item_hash().as_str()));
    #[derive(serde::Deserialize)]
    struct Blog {
        title: String,
    }
    assert_eq!(post.content_as::<Blog>().unwrap().title, "v2");
    let v1 = c.get_posts_v1(&filter, 1, 20).await.unwrap();
    assert_eq!(v1.posts[0].content_as::<Blog>().unwrap().title, "v2");
    let streamed: Vec<_> = c.stream_posts(&filter, 10).map(Result::unwrap).collect().await;
    assert_eq!(streamed.len(), 1);
    node.stop().await;
}
