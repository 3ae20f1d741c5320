//! The CRN's `microvm` executor end to end: programs in real QEMU micro-VMs (TCG where KVM does
//! not boot guests), booted from the assets `scripts/vm-assets` builds. Two VMs boot in all:
//! one without network (squashfs code, an immutable squashfs volume and a persistent ext4
//! volume, a timeout, a crash), one with `internet` (slirp to the host, the persistent volume
//! seen again, then forgotten).
#![cfg_attr(not(aleph_microvm), allow(dead_code, unused_imports))]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aleph_core::{MessageType, Signer};
use aleph_node::config::Executor;
use serde_json::{json, Value};

use crate::common::*;
use crate::crn::{call, crn_node, expect_status, running, squashfs_of, wait_until_stopped, Program};

/// An ASGI app reporting where it runs: kernel release, network interfaces, mounts, volumes.
const VM_APP: &str = r#"
import asyncio, json, os, socket, urllib.request

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            await send({"type": event["type"] + ".complete"})
            if event["type"] == "lifespan.shutdown":
                return
    path = scope["path"]
    if path == "/sleep":
        await asyncio.sleep(60)
    if path == "/crash":
        os._exit(3)
    await receive()
    state = "/srv/state/visits"
    visits = open(state).read().split() if os.path.exists(state) else []
    visits.append(os.environ["VISITOR"])
    with open(state, "w") as f:
        f.write(" ".join(visits))
    info = {
        "release": os.uname().release,
        "hostname": socket.gethostname(),
        "interfaces": sorted(os.listdir("/sys/class/net")),
        "library": open("/opt/lib/library.txt").read() if os.path.exists("/opt/lib/library.txt") else None,
        "visits": visits,
        "mounts": sorted(line.split()[1] + " " + line.split()[2] for line in open("/proc/mounts")),
    }
    if path == "/net":
        with urllib.request.urlopen(os.environ["HOST_URL"], timeout=30) as r:
            info["host_answer"] = json.loads(r.read())
    body = json.dumps(info).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [[b"content-type", b"application/json"]]})
    await send({"type": "http.response.body", "body": body})
"#;

/// The guest assets the tests boot (`scripts/vm-assets` builds them there).
fn assets_dir() -> PathBuf {
    std::env::var_os("ALEPH_VM_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/vm-assets"))
}

/// The pids of QEMU processes running the guest named `hostname`.
fn qemu_pids(hostname: &str) -> Vec<u32> {
    let needle = format!("aleph.hostname={hostname}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<String> =
            cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if args.first().is_some_and(|a| a.contains("qemu-system")) && args.iter().any(|a| a.contains(&needle))
        {
            pids.push(pid);
        }
    }
    pids
}

