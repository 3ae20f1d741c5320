//! The message pipeline: intake records a message durably before it is acknowledged; the
//! processor verifies, checks and applies pending messages in batches, one transaction per batch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aleph_core::message::{EnvelopeError, MessageStatus, PendingMessage};
use aleph_core::validate::ProcessingError;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::config::NodeConfig;
use crate::storage::{Db, FileStore, StorageError};

mod events;
pub(crate) mod gc;
pub(crate) mod handlers;
mod process;

pub use events::Event;

/// Where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Submitted to this node's HTTP API.
    Api,
    /// Received from a peer.
    P2p,
    /// Read from a chain transaction by a bridge.
    Chain,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::P2p => "p2p",
            Origin::Chain => "chain",
        }
    }
}

/// The chain transaction a message was read from (NETWORK.md §4.1): once processed, the
/// message carries its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainRef {
    /// The chain label, as recorded in `chain_txs`.
    pub(crate) chain: String,
    /// The transaction hash, as recorded in `chain_txs`.
    pub(crate) tx_hash: String,
    /// A `smart-contract` message: its authenticity is the transaction's, it has no signature.
    pub(crate) unsigned: bool,
}

/// What intake did with a submitted message.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// Recorded as pending; the processor will handle it.
    Queued,
    /// Already known: its current status (a duplicate is not queued again).
    Known(MessageStatus),
    /// Rejected at intake (missing signature, invalid inline content); recorded as rejected.
    Rejected(ProcessingError),
}

/// Why a submission was refused before anything was recorded.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The envelope does not parse (HTTP 422).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Storage failed (HTTP 500).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
}

/// Fetches content this node lacks (non-inline message content, STORE files) from elsewhere —
/// the P2P layer asks its HTTP peers. Implementations return only bytes they have checked
/// against `hash` (sha256 or CID).
pub trait ContentFetcher: Send + Sync + std::fmt::Debug + 'static {
    /// The verified bytes stored under `hash` somewhere else, if they can be had.
    fn fetch<'a>(&'a self, hash: &'a str) -> crate::storage::BoxFuture<'a, Option<bytes::Bytes>>;
}

/// The current time in float seconds.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

struct IntakeJob {
    message: PendingMessage,
    raw: Value,
    origin: Origin,
    chain: Option<ChainRef>,
    verdict: IntakeVerdict,
    reply: oneshot::Sender<Result<Intake, StorageError>>,
}

/// What the submitting task found before handing a message to the intake writer.
enum IntakeVerdict {
    /// Fails the intake checks: recorded as rejected.
    Rejected(ProcessingError),
    /// Inline content decoded and signature verified: judged in the intake transaction.
    Ready { content: Box<handlers::Decoded>, signature: Result<(), String> },
    /// Content stored elsewhere: queued for the processor, which fetches it.
    Queue,
}

/// A submission parsed and checked on the caller's thread, ready for the intake writer: the
/// checks and the signature verification run where the message is submitted, so that they
/// spread over every core, and the intake writer only records and applies.
pub(crate) struct Prepared {
    message: PendingMessage,
    raw: Value,
    verdict: IntakeVerdict,
    chain: Option<ChainRef>,
}

impl Prepared {
    /// Parses `raw` with the reference intake rules, validates inline content and verifies the
    /// signature of inline messages (others are verified once their content is fetched).
    pub(crate) fn new(raw: Value) -> Result<Self, SubmitError> {
        let message = PendingMessage::from_value(&raw)?;
        let verdict = match aleph_core::validate::validate_pending(&message) {
            Err(e) => IntakeVerdict::Rejected(e),
            Ok(Some(decoded)) => IntakeVerdict::Ready {
                content: Box::new(decoded.into()),
                signature: aleph_core::verify_signature(&message.signed_fields()).map_err(|e| e.to_string()),
            },
            Ok(None) => IntakeVerdict::Queue,
        };
        Ok(Prepared { message, raw, verdict, chain: None })
    }

