//! CRN authentication against the official Python stack, live: headers the Python SDK's
//! `VmClient` makes (ETH and SOL) verify in Rust, and headers made in Rust pass the reference's
//! checks run in Python with the libraries aleph-vm uses (`python/crn_auth_interop.py`; aleph-vm
//! itself is not installable, so that judge restates its checks).

#![cfg_attr(not(aleph_python), allow(dead_code, unused_imports))]

use std::process::Command;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::vm_auth::{
    sign_scheduler_request, verify_signed_operation, OperationSigner, SchedulerPolicy, SchedulerRequest,
    VmAuthError,
};
use aleph_core::{Chain, Signer};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const ETH_KEY: &str = "7f0ecf9a7e483d109ee2c2569242d5eb6454e2233b3e74c77948bf89a015aec9";
const SOL_SEED: [u8; 32] = [7u8; 32];
const VM: &str = "4c0b4d0d2c0bd44e0ebeb3fe59b8b30bd0b44a3a0d1f2a4b6d9a4a0b6a5c8e21";

fn python(args: &[&str]) -> (String, bool) {
    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/crn_auth_interop.py");
    let out = Command::new(python).arg(script).args(args).output().expect("running python");
    assert!(out.status.code().is_some(), "python crashed: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success())
}

/// Runs a Python judge mode on `cases`; returns one verdict per case.
fn judge(mode: &str, cases: &Value) -> Vec<Value> {
    let file = std::env::temp_dir().join(format!("aleph-crn-auth-{mode}-{}.json", std::process::id()));
    std::fs::write(&file, cases.to_string()).expect("write cases");
    let (stdout, _) = python(&[mode, file.to_str().expect("utf-8 path")]);
    let verdicts: Vec<Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("verdict line")).collect();
    assert_eq!(verdicts.len(), cases.as_array().map_or(0, Vec::len), "one verdict per case: {stdout}");
    verdicts
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn python_sdk_vm_client_headers_verify_in_rust() {
    for (chain, key, url, operation, method) in [
        ("ETH", ETH_KEY.to_owned(), "https://crn.example.org", "stop", "POST"),
        ("SOL", hex::encode(SOL_SEED), "https://crn.example.org:4020/", "logs", "GET"),
        ("ETH", ETH_KEY.to_owned(), "http://127.0.0.1:4020", "reboot", "POST"),
    ] {
        let (stdout, ok) = python(&["sign", chain, &key, url, VM, operation, method]);
        assert!(ok, "{stdout}");
        let out: Value = serde_json::from_str(&stdout).expect("sdk output");
        let domain = url.split("//").nth(1).and_then(|h| h.split([':', '/']).next()).expect("host");
        let path = format!("/control/machine/{VM}/{operation}");
        assert_eq!(out["url"].as_str().expect("url"), format!("{}{path}", url.trim_end_matches('/')));
        let pubkey = out["headers"]["X-SignedPubKey"].as_str().expect("pubkey header");
        let op = out["headers"]["X-SignedOperation"].as_str().expect("operation header");
        let sender = verify_signed_operation(pubkey, op, method, domain, &path, now())
            .unwrap_or_else(|e| panic!("{chain} {operation}: {e}"));
        assert_eq!(sender.address, out["address"].as_str().expect("address"));
        assert_eq!(sender.chain.as_str(), chain);
        assert!(matches!(
            verify_signed_operation(pubkey, op, method, domain, "/control/machine/other/stop", now()),
            Err(VmAuthError::WrongPath { .. })
        ));
    }
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn rust_owner_headers_pass_the_reference_checks_in_python() {
    let domain = "crn.example.org";
    let path = format!("/control/machine/{VM}/stop");
    let eth = EthereumSigner::from_hex(ETH_KEY).expect("key");
    let base = eth.clone().with_chain(Chain::Base).expect("evm label");
    let sol = SolanaSigner::from_seed(&SOL_SEED);
    let wallets: [&dyn Signer; 3] = [&eth, &base, &sol];
    let mut cases = Vec::new();
    for wallet in wallets {
        let signer = OperationSigner::new(wallet, domain, now()).expect("authorize");
        for method in ["POST", "GET", "DELETE"] {
            let h = signer.headers(method, domain, &path, now());
            cases.push(json!({"pubkey": h.signed_pubkey, "operation": h.signed_operation,
                "method": method, "domain": domain, "path": path}));
        }
    }
    // The judge refuses what it should: another path, and an operation of another key.
    let mut wrong_path = cases[0].clone();
    wrong_path["path"] = "/control/machine/x/stop".into();
    let other = OperationSigner::new(&eth, domain, now()).expect("authorize");
    let mut foreign = cases[0].clone();
    foreign["operation"] = other.signed_operation_header("POST", domain, &path, now()).into();
    cases.push(wrong_path);
    cases.push(foreign);

    let verdicts = judge("verify-owner", &Value::Array(cases));
    let (good, bad) = verdicts.split_at(9);
    for (i, v) in good.iter().enumerate() {
        assert_eq!(v["valid"], true, "case {i}: {v}");
        let expected = if i < 6 { eth.address() } else { sol.address() };
        assert_eq!(v["address"], expected);
        assert_eq!(v["chain"], if i < 6 { "ETH" } else { "SOL" });
    }
    for v in bad {
        assert_eq!(v["valid"], false, "{v}");
    }
}

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn scheduler_headers_interoperate_both_ways() {
    let eth = EthereumSigner::from_hex(ETH_KEY).expect("key");
    let body = br#"{"persistent_vms":[],"instances":[]}"#;
    // Rust signs, the Python checks accept.
    let header = sign_scheduler_request(&eth, "POST", "/control/allocations", body, now()).expect("sign");
    let verdicts = judge(
        "verify-scheduler",
        &json!([{"authorization": header, "method": "POST", "path": "/control/allocations", "body_hex": hex::encode(body)},
                {"authorization": header, "method": "POST", "path": "/control/allocations", "body_hex": "7b7d"}]),
    );
    assert_eq!(verdicts[0]["valid"], true, "{}", verdicts[0]);
    assert_eq!(verdicts[0]["signer"], eth.address());
    assert_eq!(verdicts[1]["valid"], false, "another body");

    // eth_account signs as aleph-vm's tests do, Rust accepts.
    let (stdout, ok) =
        python(&["sign-scheduler", ETH_KEY, "POST", "/control/allocations", &hex::encode(body)]);
    assert!(ok, "{stdout}");
    let out: Value = serde_json::from_str(&stdout).expect("output");
    let request = SchedulerRequest { method: "POST", path: "/control/allocations", query: "", body };
    let auth = SchedulerPolicy::new([eth.address()])
        .verify(out["authorization"].as_str().expect("header"), &request, now())
        .expect("verify");
    assert_eq!(auth.signer, eth.address());
}
