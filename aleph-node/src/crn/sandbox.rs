//! The sandbox a program runs in: bubblewrap with every namespace unshared (no network: the
//! loopback inside serves an executable's port 8080), no capabilities, an unprivileged user, a
//! read-only `/usr` and Python, and writable `/opt`, `/data`, `/tmp` of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::program::Mount;
use super::runtime::{PythonRuntime, SHIM_DIR_IN_SANDBOX};
use super::CrnError;

/// Where the host ↔ program sockets live inside the sandbox.
pub(crate) const SOCKET_DIR_IN_SANDBOX: &str = "/run/aleph";

/// What one sandbox is made of.
#[derive(Debug)]
pub(crate) struct SandboxPlan<'a> {
    pub(crate) bwrap: &'a Path,
    pub(crate) python: &'a PythonRuntime,
    /// The program's own directory (its `/opt` and `/data` live under it).
    pub(crate) vm_dir: &'a Path,
    /// The directory holding the host ↔ program sockets.
    pub(crate) socket_dir: &'a Path,
    pub(crate) hostname: &'a str,
    pub(crate) mounts: &'a [Mount],
    pub(crate) env: &'a BTreeMap<String, String>,
    /// A cgroup wrapper: the sandbox is started by `sh`, which first moves itself into these
    /// `cgroup.procs` files, so every process of the program is limited from its first
    /// instruction.
    pub(crate) cgroup_procs: &'a [PathBuf],
}

impl SandboxPlan<'_> {
    /// The command that starts the runtime shim in the sandbox.
    pub(crate) fn command(&self) -> Result<Command, CrnError> {
        let mut args: Vec<String> = Vec::new();
        let mut arg = |parts: &[&str]| args.extend(parts.iter().map(|s| (*s).to_owned()));
        arg(&["--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]);
        arg(&["--uid", "1000", "--gid", "1000", "--hostname", self.hostname, "--clearenv"]);
        args.extend(system_dirs());
        let mut arg = |parts: &[&str]| args.extend(parts.iter().map(|s| (*s).to_owned()));
        for file in
            ["/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/mime.types"]
        {
            if Path::new(file).exists() {
                arg(&["--ro-bind", file, file]);
            }
        }
        arg(&["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
        for prefix in &self.python.prefixes {
            let p = prefix.to_string_lossy();
            arg(&["--ro-bind", &p, &p]);
        }
        let opt = self.vm_dir.join("opt");
        let data = self.vm_dir.join("data");
        arg(&["--bind", &opt.to_string_lossy(), "/opt"]);
        arg(&["--bind", &data.to_string_lossy(), "/data"]);
        arg(&["--bind", &self.socket_dir.to_string_lossy(), SOCKET_DIR_IN_SANDBOX]);
        arg(&["--ro-bind", &self.python.shim_dir.to_string_lossy(), SHIM_DIR_IN_SANDBOX]);
        for mount in self.mounts {
            match mount {
                Mount::ReadOnly { src, dest } => arg(&["--ro-bind", &src.to_string_lossy(), dest]),
                Mount::ReadWrite { src, dest } => arg(&["--bind", &src.to_string_lossy(), dest]),
                Mount::Tmpfs { dest, size } => arg(&["--size", &size.to_string(), "--tmpfs", dest]),
                Mount::Image { dest, .. } => {
                    return Err(CrnError::CodeUnavailable(format!(
                        "the volume at {dest} is a disk image; the sandbox takes directories"
                    )))
                }
            }
        }
        let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
        if let Some(bin) = self.python.bin_dir() {
            path = format!("{}:{path}", bin.display());
        }
        let mut env: BTreeMap<&str, String> = BTreeMap::new();
        env.insert("PATH", path);
        env.insert("HOME", "/tmp".into());
        env.insert("LANG", "C.UTF-8".into());
        env.insert("PYTHONUNBUFFERED", "1".into());
        env.insert("PYTHONDONTWRITEBYTECODE", "1".into());
        for (k, v) in self.env {
            env.insert(k, v.clone());
        }
        for (k, v) in &env {
            arg(&["--setenv", k, v]);
        }
        arg(&["--chdir", "/opt"]);
        arg(&["--", &self.python.executable.to_string_lossy()]);
        arg(&[
            &format!("{SHIM_DIR_IN_SANDBOX}/init.py"),
            &format!("{SOCKET_DIR_IN_SANDBOX}/vm.sock"),
            &format!("{SOCKET_DIR_IN_SANDBOX}/vm.sock_52"),
        ]);

        if self.cgroup_procs.is_empty() {
            let mut cmd = Command::new(self.bwrap);
            cmd.args(args);
            return Ok(cmd);
        }
        let mut script = String::new();
        for (i, _) in self.cgroup_procs.iter().enumerate() {
            script.push_str(&format!("echo $$ > \"${}\" || exit 97; ", i + 1));
        }
        script.push_str(&format!("shift {}; exec \"$@\"", self.cgroup_procs.len()));
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(script).arg("sh");
        cmd.args(self.cgroup_procs);
        cmd.arg(self.bwrap);
        cmd.args(args);
        Ok(cmd)
    }
}

/// The host's `/usr` read-only, and `/bin`, `/lib`, `/lib64`, `/sbin` as the host has them
/// (symlinks into `/usr` on merged-usr systems).
fn system_dirs() -> Vec<String> {
    let mut args: Vec<String> = vec!["--ro-bind".into(), "/usr".into(), "/usr".into()];
    for dir in ["bin", "lib", "lib64", "sbin"] {
        let host = Path::new("/").join(dir);
        let host_s = host.to_string_lossy().into_owned();
        match std::fs::read_link(&host) {
            Ok(target) => args.extend(["--symlink".into(), target.to_string_lossy().into_owned(), host_s]),
            Err(_) if host.is_dir() => args.extend(["--ro-bind".into(), host_s.clone(), host_s]),
            Err(_) => {}
        }
    }
    args
}

/// Whether bubblewrap can create a sandbox on this host.
pub(crate) async fn probe(bwrap: &Path) -> Result<(), String> {
    let out = Command::new(bwrap)
        .args(system_dirs())
        .args(["--unshare-all", "--die-with-parent", "--", "/usr/bin/true"])
        .output()
        .await
        .map_err(|e| format!("{} cannot run: {e}", bwrap.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} cannot create a sandbox: {}",
            bwrap.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
