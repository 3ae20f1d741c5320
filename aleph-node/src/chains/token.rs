//! ALEPH balances from the token contract, as the network's balance service computes them
//! (NETWORK.md §4.8), built into the node: the ERC-20 `Transfer` logs of `token_contract` from
//! `start_height`, in the readers' windows and depth, applied to per-address balances that
//! payment reads. With `signer_key`, changed balances are published as signed
//! `balances-update` POSTs so that nodes trusting that key get them by gossip.
//!
//! Balances start at zero at `start_height`: start at the token's deployment (or its first
//! transfer) for exact figures. A debit below zero (a transfer seen without its funding) is
//! clamped to zero and logged.

use std::collections::BTreeMap;
use std::sync::Arc;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, Signer, UnsignedMessage};
use alloy::primitives::{Address, U256};
use alloy::sol_types::SolEvent;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::evm_rpc::{self, LogSource, Transfer};
use super::monitor::ReaderHandle;
use super::{ChainConfigError, TokenConfig};
use crate::api::Broadcaster;
use crate::pipeline::{Intake, Origin, Pipeline};
use crate::storage::chains as store;
use crate::storage::StorageError;

/// The indexer's position in `chain_sync_status`.
const KIND: &str = "token";
/// Balances per published POST.
const PER_POST: u32 = 1_000;

pub(super) struct TokenIndexer {
    chain: String,
    logs: LogSource,
    decimals: u32,
    signer: Option<EthereumSigner>,
    pipeline: Pipeline,
    broadcaster: Option<Arc<dyn Broadcaster>>,
    monitor: ReaderHandle,
}

impl super::Poller for TokenIndexer {
    const NAME: &'static str = "token indexer";

    async fn poll_once(&mut self, token: &CancellationToken) -> Result<(), String> {
        self.poll_inner(token).await
    }
}

impl TokenIndexer {
    pub(super) fn new(
        c: &TokenConfig,
        pipeline: Pipeline,
        broadcaster: Option<Arc<dyn Broadcaster>>,
        monitor: ReaderHandle,
    ) -> Result<Self, ChainConfigError> {
        let signer = match &c.signer_key {
            Some(k) => Some(
                EthereumSigner::from_hex(k)
                    .map_err(|e| ChainConfigError(format!("token signer_key: {e}")))?,
            ),
            None => None,
        };
        Ok(TokenIndexer {
            chain: c.chain.clone(),
            logs: LogSource::new(
                &c.rpc_url,
                evm_rpc::address("token_contract", &c.token_contract)?,
                vec![Transfer::SIGNATURE_HASH],
                c.start_height,
                c.confirmation_depth,
                c.max_block_range,
            )?,
            decimals: c.decimals.min(60),
            signer,
            pipeline,
            broadcaster,
            monitor,
        })
    }

