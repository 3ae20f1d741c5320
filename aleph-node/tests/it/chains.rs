//! The chain bridges against a real local EVM chain (anvil, from the npm package scripts/test
//! installs) running the project's own sync contract and ERC-20 (aleph-node/tests/contracts),
//! and the Tezos reader against a GraphQL stand-in for the indexer (no Tezos indexer runs here).
#![cfg_attr(not(aleph_anvil), allow(dead_code, unused_imports))]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain_sync::{archive_json, archive_reference_json, OnChainMessage};
use aleph_core::{PendingMessage, Signer};
use aleph_node::config::P2pConfig;
use aleph_node::config::{EvmChainConfig, TezosConfig, TokenConfig};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use axum::http::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::common::*;

/// anvil's first accounts (its default mnemonic): the deployer, the authorized emitter, a
/// stranger.
const KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

alloy::sol! {
    function doEmit(string message);
    function doMessage(string msgtype, string msgcontent);
    function post(string msgtype, string msgcontent);
    function transfer(address to, uint256 value);
}

/// A local chain for one test (killed when dropped).
struct Anvil {
    child: Child,
    url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Anvil {
    async fn start() -> Anvil {
        Anvil::start_on(free_port()).await
    }

    async fn start_on(port: u16) -> Anvil {
        let Some(bin) = option_env!("ALEPH_ANVIL_BIN") else {
            panic!("anvil is not installed (scripts/test installs it)")
        };
        let child = Command::new(bin)
            // No historical states: nothing is written under ~/.foundry (100,000 mined blocks left
            // gigabytes of them there).
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--silent", "--prune-history"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin} does not start: {e} (scripts/test installs it)"));
        let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(20);
        while anvil.provider(0).get_block_number().await.is_err() {
            assert!(Instant::now() < deadline, "anvil did not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anvil
    }

    /// A provider signing with account `i`.
    fn provider(&self, i: usize) -> DynProvider {
        let signer: PrivateKeySigner = KEYS[i].parse().unwrap();
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.url.parse().unwrap())
            .erased()
    }

    /// Deploys `name` (compiled bytecode in tests/contracts/out) with `args` from account 0.
    async fn deploy(&self, name: &str, args: Vec<u8>) -> Address {
        let path = format!("{}/tests/contracts/out/{name}.bin", env!("CARGO_MANIFEST_DIR"));
        let mut code = hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        code.extend(args);
        let tx = TransactionRequest::default().with_deploy_code(code);
        let receipt = self.provider(0).send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
        assert!(receipt.status(), "{name} deployment reverted");
        receipt.contract_address.expect("a contract address")
    }

    /// Sends `input` to `to` from account `from`; returns (tx hash, block).
    async fn call(&self, from: usize, to: Address, input: Vec<u8>) -> (String, u64) {
        let tx = TransactionRequest::default().with_to(to).with_input(input);
        let receipt = self.provider(from).send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
        assert!(receipt.status(), "transaction reverted");
        (receipt.transaction_hash.to_string(), receipt.block_number.unwrap())
    }

    async fn emit(&self, from: usize, contract: Address, payload: &str) -> (String, u64) {
        self.call(from, contract, doEmitCall { message: payload.into() }.abi_encode()).await
    }

    async fn mine(&self, blocks: u64) {
        let p = self.provider(0);
        let _: Value = p.raw_request("anvil_mine".into(), (U256::from(blocks),)).await.unwrap();
    }
}

/// A fresh key, as the node's signer and as alloy's.
fn wallet() -> (EthereumSigner, PrivateKeySigner) {
    let key = PrivateKeySigner::random();
    (EthereumSigner::from_bytes(&key.to_bytes().0).unwrap(), key)
}

fn address_of(i: usize) -> Address {
    KEYS[i].parse::<PrivateKeySigner>().unwrap().address()
}

fn evm_config(rpc_url: &str, contract: Address) -> EvmChainConfig {
    EvmChainConfig {
        chain: "ETH".into(),
        rpc_url: rpc_url.into(),
        sync_contract: contract.to_string(),
        authorized_emitters: vec![address_of(1).to_string()],
        confirmation_depth: 0,
        poll_interval_secs: 0.2,
        ..EvmChainConfig::default()
    }
}

fn on_chain(m: &PendingMessage) -> OnChainMessage {
    serde_json::from_value(serde_json::to_value(m).unwrap()).unwrap()
}

fn inline_batch(messages: &[Value]) -> String {
    json!({"protocol": "aleph", "version": 1, "content": {"messages": messages}}).to_string()
}

