//! Ethereum and every EVM label: EIP-191 `personal_sign` over secp256k1, EIP-55 addresses.

use hmac::{Hmac, Mac};
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, FieldBytes, Scalar};
use sha2::Sha512;
use sha3::{Digest, Keccak256};

use crate::chain::Chain;
use crate::message::SignedFields;
use crate::signer::{SignError, Signer, SigningPayload};
use crate::verify::VerifyError;

/// The derivation path of the first Ethereum account of a BIP39 wallet.
pub const DEFAULT_DERIVATION_PATH: &str = "m/44'/60'/0'/0/0";

/// The EIP-191 digest of a payload: keccak256 of `"\x19Ethereum Signed Message:\n{len}" ‖ payload`.
pub fn eip191_digest(payload: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(b"\x19Ethereum Signed Message:\n");
    let mut len = itoa_buf(payload.len());
    hasher.update(len.as_bytes_mut());
    hasher.update(payload);
    hasher.finalize().into()
}

struct Decimal([u8; 20], usize);

impl Decimal {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.0[self.1..]
    }
}

fn itoa_buf(mut n: usize) -> Decimal {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Decimal(buf, i)
}

/// The 20-byte address of an uncompressed public key point.
fn address_of_point(point: &AffinePoint) -> [u8; 20] {
    let encoded = point.to_encoded_point(false);
    let hash = Keccak256::digest(&encoded.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// The EIP-55 mixed-case checksum form of an address (`0x…`).
pub fn to_checksum_address(address: &[u8; 20]) -> String {
    let lower = hex::encode(address);
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        out.push(if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c });
    }
    out
}

/// Parses an address in any case (with `0x`) and returns its checksum form.
pub fn checksum(address: &str) -> Option<String> {
    let hex_part = address.strip_prefix("0x").or_else(|| address.strip_prefix("0X"))?;
    let mut bytes = [0u8; 20];
    hex::decode_to_slice(hex_part, &mut bytes).ok()?;
    Some(to_checksum_address(&bytes))
}

/// Decodes an EVM signature: hex with or without `0x`, any case, exactly 65 bytes `r‖s‖v`, with
/// `v` in 0/1, 27/28 or EIP-155 style ≥ 35. Returns `(r‖s, recovery parity)`.
fn decode_signature(sig: &str) -> Result<([u8; 64], u8), VerifyError> {
    let hex_part = sig.strip_prefix("0x").or_else(|| sig.strip_prefix("0X")).unwrap_or(sig);
    let mut raw = [0u8; 65];
    hex::decode_to_slice(hex_part, &mut raw)
        .map_err(|_| VerifyError::Malformed("expected 65 bytes of hex".to_owned()))?;
    split_signature(&raw)
}

/// Splits a raw 65-byte EVM signature `r‖s‖v` into `(r‖s, recovery parity)`, with `v` in 0/1,
/// 27/28 or EIP-155 style ≥ 35.
pub(crate) fn split_signature(raw: &[u8; 65]) -> Result<([u8; 64], u8), VerifyError> {
    let parity = match raw[64] {
        v @ (0 | 1) => v,
        v @ (27 | 28) => v - 27,
        v if v >= 35 => (v - 35) % 2,
        v => return Err(VerifyError::Malformed(format!("invalid recovery byte v={v}"))),
    };
    let mut rs = [0u8; 64];
    rs.copy_from_slice(&raw[..64]);
    Ok((rs, parity))
}

fn field_bytes(b: &[u8]) -> Option<FieldBytes> {
    <[u8; 32]>::try_from(b).ok().map(FieldBytes::from)
}

