//! Our node linked to a peer built like the reference's P2P sidecar (aleph-im/p2p-service ≤ 1.0.5):
//! rust-libp2p 0.51 running only identify and gossipsub 0.44, with strict signing and the
//! reference's message id. That gossipsub counts every failed inbound stream negotiation against
//! a connection and gives the connection up at the fifth, so an optional protocol of ours opened
//! with it (our catch-up sync) would cut the link after a few reconnect intervals. Here the link
//! must hold over several intervals, in both dial directions, and every message must arrive both
//! ways.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_node::config::P2pConfig;
use aleph_node::Node;
use futures_util::StreamExt;
use libp2p_old::core::muxing::StreamMuxerBox;
use libp2p_old::core::transport::Boxed;
use libp2p_old::core::upgrade::Version;
use libp2p_old::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p_old::swarm::{NetworkBehaviour, SwarmBuilder, SwarmEvent};
use libp2p_old::{identify, identity, noise, tcp, yamux, Multiaddr, PeerId, Swarm, Transport};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::common::{post, read, test_config};

/// Reconnect interval of our node in these tests: each tick used to open a catch-up stream.
const RECONNECT_SECS: f64 = 1.0;
/// How many reconnect intervals the link must survive.
const INTERVALS: u32 = 7;

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p_old::swarm::derive_prelude")]
struct SidecarBehaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
}

/// A swarm set up as p2p-service sets up its own: TCP, Noise, yamux; identify; gossipsub with
/// strict signing, 1 s heartbeat, the std hasher of the data as message id, 256 KiB messages,
/// 30 min duplicate cache, no application-level validation.
fn sidecar() -> Swarm<SidecarBehaviour> {
    let key = identity::Keypair::generate_ed25519();
    let peer_id = PeerId::from(key.public());
    let transport: Boxed<(PeerId, StreamMuxerBox)> =
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
            .upgrade(Version::V1)
            .authenticate(noise::Config::new(&key).expect("noise keys"))
            .multiplex(yamux::Config::default())
            .boxed();
    let config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_secs(1))
        .validation_mode(ValidationMode::Strict)
        .message_id_fn(|m: &gossipsub::Message| {
            let mut h = DefaultHasher::new();
            m.data.hash(&mut h);
            gossipsub::MessageId::from(h.finish().to_string())
        })
        .max_transmit_size(262_144)
        .duplicate_cache_time(Duration::from_secs(1800))
        .build()
        .expect("gossipsub config");
    let mut gossipsub =
        gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config).expect("gossipsub");
    gossipsub.subscribe(&IdentTopic::new("ALEPH-TEST")).expect("subscribe");
    let identify = identify::Behaviour::new(identify::Config::new("/ipfs/id/1.0.0".into(), key.public()));
    SwarmBuilder::with_tokio_executor(transport, SidecarBehaviour { gossipsub, identify }, peer_id).build()
}

/// Who opens the connection.
#[derive(Debug, Clone, Copy)]
enum Dialer {
    /// The sidecar dials our node (p2p-service dials its bootstrap peers and never redials).
    Sidecar,
    /// Our node dials the sidecar, its bootstrap peer.
    Node,
}

