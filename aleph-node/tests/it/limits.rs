//! Hostile clients against the node's limits: oversize chunked uploads (the real binary's memory
//! measured from /proc), clients that never finish their headers, bodies that stall, more
//! requests or websocket subscribers than allowed, numbers out of range in queries, a failed disk
//! (answered without its details), and where the binary agrees to run in dev mode.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestNode;

/// The binary, killed when dropped; its stdout lines and stderr captured.
struct Binary {
    child: Child,
    addr: SocketAddr,
    stdout: Vec<String>,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary under test: the one built with these tests, or `ALEPH_NODE_UNDER_TEST` (to take
/// the same measurements of another build, as BENCHMARKS.md does).
fn binary_path() -> String {
    std::env::var("ALEPH_NODE_UNDER_TEST").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aleph-node").to_owned())
}

/// Starts `aleph-node` with `config` (TOML) and `args`, and reads its stdout up to the line that
/// names its address.
fn start_binary(dir: &Path, config: &str, args: &[&str]) -> Binary {
    let file = dir.join("node.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(binary_path())
        .arg("--config")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting aleph-node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("aleph-node exited before listening: {stdout:?} {err}");
        };
        if let Some(url) = line.strip_prefix("aleph-node listening on http://") {
            let mut addr: SocketAddr = url.trim().parse().unwrap();
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            stdout.push(line);
            break addr;
        }
        stdout.push(line);
    };
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Binary { child, addr, stdout }
}

/// A `/proc/<pid>/status` figure in MiB (`VmRSS`, `VmHWM`).
fn proc_mib(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim_start_matches(':').split_whitespace().next()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"));
    kb / 1024.0
}

/// Sends `head` then up to `total` bytes of chunked body in 64 KiB chunks while reading the
/// answer; returns its status once it arrives (the rest of the body is then not sent), or `None`
/// if the connection ended without one.
async fn chunked(addr: SocketAddr, head: String, prefix: Vec<u8>, total: usize) -> (Option<u16>, usize) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent_so_far = counter.clone();
    let writer = tokio::spawn(async move {
        let mut sent = 0usize;
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 << 10];
        let mut first = Some(prefix).filter(|p| !p.is_empty());
        while sent < total {
            let data = first.take().unwrap_or_else(|| chunk.clone());
            let frame = [format!("{:x}\r\n", data.len()).as_bytes(), &data, b"\r\n"].concat();
            if write.write_all(&frame).await.is_err() {
                return;
            }
            sent += data.len();
            sent_so_far.store(sent, std::sync::atomic::Ordering::Relaxed);
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let status = loop {
        match read.read(&mut buf).await {
            Ok(0) | Err(_) => break None,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if let Some(line) = answer.split(|b| *b == b'\n').next().filter(|_| answer.contains(&b'\n')) {
                    let line = String::from_utf8_lossy(line);
                    break line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
                }
            }
        }
    };
    writer.abort();
    let _ = writer.await;
    (status, counter.load(std::sync::atomic::Ordering::Relaxed))
}

fn chunked_head(path: &str, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: node\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
}

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_oversize_uploads_are_refused_as_they_arrive_on_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    // Authenticated uploads capped low so refused multipart bodies stop early too; the IPFS cap
    // stays at its 1 GiB default (the route limit that let today's main buffer everything).
    let node = start_binary(dir.path(), "[limits]\nmax_upload = 8388608\n", &["--listen", "127.0.0.1:0"]);
    let pid = node.child.id();
    let before = proc_mib(pid, "VmRSS");
    let started = Instant::now();
    let mut uploads = Vec::new();
    for _ in 0..10 {
        let head = chunked_head("/api/v0/storage/add_file", "application/octet-stream");
        uploads.push(("raw", tokio::spawn(chunked(node.addr, head, Vec::new(), 200 * MIB))));
    }
    for _ in 0..4 {
        let boundary = "limitsboundary";
        let head =
            chunked_head("/api/v0/storage/add_file", &format!("multipart/form-data; boundary={boundary}"));
        let part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        uploads.push(("multipart", tokio::spawn(chunked(node.addr, head, part.into_bytes(), 200 * MIB))));
    }
    // JSON routes read into a buffer of their limit (1 MiB for messages).
    for _ in 0..4 {
        let head = chunked_head("/api/v0/messages", "application/json");
        uploads
            .push(("json", tokio::spawn(chunked(node.addr, head, b"{\"message\": \"".to_vec(), 200 * MIB))));
    }
    let mut results = Vec::new();
    for (kind, upload) in uploads {
        results.push((kind, upload.await.unwrap()));
    }
    let elapsed = started.elapsed();
    let peak = proc_mib(pid, "VmHWM");
    let sent_total: usize = results.iter().map(|(_, (_, sent))| sent).sum();
    eprintln!(
        "limits: 18 x 200 MiB chunked uploads answered in {elapsed:?} after {} MiB sent in all; RSS {before:.1} MiB before, peak {peak:.1} MiB",
        sent_total / MIB
    );
    for (kind, (status, sent)) in results {
        assert_eq!(status, Some(413), "an oversize chunked {kind} upload is refused with 413");
        assert!(sent < 200 * MIB, "the {kind} refusal came before the whole body was sent ({sent} bytes)");
    }
    assert!(peak < 200.0, "the node's peak RSS stays under 200 MiB (was {peak:.1} MiB)");
    // Refused uploads leave nothing behind in the staging directory.
    let incoming = dir.path().join("data").join("incoming");
    let left = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no staged file is left in {}", incoming.display());
    // The node still works.
    let resp = reqwest::get(format!("http://{}/api/v0/version", node.addr)).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_finish_their_headers_are_closed_on_the_real_binary() {
    const STALLED: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let node =
        start_binary(dir.path(), "[limits]\nheader_read_timeout_secs = 2.0\n", &["--listen", "127.0.0.1:0"]);
    let http = reqwest::Client::new();
    let url = format!("http://{}", node.addr);
    // A keep-alive connection that goes idle after one request is timed out the same way.
    let mut idle = TcpStream::connect(node.addr).await.unwrap();
    idle.write_all(b"GET /api/v0/version HTTP/1.1\r\nHost: node\r\n\r\n").await.unwrap();
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let mut s = TcpStream::connect(node.addr).await.unwrap();
        s.write_all(b"GET /api/v0/version HTTP/1.1\r\nHost: node\r\nX-Slow: ").await.unwrap();
        stalled.push(s);
    }
    let opened = Instant::now();
    // A normal client is served meanwhile.
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let resp = http.get(format!("{url}/api/v0/version")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        latencies.push(t.elapsed());
    }
    latencies.sort();
    // Every stalled connection is closed by the node (EOF or reset) within the timeout plus margin.
    let deadline = Duration::from_secs(15);
    let mut closed = 0;
    for mut s in stalled.into_iter().chain(std::iter::once(idle)) {
        let mut buf = Vec::new();
        let left = deadline.saturating_sub(opened.elapsed());
        match tokio::time::timeout(left, s.read_to_end(&mut buf)).await {
            Ok(_) => closed += 1,
            Err(_) => break,
        }
    }
    let all_closed_after = opened.elapsed();
    eprintln!(
        "limits: {STALLED} stalled clients; normal client latency p50 {:?}, max {:?}; all closed after {all_closed_after:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    assert_eq!(closed, STALLED + 1, "every stalled or idle connection is closed after the header timeout");
    let metrics = http.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    let timeouts: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("aleph_node_http_header_timeouts_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the header timeouts are in /metrics");
    assert!(timeouts >= STALLED as u64, "{timeouts} header timeouts counted");
    assert!(metrics.contains("aleph_node_limit_header_read_timeout_seconds 2"));
}

#[tokio::test]
async fn stalled_bodies_time_out_and_load_past_the_limits_is_refused_with_retry_after() {
    let node = TestNode::start_with(|c| {
        c.limits.max_concurrent_requests = 1;
        c.limits.max_websocket_subscribers = 1;
        c.limits.request_timeout_secs = 1.5;
    })
    .await;
    let addr: SocketAddr = node.url.trim_start_matches("http://").parse().unwrap();
    // A body that never finishes holds the only request slot ...
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(chunked_head("/api/v0/storage/add_file", "application/octet-stream").as_bytes())
        .await
        .unwrap();
    slow.write_all(b"4\r\nabcd\r\n").await.unwrap();
    let busy = loop {
        // ... once its handler runs, which the next request sees as a 503.
        let resp = node.http.get(format!("{}/api/v0/version", node.url)).send().await.unwrap();
        if resp.status() == 503 {
            break resp;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(busy.headers()["retry-after"], "1");
    assert!(busy.text().await.unwrap().contains("busy"));
    // The stalled request is answered 408 at the request timeout, and frees its slot.
    let started = Instant::now();
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"), "{:?}", &answer[..n]);
    assert!(started.elapsed() < Duration::from_secs(5));
    let ok = node.http.get(format!("{}/api/v0/version", node.url)).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    // One websocket subscriber at most.
    let ws_url = format!("ws://{addr}/api/ws0/messages");
    let (first, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await.expect("first subscriber");
    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503);
            assert_eq!(resp.headers()["retry-after"], "1");
        }
        other => panic!("a second subscriber is refused, got {:?}", other.map(|_| ())),
    }
    let metrics = node.http.get(format!("{}/metrics", node.url)).send().await.unwrap().text().await.unwrap();
    for line in [
        "aleph_node_http_requests_refused_total ",
        "aleph_node_http_request_timeouts_total 1",
        "aleph_node_ws_subscribers_open 1",
        "aleph_node_ws_subscribers_refused_total 1",
        "aleph_node_limit_max_concurrent_requests 1",
    ] {
        assert!(metrics.contains(line), "{line} in /metrics:\n{metrics}");
    }
    drop(first);
    node.stop().await;
}

#[tokio::test]
async fn numbers_out_of_range_are_422_naming_the_parameter() {
    let node = TestNode::start_with(|c| c.limits.max_pagination = 3).await;
    let huge = "18446744073709551615";
    let cases = [
        (format!("/api/v0/messages.json?pagination={huge}"), "pagination"),
        (format!("/api/v0/messages.json?pagination={huge}0"), "pagination"),
        (format!("/api/v0/messages.json?page={huge}"), "page"),
        ("/api/v0/messages.json?page=9223372036854775807".to_owned(), "page"),
        (format!("/api/v0/messages/page/{huge}.json"), "page"),
        (format!("/api/v0/posts.json?page={huge}"), "page"),
        (format!("/api/v1/posts.json?page={huge}"), "page"),
        (format!("/api/v0/posts.json?pagination={huge}"), "pagination"),
        (format!("/api/v1/posts.json?pagination={huge}&page=2"), "pagination"),
        (format!("/api/v0/messages/hashes?page={huge}"), "page"),
        (format!("/api/v0/aggregates.json?page={huge}"), "page"),
        (format!("/api/v0/balances?page={huge}"), "page"),
        (format!("/api/v0/balances?pagination={huge}"), "pagination"),
        (format!("/api/v0/addresses/0xabc/files?page={huge}"), "page"),
        ("/api/v0/messages.json?startDate=1e400".to_owned(), "startDate"),
        ("/api/v0/messages.json?endDate=NaN".to_owned(), "endDate"),
        ("/api/v0/messages.json?startDate=-5".to_owned(), "startDate"),
    ];
    for (path, param) in &cases {
        let (status, body) = node.get(path).await;
        let text = body.to_string();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {text}");
        assert!(text.contains(param), "{path}: the answer names {param}: {text}");
        assert!(!text.contains("database") && !text.contains("datatype"), "{path}: {text}");
    }
    // `pagination` is capped at the configured maximum; 0 means that maximum.
    for (path, per_page) in [
        ("/api/v0/messages.json?pagination=0", 3),
        ("/api/v0/messages.json?pagination=50", 3),
        ("/api/v0/messages.json?pagination=2", 2),
        ("/api/v0/posts.json?pagination=0", 3),
        ("/api/v1/posts.json?pagination=1000", 3),
    ] {
        let (status, body) = node.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let reported = body.get("pagination_per_page").and_then(Value::as_u64);
        assert_eq!(reported, Some(per_page), "{path}: {body}");
    }
    node.stop().await;
}

fn read_stderr(node: &mut Binary) -> String {
    let _ = node.child.kill();
    let _ = node.child.wait();
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut node.child.stderr.take().unwrap(), &mut err);
    err
}

