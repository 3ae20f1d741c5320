//! The part of the CRN's API (aleph-vm's) that clients and the scheduler call: executions,
//! allocation answers and program logs. Executions lists are objects keyed by item hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The network of an execution (`/v2/about/executions/list`): every key for an instance, none
/// (`{}`) for a program, which has no network of its own here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionNetworking {
    /// The VM's IPv4 network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_network: Option<String>,
    /// The host side's IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ipv4: Option<String>,
    /// The VM's IPv6 network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_network: Option<String>,
    /// The VM's IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_ip: Option<String>,
    /// The VM's IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_ip: Option<String>,
    /// Host ports forwarded to the VM (`{"22": {"host": 2222, "tcp": true, "udp": false}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub mapped_ports: Option<Value>,
}

/// When an execution went through each step (Python's `isoformat()`; `null` for a step not
/// reached or not tracked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionTimes {
    /// Defined.
    #[serde(default)]
    pub defined_at: Option<String>,
    /// Preparing.
    #[serde(default)]
    pub preparing_at: Option<String>,
    /// Prepared.
    #[serde(default)]
    pub prepared_at: Option<String>,
    /// Starting.
    #[serde(default)]
    pub starting_at: Option<String>,
    /// Started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Stopping.
    #[serde(default)]
    pub stopping_at: Option<String>,
    /// Stopped.
    #[serde(default)]
    pub stopped_at: Option<String>,
}

/// One execution of `GET /v2/about/executions/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct CrnExecution {
    /// The VM's network.
    #[serde(default)]
    pub networking: ExecutionNetworking,
    /// The lifecycle's times.
    #[serde(default)]
    pub status: ExecutionTimes,
    /// Whether the VM runs.
    #[serde(default)]
    pub running: bool,
    /// Whether a confidential VM waits for its owner to initialize it.
    #[serde(default)]
    pub awaiting_confidential_init: Option<bool>,
    /// `microvm`, `persistent_program` or `instance`.
    #[serde(default)]
    pub vm_type: Option<String>,
    /// An instance's allocation record (this node's own key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub allocation: Option<Value>,
}

impl CrnExecution {
    /// An execution as this node reports it.
    pub fn new(
        networking: ExecutionNetworking,
        status: ExecutionTimes,
        running: bool,
        vm_type: &str,
    ) -> Self {
        CrnExecution {
            networking,
            status,
            running,
            awaiting_confidential_init: Some(false),
            vm_type: Some(vm_type.to_owned()),
            allocation: None,
        }
    }
}

/// The network of an execution in the v1 list: always `{"ipv4": null, "ipv6": null}` here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionNetworkingV1 {
    /// The VM's IPv4 address.
    pub ipv4: Option<String>,
    /// The VM's IPv6 address.
    pub ipv6: Option<String>,
}

/// One execution of `GET /about/executions/list` (the v1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrnExecutionV1 {
    /// The VM's network.
    #[serde(default)]
    pub networking: ExecutionNetworkingV1,
    /// `microvm`, `persistent_program` or `instance`.
    pub vm_type: String,
    /// Whether a confidential VM waits for its owner.
    #[serde(default)]
    pub awaiting_confidential_init: bool,
}

/// `GET /v2/about/executions/list`: item hash → execution.
pub type CrnExecutions = BTreeMap<String, CrnExecution>;

/// `GET /about/executions/list`: item hash → execution.
pub type CrnExecutionsV1 = BTreeMap<String, CrnExecutionV1>;

/// The answer to `POST /control/allocation/notify` (200, or the failure's status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct AllocationNotification {
    /// Whether every VM started.
    pub success: bool,
    /// Whether the instance started (a boolean here, a list in [`AllocationsAnswer`], as in
    /// the reference).
    pub successful: bool,
    /// The VMs that failed to start.
    #[serde(default)]
    pub failing: Vec<String>,
    /// Why each failing VM failed.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
}

impl AllocationNotification {
    /// The instance started.
    pub fn started() -> Self {
        AllocationNotification {
            success: true,
            successful: true,
            failing: Vec::new(),
            errors: BTreeMap::new(),
        }
    }

    /// The instance `hash` did not start, for `reason`.
    pub fn failed(hash: &str, reason: String) -> Self {
        AllocationNotification {
            success: false,
            successful: false,
            failing: vec![hash.to_owned()],
            errors: BTreeMap::from([(hash.to_owned(), reason)]),
        }
    }
}

/// The answer to `POST /control/allocations` (200, 207 when some failed, 503 when all did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationsAnswer {
    /// Whether nothing failed.
    pub success: bool,
    /// What runs as asked.
    pub successful: Vec<String>,
    /// What failed.
    pub failing: Vec<String>,
    /// What was stopped for not being listed.
    pub stopped: Vec<String>,
    /// Why each failing one failed.
    pub errors: BTreeMap<String, String>,
}

/// One line of `GET /control/machine/{ref}/logs`, in journald's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct CrnLogEntry {
    /// The journal identifier (`vm-{hash}-stdout` or `vm-{hash}-stderr`).
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    pub syslog_identifier: String,
    /// The line (journald keeps a non-UTF-8 line as an array of bytes).
    #[serde(rename = "MESSAGE")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub message: Value,
    /// `stdout` or `stderr`.
    pub file: String,
    /// When the line was logged: microseconds since the epoch, as text here.
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub realtime_timestamp: Value,
}

impl CrnLogEntry {
    /// A line of `stream` (`stdout`, `stderr`) of the VM `name`, logged at `micros`.
    pub fn new(name: &str, stream: &str, text: &str, micros: i64) -> Self {
        CrnLogEntry {
            syslog_identifier: format!("vm-{name}-{stream}"),
            message: Value::String(text.to_owned()),
            file: stream.to_owned(),
            realtime_timestamp: Value::String(micros.to_string()),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_program_has_an_empty_network_and_every_time_key() {
        let e = CrnExecution::new(ExecutionNetworking::default(), ExecutionTimes::default(), true, "microvm");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["networking"], json!({}));
        assert_eq!(v["status"].as_object().unwrap().len(), 7);
        assert!(v.get("allocation").is_none());
    }

    #[test]
    fn log_lines_read_as_text_from_bytes_too() {
        let line = CrnLogEntry::new("h", "stdout", "hi", 5);
        assert_eq!(serde_json::to_value(&line).unwrap()["SYSLOG_IDENTIFIER"], "vm-h-stdout");
        let bytes: CrnLogEntry =
            serde_json::from_value(json!({"SYSLOG_IDENTIFIER": "x", "MESSAGE": [104, 105],
            "file": "stdout", "__REALTIME_TIMESTAMP": "1"}))
            .unwrap();
        assert_eq!(bytes.text(), "hi");
        let failed = AllocationNotification::failed("h", "no".into());
        assert_eq!(serde_json::to_value(&failed).unwrap()["errors"], json!({"h": "no"}));
    }
}
