//! Prices: estimates for messages not yet sent, and the stored cost of sent ones.

use aleph_core::{ItemHash, PendingMessage};
use serde_json::json;

use super::AlephClient;
use crate::error::Result;
use crate::http::{check, json_of, Idempotency};
use crate::types::Price;

impl AlephClient {
    /// Estimates the cost of a message (`POST /api/v0/price/estimate`); the signature is not
    /// checked, so a message can be priced before it is worth signing for real.
    pub async fn estimate_price(&self, message: &PendingMessage) -> Result<Price> {
        let path = "/api/v0/price/estimate";
        let resp = self.http().post_json(path, &json!({"message": message}), Idempotency::Idempotent).await?;
        json_of(check(resp, path).await?).await
    }

    /// The cost the node recorded for a PROGRAM, INSTANCE or STORE (`GET /api/v0/price/{hash}`).
    pub async fn get_price(&self, item_hash: &ItemHash) -> Result<Price> {
        self.http().get_json(&format!("/api/v0/price/{item_hash}"), &[]).await
    }
}
