//! Replaying `corechan-operation` (and `amend`) POSTs into the [`CoreChannelView`], with the rules
//! of the process that publishes the network's `corechannel` aggregate (aleph-nodestatus,
//! `src/aleph_nodestatus/status.py` `NodesStatus.process`, thresholds from `settings.py`).
//!
//! The replay is pure: operations in, view out. An operation that breaks a rule is ignored, as
//! the reference ignores it, and [`Replay::apply`] says why.

use std::collections::HashMap;
use std::str::FromStr;

use aleph_core::cost::Decimal;
use serde_json::{Map, Value};

use super::view::{
    truthy, CoreChannelView, CoreNode, NodeInfo, NodeStatus, ResourceNode, ResourceNodeStatus,
};

/// The POST type of node operations.
pub(crate) const OPERATION_POST_TYPE: &str = "corechan-operation";

/// The POST type of amends; an amend whose `ref` is a node edits that node.
pub(crate) const AMEND_POST_TYPE: &str = "amend";

/// The thresholds of the replay, in ALEPH.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rules {
    /// The balance an owner needs to register a CCN (the reference: 199 999).
    pub node_threshold: Decimal,
    /// The balance a staker needs (the reference: 9 999).
    pub staking_threshold: Decimal,
    /// The stake that makes a CCN `active` (the reference: 500 000 − 1).
    pub activation: Decimal,
    /// The most CRNs one CCN may have linked (the reference: 8).
    pub max_linked: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            node_threshold: Decimal::from(199_999u32),
            staking_threshold: Decimal::from(9_999u32),
            activation: Decimal::from(499_999u32),
            max_linked: 8,
        }
    }
}

/// One processed POST to replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Operation {
    /// The message's item hash (the hash of a node it creates).
    pub item_hash: String,
    /// `content.address`: the reference judges operations by it (not by the envelope sender).
    pub address: String,
    /// The envelope time (the `time` of a node it creates).
    pub time: f64,
    /// `content.type`: [`OPERATION_POST_TYPE`] or [`AMEND_POST_TYPE`].
    pub post_type: String,
    /// `content.ref`: the node an operation acts on.
    pub reference: Option<String>,
    /// `content.content`: `{"action", "details"?, "tags"}`.
    pub content: Value,
}

/// Why an operation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Ignored {
    /// Not a node operation or an amend, or an unknown action.
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    /// The operation needs a `ref`.
    #[error("no ref")]
    NoRef,
    /// The sender already owns a CCN (one per owner).
    #[error("{0} already owns a core channel node")]
    OwnerHasNode(String),
    /// The sender's ALEPH balance is below the threshold.
    #[error("balance {balance} of {address} is below {needed}")]
    InsufficientBalance {
        /// The sender.
        address: String,
        /// Its balance.
        balance: Decimal,
        /// The threshold.
        needed: Decimal,
    },
    /// `create-resource-node` without `details.type`.
    #[error("a resource node needs details.type")]
    NoNodeType,
    /// The sender owns no CCN.
    #[error("{0} owns no core channel node")]
    NotNodeOwner(String),
    /// The CCN already has the most CRNs allowed.
    #[error("core channel node {0} already has the most resource nodes allowed")]
    NodeFull(String),
    /// No CRN has this hash.
    #[error("no resource node {0}")]
    UnknownResourceNode(String),
    /// No CCN has this hash.
    #[error("no core channel node {0}")]
    UnknownNode(String),
    /// No node (CCN or CRN) has this hash.
    #[error("no node {0}")]
    UnknownTarget(String),
    /// The CRN is already linked.
    #[error("resource node {0} is already linked")]
    AlreadyLinked(String),
    /// The CRN is not linked.
    #[error("resource node {0} is not linked")]
    NotLinked(String),
    /// The CRN is locked.
    #[error("resource node {0} is locked")]
    Locked(String),
    /// The sender may not act on this node.
    #[error("{address} may not act on {target}")]
    NotAllowed {
        /// The sender.
        address: String,
        /// The node.
        target: String,
    },
    /// The staker owns a CCN.
    #[error("{0} owns a core channel node and cannot stake")]
    OwnerCannotStake(String),
    /// The CCN is locked and the staker is not authorized.
    #[error("core channel node {0} is locked")]
    NotAuthorized(String),
    /// The staker already stakes on this CCN.
    #[error("{0} already stakes on {1}")]
    AlreadyStaking(String, String),
    /// The sender does not stake on this CCN.
    #[error("{0} does not stake on {1}")]
    NotStaking(String, String),
}

struct Ccn {
    seq: u64,
    node: CoreNode,
    /// Stake per staker, in insertion order, as exact ALEPH.
    stakes: Vec<(String, Decimal)>,
}

struct Crn {
    seq: u64,
    node: ResourceNode,
}

/// The replay state machine: feed it operations in time order, then take the view.
pub(crate) struct Replay<B> {
    rules: Rules,
    balances: B,
    seq: u64,
    nodes: HashMap<String, Ccn>,
    resource_nodes: HashMap<String, Crn>,
    /// Owner → the hash of its CCN.
    address_nodes: HashMap<String, String>,
    /// Staker → the CCNs it stakes on.
    address_staking: HashMap<String, Vec<String>>,
}

impl<B> std::fmt::Debug for Replay<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("nodes", &self.nodes.len())
            .field("resource_nodes", &self.resource_nodes.len())
            .finish_non_exhaustive()
    }
}

