//! Accounts and node information: balances, statistics, files, version.

use aleph_core::Chain;
use serde_json::Value;

use super::AlephClient;
use crate::error::Result;
use crate::types::{decode, AccountFile, AccountFiles, AddressStats, Balance, CursorPage};

impl AlephClient {
    /// The token and credit balance of `address` (unknown addresses have zeros).
    pub async fn get_balance(&self, address: &str) -> Result<Balance> {
        self.http().get_json(&format!("/api/v0/addresses/{address}/balance"), &[]).await
    }

    /// The balance of `address` on one chain.
    pub async fn get_balance_on(&self, address: &str, chain: Chain) -> Result<Balance> {
        let q = vec![("chain".to_owned(), chain.as_str().to_owned())];
        self.http().get_json(&format!("/api/v0/addresses/{address}/balance"), &q).await
    }

    /// Message counts per type of the addresses containing `address_contains` (all when empty),
    /// one page (`/api/v1/addresses/stats.json`).
    pub async fn get_address_stats(
        &self,
        address_contains: &str,
        page: u32,
        per_page: u32,
    ) -> Result<std::collections::BTreeMap<String, AddressStats>> {
        let mut q = vec![
            ("page".to_owned(), page.max(1).to_string()),
            ("pagination".to_owned(), per_page.to_string()),
        ];
        if !address_contains.is_empty() {
            q.push(("addressContains".into(), address_contains.to_owned()));
        }
        let path = "/api/v1/addresses/stats.json";
        let stats: aleph_core::api::AddressStatsMap =
            decode(self.http().get_json(path, &q).await?, &format!("{}{path}", self.base_url()))?;
        Ok(stats.data)
    }

    /// The files stored by `address`, one page ([`crate::ClientError::NotFound`] when none).
    pub async fn get_account_files(&self, address: &str, page: u32, per_page: u32) -> Result<AccountFiles> {
        let q = vec![
            ("page".to_owned(), page.max(1).to_string()),
            ("pagination".to_owned(), per_page.to_string()),
        ];
        self.http().get_json(&format!("/api/v0/addresses/{address}/files"), &q).await
    }

    /// The files stored by `address`, one page in cursor mode (newest first): start with
    /// `cursor = None`, continue with `next_cursor` until it is `None`; `per_page` is capped at
    /// 200 by the node ([`crate::ClientError::NotFound`] for an empty page).
    pub async fn get_account_files_cursor(
        &self,
        address: &str,
        cursor: Option<&str>,
        per_page: u32,
    ) -> Result<CursorPage<AccountFile>> {
        let q = vec![
            ("cursor".to_owned(), cursor.unwrap_or("").to_owned()),
            ("pagination".to_owned(), per_page.clamp(1, 200).to_string()),
        ];
        let path = format!("/api/v0/addresses/{address}/files");
        let url = format!("{}{path}", self.base_url());
        let v: Value = self.http().get_json(&path, &q).await?;
        // The page's files carry epoch seconds; `AccountFile` reads them into RFC 3339 text.
        let files: Vec<AccountFile> =
            decode(v.get("files").cloned().unwrap_or(Value::Array(Vec::new())), &url)?;
        let cursor: aleph_core::api::CursorInfo = decode(v, &url)?;
        Ok(CursorPage {
            items: files,
            per_page: cursor.pagination_per_page,
            next_cursor: cursor.next_cursor.filter(|c| !c.is_empty()),
        })
    }

    /// The POST types `address` has used.
    pub async fn get_address_post_types(&self, address: &str) -> Result<Vec<String>> {
        let v: Value = self.http().get_json(&format!("/api/v0/addresses/{address}/post_types"), &[]).await?;
        Ok(serde_json::from_value(v.get("post_types").cloned().unwrap_or(Value::Array(Vec::new())))?)
    }

    /// The channels `address` has used.
    pub async fn get_address_channels(&self, address: &str) -> Result<Vec<String>> {
        let v: Value = self.http().get_json(&format!("/api/v0/addresses/{address}/channels"), &[]).await?;
        Ok(serde_json::from_value(v.get("channels").cloned().unwrap_or(Value::Array(Vec::new())))?)
    }

    /// Every channel the node knows.
    pub async fn get_channels(&self) -> Result<Vec<String>> {
        let v: Value = self.http().get_json("/api/v0/channels/list.json", &[]).await?;
        Ok(serde_json::from_value(v.get("channels").cloned().unwrap_or(Value::Array(Vec::new())))?)
    }

    /// The node's version string.
    pub async fn node_version(&self) -> Result<String> {
        let v: Value = self.http().get_json("/api/v0/version", &[]).await?;
        Ok(v.get("version").and_then(Value::as_str).unwrap_or_default().to_owned())
    }
}
