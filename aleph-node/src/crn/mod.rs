//! The CRN role: running PROGRAM messages the way aleph-vm does (NETWORK.md §5), and INSTANCEs.
//!
//! A program's code, data and volumes are resolved through the CCN's HTTP API ([`ccn`]), its
//! runtime ref is checked against the official Python runtimes ([`runtime`]), and an executor
//! ([`executor`]) starts it: a bubblewrap sandbox on the host's kernel ([`sandbox`], under
//! cgroup limits where the host allows them, [`cgroup`]) or a QEMU micro-VM ([`microvm`], its
//! channel relayed over virtio-serial by [`serial_bridge`]). Inside, our runtime shim
//! (`aleph-node/runtime/init.py`) speaks the reference guest's msgpack protocol ([`execution`]).
//! [`pool`] starts, reuses, reaps and stops executions; [`instance`] boots INSTANCEs in
//! micro-VMs; [`http`] serves `/vm/{hash}/…` and the aleph-vm API subset.

use axum::http::StatusCode;

mod auth;
mod ccn;
mod cgroup;
mod execution;
mod executor;
mod http;
mod instance;
mod logs;
mod microvm;
mod payment;
mod pool;
mod program;
mod runtime;
mod sandbox;
mod serial_bridge;

pub use execution::hostname as program_hostname;
pub(crate) use http::{host_routing, routed, router};
pub use pool::Crn;

/// Why a program could not be started or run. Each maps to the HTTP status aleph-vm answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrnError {
    /// The ref is not an item hash.
    #[error("invalid program reference: {0}")]
    BadRef(String),
    /// No such message on the CCN.
    #[error("no message {0} on the CCN")]
    NotFound(String),
    /// The message cannot be run here (wrong type, forgotten, rejected, …).
    #[error("{0}")]
    NotRunnable(String),
    /// The owner does not cover the program's cost.
    #[error("payment required: {0}")]
    PaymentRequired(String),
    /// The code, data, runtime or a volume cannot be obtained or used.
    #[error("{0}")]
    CodeUnavailable(String),
    /// The program names a runtime this CRN cannot run.
    #[error("{0}")]
    RuntimeUnsupported(String),
    /// Not enough capacity, or no sandbox/hypervisor on this host.
    #[error("{0}")]
    Unavailable(String),
    /// The program failed to start.
    #[error("the program failed to start: {0}")]
    StartFailed(String),
    /// The CCN could not be reached or answered an error.
    #[error("CCN: {0}")]
    Ccn(String),
    /// Local I/O failed.
    #[error("CRN I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl CrnError {
    /// The HTTP status aleph-vm answers for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            CrnError::BadRef(_) | CrnError::CodeUnavailable(_) | CrnError::RuntimeUnsupported(_) => {
                StatusCode::BAD_REQUEST
            }
            CrnError::NotFound(_) => StatusCode::NOT_FOUND,
            CrnError::NotRunnable(_) => StatusCode::BAD_REQUEST,
            CrnError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            CrnError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CrnError::StartFailed(_) | CrnError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            CrnError::Ccn(_) => StatusCode::BAD_GATEWAY,
        }
    }
}
