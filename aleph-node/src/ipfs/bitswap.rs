//! Bitswap 1.2 on a libp2p swarm of its own (TCP, Noise, yamux, identify): the client's want
//! list (every wanted CID is asked of every connected peer, with a timeout; a received block is
//! taken only if its bytes hash to a CID that is wanted) and the server (wants answered from the
//! block store, `DONT_HAVE` when asked). A peer that sends a block nobody wanted — bytes that do
//! not match what was asked — is disconnected and banned for [`BAN`].
//!
//! Configured peers are dialed at start and redialed every [`REDIAL`] while disconnected. With
//! the DHT on (`bootstrap = true`, [`super::dht`]), the swarm also runs its two Kademlia tables,
//! and connections beyond [`CONN_HIGH`] are trimmed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aleph_core::cid::Cid;
use bytes::Bytes;
use futures_util::StreamExt;
use libp2p::futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::identity::Keypair;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::bitswap_message::{Entry, Message, Presence, WantType, MAX_MESSAGE};
use super::bitswap_net::StreamReply;
use super::blockstore::BlockStore;
use super::dht::{self, Announcer, Dht};
use super::IpfsError;

/// How long a peer that sent wrong bytes stays banned.
const BAN: Duration = Duration::from_secs(600);
/// How often configured peers that are not connected are dialed again.
const REDIAL: Duration = Duration::from_secs(10);
/// Blocks a reply carries at most, in bytes (below boxo's 4 MiB message limit).
const REPLY_BYTES: usize = 2 << 20;
/// How long a CID stays "recently received": duplicates of it from slower peers are not faults.
const RECENT: Duration = Duration::from_secs(120);
/// With the DHT on, connections past this many are trimmed (kubo's connection manager keeps
/// 32 to 96)...
const CONN_HIGH: usize = 96;
/// ...down to this many, sparing configured, bootstrap and recently dialed provider peers and
/// peers connected for less than [`CONN_GRACE`].
const CONN_LOW: usize = 64;
const CONN_GRACE: Duration = Duration::from_secs(60);

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    identify: identify::Behaviour,
    bitswap: super::bitswap_net::Behaviour,
    /// The public DHT table (on with `bootstrap = true`).
    pub(crate) wan: Toggle<dht::Kad>,
    /// The LAN DHT table (on with `bootstrap = true`).
    pub(crate) lan: Toggle<dht::Kad>,
}

/// Counters, for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BitswapStats {
    /// Blocks received that were wanted.
    pub blocks_received: u64,
    /// Blocks sent to peers.
    pub blocks_sent: u64,
    /// Peers dropped for sending blocks that were not asked for (wrong bytes).
    pub peers_banned: u64,
    /// Peers connected now.
    pub peers: u64,
    /// Provider announcements (one root each) that reached the DHT.
    pub dht_announced: u64,
    /// Providers found by DHT lookups (dialed, or already connected).
    pub dht_providers_found: u64,
    /// Providers found on the DHT and dialed.
    pub dht_providers_dialed: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Wanted CIDs and who waits for each (by waiter id).
    wants: HashMap<Cid, Vec<(u64, oneshot::Sender<Bytes>)>>,
    next_waiter: u64,
    /// Connected peers and the queue of messages to send each.
    peers: HashMap<PeerId, mpsc::Sender<Message>>,
    /// Recently received CIDs (late duplicates are not faults).
    recent: HashMap<Cid, Instant>,
    banned: HashMap<PeerId, Instant>,
    stats: BitswapStats,
}

/// The bitswap engine's handle.
#[derive(Debug, Clone)]
pub(crate) struct Bitswap {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    store: Arc<dyn BlockStore>,
    peer_id: PeerId,
    listen: watch::Receiver<Vec<Multiaddr>>,
    disconnect: mpsc::UnboundedSender<PeerId>,
    dial: mpsc::UnboundedSender<Multiaddr>,
    open: mpsc::UnboundedSender<(PeerId, StreamReply)>,
    /// The DHT's commands and announcer, when it is on.
    dht: Option<(mpsc::UnboundedSender<dht::Command>, Arc<Announcer>)>,
}

