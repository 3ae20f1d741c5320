//! Worked examples, computed by hand from the formulas of MESSAGES.md §6.13 and the reference's
//! default prices (per hour prices are divided by 3 600; every amount is floored to 18 decimals).

use serde_json::{json, Value};

use super::*;
use crate::content::{Content, PaymentType};
use crate::validate::ProcessingError;

const CODE: &str = "c0de000000000000000000000000000000000000000000000000000000000001";
const RUNTIME: &str = "7e57000000000000000000000000000000000000000000000000000000000002";
const ROOTFS: &str = "b00b000000000000000000000000000000000000000000000000000000000003";
const FILE: &str = "f11e000000000000000000000000000000000000000000000000000000000004";
const NODE: &str = "40de000000000000000000000000000000000000000000000000000000000005";
const MSG: &str = "0000000000000000000000000000000000000000000000000000000000000abc";
const OWNER: &str = "0x0000000000000000000000000000000000000001";

/// Before the cost cutoff.
const T_FREE: f64 = 1_700_000_000.0;
/// After the cost cutoff, before the hold/stream cutoff.
const T_PAID: f64 = 1_750_000_000.0;
/// After the hold/stream cutoff, before credit-only.
const T_HOLD_CUT: f64 = 1_780_000_000.0;
/// After the credit-only cutoff.
const T_CREDIT_ONLY: f64 = 1_800_000_000.0;

fn d(s: &str) -> Decimal {
    parse_decimal(s).unwrap()
}

/// Sizes: the code file is 0.5 MiB, the runtime 200 MiB, the STORE file is given per test.
fn sizes(store_bytes: u64) -> impl Fn(FileRef<'_>) -> Option<u64> {
    move |f| match f {
        FileRef::StoreFile(h) if h == FILE => Some(store_bytes),
        FileRef::Volume { reference, .. } if reference == CODE => Some(MIB / 2),
        FileRef::Volume { reference, .. } if reference == RUNTIME => Some(200 * MIB),
        _ => None,
    }
}

fn costs_of(message_type: MessageType, content: &Value, store_bytes: u64) -> Costs {
    let pricing = Pricing::default();
    let settings = Settings::default();
    let sizes = sizes(store_bytes);
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &sizes, estimates: None };
    message_costs_from_value(message_type, content, MSG, &env).unwrap()
}

fn parse(message_type: MessageType, content: &Value) -> Content {
    Content::parse(message_type, content).unwrap()
}

/// `(type, name, hold, stream, credit)` of each row, as the API writes them.
fn table(costs: &Costs) -> Vec<(String, String, String, String, String)> {
    costs
        .rows
        .iter()
        .map(|r| {
            (
                r.cost_type.to_string(),
                r.name.clone(),
                cost_string(r.cost_hold),
                cost_string(r.cost_stream),
                cost_string(r.cost_credit),
            )
        })
        .collect()
}

fn row(
    t: &str,
    name: &str,
    hold: &str,
    stream: &str,
    credit: &str,
) -> (String, String, String, String, String) {
    (t.into(), name.into(), hold.into(), stream.into(), credit.into())
}

fn store(payment: &str) -> Value {
    json!({"address": OWNER, "time": T_PAID, "item_type": "storage", "item_hash": FILE, "payment": {"type": payment}})
}

fn program(persistent: bool, internet: bool, payment: &str) -> Value {
    json!({
        "address": OWNER, "time": T_PAID, "allow_amend": false, "type": "vm-function",
        "code": {"encoding": "zip", "entrypoint": "main:app", "ref": CODE},
        "runtime": {"ref": RUNTIME, "use_latest": true, "comment": "python"},
        "on": {"http": true, "persistent": persistent},
        "environment": {"internet": internet},
        "resources": {"vcpus": 1, "memory": 128},
        "payment": {"type": payment},
    })
}

fn instance(payment: &str) -> Value {
    json!({
        "address": OWNER, "time": T_PAID, "allow_amend": false,
        "environment": {"internet": true},
        "resources": {"vcpus": 1, "memory": 2048},
        "rootfs": {"parent": {"ref": ROOTFS}, "persistence": "host", "size_mib": 20480},
        "payment": {"type": payment},
    })
}

fn gpu_instance(gpus: &[&str], vcpus: u32, memory: u32) -> Value {
    let gpus: Vec<Value> = gpus
        .iter()
        .map(|id| json!({"vendor": "NVIDIA", "device_name": "gpu", "device_class": "0300", "device_id": id}))
        .collect();
    json!({
        "address": OWNER, "time": T_PAID, "allow_amend": false,
        "environment": {"internet": true, "hypervisor": "qemu"},
        "resources": {"vcpus": vcpus, "memory": memory},
        "rootfs": {"parent": {"ref": ROOTFS}, "persistence": "host", "size_mib": 102400},
        "requirements": {"node": {"node_hash": NODE}, "gpu": gpus},
        "payment": {"type": "credit"},
    })
}

