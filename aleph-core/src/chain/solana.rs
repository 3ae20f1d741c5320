//! Solana and Eclipse: ed25519 over the raw buffer, base58 addresses, and a signature field that
//! is a JSON document inside a string.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer as _;

use crate::chain::{Chain, ChainFamily};
use crate::message::SignedFields;
use crate::signer::{SignError, Signer, SigningPayload};
use crate::verify::{verify_signature, VerifyError};

/// A Solana keypair signing for `SOL` (or `ES`).
pub struct SolanaSigner {
    keypair: Keypair,
    address: String,
    chain: Chain,
}

impl std::fmt::Debug for SolanaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolanaSigner").field("address", &self.address).field("chain", &self.chain).finish()
    }
}

impl Clone for SolanaSigner {
    fn clone(&self) -> Self {
        SolanaSigner {
            keypair: self.keypair.insecure_clone(),
            address: self.address.clone(),
            chain: self.chain,
        }
    }
}

impl SolanaSigner {
    fn from_keypair(keypair: Keypair) -> Self {
        let address = keypair.pubkey().to_string();
        SolanaSigner { keypair, address, chain: Chain::Sol }
    }

    /// A signer from a 32-byte ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_keypair(Keypair::new_from_array(*seed))
    }

    /// A signer from a 32-byte seed or a 64-byte `seed‖public key` keypair (the form Phantom and
    /// solana-keygen hold); for 64 bytes the public half must match the seed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignError> {
        match bytes.len() {
            32 => {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(bytes);
                Ok(Self::from_seed(&seed))
            }
            64 => Keypair::try_from(bytes)
                .map(Self::from_keypair)
                .map_err(|e| SignError::InvalidKey(e.to_string())),
            n => Err(SignError::InvalidKey(format!("expected 32 or 64 key bytes, got {n}"))),
        }
    }

    /// A signer from the base58 text of a 64-byte keypair (Phantom's export) or a 32-byte seed.
    pub fn from_base58(text: &str) -> Result<Self, SignError> {
        let bytes = bs58::decode(text.trim())
            .into_vec()
            .map_err(|e| SignError::InvalidKey(format!("base58: {e}")))?;
        Self::from_bytes(&bytes)
    }

    /// A signer from the contents of a solana-keygen keypair file (a JSON array of 64 numbers).
    pub fn from_keypair_json(text: &str) -> Result<Self, SignError> {
        let bytes: Vec<u8> = serde_json::from_str(text.trim())
            .map_err(|e| SignError::InvalidKey(format!("keypair file: {e}")))?;
        if bytes.len() != 64 {
            return Err(SignError::InvalidKey(format!(
                "keypair file holds {} bytes, expected 64",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    /// A fresh random keypair.
    pub fn random() -> Self {
        Self::from_keypair(Keypair::new())
    }

    /// Signs for `ES` (Eclipse) instead of `SOL`.
    pub fn with_chain(mut self, chain: Chain) -> Result<Self, SignError> {
        if chain.family() != ChainFamily::Svm {
            return Err(SignError::WrongChain(chain));
        }
        self.chain = chain;
        Ok(self)
    }

    /// The 64-byte `seed‖public key` form.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.keypair.to_bytes()
    }

    /// The keypair as solana-keygen writes it (a JSON array of 64 numbers).
    pub fn to_keypair_json(&self) -> String {
        serde_json::to_string(&self.keypair.to_bytes().to_vec()).unwrap_or_default()
    }
}

impl Signer for SolanaSigner {
    fn chain(&self) -> Chain {
        self.chain
    }

    fn address(&self) -> &str {
        &self.address
    }

    /// `{"publicKey": "<base58>", "signature": "<base58>"}`, spaced exactly as the official Python
    /// SDK writes it.
    fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError> {
        let signature = self.keypair.sign_message(payload.buffer);
        Ok(format!(r#"{{"publicKey": "{}", "signature": "{}"}}"#, self.address, signature))
    }
}

/// A decoded Solana signature field, with the checks that need no curve arithmetic done.
struct Decoded {
    key: [u8; 32],
    signature: Signature,
}

/// The y coordinates (canonical little-endian, sign bit clear) of the eight points of order
/// dividing 8: a point is of small order exactly when its y is one of these.
fn torsion_ys() -> &'static [[u8; 32]; 8] {
    static YS: std::sync::OnceLock<[[u8; 32]; 8]> = std::sync::OnceLock::new();
    YS.get_or_init(|| {
        curve25519_dalek::constants::EIGHT_TORSION.map(|p| {
            let mut y = p.compress().to_bytes();
            y[31] &= 0x7f;
            y
        })
    })
}

/// Whether an encoding names a point of small order, without decompressing it (as libsodium's
/// blacklist does): its y, reduced modulo p, is the y of a torsion point.
fn has_small_order_encoding(bytes: &[u8]) -> bool {
    let Ok(mut y) = <[u8; 32]>::try_from(bytes) else { return false };
    y[31] &= 0x7f;
    if !is_canonical_point_encoding(&y) {
        // y ≥ p: only the 19 values p..2²⁵⁵−1, so y − p fits in the low byte.
        y = [0u8; 32];
        y[0] = bytes[0].wrapping_sub(0xed);
    }
    torsion_ys().contains(&y)
}

/// Decodes and pre-checks one signature: JSON object with `signature` and `publicKey`, optional
/// `version` equal to 1, `publicKey` equal to the sender, canonical key encoding, and neither the
/// key nor `R` of small order (libsodium's strictness).
fn decode(fields: &SignedFields<'_>) -> Result<Decoded, VerifyError> {
    let value: Value = serde_json::from_str(fields.signature)
        .map_err(|_| VerifyError::Malformed("signature is not a JSON document".to_owned()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| VerifyError::Malformed("signature is not a JSON object".to_owned()))?;
    if let Some(version) = obj.get("version") {
        if version.as_f64() != Some(1.0) {
            return Err(VerifyError::Malformed(format!("unsupported signature version {version}")));
        }
    }
    let field = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| VerifyError::Malformed(format!("signature has no `{name}` string")))
    };
    let public_key = field("publicKey")?;
    let sig_b58 = field("signature")?;
    if public_key != fields.sender {
        return Err(VerifyError::WrongSigner {
            sender: fields.sender.to_owned(),
            signer: public_key.to_owned(),
        });
    }
    let mut key_bytes = [0u8; 32];
    let n = bs58::decode(public_key)
        .onto(&mut key_bytes[..])
        .map_err(|_| VerifyError::Malformed("publicKey is not 32 bytes of base58".to_owned()))?;
    let mut sig_bytes = [0u8; 64];
    let m = bs58::decode(sig_b58)
        .onto(&mut sig_bytes[..])
        .map_err(|_| VerifyError::Malformed("signature is not 64 bytes of base58".to_owned()))?;
    if n != 32 || m != 64 {
        return Err(VerifyError::Malformed("wrong key or signature length".to_owned()));
    }
    if !is_canonical_point_encoding(&key_bytes)
        || has_small_order_encoding(&key_bytes)
        || has_small_order_encoding(&sig_bytes[..32])
    {
        return Err(VerifyError::Invalid);
    }
    Ok(Decoded { key: key_bytes, signature: Signature::from_bytes(&sig_bytes) })
}

/// Whether 32 bytes encode a field element below 2²⁵⁵ − 19 (libsodium rejects other encodings).
fn is_canonical_point_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // p = 2^255 - 19 = 0x7fff…ffed (little endian: ed ff … ff 7f).
    if y[31] != 0x7f || y[1..31].iter().any(|&b| b != 0xff) {
        return true;
    }
    y[0] < 0xed
}

/// Verifies a detached ed25519 signature of `message` by a raw 32-byte public key with the same
/// libsodium strictness as [`verify`] (PyNaCl's `VerifyKey.verify`): 64-byte signature, canonical
/// key encoding, neither the key nor `R` of small order, canonical S.
#[cfg(feature = "vm-auth")]
pub(crate) fn verify_detached(key: &[u8], signature: &[u8], message: &[u8]) -> Result<(), VerifyError> {
    let key_bytes: [u8; 32] =
        key.try_into().map_err(|_| VerifyError::Malformed("an ed25519 public key is 32 bytes".to_owned()))?;
    let sig_bytes: [u8; 64] = signature
        .try_into()
        .map_err(|_| VerifyError::Malformed("an ed25519 signature is 64 bytes".to_owned()))?;
    if !is_canonical_point_encoding(&key_bytes)
        || has_small_order_encoding(&key_bytes)
        || has_small_order_encoding(&sig_bytes[..32])
    {
        return Err(VerifyError::Invalid);
    }
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| VerifyError::Invalid)?;
    key.verify_strict(message, &Signature::from_bytes(&sig_bytes)).map_err(|_| VerifyError::Invalid)
}

/// Verifies a Solana/Eclipse message with libsodium's strictness (canonical S, no small-order key
/// or R, canonical key encoding).
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let d = decode(fields)?;
    let key = VerifyingKey::from_bytes(&d.key).map_err(|_| VerifyError::Invalid)?;
    key.verify_strict(&fields.buffer(), &d.signature).map_err(|_| VerifyError::Invalid)
}

