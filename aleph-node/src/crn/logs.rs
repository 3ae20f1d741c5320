//! What a program printed: the last lines of its stdout and stderr, served by
//! `/control/machine/{ref}/logs` in the shape aleph-vm reads from journald.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Lines kept per program.
const KEEP: usize = 2000;

#[derive(Debug, Clone)]
struct Line {
    micros: i64,
    stream: &'static str,
    text: String,
}

/// A bounded buffer of a program's output.
#[derive(Debug, Clone, Default)]
pub(crate) struct Logs {
    lines: Arc<Mutex<VecDeque<Line>>>,
}

impl Logs {
    fn push(&self, stream: &'static str, text: String) {
        let micros = (crate::pipeline::now() * 1e6) as i64;
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == KEEP {
            lines.pop_front();
        }
        lines.push_back(Line { micros, stream, text });
    }

    /// Copies `reader` line by line into the buffer until it ends.
    pub(crate) fn collect(&self, stream: &'static str, reader: impl AsyncRead + Unpin + Send + 'static) {
        let logs = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(mut line)) = lines.next_line().await {
                // A micro-VM's serial console ends its lines with CR LF.
                if line.ends_with('\r') {
                    line.pop();
                }
                tracing::debug!(target: "aleph_node::crn::program", stream, "{line}");
                logs.push(stream, line);
            }
        });
    }

    /// The last `n` lines, joined (for error messages).
    pub(crate) fn tail(&self, n: usize) -> String {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let skip = lines.len().saturating_sub(n);
        lines.iter().skip(skip).map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// The entries as aleph-vm serves them.
    pub(crate) fn entries(&self, name: &str) -> Vec<aleph_core::api::CrnLogEntry> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().map(|l| aleph_core::api::CrnLogEntry::new(name, l.stream, &l.text, l.micros)).collect()
    }
}
