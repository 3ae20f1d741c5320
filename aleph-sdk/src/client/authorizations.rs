//! Authorizations: the delegations in an owner's `security` aggregate, which let other addresses
//! send messages on the owner's behalf.
//!
//! Each change is composed against the list the node holds (one read), as a [`MessageBuilder`]
//! to sign (`--dry-run`, signing offline) or publish; the `*_authorization` calls do both.

use aleph_core::content::SECURITY_KEY;
use aleph_core::Signer;
use serde_json::Value;

use super::{AlephClient, SubmitMode};
use crate::compose::MessageBuilder;
use crate::error::{ClientError, Result};
use crate::types::{Authorization, Submitted};

impl AlephClient {
    /// The delegations `address` has granted (empty when it has no `security` aggregate).
    pub async fn get_authorizations(&self, address: &str) -> Result<Vec<Authorization>> {
        let doc = match self.get_aggregate_value(address, SECURITY_KEY).await {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let list = doc.get("authorizations").cloned().unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(list).map_err(|e| ClientError::Decode {
            url: format!("security aggregate of {address}"),
            reason: e.to_string(),
        })
    }

    /// The message adding `authorization` to `owner`'s delegations (kept as they are when it is
    /// already there), composed against the list the node holds.
    pub async fn compose_add_authorization(
        &self,
        owner: &str,
        authorization: Authorization,
    ) -> Result<MessageBuilder> {
        let mut list = self.get_authorizations(owner).await?;
        if !list.contains(&authorization) {
            list.push(authorization);
        }
        Ok(MessageBuilder::authorizations(&list))
    }

    /// The message removing every delegation of `owner` to `delegate` (addresses compared
    /// without regard to case), composed against the list the node holds; `None` when `owner`
    /// has granted `delegate` nothing.
    pub async fn compose_revoke_authorization(
        &self,
        owner: &str,
        delegate: &str,
    ) -> Result<Option<MessageBuilder>> {
        let (list, removed) = self.revoked(owner, delegate).await?;
        Ok((removed > 0).then(|| MessageBuilder::authorizations(&list)))
    }

    /// `owner`'s delegations without those to `delegate`, and how many were removed.
    async fn revoked(&self, owner: &str, delegate: &str) -> Result<(Vec<Authorization>, usize)> {
        let mut list = self.get_authorizations(owner).await?;
        let before = list.len();
        list.retain(|a| !a.address.eq_ignore_ascii_case(delegate));
        let removed = before - list.len();
        Ok((list, removed))
    }

    /// Adds a delegation to the signer's `security` aggregate (keeping the existing ones).
    pub async fn add_authorization<S: Signer + Sync>(
        &self,
        signer: &S,
        authorization: Authorization,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let builder = self.compose_add_authorization(signer.address(), authorization).await?;
        self.publish(signer, &builder, mode).await
    }

    /// Removes every delegation to `delegate` from the signer's `security` aggregate (the list
    /// is published again even when there was none, as the Python SDK does).
    pub async fn revoke_authorization<S: Signer + Sync>(
        &self,
        signer: &S,
        delegate: &str,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let (list, _) = self.revoked(signer.address(), delegate).await?;
        self.set_authorizations(signer, &list, mode).await
    }

    /// Replaces the signer's delegations with `list` (empty revokes them all).
    pub async fn set_authorizations<S: Signer + Sync>(
        &self,
        signer: &S,
        list: &[Authorization],
        mode: SubmitMode,
    ) -> Result<Submitted> {
        self.publish(signer, &MessageBuilder::authorizations(list), mode).await
    }
}
