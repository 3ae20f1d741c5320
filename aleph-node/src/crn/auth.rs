//! Who may call the CRN's control routes: the scheduler (`Aleph-EIP191-V1` signatures from the
//! configured signers, exact replays refused) and VM owners or their delegates (the signed
//! pubkey + signed operation headers). The checks themselves are aleph-core's
//! [`aleph_core::vm_auth`]; this module applies them to requests.

use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

use aleph_core::vm_auth::{
    verify_signed_operation, SchedulerAuthError, SchedulerRequest, SIGNED_OPERATION_HEADER,
    SIGNED_PUBKEY_HEADER,
};

use super::http::Refusal;
use super::Crn;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks the scheduler's signature over this request (the reference answers every failure
/// with 401; an unknown signer is told apart here with 403).
pub(crate) fn scheduler(
    crn: &Crn,
    headers: &HeaderMap,
    method: &str,
    uri: &Uri,
    body: &[u8],
) -> Result<(), Refusal> {
    let authorization = header(headers, "authorization");
    if authorization.is_empty() {
        return Err(Refusal::new(StatusCode::UNAUTHORIZED, "missing Authorization header"));
    }
    let request = SchedulerRequest { method, path: uri.path(), query: uri.query().unwrap_or(""), body };
    let now = chrono::Utc::now();
    let refuse = |e: SchedulerAuthError| {
        let status = match e {
            SchedulerAuthError::UnauthorizedSigner(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        Refusal::new(status, format!("Authentication token received is invalid: {e}"))
    };
    let auth = crn.scheduler_policy().verify(authorization, &request, now).map_err(refuse)?;
    crn.replay_guard().lock().unwrap_or_else(|e| e.into_inner()).accept(&auth, now).map_err(refuse)
}

/// The address that signed this operation, checked against this CRN's domain and the path.
pub(crate) fn owner(crn: &Crn, headers: &HeaderMap, method: &str, path: &str) -> Result<String, Refusal> {
    let domain = crn_domain(crn.public_url());
    verify_signed_operation(
        header(headers, SIGNED_PUBKEY_HEADER),
        header(headers, SIGNED_OPERATION_HEADER),
        method,
        &domain,
        path,
        chrono::Utc::now(),
    )
    .map(|sender| sender.address)
    .map_err(|e| Refusal::new(StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED), e))
}

/// The domain signed operations name: the CRN URL's host, lowercased, without port or brackets
/// (what the official SDK derives from the URL it is given, with Python's `urlparse`).
pub(crate) fn crn_domain(url: &str) -> String {
    crate::corechannel::replay::url_host(url).unwrap_or_default()
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
            let address_ok =
                grant.get("address").and_then(Value::as_str).is_some_and(|a| a.eq_ignore_ascii_case(sender));
            let types_ok = match grant.get("types").and_then(Value::as_array) {
                None => true,
                Some(types) => types.is_empty() || types.iter().any(|t| t.as_str() == Some("INSTANCE")),
            };
            address_ok && types_ok
        })
    })
}

#[cfg(test)]
mod tests {
    use super::crn_domain;

    #[test]
    fn domains_are_hosts_without_ports() {
        assert_eq!(crn_domain("https://CRN.Example.org/"), "crn.example.org");
        assert_eq!(crn_domain("http://127.0.0.1:4020"), "127.0.0.1");
        assert_eq!(crn_domain("http://[::1]:4020/x"), "::1");
    }
}
