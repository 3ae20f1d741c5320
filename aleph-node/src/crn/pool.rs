//! The CRN component: starts programs on first use (one start per program at a time), reuses
//! them, stops idle ones after the reuse timeout, and re-checks running programs' messages and
//! payment periodically (a forgotten or unpaid program stops).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aleph_core::vm_auth::{ReplayGuard, SchedulerPolicy};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ccn::CcnClient;
use super::cgroup::{Cgroups, LimitSupport};
use super::execution::{Execution, Host};
use super::executor::{Launcher, Sandbox};
use super::instance::Instances;
use super::microvm::Microvm;
use super::program::Resolver;
use super::runtime::PythonRuntime;
use super::{payment, sandbox, CrnError};
use crate::config::{CrnConfig, Executor};

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Execution>>>>;

/// A running CRN. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Crn {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: CrnConfig,
    dir: PathBuf,
    socket_root: PathBuf,
    public_url: String,
    ccn_url: String,
    resolver: Resolver,
    /// What starts programs, or why nothing can on this host.
    launcher: Result<Arc<dyn Launcher>, String>,
    /// The micro-VM executor, when it is the one configured.
    microvm: Option<Arc<Microvm>>,
    cgroups: Option<Cgroups>,
    /// What `cgroups` can apply (nothing without a hierarchy).
    limits: LimitSupport,
    slots: Mutex<HashMap<String, Slot>>,
    instances: Instances,
    counter: AtomicU64,
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    scheduler: SchedulerPolicy,
    /// Scheduler payloads already accepted (replays are refused).
    replays: Mutex<ReplayGuard>,
}

