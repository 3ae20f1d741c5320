//! INSTANCE allocations: a QEMU micro-VM per instance, booted with the CRN's kernel and
//! initramfs (as the reference boots Firecracker instances with its own kernel) from the
//! instance's root filesystem STORE.
//!
//! - Disk: a qcow2 overlay over the STORE's image (raw or qcow2, detected from its header), of
//!   the requested `rootfs.size_mib`; the guest grows its filesystem (cloud-init's resizefs).
//!   Stop keeps the disk; erase removes it.
//! - A cloud-init NoCloud seed (an ISO 9660 volume labelled `cidata`, made with genisoimage):
//!   `meta-data` (instance id, hostname), `user-data` (the message's `authorized_keys` for root,
//!   hostname, rootfs growth), `network-config` (the static slirp address, its gateway and DNS).
//! - Boot: QEMU with the requested vCPUs and memory, KVM when the probe allowed it, else TCG; the
//!   guest's port 22 forwarded from a free host port (slirp `hostfwd`), reported in
//!   `/v2/about/executions/list` under `networking.mapped_ports` as the reference reports them.
//! - Admission: the memory of running instances and programs may not exceed `crn.memory_mib`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use aleph_core::content::PaymentType;
use aleph_core::InstanceContent;
use serde_json::{json, Value};
use tokio::net::UnixListener;
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

use super::microvm::{watch_qmp, Microvm};
use super::program::Resolver;
use super::CrnError;
use crate::config::CrnConfig;

/// The guest's MAC address on its slirp network (the seed's network configuration matches it).
const GUEST_MAC: &str = "52:54:00:a1:e9:01";

/// One instance allocation.
#[derive(Debug, Clone)]
pub(crate) struct InstanceRecord {
    pub(crate) owner: String,
    pub(crate) status: &'static str,
    pub(crate) reason: Option<String>,
    pub(crate) defined_at: f64,
    pub(crate) started_at: Option<f64>,
    pub(crate) stopped_at: Option<f64>,
    pub(crate) memory_mib: u64,
    pub(crate) payment: PaymentType,
    /// The host port forwarded to the guest's SSH port.
    pub(crate) ssh_port: Option<u16>,
}

impl InstanceRecord {
    pub(crate) fn to_json(&self) -> Value {
        json!({"owner": self.owner, "status": self.status, "reason": self.reason})
    }

    /// The `networking` of `/v2/about/executions/list`.
    pub(crate) fn networking(&self) -> Value {
        let mut mapped = serde_json::Map::new();
        if let Some(port) = self.ssh_port {
            mapped.insert("22".into(), json!({"host": port, "tcp": true, "udp": false}));
        }
        json!({
            "ipv4_network": "10.0.2.0/24",
            "host_ipv4": "10.0.2.2",
            "ipv4_ip": "10.0.2.15",
            "ipv6_network": "",
            "ipv6_ip": "",
            "mapped_ports": mapped,
        })
    }
}

/// A running instance: QEMU and its QMP watcher.
#[derive(Debug)]
struct Machine {
    child: Child,
    watcher: tokio::task::JoinHandle<()>,
}

impl Drop for Machine {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// The CRN's instances.
#[derive(Debug)]
pub(crate) struct Instances {
    config: CrnConfig,
    records: Mutex<BTreeMap<String, InstanceRecord>>,
    machines: tokio::sync::Mutex<BTreeMap<String, Machine>>,
    vm: OnceCell<Result<Arc<Microvm>, String>>,
}

impl Instances {
    /// `vm`: the program executor's micro-VM setup when it has one (shared: one KVM probe).
    pub(crate) fn new(config: CrnConfig, vm: Option<Arc<Microvm>>) -> Self {
        let cell = OnceCell::new();
        if let Some(vm) = vm {
            let _ = cell.set(Ok(vm));
        }
        Instances {
            config,
            records: Mutex::new(BTreeMap::new()),
            machines: tokio::sync::Mutex::new(BTreeMap::new()),
            vm: cell,
        }
    }

    async fn vm(&self) -> Result<&Arc<Microvm>, String> {
        self.vm
            .get_or_init(|| async { Microvm::new(&self.config).await.map(Arc::new) })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Why instances cannot boot here, if they cannot.
    pub(crate) async fn hypervisor_unavailable(&self) -> Option<String> {
        self.vm().await.err()
    }

    /// Every record.
    pub(crate) fn records(&self) -> BTreeMap<String, InstanceRecord> {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, hash: &str, record: InstanceRecord) {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).insert(hash.to_owned(), record);
    }

