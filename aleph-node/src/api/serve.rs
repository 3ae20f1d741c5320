//! Serving the API over TCP with bounds on what clients can hold: a connection cap, a header read
//! timeout (which also closes idle keep-alive connections), a request timeout, a cap on requests
//! in flight (503 with `Retry-After` past it) and on websocket subscribers. Counters for `/metrics`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{Service, ServiceExt};

use crate::config::LimitsConfig;

/// Seconds a client refused for load is told to wait.
const RETRY_AFTER_SECS: u64 = 1;

/// The server's bounds and what they have done, shared by the accept loop and the handlers.
#[derive(Debug)]
pub(crate) struct ServerLimits {
    config: LimitsConfig,
    requests: Arc<Semaphore>,
    websockets: Arc<Semaphore>,
    stats: ServerStats,
}

/// What the server has counted.
#[derive(Debug, Default)]
struct ServerStats {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    header_timeouts_total: AtomicU64,
    requests_in_flight: AtomicU64,
    requests_refused_total: AtomicU64,
    request_timeouts_total: AtomicU64,
    websockets_open: AtomicU64,
    websockets_refused_total: AtomicU64,
}

/// A websocket subscriber's place, given back when the subscription ends.
#[derive(Debug)]
pub(crate) struct WebsocketSlot {
    _permit: OwnedSemaphorePermit,
    limits: Arc<ServerLimits>,
}

impl Drop for WebsocketSlot {
    fn drop(&mut self) {
        self.limits.stats.websockets_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// 503 with `Retry-After`: the node is at a configured limit.
pub(crate) fn busy(what: &str) -> Response {
    let mut response =
        (StatusCode::SERVICE_UNAVAILABLE, format!("503: the node is busy ({what}); retry later"))
            .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

fn secs(value: f64) -> Option<Duration> {
    (value.is_finite() && value > 0.0).then(|| Duration::from_secs_f64(value))
}

impl ServerLimits {
    pub(crate) fn new(config: &LimitsConfig) -> Arc<Self> {
        Arc::new(ServerLimits {
            config: config.clone(),
            requests: Arc::new(Semaphore::new(config.max_concurrent_requests.max(1))),
            websockets: Arc::new(Semaphore::new(config.max_websocket_subscribers)),
            stats: ServerStats::default(),
        })
    }

    /// A websocket subscriber's place, or the 503 to answer when all are taken.
    pub(crate) fn websocket(self: &Arc<Self>) -> Result<WebsocketSlot, Box<Response>> {
        match self.websockets.clone().try_acquire_owned() {
            Ok(permit) => {
                self.stats.websockets_open.fetch_add(1, Ordering::Relaxed);
                Ok(WebsocketSlot { _permit: permit, limits: self.clone() })
            }
            Err(_) => {
                self.stats.websockets_refused_total.fetch_add(1, Ordering::Relaxed);
                Err(Box::new(busy("too many websocket subscribers")))
            }
        }
    }

    /// The limits and counters as Prometheus lines.
    pub(crate) fn metrics(&self) -> String {
        let s = &self.stats;
        let c = &self.config;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, value) in [
            ("http_connections_open", get(&s.connections_open)),
            ("http_connections_total", get(&s.connections_total)),
            ("http_header_timeouts_total", get(&s.header_timeouts_total)),
            ("http_requests_in_flight", get(&s.requests_in_flight)),
            ("http_requests_refused_total", get(&s.requests_refused_total)),
            ("http_request_timeouts_total", get(&s.request_timeouts_total)),
            ("ws_subscribers_open", get(&s.websockets_open)),
            ("ws_subscribers_refused_total", get(&s.websockets_refused_total)),
            ("limit_max_connections", c.max_connections as u64),
            ("limit_max_concurrent_requests", c.max_concurrent_requests as u64),
            ("limit_max_websocket_subscribers", c.max_websocket_subscribers as u64),
            ("limit_max_pagination", c.max_pagination),
        ] {
            out.push_str(&format!("aleph_node_{name} {value}\n"));
        }
        for (name, value) in [
            ("limit_header_read_timeout_seconds", c.header_read_timeout_secs),
            ("limit_request_timeout_seconds", c.request_timeout_secs),
        ] {
            out.push_str(&format!("aleph_node_{name} {value}\n"));
        }
        out
    }
}

/// Runs `app` on `listener` within `limits` until `stop` is cancelled, then lets open connections
/// finish their requests.
pub(crate) async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: Arc<ServerLimits>,
    stop: CancellationToken,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let connections = Arc::new(Semaphore::new(limits.config.max_connections.max(1)));
    let header_timeout = secs(limits.config.header_read_timeout_secs);
    let request_timeout = secs(limits.config.request_timeout_secs);
    let tracker = TaskTracker::new();
    loop {
        // Past the connection cap, connections wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let limits = limits.clone();
        let app = app.clone();
        let stop = stop.clone();
        tracker.spawn(async move {
            let _permit = permit;
            limits.stats.connections_open.fetch_add(1, Ordering::Relaxed);
            limits.stats.connections_total.fetch_add(1, Ordering::Relaxed);
            let service = {
                let limits = limits.clone();
                hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    handle(app.clone(), limits.clone(), request_timeout, request.map(axum::body::Body::new))
                })
            };
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).keep_alive(true).header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() {
                    limits.stats.header_timeouts_total.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            limits.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    tracker.close();
    tracker.wait().await;
}

/// One request: refused with 503 when the node already handles its maximum, answered 408 when
/// it takes longer than the request timeout.
async fn handle<S>(
    app: S,
    limits: Arc<ServerLimits>,
    timeout: Option<Duration>,
    request: Request,
) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let Ok(_permit) = limits.requests.clone().try_acquire_owned() else {
        limits.stats.requests_refused_total.fetch_add(1, Ordering::Relaxed);
        return Ok(busy("too many requests in flight"));
    };
    let _in_flight = InFlight::enter(&limits.stats.requests_in_flight);
    let call = app.oneshot(request);
    let response = match timeout {
        None => call.await,
        Some(t) => match tokio::time::timeout(t, call).await {
            Ok(r) => r,
            Err(_) => {
                limits.stats.request_timeouts_total.fetch_add(1, Ordering::Relaxed);
                Ok((StatusCode::REQUEST_TIMEOUT, "408: the request took too long").into_response())
            }
        },
    };
    response
}

/// Counts a request in flight until it is answered or dropped.
struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
