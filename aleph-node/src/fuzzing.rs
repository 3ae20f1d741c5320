//! Entry points for the fuzz targets in `fuzz/` (not a stable API): the decoders that take bytes
//! from the network, each run the way the node runs it, without storage. Each returns whether the
//! input was accepted; none may panic.

use crate::p2p::sync::{SyncRequest, SyncResponse};
use crate::pipeline::Prepared;

/// A gossip payload, as the P2P layer judges it before submitting it.
pub fn gossip(data: &[u8]) -> bool {
    crate::p2p::validate_gossip(data).is_ok()
}

/// A catch-up request or answer from a peer: decoded as the codec decodes it, then every
/// envelope of an answer prepared and judged as a page is before anything is recorded.
pub fn sync_message(data: &[u8]) -> bool {
    let request = serde_json::from_slice::<SyncRequest>(data).is_ok();
    let Ok(page) = serde_json::from_slice::<SyncResponse>(data) else {
        return request;
    };
    let mut accepted = 0usize;
    for m in page.messages {
        if let Ok(p) = Prepared::new(m) {
            accepted += usize::from(p.peer_rejection().is_none());
        }
    }
    accepted > 0 || request
}

/// A request's query string, parsed as the API's handlers parse it (axum's `Query`, then the
/// message filters, paging and date range of `messages.json`). Out-of-range values must be
/// refusals, never a panic or an overflow.
pub fn http_query(raw: &[u8]) -> bool {
    use crate::api::query;
    let Ok(text) = std::str::from_utf8(raw) else {
        return false;
    };
    let Ok(uri) = format!("/api/v0/messages.json?{text}").parse::<axum::http::Uri>() else {
        return false;
    };
    let Ok(axum::extract::Query(params)) = axum::extract::Query::<query::Params>::try_from_uri(&uri) else {
        return false;
    };
    let max = crate::NodeConfig::default().limits.max_pagination;
    let filters = query::message_query(&params).is_ok();
    let paging = query::paging(&params, 20, None, max).is_ok();
    let dates = query::date_range(&params).is_ok();
    filters && paging && dates
}
