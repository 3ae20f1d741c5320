//! Owner operations, verifier side: the `X-SignedPubKey` / `X-SignedOperation` pair exactly as
//! aleph-vm's `views/authentication.py` accepts it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use super::iso_time::parse_aware;
use super::jwk::{verify_es256, verifying_key_from_jwk};
use crate::chain::pycompat::fromhex;
use crate::chain::{ethereum, solana, Chain};

/// The header holding the wallet-signed ephemeral key.
pub const SIGNED_PUBKEY_HEADER: &str = "X-SignedPubKey";
/// The header holding the operation signed by the ephemeral key.
pub const SIGNED_OPERATION_HEADER: &str = "X-SignedOperation";
/// How far an operation's `time` may be from the verifier's clock, either way (inclusive).
pub const OPERATION_TIME_TOLERANCE_SECS: i64 = 120;
/// The methods an operation may name.
pub const OPERATION_METHODS: [&str; 3] = ["GET", "POST", "DELETE"];

/// Who signed an authenticated operation: the wallet that authorized the ephemeral key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedSender {
    /// The address as written in the signed pubkey payload (an ETH address in any case, or a
    /// base58 Solana key). Compare it with a VM owner ignoring case, as the reference does.
    pub address: String,
    /// `ETH` (every EVM wallet signs as `ETH`) or `SOL`.
    pub chain: Chain,
}

