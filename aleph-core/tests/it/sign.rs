//! Our signers reproduce the official Python SDK's signatures byte for byte, for the keys of
//! `sdk-generated.json` (ETH is RFC 6979 deterministic, ed25519 is deterministic).

#![cfg_attr(not(aleph_vectors), allow(dead_code, unused_imports))]

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_core::message::UnsignedMessage;
use aleph_core::{ItemHash, ItemType, PendingMessage, Signer};
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
    let vectors = sdk["vectors"].as_array().expect("vectors");
    let mut per_chain = std::collections::BTreeMap::<&str, usize>::new();
    for v in vectors {
        let chain = v["chain"].as_str().unwrap_or("");
        let signer = signer_for(chain, v["private_key_hex"].as_str().unwrap_or(""))
            .unwrap_or_else(|| panic!("{}: no signer for chain {chain:?}", v["name"]));
        let original = PendingMessage::from_value(&v["message"]).expect("sdk message parses");
        assert_eq!(signer.address(), original.sender, "{}", v["name"]);
        let ours = resign(signer.as_ref(), &original);
        assert_eq!(ours.signature, original.signature, "{}", v["name"]);
        assert_eq!(
            serde_json::to_value(&ours).expect("json"),
            serde_json::to_value(&original).expect("json")
        );
        *per_chain.entry(chain).or_default() += 1;
    }
    // The vectors' README: eight messages (six inline types, two storage) for each of the chains.
    let want: std::collections::BTreeMap<&str, usize> = [("ETH", 8), ("SOL", 8), ("TEZOS", 8)].into();
    assert_eq!(per_chain, want);
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn sdk_keys_derive_their_addresses() {
    let sdk = load("sdk-generated.json");
    let keys = sdk["keys"].as_array().expect("keys");
    // One key per chain plus a second ("swap target") key per chain.
    assert_eq!(keys.len(), 6, "{keys:?}");
    for k in keys {
        let chain = k["chain"].as_str().unwrap_or("");
        let signer = signer_for(chain, k["private_key_hex"].as_str().unwrap_or(""))
            .unwrap_or_else(|| panic!("no signer for the {chain:?} key {k}"));
        let want = k["address"].as_str().expect("an address");
        assert_eq!(signer.address(), want, "{chain}");
    }
}

#[test]
fn item_hashes_are_the_sha256_of_the_bytes() {
    // sha256("hello"), as `printf hello | sha256sum` prints it.
    let hash = ItemHash::sha256(b"hello");
    assert_eq!(hash.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_eq!(serde_json::to_value(&hash).expect("json"), Value::String(hash.as_str().to_owned()));
}

#[test]
#[cfg_attr(
    not(aleph_vectors),
    ignore = "the shared vectors (../shared/vectors or $ALEPH_VECTORS) are not present"
)]
fn sdk_storage_messages_name_the_sha256_of_the_uploaded_bytes() {
    let sdk = load("sdk-generated.json");
    let mut checked = 0;
    for v in sdk["vectors"].as_array().expect("vectors") {
        let Some(stored) = v.get("stored_content").and_then(Value::as_str) else { continue };
        let message = PendingMessage::from_value(&v["message"]).expect("sdk message parses");
        assert_eq!(message.item_type, ItemType::Storage, "{}", v["name"]);
        assert_eq!(ItemHash::sha256(stored.as_bytes()), message.item_hash, "{}", v["name"]);
        // What the SDK uploads is its spaced `json.dumps`, not the compact inline form.
        let reparsed: Value = serde_json::from_str(stored).expect("stored content is JSON");
        assert_ne!(ItemHash::sha256(reparsed.to_string().as_bytes()), message.item_hash, "{}", v["name"]);
        checked += 1;
    }
    // A storage POST and a storage AGGREGATE for each of the three chains.
    assert_eq!(checked, 6);
}
