//! The log's tree read from its stored hashes (C2SP tlog-tiles, migration 9): inclusion and
//! consistency proofs, roots and tiles from O(log n) stored hashes, never the whole tree.
//!
//! Every function here takes any [`Store`] and only reads it (except [`backfill`]), so a
//! read-only connection can serve proofs and tiles while one writer appends. Each proof is
//! checked against the signed root before it is returned: stored hashes that do not give the
//! signed root are an error naming the audit, never a wrong proof.

use anxin_ledger::tile::{MAX_TILE_LEVEL, TILE_WIDTH, level_count};
use anxin_ledger::{
    Hash, HashSource, Tile, TileKind, TiledTree, verify_consistency, verify_inclusion,
};

use crate::error::{Error, Result};
use crate::log::{Frontier, SuiteHasher, TreeHash};
use crate::store::{Head, Store, WriteBatch};

/// Reads stored hashes from a store: level 0 from the events' leaf hashes, levels 1 and up
/// from the `tree_hashes` table. A row missing in the middle is an error.
pub struct StoreHashes<'a, S: Store + ?Sized>(pub &'a mut S);

impl<S: Store + ?Sized> HashSource for StoreHashes<'_, S> {
    type Error = Error;

    fn hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<Hash>> {
        let rows = if level == 0 {
            self.0.leaves(from, to.saturating_sub(from))?
        } else {
            self.0.tree_hashes(level, from, to)?
        };
        let mut hashes = Vec::with_capacity(rows.len());
        for (i, (at, hash)) in rows.into_iter().enumerate() {
            if at != from + i as u64 || at >= to {
                return Err(missing());
            }
            hashes.push(hash);
        }
        Ok(hashes)
    }
}

fn missing() -> Error {
    Error::Corrupt(
        "stored tree hashes are missing or do not give the signed root: run anxin audit".into(),
    )
}

/// The leaf hash of entry `index` and its inclusion proof in the tree of `head`, checked
/// against the head's signed root.
pub fn inclusion<S: Store + ?Sized>(
    store: &mut S,
    hasher: &SuiteHasher,
    head: &Head,
    index: u64,
) -> Result<(Hash, Vec<Hash>)> {
    let mut source = StoreHashes(store);
    let proof =
        TiledTree::new(hasher, head.size, &mut source)?.inclusion_proof(index, head.size)?;
    let leaf = source
        .hashes(0, index, index + 1)?
        .pop()
        .ok_or_else(missing)?;
    verify_inclusion(hasher, index, head.size, &leaf, &proof, &head.root).map_err(|_| missing())?;
    Ok((leaf, proof))
}

/// The inclusion proof of entry `index` in the tree of `size` leaves (signed root `root`), an
/// earlier tree than the head's (`head_size`), checked against that root.
pub fn inclusion_at<S: Store + ?Sized>(
    store: &mut S,
    hasher: &SuiteHasher,
    head_size: u64,
    index: u64,
    (size, root): (u64, &Hash),
) -> Result<Vec<Hash>> {
    let mut source = StoreHashes(store);
    let proof = TiledTree::new(hasher, head_size, &mut source)?.inclusion_proof(index, size)?;
    let leaf = source
        .hashes(0, index, index + 1)?
        .pop()
        .ok_or_else(missing)?;
    verify_inclusion(hasher, index, size, &leaf, &proof, root).map_err(|_| missing())?;
    Ok(proof)
}

/// The consistency proof from the tree of `size1` leaves (signed root `root1`) to the one of
/// `size2` (`root2`), checked against both roots. `size2` must not pass `head_size`.
pub fn consistency<S: Store + ?Sized>(
    store: &mut S,
    hasher: &SuiteHasher,
    head_size: u64,
    (size1, root1): (u64, &Hash),
    (size2, root2): (u64, &Hash),
) -> Result<Vec<Hash>> {
    let mut source = StoreHashes(store);
    let proof = TiledTree::new(hasher, head_size, &mut source)?.consistency_proof(size1, size2)?;
    verify_consistency(hasher, size1, size2, &proof, root1, root2).map_err(|_| missing())?;
    Ok(proof)
}

