//! Files: uploads in every form (raw, multipart, multipart with a signed STORE message, JSON,
//! IPFS), STORE messages over them, downloads (raw, HEAD, base64), the file views, refs, and
//! garbage collection.

use std::time::{Duration, Instant};

use aleph_core::{ItemHash, MessageType, Signer, UnsignedMessage};
use axum::http::StatusCode;
use base64::Engine;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::common::*;

/// `echo "hello world" | ipfs add` (CIDv0, kubo defaults).
const HELLO_WORLD_CID: &str = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";

async fn upload_raw(node: &TestNode, bytes: &[u8]) -> (StatusCode, Value) {
    let resp = node
        .http
        .post(format!("{}/api/v0/storage/add_file", node.url))
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    read(resp).await
}

async fn upload_form(node: &TestNode, path: &str, form: Form) -> (StatusCode, Value) {
    let resp = node.http.post(format!("{}{path}", node.url)).multipart(form).send().await.unwrap();
    read(resp).await
}

fn file_part(bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec()).file_name("hello.txt").mime_str("text/plain").unwrap()
}

/// The signed STORE message the SDK sends in `metadata` with an authenticated upload.
fn metadata(message: &aleph_core::PendingMessage, sync: bool) -> Part {
    Part::text(json!({"message": message, "sync": sync}).to_string()).mime_str("application/json").unwrap()
}

#[tokio::test]
async fn raw_upload_then_store_then_download() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let bytes = b"raw file content\n".repeat(10);
    let (status, body) = upload_raw(&node, &bytes).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hash = sha256_hex(&bytes);
    assert_eq!(body, json!({"status": "success", "hash": hash}));

    let m = store(&owner, &hash);
    node.submit_ok(&m).await;
    // Download, and HEAD with the same headers and no body.
    let resp = node.http.get(format!("{}/api/v0/storage/raw/{hash}", node.url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.headers()["content-length"], bytes.len().to_string().as_str());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);
    let head = node.http.head(format!("{}/api/v0/storage/raw/{hash}", node.url)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], bytes.len().to_string().as_str());
    assert!(head.bytes().await.unwrap().is_empty());

    // The file views.
    let meta = node.get_ok(&format!("/api/v0/storage/metadata/{hash}")).await;
    assert_eq!(meta["size"], bytes.len());
    assert_eq!(meta["download_url"], format!("/api/v0/storage/raw/{hash}"));
    let by_msg = node.get_ok(&format!("/api/v0/storage/by-message-hash/{}", m.item_hash)).await;
    assert_eq!(by_msg["file_hash"], hash.as_str());
    assert_eq!(by_msg["owner"], owner.address());
    assert_eq!(by_msg["ref"], m.item_hash.as_str());
    let by_ref = node.get_ok(&format!("/api/v0/storage/by-ref/{}", m.item_hash)).await;
    assert_eq!(by_ref["file_hash"], hash.as_str());
    assert_eq!(node.get_ok(&format!("/api/v0/storage/count/{hash}")).await, json!(1));
    let files = node.get_ok(&format!("/api/v0/addresses/{}/files", owner.address())).await;
    assert_eq!(files["total_size"], bytes.len());
    assert_eq!(files["files"][0]["file_hash"], hash.as_str());
    assert_eq!(files["files"][0]["item_hash"], m.item_hash.as_str());
    assert_eq!(files["files"][0]["type"], "file");
    assert_eq!(keys(&files["files"][0]), ["created", "file_hash", "item_hash", "size", "type"]);
    let (status, _) = node.get(&format!("/api/v0/addresses/{}/files", node.eth(1).address())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no files: 404");
    // The STORE message is listed with its file hash.
    let listed = node.get_ok(&format!("/api/v0/messages.json?msgTypes=STORE&contentHashes={hash}")).await;
    assert_eq!(listed["messages"][0]["item_hash"], m.item_hash.as_str());
    node.stop().await;
}

