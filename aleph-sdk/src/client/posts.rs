//! Posts: the v0 and v1 listings, and creating or amending posts.

use std::collections::VecDeque;

use aleph_core::{ItemHash, Signer};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use serde_json::Value;

use super::{AlephClient, SubmitMode};
use crate::compose::MessageBuilder;
use crate::error::Result;
use crate::types::{decode, page_of, CursorPage, Post, PostFilter, PostV1, PostsPage, Submitted};

impl AlephClient {
    /// One page of posts in the v0 shape (`GET /api/v0/posts.json`), each merged with its
    /// latest amend.
    pub async fn get_posts(&self, filter: &PostFilter, page: u32, per_page: u32) -> Result<PostsPage<Post>> {
        self.posts_page("/api/v0/posts.json", filter, page, per_page).await
    }

    /// One page of posts in the v1 shape (`GET /api/v1/posts.json`).
    pub async fn get_posts_v1(
        &self,
        filter: &PostFilter,
        page: u32,
        per_page: u32,
    ) -> Result<PostsPage<PostV1>> {
        self.posts_page("/api/v1/posts.json", filter, page, per_page).await
    }

    async fn posts_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        filter: &PostFilter,
        page: u32,
        per_page: u32,
    ) -> Result<PostsPage<T>> {
        let mut q = filter.to_query();
        q.push(("page".into(), page.max(1).to_string()));
        q.push(("pagination".into(), per_page.to_string()));
        let v: Value = self.http().get_json(path, &q).await?;
        let (posts, page, per_page, total) = page_of(&v, "posts", &format!("{}{path}", self.base_url()))?;
        Ok(PostsPage { posts, page, per_page, total })
    }

    /// One page of v0 posts in cursor mode. A filter sorted by [`crate::SortBy::TxTime`] is
    /// refused by the node (422): there is no cursor over confirmation times.
    pub async fn get_posts_cursor(
        &self,
        filter: &PostFilter,
        cursor: Option<&str>,
        per_page: u32,
    ) -> Result<CursorPage<Post>> {
        let path = "/api/v0/posts.json";
        let mut q = filter.to_query();
        q.push(("cursor".into(), cursor.unwrap_or("").to_owned()));
        q.push(("pagination".into(), per_page.clamp(1, 200).to_string()));
        let url = format!("{}{path}", self.base_url());
        let page: aleph_core::api::PostCursorPage = decode(self.http().get_json(path, &q).await?, &url)?;
        Ok(CursorPage {
            items: page.posts,
            per_page: page.cursor.pagination_per_page,
            next_cursor: page.cursor.next_cursor.filter(|c| !c.is_empty()),
        })
    }

    /// Every v0 post matching `filter`, as a stream over cursor pagination (so not in
    /// [`crate::SortBy::TxTime`] order, which the node refuses with a cursor).
    pub fn stream_posts(
        &self,
        filter: &PostFilter,
        per_page: u32,
    ) -> impl Stream<Item = Result<Post>> + Send + 'static {
        let state = (self.clone(), filter.clone(), None::<String>, VecDeque::<Post>::new(), false);
        stream::unfold(state, move |(client, filter, mut cursor, mut buffer, mut done)| async move {
            loop {
                if let Some(p) = buffer.pop_front() {
                    return Some((Ok(p), (client, filter, cursor, buffer, done)));
                }
                if done {
                    return None;
                }
                match client.get_posts_cursor(&filter, cursor.as_deref(), per_page).await {
                    Ok(page) => {
                        done = page.next_cursor.is_none() || page.items.is_empty();
                        cursor = page.next_cursor;
                        buffer.extend(page.items);
                    }
                    Err(e) => return Some((Err(e), (client, filter, cursor, buffer, true))),
                }
            }
        })
    }

    /// Publishes a POST of `post_type` carrying `content`.
    pub async fn create_post<S: Signer + Sync>(
        &self,
        signer: &S,
        post_type: &str,
        content: impl Serialize,
        channel: Option<&str>,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let mut b = MessageBuilder::post(post_type, content);
        if let Some(c) = channel {
            b = b.channel(c);
        }
        self.publish(signer, &b, mode).await
    }

    /// Publishes an amend replacing the content of the post `original`.
    pub async fn amend_post<S: Signer + Sync>(
        &self,
        signer: &S,
        original: &ItemHash,
        content: impl Serialize,
        channel: Option<&str>,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let mut b = MessageBuilder::amend(original, content);
        if let Some(c) = channel {
            b = b.channel(c);
        }
        self.publish(signer, &b, mode).await
    }
}
