//! Messages signed by our signers are accepted by the official Python SDK: its `aleph_message`
//! schema parses them and its own verification buffer and verifiers accept the signatures.

#![cfg_attr(not(aleph_python), allow(dead_code, unused_imports))]

use std::process::Command;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{SigningMode, TezosCurve, TezosSigner};
use aleph_core::{Chain, MessageType, PendingMessage, Signer, UnsignedMessage};
use serde_json::{json, Value};

/// One inline message per type, signed by `signer`.
pub(crate) fn sample_messages(signer: &dyn Signer) -> Vec<PendingMessage> {
    let address = signer.address();
    let time = 1_735_689_600.125;
    let contents = [
        (
            MessageType::Post,
            json!({"address": address, "time": time, "type": "test", "content": {"body": "héllo ✓"}}),
        ),
        (
            MessageType::Aggregate,
            json!({"address": address, "time": time, "key": "profile", "content": {"name": "rust"}}),
        ),
        (
            MessageType::Store,
            json!({"address": address, "time": time, "item_type": "storage",
                   "item_hash": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}),
        ),
        (
            MessageType::Forget,
            json!({"address": address, "time": time,
                   "hashes": ["2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"], "reason": "test"}),
        ),
    ];
    contents
        .into_iter()
        .map(|(t, c)| {
            signer
                .sign(UnsignedMessage::inline(t, c.to_string(), time + 1.0, Some("RUST-INTEROP".into())))
                .expect("sign")
        })
        .collect()
}

/// Runs the Python judge on `messages`; returns its per-message verdicts and exit status.
pub(crate) fn judge_with_python_sdk(messages: &[PendingMessage]) -> (Vec<Value>, bool) {
    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let dir = std::env::temp_dir().join(format!("aleph-core-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file =
        dir.join(format!("messages-{}.json", messages.first().map_or("none", |m| m.item_hash.as_str())));
    std::fs::write(&file, serde_json::to_vec(messages).expect("json")).expect("write");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/verify_with_sdk.py");
    let out = Command::new(python).arg(script).arg(&file).output().expect("running the Python judge");
    let verdicts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad verdict line {l:?}: {e}")))
        .collect();
    assert!(out.status.code().is_some(), "python judge crashed: {}", String::from_utf8_lossy(&out.stderr));
    (verdicts, out.status.success())
}

pub(crate) fn assert_all_valid(messages: &[PendingMessage]) {
    let (verdicts, ok) = judge_with_python_sdk(messages);
    assert_eq!(verdicts.len(), messages.len(), "one verdict per message");
    for v in &verdicts {
        assert_eq!(v["valid"], Value::Bool(true), "{v}");
    }
    assert!(ok);
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn ethereum_messages_pass_the_python_sdk() {
    let signer =
        EthereumSigner::from_hex("7f0ecf9a7e483d109ee2c2569242d5eb6454e2233b3e74c77948bf89a015aec9").unwrap();
    let mut messages = sample_messages(&signer);
    messages.extend(sample_messages(&signer.clone().with_chain(Chain::Base).unwrap()));
    assert_all_valid(&messages);
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn solana_messages_pass_the_python_sdk() {
    let signer = SolanaSigner::from_seed(&[7u8; 32]);
    assert_all_valid(&sample_messages(&signer));
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn tezos_messages_pass_the_python_sdk_on_every_curve_raw_and_micheline() {
    let mut messages = Vec::new();
    for (i, curve) in [TezosCurve::Ed25519, TezosCurve::Secp256k1, TezosCurve::P256].into_iter().enumerate() {
        let raw = TezosSigner::from_secret_bytes(curve, &[i as u8 + 3; 32]).unwrap();
        let micheline = raw.clone().with_mode(SigningMode::Micheline { dapp_url: "aleph.im".into() });
        messages.extend(sample_messages(&raw));
        messages.extend(sample_messages(&micheline));
    }
    assert_all_valid(&messages);
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn the_python_judge_rejects_a_tampered_message() {
    let signer =
        EthereumSigner::from_hex("7f0ecf9a7e483d109ee2c2569242d5eb6454e2233b3e74c77948bf89a015aec9").unwrap();
    let mut messages = sample_messages(&signer);
    messages[0].sender = EthereumSigner::random().address().to_owned();
    let (verdicts, ok) = judge_with_python_sdk(&messages);
    assert!(!ok);
    assert_eq!(verdicts[0]["valid"], Value::Bool(false));
    assert_eq!(verdicts[1]["valid"], Value::Bool(true));
}
