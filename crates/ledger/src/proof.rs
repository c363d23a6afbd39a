//! Proof verification, step for step as RFC 9162 §2.1.3.2 and §2.1.4.2 write it.
//!
//! These functions are what an outside verifier runs (the CLI, the public web page, a
//! destination region checking a transfer package), so they follow the RFC text literally
//! rather than cleverly, and every way to fail has its own error.
//!
//! Where the RFC leaves a case to the caller, this module decides as transparency-dev/merkle
//! does (and as its published test vectors expect): a consistency proof from size 0 is
//! rejected, and between equal sizes the proof must be empty and the roots equal.

use crate::{Error, Hash, LogHasher, MAX_PROOF_HASHES, hex};

/// Checks that `leaf_hash` is leaf `leaf_index` of the tree of size `tree_size` whose root is
/// `root`, given the inclusion `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion<H: LogHasher + ?Sized>(
    hasher: &H,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(hasher, leaf_index, tree_size, leaf_hash, proof)?;
    if computed != *root {
        return Err(Error::RootMismatch {
            computed_hex: hex(&computed),
            expected_hex: hex(root),
        });
    }
    Ok(())
}

/// The root that an inclusion proof leads to, or why it leads nowhere. Steps 1 to 4 of RFC
/// 9162 §2.1.3.2 plus the `sn == 0` check of step 5; the caller compares the root.
pub fn root_from_inclusion_proof<H: LogHasher + ?Sized>(
    hasher: &H,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, Error> {
    check_limits(tree_size, proof)?;
    // Step 1.
    if leaf_index >= tree_size {
        return Err(Error::LeafIndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    // Steps 2 and 3. `fn` is a keyword, hence `f_n`.
    let mut f_n = leaf_index;
    let mut s_n = tree_size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for (position, p) in proof.iter().enumerate() {
        if s_n == 0 {
            return Err(Error::ProofHasSurplusHashes {
                tree_size,
                position,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hasher.node(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = hasher.node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5, first half.
    if s_n != 0 {
        return Err(Error::ProofTooShort { tree_size });
    }
    Ok(r)
}

/// Checks that the tree of size `size2` with root `root2` extends the tree of size `size1`
/// with root `root1`, given the consistency `proof` (RFC 9162 §2.1.4.2).
pub fn verify_consistency<H: LogHasher + ?Sized>(
    hasher: &H,
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), Error> {
    check_limits(size2, proof)?;
    if size1 > size2 {
        return Err(Error::ConsistencySizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(Error::ConsistencyFromEmptyTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(Error::ConsistencyProofNotEmpty {
                size: size1,
                len: proof.len(),
            });
        }
        if root1 != root2 {
            return Err(Error::ConsistencyRootsDiffer {
                size: size1,
                root1_hex: hex(root1),
                root2_hex: hex(root2),
            });
        }
        return Ok(());
    }
    // From here 0 < size1 < size2, the RFC's precondition.
    // Step 1.
    let Some((proof_first, proof_rest)) = proof.split_first() else {
        return Err(Error::ConsistencyProofEmpty { size1, size2 });
    };
    // Step 2: prepending `root1` when size1 is a power of two is the same as starting from
    // `root1` and walking the whole proof; otherwise start from the first proof hash.
    let (start, path, path_offset) = if size1.is_power_of_two() {
        (root1, proof, 0)
    } else {
        (proof_first, proof_rest, 1)
    };
    // Step 3.
    let mut f_n = size1 - 1;
    let mut s_n = size2 - 1;
    // Step 4.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    let mut f_r = *start;
    let mut s_r = *start;
    // Step 6.
    for (position, c) in path.iter().enumerate() {
        if s_n == 0 {
            let position = position + path_offset;
            return Err(Error::ProofHasSurplusHashes {
                tree_size: size2,
                position,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = hasher.node(c, &f_r);
            s_r = hasher.node(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = hasher.node(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(Error::ProofTooShort { tree_size: size2 });
    }
    if f_r != *root1 {
        return Err(Error::ConsistencyRoot1Mismatch {
            computed_hex: hex(&f_r),
            expected_hex: hex(root1),
        });
    }
    if s_r != *root2 {
        return Err(Error::ConsistencyRoot2Mismatch {
            computed_hex: hex(&s_r),
            expected_hex: hex(root2),
        });
    }
    Ok(())
}

fn check_limits(tree_size: u64, proof: &[Hash]) -> Result<(), Error> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(Error::ProofTooLong {
            len: proof.len(),
            limit: MAX_PROOF_HASHES,
        });
    }
    crate::tree::check_tree_size(tree_size)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{MAX_TREE_SIZE, Sha256Hasher};

    const H: Sha256Hasher = Sha256Hasher;

    #[test]
    fn limits_are_enforced_before_any_work() {
        let proof = vec![[0u8; 32]; MAX_PROOF_HASHES + 1];
        let hash = [0u8; 32];
        assert_eq!(
            verify_inclusion(&H, 0, 10, &hash, &proof, &hash),
            Err(Error::ProofTooLong { len: 65, limit: 64 })
        );
        assert_eq!(
            verify_consistency(&H, 1, 10, &proof, &hash, &hash),
            Err(Error::ProofTooLong { len: 65, limit: 64 })
        );
        assert_eq!(
            verify_inclusion(&H, 0, u64::MAX, &hash, &[], &hash),
            Err(Error::TreeSizeTooLarge {
                tree_size: u64::MAX,
                limit: MAX_TREE_SIZE
            })
        );
    }

    #[test]
    fn single_leaf_tree_root_is_the_leaf() {
        let leaf = H.leaf(b"only");
        assert_eq!(verify_inclusion(&H, 0, 1, &leaf, &[], &leaf), Ok(()));
        assert!(matches!(
            verify_inclusion(&H, 0, 1, &leaf, &[leaf], &leaf),
            Err(Error::ProofHasSurplusHashes {
                tree_size: 1,
                position: 0
            })
        ));
    }

    #[test]
    fn error_messages_say_what_and_what_was_expected() {
        let message = Error::LeafIndexOutOfRange {
            leaf_index: 9,
            tree_size: 4,
        }
        .to_string();
        assert_eq!(
            message,
            "leaf index 9 is outside a tree of size 4; expected an index below the tree size"
        );
        let message = verify_consistency(&H, 3, 2, &[], &[0; 32], &[0; 32])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("first size must not exceed the second"),
            "{message}"
        );
    }

    proptest! {
        /// Arbitrary sizes, indexes and proofs near the u64 edges: an error or success,
        /// never a panic or an overflow.
        #[test]
        fn verification_never_panics(
            leaf_index in prop_oneof![any::<u64>(), 0u64..1000, Just(MAX_TREE_SIZE - 1)],
            tree_size in prop_oneof![any::<u64>(), 0u64..1000, Just(MAX_TREE_SIZE), Just(u64::MAX)],
            proof in prop::collection::vec(any::<[u8; 32]>(), 0..70),
            root: [u8; 32],
            leaf: [u8; 32],
        ) {
            let _ = verify_inclusion(&H, leaf_index, tree_size, &leaf, &proof, &root);
            let _ = verify_consistency(&H, leaf_index, tree_size, &proof, &leaf, &root);
            let _ = verify_consistency(&H, tree_size, leaf_index, &proof, &leaf, &root);
        }
    }
}