/// Runs the link for [`INTERVALS`] reconnect intervals, both sides publishing a message every
/// second, and checks that the link never dropped and every message arrived.
async fn link_holds(dialer: Dialer) {
    let root = tempfile::tempdir().expect("temp dir");
    let mut swarm = sidecar();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr")).expect("listen");
    let sidecar_addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address.with(libp2p_old::multiaddr::Protocol::P2p((*swarm.local_peer_id()).into()));
        }
    };
    let bootstrap = match dialer {
        Dialer::Node => vec![sidecar_addr.to_string()],
        Dialer::Sidecar => Vec::new(),
    };
    let p2p = P2pConfig {
        bootstrap,
        reconnect_secs: RECONNECT_SECS,
        alive_interval_secs: 1.0,
        ..P2pConfig::local()
    };
    let node = Node::builder(test_config(root.path())).p2p(p2p).launch().await.expect("node starts");
    let node_p2p = node.p2p().expect("networked");
    if let Dialer::Sidecar = dialer {
        let addr: Multiaddr = node_p2p.listen_addrs()[0].to_string().parse().expect("multiaddr");
        swarm.dial(addr).expect("dial");
    }
    let http = reqwest::Client::new();
    let signer = EthereumSigner::from_hex(
        &node
            .dev_accounts()
            .expect("dev mode")
            .accounts
            .iter()
            .find(|a| a.chain == "ETH")
            .expect("ETH")
            .private_key_hex,
    )
    .expect("key");
    let topic = IdentTopic::new("ALEPH-TEST");

    let mut established = 0u32;
    let mut closed = Vec::new();
    let mut subscribed = false;
    let mut sent_by_node = HashSet::new();
    let mut sent_by_sidecar = HashSet::new();
    let mut received = HashSet::new();
    let mut publish_errors = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut started: Option<Instant> = None;
    let run_for = Duration::from_secs_f64(RECONNECT_SECS * f64::from(INTERVALS));
    let deadline = Instant::now() + run_for + Duration::from_secs(20);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { .. } => established += 1,
                SwarmEvent::ConnectionClosed { cause, .. } => closed.push(format!("{cause:?}")),
                SwarmEvent::Behaviour(SidecarBehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { topic: t, .. }))
                    if t == topic.hash() => subscribed = true,
                SwarmEvent::Behaviour(SidecarBehaviourEvent::Gossipsub(gossipsub::Event::Message { message, .. })) => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&message.data) {
                        if let Some(h) = v["item_hash"].as_str() {
                            received.insert(h.to_owned());
                        }
                    }
                }
                _ => {}
            },
            _ = ticks.tick() => {
                if !subscribed {
                    continue;
                }
                let started = *started.get_or_insert_with(Instant::now);
                if started.elapsed() > run_for {
                    let all_in = sent_by_node.is_subset(&received);
                    if all_in || Instant::now() > deadline {
                        break;
                    }
                    continue;
                }
                let i = sent_by_node.len();
                // The node's message goes in through its API, which gossips it.
                let m = post(&signer, "p2p-reference", json!({"from": "node", "i": i}));
                let resp = http
                    .post(format!("{}/api/v0/messages", node.url()))
                    .json(&json!({"sync": false, "message": m}))
                    .send()
                    .await
                    .expect("submit");
                let (status, body) = read(resp).await;
                assert!(status.is_success(), "submit: {status} {body}");
                sent_by_node.insert(m.item_hash.to_string());
                // The sidecar's message is what pyaleph publishes through it.
                let m = post(&signer, "p2p-reference", json!({"from": "sidecar", "i": i}));
                let data = serde_json::to_vec(&m).expect("json");
                match swarm.behaviour_mut().gossipsub.publish(topic.clone(), data) {
                    Ok(_) => {
                        sent_by_sidecar.insert(m.item_hash.to_string());
                    }
                    // No peer to publish to: the link is down (reported below).
                    Err(e) => publish_errors.push(format!("{e:?}")),
                }
            }
        }
        assert!(Instant::now() < deadline, "the sidecar never saw our node subscribe (dialer: {dialer:?})");
    }

    assert_eq!(closed, Vec::<String>::new(), "the link dropped ({dialer:?} dialled)");
    assert_eq!(established, 1, "one connection, held ({dialer:?} dialled)");
    assert_eq!(publish_errors, Vec::<String>::new(), "the sidecar could not publish");
    assert!(sent_by_node.len() as u32 >= INTERVALS, "too few messages sent: {}", sent_by_node.len());
    let missing: Vec<_> = sent_by_node.difference(&received).collect();
    assert!(
        missing.is_empty(),
        "node → sidecar lost {} of {}: {missing:?}",
        missing.len(),
        sent_by_node.len()
    );
    for hash in &sent_by_sidecar {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let resp = http.get(format!("{}/api/v0/messages/{hash}", node.url())).send().await.expect("get");
            let (status, body) = read(resp).await;
            if status.is_success() && body["status"] == "processed" {
                break;
            }
            assert!(Instant::now() < until, "sidecar → node: {hash} not processed: {status} {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // What identify told our node about the sidecar.
    let info = node_p2p.peers().remove(&node_p2p.connected_peers()[0]).expect("peer info");
    assert!(!info.speaks_sync, "the sidecar does not speak our sync protocol");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_to_a_reference_sidecar_that_dialled_us_holds() {
    link_holds(Dialer::Sidecar).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_to_a_reference_sidecar_we_dialled_holds() {
    link_holds(Dialer::Node).await;
}
