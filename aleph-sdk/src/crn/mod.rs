//! A compute resource node's (CRN, aleph-vm) HTTP API: the executions it runs, allocation
//! notifications, and the owner operations on a VM, authenticated with the headers of
//! [`aleph_core::vm_auth`].
//!
//! ```no_run
//! use aleph_sdk::crn::CrnClient;
//! use aleph_sdk::core::chain::ethereum::EthereumSigner;
//! use aleph_sdk::ItemHash;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let wallet = EthereumSigner::random();
//! let crn = CrnClient::new("https://crn.example.org")?.with_owner(&wallet)?;
//! for (hash, execution) in crn.executions_v2().await? {
//!     println!("{hash}: running={}", execution.running);
//! }
//! let vm: ItemHash = "4c0b4d0d2c0bd44e0ebeb3fe59b8b30bd0b44a3a0d1f2a4b6d9a4a0b6a5c8e21".parse()?;
//! for line in crn.logs(&vm).await? {
//!     println!("[{}] {}", line.file, line.text());
//! }
//! crn.reboot(&vm).await?;
//! # Ok(()) }
//! ```

mod types;

use std::collections::BTreeMap;
use std::time::Duration;

use aleph_core::vm_auth::{OperationHeaders, OperationSigner, SIGNED_OPERATION_HEADER, SIGNED_PUBKEY_HEADER};
use aleph_core::{ItemHash, Signer};
use chrono::{DateTime, Utc};
use reqwest::Method;

use crate::builder::DEFAULT_USER_AGENT;
use crate::error::{ClientError, Result};
use crate::http::{check, http_error, json_of, Http, Idempotency};
use crate::RetryPolicy;

pub use types::{AllocationNotification, CrnExecution, CrnLogEntry, ExecutionNetworking, ExecutionTimes};

/// How long before its expiry an owner authorization is no longer used.
const EXPIRY_MARGIN_SECS: i64 = 60;

/// A client of one CRN.
#[derive(Debug)]
pub struct CrnClient {
    http: Http,
    base_url: String,
    domain: String,
    owner: Option<OperationSigner>,
}

impl CrnClient {
    /// A client of the CRN at `base_url` (`https://host[:port]`, trailing slashes ignored).
    pub fn new(base_url: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(DEFAULT_USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .use_rustls_tls()
            .build()?;
        Self::with_http_client(base_url, client)
    }

    /// A client of the CRN at `base_url` sending its requests through `client` (whose
    /// timeouts, user agent and TLS settings apply).
    pub fn with_http_client(base_url: &str, client: reqwest::Client) -> Result<Self> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        let domain = crn_domain(&base_url)?;
        let http =
            Http::new(client, vec![base_url.clone()], RetryPolicy::default(), Some(Duration::from_secs(60)));
        Ok(CrnClient { http, base_url, domain, owner: None })
    }

    /// Authenticates owner operations as `wallet` (an EVM or Solana signer): a fresh ephemeral
    /// key, authorized by one wallet signature for a day.
    pub fn with_owner<S: Signer + ?Sized>(self, wallet: &S) -> Result<Self> {
        let signer = OperationSigner::new(wallet, &self.domain, now())?;
        Ok(self.with_operation_signer(signer))
    }

    /// Authenticates owner operations with an already authorized ephemeral key.
    pub fn with_operation_signer(mut self, signer: OperationSigner) -> Self {
        self.owner = Some(signer);
        self
    }

    /// The CRN's URL, without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The domain operations are signed for: the URL's host, as the Python SDK takes it.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The owner's authorization, if any.
    pub fn owner(&self) -> Option<&OperationSigner> {
        self.owner.as_ref()
    }

    /// The executions the CRN runs (`GET /v2/about/executions/list`), by VM hash.
    pub async fn executions_v2(&self) -> Result<BTreeMap<String, CrnExecution>> {
        let path = "/v2/about/executions/list";
        let resp = self.http.send(Method::GET, path, Idempotency::Idempotent, Ok).await?;
        json_of(check(resp, path).await?).await
    }