/// Recovers the signer's address from a prehash and a signature (`r‖s`, recovery parity),
/// accepting high-S signatures as the reference does. Recovery runs in libsecp256k1, the library
/// the reference itself uses for it (and about three times faster than k256 here).
pub fn recover_address(prehash: &[u8; 32], rs: &[u8; 64], parity: u8) -> Option<[u8; 20]> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
    let id = RecoveryId::try_from(i32::from(parity)).ok()?;
    let sig = RecoverableSignature::from_compact(rs, id).ok()?;
    let key = secp256k1::SECP256K1.recover_ecdsa(secp256k1::Message::from_digest(*prehash), &sig).ok()?;
    let uncompressed = key.serialize_uncompressed();
    let hash = Keccak256::digest(&uncompressed[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    Some(out)
}

/// Verifies an EVM message: the recovered address must equal the sender, ignoring case.
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let (rs, parity) = decode_signature(fields.signature)?;
    let digest = eip191_digest(&fields.buffer());
    let signer = recover_address(&digest, &rs, parity).ok_or(VerifyError::Invalid)?;
    let mut expected = [0u8; 42];
    expected[..2].copy_from_slice(b"0x");
    // Cannot fail: 20 bytes encode to exactly 40 hex digits.
    let _ = hex::encode_to_slice(signer, &mut expected[2..]);
    if fields.sender.as_bytes().eq_ignore_ascii_case(&expected) {
        Ok(())
    } else {
        Err(VerifyError::WrongSigner {
            sender: fields.sender.to_owned(),
            signer: to_checksum_address(&signer),
        })
    }
}

/// A secp256k1 key signing for an EVM chain label (`ETH` by default).
#[derive(Clone)]
pub struct EthereumSigner {
    key: SigningKey,
    address: String,
    chain: Chain,
}

impl std::fmt::Debug for EthereumSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthereumSigner").field("address", &self.address).field("chain", &self.chain).finish()
    }
}

impl EthereumSigner {
    /// A signer from a 32-byte secret key.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<Self, SignError> {
        let key = SigningKey::from_bytes(secret.into()).map_err(|e| SignError::InvalidKey(e.to_string()))?;
        let address = to_checksum_address(&address_of_point(key.verifying_key().as_affine()));
        Ok(EthereumSigner { key, address, chain: Chain::Eth })
    }

    /// A signer from a hex secret key, with or without `0x`.
    pub fn from_hex(secret: &str) -> Result<Self, SignError> {
        let hex_part = secret.trim().strip_prefix("0x").unwrap_or(secret.trim());
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes)
            .map_err(|_| SignError::InvalidKey("expected 32 bytes of hex".to_owned()))?;
        Self::from_bytes(&bytes)
    }

    /// A signer from a BIP39 mnemonic, at `m/44'/60'/0'/0/{index}` (the first account of wallets
    /// such as MetaMask for index 0), with an optional BIP39 passphrase.
    pub fn from_mnemonic(phrase: &str, passphrase: &str, index: u32) -> Result<Self, SignError> {
        let mnemonic = bip39::Mnemonic::parse_normalized(phrase)
            .map_err(|e| SignError::InvalidMnemonic(e.to_string()))?;
        let seed = mnemonic.to_seed_normalized(passphrase);
        let secret = bip32_derive(&seed, &[44 | HARDENED, 60 | HARDENED, HARDENED, 0, index])?;
        Self::from_bytes(&secret)
    }

    /// A fresh random key.
    pub fn random() -> Self {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let address = to_checksum_address(&address_of_point(key.verifying_key().as_affine()));
        EthereumSigner { key, address, chain: Chain::Eth }
    }

    /// Signs for another EVM label (`BASE`, `ARB`, …); the key and address are the same.
    pub fn with_chain(mut self, chain: Chain) -> Result<Self, SignError> {
        if !chain.is_evm() {
            return Err(SignError::WrongChain(chain));
        }
        self.chain = chain;
        Ok(self)
    }

    /// The secret key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The compressed public key (33 bytes).
    pub fn public_key(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out.copy_from_slice(self.key.verifying_key().to_encoded_point(true).as_bytes());
        out
    }

    /// Signs an arbitrary payload with EIP-191: `0x` + hex of `r‖s‖v`, `v` = 27 or 28, low-S,
    /// RFC 6979 deterministic (byte-identical to eth_account).
    pub fn sign_message(&self, payload: &[u8]) -> Result<String, SignError> {
        let digest = eip191_digest(payload);
        let (sig, recid): (EcdsaSignature, RecoveryId) =
            self.key.sign_prehash_recoverable(&digest).map_err(|e| SignError::Crypto(e.to_string()))?;
        let mut raw = [0u8; 65];
        raw[..64].copy_from_slice(&sig.to_bytes());
        raw[64] = 27 + recid.to_byte();
        Ok(format!("0x{}", hex::encode(raw)))
    }
}

