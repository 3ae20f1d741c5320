//! The OpenAPI document (`/api/openapi.json`): it describes every route the routers are built
//! with, it is a well-formed OpenAPI 3.1 document whose schemas are valid JSON Schema 2020-12,
//! and a node's real answers match the schemas it gives for them.

use std::collections::{BTreeSet, HashMap};

use aleph_core::Signer;
use serde_json::{json, Value};

use crate::common::*;

/// A path as axum routes it or the document writes it, with what does not make two paths
/// different removed: parameter names, axum's catch-all, a trailing slash, the `.json` suffix
/// (`/messages/page/{page}` is routed and `{page}` takes `1.json`).
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.trim_end_matches(".json").trim_end_matches('/').chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        "/".into()
    } else {
        out
    }
}

/// Every route of the CCN API and of the CRN, as their routers were built, is in the document
/// with its method (an `any` route with any method).
#[tokio::test]
async fn every_routed_path_is_in_the_document() {
    let node = TestNode::start_with(|c| c.role = aleph_node::config::Role::Both).await;
    let routes = aleph_node::testing::routes(&node.handle);
    assert!(routes.len() > 70, "{} routes", routes.len());
    let doc = aleph_node::testing::openapi_document();
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), normalize(path))))
        .collect();
    let missing: Vec<String> = routes
        .iter()
        .filter(|r| {
            let path = normalize(r.path);
            match r.method {
                "any" => !described.iter().any(|(_, p)| *p == path),
                m => !described.contains(&(m.to_owned(), path)),
            }
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(missing.is_empty(), "routed but not in the OpenAPI document: {missing:?}");
    node.stop().await;
}

/// Every `$ref` of `v` (recursively).
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The document is OpenAPI 3.1: its version and info, operations with responses whose path
/// parameters match their template, every reference resolved, and every schema a valid JSON
/// Schema 2020-12 (the dialect of OpenAPI 3.1), checked against the draft's meta-schema.
#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = aleph_node::testing::openapi_document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let template: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.split('}').next())).collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(methods.contains(&method.as_str()), "{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty() && responses.values().all(|r| r["description"].is_string()));
            let params = op["parameters"].as_array().unwrap();
            let in_path: BTreeSet<&str> =
                params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(in_path, template, "{method} {path}: path parameters");
            for p in params {
                assert!(["query", "path", "header", "cookie"].contains(&p["in"].as_str().unwrap()));
                if p["in"] == "path" {
                    assert_eq!(p["required"], true, "{method} {path}: {p}");
                }
            }
            let names: Vec<(&str, &str)> =
                params.iter().map(|p| (p["in"].as_str().unwrap(), p["name"].as_str().unwrap())).collect();
            let unique: BTreeSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{method} {path}: a parameter twice");
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("local references only");
        assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(jsonschema::meta::is_valid(schema), "components.schemas.{name} is not JSON Schema: {schema}");
    }
}

/// A validator of the 200 answer of `method path`, from the document (its components beside).
fn validator(doc: &Value, method: &str, path: &str) -> Option<jsonschema::Validator> {
    let schema =
        doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return None;
    }
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    Some(jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{method} {path}: {e}")))
}

