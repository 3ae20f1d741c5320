//! The chain bridges (NETWORK.md §4): sync contract readers and a packing writer on EVM chains,
//! ALEPH balances from the token's `Transfer` logs, and the Tezos indexer's message events.
//!
//! Each reader records the chain transactions it reads (`chain_txs`) and submits their messages
//! to the pipeline, which confirms them once processed. A reader's position moves only after the
//! messages of a window are recorded, so a restart reads the last window again: its messages are
//! then known and only keep their confirmation.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::api::Broadcaster;
use crate::pipeline::Pipeline;

mod evm_reader;
mod evm_rpc;
mod evm_writer;
mod intake;
mod monitor;
mod tezos;
mod token;

pub(crate) use monitor::ChainMonitor;

/// The `[chains]` section: every bridge is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainsConfig {
    /// `[[chains.evm]]`: one sync contract reader (and optional writer) per EVM chain.
    pub evm: Vec<EvmChainConfig>,
    /// `[chains.token]`: ALEPH balances indexed from the token contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenConfig>,
    /// `[chains.tezos]`: the sync contract's message events, through an indexer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tezos: Option<TezosConfig>,
}

/// One EVM chain's sync contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvmChainConfig {
    /// The chain label messages are confirmed on (`ETH`, `BSC`, any EVM label).
    pub chain: String,
    /// The JSON-RPC endpoint.
    pub rpc_url: String,
    /// The sync contract (`AlephSync`).
    pub sync_contract: String,
    /// The first block to read.
    pub start_height: u64,
    /// Who may emit sync batches (`SyncEvent`s of anyone else are ignored).
    pub authorized_emitters: Vec<String>,
    /// Blocks left unread below the head (reorg safety; 0 reads up to the head).
    pub confirmation_depth: u64,
    /// Seconds between polls.
    pub poll_interval_secs: f64,
    /// The widest block window of one `eth_getLogs` call (halved when the RPC refuses a range).
    pub max_block_range: u64,
    /// With a key, this node packs unconfirmed messages and emits them (`doEmit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_key: Option<String>,
    /// Seconds between batches, for a packing node.
    pub commit_interval_secs: f64,
    /// No batch is sent while the fee would exceed this many gwei per gas.
    pub max_gas_price_gwei: f64,
}

impl Default for EvmChainConfig {
    fn default() -> Self {
        EvmChainConfig {
            chain: "ETH".into(),
            rpc_url: "http://127.0.0.1:8545".into(),
            sync_contract: String::new(),
            start_height: 0,
            authorized_emitters: Vec::new(),
            confirmation_depth: 12,
            poll_interval_secs: 30.0,
            max_block_range: 100_000,
            publisher_key: None,
            commit_interval_secs: 35.0,
            max_gas_price_gwei: 150.0,
        }
    }
}

/// The ALEPH token contract whose `Transfer` logs set balances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// The chain label balances are recorded under.
    pub chain: String,
    /// The JSON-RPC endpoint.
    pub rpc_url: String,
    /// The ERC-20 contract.
    pub token_contract: String,
    /// The first block to read (the token's deployment).
    pub start_height: u64,
    /// Blocks left unread below the head.
    pub confirmation_depth: u64,
    /// Seconds between polls.
    pub poll_interval_secs: f64,
    /// The widest block window of one `eth_getLogs` call.
    pub max_block_range: u64,
    /// The token's decimals (ALEPH: 18).
    pub decimals: u32,
    /// With a key, changed balances are published as signed `balances-update` POSTs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_key: Option<String>,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            chain: "ETH".into(),
            rpc_url: "http://127.0.0.1:8545".into(),
            token_contract: String::new(),
            start_height: 0,
            confirmation_depth: 12,
            poll_interval_secs: 30.0,
            max_block_range: 100_000,
            decimals: 18,
            signer_key: None,
        }
    }
}

/// The Tezos sync contract, read through an indexer's GraphQL API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TezosConfig {
    /// The indexer's GraphQL endpoint (`POST /`).
    pub indexer_url: String,
    /// The sync contract (`KT1…`).
    pub sync_contract: String,
    /// Seconds between polls.
    pub poll_interval_secs: f64,
}

