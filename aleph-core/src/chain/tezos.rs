//! Tezos (`TEZOS`): keys on three curves (tz1 ed25519, tz2 secp256k1, tz3 P-256), base58check
//! encodings, and a signature field that is a JSON document inside a string.
//!
//! Every curve signs BLAKE2b-256 of the message bytes `M`. In `raw` mode (the default) `M` is the
//! verification buffer; in `micheline` mode it is the buffer wrapped the way Tezos web wallets sign
//! text, which also covers the dApp URL and the envelope time (see [`micheline_message`]).

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chrono::{Datelike, Timelike};
use ed25519_dalek::Signer as _;
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rand_core::{OsRng, RngCore};
use serde_json::Value;
use tezos_crypto_rs::hash::{
    Ed25519Signature, HashTrait, P256Signature, PublicKeyEd25519, PublicKeyP256, PublicKeySecp256k1,
    Secp256k1Signature,
};
use tezos_crypto_rs::public_key::PublicKey;
use tezos_crypto_rs::signature::Signature;
use tezos_crypto_rs::{PublicKeySignatureVerifier, PublicKeyWithHash};

use crate::chain::Chain;
use crate::message::SignedFields;
use crate::signer::{SignError, Signer, SigningPayload};
use crate::verify::VerifyError;

/// The dApp URL a `micheline` signature covers when its JSON has no `dAppUrl`.
pub const DEFAULT_DAPP_URL: &str = "aleph.im";

/// Base58check prefix of a 32-byte ed25519 seed (`edsk…`, 54 characters).
const EDSK_SEED_PREFIX: [u8; 4] = [13, 15, 58, 7];
/// Base58check prefix of a 64-byte ed25519 secret key, seed ‖ public key (`edsk…`, 98 characters).
const EDSK_KEYPAIR_PREFIX: [u8; 4] = [43, 246, 78, 7];
/// Base58check prefix of a secp256k1 secret key (`spsk…`, 54 characters).
const SPSK_PREFIX: [u8; 4] = [17, 162, 224, 201];
/// Base58check prefix of a P-256 secret key (`p2sk…`, 54 characters).
const P2SK_PREFIX: [u8; 4] = [16, 81, 238, 189];

type Blake2b256 = Blake2b<U32>;

/// BLAKE2b-256 (unkeyed, 32-byte output) of `bytes`: the digest every Tezos curve signs.
fn blake2b_256(bytes: &[u8]) -> [u8; 32] {
    Blake2b256::digest(bytes).into()
}

/// The curve of a Tezos key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TezosCurve {
    /// Ed25519: `edpk…` keys, `tz1…` addresses, `edsig…` signatures.
    Ed25519,
    /// secp256k1: `sppk…` keys, `tz2…` addresses, `spsig1…` signatures.
    Secp256k1,
    /// NIST P-256: `p2pk…` keys, `tz3…` addresses, `p2sig…` signatures.
    P256,
}

impl TezosCurve {
    /// The two-letter tag that starts the curve's keys and curve-specific signatures
    /// (`ed`, `sp`, `p2`).
    pub const fn tag(&self) -> &'static str {
        match self {
            TezosCurve::Ed25519 => "ed",
            TezosCurve::Secp256k1 => "sp",
            TezosCurve::P256 => "p2",
        }
    }
}

/// What a [`TezosSigner`] signs: the buffer itself, or the Micheline-wrapped form web wallets
/// produce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SigningMode {
    /// Sign the verification buffer; the signature JSON is exactly the official Python SDK's
    /// `{"publicKey": …, "signature": …}`.
    #[default]
    Raw,
    /// Sign the Micheline-wrapped buffer (which covers `dapp_url` and the envelope time); the
    /// signature JSON carries `"signingType": "micheline"` and the `dAppUrl`.
    Micheline {
        /// The dApp URL written into the signed payload and into `dAppUrl`.
        dapp_url: String,
    },
}

/// The envelope time as a `micheline` signature covers it: UTC, `%Y-%m-%dT%H:%M:%S.mmmZ`, where
/// the float seconds are first rounded to the microsecond (half-even, as CPython's
/// `datetime.fromtimestamp` does) and the microseconds then floored to milliseconds.
///
/// `None` when the time is not finite or falls outside years 1–9999.
pub fn micheline_timestamp(time: f64) -> Option<String> {
    let dt = crate::message::time::datetime_of(time)?;
    if !(1..=9999).contains(&dt.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.timestamp_subsec_micros() / 1000
    ))
}

/// The bytes a `micheline` signature covers:
/// `05 01 00 ‖ ASCII decimal of (2 × len(payload)) ‖ payload`, with
/// `payload = "Tezos Signed Message: " + dapp_url + " " + T + " " + buffer` and `T` from
/// [`micheline_timestamp`]. (The length field is the decimal length of the payload's *hex* text,
/// not Micheline's 4-byte length; this reproduces what the reference node checks.)
///
/// `None` when the time cannot be formatted.
pub fn micheline_message(buffer: &[u8], time: f64, dapp_url: &str) -> Option<Vec<u8>> {
    let timestamp = micheline_timestamp(time)?;
    let mut payload = Vec::with_capacity(40 + dapp_url.len() + buffer.len());
    payload.extend_from_slice(b"Tezos Signed Message: ");
    payload.extend_from_slice(dapp_url.as_bytes());
    payload.push(b' ');
    payload.extend_from_slice(timestamp.as_bytes());
    payload.push(b' ');
    payload.extend_from_slice(buffer);
    let hex_len = (2 * payload.len()).to_string();
    let mut out = Vec::with_capacity(3 + hex_len.len() + payload.len());
    out.extend_from_slice(&[0x05, 0x01, 0x00]);
    out.extend_from_slice(hex_len.as_bytes());
    out.extend_from_slice(&payload);
    Some(out)
}

