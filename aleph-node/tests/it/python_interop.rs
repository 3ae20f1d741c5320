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
    let mut command = Command::new(python);
    command
        .args(["-m", "pytest", "-q", "-rxs", "-p", "no:cacheprovider", suite])
        .env("ALEPH_NODE_BIN", env!("CARGO_BIN_EXE_aleph-node"));
    // The SDK's program flow also runs in a micro-VM where the guest assets are built.
    if cfg!(aleph_microvm) {
        let assets = std::env::var_os("ALEPH_VM_ASSETS").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/vm-assets")
        });
        command.env("ALEPH_VM_ASSETS", assets);
    }
    let out = command.output().expect("running pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python interop suite failed:\n{stdout}\n{stderr}");
    // A run that silently skipped everything would prove nothing.
    assert!(stdout.contains(" passed"), "no Python test ran:\n{stdout}\n{stderr}");
}
