//! The message pipeline: intake records a message durably before it is acknowledged; the
//! processor verifies, checks and applies pending messages in batches, one transaction per batch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
pub mod gc;
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
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::P2p => "p2p",
        }
    }
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

/// The current time in float seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

struct IntakeJob {
    message: PendingMessage,
    raw: Value,
    origin: Origin,
    rejection: Option<ProcessingError>,
    reply: oneshot::Sender<Result<Intake, StorageError>>,
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
    pub(crate) config: NodeConfig,
    events: broadcast::Sender<Event>,
    intake: mpsc::Sender<IntakeJob>,
    wake: Notify,
    rng: AtomicU64,
}

impl Pipeline {
    /// Creates the pipeline and spawns its intake writer and processor under `token`.
    pub(crate) fn start(
        db: Db,
        files: Arc<dyn FileStore>,
        config: NodeConfig,
        token: CancellationToken,
        tasks: &mut crate::tasks::TaskManager,
    ) -> Self {
        let (intake_tx, intake_rx) = mpsc::channel(4096);
        let (events, _) = broadcast::channel(16_384);
        let seed = (now() * 1e6) as u64 | 1;
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                db,
                files,
                config,
                events,
                intake: intake_tx,
                wake: Notify::new(),
                rng: AtomicU64::new(seed),
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
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The file store.
    pub fn files(&self) -> &Arc<dyn FileStore> {
        &self.inner.files
    }

    /// The node configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// Subscribes to processing outcomes (subscribe before submitting to never miss one).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Submits a message (the pending envelope as JSON). Parses it with the reference intake
    /// rules, validates inline content, and records it durably before returning.
    pub async fn submit(&self, raw: Value, origin: Origin) -> Result<(PendingMessage, Intake), SubmitError> {
        let message = PendingMessage::from_value(&raw)?;
        let rejection = aleph_core::validate::validate_pending(&message).err();
        let (reply, rx) = oneshot::channel();
        self.inner
            .intake
            .send(IntakeJob { message: message.clone(), raw, origin, rejection, reply })
            .await
            .map_err(|_| SubmitError::ShuttingDown)?;
        let intake = rx.await.map_err(|_| SubmitError::ShuttingDown)??;
        if intake == Intake::Queued {
            self.inner.wake.notify_one();
        }
        Ok((message, intake))
    }

    /// The intake writer: records submissions in batches, one transaction per batch.
    async fn run_intake(
        self,
        mut rx: mpsc::Receiver<IntakeJob>,
        token: CancellationToken,
    ) -> Result<(), String> {
        let mut jobs = Vec::with_capacity(256);
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                n = rx.recv_many(&mut jobs, 256) => if n == 0 { break },
            }
            let batch: Vec<IntakeJob> = std::mem::take(&mut jobs);
            let rows: Vec<IntakeRow> = batch
                .iter()
                .map(|j| IntakeRow {
                    item_hash: j.message.item_hash.to_string(),
                    sender: j.message.sender.clone(),
                    signature: j.message.signature.clone().unwrap_or_default(),
                    json: serde_json::to_string(&j.message).unwrap_or_default(),
                    origin: j.origin.as_str(),
                    time: j.message.time,
                    rejection: j.rejection.clone(),
                    raw: j.raw.clone(),
                })
                .collect();
            let result = self
                .inner
                .db
                .write(move |tx| {
                    let now = now();
                    rows.into_iter().map(|row| intake_one(tx, now, row)).collect::<Result<Vec<_>, _>>()
                })
                .await;
            match result {
                Ok(outcomes) => {
                    for (job, outcome) in batch.into_iter().zip(outcomes) {
                        if let Intake::Rejected(e) = &outcome {
                            let _ = self.inner.events.send(Event::Rejected {
                                item_hash: job.message.item_hash.to_string(),
                                code: e.code(),
                            });
                        }
                        let _ = job.reply.send(Ok(outcome));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for job in batch {
                        let _ = job.reply.send(Err(StorageError::Task(msg.clone())));
                    }
                }
            }
        }
        Ok(())
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
        .query_row("SELECT status FROM message_status WHERE item_hash = ?1", [item_hash], |r| r.get(0))
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

/// One submission, as the intake writer records it.
struct IntakeRow {
    item_hash: String,
    sender: String,
    signature: String,
    /// The pending envelope as JSON.
    json: String,
    origin: &'static str,
    time: f64,
    rejection: Option<ProcessingError>,
    /// The message as received.
    raw: Value,
}

fn intake_one(tx: &rusqlite::Transaction<'_>, now: f64, row: IntakeRow) -> Result<Intake, StorageError> {
    let IntakeRow { item_hash, sender, signature, json, origin, time, rejection, raw } = row;
    let item_hash = item_hash.as_str();
    let status = status_of(tx, item_hash)?;
    match status {
        None | Some(MessageStatus::Rejected) => {}
        Some(known) => return Ok(Intake::Known(known)),
    }
    if let Some(error) = rejection {
        record_rejection(tx, item_hash, &raw, &error, now)?;
        return Ok(Intake::Rejected(error));
    }
    let next_attempt = if time.is_finite() { time.min(now) } else { now };
    tx.prepare_cached("INSERT OR IGNORE INTO pending_messages (item_hash, sender, signature, message, origin, reception_time, next_attempt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(
        params![item_hash, sender, signature, json, origin, now, next_attempt],
    )?;
    tx.prepare_cached(
        "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, 'pending', ?2)
         ON CONFLICT (item_hash) DO UPDATE SET status = 'pending', reception_time = excluded.reception_time",
    )?
    .execute(params![item_hash, now])?;
    tx.prepare_cached("DELETE FROM rejected_messages WHERE item_hash = ?1")?.execute([item_hash])?;
    Ok(Intake::Queued)
}