#[tokio::test]
async fn dev_mode_on_a_public_address_needs_dev_on_the_real_binary() {
    // Loopback: dev mode by default.
    let dir = tempfile::tempdir().unwrap();
    let local = start_binary(dir.path(), "", &["--listen", "127.0.0.1:0"]);
    assert!(local.stdout.iter().any(|l| l.starts_with("Dev accounts")), "{:?}", local.stdout);
    drop(local);

    // Every address: no dev mode without --dev.
    let dir = tempfile::tempdir().unwrap();
    let mut public = start_binary(dir.path(), "", &["--listen", "0.0.0.0:0"]);
    assert!(!public.stdout.iter().any(|l| l.contains("Dev accounts")), "{:?}", public.stdout);
    assert!(!dir.path().join("data").join("dev-accounts.json").exists());
    let resp = reqwest::get(format!(
        "http://{}/api/v0/addresses/0x0000000000000000000000000000000000000000/balance",
        public.addr
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let err = read_stderr(&mut public);
    assert!(!err.contains("dev mode"), "{err}");

    // With --dev: dev mode, loudly.
    let dir = tempfile::tempdir().unwrap();
    let mut dev = start_binary(dir.path(), "", &["--listen", "0.0.0.0:0", "--dev"]);
    assert!(dev.stdout.iter().any(|l| l.starts_with("Dev accounts")), "{:?}", dev.stdout);
    assert!(dir.path().join("data").join("dev-accounts.json").exists());
    let err = read_stderr(&mut dev);
    assert!(err.contains("WARNING") && err.contains("dev mode") && err.contains("0.0.0.0"), "{err}");

    // `dev = true` in a file is not enough on a public address.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(&file, "dev = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aleph-node"))
        .arg("--config")
        .arg(&file)
        .args(["--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--dev"), "{err}");
}

/// A file store whose disk has failed: every operation errors with a path that must not leak.
#[derive(Debug)]
struct FailedDisk;

fn disk_error() -> aleph_node::StorageError {
    std::io::Error::other("I/O error on /var/secret/aleph/files").into()
}

impl aleph_node::FileStore for FailedDisk {
    fn put<'a>(
        &'a self,
        _: &'a str,
        _: bytes::Bytes,
    ) -> aleph_node::BoxFuture<'a, Result<(), aleph_node::StorageError>> {
        Box::pin(async { Err(disk_error()) })
    }
    fn get<'a>(
        &'a self,
        _: &'a str,
    ) -> aleph_node::BoxFuture<'a, Result<Option<bytes::Bytes>, aleph_node::StorageError>> {
        Box::pin(async { Err(disk_error()) })
    }
    fn contains<'a>(
        &'a self,
        _: &'a str,
    ) -> aleph_node::BoxFuture<'a, Result<bool, aleph_node::StorageError>> {
        Box::pin(async { Err(disk_error()) })
    }
    fn delete<'a>(&'a self, _: &'a str) -> aleph_node::BoxFuture<'a, Result<(), aleph_node::StorageError>> {
        Box::pin(async { Err(disk_error()) })
    }
}

