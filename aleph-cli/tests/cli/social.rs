//! Authorizations and the node list against a node.

use serde_json::json;

use crate::common::{redacted, Env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorizations_add_list_revoke() {
    let env = Env::start().await;
    let delegate = "0x0000000000000000000000000000000000000002";
    env.run(&["authorization", "add", delegate, "--types", "POST", "--channels", "A,B"]).ok();
    let list = env.run(&["authorization", "list", "--json"]).json();
    assert_eq!(list["authorizations"][0]["address"], delegate, "{list}");
    assert_eq!(list["authorizations"][0]["channels"], json!(["A", "B"]));
    let human = env.run(&["authorization", "list"]).ok();
    redacted().bind(|| insta::assert_snapshot!("authorization_list_human", human));
    env.run(&["authorization", "revoke", delegate]).ok();
    let list = env.run(&["authorization", "list", "--json"]).json();
    assert_eq!(list["authorizations"], json!([]));
    assert_eq!(env.run(&["authorization", "revoke", delegate]).code, 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_from_the_corechannel_aggregate() {
    let env = Env::start().await;
    let doc = json!({
        "nodes": [{"hash": "a".repeat(64), "name": "core-1", "status": "active", "score": 0.9, "owner": env.address,
                   "resource_nodes": ["b".repeat(64)]}],
        "resource_nodes": [{"hash": "b".repeat(64), "name": "crn-1", "status": "linked", "score": 0.8,
                            "address": "https://crn.example"}]
    });
    env.run(&["aggregate", "post", "corechannel", &doc.to_string()]).ok();
    let all = env.run(&["node", "list", "--address", &env.address, "--json"]).json();
    assert_eq!(all["ccns"][0]["name"], "core-1");
    assert_eq!(all["crns"][0]["name"], "crn-1");
    let crns = env.run(&["node", "list", "--kind", "crn", "--address", &env.address]).ok();
    redacted().bind(|| insta::assert_snapshot!("node_list_crn", crns));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_balance_of_a_funded_dev_account() {
    let env = Env::start().await;
    let b = env.run(&["account", "balance", "--json"]).json();
    assert_eq!(b["address"], env.address.as_str());
    assert!(b["balance"].as_f64().unwrap_or(0.0) > 0.0, "{b}");
    let human = env.run(&["account", "balance", "--address", &env.address]).ok();
    assert!(human.contains("available:"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_and_tezos_accounts_publish() {
    for chain in ["SOL", "TEZOS"] {
        let env = Env::start_with(chain, 0).await;
        let out = env
            .run(&[
                "--chain",
                chain,
                "post",
                "create",
                "--type",
                "chat",
                "--content",
                r#"{"body":"gm"}"#,
                "--json",
            ])
            .json();
        assert_eq!(out["chain"], chain);
        assert_eq!(out["sender"], env.address.as_str());
        assert_eq!(out["status"], "processed", "{out}");
        env.stop().await;
    }
}
