//! [`AlephClient`]: one cheap-to-clone handle, with the API areas in their own files.
//!
//! | area | file | calls |
//! | --- | --- | --- |
//! | messages | `messages.rs` | list (pages, cursors, streams), get with status, submit, wait |
//! | posts | `posts.rs` | v0/v1 listings, create, amend |
//! | aggregates | `aggregates.rs` | read raw or typed, list, write |
//! | storage | `storage.rs` | uploads (native, IPFS, authenticated, streamed from disk), verified downloads |
//! | programs and instances | `vms.rs` | package a directory, STORE it, PROGRAM; INSTANCE |
//! | accounts | `accounts.rs` | balance, stats, files, version |
//! | prices | `prices.rs` | estimates, stored costs |
//! | authorizations | `authorizations.rs` | the `security` aggregate: list, add, revoke |

use std::sync::Arc;
use std::time::Duration;

use aleph_core::{PendingMessage, Signer};

use crate::builder::ClientBuilder;
use crate::compose::{Composed, MessageBuilder, StorageEngine};
use crate::error::Result;
use crate::http::Http;
use crate::types::Submitted;
use crate::ws::WatchOptions;

mod accounts;
mod aggregates;
mod authorizations;
mod messages;
mod posts;
mod prices;
mod storage;
mod vms;

pub use storage::{Progress, ProgressFn, StoreOptions};
pub use vms::{package_directory, ProgramPublished};

/// An async client of one Aleph node (with fallbacks). Cloning is cheap and shares the
/// connection pool.
///
/// ```no_run
/// # async fn run() -> aleph_sdk::Result<()> {
/// use aleph_sdk::{AlephClient, MessageFilter, core::MessageType};
/// let client = AlephClient::new("http://127.0.0.1:4024")?;
/// let page = client.get_messages(&MessageFilter::new().message_type(MessageType::Post), 1, 20).await?;
/// println!("{} posts in all", page.total);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AlephClient {
    pub(crate) inner: Arc<ClientInner>,
}

#[derive(Debug)]
pub(crate) struct ClientInner {
    pub(crate) http: Http,
    pub(crate) trustless: bool,
    pub(crate) user_agent: String,
    pub(crate) watch: WatchOptions,
}

/// How a message is submitted ([`AlephClient::submit`], and every call that publishes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SubmitMode {
    /// Return as soon as the node has accepted the message for processing (default, as the
    /// Python SDK's `sync=False`).
    #[default]
    Async,
    /// Ask the node to answer once the message is processed (it may still answer `pending`).
    Sync,
    /// Submit, then poll until the message is processed or rejected, failing with
    /// [`crate::ClientError::WaitTimeout`] after the duration.
    WaitProcessed(Duration),
}

impl SubmitMode {
    /// How long a message another one depends on waits for processing when it is submitted in
    /// this mode without a wait of its own (the code STORE of a program).
    pub const DEPENDENCY_WAIT: Duration = Duration::from_secs(60);

    /// The mode for a message that a later one depends on: it must be processed first, so it
    /// waits, for as long as this mode waits or [`SubmitMode::DEPENDENCY_WAIT`].
    pub fn for_dependency(self) -> SubmitMode {
        match self {
            SubmitMode::WaitProcessed(t) => SubmitMode::WaitProcessed(t),
            SubmitMode::Async | SubmitMode::Sync => SubmitMode::WaitProcessed(Self::DEPENDENCY_WAIT),
        }
    }
}

impl AlephClient {
    /// A builder for a client of the node at `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// A client of the node at `url` with the default settings.
    pub fn new(url: impl Into<String>) -> Result<Self> {
        Self::builder(url).build()
    }

    /// The node URL in use.
    pub fn base_url(&self) -> &str {
        self.inner.http.base()
    }

    /// Every configured node URL, the primary first.
    pub fn base_urls(&self) -> &[String] {
        self.inner.http.bases()
    }

    /// Whether fetched messages are verified before they are returned.
    pub fn is_trustless(&self) -> bool {
        self.inner.trustless
    }

    pub(crate) fn http(&self) -> &Http {
        &self.inner.http
    }

    /// Composes, signs and submits a message: content too large to inline is first uploaded
    /// (`storage/add_json` or `ipfs/add_json`, as the Python SDK does).
    pub async fn publish<S: Signer + Sync>(
        &self,
        signer: &S,
        builder: &MessageBuilder,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let pending = self.sign(signer, builder).await?;
        self.submit(&pending, mode).await
    }

    /// Composes and signs a message without submitting it, uploading its content first when it
    /// is too large to inline (the only I/O).
    pub async fn sign<S: Signer + Sync>(
        &self,
        signer: &S,
        builder: &MessageBuilder,
    ) -> Result<PendingMessage> {
        match builder.compose(signer.address())? {
            Composed::Inline(unsigned) => Ok(signer.sign(unsigned)?),
            Composed::Upload(upload) => {
                let value = upload.content_value()?;
                let hash = match upload.engine {
                    StorageEngine::Storage => self.upload_json(&value).await?,
                    StorageEngine::Ipfs => self.ipfs_upload_json(&value).await?,
                };
                MessageBuilder::build_stored(upload, hash, signer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn dependencies_wait_for_processing() {
        let own = SubmitMode::WaitProcessed(Duration::from_secs(5));
        assert_eq!(own.for_dependency(), own);
        for mode in [SubmitMode::Async, SubmitMode::Sync] {
            assert_eq!(mode.for_dependency(), SubmitMode::WaitProcessed(SubmitMode::DEPENDENCY_WAIT));
        }
    }

    /// Every public call's future is `Send`, so clients can be used from spawned tasks (checked
    /// at compile time; the futures are never polled).
    #[tokio::test]
    async fn futures_are_send() {
        let c = AlephClient::new("http://127.0.0.1:1").unwrap();
        let s = aleph_core::chain::ethereum::EthereumSigner::from_hex(&"ac".repeat(32)).unwrap();
        let p = MessageBuilder::post("t", 1).build(&s).unwrap();
        check_send(&c, &s, &p);
    }

    fn check_send(c: &AlephClient, s: &aleph_core::chain::ethereum::EthereumSigner, p: &PendingMessage) {
        let f = crate::MessageFilter::new();
        let b = MessageBuilder::post("t", 1);
        let h = aleph_core::ItemHash::sha256(b"");
        assert_send(&c.get_messages(&f, 1, 1));
        assert_send(&c.get_messages_cursor(&f, None, 1));
        assert_send(&c.get_message(&h));
        assert_send(&c.get_message_with_status(&h));
        assert_send(&c.publish(s, &b, SubmitMode::Async));
        assert_send(&c.submit(p, SubmitMode::Sync));
        assert_send(&c.submit(p, SubmitMode::WaitProcessed(Duration::from_secs(1))));
        assert_send(&c.download(&h));
        assert_send(&c.get_aggregate_value("a", "k"));
        assert_send(&c.get_balance("a"));
        assert_send(&c.get_posts(&crate::PostFilter::new(), 1, 1));
        assert_send(&c.watch(&f));
        assert_send(&c.stream_messages(&f, 10));
    }
}