/// The shared vectors' message signed by the official Python SDK (aleph-sdk-python 2.3.0).
fn sdk_signed(name: &str) -> Value {
    let dir = std::env::var("ALEPH_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors").into());
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/sdk-generated.json")).unwrap())
            .expect("the shared vectors");
    let all = doc["vectors"].as_array().unwrap().iter().chain(doc["negatives"].as_array().unwrap());
    all.into_iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("vector {name}"))["message"].clone()
}

async fn wait_for<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `hash` is processed with a confirmation; returns the message.
async fn confirmed(node: &TestNode, hash: &str) -> Value {
    wait_for(&format!("{hash} confirmed"), 30, async || {
        let (code, body) = node.get(&format!("/api/v0/messages/{hash}")).await;
        (code == StatusCode::OK && body["status"] == "processed" && body["message"]["confirmed"] == true)
            .then_some(body["message"].clone())
    })
    .await
}

async fn chains_status(node: &TestNode) -> Value {
    node.get_ok("/api/v0/chains/status").await
}

async fn skipped_reasons(node: &TestNode) -> Vec<String> {
    chains_status(node).await["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
#[cfg_attr(not(aleph_anvil), ignore = "anvil is not installed (scripts/test installs it)")]
async fn sync_events_and_contract_messages_are_processed_with_their_confirmations() {
    let anvil = Anvil::start().await;
    let sync = anvil.deploy("AlephSync_sol_AlephSync", Vec::new()).await;
    let caller = anvil.deploy("AlephSync_sol_SyncCaller", sync.abi_encode()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let config = evm_config(&anvil.url, sync);
    let start = |c: EvmChainConfig| {
        let data = data.clone();
        TestNode::start_with(move |n| {
            n.data_dir = data;
            n.chains.evm.push(c);
        })
    };
    let node = start(config.clone()).await;

    // Already processed through the API: it only gains the confirmation later.
    let early = post(&EthereumSigner::random(), "chain-test", json!({"n": 0}));
    node.submit_ok(&early).await;
    assert_eq!(
        node.get_ok(&format!("/api/v0/messages/{}", early.item_hash)).await["message"]["confirmed"],
        false
    );

    // An `aleph` batch: ours, the official SDK's, the early one, a bad signature, a bad envelope.
    let ours = post(&EthereumSigner::random(), "chain-test", json!({"n": 1}));
    let sdk = sdk_signed("sdk-ETH-POST-inline");
    let forged = sdk_signed("neg-ETH-sig-byte-flipped");
    let mut garbled =
        serde_json::to_value(on_chain(&post(&EthereumSigner::random(), "x", json!({})))).unwrap();
    garbled["item_type"] = json!("carrier-pigeon");
    let batch = vec![
        serde_json::to_value(on_chain(&ours)).unwrap(),
        sdk.clone(),
        serde_json::to_value(on_chain(&early)).unwrap(),
        forged.clone(),
        garbled.clone(),
    ];
    let (tx1, height1) = anvil.emit(1, sync, &inline_batch(&batch)).await;
    let m = confirmed(&node, ours.item_hash.as_str()).await;
    assert_eq!(m["confirmations"], json!([{"chain": "ETH", "hash": tx1, "height": height1}]));
    let sdk_hash = sdk["item_hash"].as_str().unwrap();
    assert_eq!(confirmed(&node, sdk_hash).await["confirmations"][0]["hash"], tx1);
    assert_eq!(confirmed(&node, early.item_hash.as_str()).await["confirmations"][0]["hash"], tx1);
    // The forged copy of the SDK message is rejected: code 1 (its hash is the processed one's,
    // so look at the garbled one's rejection for code 0).
    let garbled_hash = garbled["item_hash"].as_str().unwrap();
    let rejected = node.wait_status(garbled_hash, "rejected").await;
    assert_eq!(rejected["error_code"], 0, "{rejected}");

    // A forged message of its own hash: rejected with code 1.
    let mut forged_own =
        serde_json::to_value(on_chain(&post(&EthereumSigner::random(), "x", json!({"f": 1})))).unwrap();
    forged_own["signature"] = forged["signature"].clone();
    // An unauthorized emitter's batch is ignored.
    let stranger = post(&EthereumSigner::random(), "chain-test", json!({"n": 2}));
    anvil.emit(2, sync, &inline_batch(&[serde_json::to_value(on_chain(&stranger)).unwrap()])).await;
    // Malformed payloads are skipped with the reason.
    anvil.emit(1, sync, "not json").await;
    anvil.emit(1, sync, r#"{"protocol":"aleph","version":9,"content":{}}"#).await;
    anvil.emit(1, sync, &inline_batch(&[forged_own.clone()])).await;
    let forged_hash = forged_own["item_hash"].as_str().unwrap();
    assert_eq!(node.wait_status(forged_hash, "rejected").await["error_code"], 1);

    // An archive (`aleph-offchain`): the node has the file (uploaded to it), referenced by CID.
    let archived = post(&EthereumSigner::random(), "chain-test", json!({"n": 3}));
    // With ones the official SDK signed for Solana and Tezos.
    let sdk_sol = sdk_signed("sdk-SOL-POST-inline");
    let sdk_tezos = sdk_signed("sdk-TEZOS-AGGREGATE-inline");
    let from_sdk: Vec<OnChainMessage> =
        [&sdk_sol, &sdk_tezos].iter().map(|v| serde_json::from_value((*v).clone()).unwrap()).collect();
    let archive = archive_json(&[vec![on_chain(&archived)], from_sdk].concat());
    let form = Form::new().part("file", Part::bytes(archive.clone().into_bytes()).file_name("archive.json"));
    let resp =
        node.http.post(format!("{}/api/v0/ipfs/add_file", node.url)).multipart(form).send().await.unwrap();
    let (code, body) = read(resp).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let cid = body["hash"].as_str().unwrap().to_owned();
    assert_eq!(cid, aleph_core::cid::cid_v0(archive.as_bytes()));
    let (tx2, _) = anvil.emit(1, sync, &archive_reference_json(&cid)).await;
    assert_eq!(confirmed(&node, archived.item_hash.as_str()).await["confirmations"][0]["hash"], tx2);
    for v in [&sdk_sol, &sdk_tezos] {
        let m = confirmed(&node, v["item_hash"].as_str().unwrap()).await;
        assert_eq!(m["confirmations"][0]["hash"], tx2);
        assert_eq!(m["signature"], v["signature"]);
    }

    // A contract calls `doMessage`: a smart-contract message whose sender is the contract.
    let who = caller.to_string();
    let content =
        json!({"type": "from-contract", "address": who, "time": 1.0, "content": {"hello": "chain"}})
            .to_string();
    let (tx3, _) = anvil
        .call(0, caller, postCall { msgtype: "POST".into(), msgcontent: content.clone() }.abi_encode())
        .await;
    let contract_hash = aleph_core::ItemHash::sha256(content.as_bytes()).to_string();
    let m = confirmed(&node, &contract_hash).await;
    assert_eq!(m["sender"], who);
    assert_eq!(m["signature"], Value::Null);
    assert_eq!(m["confirmations"][0]["hash"], tx3);
    // The stranger's batch never arrives; the reasons are recorded.
    let (code, _) = node.get(&format!("/api/v0/messages/{}", stranger.item_hash)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let reasons = skipped_reasons(&node).await;
    for expected in
        ["not an authorized emitter", "not a sync payload", "unknown sync protocol", "bad message"]
    {
        assert!(reasons.iter().any(|r| r.contains(expected)), "no {expected:?} in {reasons:?}");
    }

    // Filters on confirmation heights, and the tx-time order.
    let listed =
        node.get_ok(&format!("/api/v0/messages.json?endBlock={}&channels={CHANNEL}", height1 + 1)).await;
    let hashes: Vec<&str> =
        listed["messages"].as_array().unwrap().iter().map(|m| m["item_hash"].as_str().unwrap()).collect();
    assert!(
        hashes.contains(&ours.item_hash.as_str()) && !hashes.contains(&archived.item_hash.as_str()),
        "{hashes:?}"
    );
    // The same heights through the SDK's filter, as it sends them.
    let client = aleph_sdk::AlephClient::new(&node.url).unwrap();
    for (filter, wanted, unwanted) in [
        (aleph_sdk::MessageFilter::new().end_block(height1 + 1), &ours, &archived),
        (aleph_sdk::MessageFilter::new().start_block(height1 + 1), &archived, &ours),
    ] {
        let page = client.get_messages(&filter.channel(CHANNEL), 1, 100).await.unwrap();
        let got: Vec<&aleph_core::ItemHash> = page.messages.iter().map(|m| &m.item_hash).collect();
        assert!(got.contains(&&wanted.item_hash) && !got.contains(&&unwanted.item_hash), "{got:?}");
    }
    let by_tx =
        node.get_ok(&format!("/api/v0/messages.json?sortBy=tx-time&sortOrder=1&channels={CHANNEL}")).await;
    let order: Vec<&str> =
        by_tx["messages"].as_array().unwrap().iter().map(|m| m["item_hash"].as_str().unwrap()).collect();
    let pos = |h: &str| order.iter().position(|x| *x == h).unwrap();
    assert!(pos(ours.item_hash.as_str()) < pos(archived.item_hash.as_str()), "{order:?}");
    // Posts too: by the original's earliest confirmation; unconfirmed ones come last when
    // ascending and first when descending, as the reference orders them.
    let unconfirmed = post(&EthereumSigner::random(), "chain-test", json!({"n": 5}));
    node.submit_ok(&unconfirmed).await;
    let mut post_orders = Vec::new();
    for direction in ["1", "-1"] {
        let page = node
            .get_ok(&format!("/api/v0/posts.json?types=chain-test&sortBy=tx-time&sortOrder={direction}"))
            .await;
        let order: Vec<String> = page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["item_hash"].as_str().unwrap().to_owned())
            .collect();
        post_orders.push(order);
    }
    let [asc, desc] = &post_orders[..] else { unreachable!() };
    // A v0 post shows its confirmations as the message does.
    let v0 = node.get_ok(&format!("/api/v0/posts.json?hashes={}", ours.item_hash)).await;
    assert_eq!(v0["posts"][0]["confirmed"], true, "{v0}");
    assert_eq!(v0["posts"][0]["confirmations"], json!([{"chain": "ETH", "hash": tx1, "height": height1}]));
    let v0 = node.get_ok(&format!("/api/v0/posts.json?hashes={}", unconfirmed.item_hash)).await;
    assert_eq!(
        (v0["posts"][0]["confirmed"].clone(), v0["posts"][0]["confirmations"].clone()),
        (json!(false), json!([]))
    );
    let at = |order: &[String], h: &aleph_core::ItemHash| order.iter().position(|x| x == h.as_str()).unwrap();
    assert_eq!(asc.len(), 4, "{asc:?}");
    assert!(at(asc, &ours.item_hash) < at(asc, &archived.item_hash), "{asc:?}");
    assert_eq!(asc.last().map(String::as_str), Some(unconfirmed.item_hash.as_str()), "{asc:?}");
    assert!(at(desc, &archived.item_hash) < at(desc, &ours.item_hash), "{desc:?}");
    assert_eq!(desc.first().map(String::as_str), Some(unconfirmed.item_hash.as_str()), "{desc:?}");
    let (code, _) = node.get("/api/v0/posts.json?sortBy=tx-time&cursor=").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);

    // Restart: the reader resumes after its last height; nothing is read twice.
    let status = chains_status(&node).await;
    let position = status["positions"][0]["height"].as_u64().unwrap();
    node.stop().await;
    let after = post(&EthereumSigner::random(), "chain-test", json!({"n": 4}));
    let (tx4, _) =
        anvil.emit(1, sync, &inline_batch(&[serde_json::to_value(on_chain(&after)).unwrap()])).await;
    let node = start(config).await;
    assert_eq!(confirmed(&node, after.item_hash.as_str()).await["confirmations"][0]["hash"], tx4);
    let m = node.get_ok(&format!("/api/v0/messages/{}", ours.item_hash)).await;
    assert_eq!(m["message"]["confirmations"].as_array().unwrap().len(), 1, "{m}");
    let status = chains_status(&node).await;
    assert!(status["positions"][0]["height"].as_u64().unwrap() > position, "{status}");
    assert_eq!(status["readers"][0]["consecutive_failures"], 0, "{status}");
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(not(aleph_anvil), ignore = "anvil is not installed (scripts/test installs it)")]
async fn an_unreachable_rpc_is_retried_and_shown_until_it_answers() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // The contract address anvil's account 0 deploys to first.
    let sync = address_of(0).create(0);
    let config = evm_config(&url, sync);
    let node = TestNode::start_with(move |n| n.chains.evm.push(config)).await;
    let status = wait_for("a failure on record", 20, async || {
        let s = chains_status(&node).await;
        (s["readers"][0]["consecutive_failures"].as_u64() >= Some(1)).then_some(s)
    })
    .await;
    assert!(status["readers"][0]["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{status}");
    let (_, metrics) = node.get("/metrics").await;
    assert!(
        metrics.as_str().unwrap().contains("aleph_node_chain_failing{chain=\"ETH\",kind=\"sync\"} 1"),
        "{metrics}"
    );
    let (_, page) = node.get("/").await;
    assert!(page.as_str().unwrap().contains("failing ("), "the status page shows the failure");
    // The RPC comes up: the reader recovers and reads.
    let anvil = Anvil::start_on(port).await;
    assert_eq!(anvil.deploy("AlephSync_sol_AlephSync", Vec::new()).await, sync);
    let m = post(&EthereumSigner::random(), "chain-test", json!({"late": true}));
    anvil.emit(1, sync, &inline_batch(&[serde_json::to_value(on_chain(&m)).unwrap()])).await;
    confirmed(&node, m.item_hash.as_str()).await;
    let status = chains_status(&node).await;
    assert_eq!(status["readers"][0]["consecutive_failures"], 0, "{status}");
    assert_eq!(status["readers"][0]["last_error"], Value::Null, "{status}");
    node.stop().await;
}

/// An RPC stand-in in front of anvil: refuses `eth_getLogs` over more than `max` blocks with
/// -32005, as public providers do, and records the ranges asked.
struct RangeLimiter {
    url: String,
    ranges: Arc<Mutex<Vec<(u64, u64, bool)>>>,
}

async fn range_limiter(upstream: String, max: u64) -> RangeLimiter {
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    let http = reqwest::Client::new();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (seen, http, upstream) = (seen.clone(), http.clone(), upstream.clone());
            async move {
                if body["method"] == "eth_getLogs" {
                    let p = &body["params"][0];
                    let n = |k: &str| {
                        u64::from_str_radix(p[k].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)
                            .unwrap()
                    };
                    let (from, to) = (n("fromBlock"), n("toBlock"));
                    let refused = to - from + 1 > max;
                    seen.lock().unwrap().push((from, to, refused));
                    if refused {
                        return axum::Json(json!({"jsonrpc": "2.0", "id": body["id"],
                            "error": {"code": -32005, "message": "query returned more than 10000 results"}}));
                    }
                }
                let answer: Value =
                    http.post(&upstream).json(&body).send().await.unwrap().json().await.unwrap();
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    RangeLimiter { url: format!("http://{addr}"), ranges }
}

#[tokio::test]
#[cfg_attr(not(aleph_anvil), ignore = "anvil is not installed (scripts/test installs it)")]
async fn a_refused_range_halves_the_window_and_depth_holds_back_the_head() {
    let anvil = Anvil::start().await;
    let sync = anvil.deploy("AlephSync_sol_AlephSync", Vec::new()).await;
    anvil.mine(40).await;
    let m = post(&EthereumSigner::random(), "chain-test", json!({"window": true}));
    let (tx, _) = anvil.emit(1, sync, &inline_batch(&[serde_json::to_value(on_chain(&m)).unwrap()])).await;
    let limiter = range_limiter(anvil.url.clone(), 8).await;
    let mut config = evm_config(&limiter.url, sync);
    config.max_block_range = 100;
    config.confirmation_depth = 5;
    let node = TestNode::start_with(move |n| n.chains.evm.push(config)).await;
    // The batch is 5 blocks deep only once 5 blocks follow it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (code, _) = node.get(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "read before it was {} blocks deep", 5);
    anvil.mine(5).await;
    assert_eq!(confirmed(&node, m.item_hash.as_str()).await["confirmations"][0]["hash"], tx);
    let ranges = limiter.ranges.lock().unwrap().clone();
    // Refused while wider than 8 blocks (100, 50, 25, 12), then windows of 6 from the start,
    // contiguous, none reaching past head − 5 before the head moved.
    let refused: Vec<u64> = ranges.iter().filter(|r| r.2).map(|r| r.1 - r.0 + 1).collect();
    assert!(refused.len() >= 4 && refused.iter().all(|w| *w > 8), "{ranges:?}");
    let served: Vec<_> = ranges.iter().filter(|r| !r.2).collect();
    assert!(served.iter().all(|r| r.1 - r.0 < 8), "{ranges:?}");
    assert!(served.windows(2).all(|w| w[1].0 == w[0].1 + 1), "windows overlap or leave gaps: {ranges:?}");
    assert_eq!(served.first().unwrap().0, 0);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(not(aleph_anvil), ignore = "anvil is not installed (scripts/test installs it)")]
async fn a_packing_node_emits_batches_that_a_reading_node_confirms_alike() {
    let anvil = Anvil::start().await;
    let sync = anvil.deploy("AlephSync_sol_AlephSync", Vec::new()).await;
    let mut writer = evm_config(&anvil.url, sync);
    writer.publisher_key = Some(KEYS[1].into());
    writer.commit_interval_secs = 0.5;
    let a = TestNode::start_with(move |n| n.chains.evm.push(writer)).await;
    let a_url = a.url.clone();
    let reader = evm_config(&anvil.url, sync);
    let b = TestNode::start_with(move |n| {
        n.chains.evm.push(reader);
        n.p2p = Some(P2pConfig { http_peers: vec![a_url], ..P2pConfig::local() });
    })
    .await;
    let messages: Vec<PendingMessage> =
        (0..3).map(|i| post(&EthereumSigner::random(), "packed", json!({"i": i}))).collect();
    for m in &messages {
        a.submit_ok(m).await;
    }
    for m in &messages {
        let on_a = confirmed(&a, m.item_hash.as_str()).await;
        let on_b = confirmed(&b, m.item_hash.as_str()).await;
        assert_eq!(on_a["confirmations"], on_b["confirmations"]);
        assert_eq!(on_a["item_content"], on_b["item_content"]);
    }
    // One transaction carried them (they were submitted before the first commit).
    let first = confirmed(&a, messages[0].item_hash.as_str()).await["confirmations"][0]["hash"].clone();
    let last = confirmed(&a, messages[2].item_hash.as_str()).await["confirmations"][0]["hash"].clone();
    assert_eq!(first, last);
    let status = chains_status(&a).await;
    let publish =
        status["readers"].as_array().unwrap().iter().find(|r| r["kind"] == "publish").unwrap().clone();
    assert!(publish["transactions"].as_u64().unwrap() >= 1, "{status}");
    // Confirmed messages are not emitted again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = chains_status(&a).await;
    let publish2 =
        again["readers"].as_array().unwrap().iter().find(|r| r["kind"] == "publish").unwrap().clone();
    assert_eq!(publish["transactions"], publish2["transactions"], "{again}");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
#[cfg_attr(not(aleph_anvil), ignore = "anvil is not installed (scripts/test installs it)")]
async fn token_transfers_set_the_balances_payment_uses() {
    let anvil = Anvil::start().await;
    let supply = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18));
    let token = anvil.deploy("TestToken_sol_TestToken", supply.abi_encode()).await;
    let (publisher, publisher_alloy) = wallet();
    let publisher_key = hex::encode(publisher_alloy.to_bytes());
    let node_url = anvil.url.clone();
    let publisher_address = publisher.address().to_owned();
    let node = TestNode::start_with(move |n| {
        n.limits.max_unauthenticated_upload = 1000;
        n.balance_senders.push(publisher_address);
        n.chains.token = Some(TokenConfig {
            rpc_url: node_url,
            token_contract: token.to_string(),
            confirmation_depth: 0,
            poll_interval_secs: 0.2,
            signer_key: Some(publisher_key),
            ..TokenConfig::default()
        });
    })
    .await;
    let (wallet, wallet_alloy) = wallet();
    let who: Address = wallet.address().parse().unwrap();
    // A large file, uploaded by a funded dev account; the wallet's STORE of it is paid.
    let upload = async |bytes: Vec<u8>| {
        let mine = store(&node.eth(0), &sha256_hex(&bytes));
        let form = Form::new()
            .part("metadata", Part::text(json!({"message": mine, "sync": true}).to_string()))
            .part("file", Part::bytes(bytes.clone()).file_name("f"));
        let resp = node
            .http
            .post(format!("{}/api/v0/storage/add_file", node.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        store(&wallet, &sha256_hex(&bytes))
    };
    let before = upload(vec![7u8; 40_000]).await;
    let (code, body) = node.submit(&before, true).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", before.item_hash)).await["error_code"], 5);

    // 1,000 ALEPH reach the wallet on chain.
    let thousand = U256::from(1000u64) * U256::from(10u64).pow(U256::from(18));
    anvil.call(0, token, transferCall { to: who, value: thousand }.abi_encode()).await;
    let balance = wait_for("the balance", 30, async || {
        let b = node.get_ok(&format!("/api/v0/addresses/{}/balance", wallet.address())).await;
        (b["balance"].as_f64() == Some(1000.0)).then_some(b)
    })
    .await;
    assert_eq!(balance["balance"], 1000.0, "{balance}");
    let after = upload(vec![8u8; 40_000]).await;
    node.submit_ok(&after).await;
    // The deployer's balance is what is left of the supply.
    let deployer = node.get_ok(&format!("/api/v0/addresses/{}/balance", address_of(0))).await;
    assert_eq!(deployer["balance"], 999_000.0, "{deployer}");

    // The balances were published as a signed balances-update POST.
    let posts = wait_for("a balances-update post", 30, async || {
        let p = node
            .get_ok(&format!("/api/v0/posts.json?types=balances-update&addresses={}", publisher.address()))
            .await;
        (!p["posts"].as_array().unwrap().is_empty()).then_some(p)
    })
    .await;
    let balances = &posts["posts"][0]["content"]["balances"];
    assert!(
        balances.get(wallet.address()).is_some() || posts["posts"].as_array().unwrap().len() > 1,
        "{posts}"
    );

    // The wallet sends it all away: paid writes are refused again.
    fund_gas_and_send_back(&anvil, wallet_alloy, token, thousand).await;
    wait_for("the balance to drop", 30, async || {
        let b = node.get_ok(&format!("/api/v0/addresses/{}/balance", wallet.address())).await;
        (b["balance"].as_f64() == Some(0.0)).then_some(())
    })
    .await;
    let refused = upload(vec![9u8; 40_000]).await;
    let (code, body) = node.submit(&refused, true).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", refused.item_hash)).await["error_code"], 5);
    node.stop().await;
}

/// Gives `wallet` some ether for gas, then sends `value` tokens from it back to account 0.
async fn fund_gas_and_send_back(anvil: &Anvil, signer: PrivateKeySigner, token: Address, value: U256) {
    let who = signer.address();
    let gas = TransactionRequest::default().with_to(who).with_value(U256::from(10u64).pow(U256::from(17)));
    anvil.provider(0).send_transaction(gas).await.unwrap().get_receipt().await.unwrap();
    let p =
        ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.url.parse().unwrap());
    let tx = TransactionRequest::default()
        .with_to(token)
        .with_input(transferCall { to: address_of(0), value }.abi_encode());
    let r = p.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status());
}

/// A stand-in for the Tezos indexer's GraphQL API (an external service that cannot run here):
/// it answers the two query shapes the reader sends, from a list of events.
async fn tezos_indexer(contract: &'static str, events: Vec<Value>) -> (String, Arc<AtomicU64>) {
    let queries = Arc::new(AtomicU64::new(0));
    let counter = queries.clone();
    let events = Arc::new(events);
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (events, counter) = (events.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                let q = body["query"].as_str().unwrap_or("").to_owned();
                if !q.contains("events(") {
                    return axum::Json(json!({"data": {"indexStatus": {"status": "synced"}}}));
                }
                let arg = |name: &str| -> usize {
                    let at = q.find(&format!("{name}: ")).unwrap() + name.len() + 2;
                    q[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
                };
                assert!(q.contains(&format!("source: \"{contract}\"")) && q.contains("type: \"MessageEvent\""), "{q}");
                let (limit, skip) = (arg("limit"), arg("skip"));
                let page: Vec<Value> = events.iter().skip(skip).take(limit).cloned().collect();
                axum::Json(json!({"data": {
                    "indexStatus": {"oldestBlock": "2022-01-01T00:00:00Z", "recentBlock": "2026-12-04T00:00:00Z", "status": "synced"},
                    "stats": {"totalEvents": events.len()},
                    "events": page,
                }}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), queries)
}

#[tokio::test]
async fn tezos_message_events_come_through_the_indexer_in_pages() {
    const CONTRACT: &str = "KT1FfEoaNvooDfYrP61Ykct6L8z7w7e2pgnT";
    let sender = "tz1SmGHzna3YhKropa3WudVq72jhTPDBn4r5";
    let mut events = Vec::new();
    let mut hashes = Vec::new();
    for i in 0..130u64 {
        let content =
            json!({"type": "tezos-test", "address": sender, "time": 1.0 + i as f64, "content": {"i": i}})
                .to_string();
        hashes.push(aleph_core::ItemHash::sha256(content.as_bytes()).to_string());
        events.push(json!({
            "_id": format!("e{i}"), "source": CONTRACT, "timestamp": "2026-12-04T10:00:00.250Z",
            "blockLevel": 5_000_000 + i, "operationHash": format!("oo{i:0>49}"), "type": "MessageEvent",
            "payload": {"timestamp": 1_796_378_400.0 + i as f64, "addr": sender, "msgtype": "POST", "msgcontent": content},
        }));
    }
    // A malformed event: skipped with the reason, the rest still read.
    events.insert(
        60,
        json!({
            "_id": "bad", "source": CONTRACT, "timestamp": "2026-12-04T10:00:00Z", "blockLevel": 4_999_999,
            "operationHash": "oobad", "type": "MessageEvent", "payload": {"addr": sender},
        }),
    );
    let (url, queries) = tezos_indexer(CONTRACT, events).await;
    let node = TestNode::start_with(move |n| {
        n.chains.tezos =
            Some(TezosConfig { indexer_url: url, sync_contract: CONTRACT.into(), poll_interval_secs: 0.2 });
    })
    .await;
    for (i, h) in [(0usize, &hashes[0]), (129, &hashes[129])] {
        let m = confirmed(&node, h).await;
        assert_eq!(m["chain"], "TEZOS");
        assert_eq!(m["sender"], sender);
        assert_eq!(m["signature"], Value::Null);
        assert_eq!(m["confirmations"][0]["height"], 5_000_000 + i as u64);
        assert_eq!(m["confirmations"][0]["hash"], format!("oo{i:0>49}"));
    }
    let status = node.get_ok("/api/v0/chains/status").await;
    let position = status["positions"].as_array().unwrap().iter().find(|p| p["kind"] == "tezos").unwrap();
    assert_eq!(position["height"], 131, "{status}");
    assert!(skipped_reasons(&node).await.iter().any(|r| r.contains("without addr/msgtype/msgcontent")));
    assert!(queries.load(Ordering::Relaxed) >= 3, "pages of 100 and a status query");
    node.stop().await;
}

alloy::sol! {
    function spread(address[] to, uint256 value);
}

/// The bridges' figures for BENCHMARKS.md:
/// `cargo test --release -p aleph-node --test it chains::bench -- --ignored --nocapture`.
/// Sync of 10,000 messages from one archive (emit → all processed), RPC calls to scan 100,000
/// blocks, and indexing of 100,000 token transfers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_chain_sync() {
    let anvil = Anvil::start().await;
    let sync = anvil.deploy("AlephSync_sol_AlephSync", Vec::new()).await;

    // 10,000 signed messages in one archive.
    let n = 10_000;
    let signer = EthereumSigner::random();
    let messages: Vec<PendingMessage> = (0..n).map(|i| post(&signer, "bench", json!({"i": i}))).collect();
    let archive = archive_json(&messages.iter().map(on_chain).collect::<Vec<_>>());
    let config = evm_config(&anvil.url, sync);
    let node = TestNode::start_with(move |c| {
        c.limits.max_ipfs_upload = 64 << 20;
        c.limits.max_body_bytes = 64 << 20;
        c.chains.evm.push(config);
    })
    .await;
    let form = Form::new().part("file", Part::bytes(archive.clone().into_bytes()).file_name("a"));
    let resp =
        node.http.post(format!("{}/api/v0/ipfs/add_file", node.url)).multipart(form).send().await.unwrap();
    let cid = read(resp).await.1["hash"].as_str().unwrap().to_owned();
    let mut events = node.handle.pipeline().subscribe();
    let started = Instant::now();
    anvil.emit(1, sync, &archive_reference_json(&cid)).await;
    let mut done = 0;
    while done < n {
        match tokio::time::timeout(Duration::from_secs(120), events.recv()).await.expect("progress") {
            Ok(aleph_node::Event::Processed { .. }) => done += 1,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("sync: {n} messages from one archive in {secs:.2} s = {:.0} msg/s", n as f64 / secs);
    node.stop().await;

    // RPC calls to scan the chain, with the default window and with 1,000-block windows. anvil
    // mines empty blocks slowly (100,000 took over 7 minutes of CPU), so 20,000 stand in here.
    let t = Instant::now();
    anvil.mine(20_000).await;
    println!("scan: 20,000 blocks mined in {:.1} s", t.elapsed().as_secs_f64());
    let head = anvil.provider(0).get_block_number().await.unwrap();
    for window in [100_000u64, 1_000] {
        let mut config = evm_config(&anvil.url, sync);
        config.max_block_range = window;
        let node = TestNode::start_with(move |c| c.chains.evm.push(config)).await;
        let started = Instant::now();
        let status = wait_for("the scan", 300, async || {
            let s = chains_status(&node).await;
            (s["readers"][0]["height"].as_u64() == Some(head)).then_some(s)
        })
        .await;
        println!(
            "scan: {head} blocks, windows of {window}: {:.2} s, {} RPC calls",
            started.elapsed().as_secs_f64(),
            status["readers"][0]["rpc_calls"]
        );
        node.stop().await;
    }

    // 100,000 transfers (500 a transaction), then indexed from the token's deployment.
    let supply = U256::from(10u64).pow(U256::from(30));
    let from = anvil.provider(0).get_block_number().await.unwrap() + 1;
    let token = anvil.deploy("TestToken_sol_TestToken", supply.abi_encode()).await;
    let made = Instant::now();
    for batch in 0..200u64 {
        let to: Vec<Address> =
            (0..500u64).map(|i| Address::from_word(U256::from(batch * 500 + i + 1).into())).collect();
        anvil.call(0, token, spreadCall { to, value: U256::from(1u64) }.abi_encode()).await;
    }
    println!("token: 100,000 transfers sent in {:.1} s", made.elapsed().as_secs_f64());
    let rpc_url = anvil.url.clone();
    let node = TestNode::start_with(move |c| {
        c.chains.token = Some(TokenConfig {
            rpc_url,
            token_contract: token.to_string(),
            start_height: from,
            confirmation_depth: 0,
            poll_interval_secs: 0.1,
            ..TokenConfig::default()
        })
    })
    .await;
    let head = anvil.provider(0).get_block_number().await.unwrap();
    let started = Instant::now();
    let status = wait_for("the token index", 600, async || {
        let s = chains_status(&node).await;
        (s["readers"][0]["height"].as_u64() == Some(head)).then_some(s)
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "token: {} transfers indexed in {secs:.2} s = {:.0} transfers/s ({} RPC calls)",
        status["readers"][0]["transactions"],
        status["readers"][0]["transactions"].as_f64().unwrap() / secs,
        status["readers"][0]["rpc_calls"]
    );
    node.stop().await;
}
