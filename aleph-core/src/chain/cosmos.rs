//! Cosmos SDK (`CSDK`): secp256k1 signatures over an ADR-036-style amino sign document, bech32
//! addresses with the sender's own human-readable part.

use serde_json::Value;

use crate::chain::pycompat;
use crate::chain::secp256k1::{hash160, parse_public_key, sha256, split_rs, verify_prehash};
use crate::message::SignedFields;
use crate::verify::VerifyError;

/// The only public-key type the reference accepts.
pub const PUBKEY_TYPE: &str = "tendermint/PubKeySecp256k1";

/// The amino sign document a `CSDK` signature covers, byte for byte as the reference builds it
/// with `json.dumps(doc, separators=(",", ":"), sort_keys=True)`:
///
/// `{"account_number":"0","chain_id":"signed-message-v1","fee":{"amount":[],"gas":"0"},"memo":"",
/// "msgs":[{"type":"signutil/MsgSignText","value":{"message":<buffer>,"signer":<sender>}}],
/// "sequence":"0"}` (one line), with the buffer text and the sender as Python's ASCII-escaped
/// JSON strings. The account number and sequence are always `"0"`.
pub fn sign_doc(buffer: &str, sender: &str) -> String {
    let mut doc = String::with_capacity(256 + buffer.len() + sender.len());
    doc.push_str(
        r#"{"account_number":"0","chain_id":"signed-message-v1","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"signutil/MsgSignText","value":{"message":"#,
    );
    pycompat::push_json_string(&mut doc, buffer);
    doc.push_str(r#","signer":"#);
    pycompat::push_json_string(&mut doc, sender);
    doc.push_str(r#"}}],"sequence":"0"}"#);
    doc
}

/// The bech32 address of a public key (its bytes as given) under a human-readable part:
/// `bech32(hrp, RIPEMD-160(SHA-256(key)))`, the part taken verbatim as the reference's bech32
/// package does.
pub fn address(public_key: &[u8], hrp: &str) -> String {
    pycompat::bech32_encode(hrp, &hash160(public_key))
}

/// Verifies a `CSDK` message as the reference node does.
///
/// The signature field is JSON `{"signature": b64(r‖s), "pub_key": {"type":
/// "tendermint/PubKeySecp256k1", "value": b64(key)}, …}` (other members ignored; base64 decoded
/// leniently, as Python's `base64.b64decode`). The sender must equal [`address`] of the key
/// bytes under the sender's text before its first `1`. The key may be compressed, uncompressed,
/// hybrid or raw 64-byte (python-ecdsa); the signature is 64 bytes `r‖s`, ECDSA over SHA-256 of
/// [`sign_doc`], and high `s` is accepted.
///
/// The JSON is parsed with serde_json, which agrees with Python's `json.loads` (duplicate keys:
/// the last wins) except on documents only Python accepts: `NaN`/`Infinity` literals, unpaired
/// surrogate escapes, numbers beyond `f64` and nesting deeper than 128. Those are refused here.
pub fn verify(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let malformed = |what: &str| VerifyError::Malformed(what.to_owned());
    let doc: Value =
        serde_json::from_str(fields.signature).map_err(|_| malformed("signature is not a JSON document"))?;
    let obj = doc.as_object().ok_or_else(|| malformed("signature is not a JSON object"))?;
    let pub_key =
        obj.get("pub_key").and_then(Value::as_object).ok_or_else(|| malformed("no `pub_key` object"))?;
    if pub_key.get("type").and_then(Value::as_str) != Some(PUBKEY_TYPE) {
        return Err(malformed("`pub_key.type` is not tendermint/PubKeySecp256k1"));
    }
    let key_bytes = pub_key
        .get("value")
        .and_then(Value::as_str)
        .and_then(pycompat::b64decode_str)
        .ok_or_else(|| malformed("`pub_key.value` is not a base64 string"))?;
    let (hrp, _) = fields
        .sender
        .split_once('1')
        .ok_or_else(|| VerifyError::BadSender("a bech32 address has a `1` separator".to_owned()))?;
    let sig_bytes = obj
        .get("signature")
        .and_then(Value::as_str)
        .and_then(|s| pycompat::b64decode(s.as_bytes()))
        .ok_or_else(|| malformed("`signature` is not a base64 string"))?;
    let signer = address(&key_bytes, hrp);
    if signer != fields.sender {
        return Err(VerifyError::WrongSigner { sender: fields.sender.to_owned(), signer });
    }
    let key = parse_public_key(&key_bytes, true).ok_or_else(|| malformed("not a secp256k1 public key"))?;
    let (r, s) = split_rs(&sig_bytes).ok_or_else(|| malformed("the signature is not 64 bytes"))?;
    let buffer = fields.buffer();
    let digest = sha256(sign_doc(&String::from_utf8_lossy(&buffer), fields.sender).as_bytes());
    if verify_prehash(&key, &digest, &r, &s, true) {
        Ok(())
    } else {
        Err(VerifyError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use k256::ecdsa::signature::hazmat::PrehashSigner;
    use k256::ecdsa::{Signature, SigningKey};

    const HASH: &str = "9c7136fe3598b940158b5f0bb5c313e9152b53412db7649618003f6807739684";

    fn fields<'a>(sender: &'a str, signature: &'a str) -> SignedFields<'a> {
        SignedFields { chain: "CSDK", sender, message_type: "POST", item_hash: HASH, signature, time: 0.0 }
    }

    fn signature_json(sig: &[u8], key: &[u8]) -> String {
        format!(
            r#"{{"signature": "{}", "pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{}"}}, "account_number": "0", "sequence": "0"}}"#,
            STANDARD.encode(sig),
            STANDARD.encode(key)
        )
    }

    #[test]
    fn reference_vector() {
        // pyaleph tests/chains/test_cosmos.py, as its fixture rebuilds it.
        let sig = r#"{"signature": "vlrNQEokZ0bJu6WuTUH7lwaXQb0iSdLbAfuzGyB3Pp15NzFuKtNw6Fw8d4LOcV/zaVnioWMTeNxaf3Cak99ZiA==", "pub_key": {"type": "tendermint/PubKeySecp256k1", "value": "AnswvteOeBxaZVk+PAp6KZ5RSoNjAQgqSaHcfCMpjebu"}, "account_number": "0", "sequence": "0"}"#;
        assert_eq!(verify(&fields("cosmos1pjekm3szchhl7p2jr39hvzpwy78r5hztqdqasd", sig)), Ok(()));
        assert!(matches!(
            verify(&fields("cosmos1rq3rcux05yftlh307gw8khh6xj43nv40aq27f5", sig)),
            Err(VerifyError::WrongSigner { .. })
        ));
    }

    #[test]
    fn sign_doc_matches_python() {
        // json.dumps({...}, separators=(",", ":"), sort_keys=True)
        assert_eq!(
            sign_doc("CSDK\ncosmos1x\nPOST\nh\u{e9}\"", "cosmos1x"),
            r#"{"account_number":"0","chain_id":"signed-message-v1","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"signutil/MsgSignText","value":{"message":"CSDK\ncosmos1x\nPOST\nh\u00e9\"","signer":"cosmos1x"}}],"sequence":"0"}"#
        );
    }

    #[test]
    fn sign_verify_and_negatives() {
        let sk = SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
        let pk = sk.verifying_key().to_encoded_point(true);
        for hrp in ["cosmos", "osmo", "COSMOS"] {
            let sender = address(pk.as_bytes(), hrp);
            let f = fields(&sender, "");
            let digest = sha256(sign_doc(&String::from_utf8(f.buffer()).unwrap(), &sender).as_bytes());
            let sig: Signature = sk.sign_prehash(&digest).unwrap();
            let good = signature_json(&sig.to_bytes(), pk.as_bytes());
            assert_eq!(verify(&fields(&sender, &good)), Ok(()), "{hrp}");
            // High-S is accepted (python-ecdsa).
            let high = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes()).unwrap();
            assert_eq!(verify(&fields(&sender, &signature_json(&high.to_bytes(), pk.as_bytes()))), Ok(()));
            // Tampered buffer.
            let tampered = SignedFields { item_hash: "00", ..fields(&sender, &good) };
            assert_eq!(verify(&tampered), Err(VerifyError::Invalid));
            // Signed over the raw buffer (the 2020 client's way): invalid.
            let raw: Signature = sk.sign_prehash(&sha256(&f.buffer())).unwrap();
            assert_eq!(
                verify(&fields(&sender, &signature_json(&raw.to_bytes(), pk.as_bytes()))),
                Err(VerifyError::Invalid)
            );
        }
        // An uncompressed key has its own address and verifies.
        let full = sk.verifying_key().to_encoded_point(false);
        let sender = address(full.as_bytes(), "cosmos");
        let f = fields(&sender, "");
        let digest = sha256(sign_doc(&String::from_utf8(f.buffer()).unwrap(), &sender).as_bytes());
        let sig: Signature = sk.sign_prehash(&digest).unwrap();
        assert_eq!(verify(&fields(&sender, &signature_json(&sig.to_bytes(), full.as_bytes()))), Ok(()));
    }

    #[test]
    fn malformed_signature_fields() {
        let sender = "cosmos1pjekm3szchhl7p2jr39hvzpwy78r5hztqdqasd";
        let key = "AnswvteOeBxaZVk+PAp6KZ5RSoNjAQgqSaHcfCMpjebu";
        for bad in [
            "baba".to_owned(),
            "[]".to_owned(),
            format!(r#"{{"pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{key}"}}}}"#),
            format!(
                r#"{{"signature": "AAAA", "pub_key": {{"type": "tendermint/PubKeyEd25519", "value": "{key}"}}}}"#
            ),
            r#"{"signature": "AAAA", "pub_key": "x"}"#.to_owned(),
            format!(r#"{{"signature": 5, "pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{key}"}}}}"#),
            format!(
                r#"{{"signature": "AAAA", "pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{key}\u00e9"}}}}"#
            ),
            format!(r#"{{"signature": "AAAA", "pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{key}"}}}}"#),
        ] {
            assert!(matches!(verify(&fields(sender, &bad)), Err(VerifyError::Malformed(_))), "{bad}");
        }
        assert!(matches!(
            verify(&fields(
                "cosmos",
                &format!(
                    r#"{{"signature": "AAAA", "pub_key": {{"type": "{PUBKEY_TYPE}", "value": "{key}"}}}}"#
                )
            )),
            Err(VerifyError::BadSender(_))
        ));
    }
}
