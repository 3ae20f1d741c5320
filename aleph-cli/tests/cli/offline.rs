//! Commands that need no node: sign, verify, dry runs, accounts, config, completions, help.

use serde_json::Value;

use crate::common::{redacted, redacted_naming, Env, FIXED_KEY};

fn sign_post(env: &Env, time: &str) -> String {
    env.run(&[
        "message",
        "sign",
        "--type",
        "POST",
        "--content",
        r#"{"type":"chat","content":{"body":"hi"}}"#,
        "--time",
        time,
        "--json",
    ])
    .ok()
}

#[test]
fn sign_then_verify_every_input_shape() {
    let env = Env::offline();
    let one = sign_post(&env, "1700000000");
    let two = sign_post(&env, "1700000001");
    let m1: Value = serde_json::from_str(&one).unwrap();
    let m2: Value = serde_json::from_str(&two).unwrap();
    let ndjson = format!("{one}{two}");
    let array = serde_json::to_string(&vec![&m1, &m2]).unwrap();
    let page = serde_json::json!({"messages": [&m1, &m2], "pagination_page": 1}).to_string();
    for input in [one.as_str(), &ndjson, &array, &page] {
        let run = env.run_stdin(&["message", "verify", "--json"], input);
        assert_eq!(run.code, 0, "{run:?}");
        for line in run.stdout.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["valid"], true);
            assert_eq!(v["error"], Value::Null);
        }
    }
    // A file argument works as stdin does.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    std::fs::write(&path, &array).unwrap();
    let human = env.run(&["message", "verify", path.to_str().unwrap()]);
    assert_eq!(human.code, 0);
    redacted().bind(|| {
        insta::assert_snapshot!("verify_human", format!("{}--- stderr\n{}", human.stdout, human.stderr));
    });
}

#[test]
fn verify_reports_invalid_messages_and_bad_input() {
    let env = Env::offline();
    let good: Value = serde_json::from_str(&sign_post(&env, "1700000000")).unwrap();
    let mut forged = good.clone();
    forged["sender"] = Value::String("0x0000000000000000000000000000000000000001".into());
    let mut tampered = good.clone();
    tampered["item_content"] = Value::String(good["item_content"].as_str().unwrap().replace("hi", "ho"));
    let input = serde_json::to_string(&vec![&good, &forged, &tampered]).unwrap();
    let run = env.run_stdin(&["message", "verify", "--json"], &input);
    assert_eq!(run.code, 1, "{run:?}");
    let verdicts: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.len(), 3);
    assert_eq!(verdicts[0]["valid"], true);
    assert_eq!(verdicts[1]["valid"], false);
    assert_eq!(verdicts[2]["valid"], false);
    // The forged envelope's signature recovers some other address (the sender is signed).
    let names = [
        (good["item_hash"].as_str().unwrap(), "[SIGNED_POST]"),
        ("0x0000000000000000000000000000000000000001", "[FORGED_SENDER]"),
    ];
    redacted_naming(&names).bind(|| insta::assert_snapshot!("verify_invalid_json", run.stdout));

    let bad = env.run_stdin(&["message", "verify"], "this is not json");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.starts_with("error: "), "{}", bad.stderr);
    let missing = env.run(&["message", "verify", "/nonexistent/file.json"]);
    assert_eq!(missing.code, 2);
    redacted()
        .bind(|| insta::assert_snapshot!("verify_bad_input", format!("{}{}", bad.stderr, missing.stderr)));
}

