//! Small endpoints: version and node information.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use aleph_core::api::{NodeVersion, PublicInfo};

use super::{AppState, Wire};

/// `GET /api/v0/version` and `/version`.
pub(crate) async fn version(State(state): State<AppState>) -> Wire<NodeVersion> {
    Wire(NodeVersion { version: state.version.to_owned() })
}

/// `GET /api/v0/info/public.json`: the node's P2P addresses (none for a standalone node).
pub(crate) async fn public_info(State(state): State<AppState>) -> Wire<PublicInfo> {
    let node_multi_addresses = state.broadcaster.as_ref().map(|b| b.multiaddrs()).unwrap_or_default();
    Wire(PublicInfo { node_multi_addresses })
}

/// The message, file and peer totals of `/metrics` (and of the status page).
pub(crate) async fn counters(state: &AppState) -> super::error::ApiResult<Vec<(&'static str, i64)>> {
    let peers = state.broadcaster.as_ref().map_or(0, |b| b.peer_count() as i64);
    Ok(state
        .pipeline
        .db()
        .read(move |c| {
            let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok(vec![
                ("sync_messages_total", q("SELECT COUNT(*) FROM messages")?),
                ("sync_pending_messages_total", q("SELECT COUNT(*) FROM pending_messages")?),
                ("sync_rejected_messages_total", q("SELECT COUNT(*) FROM rejected_messages")?),
                ("sync_forgotten_messages_total", q("SELECT COUNT(*) FROM forgotten_messages")?),
                (
                    "sync_permanent_files_total",
                    q("SELECT COUNT(DISTINCT file_hash) FROM file_pins WHERE kind != 'grace_period'")?,
                ),
                ("sync_files_total", q("SELECT COUNT(*) FROM files")?),
                ("status_peers_total", peers),
            ])
        })
        .await?)
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(state): State<AppState>) -> super::error::ApiResult<String> {
    let mut out = format!("aleph_node_build_info{{version=\"{}\"}} 1\n", state.version);
    for (name, value) in counters(&state).await? {
        out.push_str(&format!("aleph_node_{name} {value}\n"));
    }
    let w = state.pipeline.db().writer_stats();
    out.push_str(&format!(
        "aleph_node_db_write_transactions_total {}\naleph_node_db_write_busy_seconds_total {}\naleph_node_db_write_wait_seconds_total {}\naleph_node_db_wal_frames_total {}\n",
        w.transactions,
        w.busy_us as f64 / 1e6,
        w.waiting_us as f64 / 1e6,
        w.wal_frames
    ));
    if let Some(ipfs) = state.pipeline.ipfs() {
        let s = ipfs.stats();
        for (name, value) in [
            ("ipfs_peers", s.peers),
            ("ipfs_blocks_received_total", s.blocks_received),
            ("ipfs_blocks_sent_total", s.blocks_sent),
            ("ipfs_peers_banned_total", s.peers_banned),
            ("ipfs_dht_announced_total", s.dht_announced),
            ("ipfs_dht_providers_found_total", s.dht_providers_found),
            ("ipfs_dht_providers_dialed_total", s.dht_providers_dialed),
        ] {
            out.push_str(&format!("aleph_node_{name} {value}\n"));
        }
    }
    out.push_str(&state.limits.metrics());
    out.push_str(&state.pipeline.chain_monitor().metrics());
    Ok(out)
}

/// The `/metrics.json` object (also what `/api/ws0/status` sends).
pub(crate) async fn metrics_object(state: &AppState) -> super::error::ApiResult<Value> {
    let mut obj = serde_json::Map::new();
    obj.insert("version".into(), Value::String(state.version.into()));
    for (name, value) in counters(state).await? {
        obj.insert(name.into(), json!(value));
    }
    Ok(Value::Object(obj))
}

/// `GET /metrics.json`.
pub(crate) async fn metrics_json(State(state): State<AppState>) -> super::error::ApiResult<Json<Value>> {
    metrics_object(&state).await.map(Json)
}

/// `GET /api/v0/chains/status`: every bridge task's state, the readers' positions, and the
/// latest skipped events with their reasons.
pub(crate) async fn chains_status(State(state): State<AppState>) -> super::error::ApiResult<Json<Value>> {
    let readers = state.pipeline.chain_monitor().snapshot();
    let (positions, skipped) = state
        .pipeline
        .db()
        .read(|c| Ok((crate::storage::chains::sync_positions(c)?, crate::storage::chains::skipped(c, 100)?)))
        .await?;
    Ok(Json(json!({"readers": readers, "positions": positions, "skipped": skipped})))
}
