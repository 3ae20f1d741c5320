//! Node configuration: command-line flags, an optional TOML file, and defaults for a local node.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

// The sections' own types, defined beside what they configure.
pub use crate::chains::{ChainConfigError, ChainsConfig, EvmChainConfig, TezosConfig, TokenConfig};
pub use crate::corechannel::{CoreChannelConfig, DEFAULT_CORECHANNEL_ADDRESS};
pub use crate::ipfs::{DhtMode, IpfsConfig, DEFAULT_BOOTSTRAP_PEERS as DEFAULT_IPFS_BOOTSTRAP_PEERS};
pub use crate::p2p::{
    IdentityConfig, P2pConfig, DEFAULT_ALIVE_TOPIC, DEFAULT_MESSAGE_TOPIC, LIVE_BOOTSTRAP_PEERS,
};
pub use crate::scheduler::{SchedulerConfig, SchedulerError};

/// Addresses whose `balances-update` POSTs set ALEPH balances on the live network.
pub const DEFAULT_BALANCE_SENDERS: &[&str] =
    &["0xB34f25f2c935bCA437C061547eA12851d719dEFb", "0xa1B3bb7d2332383D96b7796B908fB7f7F3c2Be10"];

/// The address allowed to distribute and expense credits on the live network.
pub const DEFAULT_CREDIT_SENDER: &str = "0x2E4454fAD1906c0Ce6e45cBFA05cE898Ac3AC1dC";

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// Where the database and the file store live.
    pub data_dir: PathBuf,
    /// Development mode: seed and print funded dev accounts, whose keys are public. Off by
    /// default; the `aleph-node` binary turns it on for loopback addresses, and on any other
    /// address only with `--dev`.
    pub dev: bool,
    /// Addresses whose `balances-update` POSTs are trusted.
    pub balance_senders: Vec<String>,
    /// Addresses whose credit distribution/expense POSTs are trusted.
    pub credit_senders: Vec<String>,
    /// Limits.
    pub limits: LimitsConfig,
    /// Processing.
    pub processing: ProcessingConfig,
    /// The `corechannel` view (`[corechannel]`): which aggregate it answers, which operations
    /// count.
    pub corechannel: crate::corechannel::CoreChannelConfig,
    /// The P2P layer (`[p2p]`); absent: a standalone node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p2p: Option<crate::p2p::P2pConfig>,
    /// What the node runs: a CCN (the default), a CRN, or both in one process.
    pub role: Role,
    /// The CRN role's settings (`[crn]`), used when `role` is `crn` or `both`.
    pub crn: CrnConfig,
    /// The chain bridges (`[chains]`): sync contracts, the token, Tezos. Empty: none.
    #[serde(skip_serializing_if = "crate::config::chains_unset")]
    pub chains: crate::chains::ChainsConfig,
    /// Assigning persistent programs to the CRNs linked to this CCN (`[scheduler]`); absent:
    /// no assignment (an external scheduler does it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<crate::scheduler::SchedulerConfig>,
    /// The embedded IPFS engine (`[ipfs]`): block store, bitswap, pins.
    pub ipfs: crate::ipfs::IpfsConfig,
}

/// The roles a node plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A core channel node: the API, the message pipeline, storage.
    #[default]
    Ccn,
    /// A compute resource node: runs programs resolved through a CCN (`crn.ccn_url`).
    Crn,
    /// Both in one process; the CRN reads messages and files from the node's own API.
    Both,
}

impl Role {
    /// Whether the CCN API is served.
    pub fn is_ccn(self) -> bool {
        matches!(self, Role::Ccn | Role::Both)
    }

    /// Whether programs are run.
    pub fn is_crn(self) -> bool {
        matches!(self, Role::Crn | Role::Both)
    }
}

/// The official Python runtimes' refs: the default of aleph-sdk-python and aleph-client
/// (Debian 12) and the legacy one older programs name (Debian 11).
pub const PYTHON_RUNTIME_REFS: &[&str] = &[
    "63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696",
    "bd79839bf96e595a06da5ac0b6ba51dea6f7e2591bb913deccded04d831d29f4",
];

/// The address the live network's scheduler signs allocations with.
pub const DEFAULT_ALLOCATION_SIGNER: &str = "0x2937f62e5F81A88e921f883f8fE56ceCf4A4A44A";

