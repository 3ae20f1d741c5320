//! Watching new messages over the node's WebSocket (`/api/ws0/messages`), as a `Stream` that
//! survives dropped connections.
//!
//! After a drop the watch reconnects with exponential backoff and resumes without a gap or a
//! duplicate: it asks for the messages since the last one it delivered (minus a safety overlap,
//! `startDate` on the socket's history and an HTTP backfill over `messages.json`), and drops
//! every message whose item hash it already delivered within a sliding window.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aleph_core::message::Message;
use aleph_core::ItemHash;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::client::AlephClient;
use crate::error::{ClientError, Result};
use crate::types::{MessageFilter, SortOrder};

/// How a watch connects, reconnects and resumes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// Past messages the first connection replays (the node's default is 10, its maximum 199).
    pub history: Option<u32>,
    /// The wait before the first reconnection, doubled each time.
    pub initial_backoff: Duration,
    /// The longest wait between reconnections.
    pub max_backoff: Duration,
    /// Consecutive failed reconnections before the stream ends with an error (`None`: never).
    pub max_reconnects: Option<u32>,
    /// How far before the last delivered message's time a resumption asks from (messages are
    /// filtered by their own time, which can lag their processing).
    pub resume_overlap: Duration,
    /// How many delivered item hashes are remembered to drop duplicates.
    pub dedup_window: usize,
    /// Whether a resumption also backfills over HTTP (`messages.json`), so that more messages
    /// than the socket's history cap are recovered.
    pub backfill: bool,
    /// A connection silent for this long (the node pings every 30 s) is dropped and reopened.
    pub idle_timeout: Duration,
    /// Messages buffered between the connection task and the stream's reader.
    pub buffer: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            history: None,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_reconnects: None,
            resume_overlap: Duration::from_secs(30),
            dedup_window: 10_000,
            backfill: true,
            idle_timeout: Duration::from_secs(90),
            buffer: 256,
        }
    }
}

impl WatchOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Past messages the first connection replays.
    #[must_use]
    pub fn history(mut self, n: u32) -> Self {
        self.history = Some(n.min(199));
        self
    }

    /// The reconnection backoff.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Give up after this many consecutive failed reconnections.
    #[must_use]
    pub fn max_reconnects(mut self, n: u32) -> Self {
        self.max_reconnects = Some(n);
        self
    }

    /// The resumption overlap.
    #[must_use]
    pub fn resume_overlap(mut self, d: Duration) -> Self {
        self.resume_overlap = d;
        self
    }

    /// The idle timeout.
    #[must_use]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Whether to backfill over HTTP on resumption.
    #[must_use]
    pub fn backfill(mut self, on: bool) -> Self {
        self.backfill = on;
        self
    }
}

/// A live subscription: a `Stream` of messages. Dropping it closes the connection.
#[derive(Debug)]
pub struct MessageWatch {
    rx: mpsc::Receiver<Result<Message>>,
    task: JoinHandle<()>,
}

impl Stream for MessageWatch {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for MessageWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Item hashes delivered recently.
#[derive(Debug)]
struct Seen {
    set: HashSet<ItemHash>,
    order: VecDeque<ItemHash>,
    cap: usize,
}

impl Seen {
    fn new(cap: usize) -> Self {
        Seen { set: HashSet::new(), order: VecDeque::new(), cap: cap.max(1) }
    }

