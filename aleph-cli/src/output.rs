//! Human and `--json` output, in one place.
//!
//! The `--json` shapes are stable:
//!
//! | output | shape |
//! | --- | --- |
//! | a published message | `{"item_hash", "type", "chain", "sender", "channel", "status"}` |
//! | an uploaded file (`file upload`) | the published STORE message's fields plus `"file_hash"` and `"size"` |
//! | a signed message (`--dry-run`, `message sign`) | the message as submitted: `{"sender", "chain", "signature", "type", "item_type", "item_content", "item_hash", "time", "channel"}`, one per line |
//! | a verdict (`message verify`) | `{"item_hash", "valid", "error"}`, one per line |
//! | a listing | `{"<items>": [...], "page", "per_page", "total"}` as the API returns it |
//! | a watched message | the message, one per line |
//! | anything else | one JSON object, documented on the command |

use std::fmt::Write as _;
use std::io::Write as _;

use aleph_sdk::core::PendingMessage;
use aleph_sdk::Submitted;
use serde::Serialize;
use serde_json::{json, Value};

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Output { json }
    }

    /// Whether `--json` was given.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as one JSON line in `--json` mode, else the `human` text.
    pub(crate) fn emit(&self, value: &impl Serialize, human: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
            line(&serde_json::to_string(value)?)
        } else {
            let text = human();
            if text.ends_with('\n') {
                raw(&text)
            } else {
                line(&text)
            }
        }
    }

    /// Prints a JSON document: one line with `--json`, indented otherwise.
    pub(crate) fn document(&self, value: &impl Serialize) -> anyhow::Result<()> {
        if self.json {
            line(&serde_json::to_string(value)?)
        } else {
            line(&serde_json::to_string_pretty(value)?)
        }
    }

    /// Prints signed messages: one per line with `--json`, indented otherwise.
    pub(crate) fn signed(&self, messages: &[PendingMessage]) -> anyhow::Result<()> {
        for m in messages {
            self.document(m)?;
        }
        Ok(())
    }

    /// Prints the outcome of a publication.
    pub(crate) fn submitted(&self, s: &Submitted) -> anyhow::Result<()> {
        self.emit(&submitted_value(s), || submitted_line(s))
    }

    /// Prints the outcome of a file upload: the STORE message and the file it stores (the hash
    /// `file download` takes), with its size.
    pub(crate) fn stored(&self, s: &Submitted, file_hash: &str, size: u64) -> anyhow::Result<()> {
        let mut value = submitted_value(s);
        value["file_hash"] = json!(file_hash);
        value["size"] = json!(size);
        self.emit(&value, || format!("{}\nfile {file_hash} ({size} bytes)", submitted_line(s)))
    }
}

fn submitted_value(s: &Submitted) -> Value {
    let m = &s.message;
    json!({
        "item_hash": m.item_hash.as_str(),
        "type": m.message_type.as_str(),
        "chain": m.chain.as_str(),
        "sender": m.sender,
        "channel": m.channel,
        "status": s.status.as_str(),
    })
}

fn submitted_line(s: &Submitted) -> String {
    format!("{} {} {}", s.message.message_type, s.message.item_hash, s.status.as_str())
}

/// Writes one line to stdout; a closed pipe (`| head`) ends quietly.
pub(crate) fn line(text: &str) -> anyhow::Result<()> {
    raw(&format!("{text}\n"))
}

fn raw(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(crate::error::CliError::Exit(0).into()),
        Err(e) => Err(e.into()),
    }
}

/// A plain-text table: columns padded to their widest cell.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                let _ = write!(out, "{c:<w$}  ", w = widths.get(i).copied().unwrap_or(0));
            }
        }
        out.push('\n');
    };
    push_row(headers.to_vec());
    for r in rows {
        push_row(r.iter().map(String::as_str).collect());
    }
    out
}

/// A time in seconds as RFC 3339 (UTC, seconds precision).
pub(crate) fn time(t: f64) -> String {
    if !t.is_finite() {
        return t.to_string();
    }
    chrono::DateTime::<chrono::Utc>::from_timestamp(t.floor() as i64, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// A compact one-line rendering of a JSON value, cut to `max` characters.
pub(crate) fn compact(v: &Value, max: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        s
    }
}
