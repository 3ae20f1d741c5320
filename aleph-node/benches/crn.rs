//! The CRN's latencies: a node running both roles in-process, an ASGI program (pure ASGI, and a
//! FastAPI one when the runtime's Python has FastAPI) and an executable deployed through STORE +
//! PROGRAM, then:
//! - cold start: the first `GET /vm/{hash}/` of a freshly posted program (resolve through the CCN
//!   API, fetch the code, start the sandbox and the runtime, configure, answer);
//! - warm latency: sequential requests to the running program, p50/p90/p99;
//! - proxy overhead: warm `/vm` p50 minus the p50 of a plain request to the same server
//!   (`/api/v0/version`), i.e. what the CRN path adds to an HTTP round trip.
//!
//! With `--executor microvm` the programs run in QEMU micro-VMs (guest assets from `--vm-assets`,
//! default `target/vm-assets`), and the resident memory of each VM's QEMU process is reported.
//!
//! Run with: `cargo bench -p aleph-node --bench crn -- [--requests 2000] [--cold 5] [--python PATH]
//! [--executor sandbox|microvm] [--vm-assets DIR]`

use std::io::Write;
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, PendingMessage, Signer, UnsignedMessage};
use aleph_node::config::{Role, PYTHON_RUNTIME_REFS};
use aleph_node::{Node, NodeConfig};
use serde_json::{json, Value};

const PURE_ASGI: &str = r#"
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            await send({"type": event["type"] + ".complete"})
            if event["type"] == "lifespan.shutdown":
                return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [[b"content-type", b"text/plain"]]})
    await send({"type": "http.response.body", "body": b"ok"})
"#;

const FASTAPI_APP: &str = r#"
from fastapi import FastAPI
app = FastAPI()

@app.get("/")
async def index():
    return {"ok": True}
"#;

const EXECUTABLE: &str = r#"#!/usr/bin/env python3
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8080), H).serve_forever()
"#;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn zip_of(name: &str, text: &str, mode: u32) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        zip.start_file(name, zip::write::SimpleFileOptions::default().unix_permissions(mode)).expect("zip");
        zip.write_all(text.as_bytes()).expect("zip");
        zip.finish().expect("zip");
    }
    buf.into_inner()
}

fn sign(signer: &EthereumSigner, t: MessageType, content: Value) -> PendingMessage {
    let time = content["time"].as_f64().unwrap_or(0.0);
    signer.sign(UnsignedMessage::inline(t, content.to_string(), time, Some("BENCH".into()))).expect("sign")
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64()
}

struct Bench {
    http: reqwest::Client,
    url: String,
    signer: EthereumSigner,
}

impl Bench {
    async fn submit(&self, m: &PendingMessage) {
        let resp = self
            .http
            .post(format!("{}/api/v0/messages", self.url))
            .json(&json!({"sync": true, "message": m}))
            .send()
            .await
            .expect("submit");
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
    }

    /// Uploads `code`, STOREs it and posts a PROGRAM; returns the PROGRAM's hash.
    async fn deploy(&self, code: Vec<u8>, entrypoint: &str, interface: Option<&str>, salt: usize) -> String {
        let resp =
            self.http.post(format!("{}/api/v0/storage/add_file", self.url)).body(code.clone()).send().await;
        assert_eq!(resp.expect("upload").status(), 200);
        let address = self.signer.address().to_string();
        let file = aleph_core::ItemHash::sha256(&code);
        let store = sign(
            &self.signer,
            MessageType::Store,
            json!({"address": address, "time": now(), "item_type": "storage", "item_hash": file.as_str()}),
        );
        self.submit(&store).await;
        let mut code_field = json!({"encoding": "zip", "entrypoint": entrypoint, "ref": store.item_hash.as_str(), "use_latest": false});
        if let Some(i) = interface {
            code_field["interface"] = json!(i);
        }
        let program = sign(
            &self.signer,
            MessageType::Program,
            json!({
                "type": "vm-function", "address": address, "time": now(), "allow_amend": false,
                "metadata": {"name": format!("bench-{salt}")},
                "on": {"http": true, "persistent": false},
                "environment": {"reproducible": false, "internet": false, "aleph_api": false, "shared_cache": false},
                "resources": {"vcpus": 1, "memory": 256, "seconds": 30},
                "runtime": {"ref": PYTHON_RUNTIME_REFS[0], "use_latest": true, "comment": "python"},
                "volumes": [], "variables": {}, "payment": {"chain": "ETH", "type": "hold"},
                "code": code_field,
            }),
        );
        self.submit(&program).await;
        program.item_hash.as_str().to_owned()
    }