/// Replays `operations` (in time order) with the ALEPH `balances` of their senders; operations
/// that break a rule are ignored and logged at debug level.
pub(crate) fn replay<'a>(
    operations: impl IntoIterator<Item = &'a Operation>,
    balances: impl Fn(&str) -> Decimal,
    rules: &Rules,
) -> CoreChannelView {
    let mut replay = Replay::new(rules.clone(), balances);
    for op in operations {
        if let Err(reason) = replay.apply(op) {
            let action = op.content.get("action").and_then(Value::as_str).unwrap_or("");
            tracing::debug!(
                item_hash = %op.item_hash,
                post_type = %op.post_type,
                action,
                %reason,
                "corechannel operation ignored"
            );
        }
    }
    replay.into_view()
}

/// A text field: the string sent, the JSON text of another value, or `default` when absent.
fn text(v: Option<&Value>, default: &str) -> String {
    match v {
        None => default.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl NodeInfo {
    /// The fields of a node `op` registers with `details`, as sent (`multiaddress` and `address`
    /// not yet checked against the other nodes' hosts), scores zero.
    fn registered(op: &Operation, details: &Map<String, Value>, authorized: Value) -> Self {
        let address = op.address.as_str();
        let field = |k: &str| text(details.get(k), "");
        NodeInfo {
            hash: op.item_hash.clone(),
            owner: address.to_owned(),
            manager: field("manager"),
            reward: text(details.get("reward"), address),
            authorized,
            time: op.time,
            score: 0.0,
            decentralization: 0.0,
            performance: 0.0,
            inactive_since: None,
            name: field("name"),
            multiaddress: field("multiaddress"),
            address: field("address"),
            picture: field("picture"),
            banner: field("banner"),
            description: field("description"),
            stream_reward: field("stream_reward"),
            registration_url: field("registration_url"),
            terms_and_conditions: field("terms_and_conditions"),
        }
    }

    /// Amends the editable fields CCNs and CRNs share: a field `details` names takes its text, the
    /// others keep theirs; `authorized` is kept as sent.
    fn amend_text(&mut self, details: &Map<String, Value>) {
        for (key, field) in [
            ("name", &mut self.name),
            ("picture", &mut self.picture),
            ("banner", &mut self.banner),
            ("description", &mut self.description),
            ("reward", &mut self.reward),
            ("stream_reward", &mut self.stream_reward),
            ("manager", &mut self.manager),
            ("registration_url", &mut self.registration_url),
            ("terms_and_conditions", &mut self.terms_and_conditions),
        ] {
            *field = text(details.get(key), field);
        }
        if let Some(v) = details.get("authorized") {
            self.authorized = v.clone();
        }
    }
}

/// The host of a URL as Python's `urlparse(url).hostname` finds it (lowercase; none without
/// `//`).
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = match url.find(':') {
        Some(i)
            if i > 0
                && url.as_bytes()[0].is_ascii_alphabetic()
                && url[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            &url[i + 1..]
        }
        _ => url,
    };
    let rest = rest.strip_prefix("//")?;
    let netloc = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let host = match hostinfo.split_once('[') {
        Some((_, v6)) => v6.split(']').next().unwrap_or(""),
        None => hostinfo.split(':').next().unwrap_or(""),
    };
    (!host.is_empty()).then(|| host.to_lowercase())
}

/// The host of a multiaddress: the value of its first `ip4`, `ip6`, `dns`, `dns4` or `dns6`
/// component; none when it does not parse.
pub(crate) fn multiaddr_host(multiaddress: &str) -> Option<String> {
    use libp2p::multiaddr::Protocol;
    let addr = libp2p::Multiaddr::from_str(multiaddress).ok()?;
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(a.to_string()),
        Protocol::Ip6(a) => Some(a.to_string()),
        Protocol::Dns(d) | Protocol::Dns4(d) | Protocol::Dns6(d) => Some(d.to_string()),
        _ => None,
    })
}

impl<B: Fn(&str) -> Decimal> Replay<B> {
    /// An empty network with these rules and balances (ALEPH per address).
    pub(crate) fn new(rules: Rules, balances: B) -> Self {
        Replay {
            rules,
            balances,
            seq: 0,
            nodes: HashMap::new(),
            resource_nodes: HashMap::new(),
            address_nodes: HashMap::new(),
            address_staking: HashMap::new(),
        }
    }

