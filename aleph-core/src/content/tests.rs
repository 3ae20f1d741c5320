//! Schema tests. Inputs are small literals, most shaped after real messages of the test vectors;
//! expected verdicts and renderings were checked against the reference models.

use serde_json::{json, Value};

use super::*;
use crate::message::{ItemType, MessageType};

const H: &str = "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c";
const CID: &str = "QmXSEnpQCnUfeGFoSjY1XAK1Cuad5CtAaqyachGTtsFSuA";

fn ok(t: MessageType, v: Value) -> Content {
    match Content::parse(t, &v) {
        Ok(c) => {
            // Both renderings parse back to the same typed value.
            for text in [c.to_json(), c.to_model_json()] {
                let again: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(Content::parse(t, &again).as_ref(), Ok(&c), "round trip of {text}");
            }
            c
        }
        Err(e) => panic!("{t} should validate, got {e}: {v}"),
    }
}

fn err(t: MessageType, v: Value) -> ContentError {
    match Content::parse(t, &v) {
        Ok(c) => panic!("{t} should not validate: {v} gave {c:?}"),
        Err(e) => e,
    }
}

fn err_path(t: MessageType, v: Value) -> String {
    err(t, v).path().to_owned()
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

// ---------------------------------------------------------------- POST

fn post() -> Value {
    json!({"type":"05567c5b-0606-4a6e-a639-25734c06e2a0","address":"0xB68B9D4f3771c246233823ed1D3Add451055F9Ef",
           "content":{"body":"Hello World"},"time":1762515431.653})
}

#[test]
fn post_accepts_real_shapes() {
    let Content::Post(p) = ok(MessageType::Post, post()) else { unreachable!() };
    assert_eq!(p.post_type, "05567c5b-0606-4a6e-a639-25734c06e2a0");
    assert_eq!(p.content, Some(json!({"body":"Hello World"})));
    assert!(!p.is_amend());
    // Content of any JSON type, or none; integer time.
    ok(
        MessageType::Post,
        json!({"type":"Toolshed","address":"5D9eKr","content":"Did the fox jump?","time":1670865119}),
    );
    ok(MessageType::Post, json!({"address":"0xaC03","time":1648215810.245091,"type":"POST"}));
    ok(MessageType::Post, with(post(), "content", json!(null)));
    ok(MessageType::Post, with(post(), "ref", json!("any free-form text")));
}

#[test]
fn post_rejections() {
    assert_eq!(
        err(MessageType::Post, without(post(), "type")),
        ContentError::Missing { path: "type".into() }
    );
    assert_eq!(
        err(MessageType::Post, without(post(), "address")),
        ContentError::Missing { path: "address".into() }
    );
    assert_eq!(
        err(MessageType::Post, without(post(), "time")),
        ContentError::Missing { path: "time".into() }
    );
    // extra = forbid
    assert_eq!(
        err(MessageType::Post, with(post(), "tags", json!([]))),
        ContentError::Unexpected { path: "tags".into() }
    );
    assert_eq!(err_path(MessageType::Post, with(post(), "type", json!(1))), "type");
    assert_eq!(err_path(MessageType::Post, with(post(), "address", json!(null))), "address");
    assert_eq!(err_path(MessageType::Post, with(post(), "ref", json!(12))), "ref");
    // A legacy document without the base fields (one of the vectors) is not valid today.
    err(MessageType::Post, json!({"body":"Top 10 cutest Kodiak bears"}));
    // Not an object at all.
    assert_eq!(
        err(MessageType::Post, json!([1])),
        ContentError::WrongType { path: "".into(), expected: "an object" }
    );
    assert_eq!(err(MessageType::Post, json!([1])).to_string(), "content: expected an object");
}

#[test]
fn post_amend_needs_a_ref() {
    let amend = json!({"type":"amend","address":"0xB68B","content":{"body":"New content !"},"time":1762515432.375,"ref":H});
    let Content::Post(p) = ok(MessageType::Post, amend.clone()) else { unreachable!() };
    assert!(p.is_amend());
    assert_eq!(p.amend_target(), Some(H.parse().unwrap()));
    for bad_ref in [None, Some(json!(null)), Some(json!(""))] {
        let v = match bad_ref {
            None => without(amend.clone(), "ref"),
            Some(r) => with(amend.clone(), "ref", r),
        };
        assert_eq!(err_path(MessageType::Post, v), "type");
    }
    // A non-hash ref passes the schema but names no original.
    let Content::Post(p) = ok(MessageType::Post, with(amend.clone(), "ref", json!("abc"))) else {
        unreachable!()
    };
    assert_eq!(p.amend_target(), None);
    assert_eq!(p.ref_target(), Some("abc"));
}

#[test]
fn post_ref_may_be_a_chain_ref() {
    let chain_ref = json!({"chain":"ETH","item_content":"{}","item_hash":H,"item_type":"inline","sender":"0xS",
                           "signature":"0x00","time":"12.5","unknown":1});
    let v = json!({"type":"amend","address":"a","time":1,"ref":chain_ref});
    let Content::Post(p) = ok(MessageType::Post, v) else { unreachable!() };
    let Some(PostRef::Chain(r)) = &p.reference else { panic!("chain ref expected") };
    assert_eq!(r.time, 12.5);
    assert_eq!(r.message_type, MessageType::Post);
    assert_eq!(p.amend_target(), Some(H.parse().unwrap()));
    // Unknown keys are ignored and the literal type is rendered.
    assert_eq!(
        p.to_json(),
        format!(
            r#"{{"address":"a","time":1.0,"ref":{{"chain":"ETH","item_content":"{{}}","item_hash":"{H}","item_type":"inline","sender":"0xS","signature":"0x00","time":12.5,"type":"POST"}},"type":"amend"}}"#
        )
    );
    let bad = json!({"type":"x","address":"a","time":1,"ref":{"chain":"ETH","item_content":"{}","item_hash":H,
                     "item_type":"inline","sender":"s","signature":"x","time":1,"type":"STORE"}});
    assert_eq!(err_path(MessageType::Post, bad), "ref.type");
    let bad = json!({"type":"x","address":"a","time":1,"ref":{"chain":"NOPE","item_content":"{}","item_hash":H,
                     "item_type":"inline","sender":"s","signature":"x","time":1}});
    assert_eq!(err_path(MessageType::Post, bad), "ref.chain");
}

#[test]
fn post_renderings() {
    let c = ok(MessageType::Post, post());
    assert_eq!(
        c.to_json(),
        r#"{"address":"0xB68B9D4f3771c246233823ed1D3Add451055F9Ef","time":1762515431.653,"content":{"body":"Hello World"},"type":"05567c5b-0606-4a6e-a639-25734c06e2a0"}"#
    );
    assert_eq!(
        c.to_model_json(),
        r#"{"address":"0xB68B9D4f3771c246233823ed1D3Add451055F9Ef","time":1762515431.653,"content":{"body":"Hello World"},"ref":null,"type":"05567c5b-0606-4a6e-a639-25734c06e2a0"}"#
    );
    // serde integration.
    let p: PostContent = serde_json::from_value(post()).unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), c.to_json());
    assert!(serde_json::from_value::<PostContent>(json!({"type":1})).is_err());
}