impl Bitswap {
    /// Starts the swarm listening on `listen`, dialing `peers`, until `token` is cancelled; with
    /// `bootstrap` (the bootstrap peers, with `/p2p/…`), joins the DHT through them.
    pub(crate) async fn spawn(
        key: Keypair,
        listen: Multiaddr,
        peers: Vec<Multiaddr>,
        bootstrap: Option<(Vec<Multiaddr>, dht::DhtMode)>,
        store: Arc<dyn BlockStore>,
        token: CancellationToken,
    ) -> Result<Bitswap, IpfsError> {
        let net = |e: &dyn std::fmt::Display| IpfsError::Network(e.to_string());
        let peer_id = key.public().to_peer_id();
        let identify = identify::Behaviour::new(
            identify::Config::new("ipfs/0.1.0".into(), key.public())
                .with_agent_version(format!("aleph-node-rs/{}", crate::VERSION)),
        );
        let (inbound_tx, mut inbound_rx) = mpsc::unbounded_channel();
        let on = bootstrap.is_some();
        let mode = bootstrap.as_ref().map(|(_, m)| *m).unwrap_or_default();
        let behaviour = Behaviour {
            identify,
            bitswap: super::bitswap_net::Behaviour::new(inbound_tx),
            wan: Toggle::from(on.then(|| dht::behaviour(peer_id, dht::Net::Wan, mode))),
            lan: Toggle::from(on.then(|| dht::behaviour(peer_id, dht::Net::Lan, mode))),
        };
        let builder = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::default().nodelay(true),
                libp2p::noise::Config::new,
                libp2p::yamux::Config::default,
            )
            .map_err(|e| net(&e))?;
        let idle = |c: libp2p::swarm::Config| c.with_idle_connection_timeout(Duration::from_secs(3600));
        // DNS (the default bootstrap peers are `/dnsaddr/…`) only with the DHT: without it the
        // transport stays as it was.
        let mut swarm = if on {
            builder
                .with_dns()
                .map_err(|e| net(&e))?
                .with_behaviour(|_| behaviour)
                .map_err(|e| net(&e))?
                .with_swarm_config(idle)
                .build()
        } else {
            builder.with_behaviour(|_| behaviour).map_err(|e| net(&e))?.with_swarm_config(idle).build()
        };
        swarm
            .listen_on(listen.clone())
            .map_err(|e| IpfsError::Network(format!("cannot listen on {listen}: {e}")))?;
        let (listen_tx, listen_rx) = watch::channel(Vec::new());
        let (disconnect_tx, disconnect_rx) = mpsc::unbounded_channel();
        let (dial_tx, dial_rx) = mpsc::unbounded_channel();
        let (open_tx, open_rx) = mpsc::unbounded_channel();
        let (dht_tx, dht_rx) = mpsc::unbounded_channel();
        let dht =
            bootstrap.map(|(peers, mode)| Dht::new(peer_id, mode, with_peer_ids(peers, "bootstrap peer")));
        let announcer = dht.as_ref().map(|_| Announcer::new(dht_tx.clone()));
        if let Some(announcer) = &announcer {
            tokio::spawn(announcer.clone().run(token.clone()));
        }
        let bitswap = Bitswap {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                store,
                peer_id,
                listen: listen_rx,
                disconnect: disconnect_tx,
                dial: dial_tx,
                open: open_tx,
                dht: announcer.map(|a| (dht_tx, a)),
            }),
        };
        let bs = bitswap.clone();
        let t = token.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = t.cancelled() => return,
                    next = inbound_rx.recv() => match next {
                        Some((peer, stream)) => { tokio::spawn(bs.clone().read_stream(peer, stream)); }
                        None => return,
                    },
                }
            }
        });
        let bs = bitswap.clone();
        tokio::spawn(async move {
            let channels = Channels {
                listen: listen_tx,
                disconnect: disconnect_rx,
                dial: dial_rx,
                open: open_rx,
                dht: dht_rx,
            };
            bs.run_swarm(swarm, peers, dht, channels, token).await
        });
        // The listen addresses are known once the swarm has bound them.
        let mut rx = bitswap.inner.listen.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|a| !a.is_empty())).await;
        Ok(bitswap)
    }

    pub(crate) fn peer_id(&self) -> PeerId {
        self.inner.peer_id
    }

    /// The addresses the swarm listens on.
    pub(crate) fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.inner.listen.borrow().clone()
    }

    /// The connected peers.
    pub(crate) fn connected(&self) -> Vec<PeerId> {
        self.state().peers.keys().copied().collect()
    }

    /// Whether a peer is connected, waiting up to `within` for one (configured peers are being
    /// dialed at start).
    pub(crate) async fn wait_connected(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if !self.state().peers.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn stats(&self) -> BitswapStats {
        let state = self.state();
        BitswapStats { peers: state.peers.len() as u64, ..state.stats }
    }

    /// Dials `addr` (a peer's multiaddr with `/p2p/…`).
    pub(crate) fn dial(&self, addr: Multiaddr) {
        let _ = self.inner.dial.send(addr);
    }

    /// Whether the DHT is on.
    pub(crate) fn has_dht(&self) -> bool {
        self.inner.dht.is_some()
    }

    /// Looks up providers of `cid` on the DHT and dials up to `limit` of them (bitswap then asks
    /// them for everything wanted); the providers found (none with the DHT off).
    pub(crate) async fn find_providers(&self, cid: Cid, limit: usize) -> Vec<PeerId> {
        let Some((commands, _)) = &self.inner.dht else { return Vec::new() };
        let (reply, found) = oneshot::channel();
        if commands.send(dht::Command::FindProviders { cid, limit, reply }).is_err() {
            return Vec::new();
        }
        found.await.unwrap_or_default()
    }

    /// Announces `root` on the DHT (soon, and again periodically while it is kept).
    pub(crate) fn announce(&self, root: &Cid) {
        if let Some((_, announcer)) = &self.inner.dht {
            announcer.add(root);
        }
    }

    /// The roots the pins keep: the only ones announced from now on.
    pub(crate) fn retain_announced(&self, pinned: &[Cid]) {
        if let Some((_, announcer)) = &self.inner.dht {
            announcer.retain(pinned);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks every connected peer (and those that connect meanwhile) for `cid`; the verified bytes,
    /// or `None` after `timeout`. Dropping the future withdraws the want.
    #[cfg(test)]
    pub(crate) async fn want(&self, cid: Cid, timeout: Duration) -> Option<Bytes> {
        self.want_many(&[cid], timeout).await.pop().flatten()
    }

    /// [`Bitswap::want`] for several CIDs, asked in one message; the answers in order.
    pub(crate) async fn want_many(&self, cids: &[Cid], timeout: Duration) -> Vec<Option<Bytes>> {
        let mut receivers = Vec::with_capacity(cids.len());
        let mut withdraws = Vec::with_capacity(cids.len());
        let mut entries = Vec::new();
        {
            let mut state = self.state();
            for &cid in cids {
                let (tx, rx) = oneshot::channel();
                let id = state.next_waiter;
                state.next_waiter += 1;
                let waiters = state.wants.entry(cid).or_default();
                waiters.push((id, tx));
                if waiters.len() == 1 {
                    entries.push(want_entry(cid, false));
                }
                receivers.push(rx);
                withdraws.push(Withdraw { bitswap: self, cid, id });
            }
        }
        if !entries.is_empty() {
            self.broadcast(Message { entries, ..Default::default() });
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let answers = futures_util::future::join_all(
            receivers
                .into_iter()
                .map(|rx| async move { tokio::time::timeout_at(deadline, rx).await.ok()?.ok() }),
        )
        .await;
        drop(withdraws);
        answers
    }

    /// Removes waiter `id` of `cid`; the last one gone cancels the want with the peers.
    fn withdraw(&self, cid: Cid, id: u64) {
        let last = {
            let mut state = self.state();
            match state.wants.get_mut(&cid) {
                Some(waiters) => {
                    waiters.retain(|(w, _)| *w != id);
                    let empty = waiters.is_empty();
                    if empty {
                        state.wants.remove(&cid);
                    }
                    empty
                }
                None => false,
            }
        };
        if last {
            self.broadcast(Message { entries: vec![want_entry(cid, true)], ..Default::default() });
        }
    }

    fn broadcast(&self, message: Message) {
        let peers: Vec<mpsc::Sender<Message>> = self.state().peers.values().cloned().collect();
        for peer in peers {
            let _ = peer.try_send(message.clone());
        }
    }

    fn send(&self, peer: &PeerId, message: Message) {
        let queue = self.state().peers.get(peer).cloned();
        if let Some(queue) = queue {
            let _ = queue.try_send(message);
        }
    }

    /// Reads one peer's messages from an inbound stream until it ends.
    async fn read_stream(self, peer: PeerId, mut stream: libp2p::Stream) {
        let mut buf = Vec::new();
        loop {
            match read_frame(&mut stream, &mut buf).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "bitswap stream closed");
                    return;
                }
            }
            let message = match Message::decode(&buf) {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "malformed bitswap message");
                    return;
                }
            };
            if !self.handle(peer, message).await {
                return;
            }
        }
    }

    /// Handles a received message; `false` when the peer was dropped.
    async fn handle(&self, peer: PeerId, message: Message) -> bool {
        let mut received = Vec::new();
        for (cid, data) in message.blocks {
            let wanted = cid.and_then(|cid| {
                let mut state = self.state();
                let waiters = state.wants.remove(&cid);
                if waiters.is_none() && !state.recent.contains_key(&cid) {
                    return None;
                }
                state.recent.insert(cid, Instant::now());
                Some((cid, waiters.unwrap_or_default()))
            });
            let Some((cid, waiters)) = wanted else {
                self.ban(peer, "sent a block that was not asked for (wrong bytes)");
                return false;
            };
            if waiters.is_empty() {
                continue; // a late duplicate
            }
            if let Err(e) = self.inner.store.put(&cid, data.clone()).await {
                tracing::warn!(%cid, error = %e, "a received block could not be stored");
            }
            self.state().stats.blocks_received += 1;
            for (_, w) in waiters {
                let _ = w.send(data.clone());
            }
            received.push(want_entry(cid, true));
        }
        if !received.is_empty() {
            self.broadcast(Message { entries: received, ..Default::default() });
        }
        let mut reply = Message::default();
        let mut sent = 0;
        for entry in message.entries.iter().filter(|e| !e.cancel) {
            let block = match self.inner.store.get(&entry.cid).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(cid = %entry.cid, error = %e, "block store read failed");
                    None
                }
            };
            match (block, entry.want_type) {
                (Some(_), WantType::Have) => reply.presences.push(Presence { cid: entry.cid, have: true }),
                (Some(data), WantType::Block) => {
                    if reply.block_bytes() + data.len() > REPLY_BYTES && !reply.blocks.is_empty() {
                        self.send(&peer, std::mem::take(&mut reply));
                    }
                    reply.blocks.push((Some(entry.cid), data));
                    sent += 1;
                }
                (None, _) if entry.send_dont_have => {
                    reply.presences.push(Presence { cid: entry.cid, have: false })
                }
                (None, _) => {}
            }
        }
        if !reply.is_empty() {
            self.send(&peer, reply);
        }
        self.state().stats.blocks_sent += sent;
        true
    }

    fn ban(&self, peer: PeerId, why: &str) {
        tracing::warn!(%peer, why, "bitswap peer dropped");
        {
            let mut state = self.state();
            state.banned.insert(peer, Instant::now());
            state.peers.remove(&peer);
            state.stats.peers_banned += 1;
        }
        let _ = self.inner.disconnect.send(peer);
    }

    fn dht_counters(&self, dht: &Dht) {
        let mut state = self.state();
        state.stats.dht_announced = dht.announced;
        state.stats.dht_providers_found = dht.providers_found;
        state.stats.dht_providers_dialed = dht.providers_dialed;
    }

    fn is_banned(&self, peer: &PeerId) -> bool {
        let mut state = self.state();
        state.banned.retain(|_, at| at.elapsed() < BAN);
        state.banned.contains_key(peer)
    }

    /// A newly connected peer: a queue and a writer task, and our whole want list.
    fn connected_peer(&self, peer: PeerId) {
        let (tx, rx) = mpsc::channel(256);
        let wants: Vec<Cid> = {
            let mut state = self.state();
            if state.peers.contains_key(&peer) {
                return;
            }
            state.peers.insert(peer, tx.clone());
            state.wants.keys().copied().collect()
        };
        tokio::spawn(write_peer(peer, self.inner.open.clone(), rx));
        if !wants.is_empty() {
            let entries = wants.into_iter().map(|c| want_entry(c, false)).collect();
            let _ = tx.try_send(Message { entries, full: true, ..Default::default() });
        }
    }

    async fn run_swarm(
        self,
        mut swarm: Swarm<Behaviour>,
        peers: Vec<Multiaddr>,
        mut dht: Option<Dht>,
        channels: Channels,
        token: CancellationToken,
    ) {
        let Channels { listen, mut disconnect, mut dial, mut open, dht: mut dht_commands } = channels;
        let configured = with_peer_ids(peers, "[ipfs] peer");
        let mut redial = tokio::time::interval(REDIAL);
        let mut recent_sweep = tokio::time::interval(RECENT);
        let mut rebootstrap = tokio::time::interval(dht::REBOOTSTRAP);
        let mut trim = tokio::time::interval(Duration::from_secs(30));
        let mut connected_at: HashMap<PeerId, Instant> = HashMap::new();
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = redial.tick() => {
                    for (peer, addr) in &configured {
                        if !swarm.is_connected(peer) {
                            if let Err(e) = swarm.dial(addr.clone()) {
                                tracing::debug!(%addr, error = %e, "ipfs peer not dialed");
                            }
                        }
                    }
                }
                _ = rebootstrap.tick(), if dht.is_some() => {
                    if let Some(dht) = dht.as_mut() {
                        dht.bootstrap(&mut swarm);
                    }
                }
                _ = trim.tick(), if dht.is_some() => {
                    if let Some(dht) = dht.as_mut() {
                        let excess = connected_at.len().saturating_sub(CONN_HIGH);
                        if excess > 0 {
                            let spare = connected_at.len() - CONN_LOW;
                            let victims: Vec<PeerId> = connected_at
                                .iter()
                                .filter(|(p, at)| {
                                    at.elapsed() >= CONN_GRACE
                                        && !configured.iter().any(|(c, _)| c == *p)
                                        && !dht.protected(p)
                                })
                                .map(|(p, _)| *p)
                                .take(spare)
                                .collect();
                            tracing::debug!(connected = connected_at.len(), trimmed = victims.len(), "IPFS connections trimmed");
                            for peer in victims {
                                let _ = swarm.disconnect_peer_id(peer);
                            }
                        }
                    }
                }
                _ = recent_sweep.tick() => {
                    self.state().recent.retain(|_, at| at.elapsed() < RECENT);
                }
                Some(peer) = disconnect.recv() => { let _ = swarm.disconnect_peer_id(peer); }
                Some((peer, reply)) = open.recv() => {
                    if swarm.is_connected(&peer) {
                        swarm.behaviour_mut().bitswap.open(peer, reply);
                    } else {
                        let _ = reply.send(Err(std::io::ErrorKind::NotConnected.into()));
                    }
                }
                Some(addr) = dial.recv() => {
                    if let Err(e) = swarm.dial(addr.clone()) {
                        tracing::debug!(%addr, error = %e, "ipfs peer not dialed");
                    }
                }
                Some(command) = dht_commands.recv() => {
                    if let Some(dht) = dht.as_mut() {
                        dht.on_command(&mut swarm, command);
                    }
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::NewListenAddr { address, .. } => {
                        tracing::info!(%address, "IPFS (bitswap) listening");
                        if let Some(dht) = dht.as_mut() {
                            dht.on_listen(&mut swarm, &address);
                        }
                        listen.send_modify(|a| a.push(address));
                        // The first address bound: the DHT starts from the bootstrap peers.
                        if listen.borrow().len() == 1 {
                            if let Some(dht) = dht.as_mut() {
                                dht.bootstrap(&mut swarm);
                            }
                        }
                    }
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                        if self.is_banned(&peer_id) {
                            let _ = swarm.disconnect_peer_id(peer_id);
                        } else {
                            connected_at.entry(peer_id).or_insert_with(Instant::now);
                            self.connected_peer(peer_id);
                        }
                    }
                    SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                        connected_at.remove(&peer_id);
                        self.state().peers.remove(&peer_id);
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                        if let Some(dht) = dht.as_mut() {
                            dht.on_identify(&mut swarm, peer_id, &info);
                        }
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Wan(event)) => {
                        if let Some(dht) = dht.as_mut() {
                            dht.on_event(&mut swarm, dht::Net::Wan, event, &|p| self.is_banned(p));
                            self.dht_counters(dht);
                        }
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Lan(event)) => {
                        if let Some(dht) = dht.as_mut() {
                            dht.on_event(&mut swarm, dht::Net::Lan, event, &|p| self.is_banned(p));
                            self.dht_counters(dht);
                        }
                    }
                    _ => {}
                },
            }
        }
    }
}

