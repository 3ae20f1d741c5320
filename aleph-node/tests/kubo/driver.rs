//! A kubo (v0.22) node in a child process for the IPFS tests and benchmark: `kubo_node.py` (beside
//! this file) run by the interpreter of the venv `scripts/test` sets up (`$ALEPH_KUBO_PYTHON`, or
//! `python3`), answering one JSON line per command.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

/// A kubo node in a child process, answering one JSON line per command.
pub(crate) struct Kubo {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Kubo {
    pub(crate) fn start() -> Kubo {
        Kubo::start_with(json!({}))
    }

    /// A kubo with `options` (`kubo_node.py`'s: `routing`, `bootstrap`).
    pub(crate) fn start_with(options: Value) -> Kubo {
        let python = std::env::var("ALEPH_KUBO_PYTHON")
            .ok()
            .or(option_env!("ALEPH_KUBO_PYTHON_BIN").map(str::to_owned))
            .unwrap_or_else(|| "python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kubo/kubo_node.py");
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg(script)
            .arg(dir.path().join("repo"))
            .arg(options.to_string())
            // kubo writes its log (`kubo.log`) in the working directory.
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting kubo (run scripts/test to set up its venv)");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        stdout.read_line(&mut ready).unwrap();
        assert!(ready.contains("\"ready\": true"), "kubo did not start: {ready:?}");
        Kubo { child, stdin, stdout, _dir: dir }
    }

    pub(crate) fn call(&mut self, request: Value) -> Value {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("kubo answered {line:?}"));
        assert_eq!(reply["ok"], true, "kubo failed {request}: {reply}");
        reply
    }

    pub(crate) fn add(&mut self, path: &std::path::Path) -> String {
        self.call(json!({"cmd": "add", "path": path})).get("cid").and_then(Value::as_str).unwrap().to_owned()
    }

    /// kubo's peer id.
    pub(crate) fn peer_id(&mut self) -> String {
        self.call(json!({"cmd": "id"}))["id"].as_str().unwrap().to_owned()
    }

    /// kubo's swarm address, with its peer id.
    pub(crate) fn addr(&mut self) -> String {
        let id = self.call(json!({"cmd": "id"}));
        let addr =
            id["addrs"].as_array().and_then(|a| a.first()).and_then(Value::as_str).expect("a kubo address");
        format!("{addr}/p2p/{}", id["id"].as_str().unwrap())
    }
}

impl Drop for Kubo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