#[tokio::test]
async fn storage_failures_are_a_bare_500() {
    let dir = tempfile::tempdir().unwrap();
    let node = aleph_node::Node::builder(crate::common::test_config(dir.path()))
        .file_store(FailedDisk)
        .launch()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for (path, body) in [("/api/v0/storage/add_json", "{\"a\": 1}"), ("/api/v0/storage/add_file", "bytes")] {
        let resp = http.post(format!("{}{path}", node.url())).body(body).send().await.unwrap();
        assert_eq!(resp.status(), 500, "{path}");
        assert_eq!(resp.text().await.unwrap(), "500: internal error", "{path}: no storage internals");
    }
    node.shutdown().await;
}

/// A tmpfs of `mib` MiB mounted on `dir` (root only), unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, mib: u32) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("running mount");
        assert!(status.success(), "mounting a {mib} MiB tmpfs on {}", dir.display());
        SmallDisk(dir.to_owned())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The bytes available on the file system of `dir` (`df`).
fn free_bytes(dir: &Path) -> usize {
    let out = Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().expect("df");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df's available bytes")
}

/// Writes 1 MiB chunks to `path` until the disk refuses one, then gives `leave` MiB back.
fn fill(path: &Path, leave: u64) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    let mut written = 0u64;
    while f.write_all(&chunk).and_then(|()| f.sync_data()).is_ok() {
        written += 1;
    }
    f.set_len(written.saturating_sub(leave) << 20).unwrap();
    f.sync_all().unwrap();
}