#[test]
fn content_time_bounds() {
    for t in [json!(0), json!(-0.0), json!(9_223_372_036.0_f64), json!(1e9)] {
        ok(MessageType::Post, with(post(), "time", t));
    }
    for t in [json!(-1), json!(9_223_372_036.5_f64), json!("1700000000"), json!(true), json!(null)] {
        assert_eq!(err_path(MessageType::Post, with(post(), "time", t)), "time");
    }
}

// ---------------------------------------------------------------- AGGREGATE

fn aggregate() -> Value {
    json!({"address":"0x51A58800b26AA1451aaA803d1746687cB88E0501","key":"0xce844d79binance",
           "content":{"1692026263168":{"version":"x25519-xsalsa20-poly1305"}},"time":1692026263.168})
}

#[test]
fn aggregate_schema() {
    let Content::Aggregate(a) = ok(MessageType::Aggregate, aggregate()) else { unreachable!() };
    assert_eq!(a.key, AggregateKey::Name("0xce844d79binance".into()));
    assert!(!a.key.is_security());
    ok(MessageType::Aggregate, with(aggregate(), "content", json!({})));
    let Content::Aggregate(a) =
        ok(MessageType::Aggregate, with(aggregate(), "key", json!({"name":"security"})))
    else {
        unreachable!()
    };
    assert_eq!(a.key.storage_key(), "name='security'");
    assert!(!a.key.is_security());
    assert_eq!(a.key.as_plain(), None);
    assert_eq!(
        err_path(MessageType::Aggregate, with(aggregate(), "key", json!({"name":"k","x":1}))),
        "key.x"
    );
    assert_eq!(err_path(MessageType::Aggregate, with(aggregate(), "key", json!({}))), "key.name");
    assert_eq!(err_path(MessageType::Aggregate, with(aggregate(), "key", json!(5))), "key");
    for content in [json!([]), json!("x"), json!(1), json!(null)] {
        assert_eq!(err_path(MessageType::Aggregate, with(aggregate(), "content", content)), "content");
    }
    assert_eq!(
        err(MessageType::Aggregate, without(aggregate(), "content")),
        ContentError::Missing { path: "content".into() }
    );
    assert_eq!(err_path(MessageType::Aggregate, with(aggregate(), "extra", json!(1))), "extra");
    let security = ok(MessageType::Aggregate, with(aggregate(), "key", json!("security")));
    let Content::Aggregate(a) = security else { unreachable!() };
    assert!(a.key.is_security());
    assert_eq!(
        a.to_model_json(),
        r#"{"address":"0x51A58800b26AA1451aaA803d1746687cB88E0501","time":1692026263.168,"key":"security","content":{"1692026263168":{"version":"x25519-xsalsa20-poly1305"}}}"#
    );
}

