//! From a chain transaction to pipeline submissions (NETWORK.md §4.1–4.2): an `aleph` payload's
//! messages, an `aleph-offchain` archive's messages (fetched from the node's store or its
//! peers), or the one unsigned message of a `smart-contract` event.

use std::time::Duration;

use aleph_core::chain_sync::{ContractMessage, SyncPayload, OFF_CHAIN_SYNC, ON_CHAIN_SYNC, SMART_CONTRACT};
use aleph_core::validate::ProcessingError;
use futures_util::StreamExt;
use rayon::prelude::*;
use serde_json::Value;

use super::monitor::ReaderHandle;
use crate::pipeline::{ChainRef, Intake, Pipeline, Prepared, SubmitError};
use crate::storage::chains::{self as store, ChainTx};
use crate::storage::StorageError;

/// The largest archive a reader fetches.
const MAX_ARCHIVE_BYTES: usize = 256 << 20;
/// How long one archive fetch may take.
const ARCHIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at a missing archive before the transaction is skipped (backoff doubling from 30 s).
const ARCHIVE_ATTEMPTS: u32 = 8;
/// Submissions in flight at once.
const IN_FLIGHT: usize = 512;

/// What became of a transaction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Messages handed to the pipeline.
    pub(super) submitted: usize,
    /// Messages or events skipped (recorded with the reason).
    pub(super) skipped: usize,
    /// The archive is not available yet: the transaction was deferred.
    pub(super) deferred: bool,
}

/// The content recorded for a contract message event, as the reference keeps it.
pub(super) fn contract_content(timestamp: f64, address: &str, msgtype: &str, msgcontent: &str) -> Value {
    serde_json::json!({"timestamp": timestamp, "address": address, "type": msgtype, "content": msgcontent})
}

/// Records `tx` and submits its messages. `attempts`: how often its archive was already missed.
pub(super) async fn process(
    pipeline: &Pipeline,
    monitor: &ReaderHandle,
    tx: ChainTx,
    attempts: u32,
) -> Result<Outcome, StorageError> {
    let recorded = tx.clone();
    pipeline.db().write(move |t| store::record_tx(t, &recorded)).await?;
    let (envelopes, unsigned) = match tx.protocol.as_str() {
        SMART_CONTRACT => match contract_envelope(&tx) {
            Some(e) => (vec![e], true),
            None => {
                return skip(pipeline, monitor, &tx, "smart-contract event without address/type/content")
                    .await
            }
        },
        ON_CHAIN_SYNC => match tx.content.get("messages").and_then(Value::as_array) {
            Some(list) => (list.clone(), false),
            None => return skip(pipeline, monitor, &tx, "aleph payload without a message list").await,
        },
        OFF_CHAIN_SYNC => {
            let Some(hash) = tx.content.as_str().map(str::to_owned) else {
                return skip(pipeline, monitor, &tx, "aleph-offchain payload without an archive hash").await;
            };
            match fetch_archive(pipeline, &hash).await {
                Some(bytes) => match SyncPayload::parse(&bytes) {
                    Ok(SyncPayload::Messages(list)) => {
                        let (chain, h, file, size) =
                            (tx.chain.clone(), tx.hash.clone(), hash.clone(), bytes.len());
                        pipeline
                            .db()
                            .write(move |t| {
                                store::undefer_tx(t, &chain, &h)?;
                                store::pin_archive(t, &file, size as u64, &h)
                            })
                            .await?;
                        (list, false)
                    }
                    Ok(SyncPayload::Archive(_)) => {
                        return skip(pipeline, monitor, &tx, &format!("archive {hash} names another archive"))
                            .await
                    }
                    Err(e) => return skip(pipeline, monitor, &tx, &format!("archive {hash}: {e}")).await,
                },
                None if attempts + 1 >= ARCHIVE_ATTEMPTS => {
                    let (chain, h) = (tx.chain.clone(), tx.hash.clone());
                    pipeline.db().write(move |t| store::undefer_tx(t, &chain, &h)).await?;
                    let reason = format!("archive {hash} unavailable after {ARCHIVE_ATTEMPTS} attempts");
                    return skip(pipeline, monitor, &tx, &reason).await;
                }
                None => {
                    let next = crate::pipeline::now() + 30.0 * 2f64.powi(attempts as i32);
                    let (chain, h) = (tx.chain.clone(), tx.hash.clone());
                    pipeline.db().write(move |t| store::defer_tx(t, &chain, &h, attempts + 1, next)).await?;
                    tracing::info!(chain = %tx.chain, tx = %tx.hash, archive = %hash, "archive unavailable; retrying later");
                    return Ok(Outcome { deferred: true, ..Outcome::default() });
                }
            }
        }
        other => return skip(pipeline, monitor, &tx, &format!("unknown protocol {other:?}")).await,
    };
    submit_all(pipeline, monitor, &tx, envelopes, unsigned).await
}

