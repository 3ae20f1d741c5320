//! The IPFS engine's endpoints: `GET /api/v0/ipfs/id` (kubo's `id` shape), `POST
//! /api/v0/ipfs/add_car` (a CARv1 with its signed STORE), and the block-store side of the file
//! reads (`/storage/raw/{cid}`, `/storage/{cid}`: fetched over bitswap when missing).

use std::sync::Arc;

use aleph_core::cid::{Cid, CidVersion};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::storage::{check_upload_message, read_multipart, record_file, UploadEngine};
use super::AppState;
use crate::ipfs::{ImportOptions, IpfsEngine, IpfsError};

fn engine(state: &AppState) -> ApiResult<&Arc<dyn IpfsEngine>> {
    state.pipeline.ipfs().ok_or_else(|| ApiError::NotFound("the IPFS engine is disabled on this node".into()))
}

/// An engine error as an API answer.
pub(crate) fn ipfs_error(e: IpfsError) -> ApiError {
    match e {
        IpfsError::NotFound(_) => ApiError::NotFound(e.to_string()),
        IpfsError::TooLarge(_) => ApiError::TooLarge(e.to_string()),
        IpfsError::Car(_) | IpfsError::Dag(_) | IpfsError::HashMismatch(_) | IpfsError::IsDirectory(_) => {
            ApiError::Unprocessable(e.to_string())
        }
        e => {
            tracing::warn!(error = %e, "IPFS engine failure");
            ApiError::Storage(crate::storage::StorageError::Task(e.to_string()))
        }
    }
}

/// `GET /api/v0/ipfs/id`.
pub(crate) async fn id(State(state): State<AppState>) -> ApiResult<Json<crate::ipfs::IpfsId>> {
    Ok(Json(engine(&state)?.id()))
}

/// The import options of `?cid-version=&raw-leaves=` (kubo's `ipfs add` flags).
pub(crate) fn import_options(query: Option<&str>) -> ApiResult<ImportOptions> {
    let mut version = None;
    let mut raw = None;
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "cid-version" | "cid_version" => {
                version = Some(match v {
                    "0" => CidVersion::V0,
                    "1" => CidVersion::V1,
                    _ => return Err(ApiError::BadRequest(format!("cid-version must be 0 or 1, not {v:?}"))),
                })
            }
            "raw-leaves" | "raw_leaves" => {
                raw = Some(match v {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "raw-leaves must be true or false, not {v:?}"
                        )))
                    }
                })
            }
            _ => {}
        }
    }
    let mut options = ImportOptions::for_version(version.unwrap_or(CidVersion::V0));
    if let Some(raw) = raw {
        options.raw_leaves = raw;
    }
    Ok(options)
}

/// The IPFS file `hash` from the block store, fetched over bitswap when missing: `None` when
/// `hash` is not a CID or the engine is off.
pub(crate) async fn raw_from_engine(state: &AppState, hash: &str) -> ApiResult<Option<Response>> {
    let Some(engine) = state.pipeline.ipfs() else { return Ok(None) };
    let Some(cid) = cid_of(hash) else { return Ok(None) };
    engine.fetch(&cid, state.pipeline.config().ipfs.max_fetch_bytes).await.map_err(ipfs_error)?;
    // Streamed from the block store; no length is announced: the root's declared size is only
    // what its author wrote.
    // The first chunk is read before answering, so that a directory (or a missing block) is an
    // error status rather than a body cut short.
    use futures_util::StreamExt;
    let mut stream = engine.export(cid);
    let first = match stream.next().await {
        Some(chunk) => Some(chunk.map_err(ipfs_error)?),
        None => None,
    };
    let body = Body::from_stream(futures_util::stream::iter(first.map(Ok)).chain(stream));
    Ok(Some(
        ([(header::CONTENT_TYPE, "application/octet-stream"), (header::ACCEPT_RANGES, "none")], body)
            .into_response(),
    ))
}

/// The IPFS file `hash` in memory (at most `max` bytes), as `raw_from_engine` finds it.
pub(crate) async fn bytes_from_engine(state: &AppState, hash: &str, max: u64) -> ApiResult<Option<Vec<u8>>> {
    use futures_util::StreamExt;
    let Some(engine) = state.pipeline.ipfs() else { return Ok(None) };
    let Some(cid) = cid_of(hash) else { return Ok(None) };
    engine.fetch(&cid, max).await.map_err(ipfs_error)?;
    let mut out = Vec::new();
    let mut stream = engine.export(cid);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(ipfs_error)?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(ApiError::TooLarge(format!(
                "file too large to be served as base64 (over {max} bytes)"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

/// The CID `ipfs add` with `options` gives the file at `path` (read once, nothing stored).
pub(crate) async fn cid_of_file(path: &std::path::Path, options: ImportOptions) -> ApiResult<String> {
    use tokio::io::AsyncReadExt;
    let io = |e: std::io::Error| ApiError::Storage(e.into());
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let mut builder = aleph_core::cid::CidBuilder::with_raw_leaves(options.version, options.raw_leaves);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Ok(builder.finish().to_string());
        }
        builder.update(&buf[..n]);
    }
}

fn cid_of(hash: &str) -> Option<Cid> {
    if hash.len() == 64 {
        return None;
    }
    hash.parse().ok()
}

/// `POST /api/v0/ipfs/add_car`: a multipart `file` (CARv1) with `metadata` (`{message, sync}`, a
/// signed STORE of the CAR's root), as the official Rust SDK sends a directory. The CAR must have
/// one root, equal to the STORE's `item_hash`, with its whole DAG inside; every block is
/// hash-checked.
pub(crate) async fn add_car(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    let engine = engine(&state)?.clone();
    let limits = state.pipeline.config().limits.clone();
    let multipart =
        Multipart::from_request(request, &state).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let up = read_multipart(
        &state,
        UploadEngine::Storage,
        multipart,
        limits.max_ipfs_upload,
        limits.max_body_bytes,
    )
    .await?;
    let (car, _) = up.file.ok_or_else(|| ApiError::BadRequest("missing the `file` part".into()))?;
    let metadata = up
        .metadata
        .ok_or_else(|| ApiError::Unprocessable("add_car needs `metadata` with a signed STORE".into()))?;
    let expected = metadata
        .pointer("/message/item_content")
        .and_then(Value::as_str)
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|c| c.get("item_hash").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    // The message is checked (signature, content, balance for the archive's size) before any
    // block is stored.
    let (message, sync) = check_upload_message(&state, &metadata, &expected, car.size).await?;
    let imported = engine.import_car(&car.path).await.map_err(ipfs_error)?;
    drop(car);
    let [root] = imported.roots.as_slice() else {
        return Err(ApiError::Unprocessable(format!(
            "the CAR must have one root, not {}",
            imported.roots.len()
        )));
    };
    let matches = expected.parse::<Cid>().is_ok_and(|e| e.to_v1() == root.to_v1());
    if !matches {
        return Err(ApiError::Unprocessable(format!(
            "the CAR's root {root} does not match the STORE's item_hash {expected:?}"
        )));
    }
    record_file(&state, &expected, imported.bytes, true).await?;
    let response = super::messages::submit_message(&state, message, sync).await?;
    let body = aleph_core::api::UploadResponse {
        size: Some(imported.bytes),
        ..aleph_core::api::UploadResponse::success(expected)
    };
    Ok((response.status(), super::Wire(body)).into_response())
}
