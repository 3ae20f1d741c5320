//! Scheduler requests: `Authorization: Aleph-EIP191-V1 sig=…,payload=…`, as aleph-vm's
//! `views/allocation_auth.py` verifies it and its tests sign it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::chain::pycompat::{fromhex, is_py_space, push_json_string};
use crate::chain::{ethereum, ChainFamily};
use crate::signer::{SignError, Signer, SigningPayload};

/// The auth scheme (matched ignoring case).
pub const SCHEDULER_AUTH_SCHEME: &str = "Aleph-EIP191-V1";
/// The scheduler keys a CRN trusts when neither its configuration nor the network's settings
/// aggregate (`authorized_allocation_signers`) name any.
pub const DEFAULT_SCHEDULER_SIGNERS: [&str; 1] = ["0x2937f62e5F81A88e921f883f8fE56ceCf4A4A44A"];
/// How far `iat` may be from the verifier's clock, either way (inclusive).
pub const SCHEDULER_MAX_AGE_SECS: i64 = 300;
/// The largest body a signed request may carry.
pub const MAX_SIGNED_BODY_BYTES: usize = 1024 * 1024;

/// Why a scheduler request was refused. The reference answers every one of them with
/// 401 "Authentication token received is invalid".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerAuthError {
    /// The `Authorization` header names another scheme.
    #[error("unsupported auth scheme {0:?}")]
    WrongScheme(String),
    /// The header's parameters, hex, payload JSON or payload fields are malformed.
    #[error("malformed scheduler authorization: {0}")]
    Malformed(String),
    /// `iat` is more than the allowed age away from now.
    #[error("the signature's iat {iat} is outside the accepted window")]
    Stale {
        /// The payload's `iat`.
        iat: i64,
    },
    /// The payload was signed for another method.
    #[error("signed for another method")]
    WrongMethod,
    /// The payload was signed for another path.
    #[error("signed for another path")]
    WrongPath,
    /// The request has a query string, which the signature does not cover.
    #[error("signed requests may not carry a query string")]
    QueryString,
    /// No address can be recovered from the signature.
    #[error("invalid signature")]
    BadSignature,
    /// The recovered signer is not an authorized scheduler.
    #[error("{0} is not an authorized scheduler")]
    UnauthorizedSigner(String),
    /// The body is larger than the policy allows.
    #[error("body of {0} bytes is too large")]
    BodyTooLarge(usize),
    /// The body does not hash to the signed `body_sha256`.
    #[error("the body does not match the signed body_sha256")]
    BodyMismatch,
    /// The exact payload was already accepted (see [`ReplayGuard`](super::ReplayGuard)).
    #[error("replayed payload")]
    Replay,
}

/// The parts of an HTTP request that a scheduler signature binds.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerRequest<'a> {
    /// The method (`POST`).
    pub method: &'a str,
    /// The path without the query (`/control/allocations`), percent-decoded as aiohttp's
    /// `request.path`.
    pub path: &'a str,
    /// The raw query string without `?` (must be empty).
    pub query: &'a str,
    /// The body bytes.
    pub body: &'a [u8],
}

/// A verified scheduler request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerAuth {
    /// The recovered signer, EIP-55 checksummed.
    pub signer: String,
    /// The payload's `iat` (Unix seconds).
    pub iat: i64,
    /// SHA-256 of the signed payload bytes: what replay protection remembers.
    pub payload_sha256: [u8; 32],
}

/// Which scheduler keys are trusted, and the limits of the scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerPolicy {
    signers: Vec<String>,
    /// How far `iat` may be from now (default [`SCHEDULER_MAX_AGE_SECS`]).
    pub max_age_secs: i64,
    /// The largest accepted body (default [`MAX_SIGNED_BODY_BYTES`]).
    pub max_body_bytes: usize,
}

impl Default for SchedulerPolicy {
    /// Trusts [`DEFAULT_SCHEDULER_SIGNERS`] with the reference's limits.
    fn default() -> Self {
        SchedulerPolicy::new(DEFAULT_SCHEDULER_SIGNERS)
    }
}

