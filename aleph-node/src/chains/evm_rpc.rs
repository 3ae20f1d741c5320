//! JSON-RPC access to an EVM chain (alloy), and the windowed `eth_getLogs` scan the readers
//! share: windows of at most `max_block_range` blocks, halved when the RPC refuses a range,
//! never past head − `confirmation_depth`.

use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use alloy::transports::{RpcError, TransportErrorKind};

use super::monitor::ReaderHandle;
use super::ChainConfigError;

alloy::sol! {
    /// The sync contract's events and functions (NETWORK.md §4.3).
    event SyncEvent(uint256 timestamp, address addr, string message);
    event MessageEvent(uint256 timestamp, address addr, string msgtype, string msgcontent);
    function doEmit(string message);
    /// ERC-20.
    event Transfer(address indexed from, address indexed to, uint256 value);
}

/// A provider for `url`.
pub(super) fn provider(url: &str) -> Result<DynProvider, ChainConfigError> {
    let url = url.parse().map_err(|e| ChainConfigError(format!("rpc_url {url:?}: {e}")))?;
    Ok(ProviderBuilder::new().connect_http(url).erased())
}

/// An address from the configuration.
pub(super) fn address(field: &str, text: &str) -> Result<Address, ChainConfigError> {
    text.parse().map_err(|e| ChainConfigError(format!("{field} {text:?}: {e}")))
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
enum CallError {
    /// The RPC refused the block range (too many results, range too wide).
    #[error("range refused: {0}")]
    RangeRefused(String),
    /// Anything else: unreachable, timed out, a server error.
    #[error("{0}")]
    Other(String),
}

impl From<RpcError<TransportErrorKind>> for CallError {
    fn from(e: RpcError<TransportErrorKind>) -> Self {
        if let RpcError::ErrorResp(payload) = &e {
            if is_range_refusal(payload.code, &payload.message) {
                return CallError::RangeRefused(format!("{} ({})", payload.message, payload.code));
            }
        }
        CallError::Other(e.to_string())
    }
}

/// Whether an RPC error answers "this block range is too much": code -32005 (limit exceeded),
/// or the messages providers use for it.
fn is_range_refusal(code: i64, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == -32005
        || m.contains("too many results")
        || m.contains("query returned more than")
        || m.contains("block range")
        || m.contains("range is too large")
        || m.contains("exceed maximum block range")
}

/// The next block window to scan, its width adapting to the RPC's refusals.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Window {
    max: u64,
    width: u64,
}

impl Window {
    pub(super) fn new(max_block_range: u64) -> Self {
        let max = max_block_range.max(1);
        Window { max, width: max }
    }

    /// The window starting at `from` and ending at or before `last`.
    pub(super) fn span(&self, from: u64, last: u64) -> (u64, u64) {
        (from, last.min(from.saturating_add(self.width - 1)))
    }

    /// A refused range: half as wide next time; `false` when it cannot shrink any more.
    pub(super) fn halve(&mut self) -> bool {
        if self.width == 1 {
            return false;
        }
        self.width = (self.width / 2).max(1);
        true
    }

    pub(super) fn width(&self) -> u64 {
        self.width
    }
}

/// A contract's logs of some events, read window by window from where a reader stopped up to
/// head − `depth`.
pub(super) struct LogSource {
    rpc: DynProvider,
    address: Address,
    topics0: Vec<B256>,
    start_height: u64,
    depth: u64,
    window: Window,
}

/// One poll's blocks: from the first unread up to the last deep enough.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scan {
    /// The next block to read.
    pub(super) next: u64,
    /// The last block to read (head − depth).
    pub(super) last: u64,
    /// The chain head.
    pub(super) head: u64,
}

impl LogSource {
    pub(super) fn new(
        rpc_url: &str,
        address: Address,
        topics0: Vec<B256>,
        start_height: u64,
        depth: u64,
        max_block_range: u64,
    ) -> Result<Self, ChainConfigError> {
        Ok(LogSource {
            rpc: provider(rpc_url)?,
            address,
            topics0,
            start_height,
            depth,
            window: Window::new(max_block_range),
        })
    }

    /// What to read now: after the last height the reader `(chain, kind)` consumed.
    pub(super) async fn scan(
        &self,
        pipeline: &crate::pipeline::Pipeline,
        (chain, kind): (&str, &'static str),
        monitor: &ReaderHandle,
    ) -> Result<Scan, String> {
        let chain = chain.to_owned();
        let synced = pipeline
            .db()
            .read(move |c| crate::storage::chains::sync_height(c, &chain, kind))
            .await
            .map_err(|e| e.to_string())?;
        let head = head(&self.rpc, monitor).await.map_err(|e| e.to_string())?;
        Ok(Scan {
            next: synced.map_or(self.start_height, |h| h + 1),
            last: head.saturating_sub(self.depth),
            head,
        })
    }

    /// The next window's logs and its last block, `None` once `scan` is read. A refused range
    /// halves the window and is asked again.
    pub(super) async fn next(
        &mut self,
        scan: &mut Scan,
        monitor: &ReaderHandle,
    ) -> Result<Option<(Vec<Log>, u64)>, String> {
        while scan.next <= scan.last {
            let (a, b) = self.window.span(scan.next, scan.last);
            match logs(&self.rpc, monitor, self.address, &self.topics0, a, b).await {
                Ok(found) => {
                    scan.next = b + 1;
                    return Ok(Some((found, b)));
                }
                Err(CallError::RangeRefused(e)) => {
                    if !self.window.halve() {
                        return Err(format!("logs of block {a} refused even one block at a time: {e}"));
                    }
                    tracing::info!(address = %self.address, width = self.window.width(), "range refused; halving the window");
                }
                Err(CallError::Other(e)) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// The logs of `address` with one of `topics0` in `[from, to]`, in chain order.
async fn logs(
    rpc: &DynProvider,
    monitor: &ReaderHandle,
    address: Address,
    topics0: &[B256],
    from: u64,
    to: u64,
) -> Result<Vec<Log>, CallError> {
    monitor.call();
    let filter =
        Filter::new().address(address).event_signature(topics0.to_vec()).from_block(from).to_block(to);
    let mut logs = rpc.get_logs(&filter).await?;
    logs.sort_by_key(|l| (l.block_number, l.log_index));
    Ok(logs)
}

/// The chain head.
async fn head(rpc: &DynProvider, monitor: &ReaderHandle) -> Result<u64, CallError> {
    monitor.call();
    Ok(rpc.get_block_number().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_halve_on_refusal_and_stop_at_one_block() {
        let mut w = Window::new(100_000);
        assert_eq!(w.span(1, 1_000_000), (1, 100_000));
        assert_eq!(w.span(1, 500), (1, 500));
        assert!(w.halve());
        assert_eq!(w.span(10, 1_000_000), (10, 50_009));
        let mut w = Window::new(3);
        assert!(w.halve());
        assert_eq!(w.width(), 1);
        assert!(!w.halve());
        assert_eq!(Window::new(0).width(), 1);
    }

    #[test]
    fn range_refusals_are_recognised() {
        assert!(is_range_refusal(-32005, "limit exceeded"));
        assert!(is_range_refusal(-32000, "query returned more than 10000 results"));
        assert!(is_range_refusal(-32602, "eth_getLogs block range too large"));
        assert!(!is_range_refusal(-32000, "header not found"));
    }
}