/// The unsigned envelope of a recorded smart-contract transaction.
fn contract_envelope(tx: &ChainTx) -> Option<Value> {
    let c = &tx.content;
    let event = ContractMessage {
        chain: &tx.chain,
        address: c.get("address")?.as_str()?,
        msgtype: c.get("type")?.as_str()?,
        msgcontent: c.get("content")?.as_str()?,
        event_time: c.get("timestamp").and_then(Value::as_f64).unwrap_or(tx.time),
        tx_time: tx.time,
    };
    Some(event.envelope())
}

/// Prepares the envelopes on every core, then submits them with many in flight: the intake
/// writer records them in batches.
async fn submit_all(
    pipeline: &Pipeline,
    monitor: &ReaderHandle,
    tx: &ChainTx,
    envelopes: Vec<Value>,
    unsigned: bool,
) -> Result<Outcome, StorageError> {
    let chain = ChainRef { chain: tx.chain.clone(), tx_hash: tx.hash.clone(), unsigned };
    let r = chain.clone();
    let prepared: Vec<(Value, Result<Prepared, SubmitError>)> = tokio::task::spawn_blocking(move || {
        envelopes.into_par_iter().map(|raw| (raw.clone(), Prepared::from_chain(raw, r.clone()))).collect()
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))?;
    let mut outcome = Outcome::default();
    let mut bad = Vec::new();
    let mut ready = Vec::with_capacity(prepared.len());
    for (raw, p) in prepared {
        match p {
            Ok(p) => ready.push(p),
            Err(SubmitError::Envelope(e)) => bad.push((raw, e.to_string())),
            Err(e) => return Err(StorageError::Task(e.to_string())),
        }
    }
    let mut results =
        futures_util::stream::iter(ready.into_iter().map(|p| pipeline.submit_prepared_chain(p)))
            .buffer_unordered(IN_FLIGHT);
    while let Some(result) = results.next().await {
        match result {
            Ok(Intake::Rejected(_)) | Ok(Intake::Queued) | Ok(Intake::Known(_)) => outcome.submitted += 1,
            Err(SubmitError::Storage(e)) => return Err(e),
            Err(e) => return Err(StorageError::Task(e.to_string())),
        }
    }
    drop(results);
    if !bad.is_empty() {
        outcome.skipped += bad.len();
        monitor.skipped(bad.len() as u64);
        let t = tx.clone();
        pipeline
            .db()
            .write(move |w| {
                let now = crate::pipeline::now();
                for (raw, reason) in &bad {
                    let reason = format!("bad message: {reason}");
                    store::record_skip(w, &t.chain, &t.hash, t.height, &reason)?;
                    // A message with a readable item hash is queryable as rejected (code 0).
                    if let Some(h) = raw.get("item_hash").and_then(Value::as_str) {
                        let error = ProcessingError::invalid_format(reason.clone());
                        crate::pipeline::record_rejection(w, h, raw, &error, now)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    Ok(outcome)
}

/// Records a skipped transaction with its reason.
async fn skip(
    pipeline: &Pipeline,
    monitor: &ReaderHandle,
    tx: &ChainTx,
    reason: &str,
) -> Result<Outcome, StorageError> {
    tracing::warn!(chain = %tx.chain, tx = %tx.hash, reason, "chain transaction skipped");
    monitor.skipped(1);
    let (chain, hash, height, reason) = (tx.chain.clone(), tx.hash.clone(), tx.height, reason.to_owned());
    pipeline.db().write(move |t| store::record_skip(t, &chain, &hash, height, &reason)).await?;
    Ok(Outcome { skipped: 1, ..Outcome::default() })
}

/// Records a skipped event that is not a transaction of ours (bad ABI data, an emitter that is
/// not authorized).
pub(super) async fn skip_event(
    pipeline: &Pipeline,
    monitor: &ReaderHandle,
    chain: &str,
    tx_hash: &str,
    height: u64,
    reason: &str,
) -> Result<(), StorageError> {
    tracing::info!(chain, tx = tx_hash, reason, "chain event skipped");
    monitor.skipped(1);
    let (chain, hash, reason) = (chain.to_owned(), tx_hash.to_owned(), reason.to_owned());
    pipeline.db().write(move |t| store::record_skip(t, &chain, &hash, height, &reason)).await
}

/// An archive's bytes: from the node's store, else from IPFS and HTTP peers (checked against
/// `hash`, kept in the store).
async fn fetch_archive(pipeline: &Pipeline, hash: &str) -> Option<bytes::Bytes> {
    if let Ok(Some(b)) = pipeline.files().get(hash).await {
        return Some(b);
    }
    let bytes = tokio::time::timeout(ARCHIVE_TIMEOUT, pipeline.fetch_missing(hash)).await.ok()??;
    (bytes.len() <= MAX_ARCHIVE_BYTES).then_some(bytes)
}
