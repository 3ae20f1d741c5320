//! Fetching content a node lacks from its HTTP peers (NETWORK.md §3.4): each peer's
//! `GET /api/v0/storage/{hash}` answers `{"status": "success", "content": <MIME base64>}`; the
//! bytes are used only if they hash to what was asked (sha256 hex, or the CID recomputed).

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::Value;

use super::Shared;
use crate::pipeline::ContentFetcher;
use crate::storage::BoxFuture;

/// Largest content accepted from a peer, in bytes of base64 text (a 100 MiB file).
const MAX_ENCODED: usize = 140 << 20;

/// The pipeline's content fetcher over the P2P layer's HTTP peers.
#[derive(Debug)]
pub(crate) struct HttpFetcher {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("peer_id", &self.peer_id).finish_non_exhaustive()
    }
}

impl HttpFetcher {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        HttpFetcher { shared }
    }
}

/// Whether `bytes` are what `hash` names: a sha256 hex digest or an IPFS CID.
pub(crate) fn verify_content(hash: &str, bytes: &[u8]) -> bool {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        aleph_core::ItemHash::sha256(bytes).as_str().eq_ignore_ascii_case(hash)
    } else {
        aleph_core::cid::verify_cid(bytes, hash).is_ok()
    }
}

/// Decodes a `/api/v0/storage/{hash}` answer (Python's `base64.encodebytes`: line breaks).
pub(crate) fn decode_answer(body: &Value) -> Option<Vec<u8>> {
    if body.get("status").and_then(Value::as_str) != Some("success") {
        return None;
    }
    let text = body.get("content").and_then(Value::as_str)?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

/// Why a reply body was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CappedError {
    /// The reply is longer than allowed (declared or as it arrived).
    #[error("the reply is over the {0}-byte limit")]
    TooLarge(u64),
    /// The transfer failed.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Reads a reply body of at most `max` bytes, stopping at the first chunk past it (chunked replies
/// declare no length, so the declared one is only a first check).
pub(crate) async fn read_capped(mut resp: reqwest::Response, max: u64) -> Result<Vec<u8>, CappedError> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(CappedError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(CappedError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn fetch_from(http: &reqwest::Client, base: &str, hash: &str) -> Option<Bytes> {
    let url = format!("{}/api/v0/storage/{hash}", base.trim_end_matches('/'));
    let resp = http.get(&url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let body = match read_capped(resp, MAX_ENCODED as u64).await {
        Ok(body) => body,
        Err(e) => {
            tracing::debug!(peer = base, hash, error = %e, "content not fetched");
            return None;
        }
    };
    let json: Value = serde_json::from_slice(&body).ok()?;
    let bytes = decode_answer(&json)?;
    if verify_content(hash, &bytes) {
        Some(Bytes::from(bytes))
    } else {
        tracing::warn!(peer = base, hash, "peer served content that does not match its hash");
        None
    }
}

impl ContentFetcher for HttpFetcher {
    fn fetch<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let mut peers = self.shared.http_peers();
            if peers.is_empty() {
                return None;
            }
            // Spread the load: start at a varying peer.
            let start = (super::unix_now() * 1e6) as usize % peers.len();
            peers.rotate_left(start);
            for base in peers {
                if let Some(bytes) = fetch_from(&self.shared.http, &base, hash).await {
                    self.shared.bump(|s| s.content_fetched += 1);
                    return Some(bytes);
                }
            }
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer whose reply is `chunks` chunks of 64 KiB with no Content-Length; returns its URL
    /// and a counter of the bytes it managed to send.
    async fn chunked_peer(chunks: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 1024];
            let _ = s.read(&mut head).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
            let chunk = vec![b'a'; 64 << 10];
            for _ in 0..chunks {
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if s.write_all(&frame).await.is_err() {
                    return;
                }
                counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
        });
        (url, sent)
    }

    #[tokio::test]
    async fn chunked_replies_are_capped_as_they_arrive() {
        let http = reqwest::Client::new();
        let (url, _) = chunked_peer(4).await;
        let body = read_capped(http.get(&url).send().await.unwrap(), 1 << 20).await.unwrap();
        assert_eq!(body.len(), 4 << 16);
        // 1 GiB offered, 1 MiB allowed: refused once past the cap, long before the end.
        let (url, sent) = chunked_peer(16 << 10).await;
        let refused = read_capped(http.get(&url).send().await.unwrap(), 1 << 20).await;
        assert!(matches!(refused, Err(CappedError::TooLarge(_))), "{refused:?}");
        assert!(sent.load(std::sync::atomic::Ordering::Relaxed) < 64 << 20);
    }

    #[test]
    fn answers_are_decoded_and_checked() {
        let body = serde_json::json!({"status": "success", "content": "aGVs\nbG8=\n"});
        let bytes = decode_answer(&body).unwrap();
        assert_eq!(bytes, b"hello");
        assert!(verify_content("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", &bytes));
        assert!(!verify_content("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9825", &bytes));
        let cid = aleph_core::cid::cid_v0(b"hello");
        assert!(verify_content(&cid, b"hello"));
        assert!(!verify_content(&cid, b"hellO"));
        assert!(decode_answer(&serde_json::json!({"status": "error"})).is_none());
    }
}
