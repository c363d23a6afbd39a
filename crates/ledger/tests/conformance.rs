//! RFC 6962 / RFC 9162 conformance against the transparency-dev/merkle test vectors in
//! `shared/testdata/merkle` (see its README.md).
//!
//! Checks, for every vector file: roots of the reference tree; every valid proof verifies;
//! every mutated proof (`wantErr`) fails; and the proofs our tree generates are byte for byte
//! the published ones. Each directory must yield vectors, so the test cannot pass on an
//! empty or misplaced data directory.
//!
//! A few vectors hold values that are not 32 bytes. Our API takes `[u8; 32]`, so such values
//! are handled as transparency-dev/merkle does: a leaf hash or proof entry of another length
//! is an error by itself (here it cannot even be passed in, so the vector counts as failing
//! at the type boundary). A root of another length is only ever compared for equality, so
//! it is mapped to SHA-256("not a 32-byte hash" || value), which keeps equal values equal and
//! different ones different, and the vector still runs through the verifier.

use std::path::{Path, PathBuf};

use anxin_ledger::{
    Error, Hash, LogHasher, MerkleTree, Sha256Hasher, root_from_leaf_hashes, verify_consistency,
    verify_inclusion,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use sha2::Digest as _;

const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/merkle"
);

#[derive(Deserialize)]
struct Roots {
    leaf_inputs_hex: Vec<String>,
    roots_hex: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[test]
fn roots_match_reference_tree() {
    let roots: Roots = read_json(&Path::new(TESTDATA).join("roots.json"));
    let leaves = reference_leaves();
    assert_eq!(
        roots.roots_hex.len(),
        leaves.len() + 1,
        "roots for sizes 0..=8"
    );
    let mut tree = MerkleTree::default();
    for (size, root_hex) in roots.roots_hex.iter().enumerate() {
        let want = from_hex(root_hex);
        assert_eq!(
            tree.root_at(size as u64).unwrap(),
            want,
            "root_at size {size}"
        );
        let leaf_hashes: Vec<Hash> = leaves[..size]
            .iter()
            .map(|d| Sha256Hasher.leaf(d))
            .collect();
        assert_eq!(
            root_from_leaf_hashes(&Sha256Hasher, &leaf_hashes),
            want,
            "streaming root size {size}"
        );
        let bulk = MerkleTree::from_leaf_hashes(Sha256Hasher, leaf_hashes).unwrap();
        assert_eq!(bulk.root(), want, "bulk-built root size {size}");
        if let Some(data) = leaves.get(size) {
            tree.append_leaf_data(data).unwrap();
        }
    }
}

#[test]
fn inclusion_vectors() {
    let files = json_files(&Path::new(TESTDATA).join("inclusion"));
    let tree = reference_tree();
    let (mut valid, mut invalid, mut generated, mut rejected_by_type) = (0, 0, 0, 0);
    for file in &files {
        let v: InclusionVector = read_json(file);
        let name = format!("{} ({})", file.display(), v.desc);
        let root = root_of(&v.root);
        let (Some(leaf_hash), Some(proof)) = (strict_hash(&v.leaf_hash), strict_proof(&v.proof))
        else {
            assert!(
                v.want_err,
                "{name}: valid vector has a value that is not 32 bytes"
            );
            invalid += 1;
            rejected_by_type += 1;
            continue;
        };
        let result = verify_inclusion(
            &Sha256Hasher,
            v.leaf_idx,
            v.tree_size,
            &leaf_hash,
            &proof,
            &root,
        );
        if v.want_err {
            assert!(result.is_err(), "{name}: mutated proof verified");
            invalid += 1;
            continue;
        }
        assert_eq!(result, Ok(()), "{name}: valid proof rejected");
        valid += 1;
        // Vectors drawn from the reference tree: our generated proof must be the same.
        let from_reference = v.tree_size <= tree.size()
            && tree.leaf_hash(v.leaf_idx) == Some(&leaf_hash)
            && tree.root_at(v.tree_size).unwrap() == root;
        if from_reference {
            assert_eq!(
                tree.inclusion_proof(v.leaf_idx, v.tree_size).unwrap(),
                proof,
                "{name}: generated proof differs"
            );
            generated += 1;
        }
    }
    eprintln!(
        "inclusion: {} files, {valid} valid, {invalid} mutated ({rejected_by_type} not 32 bytes), {generated} regenerated",
        files.len()
    );
    assert!(
        valid >= 5 && invalid >= 50,
        "too few inclusion vectors: {valid} valid, {invalid} mutated"
    );
    assert!(
        generated >= 4,
        "too few inclusion proofs regenerated: {generated}"
    );
}

#[test]
fn consistency_vectors() {
    let files = json_files(&Path::new(TESTDATA).join("consistency"));
    let tree = reference_tree();
    let (mut valid, mut invalid, mut generated, mut rejected_by_type) = (0, 0, 0, 0);
    for file in &files {
        let v: ConsistencyVector = read_json(file);
        let name = format!("{} ({})", file.display(), v.desc);
        let (root1, root2) = (root_of(&v.root1), root_of(&v.root2));
        let Some(proof) = strict_proof(&v.proof) else {
            assert!(
                v.want_err,
                "{name}: valid vector has a proof entry that is not 32 bytes"
            );
            invalid += 1;
            rejected_by_type += 1;
            continue;
        };
        let result = verify_consistency(&Sha256Hasher, v.size1, v.size2, &proof, &root1, &root2);
        if v.want_err {
            assert!(result.is_err(), "{name}: mutated proof verified");
            invalid += 1;
            continue;
        }
        assert_eq!(result, Ok(()), "{name}: valid proof rejected");
        valid += 1;
        let from_reference = v.size2 <= tree.size()
            && tree.root_at(v.size1).unwrap() == root1
            && tree.root_at(v.size2).unwrap() == root2;
        if from_reference {
            assert_eq!(
                tree.consistency_proof(v.size1, v.size2).unwrap(),
                proof,
                "{name}: generated proof differs"
            );
            generated += 1;
        }
    }
    eprintln!(
        "consistency: {} files, {valid} valid, {invalid} mutated ({rejected_by_type} not 32 bytes), {generated} regenerated",
        files.len()
    );
    assert!(
        valid >= 5 && invalid >= 50,
        "too few consistency vectors: {valid} valid, {invalid} mutated"
    );
    assert!(
        generated >= 5,
        "too few consistency proofs regenerated: {generated}"
    );
}

/// Errors name the failed check, so a regression that fails for the wrong reason shows.
#[test]
fn mutated_vectors_fail_for_the_expected_reason() {
    let dir = Path::new(TESTDATA).join("inclusion/1");
    let check = |file: &str| {
        let v: InclusionVector = read_json(&dir.join(file));
        let proof = strict_proof(&v.proof).unwrap();
        let leaf_hash = strict_hash(&v.leaf_hash).unwrap();
        verify_inclusion(
            &Sha256Hasher,
            v.leaf_idx,
            v.tree_size,
            &leaf_hash,
            &proof,
            &root_of(&v.root),
        )
        .unwrap_err()
    };
    assert!(matches!(
        check("leafIdx-sub-@1.json"),
        Error::LeafIndexOutOfRange { .. }
    ));
    assert!(matches!(
        check("inserted-component.json"),
        Error::ProofHasSurplusHashes { .. }
    ));
    assert!(matches!(
        check("removed-component.json"),
        Error::ProofTooShort { .. }
    ));
    assert!(matches!(
        check("random-root.json"),
        Error::RootMismatch { .. }
    ));
}

fn reference_leaves() -> Vec<Vec<u8>> {
    let roots: Roots = read_json(&Path::new(TESTDATA).join("roots.json"));
    roots
        .leaf_inputs_hex
        .iter()
        .map(|h| from_hex_bytes(h))
        .collect()
}

fn reference_tree() -> MerkleTree {
    let mut tree = MerkleTree::default();
    for data in reference_leaves() {
        tree.append_leaf_data(&data).unwrap();
    }
    tree
}

/// Every `.json` file below `dir`, sorted; fails if `dir` or any directory below it holds none.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let before = out.len();
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                out.push(path);
            }
        }
        assert!(out.len() > before, "no vectors under {}", dir.display());
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// A vector value as a hash, if it is 32 bytes.
fn strict_hash(value_base64: &str) -> Option<Hash> {
    BASE64
        .decode(value_base64)
        .expect("vector values are valid base64")
        .try_into()
        .ok()
}

/// A vector proof (absent means empty), if every entry is 32 bytes.
fn strict_proof(proof: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    proof
        .iter()
        .flatten()
        .map(|entry| strict_hash(entry))
        .collect()
}

/// A vector root; roots that are not 32 bytes are mapped as the module doc says.
fn root_of(value_base64: &str) -> Hash {
    let bytes = BASE64
        .decode(value_base64)
        .expect("vector values are valid base64");
    match <Hash>::try_from(bytes.as_slice()) {
        Ok(hash) => hash,
        Err(_) => sha2::Sha256::new()
            .chain_update(b"not a 32-byte hash")
            .chain_update(&bytes)
            .finalize()
            .into(),
    }
}

fn from_hex(text: &str) -> Hash {
    from_hex_bytes(text).try_into().expect("32-byte hex")
}

fn from_hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