/// Verifies a chunk of messages of any chains: Solana/Eclipse ones that pass the strict
/// pre-checks are verified together with ed25519 batch verification, falling back to one-by-one
/// verification when the batch fails, so every verdict is attributed to its own message.
pub(crate) fn verify_chunk(chunk: &[SignedFields<'_>]) -> Vec<Result<(), VerifyError>> {
    let mut results: Vec<Option<Result<(), VerifyError>>> = vec![None; chunk.len()];
    let mut batch_idx = Vec::new();
    let mut buffers = Vec::new();
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    let mut key_cache = std::collections::HashMap::new();
    for (i, fields) in chunk.iter().enumerate() {
        let is_svm = fields.chain.parse::<Chain>().map(|c| c.family() == ChainFamily::Svm).unwrap_or(false);
        if !is_svm || fields.signature.is_empty() {
            results[i] = Some(verify_signature(fields));
            continue;
        }
        // Keys repeat (one sender signs many messages): decompress each once per chunk.
        let decoded = decode(fields).and_then(|d| {
            let key = match key_cache.get(&d.key) {
                Some(k) => *k,
                None => {
                    let k = VerifyingKey::from_bytes(&d.key).map_err(|_| VerifyError::Invalid)?;
                    key_cache.insert(d.key, k);
                    k
                }
            };
            Ok((key, d.signature))
        });
        match decoded {
            Ok((key, signature)) => {
                batch_idx.push(i);
                buffers.push(fields.buffer());
                keys.push(key);
                sigs.push(signature);
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    if !batch_idx.is_empty() {
        let msgs: Vec<&[u8]> = buffers.iter().map(Vec::as_slice).collect();
        if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
            for &i in &batch_idx {
                results[i] = Some(Ok(()));
            }
        } else {
            for (j, &i) in batch_idx.iter().enumerate() {
                results[i] = Some(keys[j].verify_strict(msgs[j], &sigs[j]).map_err(|_| VerifyError::Invalid));
            }
        }
    }
    results.into_iter().map(|r| r.unwrap_or(Err(VerifyError::Invalid))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MessageType, UnsignedMessage};

    // RFC 8032 test 1 seed, also aleph-rs's fixed test key.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    fn signer() -> SolanaSigner {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(SEED, &mut seed).unwrap();
        SolanaSigner::from_seed(&seed)
    }

    #[test]
    fn key_forms_agree() {
        let s = signer();
        assert_eq!(SolanaSigner::from_bytes(&s.to_bytes()).unwrap().address(), s.address());
        assert_eq!(SolanaSigner::from_keypair_json(&s.to_keypair_json()).unwrap().address(), s.address());
        assert_eq!(
            SolanaSigner::from_base58(&bs58::encode(s.to_bytes()).into_string()).unwrap().address(),
            s.address()
        );
        let mut bad = s.to_bytes();
        bad[40] ^= 1;
        assert!(SolanaSigner::from_bytes(&bad).is_err());
        assert!(SolanaSigner::from_bytes(&[1, 2, 3]).is_err());
    }

    #[test]
    fn sign_verify_batch_and_tamper() {
        let s = signer();
        let good: Vec<_> = (0..5)
            .map(|i| {
                s.sign(UnsignedMessage::inline(MessageType::Post, format!("{{\"n\":{i}}}"), 1.0, None))
                    .unwrap()
            })
            .collect();
        let mut bad = good[2].clone();
        bad.message_type = MessageType::Store;
        let all: Vec<_> = good.iter().chain(std::iter::once(&bad)).collect();
        let fields: Vec<_> = all.iter().map(|m| m.signed_fields()).collect();
        let verdicts = crate::verify::verify_batch(&fields);
        assert_eq!(verdicts[..5], vec![Ok(()); 5][..]);
        assert_eq!(verdicts[5], Err(VerifyError::Invalid));
        assert_eq!(verify(&fields[5]), Err(VerifyError::Invalid));
    }

    #[test]
    fn small_order_encodings_match_decompression() {
        // Every torsion point, with either sign bit and as its non-canonical y + p form where one
        // exists, is recognised; ordinary points and random bytes agree with decompression.
        for t in curve25519_dalek::constants::EIGHT_TORSION {
            let enc = t.compress().to_bytes();
            assert!(has_small_order_encoding(&enc));
            let mut flipped = enc;
            flipped[31] ^= 0x80;
            assert!(has_small_order_encoding(&flipped));
        }
        let mut p_plus_1 = [0xffu8; 32];
        p_plus_1[0] = 0xee;
        p_plus_1[31] = 0x7f;
        assert!(has_small_order_encoding(&p_plus_1));
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..2000 {
            let mut b = [0u8; 32];
            for chunk in b.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            if let Some(p) = curve25519_dalek::edwards::CompressedEdwardsY(b).decompress() {
                assert_eq!(has_small_order_encoding(&b), p.is_small_order(), "{}", hex::encode(b));
            }
        }
        let key = bs58::decode(signer().address()).into_vec().unwrap();
        assert!(!has_small_order_encoding(&key));
    }

    #[test]
    fn canonical_encoding_bound() {
        let mut p_minus_1 = [0xffu8; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        assert!(is_canonical_point_encoding(&p_minus_1));
        p_minus_1[0] = 0xed;
        assert!(!is_canonical_point_encoding(&p_minus_1));
    }
}
