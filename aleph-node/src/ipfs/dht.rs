//! The IPFS DHT (`[ipfs] bootstrap = true`) on the engine's own swarm, as kubo's "dual" DHT runs
//! it: two Kademlia tables, the public one on `/ipfs/kad/1.0.0` holding peers with public
//! addresses, and the LAN one on `/ipfs/lan/kad/1.0.0` holding peers with private or loopback
//! addresses (kubo's WAN table refuses peers without a public address, and its LAN table is
//! where loopback and private-network peers meet). Provider lookups ask both tables; a provider
//! announcement goes to the public table when it has peers, else to the LAN one (kubo's rule).
//!
//! Modes: the LAN table serves (answers other peers' queries) always; the public one serves only
//! once the swarm listens on a public address, and is a client otherwise (a node behind NAT
//! would only be a dead entry in others' tables).
//!
//! Provider records are keyed by the CID's multihash, as go-libp2p-kad-dht keys them, so a CIDv0
//! and its CIDv1 are one record.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aleph_core::cid::Cid;
use libp2p::kad::{self, store::MemoryStore, QueryId, QueryResult};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{identify, Multiaddr, PeerId, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::bitswap::Behaviour;

/// The public DHT's protocol.
pub(crate) const KAD_WAN: StreamProtocol = StreamProtocol::new("/ipfs/kad/1.0.0");
/// The LAN DHT's protocol (go-libp2p-kad-dht's `dual.LanExtension`).
pub(crate) const KAD_LAN: StreamProtocol = StreamProtocol::new("/ipfs/lan/kad/1.0.0");

/// kubo's default bootstrap peers (its `config.DefaultBootstrapAddresses`), less the QUIC one
/// (the engine's swarm is TCP only).
pub const DEFAULT_BOOTSTRAP_PEERS: [&str; 5] = [
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
    "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
];

/// How often the bootstrap peers are re-added and a bootstrap (a lookup of our own id, which
/// refreshes the tables) is run.
pub(crate) const REBOOTSTRAP: Duration = Duration::from_secs(300);
/// How long one DHT query (a provider lookup, an announcement) may run.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Providers dialed at most per lookup.
pub(crate) const MAX_PROVIDERS: usize = 8;
/// How long a fetch waits on the connected peers before it looks up providers.
pub(crate) const PROVIDER_DELAY: Duration = Duration::from_secs(1);
/// How long a fetch still waiting waits before it looks up providers again.
pub(crate) const PROVIDER_RETRY: Duration = Duration::from_secs(5);
/// How often the announcer wakes up (besides when a root is added).
const ANNOUNCE_TICK: Duration = Duration::from_secs(60);
/// Roots announced at most per announcer round.
const ANNOUNCE_BATCH: usize = 16;
/// How often a root is announced again (kubo v0.22's `Reprovider.Interval`).
const REANNOUNCE: Duration = Duration::from_secs(12 * 3600);
/// How long a provider record we store for others lives (go-libp2p-kad-dht's validity).
const PROVIDER_TTL: Duration = Duration::from_secs(48 * 3600);

/// Whether the node answers other peers' DHT queries (`[ipfs] dht_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DhtMode {
    /// The LAN table serves; the public one once the swarm listens on a public address.
    #[default]
    Auto,
    /// Neither table serves (lookups and announcements only, as kubo's `dhtclient`).
    Client,
    /// Both tables serve (kubo's `dhtserver`).
    Server,
}

/// One of the two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Net {
    Wan,
    Lan,
}

pub(crate) type Kad = kad::Behaviour<MemoryStore>;

/// A table's behaviour: manual inserts (addresses are added by class, from identify and the
/// bootstrap list), no periodic jobs of its own (the swarm task re-bootstraps and the
/// announcer re-announces, with bounded work).
pub(crate) fn behaviour(peer_id: PeerId, net: Net, mode: DhtMode) -> Kad {
    let mut config = kad::Config::new(match net {
        Net::Wan => KAD_WAN,
        Net::Lan => KAD_LAN,
    });
    config
        .set_query_timeout(QUERY_TIMEOUT)
        .set_kbucket_inserts(kad::BucketInserts::Manual)
        .set_periodic_bootstrap_interval(None)
        .set_provider_publication_interval(None)
        .set_provider_record_ttl(Some(PROVIDER_TTL));
    let store = MemoryStore::with_config(
        peer_id,
        kad::store::MemoryStoreConfig { max_provided_keys: 1 << 20, ..Default::default() },
    );
    let mut kad = kad::Behaviour::with_config(peer_id, store, config);
    kad.set_mode(Some(match (mode, net) {
        (DhtMode::Server, _) | (DhtMode::Auto, Net::Lan) => kad::Mode::Server,
        (DhtMode::Client, _) | (DhtMode::Auto, Net::Wan) => kad::Mode::Client,
    }));
    kad
}

