//! Avalanche X/P-chain (`AVAX`): recoverable secp256k1 signatures in cb58, bech32 `avax`
//! addresses behind the chain letter (`X-avax1…`). Not the EVM C-chain.

use crate::chain::pycompat;
use crate::chain::secp256k1::{hash160, recover_compressed, sha256, split_rs};
use crate::message::SignedFields;
use crate::verify::VerifyError;

/// The digest an Avalanche signed message covers:
/// `SHA-256("\x1aAvalanche Signed Message:\n" ‖ u32be(len) ‖ buffer)`; `None` for a buffer of
/// 4 GiB or more.
pub fn message_digest(buffer: &[u8]) -> Option<[u8; 32]> {
    let len = u32::try_from(buffer.len()).ok()?;
    let mut msg = Vec::with_capacity(31 + buffer.len());
    msg.extend_from_slice(b"\x1aAvalanche Signed Message:\n");
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(buffer);
    Some(sha256(&msg))
}

/// The address of a compressed public key on a chain: `chain_id + "-" + bech32("avax",
/// hash160(key))`, e.g. `X-avax1…`. The human-readable part is always `avax`.
pub fn address(chain_id: &str, public_key: &[u8; 33]) -> String {
    format!("{chain_id}-{}", pycompat::bech32_encode("avax", &hash160(public_key)))
}

/// Decodes a cb58 string: base58 (trailing whitespace stripped, as the `base58` package does) of
/// `payload ‖ last 4 bytes of SHA-256(payload)`.
fn decode_cb58(text: &str) -> Option<Vec<u8>> {
    let mut raw = pycompat::b58decode_rstrip(text)?;
    let split = raw.len().checked_sub(4)?;
    let checksum = raw.split_off(split);
    (sha256(&raw)[28..] == checksum[..]).then_some(raw)
}

