//! A lying bitswap peer on the network: a second swarm built from the engine's own protocol
//! types (`bitswap_net`'s behaviour, `bitswap_message`'s messages) that answers every want with
//! bytes that do not hash to the CID. The engine must refuse them (nothing stored), drop and ban
//! the liar, and still complete the fetch from an honest peer when there is one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aleph_core::cid::Cid;
use bytes::Bytes;
use futures_util::StreamExt;
use libp2p::futures::AsyncWriteExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::bitswap::{frame, read_frame};
use super::bitswap_message::Message;
use super::{bitswap_net, ImportOptions, Ipfs, IpfsConfig, IpfsEngine, IpfsError};

#[derive(NetworkBehaviour)]
struct Liar {
    identify: identify::Behaviour,
    bitswap: bitswap_net::Behaviour,
}

/// Starts the liar on loopback; its address (with `/p2p/…`) and how many wants it answered.
async fn start_liar(token: CancellationToken) -> (Multiaddr, PeerId, Arc<std::sync::atomic::AtomicU64>) {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let id = key.public().to_peer_id();
    let (inbound_tx, mut inbound) = mpsc::unbounded_channel();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(libp2p::tcp::Config::default(), libp2p::noise::Config::new, libp2p::yamux::Config::default)
        .unwrap()
        .with_behaviour(|k| Liar {
            identify: identify::Behaviour::new(identify::Config::new("ipfs/0.1.0".into(), k.public())),
            bitswap: bitswap_net::Behaviour::new(inbound_tx),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap()).unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address.with(libp2p::multiaddr::Protocol::P2p(id));
        }
    };
    let answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        let (wants_tx, mut wants) = mpsc::unbounded_channel::<(PeerId, Vec<Cid>)>();
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = swarm.select_next_some() => {}
                Some((peer, mut stream)) = inbound.recv() => {
                    // Each inbound stream's wants are read and handed to the swarm loop.
                    let wants_tx = wants_tx.clone();
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        while let Ok(true) = read_frame(&mut stream, &mut buf).await {
                            let Ok(message) = Message::decode(&buf) else { return };
                            let cids: Vec<Cid> =
                                message.entries.iter().filter(|e| !e.cancel).map(|e| e.cid).collect();
                            if !cids.is_empty() {
                                let _ = wants_tx.send((peer, cids));
                            }
                        }
                    });
                }
                Some((peer, cids)) = wants.recv() => {
                    // Answered on a stream of our own, as bitswap does, with forged bytes under
                    // each wanted CID's prefix.
                    let (reply, stream) = oneshot::channel();
                    swarm.behaviour_mut().bitswap.open(peer, reply);
                    let count = count.clone();
                    tokio::spawn(async move {
                        let Ok(Ok(mut stream)) = stream.await else { return };
                        let blocks = cids
                            .into_iter()
                            .map(|cid| (Some(cid), Bytes::from(format!("not the bytes of {cid}"))))
                            .collect();
                        let message = Message { blocks, ..Default::default() };
                        if stream.write_all(&frame(&message.encode())).await.is_ok() && stream.flush().await.is_ok() {
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        // Kept open until the engine drops the connection.
                        let _ = stream.close().await;
                    });
                }
            }
        }
    });
    (addr, id, answered)
}

fn config(peers: Vec<String>, timeout: f64) -> IpfsConfig {
    IpfsConfig {
        listen: "/ip4/127.0.0.1/tcp/0".into(),
        peers,
        fetch_timeout_secs: timeout,
        ..Default::default()
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_peer_answering_with_wrong_bytes_is_refused_dropped_and_banned_and_an_honest_peer_completes_the_fetch(
) {
    let token = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let (liar_addr, liar_id, answered) = start_liar(token.clone()).await;

    // An honest engine holding a three-block file.
    let honest =
        Ipfs::start(&config(Vec::new(), 10.0), &dir.path().join("honest"), token.clone()).await.unwrap();
    let data: Vec<u8> = (0..600_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let file = honest.import_bytes(&data, ImportOptions::DEFAULT).await.unwrap();
    let honest_addr = honest.id().addresses[0].clone();

    // Only the liar: the wants are answered with wrong bytes, nothing is stored, the liar is
    // dropped and banned, and the fetch fails as not found.
    let alone =
        Ipfs::start(&config(vec![liar_addr.to_string()], 2.0), &dir.path().join("alone"), token.clone())
            .await
            .unwrap();
    wait_for("the liar to connect", || alone.connected_peers().len() == 1).await;
    let err = alone.fetch(&file.root, 1 << 30).await.unwrap_err();
    assert!(matches!(err, IpfsError::NotFound(_)), "{err}");
    assert!(answered.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the liar never answered");
    assert_eq!(alone.stats().peers_banned, 1);
    assert!(!alone.connected_peers().contains(&liar_id.to_string()));
    assert!(alone.store().list().await.unwrap().is_empty(), "forged bytes were stored");

    // The liar and an honest peer: the liar is banned, the DAG comes whole from the honest peer.
    let ours = Ipfs::start(
        &config(vec![liar_addr.to_string(), honest_addr], 10.0),
        &dir.path().join("ours"),
        token.clone(),
    )
    .await
    .unwrap();
    wait_for("both peers to connect", || ours.connected_peers().len() == 2).await;
    let size = ours.fetch(&file.root, 1 << 30).await.unwrap();
    assert_eq!(size, data.len() as u64);
    wait_for("the liar to be banned", || ours.stats().peers_banned == 1).await;
    assert!(!ours.connected_peers().contains(&liar_id.to_string()));
    let mut stored = ours.store().list().await.unwrap();
    let mut expected = honest.store().list().await.unwrap();
    stored.sort_by_key(|c| c.to_bytes());
    expected.sort_by_key(|c| c.to_bytes());
    assert_eq!(stored, expected, "the blocks stored are not exactly the file's");
    let mut exported = Vec::new();
    let mut stream = ours.export(file.root);
    while let Some(chunk) = stream.next().await {
        exported.extend_from_slice(&chunk.unwrap());
    }
    assert!(exported == data);
    token.cancel();
}
