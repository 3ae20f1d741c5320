//! What a CRN answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One execution of `GET /v2/about/executions/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CrnExecution {
    /// The VM's network (empty for a VM without one).
    #[serde(default)]
    pub networking: ExecutionNetworking,
    /// Times of the execution's lifecycle (`defined_at`, `started_at`, …), as the CRN reports them.
    #[serde(default)]
    pub status: Value,
    /// Whether the VM runs.
    #[serde(default)]
    pub running: bool,
    /// Whether a confidential VM waits for its owner to initialize it.
    #[serde(default)]
    pub awaiting_confidential_init: Option<bool>,
    /// `microvm`, `persistent_program` or `instance`.
    #[serde(default)]
    pub vm_type: Option<String>,
}

/// The network of an execution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecutionNetworking {
    /// The VM's IPv4 network.
    #[serde(default)]
    pub ipv4_network: Option<String>,
    /// The host side's IPv4 address.
    #[serde(default)]
    pub host_ipv4: Option<String>,
    /// The VM's IPv6 network.
    #[serde(default)]
    pub ipv6_network: Option<String>,
    /// The VM's IPv6 address.
    #[serde(default)]
    pub ipv6_ip: Option<String>,
    /// The VM's IPv4 address.
    #[serde(default)]
    pub ipv4_ip: Option<String>,
    /// Host ports forwarded to the VM.
    #[serde(default)]
    pub mapped_ports: Option<Value>,
}

/// The answer to `POST /control/allocation/notify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllocationNotification {
    /// Whether every VM started.
    pub success: bool,
    /// Whether the instance started.
    pub successful: bool,
    /// The VMs that failed to start.
    #[serde(default)]
    pub failing: Vec<String>,
    /// Why each failing VM failed.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
}

/// One line of `GET /control/machine/{ref}/logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CrnLogEntry {
    /// The journal identifier (`vm-{hash}-stdout` or `vm-{hash}-stderr`).
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    pub syslog_identifier: String,
    /// The line.
    #[serde(rename = "MESSAGE")]
    pub message: Value,
    /// `stdout` or `stderr`.
    pub file: String,
    /// When the line was logged, as the CRN writes it.
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    pub realtime_timestamp: Value,
}

impl CrnLogEntry {
    /// The line as text (journald keeps non-UTF-8 lines as byte arrays).
    pub fn text(&self) -> String {
        match &self.message {
            Value::String(s) => s.clone(),
            Value::Array(bytes) => {
                let raw: Vec<u8> =
                    bytes.iter().filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect();
                String::from_utf8_lossy(&raw).into_owned()
            }
            other => other.to_string(),
        }
    }
}
