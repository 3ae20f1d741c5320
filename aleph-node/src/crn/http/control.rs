//! `/control/…`: allocations from the scheduler, instance notifications, and owners' machine
//! operations (stop, reboot, logs).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use aleph_core::api::{AllocationNotification, AllocationsAnswer, CrnLogEntry};

use super::{check_ref, error, Refusal};
use crate::crn::{auth, Crn};

fn hashes(body: &Value, key: &str) -> Result<Vec<String>, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str().and_then(|s| check_ref(s).ok()).ok_or_else(|| {
                    Refusal::new(StatusCode::BAD_REQUEST, format!("`{key}` must list item hashes"))
                })
            })
            .collect(),
        Some(_) => Err(Refusal::new(StatusCode::BAD_REQUEST, format!("`{key}` must be a list"))),
    }
}

/// `POST /control/allocation/notify` `{"instance": hash}`: boot an instance the caller paid for.
pub(super) async fn notify(State(crn): State<Crn>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")),
    };
    let Some(hash) = body.get("instance").and_then(Value::as_str).and_then(|h| check_ref(h).ok()) else {
        return error(StatusCode::BAD_REQUEST, "the body must be {\"instance\": <item hash>}");
    };
    match crn.allocate_instance(&hash).await {
        // `successful` is a boolean here (whether the instance started), a list in
        // `/control/allocations`, as in the reference.
        Ok(()) => Json(AllocationNotification::started()).into_response(),
        Err(e) => (e.status(), Json(AllocationNotification::failed(&hash, e.to_string()))).into_response(),
    }
}

/// `POST /control/allocations`: the scheduler's full desired set of persistent programs and
/// instances; what is not listed stops, the rest starts.
pub(super) async fn allocations(
    State(crn): State<Crn>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::scheduler(&crn, &headers, "POST", &uri, &body) {
        return refusal.into_response();
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")),
    };
    let (programs, instances) = match (hashes(&body, "persistent_vms"), hashes(&body, "instances")) {
        (Ok(p), Ok(i)) => (p, i),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let (mut successful, mut errors, stopped) = crn.allocate(&programs).await;
    for hash in instances {
        match crn.allocate_instance(&hash).await {
            Ok(()) => successful.push(hash),
            Err(e) => {
                errors.insert(hash, e.to_string());
            }
        }
    }
    let failing: Vec<String> = errors.keys().cloned().collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else if successful.is_empty() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::MULTI_STATUS
    };
    let errors: BTreeMap<String, String> = errors.into_iter().collect();
    let answer = AllocationsAnswer { success: failing.is_empty(), successful, failing, stopped, errors };
    (status, Json(answer)).into_response()
}

/// Authenticates the owner (or a delegate) of the program or instance `reference`.
async fn owner_of(
    crn: &Crn,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    reference: &str,
) -> Result<String, Refusal> {
    let hash = check_ref(reference)?;
    let sender = auth::owner(crn, headers, method, path)?;
    let owner = match crn.running(&hash).await {
        Some(exec) => exec.spec.owner.clone(),
        None => match crn.instances().records().get(&hash) {
            Some(r) => r.owner.clone(),
            None => return Err(Refusal::new(StatusCode::NOT_FOUND, format!("no VM {hash} on this CRN"))),
        },
    };
    if auth::may_operate(crn, &sender, &owner).await {
        Ok(hash)
    } else {
        Err(Refusal::new(StatusCode::FORBIDDEN, "Unauthorized sender"))
    }
}

/// `POST /control/machine/{ref}/stop`.
pub(super) async fn stop(
    State(crn): State<Crn>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/control/machine/{reference}/stop");
    let hash = match owner_of(&crn, &headers, "POST", &path, &reference).await {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    let stopped = crn.stop(&hash).await | crn.instances().stop(&hash).await;
    if stopped {
        (StatusCode::OK, "Stopped VM").into_response()
    } else {
        (StatusCode::OK, "Already stopped").into_response()
    }
}

/// `POST /control/machine/{ref}/reboot`.
pub(super) async fn reboot(
    State(crn): State<Crn>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/control/machine/{reference}/reboot");
    let hash = match owner_of(&crn, &headers, "POST", &path, &reference).await {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    if crn.running(&hash).await.is_some() {
        crn.stop(&hash).await;
        return match crn.get_or_start(&hash).await {
            Ok(_) => (StatusCode::OK, "Rebooted VM").into_response(),
            Err(e) => e.into_response(),
        };
    }
    crn.instances().stop(&hash).await;
    match crn.allocate_instance(&hash).await {
        Ok(()) => (StatusCode::OK, "Rebooted VM").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /control/machine/{ref}/erase`: stops an instance and deletes its disk (a program is
/// stopped; it has nothing kept to erase).
pub(super) async fn erase(
    State(crn): State<Crn>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/control/machine/{reference}/erase");
    let hash = match owner_of(&crn, &headers, "POST", &path, &reference).await {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    crn.stop(&hash).await;
    crn.instances().erase(crn.resolver(), &hash).await;
    (StatusCode::OK, "Erased VM").into_response()
}

/// `GET /control/machine/{ref}/logs`: the program's output lines.
pub(super) async fn logs(
    State(crn): State<Crn>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/control/machine/{reference}/logs");
    let hash = match owner_of(&crn, &headers, "GET", &path, &reference).await {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    match crn.running(&hash).await {
        Some(exec) => Json(exec.logs.entries(&hash)).into_response(),
        None => Json(Vec::<CrnLogEntry>::new()).into_response(),
    }
}