    /// [`Prepared::new`] for a message read from a chain transaction. A `smart-contract`
    /// message (`chain.unsigned`) skips the signature rules: the chain vouches for its sender.
    pub(crate) fn from_chain(raw: Value, chain: ChainRef) -> Result<Self, SubmitError> {
        if !chain.unsigned {
            return Ok(Prepared { chain: Some(chain), ..Prepared::new(raw)? });
        }
        let message = PendingMessage::from_value(&raw)?;
        let verdict = match aleph_core::validate::validate_pending_unsigned(&message) {
            Err(e) => IntakeVerdict::Rejected(e),
            Ok(Some(decoded)) => {
                IntakeVerdict::Ready { content: Box::new(decoded.into()), signature: Ok(()) }
            }
            Ok(None) => IntakeVerdict::Queue,
        };
        Ok(Prepared { message, raw, verdict, chain: Some(chain) })
    }

    /// Why a peer should not have sent this envelope: it fails the intake checks or its
    /// signature (verified here for messages whose content is not inline).
    pub(crate) fn peer_rejection(&self) -> Option<String> {
        match &self.verdict {
            IntakeVerdict::Rejected(e) => Some(e.to_string()),
            IntakeVerdict::Ready { signature, .. } => signature.as_ref().err().cloned(),
            IntakeVerdict::Queue => {
                aleph_core::verify_signature(&self.message.signed_fields()).err().map(|e| e.to_string())
            }
        }
    }
}

/// The pipeline handle: cheap to clone, shared by the API and the P2P layer.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) files: Arc<dyn FileStore>,
    ipfs: Option<Arc<dyn crate::ipfs::IpfsEngine>>,
    pub(crate) config: NodeConfig,
    events: broadcast::Sender<Event>,
    intake: mpsc::Sender<IntakeJob>,
    wake: Notify,
    rng: AtomicU64,
    fetcher: OnceLock<Arc<dyn ContentFetcher>>,
    /// Cancelled when the pipeline's tasks stop: no event will be published any more.
    stop: CancellationToken,
    /// The `corechannel` view, invalidated by the events that can change it.
    corechannel: crate::corechannel::CoreChannel,
    /// What the chain bridges are doing.
    chains: crate::chains::ChainMonitor,
}