    fn balance(&self, address: &str) -> Decimal {
        (self.balances)(address)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Applies one operation, or says why it was ignored.
    pub(crate) fn apply(&mut self, op: &Operation) -> Result<(), Ignored> {
        let address = op.address.as_str();
        let reference = op.reference.as_deref();
        let empty = Map::new();
        let details = op.content.get("details").and_then(Value::as_object).unwrap_or(&empty);
        match op.post_type.as_str() {
            OPERATION_POST_TYPE => {}
            AMEND_POST_TYPE => return self.amend(address, reference.ok_or(Ignored::NoRef)?, details),
            other => return Err(Ignored::UnknownAction(other.to_owned())),
        }
        let action = op.content.get("action").and_then(Value::as_str).unwrap_or("");
        match action {
            "create-node" => self.create_node(op, details),
            "create-resource-node" => self.create_resource_node(op, details),
            "link" => self.link(address, reference.ok_or(Ignored::NoRef)?),
            "unlink" => self.unlink(address, reference.ok_or(Ignored::NoRef)?),
            "drop-node" => self.drop_node(address, reference.ok_or(Ignored::NoRef)?),
            "stake" => self.stake(address, reference.ok_or(Ignored::NoRef)?, false),
            "stake-split" => self.stake(address, reference.ok_or(Ignored::NoRef)?, true),
            "unstake" => self.unstake(address, reference.ok_or(Ignored::NoRef)?),
            other => Err(Ignored::UnknownAction(other.to_owned())),
        }
    }

    /// The host another CCN already uses, or an unparsable multiaddress, empties it.
    fn checked_multiaddress(&self, hash: &str, multiaddress: String) -> String {
        let Some(host) = multiaddr_host(&multiaddress) else { return String::new() };
        let taken = self.nodes.values().any(|c| {
            c.node.info.hash != hash && multiaddr_host(&c.node.info.multiaddress).as_deref() == Some(&host)
        });
        if taken {
            String::new()
        } else {
            multiaddress
        }
    }

    /// The host another CRN already uses (hosts compare as Python compares them, none equal to
    /// none) empties the URL.
    fn checked_url(&self, hash: &str, url: String) -> String {
        let host = url_host(&url);
        let taken = self
            .resource_nodes
            .values()
            .any(|c| c.node.info.hash != hash && url_host(&c.node.info.address) == host);
        if taken {
            String::new()
        } else {
            url
        }
    }

    fn create_node(&mut self, op: &Operation, details: &Map<String, Value>) -> Result<(), Ignored> {
        let address = op.address.as_str();
        if self.address_nodes.contains_key(address) {
            return Err(Ignored::OwnerHasNode(address.to_owned()));
        }
        let balance = self.balance(address);
        if balance < self.rules.node_threshold {
            return Err(Ignored::InsufficientBalance {
                address: address.to_owned(),
                balance,
                needed: self.rules.node_threshold,
            });
        }
        let mut info = NodeInfo::registered(op, details, Value::Array(Vec::new()));
        info.multiaddress = self.checked_multiaddress(&op.item_hash, info.multiaddress);
        let node = CoreNode {
            info,
            locked: details.get("locked").is_some_and(truthy),
            stakers: Default::default(),
            total_staked: 0.0,
            status: NodeStatus::Waiting,
            resource_nodes: Vec::new(),
            has_bonus: false,
        };
        let seq = self.next_seq();
        self.address_nodes.insert(address.to_owned(), op.item_hash.clone());
        self.nodes.insert(op.item_hash.clone(), Ccn { seq, node, stakes: Vec::new() });
        // A staker that registers a node stops staking.
        if self.address_staking.contains_key(address) {
            self.remove_stake(address, None);
        }
        Ok(())
    }

    fn create_resource_node(&mut self, op: &Operation, details: &Map<String, Value>) -> Result<(), Ignored> {
        let node_type = details.get("type").ok_or(Ignored::NoNodeType)?;
        // The reference sets the manager to the owner, then overwrites it (and `locked` and
        // `authorized`) with the details' value or "".
        let authorized = details.get("authorized").cloned().unwrap_or_else(|| Value::String(String::new()));
        let mut info = NodeInfo::registered(op, details, authorized);
        info.address = self.checked_url(&op.item_hash, info.address);
        let node = ResourceNode {
            info,
            node_type: text(Some(node_type), ""),
            locked: details.get("locked").cloned().unwrap_or_else(|| Value::String(String::new())),
            status: ResourceNodeStatus::Waiting,
            parent: None,
        };
        let seq = self.next_seq();
        self.resource_nodes.insert(op.item_hash.clone(), Crn { seq, node });
        Ok(())
    }

    fn link(&mut self, address: &str, crn_hash: &str) -> Result<(), Ignored> {
        let ccn_hash = self
            .address_nodes
            .get(address)
            .cloned()
            .ok_or_else(|| Ignored::NotNodeOwner(address.to_owned()))?;
        let ccn = &self.nodes[&ccn_hash];
        if ccn.node.resource_nodes.len() >= self.rules.max_linked {
            return Err(Ignored::NodeFull(ccn_hash));
        }
        let crn = self
            .resource_nodes
            .get(crn_hash)
            .ok_or_else(|| Ignored::UnknownResourceNode(crn_hash.to_owned()))?;
        if ccn.node.resource_nodes.iter().any(|h| h == crn_hash) || crn.node.parent.is_some() {
            return Err(Ignored::AlreadyLinked(crn_hash.to_owned()));
        }
        if crn.node.is_locked() {
            return Err(Ignored::Locked(crn_hash.to_owned()));
        }
        if let Some(crn) = self.resource_nodes.get_mut(crn_hash) {
            crn.node.parent = Some(ccn_hash.clone());
            crn.node.status = ResourceNodeStatus::Linked;
        }
        if let Some(ccn) = self.nodes.get_mut(&ccn_hash) {
            ccn.node.resource_nodes.push(crn_hash.to_owned());
        }
        self.update_node_stats(&ccn_hash);
        Ok(())
    }

    fn unlink(&mut self, address: &str, crn_hash: &str) -> Result<(), Ignored> {
        let crn = self
            .resource_nodes
            .get(crn_hash)
            .ok_or_else(|| Ignored::UnknownResourceNode(crn_hash.to_owned()))?;
        let parent = crn.node.parent.clone().ok_or_else(|| Ignored::NotLinked(crn_hash.to_owned()))?;
        // The owner of the parent CCN may unlink, and so may the CRN's owner.
        let by_ccn_owner = self.address_nodes.get(address) == Some(&parent);
        if !by_ccn_owner && crn.node.info.owner != address {
            return Err(Ignored::NotAllowed { address: address.to_owned(), target: crn_hash.to_owned() });
        }
        self.detach(crn_hash, &parent);
        Ok(())
    }

    /// Unlinks a CRN from its parent and updates the parent.
    fn detach(&mut self, crn_hash: &str, parent: &str) {
        if let Some(ccn) = self.nodes.get_mut(parent) {
            ccn.node.resource_nodes.retain(|h| h != crn_hash);
        }
        if let Some(crn) = self.resource_nodes.get_mut(crn_hash) {
            crn.node.parent = None;
            crn.node.status = ResourceNodeStatus::Waiting;
        }
        self.update_node_stats(parent);
    }

    fn drop_node(&mut self, address: &str, target: &str) -> Result<(), Ignored> {
        if self.address_nodes.get(address).map(String::as_str) == Some(target)
            && self.nodes.contains_key(target)
        {
            self.remove_node(target);
            return Ok(());
        }
        match self.resource_nodes.get(target) {
            Some(crn) if crn.node.info.owner == address => {
                if let Some(parent) = crn.node.parent.clone() {
                    self.detach(target, &parent);
                }
                self.resource_nodes.remove(target);
                Ok(())
            }
            Some(_) => Err(Ignored::NotAllowed { address: address.to_owned(), target: target.to_owned() }),
            None if self.nodes.contains_key(target) => {
                Err(Ignored::NotAllowed { address: address.to_owned(), target: target.to_owned() })
            }
            None => Err(Ignored::UnknownTarget(target.to_owned())),
        }
    }

    /// Removes a CCN: its stakers' stakes on it go, its CRNs are unlinked.
    fn remove_node(&mut self, hash: &str) {
        let Some(ccn) = self.nodes.remove(hash) else { return };
        let mut to_update: Vec<String> = Vec::new();
        for (staker, _) in &ccn.stakes {
            if let Some(list) = self.address_staking.get_mut(staker) {
                if let Some(i) = list.iter().position(|h| h == hash) {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.address_staking.remove(staker);
                } else {
                    for h in list.iter() {
                        if !to_update.contains(h) {
                            to_update.push(h.clone());
                        }
                    }
                }
            }
        }
        for crn_hash in &ccn.node.resource_nodes {
            if let Some(crn) = self.resource_nodes.get_mut(crn_hash) {
                crn.node.parent = None;
                crn.node.status = ResourceNodeStatus::Waiting;
            }
        }
        self.address_nodes.remove(&ccn.node.info.owner);
        for h in to_update {
            self.update_node_stats(&h);
        }
    }

    fn stake(&mut self, address: &str, ccn_hash: &str, split: bool) -> Result<(), Ignored> {
        let balance = self.balance(address);
        if balance < self.rules.staking_threshold {
            return Err(Ignored::InsufficientBalance {
                address: address.to_owned(),
                balance,
                needed: self.rules.staking_threshold,
            });
        }
        let ccn = self.nodes.get(ccn_hash).ok_or_else(|| Ignored::UnknownNode(ccn_hash.to_owned()))?;
        if self.address_nodes.contains_key(address) {
            return Err(Ignored::OwnerCannotStake(address.to_owned()));
        }
        let staking = self.address_staking.get(address);
        if split && staking.is_some_and(|l| l.iter().any(|h| h == ccn_hash)) {
            return Err(Ignored::AlreadyStaking(address.to_owned(), ccn_hash.to_owned()));
        }
        if !ccn.node.accepts_staker(address) {
            return Err(Ignored::NotAuthorized(ccn_hash.to_owned()));
        }
        if !split && self.address_staking.contains_key(address) {
            // `stake` moves the whole stake here.
            self.remove_stake(address, None);
        }
        let list = self.address_staking.entry(address.to_owned()).or_default();
        list.push(ccn_hash.to_owned());
        let staked_on = list.clone();
        if let Some(ccn) = self.nodes.get_mut(ccn_hash) {
            ccn.stakes.push((address.to_owned(), Decimal::ZERO));
        }
        for h in &staked_on {
            self.update_node_stats(h);
        }
        Ok(())
    }

    fn unstake(&mut self, address: &str, ccn_hash: &str) -> Result<(), Ignored> {
        match self.address_staking.get(address) {
            Some(list) if list.iter().any(|h| h == ccn_hash) => {
                self.remove_stake(address, Some(ccn_hash));
                Ok(())
            }
            _ => Err(Ignored::NotStaking(address.to_owned(), ccn_hash.to_owned())),
        }
    }

    /// Removes `staker`'s stake on `only`, or on every node.
    fn remove_stake(&mut self, staker: &str, only: Option<&str>) {
        let Some(hashes) = self.address_staking.get(staker).cloned() else { return };
        if let Some(h) = only {
            if let Some(list) = self.address_staking.get_mut(staker) {
                if let Some(i) = list.iter().position(|x| x == h) {
                    list.remove(i);
                }
            }
        }
        for h in &hashes {
            if only.is_none() || only == Some(h.as_str()) {
                if let Some(ccn) = self.nodes.get_mut(h) {
                    ccn.stakes.retain(|(s, _)| s != staker);
                }
            }
            self.update_node_stats(h);
        }
        if only.is_none() || self.address_staking.get(staker).is_some_and(Vec::is_empty) {
            self.address_staking.remove(staker);
        }
    }

    /// Recomputes a CCN's stakes (each staker's balance split over the nodes it stakes on,
    /// truncated to 18 decimals as the token's unit), total and status.
    fn update_node_stats(&mut self, hash: &str) {
        let Some(ccn) = self.nodes.get(hash) else { return };
        let stakes: Vec<(String, Decimal)> = ccn
            .stakes
            .iter()
            .map(|(staker, _)| {
                let n = self.address_staking.get(staker).map_or(0, Vec::len);
                let amount = if n == 0 {
                    Decimal::ZERO
                } else {
                    (self.balance(staker) / Decimal::from(n as u64)).trunc_with_scale(18)
                };
                (staker.clone(), amount)
            })
            .collect();
        let total = stakes.iter().fold(Decimal::ZERO, |acc, (_, a)| acc.checked_add(*a).unwrap_or(acc));
        let active = total >= self.rules.activation;
        if let Some(ccn) = self.nodes.get_mut(hash) {
            ccn.node.stakers = stakes.iter().map(|(s, a)| (s.clone(), to_f64(*a))).collect();
            ccn.stakes = stakes;
            ccn.node.total_staked = to_f64(total);
            ccn.node.status = if active { NodeStatus::Active } else { NodeStatus::Waiting };
        }
    }

    fn amend(&mut self, address: &str, target: &str, details: &Map<String, Value>) -> Result<(), Ignored> {
        if let Some(ccn) = self.nodes.get(target) {
            let owner_ok = ccn.node.info.owner == address && self.address_nodes.contains_key(address);
            if !owner_ok && ccn.node.info.manager != address {
                return Err(Ignored::NotAllowed { address: address.to_owned(), target: target.to_owned() });
            }
            let multiaddress = text(details.get("multiaddress"), &ccn.node.info.multiaddress);
            let multiaddress = self.checked_multiaddress(target, multiaddress);
            let Some(ccn) = self.nodes.get_mut(target) else { return Ok(()) };
            let n = &mut ccn.node;
            n.info.amend_text(details);
            n.info.multiaddress = multiaddress;
            n.info.address = text(details.get("address"), &n.info.address);
            if let Some(v) = details.get("locked") {
                n.locked = truthy(v);
            }
            return Ok(());
        }
        let crn = self.resource_nodes.get(target).ok_or_else(|| Ignored::UnknownTarget(target.to_owned()))?;
        if crn.node.info.owner != address && crn.node.info.manager != address {
            return Err(Ignored::NotAllowed { address: address.to_owned(), target: target.to_owned() });
        }
        let url = text(details.get("address"), &crn.node.info.address);
        let url = self.checked_url(target, url);
        let Some(crn) = self.resource_nodes.get_mut(target) else { return Ok(()) };
        let n = &mut crn.node;
        n.info.amend_text(details);
        n.info.multiaddress = text(details.get("multiaddress"), &n.info.multiaddress);
        n.info.address = url;
        // An amend turns `locked` into a boolean, whether or not it sets it.
        let locked = details.get("locked").unwrap_or(&n.locked);
        n.locked = Value::Bool(truthy(locked));
        Ok(())
    }

    /// The view: nodes and resource nodes in registration order.
    pub(crate) fn into_view(self) -> CoreChannelView {
        let mut nodes: Vec<Ccn> = self.nodes.into_values().collect();
        nodes.sort_by_key(|c| c.seq);
        let mut resource_nodes: Vec<Crn> = self.resource_nodes.into_values().collect();
        resource_nodes.sort_by_key(|c| c.seq);
        CoreChannelView {
            nodes: nodes.into_iter().map(|c| c.node).collect(),
            resource_nodes: resource_nodes.into_iter().map(|c| c.node).collect(),
        }
    }
}

fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RICH: &str = "0xRich";
    const RICH2: &str = "0xRich2";
    const POOR: &str = "0xPoor";
    const CRN_OWNER: &str = "0xCrnOwner";
    const STAKER: &str = "0xStaker";
    const WHALE: &str = "0xWhale";