    /// Memory of the running instances, in MiB.
    pub(crate) async fn memory_in_use(&self) -> u64 {
        let running: Vec<String> = self.machines.lock().await.keys().cloned().collect();
        let records = self.records();
        running.iter().filter_map(|h| records.get(h)).map(|r| r.memory_mib).sum()
    }

    /// `POST /control/allocation/notify`: checks the INSTANCE message and boots it, if
    /// `programs_mib` (what programs use) plus the running instances leave room for it.
    pub(crate) async fn allocate(
        &self,
        resolver: &Resolver,
        hash: &str,
        programs_mib: u64,
    ) -> Result<(), CrnError> {
        let record = resolver.ccn.message(hash).await?.ok_or_else(|| CrnError::NotFound(hash.to_owned()))?;
        if record.status != "processed" {
            return Err(match record.error_code {
                Some(5 | 6) => {
                    CrnError::PaymentRequired(format!("the CCN rejected {hash}: insufficient balance"))
                }
                _ => CrnError::NotRunnable(format!(
                    "{hash} is not a processed message (status {})",
                    record.status
                )),
            });
        }
        if record.message.get("type").and_then(Value::as_str) != Some("INSTANCE") {
            return Err(CrnError::NotRunnable(format!("{hash} is not an INSTANCE message")));
        }
        let content = InstanceContent::parse(&record.message["content"])
            .map_err(|e| CrnError::NotRunnable(format!("{hash} has an invalid INSTANCE content: {e}")))?;
        let memory_mib = u64::from(content.base.resources.memory);
        let mut entry = InstanceRecord {
            owner: content.base.address.clone(),
            status: "refused",
            reason: None,
            defined_at: crate::pipeline::now(),
            started_at: None,
            stopped_at: None,
            memory_mib,
            payment: content.payment_type(),
            ssh_port: None,
        };
        if self.is_running(hash).await {
            return Ok(());
        }
        let vm = match self.vm().await {
            Ok(vm) => vm.clone(),
            Err(reason) => {
                let reason = format!("instances cannot boot on this CRN: {reason}");
                entry.reason = Some(reason.clone());
                self.record(hash, entry);
                return Err(CrnError::Unavailable(reason));
            }
        };
        let used = programs_mib + self.memory_in_use().await;
        if used + memory_mib > self.config.memory_mib {
            let reason = format!(
                "Insufficient capacity: {memory_mib} MiB requested, {used} of {} MiB in use",
                self.config.memory_mib
            );
            entry.reason = Some(reason.clone());
            self.record(hash, entry);
            return Err(CrnError::Unavailable(reason));
        }
        match self.boot(&vm, resolver, hash, &content).await {
            Ok((machine, port)) => {
                entry.status = "running";
                entry.started_at = Some(crate::pipeline::now());
                entry.ssh_port = Some(port);
                self.machines.lock().await.insert(hash.to_owned(), machine);
                self.record(hash, entry);
                tracing::info!(instance = hash, ssh_port = port, "instance started");
                Ok(())
            }
            Err(e) => {
                entry.reason = Some(e.to_string());
                self.record(hash, entry);
                Err(e)
            }
        }
    }

