//! The host end of a micro-VM's virtio-serial channel, seen by the rest of the CRN as the same
//! two Unix sockets a sandboxed program uses.
//!
//! QEMU connects the guest's port to `port.sock`. The guest init (`runtime/guest_init.py`)
//! multiplexes connections over it in frames of `>IBI` (id, kind, length) and a payload:
//! kind 1 carries one host connection's bytes to the guest's runtime, kind 2 its answer, kind 3
//! the runtime's hello. Here, every connection to `vm.sock` is read to its end and sent as a
//! kind-1 frame, and the matching kind-2 answer written back before closing; a hello is written
//! to `vm.sock_52`, where [`Execution`](super::execution::Execution) waits for it. When the
//! channel closes (the VM is gone), waiting connections are closed without an answer, which the
//! proxy reports as a crash (502).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Largest frame either way (the answers' bound, [`super::execution`]'s `MAX_REPLY`).
const MAX_FRAME: u32 = 64 << 20;
const REQUEST: u8 = 1;
const ANSWER: u8 = 2;
const HELLO: u8 = 3;

type Pending = Arc<Mutex<HashMap<u32, oneshot::Sender<Vec<u8>>>>>;

/// A running bridge; its tasks end when it is dropped.
#[derive(Debug)]
pub(crate) struct Bridge {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Serves `socket_dir/vm.sock` through the port QEMU connects to `port`.
pub(crate) fn start(port: UnixListener, socket_dir: &Path) -> std::io::Result<Bridge> {
    let listener = UnixListener::bind(socket_dir.join("vm.sock"))?;
    let hello_path = socket_dir.join("vm.sock_52");
    let pending: Pending = Arc::default();
    let (writer_tx, writer_rx) =
        tokio::sync::watch::channel::<Option<Arc<tokio::sync::Mutex<OwnedWriteHalf>>>>(None);
    let reader_pending = pending.clone();
    let channel = tokio::spawn(async move {
        let Ok((stream, _)) = port.accept().await else { return };
        let (mut read, write) = stream.into_split();
        let _ = writer_tx.send(Some(Arc::new(tokio::sync::Mutex::new(write))));
        if let Err(e) = read_frames(&mut read, &reader_pending, &hello_path).await {
            tracing::debug!(error = %e, "micro-VM channel closed");
        }
        // The VM is gone: waiting connections get no answer.
        reader_pending.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let _ = writer_tx.send(None);
    });
    let ids = Arc::new(AtomicU32::new(1));
    let connections = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (pending, writer, ids) = (pending.clone(), writer_rx.clone(), ids.clone());
            tokio::spawn(async move {
                let _ = relay(stream, pending, writer, ids).await;
            });
        }
    });
    Ok(Bridge { tasks: vec![channel, connections] })
}

async fn read_frames(
    read: &mut tokio::net::unix::OwnedReadHalf,
    pending: &Pending,
    hello_path: &Path,
) -> std::io::Result<()> {
    loop {
        let mut header = [0u8; 9];
        read.read_exact(&mut header).await?;
        let id = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = header[4];
        let len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
        if len > MAX_FRAME {
            return Err(std::io::Error::other(format!("a {len}-byte frame from the guest")));
        }
        let mut payload = vec![0u8; len as usize];
        read.read_exact(&mut payload).await?;
        match kind {
            ANSWER => {
                let waiter = pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                if let Some(waiter) = waiter {
                    let _ = waiter.send(payload);
                }
            }
            HELLO => {
                let path = hello_path.to_path_buf();
                tokio::spawn(async move {
                    if let Ok(mut s) = UnixStream::connect(&path).await {
                        let _ = s.write_all(&payload).await;
                        let _ = s.shutdown().await;
                    }
                });
            }
            other => tracing::debug!(kind = other, "unknown frame from the guest"),
        }
    }
}

async fn relay(
    mut stream: UnixStream,
    pending: Pending,
    mut writer: tokio::sync::watch::Receiver<Option<Arc<tokio::sync::Mutex<OwnedWriteHalf>>>>,
    ids: Arc<AtomicU32>,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    (&mut stream).take(u64::from(MAX_FRAME)).read_to_end(&mut request).await?;
    let Ok(port) = writer.wait_for(Option::is_some).await.map(|w| w.clone()) else { return Ok(()) };
    let Some(port) = port else { return Ok(()) };
    let id = ids.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    pending.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
    let mut frame = Vec::with_capacity(9 + request.len());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.push(REQUEST);
    frame.extend_from_slice(&(request.len() as u32).to_be_bytes());
    frame.extend_from_slice(&request);
    port.lock().await.write_all(&frame).await?;
    // An answer, or nothing when the channel closed (the sender dropped). A caller that gave up
    // (a timeout) is not noticed here: its entry goes with the guest's late answer or the VM.
    if let Ok(answer) = rx.await {
        stream.write_all(&answer).await?;
    }
    stream.shutdown().await
}