async fn wait_until_gone(hostname: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !qemu_pids(hostname).is_empty() {
        assert!(Instant::now() < deadline, "the QEMU process of {hostname} is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    not(aleph_microvm),
    ignore = "needs qemu-system-x86 and the guest assets: run scripts/vm-assets (scripts/test does)"
)]
async fn programs_run_in_micro_vms() {
    let node = crn_node(|c| {
        c.crn.executor = Executor::Microvm;
        c.crn.vm_assets = assets_dir();
        c.crn.start_timeout_secs = 120.0;
    })
    .await;
    let signer = node.eth(0);
    let owner = signer.address().to_string();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(assets_dir().join("manifest.json")).unwrap()).unwrap();
    let guest_release = manifest["kernel"]["release"].as_str().unwrap().to_owned();
    let host_release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap().trim().to_owned();
    assert_ne!(guest_release, host_release, "the test needs a guest kernel other than the host's");

    // Squashfs code, an immutable squashfs volume, a persistent volume (an ext4 image).
    let code = upload_and_store(&node, &signer, &squashfs_of(&[("main.py", VM_APP)]), None).await;
    let lib = upload_and_store(&node, &signer, &squashfs_of(&[("library.txt", "from a volume")]), None).await;
    let state = json!({"persistence": "host", "name": "state", "mount": "/srv/state", "size_mib": 16});
    let program = Program { seconds: 5, ..Program::asgi(VM_APP) };
    let mut content = program.content(&owner, code.item_hash.as_str());
    content["code"]["encoding"] = json!("squashfs");
    let scratch = json!({"ephemeral": true, "mount": "/var/scratch", "size_mib": 5});
    let lib_volume = json!({"ref": lib.item_hash.as_str(), "use_latest": false, "mount": "/opt/lib"});
    content["volumes"] = json!([lib_volume, state, scratch]);
    content["variables"] = json!({"VISITOR": "first"});
    let a = sign(&signer, MessageType::Program, content.clone());
    node.submit_ok(&a).await;
    let a_hash = a.item_hash.as_str();
    let a_host = aleph_node::program_hostname(a_hash);

    let started = Instant::now();
    let resp =
        expect_status(call(&node, reqwest::Method::GET, &format!("/vm/{a_hash}/"), "").await, 200).await;
    let cold = started.elapsed();
    let info: Value = resp.json().await.unwrap();
    // It is a VM: the guest runs its own kernel (Debian's), not the host's.
    assert_eq!(info["release"], guest_release, "{info}");
    assert_eq!(info["hostname"], a_host.as_str(), "{info}");
    assert_eq!(info["interfaces"], json!(["lo"]), "no network without environment.internet: {info}");
    assert_eq!(info["library"], "from a volume", "{info}");
    assert_eq!(info["visits"], json!(["first"]), "{info}");
    let mounts: Vec<&str> = info["mounts"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    for expected in
        ["/ overlay", "/opt/code squashfs", "/opt/lib squashfs", "/srv/state ext4", "/var/scratch tmpfs"]
    {
        assert!(mounts.contains(&expected), "{expected} not in {mounts:?}");
    }
    assert_eq!(qemu_pids(&a_host).len(), 1, "one QEMU process runs the program");
    let config = node.get_ok("/status/config").await;
    let executor = &config["executor"];
    assert_eq!(executor["kind"], "microvm", "{config}");
    assert!(matches!(executor["accelerator"]["name"].as_str(), Some("kvm" | "tcg")), "{config}");
    let reason = executor["accelerator"]["reason"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "the accelerator's reason is shown: {config}");
    eprintln!("micro-VM accelerator: {} ({reason})", executor["accelerator"]["name"]);
    assert_eq!(executor["assets_sha256"]["rootfs"], manifest["rootfs"]["sha256"], "{config}");
    let warm = Instant::now();
    expect_status(call(&node, reqwest::Method::GET, &format!("/vm/{a_hash}/again"), "").await, 200).await;
    eprintln!("micro-VM: cold start to first response {cold:?}, a warm request {:?}", warm.elapsed());

    // A request beyond resources.seconds: 504; a crash: 502, and the VM is gone.
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{a_hash}/sleep"), "").await;
    assert_eq!(resp.status(), 504);
    let resp = call(&node, reqwest::Method::GET, &format!("/vm/{a_hash}/crash"), "").await;
    assert_eq!(resp.status(), 502);
    wait_until_stopped(&node, a_hash).await;
    wait_until_gone(&a_host).await;

    // With internet: slirp reaches the host (the node's API at 10.0.2.2); the persistent volume
    // (same owner and name) kept what the first VM wrote.
    let port = node.url.rsplit(':').next().unwrap().trim_end_matches('/').to_owned();
    content["environment"]["internet"] = json!(true);
    content["variables"] =
        json!({"VISITOR": "second", "HOST_URL": format!("http://10.0.2.2:{port}/api/v0/info/public.json")});
    let b = sign(&signer, MessageType::Program, content);
    node.submit_ok(&b).await;
    let b_hash = b.item_hash.as_str();
    let b_host = aleph_node::program_hostname(b_hash);
    let resp =
        expect_status(call(&node, reqwest::Method::GET, &format!("/vm/{b_hash}/net"), "").await, 200).await;
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["interfaces"], json!(["eth0", "lo"]), "{info}");
    assert_eq!(info["visits"], json!(["first", "first", "second"]), "{info}");
    let public = node.get_ok("/api/v0/info/public.json").await;
    assert_eq!(info["host_answer"], public, "the guest read the node's API through slirp");
    assert_eq!(running(&node).await[b_hash]["running"], true);

    // Forgetting the program stops it: its QEMU process is gone.
    node.submit_ok(&forget(&signer, &[b_hash])).await;
    wait_until_stopped(&node, b_hash).await;
    wait_until_gone(&b_host).await;
    node.stop().await;
}