// ---------------------------------------------------------------- STORE

fn store() -> Value {
    json!({"item_type":"ipfs","item_hash":CID,"ref":"0xd8058efe0198ae9dd7d563e1b4938dcbc86a1f81:14",
           "address":"0xe0aaF578B287de16852dbc54Ae34a263FF2F4b9E","time":1738837907})
}

#[test]
fn store_schema() {
    let Content::Store(s) = ok(MessageType::Store, store()) else { unreachable!() };
    assert_eq!(s.item_type, ItemType::Ipfs);
    assert_eq!(s.payment_type(), PaymentType::Hold);
    assert!(!s.ref_is_hash());
    let msg: crate::ItemHash = H.parse().unwrap();
    assert_eq!(
        s.file_tag(&msg),
        "0xe0aaF578B287de16852dbc54Ae34a263FF2F4b9E/0xd8058efe0198ae9dd7d563e1b4938dcbc86a1f81:14"
    );
    let Content::Store(s) = ok(MessageType::Store, with(store(), "ref", json!(H))) else { unreachable!() };
    assert!(s.ref_is_hash());
    assert_eq!(s.file_tag(&msg), H);
    let Content::Store(s) = ok(MessageType::Store, without(store(), "ref")) else { unreachable!() };
    assert_eq!(s.file_tag(&msg), H);

    // extra = ignore: legacy NFT-style extras are accepted and dropped.
    let Content::Store(s) = ok(
        MessageType::Store,
        with(with(store(), "name", json!("Amphibian Outlaws #1301")), "mime_type", json!("a/b")),
    ) else {
        unreachable!()
    };
    assert!(!s.to_model_json().contains("mime_type"));
    // Real storage STORE with size and an empty content type, and credit payment.
    ok(
        MessageType::Store,
        json!({"address":"0xEbf3","time":1646123806,"item_type":"storage","item_hash":H,"size":0,"content_type":""}),
    );
    let Content::Store(s) =
        ok(MessageType::Store, with(store(), "payment", json!({"chain":"ETH","type":"credit"})))
    else {
        unreachable!()
    };
    assert_eq!(s.payment_type(), PaymentType::Credit);
}

#[test]
fn store_rejections() {
    // item_type must match the hash shape, and inline is never valid.
    assert_eq!(err_path(MessageType::Store, with(store(), "item_type", json!("storage"))), "item_type");
    assert_eq!(err_path(MessageType::Store, with(store(), "item_hash", json!(H))), "item_type");
    let inline = json!({"address":"a","time":1,"item_type":"inline","item_hash":H});
    assert_eq!(err_path(MessageType::Store, inline), "item_type");
    assert_eq!(err_path(MessageType::Store, with(store(), "item_type", json!("IPFS"))), "item_type");
    // ItemHash-typed: uppercase hex or bafk CIDs are not item hashes.
    assert_eq!(
        err_path(MessageType::Store, with(store(), "item_hash", json!(H.to_uppercase()))),
        "item_hash"
    );
    assert_eq!(
        err_path(MessageType::Store, with(store(), "payment", json!({"type":"superfluid"}))),
        "payment"
    );
    assert_eq!(
        err_path(MessageType::Store, with(store(), "payment", json!({"type":"hold","chain":"XX"}))),
        "payment.chain"
    );
    assert_eq!(
        err_path(MessageType::Store, with(store(), "payment", json!({"chain":"ETH"}))),
        "payment.type"
    );
    assert_eq!(err_path(MessageType::Store, with(store(), "size", json!(1.5))), "size");
    assert_eq!(err_path(MessageType::Store, with(store(), "metadata", json!([]))), "metadata");
    // The base content still forbids… nothing here: STORE ignores unknown keys, but the base
    // fields are required.
    assert_eq!(
        err(MessageType::Store, without(store(), "address")),
        ContentError::Missing { path: "address".into() }
    );
}