// --- STORE -------------------------------------------------------------------------------------

#[test]
fn store_10_mib_hold() {
    // 10 MiB × 0.333333333 = 3.33333333 held; 10 × 0.17967489030626108 / 3600 credits/s.
    let c = costs_of(MessageType::Store, &store("hold"), 10 * MIB);
    assert_eq!(
        table(&c),
        vec![row(
            "STORAGE",
            "STORAGE",
            "3.333333330000000000",
            "0.000000000000000000",
            "0.000499096917517391"
        )]
    );
    assert_eq!(c.rows[0].reference.as_deref(), Some(MSG));
    assert_eq!(c.total().unwrap(), d("3.33333333"));
    assert_eq!(c.storage_size_mib, Some(d("10")));
    // ≤ 25 MiB held: free until the credit-only cutoff.
    let content = parse(MessageType::Store, &store("hold"));
    assert_eq!(
        balance_check(&content, &c, &MessageTiming::at(T_PAID), DEFAULT_FREE_STORE_MAX_BYTES),
        Ok(BalanceCheck::Free)
    );
}

#[test]
fn store_10_mib_credit_is_billed_25_mib() {
    // Billed 25 MiB: 25 × 0.333333333 = 8.333333325 held; 25 × 0.17967489030626108 / 3600.
    let c = costs_of(MessageType::Store, &store("credit"), 10 * MIB);
    assert_eq!(
        table(&c),
        vec![row(
            "STORAGE",
            "STORAGE",
            "8.333333325000000000",
            "0.000000000000000000",
            "0.001247742293793479"
        )]
    );
    assert_eq!(c.payment_type, PaymentType::Credit);
    assert_eq!(c.total().unwrap(), d("0.001247742293793479"));
    // The row reports the file's real size.
    assert_eq!(c.rows[0].size_mib, Some(d("10")));
    let content = parse(MessageType::Store, &store("credit"));
    assert_eq!(
        balance_check(&content, &c, &MessageTiming::at(T_PAID), DEFAULT_FREE_STORE_MAX_BYTES),
        Ok(BalanceCheck::Credit { cost_per_second: d("0.001247742293793479") })
    );
}

#[test]
fn store_100_mib_hold_and_credit() {
    let c = costs_of(MessageType::Store, &store("hold"), 100 * MIB);
    assert_eq!(
        table(&c),
        vec![row(
            "STORAGE",
            "STORAGE",
            "33.333333300000000000",
            "0.000000000000000000",
            "0.004990969175173918"
        )]
    );
    let content = parse(MessageType::Store, &store("hold"));
    assert_eq!(
        balance_check(&content, &c, &MessageTiming::at(T_PAID), DEFAULT_FREE_STORE_MAX_BYTES),
        Ok(BalanceCheck::Hold { cost: d("33.3333333") })
    );
    let c = costs_of(MessageType::Store, &store("credit"), 100 * MIB);
    assert_eq!(c.total().unwrap(), d("0.004990969175173918"));
    // One day: 0.004990969175173918 × 86400 = 431.2197367350265152.
    let err = check_credit_balance(431, Decimal::ZERO, c.total().unwrap()).unwrap_err();
    assert_eq!(
        err,
        ProcessingError::CreditInsufficient {
            required_credits: "431.219736735026515200".into(),
            account_credits: "431".into(),
            min_runtime_days: 1,
        }
    );
    assert!(check_credit_balance(432, Decimal::ZERO, c.total().unwrap()).is_ok());
}

#[test]
fn store_of_an_unknown_file_costs_nothing() {
    let c = costs_of(MessageType::Store, &store("hold"), 0);
    assert_eq!(c.rows.len(), 1);
    let pricing = Pricing::default();
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: None };
    let c = message_costs_from_value(MessageType::Store, &store("hold"), MSG, &env).unwrap();
    assert!(c.rows.is_empty());
    assert_eq!(c.storage_size_mib, None);
    assert_eq!(c.total().unwrap(), Decimal::ZERO);
}

#[test]
fn store_estimate_uses_the_estimated_size() {
    let mut content = store("hold");
    content["estimated_size_mib"] = json!(100.0);
    let est = EstimatedSizes::prepare(MessageType::Store, &mut content).unwrap();
    assert!(content.get("estimated_size_mib").is_none());
    assert_eq!(est.store_mib, Some(d("100")));
    let pricing = Pricing::default();
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: Some(&est) };
    let c = message_costs_from_value(MessageType::Store, &content, MSG, &env).unwrap();
    assert_eq!(c.total().unwrap(), d("33.3333333"));
}

