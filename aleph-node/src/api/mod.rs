//! The HTTP API: the only place routes are defined is [`router`].

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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
    Router::new()
        .route("/api/v0/version", get(misc::version))
        .route("/version", get(misc::version))
        .route("/metrics", get(misc::metrics))
        .with_state(state)
}

/// The node's HTTP API.
pub fn router(state: AppState) -> Router {
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
    Router::new()
        .route("/api/v0/messages", post(messages::submit))
        .route("/api/v0/messages.json", get(messages::list))
        .route("/api/v0/messages/page/{page}", get(messages::list_page_path))
        .route("/api/v0/messages/hashes", get(messages::hashes))
        .route("/api/v0/ipfs/pubsub/pub", post(pubsub::publish))
        .route("/api/v0/p2p/pubsub/pub", post(pubsub::publish))
        .route("/api/v0/messages/{item_hash}/status", get(messages::get_status))
        .route("/api/v0/messages/{item_hash}/content", get(messages::get_content))
        .route("/api/v0/messages/{item_hash}", get(messages::get_one))
        .route("/api/v0/posts.json", get(posts::list_v0))
        .route("/api/v0/posts/page/{page}", get(posts::list_v0_page))
        .route("/api/v1/posts.json", get(posts::list_v1))
        .route("/api/v1/posts/page/{page}", get(posts::list_v1_page))
        .route("/api/v0/aggregates", get(aggregates::list))
        .route("/api/v0/aggregates.json", get(aggregates::list))
        .route("/api/v0/aggregates/{address}", get(aggregates::of_address))
        .route("/api/v0/storage/add_file", post(storage::storage_add_file).layer(upload_limit))
        .route("/api/v0/ipfs/add_file", post(storage::ipfs_add_file).layer(ipfs_upload_limit))
        .route("/api/v0/storage/add_json", post(storage::storage_add_json).layer(json_upload_limit))
        .route("/api/v0/ipfs/add_json", post(storage::ipfs_add_json).layer(json_upload_limit))
        .route("/api/v0/ipfs/add_car", post(ipfs::add_car).layer(ipfs_upload_limit))
        .route("/api/v0/ipfs/id", get(ipfs::id))
        .route("/api/v0/storage/limits.json", get(storage::limits))
        .route("/api/v0/storage/raw/{hash}", get(storage::raw))
        .route("/api/v0/storage/metadata/{hash}", get(storage::metadata))
        .route("/api/v0/storage/by-message-hash/{hash}", get(storage::by_message_hash))
        .route("/api/v0/storage/by-ref/{reference}", get(storage::by_ref))
        .route("/api/v0/storage/by-ref/{address}/{reference}", get(storage::by_owner_ref))
        .route("/api/v0/storage/count/{hash}", get(storage::count))
        .route("/api/v0/storage/{hash}", get(storage::base64_content))
        .route("/api/v0/addresses/{address}/balance", get(accounts::balance))
        .route("/api/v0/balances", get(accounts::balances_list))
        .route("/api/v0/credit_balances", get(accounts::credit_balances))
        .route("/api/v0/addresses/{address}/credit_history", get(accounts::credit_history))
        .route("/api/v0/addresses/{address}/credit_history/summary", get(accounts::credit_history_summary))
        .route("/api/v0/messages/{item_hash}/consumed_credits", get(accounts::consumed_credits))
        .route("/api/v0/price/estimate", post(prices::estimate_message))
        .route("/api/v0/price/estimate/instance", post(prices::estimate_instance))
        .route("/api/v0/price/{item_hash}", get(prices::message_price))
        .route("/api/v0/costs", get(prices::costs))
        .route("/api/v0/addresses/stats.json", get(addresses::stats_v0))
        .route("/api/v1/addresses/stats.json", get(addresses::stats_v1))
        .route("/api/v0/addresses/{address}/files", get(addresses::files))
        .route("/api/v0/addresses/{address}/post_types", get(addresses::post_types))
        .route("/api/v0/addresses/{address}/channels", get(addresses::channels))
        .route("/api/v0/channels/list.json", get(addresses::all_channels))
        .route("/api/v0/authorizations/granted/{address}", get(addresses::granted))
        .route("/api/v0/authorizations/received/{address}", get(addresses::received))
        .route("/api/v0/programs/on/message", get(programs::on_message))
        .route("/api/ws0/messages", get(ws::messages))
        .route("/api/ws0/status", get(ws::status))
        .route("/", get(status_page::home))
        .route("/message/{item_hash}", get(status_page::message))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/metrics", get(misc::metrics))
        .route("/metrics.json", get(misc::metrics_json))
        .route("/api/v0/chains/status", get(misc::chains_status))
        .route("/api/v0/version", get(misc::version))
        .route("/version", get(misc::version))
        .route("/api/v0/info/public.json", get(misc::public_info))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors)
        .with_state(state)
}
