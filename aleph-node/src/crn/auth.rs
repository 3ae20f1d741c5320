//! Who may call the CRN's control routes: the scheduler (`Aleph-EIP191-V1` signatures from
//! allowed addresses, no replays) and VM owners or their delegates (signed operations).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::http::error;
use super::Crn;

/// Checks the scheduler's signature over this request.
pub(crate) fn scheduler(_crn: &Crn, _headers: &HeaderMap, _method: &str, _path: &str, _body: &[u8]) -> Result<(), Response> {
    Err(error(StatusCode::UNAUTHORIZED, "scheduler authentication is not wired yet"))
}

/// The address that signed this operation.
pub(crate) fn owner(_crn: &Crn, _headers: &HeaderMap, _method: &str, _path: &str) -> Result<String, Response> {
    Err(error(StatusCode::UNAUTHORIZED, "owner authentication is not wired yet"))
}

/// Whether `sender` may operate `owner`'s VMs: the owner itself, or an address the owner's
/// `security` aggregate authorizes (for every message type, or for INSTANCE).
pub(crate) async fn may_operate(crn: &Crn, sender: &str, owner: &str) -> bool {
    if sender.eq_ignore_ascii_case(owner) {
        return true;
    }
    let Ok(security) = crn.resolver().ccn.aggregate(owner, "security").await else { return false };
    security.get("authorizations").and_then(Value::as_array).is_some_and(|list| {
        list.iter().any(|grant| {
            let address_ok = grant.get("address").and_then(Value::as_str).is_some_and(|a| a.eq_ignore_ascii_case(sender));
            let types_ok = match grant.get("types").and_then(Value::as_array) {
                None => true,
                Some(types) => types.is_empty() || types.iter().any(|t| t.as_str() == Some("INSTANCE")),
            };
            address_ok && types_ok
        })
    })
}
