//! Messages the CLI signs are accepted by the official Python SDK (`python/verify_with_sdk.py`).

#![cfg_attr(not(aleph_python), allow(dead_code, unused_imports))]

use std::process::Command;

use crate::common::{Env, FIXED_KEY};

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn cli_signed_messages_pass_the_python_sdk() {
    let env = Env::offline();
    let mut messages = Vec::new();
    for (chain, key) in [
        ("ETH", FIXED_KEY.to_owned()),
        ("SOL", "11".repeat(32)),
        ("TEZOS", "22".repeat(32)),
        ("BASE", FIXED_KEY.to_owned()),
    ] {
        let mut sign = |args: &[&str]| {
            let mut c = env.cmd(args);
            c.env("ALEPH_PRIVATE_KEY", &key).args(["--chain", chain, "--json"]);
            let out = env.run_with(c, None).ok();
            for line in out.lines() {
                messages.push(serde_json::from_str::<serde_json::Value>(line).unwrap());
            }
        };
        sign(&[
            "message",
            "sign",
            "--type",
            "POST",
            "--content",
            r#"{"type":"chat","content":{"body":"héllo ✓"}}"#,
        ]);
        sign(&["--dry-run", "aggregate", "post", "profile", r#"{"name":"rust"}"#]);
        sign(&["--dry-run", "message", "forget", &"ab".repeat(32), "--reason", "test"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messages.json");
    std::fs::write(&file, serde_json::to_vec(&messages).unwrap()).unwrap();
    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/verify_with_sdk.py");
    let out = Command::new(python).arg(script).arg(&file).output().expect("running the Python judge");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), messages.len(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["valid"], true, "{v}");
    }
    assert!(out.status.success());
}
