//! The one HTTP transport every call goes through: base URLs with fallbacks, timeouts, the user
//! agent, and retries with exponential backoff.
//!
//! Retried: connection failures (for every method: the request never reached a node), and for
//! idempotent requests also timeouts, broken connections and 5xx answers. Each retry moves to the
//! next fallback URL, and the URL that last worked is kept for later calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ClientError, Result};

/// How failed requests are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying). With fallback URLs, every URL is
    /// still tried at least once.
    pub max_retries: u32,
    /// The wait before the first retry; doubled before each next one.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based), with up to 25% of jitter removed so that
    /// many clients do not retry in lockstep.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let base = self.initial_backoff.saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX));
        let capped = base.min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = capped.mul_f64(f64::from(nanos % 250) / 1000.0);
        capped.saturating_sub(jitter)
    }
}

/// Whether a request may be repeated without changing its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Reads (and submissions of content-addressed data): retried on any transient failure.
    Idempotent,
    /// Retried only when the connection could not be made.
    ConnectOnly,
}

/// The transport: a reqwest client plus the node URLs.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    bases: Vec<String>,
    current: AtomicUsize,
    retry: RetryPolicy,
    request_timeout: Option<Duration>,
}

impl Http {
    pub(crate) fn new(
        client: reqwest::Client,
        bases: Vec<String>,
        retry: RetryPolicy,
        request_timeout: Option<Duration>,
    ) -> Self {
        Http { client, bases, current: AtomicUsize::new(0), retry, request_timeout }
    }

    /// The node URL in use (the first one, or the fallback that last answered).
    pub(crate) fn base(&self) -> &str {
        let i = self.current.load(Ordering::Relaxed) % self.bases.len().max(1);
        self.bases.get(i).map(String::as_str).unwrap_or("")
    }

    /// Every configured node URL.
    pub(crate) fn bases(&self) -> &[String] {
        &self.bases
    }

    /// Sends a request built by `build` (called again for each attempt with the full URL) and
    /// returns the response of the last attempt, whatever its status.
    pub(crate) async fn send<F>(
        &self,
        method: Method,
        path: &str,
        idem: Idempotency,
        build: F,
    ) -> Result<Response>
    where
        F: Fn(RequestBuilder) -> Result<RequestBuilder>,
    {
        let n = self.bases.len().max(1);
        let attempts = (self.retry.max_retries as usize + 1).max(n);
        let mut last_err: Option<ClientError> = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.retry.backoff(attempt as u32 - 1)).await;
            }
            let idx = self.current.load(Ordering::Relaxed) % n;
            let url = format!("{}{}", self.bases.get(idx).map(String::as_str).unwrap_or(""), path);
            let request = build(self.client.request(method.clone(), &url))?;
            let is_last = attempt + 1 == attempts;
            match request.send().await {
                Ok(resp)
                    if is_retryable_status(resp.status()) && idem == Idempotency::Idempotent && !is_last =>
                {
                    tracing::debug!(%url, status = %resp.status(), attempt, "retrying after server error");
                    self.rotate(idx);
                    last_err = None;
                }
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let retryable = e.is_connect() || (idem == Idempotency::Idempotent && !e.is_builder());
                    tracing::debug!(%url, error = %e, attempt, retryable, "request failed");
                    let err =
                        if e.is_timeout() { ClientError::Timeout { url } } else { ClientError::Transport(e) };
                    if !retryable {
                        return Err(err);
                    }
                    self.rotate(idx);
                    last_err = Some(err);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| ClientError::InvalidArgument("no node URL configured".into())))
    }

    fn rotate(&self, from: usize) {
        let n = self.bases.len().max(1);
        let _ = self.current.compare_exchange(from, (from + 1) % n, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// A GET with query parameters, retried, with the default request timeout.
    pub(crate) async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Response> {
        let timeout = self.request_timeout;
        self.send(Method::GET, path, Idempotency::Idempotent, |rb| {
            let rb = rb.query(query);
            Ok(match timeout {
                Some(t) => rb.timeout(t),
                None => rb,
            })
        })
        .await
    }

    /// A GET whose JSON body is decoded into `T`; 404 is [`ClientError::NotFound`].
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T> {
        let resp = self.get(path, query).await?;
        json_of(check(resp, path).await?).await
    }

    /// A POST of a JSON body (retried on connection failures only unless `idem` says otherwise).
    pub(crate) async fn post_json<B: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        idem: Idempotency,
    ) -> Result<Response> {
        let bytes = serde_json::to_vec(body)?;
        let timeout = self.request_timeout;
        self.send(Method::POST, path, idem, |rb| {
            let rb = rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes.clone());
            Ok(match timeout {
                Some(t) => rb.timeout(t),
                None => rb,
            })
        })
        .await
    }
}

fn is_retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 500 | 502 | 503 | 504)
}

/// Turns non-success statuses into errors: 404 → [`ClientError::NotFound`], others →
/// [`ClientError::Http`] with the start of the body.
pub(crate) async fn check(resp: Response, what: &str) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    if status == StatusCode::NOT_FOUND {
        return Err(ClientError::NotFound { what: what.to_owned() });
    }
    Err(http_error(resp).await)
}

/// The [`ClientError::Http`] of a response (reads its body).
pub(crate) async fn http_error(resp: Response) -> ClientError {
    let status = resp.status().as_u16();
    let url = resp.url().to_string();
    let body = resp.text().await.unwrap_or_default();
    ClientError::Http { status, url, body: body.chars().take(1000).collect() }
}

/// Decodes a response's JSON body, reporting malformed JSON as [`ClientError::Decode`].
pub(crate) async fn json_of<T: DeserializeOwned>(resp: Response) -> Result<T> {
    let url = resp.url().to_string();
    let bytes = resp.bytes().await.map_err(|e| {
        if e.is_timeout() {
            ClientError::Timeout { url: url.clone() }
        } else {
            ClientError::Transport(e)
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode { url, reason: e.to_string() })
}

/// Joins query values the way the API takes lists: comma-separated.
pub(crate) fn join<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(s.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let b0 = p.backoff(0);
        assert!(b0 <= Duration::from_millis(100) && b0 >= Duration::from_millis(75), "{b0:?}");
        let b1 = p.backoff(1);
        assert!(b1 <= Duration::from_millis(200) && b1 >= Duration::from_millis(150), "{b1:?}");
        assert!(p.backoff(10) <= Duration::from_millis(350));
        assert!(p.backoff(40) <= Duration::from_millis(350));
    }

    #[test]
    fn lists_are_comma_separated() {
        assert_eq!(join(["a", "b", "c"]), "a,b,c");
        assert_eq!(join(Vec::<String>::new()), "");
    }
}
