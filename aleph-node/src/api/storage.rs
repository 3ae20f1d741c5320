//! Files: uploads (raw, multipart, multipart with a signed STORE message; JSON documents; the
//! IPFS variants with CIDs computed locally) and reads (raw bytes, base64 for peers, metadata).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use aleph_core::api::{
    FileContent, FileMetadata, FileRef, IpfsUploadLimits, StorageLimits, StorageUploadLimits, UploadResponse,
};

use super::error::{ApiError, ApiResult};
use super::{AppState, Wire};
use crate::pipeline::now;
use crate::storage::staged::{ContentHasher, StageError, Staged, StagedFile};
use crate::storage::StorageError;

/// How an upload is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadEngine {
    /// sha256, node-native storage.
    Storage,
    /// kubo-compatible CIDv0.
    Ipfs,
}

fn hash_of(engine: UploadEngine, bytes: &[u8]) -> String {
    match engine {
        UploadEngine::Storage => aleph_core::ItemHash::sha256(bytes).to_string(),
        UploadEngine::Ipfs => aleph_core::cid::cid_v0(bytes),
    }
}

/// Stores bytes under their hash and records the file; `grace` adds an upload grace pin.
pub(crate) async fn store_file(
    state: &AppState,
    engine: UploadEngine,
    bytes: Bytes,
    grace: bool,
) -> ApiResult<String> {
    let hash = hash_of(engine, &bytes);
    if let (UploadEngine::Ipfs, Some(ipfs)) = (engine, state.pipeline.ipfs()) {
        ipfs.import_bytes(&bytes, crate::ipfs::ImportOptions::DEFAULT)
            .await
            .map_err(super::ipfs::ipfs_error)?;
    }
    state.pipeline.files().put(&hash, bytes.clone()).await?;
    record_file(state, &hash, bytes.len() as u64, grace).await?;
    Ok(hash)
}

/// Moves a staged upload into the file store and records it; `grace` adds an upload grace pin.
async fn store_staged(state: &AppState, staged: Staged, grace: bool) -> ApiResult<String> {
    state.pipeline.files().put_file(&staged.hash, &staged.path).await?;
    record_file(state, &staged.hash, staged.size, grace).await?;
    Ok(staged.hash.clone())
}

/// Records a stored file in the database (and its upload grace pin when `grace`).
pub(super) async fn record_file(state: &AppState, hash: &str, size: u64, grace: bool) -> ApiResult<()> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let h = hash.to_owned();
    let grace_secs = state.pipeline.config().processing.file_grace_period_secs;
    state
        .pipeline
        .db()
        .write(move |tx| {
            tx.execute("INSERT OR IGNORE INTO files (hash, size, type) VALUES (?1, ?2, 'file')", params![h, size])?;
            if grace {
                let pinned: bool = tx
                    .query_row("SELECT 1 FROM file_pins WHERE file_hash = ?1 AND kind != 'grace_period'", [&h], |_| Ok(true))
                    .optional()?
                    .is_some();
                if !pinned {
                    let t = now();
                    tx.execute("DELETE FROM file_pins WHERE file_hash = ?1 AND kind = 'grace_period'", [&h])?;
                    tx.execute(
                        "INSERT INTO file_pins (file_hash, kind, created, delete_by) VALUES (?1, 'grace_period', ?2, ?3)",
                        params![h, t, t + grace_secs],
                    )?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Writes a body (or one multipart field) to a staged file as it arrives, hashing it; 413 at the
/// first byte past `limit`, so nothing over the limit is ever held or written.
async fn stage<S, E>(
    state: &AppState,
    engine: UploadEngine,
    mut body: S,
    limit: usize,
    what: &str,
    body_error: impl Fn(E) -> ApiError,
) -> ApiResult<Staged>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let hasher = match engine {
        UploadEngine::Storage => ContentHasher::sha256(),
        UploadEngine::Ipfs => ContentHasher::cid_v0(),
    };
    let dir = state.pipeline.config().data_dir.join("incoming");
    let mut file = StagedFile::create(&dir, hasher, limit as u64).await.map_err(StorageError::from)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(&body_error)?;
        file.write(&chunk).await.map_err(|e| match e {
            StageError::TooLarge { limit } => {
                ApiError::TooLarge(format!("{what} is over the {limit}-byte limit"))
            }
            StageError::Io(e) => ApiError::Storage(e.into()),
        })?;
    }
    Ok(file.finish().await.map_err(StorageError::from)?)
}

/// The declared body length, when there is one.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!("multipart: {}", e.body_text()))
    } else {
        ApiError::BadRequest(format!("multipart: {}", e.body_text()))
    }
}

