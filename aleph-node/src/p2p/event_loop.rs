//! The private event loop: owns the libp2p `Swarm` (TCP+DNS, Noise, yamux or mplex; gossipsub,
//! identify, and the catch-up request/response protocol) and everything that touches it.
//!
//! The catch-up protocol is ours alone: the reference's sidecar (p2p-service) speaks only
//! identify and gossipsub. A stream opened with a protocol a peer does not speak is not free:
//! the gossipsub of rust-libp2p ≤ 0.52 (p2p-service ≤ 1.0.5 runs 0.44) counts every failed
//! inbound negotiation against the connection and, at the fifth, disables gossipsub there and
//! lets the connection close. So the sync protocol is only opened with peers whose identify
//! answer lists it, and never again with a peer that refused it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use libp2p::gossipsub::{
    self, IdentTopic, MessageAcceptance, MessageAuthenticity, TopicHash, ValidationMode,
};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundFailure, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, Multiaddr, PeerId, StreamProtocol, Swarm};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::catch_up::{Round, MAX_QUEUED};
use super::sync::{self, SyncRequest, SyncResponse};
use super::validate::{validate_gossip, GossipRejection};
use super::{Command, P2pError, Shared, MAX_TRANSMIT_SIZE};
use crate::pipeline::{Origin, Pipeline};

/// The identify `protocol_version` the reference's sidecar announces (a free-form string).
const IDENTIFY_PROTOCOL_VERSION: &str = "/aleph/id/1.0.0";

/// The behaviours the node runs: gossipsub and identify (what the reference's sidecar runs),
/// and the catch-up sync, opened only with peers that advertise it.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    sync: request_response::json::Behaviour<SyncRequest, SyncResponse>,
}

/// What background tasks hand back to the loop.
enum Internal {
    /// A gossip message was checked.
    Validated { id: gossipsub::MessageId, source: PeerId, result: Result<Value, GossipRejection> },
    /// A sync answer is ready to send.
    Respond { channel: ResponseChannel<SyncResponse>, page: SyncResponse },
    /// The applier of round `round` with `peer` is done with a page (`recorded`: it is all in
    /// the database and the watermark moved past it).
    PageApplied { peer: PeerId, round: u64, recorded: bool },
    /// The watermark of `peer` was read: ask it for what follows.
    Ask { peer: PeerId, round: u64, after_seq: i64 },
}

pub(crate) struct EventLoop {
    swarm: Swarm<Behaviour>,
    shared: Arc<Shared>,
    pipeline: Pipeline,
    commands: mpsc::Receiver<Command>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    stop: CancellationToken,
    message_topic: TopicHash,
    alive_topic: TopicHash,
    bootstrap: Vec<Multiaddr>,
    /// Catch-up rounds under way, by peer, with the queue of their applier.
    rounds: HashMap<PeerId, (Round, mpsc::Sender<SyncResponse>)>,
    next_round: u64,
    /// Connected peers whose identify answer lists the sync protocol.
    sync_peers: HashSet<PeerId>,
    /// Peers that refused the sync protocol: never asked again.
    sync_refused: HashSet<PeerId>,
    /// The IP each connected peer's connection comes from (to pick, among the listen addresses
    /// it reports on identify, one to dial it back on).
    remote_ips: HashMap<PeerId, IpAddr>,
}

fn transport_err(e: impl std::fmt::Display) -> P2pError {
    P2pError::Transport(e.to_string())
}

/// The gossipsub configuration of the reference network (NETWORK.md §3.2).
pub(crate) fn gossipsub_config(heartbeat: Duration) -> Result<gossipsub::Config, P2pError> {
    gossipsub::ConfigBuilder::default()
        .heartbeat_interval(heartbeat)
        .validation_mode(ValidationMode::Strict)
        .max_transmit_size(MAX_TRANSMIT_SIZE)
        .duplicate_cache_time(Duration::from_secs(1800))
        .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::from(super::message_id(&m.data)))
        // Forward only what our validation accepted.
        .validate_messages()
        .build()
        .map_err(transport_err)
}