    async fn get(&self, path: &str) -> Duration {
        let started = Instant::now();
        let resp = self.http.get(format!("{}{path}", self.url)).send().await.expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.bytes().await.expect("body");
        started.elapsed()
    }

    async fn latencies(&self, path: &str, n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.get(path).await);
        }
        out.sort();
        out
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let requests: usize = arg("--requests").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let colds: usize = arg("--cold").and_then(|v| v.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = NodeConfig::ephemeral(dir.path());
    config.dev = true;
    config.role = Role::Both;
    if let Some(python) = arg("--python").or_else(|| std::env::var("ALEPH_PYTHON").ok()) {
        config.crn.python = python.into();
    }
    let microvm = arg("--executor").as_deref() == Some("microvm");
    if microvm {
        config.crn.executor = aleph_node::config::Executor::Microvm;
        config.crn.start_timeout_secs = 120.0;
        config.crn.vm_assets = arg("--vm-assets").map(Into::into).unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/vm-assets")
        });
    }
    let node = Node::builder(config).launch().await.expect("node");
    let key = node
        .dev_accounts()
        .expect("dev")
        .accounts
        .iter()
        .find(|a| a.chain == "ETH")
        .expect("eth")
        .private_key_hex
        .clone();
    let bench = Bench {
        http: reqwest::Client::new(),
        url: node.url(),
        signer: EthereumSigner::from_hex(&key).expect("key"),
    };

    let base = bench.latencies("/api/v0/version", requests).await;
    println!("baseline GET /api/v0/version: p50 {:.3} ms, p99 {:.3} ms", pct(&base, 0.5), pct(&base, 0.99));

    let mut apps = vec![("pure ASGI", zip_of("main.py", PURE_ASGI, 0o644), "main:app", None)];
    let fastapi = std::process::Command::new(&node.crn().expect("crn").config().python)
        .args(["-c", "import fastapi"])
        .status()
        .is_ok_and(|s| s.success());
    if fastapi {
        apps.push(("FastAPI", zip_of("main.py", FASTAPI_APP, 0o644), "main:app", None));
    }
    apps.push(("executable", zip_of("server.py", EXECUTABLE, 0o755), "server.py", Some("binary")));

    for (name, code, entrypoint, interface) in apps {
        let mut cold = Vec::new();
        let mut hash = String::new();
        for i in 0..colds {
            hash = bench.deploy(code.clone(), entrypoint, interface, i).await;
            cold.push(bench.get(&format!("/vm/{hash}/")).await);
        }
        cold.sort();
        let warm = bench.latencies(&format!("/vm/{hash}/"), requests).await;
        println!(
            "{name}: cold start p50 {:.1} ms (min {:.1}, max {:.1}, {colds} programs); warm p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms; proxy overhead p50 {:.3} ms",
            pct(&cold, 0.5),
            pct(&cold, 0.0),
            pct(&cold, 1.0),
            pct(&warm, 0.5),
            pct(&warm, 0.9),
            pct(&warm, 0.99),
            pct(&warm, 0.5) - pct(&base, 0.5),
        );
    }
    if microvm {
        let rss = qemu_rss_mib();
        println!("QEMU processes: {}, RSS MiB each: {rss:?}", rss.len());
    }
    node.shutdown().await;
}

/// The resident memory (MiB) of each QEMU process this process started.
fn qemu_rss_mib() -> Vec<u64> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else { continue };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .map(str::to_owned)
        };
        if field("Name:").is_some_and(|n| n.starts_with("qemu-system"))
            && field("PPid:").as_deref() == Some(&me)
        {
            if let Some(kb) = field("VmRSS:").and_then(|v| v.parse::<u64>().ok()) {
                out.push(kb / 1024);
            }
        }
    }
    out
}
