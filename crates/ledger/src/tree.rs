//! In-memory append-only Merkle tree with RFC 9162 roots and proofs.
//!
//! Layout: `levels[0]` holds every leaf hash; `levels[k][i]` holds the root of the perfect
//! subtree of `2^k` leaves that starts at leaf `i * 2^k`, stored as soon as it is complete.
//! This costs one extra hash per leaf in memory (about 2n hashes in all) and makes any
//! subtree on the RFC's split lines a lookup plus at most one partial right edge, so a root or
//! proof at any past size costs O(log n) hashes. Appending costs one leaf push and, amortised,
//! one node hash.

use crate::{Error, Hash, LogHasher, MAX_TREE_SIZE, Sha256Hasher};

/// An append-only Merkle tree held in memory.
#[derive(Clone)]
pub struct MerkleTree<H: LogHasher = Sha256Hasher> {
    hasher: H,
    /// `levels[k]` holds the roots of the complete perfect subtrees of height `k`, in order.
    levels: Vec<Vec<Hash>>,
}

/// Size and root only: a million leaf hashes have no place in a log line.
impl<H: LogHasher> std::fmt::Debug for MerkleTree<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerkleTree")
            .field("size", &self.size())
            .field("root", &crate::hex(&self.root()))
            .finish()
    }
}

impl Default for MerkleTree<Sha256Hasher> {
    fn default() -> Self {
        Self::new(Sha256Hasher)
    }
}

impl<H: LogHasher> MerkleTree<H> {
    /// An empty tree using `hasher`.
    pub fn new(hasher: H) -> Self {
        Self {
            hasher,
            levels: vec![Vec::new()],
        }
    }

