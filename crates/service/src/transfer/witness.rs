//! Witnessing the peers' logs (issue 14): each instance cosigns a peer's checkpoint only after
//! checking it is consistent with the last one it saw of that peer, and keeps the latest. A
//! province cannot roll its log back or show two histories without its peers noticing: a
//! smaller size is a rollback, the same size with another root or a failing consistency proof
//! is a fork, and neither is cosigned.
//!
//! The cosignature is C2SP `tlog-cosignature` v1 (Ed25519): a note signature line
//! `— <name> base64(key ID || timestamp || signature)`, the key ID
//! `SHA-256(name || "\n" || 0x04 || public key)[:4]`, the timestamp a big-endian u64 of POSIX
//! seconds, the signature over `cosignature/v1\ntime <t>\n` and the checkpoint's note body.
//! The witness key is derived from the instance's federation seed (`anxin/witness/v1`), so
//! it is distinct from the key that signs federation messages, as the format requires of
//! distinct roles.

use std::collections::BTreeMap;

use anxin_ledger::{Checkpoint, Hash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

use super::keys::Peer;
use super::{Refusal, Why};

/// The last checkpoint seen of one peer's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    pub root: Hash,
    pub checkpoint: String,
}

/// An instance's witness: its cosigning key and what it has seen of each peer.
pub struct Witness {
    name: String,
    key: ed25519_dalek::SigningKey,
    pub seen: BTreeMap<String, Seen>,
}

/// The C2SP key ID of an Ed25519 cosigner.
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let h = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([0x04])
        .chain_update(public)
        .finalize();
    [h[0], h[1], h[2], h[3]]
}

fn signed_message(timestamp: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{body}").into_bytes()
}

impl Witness {
    /// The witness named `name` (e.g. `anxin.hangzhou/witness`) whose key derives from the
    /// instance's federation seed.
    pub fn new(name: &str, federation_seed: &[u8; 32]) -> Witness {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(b"anxin/witness/v1\0")
            .chain_update(federation_seed)
            .finalize()
            .into();
        Witness {
            name: name.to_string(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            seen: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Checks `checkpoint` (a signed note of `peer`'s log) against the last one seen, with
    /// `proof` the consistency proof from that size to this one; cosigns it and keeps it.
    /// Returns the cosignature line (with its newline), to append to the note.
    pub fn observe(
        &mut self,
        peer: &Peer,
        checkpoint: &str,
        proof: &[Hash],
        timestamp: u64,
    ) -> Result<String, Refusal> {
        let bad = |e: anxin_ledger::Error| {
            Refusal::new(
                Why::CheckpointInvalid,
                format!("检查点不是对等实例 {} 的日志密钥签的：{e}", peer.name),
                format!(
                    "the checkpoint is not signed by peer {}'s log key: {e}",
                    peer.name
                ),
            )
        };
        let body = anxin_ledger::open_note(checkpoint, &peer.log_key).map_err(bad)?;
        let new = Checkpoint::parse_text(body).map_err(bad)?;
        if let Some(last) = self.seen.get(&peer.name) {
            if new.tree_size < last.size {
                return Err(Refusal::new(
                    Why::Rollback,
                    format!(
                        "对等实例 {} 的日志变小了：见过 {} 条，现在只有 {} 条（日志被回滚）",
                        peer.name, last.size, new.tree_size
                    ),
                    format!(
                        "peer {}'s log shrank: {} entries seen, now {} (the log was rolled back)",
                        peer.name, last.size, new.tree_size
                    ),
                ));
            }
            let fork = |detail: &str| {
                Refusal::new(
                    Why::Fork,
                    format!(
                        "对等实例 {} 的日志与见过的不一致（{} 条处）：{detail}",
                        peer.name, last.size
                    ),
                    format!(
                        "peer {}'s log is not consistent with the one seen at size {}: {detail}",
                        peer.name, last.size
                    ),
                )
            };
            if new.tree_size == last.size {
                if new.root_hash != last.root {
                    return Err(fork("same size, another root"));
                }
            } else {
                anxin_ledger::verify_consistency(
                    peer.log_hash.hasher().as_ref(),
                    last.size,
                    new.tree_size,
                    proof,
                    &last.root,
                    &new.root_hash,
                )
                .map_err(|e| fork(&e.to_string()))?;
            }
        }
        let timestamp = timestamp.min(i64::MAX as u64);
        let signature = self.key.sign(&signed_message(timestamp, body));
        let mut blob = Vec::with_capacity(4 + 8 + 64);
        blob.extend_from_slice(&key_id(&self.name, &self.public()));
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        self.seen.insert(
            peer.name.clone(),
            Seen {
                size: new.tree_size,
                root: new.root_hash,
                checkpoint: checkpoint.to_string(),
            },
        );
        Ok(format!("\u{2014} {} {}\n", self.name, B64.encode(blob)))
    }
}

/// Verifies a cosignature line by the witness (`name`, `public`) on a checkpoint note (its
/// body: the text up to the blank line). Returns the cosignature's timestamp.
pub fn verify_cosignature(
    name: &str,
    public: &[u8; 32],
    note_body: &str,
    line: &str,
) -> Result<u64, Refusal> {
    let bad = |why: &str| {
        Refusal::new(
            Why::WrongKey,
            format!("见证签名无效：{why}"),
            format!("the cosignature does not verify: {why}"),
        )
    };
    let rest = line
        .trim_end_matches('\n')
        .strip_prefix("\u{2014} ")
        .ok_or_else(|| bad("not a signature line"))?;
    let (who, sig) = rest
        .split_once(' ')
        .ok_or_else(|| bad("not a signature line"))?;
    if who != name {
        return Err(bad("another witness"));
    }
    let blob = B64.decode(sig).map_err(|_| bad("not base64"))?;
    if blob.len() != 4 + 8 + 64 || blob[..4] != key_id(name, public) {
        return Err(bad("another key"));
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&blob[4..12]);
    let timestamp = u64::from_be_bytes(ts);
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&blob[12..]);
    let key = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| bad("invalid key"))?;
    key.verify_strict(
        &signed_message(timestamp, note_body),
        &ed25519_dalek::Signature::from_bytes(&sig),
    )
    .map_err(|_| bad("signature"))?;
    Ok(timestamp)
}