impl SchedulerPolicy {
    /// Trusts `signers` (ETH addresses, any case), with the reference's limits.
    pub fn new<I, A>(signers: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<str>,
    {
        SchedulerPolicy {
            signers: signers.into_iter().map(|a| a.as_ref().to_ascii_lowercase()).collect(),
            max_age_secs: SCHEDULER_MAX_AGE_SECS,
            max_body_bytes: MAX_SIGNED_BODY_BYTES,
        }
    }

    /// The trusted addresses, lower-cased.
    pub fn signers(&self) -> &[String] {
        &self.signers
    }

    /// Verifies the `Authorization` header value of `request` at `now`.
    ///
    /// Checks in the reference's order: scheme and parameters (exactly `sig` and `payload`),
    /// payload hex and JSON with `method`, `path`, `body_sha256` and an integer `iat`; then
    /// `|iat − now| ≤ max_age`, method, path and an empty query; then the EIP-191 signer and its
    /// authorization; then the body size and hash. Exact replays are the caller's
    /// [`ReplayGuard`](super::ReplayGuard)'s to reject, after this succeeds.
    pub fn verify(
        &self,
        authorization: &str,
        request: &SchedulerRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<SchedulerAuth, SchedulerAuthError> {
        let (sig, payload_hex) = parse_params(authorization)?;
        let payload = fromhex(payload_hex.strip_prefix("0x").unwrap_or(payload_hex))
            .ok_or_else(|| SchedulerAuthError::Malformed("payload is not hex".into()))?;
        let content: Value = serde_json::from_slice(&payload)
            .map_err(|_| SchedulerAuthError::Malformed("payload is not JSON".into()))?;
        let fields = content
            .as_object()
            .ok_or_else(|| SchedulerAuthError::Malformed("payload is not a JSON object".into()))?;
        for name in ["method", "path", "body_sha256", "iat"] {
            if !fields.contains_key(name) {
                return Err(SchedulerAuthError::Malformed(format!("payload has no `{name}`")));
            }
        }
        let iat = match &fields["iat"] {
            Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
            _ => return Err(SchedulerAuthError::Malformed("iat is not a JSON integer".into())),
        };

        let now_nanos =
            i128::from(now.timestamp()) * 1_000_000_000 + i128::from(now.timestamp_subsec_nanos());
        let age_nanos = (i128::from(iat) * 1_000_000_000 - now_nanos).abs();
        if age_nanos > i128::from(self.max_age_secs) * 1_000_000_000 {
            return Err(SchedulerAuthError::Stale { iat });
        }
        if fields["method"].as_str() != Some(request.method) {
            return Err(SchedulerAuthError::WrongMethod);
        }
        if fields["path"].as_str() != Some(request.path) {
            return Err(SchedulerAuthError::WrongPath);
        }
        if !request.query.is_empty() {
            return Err(SchedulerAuthError::QueryString);
        }

        let raw = fromhex(sig.strip_prefix("0x").unwrap_or(sig))
            .ok_or_else(|| SchedulerAuthError::Malformed("sig is not hex".into()))?;
        let raw: [u8; 65] =
            raw.try_into().map_err(|_| SchedulerAuthError::Malformed("sig is not 65 bytes".into()))?;
        let (rs, parity) =
            ethereum::split_signature(&raw).map_err(|e| SchedulerAuthError::Malformed(e.to_string()))?;
        let signer = ethereum::recover_address(&ethereum::eip191_digest(&payload), &rs, parity)
            .ok_or(SchedulerAuthError::BadSignature)?;
        let signer_lower = format!("0x{}", hex::encode(signer));
        if !self.signers.contains(&signer_lower) {
            return Err(SchedulerAuthError::UnauthorizedSigner(ethereum::to_checksum_address(&signer)));
        }

        if request.body.len() > self.max_body_bytes {
            return Err(SchedulerAuthError::BodyTooLarge(request.body.len()));
        }
        if fields["body_sha256"].as_str() != Some(hex::encode(Sha256::digest(request.body)).as_str()) {
            return Err(SchedulerAuthError::BodyMismatch);
        }
        Ok(SchedulerAuth {
            signer: ethereum::to_checksum_address(&signer),
            iat,
            payload_sha256: Sha256::digest(&payload).into(),
        })
    }
}

/// Splits `Aleph-EIP191-V1 sig=…,payload=…` into `(sig, payload)`: the scheme up to the first
/// space (ignoring case), then comma-separated `key=value` pairs (surrounding whitespace
/// trimmed, the last of duplicate keys kept), exactly `sig` and `payload`.
fn parse_params(header: &str) -> Result<(&str, &str), SchedulerAuthError> {
    let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case(SCHEDULER_AUTH_SCHEME) || !header.contains(' ') {
        return Err(SchedulerAuthError::WrongScheme(scheme.to_owned()));
    }
    let params = params.trim_matches(is_py_space);
    if params.is_empty() {
        return Err(SchedulerAuthError::Malformed("no parameters".into()));
    }
    let (mut sig, mut payload) = (None, None);
    for pair in params.split(',') {
        let pair = pair.trim_matches(is_py_space);
        let (key, value) = pair
            .split_once('=')
            .filter(|(_, value)| !value.is_empty())
            .ok_or_else(|| SchedulerAuthError::Malformed(format!("malformed parameter {pair:?}")))?;
        match key {
            "sig" => sig = Some(value),
            "payload" => payload = Some(value),
            other => return Err(SchedulerAuthError::Malformed(format!("unknown parameter {other:?}"))),
        }
    }
    match (sig, payload) {
        (Some(sig), Some(payload)) => Ok((sig, payload)),
        _ => Err(SchedulerAuthError::Malformed("`sig` and `payload` are both required".into())),
    }
}

/// The signed payload: `{"body_sha256":"<hex>","iat":<int>,"method":"…","path":"…"}`, keys
/// sorted and no spaces (Python's `json.dumps(…, sort_keys=True, separators=(",", ":"))`, as
/// aleph-vm's tests sign it).
pub fn scheduler_payload(method: &str, path: &str, body: &[u8], iat: i64) -> String {
    let mut out = String::from(r#"{"body_sha256":""#);
    out.push_str(&hex::encode(Sha256::digest(body)));
    out.push_str(&format!(r#"","iat":{iat},"method":"#));
    push_json_string(&mut out, method);
    out.push_str(r#","path":"#);
    push_json_string(&mut out, path);
    out.push('}');
    out
}

/// The `Authorization` value for a scheduler request signed by an EVM `signer` at `now`
/// (`iat` = whole seconds): `Aleph-EIP191-V1 sig=0x<65 bytes hex>,payload=<payload hex>`.
pub fn sign_scheduler_request<S: Signer + ?Sized>(
    signer: &S,
    method: &str,
    path: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<String, SignError> {
    if signer.chain().family() != ChainFamily::Evm {
        return Err(SignError::WrongChain(signer.chain()));
    }
    let payload = scheduler_payload(method, path, body, now.timestamp());
    let sig = signer.sign_payload(&SigningPayload { buffer: payload.as_bytes(), time: 0.0 })?;
    let sig = sig.strip_prefix("0x").unwrap_or(&sig);
    Ok(format!("{SCHEDULER_AUTH_SCHEME} sig=0x{sig},payload={}", hex::encode(payload.as_bytes())))
}
