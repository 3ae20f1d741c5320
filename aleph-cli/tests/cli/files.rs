//! Files, programs and instances against a node.

use crate::common::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_upload_download_list_forget() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.txt");
    std::fs::write(&file, "hello").unwrap();
    let stored = env.run(&["file", "upload", file.to_str().unwrap(), "--json"]).json();
    assert_eq!(stored["type"], "STORE");
    assert_eq!(stored["status"], "processed", "{stored}");
    let store_hash = stored["item_hash"].as_str().unwrap().to_owned();
    let file_hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert_eq!(stored["file_hash"], file_hash, "{stored}");
    assert_eq!(stored["size"], 5, "{stored}");
    let human = env.run(&["file", "upload", file.to_str().unwrap(), "--ref", "again"]).ok();
    let lines: Vec<&str> = human.lines().collect();
    assert!(lines[0].starts_with("STORE ") && lines[0].ends_with(" processed"), "{human}");
    assert_eq!(lines[1], format!("file {file_hash} (5 bytes)"), "{human}");

    let dest = dir.path().join("back.txt");
    let got = env.run(&["file", "download", file_hash, "-o", dest.to_str().unwrap(), "--json"]).json();
    assert_eq!(got["size"], 5);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello");
    let piped = env.run(&["file", "download", file_hash, "-o", "-"]).ok();
    assert_eq!(piped, "hello");
    // The STORE message's item hash designates its file too.
    let by_message = dir.path().join("by-message.txt");
    let got =
        env.run(&["file", "download", &store_hash, "-o", by_message.to_str().unwrap(), "--json"]).json();
    assert_eq!(got["hash"], file_hash, "{got}");
    assert_eq!(std::fs::read_to_string(&by_message).unwrap(), "hello");
    let post = env.run(&["post", "create", "--type", "note", "--content", "{}", "--json"]).json();
    let not_store = env.run(&["file", "download", post["item_hash"].as_str().unwrap(), "-o", "-"]);
    assert_eq!(not_store.code, 2, "{not_store:?}");
    assert!(not_store.stderr.contains("is a POST message"), "{not_store:?}");

    let list = env.run(&["file", "list", "--json"]).json();
    assert!(list["files"].as_array().unwrap().iter().any(|f| f["file_hash"] == file_hash), "{list}");
    assert!(env.run(&["file", "list"]).ok().contains(file_hash));

    env.run(&["file", "forget", &store_hash]).ok();
    let got = env.run(&["message", "get", &store_hash, "--json"]).json();
    assert_eq!(got["status"], "forgotten");
    assert_eq!(env.run(&["file", "upload", "/nonexistent"]).code, 2);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn programs_and_instances() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The local node has no official runtime or root filesystem: stand-ins stored here.
    let image = dir.path().join("image.bin");
    std::fs::write(&image, "not really an image").unwrap();
    let image = env.run(&["file", "upload", image.to_str().unwrap(), "--json"]).json();
    let image = image["item_hash"].as_str().unwrap().to_owned();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(code.join("main.py"), "app = None\n").unwrap();
    let out = env
        .run(&[
            "program",
            "create",
            code.to_str().unwrap(),
            "--entrypoint",
            "main:app",
            "--env",
            "A=1",
            "--runtime",
            &image,
            "--json",
        ])
        .ok();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[1]["type"], "PROGRAM");
    assert_eq!(lines[1]["status"], "processed", "{out}");
    let program = lines[1]["item_hash"].as_str().unwrap().to_owned();
    let listed = env.run(&["program", "list", "--json"]).json();
    assert!(
        listed["messages"].as_array().unwrap().iter().any(|m| m["item_hash"] == program.as_str()),
        "{listed}\n{out}"
    );
    let shown = env.run(&["program", "show", &program, "--json"]).json();
    assert_eq!(shown["type"], "PROGRAM");

    let instance = env.run(&[
        "instance",
        "create",
        "--ssh-key",
        "ssh-ed25519 AAAAC3Nza test",
        "--payment",
        "credit",
        "--rootfs",
        &image,
        "--json",
    ]);
    let instance = instance.json();
    assert_eq!(instance["type"], "INSTANCE");
    assert_eq!(instance["status"], "processed", "{instance}");
    let listed = env.run(&["instance", "list", "--json"]).json();
    assert_eq!(listed["messages"][0]["item_hash"], instance["item_hash"], "{listed}");
    env.stop().await;
}
