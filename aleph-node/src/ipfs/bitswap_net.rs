//! The swarm side of bitswap: a behaviour whose connection handlers hand every inbound bitswap
//! stream straight to the engine (over an unbounded channel: kubo opens a stream per reply, in
//! bursts, and none may be dropped) and open outbound streams on request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::task::{Context, Poll};

use libp2p::core::transport::PortUse;
use libp2p::core::{Endpoint, InboundUpgrade, Multiaddr, OutboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    NotifyHandler, SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{PeerId, Stream, StreamProtocol};
use tokio::sync::{mpsc, oneshot};

/// The protocols served, newest first; outbound streams offer them in this order.
pub(crate) const PROTOCOLS: [StreamProtocol; 3] = [
    StreamProtocol::new("/ipfs/bitswap/1.2.0"),
    StreamProtocol::new("/ipfs/bitswap/1.1.0"),
    StreamProtocol::new("/ipfs/bitswap/1.0.0"),
];

/// Where an outbound stream goes once negotiated.
pub(crate) type StreamReply = oneshot::Sender<std::io::Result<Stream>>;

/// The behaviour: inbound streams go to `inbound`; [`Behaviour::open`] asks for outbound ones.
pub(crate) struct Behaviour {
    inbound: mpsc::UnboundedSender<(PeerId, Stream)>,
    requests: VecDeque<(PeerId, StreamReply)>,
}

impl Behaviour {
    pub(crate) fn new(inbound: mpsc::UnboundedSender<(PeerId, Stream)>) -> Self {
        Behaviour { inbound, requests: VecDeque::new() }
    }

    /// Opens a bitswap stream to `peer` (which must be connected) and sends it to `reply`.
    pub(crate) fn open(&mut self, peer: PeerId, reply: StreamReply) {
        self.requests.push_back((peer, reply));
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(peer, self.inbound.clone()))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(peer, self.inbound.clone()))
    }

    fn on_swarm_event(&mut self, _: FromSwarm<'_>) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        match self.requests.pop_front() {
            Some((peer_id, reply)) => {
                Poll::Ready(ToSwarm::NotifyHandler { peer_id, handler: NotifyHandler::Any, event: reply })
            }
            None => Poll::Pending,
        }
    }
}

/// One connection's handler.
pub(crate) struct Handler {
    peer: PeerId,
    inbound: mpsc::UnboundedSender<(PeerId, Stream)>,
    /// Outbound requests not yet asked of the connection.
    queued: VecDeque<StreamReply>,
    /// Outbound requests being negotiated, in order.
    negotiating: VecDeque<StreamReply>,
}

impl Handler {
    fn new(peer: PeerId, inbound: mpsc::UnboundedSender<(PeerId, Stream)>) -> Self {
        Handler { peer, inbound, queued: VecDeque::new(), negotiating: VecDeque::new() }
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = StreamReply;
    type ToBehaviour = Infallible;
    type InboundProtocol = Upgrade;
    type OutboundProtocol = Upgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(Upgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        true
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        match self.queued.pop_front() {
            Some(reply) => {
                self.negotiating.push_back(reply);
                Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                    protocol: SubstreamProtocol::new(Upgrade, ()),
                })
            }
            None => Poll::Pending,
        }
    }

    fn on_behaviour_event(&mut self, reply: StreamReply) {
        self.queued.push_back(reply);
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<'_, Self::InboundProtocol, Self::OutboundProtocol>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound { protocol: stream, .. }) => {
                let _ = self.inbound.send((self.peer, stream));
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: stream, ..
            }) => {
                if let Some(reply) = self.negotiating.pop_front() {
                    let _ = reply.send(Ok(stream));
                }
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { error, .. }) => {
                if let Some(reply) = self.negotiating.pop_front() {
                    let _ = reply.send(Err(std::io::Error::other(format!("bitswap stream: {error}"))));
                }
            }
            _ => {}
        }
    }
}

/// Negotiates any of [`PROTOCOLS`]; the stream is then ours as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Upgrade;

impl UpgradeInfo for Upgrade {
    type Info = StreamProtocol;
    type InfoIter = std::array::IntoIter<StreamProtocol, 3>;

    fn protocol_info(&self) -> Self::InfoIter {
        PROTOCOLS.into_iter()
    }
}

impl InboundUpgrade<Stream> for Upgrade {
    type Output = Stream;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Stream, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, _: StreamProtocol) -> Self::Future {
        std::future::ready(Ok(stream))
    }
}

impl OutboundUpgrade<Stream> for Upgrade {
    type Output = Stream;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Stream, Infallible>>;

    fn upgrade_outbound(self, stream: Stream, _: StreamProtocol) -> Self::Future {
        std::future::ready(Ok(stream))
    }
}