#[test]
fn dry_runs_print_signed_messages_and_send_nothing() {
    // The node URL is unreachable: a dry run must not touch it.
    let env = Env::offline();
    let post =
        env.run(&["--dry-run", "post", "create", "--type", "chat", "--content", r#"{"body":"x"}"#, "--json"]);
    let m: Value = serde_json::from_str(&post.ok()).unwrap();
    assert_eq!(m["type"], "POST");
    let agg =
        env.run(&["--dry-run", "--channel", "TEST", "aggregate", "post", "profile", r#"{"name":"me"}"#]);
    let text = agg.ok();
    let m: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["type"], "AGGREGATE");
    assert_eq!(m["channel"], "TEST");
    redacted().bind(|| insta::assert_snapshot!("dry_run_aggregate_human", text));
    let forget = env.run(&["--dry-run", "message", "forget", &"ab".repeat(32), "--json"]).json();
    assert_eq!(forget["type"], "FORGET");
    let instance =
        env.run(&["--dry-run", "instance", "create", "--ssh-key", "ssh-ed25519 AAAA test", "--json"]).json();
    assert_eq!(instance["type"], "INSTANCE");
    // Every dry-run output verifies offline.
    let all = [post_line(&env), instance.to_string()].join("\n");
    assert_eq!(env.run_stdin(&["message", "verify"], &all).code, 0);
}

fn post_line(env: &Env) -> String {
    sign_post(env, "1700000002")
}

#[test]
fn dry_run_of_file_upload_and_program() {
    let env = Env::offline();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.txt");
    std::fs::write(&file, "hello").unwrap();
    let store = env.run(&["--dry-run", "file", "upload", file.to_str().unwrap(), "--json"]).json();
    assert_eq!(store["type"], "STORE");
    assert!(store["item_content"]
        .as_str()
        .unwrap()
        .contains("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    std::fs::write(dir.path().join("main.py"), "app = None\n").unwrap();
    let run = env.run(&[
        "--dry-run",
        "program",
        "create",
        dir.path().to_str().unwrap(),
        "--entrypoint",
        "main:app",
        "--json",
    ]);
    let out = run.ok();
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "STORE");
    assert_eq!(lines[1]["type"], "PROGRAM");
    assert!(lines[1]["item_content"].as_str().unwrap().contains(lines[0]["item_hash"].as_str().unwrap()));
}

#[test]
fn accounts_are_encrypted_and_usable() {
    let env = Env::offline();
    let run = |args: &[&str], pass: Option<&str>| {
        let mut c = env.cmd(args);
        c.env_remove("ALEPH_PRIVATE_KEY");
        if let Some(p) = pass {
            c.env("ALEPH_PASSPHRASE", p);
        }
        env.run_with(c, None)
    };
    // No passphrase and no terminal: a clear usage error.
    let r = run(&["account", "create", "--name", "main"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("ALEPH_PASSPHRASE"), "{}", r.stderr);

    let created = run(&["account", "import", "main", "--hex", FIXED_KEY, "--json"], Some("pw")).json();
    assert_eq!(created["encrypted"], true);
    let keyfile = env.cfg.path().join("accounts/main.json");
    let stored = std::fs::read_to_string(&keyfile).unwrap();
    assert!(!stored.contains(FIXED_KEY), "the key is stored encrypted");
    assert!(stored.contains("scrypt"));

    run(&["account", "import", "sol", "--chain", "SOL", "--hex", &"11".repeat(32), "--plaintext"], None).ok();
    run(&["account", "import", "tz", "--chain", "TEZOS", "--hex", &"22".repeat(32)], Some("tz")).ok();
    // Key files are private (written under a temporary name created with mode 0600, then
    // renamed), and nothing temporary is left in the accounts directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let accounts = env.cfg.path().join("accounts");
        assert_eq!(mode(&accounts), 0o700);
        for file in ["main.json", "sol.key", "tz.json"] {
            assert_eq!(mode(&accounts.join(file)), 0o600, "{file}");
        }
        let mut names: Vec<String> = std::fs::read_dir(&accounts)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["main.json", "sol.key", "tz.json"]);
    }
    run(
        &[
            "account",
            "import",
            "mn",
            "--mnemonic",
            "test test test test test test test test test test test junk",
        ],
        Some("pw"),
    )
    .ok();
    let shown = run(&["account", "show", "mn", "--json"], None).json();
    assert_eq!(shown["address"], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

    let list = run(&["account", "list"], None).ok();
    redacted().bind(|| insta::assert_snapshot!("account_list", list));
    let list = run(&["account", "list", "--json"], None).json();
    assert_eq!(list["accounts"].as_array().unwrap().len(), 4);

    // The default (first) account signs once unlocked; a wrong passphrase is a clear error.
    let signed = run(
        &["message", "sign", "--type", "POST", "--content", r#"{"type":"t","content":1}"#, "--json"],
        Some("pw"),
    )
    .json();
    assert_eq!(signed["sender"], created["address"]);
    let wrong = run(&["message", "sign", "--type", "POST", "--content", "{}"], Some("nope"));
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("wrong passphrase"), "{}", wrong.stderr);

    // Other chains' accounts sign for their chain.
    let sol = run(
        &[
            "--account",
            "sol",
            "message",
            "sign",
            "--type",
            "POST",
            "--content",
            r#"{"type":"t","content":1}"#,
            "--json",
        ],
        None,
    )
    .json();
    assert_eq!(sol["chain"], "SOL");
    let tz = run(
        &[
            "--account",
            "tz",
            "message",
            "sign",
            "--type",
            "POST",
            "--content",
            r#"{"type":"t","content":1}"#,
            "--json",
        ],
        Some("tz"),
    )
    .json();
    assert_eq!(tz["chain"], "TEZOS");
    let both = format!("{sol}\n{tz}\n{signed}");
    assert_eq!(env.run_stdin(&["message", "verify"], &both).code, 0);

    // Export gives back the imported key; use, remove.
    let exported = run(&["account", "export", "main", "--json"], Some("pw")).json();
    assert_eq!(exported["private_key_hex"], FIXED_KEY);
    run(&["account", "use", "sol"], None).ok();
    assert_eq!(run(&["account", "show", "--json"], None).json()["chain"], "SOL");
    assert_eq!(run(&["account", "remove", "main"], None).code, 2);
    run(&["account", "remove", "main", "--yes"], None).ok();
    assert!(!keyfile.exists());
    assert_eq!(run(&["--account", "main", "account", "export"], None).code, 2);
}

#[test]
fn config_profiles() {
    let env = Env::offline();
    env.run(&["config", "ccn", "add", "mine", "http://127.0.0.1:4024"]).ok();
    env.run(&["config", "ccn", "use", "mine"]).ok();
    let list = env.run(&["config", "ccn", "list"]).ok();
    redacted().bind(|| insta::assert_snapshot!("ccn_list", list));
    let json = env.run(&["config", "ccn", "list", "--json"]).json();
    assert!(json["profiles"].as_array().unwrap().iter().any(|p| p["name"] == "mine" && p["default"] == true));
    assert_eq!(env.run(&["config", "ccn", "add", "bad", "ftp://x"]).code, 2);
    assert_eq!(env.run(&["config", "ccn", "use", "nope"]).code, 2);
    let mut c = env.cmd(&["config", "show", "--json"]);
    c.env_remove("ALEPH_CCN");
    let shown = env.run_with(c, None).json();
    assert_eq!(shown["ccn"], "http://127.0.0.1:4024");
    // ALEPH_NODE_URL (the examples' older name) is read when ALEPH_CCN is unset, and only then.
    let mut c = env.cmd(&["config", "show", "--json"]);
    c.env_remove("ALEPH_CCN").env("ALEPH_NODE_URL", "http://127.0.0.1:4999");
    assert_eq!(env.run_with(c, None).json()["ccn"], "http://127.0.0.1:4999");
    let mut c = env.cmd(&["config", "show", "--json"]);
    c.env("ALEPH_CCN", "http://127.0.0.1:4998").env("ALEPH_NODE_URL", "http://127.0.0.1:4999");
    assert_eq!(env.run_with(c, None).json()["ccn"], "http://127.0.0.1:4998");
    env.run(&["config", "ccn", "remove", "mine"]).ok();
}

#[test]
fn completions_help_and_usage_errors() {
    let env = Env::offline();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = env.run(&["completions", shell]).ok();
        assert!(out.contains("aleph"), "{shell}");
    }
    let help_of = |args: &[&str]| {
        let mut c = env.cmd(args);
        c.env_remove("ALEPH_CCN").env("COLUMNS", "100");
        env.run_with(c, None).ok()
    };
    let help = help_of(&["--help"]);
    assert!(help.contains("Exit codes:"));
    insta::assert_snapshot!("root_help", help);
    let help = help_of(&["message", "verify", "--help"]);
    insta::assert_snapshot!("message_verify_help", help);
    let usage = env.run(&["message", "list", "--type", "NOPE"]);
    assert_eq!(usage.code, 2);
    assert!(!usage.stderr.contains("panicked"));
    let bad_hash = env.run(&["message", "get", "zz"]);
    assert_eq!(bad_hash.code, 2);
    insta::assert_snapshot!("bad_hash_error", bad_hash.stderr);
    // An unreachable node is a one-line failure with exit code 1.
    let down = env.run(&["message", "list"]);
    assert_eq!(down.code, 1, "{down:?}");
    assert!(down.stderr.starts_with("error: "));
    assert!(!down.stderr.contains("panicked") && !down.stderr.contains("backtrace"));
    insta::assert_snapshot!("unreachable_node_error", down.stderr);
}
