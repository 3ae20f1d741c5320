//! Storage: uploads (native and IPFS, anonymous and authenticated, streamed from disk with
//! progress) and downloads checked against their sha256 or CID.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aleph_core::cid::{Cid, CidBuilder};
use aleph_core::{ItemHash, PendingMessage, Signer};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{AlephClient, SubmitMode};
use crate::compose::{MessageBuilder, StorageEngine};
use crate::error::{ClientError, Result};
use crate::http::{check, http_error, json_of, Idempotency};
use crate::types::{FileMetadata, Submitted, UploadResponse};

/// Transfer progress: bytes done so far, and the total when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes sent or received.
    pub done: u64,
    /// The total, when known.
    pub total: Option<u64>,
}

/// A progress callback (called from the transfer task, once per chunk).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How a STORE is published by [`AlephClient::create_store`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Native storage (default; authenticated upload of file and message together) or IPFS.
    pub engine: StorageEngine,
    /// `ref`: a previous STORE to revise, or a name.
    pub reference: Option<String>,
    /// The MIME type.
    pub content_type: Option<String>,
    /// The channel.
    pub channel: Option<String>,
    /// The owner, when acting on behalf of another address.
    pub owner: Option<String>,
    /// Free-form metadata.
    pub metadata: Option<Value>,
    /// The payment (`{"type": "credit"}`, …).
    pub payment: Option<Value>,
    /// How the message is submitted.
    pub mode: SubmitMode,
}

impl StoreOptions {
    /// The defaults: native storage, asynchronous submission.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores on IPFS instead of native storage.
    #[must_use]
    pub fn ipfs(mut self) -> Self {
        self.engine = StorageEngine::Ipfs;
        self
    }

    /// Sets `ref`.
    #[must_use]
    pub fn reference(mut self, r: impl Into<String>) -> Self {
        self.reference = Some(r.into());
        self
    }

    /// Sets the MIME type.
    #[must_use]
    pub fn content_type(mut self, t: impl Into<String>) -> Self {
        self.content_type = Some(t.into());
        self
    }

    /// Sets the channel.
    #[must_use]
    pub fn channel(mut self, c: impl Into<String>) -> Self {
        self.channel = Some(c.into());
        self
    }

    /// Acts on behalf of `owner`.
    #[must_use]
    pub fn on_behalf_of(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Sets the submission mode.
    #[must_use]
    pub fn mode(mut self, mode: SubmitMode) -> Self {
        self.mode = mode;
        self
    }

    /// The STORE message builder for a file with this hash.
    pub fn message(&self, file_hash: &ItemHash) -> MessageBuilder {
        let mut b = MessageBuilder::store(file_hash);
        if let Some(r) = &self.reference {
            b = b.reference(r.clone());
        }
        if let Some(t) = &self.content_type {
            b = b.content_type(t.clone());
        }
        if let Some(c) = &self.channel {
            b = b.channel(c.clone());
        }
        if let Some(o) = &self.owner {
            b = b.on_behalf_of(o.clone());
        }
        if let Some(m) = &self.metadata {
            b = b.metadata(m.clone());
        }
        if let Some(p) = &self.payment {
            b = b.payment(p.clone());
        }
        b
    }

    /// The signed STORE of `data` in native storage, composed without the network (the file's
    /// hash is its sha256): the message [`AlephClient::create_store`] uploads with the file, for
    /// dry runs and signing offline. IPFS storage is [`ClientError::InvalidArgument`]: a file's
    /// CID there is only known once the node has added it.
    pub fn sign(&self, data: &[u8], signer: &impl Signer) -> Result<PendingMessage> {
        if self.engine == StorageEngine::Ipfs {
            return Err(ClientError::InvalidArgument(
                "the hash of a file stored on IPFS is only known once it is uploaded".into(),
            ));
        }
        self.message(&ItemHash::sha256(data)).build(signer)
    }
}

/// Checks bytes as they stream against a sha256 item hash or a CID.
#[derive(Debug)]
pub(crate) enum Verifier {
    Sha256(Sha256, ItemHash),
    Cid(Box<CidBuilder>, Cid, ItemHash),
}

impl Verifier {
    pub(crate) fn new(hash: &ItemHash) -> Result<Self> {
        if hash.is_sha256() {
            return Ok(Verifier::Sha256(Sha256::new(), hash.clone()));
        }
        let cid: Cid = hash
            .as_str()
            .parse()
            .map_err(|e| ClientError::InvalidArgument(format!("item hash {hash} is not a CID: {e}")))?;
        let builder = CidBuilder::for_cid(&cid).map_err(|e| ClientError::InvalidArgument(e.to_string()))?;
        Ok(Verifier::Cid(Box::new(builder), cid, hash.clone()))
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Verifier::Sha256(h, _) => h.update(data),
            Verifier::Cid(b, _, _) => b.update(data),
        }
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Verifier::Sha256(h, expected) => {
                let actual = ItemHash::from_digest(h.finalize().into());
                if actual == expected {
                    Ok(())
                } else {
                    Err(ClientError::IntegrityMismatch { expected, actual: actual.to_string() })
                }
            }
            Verifier::Cid(b, cid, expected) => {
                let actual = b.finish();
                if actual == cid {
                    Ok(())
                } else {
                    Err(ClientError::IntegrityMismatch { expected, actual: actual.to_string() })
                }
            }
        }
    }
}

