//! The Tezos sync contract's `MessageEvent`s, read from an indexer's GraphQL API as the
//! reference reads them (NETWORK.md §4.5): the indexer must report `synced`; events come in
//! pages of 100 from the number already consumed (the position), each a `smart-contract`
//! transaction whose one message is unsigned (the chain vouches for its sender).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::intake;
use super::monitor::ReaderHandle;
use super::{ChainConfigError, TezosConfig};
use crate::pipeline::Pipeline;
use crate::storage::chains::{self as store, ChainTx};

/// The reader's position in `chain_sync_status`: the number of events consumed.
const KIND: &str = "tezos";
const CHAIN: &str = "TEZOS";
/// Events per page, as the reference asks.
const PAGE: u64 = 100;
/// The largest answer read from the indexer.
const MAX_ANSWER_BYTES: usize = 32 << 20;

pub(super) struct TezosReader {
    http: reqwest::Client,
    url: String,
    contract: String,
    pipeline: Pipeline,
    monitor: ReaderHandle,
}

#[derive(Debug, Deserialize)]
struct Answer {
    data: Data,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    index_status: IndexStatus,
    #[serde(default)]
    stats: Option<Stats>,
    #[serde(default)]
    events: Vec<IndexerEvent>,
}

#[derive(Debug, Deserialize)]
struct IndexStatus {
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    total_events: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexerEvent {
    source: String,
    timestamp: String,
    block_level: u64,
    operation_hash: String,
    #[serde(rename = "type")]
    event_type: String,
    payload: Value,
}

impl super::Poller for TezosReader {
    const NAME: &'static str = "Tezos reader";

    async fn poll_once(&mut self, token: &CancellationToken) -> Result<(), String> {
        self.poll_inner(token).await
    }
}

impl TezosReader {
    pub(super) fn new(
        c: &TezosConfig,
        pipeline: Pipeline,
        monitor: ReaderHandle,
    ) -> Result<Self, ChainConfigError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ChainConfigError(format!("tezos HTTP client: {e}")))?;
        if c.sync_contract.is_empty() || c.sync_contract.contains(['"', '\\']) {
            return Err(ChainConfigError(format!(
                "tezos sync_contract {:?} is not a contract address",
                c.sync_contract
            )));
        }
        Ok(TezosReader {
            http,
            url: c.indexer_url.trim_end_matches('/').to_owned() + "/",
            contract: c.sync_contract.clone(),
            pipeline,
            monitor,
        })
    }

    async fn query(&self, query: String) -> Result<Value, String> {
        self.monitor.call();
        let response = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("indexer answered HTTP {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n as usize > MAX_ANSWER_BYTES) {
            return Err("indexer answer too large".into());
        }
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err("indexer answer too large".into());
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("indexer answer: {e}"))
    }

    async fn poll_inner(&self, token: &CancellationToken) -> Result<(), String> {
        let status = self.query("{indexStatus {status}}".into()).await?;
        let status = status.pointer("/data/indexStatus/status").and_then(Value::as_str).unwrap_or("");
        if status != "synced" {
            tracing::info!(status, "Tezos indexer not synced yet; waiting");
            return Ok(());
        }
        let mut consumed = self
            .pipeline
            .db()
            .read(|c| store::sync_height(c, CHAIN, KIND))
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or(0);
        while !token.is_cancelled() {
            let answer: Answer = serde_json::from_value(self.query(self.events_query(consumed)).await?)
                .map_err(|e| format!("indexer answer: {e}"))?;
            if answer.data.index_status.status != "synced" {
                return Ok(());
            }
            let total = answer.data.stats.map_or(0, |s| s.total_events);
            let n = answer.data.events.len() as u64;
            for event in answer.data.events {
                self.apply(event).await?;
            }
            self.monitor.transactions(n);
            // The position counts the events consumed (the reference moves by a page and clamps
            // to the total, which comes to the same once a page is full).
            consumed += n;
            let c = consumed;
            self.pipeline
                .db()
                .write(move |t| store::set_sync_height(t, CHAIN, KIND, c))
                .await
                .map_err(|e| e.to_string())?;
            self.monitor.progress(consumed, total);
            if n < PAGE || consumed >= total {
                return Ok(());
            }
        }
        Ok(())
    }

    fn events_query(&self, skip: u64) -> String {
        let c = &self.contract;
        format!(
            "{{ indexStatus {{ oldestBlock recentBlock status }} stats(address: \"{c}\") {{ totalEvents }} \
             events(limit: {PAGE}, skip: {skip}, source: \"{c}\", type: \"MessageEvent\") \
             {{ _id source timestamp blockLevel operationHash type payload }} }}"
        )
    }

    async fn apply(&self, e: IndexerEvent) -> Result<(), String> {
        let (hash, height) = (e.operation_hash.clone(), e.block_level);
        let skip = |reason: String| {
            let hash = hash.clone();
            async move {
                intake::skip_event(&self.pipeline, &self.monitor, CHAIN, &hash, height, &reason)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        if e.event_type != "MessageEvent" {
            return skip(format!("not a MessageEvent: {}", e.event_type)).await;
        }
        let Some(time) = chrono::DateTime::parse_from_rfc3339(&e.timestamp)
            .ok()
            .map(|t| t.timestamp_micros() as f64 / 1e6)
        else {
            return skip(format!("unreadable event timestamp {:?}", e.timestamp)).await;
        };
        let p = &e.payload;
        let (Some(addr), Some(msgtype), Some(msgcontent)) = (
            p.get("addr").and_then(Value::as_str),
            p.get("msgtype").and_then(Value::as_str),
            p.get("msgcontent").and_then(Value::as_str),
        ) else {
            return skip("MessageEvent payload without addr/msgtype/msgcontent".into()).await;
        };
        let event_time = p.get("timestamp").and_then(Value::as_f64).unwrap_or(time);
        let tx = ChainTx {
            chain: CHAIN.into(),
            hash: e.operation_hash.clone(),
            height: e.block_level,
            time,
            publisher: e.source.clone(),
            protocol: aleph_core::chain_sync::SMART_CONTRACT.into(),
            protocol_version: 1,
            content: intake::contract_content(event_time, addr, msgtype, msgcontent),
        };
        intake::process(&self.pipeline, &self.monitor, tx, 0).await.map_err(|e| e.to_string())?;
        Ok(())
    }
}