// --- PROGRAM -----------------------------------------------------------------------------------

/// Code 0.5 MiB and runtime 200 MiB at the program storage prices (0.05 / 0.000000977 / 0.977),
/// all covered by the 2048 MiB included with one compute unit.
fn program_volume_rows() -> Vec<(String, String, String, String, String)> {
    vec![
        row(
            "EXECUTION_PROGRAM_VOLUME_CODE",
            "EXECUTION_PROGRAM_VOLUME_CODE",
            "0.025000000000000000",
            "0.000000000135694444",
            "0.000135694444444444",
        ),
        row(
            "EXECUTION_PROGRAM_VOLUME_RUNTIME",
            "EXECUTION_PROGRAM_VOLUME_RUNTIME",
            "10.000000000000000000",
            "0.000000054277777777",
            "0.054277777777777777",
        ),
        // min(volumes, 2048 MiB × price), negated.
        row(
            "EXECUTION_VOLUME_DISCOUNT",
            "EXECUTION_VOLUME_DISCOUNT",
            "-10.025000000000000000",
            "-0.000000054413472221",
            "-0.054413472222222221",
        ),
    ]
}

#[test]
fn on_demand_program_without_internet() {
    // 1 vCPU, 128 MiB: 1 CU. 200 held; 0.011 / 3600 tokens/s; 11000 / 3600 credits/s.
    let c = costs_of(MessageType::Program, &program(false, false, "hold"), 0);
    let mut expected = vec![row(
        "EXECUTION",
        "program",
        "200.000000000000000000",
        "0.000003055555555555",
        "3.055555555555555555",
    )];
    expected.extend(program_volume_rows());
    assert_eq!(table(&c), expected);
    assert_eq!(c.product, Product::Program);
    assert_eq!(c.total().unwrap(), d("200"));
    let totals = c.totals().unwrap();
    assert_eq!(totals.stream, d("0.000003055555555555"));
    assert_eq!(totals.credit, d("3.055555555555555555"));
    let content = parse(MessageType::Program, &program(false, false, "hold"));
    assert_eq!(balance_check(&content, &c, &MessageTiming::at(T_FREE), 0), Ok(BalanceCheck::Free));
    assert_eq!(
        balance_check(&content, &c, &MessageTiming::at(T_PAID), 0),
        Ok(BalanceCheck::Hold { cost: d("200") })
    );
}

#[test]
fn on_demand_program_with_internet_costs_twice_the_units() {
    let c = costs_of(MessageType::Program, &program(false, true, "hold"), 0);
    let mut expected = vec![row(
        "EXECUTION",
        "program",
        "400.000000000000000000",
        "0.000006111111111111",
        "6.111111111111111111",
    )];
    // The included disk is not doubled.
    expected.extend(program_volume_rows());
    assert_eq!(table(&c), expected);
    assert_eq!(c.total().unwrap(), d("400"));
}

#[test]
fn persistent_program_with_credit() {
    // 2 vCPU, 4096 MiB: 2 CU of program_persistent (1000 / 0.055 / 55000 per CU), with a 10 GiB
    // persistent volume. Credit: every volume costs at least 1 credit/hour (the 0.5 MiB code).
    let mut content = program(true, true, "credit");
    content["resources"] = json!({"vcpus": 2, "memory": 4096});
    content["volumes"] =
        json!([{"persistence": "host", "name": "data", "size_mib": 10240, "mount": "/data"}]);
    let c = costs_of(MessageType::Program, &content, 0);
    assert_eq!(c.product, Product::ProgramPersistent);
    assert_eq!(
        table(&c),
        vec![
            row(
                "EXECUTION",
                "program_persistent",
                "2000.000000000000000000",
                "0.000030555555555555",
                "30.555555555555555555"
            ),
            row(
                "EXECUTION_PROGRAM_VOLUME_CODE",
                "EXECUTION_PROGRAM_VOLUME_CODE",
                "0.025000000000000000",
                "0.000000000135694444",
                "0.000277777777777777",
            ),
            row(
                "EXECUTION_PROGRAM_VOLUME_RUNTIME",
                "EXECUTION_PROGRAM_VOLUME_RUNTIME",
                "10.000000000000000000",
                "0.000000054277777777",
                "0.054277777777777777",
            ),
            row(
                "EXECUTION_VOLUME_PERSISTENT",
                "#0:/data",
                "512.000000000000000000",
                "0.000002779022222222",
                "2.779022222222222222"
            ),
            // 2 CU × 20480 MiB included covers all three volumes.
            row(
                "EXECUTION_VOLUME_DISCOUNT",
                "EXECUTION_VOLUME_DISCOUNT",
                "-522.025000000000000000",
                "-0.000002833435694443",
                "-2.833577777777777776",
            ),
        ]
    );
    assert_eq!(c.total().unwrap(), d("30.555555555555555555"));
    let parsed = parse(MessageType::Program, &content);
    for t in [T_PAID, T_HOLD_CUT, T_CREDIT_ONLY] {
        assert_eq!(
            balance_check(&parsed, &c, &MessageTiming::at(t), 0),
            Ok(BalanceCheck::Credit { cost_per_second: d("30.555555555555555555") })
        );
    }
}

