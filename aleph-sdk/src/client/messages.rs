//! Messages: listings (pages, cursors, streams), one message with its status, submission.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use aleph_core::message::Message;
use aleph_core::{ItemHash, ItemType, MessageStatus, PendingMessage};
use futures_util::stream::{self, Stream};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{AlephClient, SubmitMode};
use crate::error::{ClientError, Result};
use crate::http::{check, http_error, json_of, Idempotency};
use crate::types::{
    decode, parse_message_list, CursorPage, MessageFilter, MessageStatusInfo, MessageWithStatus,
    MessagesPage, PublicationStatus, Submitted,
};

const MESSAGES: &str = "/api/v0/messages.json";

impl AlephClient {
    /// One page of messages matching `filter` (`page` from 1, `per_page` up to the node's cap).
    pub async fn get_messages(
        &self,
        filter: &MessageFilter,
        page: u32,
        per_page: u32,
    ) -> Result<MessagesPage> {
        let mut q = filter.to_query();
        q.push(("page".into(), page.max(1).to_string()));
        q.push(("pagination".into(), per_page.to_string()));
        let url = format!("{}{MESSAGES}", self.base_url());
        let page: aleph_core::api::MessagePage = decode(self.http().get_json(MESSAGES, &q).await?, &url)?;
        let messages = self.verify_all(parse_message_list(&page.messages, &url)?).await?;
        Ok(MessagesPage {
            messages,
            page: page.page.pagination_page,
            per_page: page.page.pagination_per_page,
            total: page.page.pagination_total,
        })
    }

    /// One page in cursor mode: start with `cursor = None`, continue with `next_cursor` until it
    /// is `None`. `per_page` is capped at 200 by the node.
    pub async fn get_messages_cursor(
        &self,
        filter: &MessageFilter,
        cursor: Option<&str>,
        per_page: u32,
    ) -> Result<CursorPage<Message>> {
        let mut q = filter.to_query();
        q.push(("cursor".into(), cursor.unwrap_or("").to_owned()));
        q.push(("pagination".into(), per_page.clamp(1, 200).to_string()));
        let url = format!("{}{MESSAGES}", self.base_url());
        let page: aleph_core::api::MessageCursorPage =
            decode(self.http().get_json(MESSAGES, &q).await?, &url)?;
        let items = self.verify_all(parse_message_list(&page.messages, &url)?).await?;
        Ok(CursorPage {
            items,
            per_page: page.cursor.pagination_per_page,
            next_cursor: page.cursor.next_cursor.filter(|c| !c.is_empty()),
        })
    }