/// Why an owner operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VmAuthError {
    /// A header is absent (or empty).
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header is not the expected JSON, hex, fields or times.
    #[error("invalid {header}: {reason}")]
    Malformed {
        /// The header at fault.
        header: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The pubkey payload names a chain whose wallets the CRN cannot verify (only `ETH` and
    /// `SOL` are).
    #[error("unsupported chain {0}: only ETH and SOL wallets can authorize a key")]
    UnsupportedChain(String),
    /// The ephemeral key's authorization has expired.
    #[error("token expired at {expires}")]
    Expired {
        /// The payload's `expires`.
        expires: String,
    },
    /// The wallet signature over the pubkey payload does not verify for its address.
    #[error("invalid signature of the ephemeral key by {address}")]
    BadWalletSignature {
        /// The address the payload claims.
        address: String,
    },
    /// The operation's time is more than [`OPERATION_TIME_TOLERANCE_SECS`] away from now.
    #[error("operation time {time} is too far in the {}", if *.future { "future" } else { "past" })]
    TimeSkew {
        /// The operation's `time`.
        time: String,
        /// Whether it is ahead of the verifier's clock (else behind).
        future: bool,
    },
    /// The operation was signed for another domain.
    #[error("invalid domain: signed {signed:?}, expected {expected:?}")]
    WrongDomain {
        /// The signed domain.
        signed: String,
        /// The CRN's domain.
        expected: String,
    },
    /// The operation was signed for another path.
    #[error("invalid path: signed {signed:?}, requested {expected:?}")]
    WrongPath {
        /// The signed path.
        signed: String,
        /// The requested path.
        expected: String,
    },
    /// The operation was signed for another method.
    #[error("invalid method: signed {signed:?}, requested {expected:?}")]
    WrongMethod {
        /// The signed method.
        signed: String,
        /// The request's method.
        expected: String,
    },
    /// The operation's ES256 signature does not verify with the authorized ephemeral key.
    #[error("the operation signature does not verify with the authorized key")]
    BadOperationSignature,
}

impl VmAuthError {
    /// The HTTP status aleph-vm answers with for this refusal (the body being
    /// `{"error": <reason>}`): 400 for missing or malformed headers (a stale operation time
    /// included, as the reference rejects it while parsing), 401 for the rest.
    pub fn http_status(&self) -> u16 {
        match self {
            VmAuthError::MissingHeader(_)
            | VmAuthError::Malformed { .. }
            | VmAuthError::UnsupportedChain(_)
            | VmAuthError::TimeSkew { .. } => 400,
            _ => 401,
        }
    }
}

type Result<T, E = VmAuthError> = std::result::Result<T, E>;

fn malformed(header: &'static str, reason: impl Into<String>) -> VmAuthError {
    VmAuthError::Malformed { header, reason: reason.into() }
}

/// Verifies an owner operation from its two header values, for a request of `expected_method`
/// on `expected_path` (the percent-decoded path without the query, as aiohttp's
/// `request.path`) to the CRN whose domain is `expected_domain`, at `now`.
///
/// The checks run in the reference's order: the pubkey header (JSON, hex, payload fields,
/// expiry, wallet signature), then the operation header (JSON, hex, fields, time within
/// ±2 minutes), domain, path, method, and last the ES256 signature.
pub fn verify_signed_operation(
    pubkey_header: &str,
    operation_header: &str,
    expected_method: &str,
    expected_domain: &str,
    expected_path: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticatedSender> {
    if pubkey_header.is_empty() {
        return Err(VmAuthError::MissingHeader(SIGNED_PUBKEY_HEADER));
    }
    let pubkey_json: Value =
        serde_json::from_str(pubkey_header).map_err(|_| malformed(SIGNED_PUBKEY_HEADER, "not JSON"))?;
    let authorized = verify_signed_pubkey(&pubkey_json, now)?;
    let operation_json: Value =
        serde_json::from_str(operation_header).map_err(|_| malformed(SIGNED_OPERATION_HEADER, "not JSON"))?;
    let operation = parse_operation(&operation_json, now)?;
    check_domain(&operation, expected_domain)?;
    if operation.path != expected_path {
        return Err(VmAuthError::WrongPath { signed: operation.path, expected: expected_path.to_owned() });
    }
    if operation.method != expected_method {
        return Err(VmAuthError::WrongMethod {
            signed: operation.method,
            expected: expected_method.to_owned(),
        });
    }
    check_operation_signature(&authorized, &operation)?;
    Ok(authorized.sender)
}

/// Verifies the first frame of a log stream (`/control/machine/{ref}/stream_logs`), whose
/// `auth` member holds the two headers as JSON objects: `{"X-SignedPubKey": {…},
/// "X-SignedOperation": {…}}`. As in the reference, only the domain of the operation is bound
/// (not its path or method); expiry, time and both signatures are checked as for headers.
pub fn verify_websocket_auth(
    auth: &Value,
    expected_domain: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticatedSender> {
    let pubkey_json =
        auth.get(SIGNED_PUBKEY_HEADER).ok_or(VmAuthError::MissingHeader(SIGNED_PUBKEY_HEADER))?;
    let operation_json =
        auth.get(SIGNED_OPERATION_HEADER).ok_or(VmAuthError::MissingHeader(SIGNED_OPERATION_HEADER))?;
    let authorized = verify_signed_pubkey(pubkey_json, now)?;
    let operation = parse_operation(operation_json, now)?;
    check_domain(&operation, expected_domain)?;
    check_operation_signature(&authorized, &operation)?;
    Ok(authorized.sender)
}

/// A wallet-authorized ephemeral key.
struct Authorized {
    sender: AuthenticatedSender,
    jwk: Map<String, Value>,
}

/// An operation payload, parsed, with its signed bytes.
struct Operation {
    method: String,
    domain: String,
    path: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// The `payload` (hex, no prefix allowed) and `signature` (hex, optional `0x`) of a header
/// object, decoded as Python's `bytes.fromhex` does. Other members (`sender`, `content`) are
/// ignored.
fn decode_signed(header: &'static str, value: &Value) -> Result<(Vec<u8>, Vec<u8>)> {
    let obj = value.as_object().ok_or_else(|| malformed(header, "not a JSON object"))?;
    let field = |name: &str| {
        obj.get(name).and_then(Value::as_str).ok_or_else(|| malformed(header, format!("no `{name}` string")))
    };
    let signature_hex = field("signature")?;
    let signature = fromhex(signature_hex.strip_prefix("0x").unwrap_or(signature_hex))
        .ok_or_else(|| malformed(header, "`signature` is not hex"))?;
    let payload = fromhex(field("payload")?).ok_or_else(|| malformed(header, "`payload` is not hex"))?;
    Ok((payload, signature))
}

fn verify_signed_pubkey(value: &Value, now: DateTime<Utc>) -> Result<Authorized> {
    const H: &str = SIGNED_PUBKEY_HEADER;
    let (payload, signature) = decode_signed(H, value)?;
    let content: Value = serde_json::from_slice(&payload).map_err(|_| malformed(H, "payload is not JSON"))?;
    let obj = content.as_object().ok_or_else(|| malformed(H, "payload is not a JSON object"))?;
    let jwk = obj
        .get("pubkey")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(H, "payload has no `pubkey` object"))?;
    let text = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(H, format!("payload has no `{name}` string")))
    };
    let address = text("address")?;
    let expires_text = text("expires")?;
    let chain_text = match obj.get("chain") {
        None => "ETH",
        Some(Value::String(chain)) => chain,
        Some(_) => return Err(malformed(H, "`chain` is not a string")),
    };
    let chain: Chain =
        chain_text.parse().map_err(|_| malformed(H, format!("unknown chain {chain_text:?}")))?;

    let expires = parse_aware(expires_text).ok_or_else(|| {
        malformed(H, format!("`expires` {expires_text:?} is not an ISO time with an offset"))
    })?;
    if expires <= now {
        return Err(VmAuthError::Expired { expires: expires_text.to_owned() });
    }
    let bad = || VmAuthError::BadWalletSignature { address: address.to_owned() };
    match chain {
        Chain::Eth => {
            let raw: [u8; 65] = signature
                .as_slice()
                .try_into()
                .map_err(|_| malformed(H, "an Ethereum signature is 65 bytes"))?;
            let (rs, parity) = ethereum::split_signature(&raw).map_err(|e| malformed(H, e.to_string()))?;
            let signer =
                ethereum::recover_address(&ethereum::eip191_digest(&payload), &rs, parity).ok_or_else(bad)?;
            if format!("0x{}", hex::encode(signer)) != address.to_lowercase() {
                return Err(bad());
            }
        }
        Chain::Sol => {
            let key = bs58::decode(address).into_vec().map_err(|_| bad())?;
            // The wallet signs the payload's lowercase hex text, not its bytes.
            solana::verify_detached(&key, &signature, hex::encode(&payload).as_bytes()).map_err(
                |e| match e {
                    crate::verify::VerifyError::Malformed(reason) => malformed(H, reason),
                    _ => bad(),
                },
            )?;
        }
        other => return Err(VmAuthError::UnsupportedChain(other.as_str().to_owned())),
    }
    Ok(Authorized { sender: AuthenticatedSender { address: address.to_owned(), chain }, jwk: jwk.clone() })
}

fn parse_operation(value: &Value, now: DateTime<Utc>) -> Result<Operation> {
    const H: &str = SIGNED_OPERATION_HEADER;
    let (payload, signature) = decode_signed(H, value)?;
    let content: Value = serde_json::from_slice(&payload).map_err(|_| malformed(H, "payload is not JSON"))?;
    let obj = content.as_object().ok_or_else(|| malformed(H, "payload is not a JSON object"))?;
    let text = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(H, format!("payload has no `{name}` string")))
    };
    let time_text = text("time")?;
    let method = text("method")?;
    let domain = text("domain")?;
    let path = text("path")?;
    let time = parse_aware(time_text)
        .ok_or_else(|| malformed(H, format!("`time` {time_text:?} is not an ISO time with an offset")))?;
    if !OPERATION_METHODS.contains(&method) {
        return Err(malformed(H, format!("method {method:?} is not one of GET, POST, DELETE")));
    }
    let tolerance = TimeDelta::seconds(OPERATION_TIME_TOLERANCE_SECS);
    if time < now - tolerance || time > now + tolerance {
        return Err(VmAuthError::TimeSkew { time: time_text.to_owned(), future: time > now });
    }
    Ok(Operation {
        method: method.to_owned(),
        domain: domain.to_owned(),
        path: path.to_owned(),
        payload,
        signature,
    })
}

fn check_domain(operation: &Operation, expected: &str) -> Result<()> {
    if operation.domain != expected {
        return Err(VmAuthError::WrongDomain {
            signed: operation.domain.clone(),
            expected: expected.to_owned(),
        });
    }
    Ok(())
}

fn check_operation_signature(authorized: &Authorized, operation: &Operation) -> Result<()> {
    let key =
        verifying_key_from_jwk(&authorized.jwk).map_err(|reason| malformed(SIGNED_PUBKEY_HEADER, reason))?;
    if verify_es256(&key, &operation.payload, &operation.signature) {
        Ok(())
    } else {
        Err(VmAuthError::BadOperationSignature)
    }
}
