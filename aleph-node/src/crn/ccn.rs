//! The CRN's view of its CCN: messages, files, balances and prices read over the CCN's HTTP API,
//! as aleph-vm reads them (NETWORK.md §5.4), so a CRN works against any CCN, ours or pyaleph.

use std::time::Duration;

use serde_json::Value;

use super::CrnError;
use crate::p2p::fetch::read_capped;
use crate::storage::staged::{ContentHasher, StageError, StagedFile};

/// Largest JSON answer read from the CCN (a message list with full content).
const MAX_JSON_BYTES: u64 = 64 << 20;

/// A message as the CCN reports it: its status and, when the CCN has it, its JSON.
#[derive(Debug, Clone)]
pub(crate) struct MessageRecord {
    /// `processed`, `pending`, `rejected`, `forgotten`, `removing`, `removed`.
    pub(crate) status: String,
    /// The message (`null` when pending).
    pub(crate) message: Value,
    /// The processing error code of a rejected message.
    pub(crate) error_code: Option<i64>,
}

/// A small HTTP client for one CCN.
#[derive(Debug, Clone)]
pub(crate) struct CcnClient {
    http: reqwest::Client,
    base: String,
}

impl CcnClient {
    pub(crate) fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("aleph-node-crn/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        CcnClient { http, base: base.trim_end_matches('/').to_owned() }
    }

    async fn get_json(&self, path: &str) -> Result<Option<Value>, CrnError> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().await.map_err(|e| CrnError::Ccn(format!("{url}: {e}")))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(CrnError::Ccn(format!("{url}: HTTP {}", resp.status())));
        }
        let body =
            read_capped(resp, MAX_JSON_BYTES).await.map_err(|e| CrnError::Ccn(format!("{url}: {e}")))?;
        serde_json::from_slice(&body).map(Some).map_err(|e| CrnError::Ccn(format!("{url}: {e}")))
    }

    /// `GET /api/v0/messages/{hash}`: the message and its status, `None` when unknown.
    pub(crate) async fn message(&self, hash: &str) -> Result<Option<MessageRecord>, CrnError> {
        let Some(body) = self.get_json(&format!("/api/v0/messages/{hash}")).await? else { return Ok(None) };
        let status = body.get("status").and_then(Value::as_str).unwrap_or("pending").to_owned();
        let message = body.get("message").cloned().unwrap_or(Value::Null);
        let error_code = body.get("error_code").and_then(Value::as_i64);
        Ok(Some(MessageRecord { status, message, error_code }))
    }

    /// The newest STORE of `owner` that amends the file tag `reference` (the `use_latest`
    /// resolution): the first listed message whose `content.ref` and `content.address` match.
    pub(crate) async fn latest_store(&self, reference: &str, owner: &str) -> Result<Option<Value>, CrnError> {
        let path =
            format!("/api/v0/messages.json?msgTypes=STORE&refs={reference}&addresses={owner}&pagination=20");
        let Some(body) = self.get_json(&path).await? else { return Ok(None) };
        let found = body.get("messages").and_then(Value::as_array).and_then(|list| {
            list.iter()
                .find(|m| {
                    let content = &m["content"];
                    content["ref"].as_str() == Some(reference) && content["address"].as_str() == Some(owner)
                })
                .cloned()
        });
        Ok(found)
    }

    /// Streams the file `hash` (`GET /api/v0/storage/raw/{hash}`) of at most `max_bytes` to
    /// `dest`, hashed as it arrives and checked against its name before it is renamed into place.
    pub(crate) async fn download_to(
        &self,
        hash: &str,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<(), CrnError> {
        let url = format!("{}/api/v0/storage/raw/{hash}", self.base);
        let mut resp = self.http.get(&url).send().await.map_err(|e| CrnError::Ccn(format!("{url}: {e}")))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(CrnError::CodeUnavailable(format!("file {hash} is not stored on the CCN")));
        }
        if !resp.status().is_success() {
            return Err(CrnError::Ccn(format!("{url}: HTTP {}", resp.status())));
        }
        let too_large = || CrnError::CodeUnavailable(format!("file {hash} is larger than {max_bytes} bytes"));
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let hasher = ContentHasher::for_expected(hash)
            .ok_or_else(|| CrnError::CodeUnavailable(format!("{hash} is not a hash this node can check")))?;
        let dir = dest.parent().unwrap_or(std::path::Path::new("."));
        let mut file = StagedFile::create(dir, hasher, max_bytes).await?;
        while let Some(chunk) = resp.chunk().await.map_err(|e| CrnError::Ccn(format!("{url}: {e}")))? {
            file.write(&chunk).await.map_err(|e| match e {
                StageError::TooLarge { .. } => too_large(),
                StageError::Io(e) => e.into(),
            })?;
        }
        let staged = file
            .finish_checked(hash)
            .await?
            .ok_or_else(|| CrnError::CodeUnavailable(format!("file {hash} does not match its hash")))?;
        tokio::fs::rename(&staged.path, dest).await?;
        Ok(())
    }

    /// One key of an address's aggregate (`null` when absent).
    pub(crate) async fn aggregate(&self, address: &str, key: &str) -> Result<Value, CrnError> {
        let body = self.get_json(&format!("/api/v0/aggregates/{address}.json?keys={key}")).await?;
        Ok(body.and_then(|b| b.get("data").and_then(|d| d.get(key)).cloned()).unwrap_or(Value::Null))
    }

    /// `GET /api/v0/addresses/{address}/balance`.
    pub(crate) async fn balance(&self, address: &str) -> Result<Value, CrnError> {
        Ok(self.get_json(&format!("/api/v0/addresses/{address}/balance")).await?.unwrap_or(Value::Null))
    }
}
