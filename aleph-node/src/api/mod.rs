//! The HTTP API: the only place routes are defined is [`router`].

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum::Router;
use serde_json::Value;
use tower_http::cors::{Any, CorsLayer};

use crate::pipeline::Pipeline;

mod accounts;
mod addresses;
mod aggregates;
pub(crate) mod error;
mod ipfs;
mod json_doc;
mod messages;
mod misc;
mod openapi;
mod posts;
mod prices;
mod programs;
mod pubsub;
pub(crate) mod query;
mod routes;
pub(crate) mod serve;
mod status_page;
mod storage;
mod ws;

/// A time as the reference's serialized datetimes write it: ISO 8601 with microseconds and `Z`.
pub(crate) fn iso_z(t: f64) -> Value {
    aleph_core::message::time_to_rfc3339(t).map_or(Value::Null, Value::String)
}

/// A time as the reference's hand-built datetimes write it (Python's `isoformat()`: `+00:00`).
pub(crate) fn iso_offset(t: f64) -> Value {
    aleph_core::message::time_to_rfc3339(t)
        .map_or(Value::Null, |s| Value::String(s.replacen('Z', "+00:00", 1)))
}

pub(crate) use routes::{Route, Routed};

/// The OpenAPI description the node serves at `/api/openapi.json`.
pub(crate) fn openapi_document() -> Value {
    openapi::document(crate::VERSION)
}

/// An answer of one of aleph-core's `api` types. It is written through a [`Value`], as the
/// node's answers always were: object keys come out sorted (serde_json keeps no insertion
/// order here), numbers as the type holds them (`200.0` for a float, `7` for an integer).
#[derive(Debug)]
pub(crate) struct Wire<T>(pub(crate) T);

impl<T: serde::Serialize> IntoResponse for Wire<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(v) => Json(v).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "an answer did not serialize");
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "500: internal error").into_response()
            }
        }
    }
}

/// Something that spreads accepted messages to other nodes (the P2P layer).
pub trait Broadcaster: Send + Sync + std::fmt::Debug + 'static {
    /// Publishes a message's pending envelope to peers.
    fn publish(&self, message: &Value);

    /// The node's P2P multiaddrs, as `/api/v0/info/public.json` lists them.
    fn multiaddrs(&self) -> Vec<String> {
        Vec::new()
    }

    /// How many peers are connected.
    fn peer_count(&self) -> usize {
        0
    }

    /// Every peer connected or heard from, by peer id, as the status page lists them.
    fn peer_table(&self) -> Vec<(String, crate::p2p::PeerInfo)> {
        Vec::new()
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The message pipeline (and through it the database and file store).
    pub pipeline: Pipeline,
    /// Where accepted messages are gossiped, when the node is networked.
    pub broadcaster: Option<Arc<dyn Broadcaster>>,
    /// The node's version string.
    pub version: &'static str,
    /// The HTTP server's bounds and counters.
    pub(crate) limits: Arc<serve::ServerLimits>,
}

impl AppState {
    /// The state of a node's API over `pipeline`, gossiping through `broadcaster`; its server
    /// limits are the pipeline configuration's `[limits]`.
    pub fn new(pipeline: Pipeline, broadcaster: Option<Arc<dyn Broadcaster>>, version: &'static str) -> Self {
        let limits = serve::ServerLimits::new(&pipeline.config().limits);
        AppState { pipeline, broadcaster, version, limits }
    }

    /// The page or cursor a list request asks for ([`query::paging`]), its page size capped at
    /// the node's `limits.max_pagination`.
    pub(crate) fn paging(
        &self,
        params: &query::Params,
        default_per_page: u64,
        path_page: Option<u64>,
    ) -> Result<crate::storage::messages::Paging, error::ApiError> {
        query::paging(params, default_per_page, path_page, self.pipeline.config().limits.max_pagination)
    }

    /// Gossips a message to peers (no-op for a standalone node).
    pub(crate) async fn broadcast(&self, message: &Value) {
        if let Some(b) = &self.broadcaster {
            b.publish(message);
        }
    }
}

/// What a node without the CCN role serves: its version and metrics.
pub(crate) fn minimal_router(state: AppState) -> Router {
    Routed::new()
        .get("/api/v0/version", misc::version)
        .get("/version", misc::version)
        .get("/metrics", misc::metrics)
        .router
        .with_state(state)
}

/// The node's HTTP API.
pub fn router(state: AppState) -> Router {
    routed(state).router
}