    /// Records `h`; false when it was already there.
    fn insert(&mut self, h: &ItemHash) -> bool {
        if self.set.contains(h) {
            return false;
        }
        self.set.insert(h.clone());
        self.order.push_back(h.clone());
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl AlephClient {
    /// Watches new messages matching `filter` with the client's [`WatchOptions`]. The first
    /// connection is made before this returns (its failure is the error); later drops are
    /// reconnected and resumed.
    pub async fn watch(&self, filter: &MessageFilter) -> Result<MessageWatch> {
        self.watch_with(filter, self.inner.watch.clone()).await
    }

    /// [`AlephClient::watch`] with explicit options.
    pub async fn watch_with(&self, filter: &MessageFilter, options: WatchOptions) -> Result<MessageWatch> {
        let started = crate::compose::now();
        let socket = self.connect_ws(filter, options.history).await?;
        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        let task = tokio::spawn(run_watch(self.clone(), filter.clone(), options, socket, started, tx));
        Ok(MessageWatch { rx, task })
    }

    fn ws_url(&self, filter: &MessageFilter, history: Option<u32>) -> Result<String> {
        let base = self.base_url();
        let ws_base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            return Err(ClientError::InvalidArgument(format!("node URL {base} is not http(s)")));
        };
        let mut url = reqwest::Url::parse(&format!("{ws_base}/api/ws0/messages"))
            .map_err(|e| ClientError::InvalidArgument(e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in filter.to_query() {
                q.append_pair(&k, &v);
            }
            if let Some(h) = history {
                q.append_pair("history", &h.to_string());
            }
        }
        Ok(url.to_string())
    }

    async fn connect_ws(&self, filter: &MessageFilter, history: Option<u32>) -> Result<Socket> {
        let url = self.ws_url(filter, history)?;
        let mut request =
            url.as_str().into_client_request().map_err(|e| ClientError::WebSocket(e.to_string()))?;
        if let Ok(ua) = self.inner.user_agent.parse() {
            request.headers_mut().insert("user-agent", ua);
        }
        let connect = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(Duration::from_secs(15), connect).await {
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(e)) => Err(ClientError::WebSocket(format!("{url}: {e}"))),
            Err(_) => Err(ClientError::Timeout { url }),
        }
    }
}

/// Delivers `m` unless already delivered; false when the reader is gone.
async fn deliver(
    m: Message,
    seen: &mut Seen,
    last_time: &mut Option<f64>,
    tx: &mpsc::Sender<Result<Message>>,
) -> bool {
    if !seen.insert(&m.item_hash) {
        return true;
    }
    *last_time = Some(last_time.map_or(m.time, |t| t.max(m.time)));
    tx.send(Ok(m)).await.is_ok()
}

async fn run_watch(
    client: AlephClient,
    filter: MessageFilter,
    options: WatchOptions,
    first: Socket,
    started: f64,
    tx: mpsc::Sender<Result<Message>>,
) {
    let mut seen = Seen::new(options.dedup_window);
    let mut last_time: Option<f64> = None;
    let mut socket = Some(first);
    loop {
        if let Some(mut ws) = socket.take() {
            if !read_socket(&client, &mut ws, &options, &mut seen, &mut last_time, &tx).await {
                let _ = ws.close(None).await;
                return;
            }
        }
        // Reconnect with backoff.
        let since = last_time.unwrap_or(started) - options.resume_overlap.as_secs_f64();
        let mut resume = filter.clone();
        resume.start_date = Some(resume.start_date.map_or(since, |s| s.max(since)).max(0.0));
        let mut failures = 0u32;
        let ws = loop {
            let delay =
                (options.initial_backoff.saturating_mul(1u32 << failures.min(16))).min(options.max_backoff);
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            match client.connect_ws(&resume, Some(199)).await {
                Ok(ws) => break ws,
                Err(e) => {
                    failures += 1;
                    tracing::debug!(error = %e, failures, "watch reconnection failed");
                    if options.max_reconnects.is_some_and(|max| failures > max) {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        };
        if options.backfill {
            // The socket is open (live messages queue in it); recover what was missed over HTTP.
            let mut backfill = resume.clone();
            backfill.sort_order = Some(SortOrder::Ascending);
            let mut pages = Box::pin(client.stream_messages(&backfill, 200));
            while let Some(item) = pages.next().await {
                match item {
                    Ok(m) => {
                        if !deliver(m, &mut seen, &mut last_time, &tx).await {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "watch backfill failed; relying on the socket history");
                        break;
                    }
                }
            }
        }
        socket = Some(ws);
    }
}

/// Reads frames until the connection drops (true: reconnect) or the reader is gone (false).
async fn read_socket(
    client: &AlephClient,
    ws: &mut Socket,
    options: &WatchOptions,
    seen: &mut Seen,
    last_time: &mut Option<f64>,
    tx: &mpsc::Sender<Result<Message>>,
) -> bool {
    loop {
        let frame = tokio::select! {
            _ = tx.closed() => return false,
            f = tokio::time::timeout(options.idle_timeout, ws.next()) => f,
        };
        let text = match frame {
            Ok(Some(Ok(Frame::Text(t)))) => t.to_string(),
            Ok(Some(Ok(Frame::Binary(b)))) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Some(Ok(Frame::Close(_)))) | Ok(None) => return true,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e, "watch connection dropped");
                return true;
            }
            Err(_) => {
                tracing::debug!("watch connection idle; reconnecting");
                return true;
            }
        };
        if text == "close cmd" {
            return true;
        }
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "watch: frame is not JSON; skipped");
                continue;
            }
        };
        if value.get("item_type").is_none() {
            continue;
        }
        let message = match Message::from_value(&value) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "watch: invalid message skipped");
                continue;
            }
        };
        let message = if client.is_trustless() {
            match client.verify_message(message).await {
                Ok(m) => m,
                Err(e) => {
                    if tx.send(Err(e)).await.is_err() {
                        return false;
                    }
                    continue;
                }
            }
        } else {
            message
        };
        if !deliver(message, seen, last_time, tx).await {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_window_evicts_oldest() {
        let mut s = Seen::new(2);
        let (a, b, c) = (ItemHash::sha256(b"a"), ItemHash::sha256(b"b"), ItemHash::sha256(b"c"));
        assert!(s.insert(&a));
        assert!(!s.insert(&a));
        assert!(s.insert(&b));
        assert!(s.insert(&c));
        assert!(s.insert(&a), "a was evicted");
        assert!(!s.insert(&c));
    }

    #[test]
    fn ws_urls_carry_the_filters() {
        let c = AlephClient::new("https://api2.aleph.im/").unwrap();
        let url = c.ws_url(&MessageFilter::new().channel("A B").content_type("chat"), Some(5)).unwrap();
        assert_eq!(url, "wss://api2.aleph.im/api/ws0/messages?contentTypes=chat&channels=A+B&history=5");
        let c = AlephClient::new("http://127.0.0.1:4024").unwrap();
        assert!(c
            .ws_url(&MessageFilter::new(), None)
            .unwrap()
            .starts_with("ws://127.0.0.1:4024/api/ws0/messages"));
    }
}