/// Decodes a `edpk…`/`sppk…`/`p2pk…` public key; other key kinds (such as BLS `BLpk…`) are
/// refused.
fn decode_public_key(public_key: &str) -> Result<(PublicKey, TezosCurve), VerifyError> {
    // Keys are 54 or 55 characters; refuse long input before the quadratic base58 decoding.
    if public_key.len() > 55 {
        return Err(VerifyError::Malformed("Tezos public key too long".to_owned()));
    }
    let key = PublicKey::from_b58check(public_key)
        .map_err(|_| VerifyError::Malformed(format!("invalid Tezos public key {public_key:?}")))?;
    let curve = match key {
        PublicKey::Ed25519(_) => TezosCurve::Ed25519,
        PublicKey::Secp256k1(_) => TezosCurve::Secp256k1,
        PublicKey::P256(_) => TezosCurve::P256,
        PublicKey::Bls(_) => {
            return Err(VerifyError::Malformed("BLS (tz4) keys are not accepted".to_owned()));
        }
    };
    Ok((key, curve))
}

/// The `tz1…`/`tz2…`/`tz3…` address of a base58check public key (`edpk…`, `sppk…`, `p2pk…`):
/// base58check of BLAKE2b-160 of the key bytes. `None` for anything else.
pub fn address_of_public_key(public_key: &str) -> Option<String> {
    decode_public_key(public_key).ok().map(|(key, _)| key.pk_hash().to_b58check())
}

/// Whether 32 bytes encode a field element below 2²⁵⁵ − 19 (libsodium rejects other key
/// encodings).
fn is_canonical_ed25519_encoding(bytes: &[u8]) -> bool {
    let Some((&last, rest)) = bytes.split_last() else { return false };
    if last & 0x7f != 0x7f || rest.get(1..).is_none_or(|mid| mid.iter().any(|&b| b != 0xff)) {
        return true;
    }
    rest.first().is_some_and(|&b| b < 0xed)
}

/// Verifies a base58check signature by `key` over BLAKE2b-256 of `message`, with the reference's
/// rules: a curve-specific signature prefix must match the key's curve (the generic `sig…` fits
/// any); ed25519 is verified as libsodium does (canonical key and S, no small-order key or R);
/// secp256k1 requires low-S; P-256 accepts either S.
fn verify_with_key(
    key: &PublicKey,
    curve: TezosCurve,
    signature: &str,
    message: &[u8],
) -> Result<(), VerifyError> {
    if !signature.starts_with("sig") && !signature.starts_with(curve.tag()) {
        return Err(VerifyError::Malformed("signature and public key curves mismatch".to_owned()));
    }
    // Signatures are 96 to 99 characters; refuse long input before decoding it.
    if signature.len() > 99 {
        return Err(VerifyError::Malformed("Tezos signature too long".to_owned()));
    }
    let sig = Signature::from_base58_check(signature)
        .map_err(|_| VerifyError::Malformed(format!("invalid Tezos signature {signature:?}")))?;
    let sig_ok = matches!(
        (&sig, curve),
        (Signature::Unknown(_), _)
            | (Signature::Ed25519(_), TezosCurve::Ed25519)
            | (Signature::Secp256k1(_), TezosCurve::Secp256k1)
            | (Signature::P256(_), TezosCurve::P256)
    );
    if !sig_ok {
        return Err(VerifyError::Malformed("signature and public key curves mismatch".to_owned()));
    }
    match key {
        PublicKey::Ed25519(pk) => {
            if !is_canonical_ed25519_encoding(pk.as_ref()) {
                return Err(VerifyError::Invalid);
            }
            // tezos_crypto_rs hashes with BLAKE2b-256 and uses ed25519-dalek's `verify_strict`.
            match key.verify_signature(&sig, message) {
                Ok(true) => Ok(()),
                _ => Err(VerifyError::Invalid),
            }
        }
        PublicKey::Secp256k1(pk) => {
            // k256 (unlike tezos_crypto_rs' libsecp256k1 port) rejects high-S like libsecp256k1.
            let vk =
                k256::ecdsa::VerifyingKey::from_sec1_bytes(pk.as_ref()).map_err(|_| VerifyError::Invalid)?;
            let s = k256::ecdsa::Signature::from_slice(sig.as_ref()).map_err(|_| VerifyError::Invalid)?;
            vk.verify_prehash(&blake2b_256(message), &s).map_err(|_| VerifyError::Invalid)
        }
        PublicKey::P256(_) => match key.verify_signature(&sig, message) {
            Ok(true) => Ok(()),
            _ => Err(VerifyError::Invalid),
        },
        PublicKey::Bls(_) => Err(VerifyError::Invalid),
    }
}