impl Crn {
    /// Starts the CRN role: checks the executor (the sandbox and the Python runtime, or QEMU and
    /// the micro-VM guest assets; a missing one makes
    /// every start answer 503 with the reason, rather than failing the node), and starts the
    /// reaper and the payment monitor.
    pub async fn start(config: CrnConfig, ccn_url: String, public_url: String, data_dir: &Path) -> Crn {
        let dir = data_dir.join("crn");
        let _ = std::fs::create_dir_all(&dir);
        let (launcher, microvm) = start_executor(&config, &dir).await;
        let cgroups = if config.cgroups { Cgroups::detect() } else { None };
        let limits = cgroups.as_ref().map(Cgroups::support).unwrap_or_default();
        let missing = limits.missing();
        match &cgroups {
            Some(c) if missing.is_empty() => {
                tracing::info!("CRN: memory, swap and CPU limits through {}", c.describe())
            }
            Some(c) => {
                tracing::warn!(missing = ?missing, "CRN: limits through {}, but some cannot be applied", c.describe())
            }
            None => tracing::warn!("CRN: no writable cgroup hierarchy: no memory, swap or CPU limits"),
        }
        if !missing.is_empty() {
            if config.allow_unlimited {
                tracing::warn!(missing = ?missing, "CRN: programs run without these limits (crn.allow_unlimited)");
            } else {
                tracing::warn!(missing = ?missing, "CRN: programs are refused until these limits can be applied or crn.allow_unlimited is set");
            }
        }
        // Unix socket paths are limited to 108 bytes: keep them short.
        let mut socket_root = dir.join("run");
        if socket_root.as_os_str().len() > 70 {
            socket_root = std::env::temp_dir().join(format!("aleph-crn-{}", std::process::id()));
        }
        let resolver = Resolver::new(CcnClient::new(&ccn_url), &dir, config.clone());
        let config_signers = config.allocation_signers.clone();
        let crn = Crn {
            inner: Arc::new(Inner {
                instances: Instances::new(config.clone(), microvm.clone()),
                config,
                dir,
                socket_root,
                public_url,
                ccn_url,
                resolver,
                launcher,
                microvm,
                cgroups,
                limits,
                slots: Mutex::new(HashMap::new()),
                counter: AtomicU64::new(0),
                stop: CancellationToken::new(),
                tasks: Mutex::new(Vec::new()),
                scheduler: SchedulerPolicy::new(&config_signers),
                replays: Mutex::new(ReplayGuard::default()),
            }),
        };
        let reaper = tokio::spawn(crn.clone().every(crn.reap_interval(), |c| async move { c.reap().await }));
        let monitor = tokio::spawn(crn.clone().every(
            Duration::from_secs_f64(crn.inner.config.payment_check_interval_secs.max(0.1)),
            |c| async move { c.monitor().await },
        ));
        crn.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).extend([reaper, monitor]);
        crn
    }

    fn reap_interval(&self) -> Duration {
        Duration::from_secs_f64((self.inner.config.reuse_timeout_secs / 4.0).clamp(0.1, 30.0))
    }

    async fn every<F, Fut>(self, period: Duration, f: F)
    where
        F: Fn(Crn) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = self.inner.stop.cancelled() => return,
                _ = tick.tick() => f(self.clone()).await,
            }
        }
    }

    /// The settings.
    pub fn config(&self) -> &CrnConfig {
        &self.inner.config
    }

    /// The URL the CRN is reached at (its registered address).
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The CCN the CRN reads messages and files from.
    pub fn ccn_url(&self) -> &str {
        &self.inner.ccn_url
    }

    /// The CRN's directory (caches, program directories, volumes).
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub(crate) fn resolver(&self) -> &Resolver {
        &self.inner.resolver
    }

    /// Which executor runs programs, and (micro-VMs) under which accelerator, for
    /// `/status/config`.
    pub(crate) fn executor_status(&self) -> serde_json::Value {
        let available = self.inner.launcher.as_ref().err();
        match &self.inner.microvm {
            Some(vm) => serde_json::json!({
                "kind": "microvm",
                "unavailable": available,
                "accelerator": vm.accel_known(),
                "assets_sha256": {
                    "kernel": vm.assets.hashes[0],
                    "initramfs": vm.assets.hashes[1],
                    "rootfs": vm.assets.hashes[2],
                },
            }),
            None if self.inner.config.executor == Executor::Microvm => {
                serde_json::json!({"kind": "microvm", "unavailable": available})
            }
            None => serde_json::json!({"kind": "sandbox", "unavailable": available}),
        }
    }

    /// The limits this host can apply to programs.
    pub(crate) fn limits(&self) -> LimitSupport {
        self.inner.limits
    }

    pub(crate) fn instances(&self) -> &Instances {
        &self.inner.instances
    }

    pub(crate) fn scheduler_policy(&self) -> &SchedulerPolicy {
        &self.inner.scheduler
    }

    pub(crate) fn replay_guard(&self) -> &Mutex<ReplayGuard> {
        &self.inner.replays
    }

    fn slot(&self, item_hash: &str) -> Slot {
        let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(item_hash.to_owned()).or_default().clone()
    }

    /// The running execution of `item_hash`, if any.
    pub(crate) async fn running(&self, item_hash: &str) -> Option<Arc<Execution>> {
        let slot = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).get(item_hash).cloned()?;
        let guard = slot.lock().await;
        let exec = guard.as_ref()?.clone();
        exec.is_running().await.then_some(exec)
    }

    /// Every running execution. Slots being started or stopped (locked) are skipped: they are
    /// not running yet, or no more.
    pub(crate) async fn executions(&self) -> Vec<Arc<Execution>> {
        let slots: Vec<Slot> =
            self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        let mut out = Vec::new();
        for slot in slots {
            let Ok(guard) = slot.try_lock() else { continue };
            let exec = guard.clone();
            drop(guard);
            if let Some(exec) = exec {
                if exec.is_running().await {
                    out.push(exec);
                }
            }
        }
        out
    }

    /// The running execution of `item_hash`, started (resolved, paid, admitted) if needed.
    pub(crate) async fn get_or_start(&self, item_hash: &str) -> Result<Arc<Execution>, CrnError> {
        let slot = self.slot(item_hash);
        let mut guard = slot.lock().await;
        if let Some(exec) = guard.as_ref() {
            if exec.is_running().await {
                return Ok(exec.clone());
            }
            exec.stop().await;
            *guard = None;
        }
        let launcher = match &self.inner.launcher {
            Ok(l) => l.clone(),
            Err(reason) => {
                return Err(CrnError::Unavailable(format!("programs cannot run on this CRN: {reason}")))
            }
        };
        let spec = self.inner.resolver.resolve(item_hash).await?;
        payment::check(&self.inner.resolver.ccn, &spec).await?;
        self.admit(spec.memory_mib()).await?;
        let n = self.inner.counter.fetch_add(1, Ordering::Relaxed);
        let short = format!("{}-{n}", &item_hash[..item_hash.len().min(12)]);
        let allow_unlimited = self.inner.config.allow_unlimited;
        // A micro-VM's memory and vCPUs are its size: cgroups are for the sandbox.
        let own_limits = launcher.applies_own_limits();
        let missing = if own_limits { Vec::new() } else { self.inner.limits.missing() };
        if !missing.is_empty() && !allow_unlimited {
            return Err(CrnError::Unavailable(format!(
                "this CRN cannot apply the program's {} limits (crn.allow_unlimited is off)",
                missing.join(", ")
            )));
        }
        let group = match &self.inner.cgroups {
            Some(_) if own_limits => None,
            Some(c) => {
                match c.group(&format!("vm-{short}"), spec.memory_mib(), spec.vcpus(), self.inner.limits) {
                    Ok(g) => Some(g),
                    Err(e) if allow_unlimited => {
                        tracing::warn!(error = %e, "cannot create the program's cgroup; running without limits");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot create the program's cgroup; start refused");
                        return Err(CrnError::Unavailable(format!("this CRN cannot limit the program: {e}")));
                    }
                }
            }
            None => None,
        };
        let host = Host {
            launcher: launcher.as_ref(),
            vm_dir: self.inner.dir.join("vms").join(&short),
            socket_dir: self.inner.socket_root.join(&short),
            group,
            start_timeout: Duration::from_secs_f64(self.inner.config.start_timeout_secs.max(1.0)),
        };
        let started = std::time::Instant::now();
        let exec = Execution::start(spec, host).await?;
        tracing::info!(
            program = item_hash,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "program started"
        );
        *guard = Some(exec.clone());
        Ok(exec)
    }

    /// Refuses a start that would exceed the memory programs may use.
    async fn admit(&self, memory_mib: u64) -> Result<(), CrnError> {
        let used: u64 = self.executions().await.iter().map(|e| e.spec.memory_mib()).sum::<u64>()
            + self.inner.instances.memory_in_use().await;
        if used + memory_mib > self.inner.config.memory_mib {
            return Err(CrnError::Unavailable(format!(
                "Insufficient capacity: {memory_mib} MiB requested, {} of {} MiB in use",
                used, self.inner.config.memory_mib
            )));
        }
        Ok(())
    }

    /// Boots the INSTANCE `item_hash` if the host's memory holds it beside the programs.
    pub(crate) async fn allocate_instance(&self, item_hash: &str) -> Result<(), CrnError> {
        let programs: u64 = self.executions().await.iter().map(|e| e.spec.memory_mib()).sum();
        self.inner.instances.allocate(&self.inner.resolver, item_hash, programs).await
    }

    /// Stops `item_hash` if it runs; returns whether it did.
    pub(crate) async fn stop(&self, item_hash: &str) -> bool {
        let slot = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).get(item_hash).cloned();
        let Some(slot) = slot else { return false };
        let exec = slot.lock().await.take();
        match exec {
            Some(exec) => {
                let was_running = exec.is_running().await;
                exec.stop().await;
                was_running
            }
            None => false,
        }
    }

    /// Stops idle on-demand programs, and forgets programs whose sandbox has exited.
    async fn reap(&self) {
        let timeout = Duration::from_secs_f64(self.inner.config.reuse_timeout_secs.max(0.0));
        let slots: Vec<(String, Slot)> = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (hash, slot) in slots {
            let Ok(mut guard) = slot.try_lock() else { continue };
            let Some(exec) = guard.clone() else { continue };
            let dead = !exec.is_running().await;
            let idle = !exec.spec.persistent() && exec.idle_for() >= timeout;
            if dead || idle {
                tracing::info!(program = %hash, dead, idle, "stopping program");
                exec.stop().await;
                *guard = None;
            }
        }
    }

    /// Re-checks every running program and instance: stopped when its message is no longer
    /// processed (forgotten, rejected, removed) or its owner no longer pays.
    async fn monitor(&self) {
        for (hash, owner, payment) in self.inner.instances.running().await {
            let ccn = &self.inner.resolver.ccn;
            let verdict = match ccn.message(&hash).await {
                Ok(Some(r)) if r.status == "processed" => {
                    payment::check_owner(ccn, &owner, payment, &hash).await
                }
                Ok(Some(r)) => Err(CrnError::NotRunnable(format!("{hash} is {}", r.status))),
                Ok(None) => Err(CrnError::NotFound(hash.clone())),
                Err(e) => Err(e),
            };
            match verdict {
                Ok(()) => {}
                Err(CrnError::Ccn(e)) => {
                    tracing::warn!(instance = %hash, error = %e, "cannot reach the CCN to check an instance")
                }
                Err(e) => {
                    tracing::info!(instance = %hash, reason = %e, "stopping instance");
                    self.inner.instances.stop(&hash).await;
                }
            }
        }
        for exec in self.executions().await {
            let hash = exec.spec.item_hash.clone();
            let verdict = match self.inner.resolver.program_message(&hash).await {
                Ok(_) => payment::check(&self.inner.resolver.ccn, &exec.spec).await,
                Err(e) => Err(e),
            };
            match verdict {
                Ok(()) => {}
                Err(CrnError::Ccn(e)) => {
                    tracing::warn!(program = %hash, error = %e, "cannot reach the CCN to check a program")
                }
                Err(e) => {
                    tracing::info!(program = %hash, reason = %e, "stopping program");
                    self.stop(&hash).await;
                }
            }
        }
    }

    /// Sets the persistent programs this CRN should run: starts those not running, stops
    /// persistent ones not listed. Returns (started or already running, failing with reasons,
    /// stopped).
    pub(crate) async fn allocate(
        &self,
        wanted: &[String],
    ) -> (Vec<String>, BTreeMap<String, String>, Vec<String>) {
        let mut successful = Vec::new();
        let mut errors = BTreeMap::new();
        let mut stopped = Vec::new();
        for exec in self.executions().await {
            if exec.spec.persistent() && !wanted.contains(&exec.spec.item_hash) {
                let hash = exec.spec.item_hash.clone();
                self.stop(&hash).await;
                stopped.push(hash);
            }
        }
        for hash in wanted {
            match self.get_or_start(hash).await {
                Ok(_) => successful.push(hash.clone()),
                Err(e) => {
                    errors.insert(hash.clone(), e.to_string());
                }
            }
        }
        (successful, errors, stopped)
    }

    /// Stops every program and the background tasks (at node shutdown).
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        let slots: Vec<Slot> =
            self.inner.slots.lock().unwrap_or_else(|e| e.into_inner()).drain().map(|(_, v)| v).collect();
        let stops = slots.into_iter().map(|slot| async move {
            if let Some(exec) = slot.lock().await.take() {
                exec.stop().await;
            }
        });
        futures_util::future::join_all(stops).await;
        self.inner.instances.shutdown().await;
        if let Some(c) = &self.inner.cgroups {
            c.remove();
        }
        let _ = std::fs::remove_dir_all(&self.inner.socket_root);
    }
}

