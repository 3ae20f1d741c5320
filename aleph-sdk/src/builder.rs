//! [`ClientBuilder`]: node URLs, timeouts, retries and identity of an [`AlephClient`].

use std::sync::Arc;
use std::time::Duration;

use crate::client::{AlephClient, ClientInner};
use crate::error::{ClientError, Result};
use crate::http::{Http, RetryPolicy};
use crate::ws::WatchOptions;

/// The official SDKs' default API server.
pub const DEFAULT_API_URL: &str = "https://api2.aleph.im";

/// The default URL of a local node (`aleph-node` listens there).
pub const LOCAL_NODE_URL: &str = "http://127.0.0.1:4024";

/// The environment variable that names the node, for the `aleph` command (`--ccn`) and the
/// examples alike: a URL (the command also takes a profile name there).
pub const NODE_ENV: &str = "ALEPH_CCN";

/// The older name of [`NODE_ENV`], still read when it is unset.
pub const NODE_ENV_ALIAS: &str = "ALEPH_NODE_URL";

/// The node named by the environment: [`NODE_ENV`] (`ALEPH_CCN`), else [`NODE_ENV_ALIAS`]
/// (`ALEPH_NODE_URL`); empty values count as unset.
///
/// ```
/// let url = aleph_sdk::node_from_env().unwrap_or_else(|| aleph_sdk::LOCAL_NODE_URL.to_owned());
/// assert!(!url.is_empty());
/// ```
pub fn node_from_env() -> Option<String> {
    [NODE_ENV, NODE_ENV_ALIAS]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// The user agent sent unless another is set.
pub const DEFAULT_USER_AGENT: &str = concat!("aleph-sdk-rust/", env!("CARGO_PKG_VERSION"));

/// Configures an [`AlephClient`]; start with [`AlephClient::builder`].
///
/// ```
/// use std::time::Duration;
/// use aleph_sdk::AlephClient;
///
/// let client = AlephClient::builder("http://127.0.0.1:4024")
///     .fallback("https://api2.aleph.im")
///     .timeout(Duration::from_secs(20))
///     .retries(2)
///     .user_agent("my-app/1.0")
///     .trustless(true)
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:4024");
/// # Ok::<_, aleph_sdk::ClientError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    urls: Vec<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    retry: RetryPolicy,
    user_agent: String,
    trustless: bool,
    watch: WatchOptions,
    http_client: Option<reqwest::Client>,
}

impl ClientBuilder {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            urls: vec![url.into()],
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            trustless: false,
            watch: WatchOptions::default(),
            http_client: None,
        }
    }

    /// Adds a node URL to fall back to when the current one fails (connection errors, timeouts
    /// and 5xx answers of idempotent requests).
    pub fn fallback(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// The total time one ordinary request may take (default 30 s). File transfers are bounded
    /// by the read timeout instead, so that large files can take as long as they need.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No total timeout on ordinary requests.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The time to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest silence while reading a response (default 60 s), for every request.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Retries after a failed attempt (default 3); see [`RetryPolicy`].
    pub fn retries(mut self, max_retries: u32) -> Self {
        self.retry.max_retries = max_retries;
        self
    }

    /// The backoff between retries: `initial` doubled each time, at most `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max;
        self
    }

    /// The whole retry policy at once.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header (default `aleph-sdk-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Trustless mode: every fetched message is checked (signature, and item hash against its
    /// content, fetching non-inline content) before it is returned, and calls fail with
    /// [`ClientError::Unverified`], [`ClientError::IntegrityMismatch`] or
    /// [`ClientError::Unverifiable`] otherwise.
    pub fn trustless(mut self, on: bool) -> Self {
        self.trustless = on;
        self
    }

    /// Default options of [`AlephClient::watch`] subscriptions.
    pub fn watch_options(mut self, options: WatchOptions) -> Self {
        self.watch = options;
        self
    }

    /// Sends every HTTP request through `client` (a proxy, custom roots, a shared pool…)
    /// instead of one this builder makes. The client's own connect and read timeouts, user
    /// agent and TLS settings then apply: [`ClientBuilder::connect_timeout`],
    /// [`ClientBuilder::read_timeout`] and the user agent of [`ClientBuilder::user_agent`] are
    /// not applied to it (the user agent is still sent on WebSocket subscriptions), while the
    /// total [`ClientBuilder::timeout`] of ordinary requests, retries and fallbacks are.
    ///
    /// ```
    /// let http = aleph_sdk::reqwest::Client::builder().pool_max_idle_per_host(4).build()?;
    /// let client = aleph_sdk::AlephClient::builder("http://127.0.0.1:4024").http_client(http).build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:4024");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Builds the client. Fails on a URL that is not `http(s)://…` or when the TLS backend
    /// cannot be set up.
    pub fn build(self) -> Result<AlephClient> {
        let mut bases = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            bases.push(normalize_base(url)?);
        }
        let client = match self.http_client {
            Some(client) => client,
            None => {
                let mut http = reqwest::Client::builder()
                    .user_agent(self.user_agent.clone())
                    .connect_timeout(self.connect_timeout)
                    .use_rustls_tls();
                if let Some(t) = self.read_timeout {
                    http = http.read_timeout(t);
                }
                http.build()?
            }
        };
        let inner = ClientInner {
            http: Http::new(client, bases, self.retry, self.timeout),
            trustless: self.trustless,
            user_agent: self.user_agent,
            watch: self.watch,
        };
        Ok(AlephClient { inner: Arc::new(inner) })
    }
}

/// Checks a node URL and strips its trailing slashes.
fn normalize_base(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| ClientError::InvalidArgument(format!("node URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ClientError::InvalidArgument(format!("node URL {url:?} must be http(s)://host[:port]")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_trimmed() {
        assert_eq!(normalize_base("http://127.0.0.1:4024/").unwrap(), "http://127.0.0.1:4024");
        assert_eq!(normalize_base("https://api2.aleph.im").unwrap(), "https://api2.aleph.im");
        assert!(normalize_base("ftp://x").is_err());
        assert!(normalize_base("not a url").is_err());
        let c = AlephClient::builder("http://a:1/").fallback("http://b:2").build().unwrap();
        assert_eq!(c.base_urls(), ["http://a:1", "http://b:2"]);
    }
}
