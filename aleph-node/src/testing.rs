//! Hooks for this crate's integration tests (not a stable API): states that the network can
//! produce but a single node's API cannot, reached through the node's own storage code.

use aleph_core::message::PendingMessage;

use crate::pipeline::{insert_pending, Pipeline};
use crate::storage::StorageError;

/// Queues `message` for processing as a peer's copy received earlier would be, past the intake's
/// checks and leaving the message's status as it is (a copy queued before its message got
/// forgotten, say). The processor picks it up at its next wake-up.
pub async fn queue_as_received_earlier(
    pipeline: &Pipeline,
    message: &PendingMessage,
) -> Result<(), StorageError> {
    let message = message.clone();
    pipeline.db().write(move |tx| insert_pending(tx, &message, ("p2p", None), 0.0, 0.0, 0)).await
}

/// Every route of the CCN API and, when the node runs the CRN role, of the CRN, as their
/// routers were built: (method, path template).
pub fn routes(node: &crate::NodeHandle) -> Vec<crate::api::Route> {
    let state = crate::api::AppState::new(node.pipeline().clone(), None, "routes");
    let mut routes = crate::api::routed(state).routes;
    if let Some(crn) = node.crn() {
        routes.extend(crate::crn::routed(crn.clone()).routes);
    }
    routes
}

/// The OpenAPI document the node serves at `/api/openapi.json`, without a running node.
pub fn openapi_document() -> serde_json::Value {
    crate::api::openapi_document()
}