    fn balance(address: &str) -> Decimal {
        match address {
            RICH | RICH2 => Decimal::from(200_000u32),
            STAKER => Decimal::from(100_000u32),
            WHALE => Decimal::from(1_000_000u32),
            POOR => Decimal::from(9_000u32),
            _ => Decimal::ZERO,
        }
    }

    fn op(hash: &str, address: &str, action: &str, reference: Option<&str>, details: Value) -> Operation {
        Operation {
            item_hash: hash.to_owned(),
            address: address.to_owned(),
            time: 1_700_000_000.0,
            post_type: OPERATION_POST_TYPE.to_owned(),
            reference: reference.map(str::to_owned),
            content: json!({"action": action, "tags": [action, "mainnet"], "details": details}),
        }
    }

    fn amend(hash: &str, address: &str, target: &str, details: Value) -> Operation {
        Operation {
            item_hash: hash.to_owned(),
            address: address.to_owned(),
            time: 1_700_000_001.0,
            post_type: AMEND_POST_TYPE.to_owned(),
            reference: Some(target.to_owned()),
            content: json!({"action": "create-node", "tags": ["create-node", "mainnet"], "details": details}),
        }
    }

    fn ccn(hash: &str, owner: &str, host: &str) -> Operation {
        op(
            hash,
            owner,
            "create-node",
            None,
            json!({"name": hash, "multiaddress": format!("/ip4/{host}/tcp/4025")}),
        )
    }

