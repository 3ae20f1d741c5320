//! One running program: its runtime shim (in a sandbox or a micro-VM, see [`super::executor`])
//! and the host side of the reference guest protocol (NETWORK.md §5.5), over Unix sockets
//! instead of vsock (a micro-VM's are relayed over virtio-serial, [`super::serial_bridge`]).
//!
//! 1. The host listens on `vm.sock_52`; the shim, once listening on `vm.sock`, connects there
//!    and sends `{"version": …}` (msgpack).
//! 2. The host connects to `vm.sock` and sends `"{len}\n"` + the msgpack configuration; the shim
//!    answers `{"success": bool, "error"?, "traceback"?}` (the host's write side closed after
//!    the payload, so a relay knows where the message ends).
//! 3. Each request: a new connection carrying msgpack `{"scope": …}`, the host's write side
//!    closed; the answer is read to the end of the stream.
//! 4. Stop: the bytes `halt`, answered `STOP\n` + `STOPZ\n`; then the sandbox is killed if it
//!    lingers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aleph_core::content::Interface;
use rmpv::Value as Mp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::process::Child;

use super::cgroup::Group;
use super::executor::{Job, Launched, Launcher};
use super::logs::Logs;
use super::program::ProgramSpec;
use super::CrnError;

/// Largest answer read from a program (the reference reads at most 10 MB per instruction, and
/// answers carry the body plus framing).
const MAX_REPLY: u64 = 64 << 20;

/// How a request to a program failed; each maps to the status aleph-vm answers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// No answer within `resources.seconds` (504).
    #[error("the program did not answer within {0} s")]
    Timeout(f64),
    /// The program closed the connection without answering (502).
    #[error("the program returned an empty reply")]
    Empty,
    /// The program is gone, or its answer is unreadable (502).
    #[error("the program crashed: {0}")]
    Crashed(String),
}

/// A program's answer to one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An HTTP response.
    Http { status: u16, headers: Vec<(Vec<u8>, Vec<u8>)>, body: Vec<u8> },
    /// The program raised: its traceback (served as 500 text/plain).
    Error { traceback: String },
}

/// Timestamps of an execution, as `/v2/about/executions/list` reports them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Times {
    pub(crate) defined_at: f64,
    pub(crate) preparing_at: Option<f64>,
    pub(crate) prepared_at: Option<f64>,
    pub(crate) starting_at: Option<f64>,
    pub(crate) started_at: Option<f64>,
    pub(crate) stopping_at: Option<f64>,
    pub(crate) stopped_at: Option<f64>,
}

/// What an execution needs from the CRN around it.
#[derive(Debug)]
pub(crate) struct Host<'a> {
    pub(crate) launcher: &'a dyn Launcher,
    pub(crate) vm_dir: PathBuf,
    pub(crate) socket_dir: PathBuf,
    pub(crate) group: Option<Group>,
    pub(crate) start_timeout: Duration,
}

/// A started program.
#[derive(Debug)]
pub(crate) struct Execution {
    pub(crate) spec: Arc<ProgramSpec>,
    socket: PathBuf,
    socket_dir: PathBuf,
    vm_dir: PathBuf,
    child: tokio::sync::Mutex<Option<Child>>,
    _group: Option<Group>,
    /// What the executor keeps alive with the runtime (a micro-VM's channel and QMP watcher).
    _keep: Option<Box<dyn std::fmt::Debug + Send + Sync>>,
    pub(crate) logs: Logs,
    pub(crate) times: Mutex<Times>,
    last_used: Mutex<Instant>,
    stopped: AtomicBool,
}

fn mp_get<'a>(map: &'a Mp, key: &str) -> Option<&'a Mp> {
    map.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
}

fn mp_bytes(v: &Mp) -> Vec<u8> {
    match v {
        Mp::Binary(b) => b.clone(),
        Mp::String(s) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    }
}

