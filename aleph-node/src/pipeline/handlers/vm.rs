//! PROGRAM and INSTANCE: volumes resolved against STOREs, `replaces` rules, and the VM records.

use aleph_core::message::{MessageType, PendingMessage};
use aleph_core::validate::{ErrorList, ProcessingError};
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::{Decoded, HResult};

/// A STORE a VM depends on: `(ref, use_latest, required size in MiB when it is a parent image)`.
struct VolumeRef {
    reference: String,
    use_latest: bool,
    min_size_mib: Option<u64>,
    name: String,
}

fn volume_refs(message_type: MessageType, content: &Value) -> Vec<VolumeRef> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>, default_latest: bool, size: Option<u64>, name: &str| {
        if let Some(r) = v.and_then(|v| v.get("ref")).and_then(Value::as_str) {
            let use_latest =
                v.and_then(|v| v.get("use_latest")).and_then(Value::as_bool).unwrap_or(default_latest);
            out.push(VolumeRef {
                reference: r.to_owned(),
                use_latest,
                min_size_mib: size,
                name: name.to_owned(),
            });
        }
    };
    if message_type == MessageType::Program {
        push(content.get("code"), false, None, "code");
        push(content.get("runtime"), true, None, "runtime");
        push(content.get("data"), false, None, "data");
    }
    if message_type == MessageType::Instance {
        let rootfs = content.get("rootfs");
        let size = rootfs.and_then(|r| r.get("size_mib")).and_then(Value::as_u64);
        push(rootfs.and_then(|r| r.get("parent")), true, size, "rootfs");
    }
    for (i, v) in content.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if v.get("ref").is_some() {
            push(Some(v), true, None, &format!("volume #{i}"));
        } else if let Some(parent) = v.get("parent") {
            push(Some(parent), true, v.get("size_mib").and_then(Value::as_u64), &format!("volume #{i}"));
        }
    }
    out
}

/// The file hash and size of the STORE a volume names (by tag when `use_latest`, else by message
/// hash).
fn resolve(tx: &Transaction<'_>, v: &VolumeRef) -> HResult<Option<(String, i64)>> {
    let file_hash: Option<String> = if v.use_latest {
        tx.prepare_cached("SELECT file_hash FROM file_tags WHERE tag = ?1")?
            .query_row([&v.reference], |r| r.get(0))
            .optional()?
    } else {
        None
    };
    let file_hash = match file_hash {
        Some(h) => Some(h),
        None => tx
            .prepare_cached("SELECT content_item_hash FROM messages WHERE item_hash = ?1 AND type = 'STORE'")?
            .query_row([&v.reference], |r| r.get(0))
            .optional()?,
    };
    let Some(file_hash) = file_hash else { return Ok(None) };
    let size = tx
        .prepare_cached("SELECT COALESCE((SELECT size FROM files WHERE hash = ?1), 0)")?
        .query_row([&file_hash], |r| r.get(0))?;
    Ok(Some((file_hash, size)))
}

pub(super) fn check(
    tx: &Transaction<'_>,
    ctx: &super::Ctx,
    m: &PendingMessage,
    content: &Decoded,
) -> HResult<()> {
    for v in volume_refs(m.message_type, &content.raw) {
        if v.name == "runtime" && ctx.builtin_runtimes.iter().any(|r| r.eq_ignore_ascii_case(&v.reference)) {
            continue;
        }
        let Some((file_hash, size)) = resolve(tx, &v)? else {
            return Err(ProcessingError::VmVolumeNotFound(ErrorList::one(v.reference)).into());
        };
        if let Some(mib) = v.min_size_mib {
            if (mib as i64).saturating_mul(1 << 20) < size {
                return Err(ProcessingError::VmVolumeTooSmall {
                    volume_name: v.name,
                    volume_size: mib.saturating_mul(1 << 20),
                    parent_ref: v.reference,
                    parent_file: file_hash,
                    parent_size: size.max(0) as u64,
                }
                .into());
            }
        }
    }
    if let Some(target) = content.str_field("replaces") {
        if m.message_type != MessageType::Program {
            return Err(ProcessingError::VmRefNotFound(ErrorList::one(target)).into());
        }
        let row: Option<(String, bool, Option<String>)> = tx
            .prepare_cached(
                "SELECT owner, allow_amend, replaces FROM vms WHERE item_hash = ?1 AND type = 'program'",
            )?
            .query_row([target], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((owner, allow_amend, replaces)) = row else {
            return Err(ProcessingError::VmRefNotFound(ErrorList::one(target)).into());
        };
        if replaces.is_some() {
            return Err(ProcessingError::VmUpdateUpdate(ErrorList::one(target)).into());
        }
        if !allow_amend {
            return Err(ProcessingError::VmAmendNotAllowed(ErrorList::one(target)).into());
        }
        aleph_core::permissions::check_replaces_owner(content.owner(), target, &owner)?;
    }
    Ok(())
}

pub(super) fn apply(tx: &Transaction<'_>, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let c = &content.raw;
    let kind = if m.message_type == MessageType::Instance { "instance" } else { "program" };
    let persistent = m.message_type == MessageType::Instance
        || c.get("on").and_then(|o| o.get("persistent")).and_then(Value::as_bool).unwrap_or(false);
    tx.prepare_cached(
        "INSERT OR REPLACE INTO vms (item_hash, owner, type, allow_amend, replaces, persistent, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        m.item_hash.as_str(),
        content.owner(),
        kind,
        c.get("allow_amend").and_then(Value::as_bool).unwrap_or(false),
        content.str_field("replaces"),
        persistent,
        content.time(),
    ])?;
    for v in volume_refs(m.message_type, c) {
        tx.prepare_cached("INSERT INTO vm_volumes (vm_hash, ref, use_latest) VALUES (?1, ?2, ?3)")?
            .execute(params![m.item_hash.as_str(), v.reference, v.use_latest])?;
    }
    Ok(())
}
