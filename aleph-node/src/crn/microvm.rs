//! The `microvm` executor: each program in its own QEMU micro-VM (`-M microvm`), booted from the
//! guest assets `scripts/vm-assets` builds from Debian packages (kernel, initramfs, the Python
//! runtime's squashfs root filesystem).
//!
//! At start the CRN probes KVM by booting the kernel and initramfs once under it ([`probe`]):
//! a host whose `/dev/kvm` opens may still fail to run a guest (nested virtualisation), so only a
//! boot that reaches the initramfs counts; otherwise QEMU's TCG emulator is used. A guest error
//! that pauses QEMU (KVM emulation failures, guest panics) is seen on its QMP socket and the VM
//! is ended ([`watch_qmp`]), so a program never hangs paused.
//!
//! Inside, the initramfs mounts the disks (the runtime, squashfs code and volumes, persistent
//! volumes as ext4 images) and our guest init relays the runtime shim's sockets over
//! virtio-serial ([`super::serial_bridge`]). With `environment.internet`, the guest has a
//! virtio-net device on QEMU's user-mode network (slirp); without, only its loopback.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::process::Command;
use tokio::sync::OnceCell;

use super::executor::{Job, Launched, Launcher};
use super::program::Mount;
use super::CrnError;
use crate::config::{CrnConfig, VmAccel};

/// How long the KVM probe may take to reach the initramfs.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// What the initramfs prints in probe mode.
const PROBE_OK: &str = "ALEPH-PROBE-OK";

/// One asset of the manifest `scripts/vm-assets` writes.
#[derive(Debug, Clone, Deserialize)]
struct AssetEntry {
    file: String,
    sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    kernel: AssetEntry,
    initramfs: AssetEntry,
    rootfs: AssetEntry,
}

/// The guest assets, checked against their manifest's hashes.
#[derive(Debug, Clone)]
pub(crate) struct GuestAssets {
    pub(crate) kernel: PathBuf,
    pub(crate) initramfs: PathBuf,
    pub(crate) rootfs: PathBuf,
    /// sha256 of (kernel, initramfs, rootfs).
    pub(crate) hashes: [String; 3],
}