#[test]
fn volumes_beyond_the_included_disk_are_paid() {
    // 1 CU includes 2048 MiB: a 4096 MiB persistent volume pays for the 2048 MiB left over.
    let mut content = program(false, false, "hold");
    content["volumes"] = json!([{"persistence": "host", "name": "big", "size_mib": 4096}]);
    let c = costs_of(MessageType::Program, &content, 0);
    let last = c.rows.last().unwrap();
    assert_eq!(c.rows[3].name, "#0:EXECUTION_VOLUME_PERSISTENT");
    // Volumes: 0.025 + 10 + 204.8 held; the discount is capped at 2048 × 0.05 = 102.4.
    assert_eq!(cost_string(last.cost_hold), "-102.400000000000000000");
    assert_eq!(c.total().unwrap(), d("312.425"));
}

// --- INSTANCE ----------------------------------------------------------------------------------

#[test]
fn instance_with_a_20_gib_rootfs_hold() {
    // 1 CU (1000 / 0.055 / 14250); the 20480 MiB rootfs is exactly the included disk.
    let c = costs_of(MessageType::Instance, &instance("hold"), 0);
    assert_eq!(
        table(&c),
        vec![
            row(
                "EXECUTION",
                "instance",
                "1000.000000000000000000",
                "0.000015277777777777",
                "3.958333333333333333"
            ),
            row(
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "1024.000000000000000000",
                "0.000005558044444444",
                "1.022150487075618588",
            ),
            row(
                "EXECUTION_VOLUME_DISCOUNT",
                "EXECUTION_VOLUME_DISCOUNT",
                "-1024.000000000000000000",
                "-0.000005558044444444",
                "-1.022150487075618588",
            ),
        ]
    );
    assert_eq!(c.rows[1].reference.as_deref(), Some(ROOTFS));
    assert_eq!(c.rows[1].size_mib, Some(d("20480")));
    assert_eq!(c.total().unwrap(), d("1000"));
    let content = parse(MessageType::Instance, &instance("hold"));
    assert_eq!(
        balance_check(&content, &c, &MessageTiming::at(T_FREE), 0),
        Ok(BalanceCheck::Hold { cost: d("1000") })
    );
    // The account already holds 1500 tokens of resources: 2500 are needed.
    assert_eq!(
        check_hold_balance(d("2000"), d("1500"), d("1000")),
        Err(ProcessingError::BalanceInsufficient {
            required_balance: "2500.000000000000000000".into(),
            account_balance: "2000".into(),
        })
    );
    assert!(check_hold_balance(d("2500.0"), d("1500"), d("1000")).is_ok());
}

#[test]
fn instance_with_a_20_gib_rootfs_credit() {
    let c = costs_of(MessageType::Instance, &instance("credit"), 0);
    assert_eq!(c.total().unwrap(), d("3.958333333333333333"));
    let response = c.price_response(OWNER, false).unwrap();
    assert_eq!(response.cost, "3.958333333333333333");
    assert_eq!(response.payment_type, PaymentType::Credit);
    assert_eq!(response.detail.len(), 3);
    // One day: 3.958333333333333333 × 86400.
    assert_eq!(
        check_credit_balance(341_999, Decimal::ZERO, c.total().unwrap()),
        Err(ProcessingError::CreditInsufficient {
            required_credits: "341999.999999999999971200".into(),
            account_credits: "341999".into(),
            min_runtime_days: 1,
        })
    );
    assert!(check_credit_balance(342_000, Decimal::ZERO, c.total().unwrap()).is_ok());
}

#[test]
fn credit_rates_that_divide_exactly_are_exact() {
    // 6 CU × 14250 / 3600 = 23.75 credits/s (dividing first would leave 23.749999…).
    let mut content = instance("credit");
    content["resources"] = json!({"vcpus": 6, "memory": 2048});
    let c = costs_of(MessageType::Instance, &content, 0);
    assert_eq!(cost_string(c.rows[0].cost_credit), "23.750000000000000000");
    content["resources"] = json!({"vcpus": 3, "memory": 2048});
    let c = costs_of(MessageType::Instance, &content, 0);
    assert_eq!(cost_string(c.rows[0].cost_credit), "11.875000000000000000");
}

