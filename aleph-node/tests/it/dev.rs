//! Dev mode seeds the foundation's network aggregates that the official clients read before they
//! write (`pricing`, `settings`, `vm-images`), shaped as the clients decode them, and they price
//! exactly as the built-in defaults a node without them uses.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

const FOUNDATION: &str = "0xFba561a84A537fCaa567bb7A2257e7142701ae2A";

fn instance_estimate(owner: &str) -> Value {
    json!({
        "address": owner, "allow_amend": false, "environment": {"internet": true},
        "resources": {"vcpus": 2, "memory": 4096},
        "rootfs": {"parent": {"ref": "5330dcefe1857bcd97b7b7f24d1420a7d46232d53f27be280c8a7071d88bd84e",
                              "use_latest": true}, "persistence": "host", "size_mib": 20480},
        "payment": {"type": "credit"},
    })
}

async fn estimated_cost(node: &TestNode) -> Value {
    let resp = node
        .http
        .post(format!("{}/api/v0/price/estimate/instance", node.url))
        .json(&instance_estimate(FOUNDATION))
        .send()
        .await
        .unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn dev_mode_seeds_the_network_aggregates_the_clients_read() {
    let node = TestNode::start().await;
    let got =
        node.get_ok(&format!("/api/v0/aggregates/{FOUNDATION}.json?keys=pricing,settings,vm-images")).await;
    let data = &got["data"];
    // What `aleph instance price` decodes: every instance product with a compute unit, tiers, and
    // string prices with `credit`.
    for product in ["instance", "instance_confidential", "instance_gpu_standard", "instance_gpu_premium"] {
        let p = &data["pricing"][product];
        for k in ["vcpus", "memory_mib", "disk_mib"] {
            assert!(p["compute_unit"][k].is_u64(), "{product}.compute_unit.{k}: {p}");
        }
        assert!(!p["tiers"].as_array().unwrap().is_empty(), "{product}");
        for price in p["price"].as_object().unwrap().values() {
            assert!(price["credit"].is_string(), "{product}: {price}");
        }
    }
    assert_eq!(data["pricing"]["instance"]["price"]["compute_unit"]["holding"], "1000");
    let gpus = &data["pricing"]["instance_gpu_standard"]["tiers"];
    assert!(gpus.as_array().unwrap().iter().all(|t| t["model"].is_string() && t["vram"].is_u64()));
    // `settings`: the GPU list and what the Python SDK requires beside it.
    let settings = &data["settings"];
    assert!(settings["compatible_gpus"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| { ["name", "model", "vendor", "device_id"].iter().all(|k| g[k].is_string()) }));
    assert!(settings["last_crn_version"].is_string());
    assert!(settings["community_wallet_address"].is_string());
    assert!(settings["community_wallet_timestamp"].is_i64());
    // `vm-images`: each default names an entry with an item hash.
    let images = &data["vm-images"];
    for (kind, section) in [("rootfs", "rootfs"), ("runtime", "runtimes"), ("firmware", "firmwares")] {
        let name = images["defaults"][kind].as_str().unwrap_or_else(|| panic!("no default {kind}"));
        let hash = images[section][name]["hash"].as_str().unwrap_or_else(|| panic!("no {section}.{name}"));
        assert!(aleph_core::ItemHash::is_valid(hash), "{section}.{name}: {hash}");
    }
    // The seeded prices are the ones the node uses when the network has published none.
    let seeded = estimated_cost(&node).await;
    node.stop().await;
    let plain = TestNode::start_with(|c| c.dev = false).await;
    let (status, _) = plain.get(&format!("/api/v0/aggregates/{FOUNDATION}.json")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(estimated_cost(&plain).await, seeded);
    plain.stop().await;
}