impl GuestAssets {
    /// Reads `dir/manifest.json` and checks each file's sha256.
    pub(crate) async fn load(dir: &Path) -> Result<GuestAssets, String> {
        let manifest = dir.join("manifest.json");
        let text = tokio::fs::read_to_string(&manifest).await.map_err(|e| {
            format!(
                "no micro-VM guest assets ({}: {e}); build them with scripts/vm-assets",
                manifest.display()
            )
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
        let mut paths = Vec::new();
        for entry in [&m.kernel, &m.initramfs, &m.rootfs] {
            let path = dir.join(&entry.file);
            let file = path.clone();
            let hash = tokio::task::spawn_blocking(move || sha256_file(&file))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if hash != entry.sha256 {
                return Err(format!(
                    "{} does not match its manifest (sha256 {hash}, expected {}); rebuild with scripts/vm-assets",
                    path.display(),
                    entry.sha256
                ));
            }
            paths.push(path);
        }
        let [kernel, initramfs, rootfs]: [PathBuf; 3] =
            paths.try_into().map_err(|_| "manifest".to_owned())?;
        Ok(GuestAssets {
            kernel,
            initramfs,
            rootfs,
            hashes: [m.kernel.sha256, m.initramfs.sha256, m.rootfs.sha256],
        })
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// The accelerator VMs run under, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Accel {
    /// `kvm` or `tcg`.
    pub(crate) name: &'static str,
    pub(crate) reason: String,
}

impl Accel {
    pub(crate) fn args(&self) -> Vec<&'static str> {
        if self.name == "kvm" {
            vec!["-accel", "kvm", "-cpu", "host"]
        } else {
            vec!["-accel", "tcg,tb-size=32"]
        }
    }
}

/// The host's TSC frequency in kHz (from the kernel's boot line or `/proc/cpuinfo`): guests
/// given it on their command line do not hang calibrating the TSC under TCG.
fn host_tsc_khz() -> Option<u64> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let mhz: f64 =
        cpuinfo.lines().find(|l| l.starts_with("cpu MHz"))?.split(':').nth(1)?.trim().parse().ok()?;
    Some((mhz * 1000.0) as u64)
}

/// The `microvm` executor.
#[derive(Debug)]
pub(crate) struct Microvm {
    pub(crate) qemu: PathBuf,
    kvm_device: PathBuf,
    forced_accel: VmAccel,
    pub(crate) assets: GuestAssets,
    accel: OnceCell<Accel>,
    tsc_khz: Option<u64>,
}

impl Microvm {
    /// Checks QEMU and the guest assets.
    pub(crate) async fn new(config: &CrnConfig) -> Result<Microvm, String> {
        match Command::new(&config.qemu).arg("--version").output().await {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(format!(
                    "{} does not run: {}",
                    config.qemu.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => return Err(format!("QEMU is not installed ({}: {e})", config.qemu.display())),
        }
        let assets = GuestAssets::load(&config.vm_assets).await?;
        Ok(Microvm {
            qemu: config.qemu.clone(),
            kvm_device: config.kvm_device.clone(),
            forced_accel: config.vm_accel,
            assets,
            accel: OnceCell::new(),
            tsc_khz: host_tsc_khz(),
        })
    }

    /// The accelerator, probed once (KVM if a guest boots under it, else TCG).
    pub(crate) async fn accel(&self) -> &Accel {
        self.accel.get_or_init(|| self.probe()).await
    }

    /// The accelerator if already known.
    pub(crate) fn accel_known(&self) -> Option<&Accel> {
        self.accel.get()
    }

    async fn probe(&self) -> Accel {
        let accel = match self.forced_accel {
            VmAccel::Tcg => Accel { name: "tcg", reason: "crn.vm_accel = \"tcg\"".into() },
            VmAccel::Kvm => Accel { name: "kvm", reason: "crn.vm_accel = \"kvm\"".into() },
            VmAccel::Auto => match self.probe_kvm().await {
                Ok(()) => Accel { name: "kvm", reason: "a probe guest booted under KVM".into() },
                Err(e) => Accel { name: "tcg", reason: format!("KVM unusable: {e}") },
            },
        };
        tracing::info!(accelerator = accel.name, reason = %accel.reason, "CRN: micro-VMs run under QEMU");
        accel
    }

    /// Boots the kernel and initramfs under KVM in probe mode; Ok once the initramfs says so.
    async fn probe_kvm(&self) -> Result<(), String> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.kvm_device)
            .map_err(|e| format!("{}: {e}", self.kvm_device.display()))?;
        let mut cmd = Command::new(&self.qemu);
        cmd.args(["-M", "microvm", "-accel", "kvm", "-cpu", "host", "-m", "128", "-smp", "1"])
            .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio"])
            .arg("-kernel")
            .arg(&self.assets.kernel)
            .arg("-initrd")
            .arg(&self.assets.initramfs)
            .arg("-append")
            .arg(format!("console=ttyS0 quiet reboot=t panic=-1 aleph.mode=probe{}", self.tsc_arg()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| format!("QEMU did not start: {e}"))?;
        let stdout = child.stdout.take().ok_or("no QEMU output")?;
        let stderr = child.stderr.take().ok_or("no QEMU output")?;
        let mut out = BufReader::new(stdout).lines();
        let mut err = BufReader::new(stderr).lines();
        let mut errors: Vec<String> = Vec::new();
        let verdict = tokio::time::timeout(PROBE_TIMEOUT, async {
            let mut stderr_open = true;
            loop {
                tokio::select! {
                    line = out.next_line() => match line {
                        Ok(Some(l)) if l.contains(PROBE_OK) => return Ok(()),
                        Ok(Some(_)) => {}
                        _ => break,
                    },
                    line = err.next_line(), if stderr_open => match line {
                        // A KVM emulation failure pauses the guest for good.
                        Ok(Some(l)) if l.contains("KVM internal error") || l.contains("emulation failure") => {
                            return Err(format!("the probe guest failed: {l}"))
                        }
                        Ok(Some(l)) => errors.push(l),
                        _ => stderr_open = false,
                    },
                }
            }
            // QEMU ended: what it said on the way out.
            while let Ok(Some(l)) = err.next_line().await {
                errors.push(l);
            }
            Err(format!("the probe guest ended without reaching its initramfs: {}", errors.join(" / ")))
        })
        .await
        .unwrap_or_else(|_| Err(format!("the probe guest did not boot within {} s", PROBE_TIMEOUT.as_secs())));
        let _ = child.start_kill();
        let _ = child.wait().await;
        verdict
    }

    pub(crate) fn tsc_arg(&self) -> String {
        self.tsc_khz.map(|k| format!(" tsc_early_khz={k}")).unwrap_or_default()
    }

    async fn launch_vm(&self, job: Job<'_>) -> Result<Launched, CrnError> {
        let accel = self.accel().await.clone();
        let spec = job.spec;
        let port = UnixListener::bind(job.socket_dir.join("port.sock"))?;
        let qmp = UnixListener::bind(job.socket_dir.join("qmp.sock"))?;
        let mut cmdline = format!(
            "console=ttyS0 quiet reboot=t panic=-1 aleph.mode=program aleph.hostname={}",
            job.hostname
        );
        cmdline.push_str(&self.tsc_arg());
        let mut cmd = Command::new(&self.qemu);
        cmd.args(["-M", "microvm"]).args(accel.args());
        cmd.args(["-m", &spec.memory_mib().max(128).to_string(), "-smp", &spec.vcpus().to_string()]);
        cmd.args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio"]);
        cmd.arg("-kernel").arg(&self.assets.kernel).arg("-initrd").arg(&self.assets.initramfs);
        let mut drive = |n: usize, serial: &str, file: &Path, read_only: bool| {
            let ro = if read_only { ",readonly=on" } else { "" };
            cmd.arg("-drive").arg(format!("id=d{n},if=none,format=raw,file={}{ro}", qemu_path(file)));
            cmd.arg("-device").arg(format!("virtio-blk-device,drive=d{n},serial={serial}"));
        };
        drive(0, "root", &self.assets.rootfs, true);
        let mut n = 0;
        for mount in &spec.mounts {
            match mount {
                Mount::Image { image, dest, fstype, writable } => {
                    n += 1;
                    let serial = format!("disk{n}");
                    drive(n, &serial, image, !writable);
                    let mode = if *writable { "rw" } else { "ro" };
                    cmdline.push_str(&format!(" aleph.disk={serial},{fstype},{mode},{}", guest_path(dest)?));
                }
                Mount::Tmpfs { dest, size } => {
                    cmdline.push_str(&format!(" aleph.tmpfs={},{}", (size >> 20).max(1), guest_path(dest)?));
                }
                Mount::ReadOnly { dest, .. } | Mount::ReadWrite { dest, .. } => {
                    return Err(CrnError::CodeUnavailable(format!(
                        "the volume at {dest} is a host directory; micro-VMs take disk images"
                    )))
                }
            }
        }
        if spec.internet() {
            cmdline.push_str(" aleph.net=1");
            cmd.args(["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"]);
        }
        cmd.args(["-device", "virtio-serial-device"]);
        cmd.arg("-chardev")
            .arg(format!("socket,id=port,path={}", qemu_path(&job.socket_dir.join("port.sock"))));
        cmd.args(["-device", "virtserialport,chardev=port,name=org.aleph.0"]);
        cmd.arg("-chardev")
            .arg(format!("socket,id=qmp,path={}", qemu_path(&job.socket_dir.join("qmp.sock"))));
        cmd.args(["-mon", "chardev=qmp,mode=control"]);
        cmd.arg("-append").arg(&cmdline);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        tracing::debug!(program = %spec.item_hash, accelerator = accel.name, "starting a micro-VM");
        let child = cmd
            .spawn()
            .map_err(|e| CrnError::Unavailable(format!("cannot start QEMU {}: {e}", self.qemu.display())))?;
        let bridge = super::serial_bridge::start(port, job.socket_dir)?;
        let watcher = tokio::spawn(watch_qmp(qmp, spec.item_hash.clone()));
        Ok(Launched { child, keep: Some(Box::new(VmTasks { _bridge: bridge, watcher })) })
    }
}

/// What a running VM's host side is made of; its tasks end with it.
#[derive(Debug)]
struct VmTasks {
    _bridge: super::serial_bridge::Bridge,
    watcher: tokio::task::JoinHandle<()>,
}

impl Drop for VmTasks {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl Launcher for Microvm {
    fn launch<'a>(&'a self, job: Job<'a>) -> BoxFuture<'a, Result<Launched, CrnError>> {
        Box::pin(self.launch_vm(job))
    }