    fn crn(hash: &str, owner: &str) -> Operation {
        op(
            hash,
            owner,
            "create-resource-node",
            None,
            json!({"name": hash, "address": format!("https://{hash}.example.org"), "type": "compute"}),
        )
    }

    fn link(hash: &str, by: &str, crn: &str) -> Operation {
        op(hash, by, "link", Some(crn), json!({}))
    }

    type Balances = fn(&str) -> Decimal;

    fn run(ops: &[Operation]) -> (Replay<Balances>, Vec<Result<(), Ignored>>) {
        let mut r = Replay::new(Rules::default(), balance as Balances);
        let outcomes = ops.iter().map(|o| r.apply(o)).collect();
        (r, outcomes)
    }

    fn view(ops: &[Operation]) -> CoreChannelView {
        replay(ops, balance, &Rules::default())
    }

    #[test]
    fn create_node_needs_the_balance_and_one_node_per_owner() {
        let ops = [ccn("a", RICH, "1.1.1.1"), ccn("b", RICH, "2.2.2.2"), ccn("c", POOR, "3.3.3.3")];
        let (r, out) = run(&ops);
        assert_eq!(out[0], Ok(()));
        assert_eq!(out[1], Err(Ignored::OwnerHasNode(RICH.into())));
        assert!(matches!(out[2], Err(Ignored::InsufficientBalance { .. })));
        let v = r.into_view();
        assert_eq!(v.nodes.len(), 1);
        let n = &v.nodes[0];
        assert_eq!((n.info.hash.as_str(), n.info.owner.as_str(), n.info.reward.as_str()), ("a", RICH, RICH));
        assert_eq!(n.status, NodeStatus::Waiting);
        assert_eq!(n.info.manager, "");
        assert_eq!(n.info.authorized, json!([]));
        assert!(!n.locked && !n.has_bonus);
        assert_eq!(n.info.multiaddress, "/ip4/1.1.1.1/tcp/4025");
        assert_eq!(v.node_of_owner(RICH).map(|n| n.info.hash.as_str()), Some("a"));
        assert!(v.node_of_owner(POOR).is_none());
    }