/// The node's HTTP API with the table of its routes (method, path), as the router was built.
pub(crate) fn routed(state: AppState) -> Routed<()> {
    let limits = state.pipeline.config().limits.clone();
    let body_limit = limits.max_body_bytes;
    // Uploads carry the file plus a metadata part and a little multipart framing; the handlers
    // stream them to disk and enforce the file's own limit as its bytes arrive.
    let framing = limits.max_body_bytes + (64 << 10);
    let upload_limit = DefaultBodyLimit::max(limits.max_upload + framing);
    let ipfs_upload_limit = DefaultBodyLimit::max(limits.max_ipfs_upload + framing);
    // JSON documents are read into a buffer of at most this many bytes.
    let json_upload_limit = DefaultBodyLimit::max(limits.max_unauthenticated_upload);
    let cors = CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any).expose_headers(Any);
    Routed::new()
        .post("/api/v0/messages", messages::submit)
        .get("/api/v0/messages.json", messages::list)
        .get("/api/v0/messages/page/{page}", messages::list_page_path)
        .get("/api/v0/messages/hashes", messages::hashes)
        .post("/api/v0/ipfs/pubsub/pub", pubsub::publish)
        .post("/api/v0/p2p/pubsub/pub", pubsub::publish)
        .get("/api/v0/messages/{item_hash}/status", messages::get_status)
        .get("/api/v0/messages/{item_hash}/content", messages::get_content)
        .get("/api/v0/messages/{item_hash}", messages::get_one)
        .get("/api/v0/posts.json", posts::list_v0)
        .get("/api/v0/posts/page/{page}", posts::list_v0_page)
        .get("/api/v1/posts.json", posts::list_v1)
        .get("/api/v1/posts/page/{page}", posts::list_v1_page)
        .get("/api/v0/aggregates", aggregates::list)
        .get("/api/v0/aggregates.json", aggregates::list)
        .get("/api/v0/aggregates/{address}", aggregates::of_address)
        .post_limited("/api/v0/storage/add_file", storage::storage_add_file, upload_limit)
        .post_limited("/api/v0/ipfs/add_file", storage::ipfs_add_file, ipfs_upload_limit)
        .post_limited("/api/v0/storage/add_json", storage::storage_add_json, json_upload_limit)
        .post_limited("/api/v0/ipfs/add_json", storage::ipfs_add_json, json_upload_limit)
        .post_limited("/api/v0/ipfs/add_car", ipfs::add_car, ipfs_upload_limit)
        .get("/api/v0/ipfs/id", ipfs::id)
        .get("/api/v0/storage/limits.json", storage::limits)
        .get("/api/v0/storage/raw/{hash}", storage::raw)
        .get("/api/v0/storage/metadata/{hash}", storage::metadata)
        .get("/api/v0/storage/by-message-hash/{hash}", storage::by_message_hash)
        .get("/api/v0/storage/by-ref/{reference}", storage::by_ref)
        .get("/api/v0/storage/by-ref/{address}/{reference}", storage::by_owner_ref)
        .get("/api/v0/storage/count/{hash}", storage::count)
        .get("/api/v0/storage/{hash}", storage::base64_content)
        .get("/api/v0/addresses/{address}/balance", accounts::balance)
        .get("/api/v0/balances", accounts::balances_list)
        .get("/api/v0/credit_balances", accounts::credit_balances)
        .get("/api/v0/addresses/{address}/credit_history", accounts::credit_history)
        .get("/api/v0/addresses/{address}/credit_history/summary", accounts::credit_history_summary)
        .get("/api/v0/messages/{item_hash}/consumed_credits", accounts::consumed_credits)
        .post("/api/v0/price/estimate", prices::estimate_message)
        .post("/api/v0/price/estimate/instance", prices::estimate_instance)
        .get("/api/v0/price/{item_hash}", prices::message_price)
        .get("/api/v0/costs", prices::costs)
        .get("/api/v0/addresses/stats.json", addresses::stats_v0)
        .get("/api/v1/addresses/stats.json", addresses::stats_v1)
        .get("/api/v0/addresses/{address}/files", addresses::files)
        .get("/api/v0/addresses/{address}/post_types", addresses::post_types)
        .get("/api/v0/addresses/{address}/channels", addresses::channels)
        .get("/api/v0/channels/list.json", addresses::all_channels)
        .get("/api/v0/authorizations/granted/{address}", addresses::granted)
        .get("/api/v0/authorizations/received/{address}", addresses::received)
        .get("/api/v0/programs/on/message", programs::on_message)
        .get("/api/ws0/messages", ws::messages)
        .get("/api/ws0/status", ws::status)
        .get("/", status_page::home)
        .get("/message/{item_hash}", status_page::message)
        .get("/api/openapi.json", openapi::serve)
        .get("/metrics", misc::metrics)
        .get("/metrics.json", misc::metrics_json)
        .get("/api/v0/chains/status", misc::chains_status)
        .get("/api/v0/version", misc::version)
        .get("/version", misc::version)
        .get("/api/v0/info/public.json", misc::public_info)
        .map(|r| r.layer(DefaultBodyLimit::max(body_limit)).layer(cors).with_state(state))
}
