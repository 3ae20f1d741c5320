//! Storage: uploads in every form, verified downloads, programs packaged from a directory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aleph_sdk::core::Signer;
use aleph_sdk::{InstanceSpec, ItemHash, Progress, ProgressFn, StoreOptions, SubmitMode};
use serde_json::json;

use crate::common::{TestNode, WAIT};

fn file_hash_of(m: &aleph_sdk::Message) -> ItemHash {
    m.content
        .as_ref()
        .and_then(|c| c["item_hash"].as_str())
        .and_then(|h| h.parse().ok())
        .expect("STORE content")
}

#[tokio::test]
async fn upload_store_download() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let mode = SubmitMode::WaitProcessed(WAIT);

    let anon = c.upload_file(b"anonymous bytes".to_vec()).await.unwrap();
    assert_eq!(&c.download(&anon).await.unwrap()[..], b"anonymous bytes");
    let json_hash = c.upload_json(&json!({"b": 1, "a": 2})).await.unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&c.download(&json_hash).await.unwrap()).unwrap();
    assert_eq!(stored, json!({"a": 2, "b": 1}));

    let data = b"hello aleph".repeat(1000);
    let sent = c
        .create_store(&signer, data.clone(), &StoreOptions::new().content_type("text/plain").mode(mode))
        .await
        .unwrap();
    let m = c.get_message(sent.item_hash()).await.unwrap();
    let h = file_hash_of(&m);
    assert_eq!(h, ItemHash::sha256(&data));
    assert_eq!(c.download(&h).await.unwrap().to_vec(), data);
    let meta = c.file_metadata(&h).await.unwrap();
    assert_eq!(meta.size, data.len() as u64);
    let files = c.get_account_files(signer.address(), 1, 20).await.unwrap();
    assert!(files.files.iter().any(|f| f.file_hash == h.as_str()));
    // The same files in cursor pages of one, newest first, with ISO times.
    let (mut walked, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = c.get_account_files_cursor(signer.address(), cursor.as_deref(), 1).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.items[0].created.as_deref().is_some_and(|t| t.ends_with('Z')), "{:?}", page.items[0]);
        walked.push(page.items[0].file_hash.clone());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, files.files.iter().map(|f| f.file_hash.clone()).collect::<Vec<_>>());

    // Streamed from disk with progress, then streamed back to disk.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &big).unwrap();
    let sent_bytes = Arc::new(AtomicU64::new(0));
    let s = sent_bytes.clone();
    let progress: ProgressFn = Arc::new(move |p: Progress| {
        s.store(p.done, Ordering::SeqCst);
    });
    let sent = c
        .create_store_from_path(&signer, &src, &StoreOptions::new().mode(mode), Some(progress))
        .await
        .unwrap();
    assert_eq!(sent_bytes.load(Ordering::SeqCst), big.len() as u64);
    let h = file_hash_of(&c.get_message(sent.item_hash()).await.unwrap());
    let dest = dir.path().join("back.bin");
    assert_eq!(c.download_to_file(&h, &dest, None).await.unwrap(), big.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), big);
    node.stop().await;
}

#[tokio::test]
async fn ipfs_uploads() {
    let node = TestNode::start().await;
    let c = &node.client;
    let cid = c.ipfs_upload_file(b"ipfs bytes".to_vec()).await.unwrap();
    assert!(cid.as_str().starts_with("Qm"));
    assert_eq!(&c.download(&cid).await.unwrap()[..], b"ipfs bytes");
    let cid = c.ipfs_upload_json(&json!({"k": "v"})).await.unwrap();
    assert!(cid.as_str().starts_with("Qm"));
    let signer = node.eth(0);
    let sent = c
        .create_store(
            &signer,
            b"on ipfs".to_vec(),
            &StoreOptions::new().ipfs().mode(SubmitMode::WaitProcessed(WAIT)),
        )
        .await
        .unwrap();
    c.get_message(sent.item_hash()).await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn program_from_a_directory_and_instance() {
    let node = TestNode::start().await;
    let c = &node.client;
    let signer = node.eth(0);
    let mode = SubmitMode::WaitProcessed(WAIT);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), "async def app(scope, receive, send): pass\n").unwrap();
    // The program's runtime must exist on this node: store one and point the program at it.
    let runtime =
        c.create_store(&signer, b"runtime image".to_vec(), &StoreOptions::new().mode(mode)).await.unwrap();
    let runtime_hash = runtime.item_hash().to_string();
    let published = c
        .create_program(&signer, dir.path(), "main:app", |spec| spec.runtime = runtime_hash.clone(), mode)
        .await
        .unwrap();
    let program = c.get_message(published.program.item_hash()).await.unwrap();
    assert_eq!(program.content.unwrap()["code"]["ref"], published.code.item_hash().as_str());

    let rootfs = c.create_store(&signer, vec![0u8; 1024], &StoreOptions::new().mode(mode)).await.unwrap();
    let mut spec = InstanceSpec::new();
    spec.rootfs = rootfs.item_hash().to_string();
    spec.payment = json!({"type": "credit"});
    spec.rootfs_size_mib = 1024;
    spec.ssh_keys = vec!["ssh-ed25519 AAAA test".into()];
    let instance = c.create_instance(&signer, &spec, mode).await.unwrap();
    c.get_message(instance.item_hash()).await.unwrap();
    node.stop().await;
}