pub(super) struct Upload {
    pub(super) file: Option<(Staged, Option<String>)>,
    pub(super) metadata: Option<Value>,
}

/// Reads a multipart upload: the `file` part is staged on disk as it arrives (at most `limit`
/// bytes), `metadata` is read into a buffer of at most `metadata_limit` bytes, other parts are
/// skipped.
pub(super) async fn read_multipart(
    state: &AppState,
    engine: UploadEngine,
    mut multipart: Multipart,
    limit: usize,
    metadata_limit: usize,
) -> ApiResult<Upload> {
    let mut up = Upload { file: None, metadata: None };
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        match name.as_str() {
            "file" => {
                let staged = stage(state, engine, &mut field, limit, "the upload", multipart_error).await?;
                up.file = Some((staged, filename));
            }
            "metadata" => {
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if data.len() + chunk.len() > metadata_limit {
                        return Err(ApiError::TooLarge(format!(
                            "metadata is over the {metadata_limit}-byte limit"
                        )));
                    }
                    data.extend_from_slice(&chunk);
                }
                up.metadata = Some(
                    serde_json::from_slice(&data)
                        .map_err(|e| ApiError::Unprocessable(format!("metadata: {e}")))?,
                )
            }
            // Skipped as it streams past.
            _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
        }
    }
    Ok(up)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Checks the signed STORE message that accompanies an authenticated upload, in the reference's
/// order: signature (403), inline content (422), the file hash (422), then whether the owner can
/// pay for the file (402, [`check_upload_balance`]); all before the staged bytes are stored.
pub(super) async fn check_upload_message(
    state: &AppState,
    metadata: &Value,
    file_hash: &str,
    size: u64,
) -> ApiResult<(Value, bool)> {
    let message = metadata
        .get("message")
        .cloned()
        .ok_or_else(|| ApiError::Unprocessable("metadata has no `message`".into()))?;
    let sync = metadata.get("sync").and_then(Value::as_bool).unwrap_or(false);
    let pending = aleph_core::PendingMessage::from_value(&message)
        .map_err(|e| ApiError::Unprocessable(format!("InvalidMessageFormat: {e}")))?;
    aleph_core::verify_signature(&pending.signed_fields())
        .map_err(|e| ApiError::Forbidden(format!("invalid signature: {e}")))?;
    let content = pending
        .item_content
        .as_deref()
        .ok_or_else(|| ApiError::Unprocessable("the STORE message must carry inline content".into()))?;
    let content: Value =
        serde_json::from_str(content).map_err(|e| ApiError::Unprocessable(format!("item_content: {e}")))?;
    let expected = content.get("item_hash").and_then(Value::as_str).unwrap_or_default();
    if expected != file_hash {
        return Err(ApiError::Unprocessable("File hash does not match".into()));
    }
    check_upload_balance(state, &message, size).await?;
    Ok((message, sync))
}

/// Whether the STORE message's owner can pay for a file of `size` bytes, as the reference checks
/// an upload (402 with the reference's bare body otherwise): see
/// [`crate::payment::check_upload_balance`].
async fn check_upload_balance(state: &AppState, message: &Value, size: u64) -> ApiResult<()> {
    let (pending, content) = aleph_core::validate::validate_pending_value(message)
        .map_err(|e| ApiError::Unprocessable(format!("Invalid store message content: {e}")))?;
    let content = content
        .map(|c| c.content)
        .ok_or_else(|| ApiError::Unprocessable("Store message content needed".into()))?;
    if pending.message_type != aleph_core::MessageType::Store {
        return Err(ApiError::Unprocessable("Invalid store message content: not a STORE message".into()));
    }
    let verdict = state
        .pipeline
        .db()
        .read(move |c| {
            match crate::payment::check_upload_balance(c, crate::pipeline::now(), &content, size) {
                Ok(()) => Ok(Ok(())),
                Err(crate::payment::PaymentError::Processing(e)) => Ok(Err(e)),
                Err(crate::payment::PaymentError::Storage(e)) => Err(e),
            }
        })
        .await?;
    verdict.map_err(|e| {
        if matches!(e.code(), 5 | 6) {
            // The reference raises a bare `HTTPPaymentRequired`: "402: Payment Required".
            ApiError::PaymentRequired("Payment Required".into())
        } else {
            tracing::warn!(error = %e, "an upload could not be priced");
            ApiError::Unprocessable(format!("the upload cannot be priced: {e}"))
        }
    })
}

