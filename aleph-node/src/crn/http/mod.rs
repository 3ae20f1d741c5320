//! The CRN's HTTP API: `/vm/{hash}/…` proxied to programs, and the subset of aleph-vm's API the
//! SDK, CLI and scheduler use (NETWORK.md §5.3, §5.9).

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use rmpv::Value as Mp;
use serde_json::{json, Value};

use aleph_core::api::{
    CrnExecution, CrnExecutionV1, CrnExecutions, CrnExecutionsV1, ExecutionNetworking, ExecutionNetworkingV1,
    ExecutionTimes,
};

use super::execution::{Execution, Reply, RunError};
use super::{Crn, CrnError};
use crate::api::iso_offset;

mod control;

/// The item hash a host name designates: its first label, when it is the lowercase unpadded
/// base32 of 32 bytes (how aleph-vm names programs: `<b32>.<domain>`).
fn hash_of_host(host: &str) -> Option<String> {
    let label = host.split('.').next()?;
    if label.len() != 52 {
        return None;
    }
    let mut bytes = Vec::with_capacity(33);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in label.bytes() {
        let v = match c {
            b'a'..=b'z' => c - b'a',
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

/// Routes `<b32 of a hash>.<domain>/path` to `/vm/<hash>/path`, as aleph-vm does for program
/// subdomains. Apply it to the whole service (it rewrites the URI before routing).
pub(crate) fn host_routing<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let Some(hash) = hash_of_host(host.split(':').next().unwrap_or(host)) else { return request };
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    if let Ok(uri) = format!("/vm/{hash}{path_and_query}").parse() {
        *request.uri_mut() = uri;
    }
    request
}

/// The CRN routes, to be merged with the node's API.
pub(crate) fn router(crn: Crn) -> Router {
    routed(crn).router
}

/// The CRN routes with their table (method, path), as the router was built.
pub(crate) fn routed(crn: Crn) -> crate::api::Routed<()> {
    let server = HeaderValue::from_str(&format!("aleph-vm/{} (aleph-node)", crate::VERSION))
        .unwrap_or(HeaderValue::from_static("aleph-vm"));
    crate::api::Routed::new()
        .any("/vm/{reference}", vm_root)
        .any("/vm/{reference}/", vm_root)
        .any("/vm/{reference}/{*rest}", vm_path)
        .get("/about/executions/list", executions_v1)
        .get("/v2/about/executions/list", executions_v2)
        .get("/about/usage/system", usage)
        .get("/status/check/version", check_version)
        .get("/status/config", public_config)
        .post("/control/allocation/notify", control::notify)
        .post("/control/allocations", control::allocations)
        .post("/control/machine/{reference}/stop", control::stop)
        .post("/control/machine/{reference}/reboot", control::reboot)
        .post("/control/machine/{reference}/erase", control::erase)
        .get("/control/machine/{reference}/logs", control::logs)
        .map(|r| {
            r.layer(axum::middleware::map_response(move |mut resp: Response| {
                let server = server.clone();
                async move {
                    resp.headers_mut().insert(header::SERVER, server);
                    resp
                }
            }))
            .with_state(crn)
        })
}

/// An error as aleph-vm answers it: `{"error": …}` with the matching status.
pub(crate) fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(aleph_core::api::CrnError { error: message.to_string() })).into_response()
}

/// A refused request: its status and reason, answered as [`error`] does.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl std::fmt::Display) -> Self {
        Refusal { status, message: message.to_string() }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

impl From<CrnError> for Refusal {
    fn from(e: CrnError) -> Self {
        Refusal::new(e.status(), e)
    }
}

impl IntoResponse for CrnError {
    fn into_response(self) -> Response {
        error(self.status(), &self)
    }
}

async fn vm_root(State(crn): State<Crn>, Path(reference): Path<String>, request: Request) -> Response {
    run(crn, reference, "/".to_owned(), request).await
}

async fn vm_path(
    State(crn): State<Crn>,
    Path((reference, rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    run(crn, reference, format!("/{rest}"), request).await
}

fn check_ref(reference: &str) -> Result<String, CrnError> {
    if reference.len() == 64 && reference.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(reference.to_ascii_lowercase())
    } else {
        Err(CrnError::BadRef(format!("{reference} is not an item hash")))
    }
}

/// The request scope the runtime receives (the reference's shape: the query string as text,
/// lowercase header names, the whole body).
fn scope(method: &Method, path: &str, query: &str, headers: &axum::http::HeaderMap, body: Bytes) -> Mp {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            Mp::Array(vec![Mp::Binary(k.as_str().as_bytes().to_vec()), Mp::Binary(v.as_bytes().to_vec())])
        })
        .collect();
    Mp::Map(vec![
        (Mp::from("type"), Mp::from("http")),
        (Mp::from("path"), Mp::from(path)),
        (Mp::from("method"), Mp::from(method.as_str())),
        (Mp::from("query_string"), Mp::from(query)),
        (Mp::from("headers"), Mp::Array(headers)),
        (Mp::from("body"), Mp::Binary(body.to_vec())),
    ])
}

