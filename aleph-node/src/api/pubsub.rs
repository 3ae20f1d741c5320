//! The legacy publish endpoints, `POST /api/v0/ipfs/pubsub/pub` and `/api/v0/p2p/pubsub/pub`:
//! `{"topic", "data"}` with a message in `data`, submitted as `POST /api/v0/messages` does
//! without `sync`.

use aleph_core::api::PublicationStatus;
use axum::extract::State;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::{AppState, Wire};
use crate::pipeline::{Intake, Origin};

/// The topic messages are published on when the node has no P2P configuration.
const DEFAULT_TOPIC: &str = "ALEPH-TEST";

/// `POST /api/v0/{ipfs,p2p}/pubsub/pub`.
///
/// The reference wants `data` as a string holding the message JSON; the Python SDK's fallback
/// sends the message as an object, which the reference refuses (422). Both are accepted here.
pub(crate) async fn publish(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<Wire<PublicationStatus>> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unprocessable(format!("body is not JSON: {e}")))?;
    let topic = body
        .get("topic")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Unprocessable("`topic` must be a string".into()))?;
    let expected = state.pipeline.config().p2p.as_ref().map_or(DEFAULT_TOPIC, |p| p.message_topic.as_str());
    if topic != expected {
        return Err(ApiError::Forbidden(format!(
            "unauthorized topic {topic:?}: this node publishes on {expected:?}"
        )));
    }
    let message = match body.get("data") {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text)
            .map_err(|e| ApiError::Unprocessable(format!("`data` is not a JSON message: {e}")))?,
        Some(object @ Value::Object(_)) => object.clone(),
        _ => return Err(ApiError::Unprocessable("`data` must be a message (JSON text or object)".into())),
    };
    if !message.is_object() {
        return Err(ApiError::Unprocessable("`data` must hold a message object".into()));
    }
    let (_, intake) = state.pipeline.submit(message.clone(), Origin::Api).await?;
    if matches!(intake, Intake::Queued) {
        state.broadcast(&message).await;
    }
    Ok(Wire(PublicationStatus { status: "success".into(), failed: Vec::new() }))
}
