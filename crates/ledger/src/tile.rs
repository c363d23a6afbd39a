//! The log as C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>, height 8): where each stored
//! hash lives, tile paths, and roots and proofs computed from stored hashes alone.
//!
//! Layout: level 0 holds the leaf hashes; level `L` holds, in order, the root of every
//! complete perfect subtree of `256^L` leaves. A tile is 256 consecutive hashes of one level
//! (`tile/L/N`); the last tile of a level may be partial (`tile/L/N.p/W`, its first `W`
//! hashes). Each level-`L` hash is the root of a full level-`L-1` tile, so a level's hashes
//! are stored once, when their subtree completes, and never change.
//!
//! Any subtree on the RFC's split lines is either `2^r` hashes (`r < 8`) of one level folded
//! together or a split into two such, so a root, an inclusion proof or a consistency proof
//! reads O(log n) stored hashes, each piece at most 128 of them: nothing needs the whole
//! tree. This module is pure; the caller reads the stored hashes through [`HashSource`].

use std::collections::HashMap;

use crate::tree::{check_tree_size, consistency_path, inclusion_path, largest_power_of_two_below};
use crate::{Error, Hash, LogHasher, root_from_leaf_hashes};

/// Tree levels per tile level: a tile holds `2^8 = 256` hashes.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// Highest tile level a tree below [`crate::MAX_TREE_SIZE`] (2^62) has hashes at: `256^7 = 2^56`.
pub const MAX_TILE_LEVEL: u8 = 7;
/// Longest tile path accepted (an index of 20 digits is 7 groups of 4 characters).
const MAX_PATH_LEN: usize = 80;

/// Number of hashes stored at `level` for a tree of `size` leaves.
pub fn level_count(size: u64, level: u8) -> u64 {
    let shift = TILE_HEIGHT * u32::from(level);
    if shift >= 64 { 0 } else { size >> shift }
}

/// The stored hash a frontier completes while appending: when a merge produces the root of a
/// perfect subtree of `height` tree levels and the tree then has `size_after` leaves, that root
/// is stored at `(level, index)` if `height` is a positive multiple of [`TILE_HEIGHT`].
pub fn stored_at(height: u32, size_after: u64) -> Option<(u8, u64)> {
    if height == 0 || !height.is_multiple_of(TILE_HEIGHT) || height >= 64 {
        return None;
    }
    Some(((height / TILE_HEIGHT) as u8, (size_after >> height) - 1))
}

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Stored hashes of a level (`tile/L/N`).
    Hashes { level: u8 },
    /// The entries themselves (`tile/entries/N`): the data behind the level-0 hashes.
    Entries,
}

/// One tile: what it holds, its index along its level, and its width (1 to 256; 256 is full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    pub kind: TileKind,
    pub index: u64,
    pub width: u16,
}

