//! The tamper-evident log of anxin (SPEC L3, L4).
//!
//! Every stored change becomes a leaf of an append-only Merkle tree hashed as in RFC 9162
//! (which keeps RFC 6962's hashing). The log operator signs checkpoints — tree size and root
//! hash — in the C2SP `tlog-checkpoint` format inside a C2SP signed note, so that standard
//! transparency-log tooling (witnesses, monitors, the Go `note` package) can read them. An
//! inclusion proof plus a signed checkpoint makes a [`Bundle`] that anyone can verify offline:
//! the building block of certificates.
//!
//! Two algorithm suites: SHA-256 with Ed25519 (the default, interoperable with C2SP tools),
//! and "guomi" — SM3 ([`Sm3Hasher`]) with SM2 signatures ([`Signer::generate_sm2`]) — for
//! deployments bound to the Chinese national standards. Hasher and signature algorithm are
//! chosen independently; a verifier must be told both.
//!
//! This crate is a pure library: no storage, no network, no files. It does not know which
//! database holds the leaves; the storage crates feed it leaf hashes.
//!
//! Map of the crate:
//! - [`hasher`]: the [`LogHasher`] trait, SHA-256 (default) and SM3 (GB/T 32905) hashers.
//! - [`tree`]: [`MerkleTree`], an in-memory tree that appends, computes roots at any size and
//!   generates proofs; [`root_from_leaf_hashes`] for full-log audits.
//! - [`tile`]: the log as C2SP tlog-tiles: where each stored hash lives ([`Tile`] paths,
//!   [`tile::stored_at`]) and [`TiledTree`], roots and proofs from O(log n) stored hashes.
//! - [`proof`]: [`verify_inclusion`] and [`verify_consistency`], RFC 9162 §2.1.3.2 and §2.1.4.2.
//! - [`note`]: signed notes (C2SP `signed-note`) with Ed25519 (default) or SM2 keys
//!   ([`Algorithm`]), key text forms, [`sign_bytes`].
//! - [`checkpoint`]: [`Checkpoint`], [`sign_checkpoint`], [`parse_and_verify_checkpoint`].
//! - [`bundle`]: [`Bundle`], the offline proof of one leaf.
//!
//! Invariants: parsing never panics, whatever the input; every input has a size limit (see
//! the `MAX_*` constants); errors say what is wrong and what was expected.

pub mod bundle;
pub mod checkpoint;
mod error;
pub mod hasher;
pub mod note;
pub mod proof;
pub mod tile;
pub mod tree;

pub use bundle::{Bundle, VerifiedBundle};
pub use checkpoint::{Checkpoint, parse_and_verify_checkpoint, sign_checkpoint};
pub use error::Error;
pub use hasher::{LogHasher, Sha256Hasher, Sm3Hasher};
pub use note::{Algorithm, Signer, Verifier, open_note, sign_bytes, sign_note, verify_bytes};
pub use proof::{root_from_inclusion_proof, verify_consistency, verify_inclusion};
pub use tile::{HashSource, Tile, TileKind, TiledTree};
pub use tree::{MerkleTree, root_from_leaf_hashes};

/// A node or leaf hash of the log. Both hashers in this crate produce 32 bytes.
pub type Hash = [u8; 32];

/// Longest proof accepted. An inclusion proof holds at most one hash per tree level and a
/// consistency proof at most one more, so no honest proof for a tree below
/// [`MAX_TREE_SIZE`] comes near this; longer input is garbage or an attack on our time.
pub const MAX_PROOF_HASHES: usize = 64;

/// Largest tree size accepted anywhere (2^62 leaves). Far beyond any real log, and it keeps
/// all size arithmetic (doubling, `size + 1`) clear of `u64` overflow.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}
