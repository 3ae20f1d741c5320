//! The packing writer (NETWORK.md §4.3, "Writing"): every `commit_interval_secs`, up to 10,000
//! signed messages that no transaction confirms, oldest reception first, go into an archive
//! (stored and pinned here, where peers fetch it by its CID), and `doEmit` of the archive's
//! reference is sent from `publisher_key` with EIP-1559 fees under `max_gas_price_gwei`. The
//! writer waits for the receipt before the next batch; the reader then confirms the messages.

use std::time::Duration;

use aleph_core::chain_sync::{archive_json, archive_reference_json};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockNumberOrTag, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use tokio_util::sync::CancellationToken;

use super::evm_rpc::{self, doEmitCall};
use super::monitor::ReaderHandle;
use super::{ChainConfigError, EvmChainConfig};
use crate::pipeline::Pipeline;
use crate::storage::chains as store;

/// The most messages in one archive.
const BATCH: u32 = 10_000;
/// How long a sent transaction may stay unmined before the writer gives up on it.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) struct SyncWriter {
    chain: String,
    rpc: DynProvider,
    contract: Address,
    max_fee_wei: u128,
    pipeline: Pipeline,
    monitor: ReaderHandle,
}

impl super::Poller for SyncWriter {
    const NAME: &'static str = "EVM sync writer";

    async fn poll_once(&mut self, _token: &CancellationToken) -> Result<(), String> {
        self.commit_once().await
    }
}

impl SyncWriter {
    pub(super) fn new(
        c: &EvmChainConfig,
        pipeline: Pipeline,
        monitor: ReaderHandle,
    ) -> Result<Self, ChainConfigError> {
        let key = c.publisher_key.as_deref().unwrap_or_default();
        let signer: PrivateKeySigner =
            key.parse().map_err(|e| ChainConfigError(format!("publisher_key of {}: {e}", c.chain)))?;
        let url = c.rpc_url.parse().map_err(|e| ChainConfigError(format!("rpc_url {:?}: {e}", c.rpc_url)))?;
        let rpc = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased();
        Ok(SyncWriter {
            chain: c.chain.clone(),
            rpc,
            contract: evm_rpc::address("sync_contract", &c.sync_contract)?,
            max_fee_wei: (c.max_gas_price_gwei.max(0.0) * 1e9) as u128,
            pipeline,
            monitor,
        })
    }

    /// Packs and emits one batch, if there is anything to emit and the fee allows it.
    async fn commit_once(&self) -> Result<(), String> {
        let messages = self
            .pipeline
            .db()
            .read(|c| store::unconfirmed_messages(c, BATCH))
            .await
            .map_err(|e| e.to_string())?;
        if messages.is_empty() {
            return Ok(());
        }
        let (priority, max_fee) = self.fees().await?;
        if max_fee > self.max_fee_wei {
            tracing::info!(chain = %self.chain, max_fee, limit = self.max_fee_wei, "gas too expensive; batch postponed");
            return Ok(());
        }
        let archive = archive_json(&messages);
        let cid = aleph_core::cid::cid_v0(archive.as_bytes());
        let size = archive.len() as u64;
        let bytes = bytes::Bytes::from(archive.into_bytes());
        self.pipeline.files().put(&cid, bytes.clone()).await.map_err(|e| e.to_string())?;
        // On IPFS too, where the reference's readers look for archives.
        if let Some(engine) = self.pipeline.ipfs() {
            let imported = engine.import_bytes(&bytes, crate::ipfs::ImportOptions::DEFAULT).await;
            if let Err(e) = imported {
                tracing::warn!(archive = %cid, error = %e, "sync archive not imported into IPFS");
            }
        }
        let input = doEmitCall { message: archive_reference_json(&cid) }.abi_encode();
        let request = TransactionRequest::default()
            .with_to(self.contract)
            .with_input(input)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority);
        self.monitor.call();
        let pending = self.rpc.send_transaction(request).await.map_err(|e| format!("doEmit: {e}"))?;
        let tx_hash = pending.tx_hash().to_string();
        let hashes: Vec<String> = messages.iter().map(|m| m.item_hash.clone()).collect();
        let (chain, h, c) = (self.chain.clone(), tx_hash.clone(), cid.clone());
        self.pipeline
            .db()
            .write(move |t| {
                store::add_outbox(t, &chain, &h, &hashes)?;
                store::pin_archive(t, &c, size, &h)
            })
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(chain = %self.chain, tx = %tx_hash, archive = %cid, messages = messages.len(), "sync batch sent");
        self.monitor.transactions(1);
        let receipt = pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt().await;
        let mined = matches!(&receipt, Ok(r) if r.status());
        if !mined {
            // Reverted, dropped or unmined: its messages may go into the next batch.
            let (chain, h) = (self.chain.clone(), tx_hash.clone());
            self.pipeline
                .db()
                .write(move |t| store::drop_outbox(t, &chain, &h))
                .await
                .map_err(|e| e.to_string())?;
            return Err(match receipt {
                Ok(_) => format!("sync batch {tx_hash} reverted"),
                Err(e) => format!("sync batch {tx_hash}: {e}"),
            });
        }
        Ok(())
    }

    /// EIP-1559 fees as the reference computes them: the priority fee is the mean of the 25th
    /// percentile rewards of the last 5 blocks, the fee cap twice the base fee plus that.
    async fn fees(&self) -> Result<(u128, u128), String> {
        self.monitor.call();
        let history = self
            .rpc
            .get_fee_history(5, BlockNumberOrTag::Latest, &[25.0])
            .await
            .map_err(|e| format!("eth_feeHistory: {e}"))?;
        let rewards: Vec<u128> =
            history.reward.unwrap_or_default().iter().filter_map(|r| r.first().copied()).collect();
        let priority =
            if rewards.is_empty() { 0 } else { rewards.iter().sum::<u128>() / rewards.len() as u128 };
        let base = history.base_fee_per_gas.last().copied().unwrap_or_default();
        Ok((priority, base.saturating_mul(2).saturating_add(priority)))
    }
}