#[test]
fn store_model_rendering_materialises_nulls() {
    let v = json!({"address":"0x23","time":1761047957.7483068,"item_type":"ipfs","item_hash":CID});
    let c = ok(MessageType::Store, v);
    assert_eq!(
        c.to_model_json(),
        format!(
            r#"{{"address":"0x23","time":1761047957.7483068,"item_type":"ipfs","item_hash":"{CID}","size":null,"content_type":null,"ref":null,"metadata":null,"payment":null}}"#
        )
    );
    assert_eq!(
        c.to_json(),
        format!(r#"{{"address":"0x23","time":1761047957.7483068,"item_type":"ipfs","item_hash":"{CID}"}}"#)
    );
}

// ---------------------------------------------------------------- FORGET

#[test]
fn forget_schema() {
    let real = json!({"address":"0xB68B","time":1762515432.413,"hashes":[H],"reason":"None"});
    let Content::Forget(f) = ok(MessageType::Forget, real) else { unreachable!() };
    assert_eq!(f.hashes.len(), 1);
    assert!(f.aggregates.is_empty());
    assert_eq!(
        f.to_model_json(),
        format!(
            r#"{{"address":"0xB68B","time":1762515432.413,"hashes":["{H}"],"aggregates":[],"reason":"None"}}"#
        )
    );
    // hashes is required even when empty.
    let Content::Forget(f) = ok(MessageType::Forget, json!({"address":"a","time":1,"hashes":[]})) else {
        unreachable!()
    };
    assert!(f.is_empty());
    ok(MessageType::Forget, json!({"address":"a","time":1,"hashes":[],"aggregates":[CID]}));
    assert_eq!(
        err(MessageType::Forget, json!({"address":"a","time":1,"aggregates":[H]})),
        ContentError::Missing { path: "hashes".into() }
    );
    // Aggregate keys must be hash-shaped.
    assert_eq!(
        err_path(MessageType::Forget, json!({"address":"a","time":1,"hashes":[],"aggregates":["security"]})),
        "aggregates.0"
    );
    assert_eq!(
        err_path(MessageType::Forget, json!({"address":"a","time":1,"hashes":[H, "nope"]})),
        "hashes.1"
    );
    let many: Vec<&str> = vec![H; 1001];
    assert_eq!(err_path(MessageType::Forget, json!({"address":"a","time":1,"hashes":many})), "hashes");
    let max: Vec<&str> = vec![H; 1000];
    ok(MessageType::Forget, json!({"address":"a","time":1,"hashes":max}));
    let long = "x".repeat(1001);
    assert_eq!(
        err_path(MessageType::Forget, json!({"address":"a","time":1,"hashes":[],"reason":long})),
        "reason"
    );
    assert_eq!(err_path(MessageType::Forget, json!({"address":"a","time":1,"hashes":[],"x":1})), "x");
}

// ---------------------------------------------------------------- PROGRAM

fn program() -> Value {
    json!({"address":"0x9C2FD74F9CA2B7C4941690316B0Ebc35ce55c885","time":1757026128.773,"type":"vm-function",
           "allow_amend":false,"metadata":{"name":"Hoymiles"},"on":{"http":true,"persistent":false},
           "environment":{"reproducible":false,"internet":true,"aleph_api":true,"shared_cache":false},
           "resources":{"vcpus":2,"memory":4096,"seconds":30},
           "runtime":{"ref":"63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696","use_latest":true,
                      "comment":"Aleph Alpine Linux with Python 3.12"},
           "volumes":[{"mount":"/opt/packages","ref":"8df728d560ed6e9103b040a6b5fc5417e0a52e890c12977464ebadf9becf1bf6","use_latest":true}],
           "variables":{},"payment":{"chain":"ETH","type":"hold"},
           "code":{"encoding":"zip","entrypoint":"main:app","ref":"9a4735bca0d3f7032ddd6659c35387b57b470550c931841e6862ece4e9e6523e","use_latest":true}})
}

fn prog(v: Value) -> ProgramContent {
    match ok(MessageType::Program, v) {
        Content::Program(p) => *p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn program_schema() {
    let p = prog(program());
    assert_eq!(
        p.base.resources,
        MachineResources { vcpus: 2, memory: 4096, seconds: 30, published_ports: None }
    );
    assert_eq!(p.code.inferred_interface(), Interface::Asgi);
    assert!(!p.is_persistent());
    assert!(p.base.environment.internet());
    assert!(matches!(p.base.volumes[0], MachineVolume::Immutable(_)));
    assert_eq!(p.payment_type(), PaymentType::Hold);
    assert_eq!(p.machine_type, MachineType::VmFunction);

    let binary = with(program(), "code", json!({"encoding":"squashfs","entrypoint":"python run.py","ref":H}));
    assert_eq!(prog(binary).code.inferred_interface(), Interface::Binary);
    let explicit =
        with(program(), "code", json!({"encoding":"plain","entrypoint":"a:b","ref":H,"interface":"binary"}));
    assert_eq!(prog(explicit).code.inferred_interface(), Interface::Binary);
    // Defaults: resources, code.use_latest false, runtime.use_latest true.
    let minimal = json!({"address":"a","time":1,"allow_amend":true,"environment":{},"resources":{},"type":"vm-function",
                         "code":{"encoding":"zip","entrypoint":"main:app","ref":H},"runtime":{"ref":H,"comment":"c"},
                         "on":{"http":false,"persistent":true}});
    let p = prog(minimal);
    assert_eq!(
        p.base.resources,
        MachineResources { vcpus: 1, memory: 128, seconds: 1, published_ports: None }
    );
    assert!(!p.code.use_latest);
    assert!(p.runtime.use_latest);
    assert!(p.is_persistent());
    assert_eq!(
        p.to_model_json(),
        format!(
            concat!(
                r#"{{"address":"a","time":1.0,"allow_amend":true,"metadata":null,"authorized_keys":null,"variables":null,"#,
                r#""environment":{{"reproducible":false,"internet":false,"aleph_api":false,"shared_cache":false}},"#,
                r#""resources":{{"vcpus":1,"memory":128,"seconds":1,"published_ports":null}},"payment":null,"requirements":null,"#,
                r#""volumes":[],"replaces":null,"type":"vm-function","#,
                r#""code":{{"encoding":"zip","entrypoint":"main:app","ref":"{h}","interface":null,"args":null,"use_latest":false}},"#,
                r#""runtime":{{"ref":"{h}","use_latest":true,"comment":"c"}},"data":null,"export":null,"#,
                r#""on":{{"http":false,"message":null,"persistent":true}}}}"#
            ),
            h = H
        )
    );
}

#[test]
fn program_rejections() {
    let cases: Vec<(Value, &str)> = vec![
        (with(program(), "type", json!("vm-instance")), "type"),
        (without(program(), "type"), "type"),
        (without(program(), "allow_amend"), "allow_amend"),
        (without(program(), "environment"), "environment"),
        (without(program(), "resources"), "resources"),
        (without(program(), "on"), "on"),
        (with(program(), "on", json!({})), "on.http"),
        (with(program(), "on", json!({"http":true,"zz":1})), "on.zz"),
        (with(program(), "runtime", json!({"ref":H})), "runtime.comment"),
        (with(program(), "code", json!({"encoding":"tar","entrypoint":"x","ref":H})), "code.encoding"),
        (
            with(program(), "code", json!({"encoding":"zip","entrypoint":"x","ref":H,"interface":"wsgi"})),
            "code.interface",
        ),
        (with(program(), "metadata", json!([])), "metadata"),
        (with(program(), "resources", json!({"vcpus":0})), "resources.vcpus"),
        (with(program(), "resources", json!({"vcpus":257})), "resources.vcpus"),
        (with(program(), "resources", json!({"memory":1_048_577})), "resources.memory"),
        (with(program(), "resources", json!({"seconds":315_360_001})), "resources.seconds"),
        (with(program(), "resources", json!({"vcpus":2.5})), "resources.vcpus"),
        (
            with(program(), "resources", json!({"published_ports":[{"port":0}]})),
            "resources.published_ports.0.port",
        ),
        (with(program(), "replaces", json!("x".repeat(129))), "replaces"),
        (with(program(), "variables", json!({"A":1})), "variables.A"),
        (with(program(), "authorized_keys", json!(vec!["k"; 257])), "authorized_keys"),
        (with(program(), "authorized_keys", json!(["k".repeat(8193)])), "authorized_keys.0"),
        (with(program(), "zz", json!(1)), "zz"),
        (with(program(), "data", json!({"encoding":"zip","ref":H})), "data.mount"),
    ];
    for (v, path) in cases {
        assert_eq!(err_path(MessageType::Program, v.clone()), path, "{v}");
    }
    let many: serde_json::Map<String, Value> = (0..257).map(|i| (i.to_string(), json!(i))).collect();
    assert_eq!(err_path(MessageType::Program, with(program(), "metadata", Value::Object(many))), "metadata");
    let subscription: serde_json::Map<String, Value> = (0..33).map(|i| (i.to_string(), json!(i))).collect();
    let on = json!({"http":true,"message":[subscription]});
    assert_eq!(err_path(MessageType::Program, with(program(), "on", on)), "on.message.0");
    // The array-as-metadata program of the vectors is invalid under today's schema.
    err(MessageType::Program, with(program(), "metadata", json!([])));
}

#[test]
fn lax_scalars_follow_the_reference() {
    let p = prog(with(program(), "resources", json!({"vcpus":"2","memory":2048.0,"seconds":true})));
    assert_eq!((p.base.resources.vcpus, p.base.resources.memory, p.base.resources.seconds), (2, 2048, 1));
    let p = prog(with(program(), "allow_amend", json!("yes")));
    assert!(p.base.allow_amend);
    let p = prog(with(program(), "on", json!({"http":1,"persistent":"off"})));
    assert!(p.on.http);
    assert_eq!(p.on.persistent, Some(false));
    // Rendering gives the coerced values.
    assert!(p.to_json().contains(r#""on":{"http":true,"persistent":false}"#));
    assert_eq!(err_path(MessageType::Program, with(program(), "allow_amend", json!(2))), "allow_amend");
}

#[test]
fn program_environment_union() {
    let env = |e: Value| prog(with(program(), "environment", e)).base.environment;
    assert!(matches!(env(json!({"internet":true})), ProgramEnvironment::Function(_)));
    // The instance form wins when it validates and more of its fields are set.
    let ProgramEnvironment::Instance(i) = env(json!({"internet":true,"hypervisor":"qemu"})) else { panic!() };
    assert_eq!(i.hypervisor, Some(HypervisorType::Qemu));
    assert!(matches!(env(json!({"hypervisor":null})), ProgramEnvironment::Instance(_)));
    // An invalid hypervisor is ignored by the function form.
    assert!(matches!(env(json!({"hypervisor":"xen"})), ProgramEnvironment::Function(_)));
    assert!(matches!(
        env(json!({"hypervisor":"firecracker","trusted_execution":{"policy":1}})),
        ProgramEnvironment::Function(_)
    ));
    assert_eq!(
        err_path(MessageType::Program, with(program(), "environment", json!({"internet":2}))),
        "environment.internet"
    );
}

#[test]
fn volume_union_resolution_order() {
    let vol = |v: Value| prog(with(program(), "volumes", json!([v]))).base.volumes.remove(0);
    assert!(matches!(
        vol(json!({"ref":H})),
        MachineVolume::Immutable(ImmutableVolume { use_latest: true, .. })
    ));
    // Only size_mib (and comment/mount): ephemeral first.
    let MachineVolume::Ephemeral(e) = vol(json!({"size_mib":10,"mount":"/m"})) else { panic!() };
    assert!(e.ephemeral);
    // Too big for ephemeral: persistent.
    assert!(matches!(vol(json!({"size_mib":2000})), MachineVolume::Persistent(_)));
    let real = json!({"comment":"Working data","mount":"/var/lib/sqlite","persistence":"host","name":"database","size_mib":5});
    let MachineVolume::Persistent(p) = vol(real) else { panic!() };
    assert_eq!(
        (p.persistence, p.name.as_deref(), p.size_mib),
        (Some(VolumePersistence::Host), Some("database"), 5)
    );
    assert!(matches!(vol(json!({"ephemeral":true,"size_mib":10})), MachineVolume::Ephemeral(_)));
    assert!(matches!(vol(json!({"parent":{"ref":H},"size_mib":10})), MachineVolume::Persistent(_)));
    assert!(matches!(vol(json!({"persistence":"store","size_mib":1_953_125})), MachineVolume::Persistent(_)));

    for bad in [
        json!({"size_mib":10.0}),
        json!({"size_mib":"10"}),
        json!({"size_mib":true}),
        json!({"size_mib":0}),
        json!({"ephemeral":false,"size_mib":10}),
        json!({"ephemeral":true,"size_mib":2000}),
        json!({"persistence":"host","size_mib":1_953_126}),
        json!({"ref":H,"size_mib":10}),
        json!({"ref":"not-a-hash"}),
        json!({"comment":"x"}),
        json!({"name":"x".repeat(257),"size_mib":10}),
        json!("str"),
    ] {
        assert_eq!(
            err_path(MessageType::Program, with(program(), "volumes", json!([bad.clone()]))),
            "volumes.0",
            "{bad}"
        );
    }
    let e = err(MessageType::Program, with(program(), "volumes", json!([{"size_mib":"10"}])));
    assert!(e.to_string().contains("matches no volume kind"), "{e}");
}

// ---------------------------------------------------------------- INSTANCE

fn instance() -> Value {
    json!({"address":"0x3E1aba4ad853Dd7Aa531aB59F10bd9f4d89aebaF","time":1732118563.2142403,"allow_amend":false,
           "metadata":{"name":"test-payg-base"},"authorized_keys":["ssh-rsa AAAAB3Nza root@rpi"],
           "environment":{"internet":true,"aleph_api":true,"hypervisor":"qemu","reproducible":false,"shared_cache":false},
           "resources":{"vcpus":1,"memory":2048,"seconds":30},
           "payment":{"chain":"BASE","receiver":"0xFeF2b33478f906eDE5ee96110b2342861cF1569A","type":"superfluid"},
           "requirements":{"node":{"node_hash":"2cdb78cf561c6f0f839edb817395d3b5ece20d89125c5afba658f9170d6932c8"}},
           "volumes":[],
           "rootfs":{"parent":{"ref":"b6ff5c3a8205d1ca4c7c3369300eeafff498b558f71b851aa2114afd0a532717","use_latest":true},
                     "persistence":"host","size_mib":10240}})
}

fn inst(v: Value) -> InstanceContent {
    match ok(MessageType::Instance, v) {
        Content::Instance(i) => *i,
        other => panic!("{other:?}"),
    }
}

#[test]
fn instance_schema() {
    let i = inst(instance());
    assert_eq!(i.payment_type(), PaymentType::Superfluid);
    assert_eq!(i.rootfs.size_mib, 10240);
    assert!(!i.is_confidential());
    assert!(!i.requires_gpu());
    // A hold instance without requirements, firecracker-less default hypervisor.
    let hold = json!({"address":"0x48A8","time":1701619253.3092096,"allow_amend":false,
                      "environment":{"reproducible":false,"internet":true,"aleph_api":true,"shared_cache":false},
                      "resources":{"vcpus":1,"memory":256,"seconds":30},"volumes":[],
                      "rootfs":{"parent":{"ref":H,"use_latest":true},"persistence":"host","size_mib":2000}});
    let i = inst(hold.clone());
    assert_eq!(i.base.environment.hypervisor, None);
    assert!(i.to_model_json().contains(r#""hypervisor":null,"trusted_execution":null"#));
    assert!(i.to_model_json().ends_with(r#""rootfs":{"parent":{"ref":"d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c","use_latest":true},"persistence":"host","size_mib":2000,"forgotten_by":null}}"#));

    for (v, path) in [
        (
            with(hold.clone(), "rootfs", json!({"parent":{"ref":H},"persistence":"host","size_mib":2000.0})),
            "rootfs.size_mib",
        ),
        (
            with(
                hold.clone(),
                "rootfs",
                json!({"parent":{"ref":H},"persistence":"host","size_mib":1_953_126}),
            ),
            "rootfs.size_mib",
        ),
        (
            with(hold.clone(), "rootfs", json!({"parent":{"ref":H},"persistence":"disk","size_mib":1})),
            "rootfs.persistence",
        ),
        (with(hold.clone(), "rootfs", json!({"persistence":"host","size_mib":1})), "rootfs.parent"),
        (without(hold.clone(), "rootfs"), "rootfs"),
        (with(hold.clone(), "type", json!("vm-instance")), "type"),
        (with(hold.clone(), "environment", json!({"hypervisor":"xen"})), "environment.hypervisor"),
        (
            with(hold.clone(), "environment", json!({"trusted_execution":{"policy":1}})),
            "environment.trusted_execution",
        ),
        (
            with(hold.clone(), "environment", json!({"hypervisor":"qemu","trusted_execution":{"x":1}})),
            "environment.trusted_execution.x",
        ),
    ] {
        assert_eq!(err_path(MessageType::Instance, v.clone()), path, "{v}");
    }
    // The raw-value check lets `{}` through without qemu; it renders back as `{}`.
    // (The model rendering of this quirk does not parse back, as with the reference itself.)
    let v = with(hold.clone(), "environment", json!({"trusted_execution":{}}));
    let Ok(Content::Instance(i)) = Content::parse(MessageType::Instance, &v) else { panic!() };
    let again: Value = serde_json::from_str(&i.to_json()).unwrap();
    assert_eq!(InstanceContent::parse(&again).as_ref(), Ok(&*i));
    assert!(i.is_confidential());
    assert!(i.to_json().contains(r#""trusted_execution":{}"#));
    assert!(i.to_model_json().contains(r#""trusted_execution":{"firmware":null,"policy":1}"#));
    let i = inst(with(
        hold,
        "environment",
        json!({"hypervisor":"qemu","trusted_execution":{"firmware":H,"policy":"5"}}),
    ));
    assert_eq!(i.base.environment.trusted_execution.map(|t| t.policy), Some(5));
}

#[test]
fn instance_cross_field_rules() {
    let node = json!({"node":{"node_hash":H}});
    let gpu =
        json!([{"vendor":"NVIDIA","device_name":"RTX 4090","device_class":"0300","device_id":"10de:2684"}]);
    let case = |payment: Option<Value>, requirements: Value, hypervisor: &str, tee: bool| {
        let mut v = with(instance(), "requirements", requirements);
        match payment {
            Some(p) => v["payment"] = p,
            None => v = without(v, "payment"),
        }
        v["environment"] = json!({"hypervisor": hypervisor});
        if tee {
            v["environment"]["trusted_execution"] = json!({"policy":1});
        }
        Content::parse(MessageType::Instance, &v)
    };
    let stream = Some(json!({"type":"superfluid"}));
    let credit = Some(json!({"type":"credit"}));
    // PAYG/credit need a node hash.
    assert!(case(stream.clone(), json!({}), "qemu", false).is_err());
    assert!(case(credit.clone(), json!({"node":{"owner":"o"}}), "qemu", false).is_err());
    assert!(case(credit.clone(), node.clone(), "qemu", false).is_ok());
    assert!(case(None, json!({}), "qemu", false).is_ok());
    // GPUs need a node hash and qemu.
    assert!(case(None, json!({"gpu":gpu}), "qemu", false).is_err());
    assert!(case(None, json!({"node":{"node_hash":H},"gpu":gpu}), "firecracker", false).is_err());
    let ok_gpu = case(None, json!({"node":{"node_hash":H},"gpu":gpu}), "qemu", false).unwrap();
    let Content::Instance(i) = ok_gpu else { panic!() };
    assert!(i.requires_gpu());
    assert!(case(None, json!({"gpu":[]}), "firecracker", false).is_ok());
    // Terms and conditions need a node hash, and PAYG/credit or confidential.
    assert!(case(stream.clone(), json!({"node":{"terms_and_conditions":H}}), "qemu", false).is_err());
    assert!(case(None, json!({"node":{"node_hash":H,"terms_and_conditions":H}}), "qemu", false).is_err());
    assert!(case(None, json!({"node":{"node_hash":H,"terms_and_conditions":H}}), "qemu", true).is_ok());
    assert!(case(stream, json!({"node":{"node_hash":H,"terms_and_conditions":H}}), "qemu", false).is_ok());
    // Without requirements, nothing is checked.
    let mut v = without(instance(), "requirements");
    v["payment"] = json!({"type":"credit"});
    assert!(Content::parse(MessageType::Instance, &v).is_ok());
}

#[test]
fn host_requirements() {
    let req = |r: Value| Content::parse(MessageType::Instance, &with(instance(), "requirements", r));
    assert!(req(json!({"node":{"node_hash":H,"address_regex":"^0x[0-9a-fA-F]{40}$","owner":"0xO"}})).is_ok());
    assert!(req(json!({"node":{"node_hash":H},"cpu":{"architecture":"x86_64","vendor":"AuthenticAMD","features":["sev_snp"]}})).is_ok());
    for (r, path) in [
        (json!({"node":{"node_hash":H,"address_regex":"("}}), "requirements.node.address_regex"),
        (json!({"node":{"node_hash":H,"address_regex":"x".repeat(257)}}), "requirements.node.address_regex"),
        (json!({"node":{"node_hash":"bad"}}), "requirements.node.node_hash"),
        (json!({"node":{"node_hash":H,"x":1}}), "requirements.node.x"),
        (json!({"node":{"node_hash":H},"cpu":{"architecture":"riscv"}}), "requirements.cpu.architecture"),
        (json!({"node":{"node_hash":H},"cpu":{"x":1}}), "requirements.cpu.x"),
        (json!({"node":{"node_hash":H},"zz":1}), "requirements.zz"),
        (
            json!({"node":{"node_hash":H},"gpu":[{"vendor":"N","device_name":"D","device_class":"0301","device_id":"i"}]}),
            "requirements.gpu.0.device_class",
        ),
    ] {
        assert_eq!(req(r.clone()).unwrap_err().path(), path, "{r}");
    }
}

// ---------------------------------------------------------------- V-PROGRAM

fn vprogram() -> Value {
    json!({"address":"0x9319Ad3B7A8E0eE24f2E639c40D8eD124C5520Ba","time":1719502000.0,"allow_amend":false,
           "payment":{"type":"credit"},"environment":{"internet":true},"resources":{"vcpus":2,"memory":2048,"seconds":30},
           "runtime":{"ref":"cafecafecafecafecafecafecafecafecafecafecafecafecafecafecafecafe","comment":"compose-runner snp bundle"},
           "workload":{"ref":"beefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeef",
                       "hash_tree":"feedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeed",
                       "roothash":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"},
           "verification":{"backend":"sev_snp","policy":196608,
                           "measurements":[{"platform":"sev_snp","digest":"ab","vcpu_type":"EPYC-v4"}]},
           "volumes":[{"ref":H,"hash_tree":H,"roothash":"ef","comment":"model weights"}]})
}

#[test]
fn vprogram_schema() {
    let Content::VProgram(v) = ok(MessageType::VProgram, vprogram()) else { panic!() };
    assert_eq!(v.verification.policy, 0x30000);
    assert_eq!(v.workload.roothash, "cd".repeat(32));
    assert_eq!(Content::VProgram(v.clone()).payment().map(|p| p.payment_type), Some(PaymentType::Credit));
    for (bad, path) in [
        (with(vprogram(), "allow_amend", json!(true)), "allow_amend"),
        (with(vprogram(), "replaces", json!(H)), "replaces"),
        (with(vprogram(), "variables", json!({"A":"b"})), "variables"),
        (with(vprogram(), "authorized_keys", json!(["k"])), "authorized_keys"),
        (with(vprogram(), "payment", json!({"type":"hold"})), "payment"),
        (without(vprogram(), "payment"), "payment"),
        (without(vprogram(), "workload"), "workload"),
        (
            with(vprogram(), "verification", json!({"backend":"tdx","policy":1,"measurements":[]})),
            "verification.backend",
        ),
        (with(vprogram(), "zz", json!(1)), "zz"),
    ] {
        assert_eq!(err_path(MessageType::VProgram, bad.clone()), path, "{bad}");
    }
    ok(MessageType::VProgram, with(vprogram(), "replaces", json!(null)));
}

// ---------------------------------------------------------------- Content

#[test]
fn content_enum_accessors() {
    let c = ok(MessageType::Instance, instance());
    assert_eq!(c.message_type(), MessageType::Instance);
    assert_eq!(c.address(), "0x3E1aba4ad853Dd7Aa531aB59F10bd9f4d89aebaF");
    assert_eq!(c.time(), 1732118563.2142403);
    assert_eq!(c.payment().map(|p| p.is_stream()), Some(true));
    assert_eq!(ok(MessageType::Post, post()).payment(), None);
    // The same document is judged by the schema of the type it is parsed as.
    assert!(Content::parse(MessageType::Aggregate, &post()).is_err());
    assert!(Content::parse(MessageType::Store, &post()).is_err());
}

#[test]
fn no_panics_on_odd_inputs() {
    let odd = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!({}),
        json!({"address":{}, "time":[]}),
        json!({"address":"a","time":1e308}),
        json!({"address":"a","time":-1e308,"type":"amend"}),
    ];
    for t in MessageType::ALL {
        for v in &odd {
            assert!(Content::parse(*t, v).is_err(), "{t} {v}");
        }
    }
}