/// Verifies a `TEZOS` message as the reference node does.
///
/// The signature field is a JSON object `{signature, publicKey, signingType?, dAppUrl?}`;
/// `signingType` is `"raw"` (the default) or `"micheline"`, `dAppUrl` defaults to
/// [`DEFAULT_DAPP_URL`]. The sender must be the key's address; the signature must verify over the
/// buffer (raw) or its [`micheline_message`] wrapping.
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let value: Value = serde_json::from_str(fields.signature)
        .map_err(|_| VerifyError::Malformed("signature is not a JSON document".to_owned()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| VerifyError::Malformed("signature is not a JSON object".to_owned()))?;
    let field = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| VerifyError::Malformed(format!("signature has no `{name}` string")))
    };
    let signature = field("signature")?;
    let public_key = field("publicKey")?;
    let micheline = match obj.get("signingType") {
        None => false,
        Some(Value::String(s)) if s == "raw" => false,
        Some(Value::String(s)) if s == "micheline" => true,
        Some(other) => return Err(VerifyError::Malformed(format!("unsupported signingType {other}"))),
    };
    let dapp_url = match obj.get("dAppUrl") {
        None => DEFAULT_DAPP_URL,
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(VerifyError::Malformed(format!("dAppUrl is not a string: {other}"))),
    };

    let (key, curve) = decode_public_key(public_key)?;
    let address = key.pk_hash().to_b58check();
    if address != fields.sender {
        return Err(VerifyError::WrongSigner { sender: fields.sender.to_owned(), signer: address });
    }

    let buffer = fields.buffer();
    let message = if micheline {
        micheline_message(&buffer, fields.time, dapp_url)
            .ok_or_else(|| VerifyError::Malformed(format!("time {} cannot be formatted", fields.time)))?
    } else {
        buffer
    };
    verify_with_key(&key, curve, signature, &message)
}

/// A secret key on one of the three curves.
#[derive(Clone)]
enum SecretKey {
    Ed25519(ed25519_dalek::SigningKey),
    Secp256k1(k256::ecdsa::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A Tezos key signing `TEZOS` messages, on any of the three curves, in raw (default) or
/// Micheline mode.
///
/// Ed25519 signing is byte-identical to the official Python SDK (`TezosAccount`); secp256k1 and
/// P-256 signatures are RFC 6979 deterministic and low-S.
#[derive(Clone)]
pub struct TezosSigner {
    key: SecretKey,
    public_key: String,
    address: String,
    mode: SigningMode,
}

impl std::fmt::Debug for TezosSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TezosSigner")
            .field("curve", &self.curve())
            .field("address", &self.address)
            .field("public_key", &self.public_key)
            .field("mode", &self.mode)
            .finish()
    }
}

fn invalid_key(what: &str) -> SignError {
    SignError::InvalidKey(what.to_owned())
}

impl TezosSigner {
    fn from_key(key: SecretKey) -> Result<Self, SignError> {
        let public_key = match &key {
            SecretKey::Ed25519(k) => PublicKeyEd25519::try_from(&k.verifying_key().to_bytes()[..])
                .map(PublicKey::Ed25519)
                .map_err(|e| SignError::Crypto(e.to_string()))?,
            SecretKey::Secp256k1(k) => {
                let point = k.verifying_key().to_encoded_point(true);
                PublicKeySecp256k1::try_from(point.as_bytes())
                    .map(PublicKey::Secp256k1)
                    .map_err(|e| SignError::Crypto(e.to_string()))?
            }
            SecretKey::P256(k) => {
                let point = k.verifying_key().to_encoded_point(true);
                PublicKeyP256::try_from(point.as_bytes())
                    .map(PublicKey::P256)
                    .map_err(|e| SignError::Crypto(e.to_string()))?
            }
        };
        Ok(TezosSigner {
            address: public_key.pk_hash().to_b58check(),
            public_key: public_key.to_b58check(),
            key,
            mode: SigningMode::Raw,
        })
    }