    /// Asks the CRN to start an instance allocated to it (`POST /control/allocation/notify`),
    /// for pay-as-you-go, credit, GPU and confidential instances. The CRN checks the payment
    /// itself. Its verdict comes back as an [`AllocationNotification`] (with `success` false if
    /// the instance could not start); refusals before starting (bad request, payment missing,
    /// node busy) are errors.
    pub async fn notify_allocation(&self, instance: &ItemHash) -> Result<AllocationNotification> {
        let path = "/control/allocation/notify";
        let body = serde_json::json!({ "instance": instance.as_str() });
        let resp =
            self.http.send(Method::POST, path, Idempotency::ConnectOnly, |rb| Ok(rb.json(&body))).await?;
        let status = resp.status();
        if status.is_success() || status.as_u16() == 503 {
            let url = resp.url().to_string();
            let text = resp.text().await?;
            if let Ok(notification) = serde_json::from_str::<AllocationNotification>(&text) {
                return Ok(notification);
            }
            return Err(ClientError::Http {
                status: status.as_u16(),
                url,
                body: text.chars().take(1000).collect(),
            });
        }
        Err(http_error(resp).await)
    }

    /// Stops a VM of the owner (`POST /control/machine/{vm}/stop`); returns the CRN's answer.
    pub async fn stop(&self, vm: &ItemHash) -> Result<String> {
        self.operate(Method::POST, vm, "stop").await?.text().await.map_err(Into::into)
    }

    /// Reboots a VM of the owner (`POST /control/machine/{vm}/reboot`); returns the CRN's answer.
    pub async fn reboot(&self, vm: &ItemHash) -> Result<String> {
        self.operate(Method::POST, vm, "reboot").await?.text().await.map_err(Into::into)
    }

    /// Stops an instance of the owner and deletes its disk (`POST /control/machine/{vm}/erase`);
    /// returns the CRN's answer.
    pub async fn erase(&self, vm: &ItemHash) -> Result<String> {
        self.operate(Method::POST, vm, "erase").await?.text().await.map_err(Into::into)
    }

    /// The past log lines of a VM of the owner (`GET /control/machine/{vm}/logs`).
    pub async fn logs(&self, vm: &ItemHash) -> Result<Vec<CrnLogEntry>> {
        json_of(self.operate(Method::GET, vm, "logs").await?).await
    }

