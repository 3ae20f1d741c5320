//! The network's `corechannel` view, kept by the node itself: core channel nodes (CCNs) and
//! compute resource nodes (CRNs), registered, linked and staked by `corechan-operation` POSTs
//! (NETWORK.md §5.1).
//!
//! On the live network an off-node process (aleph-nodestatus) replays those POSTs with the ALEPH
//! balances of their senders and publishes the result as the AGGREGATE key `corechannel` of
//! `0xa1B3bb7d2332383D96b7796B908fB7f7F3c2Be10`. This node replays them itself
//! ([`replay::replay`]) from the messages it holds, and answers that aggregate from the result.
//!
//! [`CoreChannel`] is the handle: [`CoreChannel::view`] gives the current [`CoreChannelView`],
//! recomputed after a node operation, an amend, a FORGET or a balance update is processed.
//!
//! Deviations from the reference:
//! - Operations are ordered by content time, then item hash (the reference orders by Ethereum
//!   confirmation height first; this node does not sync chains).
//! - Balances are the current ones throughout the replay (the reference interleaves the balance
//!   history with the operations, removing a node or a stake when its owner's balance drops).
//! - Scores (`aleph-scoring-scores` posts) are not replayed: `score`, `decentralization` and
//!   `performance` stay 0, and inactive CRNs are not removed.
//! - A forgotten operation is left out (the reference never sees a FORGET).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aleph_core::cost::Decimal;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pipeline::Event;
use crate::storage::{Db, StorageError};

pub(crate) mod replay;
mod view;

pub(crate) use replay::{replay, Operation, Rules};
pub use view::{CoreChannelView, CoreNode, NodeInfo, NodeStatus, ResourceNode, ResourceNodeStatus};

/// The address that publishes the `corechannel` aggregate on the live network.
pub const DEFAULT_CORECHANNEL_ADDRESS: &str = "0xa1B3bb7d2332383D96b7796B908fB7f7F3c2Be10";

/// The aggregate key the view is served under.
pub(crate) const CORECHANNEL_KEY: &str = "corechannel";

/// The `[corechannel]` section of the node configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreChannelConfig {
    /// Serve the `corechannel` aggregate of `address` from this node's own replay (otherwise
    /// that aggregate is whatever AGGREGATE messages its owner posted).
    pub enabled: bool,
    /// The address whose `corechannel` aggregate is the view.
    pub address: String,
    /// The tag an operation must carry in `content.content.tags` to count: the network it is
    /// meant for (the reference: `mainnet`; clients add it beside the action).
    pub tag: String,
}

impl Default for CoreChannelConfig {
    fn default() -> Self {
        CoreChannelConfig {
            enabled: true,
            address: DEFAULT_CORECHANNEL_ADDRESS.to_owned(),
            tag: "mainnet".to_owned(),
        }
    }
}

/// One replay's result, with what the aggregate endpoint's `with_info` reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct Computed {
    pub(crate) view: Arc<CoreChannelView>,
    /// The first and the last operation replayed (item hash, content time), if any.
    pub(crate) first: Option<(String, f64)>,
    pub(crate) last: Option<(String, f64)>,
}

struct Shared {
    db: Db,
    config: CoreChannelConfig,
    rules: Rules,
    /// Bumped whenever something the view depends on changes.
    generation: AtomicU64,
    /// The last replay and the generation it was computed at; the lock also keeps two callers
    /// from replaying at once.
    cache: tokio::sync::Mutex<Option<(u64, Arc<Computed>)>>,
}