    async fn poll_inner(&mut self, token: &CancellationToken) -> Result<(), String> {
        let mut scan = self.logs.scan(&self.pipeline, (&self.chain, KIND), &self.monitor).await?;
        while !token.is_cancelled() {
            let Some((logs, end)) = self.logs.next(&mut scan, &self.monitor).await? else { break };
            let mut transfers = Vec::with_capacity(logs.len());
            for log in &logs {
                match log.log_decode::<Transfer>() {
                    Ok(t) => transfers.push((t.inner.data.from, t.inner.data.to, t.inner.data.value)),
                    Err(e) => {
                        tracing::warn!(chain = %self.chain, error = %e, "undecodable Transfer log skipped")
                    }
                }
            }
            self.monitor.transactions(transfers.len() as u64);
            self.apply(transfers, end).await.map_err(|e| e.to_string())?;
            self.monitor.progress(end, scan.head);
        }
        if self.signer.is_some() {
            self.publish().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Applies a window's transfers and moves the position, in one transaction.
    async fn apply(&self, transfers: Vec<(Address, Address, U256)>, height: u64) -> Result<(), StorageError> {
        let (chain, decimals) = (self.chain.clone(), self.decimals);
        self.pipeline
            .db()
            .write(move |tx| {
                let mut balances: BTreeMap<Address, U256> = BTreeMap::new();
                for (from, to, value) in transfers {
                    for (address, credit) in [(from, false), (to, true)] {
                        if address == Address::ZERO {
                            continue;
                        }
                        let current = match balances.get(&address) {
                            Some(v) => *v,
                            None => store::token_amount(tx, &chain, &address.to_string())?
                                .and_then(|s| U256::from_str_radix(&s, 10).ok())
                                .unwrap_or_default(),
                        };
                        let next = if credit {
                            current.saturating_add(value)
                        } else {
                            if current < value {
                                tracing::warn!(%address, "token debit below zero (transfers before start_height?): clamped");
                            }
                            current.saturating_sub(value)
                        };
                        balances.insert(address, next);
                    }
                }
                for (address, amount) in balances {
                    let whole = format_units(amount, decimals);
                    store::set_token_amount(tx, &chain, &address.to_string(), &amount.to_string(), &whole, height)?;
                }
                store::set_sync_height(tx, &chain, KIND, height)
            })
            .await
    }

    /// Publishes changed balances as `balances-update` POSTs signed by `signer_key`.
    async fn publish(&self) -> Result<(), StorageError> {
        let Some(signer) = &self.signer else { return Ok(()) };
        loop {
            let chain = self.chain.clone();
            let rows = self
                .pipeline
                .db()
                .read(move |c| store::unpublished_token_amounts(c, &chain, PER_POST))
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let height = rows.iter().map(|r| r.2).max().unwrap_or_default();
            let balances: serde_json::Map<String, Value> = rows
                .iter()
                .map(|(address, amount, _)| {
                    let amount = U256::from_str_radix(amount, 10).unwrap_or_default();
                    let whole: f64 = format_units(amount, self.decimals).parse().unwrap_or(0.0);
                    (address.clone(), json!(whole))
                })
                .collect();
            let time = crate::pipeline::now();
            let content = json!({
                "address": signer.address(),
                "time": time,
                "type": "balances-update",
                "content": {"chain": self.chain, "main_height": height, "dapp": null, "balances": balances},
            });
            let unsigned = UnsignedMessage::inline(MessageType::Post, content.to_string(), time, None);
            let signed =
                signer.sign(unsigned).map_err(|e| StorageError::Task(format!("signing balances: {e}")))?;
            let raw = serde_json::to_value(&signed)?;
            match self.pipeline.submit(raw.clone(), Origin::Api).await {
                Ok((_, Intake::Rejected(e))) => {
                    return Err(StorageError::Task(format!("balances-update rejected: {e}")));
                }
                Ok(_) => {
                    if let Some(b) = &self.broadcaster {
                        b.publish(&raw);
                    }
                }
                Err(e) => return Err(StorageError::Task(e.to_string())),
            }
            let chain = self.chain.clone();
            self.pipeline.db().write(move |tx| store::mark_published(tx, &chain, &rows)).await?;
        }
    }
}

/// `amount` base units as a decimal number of whole tokens (`decimals` places), trailing zeros
/// dropped, at most 28 significant digits (what the balances' exact decimals hold; further
/// digits of the fraction are cut).
fn format_units(amount: U256, decimals: u32) -> String {
    let digits = amount.to_string();
    let d = decimals as usize;
    let (int, frac) = if digits.len() > d {
        (digits[..digits.len() - d].to_owned(), digits[digits.len() - d..].to_owned())
    } else {
        ("0".to_owned(), format!("{digits:0>d$}"))
    };
    let room = 28usize.saturating_sub(int.trim_start_matches('0').len());
    let frac = &frac[..frac.len().min(room)];
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_units_format_as_whole_tokens() {
        let e18 = U256::from(10u64).pow(U256::from(18));
        assert_eq!(format_units(U256::ZERO, 18), "0");
        assert_eq!(format_units(e18, 18), "1");
        assert_eq!(format_units(e18 * U256::from(1500u64) / U256::from(1000u64), 18), "1.5");
        assert_eq!(format_units(U256::from(1u64), 18), "0.000000000000000001");
        assert_eq!(format_units(U256::from(123u64), 0), "123");
        // 12 integer digits leave 16 for the fraction.
        let big = U256::from_str_radix("123456789012123456789012345678", 10).unwrap();
        assert_eq!(format_units(big, 18), "123456789012.1234567890123456");
    }
}