/// Peer scoring: an invalid message costs its sender (−10 × count², so three put it on the
/// graylist); mesh-delivery and co-location penalties stay off, so quiet or loopback peers are
/// not punished.
fn score_params(topics: &[TopicHash]) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let mut params = gossipsub::PeerScoreParams { ip_colocation_factor_weight: 0.0, ..Default::default() };
    for t in topics {
        params.topics.insert(
            t.clone(),
            gossipsub::TopicScoreParams {
                topic_weight: 1.0,
                // Time in mesh would outweigh everything (its default quantum is 1 ms); first
                // deliveries earn a little, capped well below one invalid message's cost.
                time_in_mesh_weight: 0.0,
                first_message_deliveries_weight: 0.5,
                first_message_deliveries_cap: 10.0,
                mesh_message_deliveries_weight: 0.0,
                mesh_failure_penalty_weight: 0.0,
                invalid_message_deliveries_weight: -10.0,
                invalid_message_deliveries_decay: 0.99,
                ..Default::default()
            },
        );
    }
    (params, gossipsub::PeerScoreThresholds::default())
}

impl EventLoop {
    pub(crate) fn new(
        key: Keypair,
        shared: Arc<Shared>,
        pipeline: Pipeline,
        commands: mpsc::Receiver<Command>,
        stop: CancellationToken,
    ) -> Result<Self, P2pError> {
        let message_topic = IdentTopic::new(shared.config.message_topic.clone());
        let alive_topic = IdentTopic::new(shared.config.alive_topic.clone());
        let heartbeat = Duration::from_secs_f64(shared.config.heartbeat_secs.clamp(0.05, 60.0));
        let gs_config = gossipsub_config(heartbeat)?;
        let topics = [message_topic.hash(), alive_topic.hash()];
        let (params, thresholds) = score_params(&topics);
        let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gs_config)
            .map_err(transport_err)?;
        gossipsub.with_peer_score(params, thresholds).map_err(transport_err)?;
        gossipsub.subscribe(&message_topic).map_err(transport_err)?;
        gossipsub.subscribe(&alive_topic).map_err(transport_err)?;
        let codec = request_response::json::codec::Codec::default()
            .set_response_size_maximum(sync::MAX_RESPONSE_BYTES);
        let sync_behaviour = request_response::json::Behaviour::with_codec(
            codec,
            [(StreamProtocol::new(sync::PROTOCOL), ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
        );
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL_VERSION.into(), key.public())
                .with_agent_version(format!("aleph-node-rs/{}", crate::VERSION)),
        );
        let behaviour = Behaviour { gossipsub, identify, sync: sync_behaviour };
        let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::default().nodelay(true),
                libp2p::noise::Config::new,
                // yamux first; mplex for the older nodes of the network.
                (libp2p::yamux::Config::default, libp2p_mplex::Config::default),
            )
            .map_err(transport_err)?
            .with_dns()
            .map_err(transport_err)?
            .with_behaviour(|_| behaviour)
            .map_err(transport_err)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
            .build();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        Ok(EventLoop {
            swarm,
            shared,
            pipeline,
            commands,
            internal_tx,
            internal_rx,
            stop,
            message_topic: topics[0].clone(),
            alive_topic: topics[1].clone(),
            bootstrap: Vec::new(),
            rounds: HashMap::new(),
            next_round: 0,
            sync_peers: HashSet::new(),
            sync_refused: HashSet::new(),
            remote_ips: HashMap::new(),
        })
    }

    /// Listens, dials the bootstrap peers, reports readiness once a listen address is known,
    /// then runs until stopped.
    pub(crate) async fn run(
        mut self,
        listen: Multiaddr,
        bootstrap: Vec<Multiaddr>,
        ready: oneshot::Sender<Result<(), P2pError>>,
    ) {
        if let Err(e) = self.swarm.listen_on(listen) {
            let _ = ready.send(Err(transport_err(e)));
            return;
        }
        // Wait for the first listen address so the handle can report it at once.
        let deadline = tokio::time::sleep(Duration::from_secs(10));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => {
                    let _ = ready.send(Err(P2pError::Transport("no listen address after 10 s".into())));
                    return;
                }
                event = self.swarm.select_next_some() => {
                    let listening = matches!(event, SwarmEvent::NewListenAddr { .. });
                    if let SwarmEvent::ListenerError { error, .. } | SwarmEvent::ListenerClosed { reason: Err(error), .. } = &event {
                        let _ = ready.send(Err(transport_err(error)));
                        return;
                    }
                    self.on_swarm_event(event).await;
                    if listening {
                        break;
                    }
                }
            }
        }
        let _ = ready.send(Ok(()));
        self.bootstrap = bootstrap;
        self.dial_bootstrap();
        let config = self.shared.config.clone();
        let mut alive = tokio::time::interval_at(
            tokio::time::Instant::now()
                + Duration::from_secs(2).min(Duration::from_secs_f64(config.alive_interval_secs.max(0.1))),
            Duration::from_secs_f64(config.alive_interval_secs.max(1.0)),
        );
        let reconnect_every = Duration::from_secs_f64(config.reconnect_secs.max(1.0));
        let mut reconnect =
            tokio::time::interval_at(tokio::time::Instant::now() + reconnect_every, reconnect_every);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                Some(cmd) = self.commands.recv() => self.on_command(cmd).await,
                Some(internal) = self.internal_rx.recv() => self.on_internal(internal),
                _ = alive.tick() => self.publish_alive(),
                _ = reconnect.tick() => {
                    self.dial_bootstrap();
                    self.dial_known_peers();
                    self.sync_all().await;
                }
            }
        }
        // Close every connection before returning.
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for p in peers {
            let _ = self.swarm.disconnect_peer_id(p);
        }
        tracing::info!("P2P layer stopped");
    }

    fn dial_bootstrap(&mut self) {
        let connected: HashSet<PeerId> = self.swarm.connected_peers().copied().collect();
        for addr in self.bootstrap.clone() {
            let peer = addr.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            });
            if peer.is_some_and(|p| connected.contains(&p) || p == self.shared.peer_id) {
                continue;
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(%addr, error = %e, "bootstrap dial failed");
            }
        }
    }

    /// Dials the P2P addresses peers announced on ALIVE within the last 24 h.
    fn dial_known_peers(&mut self) {
        let now = super::unix_now();
        let targets: Vec<Multiaddr> = self
            .shared
            .peers
            .read()
            .map(|peers| {
                peers
                    .iter()
                    .filter(|(id, i)| {
                        !i.connected && **id != self.shared.peer_id && now - i.last_seen < 86_400.0
                    })
                    .filter_map(|(_, i)| i.addresses.get("P2P").and_then(|a| a.parse().ok()))
                    .collect()
            })
            .unwrap_or_default();
        for addr in targets {
            let _ = self.swarm.dial(addr);
        }
    }

    fn publish_alive(&mut self) {
        let mut announcements = Vec::new();
        if let Some(addr) = self.public_p2p_addr() {
            announcements.push(("P2P", addr));
        }
        if let Some(http) = &self.shared.config.public_http {
            announcements.push(("HTTP", http.clone()));
        }
        for (kind, address) in announcements {
            let payload =
                json!({"address": address, "interests": null, "peer_type": kind, "version": crate::VERSION});
            match self.swarm.behaviour_mut().gossipsub.publish(self.alive_topic.clone(), payload.to_string())
            {
                Ok(_)
                | Err(gossipsub::PublishError::Duplicate)
                | Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
                Err(e) => tracing::debug!(error = %e, "ALIVE not published"),
            }
        }
    }

    /// The first listen address that is not unspecified, with our peer id.
    fn public_p2p_addr(&self) -> Option<String> {
        let addrs = self.shared.listen_addrs.read().ok()?;
        let addr = addrs.first()?.clone();
        Some(addr.with_p2p(self.shared.peer_id).unwrap_or_else(|a| a).to_string())
    }

    async fn sync_all(&mut self) {
        let peers: Vec<PeerId> = self.sync_peers.iter().copied().collect();
        for peer in peers {
            self.start_sync(peer);
        }
    }

    /// Starts a catch-up round with `peer`, if it speaks the protocol and none is running.
    fn start_sync(&mut self, peer: PeerId) {
        if !self.sync_peers.contains(&peer)
            || self.sync_refused.contains(&peer)
            || self.rounds.contains_key(&peer)
        {
            return;
        }
        self.next_round += 1;
        let round = self.next_round;
        // The applier: records the round's pages in order, one at a time.
        let (pages_tx, mut pages) = mpsc::channel::<SyncResponse>(MAX_QUEUED);
        let (pipeline, shared, tx) = (self.pipeline.clone(), self.shared.clone(), self.internal_tx.clone());
        tokio::spawn(async move {
            while let Some(page) = pages.recv().await {
                // A page not fully recorded ends this round; the next one starts again from the
                // saved watermark.
                let recorded = sync::apply_page(&pipeline, &shared, peer, page).await.is_some();
                let _ = tx.send(Internal::PageApplied { peer, round, recorded });
                if !recorded {
                    break;
                }
            }
        });
        self.rounds.insert(peer, (Round::new(round), pages_tx));
        let pipeline = self.pipeline.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let after_seq = sync::watermark(&pipeline, peer).await;
            let _ = tx.send(Internal::Ask { peer, round, after_seq });
        });
    }

    /// Sends the round's next request if it should go out now, or ends the round when it is done.
    fn advance_round(&mut self, peer: PeerId) {
        let Some((round, _)) = self.rounds.get_mut(&peer) else {
            return;
        };
        match round.next_request() {
            Some(after) if self.swarm.is_connected(&peer) => self.ask(peer, after),
            Some(_) => {
                self.rounds.remove(&peer);
            }
            None if round.is_done() => {
                self.rounds.remove(&peer);
            }
            None => {}
        }
    }

    /// Whether `round` is the one under way with `peer`.
    fn is_current(&self, peer: &PeerId, round: u64) -> bool {
        self.rounds.get(peer).is_some_and(|(r, _)| r.id == round)
    }

    fn ask(&mut self, peer: PeerId, after_seq: i64) {
        let limit = self.shared.config.sync_page_size.max(1);
        self.swarm.behaviour_mut().sync.send_request(
            &peer,
            SyncRequest { after_seq, limit, http: self.shared.config.public_http.clone() },
        );
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish { topic, data } => {
                match self.swarm.behaviour_mut().gossipsub.publish(IdentTopic::new(topic), data) {
                    Ok(_) => {}
                    Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                        tracing::debug!("no peer to gossip to");
                    }
                    Err(e) => tracing::warn!(error = %e, "gossip publish failed"),
                }
            }
            Command::Dial(addr) => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    tracing::warn!(%addr, error = %e, "dial failed");
                }
            }
            Command::PeerScore(peer, reply) => {
                let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::SyncNow => self.sync_all().await,
        }
    }

    fn on_internal(&mut self, internal: Internal) {
        match internal {
            Internal::Validated { id, source, result } => {
                let acceptance = match &result {
                    Ok(_) => MessageAcceptance::Accept,
                    Err(_) => MessageAcceptance::Reject,
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, acceptance);
                match result {
                    Ok(value) => {
                        self.shared.bump(|s| s.gossip_accepted += 1);
                        let pipeline = self.pipeline.clone();
                        tokio::spawn(async move {
                            if let Err(e) = pipeline.submit(value, Origin::P2p).await {
                                tracing::warn!(error = %e, "gossiped message not recorded");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::info!(peer = %source, error = %e, "invalid gossip rejected");
                        self.shared.bump(|s| s.gossip_rejected += 1);
                        self.shared.with_peer(source, |i| i.invalid_messages += 1);
                    }
                }
            }
            Internal::Respond { channel, page } => {
                if self.swarm.behaviour_mut().sync.send_response(channel, page).is_err() {
                    tracing::debug!("sync requester went away");
                }
            }
            Internal::PageApplied { peer, round, recorded } => {
                if !self.is_current(&peer, round) {
                    return;
                }
                if !recorded {
                    self.rounds.remove(&peer);
                    return;
                }
                if let Some((r, _)) = self.rounds.get_mut(&peer) {
                    r.on_applied();
                }
                self.advance_round(peer);
            }
            Internal::Ask { peer, round, after_seq } => {
                if !self.is_current(&peer, round) {
                    return;
                }
                if self.swarm.is_connected(&peer) {
                    self.ask(peer, after_seq);
                } else {
                    self.rounds.remove(&peer);
                }
            }
        }
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, peer_id = %self.shared.peer_id, "P2P listening");
                if let Ok(mut addrs) = self.shared.listen_addrs.write() {
                    addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if let Ok(mut addrs) = self.shared.listen_addrs.write() {
                    addrs.retain(|a| a != &address);
                }
            }
            SwarmEvent::ConnectionEstablished { peer_id, num_established, endpoint, .. } => {
                self.shared.with_peer(peer_id, |i| {
                    i.connected = true;
                    i.last_seen = super::unix_now();
                });
                if let Some(ip) = ip_of(endpoint.get_remote_address()) {
                    self.remote_ips.insert(peer_id, ip);
                }
                if num_established.get() == 1 {
                    // Catch-up waits for the peer's identify answer (see the module docs).
                    tracing::debug!(peer = %peer_id, "peer connected");
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                tracing::debug!(peer = %peer_id, ?cause, "peer disconnected");
                self.shared.with_peer(peer_id, |i| i.connected = false);
                self.rounds.remove(&peer_id);
                self.sync_peers.remove(&peer_id);
                self.remote_ips.remove(&peer_id);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, error = %error, "outgoing connection failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(event)) => self.on_identify(event),
            _ => {}
        }
    }

    fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        let speaks_sync = info.protocols.iter().any(|p| p.as_ref() == sync::PROTOCOL);
        // A listen address on the IP the connection came from, to dial the peer back on if the
        // link drops (the reference's sidecar does not redial peers that dialled it).
        let dial_back = self
            .remote_ips
            .get(&peer_id)
            .and_then(|ip| info.listen_addrs.iter().find(|a| ip_of(a) == Some(*ip) && is_tcp(a)).cloned());
        self.shared.with_peer(peer_id, |i| {
            i.agent_version = Some(info.agent_version.clone());
            i.speaks_sync = speaks_sync;
            if let Some(addr) = dial_back {
                i.addresses
                    .entry("P2P".into())
                    .or_insert_with(|| addr.with_p2p(peer_id).unwrap_or_else(|a| a).to_string());
            }
        });
        if speaks_sync && !self.sync_refused.contains(&peer_id) && self.swarm.is_connected(&peer_id) {
            if self.sync_peers.insert(peer_id) {
                self.start_sync(peer_id);
            }
        } else {
            self.sync_peers.remove(&peer_id);
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message { propagation_source, message_id, message } = event else {
            return;
        };
        if message.topic == self.message_topic {
            let tx = self.internal_tx.clone();
            // Signature checks are CPU work: off the event loop.
            tokio::task::spawn_blocking(move || {
                let result = validate_gossip(&message.data).map(|(value, _)| value);
                let _ = tx.send(Internal::Validated { id: message_id, source: propagation_source, result });
            });
        } else if message.topic == self.alive_topic {
            let acceptance = match (message.source, parse_alive(&message.data)) {
                (Some(origin), Some((kind, address, version))) => {
                    self.shared.with_peer(origin, |i| {
                        i.addresses.insert(kind, address);
                        i.version = version;
                        i.last_seen = super::unix_now();
                    });
                    MessageAcceptance::Accept
                }
                _ => {
                    self.shared.with_peer(propagation_source, |i| i.invalid_messages += 1);
                    MessageAcceptance::Reject
                }
            };
            self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                acceptance,
            );
        } else {
            self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                MessageAcceptance::Ignore,
            );
        }
    }

    fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    if let Some(http) = request.http.clone().filter(|u| is_http_url(u)) {
                        self.shared.with_peer(peer, |i| {
                            i.addresses.insert("HTTP".into(), http);
                        });
                    }
                    let pipeline = self.pipeline.clone();
                    let tx = self.internal_tx.clone();
                    let http = self.shared.config.public_http.clone();
                    tokio::spawn(async move {
                        let mut page = sync::serve_page(&pipeline, request).await;
                        page.http = http;
                        let _ = tx.send(Internal::Respond { channel, page });
                    });
                }
                request_response::Message::Response { response, .. } => {
                    if let Some(http) = response.http.clone().filter(|u| is_http_url(u)) {
                        self.shared.with_peer(peer, |i| {
                            i.addresses.insert("HTTP".into(), http);
                        });
                    }
                    let Some((round, pages)) = self.rounds.get_mut(&peer) else {
                        return;
                    };
                    let empty = response.messages.is_empty();
                    if round.on_page(response.last_seq, response.more, empty)
                        && pages.try_send(response).is_err()
                    {
                        // The applier stopped (a page was not recorded): so does the round.
                        self.rounds.remove(&peer);
                        return;
                    }
                    self.advance_round(peer);
                }
            },
            request_response::Event::OutboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "sync request failed");
                self.rounds.remove(&peer);
                if matches!(error, OutboundFailure::UnsupportedProtocols) {
                    self.sync_refused.insert(peer);
                    self.sync_peers.remove(&peer);
                    self.shared.with_peer(peer, |i| i.speaks_sync = false);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "sync answer failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// The IP address a multiaddr starts with.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(ip.into()),
        Protocol::Ip6(ip) => Some(ip.into()),
        _ => None,
    }
}

