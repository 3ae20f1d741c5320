//! An in-process node for each test, and signers for its funded dev accounts.

use std::time::Duration;

use aleph_node::{Node, NodeConfig, NodeHandle};
use aleph_sdk::core::Chain;
use aleph_sdk::{AlephClient, AnySigner};

/// The channel test messages use.
pub(crate) const CHANNEL: &str = "SDK-IT";

/// How long tests wait for processing.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A running node, a client of it, and its data directory (removed when dropped).
pub(crate) struct TestNode {
    pub(crate) handle: NodeHandle,
    pub(crate) client: AlephClient,
    _dir: tempfile::TempDir,
}

impl TestNode {
    pub(crate) async fn start() -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = NodeConfig { dev: true, ..NodeConfig::ephemeral(dir.path()) };
        let handle = Node::builder(config).launch().await.expect("node starts");
        let client =
            AlephClient::builder(handle.url()).timeout(Duration::from_secs(30)).build().expect("client");
        TestNode { handle, client, _dir: dir }
    }

    /// Dev account `i` of `chain` (`ETH`, `SOL`).
    pub(crate) fn signer(&self, chain: Chain, i: usize) -> AnySigner {
        let accounts = self.handle.dev_accounts().expect("dev mode");
        let account = accounts
            .accounts
            .iter()
            .filter(|a| a.chain == chain.as_str())
            .nth(i)
            .expect("enough dev accounts");
        match chain {
            Chain::Sol => {
                let bytes = bs58::decode(&account.private_key).into_vec().expect("base58 key");
                AnySigner::from_bytes(chain, &bytes).expect("dev key")
            }
            _ => AnySigner::from_hex(chain, &account.private_key).expect("dev key"),
        }
    }

    pub(crate) fn eth(&self, i: usize) -> AnySigner {
        self.signer(Chain::Eth, i)
    }

    pub(crate) async fn stop(self) {
        self.handle.shutdown().await;
    }
}

impl TestNode {
    /// Shuts the node down and launches it again on the same data directory and the same
    /// address (the client keeps working: a dropped connection, not a new node).
    pub(crate) async fn restart(self) -> TestNode {
        let TestNode { handle, client, _dir } = self;
        let addr = handle.local_addr();
        handle.shutdown().await;
        let mut config = NodeConfig::ephemeral(_dir.path());
        config.listen = addr;
        config.dev = true;
        let handle = Node::builder(config).launch().await.expect("node restarts");
        TestNode { handle, client, _dir }
    }
}
