//! Our signers reproduce the official Python SDK's signatures byte for byte, for the keys of
//! `sdk-generated.json` (ETH is RFC 6979 deterministic, ed25519 is deterministic).

#![cfg_attr(not(aleph_vectors), allow(dead_code, unused_imports))]

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_core::message::UnsignedMessage;
use aleph_core::{ItemHash, MessageType, PendingMessage, Signer};
use serde_json::Value;

use crate::vectors::load;

fn resign(signer: &dyn Signer, original: &PendingMessage) -> PendingMessage {
    let unsigned = UnsignedMessage {
        message_type: original.message_type,
        item_type: original.item_type,
        item_content: original.item_content.clone(),
        item_hash: original.item_hash.clone(),
        time: original.time,
        channel: original.channel.clone(),
    };
    signer.sign(unsigned).expect("signing")
}

pub(crate) fn signer_for(chain: &str, key_hex: &str) -> Option<Box<dyn Signer>> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(key_hex, &mut key).ok()?;
    match chain {
        "ETH" => Some(Box::new(EthereumSigner::from_bytes(&key).ok()?)),
        "SOL" => Some(Box::new(SolanaSigner::from_seed(&key))),
        "TEZOS" => Some(Box::new(TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &key).ok()?)),
        _ => None,
    }
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn sdk_signatures_are_reproduced_byte_for_byte() {
    let sdk = load("sdk-generated.json");
    let mut checked = 0;
    for v in sdk["vectors"].as_array().expect("vectors") {
        let chain = v["chain"].as_str().unwrap_or("");
        let Some(signer) = signer_for(chain, v["private_key_hex"].as_str().unwrap_or("")) else { continue };
        let original = PendingMessage::from_value(&v["message"]).expect("sdk message parses");
        assert_eq!(signer.address(), original.sender, "{}", v["name"]);
        let ours = resign(signer.as_ref(), &original);
        assert_eq!(ours.signature, original.signature, "{}", v["name"]);
        assert_eq!(
            serde_json::to_value(&ours).expect("json"),
            serde_json::to_value(&original).expect("json")
        );
        checked += 1;
    }
    assert!(checked >= 24, "checked {checked}");
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn sdk_keys_derive_their_addresses() {
    let sdk = load("sdk-generated.json");
    for k in sdk["keys"].as_array().expect("keys") {
        let chain = k["chain"].as_str().unwrap_or("");
        if let Some(signer) = signer_for(chain, k["private_key_hex"].as_str().unwrap_or("")) {
            assert_eq!(signer.address(), k["address"].as_str().unwrap_or(""));
        }
    }
}

#[test]
fn stored_item_hashes_are_sha256_of_bytes() {
    let hash = ItemHash::sha256(b"hello");
    assert_eq!(hash.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    let parsed: Value = serde_json::json!(hash);
    assert_eq!(parsed, Value::String(hash.to_string()));
    let _ = MessageType::Post;
}
