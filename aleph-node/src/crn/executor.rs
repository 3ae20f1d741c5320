//! What starts a program's runtime: the swappable part under [`Execution`](super::execution).
//!
//! Both executors give the host the same two Unix sockets (`vm.sock`, `vm.sock_52`) and the
//! same protocol behind them; they differ in what isolates the program: a bubblewrap sandbox on
//! the host's kernel ([`Sandbox`]) or a QEMU micro-VM with its own kernel
//! ([`Microvm`](super::microvm::Microvm)). `[crn] executor` picks one.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use tokio::process::Child;

use super::program::ProgramSpec;
use super::runtime::PythonRuntime;
use super::sandbox::SandboxPlan;
use super::CrnError;

/// One start.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    pub(crate) spec: &'a ProgramSpec,
    /// The program's own directory (the sandbox's `/opt` and `/data`).
    pub(crate) vm_dir: &'a Path,
    /// Where `vm.sock` and `vm.sock_52` live on the host.
    pub(crate) socket_dir: &'a Path,
    pub(crate) hostname: &'a str,
    /// `cgroup.procs` files the process joins first (the sandbox only).
    pub(crate) cgroup_procs: &'a [PathBuf],
}

/// A started runtime: its process (stdout and stderr piped), and what must live as long as it.
#[derive(Debug)]
pub(crate) struct Launched {
    pub(crate) child: Child,
    pub(crate) keep: Option<Box<dyn Debug + Send + Sync>>,
}

/// Starts runtimes.
pub(crate) trait Launcher: Debug + Send + Sync {
    /// Spawns the runtime for `job`; the runtime then says hello on `vm.sock_52`.
    fn launch<'a>(&'a self, job: Job<'a>) -> BoxFuture<'a, Result<Launched, CrnError>>;

    /// Whether the executor bounds memory and CPUs itself (a VM's size), so cgroups are not
    /// needed.
    fn applies_own_limits(&self) -> bool {
        false
    }
}

/// The bubblewrap sandbox executor.
#[derive(Debug)]
pub(crate) struct Sandbox {
    pub(crate) bwrap: PathBuf,
    pub(crate) python: PythonRuntime,
}

impl Launcher for Sandbox {
    fn launch<'a>(&'a self, job: Job<'a>) -> BoxFuture<'a, Result<Launched, CrnError>> {
        Box::pin(async move {
            let env = job.spec.variables();
            let plan = SandboxPlan {
                bwrap: &self.bwrap,
                python: &self.python,
                vm_dir: job.vm_dir,
                socket_dir: job.socket_dir,
                hostname: job.hostname,
                mounts: &job.spec.mounts,
                env: &env,
                cgroup_procs: job.cgroup_procs,
            };
            let mut command = plan.command()?;
            command
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let child = command.spawn().map_err(|e| {
                CrnError::Unavailable(format!("cannot start the sandbox {}: {e}", self.bwrap.display()))
            })?;
            Ok(Launched { child, keep: None })
        })
    }
}