    /// A tree holding `leaf_hashes`, built level by level (faster than appending one by one).
    pub fn from_leaf_hashes(hasher: H, leaf_hashes: Vec<Hash>) -> Result<Self, Error> {
        check_tree_size(leaf_hashes.len() as u64)?;
        let mut levels = vec![leaf_hashes];
        loop {
            let below = &levels[levels.len() - 1];
            if below.len() < 2 {
                break;
            }
            let above: Vec<Hash> = below
                .chunks_exact(2)
                .map(|pair| hasher.node(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        Ok(Self { hasher, levels })
    }

    /// The hasher this tree uses.
    pub fn hasher(&self) -> &H {
        &self.hasher
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// True when the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// All leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.levels[0]
    }

    /// Hash of the leaf at `leaf_index`, if present.
    pub fn leaf_hash(&self, leaf_index: u64) -> Option<&Hash> {
        usize::try_from(leaf_index)
            .ok()
            .and_then(|index| self.levels[0].get(index))
    }

    /// Appends a leaf by its data; returns the new leaf's index.
    pub fn append_leaf_data(&mut self, data: &[u8]) -> Result<u64, Error> {
        let leaf_hash = self.hasher.leaf(data);
        self.append_leaf_hash(leaf_hash)
    }

    /// Appends a leaf by its hash; returns the new leaf's index.
    pub fn append_leaf_hash(&mut self, leaf_hash: Hash) -> Result<u64, Error> {
        let leaf_index = self.size();
        check_tree_size(leaf_index + 1)?;
        self.levels[0].push(leaf_hash);
        // Each time a level gains an even count, a pair has just completed: hash it upward.
        let mut height = 0;
        while self.levels[height].len().is_multiple_of(2) {
            let level = &self.levels[height];
            let parent = self
                .hasher
                .node(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == height + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[height + 1].push(parent);
            height += 1;
        }
        Ok(leaf_index)
    }

    /// Root of the whole tree as it is now.
    pub fn root(&self) -> Hash {
        self.range_hash(0, self.size())
    }

    /// Root of the tree made of the first `tree_size` leaves (a past tree head).
    pub fn root_at(&self, tree_size: u64) -> Result<Hash, Error> {
        self.check_size_held(tree_size)?;
        Ok(self.range_hash(0, tree_size))
    }

    /// Inclusion proof of leaf `leaf_index` in the tree of the first `tree_size` leaves
    /// (RFC 9162 §2.1.3.1), ordered from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, leaf_index: u64, tree_size: u64) -> Result<Vec<Hash>, Error> {
        self.check_size_held(tree_size)?;
        if leaf_index >= tree_size {
            return Err(Error::LeafIndexOutOfRange {
                leaf_index,
                tree_size,
            });
        }
        inclusion_path(leaf_index, tree_size, |start, end| {
            Ok::<_, Error>(self.range_hash(start, end))
        })
    }

    /// Consistency proof between the trees of the first `size1` and first `size2` leaves
    /// (RFC 9162 §2.1.4.1). Empty when the sizes are equal.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, Error> {
        self.check_size_held(size2)?;
        if size1 > size2 {
            return Err(Error::ConsistencySizesReversed { size1, size2 });
        }
        if size1 == 0 {
            return Err(Error::ConsistencyFromEmptyTree);
        }
        consistency_path(size1, size2, |start, end| {
            Ok::<_, Error>(self.range_hash(start, end))
        })
    }

    fn check_size_held(&self, tree_size: u64) -> Result<(), Error> {
        if tree_size > self.size() {
            return Err(Error::TreeSizeBeyondLog {
                requested: tree_size,
                available: self.size(),
            });
        }
        Ok(())
    }

    /// MTH(D[start:end]). Callers keep `start <= end <= size`.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        debug_assert!(start <= end && end <= self.size());
        let len = end - start;
        if len == 0 {
            return self.hasher.empty_root();
        }
        if len.is_power_of_two() && start.is_multiple_of(len) {
            let height = len.trailing_zeros() as usize;
            // In range: a complete perfect subtree inside the held leaves is always stored.
            return self.levels[height][(start >> height) as usize];
        }
        let split = start + largest_power_of_two_below(len);
        let left = self.range_hash(start, split);
        let right = self.range_hash(split, end);
        self.hasher.node(&left, &right)
    }
}

/// The RFC 9162 §2.1.3.1 inclusion path of `leaf_index` in the tree of `tree_size` leaves,
/// ordered from the leaf's sibling up to the root's child, with every subtree hash asked of
/// `range_hash(start, end)` (MTH of leaves `start..end`): the one algorithm for the tree in
/// memory and for stored tiles ([`crate::tile::TiledTree`]). Callers check
/// `leaf_index < tree_size`.
pub(crate) fn inclusion_path<E>(
    leaf_index: u64,
    tree_size: u64,
    mut range_hash: impl FnMut(u64, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    // PATH(m, D[start:end]) walks down from the root; each step records the subtree on the
    // other side. Recorded top-down, returned bottom-up as the RFC orders it.
    let mut proof = Vec::with_capacity(64);
    let (mut start, mut end) = (0, tree_size);
    while end - start > 1 {
        let split = start + largest_power_of_two_below(end - start);
        if leaf_index < split {
            proof.push(range_hash(split, end)?);
            end = split;
        } else {
            proof.push(range_hash(start, split)?);
            start = split;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The RFC 9162 §2.1.4.1 consistency proof between sizes `size1` and `size2`, subtree hashes
/// asked of `range_hash` as in [`inclusion_path`]. Callers check `1 <= size1 <= size2`.
pub(crate) fn consistency_path<E>(
    size1: u64,
    size2: u64,
    mut range_hash: impl FnMut(u64, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    // SUBPROOF(m, D[start:end], b), unrolled. `m` is counted from `start`.
    let mut proof = Vec::with_capacity(64);
    let (mut start, mut end) = (0, size2);
    let mut m = size1;
    let mut whole_old_tree = true; // The RFC's flag b.
    while m != end - start {
        let k = largest_power_of_two_below(end - start);
        if m <= k {
            proof.push(range_hash(start + k, end)?);
            end = start + k;
        } else {
            proof.push(range_hash(start, start + k)?);
            start += k;
            m -= k;
            whole_old_tree = false;
        }
    }
    if !whole_old_tree {
        proof.push(range_hash(start, end)?);
    }
    proof.reverse();
    Ok(proof)
}

/// Root of the tree made of `leaf_hashes`, without keeping the tree: for auditing a whole log
/// against a checkpoint.
///
/// Streams once over the leaves keeping only a stack of at most 64 perfect-subtree roots, so
/// it needs no allocation and does exactly n - 1 node hashes.
pub fn root_from_leaf_hashes<H: LogHasher + ?Sized>(hasher: &H, leaf_hashes: &[Hash]) -> Hash {
    let mut stack = [[0u8; 32]; 65];
    let mut depth = 0usize;
    for (index, leaf_hash) in leaf_hashes.iter().enumerate() {
        // After leaf number `index + 1`, the stack holds one perfect subtree per set bit of
        // that count; merge while the new leaf completes pairs (trailing zero bits).
        let mut hash = *leaf_hash;
        let mut count = index + 1;
        while count & 1 == 0 {
            depth -= 1;
            hash = hasher.node(&stack[depth], &hash);
            count >>= 1;
        }
        stack[depth] = hash;
        depth += 1;
    }
    if depth == 0 {
        return hasher.empty_root();
    }
    // Fold from the right: the RFC splits at the largest power of two, so the root is
    // node(biggest, node(next, ... node(second smallest, smallest))).
    depth -= 1;
    let mut root = stack[depth];
    while depth > 0 {
        depth -= 1;
        root = hasher.node(&stack[depth], &root);
    }
    root
}

/// Largest power of two strictly below `n`; `n` must be at least 2.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

pub(crate) fn check_tree_size(tree_size: u64) -> Result<(), Error> {
    if tree_size > MAX_TREE_SIZE {
        return Err(Error::TreeSizeTooLarge {
            tree_size,
            limit: MAX_TREE_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{verify_consistency, verify_inclusion};

    const H: Sha256Hasher = Sha256Hasher;

    /// Distinct leaf hashes, different for every `seed`.
    fn leaves(count: usize, seed: u64) -> Vec<Hash> {
        (0..count as u64)
            .map(|i| H.leaf(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
            .collect()
    }

    fn appended(leaf_hashes: &[Hash]) -> MerkleTree {
        let mut tree = MerkleTree::default();
        for (index, leaf_hash) in leaf_hashes.iter().enumerate() {
            assert_eq!(tree.append_leaf_hash(*leaf_hash), Ok(index as u64));
        }
        tree
    }

    // The RFC 9162 §2.1 definitions, written as literally as possible, as the oracle.
    fn split(n: usize) -> usize {
        largest_power_of_two_below(n as u64) as usize
    }

    fn reference_root(d: &[Hash]) -> Hash {
        match d.len() {
            0 => H.empty_root(),
            1 => d[0],
            n => H.node(
                &reference_root(&d[..split(n)]),
                &reference_root(&d[split(n)..]),
            ),
        }
    }

    fn reference_path(m: usize, d: &[Hash]) -> Vec<Hash> {
        if d.len() <= 1 {
            return Vec::new();
        }
        let k = split(d.len());
        let (mut path, sibling) = if m < k {
            (reference_path(m, &d[..k]), reference_root(&d[k..]))
        } else {
            (reference_path(m - k, &d[k..]), reference_root(&d[..k]))
        };
        path.push(sibling);
        path
    }

    fn reference_subproof(m: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if whole {
                Vec::new()
            } else {
                vec![reference_root(d)]
            };
        }
        let k = split(n);
        let (mut proof, other) = if m <= k {
            (
                reference_subproof(m, &d[..k], whole),
                reference_root(&d[k..]),
            )
        } else {
            (
                reference_subproof(m - k, &d[k..], false),
                reference_root(&d[..k]),
            )
        };
        proof.push(other);
        proof
    }

    fn flip(hash: &Hash, byte: usize) -> Hash {
        let mut flipped = *hash;
        flipped[byte % 32] ^= 0x01;
        flipped
    }

    #[test]
    fn empty_tree() {
        let tree = MerkleTree::default();
        assert!(tree.is_empty());
        assert_eq!(tree.root(), H.empty_root());
        assert_eq!(root_from_leaf_hashes(&H, &[]), H.empty_root());
        assert_eq!(
            tree.inclusion_proof(0, 0),
            Err(Error::LeafIndexOutOfRange {
                leaf_index: 0,
                tree_size: 0
            })
        );
        assert_eq!(
            tree.consistency_proof(0, 0),
            Err(Error::ConsistencyFromEmptyTree)
        );
    }

    #[test]
    fn proof_requests_outside_the_tree_are_errors() {
        let tree = appended(&leaves(10, 0));
        assert_eq!(
            tree.root_at(11),
            Err(Error::TreeSizeBeyondLog {
                requested: 11,
                available: 10
            })
        );
        assert_eq!(
            tree.inclusion_proof(3, 11),
            Err(Error::TreeSizeBeyondLog {
                requested: 11,
                available: 10
            })
        );
        assert_eq!(
            tree.inclusion_proof(7, 7),
            Err(Error::LeafIndexOutOfRange {
                leaf_index: 7,
                tree_size: 7
            })
        );
        assert_eq!(
            tree.inclusion_proof(u64::MAX, 10),
            Err(Error::LeafIndexOutOfRange {
                leaf_index: u64::MAX,
                tree_size: 10
            })
        );
        assert_eq!(
            tree.consistency_proof(5, 4),
            Err(Error::ConsistencySizesReversed { size1: 5, size2: 4 })
        );
        assert_eq!(
            tree.consistency_proof(5, 12),
            Err(Error::TreeSizeBeyondLog {
                requested: 12,
                available: 10
            })
        );
        assert_eq!(tree.consistency_proof(6, 6), Ok(Vec::new()));
        assert_eq!(tree.leaf_hash(10), None);
        assert_eq!(tree.leaf_hash(u64::MAX), None);
    }

    #[test]
    fn sm3_tree_proves_under_sm3_only() {
        use crate::Sm3Hasher;
        let mut tree = MerkleTree::new(Sm3Hasher);
        for i in 0..21u8 {
            tree.append_leaf_data(&[i]).unwrap();
        }
        let sha256_root = appended(&(0..21u8).map(|i| H.leaf(&[i])).collect::<Vec<_>>()).root();
        assert_ne!(tree.root(), sha256_root);
        assert_eq!(
            root_from_leaf_hashes(&Sm3Hasher, tree.leaf_hashes()),
            tree.root()
        );
        let (leaf, root) = (*tree.leaf_hash(9).unwrap(), tree.root_at(20).unwrap());
        let proof = tree.inclusion_proof(9, 20).unwrap();
        assert_eq!(
            verify_inclusion(&Sm3Hasher, 9, 20, &leaf, &proof, &root),
            Ok(())
        );
        assert!(verify_inclusion(&H, 9, 20, &leaf, &proof, &root).is_err());
        let proof = tree.consistency_proof(7, 21).unwrap();
        let (root1, root2) = (tree.root_at(7).unwrap(), tree.root());
        assert_eq!(
            verify_consistency(&Sm3Hasher, 7, 21, &proof, &root1, &root2),
            Ok(())
        );
        assert!(format!("{tree:?}").starts_with("MerkleTree { size: 21, root: \""));
    }

    /// Every byte of every proof, for every leaf of every small tree: flipping it must fail.
    #[test]
    fn every_single_byte_change_breaks_inclusion_proofs() {
        let all = leaves(17, 1);
        let tree = appended(&all);
        for size in 1..=all.len() as u64 {
            let root = tree.root_at(size).unwrap();
            for index in 0..size {
                let leaf = all[index as usize];
                let proof = tree.inclusion_proof(index, size).unwrap();
                assert_eq!(
                    verify_inclusion(&H, index, size, &leaf, &proof, &root),
                    Ok(())
                );
                for position in 0..proof.len() {
                    for byte in 0..32 {
                        let mut bad = proof.clone();
                        bad[position] = flip(&bad[position], byte);
                        assert!(verify_inclusion(&H, index, size, &leaf, &bad, &root).is_err());
                    }
                }
                for byte in 0..32 {
                    assert!(
                        verify_inclusion(&H, index, size, &flip(&leaf, byte), &proof, &root)
                            .is_err()
                    );
                    assert!(
                        verify_inclusion(&H, index, size, &leaf, &proof, &flip(&root, byte))
                            .is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn every_single_byte_change_breaks_consistency_proofs() {
        let all = leaves(33, 2);
        let tree = appended(&all);
        for size2 in 1..=all.len() as u64 {
            let root2 = tree.root_at(size2).unwrap();
            for size1 in 1..=size2 {
                let root1 = tree.root_at(size1).unwrap();
                let proof = tree.consistency_proof(size1, size2).unwrap();
                assert_eq!(
                    verify_consistency(&H, size1, size2, &proof, &root1, &root2),
                    Ok(())
                );
                for position in 0..proof.len() {
                    for byte in [0, 13, 31] {
                        let mut bad = proof.clone();
                        bad[position] = flip(&bad[position], byte);
                        assert!(
                            verify_consistency(&H, size1, size2, &bad, &root1, &root2).is_err()
                        );
                    }
                }
                assert!(
                    verify_consistency(&H, size1, size2, &proof, &flip(&root1, 7), &root2).is_err()
                );
                assert!(
                    verify_consistency(&H, size1, size2, &proof, &root1, &flip(&root2, 7)).is_err()
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn roots_agree_with_the_rfc_definition(count in 0usize..300, seed: u64, cut: usize) {
            let all = leaves(count, seed);
            let tree = appended(&all);
            let bulk = MerkleTree::from_leaf_hashes(H, all.clone()).unwrap();
            prop_assert_eq!(tree.root(), reference_root(&all));
            prop_assert_eq!(bulk.root(), tree.root());
            prop_assert_eq!(root_from_leaf_hashes(&H, &all), tree.root());
            let size = if count == 0 { 0 } else { cut % (count + 1) };
            prop_assert_eq!(tree.root_at(size as u64).unwrap(), reference_root(&all[..size]));
            prop_assert_eq!(bulk.root_at(size as u64).unwrap(), reference_root(&all[..size]));
        }

        #[test]
        fn inclusion_proofs_verify_and_any_change_fails(
            count in 1usize..=300,
            seed: u64,
            size_pick: usize,
            index_pick: usize,
            other_index_pick: usize,
            byte in 0usize..32,
            position_pick: usize,
        ) {
            let all = leaves(count, seed);
            let tree = appended(&all);
            let size = 1 + size_pick % count;
            let root = tree.root_at(size as u64).unwrap();
            for (index, leaf) in all[..size].iter().enumerate() {
                let (i, n) = (index as u64, size as u64);
                let proof = tree.inclusion_proof(i, n).unwrap();
                prop_assert_eq!(verify_inclusion(&H, i, n, leaf, &proof, &root), Ok(()));
            }
            let index = index_pick % size;
            let proof = tree.inclusion_proof(index as u64, size as u64).unwrap();
            prop_assert_eq!(&proof, &reference_path(index, &all[..size]));
            let (i, n, leaf) = (index as u64, size as u64, &all[index]);
            // A changed proof byte, leaf byte, root byte, or index.
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let position = position_pick % proof.len();
                bad[position] = flip(&bad[position], byte);
                prop_assert!(verify_inclusion(&H, i, n, leaf, &bad, &root).is_err());
            }
            prop_assert!(verify_inclusion(&H, i, n, &flip(leaf, byte), &proof, &root).is_err());
            prop_assert!(verify_inclusion(&H, i, n, leaf, &proof, &flip(&root, byte)).is_err());
            let other = other_index_pick % (size + 2);
            if other != index {
                prop_assert!(verify_inclusion(&H, other as u64, n, leaf, &proof, &root).is_err());
            }
            prop_assert!(verify_inclusion(&H, i, n, leaf, &[proof.as_slice(), &[root]].concat(), &root).is_err());
        }

        #[test]
        fn consistency_proofs_verify(count in 1usize..=300, seed: u64, a: usize, b: usize, byte in 0usize..32) {
            let all = leaves(count, seed);
            let tree = appended(&all);
            let size2 = 1 + a % count;
            let size1 = 1 + b % size2;
            let (m, n) = (size1 as u64, size2 as u64);
            let (root1, root2) = (tree.root_at(m).unwrap(), tree.root_at(n).unwrap());
            let proof = tree.consistency_proof(m, n).unwrap();
            prop_assert_eq!(&proof, &reference_subproof(size1, &all[..size2], true));
            prop_assert_eq!(verify_consistency(&H, m, n, &proof, &root1, &root2), Ok(()));
            for position in 0..proof.len() {
                let mut bad = proof.clone();
                bad[position] = flip(&bad[position], byte);
                prop_assert!(verify_consistency(&H, m, n, &bad, &root1, &root2).is_err());
            }
            if m != n {
                prop_assert!(verify_consistency(&H, m, n, &proof, &root2, &root1).is_err());
            }
        }
    }
}
