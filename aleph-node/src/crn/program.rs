//! From a PROGRAM's item hash to what the sandbox needs: the message checked, its code, data
//! and volumes fetched from the CCN (following `use_latest` amends), its runtime checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aleph_core::content::{
    Encoding, Interface, MachineVolume, PaymentType, ProgramContent, ProgramEnvironment,
};
use bytes::Bytes;
use serde_json::Value;

use super::ccn::CcnClient;
use super::runtime::check_runtime;
use super::CrnError;
use crate::config::{CrnConfig, Executor};

/// Largest code or data archive sent to the runtime (the reference's `MAX_PROGRAM_ARCHIVE_SIZE`).
const MAX_ARCHIVE_BYTES: u64 = 10 << 20;
/// Largest squashfs code or volume image fetched.
const MAX_IMAGE_BYTES: u64 = 2 << 30;
/// Largest root filesystem image an instance boots from.
const MAX_ROOTFS_BYTES: u64 = 32 << 30;

/// How the sandbox sees one volume.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mount {
    /// A host directory, read-only.
    ReadOnly { src: PathBuf, dest: String },
    /// A host directory, writable.
    ReadWrite { src: PathBuf, dest: String },
    /// A scratch tmpfs of `size` bytes.
    Tmpfs { dest: String, size: u64 },
    /// A disk image (micro-VMs): a squashfs file read-only, or a persistent volume's ext4 image.
    Image { image: PathBuf, dest: String, fstype: &'static str, writable: bool },
}

/// A program ready to start.
#[derive(Debug, Clone)]
pub(crate) struct ProgramSpec {
    pub(crate) item_hash: String,
    pub(crate) owner: String,
    pub(crate) content: ProgramContent,
    /// The STORE message the code was taken from.
    pub(crate) code_ref: String,
    pub(crate) interface: Interface,
    pub(crate) encoding: &'static str,
    /// Inline code (zip or plain); empty for squashfs, which is mounted at `/opt/code`.
    pub(crate) code: Bytes,
    pub(crate) input_data: Option<Bytes>,
    pub(crate) mounts: Vec<Mount>,
}

impl ProgramSpec {
    pub(crate) fn memory_mib(&self) -> u64 {
        u64::from(self.content.base.resources.memory)
    }

    pub(crate) fn vcpus(&self) -> u32 {
        self.content.base.resources.vcpus.max(1)
    }

    pub(crate) fn seconds(&self) -> f64 {
        f64::from(self.content.base.resources.seconds.max(1))
    }

    pub(crate) fn persistent(&self) -> bool {
        self.content.is_persistent()
    }

    pub(crate) fn payment_type(&self) -> PaymentType {
        self.content.payment_type()
    }

    /// Whether the program may reach the internet (`environment.internet`).
    pub(crate) fn internet(&self) -> bool {
        match &self.content.base.environment {
            ProgramEnvironment::Function(f) => f.internet,
            ProgramEnvironment::Instance(i) => i.internet,
        }
    }

    pub(crate) fn variables(&self) -> BTreeMap<String, String> {
        self.content.base.variables.clone().unwrap_or_default()
    }
}

/// Resolves programs against one CCN, caching fetched files under `cache`.
#[derive(Debug)]
pub(crate) struct Resolver {
    pub(crate) ccn: CcnClient,
    cache: PathBuf,
    volumes: PathBuf,
    config: CrnConfig,
    /// Code and volumes as disk images (micro-VMs) instead of host directories (the sandbox).
    images: bool,
}

impl Resolver {
    pub(crate) fn new(ccn: CcnClient, dir: &Path, config: CrnConfig) -> Self {
        let images = config.executor == Executor::Microvm;
        Resolver { ccn, cache: dir.join("cache"), volumes: dir.join("volumes"), config, images }
    }

    /// The PROGRAM message `item_hash`, checked to be processed and runnable.
    pub(crate) async fn program_message(&self, item_hash: &str) -> Result<(ProgramContent, Value), CrnError> {
        let record =
            self.ccn.message(item_hash).await?.ok_or_else(|| CrnError::NotFound(item_hash.to_owned()))?;
        match record.status.as_str() {
            "processed" => {}
            "rejected" => {
                return Err(match record.error_code {
                    Some(5 | 6) => CrnError::PaymentRequired(format!(
                        "the CCN rejected {item_hash}: its owner does not cover its cost"
                    )),
                    _ => CrnError::NotRunnable(format!("the CCN rejected {item_hash}")),
                });
            }
            "forgotten" => return Err(CrnError::NotRunnable(format!("{item_hash} was forgotten"))),
            "removing" | "removed" => {
                return Err(CrnError::PaymentRequired(format!(
                    "{item_hash} is being removed: its owner's balance is insufficient"
                )))
            }
            other => {
                return Err(CrnError::Unavailable(format!(
                    "{item_hash} is not processed yet (status {other})"
                )))
            }
        }
        let message = record.message;
        if message.get("type").and_then(Value::as_str) != Some("PROGRAM") {
            return Err(CrnError::NotRunnable(format!("{item_hash} is not a PROGRAM message")));
        }
        let content = ProgramContent::parse(&message["content"])
            .map_err(|e| CrnError::NotRunnable(format!("{item_hash} has an invalid PROGRAM content: {e}")))?;
        Ok((content, message))
    }

