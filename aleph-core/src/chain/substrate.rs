//! Substrate / Polkadot (`DOT`): sr25519 signatures (schnorrkel, signing context `substrate`),
//! SS58 sender addresses of any network.

use blake2::{Blake2b512, Digest};
use schnorrkel::{PublicKey, Signature};
use serde_json::Value;

use crate::chain::pycompat;
use crate::message::SignedFields;
use crate::verify::VerifyError;

/// The schnorrkel signing context Substrate uses.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// The 32-byte public key an address names, read as the reference's substrate-interface does.
///
/// * A sender starting with `0x` is taken as the public key itself: every `0x` in it is removed
///   and the rest decoded with Python's `bytes.fromhex` (whitespace between pairs allowed).
/// * Otherwise it is SS58: base58 (trailing whitespace stripped, as the `base58` package does),
///   a 1-byte network prefix (first byte below 64, or any byte with bit 6 clear) or a 2-byte
///   one (bit 6 set), the reserved prefixes 46 and 47 refused, 32 key bytes, and a 2-byte
///   checksum equal to the start of BLAKE2b-512(`"SS58PRE"` ‖ prefix ‖ key). Any network prefix
///   is accepted.
pub fn ss58_public_key(address: &str) -> Result<[u8; 32], VerifyError> {
    let bad = |what: &str| VerifyError::BadSender(what.to_owned());
    if address.starts_with("0x") {
        let key = pycompat::fromhex(&address.replace("0x", "")).ok_or_else(|| bad("not a hex public key"))?;
        return <[u8; 32]>::try_from(key.as_slice()).map_err(|_| bad("a public key is 32 bytes"));
    }
    let decoded = pycompat::b58decode_rstrip(address).ok_or_else(|| bad("an SS58 address is base58"))?;
    let (prefix_len, format) = match decoded.as_slice() {
        [first, second, ..] if first & 0x40 != 0 => {
            let (first, second) = (u16::from(*first), u16::from(*second));
            (2, ((first & 0x3f) << 2) | (second >> 6) | ((second & 0x3f) << 8))
        }
        [first, ..] if first & 0x40 == 0 => (1, u16::from(*first)),
        _ => return Err(bad("the address is too short")),
    };
    if format == 46 || format == 47 {
        return Err(bad("reserved SS58 format"));
    }
    if decoded.len() != prefix_len + 34 {
        return Err(bad("an SS58 account address holds 32 key bytes"));
    }
    let (body, checksum) = decoded.split_at(decoded.len() - 2);
    let mut hasher = Blake2b512::new();
    hasher.update(b"SS58PRE");
    hasher.update(body);
    if hasher.finalize()[..2] != *checksum {
        return Err(bad("SS58 checksum mismatch"));
    }
    <[u8; 32]>::try_from(&body[prefix_len..]).map_err(|_| bad("an SS58 account address holds 32 key bytes"))
}