/// The configured executor, checked: the sandbox needs bubblewrap and the host's Python; the
/// micro-VM needs QEMU and the guest assets (its KVM probe starts in the background).
async fn start_executor(
    config: &CrnConfig,
    dir: &Path,
) -> (Result<Arc<dyn Launcher>, String>, Option<Arc<Microvm>>) {
    match config.executor {
        Executor::Sandbox => {
            let sandbox = sandbox::probe(&config.bwrap).await;
            let python = PythonRuntime::discover(&config.python, dir).await.map_err(|e| e.to_string());
            match (sandbox, python) {
                (Ok(()), Ok(python)) => {
                    tracing::info!(python = %python.executable.display(), "CRN: programs run in bubblewrap sandboxes");
                    let launcher: Arc<dyn Launcher> =
                        Arc::new(Sandbox { bwrap: config.bwrap.clone(), python });
                    (Ok(launcher), None)
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(reason = %e, "CRN: programs cannot run on this host");
                    (Err(e), None)
                }
            }
        }
        Executor::Microvm => match Microvm::new(config).await {
            Ok(vm) => {
                let vm = Arc::new(vm);
                tracing::info!(assets = %config.vm_assets.display(), "CRN: programs run in QEMU micro-VMs");
                let probe = vm.clone();
                tokio::spawn(async move {
                    probe.accel().await;
                });
                let launcher: Arc<dyn Launcher> = vm.clone();
                (Ok(launcher), Some(vm))
            }
            Err(e) => {
                tracing::warn!(reason = %e, "CRN: micro-VMs cannot run on this host");
                (Err(e), None)
            }
        },
    }
}
