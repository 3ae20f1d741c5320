//! What the bridges are doing, for `/metrics`, `/api/v0/chains/status` and the status page.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// The state of every bridge task of a node (empty when none is configured).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChainMonitor {
    readers: Arc<Mutex<Vec<Arc<Mutex<ReaderState>>>>>,
}

/// One bridge task: a chain and what it reads (`sync`, `publish`, `token`, `tezos`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct ReaderState {
    /// The chain label.
    pub chain: String,
    /// What the task does.
    pub kind: String,
    /// The last height (or event count) consumed.
    pub height: u64,
    /// The chain head last seen (minus nothing: the depth applies to reads).
    pub head: u64,
    /// RPC (or indexer) calls made.
    pub rpc_calls: u64,
    /// Calls that failed.
    pub rpc_errors: u64,
    /// Failures since the last success (0: healthy).
    pub consecutive_failures: u32,
    /// The last failure, if the task is failing now.
    pub last_error: Option<String>,
    /// Events, archives or messages skipped (see `chain_skipped` for the reasons).
    pub skipped: u64,
    /// Transactions read (or, for a writer, sent).
    pub transactions: u64,
}

/// A task's handle on its own state.
#[derive(Debug, Clone)]
pub(crate) struct ReaderHandle(Arc<Mutex<ReaderState>>);

impl ChainMonitor {
    /// Registers a task and returns its handle.
    pub(crate) fn reader(&self, chain: &str, kind: &str) -> ReaderHandle {
        let state = Arc::new(Mutex::new(ReaderState {
            chain: chain.into(),
            kind: kind.into(),
            ..Default::default()
        }));
        if let Ok(mut list) = self.readers.lock() {
            list.push(state.clone());
        }
        ReaderHandle(state)
    }

    /// A copy of every task's state.
    pub(crate) fn snapshot(&self) -> Vec<ReaderState> {
        let Ok(list) = self.readers.lock() else { return Vec::new() };
        list.iter().filter_map(|s| s.lock().ok().map(|s| s.clone())).collect()
    }

    /// Prometheus lines for every task.
    pub(crate) fn metrics(&self) -> String {
        let mut out = String::new();
        for r in self.snapshot() {
            let labels = format!("chain=\"{}\",kind=\"{}\"", r.chain, r.kind);
            out.push_str(&format!("aleph_node_chain_height{{{labels}}} {}\n", r.height));
            out.push_str(&format!("aleph_node_chain_head{{{labels}}} {}\n", r.head));
            out.push_str(&format!("aleph_node_chain_rpc_calls_total{{{labels}}} {}\n", r.rpc_calls));
            out.push_str(&format!("aleph_node_chain_rpc_errors_total{{{labels}}} {}\n", r.rpc_errors));
            out.push_str(&format!(
                "aleph_node_chain_failing{{{labels}}} {}\n",
                u8::from(r.consecutive_failures > 0)
            ));
            out.push_str(&format!("aleph_node_chain_skipped_total{{{labels}}} {}\n", r.skipped));
            out.push_str(&format!("aleph_node_chain_transactions_total{{{labels}}} {}\n", r.transactions));
        }
        out
    }
}

impl ReaderHandle {
    fn update(&self, f: impl FnOnce(&mut ReaderState)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }

    pub(crate) fn call(&self) {
        self.update(|s| s.rpc_calls += 1);
    }

    pub(crate) fn failed(&self, error: &str) -> u32 {
        let mut n = 0;
        self.update(|s| {
            s.rpc_errors += 1;
            s.consecutive_failures += 1;
            s.last_error = Some(error.to_owned());
            n = s.consecutive_failures;
        });
        n
    }

    pub(crate) fn healthy(&self) {
        self.update(|s| {
            s.consecutive_failures = 0;
            s.last_error = None;
        });
    }

    pub(crate) fn progress(&self, height: u64, head: u64) {
        self.update(|s| {
            s.height = height;
            s.head = head;
        });
    }

    pub(crate) fn skipped(&self, n: u64) {
        self.update(|s| s.skipped += n);
    }

    pub(crate) fn transactions(&self, n: u64) {
        self.update(|s| s.transactions += n);
    }
}
