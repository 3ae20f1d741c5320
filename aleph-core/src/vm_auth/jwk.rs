//! The ephemeral P-256 key of the owner scheme: generation, its public JWK, ES256 signatures,
//! and reading a JWK back the way the reference (jwcrypto) does.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Map, Value};

use crate::chain::pycompat::push_json_string;
use crate::signer::SignError;

/// base64url as JWKs use it: no padding when writing; padding and stray low bits tolerated
/// when reading.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A P-256 key that a wallet authorizes for a while to sign operations on its behalf (the
/// Python SDK makes a new one per client).
#[derive(Clone)]
pub struct EphemeralKey {
    key: SigningKey,
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey").field("public_jwk", &self.public_jwk()).finish()
    }
}

impl EphemeralKey {
    /// A fresh random key.
    pub fn random() -> Self {
        EphemeralKey { key: SigningKey::random(&mut rand_core::OsRng) }
    }

    /// A key from its 32-byte secret scalar (big-endian).
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, SignError> {
        let key = SigningKey::from_bytes(secret.into()).map_err(|e| SignError::InvalidKey(e.to_string()))?;
        Ok(EphemeralKey { key })
    }

    /// The 32-byte secret scalar.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The public key as a JWK, with the members and spacing the Python SDK signs:
    /// `{"crv": "P-256", "kty": "EC", "x": "…", "y": "…"}` (coordinates base64url, 32 bytes each).
    pub fn public_jwk(&self) -> String {
        let point = self.key.verifying_key().to_encoded_point(false);
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| B64URL.encode(c)).unwrap_or_default();
        let mut out = String::from(r#"{"crv": "P-256", "kty": "EC", "x": "#);
        push_json_string(&mut out, &coordinate(point.x()));
        out.push_str(r#", "y": "#);
        push_json_string(&mut out, &coordinate(point.y()));
        out.push('}');
        out
    }

    /// ES256 over `message` (SHA-256, RFC 6979 nonce), as the raw 64 bytes `r‖s` that JWS and the
    /// reference use (not DER).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature: Signature = self.key.sign(message);
        signature.to_bytes().into()
    }
}

/// Reads the ephemeral public key of a signed pubkey payload as jwcrypto's `JWK(**pubkey)` and
/// `get_op_key("verify", "P-256")` accept it: `kty` `EC`, `crv` `P-256`, `use` absent or `sig`,
/// `key_ops` absent or allowing `verify`, and `x`/`y` big-endian integers of at most 32 bytes
/// naming a point of the curve. Other members (`alg`, `ext`, …) are ignored.
pub(crate) fn verifying_key_from_jwk(jwk: &Map<String, Value>) -> Result<VerifyingKey, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("kty") != Some("EC") {
        return Err("the key is not an EC JWK".to_owned());
    }
    if text("crv") != Some("P-256") {
        return Err("the key is not on P-256".to_owned());
    }
    if let Some(usage) = jwk.get("use") {
        if usage.as_str() != Some("sig") {
            return Err("the key's `use` does not allow signatures".to_owned());
        }
    }
    match jwk.get("key_ops") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ops)) if ops.is_empty() => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
        Some(Value::String(op)) if op == "verify" => {}
        Some(_) => return Err("the key's `key_ops` do not allow `verify`".to_owned()),
    }
    let mut sec1 = [0u8; 65];
    sec1[0] = 4;
    for (name, slot) in [("x", 1..33), ("y", 33..65)] {
        let encoded = text(name).ok_or_else(|| format!("the key has no `{name}` string"))?;
        let bytes = B64URL
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| format!("the key's `{name}` is not base64url"))?;
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let digits = &bytes[first..];
        if digits.len() > 32 {
            return Err(format!("the key's `{name}` is longer than 32 bytes"));
        }
        let end = slot.end;
        sec1[end - digits.len()..end].copy_from_slice(digits);
    }
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| "the key is not a point of P-256".to_owned())
}

/// Verifies an ES256 signature as jwcrypto does: the bytes are split in two halves read as the
/// big-endian integers `r` and `s` (so a 64-byte `r‖s` in practice); high-S is accepted.
pub(crate) fn verify_es256(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    if !signature.len().is_multiple_of(2) {
        return false;
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let mut raw = [0u8; 64];
    for (half, end) in [(r, 32), (s, 64)] {
        let first = half.iter().position(|&b| b != 0).unwrap_or(half.len());
        let digits = &half[first..];
        if digits.len() > 32 {
            return false;
        }
        raw[end - digits.len()..end].copy_from_slice(digits);
    }
    Signature::from_slice(&raw).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk_of(key: &EphemeralKey) -> Map<String, Value> {
        serde_json::from_str(&key.public_jwk()).unwrap()
    }

    #[test]
    fn public_jwk_reads_back_and_verifies() {
        let key = EphemeralKey::from_bytes(&[7u8; 32]).unwrap();
        let jwk = key.public_jwk();
        assert!(jwk.starts_with(r#"{"crv": "P-256", "kty": "EC", "x": ""#), "{jwk}");
        let public = verifying_key_from_jwk(&jwk_of(&key)).unwrap();
        let sig = key.sign(b"hello");
        assert!(verify_es256(&public, b"hello", &sig));
        assert!(!verify_es256(&public, b"hellO", &sig));
        assert!(!verify_es256(&public, b"hello", &sig[..63]));
    }

    #[test]
    fn signatures_are_deterministic_raw_r_s() {
        let key = EphemeralKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(key.sign(b"x"), key.sign(b"x"));
        assert_eq!(key.sign(b"x").len(), 64);
    }

    #[test]
    fn high_s_and_zero_padded_halves_are_accepted_like_jwcrypto() {
        let key = EphemeralKey::from_bytes(&[9u8; 32]).unwrap();
        let public = verifying_key_from_jwk(&jwk_of(&key)).unwrap();
        let sig = Signature::from_slice(&key.sign(b"m")).unwrap();
        let high = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s().as_ref()).to_bytes()).unwrap();
        assert!(verify_es256(&public, b"m", &high.to_bytes()));
        let mut padded = vec![0u8];
        padded.extend_from_slice(&sig.to_bytes()[..32]);
        padded.push(0);
        padded.extend_from_slice(&sig.to_bytes()[32..]);
        assert!(verify_es256(&public, b"m", &padded));
    }

    #[test]
    fn jwk_constraints() {
        let key = EphemeralKey::from_bytes(&[7u8; 32]).unwrap();
        let base = jwk_of(&key);
        let with = |name: &str, v: Value| {
            let mut j = base.clone();
            j.insert(name.to_owned(), v);
            j
        };
        // What browsers export (WebCrypto) is accepted.
        assert!(verifying_key_from_jwk(&with("key_ops", serde_json::json!(["verify"]))).is_ok());
        assert!(verifying_key_from_jwk(&with("ext", Value::Bool(true))).is_ok());
        assert!(verifying_key_from_jwk(&with("use", "sig".into())).is_ok());
        assert!(verifying_key_from_jwk(&with("use", "enc".into())).is_err());
        assert!(verifying_key_from_jwk(&with("key_ops", serde_json::json!(["sign"]))).is_err());
        assert!(verifying_key_from_jwk(&with("crv", "P-384".into())).is_err());
        assert!(verifying_key_from_jwk(&with("kty", "OKP".into())).is_err());
        assert!(verifying_key_from_jwk(&with("y", base["x"].clone())).is_err());
        let padded = format!("{}=", base["x"].as_str().unwrap());
        assert!(verifying_key_from_jwk(&with("x", padded.into())).is_ok());
    }
}