    /// Prepares the disk and the seed, then starts QEMU; returns it and the SSH host port.
    async fn boot(
        &self,
        vm: &Microvm,
        resolver: &Resolver,
        hash: &str,
        content: &InstanceContent,
    ) -> Result<(Machine, u16), CrnError> {
        let image = resolver
            .image_file(
                content.rootfs.parent.reference.as_str(),
                content.rootfs.parent.use_latest,
                &content.base.address,
            )
            .await?;
        let dir = resolver.instance_dir(hash);
        tokio::fs::create_dir_all(&dir).await?;
        let disk = dir.join("rootfs.qcow2");
        if !disk.is_file() {
            create_disk(&image, &disk, u64::from(content.rootfs.size_mib)).await?;
        }
        let hostname = super::execution::hostname(hash);
        let seed = dir.join("seed.iso");
        write_seed(&dir, &seed, hash, &hostname, content.base.authorized_keys.as_deref().unwrap_or(&[]))
            .await?;

        let accel = vm.accel().await.clone();
        let port = free_port()?;
        let socket_dir = short_socket_dir(&dir);
        let _ = tokio::fs::remove_dir_all(&socket_dir).await;
        tokio::fs::create_dir_all(&socket_dir).await?;
        let qmp_path = socket_dir.join("qmp.sock");
        let qmp = UnixListener::bind(&qmp_path)?;
        let resources = &content.base.resources;
        let mut cmd = Command::new(&vm.qemu);
        cmd.args(["-M", "microvm"]).args(accel.args());
        cmd.args(["-m", &resources.memory.max(128).to_string(), "-smp", &resources.vcpus.max(1).to_string()]);
        cmd.args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]);
        cmd.arg("-serial").arg(format!("file:{}", dir.join("console.log").display()));
        cmd.arg("-kernel").arg(&vm.assets.kernel).arg("-initrd").arg(&vm.assets.initramfs);
        cmd.arg("-append").arg(format!(
            "console=ttyS0 reboot=t panic=-1 net.ifnames=0 aleph.mode=instance aleph.hostname={hostname}{}",
            vm.tsc_arg()
        ));
        cmd.arg("-drive").arg(format!("id=root,if=none,format=qcow2,file={}", qemu_path(&disk)));
        cmd.args(["-device", "virtio-blk-device,drive=root,serial=root"]);
        cmd.arg("-drive").arg(format!("id=seed,if=none,format=raw,readonly=on,file={}", qemu_path(&seed)));
        cmd.args(["-device", "virtio-blk-device,drive=seed,serial=cidata"]);
        cmd.arg("-netdev").arg(format!("user,id=net0,hostfwd=tcp:0.0.0.0:{port}-:22"));
        cmd.arg("-device").arg(format!("virtio-net-device,netdev=net0,mac={GUEST_MAC}"));
        cmd.arg("-chardev").arg(format!("socket,id=qmp,path={}", qemu_path(&qmp_path)));
        cmd.args(["-mon", "chardev=qmp,mode=control"]);
        // QEMU's own messages go to a file (a pipe nobody reads could fill and block it).
        let qemu_log = dir.join("qemu.log");
        let log_file = std::fs::File::create(&qemu_log)?;
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log_file).kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| CrnError::StartFailed(format!("QEMU did not start: {e}")))?;
        // QEMU refuses bad options at once: give it a moment, then report its error.
        if let Ok(status) = tokio::time::timeout(std::time::Duration::from_millis(300), child.wait()).await {
            let err = tokio::fs::read_to_string(&qemu_log).await.unwrap_or_default();
            let status = status.map(|s| s.to_string()).unwrap_or_default();
            return Err(CrnError::StartFailed(format!("QEMU exited ({status}): {}", err.trim())));
        }
        let watcher = tokio::spawn(watch_qmp(qmp, hash.to_owned()));
        Ok((Machine { child, watcher }, port))
    }

    /// Stops an instance (its disk is kept); returns whether it was running.
    pub(crate) async fn stop(&self, hash: &str) -> bool {
        let Some(mut machine) = self.machines.lock().await.remove(hash) else { return false };
        let was_running = matches!(machine.child.try_wait(), Ok(None));
        let _ = machine.child.start_kill();
        let _ = machine.child.wait().await;
        if let Some(r) = self.records.lock().unwrap_or_else(|e| e.into_inner()).get_mut(hash) {
            r.status = "stopped";
            r.stopped_at = Some(crate::pipeline::now());
            r.ssh_port = None;
        }
        tracing::info!(instance = hash, "instance stopped");
        was_running
    }

    /// Stops an instance and deletes its disk and seed; returns whether there was one.
    pub(crate) async fn erase(&self, resolver: &Resolver, hash: &str) -> bool {
        self.stop(hash).await;
        let dir = resolver.instance_dir(hash);
        let existed = dir.exists();
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let _ = tokio::fs::remove_dir_all(short_socket_dir(&dir)).await;
        if let Some(r) = self.records.lock().unwrap_or_else(|e| e.into_inner()).get_mut(hash) {
            r.status = "erased";
        }
        existed
    }

    /// Whether an instance runs.
    pub(crate) async fn is_running(&self, hash: &str) -> bool {
        match self.machines.lock().await.get_mut(hash) {
            Some(m) => matches!(m.child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The running instances with their owner and payment type (for the payment monitor).
    pub(crate) async fn running(&self) -> Vec<(String, String, PaymentType)> {
        let hashes: Vec<String> = self.machines.lock().await.keys().cloned().collect();
        let records = self.records();
        hashes
            .into_iter()
            .filter_map(|h| records.get(&h).map(|r| (h.clone(), r.owner.clone(), r.payment)))
            .collect()
    }

    pub(crate) async fn shutdown(&self) {
        let hashes: Vec<String> = self.machines.lock().await.keys().map(String::clone).collect();
        for hash in hashes {
            self.stop(&hash).await;
        }
    }
}

/// A path as QEMU's option syntax needs it (commas doubled).
fn qemu_path(path: &Path) -> String {
    path.to_string_lossy().replace(',', ",,")
}

/// Unix socket paths are limited to 108 bytes: an instance's QMP socket lives in the
/// temporary directory, named after its directory's hash.
fn short_socket_dir(dir: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(dir.to_string_lossy().as_bytes()));
    std::env::temp_dir().join(format!("aleph-instance-{}", &digest[..16]))
}

/// A host TCP port nobody listens on now.
fn free_port() -> Result<u16, CrnError> {
    let listener = std::net::TcpListener::bind("0.0.0.0:0")?;
    Ok(listener.local_addr()?.port())
}

/// The image's format from its header: qcow2 (`QFI\xfb`) or raw.
fn image_format(image: &Path) -> std::io::Result<&'static str> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(image)?.read(&mut magic)?;
    Ok(if n == 4 && magic == *b"QFI\xfb" { "qcow2" } else { "raw" })
}