    /// A signer from a 32-byte secret on `curve`: the ed25519 seed (as pytezos
    /// `Key.from_secret_exponent` takes it), or the secp256k1 / P-256 secret scalar.
    pub fn from_secret_bytes(curve: TezosCurve, secret: &[u8; 32]) -> Result<Self, SignError> {
        let key = match curve {
            TezosCurve::Ed25519 => SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(secret)),
            TezosCurve::Secp256k1 => SecretKey::Secp256k1(
                k256::ecdsa::SigningKey::from_bytes(secret.into())
                    .map_err(|_| invalid_key("secp256k1 scalar out of range"))?,
            ),
            TezosCurve::P256 => SecretKey::P256(
                p256::ecdsa::SigningKey::from_bytes(secret.into())
                    .map_err(|_| invalid_key("P-256 scalar out of range"))?,
            ),
        };
        Self::from_key(key)
    }

    /// A signer from a hex secret (with or without `0x`) on `curve`; see
    /// [`TezosSigner::from_secret_bytes`].
    pub fn from_hex(curve: TezosCurve, secret: &str) -> Result<Self, SignError> {
        let secret = secret.trim();
        let hex_part = secret.strip_prefix("0x").unwrap_or(secret);
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| invalid_key("expected 32 bytes of hex"))?;
        Self::from_secret_bytes(curve, &bytes)
    }

    /// A signer from an unencrypted base58check secret key: `edsk…` (the 54-character seed form or
    /// the 98-character seed ‖ public key form, whose public half must match), `spsk…` or `p2sk…`.
    pub fn from_secret_key(secret_key: &str) -> Result<Self, SignError> {
        let secret_key = secret_key.trim();
        if secret_key.len() > 98 {
            return Err(invalid_key("secret key too long"));
        }
        let bytes = bs58::decode(secret_key)
            .with_check(None)
            .into_vec()
            .map_err(|_| invalid_key("not a base58check string"))?;
        let (prefix, data) = bytes.split_at_checked(4).ok_or_else(|| invalid_key("too short"))?;
        let secret32 = || <[u8; 32]>::try_from(data).map_err(|_| invalid_key("wrong secret key length"));
        if prefix == EDSK_SEED_PREFIX {
            Self::from_secret_bytes(TezosCurve::Ed25519, &secret32()?)
        } else if prefix == EDSK_KEYPAIR_PREFIX {
            let pair = <[u8; 64]>::try_from(data).map_err(|_| invalid_key("wrong secret key length"))?;
            let key = ed25519_dalek::SigningKey::from_keypair_bytes(&pair)
                .map_err(|_| invalid_key("the public half of the edsk key does not match its seed"))?;
            Self::from_key(SecretKey::Ed25519(key))
        } else if prefix == SPSK_PREFIX {
            Self::from_secret_bytes(TezosCurve::Secp256k1, &secret32()?)
        } else if prefix == P2SK_PREFIX {
            Self::from_secret_bytes(TezosCurve::P256, &secret32()?)
        } else {
            Err(invalid_key("expected an unencrypted edsk…, spsk… or p2sk… secret key"))
        }
    }

    /// A fresh random key on `curve`.
    pub fn random(curve: TezosCurve) -> Result<Self, SignError> {
        let key = match curve {
            TezosCurve::Ed25519 => {
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            TezosCurve::Secp256k1 => SecretKey::Secp256k1(k256::ecdsa::SigningKey::random(&mut OsRng)),
            TezosCurve::P256 => SecretKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
        };
        Self::from_key(key)
    }

    /// The same key signing in `mode`.
    pub fn with_mode(mut self, mode: SigningMode) -> Self {
        self.mode = mode;
        self
    }

    /// The signing mode.
    pub fn mode(&self) -> &SigningMode {
        &self.mode
    }

    /// The key's curve.
    pub fn curve(&self) -> TezosCurve {
        match self.key {
            SecretKey::Ed25519(_) => TezosCurve::Ed25519,
            SecretKey::Secp256k1(_) => TezosCurve::Secp256k1,
            SecretKey::P256(_) => TezosCurve::P256,
        }
    }

    /// The base58check public key (`edpk…`, `sppk…`, `p2pk…`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The 32-byte secret: the ed25519 seed, or the secp256k1 / P-256 scalar.
    pub fn secret_bytes(&self) -> [u8; 32] {
        match &self.key {
            SecretKey::Ed25519(k) => k.to_bytes(),
            SecretKey::Secp256k1(k) => k.to_bytes().into(),
            SecretKey::P256(k) => k.to_bytes().into(),
        }
    }

    /// The base58check secret key: `edsk…` (54-character seed form, as pytezos exports it),
    /// `spsk…` or `p2sk…`. [`TezosSigner::from_secret_key`] reads it back.
    pub fn secret_key(&self) -> String {
        let prefix = match self.curve() {
            TezosCurve::Ed25519 => EDSK_SEED_PREFIX,
            TezosCurve::Secp256k1 => SPSK_PREFIX,
            TezosCurve::P256 => P2SK_PREFIX,
        };
        let mut data = Vec::with_capacity(36);
        data.extend_from_slice(&prefix);
        data.extend_from_slice(&self.secret_bytes());
        bs58::encode(data).with_check().into_string()
    }

    /// Signs BLAKE2b-256 of `message` and returns the curve-specific base58check signature
    /// (`edsig…`, `spsig1…`, `p2sig…`).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<String, SignError> {
        let digest = blake2b_256(message);
        let crypto = |e: &dyn std::fmt::Display| SignError::Crypto(e.to_string());
        match &self.key {
            SecretKey::Ed25519(k) => {
                let sig = k.sign(&digest).to_bytes();
                Ed25519Signature::try_from(&sig[..]).map(|s| s.to_b58check()).map_err(|e| crypto(&e))
            }
            SecretKey::Secp256k1(k) => {
                let sig: k256::ecdsa::Signature = k.sign_prehash(&digest).map_err(|e| crypto(&e))?;
                let sig = sig.normalize_s().unwrap_or(sig).to_bytes();
                Secp256k1Signature::try_from(&sig[..]).map(|s| s.to_b58check()).map_err(|e| crypto(&e))
            }
            SecretKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&digest).map_err(|e| crypto(&e))?;
                let sig = sig.normalize_s().unwrap_or(sig).to_bytes();
                P256Signature::try_from(&sig[..]).map(|s| s.to_b58check()).map_err(|e| crypto(&e))
            }
        }
    }
}

/// Writes `s` as a JSON string the way Python's `json.dumps` does by default (`ensure_ascii`):
/// everything outside printable ASCII is `\uXXXX`-escaped.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

