//! Finds the Python interpreter with the official SDK (`$ALEPH_PYTHON`, set by `scripts/test`), so
//! that the tests needing it are compiled as ignored, with a reason, when it is absent.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(aleph_python)");
    println!("cargo::rerun-if-env-changed=ALEPH_PYTHON");
    if let Some(python) = std::env::var_os("ALEPH_PYTHON") {
        println!("cargo::rustc-cfg=aleph_python");
        println!("cargo::rustc-env=ALEPH_PYTHON_BIN={}", PathBuf::from(python).display());
    }
}
