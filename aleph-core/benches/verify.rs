//! Verification throughput: EVM (against libsecp256k1's recovery), ed25519 one by one and in
//! batches, Tezos raw and Micheline against plain ed25519.
//!
//! Run with: `cargo bench -p aleph-core --bench verify`

use aleph_core::chain::ethereum::{eip191_digest, EthereumSigner};
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{SigningMode, TezosCurve, TezosSigner};
use aleph_core::{verify_batch, verify_signature, MessageType, PendingMessage, Signer, UnsignedMessage};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn messages(signer: &dyn Signer, n: usize) -> Vec<PendingMessage> {
    (0..n)
        .map(|i| {
            let content = format!(
                r#"{{"address":"{}","time":1700000000.5,"type":"bench","content":{{"n":{i}}}}}"#,
                signer.address()
            );
            signer
                .sign(UnsignedMessage::inline(MessageType::Post, content, 1_700_000_000.5, None))
                .expect("sign")
        })
        .collect()
}

fn evm(c: &mut Criterion) {
    let signer =
        EthereumSigner::from_hex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap();
    let msgs = messages(&signer, 256);
    let mut g = c.benchmark_group("evm");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("verify_signature (aleph-core, k256)", |b| {
        b.iter(|| {
            i = (i + 1) % msgs.len();
            verify_signature(&msgs[i].signed_fields()).unwrap()
        })
    });
    // The baseline: libsecp256k1 recovering the key from the same digests and signatures.
    let secp = secp256k1::Secp256k1::verification_only();
    let prepared: Vec<_> = msgs
        .iter()
        .map(|m| {
            let f = m.signed_fields();
            let digest = eip191_digest(&f.buffer());
            let raw = hex::decode(&f.signature[2..]).unwrap();
            let id = secp256k1::ecdsa::RecoveryId::try_from(i32::from(raw[64] - 27)).unwrap();
            let sig = secp256k1::ecdsa::RecoverableSignature::from_compact(&raw[..64], id).unwrap();
            (secp256k1::Message::from_digest(digest), sig)
        })
        .collect();
    g.bench_function("recover (libsecp256k1 baseline)", |b| {
        b.iter(|| {
            i = (i + 1) % prepared.len();
            secp.recover_ecdsa(prepared[i].0, &prepared[i].1).unwrap()
        })
    });
    g.finish();
}

fn ed25519(c: &mut Criterion) {
    let signer = SolanaSigner::from_seed(&[9u8; 32]);
    let msgs = messages(&signer, 64);
    let fields: Vec<_> = msgs.iter().map(PendingMessage::signed_fields).collect();
    let mut g = c.benchmark_group("ed25519");
    g.throughput(Throughput::Elements(fields.len() as u64));
    g.bench_function("single x64 (one core)", |b| {
        b.iter(|| fields.iter().for_each(|f| verify_signature(f).unwrap()))
    });
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    g.bench_function("batch x64 (verify_batch, one core)", |b| {
        b.iter(|| one_core.install(|| assert!(verify_batch(&fields).iter().all(Result::is_ok))))
    });
    g.finish();
}

fn tezos(c: &mut Criterion) {
    let raw = TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &[5u8; 32]).unwrap();
    let micheline = raw.clone().with_mode(SigningMode::Micheline { dapp_url: "aleph.im".into() });
    let sol = SolanaSigner::from_seed(&[5u8; 32]);
    let mut g = c.benchmark_group("tezos-vs-ed25519");
    g.throughput(Throughput::Elements(1));
    for (name, signer) in [
        ("solana ed25519", &sol as &dyn Signer),
        ("tezos raw (tz1)", &raw),
        ("tezos micheline (tz1)", &micheline),
    ] {
        let msgs = messages(signer, 64);
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % msgs.len();
                verify_signature(&msgs[i].signed_fields()).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = evm, ed25519, tezos
}
criterion_main!(benches);