/// The table an address belongs in: public IPs and DNS names in the public one, private and
/// loopback IPs in the LAN one; `None` for what the swarm cannot dial (not TCP, relayed).
pub(crate) fn net_of(addr: &Multiaddr) -> Option<Net> {
    let mut net = None;
    let mut tcp = false;
    for part in addr.iter() {
        match part {
            Protocol::Ip4(ip) => {
                net = Some(if ip.is_loopback() || ip.is_private() || ip.is_link_local() || is_cgnat(ip) {
                    Net::Lan
                } else if ip.is_unspecified()
                    || ip.is_broadcast()
                    || ip.is_multicast()
                    || ip.is_documentation()
                {
                    return None;
                } else {
                    Net::Wan
                })
            }
            Protocol::Ip6(ip) => {
                let first = ip.segments()[0];
                net = Some(if ip.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 {
                    Net::Lan
                } else if first & 0xe000 == 0x2000 {
                    Net::Wan
                } else {
                    return None;
                })
            }
            Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dnsaddr(_) => {
                net = Some(Net::Wan);
                tcp |= matches!(part, Protocol::Dnsaddr(_));
            }
            Protocol::Tcp(_) => tcp = true,
            Protocol::P2p(_) => {}
            _ => return None,
        }
    }
    net.filter(|_| tcp)
}

fn is_cgnat(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 100 && (64..128).contains(&b)
}

/// The provider-record key of `cid`: its multihash.
pub(crate) fn key_of(cid: &Cid) -> kad::RecordKey {
    kad::RecordKey::new(&cid.hash().to_bytes())
}

/// What the engine asks of the swarm task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Looks up providers of a CID in both tables and dials up to `limit` of them (with the
    /// addresses the lookup returned); answers with the providers found.
    FindProviders { cid: Cid, limit: usize, reply: oneshot::Sender<Vec<PeerId>> },
    /// Announces us as a provider of each CID; answers whether a table had peers to tell.
    Provide { cids: Vec<Cid>, reply: oneshot::Sender<bool> },
}

/// A provider lookup in progress (one query per table).
struct Lookup {
    limit: usize,
    found: Vec<PeerId>,
    queries: Vec<(Net, QueryId)>,
    reply: Option<oneshot::Sender<Vec<PeerId>>>,
}

/// The swarm task's DHT state.
pub(crate) struct Dht {
    local: PeerId,
    mode: DhtMode,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    lookups: HashMap<u64, Lookup>,
    by_query: HashMap<(Net, QueryId), u64>,
    next_lookup: u64,
    /// Peers dialed as providers recently, with when (kept connected a while: see
    /// [`Dht::protected`]).
    dialed: HashMap<PeerId, Instant>,
    /// Announcements that reached the DHT (counters for [`super::BitswapStats`]).
    pub(crate) announced: u64,
    /// Providers found by lookups (dialed or already connected).
    pub(crate) providers_found: u64,
    /// Providers dialed.
    pub(crate) providers_dialed: u64,
}

fn table(swarm: &mut Swarm<Behaviour>, net: Net) -> Option<&mut Kad> {
    let b = swarm.behaviour_mut();
    match net {
        Net::Wan => b.wan.as_mut(),
        Net::Lan => b.lan.as_mut(),
    }
}

fn table_len(swarm: &mut Swarm<Behaviour>, net: Net) -> usize {
    table(swarm, net).map(|k| k.kbuckets().map(|b| b.num_entries()).sum()).unwrap_or(0)
}

impl Dht {
    pub(crate) fn new(local: PeerId, mode: DhtMode, bootstrap: Vec<(PeerId, Multiaddr)>) -> Dht {
        Dht {
            local,
            mode,
            bootstrap,
            lookups: HashMap::new(),
            by_query: HashMap::new(),
            next_lookup: 0,
            dialed: HashMap::new(),
            announced: 0,
            providers_found: 0,
            providers_dialed: 0,
        }
    }