#[test]
fn confidential_instance() {
    let mut content = instance("hold");
    content["environment"] = json!({"hypervisor": "qemu", "trusted_execution": {"firmware": ROOTFS}});
    let c = costs_of(MessageType::Instance, &content, 0);
    assert_eq!(c.product, Product::InstanceConfidential);
    assert_eq!(
        table(&c)[0],
        row(
            "EXECUTION",
            "instance_confidential",
            "2000.000000000000000000",
            "0.000030555555555555",
            "7.916666666666666666"
        )
    );
    assert_eq!(c.total().unwrap(), d("2000"));
}

#[test]
fn gpu_instance_standard_tier() {
    // An RTX 4090 is a 6-CU standard tier (280 / 0.28 / 43125 per CU); 6 vCPUs need no more.
    // Storage is priced with the premium product, which has no holding price.
    let c = costs_of(MessageType::Instance, &gpu_instance(&["10de:2684"], 6, 12288), 0);
    assert_eq!(c.product, Product::InstanceGpuStandard);
    assert_eq!(
        table(&c),
        vec![
            row(
                "EXECUTION",
                "instance_gpu_standard",
                "1680.000000000000000000",
                "0.000466666666666666",
                "71.875000000000000000"
            ),
            row(
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "0.000000000000000000",
                "0.000027790222222222",
                "5.110752435378092942",
            ),
            // 6 CU × 61440 MiB included.
            row(
                "EXECUTION_VOLUME_DISCOUNT",
                "EXECUTION_VOLUME_DISCOUNT",
                "0.000000000000000000",
                "-0.000027790222222222",
                "-5.110752435378092942",
            ),
        ]
    );
    assert_eq!(c.total().unwrap(), d("71.875"));
}

#[test]
fn gpu_instance_mixed_tiers_and_resource_floor() {
    // RTX 4090 (standard, 6 CU) then A100 (premium, 16 CU): 22 CU, but 30 vCPUs need 30, and the
    // dominant (premium) tier takes the 8 missing units.
    let c = costs_of(MessageType::Instance, &gpu_instance(&["10de:2684", "10de:20b5"], 30, 6144), 0);
    assert_eq!(c.product, Product::InstanceGpuPremium);
    let t = table(&c);
    assert_eq!(
        t[0],
        row(
            "EXECUTION",
            "instance_gpu_standard",
            "1680.000000000000000000",
            "0.000466666666666666",
            "71.875000000000000000"
        )
    );
    assert_eq!(
        t[1],
        row(
            "EXECUTION",
            "instance_gpu_premium",
            "13440.000000000000000000",
            "0.003733333333333333",
            "575.000000000000000000"
        )
    );
    assert_eq!(c.total().unwrap(), d("646.875"));
}

#[test]
fn gpu_errors() {
    let pricing = Pricing::default();
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: None };
    let content = gpu_instance(&["ffff:0000"], 1, 2048);
    assert_eq!(
        message_costs_from_value(MessageType::Instance, &content, MSG, &env),
        Err(CostError::UnknownGpu("ffff:0000".into()))
    );
    // An RTX 5090 is compatible but in no tier.
    let content = gpu_instance(&["10de:2687"], 1, 2048);
    assert_eq!(
        message_costs_from_value(MessageType::Instance, &content, MSG, &env),
        Err(CostError::GpuNotPriced("RTX 5090".into()))
    );
}

#[test]
fn vprogram_is_priced_as_a_confidential_instance() {
    let content = json!({
        "address": OWNER, "time": T_PAID, "allow_amend": false,
        "environment": {"internet": false},
        "resources": {"vcpus": 1, "memory": 2048},
        "payment": {"type": "credit"},
        "runtime": {"ref": RUNTIME, "comment": "runtime"},
        "workload": {"ref": CODE, "hash_tree": FILE, "roothash": "ab"},
        "verification": {"backend": "sev_snp", "policy": 196608, "measurements": []},
        "volumes": [],
    });
    let c = costs_of(MessageType::VProgram, &content, 0);
    assert_eq!(
        table(&c),
        vec![
            row(
                "EXECUTION",
                "instance_confidential",
                "2000.000000000000000000",
                "0.000030555555555555",
                "7.916666666666666666"
            ),
            row(
                "EXECUTION_VOLUME_DISCOUNT",
                "EXECUTION_VOLUME_DISCOUNT",
                "0.000000000000000000",
                "0.000000000000000000",
                "0.000000000000000000"
            ),
        ]
    );
    let parsed = parse(MessageType::VProgram, &content);
    assert_eq!(
        balance_check(&parsed, &c, &MessageTiming::at(T_PAID), 0),
        Ok(BalanceCheck::Credit { cost_per_second: d("7.916666666666666666") })
    );
}

