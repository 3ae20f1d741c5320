//! secp256k1 primitives shared by the NULS, Cosmos and Avalanche verifiers, with the reference
//! libraries' acceptance rules: libsecp256k1 (through coincurve) for recovery and NULS v1, and
//! python-ecdsa for Cosmos.
#![cfg_attr(not(all(feature = "nuls", feature = "cosmos", feature = "avalanche")), allow(dead_code))]

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};
use k256::elliptic_curve::bigint::{ArrayEncoding, Limb, U256};
use k256::elliptic_curve::group::Group;
use k256::elliptic_curve::ops::{LinearCombination, Reduce};
use k256::elliptic_curve::point::{AffineCoordinates, DecompressPoint};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::subtle::Choice;
use k256::elliptic_curve::{Curve, PrimeField};
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, Secp256k1};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

/// RIPEMD-160 of SHA-256 (Bitcoin's `hash160`).
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Public-key recovery as libsecp256k1's `secp256k1_ecdsa_recover` does it: `r` and `s` in
/// `[1, n)` (high `s` accepted), `recid` 0–3 where bit 1 means `R.x = r + n` (only when that is
/// below the field prime) and bit 0 the parity of `R.y`. Returns the compressed public key.
pub(crate) fn recover_compressed(
    prehash: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
    recid: u8,
) -> Option<[u8; 33]> {
    if recid > 3 {
        return None;
    }
    let r_scalar: Scalar = Option::from(Scalar::from_repr(FieldBytes::from(*r)))?;
    let s_scalar: Scalar = Option::from(Scalar::from_repr(FieldBytes::from(*s)))?;
    if bool::from(r_scalar.is_zero()) || bool::from(s_scalar.is_zero()) {
        return None;
    }
    let x = if recid & 2 != 0 {
        let (sum, carry) = U256::from_be_slice(r).adc(&Secp256k1::ORDER, Limb::ZERO);
        if carry != Limb::ZERO {
            return None;
        }
        sum.to_be_byte_array()
    } else {
        FieldBytes::from(*r)
    };
    // Fails when x is not below the field prime or not the abscissa of a curve point.
    let big_r: AffinePoint = Option::from(AffinePoint::decompress(&x, Choice::from(recid & 1)))?;
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*prehash));
    let r_inv: Scalar = Option::from(r_scalar.invert())?;
    let u1 = -(z * r_inv);
    let u2 = s_scalar * r_inv;
    let q = ProjectivePoint::lincomb(&ProjectivePoint::GENERATOR, &u1, &ProjectivePoint::from(big_r), &u2);
    if bool::from(q.is_identity()) {
        return None;
    }
    let encoded = q.to_affine().to_encoded_point(true);
    <[u8; 33]>::try_from(encoded.as_bytes()).ok()
}

/// Parses a public key in the encodings libsecp256k1's `secp256k1_ec_pubkey_parse` accepts:
/// compressed (`02`/`03`, 33 bytes), uncompressed (`04`, 65 bytes) and hybrid (`06`/`07`,
/// 65 bytes, the tag's parity matching `y`); with `allow_raw`, also python-ecdsa's raw 64-byte
/// `x‖y`. Coordinates must be below the field prime and the point on the curve.
pub(crate) fn parse_public_key(bytes: &[u8], allow_raw: bool) -> Option<VerifyingKey> {
    let mut uncompressed = [0u8; 65];
    uncompressed[0] = 0x04;
    match (bytes.len(), bytes.first().copied()) {
        (33, Some(0x02 | 0x03)) | (65, Some(0x04)) => VerifyingKey::from_sec1_bytes(bytes).ok(),
        (65, Some(tag @ (0x06 | 0x07))) => {
            uncompressed[1..].copy_from_slice(&bytes[1..]);
            let key = VerifyingKey::from_sec1_bytes(&uncompressed).ok()?;
            let y_odd = bool::from(key.as_affine().y_is_odd());
            (y_odd == (tag == 0x07)).then_some(key)
        }
        (64, _) if allow_raw => {
            uncompressed[1..].copy_from_slice(bytes);
            VerifyingKey::from_sec1_bytes(&uncompressed).ok()
        }
        _ => None,
    }
}

