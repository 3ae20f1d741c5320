//! End-to-end load: pre-signs messages (an ETH + SOL mix), starts the real `aleph-node` binary on
//! loopback, posts them with 32 concurrent clients, and reports ingestion and processing rates and
//! the node's peak RSS. Then fills the database to `--fill` messages and measures
//! `messages.json?addresses=…` latency.
//!
//! Run with: `cargo bench -p aleph-node --bench load -- [--messages 20000] [--concurrency 32] [--fill 1000000]`

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::{MessageType, PendingMessage, Signer, UnsignedMessage};
use rayon::prelude::*;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn presign(n: usize) -> Vec<PendingMessage> {
    let eth: Vec<EthereumSigner> =
        (0..8u8).map(|i| EthereumSigner::from_bytes(&[i + 1; 32]).expect("key")).collect();
    let sol: Vec<SolanaSigner> = (0..8u8).map(|i| SolanaSigner::from_seed(&[i + 101; 32])).collect();
    (0..n)
        .into_par_iter()
        .map(|i| {
            let signer: &dyn Signer = if i % 2 == 0 { &eth[i / 2 % 8] } else { &sol[i / 2 % 8] };
            let time = 1_700_000_000.0 + i as f64 / 1000.0;
            let content = format!(
                r#"{{"address":"{}","time":{time},"type":"load","content":{{"n":{i},"body":"load test message"}}}}"#,
                signer.address()
            );
            signer.sign(UnsignedMessage::inline(MessageType::Post, content, time, Some("LOAD".into()))).expect("sign")
        })
        .collect()
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(14999)
}

fn start_node(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aleph-node"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting aleph-node")
}

async fn wait_ready(client: &reqwest::Client, url: &str) {
    for _ in 0..100 {
        if client.get(format!("{url}/api/v0/version")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node did not start");
}

async fn count_processed(client: &reqwest::Client, url: &str) -> u64 {
    let body: serde_json::Value = client
        .get(format!("{url}/api/v0/messages.json?channels=LOAD&pagination=1"))
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("json");
    body["pagination_total"].as_u64().unwrap_or(0)
}

/// The node's writer counters from `/metrics`: (transactions, busy seconds, wait seconds, WAL frames).
async fn writer_stats(client: &reqwest::Client, url: &str) -> (f64, f64, f64, f64) {
    let text =
        client.get(format!("{url}/metrics")).send().await.expect("metrics").text().await.expect("text");
    let value = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok()).unwrap_or(0.0)
    };
    (
        value("aleph_node_db_write_transactions_total"),
        value("aleph_node_db_write_busy_seconds_total"),
        value("aleph_node_db_write_wait_seconds_total"),
        value("aleph_node_db_wal_frames_total"),
    )
}

#[tokio::main]
async fn main() {
    let n = arg("--messages", 20_000);
    let concurrency = arg("--concurrency", 32);
    let fill = arg("--fill", 0);
    let dir = std::env::temp_dir().join(format!("aleph-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let t = Instant::now();
    let messages = Arc::new(presign(n));
    println!("pre-signed {n} messages (ETH+SOL) in {:.1}s", t.elapsed().as_secs_f64());

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut node = start_node(&dir, port);
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    wait_ready(&client, &url).await;

    let node_pid = node.id().to_string();
    let node_cpu_before = cpu_seconds(&node_pid);
    let own_cpu_before = cpu_seconds("self");
    let writer_before = writer_stats(&client, &url).await;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, messages, next) = (client.clone(), url.clone(), messages.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(m) = messages.get(i) else { break };
                let body = serde_json::json!({"sync": false, "message": m});
                let r = client.post(format!("{url}/api/v0/messages")).json(&body).send().await.expect("post");
                if r.status().as_u16() == 202 || r.status().as_u16() == 200 {
                    accepted += 1;
                }
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.expect("task");
    }
    let ingest = start.elapsed();
    loop {
        let done = count_processed(&client, &url).await;
        if done as usize >= accepted || start.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = start.elapsed();
    println!(
        "accepted {accepted}/{n} in {:.2}s ({:.0} msg/s at intake); all processed after {:.2}s: {:.0} msg/s end to end (concurrency {concurrency})",
        ingest.as_secs_f64(),
        accepted as f64 / ingest.as_secs_f64(),
        total.as_secs_f64(),
        accepted as f64 / total.as_secs_f64()
    );
    let node_cpu = cpu_seconds(&node_pid) - node_cpu_before;
    let own_cpu = cpu_seconds("self") - own_cpu_before;
    println!(
        "CPU per message: node {:.0} µs, load generator {:.0} µs; on 2 otherwise idle cores that bounds end-to-end at {:.0} msg/s",
        node_cpu / accepted as f64 * 1e6,
        own_cpu / accepted as f64 * 1e6,
        2.0 * accepted as f64 / (node_cpu + own_cpu)
    );
    let writer_after = writer_stats(&client, &url).await;
    let (txs, busy, wait, frames) = (
        writer_after.0 - writer_before.0,
        writer_after.1 - writer_before.1,
        writer_after.2 - writer_before.2,
        writer_after.3 - writer_before.3,
    );
    println!(
        "writer: {txs:.0} transactions ({:.1} messages each, {:.1} WAL pages per message), busy {:.0}% of the wall clock, {:.0} µs per message (a {:.0} msg/s bound), waits {:.1} ms in all",
        accepted as f64 / txs.max(1.0),
        frames / accepted as f64,
        100.0 * busy / total.as_secs_f64(),
        busy / accepted as f64 * 1e6,
        accepted as f64 / busy.max(1e-9),
        wait * 1e3
    );
    println!("node peak RSS: {} MiB", peak_rss_kib(node.id()).unwrap_or(0) / 1024);

    if fill > 0 {
        let _ = node.kill();
        let _ = node.wait();
        let target = fill.saturating_sub(accepted);
        let t = Instant::now();
        aleph_node::bench::bench_fill(&dir.join("aleph.sqlite3"), target).expect("fill");
        println!("filled the database with {target} more messages in {:.1}s", t.elapsed().as_secs_f64());
        node = start_node(&dir, port);
        wait_ready(&client, &url).await;
        let addresses: Vec<String> = (0..8).map(|i| format!("0xFILL{:036x}", i * 7919)).collect();
        for (label, filter) in [("addresses=…", "addresses"), ("owners=…&msgTypes=POST", "owners")] {
            let mut lat = Vec::new();
            for i in 0..400 {
                let a = &addresses[i % addresses.len()];
                let extra = if filter == "owners" { "&msgTypes=POST" } else { "" };
                let t = Instant::now();
                let r = client
                    .get(format!(
                        "{url}/api/v0/messages.json?{filter}={a}{extra}&pagination=20&page={}",
                        1 + i % 5
                    ))
                    .send()
                    .await
                    .expect("get");
                let _ = r.bytes().await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat.sort_by(f64::total_cmp);
            println!(
                "messages.json?{label} over {fill} messages: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
                lat[lat.len() / 2],
                lat[lat.len() * 9 / 10],
                lat[lat.len() * 99 / 100]
            );
        }
    }
    let _ = node.kill();
    let _ = node.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
