//! Aggregates: read raw or into the caller's types, list, write, forget.

use aleph_core::Signer;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{AlephClient, SubmitMode};
use crate::compose::MessageBuilder;
use crate::error::{ClientError, Result};
use crate::http::join;
use crate::types::{page_of, AddressAggregates, AggregateEntry};

impl AlephClient {
    /// The merged documents of `address` for `keys` (all keys when empty), with their creation
    /// and update info. No aggregate at all is [`ClientError::NotFound`].
    pub async fn get_aggregates(&self, address: &str, keys: &[&str]) -> Result<AddressAggregates> {
        let mut q = vec![("with_info".to_owned(), "true".to_owned())];
        if !keys.is_empty() {
            q.push(("keys".into(), join(keys)));
        }
        self.http().get_json(&format!("/api/v0/aggregates/{address}.json"), &q).await
    }

    /// The merged document `key` of `address`, as raw JSON ([`ClientError::NotFound`] if absent).
    pub async fn get_aggregate_value(&self, address: &str, key: &str) -> Result<Value> {
        let q = vec![("keys".to_owned(), key.to_owned())];
        let path = format!("/api/v0/aggregates/{address}.json");
        let v: Value = self.http().get_json(&path, &q).await?;
        v.get("data")
            .and_then(|d| d.get(key))
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| ClientError::NotFound { what: format!("aggregate {key} of {address}") })
    }

    /// The merged document `key` of `address`, deserialized into `T`.
    pub async fn get_aggregate<T: DeserializeOwned>(&self, address: &str, key: &str) -> Result<T> {
        let v = self.get_aggregate_value(address, key).await?;
        serde_json::from_value(v).map_err(|e| ClientError::Decode {
            url: format!("aggregate {key} of {address}"),
            reason: e.to_string(),
        })
    }

    /// The merged document `key` of `address`, or `None` when it does not exist.
    pub async fn find_aggregate<T: DeserializeOwned>(&self, address: &str, key: &str) -> Result<Option<T>> {
        match self.get_aggregate(address, key).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of aggregates across owners (`GET /api/v0/aggregates`), filtered by owners and
    /// keys (empty: any).
    pub async fn list_aggregates(
        &self,
        addresses: &[&str],
        keys: &[&str],
        page: u32,
        per_page: u32,
    ) -> Result<Vec<AggregateEntry>> {
        let mut q = vec![
            ("page".to_owned(), page.max(1).to_string()),
            ("pagination".to_owned(), per_page.to_string()),
        ];
        if !addresses.is_empty() {
            q.push(("addresses".into(), join(addresses)));
        }
        if !keys.is_empty() {
            q.push(("keys".into(), join(keys)));
        }
        let path = "/api/v0/aggregates.json";
        let v: Value = self.http().get_json(path, &q).await?;
        Ok(page_of(&v, "aggregates", path)?.0)
    }

    /// Publishes an AGGREGATE element: `content` (an object) is merged into the signer's (or,
    /// with [`MessageBuilder::on_behalf_of`], the owner's) `key` document.
    pub async fn create_aggregate<S: Signer + Sync>(
        &self,
        signer: &S,
        key: &str,
        content: impl Serialize,
        channel: Option<&str>,
        mode: SubmitMode,
    ) -> Result<crate::types::Submitted> {
        let mut b = MessageBuilder::aggregate(key, content);
        if let Some(c) = channel {
            b = b.channel(c);
        }
        self.publish(signer, &b, mode).await
    }

    /// Publishes a FORGET of messages.
    pub async fn forget<S: Signer + Sync>(
        &self,
        signer: &S,
        hashes: &[aleph_core::ItemHash],
        reason: Option<&str>,
        mode: SubmitMode,
    ) -> Result<crate::types::Submitted> {
        let mut b = MessageBuilder::forget(hashes.iter().cloned());
        if let Some(r) = reason {
            b = b.reason(r);
        }
        self.publish(signer, &b, mode).await
    }

    /// Publishes a FORGET of whole aggregates of the signer, by key. The network types these
    /// keys as item hashes, so only keys shaped like a hash can be forgotten; others are refused
    /// here with [`ClientError::Content`] before anything is signed.
    pub async fn forget_aggregates<S: Signer + Sync>(
        &self,
        signer: &S,
        keys: &[&str],
        reason: Option<&str>,
        mode: SubmitMode,
    ) -> Result<crate::types::Submitted> {
        let mut b = MessageBuilder::forget_aggregates(keys.iter().map(|k| k.to_string()));
        if let Some(r) = reason {
            b = b.reason(r);
        }
        self.publish(signer, &b, mode).await
    }
}