    /// Every message matching `filter`, as a stream over cursor pagination (`per_page` each).
    pub fn stream_messages(
        &self,
        filter: &MessageFilter,
        per_page: u32,
    ) -> impl Stream<Item = Result<Message>> + Send + 'static {
        struct State {
            client: AlephClient,
            filter: MessageFilter,
            cursor: Option<String>,
            buffer: VecDeque<Message>,
            done: bool,
        }
        let state = State {
            client: self.clone(),
            filter: filter.clone(),
            cursor: None,
            buffer: VecDeque::new(),
            done: false,
        };
        stream::unfold(state, move |mut s| async move {
            loop {
                if let Some(m) = s.buffer.pop_front() {
                    return Some((Ok(m), s));
                }
                if s.done {
                    return None;
                }
                match s.client.get_messages_cursor(&s.filter, s.cursor.as_deref(), per_page).await {
                    Ok(page) => {
                        s.done = page.next_cursor.is_none() || page.items.is_empty();
                        s.cursor = page.next_cursor;
                        s.buffer.extend(page.items);
                    }
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                }
            }
        })
    }

    /// Every message matching `filter`, as a stream over page pagination (for nodes without
    /// cursors, or `tx-time` sorting).
    pub fn stream_messages_paged(
        &self,
        filter: &MessageFilter,
        per_page: u32,
    ) -> impl Stream<Item = Result<Message>> + Send + 'static {
        struct State {
            client: AlephClient,
            filter: MessageFilter,
            page: u32,
            seen: u64,
            buffer: VecDeque<Message>,
            done: bool,
        }
        let per_page = per_page.max(1);
        let state = State {
            client: self.clone(),
            filter: filter.clone(),
            page: 1,
            seen: 0,
            buffer: VecDeque::new(),
            done: false,
        };
        stream::unfold(state, move |mut s| async move {
            loop {
                if let Some(m) = s.buffer.pop_front() {
                    return Some((Ok(m), s));
                }
                if s.done {
                    return None;
                }
                match s.client.get_messages(&s.filter, s.page, per_page).await {
                    Ok(page) => {
                        let n = page.messages.len() as u64;
                        s.seen += n;
                        // A node may serve smaller pages than asked (its page cap) and may leave
                        // the total out: a short page ends the walk, a missing total does not.
                        let full = if page.per_page > 0 {
                            page.per_page.min(u64::from(per_page))
                        } else {
                            u64::from(per_page)
                        };
                        s.done = n == 0 || n < full || (page.total > 0 && s.seen >= page.total);
                        s.page += 1;
                        s.buffer.extend(page.messages);
                    }
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                }
            }
        })
    }

    /// One message with its status, in every form the node reports.
    pub async fn get_message_with_status(&self, item_hash: &ItemHash) -> Result<MessageWithStatus> {
        let path = format!("/api/v0/messages/{item_hash}");
        let v: Value = self.http().get_json(&path, &[]).await?;
        let mut status = MessageWithStatus::from_value(&v)
            .map_err(|reason| ClientError::Decode { url: format!("{}{path}", self.base_url()), reason })?;
        if self.is_trustless() {
            status = match status {
                MessageWithStatus::Processed { message, reception_time } => MessageWithStatus::Processed {
                    message: Box::new(self.verify_message(*message).await?),
                    reception_time,
                },
                MessageWithStatus::Removing { message, reason, reception_time } => {
                    MessageWithStatus::Removing {
                        message: Box::new(self.verify_message(*message).await?),
                        reason,
                        reception_time,
                    }
                }
                other => other,
            };
            if status.item_hash() != item_hash {
                return Err(ClientError::IntegrityMismatch {
                    expected: item_hash.clone(),
                    actual: status.item_hash().to_string(),
                });
            }
        }
        Ok(status)
    }

    /// One message: processed (or pending) ones are returned; rejected, forgotten and removed
    /// ones are the matching [`ClientError`]; unknown ones [`ClientError::NotFound`].
    pub async fn get_message(&self, item_hash: &ItemHash) -> Result<Message> {
        self.get_message_with_status(item_hash).await?.into_message()
    }

    /// The status of a message (`GET /api/v0/messages/{hash}/status`).
    pub async fn get_message_status(&self, item_hash: &ItemHash) -> Result<MessageStatusInfo> {
        self.http().get_json(&format!("/api/v0/messages/{item_hash}/status"), &[]).await
    }

    /// The content of a processed message (for POSTs, the user payload).
    pub async fn get_message_content(&self, item_hash: &ItemHash) -> Result<Value> {
        self.http().get_json(&format!("/api/v0/messages/{item_hash}/content"), &[]).await
    }

    /// Submits a signed message (`POST /api/v0/messages`), the one way every message of this
    /// crate is sent: [`SubmitMode::Async`] returns once the node accepted it,
    /// [`SubmitMode::Sync`] once the node processed it (or answered `pending` after its own
    /// wait), [`SubmitMode::WaitProcessed`] submits as `Sync`, then polls until the message is
    /// processed (the submission then says [`MessageStatus::Processed`]).
    ///
    /// A rejection is [`ClientError::Rejected`] with the node's code and details (or
    /// [`ClientError::InsufficientFunds`]); a refused envelope [`ClientError::InvalidMessage`];
    /// a failed broadcast [`ClientError::Broadcast`]; still pending after the wait
    /// [`ClientError::WaitTimeout`]. Nodes without this endpoint are sent the message through
    /// the legacy pubsub endpoint.
    pub async fn submit(&self, message: &PendingMessage, mode: SubmitMode) -> Result<Submitted> {
        match mode {
            SubmitMode::Async => self.post_message(message, false).await,
            SubmitMode::Sync => self.post_message(message, true).await,
            SubmitMode::WaitProcessed(timeout) => {
                let start = Instant::now();
                let mut submitted = self.post_message(message, true).await?;
                let remaining = timeout.saturating_sub(start.elapsed());
                self.wait_for_processed(&message.item_hash, remaining).await?;
                submitted.status = MessageStatus::Processed;
                Ok(submitted)
            }
        }
    }

    /// `POST /api/v0/messages` once, `sync` or not.
    async fn post_message(&self, message: &PendingMessage, sync: bool) -> Result<Submitted> {
        let body = json!({"sync": sync, "message": message});
        let resp = self.http().post_json("/api/v0/messages", &body, Idempotency::Idempotent).await?;
        let status = resp.status();
        match status {
            StatusCode::OK | StatusCode::ACCEPTED => {
                let v: Value = json_of(resp).await.unwrap_or(Value::Null);
                let publication: Option<PublicationStatus> =
                    v.get("publication_status").and_then(|p| serde_json::from_value(p.clone()).ok());
                let reported = v.get("message_status").and_then(Value::as_str).and_then(|s| s.parse().ok());
                let default =
                    if status == StatusCode::OK { MessageStatus::Processed } else { MessageStatus::Pending };
                Ok(Submitted { message: message.clone(), status: reported.unwrap_or(default), publication })
            }
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::GONE => {
                let text = resp.text().await.unwrap_or_default();
                match serde_json::from_str::<Value>(&text) {
                    Ok(v) if v.get("message_status").is_some() => {
                        Err(self.rejection_of(&message.item_hash, v).await)
                    }
                    _ => Err(ClientError::InvalidMessage(text)),
                }
            }
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => self.submit_legacy(message).await,
            StatusCode::INTERNAL_SERVER_ERROR => Err(ClientError::Broadcast(
                resp.text().await.unwrap_or_default().chars().take(1000).collect(),
            )),
            _ => Err(http_error(resp).await),
        }
    }

    /// The error for a message the node refused after intake: its recorded status has the code
    /// and details.
    async fn rejection_of(&self, item_hash: &ItemHash, answer: Value) -> ClientError {
        match self.get_message_with_status(item_hash).await {
            Ok(
                status @ (MessageWithStatus::Rejected { .. }
                | MessageWithStatus::Forgotten { .. }
                | MessageWithStatus::Removed { .. }),
            ) => match status.into_message() {
                Err(e) => e,
                Ok(_) => ClientError::from_rejection(item_hash.clone(), None, answer),
            },
            _ => ClientError::from_rejection(
                item_hash.clone(),
                answer.get("error_code").and_then(Value::as_i64).and_then(|c| i32::try_from(c).ok()),
                answer,
            ),
        }
    }

    /// The legacy publication endpoint of nodes without `POST /api/v0/messages`.
    async fn submit_legacy(&self, message: &PendingMessage) -> Result<Submitted> {
        let data = serde_json::to_string(message)?;
        let body = json!({"topic": "ALEPH-TEST", "data": data});
        let resp = self.http().post_json("/api/v0/ipfs/pubsub/pub", &body, Idempotency::Idempotent).await?;
        let resp = check(resp, "/api/v0/ipfs/pubsub/pub").await?;
        let v: Value = json_of(resp).await.unwrap_or(Value::Null);
        let publication = serde_json::from_value(v).ok();
        Ok(Submitted { message: message.clone(), status: MessageStatus::Pending, publication })
    }

    /// Polls a message until it is processed (returned), rejected, forgotten or removed (errors),
    /// or `timeout` passes ([`ClientError::WaitTimeout`]).
    pub async fn wait_for_processed(&self, item_hash: &ItemHash, timeout: Duration) -> Result<Message> {
        let deadline = Instant::now() + timeout;
        let mut interval = Duration::from_millis(100);
        let mut last = MessageStatus::Pending;
        loop {
            match self.get_message_with_status(item_hash).await {
                Ok(MessageWithStatus::Pending { .. }) => last = MessageStatus::Pending,
                Ok(other) => return other.into_message(),
                // The node may not have recorded a message it just accepted.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ClientError::WaitTimeout { item_hash: item_hash.clone(), status: last });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval * 3 / 2).min(Duration::from_secs(2));
        }
    }

    /// Checks a message as trustless mode does: its signature, its inline content against its
    /// item hash, and for stored content, the bytes fetched from the node against the hash (the
    /// returned message then carries that verified content).
    pub async fn verify_message(&self, mut message: Message) -> Result<Message> {
        aleph_core::verify_signature(&message.signed_fields())
            .map_err(|source| ClientError::Unverified { item_hash: message.item_hash.clone(), source })?;
        match message.item_type {
            ItemType::Inline => {
                let unverifiable = |reason: String| ClientError::Unverifiable {
                    item_hash: message.item_hash.clone(),
                    reason,
                };
                // Only the signed item content is believed: the node's `content` is replaced by
                // its parse. Without it there is nothing to check content against, so none may
                // be returned.
                let Some(text) = &message.item_content else {
                    if message.content.is_some() {
                        return Err(unverifiable("inline content without its item_content".into()));
                    }
                    return Ok(message);
                };
                let actual = ItemHash::sha256(text.as_bytes());
                if actual != message.item_hash {
                    return Err(ClientError::IntegrityMismatch {
                        expected: message.item_hash.clone(),
                        actual: actual.to_string(),
                    });
                }
                let content = serde_json::from_str(text)
                    .map_err(|e| unverifiable(format!("item_content is not JSON: {e}")))?;
                message.content = Some(content);
            }
            ItemType::Storage | ItemType::Ipfs => {
                if message.content.is_some() {
                    let bytes = self.download(&message.item_hash).await?;
                    let content: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                        url: format!("storage/raw/{}", message.item_hash),
                        reason: e.to_string(),
                    })?;
                    message.content = Some(content);
                }
            }
        }
        Ok(message)
    }

    /// In trustless mode, [`AlephClient::verify_message`] on each message.
    pub(crate) async fn verify_all(&self, messages: Vec<Message>) -> Result<Vec<Message>> {
        if !self.is_trustless() {
            return Ok(messages);
        }
        let mut out = Vec::with_capacity(messages.len());
        for m in messages {
            out.push(self.verify_message(m).await?);
        }
        Ok(out)
    }
}
