//! Cost of the log at one million leaves, with bare SHA-256 of the same leaf payloads as the
//! baseline, so the log's overhead reads as a ratio to hashing alone.
//!
//! Also the cost of signing and verifying a checkpoint, Ed25519 (default) beside SM2 (guomi).
//!
//! Run: `cargo bench -p anxin-ledger -- --warm-up-time 1 --measurement-time 3`
//! (signatures only: `cargo bench -p anxin-ledger --bench merkle -- signatures`)

use std::hint::black_box;

use anxin_ledger::{
    Checkpoint, Hash, LogHasher, MerkleTree, Sha256Hasher, Signer, parse_and_verify_checkpoint,
    root_from_leaf_hashes, sign_checkpoint, verify_inclusion,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest as _;

const LEAVES: usize = 1_000_000;
/// A typical ledger event: a contribution record serialised as JSON is ~200 bytes.
const PAYLOAD_BYTES: usize = 200;

fn payloads() -> Vec<Vec<u8>> {
    (0..LEAVES as u64)
        .map(|i| {
            let mut payload = vec![0u8; PAYLOAD_BYTES];
            payload[..8].copy_from_slice(&i.to_le_bytes());
            payload
        })
        .collect()
}

fn bench_bulk(c: &mut Criterion) {
    let payloads = payloads();
    let leaf_hashes: Vec<Hash> = payloads.iter().map(|p| Sha256Hasher.leaf(p)).collect();

    let mut group = c.benchmark_group("1M leaves");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LEAVES as u64));

    // Baseline: plain SHA-256 of each payload, nothing else.
    group.bench_function("baseline: sha256 of payloads", |b| {
        b.iter(|| {
            let mut last = [0u8; 32];
            for payload in &payloads {
                last = sha2::Sha256::digest(payload).into();
            }
            black_box(last)
        })
    });
    group.bench_function("leaf hashes of payloads", |b| {
        b.iter(|| {
            let mut last = [0u8; 32];
            for payload in &payloads {
                last = Sha256Hasher.leaf(payload);
            }
            black_box(last)
        })
    });
    group.bench_function("root from leaf hashes (audit)", |b| {
        b.iter(|| {
            black_box(root_from_leaf_hashes(
                &Sha256Hasher,
                black_box(&leaf_hashes),
            ))
        })
    });
    group.bench_function("append leaf hashes", |b| {
        b.iter(|| {
            let mut tree = MerkleTree::default();
            for leaf_hash in &leaf_hashes {
                tree.append_leaf_hash(*leaf_hash).unwrap();
            }
            black_box(tree.root())
        })
    });
    group.bench_function("append leaf data (hash + append)", |b| {
        b.iter(|| {
            let mut tree = MerkleTree::default();
            for payload in &payloads {
                tree.append_leaf_data(payload).unwrap();
            }
            black_box(tree.root())
        })
    });
    group.bench_function("build from leaf hashes (bulk)", |b| {
        b.iter_batched(
            || leaf_hashes.clone(),
            |hashes| {
                black_box(
                    MerkleTree::from_leaf_hashes(Sha256Hasher, hashes)
                        .unwrap()
                        .root(),
                )
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench_proofs(c: &mut Criterion) {
    let leaf_hashes: Vec<Hash> = (0..LEAVES as u64)
        .map(|i| Sha256Hasher.leaf(&i.to_le_bytes()))
        .collect();
    let tree = MerkleTree::from_leaf_hashes(Sha256Hasher, leaf_hashes).unwrap();
    let size = tree.size();
    let root = tree.root();
    // A spread of leaves, so both cached (left) and partial (right-edge) subtrees are hit.
    let indexes: Vec<u64> = (0..1024u64).map(|i| i * 999_983 % size).collect();
    let proofs: Vec<Vec<Hash>> = indexes
        .iter()
        .map(|&i| tree.inclusion_proof(i, size).unwrap())
        .collect();

    let mut group = c.benchmark_group("proofs at 1M");
    let mut next = 0usize;
    group.bench_function("inclusion proof generation", |b| {
        b.iter(|| {
            next = (next + 1) % indexes.len();
            black_box(tree.inclusion_proof(indexes[next], size).unwrap())
        })
    });
    group.bench_function("inclusion proof verification", |b| {
        b.iter(|| {
            next = (next + 1) % indexes.len();
            let leaf = tree.leaf_hash(indexes[next]).unwrap();
            verify_inclusion(
                &Sha256Hasher,
                indexes[next],
                size,
                leaf,
                &proofs[next],
                &root,
            )
            .unwrap()
        })
    });
    group.bench_function("consistency proof generation 999_999 -> 1M", |b| {
        b.iter(|| black_box(tree.consistency_proof(size - 1, size).unwrap()))
    });
    group.bench_function("root at a past size (999_999)", |b| {
        b.iter(|| black_box(tree.root_at(black_box(size - 1)).unwrap()))
    });
    group.finish();
}

/// One checkpoint signed and verified with each algorithm, side by side. Signing includes
/// writing the note text; verifying includes parsing it.
fn bench_signatures(c: &mut Criterion) {
    let checkpoint = Checkpoint::new("anxin.example/log", 1_000_000, Sha256Hasher.leaf(b"root"));
    let signers = [
        (
            "Ed25519",
            Signer::from_seed("anxin.example/log", &[7u8; 32]).unwrap(),
        ),
        (
            "SM2",
            Signer::from_sm2_secret("anxin.example/log", &[7u8; 32]).unwrap(),
        ),
    ];
    let mut group = c.benchmark_group("signatures");
    for (algorithm, signer) in &signers {
        let verifier = signer.verifier();
        let signed = sign_checkpoint(signer, &checkpoint).unwrap();
        group.bench_function(format!("{algorithm} sign checkpoint"), |b| {
            b.iter(|| black_box(sign_checkpoint(signer, black_box(&checkpoint)).unwrap()))
        });
        group.bench_function(format!("{algorithm} verify checkpoint"), |b| {
            b.iter(|| {
                black_box(parse_and_verify_checkpoint(black_box(&signed), &verifier).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_signatures, bench_bulk, bench_proofs);
criterion_main!(benches);