#[test]
fn other_types_have_no_cost() {
    let post = json!({"address": OWNER, "time": 1.0, "type": "test", "content": {}});
    let pricing = Pricing::default();
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: None };
    assert_eq!(
        message_costs_from_value(MessageType::Post, &post, MSG, &env),
        Err(CostError::NotPriced(MessageType::Post))
    );
}

// --- Cutoffs and payment methods ---------------------------------------------------------------

/// The verdict for a content at a time (`Ok(kind)` or the error code).
fn verdict(
    message_type: MessageType,
    content: &Value,
    store_bytes: u64,
    timing: MessageTiming,
) -> Result<&'static str, i32> {
    let c = costs_of(message_type, content, store_bytes);
    let parsed = parse(message_type, content);
    match balance_check(&parsed, &c, &timing, DEFAULT_FREE_STORE_MAX_BYTES) {
        Ok(BalanceCheck::Free) => Ok("free"),
        Ok(BalanceCheck::StreamRecorded) => Ok("stream"),
        Ok(BalanceCheck::Hold { .. }) => Ok("hold"),
        Ok(BalanceCheck::Stream { .. }) => Ok("stream-check"),
        Ok(BalanceCheck::Credit { .. }) => Ok("credit"),
        Err(e) => Err(e.code()),
    }
}