    /// Whether `peer` is kept connected when connections are trimmed: a bootstrap peer, or a
    /// provider dialed in the last ten minutes.
    pub(crate) fn protected(&mut self, peer: &PeerId) -> bool {
        self.dialed.retain(|_, at| at.elapsed() < Duration::from_secs(600));
        self.bootstrap.iter().any(|(p, _)| p == peer) || self.dialed.contains_key(peer)
    }

    /// Adds the bootstrap peers to their tables, dials them, and bootstraps each table that has
    /// peers (at start and every [`REBOOTSTRAP`]).
    pub(crate) fn bootstrap(&mut self, swarm: &mut Swarm<Behaviour>) {
        for (peer, addr) in &self.bootstrap {
            let Some(net) = net_of(addr) else {
                tracing::warn!(%addr, "a bootstrap peer the IPFS swarm cannot dial (TCP only) is ignored");
                continue;
            };
            if let Some(kad) = table(swarm, net) {
                kad.add_address(peer, addr.clone());
            }
            if !swarm.is_connected(peer) {
                if let Err(e) = swarm.dial(addr.clone()) {
                    tracing::debug!(%addr, error = %e, "IPFS bootstrap peer not dialed");
                }
            }
        }
        for net in [Net::Wan, Net::Lan] {
            if let Some(kad) = table(swarm, net) {
                if let Err(e) = kad.bootstrap() {
                    tracing::debug!(?net, error = %e, "DHT table not bootstrapped");
                }
            }
        }
    }

    /// A listen address: confirmed as external (provider records carry our external addresses,
    /// and kubo refuses a record with none), and a public one turns the public table to server
    /// mode.
    pub(crate) fn on_listen(&mut self, swarm: &mut Swarm<Behaviour>, addr: &Multiaddr) {
        swarm.add_external_address(addr.clone());
        if self.mode == DhtMode::Auto && net_of(addr) == Some(Net::Wan) {
            if let Some(kad) = table(swarm, Net::Wan) {
                if kad.mode() != kad::Mode::Server {
                    tracing::info!(%addr, "public IPFS listen address: serving the public DHT");
                    kad.set_mode(Some(kad::Mode::Server));
                }
            }
        }
    }

    /// A peer identified: its listen addresses go into each table whose protocol it serves,
    /// by address class.
    pub(crate) fn on_identify(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId, info: &identify::Info) {
        for (net, protocol) in [(Net::Wan, KAD_WAN), (Net::Lan, KAD_LAN)] {
            if !info.protocols.contains(&protocol) {
                continue;
            }
            let Some(kad) = table(swarm, net) else { continue };
            for addr in info.listen_addrs.iter().filter(|a| net_of(a) == Some(net)) {
                kad.add_address(&peer, addr.clone());
            }
        }
    }

    pub(crate) fn on_command(&mut self, swarm: &mut Swarm<Behaviour>, command: Command) {
        match command {
            Command::FindProviders { cid, limit, reply } => {
                let id = self.next_lookup;
                self.next_lookup += 1;
                let mut queries = Vec::new();
                for net in [Net::Wan, Net::Lan] {
                    if table_len(swarm, net) == 0 {
                        continue;
                    }
                    if let Some(kad) = table(swarm, net) {
                        let q = kad.get_providers(key_of(&cid));
                        self.by_query.insert((net, q), id);
                        queries.push((net, q));
                    }
                }
                if queries.is_empty() {
                    tracing::debug!(%cid, "no DHT peers to look providers up with");
                    let _ = reply.send(Vec::new());
                    return;
                }
                self.lookups.insert(id, Lookup { limit, found: Vec::new(), queries, reply: Some(reply) });
            }
            Command::Provide { cids, reply } => {
                // kubo's dual DHT: the public table when it has peers, else the LAN one.
                let net = if table_len(swarm, Net::Wan) > 0 {
                    Net::Wan
                } else if table_len(swarm, Net::Lan) > 0 {
                    Net::Lan
                } else {
                    let _ = reply.send(false);
                    return;
                };
                let Some(kad) = table(swarm, net) else {
                    let _ = reply.send(false);
                    return;
                };
                for cid in &cids {
                    if let Err(e) = kad.start_providing(key_of(cid)) {
                        tracing::warn!(%cid, error = %e, "not announced on the DHT");
                    }
                }
                tracing::debug!(?net, roots = cids.len(), "announcing provider records");
                let _ = reply.send(true);
            }
        }
    }

