//! Networked nodes in one process on loopback: gossip across a relay, STORE files fetched from
//! peers, catch-up after downtime, invalid gossip dropped and penalised, convergent aggregates,
//! and the reference message-id values. Topology: `b` is the bootstrap peer of `a` and `c`, so
//! what goes from `a` to `c` has been validated and forwarded by `b`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{PendingMessage, Signer};
use aleph_node::config::P2pConfig;
use aleph_node::Event;
use aleph_node::P2pHandle;
use aleph_node::{Node, NodeHandle};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{aggregate, post, read, sha256_hex, store, test_config};

/// One networked node of a test.
struct Peer {
    handle: NodeHandle,
    url: String,
    http: reqwest::Client,
    dir: PathBuf,
}

async fn launch(dir: &Path, bootstrap: Vec<String>) -> Peer {
    let mut config = test_config(dir);
    // Content fetched from peers may take a few rounds to appear: retry longer than the
    // single-node tests do.
    config.processing.max_retries = 12;
    config.processing.max_backoff_secs = 0.5;
    let p2p = P2pConfig { bootstrap, reconnect_secs: 2.0, alive_interval_secs: 2.0, ..P2pConfig::local() };
    let handle = Node::builder(config).p2p(p2p).launch().await.expect("node starts");
    let url = handle.url();
    Peer { handle, url, http: reqwest::Client::new(), dir: dir.to_owned() }
}

impl Peer {
    fn p2p(&self) -> &P2pHandle {
        self.handle.p2p().expect("networked")
    }

    fn addrs(&self) -> Vec<String> {
        self.p2p().listen_addrs().iter().map(ToString::to_string).collect()
    }

    fn signer(&self) -> EthereumSigner {
        let accounts = self.handle.dev_accounts().expect("dev mode");
        let key =
            &accounts.accounts.iter().find(|a| a.chain == "ETH").expect("an ETH account").private_key_hex;
        EthereumSigner::from_hex(key).expect("key")
    }

    async fn submit(&self, m: &PendingMessage) {
        let resp = self
            .http
            .post(format!("{}/api/v0/messages", self.url))
            .json(&json!({"sync": false, "message": m}))
            .send()
            .await
            .expect("submit");
        let (status, body) = read(resp).await;
        assert!(status.is_success(), "submit: {status} {body}");
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self.http.get(format!("{}{path}", self.url)).send().await.expect("get");
        read(resp).await
    }

    async fn status(&self, hash: &str) -> Option<String> {
        let (code, body) = self.get(&format!("/api/v0/messages/{hash}")).await;
        (code == StatusCode::OK).then(|| body["status"].as_str().unwrap_or_default().to_owned())
    }