    fn applies_own_limits(&self) -> bool {
        true
    }
}

/// A path as QEMU's option syntax needs it (commas doubled).
fn qemu_path(path: &Path) -> String {
    path.to_string_lossy().replace(',', ",,")
}

/// A guest mount point for the kernel command line: absolute, without spaces or commas.
fn guest_path(dest: &str) -> Result<&str, CrnError> {
    let ok = dest.starts_with('/')
        && !dest.split('/').any(|c| c == "..")
        && dest.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    if ok {
        Ok(dest)
    } else {
        Err(CrnError::CodeUnavailable(format!(
            "mount point {dest:?}: micro-VMs take absolute paths of letters, digits and / . _ -"
        )))
    }
}

/// Follows QEMU's QMP events: a stop we did not ask for (a KVM emulation failure, an I/O error,
/// a guest panic) ends the VM instead of leaving it paused.
pub(crate) async fn watch_qmp(listener: UnixListener, program: String) {
    let Ok((stream, _)) = listener.accept().await else { return };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"{\"execute\":\"qmp_capabilities\"}\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let name = event.get("event").and_then(serde_json::Value::as_str).unwrap_or("");
        if matches!(name, "STOP" | "GUEST_PANICKED" | "BLOCK_IO_ERROR") {
            tracing::warn!(vm = %program, event = name, "the micro-VM stopped on an error; ending it");
            let _ = write.write_all(b"{\"execute\":\"quit\"}\n").await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_mount_points_are_plain_absolute_paths() {
        assert_eq!(guest_path("/opt/code").unwrap(), "/opt/code");
        assert!(guest_path("relative").is_err());
        assert!(guest_path("/a b").is_err());
        assert!(guest_path("/a,ro").is_err());
        assert!(guest_path("/x/../etc").is_err());
        assert_eq!(qemu_path(Path::new("/a,b")), "/a,,b");
    }
}
