//! Small endpoints: version and node information.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

/// `GET /api/v0/version` and `/version`.
pub(crate) async fn version(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"version": state.version}))
}

/// `GET /api/v0/info/public.json`: the node's P2P addresses (none for a standalone node).
pub(crate) async fn public_info(State(_state): State<AppState>) -> Json<Value> {
    Json(json!({"node_multi_addresses": []}))
}
