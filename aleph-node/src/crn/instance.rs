//! INSTANCE allocations: records of what was asked and what happened, and a QEMU/KVM boot where
//! the host has both. Without a usable `/dev/kvm` and QEMU binary, allocations are refused with
//! 503 and the reason (instances need a real virtual machine; a sandbox cannot stand in).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Mutex;

use aleph_core::InstanceContent;
use serde_json::{json, Value};
use tokio::process::Child;

use super::program::Resolver;
use super::CrnError;
use crate::config::CrnConfig;

/// One instance allocation.
#[derive(Debug, Clone)]
pub(crate) struct InstanceRecord {
    pub(crate) owner: String,
    pub(crate) status: &'static str,
    pub(crate) reason: Option<String>,
    pub(crate) defined_at: f64,
    pub(crate) started_at: Option<f64>,
    pub(crate) stopped_at: Option<f64>,
}

impl InstanceRecord {
    pub(crate) fn to_json(&self) -> Value {
        json!({"owner": self.owner, "status": self.status, "reason": self.reason})
    }
}

/// The CRN's instances.
#[derive(Debug)]
pub(crate) struct Instances {
    config: CrnConfig,
    records: Mutex<BTreeMap<String, InstanceRecord>>,
    machines: tokio::sync::Mutex<BTreeMap<String, Child>>,
}

impl Instances {
    pub(crate) fn new(config: CrnConfig) -> Self {
        Instances {
            config,
            records: Mutex::new(BTreeMap::new()),
            machines: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// Why instances cannot boot here, if they cannot.
    pub(crate) async fn hypervisor_unavailable(&self) -> Option<String> {
        let kvm = &self.config.kvm_device;
        if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(kvm) {
            return Some(format!("KVM is not usable ({}: {e})", kvm.display()));
        }
        let qemu = &self.config.qemu;
        match tokio::process::Command::new(qemu).arg("--version").output().await {
            Ok(out) if out.status.success() => None,
            Ok(_) => Some(format!("{} does not run", qemu.display())),
            Err(e) => Some(format!("QEMU is not installed ({}: {e})", qemu.display())),
        }
    }

    /// Every record.
    pub(crate) fn records(&self) -> BTreeMap<String, InstanceRecord> {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, hash: &str, record: InstanceRecord) {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).insert(hash.to_owned(), record);
    }

    /// `POST /control/allocation/notify`: checks the INSTANCE message and boots it.
    pub(crate) async fn allocate(&self, resolver: &Resolver, hash: &str) -> Result<(), CrnError> {
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
        let mut entry = InstanceRecord {
            owner: content.address.clone(),
            status: "refused",
            reason: None,
            defined_at: crate::pipeline::now(),
            started_at: None,
            stopped_at: None,
        };
        if self.machines.lock().await.contains_key(hash) {
            return Ok(());
        }
        if let Some(reason) = self.hypervisor_unavailable().await {
            let reason = format!("instances cannot boot on this CRN: {reason}");
            entry.reason = Some(reason.clone());
            self.record(hash, entry);
            return Err(CrnError::Unavailable(reason));
        }
        match self.boot(resolver, hash, &content).await {
            Ok(child) => {
                entry.status = "running";
                entry.started_at = Some(crate::pipeline::now());
                self.machines.lock().await.insert(hash.to_owned(), child);
                self.record(hash, entry);
                Ok(())
            }
            Err(e) => {
                entry.reason = Some(e.to_string());
                self.record(hash, entry);
                Err(e)
            }
        }
    }

    /// Boots the instance's root filesystem (a copy-on-write overlay of the parent image) under
    /// QEMU with KVM, its console kept in the instance's directory.
    async fn boot(
        &self,
        resolver: &Resolver,
        hash: &str,
        content: &InstanceContent,
    ) -> Result<Child, CrnError> {
        let image = resolver
            .image_file(
                content.rootfs.parent.reference.as_str(),
                content.rootfs.parent.use_latest,
                &content.address,
            )
            .await?;
        let dir = resolver.instance_dir(hash);
        tokio::fs::create_dir_all(&dir).await?;
        let overlay = dir.join("rootfs.qcow2");
        let size = format!("{}M", content.rootfs.size_mib);
        let out = tokio::process::Command::new("qemu-img")
            .args(["create", "-f", "qcow2", "-F", "raw", "-b"])
            .arg(&image)
            .arg(&overlay)
            .arg(&size)
            .output()
            .await
            .map_err(|e| CrnError::Unavailable(format!("qemu-img cannot run: {e}")))?;
        if !out.status.success() {
            return Err(CrnError::StartFailed(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        let resources = &content.resources;
        tokio::process::Command::new(&self.config.qemu)
            .args(["-enable-kvm", "-cpu", "host", "-nographic", "-no-reboot"])
            .args(["-m", &resources.memory.to_string(), "-smp", &resources.vcpus.max(1).to_string()])
            .arg("-drive")
            .arg(format!("file={},if=virtio,format=qcow2", overlay.display()))
            .args(["-nic", "user,model=virtio"])
            .arg("-serial")
            .arg(format!("file:{}", dir.join("console.log").display()))
            .args(["-monitor", "none"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CrnError::StartFailed(format!("QEMU did not start: {e}")))
    }

    /// Stops an instance; returns whether it was running.
    pub(crate) async fn stop(&self, hash: &str) -> bool {
        let Some(mut child) = self.machines.lock().await.remove(hash) else { return false };
        let _ = child.start_kill();
        let _ = child.wait().await;
        if let Some(r) = self.records.lock().unwrap_or_else(|e| e.into_inner()).get_mut(hash) {
            r.status = "stopped";
            r.stopped_at = Some(crate::pipeline::now());
        }
        true
    }

    /// Whether an instance runs.
    pub(crate) async fn is_running(&self, hash: &str) -> bool {
        match self.machines.lock().await.get_mut(hash) {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub(crate) async fn shutdown(&self) {
        let hashes: Vec<String> = self.machines.lock().await.keys().map(String::clone).collect();
        for hash in hashes {
            self.stop(&hash).await;
        }
    }
}