/// Verifies an `AVAX` message as the reference node does.
///
/// The sender is `<chain id>-<hrp>1…`; the chain id is everything before the first `-`, and
/// the rest must contain a `1`. The signature is cb58 of 65 bytes `r ‖ s ‖ recovery id (0–3)`.
/// The compressed public key is recovered from [`message_digest`] of the buffer (high `s`
/// accepted) and its [`address`] on the sender's chain id must equal the sender exactly, so the
/// chain letter is both signed and compared, and only the `avax` hrp can match.
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let (chain_id, rest) = fields
        .sender
        .split_once('-')
        .ok_or_else(|| VerifyError::BadSender("an Avalanche address is <chain>-<bech32>".to_owned()))?;
    if !rest.contains('1') {
        return Err(VerifyError::BadSender("the bech32 part has no `1` separator".to_owned()));
    }
    let raw = decode_cb58(fields.signature)
        .ok_or_else(|| VerifyError::Malformed("signature is not cb58 (base58 with a checksum)".to_owned()))?;
    let (rs, recid) = match raw.split_last() {
        Some((&recid, rs)) if raw.len() == 65 && recid <= 3 => (rs, recid),
        _ => return Err(VerifyError::Malformed("expected 65 bytes r‖s‖recovery id (0–3)".to_owned())),
    };
    let (r, s) = split_rs(rs).ok_or(VerifyError::Invalid)?;
    let digest = message_digest(&fields.buffer())
        .ok_or_else(|| VerifyError::Malformed("message too long".to_owned()))?;
    let key = recover_compressed(&digest, &r, &s, recid).ok_or(VerifyError::Invalid)?;
    let signer = address(chain_id, &key);
    if signer == fields.sender {
        Ok(())
    } else {
        Err(VerifyError::WrongSigner { sender: fields.sender.to_owned(), signer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;

    const HASH: &str = "3c4d948a22c3d41b7d189555ee4a285cb490ec553f3d135cc3b2f0cfddf5c0f2";

    fn fields<'a>(sender: &'a str, signature: &'a str) -> SignedFields<'a> {
        SignedFields { chain: "AVAX", sender, message_type: "POST", item_hash: HASH, signature, time: 0.0 }
    }

    fn cb58(payload: &[u8]) -> String {
        let mut raw = payload.to_vec();
        raw.extend_from_slice(&sha256(payload)[28..]);
        bs58::encode(raw).into_string()
    }

    fn sign(sk: &SigningKey, sender: &str) -> String {
        let digest = message_digest(&fields(sender, "").buffer()).unwrap();
        let (sig, recid) = sk.sign_prehash_recoverable(&digest).unwrap();
        let mut raw = sig.to_bytes().to_vec();
        raw.push(recid.to_byte());
        cb58(&raw)
    }

    #[test]
    fn reference_vector() {
        // pyaleph tests/chains/test_avalanche.py.
        let sig =
            "3WRUvPbp7euNQvxuhV2YaFUJHN2Xoo8yku67MTuhfk8bRvDQz6hysQrrkfyKweXSCDNzfjrYzd1PwhGWdTJGZAvuMPiEJvJ";
        assert_eq!(verify(&fields("X-avax14x5a42stua94l2vxjcag6c9ftd8ea0y8fltdwv", sig)), Ok(()));
        assert!(matches!(
            verify(&fields("X-avax14x5a42stua94l2vxjcag6c9ftd8ea0y8fltdwv", "baba")),
            Err(VerifyError::Malformed(_))
        ));
        // The chain letter is signed: relabelled, another key is recovered.
        assert!(matches!(
            verify(&fields("P-avax14x5a42stua94l2vxjcag6c9ftd8ea0y8fltdwv", sig)),
            Err(VerifyError::WrongSigner { .. })
        ));
    }

    #[test]
    fn sign_verify_and_negatives() {
        let sk = SigningKey::from_bytes(&[21u8; 32].into()).unwrap();
        let pk: [u8; 33] = sk.verifying_key().to_encoded_point(true).as_bytes().try_into().unwrap();
        for chain in ["X", "P", ""] {
            let sender = address(chain, &pk);
            let sig = sign(&sk, &sender);
            assert_eq!(verify(&fields(&sender, &sig)), Ok(()), "{sender}");
            // Trailing whitespace after the cb58 text is stripped by the base58 package.
            assert_eq!(verify(&fields(&sender, &format!("{sig} \n"))), Ok(()));
            let tampered = SignedFields { message_type: "STORE", ..fields(&sender, &sig) };
            assert!(matches!(verify(&tampered), Err(VerifyError::WrongSigner { .. })));
        }
        let sender = address("X", &pk);
        let sig = sign(&sk, &sender);
        // Another key's address; a non-avax hrp never matches.
        let other = SigningKey::from_bytes(&[22u8; 32].into()).unwrap();
        let other_pk: [u8; 33] = other.verifying_key().to_encoded_point(true).as_bytes().try_into().unwrap();
        assert!(matches!(
            verify(&fields(&address("X", &other_pk), &sig)),
            Err(VerifyError::WrongSigner { .. })
        ));
        let fuji = format!("X-{}", pycompat::bech32_encode("fuji", &hash160(&pk)));
        assert!(matches!(verify(&fields(&fuji, &sign(&sk, &fuji))), Err(VerifyError::WrongSigner { .. })));
        // Malformed senders and signatures.
        assert!(matches!(verify(&fields("avax1abc", &sig)), Err(VerifyError::BadSender(_))));
        assert!(matches!(verify(&fields("X-avax", &sig)), Err(VerifyError::BadSender(_))));
        let mut raw = bs58::decode(&sig).into_vec().unwrap();
        raw.truncate(65);
        let mut bad_recid = raw.clone();
        bad_recid[64] = 4;
        assert!(matches!(verify(&fields(&sender, &cb58(&bad_recid))), Err(VerifyError::Malformed(_))));
        assert!(matches!(verify(&fields(&sender, &cb58(&raw[..64]))), Err(VerifyError::Malformed(_))));
        assert!(matches!(
            verify(&fields(&sender, &bs58::encode(&raw).into_string())),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(verify(&fields(&sender, "")), Err(VerifyError::Malformed(_))));
    }
}