/// The swarm task's channels from the handles.
struct Channels {
    listen: watch::Sender<Vec<Multiaddr>>,
    disconnect: mpsc::UnboundedReceiver<PeerId>,
    dial: mpsc::UnboundedReceiver<Multiaddr>,
    open: mpsc::UnboundedReceiver<(PeerId, StreamReply)>,
    dht: mpsc::UnboundedReceiver<dht::Command>,
}

/// The addresses that end in `/p2p/<peer id>`, with it (the others are ignored, with a warning
/// naming `what`).
fn with_peer_ids(addrs: Vec<Multiaddr>, what: &str) -> Vec<(PeerId, Multiaddr)> {
    addrs
        .into_iter()
        .filter_map(|a| match a.iter().last() {
            Some(libp2p::multiaddr::Protocol::P2p(p)) => Some((p, a)),
            _ => {
                tracing::warn!(addr = %a, "ignored: {what} without /p2p/<peer id>");
                None
            }
        })
        .collect()
}

/// Withdraws a want when its future ends, whether answered, timed out or dropped.
struct Withdraw<'a> {
    bitswap: &'a Bitswap,
    cid: Cid,
    id: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.bitswap.withdraw(self.cid, self.id);
    }
}

fn want_entry(cid: Cid, cancel: bool) -> Entry {
    Entry { cid, priority: 1, cancel, want_type: WantType::Block, send_dont_have: !cancel }
}