impl Pipeline {
    /// Creates the pipeline and spawns its intake writer and processor under `token`.
    pub(crate) fn start(
        db: Db,
        files: Arc<dyn FileStore>,
        ipfs: Option<Arc<dyn crate::ipfs::IpfsEngine>>,
        config: NodeConfig,
        token: CancellationToken,
        tasks: &mut crate::tasks::TaskManager,
    ) -> Self {
        let (intake_tx, intake_rx) = mpsc::channel(4096);
        let (events, _) = broadcast::channel(16_384);
        let seed = (now() * 1e6) as u64 | 1;
        let corechannel = crate::corechannel::CoreChannel::new(db.clone(), config.corechannel.clone());
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                corechannel,
                db,
                files,
                ipfs,
                config,
                events,
                intake: intake_tx,
                wake: Notify::new(),
                rng: AtomicU64::new(seed),
                fetcher: OnceLock::new(),
                stop: token.clone(),
                chains: crate::chains::ChainMonitor::default(),
            }),
        };
        let writer = pipeline.clone();
        let t = token.clone();
        tasks.spawn_critical("intake-writer", async move { writer.run_intake(intake_rx, t).await });
        let processor = pipeline.clone();
        let t = token.clone();
        tasks.spawn_critical("processor", async move { processor.run_processor(t).await });
        let collector = pipeline.clone();
        let every = Duration::from_secs_f64(pipeline.config().processing.gc_interval_secs.max(0.05));
        tasks.spawn_critical("file-gc", async move { gc::run(collector, every, token).await });
        pipeline
    }

    /// The database.
    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The file store.
    pub fn files(&self) -> &Arc<dyn FileStore> {
        &self.inner.files
    }

    /// The IPFS engine, when it runs (`[ipfs] enabled`).
    pub fn ipfs(&self) -> Option<&Arc<dyn crate::ipfs::IpfsEngine>> {
        self.inner.ipfs.as_ref()
    }

    /// The node configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// Deletes every file nothing references any more whose grace period has passed (what the
    /// periodic collection does, now); returns how many were deleted.
    pub async fn collect_files(&self) -> Result<usize, crate::storage::StorageError> {
        gc::collect_files(self).await
    }

    /// The `corechannel` view (nodes and resource nodes of the network), kept current as
    /// operations are processed.
    pub fn corechannel(&self) -> &crate::corechannel::CoreChannel {
        &self.inner.corechannel
    }

    /// Bytes this node lacks, from IPFS peers (bitswap) and HTTP peers at once, kept in the file
    /// store; checked against `hash` (sha256 or CID).
    pub(crate) async fn fetch_missing(&self, hash: &str) -> Option<bytes::Bytes> {
        process::fetch_missing(self, hash).await
    }

    /// What the chain bridges are doing (their tasks register here).
    pub(crate) fn chain_monitor(&self) -> &crate::chains::ChainMonitor {
        &self.inner.chains
    }

    /// Installs where missing content is fetched from (once; later calls are ignored).
    pub fn set_content_fetcher(&self, fetcher: Arc<dyn ContentFetcher>) {
        let _ = self.inner.fetcher.set(fetcher);
    }

    /// Where missing content is fetched from, if anywhere.
    pub(crate) fn content_fetcher(&self) -> Option<&Arc<dyn ContentFetcher>> {
        self.inner.fetcher.get()
    }

    /// Subscribes to processing outcomes (subscribe before submitting to never miss one).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Resolves when the pipeline stops (node shutdown): its event stream is then finished,
    /// though the sender lives on in every handle (such as a websocket session's).
    pub(crate) async fn stopped(&self) {
        self.inner.stop.cancelled().await
    }

    /// Submits a message (the pending envelope as JSON). Parses it with the reference intake
    /// rules, validates inline content, and records it durably before returning.
    pub async fn submit(&self, raw: Value, origin: Origin) -> Result<(PendingMessage, Intake), SubmitError> {
        self.submit_prepared(Prepared::new(raw)?, origin).await
    }

    /// Submits a message read from a chain transaction (prepared with [`Prepared::from_chain`],
    /// its transaction recorded in `chain_txs` beforehand):
    /// processed, it carries the transaction's confirmation; a copy of a processed message
    /// only adds the confirmation.
    pub(crate) async fn submit_prepared_chain(&self, prepared: Prepared) -> Result<Intake, SubmitError> {
        Ok(self.submit_prepared(prepared, Origin::Chain).await?.1)
    }

    /// Records a submission checked beforehand (see [`Prepared::new`]).
    pub(crate) async fn submit_prepared(
        &self,
        prepared: Prepared,
        origin: Origin,
    ) -> Result<(PendingMessage, Intake), SubmitError> {
        let Prepared { message, raw, verdict, chain } = prepared;
        let (reply, rx) = oneshot::channel();
        self.inner
            .intake
            .send(IntakeJob { message: message.clone(), raw, origin, chain, verdict, reply })
            .await
            .map_err(|_| SubmitError::ShuttingDown)?;
        let intake = rx.await.map_err(|_| SubmitError::ShuttingDown)??;
        Ok((message, intake))
    }

    /// The intake writer: records submissions in batches, one transaction per batch, on a thread
    /// of its own. It waits for jobs on the channel itself rather than on a runtime worker: a
    /// worker busy verifying signatures would otherwise leave the writer idle between batches,
    /// and the writer's path, not the cores, bounds intake.
    async fn run_intake(self, rx: mpsc::Receiver<IntakeJob>, token: CancellationToken) -> Result<(), String> {
        let runtime = tokio::runtime::Handle::current();
        let (done, finished) = oneshot::channel();
        std::thread::Builder::new()
            .name("intake-writer".into())
            .spawn(move || {
                self.intake_loop(rx, &token, &runtime);
                let _ = done.send(());
            })
            .map_err(|e| format!("starting the intake writer: {e}"))?;
        finished.await.map_err(|_| "the intake writer panicked".to_string())
    }

    fn intake_loop(
        &self,
        mut rx: mpsc::Receiver<IntakeJob>,
        token: &CancellationToken,
        runtime: &tokio::runtime::Handle,
    ) {
        let mut jobs = Vec::with_capacity(256);
        loop {
            let received = runtime.block_on(async {
                tokio::select! {
                    _ = token.cancelled() => 0,
                    n = rx.recv_many(&mut jobs, 256) => n,
                }
            });
            if received == 0 {
                return;
            }
            let mut replies = Vec::with_capacity(jobs.len());
            let mut rows = Vec::with_capacity(jobs.len());
            for job in jobs.drain(..) {
                replies.push(job.reply);
                rows.push((job.message, job.raw, job.origin, job.chain, job.verdict));
            }
            let result = self.inner.db.write_blocking(|tx| {
                let ctx = handlers::Ctx::new(tx, self.config())?;
                let mut outcomes = Vec::with_capacity(rows.len());
                let mut events = Vec::new();
                let mut waiting = false;
                for (message, raw, origin, chain, verdict) in rows {
                    outcomes.push(intake_one(
                        tx,
                        &ctx,
                        self,
                        message,
                        raw,
                        (origin, chain),
                        verdict,
                        &mut events,
                        &mut waiting,
                    )?);
                }
                Ok((outcomes, events, waiting))
            });
            match result {
                Ok((outcomes, events, waiting)) => {
                    if waiting {
                        // Only for pending rows: the processor has nothing to do for messages
                        // judged in the intake transaction, and waking it costs two queries.
                        self.inner.wake.notify_one();
                    }
                    for event in events {
                        self.emit(event);
                    }
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(e) if e.is_disk_full() => {
                    // Rolled back: nothing of the batch is recorded, nor acknowledged. The next
                    // batch tries again, and succeeds once space returns.
                    tracing::error!(error = %e, "intake refused: the disk is full");
                    for reply in replies {
                        let _ = reply.send(Err(StorageError::DiskFull));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(StorageError::Task(msg.clone())));
                    }
                }
            }
        }
    }

    /// The processor: handles due pending messages until cancelled.
    async fn run_processor(self, token: CancellationToken) -> Result<(), String> {
        loop {
            loop {
                if token.is_cancelled() {
                    return Ok(());
                }
                match process::process_due(&self).await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "processing batch failed; retrying shortly");
                        break;
                    }
                }
            }
            let wait = process::next_due_in(&self).await.unwrap_or(Duration::from_secs(1));
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait.min(Duration::from_secs(5))) => {}
            }
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        // Before anyone hears of the event, so that a reader who did sees the new view.
        self.inner.corechannel.observe(&event);
        let _ = self.inner.events.send(event);
    }

    /// A pseudo-random float in [0, 1) for retry jitter.
    pub(crate) fn jitter(&self) -> f64 {
        let mut x = self.inner.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.inner.rng.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The status of an item hash, if known.
pub(crate) fn status_of(
    conn: &rusqlite::Connection,
    item_hash: &str,
) -> Result<Option<MessageStatus>, StorageError> {
    let s: Option<String> = conn
        .prepare_cached("SELECT status FROM message_status WHERE item_hash = ?1")?
        .query_row([item_hash], |r| r.get(0))
        .optional()?;
    Ok(s.and_then(|s| s.parse().ok()))
}

/// Records a rejection: status `rejected` (unless the hash is known otherwise) and the details.
pub(crate) fn record_rejection(
    tx: &rusqlite::Transaction<'_>,
    item_hash: &str,
    raw: &Value,
    error: &ProcessingError,
    reception_time: f64,
) -> Result<(), StorageError> {
    match status_of(tx, item_hash)? {
        None | Some(MessageStatus::Rejected) | Some(MessageStatus::Pending) => {}
        Some(_) => return Ok(()),
    }
    tx.prepare_cached(
        "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, 'rejected', ?2)
         ON CONFLICT (item_hash) DO UPDATE SET status = 'rejected'",
    )?
    .execute(params![item_hash, reception_time])?;
    tx.prepare_cached("INSERT OR REPLACE INTO rejected_messages (item_hash, message, error_code, details) VALUES (?1, ?2, ?3, ?4)")?.execute(
        params![item_hash, raw.to_string(), error.code(), error.details().to_string()],
    )?;
    Ok(())
}

/// Queues a message for the processor; its status is set apart ([`mark_pending`]).
pub(crate) fn insert_pending(
    tx: &rusqlite::Transaction<'_>,
    message: &PendingMessage,
    (origin, chain): (&str, Option<&ChainRef>),
    reception_time: f64,
    next_attempt: f64,
    retries: u32,
) -> Result<(), StorageError> {
    let item_hash = message.item_hash.as_str();
    tx.prepare_cached(
        "INSERT OR IGNORE INTO pending_messages
             (item_hash, sender, signature, message, origin, reception_time, next_attempt, retries,
              tx_chain, tx_hash, unsigned)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        item_hash,
        message.sender,
        message.signature.as_deref().unwrap_or(""),
        serde_json::to_string(message)?,
        origin,
        reception_time,
        next_attempt,
        retries,
        chain.map(|c| c.chain.as_str()),
        chain.map(|c| c.tx_hash.as_str()),
        chain.is_some_and(|c| c.unsigned),
    ])?;
    Ok(())
}