fn is_tcp(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::Tcp(_)))
}

fn is_http_url(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://")) && u.len() < 512
}

/// Parses an ALIVE payload: `{"address", "interests", "peer_type", "version"}`.
fn parse_alive(data: &[u8]) -> Option<(String, String, Option<String>)> {
    let decoded = super::validate::percent_decode(data);
    let v: Value = serde_json::from_slice(&decoded).ok()?;
    let address = v.get("address")?.as_str()?.to_owned();
    let kind = v.get("peer_type")?.as_str()?;
    if !matches!(kind, "P2P" | "HTTP" | "IPFS") || address.len() > 512 {
        return None;
    }
    if kind == "HTTP" && !is_http_url(&address) {
        return None;
    }
    let version = v.get("version").and_then(Value::as_str).map(str::to_owned);
    Some((kind.to_owned(), address, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_payloads() {
        let ok = br#"{"address":"http://1.2.3.4:4024","interests":null,"peer_type":"HTTP","version":"0.5"}"#;
        assert_eq!(parse_alive(ok), Some(("HTTP".into(), "http://1.2.3.4:4024".into(), Some("0.5".into()))));
        assert_eq!(parse_alive(br#"{"address":"x","peer_type":"FTP"}"#), None);
        assert_eq!(parse_alive(br#"{"address":"file:///etc","peer_type":"HTTP"}"#), None);
        assert_eq!(parse_alive(b"nope"), None);
    }

    #[test]
    fn reference_gossipsub_settings() {
        let c = gossipsub_config(Duration::from_secs(1)).unwrap();
        assert_eq!(c.max_transmit_size(), 262_144);
        assert!(c.validate_messages());
        assert!(matches!(c.validation_mode(), ValidationMode::Strict));
        assert_eq!(c.duplicate_cache_time(), Duration::from_secs(1800));
        let m = gossipsub::Message {
            source: None,
            data: b"hello".to_vec(),
            sequence_number: None,
            topic: TopicHash::from_raw("t"),
        };
        assert_eq!(c.message_id(&m), gossipsub::MessageId::from("9754003402134539932"));
    }
}
