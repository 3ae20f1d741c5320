//! Owner operations, signer side: what the Python SDK's `VmClient` sends.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::iso_time::format_utc;
use super::jwk::EphemeralKey;
use crate::chain::pycompat::push_json_string;
use crate::chain::{Chain, ChainFamily};
use crate::signer::{SignError, Signer, SigningPayload};

/// How long the Python SDK authorizes an ephemeral key for: one day.
pub const EPHEMERAL_KEY_VALIDITY_SECS: i64 = 86_400;

/// The two header values of one owner operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationHeaders {
    /// The `X-SignedPubKey` value (the same for every operation of one [`OperationSigner`]).
    pub signed_pubkey: String,
    /// The `X-SignedOperation` value.
    pub signed_operation: String,
}

/// An ephemeral key authorized by a wallet, signing owner operations for a CRN.
///
/// Built once per wallet (one wallet signature), then each operation costs one ES256 signature.
/// The payloads are written with the members, order and spacing of the Python SDK.
#[derive(Debug, Clone)]
pub struct OperationSigner {
    key: EphemeralKey,
    address: String,
    chain: Chain,
    expires: DateTime<Utc>,
    signed_pubkey: String,
}

impl OperationSigner {
    /// A fresh ephemeral key authorized by `wallet` for [`EPHEMERAL_KEY_VALIDITY_SECS`] from
    /// `now`. `domain` (the CRN's host) goes into the authorization as the SDK writes it,
    /// though CRNs do not check it there.
    ///
    /// Ethereum and every EVM wallet sign with EIP-191 (and authorize as `ETH`); Solana and
    /// Eclipse wallets with ed25519 (as `SOL`). Other chains fail with
    /// [`SignError::WrongChain`], as CRNs cannot verify them.
    pub fn new<S: Signer + ?Sized>(wallet: &S, domain: &str, now: DateTime<Utc>) -> Result<Self, SignError> {
        let expires = now + TimeDelta::seconds(EPHEMERAL_KEY_VALIDITY_SECS);
        Self::with_key(wallet, EphemeralKey::random(), domain, expires)
    }

    /// Authorizes a given ephemeral key until `expires`.
    pub fn with_key<S: Signer + ?Sized>(
        wallet: &S,
        key: EphemeralKey,
        domain: &str,
        expires: DateTime<Utc>,
    ) -> Result<Self, SignError> {
        let address = wallet.address().to_owned();
        let chain = match wallet.chain().family() {
            ChainFamily::Evm => Chain::Eth,
            ChainFamily::Svm => Chain::Sol,
            _ => return Err(SignError::WrongChain(wallet.chain())),
        };
        let mut payload = String::from(r#"{"pubkey": "#);
        payload.push_str(&key.public_jwk());
        payload.push_str(r#", "alg": "ECDSA", "domain": "#);
        push_json_string(&mut payload, domain);
        payload.push_str(r#", "address": "#);
        push_json_string(&mut payload, &address);
        payload.push_str(r#", "expires": "#);
        push_json_string(&mut payload, &format_utc(expires));
        payload.push_str(r#", "chain": "#);
        push_json_string(&mut payload, chain.as_str());
        payload.push('}');
        let payload_hex = hex::encode(payload.as_bytes());
        let signature = wallet_signature(wallet, chain, payload.as_bytes(), &payload_hex)?;

        let mut header = String::from(r#"{"sender": "#);
        push_json_string(&mut header, &address);
        header.push_str(r#", "payload": "#);
        push_json_string(&mut header, &payload_hex);
        header.push_str(r#", "signature": "#);
        push_json_string(&mut header, &signature);
        header.push_str(r#", "content": {"domain": "#);
        push_json_string(&mut header, domain);
        header.push_str("}}");
        Ok(OperationSigner { key, address, chain, expires, signed_pubkey: header })
    }

    /// The wallet's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The chain the key is authorized as (`ETH` or `SOL`).
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// When the authorization expires.
    pub fn expires(&self) -> DateTime<Utc> {
        self.expires
    }

    /// The ephemeral key.
    pub fn ephemeral_key(&self) -> &EphemeralKey {
        &self.key
    }

    /// The `X-SignedPubKey` value.
    pub fn signed_pubkey_header(&self) -> &str {
        &self.signed_pubkey
    }

    /// The `X-SignedOperation` value for `method` (upper-cased, as the SDK does) on `path` of the
    /// CRN `domain`, at `now`: `{"payload": hex, "signature": hex of ES256 r‖s}` over
    /// `{"time": …, "method": …, "path": …, "domain": …}`.
    pub fn signed_operation_header(
        &self,
        method: &str,
        domain: &str,
        path: &str,
        now: DateTime<Utc>,
    ) -> String {
        let mut payload = String::from(r#"{"time": "#);
        push_json_string(&mut payload, &format_utc(now));
        payload.push_str(r#", "method": "#);
        push_json_string(&mut payload, &method.to_ascii_uppercase());
        payload.push_str(r#", "path": "#);
        push_json_string(&mut payload, path);
        payload.push_str(r#", "domain": "#);
        push_json_string(&mut payload, domain);
        payload.push('}');
        let signature = self.key.sign(payload.as_bytes());
        format!(
            r#"{{"payload": "{}", "signature": "{}"}}"#,
            hex::encode(payload.as_bytes()),
            hex::encode(signature)
        )
    }

    /// Both header values for one operation.
    pub fn headers(&self, method: &str, domain: &str, path: &str, now: DateTime<Utc>) -> OperationHeaders {
        OperationHeaders {
            signed_pubkey: self.signed_pubkey.clone(),
            signed_operation: self.signed_operation_header(method, domain, path, now),
        }
    }

    /// The first frame of a log stream on `path` (`/control/machine/{ref}/stream_logs`):
    /// `{"auth": {"X-SignedPubKey": {…}, "X-SignedOperation": {…}}}`, the operation being a `GET`.
    pub fn websocket_auth_message(&self, domain: &str, path: &str, now: DateTime<Utc>) -> String {
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
        serde_json::json!({
            "auth": {
                super::SIGNED_PUBKEY_HEADER: parse(&self.signed_pubkey),
                super::SIGNED_OPERATION_HEADER: parse(&self.signed_operation_header("GET", domain, path, now)),
            }
        })
        .to_string()
    }
}

/// The wallet's signature of the pubkey payload, `0x`-hex: EIP-191 over the payload bytes for
/// EVM wallets; ed25519 over the payload's hex text for Solana wallets (as the SDK signs it).
fn wallet_signature<S: Signer + ?Sized>(
    wallet: &S,
    chain: Chain,
    payload: &[u8],
    payload_hex: &str,
) -> Result<String, SignError> {
    if chain == Chain::Eth {
        let signature = wallet.sign_payload(&SigningPayload { buffer: payload, time: 0.0 })?;
        return Ok(if signature.starts_with("0x") { signature } else { format!("0x{signature}") });
    }
    // A Solana signer's field is `{"publicKey": …, "signature": <base58>}`.
    let field = wallet.sign_payload(&SigningPayload { buffer: payload_hex.as_bytes(), time: 0.0 })?;
    let bad = || SignError::Crypto("the Solana signer returned an unexpected signature field".to_owned());
    let value: Value = serde_json::from_str(&field).map_err(|_| bad())?;
    let b58 = value.get("signature").and_then(Value::as_str).ok_or_else(bad)?;
    let raw = bs58::decode(b58).into_vec().map_err(|_| bad())?;
    Ok(format!("0x{}", hex::encode(raw)))
}