async fn add_file(state: AppState, engine: UploadEngine, request: Request) -> ApiResult<Response> {
    let limits = state.pipeline.config().limits.clone();
    let max = if engine == UploadEngine::Ipfs { limits.max_ipfs_upload } else { limits.max_upload };
    let unauthenticated = limits.max_unauthenticated_upload;
    let options = match engine {
        UploadEngine::Ipfs => Some(super::ipfs::import_options(request.uri().query())?),
        UploadEngine::Storage => None,
    };
    let too_large = |limit: usize| ApiError::TooLarge(format!("uploads are limited to {limit} bytes"));
    if !is_multipart(request.headers()) {
        if engine == UploadEngine::Ipfs {
            return Err(ApiError::BadRequest("ipfs/add_file takes a multipart form".into()));
        }
        if content_length(request.headers()).is_some_and(|n| n > unauthenticated as u64) {
            return Err(too_large(unauthenticated));
        }
        let body = request.into_body().into_data_stream();
        let staged = stage(&state, engine, body, unauthenticated, "the unauthenticated upload", |e| {
            ApiError::BadRequest(format!("reading the upload: {e}"))
        })
        .await?;
        let hash = store_staged(&state, staged, true).await?;
        return Ok(Wire(UploadResponse::success(hash)).into_response());
    }
    // The file plus the metadata part and the multipart framing.
    let framing = limits.max_body_bytes + (64 << 10);
    if content_length(request.headers()).is_some_and(|n| n > (max + framing) as u64) {
        return Err(too_large(max));
    }
    let multipart =
        Multipart::from_request(request, &state).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let up = read_multipart(&state, engine, multipart, max, limits.max_body_bytes).await?;
    let (mut file, filename) =
        up.file.ok_or_else(|| ApiError::BadRequest("missing the `file` part".into()))?;
    // With `cid-version`/`raw-leaves`, the file's CID is recomputed with them (staging computed
    // the default CIDv0).
    if let Some(options) = options.filter(|o| *o != crate::ipfs::ImportOptions::DEFAULT) {
        if state.pipeline.ipfs().is_none() {
            return Err(ApiError::Unprocessable("cid-version and raw-leaves need the IPFS engine".into()));
        }
        file.hash = super::ipfs::cid_of_file(&file.path, options).await?;
    }
    let size = file.size;
    let message = match &up.metadata {
        None => {
            if size > unauthenticated as u64 {
                return Err(ApiError::TooLarge(format!(
                    "unauthenticated uploads are limited to {unauthenticated} bytes"
                )));
            }
            None
        }
        Some(metadata) => Some(check_upload_message(&state, metadata, &file.hash, size).await?),
    };
    // Accepted: the IPFS engine takes the file's blocks.
    if let (Some(options), Some(ipfs)) = (options, state.pipeline.ipfs()) {
        let imported = ipfs.import_file(&file.path, options).await.map_err(super::ipfs::ipfs_error)?;
        if imported.root.to_string() != file.hash {
            tracing::error!(staged = file.hash, imported = %imported.root, "the importer and the staged hash differ");
            return Err(ApiError::Storage(crate::storage::StorageError::Task("CID mismatch".into())));
        }
    }
    // Every upload starts with a grace period; the STORE message's pin replaces it.
    let hash = store_staged(&state, file, true).await?;
    let mut status = StatusCode::OK;
    if let Some((message, sync)) = message {
        let response = super::messages::submit_message(&state, message, sync).await?;
        status = response.status();
    }
    let body = match engine {
        UploadEngine::Storage => UploadResponse::success(hash),
        UploadEngine::Ipfs => UploadResponse {
            name: Some(filename.unwrap_or_else(|| "file".into())),
            size: Some(size),
            ..UploadResponse::success(hash)
        },
    };
    Ok((status, Wire(body)).into_response())
}

