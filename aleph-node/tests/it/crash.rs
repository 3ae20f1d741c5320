//! Crash test of the real binary: messages are submitted concurrently, the node is killed with
//! SIGKILL in the middle of ingestion, restarted on the same data directory, and every message it
//! had acknowledged (200/202) must be there, pending or processed, and the pending ones must get
//! processed.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::{MessageType, PendingMessage, Signer, UnsignedMessage};
use serde_json::{json, Value};

const POSTS: usize = 1200;
const AMENDS: usize = 20;
const CLIENTS: usize = 16;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The node process, killed (SIGKILL) when dropped, so a failing test leaves nothing running.
struct NodeProcess(Child);

impl NodeProcess {
    fn kill_9(&mut self) {
        // SIGKILL: no shutdown code runs.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Starts the binary on `port` with `dir`; retries are quick so pending messages settle fast.
fn start(dir: &Path, port: u16) -> NodeProcess {
    let config = dir.join("node.toml");
    std::fs::write(&config, "[processing]\nmax_backoff_secs = 0.3\nmax_retries = 1000\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_aleph-node"))
        .arg("--config")
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting aleph-node");
    NodeProcess(child)
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{url}/api/v0/version")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the node did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sign(signer: &dyn Signer, content: Value, time: f64) -> PendingMessage {
    signer
        .sign(UnsignedMessage::inline(MessageType::Post, content.to_string(), time, Some("CRASH".into())))
        .unwrap()
}

async fn status_of(http: &reqwest::Client, url: &str, hash: &str) -> Option<String> {
    let resp = http.get(format!("{url}/api/v0/messages/{hash}/status")).send().await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    resp.json::<Value>().await.ok()?["status"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let eth = EthereumSigner::from_bytes(&[0x11; 32]).unwrap();
    let sol = SolanaSigner::from_seed(&[0x22; 32]);
    let t0 = crate::common::now() - 1000.0;
    // Originals whose amends are in the crash batch; they are only sent after the restart, so
    // those amends are still pending then.
    let originals: Vec<PendingMessage> = (0..AMENDS)
        .map(|i| {
            sign(&eth, json!({"address": eth.address(), "time": t0, "type": "orig", "content": {"i": i}}), t0)
        })
        .collect();
    let mut batch: Vec<PendingMessage> = (0..POSTS)
        .map(|i| {
            let s: &dyn Signer = if i % 2 == 0 { &eth } else { &sol };
            let t = t0 + i as f64 / 100.0;
            sign(s, json!({"address": s.address(), "time": t, "type": "crash", "content": {"i": i}}), t)
        })
        .collect();
    for (i, o) in originals.iter().enumerate() {
        let t = t0 + 1.0 + i as f64;
        let content = json!({"address": eth.address(), "time": t, "type": "amend", "ref": o.item_hash.as_str(), "content": {"amended": i}});
        // Spread the amends through the batch.
        batch.insert(i * (POSTS / AMENDS), sign(&eth, content, t));
    }
    let amend_hashes: Vec<String> = batch
        .iter()
        .filter(|m| m.item_content.as_ref().unwrap().contains("\"amend\""))
        .map(|m| m.item_hash.to_string())
        .collect();
    assert_eq!(amend_hashes.len(), AMENDS);

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = start(dir.path(), port);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    wait_ready(&http, &url).await;

    // Submit concurrently; record every acknowledgement; kill -9 once about a third is in.
    let queue = Arc::new(Mutex::new(batch.clone()));
    let acked: Arc<Mutex<HashMap<String, u16>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let kill_at = batch.len() / 3;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (queue, acked, count, http, url) =
            (queue.clone(), acked.clone(), count.clone(), http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(m) = queue.lock().unwrap().pop() else { return };
                let body = json!({"sync": false, "message": m});
                match http.post(format!("{url}/api/v0/messages")).json(&body).send().await {
                    Ok(resp) if resp.status() == 200 || resp.status() == 202 => {
                        acked.lock().unwrap().insert(m.item_hash.to_string(), resp.status().as_u16());
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(resp) => panic!("unexpected answer {} for a valid message", resp.status()),
                    // The node is gone: this one was never acknowledged.
                    Err(_) => {}
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < kill_at {
        assert!(Instant::now() < deadline, "ingestion too slow");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill_9();
    let killed_at = count.load(Ordering::SeqCst);
    // The submitters see connection errors and drain the queue quickly.
    queue.lock().unwrap().clear();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= killed_at && acked.len() < batch.len(),
        "killed mid-ingestion: {} of {}",
        acked.len(),
        batch.len()
    );

    // Restart on the same data directory.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = start(dir.path(), port);
    wait_ready(&http, &url).await;
    let mut pending_after_restart = Vec::new();
    for hash in acked.keys() {
        let status = status_of(&http, &url, hash).await;
        match status.as_deref() {
            Some("processed") => {}
            Some("pending") => pending_after_restart.push(hash.clone()),
            other => panic!("acknowledged message {hash} lost or wrong after the crash: {other:?}"),
        }
    }
    // Every acknowledged amend is pending: its original has not been sent.
    let acked_amends: Vec<&String> = amend_hashes.iter().filter(|h| acked.contains_key(*h)).collect();
    for h in &acked_amends {
        assert!(pending_after_restart.contains(h), "amend {h} should still be pending");
    }
    for o in &originals {
        let resp = http
            .post(format!("{url}/api/v0/messages"))
            .json(&json!({"sync": false, "message": o}))
            .send()
            .await
            .unwrap();
        assert!(resp.status() == 200 || resp.status() == 202);
    }
    // Everything pending gets processed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut left = pending_after_restart.clone();
    while !left.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} acknowledged messages never processed after restart",
            left.len()
        );
        let mut still = Vec::new();
        for h in left {
            if status_of(&http, &url, &h).await.as_deref() != Some("processed") {
                still.push(h);
            }
        }
        left = still;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The database is consistent: every processed message is listed once.
    let listed: Value = http
        .get(format!("{url}/api/v0/messages.json?channels=CRASH&pagination=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = listed["pagination_total"].as_u64().unwrap() as usize;
    assert!(total >= acked.len() + originals.len(), "listed {total}, acknowledged {}", acked.len());
    assert!(total <= batch.len() + originals.len());
    // The amended posts show their amend.
    if let Some(h) = acked_amends.first() {
        let posts: Value = http
            .get(format!("{url}/api/v0/posts.json?types=orig&pagination=0"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            posts["posts"].as_array().unwrap().iter().any(|p| p["item_hash"] == h.as_str()),
            "{h} not displayed"
        );
    }
    eprintln!(
        "crash test: {} acknowledged before kill -9, {} pending after restart ({} amends)",
        acked.len(),
        pending_after_restart.len(),
        acked_amends.len()
    );
    child.kill_9();
}