impl Tile {
    /// The level its hashes are at (entries: level 0's).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        }
    }

    /// Positions along its level, `first..first + width`.
    pub fn range(&self) -> std::ops::Range<u64> {
        let first = self.index * TILE_WIDTH;
        first..first + u64::from(self.width)
    }

    /// Whether a tree of `size` leaves has every hash (or entry) of this tile.
    pub fn held_by(&self, size: u64) -> bool {
        self.range().end <= level_count(size, self.level())
    }

    /// The tile's path, as C2SP names it: `tile/0/x001/234`, `tile/entries/067.p/5`.
    pub fn path(&self) -> String {
        let mut path = match self.kind {
            TileKind::Hashes { level } => format!("tile/{level}/"),
            TileKind::Entries => "tile/entries/".to_string(),
        };
        path.push_str(&index_path(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Reads a tile path (`tile/...`), accepting only the canonical spelling [`Tile::path`]
    /// writes, so that one tile has one path.
    pub fn parse(path: &str) -> Result<Tile, Error> {
        let bad = |reason| Error::TilePathMalformed {
            path: path.chars().take(MAX_PATH_LEN).collect(),
            reason,
        };
        if path.len() > MAX_PATH_LEN {
            return Err(bad("too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("it does not start with tile/"))?;
        let (head, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("it has no tile index"))?;
        let kind = if head == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(head)
                .filter(|&l| l <= 63)
                .ok_or(bad("the level is not a number from 0 to 63"))?;
            TileKind::Hashes { level: level as u8 }
        };
        let (index_text, width) = match rest.split_once(".p/") {
            Some((index_text, w)) => {
                let w = decimal(w)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or(bad("a partial width is a number from 1 to 255"))?;
                (index_text, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_text.split('/').collect();
        for (i, group) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                group
                    .strip_prefix('x')
                    .ok_or(bad("every index group but the last starts with x"))?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("every index group is three digits"));
            }
            let group_value: u64 = digits.parse().map_err(|_| bad("not digits"))?;
            index = index
                .checked_mul(1000)
                .and_then(|i| i.checked_add(group_value))
                .ok_or(bad("the index is too large"))?;
        }
        let tile = Tile { kind, index, width };
        if tile.path() != path {
            return Err(bad("the index has leading zero groups"));
        }
        Ok(tile)
    }
}

/// `1234067` as `x001/x234/067`: groups of three digits, all but the last marked with `x`.
fn index_path(mut index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    index /= 1000;
    while index > 0 {
        groups.push(format!("x{:03}", index % 1000));
        index /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// A decimal number without sign or leading zeros.
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Where stored hashes come from (a database, tiles fetched from a server, memory).
pub trait HashSource {
    type Error: From<Error>;
    /// Hashes number `from..to` of `level` (level 0: the leaf hashes), in order, all of them.
    fn hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<Hash>, Self::Error>;
}

/// A tree of `size` leaves seen through its stored hashes: roots and proofs at any size up to
/// `size`, each reading O(log n) hashes, without the tree in memory.
pub struct TiledTree<'a, H: LogHasher + ?Sized, S: HashSource> {
    hasher: &'a H,
    size: u64,
    source: &'a mut S,
    /// Perfect subtrees already read, by (start, leaves): nested right edges share them.
    known: HashMap<(u64, u64), Hash>,
}

impl<'a, H: LogHasher + ?Sized, S: HashSource> TiledTree<'a, H, S> {
    /// The tree of `size` leaves whose stored hashes `source` reads.
    pub fn new(hasher: &'a H, size: u64, source: &'a mut S) -> Result<Self, Error> {
        check_tree_size(size)?;
        Ok(Self {
            hasher,
            size,
            source,
            known: HashMap::new(),
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root of the tree of the first `tree_size` leaves.
    pub fn root_at(&mut self, tree_size: u64) -> Result<Hash, S::Error> {
        self.check_size_held(tree_size)?;
        self.range_hash(0, tree_size)
    }

    /// Inclusion proof of leaf `leaf_index` in the tree of `tree_size` leaves, the same as
    /// [`crate::MerkleTree::inclusion_proof`] gives.
    pub fn inclusion_proof(
        &mut self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<Vec<Hash>, S::Error> {
        self.check_size_held(tree_size)?;
        if leaf_index >= tree_size {
            return Err(Error::LeafIndexOutOfRange {
                leaf_index,
                tree_size,
            }
            .into());
        }
        inclusion_path(leaf_index, tree_size, |start, end| {
            self.range_hash(start, end)
        })
    }

    /// Consistency proof between sizes `size1` and `size2`, the same as
    /// [`crate::MerkleTree::consistency_proof`] gives.
    pub fn consistency_proof(&mut self, size1: u64, size2: u64) -> Result<Vec<Hash>, S::Error> {
        self.check_size_held(size2)?;
        if size1 > size2 {
            return Err(Error::ConsistencySizesReversed { size1, size2 }.into());
        }
        if size1 == 0 {
            return Err(Error::ConsistencyFromEmptyTree.into());
        }
        consistency_path(size1, size2, |start, end| self.range_hash(start, end))
    }

    fn check_size_held(&self, tree_size: u64) -> Result<(), Error> {
        if tree_size > self.size {
            return Err(Error::TreeSizeBeyondLog {
                requested: tree_size,
                available: self.size,
            });
        }
        Ok(())
    }

    /// MTH(D[start:end]); callers keep `start <= end <= size`.
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, S::Error> {
        let len = end - start;
        if len == 0 {
            return Ok(self.hasher.empty_root());
        }
        if len.is_power_of_two() && start.is_multiple_of(len) {
            return self.perfect(start, len);
        }
        let split = start + largest_power_of_two_below(len);
        let left = self.range_hash(start, split)?;
        let right = self.range_hash(split, end)?;
        Ok(self.hasher.node(&left, &right))
    }

    /// The root of the perfect subtree of `len` leaves at `start`: `2^r` hashes of one level.
    fn perfect(&mut self, start: u64, len: u64) -> Result<Hash, S::Error> {
        if let Some(hash) = self.known.get(&(start, len)) {
            return Ok(*hash);
        }
        let height = len.trailing_zeros();
        let level = (height / TILE_HEIGHT) as u8;
        let count = 1u64 << (height % TILE_HEIGHT);
        let from = start >> (TILE_HEIGHT * u32::from(level));
        let hashes = self.source.hashes(level, from, from + count)?;
        if hashes.len() as u64 != count {
            return Err(Error::TileHashesMissing {
                level,
                from,
                to: from + count,
                got: hashes.len(),
            }
            .into());
        }
        let hash = root_from_leaf_hashes(self.hasher, &hashes);
        self.known.insert((start, len), hash);
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{MerkleTree, Sha256Hasher, Sm3Hasher};

    const H: Sha256Hasher = Sha256Hasher;

    fn leaves<L: LogHasher>(hasher: &L, count: usize, seed: u64) -> Vec<Hash> {
        (0..count as u64)
            .map(|i| hasher.leaf(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
            .collect()
    }

    /// Every level's stored hashes, computed the plain way: each level-`L` hash is the root of
    /// a full tile of level `L - 1`.
    struct Memory {
        levels: Vec<Vec<Hash>>,
        reads: usize,
    }

    impl Memory {
        fn of<L: LogHasher>(hasher: &L, leaves: &[Hash]) -> Memory {
            let mut levels = vec![leaves.to_vec()];
            while levels[levels.len() - 1].len() as u64 >= TILE_WIDTH {
                let above = levels[levels.len() - 1]
                    .chunks_exact(TILE_WIDTH as usize)
                    .map(|tile| root_from_leaf_hashes(hasher, tile))
                    .collect();
                levels.push(above);
            }
            Memory { levels, reads: 0 }
        }
    }

    impl HashSource for Memory {
        type Error = Error;
        fn hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<Hash>, Error> {
            self.reads += (to - from) as usize;
            let level = self.levels.get(usize::from(level)).map_or(&[][..], |l| l);
            let end = (to as usize).min(level.len());
            Ok(level.get(from as usize..end).unwrap_or(&[]).to_vec())
        }
    }

    /// The hashes a frontier stores while appending, as `stored_at` places them.
    fn appended_stored(leaves: &[Hash]) -> Vec<Vec<Hash>> {
        let mut stored: Vec<Vec<Hash>> = vec![Vec::new(); 8];
        let mut stack: Vec<Hash> = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let mut node = *leaf;
            let mut carry = i as u64;
            let mut height = 0;
            while carry & 1 == 1 {
                node = H.node(&stack.pop().unwrap(), &node);
                carry >>= 1;
                height += 1;
                if let Some((level, index)) = stored_at(height, i as u64 + 1) {
                    assert_eq!(stored[usize::from(level)].len() as u64, index);
                    stored[usize::from(level)].push(node);
                }
            }
            stack.push(node);
        }
        stored
    }

    #[test]
    fn paths_are_the_c2sp_spelling() {
        let cases = [
            (TileKind::Hashes { level: 0 }, 0, 256, "tile/0/000"),
            (
                TileKind::Hashes { level: 1 },
                1_234_067,
                256,
                "tile/1/x001/x234/067",
            ),
            (
                TileKind::Hashes { level: 0 },
                1_234_067,
                5,
                "tile/0/x001/x234/067.p/5",
            ),
            (TileKind::Entries, 1000, 256, "tile/entries/x001/000"),
            (TileKind::Entries, 7, 255, "tile/entries/007.p/255"),
            (
                TileKind::Hashes { level: 3 },
                u64::MAX,
                1,
                "tile/3/x018/x446/x744/x073/x709/x551/615.p/1",
            ),
        ];
        for (kind, index, width, path) in cases {
            let tile = Tile { kind, index, width };
            assert_eq!(tile.path(), path);
            assert_eq!(Tile::parse(path), Ok(tile));
        }
        for bad in [
            "",
            "tile/",
            "tile/0",
            "tile/0/",
            "tile/0/1",
            "tile/0/0001",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/05",
            "tile/0/000.p/",
            "tile/0/000.p",
            "tile/data/000",
            "tile/entries/000.p/5/",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tiles/0/000",
            "tile/0/+00",
            "tile/0/0a0",
            "tile/0/000/",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Tile::parse(&"tile/0/".repeat(30)).is_err());
    }

    #[test]
    fn tiles_are_held_once_their_hashes_exist() {
        let full = Tile {
            kind: TileKind::Hashes { level: 1 },
            index: 0,
            width: 256,
        };
        assert!(!full.held_by(256 * 255));
        assert!(full.held_by(256 * 256));
        let partial = Tile { width: 3, ..full };
        assert!(!partial.held_by(256 * 3 - 1));
        assert!(partial.held_by(256 * 3));
        let entries = Tile {
            kind: TileKind::Entries,
            index: 1,
            width: 2,
        };
        assert!(!entries.held_by(257) && entries.held_by(258));
        assert_eq!(level_count(u64::MAX, 8), 0);
        assert_eq!(level_count(1 << 56, 7), 1);
    }

    /// Leaves enough for level 2 (65,536): roots and a spread of proofs against the tree in
    /// memory, and no proof reads more than a few hundred hashes.
    #[test]
    fn a_tree_with_two_stored_levels_gives_the_same_proofs() {
        for size in [65_536u64, 70_001] {
            let all = leaves(&H, size as usize, size);
            let tree = MerkleTree::from_leaf_hashes(H, all.clone()).unwrap();
            let mut memory = Memory::of(&H, &all);
            assert_eq!(memory.levels.len(), 3);
            assert_eq!(appended_stored(&all)[1..3], memory.levels[1..3]);
            let mut tiled = TiledTree::new(&H, size, &mut memory).unwrap();
            assert_eq!(tiled.root_at(size).unwrap(), tree.root());
            for (index, n) in [
                (0, size),
                (size - 1, size),
                (12_345, 65_535),
                (65_535, size),
                (300, 301),
            ] {
                let mut memory = Memory::of(&H, &all);
                let mut tiled = TiledTree::new(&H, size, &mut memory).unwrap();
                assert_eq!(
                    tiled.inclusion_proof(index, n).unwrap(),
                    tree.inclusion_proof(index, n).unwrap()
                );
                assert_eq!(
                    tiled.consistency_proof(index + 1, n).unwrap(),
                    tree.consistency_proof(index + 1, n).unwrap()
                );
                assert!(memory.reads < 2_000, "{} hashes read", memory.reads);
            }
        }
    }

    #[test]
    fn a_missing_stored_hash_is_an_error_not_a_wrong_root() {
        let all = leaves(&H, 600, 1);
        let mut memory = Memory::of(&H, &all);
        memory.levels[1].pop();
        let mut tiled = TiledTree::new(&H, 600, &mut memory).unwrap();
        assert!(matches!(
            tiled.root_at(600),
            Err(Error::TileHashesMissing { level: 1, .. })
        ));
        assert_eq!(
            tiled.root_at(601),
            Err(Error::TreeSizeBeyondLog {
                requested: 601,
                available: 600
            })
        );
        assert!(tiled.inclusion_proof(600, 600).is_err());
        assert_eq!(
            tiled.consistency_proof(0, 10),
            Err(Error::ConsistencyFromEmptyTree)
        );
        assert!(TiledTree::new(&H, u64::MAX, &mut memory).is_err());
    }

    #[test]
    fn sm3_trees_tile_the_same_way() {
        let all = leaves(&Sm3Hasher, 777, 3);
        let tree = MerkleTree::from_leaf_hashes(Sm3Hasher, all.clone()).unwrap();
        let mut memory = Memory::of(&Sm3Hasher, &all);
        let mut tiled = TiledTree::new(&Sm3Hasher, 777, &mut memory).unwrap();
        assert_eq!(tiled.root_at(777).unwrap(), tree.root());
        assert_eq!(
            tiled.inclusion_proof(513, 700).unwrap(),
            tree.inclusion_proof(513, 700).unwrap()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn tiled_roots_and_proofs_equal_the_tree_in_memory(
            count in 0usize..1_500,
            seed: u64,
            a: u64,
            b: u64,
            c: u64,
        ) {
            let all = leaves(&H, count, seed);
            let tree = MerkleTree::from_leaf_hashes(H, all.clone()).unwrap();
            let mut memory = Memory::of(&H, &all);
            // What appending stores is what the levels hold.
            let stored = appended_stored(&all);
            for (level, hashes) in memory.levels.iter().enumerate().skip(1) {
                prop_assert_eq!(&stored[level], hashes);
            }
            let size = count as u64;
            let mut tiled = TiledTree::new(&H, size, &mut memory).unwrap();
            let n = a % (size + 1);
            prop_assert_eq!(tiled.root_at(n).unwrap(), tree.root_at(n).unwrap());
            if n > 0 {
                let index = b % n;
                prop_assert_eq!(
                    tiled.inclusion_proof(index, n).unwrap(),
                    tree.inclusion_proof(index, n).unwrap()
                );
                let m = 1 + c % n;
                prop_assert_eq!(
                    tiled.consistency_proof(m, n).unwrap(),
                    tree.consistency_proof(m, n).unwrap()
                );
            }
        }
    }
}
