//! An in-process node, a private configuration directory, and a runner of the real binary.

use std::io::Write as _;
use std::process::{Command, Stdio};

use aleph_node::{Node, NodeConfig, NodeHandle};

/// A fixed test key (never holds funds).
pub(crate) const FIXED_KEY: &str = "acacacacacacacacacacacacacacacacacacacacacacacacacacacacacacacac";

/// What one run of the binary gave.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub(crate) fn ok(self) -> String {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self.stdout
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub(crate) fn json(self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }
}

/// A configuration directory and, optionally, a node with its dev accounts.
pub(crate) struct Env {
    pub(crate) node: Option<NodeHandle>,
    pub(crate) url: String,
    pub(crate) key: String,
    pub(crate) address: String,
    pub(crate) cfg: tempfile::TempDir,
    _data: Option<tempfile::TempDir>,
}

impl Env {
    /// No node: for offline commands.
    pub(crate) fn offline() -> Env {
        Env {
            node: None,
            url: "http://127.0.0.1:9".into(),
            key: FIXED_KEY.into(),
            address: String::new(),
            cfg: tempfile::tempdir().expect("temp dir"),
            _data: None,
        }
    }

    /// A node; the binary signs with its first ETH dev account.
    pub(crate) async fn start() -> Env {
        Env::start_with("ETH", 0).await
    }

    /// A node; the binary signs with dev account `i` of `chain`.
    pub(crate) async fn start_with(chain: &str, i: usize) -> Env {
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = NodeConfig::ephemeral(data.path());
        config.dev = true;
        config.processing.max_backoff_secs = 0.2;
        config.processing.sync_timeout_secs = 10.0;
        let node = Node::builder(config).launch().await.expect("node starts");
        let account = node
            .dev_accounts()
            .expect("dev accounts")
            .accounts
            .iter()
            .filter(|a| a.chain == chain)
            .nth(i)
            .expect("enough dev accounts")
            .clone();
        Env {
            url: node.url(),
            key: account.private_key_hex.clone(),
            address: account.address.clone(),
            node: Some(node),
            cfg: tempfile::tempdir().expect("temp dir"),
            _data: Some(data),
        }
    }

    /// The command, with this environment's configuration, node and key.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aleph"));
        c.args(args)
            .env("ALEPH_CONFIG_HOME", self.cfg.path())
            .env("ALEPH_CCN", &self.url)
            .env_remove("ALEPH_NODE_URL")
            .env("ALEPH_PRIVATE_KEY", &self.key)
            .env_remove("ALEPH_ACCOUNT")
            .env_remove("ALEPH_PASSPHRASE")
            .env_remove("ALEPH_LOG")
            .env("NO_COLOR", "1");
        c
    }

    /// Runs the binary.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.cmd(args), None)
    }

    /// Runs the binary with `stdin` as input.
    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(self.cmd(args), Some(stdin))
    }

    pub(crate) fn run_with(&self, mut c: Command, stdin: Option<&str>) -> Run {
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("the binary runs");
        if let Some(mut pipe) = child.stdin.take() {
            if let Some(text) = stdin {
                pipe.write_all(text.as_bytes()).expect("stdin");
            }
        }
        let out = child.wait_with_output().expect("the binary ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Stops the node and starts it again on the same port and data (a dropped connection).
    pub(crate) async fn restart(&mut self) {
        let node = self.node.take().expect("a node");
        let addr = node.local_addr();
        node.shutdown().await;
        let data = self._data.as_ref().expect("a data dir");
        let mut config = NodeConfig::ephemeral(data.path());
        config.listen = addr;
        config.dev = true;
        config.processing.max_backoff_secs = 0.2;
        config.processing.sync_timeout_secs = 10.0;
        self.node = Some(Node::builder(config).launch().await.expect("node restarts"));
    }

    pub(crate) async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.shutdown().await;
        }
    }
}

/// Snapshot settings: hashes, addresses, signatures, times and ports redacted.
pub(crate) fn redacted() -> insta::Settings {
    redacted_naming(&[])
}

/// [`redacted`], with the given values (hashes, addresses) replaced by their names first, so a
/// snapshot says which one stands where.
pub(crate) fn redacted_naming(known: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (value, name) in known {
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric()), "not a plain token: {value}");
        s.add_filter(value, *name);
    }
    s.add_filter(r"0x[0-9a-fA-F]{130}", "[SIGNATURE]");
    s.add_filter(r"0x[0-9a-fA-F]{64}", "[SECRET]");
    s.add_filter(r"0x[0-9a-fA-F]{40}", "[ADDRESS]");
    s.add_filter(r"\b[0-9a-f]{64}\b", "[HASH]");
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    s.add_filter(r#"(\\?"time\\?":\s*)[0-9.e+]+"#, "${1}[T]");
    s.add_filter(r"127\.0\.0\.1:\d+", "[NODE]");
    s
}
