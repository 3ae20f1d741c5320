//! Node configuration: command-line flags, an optional TOML file, and defaults for a local node.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    /// Development mode: seed and print funded dev accounts.
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
}

/// Size limits of the API.
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
            dev: true,
            balance_senders: DEFAULT_BALANCE_SENDERS.iter().map(|s| (*s).to_owned()).collect(),
            credit_senders: vec![DEFAULT_CREDIT_SENDER.to_owned()],
            limits: LimitsConfig::default(),
            processing: ProcessingConfig::default(),
            corechannel: Default::default(),
            p2p: None,
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
            ..Default::default()
        }
    }
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