    #[test]
    fn the_aggregate_has_the_reference_field_names() {
        let v = view(&[ccn("a", RICH, "1.1.1.1"), crn("r", CRN_OWNER)]);
        let j = v.to_json();
        let mut node_keys: Vec<&str> =
            j["nodes"][0].as_object().unwrap().keys().map(String::as_str).collect();
        node_keys.sort_unstable();
        assert_eq!(
            node_keys,
            [
                "address",
                "authorized",
                "banner",
                "decentralization",
                "description",
                "has_bonus",
                "hash",
                "inactive_since",
                "locked",
                "manager",
                "multiaddress",
                "name",
                "owner",
                "performance",
                "picture",
                "registration_url",
                "resource_nodes",
                "reward",
                "score",
                "stakers",
                "status",
                "stream_reward",
                "terms_and_conditions",
                "time",
                "total_staked"
            ]
        );
        let crn = &j["resource_nodes"][0];
        assert_eq!(crn["type"], "compute");
        assert_eq!(crn["status"], "waiting");
        assert_eq!(crn["parent"], Value::Null);
        // The reference leaves these as "" when the registration does not set them.
        assert_eq!(
            (&crn["manager"], &crn["locked"], &crn["authorized"]),
            (&json!(""), &json!(""), &json!(""))
        );
        assert_eq!(crn["reward"], CRN_OWNER);
        assert_eq!(crn["address"], "https://r.example.org");
        assert_eq!(serde_json::from_value::<CoreChannelView>(j).unwrap(), v);
    }

    #[test]
    fn a_resource_node_needs_a_type_and_its_own_host() {
        let no_type = op("x", CRN_OWNER, "create-resource-node", None, json!({"address": "https://x.org"}));
        let same_host = op(
            "y",
            CRN_OWNER,
            "create-resource-node",
            None,
            json!({"address": "https://R.example.org:443/", "type": "compute"}),
        );
        let (r, out) = run(&[no_type, crn("r", CRN_OWNER), same_host]);
        assert_eq!(out[0], Err(Ignored::NoNodeType));
        let v = r.into_view();
        assert_eq!(v.resource_nodes.len(), 2);
        assert_eq!(v.resource_nodes[1].info.address, "", "a host another CRN uses is emptied");
    }

