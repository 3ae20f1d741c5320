//! The built-in Python runtime: the interpreter programs run under, and our runtime shim.
//!
//! A PROGRAM names its runtime by the ref of a STORE holding a root filesystem. This CRN maps the
//! official Python runtimes' refs to its own: the host's Python in the sandbox, the Debian root
//! filesystem `scripts/vm-assets` builds in a micro-VM; any other ref is refused with a clear
//! reason rather than run a program under a runtime it did not ask for.

use std::path::{Path, PathBuf};

use super::CrnError;

/// The shim the sandbox runs (the guest side of the host ↔ program protocol).
pub(crate) const SHIM: &str = include_str!("../../runtime/init.py");

/// Where the shim is mounted inside the sandbox.
pub(crate) const SHIM_DIR_IN_SANDBOX: &str = "/run/aleph-runtime";

/// The host's Python, as the sandbox needs it.
#[derive(Debug, Clone)]
pub(crate) struct PythonRuntime {
    /// The interpreter (the real file, not a shim such as pyenv's).
    pub(crate) executable: PathBuf,
    /// Directories the interpreter needs (its prefixes), bound read-only into the sandbox.
    pub(crate) prefixes: Vec<PathBuf>,
    /// Where the shim file lives on the host.
    pub(crate) shim_dir: PathBuf,
}

impl PythonRuntime {
    /// Finds the interpreter's real path and prefixes, and writes the shim under `dir`.
    pub(crate) async fn discover(python: &Path, dir: &Path) -> Result<Self, CrnError> {
        let probe = "import json, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix]))";
        let out = tokio::process::Command::new(python).args(["-c", probe]).output().await.map_err(|e| {
            CrnError::Unavailable(format!("the Python runtime {} cannot run: {e}", python.display()))
        })?;
        if !out.status.success() {
            return Err(CrnError::Unavailable(format!(
                "the Python runtime {} failed: {}",
                python.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let parsed: Vec<PathBuf> = serde_json::from_slice(&out.stdout).map_err(|e| {
            CrnError::Unavailable(format!("unexpected answer from {}: {e}", python.display()))
        })?;
        let Some((executable, prefixes)) = parsed.split_first() else {
            return Err(CrnError::Unavailable(format!("unexpected answer from {}", python.display())));
        };
        let mut binds: Vec<PathBuf> = Vec::new();
        for p in prefixes {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            if !p.starts_with("/usr") && !binds.contains(&p) {
                binds.push(p);
            }
        }
        let shim_dir = dir.join("runtime");
        std::fs::create_dir_all(&shim_dir)?;
        std::fs::write(shim_dir.join("init.py"), SHIM)?;
        Ok(PythonRuntime { executable: executable.clone(), prefixes: binds, shim_dir })
    }

    /// The interpreter's `bin` directory, for the sandbox's `PATH`.
    pub(crate) fn bin_dir(&self) -> Option<&Path> {
        self.executable.parent()
    }
}

/// Checks that `runtime_ref` is one this CRN runs.
pub(crate) fn check_runtime(runtime_ref: &str, supported: &[String]) -> Result<(), CrnError> {
    if supported.iter().any(|r| r.eq_ignore_ascii_case(runtime_ref)) {
        return Ok(());
    }
    Err(CrnError::RuntimeUnsupported(format!(
        "runtime {runtime_ref} is not available on this CRN; it runs the Python runtimes {}",
        supported.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_runtimes_are_accepted() {
        let supported: Vec<String> =
            crate::config::PYTHON_RUNTIME_REFS.iter().map(|s| (*s).to_owned()).collect();
        assert!(check_runtime(crate::config::PYTHON_RUNTIME_REFS[0], &supported).is_ok());
        let err = check_runtime(&"ab".repeat(32), &supported).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(err.to_string().contains("not available on this CRN"), "{err}");
    }
}