impl Signer for EthereumSigner {
    fn chain(&self) -> Chain {
        self.chain
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError> {
        self.sign_message(payload.buffer)
    }
}

const HARDENED: u32 = 0x8000_0000;

/// BIP32 private-key derivation along `path` from a BIP39 seed.
fn bip32_derive(seed: &[u8], path: &[u32]) -> Result<[u8; 32], SignError> {
    let bad = |what: &str| SignError::InvalidKey(format!("BIP32 derivation failed: {what}"));
    let mac = |key: &[u8], data: &[&[u8]]| -> Result<[u8; 64], SignError> {
        let mut m = Hmac::<Sha512>::new_from_slice(key).map_err(|_| bad("hmac key"))?;
        for d in data {
            m.update(d);
        }
        Ok(m.finalize().into_bytes().into())
    };
    let i = mac(b"Bitcoin seed", &[seed])?;
    let (mut key, mut chain_code) = (<[u8; 32]>::try_from(&i[..32]).map_err(|_| bad("split"))?, [0u8; 32]);
    chain_code.copy_from_slice(&i[32..]);
    for &index in path {
        let parent = SigningKey::from_bytes((&key).into()).map_err(|_| bad("parent key"))?;
        let i = if index & HARDENED != 0 {
            mac(&chain_code, &[&[0u8], &key, &index.to_be_bytes()])?
        } else {
            let pubkey = parent.verifying_key().to_encoded_point(true);
            mac(&chain_code, &[pubkey.as_bytes(), &index.to_be_bytes()])?
        };
        let il: Scalar = Option::from(Scalar::from_repr(field_bytes(&i[..32]).ok_or_else(|| bad("split"))?))
            .ok_or_else(|| bad("child scalar out of range"))?;
        let child = il + parent.as_nonzero_scalar().as_ref();
        if bool::from(child.is_zero()) {
            return Err(bad("zero child key"));
        }
        key = child.to_repr().into();
        chain_code.copy_from_slice(&i[32..]);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MessageType, UnsignedMessage};

    const ANVIL_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn anvil_key_address() {
        let s = EthereumSigner::from_hex(ANVIL_KEY).unwrap();
        assert_eq!(s.address(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    }

    #[test]
    fn mnemonic_derivation_matches_the_well_known_test_wallet() {
        // The "test test … junk" mnemonic's first account is Anvil/Hardhat's account #0.
        let phrase = "test test test test test test test test test test test junk";
        let s = EthereumSigner::from_mnemonic(phrase, "", 0).unwrap();
        assert_eq!(s.address(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        let s1 = EthereumSigner::from_mnemonic(phrase, "", 1).unwrap();
        assert_eq!(s1.address(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert!(EthereumSigner::from_mnemonic("not a mnemonic", "", 0).is_err());
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let s = EthereumSigner::from_hex(ANVIL_KEY).unwrap();
        let msg = s.sign(UnsignedMessage::inline(MessageType::Post, "{\"a\":1}".into(), 1.5, None)).unwrap();
        crate::verify::verify_signature(&msg.signed_fields()).unwrap();
        let mut other = msg.clone();
        other.message_type = MessageType::Aggregate;
        assert!(matches!(
            crate::verify::verify_signature(&other.signed_fields()),
            Err(VerifyError::WrongSigner { .. })
        ));
    }

    #[test]
    fn checksum_of_lowercase() {
        assert_eq!(
            checksum("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert!(checksum("f39fd6e51aad88f6f4ce6ab8827279cfffb92266").is_none());
    }

    #[test]
    fn other_evm_labels_only() {
        let s = EthereumSigner::from_hex(ANVIL_KEY).unwrap();
        assert!(s.clone().with_chain(Chain::Base).is_ok());
        assert_eq!(s.with_chain(Chain::Sol).unwrap_err(), SignError::WrongChain(Chain::Sol));
    }
}