/// A qcow2 overlay of `size_mib` over `image`.
async fn create_disk(image: &Path, disk: &Path, size_mib: u64) -> Result<(), CrnError> {
    let format = image_format(image)?;
    let out = Command::new("qemu-img")
        .args(["info", "--output=json", "-f", format])
        .arg(image)
        .output()
        .await
        .map_err(|e| CrnError::Unavailable(format!("qemu-img cannot run: {e}")))?;
    let info: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let virtual_size = info["virtual-size"].as_u64().ok_or_else(|| {
        CrnError::CodeUnavailable(format!(
            "the root filesystem is not a readable {format} image: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })?;
    if size_mib << 20 < virtual_size {
        return Err(CrnError::CodeUnavailable(format!(
            "rootfs.size_mib {size_mib} is smaller than the root filesystem image ({} MiB)",
            virtual_size.div_ceil(1 << 20)
        )));
    }
    let part = disk.with_extension("qcow2.part");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", format, "-b"])
        .arg(image)
        .arg(&part)
        .arg(format!("{size_mib}M"))
        .output()
        .await
        .map_err(|e| CrnError::Unavailable(format!("qemu-img cannot run: {e}")))?;
    if !out.status.success() {
        return Err(CrnError::StartFailed(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    tokio::fs::rename(&part, disk).await?;
    Ok(())
}

/// The cloud-init NoCloud seed: user-data, meta-data and network-config on an ISO 9660
/// volume labelled `cidata`.
async fn write_seed(
    dir: &Path,
    seed: &Path,
    hash: &str,
    hostname: &str,
    keys: &[String],
) -> Result<(), CrnError> {
    let files = dir.join("seed");
    let _ = tokio::fs::remove_dir_all(&files).await;
    tokio::fs::create_dir_all(&files).await?;
    let meta = format!("instance-id: {hash}\nlocal-hostname: {hostname}\n");
    // JSON is YAML: the keys are quoted whatever they hold.
    let user = format!(
        "#cloud-config\n{}\n",
        json!({
            "hostname": hostname,
            "disable_root": false,
            "ssh_pwauth": false,
            "ssh_authorized_keys": keys,
            "resize_rootfs": true,
        })
    );
    let network = json!({
        "version": 2,
        "ethernets": {"eth0": {
            "match": {"macaddress": GUEST_MAC},
            "set-name": "eth0",
            "addresses": ["10.0.2.15/24"],
            "gateway4": "10.0.2.2",
            "nameservers": {"addresses": ["10.0.2.3"]},
        }},
    })
    .to_string();
    tokio::fs::write(files.join("meta-data"), meta).await?;
    tokio::fs::write(files.join("user-data"), user).await?;
    tokio::fs::write(files.join("network-config"), network).await?;
    let out = Command::new("genisoimage")
        .args(["-quiet", "-volid", "cidata", "-joliet", "-rock", "-output"])
        .arg(seed)
        .arg(files.join("user-data"))
        .arg(files.join("meta-data"))
        .arg(files.join("network-config"))
        .output()
        .await
        .map_err(|e| {
            CrnError::Unavailable(format!("instances need genisoimage for their cloud-init seed: {e}"))
        })?;
    if !out.status.success() {
        return Err(CrnError::StartFailed(format!(
            "genisoimage failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}