/// Verifies a `DOT` message as the reference node does.
///
/// The signature field is JSON `{"curve": "sr25519", "data": "0x<hex>"}`: `curve` may be absent
/// but any value other than the string `"sr25519"` is refused; `data` must be a string starting
/// with `0x` (substrate-interface refuses other hex), and must hold a 64-byte schnorrkel
/// signature. The key is [`ss58_public_key`] of the sender. The signature must verify over the
/// buffer, or failing that over `"<Bytes>" ‖ buffer ‖ "</Bytes>"` (the polkadot.js extension's
/// wrapping), with the `substrate` signing context.
///
/// The JSON is parsed with serde_json, which agrees with Python's `json.loads` (duplicate keys:
/// the last wins) except on documents only Python accepts: `NaN`/`Infinity` literals, unpaired
/// surrogate escapes, numbers beyond `f64` and nesting deeper than 128. Those are refused here.
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let malformed = |what: &str| VerifyError::Malformed(what.to_owned());
    let doc: Value =
        serde_json::from_str(fields.signature).map_err(|_| malformed("signature is not a JSON document"))?;
    let obj = doc.as_object().ok_or_else(|| malformed("signature is not a JSON object"))?;
    match obj.get("curve") {
        None => {}
        Some(Value::String(curve)) if curve == "sr25519" => {}
        Some(other) => return Err(VerifyError::Malformed(format!("unsupported curve {other}"))),
    }
    let public = ss58_public_key(fields.sender)?;
    let data = obj.get("data").ok_or_else(|| malformed("signature has no `data`"))?;
    let hex = data
        .as_str()
        .and_then(|d| d.strip_prefix("0x"))
        .ok_or_else(|| malformed("`data` is not a 0x-prefixed hex string"))?;
    let bytes = pycompat::fromhex(hex).ok_or_else(|| malformed("`data` is not hex"))?;
    if bytes.len() != 64 {
        return Err(VerifyError::Malformed(format!(
            "expected a 64-byte signature, got {} bytes",
            bytes.len()
        )));
    }
    let signature = Signature::from_bytes(&bytes).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let key = PublicKey::from_bytes(&public)
        .map_err(|_| VerifyError::BadSender("not an sr25519 public key".to_owned()))?;
    let buffer = fields.buffer();
    if key.verify_simple(SIGNING_CONTEXT, &buffer, &signature).is_ok() {
        return Ok(());
    }
    let mut wrapped = Vec::with_capacity(buffer.len() + 15);
    wrapped.extend_from_slice(b"<Bytes>");
    wrapped.extend_from_slice(&buffer);
    wrapped.extend_from_slice(b"</Bytes>");
    key.verify_simple(SIGNING_CONTEXT, &wrapped, &signature).map_err(|_| VerifyError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schnorrkel::{ExpansionMode, MiniSecretKey};

    const HASH: &str = "bfbc94fae6336d52ab65a4d907d399a0c16222bd944b3815faa08ad0e039ca1d";

    fn fields<'a>(sender: &'a str, signature: &'a str) -> SignedFields<'a> {
        SignedFields {
            chain: "DOT",
            sender,
            message_type: "AGGREGATE",
            item_hash: HASH,
            signature,
            time: 0.0,
        }
    }

    /// SS58 encoding with a 1- or 2-byte network prefix.
    fn ss58(key: &[u8; 32], format: u16) -> String {
        let mut raw = if format < 64 {
            vec![format as u8]
        } else {
            vec![((format & 0xfc) >> 2) as u8 | 0x40, ((format >> 8) as u8) | (((format & 0x03) << 6) as u8)]
        };
        raw.extend_from_slice(key);
        let mut h = Blake2b512::new();
        h.update(b"SS58PRE");
        h.update(&raw);
        let sum = h.finalize();
        raw.extend_from_slice(&sum[..2]);
        bs58::encode(raw).into_string()
    }

    fn keypair() -> schnorrkel::Keypair {
        MiniSecretKey::from_bytes(&[11u8; 32]).unwrap().expand_to_keypair(ExpansionMode::Ed25519)
    }

    fn sign(kp: &schnorrkel::Keypair, msg: &[u8]) -> String {
        // Signing needs randomness; this build of schnorrkel has no system RNG of its own.
        let transcript = schnorrkel::signing_context(SIGNING_CONTEXT).bytes(msg);
        let sig = kp.sign(schnorrkel::context::attach_rng(transcript, rand_core::OsRng));
        format!(r#"{{"curve": "sr25519", "data": "0x{}"}}"#, hex::encode(sig.to_bytes()))
    }

    #[test]
    fn reference_vectors() {
        let sig = r#"{"curve": "sr25519", "data": "0x1ccefb257e89b4e3ecb7d71c8dc1d6e286290b9e32d2a11bf3f9d425c5790f4bff0b324dc774d20a13e38a340d1a48fada71fb0c68690c3adb8f0cc695b0eb83"}"#;
        let sender = "5CGNMKCscqN2QNcT7Jtuz23ab7JUxh8wTEtXhECZLJn5vCGX";
        assert_eq!(verify(&fields(sender, sig)), Ok(()));
        let no_0x = sig.replace("0x", "");
        assert!(matches!(verify(&fields(sender, &no_0x)), Err(VerifyError::Malformed(_))));
        let ed = sig.replace("sr25519", "ed25519");
        assert!(matches!(verify(&fields(sender, &ed)), Err(VerifyError::Malformed(_))));
        assert!(matches!(verify(&fields(sender, r#"{"curve": "sr25519"}"#)), Err(VerifyError::Malformed(_))));
        assert!(matches!(verify(&fields(sender, "baba")), Err(VerifyError::Malformed(_))));
        // Signed by a browser extension: the <Bytes> wrapping.
        let f = SignedFields {
            chain: "DOT",
            sender: "5D9eKrAsfitxW48YrqMUXejcrnB2N8tLxPeFmoEZ4G74JFyz",
            message_type: "POST",
            item_hash: "2f6e60df7ce1cdb2fb3be8ec09ffd20b5b781338984ff5f6f33830943f4397ba",
            signature: r#"{"curve": "sr25519", "data": "0x866806b04e4cd99cd3a0f80232b8255d13c2782056a5e755fba5f233ccf8bf03a5fc2d708f8f70258b62d8e327da3a3ae6a280f1cab27eb912f125e0a1ade98a"}"#,
            time: 0.0,
        };
        assert_eq!(verify(&f), Ok(()));
    }

    #[test]
    fn sign_verify_any_network_and_negatives() {
        let kp = keypair();
        let key = kp.public.to_bytes();
        for format in [0u16, 2, 42, 63, 64, 255, 1284, 16383] {
            let sender = ss58(&key, format);
            assert_eq!(ss58_public_key(&sender), Ok(key), "format {format}");
            let f = fields(&sender, "");
            let buffer = f.buffer();
            assert_eq!(verify(&fields(&sender, &sign(&kp, &buffer))), Ok(()));
            let mut wrapped = b"<Bytes>".to_vec();
            wrapped.extend_from_slice(&buffer);
            wrapped.extend_from_slice(b"</Bytes>");
            assert_eq!(verify(&fields(&sender, &sign(&kp, &wrapped))), Ok(()));
            // Tampered buffer.
            let good = sign(&kp, &buffer);
            let tampered = SignedFields { message_type: "POST", ..fields(&sender, &good) };
            assert_eq!(verify(&tampered), Err(VerifyError::Invalid));
        }
        for reserved in [46u16, 47] {
            assert!(matches!(ss58_public_key(&ss58(&key, reserved)), Err(VerifyError::BadSender(_))));
        }
        let sender = ss58(&key, 42);
        let good = sign(&kp, &fields(&sender, "").buffer());
        // Another key's address.
        let other = MiniSecretKey::from_bytes(&[12u8; 32]).unwrap().expand_to_keypair(ExpansionMode::Ed25519);
        assert_eq!(verify(&fields(&ss58(&other.public.to_bytes(), 42), &good)), Err(VerifyError::Invalid));
        // Curve absent is fine; data without 0x, wrong length or upper-case 0X is not.
        let bare = good.replace(r#""curve": "sr25519", "#, "");
        assert_eq!(verify(&fields(&sender, &bare)), Ok(()));
        for bad in [
            good.replace("0x", ""),
            good.replace("0x", "0X"),
            good.replace("\"}", "00\"}"),
            good.replace("sr25519", ""),
        ] {
            assert!(matches!(verify(&fields(&sender, &bad)), Err(VerifyError::Malformed(_))), "{bad}");
        }
        assert!(matches!(
            verify(&fields(&sender, r#"{"curve": null, "data": "0x00"}"#)),
            Err(VerifyError::Malformed(_))
        ));
        // Duplicate keys: the last one wins, as in Python.
        let dup = good.replace(r#"{"curve": "sr25519""#, r#"{"curve": "ed25519", "curve": "sr25519""#);
        assert_ne!(dup, good);
        assert_eq!(verify(&fields(&sender, &dup)), Ok(()));
        // Checksum and length errors in the sender.
        let mut broken = sender.clone();
        broken.pop();
        assert!(matches!(ss58_public_key(&broken), Err(VerifyError::BadSender(_))));
        assert!(matches!(ss58_public_key(""), Err(VerifyError::BadSender(_))));
        assert!(matches!(ss58_public_key("0OIl"), Err(VerifyError::BadSender(_))));
    }

    #[test]
    fn sender_quirks_of_substrate_interface() {
        let kp = keypair();
        let key = kp.public.to_bytes();
        // Trailing whitespace is stripped before base58 decoding (the signed buffer keeps it).
        let spaced = format!("{} \n", ss58(&key, 42));
        assert_eq!(ss58_public_key(&spaced), Ok(key));
        assert_eq!(verify(&fields(&spaced, &sign(&kp, &fields(&spaced, "").buffer()))), Ok(()));
        // A 0x sender is a raw hex public key.
        let hex_sender = format!("0x{}", hex::encode(key));
        assert_eq!(ss58_public_key(&hex_sender), Ok(key));
        assert_eq!(verify(&fields(&hex_sender, &sign(&kp, &fields(&hex_sender, "").buffer()))), Ok(()));
        assert!(ss58_public_key("0x00").is_err());
    }
}
