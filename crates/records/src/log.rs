//! The deployment's cryptographic suite and the right edge of the Merkle tree.

use anxin_ledger::tile::stored_at;
use anxin_ledger::{Hash, LogHasher, Sha256Hasher, Sm3Hasher};

use crate::error::{Error, Result};

/// Chosen once per deployment at `anxin init` and kept with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// SHA-256 tree hashing (RFC 9162) and Ed25519 signatures: the default.
    Standard,
    /// SM3 tree hashing and SM2 signatures (国密), for systems assessed against them.
    Guomi,
}

impl Suite {
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Standard => "standard",
            Suite::Guomi => "guomi",
        }
    }

    pub fn parse(text: &str) -> Result<Suite> {
        match text {
            "standard" | "sha256-ed25519" => Ok(Suite::Standard),
            "guomi" | "sm" | "sm3-sm2" => Ok(Suite::Guomi),
            other => Err(Error::refused(
                format!(
                    "未知的密码套件 {other:?}：可选 standard（SHA-256 + Ed25519，默认）或 guomi（SM3 + SM2）"
                ),
                format!(
                    "unknown suite {other:?}: use standard (SHA-256 + Ed25519, the default) or guomi (SM3 + SM2)"
                ),
            )),
        }
    }

    pub fn hasher(self) -> SuiteHasher {
        SuiteHasher(self)
    }
}

/// A [`LogHasher`] chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteHasher(pub Suite);

impl LogHasher for SuiteHasher {
    fn leaf(&self, data: &[u8]) -> Hash {
        match self.0 {
            Suite::Standard => Sha256Hasher.leaf(data),
            Suite::Guomi => Sm3Hasher.leaf(data),
        }
    }
    fn node(&self, left: &Hash, right: &Hash) -> Hash {
        match self.0 {
            Suite::Standard => Sha256Hasher.node(left, right),
            Suite::Guomi => Sm3Hasher.node(left, right),
        }
    }
    fn empty_root(&self) -> Hash {
        match self.0 {
            Suite::Standard => Sha256Hasher.empty_root(),
            Suite::Guomi => Sm3Hasher.empty_root(),
        }
    }
}

/// One stored tree hash above the leaves: the root of the `index`-th perfect subtree of
/// `256^level` leaves (C2SP tlog-tiles, level 1 and up; level 0 is the events' leaf hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHash {
    pub level: u8,
    pub index: u64,
    pub hash: Hash,
}

/// The roots of the perfect subtrees along the right edge of a tree of `size` leaves, largest
/// first: one per set bit of `size`. Enough to append and to compute the root, in O(log n)
/// space, so a commit never needs the whole tree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// Subtree roots, largest first; subtree `i` has `2^h` leaves for the i-th set bit, high to low.
    hashes: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds from a stored head; fails if the number of hashes does not fit the size.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier> {
        if hashes.len() != size.count_ones() as usize {
            return Err(Error::Corrupt(format!(
                "log head: {} edge hashes stored for size {size}, expected {}",
                hashes.len(),
                size.count_ones()
            )));
        }
        Ok(Frontier { size, hashes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    pub fn push<H: LogHasher + ?Sized>(&mut self, hasher: &H, leaf: Hash) {
        self.push_storing(hasher, leaf, |_| {});
    }

    /// Appends `leaf` and hands `store` each subtree root the append completes that the log
    /// keeps as a tile hash (C2SP tlog-tiles: every `256^L` leaves, see
    /// [`anxin_ledger::tile::stored_at`]).
    pub fn push_storing<H: LogHasher + ?Sized>(
        &mut self,
        hasher: &H,
        leaf: Hash,
        mut store: impl FnMut(TreeHash),
    ) {
        let mut node = leaf;
        // Each trailing one bit of the old size is a complete subtree of the same height.
        let mut carry = self.size;
        let mut height = 0;
        while carry & 1 == 1 {
            let left = self.hashes.pop().expect("one hash per set bit");
            node = hasher.node(&left, &node);
            carry >>= 1;
            height += 1;
            if let Some((level, index)) = stored_at(height, self.size + 1) {
                store(TreeHash {
                    level,
                    index,
                    hash: node,
                });
            }
        }
        self.hashes.push(node);
        self.size += 1;
    }

    /// RFC 9162 root: the edge subtrees folded from the right.
    pub fn root<H: LogHasher + ?Sized>(&self, hasher: &H) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return hasher.empty_root();
        };
        iter.fold(*last, |acc, left| hasher.node(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anxin_ledger::root_from_leaf_hashes;

    #[test]
    fn frontier_matches_full_tree_at_every_size() {
        for suite in [Suite::Standard, Suite::Guomi] {
            let hasher = suite.hasher();
            let mut frontier = Frontier::new();
            let mut leaves = Vec::new();
            assert_eq!(
                frontier.root(&hasher),
                root_from_leaf_hashes(&hasher, &leaves)
            );
            for i in 0u32..300 {
                let leaf = hasher.leaf(&i.to_be_bytes());
                leaves.push(leaf);
                frontier.push(&hasher, leaf);
                assert_eq!(
                    frontier.root(&hasher),
                    root_from_leaf_hashes(&hasher, &leaves),
                    "size {}",
                    i + 1
                );
                let again =
                    Frontier::from_parts(frontier.size(), frontier.hashes().to_vec()).unwrap();
                assert_eq!(again, frontier);
            }
        }
        assert!(Frontier::from_parts(3, vec![[0; 32]]).is_err());
    }
}