/// The sha256 item hash and size of a file, read in chunks.
pub(crate) async fn hash_file(path: &Path) -> Result<(ItemHash, u64)> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((ItemHash::from_digest(hasher.finalize().into()), total))
}

/// A multipart part streaming `path`, reporting progress.
fn file_part(path: &Path, len: u64, progress: Option<ProgressFn>) -> Result<Part> {
    let file = tokio::fs::File::from_std(std::fs::File::open(path)?);
    let sent = Arc::new(AtomicU64::new(0));
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect_ok(move |chunk| {
        let done = sent.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
        if let Some(p) = &progress {
            p(Progress { done, total: Some(len) });
        }
    });
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    Ok(Part::stream_with_length(reqwest::Body::wrap_stream(stream), len).file_name(name))
}

impl AlephClient {
    async fn post_multipart<F>(&self, path: &str, form: F) -> Result<reqwest::Response>
    where
        F: Fn() -> Result<Form>,
    {
        self.http().send(Method::POST, path, Idempotency::ConnectOnly, |rb| Ok(rb.multipart(form()?))).await
    }

    async fn upload_answer(&self, resp: reqwest::Response, path: &str) -> Result<ItemHash> {
        let resp = check(resp, path).await?;
        let url = resp.url().to_string();
        let answer: UploadResponse = json_of(resp).await?;
        answer.hash.parse().map_err(|e| ClientError::Decode { url, reason: format!("hash: {e}") })
    }

    /// Uploads bytes to native storage without a message (kept by the node for its grace period,
    /// until a STORE pins them). Returns their sha256, checked against the node's answer.
    pub async fn upload_file(&self, data: impl Into<Bytes>) -> Result<ItemHash> {
        let data: Bytes = data.into();
        let path = "/api/v0/storage/add_file";
        let resp = self
            .post_multipart(path, || {
                Ok(Form::new().part("file", Part::stream(data.clone()).file_name("file")))
            })
            .await?;
        let hash = self.upload_answer(resp, path).await?;
        let expected = ItemHash::sha256(&data);
        if hash != expected {
            return Err(ClientError::IntegrityMismatch { expected, actual: hash.to_string() });
        }
        Ok(hash)
    }

    /// Uploads a JSON document to native storage; the node re-serializes it and returns the hash
    /// of the bytes it stores.
    pub async fn upload_json(&self, value: &Value) -> Result<ItemHash> {
        let path = "/api/v0/storage/add_json";
        let resp = self.http().post_json(path, value, Idempotency::Idempotent).await?;
        self.upload_answer(resp, path).await
    }

    /// Uploads bytes to IPFS through the node; returns their CID.
    pub async fn ipfs_upload_file(&self, data: impl Into<Bytes>) -> Result<ItemHash> {
        let data: Bytes = data.into();
        let path = "/api/v0/ipfs/add_file";
        let resp = self
            .post_multipart(path, || {
                Ok(Form::new().part("file", Part::stream(data.clone()).file_name("file")))
            })
            .await?;
        self.upload_answer(resp, path).await
    }

