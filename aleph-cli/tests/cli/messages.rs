//! Posts, aggregates and messages against a node.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use serde_json::Value;

use crate::common::{redacted, redacted_naming, Env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_create_amend_list() {
    let env = Env::start().await;
    let created = env
        .run(&[
            "--channel",
            "CLI-IT",
            "post",
            "create",
            "--type",
            "chat",
            "--content",
            r#"{"body":"hello"}"#,
            "--json",
        ])
        .json();
    assert_eq!(created["status"], "processed", "{created}");
    let hash = created["item_hash"].as_str().unwrap().to_owned();
    redacted().bind(|| {
        insta::assert_snapshot!("post_create_json", serde_json::to_string_pretty(&created).unwrap())
    });

    let human = env.run(&["post", "create", "--type", "chat", "--content", r#"{"body":"second"}"#]).ok();
    redacted().bind(|| insta::assert_snapshot!("post_create_human", human));

    env.run(&["post", "amend", &hash, "--content", r#"{"body":"hello, amended"}"#]).ok();
    let list = env.run(&["post", "list", "--type", "chat", "--hash", &hash, "--json"]).json();
    assert_eq!(list["posts"][0]["content"]["body"], "hello, amended", "{list}");
    let table = env.run(&["post", "list", "--address", &env.address]).ok();
    let names = [(hash.as_str(), "[FIRST_POST]"), (env.address.as_str(), "[SENDER]")];
    redacted_naming(&names).bind(|| insta::assert_snapshot!("post_list_human", table));

    // message get / list with filters.
    let got = env.run(&["message", "get", &hash, "--json"]).json();
    assert_eq!(got["status"], "processed");
    assert_eq!(got["message"]["channel"], "CLI-IT");
    let human = env.run(&["message", "get", &hash]).ok();
    assert!(human.contains("status:    processed"));
    let listed = env
        .run(&[
            "message",
            "list",
            "--type",
            "POST",
            "--channels",
            "CLI-IT",
            "--address",
            &env.address,
            "--json",
        ])
        .json();
    assert_eq!(listed["total"], 1, "{listed}");
    let listed =
        env.run(&["message", "list", "--type", "POST", "--sort-order", "asc", "--per-page", "1"]).ok();
    // The oldest POST is the first one created.
    redacted_naming(&names).bind(|| insta::assert_snapshot!("message_list_human", listed));

    // forget.
    env.run(&["message", "forget", &hash, "--reason", "test"]).ok();
    let got = env.run(&["message", "get", &hash, "--json"]).json();
    assert_eq!(got["status"], "forgotten", "{got}");
    assert_eq!(got["details"]["forgotten_by"].as_array().map(Vec::len), Some(1), "{got}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_post_get_list_forget() {
    let env = Env::start().await;
    env.run(&["aggregate", "post", "profile", r#"{"name":"Alice"}"#]).ok();
    env.run(&["aggregate", "post", "profile", r#"{"age":30}"#]).ok();
    let got = env.run(&["aggregate", "get", "profile", "--json"]).json();
    assert_eq!(got, serde_json::json!({"name": "Alice", "age": 30}));
    let list = env.run(&["aggregate", "list", "--address", &env.address, "--json"]).json();
    assert!(list["aggregates"]["profile"].is_object(), "{list}");
    let human = env.run(&["aggregate", "list"]).ok();
    assert!(human.contains("profile"));
    assert_eq!(env.run(&["aggregate", "post", "k", "[1]"]).code, 2);
    env.run(&["aggregate", "forget", "profile"]).ok();
    let after = env.run(&["aggregate", "get", "profile"]);
    assert_eq!(after.code, 1, "{after:?}");
    assert_eq!(env.run(&["aggregate", "forget", "never"]).code, 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_now_submit_later() {
    let env = Env::start().await;
    let signed = env
        .run(&[
            "--channel",
            "LATER",
            "message",
            "sign",
            "--type",
            "POST",
            "--content",
            r#"{"type":"note","content":"x"}"#,
        ])
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msg.json");
    std::fs::write(&file, &signed).unwrap();
    let checked = env.run(&["--dry-run", "message", "submit", file.to_str().unwrap(), "--json"]).json();
    assert_eq!(checked["valid"], true);
    let sent = env.run_stdin(&["message", "submit", "--json"], &signed).json();
    assert_eq!(sent["status"], "processed");
    // A tampered message is refused before it is sent.
    let mut bad: Value = serde_json::from_str(&signed).unwrap();
    bad["sender"] = Value::String("0x0000000000000000000000000000000000000001".into());
    let refused = env.run_stdin(&["message", "submit"], &bad.to_string());
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_eq!(env.run_stdin(&["message", "submit"], "nope").code, 2);
    // What the node returns verifies offline.
    let page = env.run(&["message", "list", "--channels", "LATER", "--json"]).ok();
    assert_eq!(env.run_stdin(&["message", "verify"], &page).code, 0);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_channel() {
    let env = Env::start().await;
    let mut cmd = env.cmd(&["message", "watch", "--channels", "WATCHED", "--count", "1", "--json"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        lines.next().and_then(Result::ok)
    });
    // Publish until the watcher has seen one (its subscription may start after the first).
    let mut sent = Vec::new();
    for i in 0..20 {
        let out = env
            .run(&[
                "--channel",
                "WATCHED",
                "post",
                "create",
                "--content",
                &format!("{{\"n\":{i}}}"),
                "--json",
            ])
            .json();
        sent.push(out["item_hash"].as_str().unwrap().to_owned());
        if reader.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let line = reader.join().unwrap().expect("a watched message");
    let m: Value = serde_json::from_str(&line).unwrap();
    assert!(sent.iter().any(|h| m["item_hash"] == h.as_str()), "{line}");
    let status = child.wait().unwrap();
    assert!(status.success());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_the_node_restarts() {
    let mut env = Env::start().await;
    let mut cmd = env.cmd(&["message", "watch", "--channels", "RESUME", "--count", "2", "--json"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_line =
        |rx: &std::sync::mpsc::Receiver<String>| rx.recv_timeout(std::time::Duration::from_millis(400)).ok();
    // First message: publish until the subscription has seen one.
    let mut first = None;
    for i in 0..20 {
        env.run(&["--channel", "RESUME", "post", "create", "--content", &format!("{{\"before\":{i}}}")]).ok();
        if let Some(l) = wait_line(&rx) {
            first = Some(l);
            break;
        }
    }
    assert!(first.is_some(), "the watcher saw nothing");
    env.restart().await;
    let mut second = None;
    for i in 0..30 {
        env.run(&["--channel", "RESUME", "post", "create", "--content", &format!("{{\"after\":{i}}}")]).ok();
        if let Some(l) = wait_line(&rx) {
            second = Some(l);
            break;
        }
    }
    let second: Value = serde_json::from_str(&second.expect("the watcher resumed")).unwrap();
    assert_eq!(second["channel"], "RESUME");
    assert!(child.wait().unwrap().success());
    env.stop().await;
}