/// Runs `command` in the guest over SSH (the test's key, the mapped port); `None` until sshd
/// takes the key.
fn ssh(key: &std::path::Path, port: u16, command: &str) -> Option<String> {
    let out = std::process::Command::new("ssh")
        .arg("-i")
        .arg(key)
        .args(["-p", &port.to_string()])
        .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"])
        .args(["-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@127.0.0.1", command])
        .output()
        .expect("ssh runs");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
#[cfg_attr(
    not(aleph_microvm),
    ignore = "needs qemu-system-x86, genisoimage, ssh and the guest assets: run scripts/vm-assets (scripts/test does)"
)]
async fn an_instance_boots_from_its_rootfs_store_and_takes_ssh() {
    let node = crn_node(|c| {
        c.crn.vm_assets = assets_dir();
        c.limits.max_unauthenticated_upload = 256 << 20;
    })
    .await;
    let owner = node.eth(0);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(assets_dir().join("manifest.json")).unwrap()).unwrap();
    let image = std::fs::read(assets_dir().join("test-instance.qcow2")).unwrap();
    let rootfs = upload_and_store(&node, &owner, &image, None).await;
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap().trim().to_owned();
    let instance = sign(
        &owner,
        MessageType::Instance,
        json!({
            "allow_amend": false, "metadata": {"name": "crn-it"}, "authorized_keys": [public],
            "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 512, "seconds": 30}, "volumes": [],
            "payment": {"chain": "ETH", "type": "credit"},
            "rootfs": {"parent": {"ref": rootfs.item_hash.as_str(), "use_latest": true}, "persistence": "host", "size_mib": 2048},
        }),
    );
    node.submit_ok(&instance).await;
    let hash = instance.item_hash.as_str();
    let hostname = aleph_node::program_hostname(hash);

    let started = Instant::now();
    let client = aleph_sdk::crn::CrnClient::new(&node.url).unwrap().with_owner(&owner).unwrap();
    let notification = client.notify_allocation(&instance.item_hash).await.unwrap();
    assert!(notification.success, "{notification:?}");
    let list = running(&node).await;
    assert_eq!(list[hash]["running"], true, "{list}");
    assert_eq!(list[hash]["vm_type"], "instance");
    let port =
        list[hash]["networking"]["mapped_ports"]["22"]["host"].as_u64().expect("a mapped SSH port") as u16;
    assert_eq!(list[hash]["networking"]["mapped_ports"]["22"]["tcp"], true, "{list}");
    assert_eq!(qemu_pids(&hostname).len(), 1);

    // The guest's sshd takes the message's key once cloud-init has read the seed.
    let command =
        "hostname; uname -r; awk '/MemTotal/ {print $2}' /proc/meminfo; df -m --output=size / | tail -1";
    let deadline = Instant::now() + Duration::from_secs(300);
    let answer = loop {
        let (key, command) = (key.clone(), command.to_owned());
        if let Some(out) = tokio::task::spawn_blocking(move || ssh(&key, port, &command)).await.unwrap() {
            break out;
        }
        assert!(Instant::now() < deadline, "no SSH into the instance within 300 s");
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    eprintln!("instance: boot to SSH {:?}", started.elapsed());
    let lines: Vec<&str> = answer.lines().map(str::trim).collect();
    assert_eq!(lines[0], hostname, "cloud-init set the hostname: {answer}");
    assert_eq!(lines[1], manifest["kernel"]["release"].as_str().unwrap(), "{answer}");
    let mem_kib: u64 = lines[2].parse().unwrap();
    assert!((400 * 1024..=512 * 1024).contains(&mem_kib), "the guest sees the requested 512 MiB: {answer}");
    let root_mib: u64 = lines[3].parse().unwrap();
    assert!(root_mib > 1900, "the root filesystem grew to the requested 2048 MiB: {answer}");

    // The owner's signed stop ends QEMU; erase deletes the disk.
    assert_eq!(client.stop(&instance.item_hash).await.unwrap(), "Stopped VM");
    wait_until_gone(&hostname).await;
    let list = running(&node).await;
    assert_eq!(list[hash]["running"], false, "{list}");
    assert_eq!(list[hash]["networking"]["mapped_ports"], json!({}), "{list}");
    let disk = node.data_dir().join("crn/instances").join(hash).join("rootfs.qcow2");
    assert!(disk.is_file(), "stop keeps the disk");
    assert_eq!(client.erase(&instance.item_hash).await.unwrap(), "Erased VM");
    assert!(!disk.exists(), "erase deletes the disk");

    // Allocated again (a fresh disk), then forgotten: the payment monitor stops it.
    assert!(client.notify_allocation(&instance.item_hash).await.unwrap().success);
    assert!(disk.is_file());
    assert_eq!(qemu_pids(&hostname).len(), 1);
    node.submit_ok(&forget(&owner, &[hash])).await;
    wait_until_gone(&hostname).await;
    assert_eq!(running(&node).await[hash]["running"], false);
    node.stop().await;
}

#[tokio::test]
#[cfg_attr(
    not(aleph_microvm),
    ignore = "needs qemu-system-x86, genisoimage, ssh and the guest assets: run scripts/vm-assets (scripts/test does)"
)]
async fn instances_beyond_the_hosts_memory_are_refused_with_the_reason() {
    let node = crn_node(|c| {
        c.crn.vm_assets = assets_dir();
        c.crn.memory_mib = 1024;
    })
    .await;
    let owner = node.eth(0);
    let rootfs = upload_and_store(&node, &owner, b"never booted", None).await;
    let instance = sign(
        &owner,
        MessageType::Instance,
        json!({
            "allow_amend": false, "metadata": {"name": "crn-it"},
            "environment": {"reproducible": false, "internet": true, "aleph_api": true, "shared_cache": false},
            "resources": {"vcpus": 1, "memory": 2048, "seconds": 30}, "volumes": [],
            "payment": {"chain": "ETH", "type": "credit"},
            "rootfs": {"parent": {"ref": rootfs.item_hash.as_str(), "use_latest": true}, "persistence": "host", "size_mib": 2048},
        }),
    );
    node.submit_ok(&instance).await;
    let hash = instance.item_hash.as_str();
    let resp = node
        .http
        .post(format!("{}/control/allocation/notify", node.url))
        .json(&json!({"instance": hash}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][hash], "Insufficient capacity: 2048 MiB requested, 0 of 1024 MiB in use",
        "{body}"
    );
    assert_eq!(running(&node).await[hash]["allocation"]["status"], "refused");
    assert!(qemu_pids(&aleph_node::program_hostname(hash)).is_empty(), "nothing was booted");
    node.stop().await;
}