    /// Uploads a JSON document to IPFS through the node; returns its CID.
    pub async fn ipfs_upload_json(&self, value: &Value) -> Result<ItemHash> {
        let path = "/api/v0/ipfs/add_json";
        let resp = self.http().post_json(path, value, Idempotency::Idempotent).await?;
        self.upload_answer(resp, path).await
    }

    /// Stores `data` and publishes its STORE message. Native storage uploads file and signed
    /// message together (authenticated upload, up to 100 MiB), then submits the message as the
    /// Python SDK does; IPFS uploads the file, then publishes the message.
    pub async fn create_store<S: Signer + Sync>(
        &self,
        signer: &S,
        data: impl Into<Bytes>,
        options: &StoreOptions,
    ) -> Result<Submitted> {
        let data: Bytes = data.into();
        match options.engine {
            StorageEngine::Ipfs => {
                let cid = self.ipfs_upload_file(data).await?;
                self.publish(signer, &options.message(&cid), options.mode).await
            }
            StorageEngine::Storage => {
                let pending = options.sign(&data, signer)?;
                let metadata =
                    json!({"message": &pending, "sync": !matches!(options.mode, SubmitMode::Async)});
                let metadata = serde_json::to_string(&metadata)?;
                let path = "/api/v0/storage/add_file";
                let resp = self
                    .post_multipart(path, || {
                        Ok(Form::new()
                            .part("metadata", Part::text(metadata.clone()).mime_str("application/json")?)
                            .part("file", Part::stream(data.clone()).file_name("file")))
                    })
                    .await?;
                authenticated_upload_status(resp).await?;
                self.submit(&pending, options.mode).await
            }
        }
    }

    /// Stores the file at `path` and publishes its STORE message, streaming it from disk (it is
    /// read twice: once to hash it, once to send it) and reporting upload progress.
    pub async fn create_store_from_path<S: Signer + Sync>(
        &self,
        signer: &S,
        path: impl AsRef<Path>,
        options: &StoreOptions,
        progress: Option<ProgressFn>,
    ) -> Result<Submitted> {
        let path = path.as_ref().to_path_buf();
        let (hash, len) = hash_file(&path).await?;
        let (endpoint, pending) = match options.engine {
            StorageEngine::Storage => {
                ("/api/v0/storage/add_file", Some(options.message(&hash).build(signer)?))
            }
            StorageEngine::Ipfs => ("/api/v0/ipfs/add_file", None),
        };
        let metadata = match &pending {
            Some(p) => Some(serde_json::to_string(
                &json!({"message": p, "sync": !matches!(options.mode, SubmitMode::Async)}),
            )?),
            None => None,
        };
        let resp = self
            .post_multipart(endpoint, || {
                let mut form = Form::new();
                if let Some(m) = &metadata {
                    form = form.part("metadata", Part::text(m.clone()).mime_str("application/json")?);
                }
                Ok(form.part("file", file_part(&path, len, progress.clone())?))
            })
            .await?;
        match pending {
            Some(pending) => {
                authenticated_upload_status(resp).await?;
                self.submit(&pending, options.mode).await
            }
            None => {
                let cid = self.upload_answer(resp, endpoint).await?;
                self.publish(signer, &options.message(&cid), options.mode).await
            }
        }
    }

    /// Opens the raw download of a file (`GET /api/v0/storage/raw/{hash}`), retried.
    async fn raw(&self, hash: &ItemHash) -> Result<reqwest::Response> {
        let path = format!("/api/v0/storage/raw/{hash}");
        let resp = self.http().send(Method::GET, &path, Idempotency::Idempotent, Ok).await?;
        check(resp, &path).await
    }