    /// A table's event; `is_banned` tells the providers not to dial.
    pub(crate) fn on_event(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        net: Net,
        event: kad::Event,
        is_banned: &dyn Fn(&PeerId) -> bool,
    ) {
        let kad::Event::OutboundQueryProgressed { id, result, step, .. } = event else { return };
        match result {
            QueryResult::GetProviders(result) => {
                let Some(&lookup_id) = self.by_query.get(&(net, id)) else { return };
                let Some(lookup) = self.lookups.get_mut(&lookup_id) else { return };
                if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = result {
                    for peer in providers {
                        if peer == self.local || lookup.found.contains(&peer) || is_banned(&peer) {
                            continue;
                        }
                        if lookup.found.len() >= lookup.limit {
                            break;
                        }
                        lookup.found.push(peer);
                        self.providers_found += 1;
                        self.dialed.insert(peer, Instant::now());
                        // Dialed now, while the query still holds the addresses it was given.
                        let opts = DialOpts::peer_id(peer)
                            .condition(PeerCondition::DisconnectedAndNotDialing)
                            .build();
                        if let Err(e) = swarm.dial(opts) {
                            tracing::debug!(%peer, error = %e, "IPFS provider not dialed");
                        } else {
                            tracing::debug!(%peer, "dialing an IPFS provider");
                            self.providers_dialed += 1;
                        }
                    }
                }
                let reached = lookup.found.len() >= lookup.limit;
                if step.last {
                    lookup.queries.retain(|q| *q != (net, id));
                    self.by_query.remove(&(net, id));
                }
                // Done when enough were found or both tables' queries ended.
                if reached || lookup.queries.is_empty() {
                    let Some(lookup) = self.lookups.remove(&lookup_id) else { return };
                    for (n, q) in lookup.queries {
                        self.by_query.remove(&(n, q));
                        if let Some(mut query) = table(swarm, n).and_then(|k| k.query_mut(&q)) {
                            query.finish();
                        }
                    }
                    if let Some(reply) = lookup.reply {
                        let _ = reply.send(lookup.found);
                    }
                }
            }
            QueryResult::StartProviding(Ok(_)) => self.announced += 1,
            QueryResult::StartProviding(Err(e)) | QueryResult::RepublishProvider(Err(e)) => {
                tracing::debug!(?net, error = %e, "a provider announcement failed");
            }
            QueryResult::Bootstrap(Ok(ok)) if step.last || ok.num_remaining == 0 => {
                tracing::debug!(?net, peers = table_len(swarm, net), "DHT table bootstrapped");
            }
            _ => {}
        }
    }
}

/// The roots the node announces: those it imported or fetched, and those the file pins keep
/// ([`Announcer::retain`] after each garbage collection), each re-announced every
/// [`REANNOUNCE`], at most [`ANNOUNCE_BATCH`] per round.
#[derive(Debug)]
pub(crate) struct Announcer {
    /// By CIDv1 (one record for a CIDv0 and its CIDv1): when last announced.
    roots: Mutex<HashMap<Cid, Option<Instant>>>,
    wake: Notify,
    commands: mpsc::UnboundedSender<Command>,
}

impl Announcer {
    pub(crate) fn new(commands: mpsc::UnboundedSender<Command>) -> Arc<Announcer> {
        Arc::new(Announcer { roots: Mutex::new(HashMap::new()), wake: Notify::new(), commands })
    }

    fn roots(&self) -> std::sync::MutexGuard<'_, HashMap<Cid, Option<Instant>>> {
        self.roots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A root to announce (now, in the next round).
    pub(crate) fn add(&self, cid: &Cid) {
        self.roots().entry(cid.to_v1()).or_insert(None);
        self.wake.notify_one();
    }

    /// The pinned roots: the others are no longer announced, the new ones are.
    pub(crate) fn retain(&self, pinned: &[Cid]) {
        let pinned: HashSet<Cid> = pinned.iter().map(Cid::to_v1).collect();
        let mut roots = self.roots();
        roots.retain(|cid, _| pinned.contains(cid));
        let new = pinned.iter().any(|c| !roots.contains_key(c));
        for cid in pinned {
            roots.entry(cid).or_insert(None);
        }
        drop(roots);
        if new {
            self.wake.notify_one();
        }
    }

    /// The roots due now: never announced first, then those announced [`REANNOUNCE`] ago.
    fn due(&self) -> Vec<Cid> {
        let roots = self.roots();
        let mut due: Vec<(Option<Instant>, Cid)> = roots
            .iter()
            .filter(|(_, at)| at.is_none_or(|at| at.elapsed() >= REANNOUNCE))
            .map(|(cid, at)| (*at, *cid))
            .collect();
        due.sort_by_key(|(at, _)| *at);
        due.into_iter().take(ANNOUNCE_BATCH).map(|(_, cid)| cid).collect()
    }