/// A node with data for every operation: posts, a forgotten one, a stored file, ALEPH
/// balances, credits; each JSON operation is called (the typed ones in every form they answer)
/// and each answer validated against the document's schema for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_the_documented_schemas() {
    let issuer = aleph_core::chain::ethereum::EthereumSigner::from_hex(&"7".repeat(64)).expect("key");
    let issuer_address = issuer.address().to_owned();
    let node = TestNode::start_with(|c| c.credit_senders.push(issuer_address)).await;
    let owner = node.eth(0);
    let address = owner.address().to_owned();
    let note = post(&owner, "note", json!({"n": 1}));
    node.submit_ok(&note).await;
    let gone = post(&owner, "note", json!({"n": 2}));
    node.submit_ok(&gone).await;
    node.submit_ok(&forget(&owner, &[gone.item_hash.as_str()])).await;
    node.wait_status(gone.item_hash.as_str(), "forgotten").await;
    node.submit_ok(&aggregate(&owner, "profile", json!({"name": "a"}), now())).await;
    let bytes = b"documented".to_vec();
    node.http.post(format!("{}/api/v0/storage/add_file", node.url)).body(bytes.clone()).send().await.unwrap();
    let file = sha256_hex(&bytes);
    let stored = store(&owner, &file);
    node.submit_ok(&stored).await;
    // Credits as the network grants and spends them: distribution and expense POSTs on
    // ALEPH_CREDIT from a trusted issuer.
    let vm = sha256_hex(b"a resource");
    let credit = |kind: &str, section: &str, credits: Value| {
        let content = json!({"type": kind, "content": {section: {"credits": credits}}});
        sign_on(&issuer, aleph_core::MessageType::Post, content, "ALEPH_CREDIT")
    };
    node.submit_ok(&credit(
        "aleph_credit_distribution",
        "distribution",
        json!([
            {"address": address, "amount": 500, "payment_method": "card"},
            {"address": address, "amount": 300, "expiration": 4_000_000_000.0, "payment_method": "card"},
        ]),
    ))
    .await;
    node.submit_ok(&credit(
        "aleph_credit_expense",
        "expense",
        json!([{"address": address, "amount": 100, "payment_method": "credit_expense", "origin": vm}]),
    ))
    .await;

    let doc = node.get_ok("/api/openapi.json").await;
    let values: HashMap<&str, String> = HashMap::from([
        ("item_hash", note.item_hash.to_string()),
        ("hash", file.clone()),
        ("address", address.clone()),
        ("page", "1".to_owned()),
        ("ref", stored.item_hash.to_string()),
        ("reference", stored.item_hash.to_string()),
    ]);
    let fill = |template: &str| -> String {
        let mut path = template.to_owned();
        for (k, v) in &values {
            path = path.replace(&format!("{{{k}}}"), v);
        }
        path
    };
    // The typed operations, each in every form it answers: (method, template, query, body).
    let instance = json!({
        "address": address, "time": now(), "allow_amend": false, "environment": {"internet": true},
        "resources": {"vcpus": 1, "memory": 2048}, "payment": {"type": "hold"},
        "rootfs": {"parent": {"ref": sha256_hex(b"rootfs")}, "persistence": "host", "size_mib": 20480},
    });
    let inline = json!({"address": address, "time": now(), "item_type": "storage",
                        "item_hash": sha256_hex(b"priced"), "estimated_size_mib": 100})
    .to_string();
    let estimate = json!({"message": {"type": "STORE", "item_type": "inline", "item_content": inline,
                                      "item_hash": sha256_hex(inline.as_bytes())}});
    let submission = json!({"sync": true, "message": post(&owner, "note", json!({"n": 3}))});
    let forgotten = gone.item_hash.to_string();
    let typed: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("post", "/api/v0/messages", String::new(), Some(submission)),
        ("get", "/api/v0/messages.json", String::new(), None),
        ("get", "/api/v0/messages.json", "cursor=&pagination=1".into(), None),
        ("get", "/api/v0/messages.json", "msgStatuses=forgotten".into(), None),
        ("get", "/api/v0/messages/page/{page}.json", "pagination=2".into(), None),
        ("get", "/api/v0/messages/{item_hash}", String::new(), None),
        ("get", "/api/v0/messages/{item_hash}/status", String::new(), None),
        ("get", "/api/v0/messages/hashes", String::new(), None),
        ("get", "/api/v0/messages/hashes", "hash_only=false".into(), None),
        ("get", "/api/v0/aggregates/{address}.json", "with_info=true".into(), None),
        ("get", "/api/v0/aggregates.json", String::new(), None),
        ("get", "/api/v0/aggregates", "cursor=".into(), None),
        ("post", "/api/v0/storage/add_json", String::new(), Some(json!({"a": 1}))),
        ("post", "/api/v0/ipfs/add_json", String::new(), Some(json!({"a": 2}))),
        ("get", "/api/v0/storage/metadata/{hash}", String::new(), None),
        ("get", "/api/v0/storage/{hash}", String::new(), None),
        ("get", "/api/v0/storage/count/{hash}", String::new(), None),
        ("get", "/api/v0/storage/by-ref/{ref}", String::new(), None),
        ("get", "/api/v0/storage/limits.json", String::new(), None),
        ("get", "/api/v0/posts.json", String::new(), None),
        ("get", "/api/v0/posts.json", "cursor=&pagination=1".into(), None),
        ("get", "/api/v0/posts/page/{page}.json", String::new(), None),
        ("get", "/api/v1/posts.json", String::new(), None),
        ("get", "/api/v1/posts/page/{page}.json", "cursor=".into(), None),
        ("get", "/api/v0/addresses/{address}/balance", String::new(), None),
        ("get", "/api/v0/addresses/{address}/balance", "include_credit_details=true".into(), None),
        ("get", "/api/v0/balances", String::new(), None),
        ("get", "/api/v0/balances", "cursor=&pagination=1".into(), None),
        ("get", "/api/v0/credit_balances", String::new(), None),
        ("get", "/api/v0/credit_balances", "cursor=".into(), None),
        ("get", "/api/v0/addresses/{address}/credit_history", String::new(), None),
        ("get", "/api/v0/addresses/{address}/credit_history", "cursor=&pagination=1".into(), None),
        ("get", "/api/v0/addresses/{address}/credit_history/summary", String::new(), None),
        ("get", "/api/v0/messages/{item_hash}/consumed_credits", String::new(), None),
        ("post", "/api/v0/price/estimate", String::new(), Some(estimate)),
        ("post", "/api/v0/price/estimate/instance", String::new(), Some(instance)),
        ("get", "/api/v0/costs", format!("address={address}&payment_type=hold&include_details=2"), None),
        ("get", "/api/v0/costs", String::new(), None),
    ];
    let mut checked = BTreeSet::new();
    let call = |method: &str, template: &str, query: &str, body: Option<Value>| {
        let path = fill(template);
        let url = if query.is_empty() {
            format!("{}{path}", node.url)
        } else {
            format!("{}{path}?{query}", node.url)
        };
        let http = node.http.clone();
        let method = method.to_owned();
        async move {
            let request = if method == "post" {
                http.post(url).json(&body.unwrap_or(json!({})))
            } else {
                http.get(url)
            };
            let resp = request.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    for (method, template, query, body) in typed {
        let (status, text) = call(method, template, &query, body).await;
        assert_eq!(status, 200, "{method} {template}?{query}: {text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        let v = validator(&doc, method, template).unwrap_or_else(|| panic!("{method} {template}: no schema"));
        let errors: Vec<String> =
            v.iter_errors(&answer).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{method} {template}?{query}: {errors:?}\n{answer}");
        checked.insert((method, template));
    }
    // The forgotten message and the price of the stored file, in the same shapes.
    for (template, hash) in [
        ("/api/v0/messages/{item_hash}", forgotten.clone()),
        ("/api/v0/price/{item_hash}", stored.item_hash.to_string()),
        ("/api/v0/storage/by-message-hash/{hash}", stored.item_hash.to_string()),
    ] {
        let url = format!("{}{}", node.url, template.replace("{item_hash}", &hash).replace("{hash}", &hash));
        let (status, answer) = read(node.http.get(url).send().await.unwrap()).await;
        assert_eq!(status, 200, "{template} {hash}: {answer}");
        let v = validator(&doc, "get", template).unwrap();
        assert!(v.is_valid(&answer), "{template}: {answer}");
        checked.insert(("get", template));
    }
    // Every other JSON operation that answers 200 here, against its schema (any JSON for the
    // answers not typed yet).
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if template.starts_with("/api/ws0/")
            || template.starts_with("/vm/")
            || template.starts_with("/control/")
        {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            if method != "get" || checked.contains(&(method.as_str(), template.as_str())) {
                continue;
            }
            let Some(v) = validator(&doc, method, template) else { continue };
            let (status, text) = call(method, template, "", None).await;
            if status != 200 {
                continue;
            }
            let answer: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{template}: {e}: {text}"));
            assert!(v.is_valid(&answer), "{method} {template}: {answer}");
        }
    }
    assert!(checked.len() >= 18, "{checked:?}");
    // The schemas do refuse what does not match them.
    let balance = validator(&doc, "get", "/api/v0/addresses/{address}/balance").unwrap();
    assert!(!balance.is_valid(&json!({"address": address, "balance": "1", "credit_balance": 1.5})));
    let list = validator(&doc, "get", "/api/v0/messages.json").unwrap();
    assert!(
        !list.is_valid(&json!({"messages": [], "pagination_per_page": 1})),
        "neither a page nor a cursor page"
    );
    node.stop().await;
}