    /// Downloads a file into memory, checked against its sha256 or CID.
    pub async fn download(&self, hash: &ItemHash) -> Result<Bytes> {
        let resp = self.raw(hash).await?;
        let mut verifier = Verifier::new(hash)?;
        let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0).min(64 << 20) as usize);
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            verifier.update(&chunk);
            out.extend_from_slice(&chunk);
        }
        verifier.finish()?;
        Ok(out.into())
    }

    /// Downloads a file to `dest`, streamed and checked against its sha256 or CID: the bytes go
    /// to `dest` + `.part` and are renamed into place only when they match. Returns the size.
    pub async fn download_to_file(
        &self,
        hash: &ItemHash,
        dest: impl AsRef<Path>,
        progress: Option<ProgressFn>,
    ) -> Result<u64> {
        let dest = dest.as_ref();
        let resp = self.raw(hash).await?;
        let total = resp.content_length();
        let mut part_name = dest.as_os_str().to_owned();
        part_name.push(".part");
        let part = PathBuf::from(part_name);
        let result = async {
            let mut file = tokio::fs::File::create(&part).await?;
            let mut verifier = Verifier::new(hash)?;
            let mut done = 0u64;
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                verifier.update(&chunk);
                file.write_all(&chunk).await?;
                done += chunk.len() as u64;
                if let Some(p) = &progress {
                    p(Progress { done, total });
                }
            }
            file.flush().await?;
            file.sync_all().await?;
            verifier.finish()?;
            Ok::<_, ClientError>(done)
        }
        .await;
        match result {
            Ok(done) => {
                tokio::fs::rename(&part, dest).await?;
                Ok(done)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    /// The metadata of a stored file.
    pub async fn file_metadata(&self, hash: &ItemHash) -> Result<FileMetadata> {
        self.http().get_json(&format!("/api/v0/storage/metadata/{hash}"), &[]).await
    }
}

/// Reads the answer of an authenticated upload: 200/202 are fine, 402 means the account cannot
/// pay, 422 that the message was refused.
async fn authenticated_upload_status(resp: reqwest::Response) -> Result<()> {
    match resp.status() {
        s if s.is_success() => Ok(()),
        StatusCode::UNPROCESSABLE_ENTITY => {
            Err(ClientError::InvalidMessage(resp.text().await.unwrap_or_default()))
        }
        StatusCode::NOT_FOUND => Err(ClientError::NotFound { what: "/api/v0/storage/add_file".into() }),
        _ => Err(http_error(resp).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_accept_the_right_bytes_only() {
        let data = b"hello world";
        let mut v = Verifier::new(&ItemHash::sha256(data)).unwrap();
        v.update(&data[..5]);
        v.update(&data[5..]);
        v.finish().unwrap();
        let mut v = Verifier::new(&ItemHash::sha256(data)).unwrap();
        v.update(b"hello");
        assert!(matches!(v.finish(), Err(ClientError::IntegrityMismatch { .. })));

        let cid: ItemHash = aleph_core::cid::cid_v0(data).parse().unwrap();
        let mut v = Verifier::new(&cid).unwrap();
        v.update(data);
        v.finish().unwrap();
        let mut v = Verifier::new(&cid).unwrap();
        v.update(b"other");
        assert!(v.finish().is_err());
    }

    #[test]
    fn native_stores_sign_offline_ipfs_ones_cannot() {
        let signer = aleph_core::chain::ethereum::EthereumSigner::from_hex(&"ac".repeat(32)).unwrap();
        let options = StoreOptions::new().content_type("text/plain").channel("TEST");
        let m = options.sign(b"hello", &signer).unwrap();
        aleph_core::verify_signature(&m.signed_fields()).unwrap();
        let content: Value = serde_json::from_str(m.item_content.as_deref().unwrap()).unwrap();
        assert_eq!(content["item_hash"], ItemHash::sha256(b"hello").as_str());
        assert_eq!(content["content_type"], "text/plain");
        assert_eq!(m.channel.as_deref(), Some("TEST"));
        assert!(matches!(options.ipfs().sign(b"hello", &signer), Err(ClientError::InvalidArgument(_))));
    }

    #[tokio::test]
    async fn files_hash_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data = vec![7u8; 600_000];
        std::fs::write(&p, &data).unwrap();
        let (h, n) = hash_file(&p).await.unwrap();
        assert_eq!(h, ItemHash::sha256(&data));
        assert_eq!(n, 600_000);
    }
}
