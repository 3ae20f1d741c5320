//! The operator's pages, server-rendered HTML: `/` (version, role, peers, message counts by
//! status, the latest messages, and a search by item hash or address) and
//! `/message/{item_hash}` (one message: status, content, confirmations and the signature
//! check's verdict).
//!
//! Everything that comes from messages, peers or the query string goes through [`escape`]. The
//! pages read what the JSON API reads: the metrics counters, the message lookup of
//! `GET /api/v0/messages/{item_hash}`, the listing of `messages.json`, and the core's signature
//! verification. There is no chain sync in this node, so no chain sync state is shown.

use std::fmt::Write as _;

use aleph_core::message::{parse_time_value, time_to_rfc3339, Message};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::AppState;
use crate::config::Role;
use crate::storage::messages::{self as store, ContentFormat, MessageQuery, Paging};

/// How many messages the home page lists.
const LATEST: u64 = 20;
/// The longest search accepted (addresses and hashes are far shorter).
const MAX_QUERY: usize = 256;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A string field of a JSON object, escaped (empty when absent).
fn field(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => escape(s),
        Some(Value::Null) | None => String::new(),
        Some(other) => escape(&other.to_string()),
    }
}

fn time_text(v: &Value) -> String {
    parse_time_value(v).and_then(time_to_rfc3339).map(|t| escape(&t)).unwrap_or_default()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Ccn => "ccn",
        Role::Crn => "crn",
        Role::Both => "ccn + crn",
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title><style>\
         body{{font-family:sans-serif;margin:1.5em;max-width:80em}}\
         table{{border-collapse:collapse;margin-bottom:1em}}\
         td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left;font-size:.9em}}\
         code,pre{{font-size:.85em}} pre{{background:#f4f4f4;padding:.5em;overflow:auto}}\
         .bad{{color:#a00}} .good{{color:#070}}\
         </style></head><body>\n<p><a href=\"/\">aleph-node</a></p>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

fn search_form(q: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/\" id=\"search\"><input name=\"q\" size=\"70\" value=\"{}\" \
         placeholder=\"item hash or address\"> <button type=\"submit\">Search</button></form>\n",
        escape(q)
    )
}

/// A table of messages in list form, each linked to its page.
fn message_table(messages: &[Value]) -> String {
    if messages.is_empty() {
        return "<p id=\"no-messages\">No messages.</p>\n".into();
    }
    let mut out = String::from(
        "<table id=\"messages\"><tr><th>time</th><th>type</th><th>item hash</th><th>sender</th><th>channel</th></tr>\n",
    );
    for m in messages {
        let hash = field(m, "item_hash");
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><a href=\"/message/{hash}\"><code>{hash}</code></a></td>\
             <td><code>{}</code></td><td>{}</td></tr>",
            time_text(m.get("time").unwrap_or(&Value::Null)),
            field(m, "type"),
            field(m, "sender"),
            field(m, "channel"),
        );
    }
    out.push_str("</table>\n");
    out
}

fn chains_section(state: &AppState) -> String {
    let readers = state.pipeline.chain_monitor().snapshot();
    if readers.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Chains</h2>\n<table id=\"chains\"><tr><th>chain</th><th>task</th><th>height</th><th>head</th>\
         <th>transactions</th><th>skipped</th><th>RPC calls</th><th>state</th></tr>\n",
    );
    for r in readers {
        let health = match &r.last_error {
            Some(e) => format!("failing ({} in a row): {}", r.consecutive_failures, escape(e)),
            None => "ok".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{health}</td></tr>",
            escape(&r.chain),
            escape(&r.kind),
            r.height,
            r.head,
            r.transactions,
            r.skipped,
            r.rpc_calls,
        );
    }
    out.push_str("</table>\n");
    out
}

fn peers_section(state: &AppState) -> String {
    let Some(broadcaster) = &state.broadcaster else {
        return "<p id=\"peers\">Standalone: no P2P layer.</p>\n".into();
    };
    let mut peers = broadcaster.peer_table();
    if peers.is_empty() {
        return "<p id=\"peers\">No peers yet.</p>\n".into();
    }
    peers.sort_by(|a, b| b.1.connected.cmp(&a.1.connected).then_with(|| a.0.cmp(&b.0)));
    let mut out = String::from(
        "<table id=\"peers\"><tr><th>peer</th><th>state</th><th>version</th><th>HTTP</th><th>last seen</th>\
         <th>invalid messages</th></tr>\n",
    );
    for (id, info) in peers {
        let state = if info.connected { "connected" } else { "disconnected" };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{state}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&id),
            escape(info.version.as_deref().unwrap_or("")),
            escape(info.addresses.get("HTTP").map(String::as_str).unwrap_or("")),
            escape(&time_to_rfc3339(info.last_seen).unwrap_or_default()),
            info.invalid_messages,
        );
    }
    out.push_str("</table>\n");
    out
}

