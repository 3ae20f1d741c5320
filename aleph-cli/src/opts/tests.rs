use clap::{CommandFactory, Parser};

use super::*;

#[test]
fn the_command_tree_is_consistent() {
    Cli::command().debug_assert();
}

fn parse(args: &[&str]) -> Cli {
    match Cli::try_parse_from(std::iter::once("aleph").chain(args.iter().copied())) {
        Ok(cli) => cli,
        Err(e) => panic!("{args:?}: {e}"),
    }
}

#[test]
fn global_flags_go_anywhere() {
    let cli = parse(&[
        "post",
        "create",
        "--type",
        "chat",
        "--content",
        "{}",
        "--json",
        "--dry-run",
        "--chain",
        "sol",
    ]);
    assert!(cli.global.json);
    assert!(cli.global.dry_run);
    assert_eq!(cli.global.signer.chain, Some(Chain::Sol));
    let cli = parse(&["--ccn", "local", "--channel", "TEST", "message", "list"]);
    assert_eq!(cli.global.ccn.as_deref(), Some("local"));
    assert_eq!(cli.global.channel.as_deref(), Some("TEST"));
    let cli = parse(&["-vv", "account", "list", "--account", "main"]);
    assert_eq!(cli.global.verbose, 2);
    assert_eq!(cli.global.signer.account.as_deref(), Some("main"));
}

#[test]
fn every_area_parses() {
    for args in [
        &["account", "create", "--name", "a", "--plaintext"][..],
        &["account", "import", "b", "--hex", "00"],
        &["account", "import", "c", "--mnemonic", "w w w", "--index", "2"],
        &["account", "list"],
        &["account", "show", "a"],
        &["account", "use", "a"],
        &["account", "remove", "a", "--yes"],
        &["account", "export", "a"],
        &["account", "balance", "--address", "0x1"],
        &["post", "amend", "abcd", "--content", "{}"],
        &["post", "list", "--type", "chat", "--address", "0x1"],
        &["aggregate", "post", "profile", "{}"],
        &["aggregate", "get", "profile", "--address", "0x1"],
        &["aggregate", "list"],
        &["aggregate", "forget", "profile"],
        &["file", "upload", "x.bin", "--ipfs"],
        &["file", "download", "abcd", "-o", "out"],
        &["file", "list"],
        &["file", "forget", "abcd"],
        &["program", "create", "dir", "--entrypoint", "main:app", "--env", "A=1"],
        &["program", "list"],
        &["program", "show", "abcd"],
        &["instance", "create", "--ssh-key", "ssh-ed25519 AAAA"],
        &["instance", "list"],
        &["authorization", "add", "0x2", "--types", "POST"],
        &["authorization", "list"],
        &["authorization", "revoke", "0x2"],
        &["node", "list", "--kind", "crn"],
        &["config", "ccn", "list"],
        &["config", "ccn", "add", "mine", "http://127.0.0.1:4024"],
        &["config", "ccn", "use", "mine"],
        &["completions", "bash"],
        &["message", "get", "abcd"],
        &[
            "message",
            "list",
            "--type",
            "POST",
            "--type",
            "STORE",
            "--status",
            "processed",
            "--sort-order",
            "asc",
            "--chains",
            "ETH,SOL",
        ],
        &["message", "watch", "--channels", "TEST", "--count", "1"],
        &["message", "forget", "abcd", "--reason", "r"],
        &["message", "sign", "--type", "POST", "--content", "{}"],
        &["message", "submit", "-"],
        &["message", "verify"],
    ] {
        parse(args);
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let err = Cli::try_parse_from(["aleph", "message", "list", "--type", "NOPE"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = Cli::try_parse_from(["aleph", "--chain", "NOPE", "account", "list"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = Cli::try_parse_from(["aleph", "program", "create", "dir", "--env", "novalue"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