/// The `corechannel` view of this node: cheap to clone, reachable from the pipeline
/// ([`crate::pipeline::Pipeline::corechannel`]).
#[derive(Clone)]
pub struct CoreChannel {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CoreChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreChannel").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl CoreChannel {
    /// A view over the messages and balances in `db`, computed on first use.
    pub fn new(db: Db, config: CoreChannelConfig) -> Self {
        CoreChannel {
            shared: Arc::new(Shared {
                db,
                config,
                rules: Rules::default(),
                generation: AtomicU64::new(1),
                cache: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CoreChannelConfig {
        &self.shared.config
    }

    /// The current view (replayed again only when something changed since the last call).
    pub async fn view(&self) -> Result<Arc<CoreChannelView>, StorageError> {
        Ok(self.computed().await?.view.clone())
    }

    /// The CRNs linked to the CCN `ccn_hash`, in link order.
    pub async fn linked_crns(&self, ccn_hash: &str) -> Result<Vec<ResourceNode>, StorageError> {
        Ok(self.view().await?.linked_crns(ccn_hash).into_iter().cloned().collect())
    }

    /// The CCN owned by `address`.
    pub async fn node_of_owner(&self, address: &str) -> Result<Option<CoreNode>, StorageError> {
        Ok(self.view().await?.node_of_owner(address).cloned())
    }

    /// Marks the view stale: the next read replays again. The pipeline calls this itself when
    /// it processes something the view depends on; other writers of balances call it.
    pub fn invalidate(&self) {
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Invalidates the view when a processed message can change it: a node operation, an
    /// amend, a balance update, or a FORGET.
    pub(crate) fn observe(&self, event: &Event) {
        let Event::Processed { message, .. } = event else { return };
        let relevant = match message.get("type").and_then(Value::as_str) {
            Some("FORGET") => true,
            Some("POST") => matches!(
                message.get("content").and_then(|c| c.get("type")).and_then(Value::as_str),
                Some(replay::OPERATION_POST_TYPE | replay::AMEND_POST_TYPE | "balances-update")
            ),
            _ => false,
        };
        if relevant {
            self.invalidate();
        }
    }

    /// Whether the aggregate request for `address` with `keys` is answered from the view.
    pub(crate) fn serves(&self, address: &str, keys: &[String]) -> bool {
        let c = &self.shared.config;
        c.enabled
            && c.address.eq_ignore_ascii_case(address)
            && (keys.is_empty() || keys.iter().any(|k| k == CORECHANNEL_KEY))
    }

    /// The current replay.
    pub(crate) async fn computed(&self) -> Result<Arc<Computed>, StorageError> {
        let mut cache = self.shared.cache.lock().await;
        let generation = self.shared.generation.load(Ordering::Acquire);
        if let Some((at, computed)) = cache.as_ref() {
            if *at == generation {
                return Ok(computed.clone());
            }
        }
        let tag = self.shared.config.tag.clone();
        let rules = self.shared.rules.clone();
        let computed = Arc::new(self.shared.db.read(move |c| compute(c, &tag, &rules)).await?);
        *cache = Some((generation, computed.clone()));
        Ok(computed)
    }
}

/// Loads the processed operations carrying `tag`, in replay order.
fn load_operations(conn: &Connection, tag: &str) -> Result<Vec<(f64, Operation)>, StorageError> {
    let quoted = Value::String(tag.to_owned()).to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT item_hash, time, content FROM messages
         WHERE type = 'POST' AND content_type IN (?1, ?2) AND instr(tags, ?3) > 0",
    )?;
    let rows = stmt
        .query_map(rusqlite::params![replay::OPERATION_POST_TYPE, replay::AMEND_POST_TYPE, quoted], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut ops = Vec::with_capacity(rows.len());
    for (item_hash, time, content) in rows {
        let Ok(content) = serde_json::from_str::<Value>(&content) else { continue };
        let body = content.get("content").cloned().unwrap_or(Value::Null);
        let tagged = body
            .get("tags")
            .and_then(Value::as_array)
            .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag)));
        if !tagged {
            continue;
        }
        let reference = match content.get("ref") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("item_hash").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let content_time = content.get("time").and_then(Value::as_f64).unwrap_or(time);
        ops.push((
            content_time,
            Operation {
                item_hash,
                address: content.get("address").and_then(Value::as_str).unwrap_or_default().to_owned(),
                time,
                post_type: content.get("type").and_then(Value::as_str).unwrap_or_default().to_owned(),
                reference,
                content: body,
            },
        ));
    }
    ops.sort_by(|(ta, a), (tb, b)| ta.total_cmp(tb).then_with(|| a.item_hash.cmp(&b.item_hash)));
    Ok(ops)
}

/// Replays every operation in the database with the current balances.
fn compute(conn: &Connection, tag: &str, rules: &Rules) -> Result<Computed, StorageError> {
    let ops = load_operations(conn, tag)?;
    let senders: BTreeSet<&str> = ops.iter().map(|(_, op)| op.address.as_str()).collect();
    let mut balances: HashMap<String, Decimal> = HashMap::with_capacity(senders.len());
    for address in senders {
        balances.insert(address.to_owned(), crate::storage::balances::total_balance(conn, address)?);
    }
    let view = replay(ops.iter().map(|(_, op)| op), |a| balances.get(a).copied().unwrap_or_default(), rules);
    Ok(Computed {
        view: Arc::new(view),
        first: ops.first().map(|(t, op)| (op.item_hash.clone(), *t)),
        last: ops.last().map(|(t, op)| (op.item_hash.clone(), *t)),
    })
}