/// Headers never relayed from a program (the reference drops the first three; the others are
/// hop-by-hop or recomputed here).
const DROPPED: &[&str] =
    &["content-encoding", "transfer-encoding", "vary", "content-length", "connection", "keep-alive"];

async fn run(crn: Crn, reference: String, path: String, request: Request) -> Response {
    let hash = match check_ref(&reference) {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 10 << 20).await {
        Ok(b) => b,
        Err(e) => return error(StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")),
    };
    let exec = match crn.get_or_start(&hash).await {
        Ok(exec) => exec,
        Err(e) => {
            tracing::info!(program = %hash, error = %e, "program not started");
            return e.into_response();
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let scope = scope(&parts.method, &path, query, &parts.headers, body);
    match exec.request(scope).await {
        Ok(reply) => relay(&exec, reply),
        Err(e) => {
            let status = match e {
                RunError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                RunError::Empty | RunError::Crashed(_) => StatusCode::BAD_GATEWAY,
            };
            if status == StatusCode::BAD_GATEWAY {
                crn.stop(&hash).await;
            }
            error(status, e)
        }
    }
}

fn relay(exec: &Execution, reply: Reply) -> Response {
    let (status, headers, body) = match reply {
        Reply::Error { traceback } => {
            return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], traceback)
                .into_response()
        }
        Reply::Http { status, headers, body } => (status, headers, body),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let out = resp.headers_mut();
    for (name, value) in headers {
        let Ok(name) = HeaderName::from_bytes(&name) else { continue };
        if DROPPED.contains(&name.as_str()) {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            out.append(name, value);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&exec.spec.item_hash) {
        out.insert("aleph-program-itemhash", v);
    }
    if let Ok(v) = HeaderValue::from_str(&exec.spec.code_ref) {
        out.insert("aleph-program-code-ref", v);
    }
    resp
}

fn vm_type(exec: &Execution) -> &'static str {
    if exec.spec.persistent() {
        "persistent_program"
    } else {
        "microvm"
    }
}

/// `GET /about/executions/list`: running executions (v1 shape).
async fn executions_v1(State(crn): State<Crn>) -> Json<CrnExecutionsV1> {
    let entry = |vm_type: &str| CrnExecutionV1 {
        networking: ExecutionNetworkingV1::default(),
        vm_type: vm_type.to_owned(),
        awaiting_confidential_init: false,
    };
    let mut out = CrnExecutionsV1::new();
    for exec in crn.executions().await {
        out.insert(exec.spec.item_hash.clone(), entry(vm_type(&exec)));
    }
    for (hash, _) in crn.instances().records() {
        if crn.instances().is_running(&hash).await {
            out.insert(hash, entry("instance"));
        }
    }
    Json(out)
}

fn opt_time(t: Option<f64>) -> Option<String> {
    t.and_then(|t| iso_offset(t).as_str().map(str::to_owned))
}

/// `GET /v2/about/executions/list`: executions with their status times.
async fn executions_v2(State(crn): State<Crn>) -> Json<CrnExecutions> {
    let mut out = CrnExecutions::new();
    for exec in crn.executions().await {
        let t = exec.times.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let times = ExecutionTimes {
            defined_at: opt_time(Some(t.defined_at)),
            preparing_at: opt_time(t.preparing_at),
            prepared_at: opt_time(t.prepared_at),
            starting_at: opt_time(t.starting_at),
            started_at: opt_time(t.started_at),
            stopping_at: opt_time(t.stopping_at),
            stopped_at: opt_time(t.stopped_at),
        };
        let execution = CrnExecution::new(ExecutionNetworking::default(), times, true, vm_type(&exec));
        out.insert(exec.spec.item_hash.clone(), execution);
    }
    for (hash, r) in crn.instances().records() {
        let running = crn.instances().is_running(&hash).await;
        let times = ExecutionTimes {
            defined_at: opt_time(Some(r.defined_at)),
            started_at: opt_time(r.started_at),
            stopped_at: opt_time(r.stopped_at),
            ..ExecutionTimes::default()
        };
        let networking = serde_json::from_value(r.networking()).unwrap_or_default();
        let mut execution = CrnExecution::new(networking, times, running, "instance");
        execution.allocation = Some(r.to_json());
        out.insert(hash, execution);
    }
    Json(out)
}

fn proc_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn meminfo(key: &str) -> u64 {
    proc_file("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn disk_kb(dir: &std::path::Path) -> (u64, u64) {
    let out = tokio::process::Command::new("df").args(["-k", "-P"]).arg(dir).output().await;
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let fields: Vec<u64> = text
        .lines()
        .nth(1)
        .map(|l| l.split_whitespace().filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    (fields.first().copied().unwrap_or(0), fields.get(2).copied().unwrap_or(0))
}

/// `GET /about/usage/system`: the host's capacity, as the scheduler reads it.
async fn usage(State(crn): State<Crn>) -> Json<Value> {
    let load = proc_file("/proc/loadavg");
    let mut l = load.split_whitespace().map(|f| f.parse::<f64>().unwrap_or(0.0));
    let (load1, load5, load15) = (l.next().unwrap_or(0.0), l.next().unwrap_or(0.0), l.next().unwrap_or(0.0));
    let cpuinfo = proc_file("/proc/cpuinfo");
    let mhz: Vec<f64> = cpuinfo
        .lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse().ok())
        .collect();
    let vendor = cpuinfo.lines().find_map(|l| l.strip_prefix("vendor_id")?.split(':').nth(1)).map(str::trim);
    let features: Vec<&str> = Vec::new();
    let (disk_total, disk_available) = disk_kb(std::path::Path::new(crn.dir())).await;
    let now = crate::pipeline::now() as i64;
    let count = std::thread::available_parallelism().map_or(1, |n| n.get());
    Json(json!({
        "cpu": {
            "count": count,
            "load_average": {"load1": load1, "load5": load5, "load15": load15},
            "core_frequencies": {
                "min": mhz.iter().copied().reduce(f64::min).unwrap_or(0.0),
                "max": mhz.iter().copied().reduce(f64::max).unwrap_or(0.0),
            },
        },
        "mem": {"total_kB": meminfo("MemTotal"), "available_kB": meminfo("MemAvailable")},
        "disk": {"total_kB": disk_total, "available_kB": disk_available},
        "period": {"start_timestamp": iso_offset((now - now % 60) as f64), "duration_seconds": 60.0},
        "properties": {"cpu": {"architecture": std::env::consts::ARCH, "vendor": vendor, "features": features}},
        "gpu": {"devices": [], "available_devices": []},
        "active": true,
    }))
}

fn version_tuple(v: &str) -> Option<Vec<u64>> {
    v.trim_start_matches('v').split(['.', '-', '+']).take(3).map(|p| p.parse().ok()).collect()
}

/// `GET /status/check/version?reference=x.y.z`: 200 when this CRN is at least that version.
async fn check_version(Query(q): Query<BTreeMap<String, String>>) -> Response {
    let Some(reference) = q.get("reference") else {
        return error(StatusCode::BAD_REQUEST, "the query parameter `reference` is required");
    };
    let (Some(ours), Some(theirs)) = (version_tuple(crate::VERSION), version_tuple(reference)) else {
        return error(StatusCode::BAD_REQUEST, format!("{reference} is not a version number"));
    };
    if ours >= theirs {
        (StatusCode::OK, format!("Up-to-date: version {} >= {reference}", crate::VERSION)).into_response()
    } else {
        (StatusCode::FORBIDDEN, format!("Outdated: version {} < {reference}", crate::VERSION)).into_response()
    }
}

/// `GET /status/config`: the public configuration the SDK and CLI read.
async fn public_config(State(crn): State<Crn>) -> Response {
    let c = crn.config();
    let qemu = crn.instances().hypervisor_unavailable().await.is_none();
    let domain = super::auth::crn_domain(crn.public_url());
    Json(json!({
        "DOMAIN_NAME": domain,
        "version": crate::VERSION,
        "references": {"API_SERVER": crn.ccn_url()},
        "security": {"USE_JAILER": false, "SANDBOX": "bubblewrap"},
        "networking": {"ALLOW_VM_NETWORKING": false},
        "debug": {},
        "payment": {
            "PAYMENT_RECEIVER_ADDRESS": "",
            "AVAILABLE_PAYMENTS": {"hold": true, "credit": true, "superfluid": false},
            "PAYMENT_MONITOR_INTERVAL": c.payment_check_interval_secs,
        },
        "computing": {
            "ENABLE_QEMU_SUPPORT": qemu,
            "INSTANCE_DEFAULT_HYPERVISOR": "qemu",
            "ENABLE_CONFIDENTIAL_COMPUTING": false,
            "ENABLE_GPU_SUPPORT": false,
        },
        // Ours: which program limits this host applies, and whether programs run without the
        // missing ones.
        // Ours: what runs programs (sandbox or micro-VM, and the VMs' accelerator).
        "executor": crn.executor_status(),
        "limits": {
            "applied": crn.limits(),
            "missing": crn.limits().missing(),
            "allow_unlimited": c.allow_unlimited,
        },
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_subdomains_name_their_hash() {
        let hash = format!("{}ff", "00".repeat(31));
        let host = format!("{}.crn.example.org", crate::crn::execution::hostname(&hash));
        assert_eq!(hash_of_host(&host), Some(hash.clone()));
        assert_eq!(hash_of_host("crn.example.org"), None);
        let req = axum::http::Request::builder()
            .uri("/a/b?x=1")
            .header("host", format!("{host}:443"))
            .body(())
            .unwrap();
        assert_eq!(host_routing(req).uri().to_string(), format!("/vm/{hash}/a/b?x=1"));
        let req = axum::http::Request::builder().uri("/a").header("host", "127.0.0.1:4024").body(()).unwrap();
        assert_eq!(host_routing(req).uri().to_string(), "/a");
    }
}