/// `GET /`: the node's status; `?q=` searches: an item hash leads to its message page, anything
/// else is taken as an address whose latest messages are listed.
pub(crate) async fn home(State(state): State<AppState>, Query(params): Query<Params>) -> ApiResult<Response> {
    let q = params.get("q").map(|q| q.trim().to_owned()).unwrap_or_default();
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::BadRequest(format!("the search is longer than {MAX_QUERY} characters")));
    }
    if aleph_core::ItemHash::is_valid(&q) {
        return Ok(Redirect::to(&format!("/message/{q}")).into_response());
    }
    let counts = super::misc::counters(&state).await?;
    let query = MessageQuery {
        addresses: if q.is_empty() { Vec::new() } else { vec![q.clone()] },
        ..Default::default()
    };
    let paging = Paging::Cursor { after: None, per_page: LATEST };
    let latest = state
        .pipeline
        .db()
        .read(move |c| store::list_messages(c, &query, &paging, ContentFormat::Headers))
        .await?;

    let mut body = format!(
        "<h1>aleph-node {}</h1>\n<p>Role: <span id=\"role\">{}</span></p>\n",
        escape(state.version),
        role_name(state.pipeline.config().role),
    );
    body.push_str(&search_form(&q));
    body.push_str("<h2>Messages</h2>\n<table id=\"counts\">\n");
    for (label, name) in [
        ("processed", "sync_messages_total"),
        ("pending", "sync_pending_messages_total"),
        ("rejected", "sync_rejected_messages_total"),
        ("forgotten", "sync_forgotten_messages_total"),
        ("files", "sync_files_total"),
    ] {
        let n = counts.iter().find(|(k, _)| *k == name).map_or(0, |(_, v)| *v);
        let _ = writeln!(body, "<tr><th>{label}</th><td id=\"count-{label}\">{n}</td></tr>");
    }
    body.push_str("</table>\n<h2>Peers</h2>\n");
    body.push_str(&peers_section(&state));
    body.push_str(&chains_section(&state));
    if q.is_empty() {
        body.push_str("<h2>Latest messages</h2>\n");
    } else {
        let _ = writeln!(body, "<h2>Latest messages of <code id=\"address\">{}</code></h2>", escape(&q));
    }
    body.push_str(&message_table(&latest.messages));
    Ok(Html(page("aleph-node", &body)).into_response())
}

/// The signature check's verdict on an envelope, as HTML: the envelope read as the API serves
/// it (ISO times and object signatures included), then the core's verification.
fn signature_verdict(m: &Value) -> String {
    if m.get("signature").is_none_or(Value::is_null) {
        return "<span id=\"signature\">no signature</span>".into();
    }
    let verdict = Message::from_value_unchecked(m)
        .map_err(|e| e.to_string())
        .and_then(|m| aleph_core::verify_signature(&m.signed_fields()).map_err(|e| e.to_string()));
    match verdict {
        Ok(()) => "<span id=\"signature\" class=\"good\">valid</span>".into(),
        Err(e) => format!("<span id=\"signature\" class=\"bad\">invalid: {}</span>", escape(&e)),
    }
}

fn pretty(v: &Value) -> String {
    escape(&serde_json::to_string_pretty(v).unwrap_or_default())
}