    /// Everything needed to run `item_hash`.
    pub(crate) async fn resolve(&self, item_hash: &str) -> Result<Arc<ProgramSpec>, CrnError> {
        let (content, _message) = self.program_message(item_hash).await?;
        let owner = content.base.address.clone();
        // The runtime ref itself names the runtime; only when it is not one we run is the STORE it
        // resolves to (its latest amend with `use_latest`) looked up and checked in turn.
        let supported = &self.config.python_runtime_refs;
        if let Err(e) = check_runtime(content.runtime.reference.as_str(), supported) {
            match self.store_ref(content.runtime.reference.as_str(), content.runtime.use_latest, &owner).await
            {
                Ok((hash, _)) => check_runtime(&hash, supported).map_err(|_| e)?,
                Err(_) => return Err(e),
            }
        }

        let (code_ref, code_store) =
            self.store_ref(content.code.reference.as_str(), content.code.use_latest, &owner).await?;
        let file = store_file(&code_store)?;
        let interface = content.code.inferred_interface();
        let mut mounts = Vec::new();
        let (encoding, code) = match content.code.encoding {
            Encoding::Squashfs => {
                mounts.push(self.squashfs_mount(&file, "/opt/code".into()).await?);
                ("squashfs", Bytes::new())
            }
            Encoding::Zip => ("zip", self.fetch(&file, MAX_ARCHIVE_BYTES).await?),
            Encoding::Plain => ("plain", self.fetch(&file, MAX_ARCHIVE_BYTES).await?),
        };
        let input_data = match &content.data {
            Some(data) => {
                let use_latest = data.use_latest.unwrap_or(false);
                let (_, store) = self.store_ref(data.reference.as_str(), use_latest, &owner).await?;
                Some(self.fetch(&store_file(&store)?, MAX_ARCHIVE_BYTES).await?)
            }
            None => None,
        };
        for volume in &content.base.volumes {
            mounts.push(self.volume(volume, &owner, item_hash).await?);
        }
        Ok(Arc::new(ProgramSpec {
            item_hash: item_hash.to_owned(),
            owner,
            content,
            code_ref,
            interface,
            encoding,
            code,
            input_data,
            mounts,
        }))
    }

    /// The STORE message a ref names: with `use_latest`, the owner's newest amend of the tag,
    /// else (or when there is none) the message itself. Returns its hash and content.
    async fn store_ref(
        &self,
        reference: &str,
        use_latest: bool,
        owner: &str,
    ) -> Result<(String, Value), CrnError> {
        if use_latest {
            if let Some(m) = self.ccn.latest_store(reference, owner).await? {
                let hash = m["item_hash"].as_str().unwrap_or(reference).to_owned();
                return Ok((hash, m["content"].clone()));
            }
        }
        let record =
            self.ccn.message(reference).await?.ok_or_else(|| {
                CrnError::CodeUnavailable(format!("no STORE message {reference} on the CCN"))
            })?;
        if record.status != "processed" || record.message.get("type").and_then(Value::as_str) != Some("STORE")
        {
            return Err(CrnError::CodeUnavailable(format!(
                "{reference} is not a processed STORE message (status {})",
                record.status
            )));
        }
        Ok((reference.to_owned(), record.message["content"].clone()))
    }

    /// The file a STORE names, fetched once into the cache.
    async fn fetch(&self, file_hash: &str, max: u64) -> Result<Bytes, CrnError> {
        let path = self.cache.join(file_hash);
        if let Ok(bytes) = tokio::fs::read(&path).await {
            return Ok(bytes.into());
        }
        tokio::fs::create_dir_all(&self.cache).await?;
        self.ccn.download_to(file_hash, &path, max).await?;
        Ok(tokio::fs::read(&path).await?.into())
    }

    /// A root filesystem image, streamed once into the cache; returns its path.
    pub(crate) async fn image_file(
        &self,
        reference: &str,
        use_latest: bool,
        owner: &str,
    ) -> Result<PathBuf, CrnError> {
        let (_, store) = self.store_ref(reference, use_latest, owner).await?;
        let file = store_file(&store)?;
        let path = self.cache.join(&file);
        if !path.is_file() {
            tokio::fs::create_dir_all(&self.cache).await?;
            self.ccn.download_to(&file, &path, MAX_ROOTFS_BYTES).await?;
        }
        Ok(path)
    }

    /// Where an instance keeps its disk and console.
    pub(crate) fn instance_dir(&self, item_hash: &str) -> PathBuf {
        self.cache.parent().unwrap_or(&self.cache).join("instances").join(item_hash)
    }

