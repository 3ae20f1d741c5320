//! The sync contract reader of one EVM chain (NETWORK.md §4.3): `SyncEvent`s of authorized
//! emitters (`aleph` and `aleph-offchain` payloads) and `MessageEvent`s (`smart-contract`
//! messages), read with `eth_getLogs` from the last synced height up to head − depth.
//!
//! Deviation: the reference reads `MessageEvent`s through its multichain indexer (§4.4); here
//! both events come from the chain's own RPC, so a node needs no indexer for EVM chains.

use std::collections::HashSet;

use aleph_core::chain_sync::{SyncPayload, SMART_CONTRACT};
use alloy::primitives::Address;
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use tokio_util::sync::CancellationToken;

use super::evm_rpc::{self, LogSource, MessageEvent, SyncEvent};
use super::intake;
use super::monitor::ReaderHandle;
use super::{ChainConfigError, EvmChainConfig};
use crate::pipeline::Pipeline;
use crate::storage::chains::{self as store, ChainTx};
use crate::storage::StorageError;

/// The reader's position in `chain_sync_status`.
pub(super) const KIND: &str = "sync";

pub(super) struct SyncReader {
    chain: String,
    logs: LogSource,
    emitters: HashSet<Address>,
    pipeline: Pipeline,
    monitor: ReaderHandle,
}

/// What one log is.
enum Event {
    Sync(ChainTx),
    Message(ChainTx),
    /// Skipped, with the reason.
    Skip(String),
}

impl super::Poller for SyncReader {
    const NAME: &'static str = "EVM sync reader";

    async fn poll_once(&mut self, token: &CancellationToken) -> Result<(), String> {
        self.poll_inner(token).await
    }
}

impl SyncReader {
    pub(super) fn new(
        c: &EvmChainConfig,
        pipeline: Pipeline,
        monitor: ReaderHandle,
    ) -> Result<Self, ChainConfigError> {
        let emitters = c
            .authorized_emitters
            .iter()
            .map(|e| evm_rpc::address("authorized_emitters", e))
            .collect::<Result<HashSet<_>, _>>()?;
        Ok(SyncReader {
            chain: c.chain.clone(),
            logs: LogSource::new(
                &c.rpc_url,
                evm_rpc::address("sync_contract", &c.sync_contract)?,
                vec![SyncEvent::SIGNATURE_HASH, MessageEvent::SIGNATURE_HASH],
                c.start_height,
                c.confirmation_depth,
                c.max_block_range,
            )?,
            emitters,
            pipeline,
            monitor,
        })
    }

    /// Reads every window up to head − depth, then retries deferred archives.
    async fn poll_inner(&mut self, token: &CancellationToken) -> Result<(), String> {
        let mut scan = self.logs.scan(&self.pipeline, (&self.chain, KIND), &self.monitor).await?;
        self.monitor.progress(scan.next.saturating_sub(1), scan.head);
        while !token.is_cancelled() {
            let Some((logs, end)) = self.logs.next(&mut scan, &self.monitor).await? else { break };
            self.apply(logs).await.map_err(|e| e.to_string())?;
            let chain = self.chain.clone();
            self.pipeline
                .db()
                .write(move |t| store::set_sync_height(t, &chain, KIND, end))
                .await
                .map_err(|e| e.to_string())?;
            self.monitor.progress(end, scan.head);
        }
        self.retry_deferred().await.map_err(|e| e.to_string())
    }

    async fn apply(&self, logs: Vec<Log>) -> Result<(), StorageError> {
        for log in logs {
            let tx_hash = log.transaction_hash.map(|h| h.to_string()).unwrap_or_default();
            let height = log.block_number.unwrap_or_default();
            match self.decode(&log, &tx_hash, height) {
                Event::Sync(tx) | Event::Message(tx) => {
                    let outcome = intake::process(&self.pipeline, &self.monitor, tx, 0).await?;
                    self.monitor.transactions(1);
                    tracing::debug!(chain = %self.chain, tx = %tx_hash, ?outcome, "chain transaction read");
                }
                Event::Skip(reason) => {
                    intake::skip_event(&self.pipeline, &self.monitor, &self.chain, &tx_hash, height, &reason)
                        .await?
                }
            }
        }
        Ok(())
    }

    fn decode(&self, log: &Log, tx_hash: &str, height: u64) -> Event {
        let data = log.data();
        match log.topic0() {
            Some(t) if *t == SyncEvent::SIGNATURE_HASH => {
                let e = match SyncEvent::decode_log_data(data) {
                    Ok(e) => e,
                    Err(err) => return Event::Skip(format!("undecodable SyncEvent: {err}")),
                };
                if !self.emitters.contains(&e.addr) {
                    return Event::Skip(format!(
                        "SyncEvent from {} who is not an authorized emitter",
                        e.addr
                    ));
                }
                let payload = match SyncPayload::parse(e.message.as_bytes()) {
                    Ok(p) => p,
                    Err(err) => return Event::Skip(format!("SyncEvent payload: {err}")),
                };
                let content = match &payload {
                    SyncPayload::Messages(list) => serde_json::json!({ "messages": list }),
                    SyncPayload::Archive(hash) => serde_json::Value::String(hash.clone()),
                };
                Event::Sync(ChainTx {
                    chain: self.chain.clone(),
                    hash: tx_hash.to_owned(),
                    height,
                    time: seconds(e.timestamp),
                    publisher: e.addr.to_string(),
                    protocol: payload.protocol().to_owned(),
                    protocol_version: 1,
                    content,
                })
            }
            Some(t) if *t == MessageEvent::SIGNATURE_HASH => {
                let e = match MessageEvent::decode_log_data(data) {
                    Ok(e) => e,
                    Err(err) => return Event::Skip(format!("undecodable MessageEvent: {err}")),
                };
                let time = seconds(e.timestamp);
                let address = e.addr.to_string();
                Event::Message(ChainTx {
                    chain: self.chain.clone(),
                    hash: tx_hash.to_owned(),
                    height,
                    time,
                    publisher: address.clone(),
                    protocol: SMART_CONTRACT.to_owned(),
                    protocol_version: 1,
                    content: intake::contract_content(time, &address, &e.msgtype, &e.msgcontent),
                })
            }
            _ => Event::Skip("not a sync contract event".into()),
        }
    }

    /// Transactions whose archive was missing, when their retry is due.
    async fn retry_deferred(&self) -> Result<(), StorageError> {
        let chain = self.chain.clone();
        let due = self.pipeline.db().read(move |c| store::due_txs(c, &chain, crate::pipeline::now())).await?;
        for (tx, attempts) in due {
            intake::process(&self.pipeline, &self.monitor, tx, attempts).await?;
        }
        Ok(())
    }
}

/// An event's `uint256` timestamp as float seconds.
fn seconds(t: alloy::primitives::U256) -> f64 {
    u64::try_from(t).unwrap_or(u64::MAX) as f64
}