/// Sets a message's status to pending (with its reception time).
pub(crate) fn mark_pending(
    tx: &rusqlite::Transaction<'_>,
    item_hash: &str,
    reception_time: f64,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, 'pending', ?2)
         ON CONFLICT (item_hash) DO UPDATE SET status = 'pending', reception_time = excluded.reception_time",
    )?
    .execute(params![item_hash, reception_time])?;
    Ok(())
}

/// Intake of one message inside the writer's transaction: the duplicate rule, then a recorded
/// rejection, a message judged on the spot (inline content), or a pending row (then `waiting` is
/// set, for the processor).
#[allow(clippy::too_many_arguments)]
fn intake_one(
    tx: &rusqlite::Transaction<'_>,
    ctx: &handlers::Ctx,
    pipeline: &Pipeline,
    message: PendingMessage,
    raw: Value,
    (origin, chain): (Origin, Option<ChainRef>),
    verdict: IntakeVerdict,
    events: &mut Vec<Event>,
    waiting: &mut bool,
) -> Result<Intake, StorageError> {
    let item_hash = message.item_hash.to_string();
    match status_of(tx, &item_hash)? {
        None | Some(MessageStatus::Rejected) => {}
        Some(known) => {
            // A copy from a chain transaction confirms the message it duplicates (§6.2).
            if let (Some(chain), MessageStatus::Processed | MessageStatus::Removing) = (&chain, known) {
                if process::same_message(tx, &message)? {
                    crate::storage::chains::confirm(tx, &item_hash, &chain.chain, &chain.tx_hash)?;
                }
            }
            return Ok(Intake::Known(known));
        }
    }
    let was_rejected =
        tx.prepare_cached("DELETE FROM rejected_messages WHERE item_hash = ?1")?.execute([&item_hash])? > 0;
    match verdict {
        IntakeVerdict::Rejected(error) => {
            record_rejection(tx, &item_hash, &raw, &error, ctx.now)?;
            events.push(Event::Rejected { item_hash, code: error.code() });
            Ok(Intake::Rejected(error))
        }
        IntakeVerdict::Queue => {
            let time = message.time;
            let next_attempt = if time.is_finite() { time.min(ctx.now) } else { ctx.now };
            insert_pending(tx, &message, (origin.as_str(), chain.as_ref()), ctx.now, next_attempt, 0)?;
            mark_pending(tx, message.item_hash.as_str(), ctx.now)?;
            *waiting = true;
            Ok(Intake::Queued)
        }
        IntakeVerdict::Ready { content, signature } => {
            if was_rejected {
                // A resubmission of a rejected message starts from a clean status.
                tx.prepare_cached("DELETE FROM message_status WHERE item_hash = ?1")?
                    .execute([&item_hash])?;
            }
            let item = process::Item {
                id: None,
                origin: origin.as_str(),
                message,
                raw,
                reception_time: ctx.now,
                retries: 0,
                content: Ok(*content),
                signature,
                chain,
            };
            if let Some(event) = process::process_one(tx, ctx, pipeline, &item)? {
                // A message that must wait for what it depends on got a pending row.
                *waiting |= matches!(event, Event::Retry { .. });
                events.push(event);
            }
            Ok(Intake::Queued)
        }
    }
}
