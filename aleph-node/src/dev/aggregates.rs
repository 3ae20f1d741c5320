//! The network aggregates the official clients read before they write, seeded in dev mode: the
//! `pricing`, `settings` and `vm-images` aggregates of the foundation address
//! ([`PRICE_AGGREGATE_OWNER`]). The official Rust CLI reads `pricing` for `aleph instance price`
//! and sizes, `settings` for `--gpu`, and `vm-images` for image presets and the default program
//! runtime; the Python SDK reads `pricing` and `settings`.
//!
//! The values are shaped like the live network's: the price list and GPU list are the ones this
//! node prices with while the network has published none ([`Pricing::default`],
//! [`Settings::default`], the reference's defaults), so seeding them changes no price; the image
//! hashes are the live network's (the official SDKs' default rootfs, runtime and firmware).
//!
//! Each aggregate is one element with a fixed item hash and content time 0, so an element the
//! network publishes later merges over it, and seeding again replaces it.

use aleph_core::cost::{
    Pricing, Settings, PRICE_AGGREGATE_KEY, PRICE_AGGREGATE_OWNER, SETTINGS_AGGREGATE_KEY,
};
use rusqlite::{params, Transaction};
use serde_json::{json, Value};

use crate::pipeline::handlers::{aggregate, HandlerError};
use crate::storage::StorageError;

/// The `vm-images` aggregate key.
pub(crate) const VM_IMAGES_AGGREGATE_KEY: &str = "vm-images";

/// The CRN version the `settings` aggregate announces (`last_crn_version`, read by the Python
/// CLI to pick compatible nodes).
const LAST_CRN_VERSION: &str = "1.7.2";

/// The `settings` aggregate: the GPU list and community wallet, plus the latest CRN version.
fn settings() -> Value {
    let mut settings = serde_json::to_value(Settings::default()).unwrap_or_else(|_| json!({}));
    if let Some(o) = settings.as_object_mut() {
        o.insert("last_crn_version".into(), json!(LAST_CRN_VERSION));
    }
    settings
}

/// The `vm-images` aggregate: instance rootfs presets, program runtimes, confidential firmware,
/// and the defaults the CLI takes when no image is named.
fn vm_images() -> Value {
    json!({
        "rootfs": {
            "debian12": {
                "hash": "b6ff5c3a8205d1ca4c7c3369300eeafff498b558f71b851aa2114afd0a532717",
                "display_name": "Debian 12",
            },
            "ubuntu22": {
                "hash": "4a0f62da42f4478544616519e6f5d58adb1096e069b392b151d47c3609492d0c",
                "display_name": "Ubuntu 22.04 LTS",
            },
            "ubuntu24": {
                "hash": "5330dcefe1857bcd97b7b7f24d1420a7d46232d53f27be280c8a7071d88bd84e",
                "display_name": "Ubuntu 24.04 LTS",
            },
        },
        "runtimes": {
            "python312": {
                "hash": "63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696",
                "display_name": "Python 3.12",
            },
        },
        "firmwares": {
            "ovmf-default": {
                "hash": "ba5bb13f3abca960b101a759be162b229e2b7e93ecad9d1307e54de887f177ff",
                "display_name": "OVMF (default)",
            },
        },
        "defaults": {"rootfs": "ubuntu24", "firmware": "ovmf-default", "runtime": "python312"},
    })
}

/// The seeded aggregates: `(key, content)`.
pub(crate) fn network_aggregates() -> Vec<(&'static str, Value)> {
    vec![
        (PRICE_AGGREGATE_KEY, Pricing::default().to_aggregate()),
        (SETTINGS_AGGREGATE_KEY, settings()),
        (VM_IMAGES_AGGREGATE_KEY, vm_images()),
    ]
}

/// Writes the seeded aggregates (idempotent).
pub(crate) fn seed(tx: &Transaction<'_>) -> Result<(), StorageError> {
    for (key, content) in network_aggregates() {
        // A fixed label, not a message: no message has this hash.
        let item_hash = aleph_core::ItemHash::sha256(format!("aleph-node dev seed {key}").as_bytes());
        tx.execute(
            "INSERT OR REPLACE INTO aggregate_elements (item_hash, owner, key, content, creation)
             VALUES (?1, ?2, ?3, ?4, 0)",
            params![item_hash.as_str(), PRICE_AGGREGATE_OWNER, key, content.to_string()],
        )?;
        aggregate::recompute(tx, PRICE_AGGREGATE_OWNER, key).map_err(|e| match e {
            HandlerError::Storage(s) => s,
            HandlerError::Processing(p) => StorageError::Task(p.to_string()),
        })?;
    }
    Ok(())
}