/// Splits 64 bytes into the big-endian `r` and `s` halves.
pub(crate) fn split_rs(rs: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    if rs.len() != 64 {
        return None;
    }
    let (r, s) = rs.split_at(32);
    Some((<[u8; 32]>::try_from(r).ok()?, <[u8; 32]>::try_from(s).ok()?))
}

/// ECDSA verification of a SHA-256 prehash. `r` and `s` must be in `[1, n)`; a high `s` is
/// accepted only when `accept_high_s` (python-ecdsa) and rejected otherwise (libsecp256k1).
pub(crate) fn verify_prehash(
    key: &VerifyingKey,
    prehash: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
    accept_high_s: bool,
) -> bool {
    let Ok(sig) = Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s)) else {
        return false;
    };
    let sig = if accept_high_s { sig.normalize_s().unwrap_or(sig) } else { sig };
    key.verify_prehash(prehash, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&FieldBytes::from([7u8; 32])).unwrap()
    }

    #[test]
    fn recovery_matches_signing_key_and_accepts_high_s() {
        let sk = key();
        let expected = sk.verifying_key().to_encoded_point(true);
        let digest = sha256(b"hello");
        let (sig, recid) = sk.sign_prehash_recoverable(&digest).unwrap();
        let (r, s) = split_rs(&sig.to_bytes()).unwrap();
        let got = recover_compressed(&digest, &r, &s, recid.to_byte()).unwrap();
        assert_eq!(&got[..], expected.as_bytes());
        // The same signature with s → n − s and the parity flipped recovers the same key.
        let high = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes()).unwrap();
        let (r2, s2) = split_rs(&high.to_bytes()).unwrap();
        let got = recover_compressed(&digest, &r2, &s2, recid.to_byte() ^ 1).unwrap();
        assert_eq!(&got[..], expected.as_bytes());
        assert!(recover_compressed(&digest, &r, &s, 4).is_none());
        assert!(recover_compressed(&digest, &[0; 32], &s, 0).is_none());
        // A wrong parity gives another key, not an error.
        assert_ne!(
            &recover_compressed(&digest, &r, &s, recid.to_byte() ^ 1).unwrap()[..],
            expected.as_bytes()
        );
        // High-S verifies only where the reference accepts it.
        let vk = sk.verifying_key();
        assert!(verify_prehash(vk, &digest, &r2, &s2, true));
        assert!(!verify_prehash(vk, &digest, &r2, &s2, false));
        assert!(verify_prehash(vk, &digest, &r, &s, false));
    }

    #[test]
    fn key_encodings() {
        let vk = *key().verifying_key();
        let compressed = vk.to_encoded_point(true);
        let uncompressed = vk.to_encoded_point(false);
        let odd = compressed.as_bytes()[0] == 0x03;
        let mut hybrid = uncompressed.as_bytes().to_vec();
        hybrid[0] = if odd { 0x07 } else { 0x06 };
        assert_eq!(parse_public_key(compressed.as_bytes(), false), Some(vk));
        assert_eq!(parse_public_key(uncompressed.as_bytes(), false), Some(vk));
        assert_eq!(parse_public_key(&hybrid, false), Some(vk));
        hybrid[0] ^= 1;
        assert_eq!(parse_public_key(&hybrid, false), None);
        assert_eq!(parse_public_key(&uncompressed.as_bytes()[1..], false), None);
        assert_eq!(parse_public_key(&uncompressed.as_bytes()[1..], true), Some(vk));
        assert_eq!(parse_public_key(&[0u8], true), None);
        assert_eq!(parse_public_key(&[], true), None);
    }
}