impl Default for TezosConfig {
    fn default() -> Self {
        TezosConfig {
            indexer_url: "https://tezos-mainnet.api.aleph.cloud".into(),
            sync_contract: "KT1FfEoaNvooDfYrP61Ykct6L8z7w7e2pgnT".into(),
            poll_interval_secs: 10.0,
        }
    }
}

/// Why a bridge could not start.
#[derive(Debug, thiserror::Error)]
#[error("[chains] {0}")]
pub struct ChainConfigError(pub(crate) String);

/// Starts every configured bridge under the node's task manager.
pub(crate) fn spawn(
    config: &ChainsConfig,
    pipeline: &Pipeline,
    broadcaster: Option<Arc<dyn Broadcaster>>,
    tasks: &mut crate::tasks::TaskManager,
) -> Result<(), ChainConfigError> {
    let monitor = pipeline.chain_monitor().clone();
    for evm in &config.evm {
        let handle = monitor.reader(&evm.chain, "sync");
        let reader = evm_reader::SyncReader::new(evm, pipeline.clone(), handle.clone())?;
        tasks.spawn_critical("evm-sync-reader", run(reader, handle, evm.poll_interval_secs, tasks.token()));
        if evm.publisher_key.is_some() {
            let handle = monitor.reader(&evm.chain, "publish");
            let writer = evm_writer::SyncWriter::new(evm, pipeline.clone(), handle.clone())?;
            let every = evm.commit_interval_secs;
            tasks.spawn_critical("evm-sync-writer", run(writer, handle, every, tasks.token()));
        }
    }
    if let Some(t) = &config.token {
        let handle = monitor.reader(&t.chain, "token");
        let indexer = token::TokenIndexer::new(t, pipeline.clone(), broadcaster.clone(), handle.clone())?;
        tasks.spawn_critical("token-indexer", run(indexer, handle, t.poll_interval_secs, tasks.token()));
    }
    if let Some(t) = &config.tezos {
        let handle = monitor.reader("TEZOS", "tezos");
        let reader = tezos::TezosReader::new(t, pipeline.clone(), handle.clone())?;
        tasks.spawn_critical("tezos-reader", run(reader, handle, t.poll_interval_secs, tasks.token()));
    }
    Ok(())
}

/// A bridge task: one poll at a time, retried with backoff when it fails.
trait Poller: Send + 'static {
    /// What the task is, for the logs.
    const NAME: &'static str;
    /// One poll: read (or write) what is due.
    fn poll_once(
        &mut self,
        token: &CancellationToken,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// Polls until `token` fires. A failed poll is recorded and retried after a backoff (1 s
/// doubling, at most ten intervals); a successful one clears the failure.
/// Its state goes to `monitor`; `interval` is the seconds between polls.
async fn run<P: Poller>(
    mut task: P,
    monitor: monitor::ReaderHandle,
    interval: f64,
    token: CancellationToken,
) -> Result<(), String> {
    tracing::info!(task = P::NAME, "chain bridge started");
    loop {
        let wait = match task.poll_once(&token).await {
            Ok(()) => {
                monitor.healthy();
                interval
            }
            Err(e) => {
                let failures = monitor.failed(&e);
                tracing::warn!(task = P::NAME, error = %e, failures, "chain bridge: retrying");
                backoff_secs(failures).min(interval.max(1.0) * 10.0)
            }
        };
        if pause(wait, &token).await {
            return Ok(());
        }
    }
}

/// Sleeps `secs` (at least 10 ms) unless `token` fires first; returns whether it fired.
async fn pause(secs: f64, token: &CancellationToken) -> bool {
    tokio::select! {
        _ = token.cancelled() => true,
        _ = tokio::time::sleep(Duration::from_secs_f64(secs.max(0.01))) => false,
    }
}

/// Backoff after `failures` consecutive failures: 1 s doubling to 5 min.
fn backoff_secs(failures: u32) -> f64 {
    2f64.powi(failures.min(9) as i32 - 1).clamp(1.0, 300.0)
}