/// How the CRN runs programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrnConfig {
    /// The CCN whose API resolves messages and files; absent with `role = "both"`: this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ccn_url: Option<String>,
    /// The CRN's public URL (`https://crn.example`): its `create-resource-node` address, and the
    /// domain signed operations must name. Absent: the node's own URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The Python interpreter of the built-in runtime.
    pub python: PathBuf,
    /// Runtime refs run by the built-in Python runtime.
    pub python_runtime_refs: Vec<String>,
    /// The bubblewrap binary.
    pub bwrap: PathBuf,
    /// The squashfs extractor, for squashfs code and volumes.
    pub unsquashfs: PathBuf,
    /// Apply cgroup memory and CPU limits where the host lets us.
    pub cgroups: bool,
    /// Run programs even when the host cannot apply some of their limits (memory, swap, CPU);
    /// otherwise such starts are refused with 503 and the missing limits named.
    pub allow_unlimited: bool,
    /// Idle on-demand programs are stopped after this many seconds (the reference: 3600).
    pub reuse_timeout_secs: f64,
    /// How often running programs' messages and payment are re-checked, in seconds (60).
    pub payment_check_interval_secs: f64,
    /// How long a program may take to come up, in seconds.
    pub start_timeout_secs: f64,
    /// Memory available to programs, in MiB; starts beyond it are refused with 503.
    pub memory_mib: u64,
    /// Addresses whose `Aleph-EIP191-V1` signatures may set allocations.
    pub allocation_signers: Vec<String>,
    /// What runs programs: `sandbox` (bubblewrap on the host's kernel, the default) or `microvm`
    /// (a QEMU micro-VM each, booted from `vm_assets`).
    pub executor: Executor,
    /// The micro-VM guest assets `scripts/vm-assets` builds (kernel, initramfs, runtime root
    /// filesystem and their manifest).
    pub vm_assets: PathBuf,
    /// The micro-VMs' accelerator: `auto` (KVM when a probe guest boots under it, else TCG),
    /// `kvm` or `tcg`.
    pub vm_accel: VmAccel,
    /// The QEMU binary for micro-VMs and instances.
    pub qemu: PathBuf,
    /// The KVM device the micro-VMs' accelerator probe opens (programs and instances).
    pub kvm_device: PathBuf,
}

/// What runs a CRN's programs (`[crn] executor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Executor {
    /// A bubblewrap sandbox on the host's kernel.
    Sandbox,
    /// A QEMU micro-VM.
    Microvm,
}

/// The micro-VMs' accelerator (`[crn] vm_accel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmAccel {
    /// KVM when a probe guest boots under it, else TCG.
    Auto,
    /// KVM.
    Kvm,
    /// QEMU's TCG emulator.
    Tcg,
}

impl Default for CrnConfig {
    fn default() -> Self {
        CrnConfig {
            ccn_url: None,
            public_url: None,
            python: PathBuf::from("python3"),
            python_runtime_refs: PYTHON_RUNTIME_REFS.iter().map(|s| (*s).to_owned()).collect(),
            bwrap: PathBuf::from("bwrap"),
            unsquashfs: PathBuf::from("unsquashfs"),
            cgroups: true,
            allow_unlimited: false,
            reuse_timeout_secs: 3600.0,
            payment_check_interval_secs: 60.0,
            start_timeout_secs: 60.0,
            memory_mib: 8192,
            allocation_signers: vec![DEFAULT_ALLOCATION_SIGNER.to_owned()],
            executor: Executor::Sandbox,
            vm_assets: PathBuf::from("target/vm-assets"),
            vm_accel: VmAccel::Auto,
            qemu: PathBuf::from("qemu-system-x86_64"),
            kvm_device: PathBuf::from("/dev/kvm"),
        }
    }
}

/// Limits of the API (`[limits]`): sizes, page sizes, and what the HTTP server allows each
/// connection and all of them together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest JSON request body, in bytes (the reference: 1 MiB).
    pub max_body_bytes: usize,
    /// Largest unauthenticated upload, in bytes (25 MiB).
    pub max_unauthenticated_upload: usize,
    /// Largest authenticated (message-carrying) upload to native storage, in bytes (100 MiB).
    pub max_upload: usize,
    /// Largest IPFS upload, in bytes (1 GiB).
    pub max_ipfs_upload: usize,
    /// Most items a list page holds (10 000): larger `pagination` values are capped to it, and
    /// `pagination=0` (every match, for the reference) means this many.
    pub max_pagination: u64,
    /// Seconds a client has to send a request's headers (10); also how long a keep-alive
    /// connection may sit idle between requests, since the wait for the next request's headers
    /// is timed the same way. 0: no limit.
    pub header_read_timeout_secs: f64,
    /// Seconds a request may take from its headers to its response, body upload included (300);
    /// then 408. 0: no limit.
    pub request_timeout_secs: f64,
    /// Open connections (1024); further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Requests handled at once (512); further ones are answered 503 with `Retry-After`.
    pub max_concurrent_requests: usize,
    /// Open websocket subscriptions (1000); further ones are answered 503 with `Retry-After`.
    pub max_websocket_subscribers: usize,
}

