//! Finds the shared test vectors (`$ALEPH_VECTORS`, or `../shared/vectors` beside the workspace) so
//! that the tests reading them are compiled as ignored, with a reason, when they are absent.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(aleph_vectors)");
    println!("cargo::rerun-if-env-changed=ALEPH_VECTORS");
    let dir = match std::env::var_os("ALEPH_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            manifest.join("../../shared/vectors")
        }
    };
    println!("cargo::rerun-if-changed={}", dir.display());
    if dir.join("sdk-generated.json").is_file() {
        println!("cargo::rustc-cfg=aleph_vectors");
        println!("cargo::rustc-env=ALEPH_VECTORS_DIR={}", dir.display());
    }
}