#[test]
fn payment_method_matrix() {
    use MessageType::{Instance, Program, Store};
    let at = MessageTiming::at;
    let small = 10 * MIB;
    let big = 100 * MIB;
    type Case = (MessageType, Value, u64, f64, Result<&'static str, i32>);
    let cases: Vec<Case> = vec![
        // Before the cost cutoff: STOREs and on-demand programs are free, whatever they declare.
        (Store, store("hold"), big, T_FREE, Ok("free")),
        (Store, store("credit"), big, T_FREE, Ok("free")),
        (Program, program(false, false, "superfluid"), 0, T_FREE, Ok("free")),
        (Program, program(true, false, "hold"), 0, T_FREE, Ok("hold")),
        (Instance, instance("hold"), 0, T_FREE, Ok("hold")),
        (Instance, instance("superfluid"), 0, T_FREE, Ok("stream")),
        // Paid, every method accepted; small held files stay free.
        (Store, store("hold"), small, T_PAID, Ok("free")),
        (Store, store("hold"), big, T_PAID, Ok("hold")),
        (Store, store("credit"), small, T_PAID, Ok("credit")),
        (Program, program(false, false, "hold"), 0, T_PAID, Ok("hold")),
        (Program, program(false, false, "superfluid"), 0, T_PAID, Ok("stream")),
        (Program, program(true, false, "hold"), 0, T_PAID, Ok("hold")),
        (Instance, instance("hold"), 0, T_PAID, Ok("hold")),
        (Instance, instance("superfluid"), 0, T_PAID, Ok("stream")),
        (Instance, instance("credit"), 0, T_PAID, Ok("credit")),
        // From 2026-03-11: instances and persistent programs need credits.
        (Instance, instance("hold"), 0, HOLD_AND_STREAM_CUTOFF_TIMESTAMP, Err(202)),
        (Instance, instance("superfluid"), 0, T_HOLD_CUT, Err(202)),
        (Instance, instance("credit"), 0, T_HOLD_CUT, Ok("credit")),
        (Program, program(true, false, "hold"), 0, T_HOLD_CUT, Err(202)),
        (Program, program(true, false, "superfluid"), 0, T_HOLD_CUT, Err(202)),
        (Program, program(false, false, "hold"), 0, T_HOLD_CUT, Ok("hold")),
        (Program, program(false, false, "superfluid"), 0, T_HOLD_CUT, Ok("stream")),
        (Store, store("hold"), small, T_HOLD_CUT, Ok("free")),
        (Store, store("hold"), big, T_HOLD_CUT, Ok("hold")),
        // From 2027-01-01: credits only, and no free small files.
        (Store, store("hold"), small, CREDIT_ONLY_CUTOFF_TIMESTAMP, Err(202)),
        (Store, store("credit"), small, T_CREDIT_ONLY, Ok("credit")),
        (Program, program(false, false, "hold"), 0, T_CREDIT_ONLY, Err(202)),
        (Program, program(false, false, "superfluid"), 0, T_CREDIT_ONLY, Err(202)),
        (Program, program(false, false, "credit"), 0, T_CREDIT_ONLY, Ok("credit")),
        (Instance, instance("credit"), 0, T_CREDIT_ONLY, Ok("credit")),
    ];
    for (t, content, bytes, time, expected) in cases {
        assert_eq!(verdict(t, &content, bytes, at(time)), expected, "{t} {} at {time}", content["payment"]);
    }
    // A message confirmed before block 22 196 000 is free whatever its (unsigned) envelope time.
    let confirmed = MessageTiming { time: T_CREDIT_ONLY, first_confirmation_height: Some(22_195_999) };
    assert_eq!(verdict(Store, &store("hold"), big, confirmed), Ok("free"));
    let confirmed = MessageTiming { time: T_FREE, first_confirmation_height: Some(22_196_000) };
    assert_eq!(verdict(Store, &store("hold"), big, confirmed), Ok("hold"));
}

#[test]
fn cutoff_predicates() {
    assert!(are_store_and_program_free(&MessageTiming::at(1_743_775_078.9)));
    assert!(!are_store_and_program_free(&MessageTiming::at(1_743_775_079.0)));
    assert!(!is_hold_and_stream_deprecated(1_773_187_199.0));
    assert!(is_hold_and_stream_deprecated(1_773_187_200.0));
    assert!(!is_credit_only_required(1_798_761_599.0));
    assert!(is_credit_only_required(1_798_761_600.0));
    assert_eq!(min_credit_cost_per_second(), d("0.000277777777777777"));
}

// --- Pricing data ------------------------------------------------------------------------------

#[test]
fn default_pricing_round_trips_through_the_aggregate_form() {
    let p = Pricing::default();
    let json = p.to_aggregate();
    assert_eq!(
        json["instance"]["price"]["compute_unit"],
        json!({"holding": "1000", "payg": "0.055", "credit": "14250"})
    );
    assert_eq!(json["storage"]["price"]["storage"]["credit"], json!("0.17967489030626108"));
    assert_eq!(json["web3_hosting"]["price"]["fixed"], json!("50"));
    assert_eq!(
        json["instance_gpu_premium"]["tiers"][1],
        json!({"id": "tier-2", "compute_units": 24, "model": "H100", "vram": 81920})
    );
    assert_eq!(json["program"]["compute_unit"], json!({"vcpus": 1, "disk_mib": 2048, "memory_mib": 2048}));
    assert_eq!(Pricing::from_aggregate(&json), p);
    assert_eq!(p.products().count(), 8);
}

#[test]
fn a_pricing_aggregate_replaces_the_defaults() {
    let aggregate = json!({
        "instance": {
            "price": {"storage": {"holding": "0.1", "payg": 0.000001, "credit": "1"},
                      "compute_unit": {"holding": 500, "payg": "0.1", "credit": "36000"}},
            "compute_unit": {"vcpus": 1, "disk_mib": 10240, "memory_mib": 4096},
            "tiers": [{"id": "tier-1", "compute_units": 1}],
        },
        "storage": {"price": {"storage": {"holding": "1"}}},
        "program": {"price": {}},
        "something_else": 1,
    });
    let pricing = Pricing::from_aggregate(&aggregate);
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: None };
    // 1 vCPU, 2048 MiB: 1 CU; rootfs 20480 MiB with 10240 included.
    let c = message_costs_from_value(MessageType::Instance, &instance("credit"), MSG, &env).unwrap();
    assert_eq!(
        table(&c),
        vec![
            row(
                "EXECUTION",
                "instance",
                "500.000000000000000000",
                "0.000027777777777777",
                "10.000000000000000000"
            ),
            row(
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "EXECUTION_INSTANCE_VOLUME_ROOTFS",
                "2048.000000000000000000",
                "0.000005688888888888",
                "5.688888888888888888",
            ),
            row(
                "EXECUTION_VOLUME_DISCOUNT",
                "EXECUTION_VOLUME_DISCOUNT",
                "-1024.000000000000000000",
                "-0.000002844444444445",
                "-2.844444444444444445",
            ),
        ]
    );
    // Missing and malformed products.
    assert_eq!(
        message_costs_from_value(MessageType::Program, &program(false, false, "hold"), MSG, &env),
        Err(CostError::InvalidPricing("program.price.storage: missing".into()))
    );
    let mut instance_conf = instance("hold");
    instance_conf["environment"] = json!({"hypervisor": "qemu", "trusted_execution": {}});
    assert_eq!(
        message_costs_from_value(MessageType::Instance, &instance_conf, MSG, &env),
        Err(CostError::MissingProduct(Product::InstanceConfidential))
    );
    // The storage product has no compute unit: a STORE is still priced.
    let sizes = sizes(10 * MIB);
    let env = CostEnv { sizes: &sizes, ..env };
    let c = message_costs_from_value(MessageType::Store, &store("hold"), MSG, &env).unwrap();
    assert_eq!(c.total().unwrap(), d("10"));
}

