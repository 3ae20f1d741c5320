//! Authorizations: the delegations in an owner's `security` aggregate, which let other addresses
//! send messages on the owner's behalf.

use aleph_core::content::SECURITY_KEY;
use aleph_core::Signer;
use serde_json::{json, Value};

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

    /// Adds a delegation to the signer's `security` aggregate (keeping the existing ones).
    pub async fn add_authorization<S: Signer + Sync>(
        &self,
        signer: &S,
        authorization: Authorization,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let mut list = self.get_authorizations(signer.address()).await?;
        if !list.contains(&authorization) {
            list.push(authorization);
        }
        self.set_authorizations(signer, &list, mode).await
    }

    /// Removes every delegation to `delegate` from the signer's `security` aggregate.
    pub async fn revoke_authorization<S: Signer + Sync>(
        &self,
        signer: &S,
        delegate: &str,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let mut list = self.get_authorizations(signer.address()).await?;
        list.retain(|a| !a.address.eq_ignore_ascii_case(delegate));
        self.set_authorizations(signer, &list, mode).await
    }

    /// Replaces the signer's delegations with `list` (empty revokes them all).
    pub async fn set_authorizations<S: Signer + Sync>(
        &self,
        signer: &S,
        list: &[Authorization],
        mode: SubmitMode,
    ) -> Result<Submitted> {
        let builder = MessageBuilder::aggregate(SECURITY_KEY, json!({ "authorizations": list }));
        self.publish(signer, &builder, mode).await
    }
}
