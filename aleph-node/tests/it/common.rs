//! Shared helpers: an in-process node on an ephemeral port with fast retries, signers for its dev
//! accounts, message builders, and HTTP helpers (over the network and through the router).

use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_core::{MessageType, PendingMessage, Signer, UnsignedMessage};
use aleph_node::AppState;
use aleph_node::Event;
use aleph_node::{Node, NodeConfig, NodeHandle};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The channel every test message uses unless it needs its own.
pub(crate) const CHANNEL: &str = "IT";

/// A node for one test, with its data directory (removed when dropped).
pub(crate) struct TestNode {
    pub(crate) handle: NodeHandle,
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
    /// Kept alive (and removed on drop) with the node.
    _dir: tempfile::TempDir,
}

/// The test configuration: fast retries, a short `sync` wait.
pub(crate) fn test_config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::ephemeral(dir);
    config.dev = true;
    config.processing.max_backoff_secs = 0.2;
    config.processing.max_retries = 3;
    config.processing.sync_timeout_secs = 10.0;
    config
}

impl TestNode {
    /// A node with [`test_config`].
    pub(crate) async fn start() -> TestNode {
        TestNode::start_with(|_| {}).await
    }

    /// A node with [`test_config`] adjusted by `adjust`.
    pub(crate) async fn start_with(adjust: impl FnOnce(&mut NodeConfig)) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let handle = Node::builder(config).launch().await.expect("node starts");
        let url = handle.url();
        TestNode { handle, url, http: reqwest::Client::new(), _dir: dir }
    }

    /// A node launched by the test itself (its data directory is the test's to keep).
    pub(crate) fn wrap(handle: NodeHandle) -> TestNode {
        let url = handle.url();
        TestNode { handle, url, http: reqwest::Client::new(), _dir: tempfile::tempdir().expect("temp dir") }
    }

    pub(crate) async fn stop(self) {
        self.handle.shutdown().await;
    }

    /// The node's data directory.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The private key (hex) of dev account `i` of `chain`.
    fn dev_key(&self, chain: &str, i: usize) -> String {
        let accounts = self.handle.dev_accounts().expect("dev mode");
        accounts
            .accounts
            .iter()
            .filter(|a| a.chain == chain)
            .nth(i)
            .expect("dev account")
            .private_key_hex
            .clone()
    }

    pub(crate) fn eth(&self, i: usize) -> EthereumSigner {
        EthereumSigner::from_hex(&self.dev_key("ETH", i)).expect("eth key")
    }

    pub(crate) fn sol(&self, i: usize) -> SolanaSigner {
        SolanaSigner::from_seed(&key32(&self.dev_key("SOL", i)))
    }

    pub(crate) fn tezos(&self, i: usize) -> TezosSigner {
        TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &key32(&self.dev_key("TEZOS", i)))
            .expect("tezos key")
    }

    /// The API router over this node's pipeline, for `oneshot` requests.
    pub(crate) fn router(&self) -> axum::Router {
        aleph_node::router(AppState::new(self.handle.pipeline().clone(), None, "it"))
    }

    /// `POST /api/v0/messages` with `{"sync": sync, "message": m}`.
    pub(crate) async fn submit(&self, m: &PendingMessage, sync: bool) -> (StatusCode, Value) {
        self.submit_value(json!({"sync": sync, "message": m})).await
    }

    pub(crate) async fn submit_value(&self, body: Value) -> (StatusCode, Value) {
        let resp =
            self.http.post(format!("{}/api/v0/messages", self.url)).json(&body).send().await.expect("submit");
        read(resp).await
    }

    /// Submits with `sync: true` and asserts the message was processed.
    pub(crate) async fn submit_ok(&self, m: &PendingMessage) {
        let (status, body) = self.submit(m, true).await;
        assert_eq!(status, StatusCode::OK, "{} not processed: {body}", m.item_hash);
        assert_eq!(body["message_status"], "processed");
    }

    /// `GET` a path; JSON bodies are parsed, others returned as a JSON string.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self.http.get(format!("{}{path}", self.url)).send().await.expect("get");
        read(resp).await
    }

    /// `GET` a path that must answer 200 with JSON.
    pub(crate) async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `GET /api/v0/messages/{hash}` until its status is `status` (10 s at most).
    pub(crate) async fn wait_status(&self, hash: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (code, body) = self.get(&format!("/api/v0/messages/{hash}")).await;
            if code == StatusCode::OK && body["status"] == status {
                return body;
            }
            assert!(Instant::now() < deadline, "{hash} never reached {status}: last {code} {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the next pipeline event about `hash` on `events` (10 s at most).
    pub(crate) async fn next_event(
        events: &mut tokio::sync::broadcast::Receiver<Event>,
        hash: &str,
    ) -> Event {
        let wait = async {
            loop {
                match events.recv().await {
                    Ok(e) if e.item_hash() == hash => return e,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(e) => panic!("event stream closed: {e}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await.expect("an event in time")
    }
}

/// Sends a request through the router.
pub(crate) async fn oneshot(router: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router.clone().oneshot(request).await.expect("router answers");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    (status, body.to_vec())
}

pub(crate) async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn key32(hex_key: &str) -> [u8; 32] {
    hex::decode(hex_key).expect("hex").try_into().expect("32 bytes")
}

/// Now, in float seconds.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64()
}

/// An inline message of `message_type` with `content` (address and time are added when absent),
/// signed by `signer`, on `channel`.
pub(crate) fn sign_on(
    signer: &dyn Signer,
    message_type: MessageType,
    mut content: Value,
    channel: &str,
) -> PendingMessage {
    let obj = content.as_object_mut().expect("content is an object");
    obj.entry("address").or_insert_with(|| json!(signer.address()));
    obj.entry("time").or_insert_with(|| json!(now()));
    signer
        .sign(UnsignedMessage::inline(message_type, content.to_string(), now(), Some(channel.to_owned())))
        .expect("sign")
}

/// [`sign_on`] on [`CHANNEL`].
pub(crate) fn sign(signer: &dyn Signer, message_type: MessageType, content: Value) -> PendingMessage {
    sign_on(signer, message_type, content, CHANNEL)
}

/// A POST of `post_type` with `body`.
pub(crate) fn post(signer: &dyn Signer, post_type: &str, body: Value) -> PendingMessage {
    sign(signer, MessageType::Post, json!({"type": post_type, "content": body}))
}

/// An AGGREGATE `key` ← `body`, at content time `time`.
pub(crate) fn aggregate(signer: &dyn Signer, key: &str, body: Value, time: f64) -> PendingMessage {
    sign(signer, MessageType::Aggregate, json!({"key": key, "content": body, "time": time}))
}

/// A FORGET of `hashes`.
pub(crate) fn forget(signer: &dyn Signer, hashes: &[&str]) -> PendingMessage {
    sign(signer, MessageType::Forget, json!({"hashes": hashes, "reason": "test"}))
}

/// A STORE of the file `file_hash` (sha256 → storage, CID → ipfs).
pub(crate) fn store(signer: &dyn Signer, file_hash: &str) -> PendingMessage {
    let item_type = if file_hash.len() == 64 { "storage" } else { "ipfs" };
    sign(signer, MessageType::Store, json!({"item_type": item_type, "item_hash": file_hash}))
}

/// Uploads `bytes` (`storage/add_file`) and STOREs them with `signer`, as an amend of the file
/// tag `amends` when given; returns the processed STORE.
pub(crate) async fn upload_and_store(
    node: &TestNode,
    signer: &dyn Signer,
    bytes: &[u8],
    amends: Option<&str>,
) -> PendingMessage {
    let url = format!("{}/api/v0/storage/add_file", node.url);
    let resp = node.http.post(url).body(bytes.to_vec()).send().await.expect("upload");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut content = json!({"item_type": "storage", "item_hash": sha256_hex(bytes)});
    if let Some(r) = amends {
        content["ref"] = json!(r);
    }
    let m = sign(signer, MessageType::Store, content);
    node.submit_ok(&m).await;
    m
}

/// The sha256 hex of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    aleph_core::ItemHash::sha256(bytes).to_string()
}

/// The sorted key set of a JSON object.
pub(crate) fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}