impl Signer for TezosSigner {
    fn chain(&self) -> Chain {
        Chain::Tezos
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError> {
        let mut out = String::with_capacity(256);
        match &self.mode {
            SigningMode::Raw => {
                let signature = self.sign_bytes(payload.buffer)?;
                out.push_str("{\"publicKey\": ");
                push_json_string(&mut out, &self.public_key);
                out.push_str(", \"signature\": ");
                push_json_string(&mut out, &signature);
                out.push('}');
            }
            SigningMode::Micheline { dapp_url } => {
                let message = micheline_message(payload.buffer, payload.time, dapp_url)
                    .ok_or_else(|| SignError::Crypto(format!("time {} cannot be formatted", payload.time)))?;
                let signature = self.sign_bytes(&message)?;
                out.push_str("{\"signature\": ");
                push_json_string(&mut out, &signature);
                out.push_str(", \"publicKey\": ");
                push_json_string(&mut out, &self.public_key);
                out.push_str(", \"signingType\": \"micheline\", \"dAppUrl\": ");
                push_json_string(&mut out, dapp_url);
                out.push('}');
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MessageType, PendingMessage, UnsignedMessage};

    // The official Python SDK's TEZOS test key (sdk-generated vectors): an ed25519 seed.
    const SDK_SEED: &str = "6a75eb23d220cc782b295dbd8af3678ed8c1a831a6b5488bc5dbcec21db92e6f";
    const SDK_ADDRESS: &str = "tz1aqQuXWGLC1gXaTdqruTgmfmhZbPgc1fik";
    const SDK_PUBLIC_KEY: &str = "edpktqNFqPikRhcorz446B2MaQntPssLwUuXtqDj4UCsdomEBhPtKd";

    // The tz2 / tz3 keys of the shared edge vectors (secret exponents, as pytezos takes them).
    const SP_SECRET: &str = "eef46cd5beaacf837219d6a9dbc74c13c2d1f23b0e3b45c0582035e64392dddc";
    const P2_SECRET: &str = "eda678dc38b79858440f285b12e2b469b4e6a727c0f1dbca4da0e1a50ae3bb43";

    fn signer(curve: TezosCurve) -> TezosSigner {
        let secret = match curve {
            TezosCurve::Ed25519 => SDK_SEED,
            TezosCurve::Secp256k1 => SP_SECRET,
            TezosCurve::P256 => P2_SECRET,
        };
        TezosSigner::from_hex(curve, secret).unwrap()
    }

    fn message(s: &TezosSigner, time: f64) -> PendingMessage {
        s.sign(UnsignedMessage::inline(MessageType::Post, "{\"a\":1}".into(), time, None)).unwrap()
    }

    fn with_signature(msg: &PendingMessage, signature: String) -> PendingMessage {
        let mut m = msg.clone();
        m.signature = Some(signature);
        m
    }

    fn check(msg: &PendingMessage) -> Result<(), VerifyError> {
        verify(&msg.signed_fields())
    }

    fn json_of(msg: &PendingMessage) -> serde_json::Map<String, Value> {
        match serde_json::from_str(msg.signature.as_deref().unwrap()).unwrap() {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    const ALL_CURVES: [TezosCurve; 3] = [TezosCurve::Ed25519, TezosCurve::Secp256k1, TezosCurve::P256];

    #[test]
    fn python_sdk_key_and_signature_are_reproduced() {
        let s = signer(TezosCurve::Ed25519);
        assert_eq!(s.address(), SDK_ADDRESS);
        assert_eq!(s.public_key(), SDK_PUBLIC_KEY);
        // sdk-TEZOS-POST-inline, signed by aleph-sdk-python 2.3.0.
        let item_hash = "8a4b5c0f5241efe0f539e7ae08b909cf24d621420a3354910636f09174f448cb";
        let buffer = crate::message::verification_buffer("TEZOS", SDK_ADDRESS, "POST", item_hash);
        let sig = s.sign_payload(&SigningPayload { buffer: &buffer, time: 1735689604.25 }).unwrap();
        assert_eq!(
            sig,
            "{\"publicKey\": \"edpktqNFqPikRhcorz446B2MaQntPssLwUuXtqDj4UCsdomEBhPtKd\", \"signature\": \
             \"edsigtvv7GdkmkmXUKU8BmbSNRENVh5hHPnYG6BfTcHL3RwkKSxTcmzceV7nvcArJGgHMWoFbkPpzA7Q924wRPKUAt9hJ65w7tQ\"}"
        );
        let fields = SignedFields {
            chain: "TEZOS",
            sender: SDK_ADDRESS,
            message_type: "POST",
            item_hash,
            signature: &sig,
            time: 1735689604.25,
        };
        assert_eq!(verify(&fields), Ok(()));
    }

    #[test]
    fn tz2_and_tz3_signatures_match_the_reference_generator() {
        let sign = |s: &TezosSigner, sender: &str, item_hash: &str, time: f64| {
            let buffer = crate::message::verification_buffer("TEZOS", sender, "POST", item_hash);
            s.sign_payload(&SigningPayload { buffer: &buffer, time }).unwrap()
        };
        let sp = signer(TezosCurve::Secp256k1);
        assert_eq!(sp.address(), "tz2SGbgopBwCjCWcdwytEM4kNm9HGctoY2bU");
        assert_eq!(sp.public_key(), "sppk7aqkGLsFfxXVsv4mDgsipo4eY9vFmhh34GXXqFBnJ7KdrCQMZkN");
        let hash = "cd5a46b613fc68f526e666b4c80645ced1944c8ddafde1e8f8b5993127df9a04";
        // edge-TEZOS-sp-raw (RFC 6979 with libsecp256k1, reproduced byte for byte).
        assert!(sign(&sp, sp.address(), hash, 1735689600.0).ends_with(
            "\"spsig1Lx2tJtYZsa9mZvUXpgrJzEC8KMvRAhkY3JCw8FBaTh31LcspdNeE7UkudTkLasUnQnPrE1sVTuhsmjj7p8tcdwJc13yF4\"}"
        ));
        // edge-TEZOS-sp-micheline-029.
        let sp = sp.with_mode(SigningMode::Micheline { dapp_url: DEFAULT_DAPP_URL.into() });
        assert!(sign(&sp, sp.address(), hash, 1663944079.029).starts_with(
            "{\"signature\": \"spsig1KecAGE2fiVzLMVNEyZrbdRP7HdbPqACtfwwEQiLHg4zmukcr6Svebdvrxr9pXkVLcvnEwJmQsXLfUvVrz59ydUKYu5Xci\""
        ));
        let p2 = signer(TezosCurve::P256);
        assert_eq!(p2.address(), "tz3bXMDXkWDCXftBYkDMyDKpM3hViWAr2ppR");
        assert_eq!(p2.public_key(), "p2pk65oWfvZKKhpXo2mPogveZNhziukn5kWPow4EDyDeyfJuoTuwJ5t");
        // edge-TEZOS-p2-raw.
        let hash = "2dc8083fdc0684b4f0acb5e153309fdea60d99baabfcf5a45d4632810a567284";
        assert!(sign(&p2, p2.address(), hash, 1735689600.0).ends_with(
            "\"p2sigeeSxLuXP7FQN28DWSyaZQPmSDRyVfK6rSiRW19LJRipoyiytEnRaW6zANryLYdw21yYiKUSzTaUsSkXJLVVrYWRgYb4bZ\"}"
        ));
    }

    #[test]
    fn secret_key_forms_round_trip() {
        for curve in ALL_CURVES {
            let s = signer(curve);
            let b58 = s.secret_key();
            let (tag, pk_len) = match curve {
                TezosCurve::Ed25519 => ("edsk", 54),
                TezosCurve::Secp256k1 => ("spsk", 55),
                TezosCurve::P256 => ("p2sk", 55),
            };
            assert!(b58.starts_with(tag) && b58.len() == 54, "{b58}");
            assert!(
                s.public_key().starts_with(&format!("{}pk", curve.tag())) && s.public_key().len() == pk_len
            );
            let expected_tz = match curve {
                TezosCurve::Ed25519 => "tz1",
                TezosCurve::Secp256k1 => "tz2",
                TezosCurve::P256 => "tz3",
            };
            assert!(s.address().starts_with(expected_tz) && s.address().len() == 36);
            let back = TezosSigner::from_secret_key(&b58).unwrap();
            assert_eq!(back.address(), s.address());
            assert_eq!(back.secret_bytes(), s.secret_bytes());
            assert_eq!(address_of_public_key(s.public_key()).as_deref(), Some(s.address()));
            let r = TezosSigner::random(curve).unwrap();
            assert_eq!(r.curve(), curve);
            assert_eq!(TezosSigner::from_secret_key(&r.secret_key()).unwrap().address(), r.address());
        }
    }

    #[test]
    fn known_spsk_and_p2sk_keys_derive_their_public_keys() {
        // Public test key pairs of other Tezos SDKs (checks the secret-key prefixes).
        let sp =
            TezosSigner::from_secret_key("spsk1SsrWCpufeXkNruaG9L3Mf9dRyd4D8HsM8ftqseN1fne3x9LNk").unwrap();
        assert_eq!(sp.public_key(), "sppk7ZpH5qAjTDZn1o1TW7z2QbQZUcMHRn2wtV4rRfz15eLQrvPkt6k");
        let p2 =
            TezosSigner::from_secret_key("p2sk2rVhhi5EfEdhJ3wQGsdc4ZEN3i7Z8f73Bn1xp1JKjETNyJ85oW").unwrap();
        assert_eq!(p2.public_key(), "p2pk67fo5oy6byruqDtzVixbM7L3cVBDRMcFhA33XD5w2HF4fRXDJhw");
        assert_eq!(sp.secret_key(), "spsk1SsrWCpufeXkNruaG9L3Mf9dRyd4D8HsM8ftqseN1fne3x9LNk");
    }

    #[test]
    fn edsk_keypair_form_is_accepted_and_checked() {
        let s = signer(TezosCurve::Ed25519);
        let SecretKey::Ed25519(k) = &s.key else { unreachable!() };
        let mut data = EDSK_KEYPAIR_PREFIX.to_vec();
        data.extend_from_slice(&k.to_keypair_bytes());
        let long = bs58::encode(&data).with_check().into_string();
        assert!(long.starts_with("edsk") && long.len() == 98, "{long}");
        assert_eq!(TezosSigner::from_secret_key(&long).unwrap().address(), SDK_ADDRESS);
        data[40] ^= 1;
        assert!(TezosSigner::from_secret_key(&bs58::encode(&data).with_check().into_string()).is_err());
        assert!(TezosSigner::from_secret_key("edsk").is_err());
        assert!(TezosSigner::from_secret_key(SDK_PUBLIC_KEY).is_err());
        assert!(TezosSigner::from_hex(TezosCurve::Secp256k1, &"ff".repeat(32)).is_err());
        assert!(TezosSigner::from_hex(TezosCurve::Ed25519, "abcd").is_err());
    }

    #[test]
    fn sign_then_verify_every_curve_and_mode() {
        for curve in ALL_CURVES {
            for mode in [SigningMode::Raw, SigningMode::Micheline { dapp_url: "https://aleph.im".into() }] {
                let s = signer(curve).with_mode(mode.clone());
                let msg = message(&s, 1663944079.0289996);
                assert_eq!(check(&msg), Ok(()), "{curve:?} {mode:?}");
                assert_eq!(crate::verify::verify_signature(&msg.signed_fields()), Ok(()));
                // Deterministic.
                assert_eq!(message(&s, 1663944079.0289996).signature, msg.signature);

                let obj = json_of(&msg);
                let keys: Vec<_> = obj.keys().map(String::as_str).collect();
                match &mode {
                    SigningMode::Raw => {
                        assert_eq!(keys.len(), 2);
                        // Raw mode does not sign the time.
                        let mut later = msg.clone();
                        later.time += 10.0;
                        assert_eq!(check(&later), Ok(()));
                    }
                    SigningMode::Micheline { .. } => {
                        assert_eq!(obj["signingType"], "micheline");
                        assert_eq!(obj["dAppUrl"], "https://aleph.im");
                        let mut later = msg.clone();
                        // (+1 ms lands on …079.0299995, still .029 after µs rounding; +2 ms does not.)
                        later.time += 0.002;
                        assert_eq!(check(&later), Err(VerifyError::Invalid));
                        // Same millisecond after rounding: still valid.
                        later.time = 1663944079.0294;
                        assert_eq!(check(&later), Ok(()));
                        // Relabelled raw, or another dApp URL: invalid.
                        let mut o = obj.clone();
                        o.remove("signingType");
                        assert_eq!(
                            check(&with_signature(&msg, Value::Object(o).to_string())),
                            Err(VerifyError::Invalid)
                        );
                        let mut o = obj.clone();
                        o.remove("dAppUrl");
                        assert_eq!(
                            check(&with_signature(&msg, Value::Object(o).to_string())),
                            Err(VerifyError::Invalid)
                        );
                    }
                }

                let mut tampered = msg.clone();
                tampered.message_type = MessageType::Aggregate;
                assert_eq!(check(&tampered), Err(VerifyError::Invalid));
            }
        }
    }

    #[test]
    fn sender_must_be_the_key_address() {
        let s = signer(TezosCurve::Ed25519);
        let other = signer(TezosCurve::Secp256k1);
        let msg = message(&s, 1.0);
        let mut m = msg.clone();
        m.sender = other.address().to_owned();
        assert!(matches!(check(&m), Err(VerifyError::WrongSigner { .. })));
        // Another key's valid signature under this sender.
        let foreign = message(&other, 1.0);
        assert!(matches!(
            check(&with_signature(&msg, foreign.signature.unwrap())),
            Err(VerifyError::WrongSigner { .. })
        ));
    }

    #[test]
    fn signature_prefixes() {
        let s = signer(TezosCurve::Ed25519);
        let msg = message(&s, 1.0);
        let obj = json_of(&msg);
        let sig = Signature::from_base58_check(obj["signature"].as_str().unwrap()).unwrap();
        let bytes = sig.as_ref().to_vec();
        let reencode = |enc: String| {
            let mut o = obj.clone();
            o.insert("signature".into(), Value::String(enc));
            with_signature(&msg, Value::Object(o).to_string())
        };
        // Generic `sig…` is accepted for any curve.
        let generic = tezos_crypto_rs::hash::UnknownSignature::try_from(&bytes[..]).unwrap().to_b58check();
        assert!(generic.starts_with("sig"));
        assert_eq!(check(&reencode(generic)), Ok(()));
        // Another curve's prefix on the same bytes is rejected.
        let sp = Secp256k1Signature::try_from(&bytes[..]).unwrap().to_b58check();
        assert!(matches!(check(&reencode(sp)), Err(VerifyError::Malformed(_))));
        let p2 = P256Signature::try_from(&bytes[..]).unwrap().to_b58check();
        assert!(matches!(check(&reencode(p2)), Err(VerifyError::Malformed(_))));
        // A flipped signature byte.
        let mut flipped = bytes.clone();
        flipped[10] ^= 1;
        let bad = Ed25519Signature::try_from(&flipped[..]).unwrap().to_b58check();
        assert_eq!(check(&reencode(bad)), Err(VerifyError::Invalid));
        // Garbage.
        assert!(matches!(check(&reencode("edsigXXXX".into())), Err(VerifyError::Malformed(_))));
    }

    /// Replaces `s` with `n − s` in a 64-byte `r‖s` signature.
    fn other_s(curve: TezosCurve, rs: &[u8]) -> Vec<u8> {
        match curve {
            TezosCurve::Secp256k1 => {
                let sig = k256::ecdsa::Signature::from_slice(rs).unwrap();
                let (r, s) = sig.split_scalars();
                k256::ecdsa::Signature::from_scalars(r, -*s).unwrap().to_bytes().to_vec()
            }
            TezosCurve::P256 => {
                let sig = p256::ecdsa::Signature::from_slice(rs).unwrap();
                let (r, s) = sig.split_scalars();
                p256::ecdsa::Signature::from_scalars(r, -*s).unwrap().to_bytes().to_vec()
            }
            TezosCurve::Ed25519 => unreachable!(),
        }
    }

    #[test]
    fn high_s_rejected_for_tz2_accepted_for_tz3() {
        for (curve, accepted) in [(TezosCurve::Secp256k1, false), (TezosCurve::P256, true)] {
            let s = signer(curve);
            let msg = message(&s, 1.0);
            let obj = json_of(&msg);
            let sig = Signature::from_base58_check(obj["signature"].as_str().unwrap()).unwrap();
            let flipped = other_s(curve, sig.as_ref());
            let enc = match curve {
                TezosCurve::Secp256k1 => Secp256k1Signature::try_from(&flipped[..]).unwrap().to_b58check(),
                _ => P256Signature::try_from(&flipped[..]).unwrap().to_b58check(),
            };
            let mut o = obj.clone();
            o.insert("signature".into(), Value::String(enc));
            let verdict = check(&with_signature(&msg, Value::Object(o).to_string()));
            assert_eq!(verdict.is_ok(), accepted, "{curve:?}: {verdict:?}");
        }
    }

    #[test]
    fn malformed_fields() {
        let s = signer(TezosCurve::Ed25519);
        let msg = message(&s, 1.0);
        let obj = json_of(&msg);
        for (key, value) in [
            ("signingType", serde_json::json!("Raw")),
            ("signingType", serde_json::json!(null)),
            ("signingType", serde_json::json!(1)),
            ("dAppUrl", serde_json::json!(null)),
            ("publicKey", serde_json::json!(5)),
            (
                "publicKey",
                serde_json::json!(
                    "BLpk1yE462s3cPX5t2HhvGPg3HSEUgqLi9q9Knwx7mbN4VuhEsvBYFvEz5Eu9shR7vZRY1k5PCtV"
                ),
            ),
            ("signature", serde_json::json!([])),
        ] {
            let mut o = obj.clone();
            o.insert(key.into(), value.clone());
            assert!(check(&with_signature(&msg, Value::Object(o).to_string())).is_err(), "{key} = {value}");
        }
        // An explicit "raw" equals the default.
        let mut o = obj.clone();
        o.insert("signingType".into(), "raw".into());
        assert_eq!(check(&with_signature(&msg, Value::Object(o).to_string())), Ok(()));
        let mut o = obj.clone();
        o.insert("signature".into(), Value::String(format!("sig{}", "1".repeat(100_000))));
        assert!(matches!(
            check(&with_signature(&msg, Value::Object(o).to_string())),
            Err(VerifyError::Malformed(_))
        ));
        for bad in ["", "not json", "[]", "\"edsig\"", "{}", "{\"signature\": \"x\"}"] {
            assert!(
                matches!(check(&with_signature(&msg, bad.into())), Err(VerifyError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn micheline_time_rounding() {
        // Rounded to the µs first (…079.029000), then floored to the ms: ".029Z", not ".028Z".
        assert_eq!(micheline_timestamp(1663944079.0289996).as_deref(), Some("2022-09-23T14:41:19.029Z"));
        assert_eq!(micheline_timestamp(1663944079.029).as_deref(), Some("2022-09-23T14:41:19.029Z"));
        assert_eq!(micheline_timestamp(1663944079.0299).as_deref(), Some("2022-09-23T14:41:19.029Z"));
        assert_eq!(micheline_timestamp(0.0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(micheline_timestamp(f64::NAN), None);
        assert_eq!(micheline_timestamp(1e15), None);
        let m = micheline_message(b"BUF", 0.0, "aleph.im").unwrap();
        let payload = b"Tezos Signed Message: aleph.im 1970-01-01T00:00:00.000Z BUF";
        let mut want = vec![5, 1, 0];
        want.extend_from_slice((2 * payload.len()).to_string().as_bytes());
        want.extend_from_slice(payload);
        assert_eq!(m, want);
    }

    #[test]
    fn micheline_dapp_url_is_escaped_like_python() {
        let s = signer(TezosCurve::P256)
            .with_mode(SigningMode::Micheline { dapp_url: "é\"x\u{1F600}\n".into() });
        let msg = message(&s, 2.5);
        let sig = msg.signature.as_deref().unwrap();
        assert!(sig.ends_with(r#""dAppUrl": "\u00e9\"x\ud83d\ude00\n"}"#), "{sig}");
        assert_eq!(check(&msg), Ok(()));
    }

    #[test]
    fn small_order_and_non_canonical_ed25519_keys_are_rejected() {
        assert!(is_canonical_ed25519_encoding(&[0u8; 32]));
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xec;
        assert!(is_canonical_ed25519_encoding(&p));
        p[0] = 0xed;
        assert!(!is_canonical_ed25519_encoding(&p));
        // The identity point as a key, with an identity R and S = 0: verifies under a
        // non-strict verifier for every message; must be rejected here.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let pk = PublicKeyEd25519::try_from(&identity[..]).unwrap();
        let key = PublicKey::Ed25519(pk);
        let mut sig = [0u8; 64];
        sig[0] = 1;
        let sig = Ed25519Signature::try_from(&sig[..]).unwrap().to_b58check();
        assert_eq!(verify_with_key(&key, TezosCurve::Ed25519, &sig, b"anything"), Err(VerifyError::Invalid));
    }
}