    #[test]
    fn link_by_the_ccn_owner_only_and_at_most_eight() {
        let mut ops = vec![ccn("a", RICH, "1.1.1.1"), ccn("b", RICH2, "2.2.2.2")];
        for i in 0..10 {
            ops.push(crn(&format!("r{i}"), CRN_OWNER));
        }
        ops.push(link("l-by-crn-owner", CRN_OWNER, "r0"));
        for i in 0..9 {
            ops.push(link(&format!("l{i}"), RICH, &format!("r{i}")));
        }
        ops.push(link("l-taken", RICH2, "r0"));
        ops.push(link("l-unknown", RICH2, "nope"));
        let (r, out) = run(&ops);
        let by_hash = |h: &str| out[ops.iter().position(|o| o.item_hash == h).unwrap()].clone();
        assert_eq!(by_hash("l-by-crn-owner"), Err(Ignored::NotNodeOwner(CRN_OWNER.into())));
        assert_eq!(by_hash("l7"), Ok(()));
        assert_eq!(by_hash("l8"), Err(Ignored::NodeFull("a".into())));
        assert_eq!(by_hash("l-taken"), Err(Ignored::AlreadyLinked("r0".into())));
        assert_eq!(by_hash("l-unknown"), Err(Ignored::UnknownResourceNode("nope".into())));
        let v = r.into_view();
        let linked: Vec<&str> = v.linked_crns("a").iter().map(|c| c.info.hash.as_str()).collect();
        assert_eq!(linked, ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]);
        assert_eq!(v.node("a").unwrap().resource_nodes.len(), 8);
        let r0 = v.resource_node("r0").unwrap();
        assert_eq!((r0.status, r0.parent.as_deref()), (ResourceNodeStatus::Linked, Some("a")));
        let r8 = v.resource_node("r8").unwrap();
        assert_eq!((r8.status, r8.parent.as_deref()), (ResourceNodeStatus::Waiting, None));
        assert!(v.linked_crns("b").is_empty());
    }

    #[test]
    fn a_locked_resource_node_is_not_linked() {
        let locked = op(
            "r",
            CRN_OWNER,
            "create-resource-node",
            None,
            json!({"address": "https://r.org", "type": "compute", "locked": true}),
        );
        let (_, out) = run(&[ccn("a", RICH, "1.1.1.1"), locked, link("l", RICH, "r")]);
        assert_eq!(out[2], Err(Ignored::Locked("r".into())));
    }

    #[test]
    fn unlink_by_the_ccn_owner_or_the_crn_owner() {
        let ops = [
            ccn("a", RICH, "1.1.1.1"),
            crn("r", CRN_OWNER),
            crn("s", CRN_OWNER),
            link("l1", RICH, "r"),
            link("l2", RICH, "s"),
            op("u-stranger", RICH2, "unlink", Some("r"), json!({})),
            op("u-crn-owner", CRN_OWNER, "unlink", Some("r"), json!({})),
            op("u-ccn-owner", RICH, "unlink", Some("s"), json!({})),
            op("u-again", RICH, "unlink", Some("s"), json!({})),
        ];
        let (r, out) = run(&ops);
        assert!(matches!(out[5], Err(Ignored::NotAllowed { .. })));
        assert_eq!(out[6], Ok(()));
        assert_eq!(out[7], Ok(()));
        assert_eq!(out[8], Err(Ignored::NotLinked("s".into())));
        let v = r.into_view();
        assert!(v.node("a").unwrap().resource_nodes.is_empty());
        assert!(v
            .resource_nodes
            .iter()
            .all(|c| c.parent.is_none() && c.status == ResourceNodeStatus::Waiting));
    }

    #[test]
    fn drop_node_unlinks_its_resource_nodes_and_frees_the_owner() {
        let ops = [
            ccn("a", RICH, "1.1.1.1"),
            crn("r", CRN_OWNER),
            crn("s", CRN_OWNER),
            link("l1", RICH, "r"),
            link("l2", RICH, "s"),
            op("d-stranger", RICH2, "drop-node", Some("a"), json!({})),
            op("d-crn", CRN_OWNER, "drop-node", Some("s"), json!({})),
            op("d-ccn", RICH, "drop-node", Some("a"), json!({})),
            ccn("a2", RICH, "1.1.1.1"),
        ];
        let (r, out) = run(&ops);
        assert!(matches!(out[5], Err(Ignored::NotAllowed { .. })));
        assert_eq!(out[6..], [Ok(()), Ok(()), Ok(())]);
        let v = r.into_view();
        assert_eq!(v.nodes.iter().map(|n| n.info.hash.as_str()).collect::<Vec<_>>(), ["a2"]);
        assert_eq!(
            v.nodes[0].info.multiaddress, "/ip4/1.1.1.1/tcp/4025",
            "the dropped node's host is free again"
        );
        assert_eq!(v.resource_nodes.len(), 1);
        assert_eq!(
            (v.resource_nodes[0].status, &v.resource_nodes[0].parent),
            (ResourceNodeStatus::Waiting, &None)
        );
    }

    #[test]
    fn stakes_split_balances_and_activate_nodes() {
        let ops = [
            ccn("a", RICH, "1.1.1.1"),
            ccn("b", RICH2, "2.2.2.2"),
            op("s-poor", POOR, "stake", Some("a"), json!({})),
            op("s-owner", RICH2, "stake", Some("a"), json!({})),
            op("s1", STAKER, "stake", Some("a"), json!({})),
            op("s2", STAKER, "stake-split", Some("b"), json!({})),
            op("s2-again", STAKER, "stake-split", Some("b"), json!({})),
            op("w1", WHALE, "stake", Some("a"), json!({})),
        ];
        let (r, out) = run(&ops);
        assert!(matches!(out[2], Err(Ignored::InsufficientBalance { .. })));
        assert_eq!(out[3], Err(Ignored::OwnerCannotStake(RICH2.into())));
        assert_eq!(out[6], Err(Ignored::AlreadyStaking(STAKER.into(), "b".into())));
        let v = r.into_view();
        let (a, b) = (v.node("a").unwrap(), v.node("b").unwrap());
        assert_eq!(a.stakers[STAKER], 50_000.0);
        assert_eq!(a.stakers[WHALE], 1_000_000.0);
        assert_eq!(a.total_staked, 1_050_000.0);
        assert_eq!(a.status, NodeStatus::Active);
        assert_eq!(b.stakers[STAKER], 50_000.0);
        assert_eq!(b.status, NodeStatus::Waiting);

        // Unstaking from one node gives the whole balance to the other; `stake` moves it all.
        let mut more = ops.to_vec();
        more.push(op("u", STAKER, "unstake", Some("a"), json!({})));
        more.push(op("u-again", STAKER, "unstake", Some("a"), json!({})));
        let (r, out) = run(&more);
        assert_eq!(out[9], Err(Ignored::NotStaking(STAKER.into(), "a".into())));
        let v = r.into_view();
        assert!(!v.node("a").unwrap().stakers.contains_key(STAKER));
        assert_eq!(v.node("b").unwrap().stakers[STAKER], 100_000.0);

        // A staker that registers a node loses its stakes; dropping a node frees its stakers.
        let mut more = ops.to_vec();
        more.push(op("d", RICH, "drop-node", Some("a"), json!({})));
        let v = view(&more);
        assert_eq!(v.node("b").unwrap().stakers[STAKER], 100_000.0);
        assert!(v.node("a").is_none());
    }

    #[test]
    fn a_locked_node_takes_authorized_stakers_only() {
        let locked = op(
            "a",
            RICH,
            "create-node",
            None,
            json!({"multiaddress": "/dns4/a.example.org/tcp/4025", "locked": true}),
        );
        let ops = [
            locked,
            op("s1", STAKER, "stake", Some("a"), json!({})),
            amend("am", RICH, "a", json!({"authorized": [STAKER]})),
            op("s2", STAKER, "stake", Some("a"), json!({})),
        ];
        let (_, out) = run(&ops);
        assert_eq!(out[1], Err(Ignored::NotAuthorized("a".into())));
        assert_eq!(out[2..], [Ok(()), Ok(())]);
    }

    #[test]
    fn amends_by_owner_or_manager() {
        let ops = [
            ccn("a", RICH, "1.1.1.1"),
            ccn("b", RICH2, "2.2.2.2"),
            crn("r", CRN_OWNER),
            amend("am1", RICH, "a", json!({"name": "renamed", "manager": STAKER})),
            amend("am2", STAKER, "a", json!({"description": "by the manager"})),
            amend("am3", RICH2, "a", json!({"name": "hijack"})),
            amend("am4", RICH2, "b", json!({"multiaddress": "/ip4/1.1.1.1/tcp/1"})),
            amend("am5", CRN_OWNER, "r", json!({"address": "https://new.example.org"})),
            amend("am6", CRN_OWNER, "nope", json!({})),
        ];
        let (r, out) = run(&ops);
        assert_eq!(out[3..5], [Ok(()), Ok(())]);
        assert!(matches!(out[5], Err(Ignored::NotAllowed { .. })));
        assert_eq!(out[8], Err(Ignored::UnknownTarget("nope".into())));
        let v = r.into_view();
        let a = v.node("a").unwrap();
        assert_eq!(
            (a.info.name.as_str(), a.info.manager.as_str(), a.info.description.as_str()),
            ("renamed", STAKER, "by the manager")
        );
        assert_eq!(v.node("b").unwrap().info.multiaddress, "", "a host another CCN uses is emptied");
        let r = v.resource_node("r").unwrap();
        assert_eq!(r.info.address, "https://new.example.org");
        assert_eq!(r.locked, json!(false), "an amend makes `locked` a boolean");
        assert_eq!(r.info.name, "r", "fields an amend leaves out are kept");
    }

    #[test]
    fn unknown_actions_and_missing_refs_are_ignored() {
        let (_, out) = run(&[
            op("x", RICH, "amend", Some("a"), json!({})),
            op("y", RICH, "link", None, json!({})),
            Operation { post_type: "blog".into(), ..op("z", RICH, "link", None, json!({})) },
        ]);
        assert_eq!(out[0], Err(Ignored::UnknownAction("amend".into())));
        assert_eq!(out[1], Err(Ignored::NoRef));
        assert_eq!(out[2], Err(Ignored::UnknownAction("blog".into())));
    }

    #[test]
    fn hosts_as_the_reference_parses_them() {
        assert_eq!(url_host("https://CRN.example.org:4020/path").as_deref(), Some("crn.example.org"));
        assert_eq!(url_host("http://user@[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(url_host("crn.example.org"), None);
        assert_eq!(url_host(""), None);
        assert_eq!(
            multiaddr_host("/ip4/1.2.3.4/tcp/4025/p2p/QmSomething").as_deref(),
            None,
            "invalid peer id"
        );
        assert_eq!(multiaddr_host("/ip4/1.2.3.4/tcp/4025").as_deref(), Some("1.2.3.4"));
        assert_eq!(multiaddr_host("/dns4/ccn.example.org/tcp/4025").as_deref(), Some("ccn.example.org"));
        assert_eq!(multiaddr_host("not a multiaddr"), None);
    }
}