/// `POST /api/v0/storage/add_file`.
pub(crate) async fn storage_add_file(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    add_file(state, UploadEngine::Storage, request).await
}

/// `POST /api/v0/ipfs/add_file`.
pub(crate) async fn ipfs_add_file(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    add_file(state, UploadEngine::Ipfs, request).await
}

async fn add_json(state: AppState, engine: UploadEngine, body: Bytes) -> ApiResult<Wire<UploadResponse>> {
    if body.len() > state.pipeline.config().limits.max_unauthenticated_upload {
        return Err(ApiError::TooLarge("JSON uploads are limited to 25 MiB".into()));
    }
    // Re-serialized compact with sorted keys, as the reference does, numbers kept as written;
    // the hash is of these bytes.
    let text = super::json_doc::compact_sorted(&body)
        .map_err(|e| ApiError::Unprocessable(format!("body is not JSON: {e}")))?;
    let bytes = Bytes::from(text);
    let hash = store_file(&state, engine, bytes, true).await?;
    Ok(Wire(UploadResponse::success(hash)))
}

/// `POST /api/v0/storage/add_json`.
pub(crate) async fn storage_add_json(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Wire<UploadResponse>> {
    add_json(state, UploadEngine::Storage, body).await
}

/// `POST /api/v0/ipfs/add_json`.
pub(crate) async fn ipfs_add_json(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Wire<UploadResponse>> {
    add_json(state, UploadEngine::Ipfs, body).await
}

fn check_hash(hash: &str) -> ApiResult<()> {
    if aleph_core::ItemHash::is_valid(hash) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("invalid file hash {hash:?}")))
    }
}

async fn known_size(state: &AppState, hash: &str) -> ApiResult<Option<i64>> {
    let h = hash.to_owned();
    Ok(state
        .pipeline
        .db()
        .read(move |c| {
            Ok(c.query_row("SELECT size FROM files WHERE hash = ?1", [h], |r| r.get(0)).optional()?)
        })
        .await?)
}

/// `GET|HEAD /api/v0/storage/raw/{hash}`.
pub(crate) async fn raw(State(state): State<AppState>, Path(hash): Path<String>) -> ApiResult<Response> {
    check_hash(&hash)?;
    let stored = match known_size(&state, &hash).await? {
        Some(_) => state.pipeline.files().get(&hash).await?,
        None => None,
    };
    let Some(bytes) = stored else {
        // Not in the file store: an IPFS file from the block store, fetched over bitswap if needed.
        return super::ipfs::raw_from_engine(&state, &hash)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("file {hash} not found")));
    };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::ACCEPT_RANGES, "none")], bytes)
        .into_response())
}

/// `GET /api/v0/storage/{hash}`: the file as MIME-style base64, for peers.
pub(crate) async fn base64_content(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Wire<FileContent>> {
    check_hash(&hash)?;
    let max = state.pipeline.config().limits.max_upload;
    let stored = match known_size(&state, &hash).await? {
        Some(size) if size as usize > max => {
            return Err(ApiError::TooLarge("file too large to be served as base64".into()))
        }
        Some(_) => state.pipeline.files().get(&hash).await?.map(|b| b.to_vec()),
        None => None,
    };
    let bytes = match stored {
        Some(b) => b,
        None => super::ipfs::bytes_from_engine(&state, &hash, max as u64)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("file {hash} not found")))?,
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    // Python's base64.encodebytes: a newline every 76 characters and at the end.
    let mut mime = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for chunk in encoded.as_bytes().chunks(76) {
        mime.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        mime.push('\n');
    }
    let engine = if hash.len() == 64 { "storage" } else { "ipfs" };
    Ok(Wire(FileContent { status: "success".into(), hash, engine: engine.into(), content: mime }))
}