fn encode(value: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

fn map(entries: Vec<(&str, Mp)>) -> Mp {
    Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

/// The configuration message of the protocol's step 2.
fn configuration(spec: &ProgramSpec) -> Mp {
    let interface = match spec.interface {
        Interface::Asgi => "asgi",
        _ => "executable",
    };
    let variables = spec.content.base.variables.as_ref().map_or(Mp::Nil, |vars| {
        Mp::Map(vars.iter().map(|(k, v)| (Mp::from(k.as_str()), Mp::from(v.as_str()))).collect())
    });
    let authorized_keys = spec
        .content
        .base
        .authorized_keys
        .as_ref()
        .map_or(Mp::Nil, |keys| Mp::Array(keys.iter().map(|k| Mp::from(k.as_str())).collect()));
    map(vec![
        ("input_data", spec.input_data.as_ref().map_or(Mp::Nil, |d| Mp::Binary(d.to_vec()))),
        ("interface", Mp::from(interface)),
        ("vm_hash", Mp::from(spec.item_hash.as_str())),
        ("code", Mp::Binary(spec.code.to_vec())),
        ("encoding", Mp::from(spec.encoding)),
        ("entrypoint", Mp::from(spec.content.code.entrypoint.as_str())),
        ("ip", Mp::Nil),
        ("ipv6", Mp::Nil),
        ("route", Mp::Nil),
        ("ipv6_gateway", Mp::Nil),
        ("dns_servers", Mp::Array(Vec::new())),
        ("volumes", Mp::Array(Vec::new())),
        ("variables", variables),
        ("authorized_keys", authorized_keys),
    ])
}

/// The guest's hostname, and the program's subdomain label: lowercase unpadded base32 of the
/// hash bytes, as the reference derives it.
pub fn hostname(item_hash: &str) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = hex::decode(item_hash).unwrap_or_default();
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

async fn read_all(stream: &mut UnixStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    stream.take(MAX_REPLY).read_to_end(&mut buf).await?;
    Ok(buf)
}

fn now() -> f64 {
    crate::pipeline::now()
}

impl Execution {
    /// Starts `spec` in a sandbox and configures it; resolves once the program is ready.
    pub(crate) async fn start(spec: Arc<ProgramSpec>, host: Host<'_>) -> Result<Arc<Execution>, CrnError> {
        let mut times = Times { defined_at: now(), preparing_at: Some(now()), ..Times::default() };
        let _ = tokio::fs::remove_dir_all(&host.vm_dir).await;
        tokio::fs::create_dir_all(host.vm_dir.join("opt")).await?;
        tokio::fs::create_dir_all(host.vm_dir.join("data")).await?;
        let _ = tokio::fs::remove_dir_all(&host.socket_dir).await;
        tokio::fs::create_dir_all(&host.socket_dir).await?;
        let hello_path = host.socket_dir.join("vm.sock_52");
        let listener = UnixListener::bind(&hello_path)?;
        times.prepared_at = Some(now());

        let name = hostname(&spec.item_hash);
        let procs = host.group.as_ref().map(Group::procs).unwrap_or_default();
        times.starting_at = Some(now());
        let job = Job {
            spec: &spec,
            vm_dir: &host.vm_dir,
            socket_dir: &host.socket_dir,
            hostname: &name,
            cgroup_procs: &procs,
        };
        let Launched { mut child, keep } = host.launcher.launch(job).await?;
        let logs = Logs::default();
        if let Some(out) = child.stdout.take() {
            logs.collect("stdout", out);
        }
        if let Some(err) = child.stderr.take() {
            logs.collect("stderr", err);
        }
        let execution = Execution {
            spec,
            socket: host.socket_dir.join("vm.sock"),
            socket_dir: host.socket_dir,
            vm_dir: host.vm_dir,
            child: tokio::sync::Mutex::new(None),
            _group: host.group,
            _keep: keep,
            logs,
            times: Mutex::new(times),
            last_used: Mutex::new(Instant::now()),
            stopped: AtomicBool::new(false),
        };

        // Step 1: the shim says it is up (or the sandbox dies trying).
        let hello = tokio::select! {
            accepted = tokio::time::timeout(host.start_timeout, listener.accept()) => accepted,
            status = child.wait() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                execution.cleanup().await;
                return Err(CrnError::StartFailed(format!("the runtime exited ({status}): {}", execution.logs.tail(20))));
            }
        };
        let version = match hello {
            Ok(Ok((mut stream, _))) => {
                let bytes = read_all(&mut stream).await.unwrap_or_default();
                let value = rmpv::decode::read_value(&mut bytes.as_slice()).ok();
                value.as_ref().and_then(|v| mp_get(v, "version")).and_then(Mp::as_str).map(str::to_owned)
            }
            Ok(Err(e)) => return Err(execution.fail(child, format!("no hello from the runtime: {e}")).await),
            Err(_) => return Err(execution.fail(child, "the runtime did not come up in time".into()).await),
        };
        drop(listener);
        tracing::debug!(program = %execution.spec.item_hash, ?version, "runtime up");

        // Step 2: configuration.
        let payload = encode(&configuration(&execution.spec));
        let configured = tokio::time::timeout(host.start_timeout, async {
            let mut stream = UnixStream::connect(&execution.socket).await?;
            stream.write_all(format!("{}\n", payload.len()).as_bytes()).await?;
            stream.write_all(&payload).await?;
            stream.shutdown().await?;
            read_all(&mut stream).await
        })
        .await;
        let answer = match configured {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return Err(execution.fail(child, format!("configuration failed: {e}")).await),
            Err(_) => return Err(execution.fail(child, "the program did not start in time".into()).await),
        };
        let answer = rmpv::decode::read_value(&mut answer.as_slice()).unwrap_or(Mp::Nil);
        if mp_get(&answer, "success").and_then(Mp::as_bool) != Some(true) {
            let error = mp_get(&answer, "error").and_then(Mp::as_str).unwrap_or("no answer").to_owned();
            let traceback = mp_get(&answer, "traceback").and_then(Mp::as_str).unwrap_or("").to_owned();
            return Err(execution.fail(child, format!("{error}\n{traceback}").trim().to_owned()).await);
        }
        execution.lock_times().started_at = Some(now());
        *execution.child.lock().await = Some(child);
        Ok(Arc::new(execution))
    }

    fn lock_times(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn fail(&self, mut child: Child, reason: String) -> CrnError {
        let _ = child.start_kill();
        let _ = child.wait().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.cleanup().await;
        let tail = self.logs.tail(20);
        if tail.is_empty() || reason.contains(&tail) {
            CrnError::StartFailed(reason)
        } else {
            CrnError::StartFailed(format!("{reason}\n{tail}"))
        }
    }

    async fn cleanup(&self) {
        let _ = tokio::fs::remove_dir_all(&self.socket_dir).await;
        let _ = tokio::fs::remove_dir_all(&self.vm_dir).await;
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// When the program last served a request.
    pub(crate) fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    /// Whether the sandbox is still running.
    pub(crate) async fn is_running(&self) -> bool {
        if self.stopped.load(Ordering::SeqCst) {
            return false;
        }
        match self.child.lock().await.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends one request scope and waits for the answer, at most `resources.seconds`.
    pub(crate) async fn request(&self, scope: Mp) -> Result<Reply, RunError> {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let seconds = self.spec.seconds();
        let payload = encode(&map(vec![("scope", scope)]));
        let exchange = async {
            let mut stream = UnixStream::connect(&self.socket).await?;
            stream.write_all(&payload).await?;
            stream.shutdown().await?;
            read_all(&mut stream).await
        };
        let bytes = match tokio::time::timeout(Duration::from_secs_f64(seconds), exchange).await {
            Err(_) => return Err(RunError::Timeout(seconds)),
            Ok(Err(e)) => return Err(RunError::Crashed(e.to_string())),
            Ok(Ok(bytes)) => bytes,
        };
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        if bytes.is_empty() {
            return Err(RunError::Empty);
        }
        let answer = rmpv::decode::read_value(&mut bytes.as_slice())
            .map_err(|e| RunError::Crashed(format!("unreadable answer: {e}")))?;
        if let Some(traceback) = mp_get(&answer, "traceback").and_then(Mp::as_str) {
            return Ok(Reply::Error { traceback: traceback.to_owned() });
        }
        let start = mp_get(&answer, "headers").ok_or(RunError::Empty)?;
        let status = mp_get(start, "status").and_then(Mp::as_u64).unwrap_or(200);
        let status =
            u16::try_from(status).map_err(|_| RunError::Crashed(format!("invalid status {status}")))?;
        let headers = mp_get(start, "headers")
            .and_then(Mp::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|pair| {
                        let pair = pair.as_array()?;
                        Some((mp_bytes(pair.first()?), mp_bytes(pair.get(1)?)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = mp_get(&answer, "body").and_then(|b| mp_get(b, "body")).map(mp_bytes).unwrap_or_default();
        Ok(Reply::Http { status, headers, body })
    }

    /// Stops the program: `halt` (lifespan shutdown, the executable terminated), then the
    /// sandbox is killed if it has not exited.
    pub(crate) async fn stop(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        self.lock_times().stopping_at = Some(now());
        let halt = async {
            let mut stream = UnixStream::connect(&self.socket).await?;
            stream.write_all(b"halt").await?;
            stream.shutdown().await?;
            read_all(&mut stream).await
        };
        let _ = tokio::time::timeout(Duration::from_secs(15), halt).await;
        if let Some(mut child) = self.child.lock().await.take() {
            if tokio::time::timeout(Duration::from_secs(3), child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
        let _ = tokio::fs::remove_dir_all(&self.socket_dir).await;
        let _ = tokio::fs::remove_dir_all(&self.vm_dir).await;
        self.lock_times().stopped_at = Some(now());
        tracing::info!(program = %self.spec.item_hash, "program stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_the_reference_base32() {
        // base64.b32encode(bytes.fromhex("00" * 31 + "ff")).strip("=").lower()
        let h = hostname(&format!("{}ff", "00".repeat(31)));
        assert_eq!(h.len(), 52);
        assert_eq!(h, format!("{}d7q", "a".repeat(49)));
    }
}