    /// A squashfs file, fetched and unpacked once into a directory.
    async fn extracted(&self, file_hash: &str) -> Result<PathBuf, CrnError> {
        let dir = self.cache.join(format!("{file_hash}.d"));
        if dir.is_dir() {
            return Ok(dir);
        }
        let image = self.cache.join(file_hash);
        if !image.is_file() {
            tokio::fs::create_dir_all(&self.cache).await?;
            self.ccn.download_to(file_hash, &image, MAX_IMAGE_BYTES).await?;
        }
        let tmp = self.cache.join(format!("{file_hash}.d.part"));
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        let out = tokio::process::Command::new(&self.config.unsquashfs)
            .arg("-no-xattrs")
            .arg("-quiet")
            .arg("-d")
            .arg(&tmp)
            .arg(self.cache.join(file_hash))
            .output()
            .await
            .map_err(|e| {
                CrnError::CodeUnavailable(format!(
                    "squashfs images need {} on this CRN: {e}",
                    self.config.unsquashfs.display()
                ))
            })?;
        if !out.status.success() {
            return Err(CrnError::CodeUnavailable(format!(
                "{file_hash} is not a readable squashfs image: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        tokio::fs::rename(&tmp, &dir).await?;
        Ok(dir)
    }

    /// A squashfs STORE file as the executor takes it: the image itself for a micro-VM, else
    /// unpacked into a directory.
    async fn squashfs_mount(&self, file_hash: &str, dest: String) -> Result<Mount, CrnError> {
        if !self.images {
            return Ok(Mount::ReadOnly { src: self.extracted(file_hash).await?, dest });
        }
        let image = self.cache.join(file_hash);
        if !image.is_file() {
            tokio::fs::create_dir_all(&self.cache).await?;
            self.ccn.download_to(file_hash, &image, MAX_IMAGE_BYTES).await?;
        }
        Ok(Mount::Image { image, dest, fstype: "squashfs", writable: false })
    }

    /// A persistent volume's ext4 image of `size_mib`, created (sparse, formatted) when absent.
    async fn ext4_image(&self, image: &Path, size_mib: u64) -> Result<(), CrnError> {
        if image.is_file() {
            return Ok(());
        }
        if let Some(parent) = image.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let part = image.with_extension("ext4.part");
        let file = tokio::fs::File::create(&part).await?;
        file.set_len(size_mib.max(1) << 20).await?;
        drop(file);
        let out = tokio::process::Command::new("mkfs.ext4")
            .args(["-q", "-F", "-E", "root_owner=0:0"])
            .arg(&part)
            .output()
            .await
            .map_err(|e| {
                CrnError::Unavailable(format!("persistent volumes need mkfs.ext4 (e2fsprogs): {e}"))
            })?;
        if !out.status.success() {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(CrnError::StartFailed(format!(
                "mkfs.ext4 failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        tokio::fs::rename(&part, image).await?;
        Ok(())
    }

    async fn volume(&self, volume: &MachineVolume, owner: &str, item_hash: &str) -> Result<Mount, CrnError> {
        let mount_point = |m: &Option<String>| {
            m.clone().filter(|p| p.starts_with('/')).ok_or_else(|| {
                CrnError::CodeUnavailable(format!("a volume of {item_hash} has no absolute mount point"))
            })
        };
        match volume {
            MachineVolume::Immutable(v) => {
                let dest = mount_point(&v.mount)?;
                let (_, store) = self.store_ref(v.reference.as_str(), v.use_latest, owner).await?;
                self.squashfs_mount(&store_file(&store)?, dest).await
            }
            MachineVolume::Ephemeral(v) => {
                Ok(Mount::Tmpfs { dest: mount_point(&v.mount)?, size: u64::from(v.size_mib) << 20 })
            }
            MachineVolume::Persistent(v) => {
                let dest = mount_point(&v.mount)?;
                // Both parts become host path components: nothing but [A-Za-z0-9_-] survives.
                let dir = self
                    .volumes
                    .join(path_safe(owner))
                    .join(path_safe(v.name.as_deref().unwrap_or("default")));
                if self.images {
                    let image = dir.with_extension("ext4");
                    self.ext4_image(&image, u64::from(v.size_mib)).await?;
                    return Ok(Mount::Image { image, dest, fstype: "ext4", writable: true });
                }
                tokio::fs::create_dir_all(&dir).await?;
                Ok(Mount::ReadWrite { src: dir, dest })
            }
        }
    }
}

/// `text` as one safe path component (no separators, no `..`).
fn path_safe(text: &str) -> String {
    let safe: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if safe.is_empty() {
        "_".into()
    } else {
        safe
    }
}

/// The file hash of a STORE content.
fn store_file(content: &Value) -> Result<String, CrnError> {
    content
        .get("item_hash")
        .and_then(Value::as_str)
        // The hash names cache files: only a valid item hash (hex or CID characters) is used.
        .filter(|h| aleph_core::ItemHash::is_valid(h))
        .map(str::to_owned)
        .ok_or_else(|| CrnError::CodeUnavailable("a STORE message without a valid file hash".into()))
}