#[test]
fn compute_unit_definitions_need_tiers() {
    // Without tiers the reference ignores the product's compute unit (default 2 GiB, no disk).
    let aggregate = json!({
        "instance": {
            "price": {"storage": {"holding": "1"}, "compute_unit": {"holding": "10"}},
            "compute_unit": {"vcpus": 1, "disk_mib": 20480, "memory_mib": 8192},
        },
    });
    let pricing = Pricing::from_aggregate(&aggregate);
    let settings = Settings::default();
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &NoFiles, estimates: None };
    let mut content = instance("hold");
    content["resources"] = json!({"vcpus": 1, "memory": 8192});
    let c = message_costs_from_value(MessageType::Instance, &content, MSG, &env).unwrap();
    // 8192 / 2048 = 4 CU; no included disk.
    assert_eq!(cost_string(c.rows[0].cost_hold), "40.000000000000000000");
    assert_eq!(cost_string(c.rows[2].cost_hold), "0.000000000000000000");
    assert_eq!(c.total().unwrap(), d("20520"));
}

#[test]
fn program_estimates_replace_file_lookups() {
    let mut content = program(false, false, "hold");
    content["code"]["estimated_size_mib"] = json!(3);
    content["runtime"]["estimated_size_mib"] = json!(0);
    content["volumes"] = json!([{"ref": FILE, "mount": "/opt", "estimated_size_mib": "5"}]);
    let est = EstimatedSizes::prepare(MessageType::Program, &mut content).unwrap();
    assert_eq!(est.code_mib, Some(3));
    assert_eq!(est.runtime_mib, None);
    assert_eq!(est.volumes_mib.get(&0), Some(&5));
    let pricing = Pricing::default();
    let settings = Settings::default();
    let sizes = sizes(0);
    let env = CostEnv { pricing: &pricing, settings: &settings, sizes: &sizes, estimates: Some(&est) };
    let c = message_costs_from_value(MessageType::Program, &content, MSG, &env).unwrap();
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "program",
            "EXECUTION_PROGRAM_VOLUME_CODE",
            "EXECUTION_PROGRAM_VOLUME_RUNTIME",
            "#0:/opt",
            "EXECUTION_VOLUME_DISCOUNT"
        ]
    );
    assert_eq!(c.rows[1].size_mib, Some(d("3")));
    assert_eq!(c.rows[2].size_mib, Some(d("200")));
    assert_eq!(c.rows[3].size_mib, Some(d("5")));
    let mut bad = program(false, false, "hold");
    bad["code"]["estimated_size_mib"] = json!(1.5);
    assert!(EstimatedSizes::prepare(MessageType::Program, &mut bad).is_err());
}

#[test]
fn instance_estimates_fill_time_and_allow_amend() {
    let mut content = instance("hold");
    content.as_object_mut().unwrap().remove("time");
    content.as_object_mut().unwrap().remove("allow_amend");
    EstimatedSizes::prepare(MessageType::Instance, &mut content).unwrap();
    assert_eq!(costs_of(MessageType::Instance, &content, 0).total().unwrap(), d("1000"));
}

#[test]
fn price_response_shape() {
    let c = costs_of(MessageType::Store, &store("hold"), 10 * MIB);
    let r = serde_json::to_value(c.price_response(OWNER, true).unwrap()).unwrap();
    assert_eq!(
        r,
        json!({
            "required_tokens": 3.33333333,
            "payment_type": "hold",
            "cost": "3.333333330000000000",
            "detail": [{"type": "STORAGE", "name": "STORAGE", "cost_hold": "3.333333330000000000",
                        "cost_stream": "0.000000000000000000", "cost_credit": "0.000499096917517391",
                        "size_mib": 10.0}],
            "charged_address": OWNER,
        })
    );
    let r = serde_json::to_value(c.price_response(OWNER, false).unwrap()).unwrap();
    assert_eq!(r["detail"][0]["size_mib"], Value::Null);
}

#[test]
fn settings_from_aggregate() {
    let s = Settings::from_aggregate(&json!({"compatible_gpus": [
        {"name": "x", "model": "L40S", "vendor": "NVIDIA", "device_id": "1:2"}
    ]}))
    .unwrap();
    assert_eq!(s.gpu_model("1:2"), Some("L40S"));
    assert_eq!(s.community_wallet_timestamp, 0);
    assert!(Settings::from_aggregate(&json!({"compatible_gpus": [{"name": "x"}]})).is_err());
    assert_eq!(Settings::default().gpu_model("10de:2330"), Some("H100"));
}