/// Sends a peer's queued messages on one outbound stream, reopened once if it breaks.
async fn write_peer(
    peer: PeerId,
    open: mpsc::UnboundedSender<(PeerId, StreamReply)>,
    mut rx: mpsc::Receiver<Message>,
) {
    let mut stream: Option<libp2p::Stream> = None;
    while let Some(message) = rx.recv().await {
        let frame = frame(&message.encode());
        for _attempt in 0..2 {
            if stream.is_none() {
                let (tx, reply) = oneshot::channel();
                let _ = open.send((peer, tx));
                match reply.await.unwrap_or_else(|_| Err(std::io::ErrorKind::NotConnected.into())) {
                    Ok(s) => stream = Some(s),
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "bitswap stream not opened");
                        break;
                    }
                }
            }
            let Some(s) = stream.as_mut() else { break };
            match async { s.write_all(&frame).await.and(s.flush().await) }.await {
                Ok(()) => break,
                Err(_) => stream = None,
            }
        }
    }
}

pub(super) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 10);
    super::pb::put_varint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// Reads one varint-framed message into `buf`; `false` at a clean end of stream.
pub(super) async fn read_frame(stream: &mut libp2p::Stream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut len = 0usize;
    for i in 0..5 {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 {
            return if i == 0 { Ok(false) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
        len |= usize::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    if len > MAX_MESSAGE {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "bitswap message too large"));
    }
    // Read as it arrives: memory follows the bytes sent, not the length announced.
    buf.clear();
    let n = (&mut *stream).take(len as u64).read_to_end(buf).await?;
    if n != len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::dag::Block;
    use crate::ipfs::FsBlockStore;
    use aleph_core::cid::{CidVersion, Codec};

    #[tokio::test]
    async fn a_peer_sending_bytes_that_were_not_asked_for_is_dropped_and_banned() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlockStore> = Arc::new(FsBlockStore::open(dir.path()).unwrap());
        let (_listen_tx, listen) = watch::channel(Vec::new());
        let (disconnect, mut disconnected) = mpsc::unbounded_channel();
        let (dial, _dial_rx) = mpsc::unbounded_channel();
        let (open, _open_rx) = mpsc::unbounded_channel();
        let bs = Bitswap {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                store: store.clone(),
                peer_id: PeerId::random(),
                listen,
                disconnect,
                dial,
                open,
                dht: None,
            }),
        };
        let wanted = Block::new(CidVersion::V0, Codec::DAG_PB, Bytes::from_static(b"\x0a\x03\x08\x02\x18"));
        let waiter = tokio::spawn({
            let bs = bs.clone();
            async move { bs.want(wanted.cid, Duration::from_secs(5)).await }
        });
        while bs.state().wants.is_empty() {
            tokio::task::yield_now().await;
        }
        // The forger answers the want with other bytes under the wanted CID's prefix: over the
        // wire the CID is rebuilt from the bytes, so it is not the one wanted.
        let forger = PeerId::random();
        let forged =
            Message { blocks: vec![(Some(wanted.cid), Bytes::from_static(b"forged"))], ..Default::default() };
        let received = Message::decode(&forged.encode()).unwrap();
        assert!(!bs.handle(forger, received).await);
        assert_eq!(disconnected.recv().await, Some(forger));
        assert!(bs.is_banned(&forger));
        assert_eq!(bs.stats().peers_banned, 1);
        assert!(!waiter.is_finished());
        // An honest peer's block is hash-checked, stored and handed to the waiter.
        let honest = Message { blocks: vec![(Some(wanted.cid), wanted.data.clone())], ..Default::default() };
        assert!(bs.handle(PeerId::random(), Message::decode(&honest.encode()).unwrap()).await);
        assert_eq!(waiter.await.unwrap(), Some(wanted.data.clone()));
        assert_eq!(store.get(&wanted.cid).await.unwrap(), Some(wanted.data));
        // A want whose future is dropped is withdrawn.
        let other = Block::new(CidVersion::V1, Codec::RAW, Bytes::from_static(b"other"));
        let dropped = tokio::spawn({
            let bs = bs.clone();
            async move { bs.want(other.cid, Duration::from_secs(60)).await }
        });
        while !bs.state().wants.contains_key(&other.cid) {
            tokio::task::yield_now().await;
        }
        dropped.abort();
        let _ = dropped.await;
        assert!(bs.state().wants.is_empty());
        // A late duplicate from another peer is not a fault.
        assert!(bs.handle(PeerId::random(), Message::decode(&honest.encode()).unwrap()).await);
        assert_eq!(bs.stats().peers_banned, 1);
    }
}