    /// The two headers of an owner operation `method` on `path` at `now`, as
    /// [`stop`](Self::stop), [`reboot`](Self::reboot) and [`logs`](Self::logs) send them.
    pub fn operation_headers(
        &self,
        method: &str,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<OperationHeaders> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            ClientError::InvalidArgument("owner operations need a wallet: use CrnClient::with_owner".into())
        })?;
        if now + chrono::TimeDelta::seconds(EXPIRY_MARGIN_SECS) >= owner.expires() {
            return Err(ClientError::InvalidArgument(format!(
                "the owner authorization expired at {}: authorize a new key with CrnClient::with_owner",
                owner.expires()
            )));
        }
        Ok(owner.headers(method, &self.domain, path, now))
    }

    /// Sends an owner operation on `vm` (signed afresh for each attempt) and checks its status.
    async fn operate(&self, method: Method, vm: &ItemHash, operation: &str) -> Result<reqwest::Response> {
        let path = format!("/control/machine/{}/{operation}", vm.as_str());
        self.operation_headers(method.as_str(), &path, now())?;
        let idem = if method == Method::GET { Idempotency::Idempotent } else { Idempotency::ConnectOnly };
        let resp = self
            .http
            .send(method.clone(), &path, idem, |rb| {
                let headers = self.operation_headers(method.as_str(), &path, now())?;
                Ok(rb
                    .header(SIGNED_PUBKEY_HEADER, headers.signed_pubkey)
                    .header(SIGNED_OPERATION_HEADER, headers.signed_operation))
            })
            .await?;
        check(resp, &path).await
    }
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// The domain a CRN checks signed operations against, taken from its URL as the Python SDK does
/// (`urlparse(url).hostname`): the host, lower-cased, without port or IPv6 brackets.
pub fn crn_domain(base_url: &str) -> Result<String> {
    let url = reqwest::Url::parse(base_url.trim())
        .map_err(|e| ClientError::InvalidArgument(format!("CRN URL {base_url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::InvalidArgument(format!(
            "CRN URL {base_url:?} must be http(s)://host[:port]"
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| ClientError::InvalidArgument(format!("CRN URL {base_url:?} has no host")))?;
    Ok(host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use aleph_core::chain::ethereum::EthereumSigner;
    use aleph_core::chain::solana::SolanaSigner;
    use aleph_core::vm_auth::{verify_signed_operation, VmAuthError};
    use aleph_core::Chain;

    use super::*;

    const VM: &str = "4c0b4d0d2c0bd44e0ebeb3fe59b8b30bd0b44a3a0d1f2a4b6d9a4a0b6a5c8e21";

    #[test]
    fn domain_is_the_urls_host() {
        assert_eq!(crn_domain("https://CRN.Example.org").unwrap(), "crn.example.org");
        assert_eq!(crn_domain("https://crn.example.org:4020/some/prefix/").unwrap(), "crn.example.org");
        assert_eq!(crn_domain("http://127.0.0.1:4020").unwrap(), "127.0.0.1");
        assert_eq!(crn_domain("http://[::1]:4020").unwrap(), "::1");
        assert!(crn_domain("crn.example.org").is_err());
        assert!(crn_domain("ftp://crn.example.org").is_err());
        let crn = CrnClient::new("https://crn.example.org:4020/").unwrap();
        assert_eq!((crn.base_url(), crn.domain()), ("https://crn.example.org:4020", "crn.example.org"));
    }

    #[test]
    fn owner_headers_verify_as_the_crn_would() {
        let wallet = EthereumSigner::random();
        let crn = CrnClient::new("https://crn.example.org").unwrap().with_owner(&wallet).unwrap();
        let path = format!("/control/machine/{VM}/stop");
        let at = now();
        let h = crn.operation_headers("POST", &path, at).unwrap();
        let sender = verify_signed_operation(
            &h.signed_pubkey,
            &h.signed_operation,
            "POST",
            "crn.example.org",
            &path,
            at,
        )
        .unwrap();
        assert_eq!((sender.address.as_str(), sender.chain), (wallet.address(), Chain::Eth));
        // Signed for this CRN's domain only.
        assert!(matches!(
            verify_signed_operation(
                &h.signed_pubkey,
                &h.signed_operation,
                "POST",
                "other.example.org",
                &path,
                at
            ),
            Err(VmAuthError::WrongDomain { .. })
        ));

        let sol = SolanaSigner::random();
        let crn = CrnClient::new("http://127.0.0.1:4020").unwrap().with_owner(&sol).unwrap();
        let path = format!("/control/machine/{VM}/logs");
        let h = crn.operation_headers("get", &path, at).unwrap();
        let sender =
            verify_signed_operation(&h.signed_pubkey, &h.signed_operation, "GET", "127.0.0.1", &path, at)
                .unwrap();
        assert_eq!((sender.address.as_str(), sender.chain), (sol.address(), Chain::Sol));
    }

    #[test]
    fn owner_operations_need_a_live_authorization() {
        let crn = CrnClient::new("https://crn.example.org").unwrap();
        assert!(matches!(crn.operation_headers("POST", "/", now()), Err(ClientError::InvalidArgument(_))));
        let crn = crn.with_owner(&EthereumSigner::random()).unwrap();
        let expires = crn.owner().unwrap().expires();
        assert!(crn.operation_headers("POST", "/", expires - chrono::TimeDelta::seconds(61)).is_ok());
        assert!(matches!(crn.operation_headers("POST", "/", expires), Err(ClientError::InvalidArgument(_))));
    }

    #[test]
    fn log_lines_decode() {
        let lines: Vec<CrnLogEntry> = serde_json::from_str(
            r#"[{"SYSLOG_IDENTIFIER": "vm-x-stdout", "MESSAGE": "booted", "file": "stdout", "__REALTIME_TIMESTAMP": "2025-01-01 00:00:00"},
                {"SYSLOG_IDENTIFIER": "vm-x-stderr", "MESSAGE": [104, 105], "file": "stderr", "__REALTIME_TIMESTAMP": 1}]"#,
        )
        .unwrap();
        assert_eq!(lines[0].text(), "booted");
        assert_eq!(lines[1].text(), "hi");
    }
}