/// The root of the first `size` leaves from stored hashes (`size` at most `head_size`).
pub fn root_at<S: Store + ?Sized>(
    store: &mut S,
    hasher: &SuiteHasher,
    head_size: u64,
    size: u64,
) -> Result<Hash> {
    let mut source = StoreHashes(store);
    TiledTree::new(hasher, head_size, &mut source)?.root_at(size)
}

/// The bytes of `tile` in the log of `head_size` entries, as C2SP serves them: a hash tile is
/// its hashes one after another (32 bytes each); an entry bundle is each entry as a big-endian
/// u16 length and the entry's canonical bytes (the bytes hashed as its leaf). `None` when the
/// log does not hold the tile (yet).
pub fn tile<S: Store + ?Sized>(
    store: &mut S,
    head_size: u64,
    tile: Tile,
) -> Result<Option<Vec<u8>>> {
    if !tile.held_by(head_size) {
        return Ok(None);
    }
    let range = tile.range();
    match tile.kind {
        TileKind::Hashes { level } => {
            let hashes = StoreHashes(store).hashes(level, range.start, range.end)?;
            if hashes.len() as u64 != range.end - range.start {
                return Err(missing());
            }
            Ok(Some(hashes.concat()))
        }
        TileKind::Entries => {
            let events = store.events(range.start, range.end)?;
            let mut bundle = Vec::new();
            for (i, event) in events.iter().enumerate() {
                if event.seq != range.start + i as u64 {
                    return Err(missing());
                }
                let len = u16::try_from(event.body.len()).map_err(|_| {
                    Error::Corrupt(format!(
                        "log entry #{} is longer than 65535 bytes",
                        event.seq
                    ))
                })?;
                bundle.extend_from_slice(&len.to_be_bytes());
                bundle.extend_from_slice(&event.body);
            }
            if events.len() as u64 != range.end - range.start {
                return Err(missing());
            }
            Ok(Some(bundle))
        }
    }
}

/// Fills in the stored tree hashes of a log written before migration 9 (or any that are
/// missing), from the stored leaf hashes, streaming: memory holds the frontier and the new
/// hashes (one per 255 entries). Does nothing when the last hash of every level is there
/// (they are written in order, with their events). Stored leaves that do not give the signed
/// root are left for the audit to name. Returns how many hashes it wrote.
pub fn backfill<S: Store + ?Sized>(store: &mut S, hasher: &SuiteHasher) -> Result<u64> {
    let head = store.head()?;
    let mut complete = true;
    for level in 1..=MAX_TILE_LEVEL {
        let count = level_count(head.size, level);
        if count == 0 {
            break;
        }
        if store.tree_hashes(level, count - 1, count)?.is_empty() {
            complete = false;
            break;
        }
    }
    if complete {
        return Ok(0);
    }
    let mut frontier = Frontier::new();
    let mut found: Vec<TreeHash> = Vec::with_capacity((head.size / (TILE_WIDTH - 1)) as usize);
    while frontier.size() < head.size {
        let next = frontier.size();
        let chunk = store.leaves(next, (head.size - next).min(100_000))?;
        if chunk.is_empty() {
            break;
        }
        for (seq, leaf) in chunk {
            if seq != frontier.size() || seq >= head.size {
                return Ok(0);
            }
            frontier.push_storing(hasher, leaf, |t| found.push(t));
        }
    }
    if frontier.size() != head.size || frontier.root(hasher) != head.root {
        return Ok(0);
    }
    let written = found.len() as u64;
    let mut txn = store.begin()?;
    txn.head()?;
    txn.write(&WriteBatch {
        tree_hashes: found,
        ..WriteBatch::default()
    })?;
    txn.commit()?;
    Ok(written)
}