#[tokio::test]
async fn unknown_files_and_bad_hashes() {
    let node = TestNode::start().await;
    let unknown = sha256_hex(b"never uploaded");
    for path in [
        format!("/api/v0/storage/raw/{unknown}"),
        format!("/api/v0/storage/{unknown}"),
        format!("/api/v0/storage/metadata/{unknown}"),
        format!("/api/v0/storage/by-message-hash/{unknown}"),
        format!("/api/v0/storage/by-ref/{unknown}"),
    ] {
        let (status, body) = node.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    for path in ["/api/v0/storage/raw/nothex", "/api/v0/storage/not-a-hash", "/api/v0/storage/metadata/zz"] {
        let (status, body) = node.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.as_str().is_some_and(|s| s.contains("400")), "{body}");
    }
    // A user-defined ref needs its owner.
    let (status, _) = node.get("/api/v0/storage/by-ref/my-file").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(node.get_ok(&format!("/api/v0/storage/count/{unknown}")).await, json!(0));
    let limits = node.get_ok("/api/v0/storage/limits.json").await;
    assert_eq!(limits["storage"]["max_file_size"], 100 << 20);
    assert_eq!(limits["storage"]["max_unauthenticated_upload_file_size"], 25 << 20);
    assert_eq!(limits["ipfs"]["max_upload_file_size"], 1 << 30);
    node.stop().await;
}

#[tokio::test]
async fn base64_content_is_mime_style() {
    let node = TestNode::start().await;
    let bytes: Vec<u8> = (0..200u8).collect();
    let (_, body) = upload_raw(&node, &bytes).await;
    let hash = body["hash"].as_str().unwrap().to_owned();
    let got = node.get_ok(&format!("/api/v0/storage/{hash}")).await;
    assert_eq!(got["status"], "success");
    assert_eq!(got["hash"], hash.as_str());
    assert_eq!(got["engine"], "storage");
    let content = got["content"].as_str().unwrap();
    // A newline every 76 characters and one at the end, as Python's base64.encodebytes.
    let lines: Vec<&str> = content.split_terminator('\n').collect();
    assert!(content.ends_with('\n'));
    assert_eq!(lines.iter().map(|l| l.len()).collect::<Vec<_>>(), [76, 76, 76, 40]);
    let decoded = base64::engine::general_purpose::STANDARD.decode(lines.concat()).unwrap();
    assert_eq!(decoded, bytes);
    node.stop().await;
}