/// `GET /message/{item_hash}`: one message, whatever its status.
pub(crate) async fn message(State(state): State<AppState>, Path(hash): Path<String>) -> ApiResult<Response> {
    if !aleph_core::ItemHash::is_valid(&hash) {
        return Err(ApiError::BadRequest(format!("invalid item hash {hash:?}")));
    }
    let h = hash.clone();
    let found = state
        .pipeline
        .db()
        .read(move |c| {
            let Some(found) = super::messages::lookup(c, &h)? else { return Ok(None) };
            let found = serde_json::to_value(found)?;
            Ok(Some((found, store::confirmations(c, &h)?)))
        })
        .await?;
    let Some((found, confirmations)) = found else {
        let body = format!(
            "{}<h1>Message not found</h1>\n<p id=\"not-found\">This node has never seen <code>{}</code>.</p>\n",
            search_form(&hash),
            escape(&hash)
        );
        return Ok((StatusCode::NOT_FOUND, Html(page("message not found", &body))).into_response());
    };
    let status = found.get("status").and_then(Value::as_str).unwrap_or_default();
    // Pending messages may have arrived more than once: the first copy is shown.
    let envelope = match found.get("messages") {
        Some(Value::Array(copies)) => copies.first().cloned().unwrap_or(Value::Null),
        _ => found.get("message").cloned().unwrap_or(Value::Null),
    };
    let content = match envelope.get("content") {
        Some(c) if !c.is_null() => Some(c.clone()),
        _ => envelope
            .get("item_content")
            .and_then(Value::as_str)
            .and_then(|c| serde_json::from_str::<Value>(c).ok()),
    };

    let mut body = search_form("");
    let _ = writeln!(body, "<h1>Message <code id=\"item-hash\">{}</code></h1>", escape(&hash));
    body.push_str("<table id=\"message\">\n");
    let mut row = |label: &str, id: &str, value: String| {
        let _ = writeln!(body, "<tr><th>{label}</th><td id=\"{id}\">{value}</td></tr>");
    };
    row("status", "status", escape(status));
    row("type", "type", field(&envelope, "type"));
    row("chain", "chain", field(&envelope, "chain"));
    let sender = field(&envelope, "sender");
    let sender = if !sender.is_empty() && sender.chars().all(|c| c.is_ascii_alphanumeric()) {
        format!("<a href=\"/?q={sender}\"><code>{sender}</code></a>")
    } else {
        format!("<code>{sender}</code>")
    };
    row("sender", "sender", sender);
    row("channel", "channel", field(&envelope, "channel"));
    row("item type", "item-type", field(&envelope, "item_type"));
    row("time", "time", time_text(envelope.get("time").unwrap_or(&Value::Null)));
    row("received", "reception-time", time_text(found.get("reception_time").unwrap_or(&Value::Null)));
    row("signature", "signature-check", signature_verdict(&envelope));
    let confirmed = if confirmations.is_empty() {
        "none".to_owned()
    } else {
        confirmations
            .iter()
            .map(|c| format!("{} {} (height {})", field(c, "chain"), field(c, "hash"), field(c, "height")))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    row("confirmations", "confirmations", confirmed);
    if status == "rejected" {
        row("error code", "error-code", field(&found, "error_code"));
        row(
            "details",
            "details",
            format!("<pre>{}</pre>", pretty(found.get("details").unwrap_or(&Value::Null))),
        );
    }
    if status == "forgotten" {
        row("forgotten by", "forgotten-by", pretty(found.get("forgotten_by").unwrap_or(&Value::Null)));
    }
    body.push_str("</table>\n<h2>Content</h2>\n");
    match content {
        Some(c) => {
            let _ = writeln!(body, "<pre id=\"content\">{}</pre>", pretty(&c));
        }
        None => body.push_str("<p id=\"content\">Not available on this node.</p>\n"),
    }
    Ok(Html(page(&format!("message {hash}"), &body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_in_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script> 'q'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; &#39;q&#39;"
        );
        assert_eq!(escape("plain text, é ✓"), "plain text, é ✓");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn fields_are_escaped() {
        let m = serde_json::json!({"channel": "<b>x</b>", "n": 3});
        assert_eq!(field(&m, "channel"), "&lt;b&gt;x&lt;/b&gt;");
        assert_eq!(field(&m, "n"), "3");
        assert_eq!(field(&m, "missing"), "");
    }

    #[test]
    fn a_tampered_signature_is_reported_invalid() {
        let m = serde_json::json!({
            "chain": "ETH", "sender": "0x0000000000000000000000000000000000000000", "type": "POST",
            "item_type": "storage",
            "item_hash": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "signature": "0x00", "time": 1.0,
        });
        assert!(signature_verdict(&m).contains("invalid"), "{}", signature_verdict(&m));
        let unsigned = serde_json::json!({"chain": "ETH"});
        assert!(signature_verdict(&unsigned).contains("no signature"));
    }
}