    /// Announces what is due, round after round, until `token` is cancelled.
    pub(crate) async fn run(self: Arc<Self>, token: CancellationToken) {
        loop {
            let due = self.due();
            if !due.is_empty() {
                let (reply, told) = oneshot::channel();
                if self.commands.send(Command::Provide { cids: due.clone(), reply }).is_err() {
                    return;
                }
                if told.await.unwrap_or(false) {
                    let now = Instant::now();
                    let mut roots = self.roots();
                    for cid in due {
                        if let Some(at) = roots.get_mut(&cid) {
                            *at = Some(now);
                        }
                    }
                }
            }
            // A root added wakes the announcer at once; what is left waits for the next round.
            let pause = if self.due().is_empty() { ANNOUNCE_TICK } else { ANNOUNCE_TICK / 6 };
            tokio::select! {
                _ = token.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_go_to_the_table_kubo_would_put_them_in() {
        let net = |a: &str| net_of(&a.parse().unwrap());
        assert_eq!(net("/ip4/127.0.0.1/tcp/4001"), Some(Net::Lan));
        assert_eq!(
            net("/ip4/192.168.1.4/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"),
            Some(Net::Lan)
        );
        assert_eq!(net("/ip4/100.64.0.1/tcp/4001"), Some(Net::Lan));
        assert_eq!(net("/ip4/104.131.131.82/tcp/4001"), Some(Net::Wan));
        assert_eq!(net("/ip6/::1/tcp/4001"), Some(Net::Lan));
        assert_eq!(net("/ip6/2604:a880:1:20::203:d001/tcp/4001"), Some(Net::Wan));
        assert_eq!(net("/dnsaddr/bootstrap.libp2p.io"), Some(Net::Wan));
        assert_eq!(net("/dns4/example.org/tcp/4001"), Some(Net::Wan));
        // Not dialable by a TCP-only swarm, or not an address at all.
        assert_eq!(net("/ip4/104.131.131.82/udp/4001/quic-v1"), None);
        assert_eq!(net("/ip4/0.0.0.0/tcp/4001"), None);
        assert_eq!(
            net(
                "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ/p2p-circuit"
            ),
            None
        );
    }

    #[test]
    fn the_default_bootstrap_peers_parse_with_their_peer_ids() {
        for addr in DEFAULT_BOOTSTRAP_PEERS {
            let addr: Multiaddr = addr.parse().unwrap();
            assert!(matches!(addr.iter().last(), Some(Protocol::P2p(_))), "{addr}");
            assert_eq!(net_of(&addr), Some(Net::Wan), "{addr}");
        }
    }

    #[tokio::test]
    async fn the_announcer_announces_new_roots_first_in_bounded_rounds_and_forgets_unpinned_ones() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let announcer = Announcer::new(tx);
        let cids: Vec<Cid> =
            (0..ANNOUNCE_BATCH + 4).map(|i| aleph_core::cid::cid_v0(&[i as u8]).parse().unwrap()).collect();
        for cid in &cids {
            announcer.add(cid);
        }
        let token = CancellationToken::new();
        let task = tokio::spawn(announcer.clone().run(token.clone()));
        let Some(Command::Provide { cids: first, reply }) = rx.recv().await else { panic!("no round") };
        assert_eq!(first.len(), ANNOUNCE_BATCH);
        reply.send(true).unwrap();
        let Some(Command::Provide { cids: second, reply }) = rx.recv().await else { panic!("no round") };
        assert_eq!(second.len(), 4);
        assert!(second.iter().all(|c| !first.contains(c)));
        // No table had peers: the roots stay due.
        reply.send(false).unwrap();
        let Some(Command::Provide { cids: again, reply }) = rx.recv().await else { panic!("no round") };
        assert_eq!(again, second);
        reply.send(true).unwrap();
        // Only pinned roots are kept; a CIDv0 and its CIDv1 are one root. The root kept is one the
        // announcer has recorded as announced (the last reply may not have been taken in yet).
        let kept = cids.iter().find(|c| c.to_v1() == first[0]).expect("first round roots come from cids");
        announcer.retain(&[*kept]);
        assert_eq!(announcer.roots().len(), 1);
        assert!(announcer.due().is_empty());
        token.cancel();
        task.await.unwrap();
    }
}