/// How the message pipeline behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessingConfig {
    /// Retries before a message whose dependencies never arrive is rejected (the reference: 10).
    pub max_retries: u32,
    /// Longest wait between retries, in seconds (the reference: 300).
    pub max_backoff_secs: f64,
    /// How long `sync: true` submissions wait for an outcome, in seconds (the reference: 30).
    pub sync_timeout_secs: f64,
    /// Most messages processed in one database transaction.
    pub batch_size: usize,
    /// How long a file nothing references any more is kept before collection, in seconds (the
    /// reference: 24 h).
    pub file_grace_period_secs: f64,
    /// How often unreferenced files are collected, in seconds.
    pub gc_interval_secs: f64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 4024)),
            data_dir: PathBuf::from(".aleph-node-data"),
            dev: false,
            balance_senders: DEFAULT_BALANCE_SENDERS.iter().map(|s| (*s).to_owned()).collect(),
            chains: crate::chains::ChainsConfig::default(),
            credit_senders: vec![DEFAULT_CREDIT_SENDER.to_owned()],
            limits: LimitsConfig::default(),
            processing: ProcessingConfig::default(),
            corechannel: Default::default(),
            p2p: None,
            role: Role::Ccn,
            crn: CrnConfig::default(),
            scheduler: None,
            ipfs: crate::ipfs::IpfsConfig::default(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 1 << 20,
            max_unauthenticated_upload: 25 << 20,
            max_upload: 100 << 20,
            max_ipfs_upload: 1 << 30,
            max_pagination: 10_000,
            header_read_timeout_secs: 10.0,
            request_timeout_secs: 300.0,
            max_connections: 1024,
            max_concurrent_requests: 512,
            max_websocket_subscribers: 1000,
        }
    }
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        ProcessingConfig {
            max_retries: 10,
            max_backoff_secs: 300.0,
            sync_timeout_secs: 30.0,
            batch_size: 512,
            file_grace_period_secs: 86_400.0,
            gc_interval_secs: 300.0,
        }
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
}

impl NodeConfig {
    /// Reads a TOML configuration file; absent keys take their defaults, unknown keys are errors.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
    }

    /// A configuration for tests and embedding: an ephemeral port on loopback, data in `data_dir`.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            ipfs: crate::ipfs::IpfsConfig { listen: "/ip4/127.0.0.1/tcp/0".into(), ..Default::default() },
            ..Default::default()
        }
    }
}

fn chains_unset(c: &crate::chains::ChainsConfig) -> bool {
    *c == crate::chains::ChainsConfig::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_unknown_keys() {
        let cfg = NodeConfig::default();
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<NodeConfig>(&text).unwrap(), cfg);
        let partial: NodeConfig =
            toml::from_str("listen = \"0.0.0.0:9000\"\n[limits]\nmax_body_bytes = 10\n").unwrap();
        assert_eq!(partial.listen.port(), 9000);
        assert_eq!(partial.limits.max_body_bytes, 10);
        assert_eq!(partial.limits.max_upload, 100 << 20);
        assert!(toml::from_str::<NodeConfig>("bogus = 1").is_err());
        let networked: NodeConfig = toml::from_str(
            "[p2p]\nlisten = \"/ip4/127.0.0.1/tcp/4025\"\nbootstrap = []\nmessage_topic = \"PRIVATE\"\nidentity = { kind = \"rsa_pkcs8_der\", path = \"node-secret.pkcs8.der\" }\n",
        )
        .unwrap();
        let p2p = networked.p2p.clone().unwrap();
        assert_eq!(p2p.message_topic, "PRIVATE");
        assert_eq!(p2p.alive_topic, "ALIVE");
        assert!(matches!(p2p.identity, crate::p2p::IdentityConfig::RsaPkcs8Der(_)));
        assert_eq!(toml::from_str::<NodeConfig>(&toml::to_string(&networked).unwrap()).unwrap(), networked);
    }
}