#[tokio::test]
async fn multipart_uploads_with_and_without_a_store_message() {
    let node = TestNode::start().await;
    let owner = node.sol(0);
    // Unauthenticated multipart.
    let anon = b"anonymous multipart".to_vec();
    let (status, body) =
        upload_form(&node, "/api/v0/storage/add_file", Form::new().part("file", file_part(&anon))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hash"], sha256_hex(&anon));

    // Authenticated: `metadata` (a signed STORE message) first, then `file`, as the SDK sends them.
    let bytes = b"authenticated upload".to_vec();
    let hash = sha256_hex(&bytes);
    let m = store(&owner, &hash);
    let form = Form::new().part("metadata", metadata(&m, true)).part("file", file_part(&bytes));
    let (status, body) = upload_form(&node, "/api/v0/storage/add_file", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "success", "hash": hash}));
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await["status"], "processed");
    // The SDK then broadcasts the same message with sync: it is known, so the answer is immediate.
    let t = Instant::now();
    let (status, _) = node.submit(&m, true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t.elapsed() < Duration::from_secs(3));

    // Without sync: 202, processed soon after.
    let bytes2 = b"authenticated, async".to_vec();
    let m2 = store(&owner, &sha256_hex(&bytes2));
    let form = Form::new().part("metadata", metadata(&m2, false)).part("file", file_part(&bytes2));
    let (status, _) = upload_form(&node, "/api/v0/storage/add_file", form).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    node.wait_status(m2.item_hash.as_str(), "processed").await;

    // The file hash must match the message: 422, nothing stored.
    let wrong = store(&owner, &sha256_hex(b"something else"));
    let other_bytes = b"not what the message says".to_vec();
    let form = Form::new().part("metadata", metadata(&wrong, true)).part("file", file_part(&other_bytes));
    let (status, body) = upload_form(&node, "/api/v0/storage/add_file", form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = node.get(&format!("/api/v0/storage/raw/{}", sha256_hex(&other_bytes))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A bad signature: 403.
    let mut forged = store(&owner, &sha256_hex(&other_bytes));
    forged.signature = m.signature.clone();
    let form = Form::new().part("metadata", metadata(&forged, true)).part("file", file_part(&other_bytes));
    let (status, body) = upload_form(&node, "/api/v0/storage/add_file", form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Metadata that is not JSON, or has no message: 422. No file part: 400.
    let form = Form::new().part("metadata", Part::text("{not json")).part("file", file_part(&other_bytes));
    assert_eq!(
        upload_form(&node, "/api/v0/storage/add_file", form).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = Form::new().part("metadata", Part::text("{}")).part("file", file_part(&other_bytes));
    assert_eq!(
        upload_form(&node, "/api/v0/storage/add_file", form).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = Form::new().part("metadata", metadata(&m, true));
    assert_eq!(upload_form(&node, "/api/v0/storage/add_file", form).await.0, StatusCode::BAD_REQUEST);
    node.stop().await;
}

#[tokio::test]
async fn json_uploads_serve_the_bytes_they_hash_and_carry_message_content() {
    let node = TestNode::start().await;
    let owner = node.eth(0);
    // Stored compact with sorted keys; the hash is of those bytes.
    let content =
        json!({"type": "big", "time": now(), "address": owner.address(), "content": {"z": 1, "a": [1, 2]}});
    let resp =
        node.http.post(format!("{}/api/v0/storage/add_json", node.url)).json(&content).send().await.unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hash = body["hash"].as_str().unwrap().to_owned();
    let resp = node.http.get(format!("{}/api/v0/storage/raw/{hash}", node.url)).send().await.unwrap();
    let served = resp.bytes().await.unwrap();
    assert_eq!(sha256_hex(&served), hash);
    assert_eq!(serde_json::from_slice::<Value>(&served).unwrap(), content);
    let text = String::from_utf8(served.to_vec()).unwrap();
    assert!(
        !text.contains(' ') && text.find("\"address\"") < text.find("\"type\""),
        "compact, sorted: {text}"
    );

    // A POST whose content lives in storage.
    let item_hash: ItemHash = hash.parse().unwrap();
    let m = owner
        .sign(UnsignedMessage::stored(MessageType::Post, item_hash, now(), Some(CHANNEL.into())))
        .unwrap();
    assert_eq!(m.item_type.as_str(), "storage");
    node.submit_ok(&m).await;
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["message"]["item_type"], "storage");
    assert_eq!(one["message"]["content"]["content"], json!({"z": 1, "a": [1, 2]}));
    assert_eq!(one["message"]["item_content"], Value::Null);

    // The same through IPFS: a CIDv0.
    let content2 =
        json!({"type": "big", "time": now(), "address": owner.address(), "content": {"via": "ipfs"}});
    let resp =
        node.http.post(format!("{}/api/v0/ipfs/add_json", node.url)).json(&content2).send().await.unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cid = body["hash"].as_str().unwrap().to_owned();
    assert!(cid.starts_with("Qm") && cid.len() == 46, "{cid}");
    let m2 = owner
        .sign(UnsignedMessage::stored(MessageType::Post, cid.parse().unwrap(), now(), Some(CHANNEL.into())))
        .unwrap();
    assert_eq!(m2.item_type.as_str(), "ipfs");
    node.submit_ok(&m2).await;
    let posts = node.get_ok(&format!("/api/v0/posts.json?hashes={}", m2.item_hash)).await;
    assert_eq!(posts["posts"][0]["content"], json!({"via": "ipfs"}));
    assert_eq!(posts["posts"][0]["item_type"], "ipfs");
    // A message whose stored content is not there yet: retried (code 3), then rejected.
    let missing: ItemHash = sha256_hex(b"{\"not\": \"uploaded\"}").parse().unwrap();
    let m3 =
        owner.sign(UnsignedMessage::stored(MessageType::Post, missing, now(), Some(CHANNEL.into()))).unwrap();
    node.submit(&m3, false).await;
    let rejected = node.wait_status(m3.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 3, "{rejected}");
    // Stored content that is not a valid content document: 0.
    let garbage = b"this is not JSON".to_vec();
    let resp = node
        .http
        .post(format!("{}/api/v0/storage/add_file", node.url))
        .body(garbage.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bad: ItemHash = sha256_hex(&garbage).parse().unwrap();
    let m4 =
        owner.sign(UnsignedMessage::stored(MessageType::Post, bad, now(), Some(CHANNEL.into()))).unwrap();
    let (status, _) = node.submit(&m4, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", m4.item_hash)).await["error_code"], 0);
    // Not JSON: 422.
    let resp =
        node.http.post(format!("{}/api/v0/storage/add_json", node.url)).body("{oops").send().await.unwrap();
    assert_eq!(resp.status(), 422);
    node.stop().await;
}

#[tokio::test]
async fn ipfs_file_uploads_and_stores() {
    let node = TestNode::start().await;
    let owner = node.tezos(0);
    let bytes = b"hello world\n".to_vec();
    let (status, body) =
        upload_form(&node, "/api/v0/ipfs/add_file", Form::new().part("file", file_part(&bytes))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "success", "hash": HELLO_WORLD_CID, "name": "hello.txt", "size": 12}));
    // Authenticated IPFS upload of another file.
    let bytes2 = b"ipfs with a message".to_vec();
    let cid2 = aleph_core::cid::cid_v0(&bytes2);
    let m = store(&owner, &cid2);
    let form = Form::new().part("metadata", metadata(&m, true)).part("file", file_part(&bytes2));
    let (status, body) = upload_form(&node, "/api/v0/ipfs/add_file", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hash"], cid2.as_str());
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["message"]["content"]["item_type"], "ipfs");
    // And a STORE of the first (anonymous) upload.
    node.submit_ok(&store(&owner, HELLO_WORLD_CID)).await;
    let resp =
        node.http.get(format!("{}/api/v0/storage/raw/{HELLO_WORLD_CID}", node.url)).send().await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);
    assert_eq!(node.get_ok(&format!("/api/v0/storage/{HELLO_WORLD_CID}")).await["engine"], "ipfs");
    // ipfs/add_file takes only multipart forms.
    let resp = node
        .http
        .post(format!("{}/api/v0/ipfs/add_file", node.url))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    node.stop().await;
}

#[tokio::test]
async fn a_store_waits_for_its_file() {
    let node = TestNode::start_with(|c| c.processing.max_retries = 200).await;
    let bytes = b"late file".to_vec();
    let m = store(&node.eth(0), &sha256_hex(&bytes));
    let mut events = node.handle.pipeline().subscribe();
    node.submit(&m, false).await;
    let e = TestNode::next_event(&mut events, m.item_hash.as_str()).await;
    assert!(matches!(e, aleph_node::Event::Retry { .. }), "code 4 is retried: {e:?}");
    upload_raw(&node, &bytes).await;
    node.wait_status(m.item_hash.as_str(), "processed").await;
    node.stop().await;
}

#[tokio::test]
async fn a_store_whose_file_never_comes_is_rejected_4() {
    let node = TestNode::start().await;
    let m = store(&node.eth(0), &sha256_hex(b"never"));
    node.submit(&m, false).await;
    let rejected = node.wait_status(m.item_hash.as_str(), "rejected").await;
    assert_eq!(rejected["error_code"], 4, "{rejected}");
    node.stop().await;
}

#[tokio::test]
async fn store_refs_name_revisions_and_user_tags() {
    let node = TestNode::start().await;
    let (owner, other) = (node.eth(0), node.eth(1));
    let mut hashes = Vec::new();
    for i in 0..4 {
        let bytes = format!("version {i}").into_bytes();
        upload_raw(&node, &bytes).await;
        hashes.push(sha256_hex(&bytes));
    }
    let with_ref = |s: &dyn Signer, file: &str, r: &str, t: f64| {
        sign(s, MessageType::Store, json!({"item_type": "storage", "item_hash": file, "ref": r, "time": t}))
    };
    let t = now();
    // A user-defined ref: tag "{owner}/config", the newest by content time wins.
    node.submit_ok(&with_ref(&owner, &hashes[1], "config", t + 2.0)).await;
    node.submit_ok(&with_ref(&owner, &hashes[0], "config", t + 1.0)).await;
    let by_ref = node.get_ok(&format!("/api/v0/storage/by-ref/{}/config", owner.address())).await;
    assert_eq!(by_ref["file_hash"], hashes[1].as_str(), "{by_ref}");
    assert_eq!(by_ref["ref"], "config");
    // Another owner's "config" is another tag.
    node.submit_ok(&with_ref(&other, &hashes[2], "config", t)).await;
    let theirs = node.get_ok(&format!("/api/v0/storage/by-ref/{}/config", other.address())).await;
    assert_eq!(theirs["file_hash"], hashes[2].as_str());
    // A revision of a STORE: ref = its hash.
    let base = store(&owner, &hashes[0]);
    node.submit_ok(&base).await;
    let rev = with_ref(&owner, &hashes[3], base.item_hash.as_str(), t + 5.0);
    node.submit_ok(&rev).await;
    let latest = node.get_ok(&format!("/api/v0/storage/by-ref/{}", base.item_hash)).await;
    assert_eq!(latest["file_hash"], hashes[3].as_str());
    // Revising a revision: 201. Revising an unknown STORE: 200 (retried, then rejected).
    let rev2 = with_ref(&owner, &hashes[2], rev.item_hash.as_str(), t + 6.0);
    node.submit(&rev2, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", rev2.item_hash)).await["error_code"], 201);
    let dangling = with_ref(&owner, &hashes[2], &sha256_hex(b"no store"), t + 7.0);
    node.submit(&dangling, false).await;
    assert_eq!(node.wait_status(dangling.item_hash.as_str(), "rejected").await["error_code"], 200);
    // Someone else revising the owner's STORE: 2.
    let foreign = with_ref(&other, &hashes[1], base.item_hash.as_str(), t + 8.0);
    node.submit(&foreign, true).await;
    assert_eq!(node.get_ok(&format!("/api/v0/messages/{}", foreign.item_hash)).await["error_code"], 2);
    node.stop().await;
}

#[tokio::test]
async fn upload_limits_answer_413() {
    let node = TestNode::start_with(|c| {
        c.limits.max_unauthenticated_upload = 1000;
        c.limits.max_upload = 4000;
        c.limits.max_ipfs_upload = 4000;
    })
    .await;
    let big = vec![7u8; 2000];
    assert_eq!(upload_raw(&node, &big).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let form = Form::new().part("file", file_part(&big));
    assert_eq!(upload_form(&node, "/api/v0/storage/add_file", form).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let form = Form::new().part("file", file_part(&big));
    assert_eq!(upload_form(&node, "/api/v0/ipfs/add_file", form).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let doc = json!({"blob": "x".repeat(2000)});
    let resp =
        node.http.post(format!("{}/api/v0/storage/add_json", node.url)).json(&doc).send().await.unwrap();
    assert_eq!(resp.status(), 413);
    // With a signed message the authenticated limit applies.
    let m = store(&node.eth(0), &sha256_hex(&big));
    let form = Form::new().part("metadata", metadata(&m, true)).part("file", file_part(&big));
    assert_eq!(upload_form(&node, "/api/v0/storage/add_file", form).await.0, StatusCode::OK);
    let huge = vec![8u8; 5000];
    let m = store(&node.eth(0), &sha256_hex(&huge));
    let form = Form::new().part("metadata", metadata(&m, true)).part("file", file_part(&huge));
    assert_eq!(upload_form(&node, "/api/v0/storage/add_file", form).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    // Still serving.
    assert_eq!(node.get("/api/v0/version").await.0, StatusCode::OK);
    node.stop().await;
}

#[tokio::test]
async fn unreferenced_files_are_collected_after_their_grace_period() {
    let node = TestNode::start_with(|c| {
        c.processing.file_grace_period_secs = 1.5;
        c.processing.gc_interval_secs = 0.1;
    })
    .await;
    let owner = node.eth(0);
    let (kept, dropped, forgotten) = (b"kept".to_vec(), b"dropped".to_vec(), b"forgotten".to_vec());
    for f in [&kept, &dropped, &forgotten] {
        upload_raw(&node, f).await;
    }
    let keep = store(&owner, &sha256_hex(&kept));
    let gone = store(&owner, &sha256_hex(&forgotten));
    node.submit_ok(&keep).await;
    node.submit_ok(&gone).await;
    node.submit_ok(&forget(&owner, &[gone.item_hash.as_str()])).await;
    let raw = |b: &[u8]| format!("/api/v0/storage/raw/{}", sha256_hex(b));
    // Within the grace period, everything is still there.
    for f in [&kept, &dropped, &forgotten] {
        assert_eq!(node.get(&raw(f)).await.0, StatusCode::OK);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.get(&raw(&dropped)).await.0 != StatusCode::NOT_FOUND
        || node.get(&raw(&forgotten)).await.0 != StatusCode::NOT_FOUND
    {
        assert!(Instant::now() < deadline, "unreferenced files were never collected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(node.get(&raw(&kept)).await.0, StatusCode::OK, "a stored file is kept");
    node.stop().await;
}

#[tokio::test]
async fn address_files_in_cursor_pages() {
    // The cursor mode the official Rust CLI's `file list` reads: `created` in epoch seconds, a
    // `next_cursor` instead of page totals, 404 for an empty page.
    let node = TestNode::start().await;
    let owner = node.eth(0);
    let mut stores = Vec::new();
    for i in 0..3 {
        stores.push(upload_and_store(&node, &owner, format!("cursor file {i}").as_bytes(), None).await);
    }
    let base = format!("/api/v0/addresses/{}/files", owner.address());
    let first = node.get_ok(&format!("{base}?cursor=&pagination=2")).await;
    assert_eq!(keys(&first), ["address", "files", "next_cursor", "pagination_per_page", "total_size"]);
    assert_eq!(first["address"], owner.address());
    assert_eq!(first["pagination_per_page"], 2);
    let total: u64 = (0..3).map(|i| format!("cursor file {i}").len() as u64).sum();
    assert_eq!(first["total_size"], total);
    let files = first["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f["created"].is_f64()), "{first}");
    assert_eq!(keys(&files[0]), ["created", "file_hash", "item_hash", "size", "type"]);
    // Newest first, then the rest from the cursor.
    assert_eq!(files[0]["item_hash"], stores[2].item_hash.as_str());
    assert_eq!(files[1]["item_hash"], stores[1].item_hash.as_str());
    let cursor = first["next_cursor"].as_str().expect("a next cursor");
    let rest = node.get_ok(&format!("{base}?cursor={cursor}&pagination=2")).await;
    assert_eq!(rest["files"].as_array().unwrap().len(), 1);
    assert_eq!(rest["files"][0]["item_hash"], stores[0].item_hash.as_str());
    assert_eq!(rest["next_cursor"], Value::Null);
    // Oldest first.
    let oldest = node.get_ok(&format!("{base}?cursor=&sort_order=1")).await;
    let order: Vec<&str> =
        oldest["files"].as_array().unwrap().iter().map(|f| f["item_hash"].as_str().unwrap()).collect();
    assert_eq!(order, stores.iter().map(|m| m.item_hash.as_str()).collect::<Vec<_>>());
    assert_eq!(oldest["next_cursor"], Value::Null);
    // One file by hash; the totals still cover every file of the address.
    let hash = sha256_hex(b"cursor file 1");
    let one = node.get_ok(&format!("{base}?cursor=&file_hash={hash}")).await;
    assert_eq!(one["files"].as_array().unwrap().len(), 1);
    assert_eq!(one["total_size"], total);
    // Page mode keeps its shape, with ISO times.
    let paged = node.get_ok(&format!("{base}?pagination=2&page=2")).await;
    assert_eq!(paged["pagination_total"], 3);
    assert!(paged["files"][0]["created"].is_string());
    assert_eq!(node.get(&format!("{base}?pagination=2&page=3")).await.0, StatusCode::NOT_FOUND);
    // Empty, and bad cursor parameters.
    let nobody = format!("/api/v0/addresses/{}/files?cursor=", node.eth(3).address());
    assert_eq!(node.get(&nobody).await.0, StatusCode::NOT_FOUND);
    assert_eq!(node.get(&format!("{base}?cursor=&pagination=0")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(node.get(&format!("{base}?cursor=not-a-cursor")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    node.stop().await;
}

#[tokio::test]
async fn add_json_keeps_numbers_as_written() {
    let node = TestNode::start().await;
    let body = r#"{"z": 1.10, "big": 123456789012345678901234567890, "neg": -98765432109876543210,
                  "tiny": 0.1000000000000000055511151231257827, "list": [1e400, 2.50]}"#;
    let expected = r#"{"big":123456789012345678901234567890,"list":[1e400,2.50],"neg":-98765432109876543210,"tiny":0.1000000000000000055511151231257827,"z":1.10}"#;
    for engine in ["storage", "ipfs"] {
        let resp = node
            .http
            .post(format!("{}/api/v0/{engine}/add_json", node.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let hash = resp.json::<Value>().await.unwrap()["hash"].as_str().unwrap().to_owned();
        let stored = node.http.get(format!("{}/api/v0/storage/raw/{hash}", node.url)).send().await.unwrap();
        assert_eq!(stored.text().await.unwrap(), expected, "{engine}: the stored document");
        let named = if engine == "storage" {
            sha256_hex(expected.as_bytes())
        } else {
            aleph_core::cid::cid_v0(expected.as_bytes())
        };
        assert_eq!(hash, named, "{engine}: the hash is of the stored bytes");
    }
    node.stop().await;
}