/// `GET /api/v0/storage/metadata/{hash}`.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Wire<FileMetadata>> {
    check_hash(&hash)?;
    let size = known_size(&state, &hash)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("file {hash} not found")))?;
    Ok(Wire(FileMetadata {
        download_url: Some(format!("/api/v0/storage/raw/{hash}")),
        file_hash: hash,
        file_type: Some("file".into()),
        size: size.max(0) as u64,
    }))
}

fn by_tag_body(row: (String, String, String, i64, Option<String>)) -> Wire<FileRef> {
    let (file_hash, owner, item_hash, size, reference) = row;
    Wire(FileRef {
        reference: reference.unwrap_or(item_hash),
        owner,
        download_url: format!("/api/v0/storage/raw/{file_hash}"),
        file_hash,
        size,
    })
}

/// `GET /api/v0/storage/by-message-hash/{message_hash}`.
pub(crate) async fn by_message_hash(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Wire<FileRef>> {
    check_hash(&hash)?;
    let h = hash.clone();
    let row = state
        .pipeline
        .db()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT m.content_item_hash, m.owner, m.item_hash, COALESCE(f.size, 0), m.content_ref
                 FROM messages m LEFT JOIN files f ON f.hash = m.content_item_hash WHERE m.item_hash = ?1 AND m.type = 'STORE'",
                [h],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
        })
        .await?;
    row.map(by_tag_body).ok_or_else(|| ApiError::NotFound(format!("no STORE message {hash}")))
}

async fn by_tag(state: AppState, tag: String) -> ApiResult<Wire<FileRef>> {
    let t = tag.clone();
    let row = state
        .pipeline
        .db()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT t.file_hash, t.owner, t.item_hash, COALESCE(f.size, 0), m.content_ref
                 FROM file_tags t LEFT JOIN files f ON f.hash = t.file_hash LEFT JOIN messages m ON m.item_hash = t.item_hash
                 WHERE t.tag = ?1",
                [t],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
        })
        .await?;
    row.map(by_tag_body).ok_or_else(|| ApiError::NotFound(format!("no file with ref {tag}")))
}

/// `GET /api/v0/storage/by-ref/{ref}` (an item-hash ref).
pub(crate) async fn by_ref(
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> ApiResult<Wire<FileRef>> {
    if !aleph_core::ItemHash::is_valid(&reference) {
        return Err(ApiError::BadRequest(
            "a user-defined ref needs the owner's address: /by-ref/{address}/{ref}".into(),
        ));
    }
    by_tag(state, reference).await
}

/// `GET /api/v0/storage/by-ref/{address}/{ref}`.
pub(crate) async fn by_owner_ref(
    State(state): State<AppState>,
    Path((address, reference)): Path<(String, String)>,
) -> ApiResult<Wire<FileRef>> {
    let tag =
        if aleph_core::ItemHash::is_valid(&reference) { reference } else { format!("{address}/{reference}") };
    by_tag(state, tag).await
}

/// `GET /api/v0/storage/count/{hash}`: how many pins keep the file.
pub(crate) async fn count(State(state): State<AppState>, Path(hash): Path<String>) -> ApiResult<Json<i64>> {
    check_hash(&hash)?;
    let n: i64 = state
        .pipeline
        .db()
        .read(move |c| {
            Ok(c.query_row("SELECT COUNT(*) FROM file_pins WHERE file_hash = ?1", [hash], |r| r.get(0))?)
        })
        .await?;
    Ok(Json(n))
}

/// `GET /api/v0/storage/limits.json`.
pub(crate) async fn limits(State(state): State<AppState>) -> Wire<StorageLimits> {
    let l = &state.pipeline.config().limits;
    Wire(StorageLimits {
        storage: StorageUploadLimits {
            max_file_size: l.max_upload as u64,
            max_unauthenticated_upload_file_size: l.max_unauthenticated_upload as u64,
        },
        ipfs: IpfsUploadLimits {
            max_upload_file_size: l.max_ipfs_upload as u64,
            max_upload_car_size: l.max_ipfs_upload as u64,
            max_unauthenticated_upload_file_size: l.max_unauthenticated_upload as u64,
        },
    })
}
