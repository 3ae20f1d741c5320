//! One module per command area, each with its `XxxArgs` and `async fn run(self, ctx)`.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

use crate::error::usage;

pub mod account;
pub mod aggregate;
pub mod authorization;
pub mod completions;
pub mod config;
pub mod file;
pub mod instance;
pub mod message;
pub mod node;
pub mod post;
pub mod program;

/// Reads a file, or stdin for `-` or no path. Unreadable input is a usage error (exit code 2).
pub(crate) fn read_input(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::read(p).map_err(|e| usage(format!("cannot read {}: {e}", p.display())))
        }
        _ => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("reading stdin")?;
            Ok(buf)
        }
    }
}

/// JSON from `--content TEXT` or `--file PATH` (`-` for stdin).
pub(crate) fn json_content(content: Option<&str>, file: Option<&Path>) -> anyhow::Result<Value> {
    let text = match (content, file) {
        (Some(c), _) => c.to_owned(),
        (None, Some(f)) => String::from_utf8(read_input(Some(f))?)
            .map_err(|_| usage(format!("{} is not UTF-8 text", f.display())))?,
        (None, None) => {
            return Err(usage("give the content with --content JSON or --file PATH (- for stdin)"))
        }
    };
    serde_json::from_str(&text).map_err(|e| usage(format!("the content is not valid JSON: {e}")))
}

/// Parses an item hash given on the command line (a usage error otherwise).
pub(crate) fn item_hash(s: &str) -> anyhow::Result<aleph_sdk::ItemHash> {
    s.trim().parse().map_err(|e| usage(format!("{s:?} is not an item hash: {e}")))
}