/// The data directory's disk fills during ingest (a 48 MiB tmpfs, filled by a file of the
/// test's): writes are answered 507 with the reason, every acknowledged message is still there
/// after a kill and restart, and once space returns the node takes writes again. The real
/// binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(aleph_root), ignore = "mounts a small tmpfs: needs root (CI runs as root)")]
async fn a_full_disk_refuses_writes_with_507_loses_nothing_and_recovers_on_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("disk"), 48);
    let signer = {
        let accounts = aleph_node::DevAccounts::generate();
        let eth = accounts.accounts.iter().find(|a| a.chain == "ETH").unwrap();
        aleph_core::chain::ethereum::EthereumSigner::from_hex(&eth.private_key_hex).unwrap()
    };
    let http = reqwest::Client::new();
    let node = start_binary(&disk.0, "", &["--listen", "127.0.0.1:0"]);
    let url = format!("http://{}", node.addr);
    let submit = |i: usize| {
        let m =
            crate::common::post(&signer, "disk-full", serde_json::json!({"i": i, "pad": "x".repeat(2000)}));
        let req = http
            .post(format!("{url}/api/v0/messages"))
            .json(&serde_json::json!({"sync": false, "message": m}));
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            (m.item_hash.to_string(), status, resp.text().await.unwrap_or_default())
        }
    };
    // Warm up, then leave 2 MiB free.
    let (first, status, body) = submit(0).await;
    assert!(status.is_success(), "{status} {body}");
    fill(&disk.0.join("filler"), 2);

    let mut acknowledged = vec![first];
    let mut refusal = None;
    for i in 1..20_000 {
        let (hash, status, body) = submit(i).await;
        if status.is_success() {
            acknowledged.push(hash);
        } else {
            refusal = Some((status, body));
            break;
        }
    }
    let (status, body) = refusal.expect("the disk never filled");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(body.contains("disk is full"), "{body}");
    assert!(!body.contains("sqlite") && !body.contains("database"), "no storage internals: {body}");
    // An upload a little larger than the space left is refused the same way (small enough to be
    // sent whole before the node answers and closes), and the node still answers reads.
    let size = free_bytes(&disk.0) + (64 << 10);
    let resp =
        http.post(format!("{url}/api/v0/storage/add_file")).body(vec![7u8; size]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::INSUFFICIENT_STORAGE, "an upload of {size} bytes");
    // A new connection: the node closes the one whose upload it refused, and a pooled
    // connection could be reused just as it closes.
    let resp = reqwest::Client::new()
        .get(format!("{url}/api/v0/messages/{}", acknowledged[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    eprintln!("disk full after {} acknowledged messages", acknowledged.len());

    // Space given back, the node killed and restarted on the same disk: every acknowledged
    // message is there.
    drop(node);
    std::fs::OpenOptions::new().append(true).open(disk.0.join("filler")).unwrap().set_len(0).unwrap();
    let node = start_binary(&disk.0, "", &["--listen", "127.0.0.1:0"]);
    let url = format!("http://{}", node.addr);
    for hash in &acknowledged {
        let resp = http.get(format!("{url}/api/v0/messages/{hash}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "acknowledged {hash} lost");
    }
    // Space is back: writes are taken and processed again.
    let m = crate::common::post(&signer, "disk-full", serde_json::json!({"after": true}));
    let resp = http
        .post(format!("{url}/api/v0/messages"))
        .json(&serde_json::json!({"sync": true, "message": m}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap_or_default());
    let resp = http.get(format!("{url}/api/v0/messages/{}", m.item_hash)).send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "processed", "{body}");
    drop(node);
}
