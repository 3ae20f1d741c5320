//! The official Python SDK drives the node: runs `python/test_node_interop.py` with pytest, with
//! the interpreter `scripts/test` sets up (`ALEPH_PYTHON`) and this package's `aleph-node` binary.

#![cfg_attr(not(aleph_python), allow(dead_code, unused_imports))]

use std::process::Command;

#[test]
#[cfg_attr(
    not(aleph_python),
    ignore = "needs the official Python SDK: run scripts/test (or set ALEPH_PYTHON)"
)]
fn the_python_sdk_drives_the_node() {
    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/test_node_interop.py");
    let out = Command::new(python)
        .args(["-m", "pytest", "-q", "-rxs", "-p", "no:cacheprovider", suite])
        .env("ALEPH_NODE_BIN", env!("CARGO_BIN_EXE_aleph-node"))
        .output()
        .expect("running pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python interop suite failed:\n{stdout}\n{stderr}");
    // A run that silently skipped everything would prove nothing.
    assert!(stdout.contains(" passed"), "no Python test ran:\n{stdout}\n{stderr}");
}