    async fn wait_processed(&self, hash: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status(hash).await;
            if status.as_deref() == Some("processed") {
                return;
            }
            assert!(Instant::now() < deadline, "{hash} not processed on {}: {status:?}", self.url);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Three nodes, `a` and `c` both bootstrapped from `b`; returns once the gossip meshes formed.
async fn three(root: &Path) -> (Peer, Peer, Peer) {
    let b = launch(&root.join("b"), Vec::new()).await;
    let a = launch(&root.join("a"), b.addrs()).await;
    let c = launch(&root.join("c"), b.addrs()).await;
    wait_connected(&b, 2).await;
    wait_connected(&a, 1).await;
    wait_connected(&c, 1).await;
    // a and c hear each other's ALIVE through b: b's meshes hold both of them.
    wait_heard(&c, &a).await;
    wait_heard(&a, &c).await;
    (a, b, c)
}

/// Waits until `to` has heard `from`'s ALIVE announcement over gossip (relayed by the peers in
/// between): the gossip meshes on the way are grafted. Both topics are joined at start and
/// grafted in the same heartbeat, so the message topic's meshes are up as well.
async fn wait_heard(to: &Peer, from: &Peer) {
    let id = from.p2p().local_peer_id();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !to.p2p().peers().get(&id).is_some_and(|p| p.addresses.contains_key("P2P")) {
        assert!(Instant::now() < deadline, "{} never heard the ALIVE of {}", to.url, from.url);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_connected(p: &Peer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.p2p().connected_peers().len() < n {
        assert!(Instant::now() < deadline, "{} never had {n} peers", p.url);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_posted_to_a_is_readable_on_c() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    let m = post(&a.signer(), "p2p-test", json!({"hello": "network"}));
    let hash = m.item_hash.to_string();
    let start = Instant::now();
    a.submit(&m).await;
    c.wait_processed(&hash, Duration::from_secs(10)).await;
    let latency = start.elapsed();
    b.wait_processed(&hash, Duration::from_secs(5)).await;
    let (_, body) = c.get(&format!("/api/v0/messages/{hash}")).await;
    assert_eq!(body["message"]["content"]["content"]["hello"], "network");
    assert!(c.p2p().stats().gossip_accepted >= 1, "reached c by gossip");
    eprintln!("a → b → c: processed on c {latency:?} after the POST to a");
    // Each node lists its multiaddrs.
    let (_, info) = a.get("/api/v0/info/public.json").await;
    let addrs = info["node_multi_addresses"].as_array().expect("a list");
    assert!(addrs
        .iter()
        .any(|x| x.as_str().is_some_and(|s| s.ends_with(&a.p2p().local_peer_id().to_string()))));
    for p in [a, b, c] {
        p.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_file_uploaded_to_a_downloads_from_c() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let resp = a
        .http
        .post(format!("{}/api/v0/storage/add_file", a.url))
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .expect("upload");
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file_hash = sha256_hex(&bytes);
    assert_eq!(body["hash"], file_hash.as_str());
    let m = store(&a.signer(), &file_hash);
    a.submit(&m).await;
    c.wait_processed(m.item_hash.as_str(), Duration::from_secs(20)).await;
    let resp = c.http.get(format!("{}/api/v0/storage/raw/{file_hash}", c.url)).send().await.expect("raw");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.expect("bytes").to_vec(), bytes);
    // The peer fetch endpoint serves it too, as the reference does (MIME base64).
    let (code, body) = c.get(&format!("/api/v0/storage/{file_hash}")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "success");
    for p in [a, b, c] {
        p.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_inline_content_is_fetched_from_peers_and_checked() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    let signer = a.signer();
    for engine in ["storage", "ipfs"] {
        let content = json!({"type": "stored", "time": crate::common::now(), "address": signer.address(),
            "content": {"engine": engine}});
        let resp = a
            .http
            .post(format!("{}/api/v0/{engine}/add_json", a.url))
            .json(&content)
            .send()
            .await
            .expect("add_json");
        let (status, body) = read(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let item_hash: aleph_core::ItemHash =
            body["hash"].as_str().unwrap_or_default().parse().expect("a hash");
        let m = signer
            .sign(aleph_core::UnsignedMessage::stored(
                aleph_core::MessageType::Post,
                item_hash,
                crate::common::now(),
                Some(crate::common::CHANNEL.into()),
            ))
            .expect("sign");
        a.submit(&m).await;
        c.wait_processed(m.item_hash.as_str(), Duration::from_secs(20)).await;
        let (_, one) = c.get(&format!("/api/v0/messages/{}", m.item_hash)).await;
        assert_eq!(one["message"]["content"]["content"]["engine"], engine);
    }
    assert!(c.p2p().stats().content_fetched >= 2, "{:?}", c.p2p().stats());
    for p in [a, b, c] {
        p.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_and_restarted_catches_up() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    let before = post(&a.signer(), "p2p-test", json!({"n": -1}));
    a.submit(&before).await;
    c.wait_processed(before.item_hash.as_str(), Duration::from_secs(10)).await;
    let c_dir = c.dir.clone();
    let c_id = c.p2p().local_peer_id();
    c.handle.shutdown().await;
    // Messages c misses, posted to a and b.
    let signer = a.signer();
    let mut missed = Vec::new();
    for n in 0..30 {
        let m = post(&signer, "p2p-test", json!({"n": n}));
        if n % 2 == 0 {
            a.submit(&m).await
        } else {
            b.submit(&m).await
        }
        missed.push(m.item_hash.to_string());
    }
    for h in &missed {
        b.wait_processed(h, Duration::from_secs(10)).await;
    }
    let c = launch(&c_dir, b.addrs()).await;
    assert_eq!(c.p2p().local_peer_id(), c_id, "the key is kept in the data directory");
    let start = Instant::now();
    for h in &missed {
        c.wait_processed(h, Duration::from_secs(20)).await;
    }
    eprintln!("c caught up on {} messages in {:?}", missed.len(), start.elapsed());
    assert!(c.p2p().stats().synced >= missed.len() as u64, "{:?}", c.p2p().stats());
    for p in [a, b, c] {
        p.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_are_neither_stored_nor_forwarded_and_the_sender_is_penalised() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    // A rogue peer connected to b only, publishing straight onto the topic.
    let rogue = launch(&root.path().join("rogue"), b.addrs()).await;
    wait_connected(&rogue, 1).await;
    let rogue_id = rogue.p2p().local_peer_id();
    let signer = rogue.signer();
    // A valid message from the rogue first: published (again, until the rogue has b's
    // subscriptions and b has it), it flows on to c and a.
    let good = post(&signer, "p2p-test", json!({"fine": true}));
    let payload = serde_json::to_vec(&good).expect("json");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        rogue.p2p().publish_raw("ALEPH-TEST", payload.clone()).expect("published");
        let poll_until = Instant::now() + Duration::from_millis(250);
        while Instant::now() < poll_until && b.status(good.item_hash.as_str()).await.is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if b.status(good.item_hash.as_str()).await.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "b never received the rogue's valid message");
    }
    c.wait_processed(good.item_hash.as_str(), Duration::from_secs(10)).await;
    a.wait_processed(good.item_hash.as_str(), Duration::from_secs(10)).await;
    let mut bad_signature =
        serde_json::to_value(post(&signer, "p2p-test", json!({"forged": 1}))).expect("json");
    let forged_hash = bad_signature["item_hash"].as_str().unwrap_or_default().to_owned();
    bad_signature["signature"] = json!(format!("0x{}", "11".repeat(65)));
    let mut bad_hash = serde_json::to_value(post(&signer, "p2p-test", json!({"tampered": 1}))).expect("json");
    let tampered_hash = bad_hash["item_hash"].as_str().unwrap_or_default().to_owned();
    bad_hash["item_content"] =
        json!(bad_hash["item_content"].as_str().unwrap_or_default().replace("tampered", "tampereD"));
    for payload in [
        b"not json at all".to_vec(),
        bad_signature.to_string().into_bytes(),
        bad_hash.to_string().into_bytes(),
    ] {
        rogue.p2p().publish_raw("ALEPH-TEST", payload).expect("published");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.p2p().stats().gossip_rejected < 3 {
        assert!(Instant::now() < deadline, "b never judged the invalid gossip: {:?}", b.p2p().stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A valid message sent after them still flows (b forwards what passes).
    let marker = post(&a.signer(), "p2p-test", json!({"marker": true}));
    a.submit(&marker).await;
    c.wait_processed(marker.item_hash.as_str(), Duration::from_secs(10)).await;
    for node in [&b, &c, &a] {
        assert_eq!(node.status(&forged_hash).await, None, "forged message stored on {}", node.url);
        assert_eq!(node.status(&tampered_hash).await, None, "tampered message stored on {}", node.url);
    }
    assert_eq!(c.p2p().stats().gossip_rejected, 0, "b forwarded invalid gossip to c");
    let score = b.p2p().peer_score(rogue_id).await.expect("peer scoring on");
    assert!(score < 0.0, "rogue not penalised: {score}");
    assert!(b.p2p().peers().get(&rogue_id).is_some_and(|p| p.invalid_messages >= 3));
    for p in [a, b, c, rogue] {
        p.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_nodes_reach_the_same_aggregate_whatever_the_arrival_order() {
    let root = tempfile::tempdir().expect("temp dir");
    let (a, b, c) = three(root.path()).await;
    let signer = a.signer();
    let t = crate::common::now() - 100.0;
    let updates = [
        aggregate(&signer, "settings", json!({"a": 1, "b": 1}), t + 1.0),
        aggregate(&signer, "settings", json!({"a": 2}), t + 2.0),
        aggregate(&signer, "settings", json!({"c": 3}), t + 3.0),
        aggregate(&signer, "settings", json!({"b": 0, "d": 4}), t),
    ];
    // Newest first, each to a different node: every node sees its own order.
    let nodes = [&c, &b, &a, &c];
    for (m, node) in updates.iter().rev().zip(nodes) {
        node.submit(m).await;
    }
    for node in [&a, &b, &c] {
        for m in &updates {
            node.wait_processed(m.item_hash.as_str(), Duration::from_secs(15)).await;
        }
    }
    let path = format!("/api/v0/aggregates/{}.json?keys=settings", signer.address());
    let mut states = Vec::new();
    for node in [&a, &b, &c] {
        let (code, body) = node.get(&path).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        states.push(body["data"]["settings"].clone());
    }
    assert_eq!(states[0], json!({"a": 2, "b": 1, "c": 3, "d": 4}));
    assert_eq!(states[0], states[1]);
    assert_eq!(states[1], states[2]);
    for p in [a, b, c] {
        p.handle.shutdown().await;
    }
}

/// Propagation latency (POST to one node → processed on every other), for BENCHMARKS.md:
/// `cargo test --release -p aleph-node --test it p2p::propagation_latency -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn propagation_latency() {
    for n in [3usize, 10] {
        let root = tempfile::tempdir().expect("temp dir");
        let hub = launch(&root.path().join("n0"), Vec::new()).await;
        let mut nodes = vec![hub];
        for i in 1..n {
            let p = launch(&root.path().join(format!("n{i}")), nodes[0].addrs()).await;
            nodes.push(p);
        }
        for p in &nodes[1..] {
            wait_connected(p, 1).await;
        }
        wait_connected(&nodes[0], n - 1).await;
        for p in nodes.iter().filter(|p| p.url != nodes[1].url) {
            wait_heard(p, &nodes[1]).await;
        }
        let signer = nodes[1].signer();
        let mut samples = Vec::new();
        for k in 0..40 {
            let mut events: Vec<_> = nodes.iter().map(|p| p.handle.pipeline().subscribe()).collect();
            let m = post(&signer, "latency", json!({"k": k}));
            let hash = m.item_hash.to_string();
            let start = Instant::now();
            nodes[1].submit(&m).await;
            for (i, rx) in events.iter_mut().enumerate() {
                if i == 1 {
                    continue;
                }
                let wait = async {
                    loop {
                        match rx.recv().await {
                            Ok(Event::Processed { item_hash, .. }) if item_hash == hash => return,
                            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => return,
                        }
                    }
                };
                tokio::time::timeout(Duration::from_secs(10), wait).await.expect("propagated");
                samples.push(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        samples.sort();
        let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
        eprintln!(
            "{n} nodes: {} deliveries, p50 {:?}, p95 {:?}, max {:?}",
            samples.len(),
            p(0.5),
            p(0.95),
            p(1.0)
        );
        for p in nodes {
            p.handle.shutdown().await;
        }
    }
}

/// Processed messages on a node, as its API counts them.
async fn processed_count(p: &Peer) -> i64 {
    let url = format!("{}/api/v0/messages.json?pagination=1", p.url);
    let page: serde_json::Value = p.http.get(url).send().await.expect("count").json().await.expect("count");
    page["pagination_total"].as_i64().expect("pagination_total")
}

async fn wait_count(p: &Peer, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = processed_count(p).await;
        if have >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{} has {have} of {n} messages", p.url);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Catch-up of many missed messages, for BENCHMARKS.md (`P2P_CATCH_UP=100000`, the default):
/// `cargo test -p aleph-node --test it p2p::catch_up_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn catch_up_throughput() {
    use rayon::prelude::*;
    let n: usize = std::env::var("P2P_CATCH_UP").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let root = tempfile::tempdir().expect("temp dir");
    let a = launch(&root.path().join("a"), Vec::new()).await;
    let signer = a.signer();
    let start = Instant::now();
    let messages: Vec<Value> = (0..n)
        .into_par_iter()
        .map(|i| serde_json::to_value(post(&signer, "catch-up", json!({"i": i}))).expect("json"))
        .collect();
    eprintln!("signed {n} messages in {:?}", start.elapsed());
    let start = Instant::now();
    for chunk in messages.chunks(2000) {
        let pipeline = a.handle.pipeline();
        let submitted = futures_util::future::join_all(
            chunk.iter().map(|m| pipeline.submit(m.clone(), aleph_node::Origin::Api)),
        )
        .await;
        assert!(submitted.iter().all(Result::is_ok));
    }
    wait_count(&a, n as i64, Duration::from_secs(900)).await;
    eprintln!("a processed {n} messages in {:?}", start.elapsed());
    let start = Instant::now();
    let b = launch(&root.path().join("b"), a.addrs()).await;
    wait_count(&b, n as i64, Duration::from_secs(900)).await;
    let took = start.elapsed();
    eprintln!(
        "b caught up on {n} messages in {took:?} ({:.0} msg/s); {:?}",
        n as f64 / took.as_secs_f64(),
        b.p2p().stats()
    );
    for p in [a, b] {
        p.handle.shutdown().await;
    }
}

/// An old peer that speaks only mplex (no yamux) still connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mplex_only_peer_connects() {
    use futures_util::StreamExt;
    use libp2p::swarm::SwarmEvent;
    let root = tempfile::tempdir().expect("temp dir");
    let node = launch(&root.path().join("n"), Vec::new()).await;
    let mut client = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(libp2p::tcp::Config::default(), libp2p::noise::Config::new, libp2p_mplex::Config::default)
        .expect("transport")
        .with_behaviour(|_| libp2p::swarm::dummy::Behaviour)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(5)))
        .build();
    let addr: libp2p::Multiaddr = node.addrs()[0].parse().expect("multiaddr");
    client.dial(addr).expect("dial");
    let connected = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match client.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => return Ok(peer_id),
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.to_string()),
                _ => {}
            }
        }
    })
    .await
    .expect("no answer");
    assert_eq!(connected, Ok(node.p2p().local_peer_id()));
    node.handle.shutdown().await;
}
