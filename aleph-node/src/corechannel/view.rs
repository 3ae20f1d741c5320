//! The `corechannel` view: the network's core channel nodes (CCNs) and compute resource nodes
//! (CRNs), with the field names and defaults of the aggregate aleph-nodestatus publishes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The whole view, as the value of the `corechannel` aggregate key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreChannelView {
    /// Core channel nodes, in registration order.
    pub nodes: Vec<CoreNode>,
    /// Compute resource nodes, in registration order.
    pub resource_nodes: Vec<ResourceNode>,
}

/// Whether a CCN has enough stake to take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// Staked with at least the activation amount.
    Active,
    /// Not staked enough yet.
    Waiting,
}

/// Whether a CRN is attached to a CCN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceNodeStatus {
    /// Linked to the CCN named by `parent`.
    Linked,
    /// Not linked.
    Waiting,
}

/// What CCNs and CRNs both have, written in place in each node's JSON (`#[serde(flatten)]`).
///
/// Text fields the operator sets hold what the operator sent; a value that is not a JSON string
/// is kept as its JSON text. `authorized` is kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The item hash of the registering operation (`create-node`, `create-resource-node`).
    pub hash: String,
    /// The address that registered the node.
    pub owner: String,
    /// An address that may amend the node besides its owner (empty unless set).
    pub manager: String,
    /// Where rewards go (the owner unless set).
    pub reward: String,
    /// The addresses allowed to stake on (CCN) or link (CRN) a locked node, as the operator sent
    /// them.
    pub authorized: Value,
    /// The envelope time of the registering operation.
    pub time: f64,
    /// The score from the network's scoring posts (not replayed here: 0).
    pub score: f64,
    /// The decentralization score (not replayed here: 0).
    pub decentralization: f64,
    /// The performance score (not replayed here: 0).
    pub performance: f64,
    /// The height since which the node scores too low (not replayed here: null).
    pub inactive_since: Option<u64>,
    /// The node's name.
    pub name: String,
    /// A P2P multiaddress (a CCN's is emptied when another CCN already uses its host, or when it
    /// does not parse).
    pub multiaddress: String,
    /// A URL (a CRN's is emptied when another CRN already uses its host).
    pub address: String,
    /// A picture (file hash).
    pub picture: String,
    /// A banner (file hash).
    pub banner: String,
    /// A description.
    pub description: String,
    /// Where stream rewards go.
    pub stream_reward: String,
    /// A registration (KYC) URL for stakers of a locked node.
    pub registration_url: String,
    /// Terms and conditions (file hash).
    pub terms_and_conditions: String,
}

/// A core channel node (CCN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreNode {
    /// The fields CRNs have too.
    #[serde(flatten)]
    pub info: NodeInfo,
    /// Whether only `authorized` addresses may stake.
    pub locked: bool,
    /// ALEPH staked per staker (each staker's balance split evenly over the nodes it stakes on).
    pub stakers: BTreeMap<String, f64>,
    /// The sum of `stakers`.
    pub total_staked: f64,
    /// `active` once `total_staked` reaches the activation amount.
    pub status: NodeStatus,
    /// The hashes of the CRNs linked to this node, in link order.
    pub resource_nodes: Vec<String>,
    /// The early-registration bonus (only nodes registered before mainnet block 12 020 360 have
    /// it: always false here).
    pub has_bonus: bool,
}

/// A compute resource node (CRN).
///
/// `locked` and `authorized` are kept as sent at registration (the reference stores `""` when
/// they are absent) and `locked` becomes a boolean once amended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceNode {
    /// The fields CCNs have too.
    #[serde(flatten)]
    pub info: NodeInfo,
    /// The node type (`compute`).
    #[serde(rename = "type")]
    pub node_type: String,
    /// Whether the node refuses to be linked (see [`ResourceNode::is_locked`]).
    pub locked: Value,
    /// `linked` while `parent` is set.
    pub status: ResourceNodeStatus,
    /// The CCN this node is linked to.
    pub parent: Option<String>,
}

/// Python's truthiness of a JSON value, which the reference applies to `locked`.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `address in authorized`: membership in a list, a substring of a string.
pub(crate) fn authorizes(authorized: &Value, address: &str) -> bool {
    match authorized {
        Value::Array(a) => a.iter().any(|v| v.as_str() == Some(address)),
        Value::String(s) => s.contains(address),
        Value::Object(o) => o.contains_key(address),
        _ => false,
    }
}

impl CoreNode {
    /// Whether `address` may stake on this node: it is not locked, or `address` is authorized.
    pub fn accepts_staker(&self, address: &str) -> bool {
        !self.locked || authorizes(&self.info.authorized, address)
    }
}

impl ResourceNode {
    /// Whether the node refuses to be linked (`locked` is truthy).
    pub fn is_locked(&self) -> bool {
        truthy(&self.locked)
    }

    /// Whether the node is linked to a CCN.
    pub fn is_linked(&self) -> bool {
        self.parent.is_some()
    }
}

impl CoreChannelView {
    /// The CCN registered by `hash`.
    pub fn node(&self, hash: &str) -> Option<&CoreNode> {
        self.nodes.iter().find(|n| n.info.hash == hash)
    }

    /// The CRN registered by `hash`.
    pub fn resource_node(&self, hash: &str) -> Option<&ResourceNode> {
        self.resource_nodes.iter().find(|n| n.info.hash == hash)
    }

    /// The CCN owned by `address` (an owner has at most one). Addresses compare exactly, as the
    /// reference compares them.
    pub fn node_of_owner(&self, address: &str) -> Option<&CoreNode> {
        self.nodes.iter().find(|n| n.info.owner == address)
    }

    /// The CRNs owned by `address`, in registration order.
    pub fn resource_nodes_of_owner(&self, address: &str) -> Vec<&ResourceNode> {
        self.resource_nodes.iter().filter(|n| n.info.owner == address).collect()
    }

    /// The CRNs linked to the CCN `ccn_hash`, in link order (empty for an unknown CCN).
    pub fn linked_crns(&self, ccn_hash: &str) -> Vec<&ResourceNode> {
        let Some(ccn) = self.node(ccn_hash) else { return Vec::new() };
        ccn.resource_nodes
            .iter()
            .filter_map(|h| self.resource_node(h))
            .filter(|crn| crn.parent.as_deref() == Some(ccn_hash))
            .collect()
    }

    /// The view as the aggregate's JSON value: `{"nodes": [...], "resource_nodes": [...]}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
