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

/// The path of the C2SP `tlog-witness` add-checkpoint endpoint, on every instance.
pub const ADD_CHECKPOINT_PATH: &str = "/federation/v1/add-checkpoint";
/// Largest add-checkpoint request: a checkpoint note with its signatures, and a consistency
/// proof of up to 63 hashes in base64.
pub const MAX_ADD_CHECKPOINT_BYTES: usize = 16 * 1024;

/// A C2SP `tlog-witness` add-checkpoint request: the size the log believes the witness has
/// cosigned (`old`), the consistency proof from it, and the new checkpoint (a signed note).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// The request's text: `old <size>`, one base64 hash per line, a blank line, the note.
    pub fn to_text(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a request; every problem says what is expected.
    pub fn parse(text: &str) -> Result<AddCheckpoint, Refusal> {
        let bad = |what: &str| {
            Refusal::new(
                Why::Malformed,
                format!(
                    "见证请求格式不对（C2SP tlog-witness：old 行、证明哈希各一行、空行、检查点）：{what}"
                ),
                format!(
                    "not a witness request (C2SP tlog-witness: an old line, one proof hash per line, a blank line, the checkpoint): {what}"
                ),
            )
        };
        if text.len() > MAX_ADD_CHECKPOINT_BYTES {
            return Err(bad("too large"));
        }
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(|n| {
                (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 20)
                    .then(|| n.parse::<u64>().ok())
                    .flatten()
            })
            .ok_or_else(|| bad("the first line must be old <size>"))?;
        let mut proof = Vec::new();
        for line in lines {
            let hash = B64
                .decode(line)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| bad("a proof line is not a base64 SHA-256 hash"))?;
            proof.push(hash);
            if proof.len() > 63 {
                return Err(bad("more than 63 proof hashes"));
            }
        }
        if old == 0 && !proof.is_empty() {
            return Err(bad("a proof from size 0"));
        }
        Ok(AddCheckpoint {
            old,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }
}

/// Why a witness did not cosign, as C2SP `tlog-witness` answers it.
#[derive(Debug)]
pub enum NotCosigned {
    /// 409: the witness has cosigned `size` of this log, not the request's `old` (the log
    /// sends again from there). Also the answer to a log that shrank.
    Conflict { size: u64, refusal: Refusal },
    /// 400 malformed, 403 not signed by the peer's log key, 404 no peer keeps this log,
    /// 422 the proof does not tie the checkpoint to the one cosigned, 503 storage failed.
    Refused(Refusal),
}

impl From<Refusal> for NotCosigned {
    fn from(r: Refusal) -> NotCosigned {
        NotCosigned::Refused(r)
    }
}

fn store_failed(e: anxin_records::Error) -> Refusal {
    Refusal::new(
        Why::Internal,
        format!("见证状态无法读写：{e}"),
        format!("the witness state cannot be read or written: {e}"),
    )
}

impl Witness {
    /// C2SP `tlog-witness` add-checkpoint, with what this witness has seen kept in `store`
    /// (migration 18): the peer whose log key signed the checkpoint; a checkpoint smaller
    /// than the one cosigned is a rollback and one that does not extend it a fork — both kept
    /// as alarms with the peer's signed note as evidence, and neither cosigned; an `old` that
    /// is not the size cosigned gets that size back (409). Returns the cosignature line.
    pub fn add_checkpoint(
        &mut self,
        store: &mut dyn anxin_records::Store,
        peers: &super::keys::Peers,
        request: &AddCheckpoint,
        now: i64,
    ) -> Result<String, NotCosigned> {
        let peer = peers
            .peers
            .iter()
            .find(|p| anxin_ledger::open_note(&request.checkpoint, &p.log_key).is_ok())
            .ok_or_else(|| {
                Refusal::new(
                    Why::UnknownPeer,
                    "检查点不是任何对等实例的日志密钥签的：本实例不见证这个日志",
                    "the checkpoint is not signed by any peer's log key: this instance does not witness that log",
                )
            })?;
        let stored = store
            .witness_seen()
            .map_err(store_failed)?
            .into_iter()
            .find(|s| s.peer == peer.name);
        self.seen.remove(&peer.name);
        if let Some(s) = &stored {
            self.seen.insert(
                peer.name.clone(),
                Seen {
                    size: s.size,
                    root: s.root,
                    checkpoint: s.checkpoint.clone(),
                },
            );
        }
        let seen_size = stored.as_ref().map_or(0, |s| s.size);
        let body = anxin_ledger::open_note(&request.checkpoint, &peer.log_key)
            .map_err(|e| Refusal::new(Why::CheckpointInvalid, e.to_string(), e.to_string()))?;
        let new = Checkpoint::parse_text(body)
            .map_err(|e| Refusal::new(Why::CheckpointInvalid, e.to_string(), e.to_string()))?;
        let alarm = |store: &mut dyn anxin_records::Store, r: &Refusal| {
            store
                .witness_alarm_add(&anxin_records::witness::AlarmRow {
                    id: 0,
                    peer: peer.name.clone(),
                    at: now,
                    kind: r.why.code().to_string(),
                    seen_size,
                    size: new.tree_size,
                    zh: r.zh.clone(),
                    en: r.en.clone(),
                    checkpoint: request.checkpoint.clone(),
                })
                .map_err(store_failed)
        };
        // A smaller checkpoint is a rollback whatever `old` says (`observe` refuses it first).
        if request.old != seen_size && new.tree_size >= seen_size {
            return Err(NotCosigned::Conflict {
                size: seen_size,
                refusal: Refusal::new(
                    Why::OutOfOrder,
                    format!("本见证人见过的大小是 {seen_size}，不是 {}", request.old),
                    format!(
                        "this witness has cosigned size {seen_size}, not {}",
                        request.old
                    ),
                ),
            });
        }
        let line = match self.observe(peer, &request.checkpoint, &request.proof, now.max(0) as u64)
        {
            Ok(line) => line,
            Err(r) if r.why == Why::Rollback => {
                alarm(store, &r)?;
                return Err(NotCosigned::Conflict {
                    size: seen_size,
                    refusal: r,
                });
            }
            Err(r) => {
                if r.why == Why::Fork {
                    alarm(store, &r)?;
                }
                return Err(r.into());
            }
        };
        let row = anxin_records::witness::SeenRow {
            peer: peer.name.clone(),
            size: new.tree_size,
            root: new.root_hash,
            checkpoint: request.checkpoint.clone(),
            at: now,
        };
        let kept = store
            .witness_set_seen(&row, stored.as_ref().map(|s| s.size))
            .map_err(store_failed)?;
        if !kept {
            // Another request of the same peer came first: it sends again from there.
            let size = store
                .witness_seen()
                .map_err(store_failed)?
                .into_iter()
                .find(|s| s.peer == peer.name)
                .map_or(0, |s| s.size);
            return Err(NotCosigned::Conflict {
                size,
                refusal: Refusal::new(
                    Why::OutOfOrder,
                    "另一个请求先到了，请重新发送",
                    "another request came first: send again",
                ),
            });
        }
        Ok(line)
    }
}

/// Checks that `checkpoint` (a signed note, e.g. a certificate's) carries a cosignature by
/// the witness `name` with Ed25519 key `public`: the cosignature's timestamp.
pub fn cosigned_by(checkpoint: &str, name: &str, public: &[u8; 32]) -> Result<u64, Refusal> {
    let missing = || {
        Refusal::new(
            Why::WrongKey,
            format!("检查点没有见证人 {name} 的联署"),
            format!("the checkpoint carries no cosignature by witness {name}"),
        )
    };
    let split = checkpoint.rfind("\n\n").ok_or_else(missing)?;
    let prefix = format!("\u{2014} {name} ");
    let line = checkpoint[split + 2..]
        .lines()
        .find(|l| l.starts_with(&prefix))
        .ok_or_else(missing)?;
    verify_cosignature(name, public, &checkpoint[..=split], line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No text makes the request parser panic; whatever it accepts reads back the same.
        #[test]
        fn any_text_parses_or_is_refused(text in "\\PC{0,400}") {
            if let Ok(req) = AddCheckpoint::parse(&text) {
                prop_assert_eq!(AddCheckpoint::parse(&req.to_text()).ok(), Some(req));
            }
        }

        /// A request written by `to_text` parses back to itself.
        #[test]
        fn requests_round_trip(
            old in 1u64..u64::MAX,
            proof in proptest::collection::vec(any::<[u8; 32]>(), 0..64),
            checkpoint in "[a-z./]{1,20}\n[0-9]{1,5}\n[A-Za-z0-9+/=]{44}\n\n\u{2014} [a-z]{1,8} [A-Za-z0-9+/=]{8,100}\n",
        ) {
            let req = AddCheckpoint { old, proof, checkpoint };
            prop_assert_eq!(AddCheckpoint::parse(&req.to_text()).ok(), Some(req));
        }
    }

    #[test]
    fn malformed_requests_say_what_is_expected() {
        for bad in [
            "",
            "old 3",
            "old x\n\ncheckpoint\n",
            "new 3\n\ncheckpoint\n",
            "old 0\nAAAA\n\ncheckpoint\n",
            "old 3\nnot base64!\n\ncheckpoint\n",
            "old 99999999999999999999\n\ncheckpoint\n",
        ] {
            let e = AddCheckpoint::parse(bad).unwrap_err();
            assert_eq!(e.why, Why::Malformed, "{bad:?}");
            assert!(e.en.contains("C2SP tlog-witness"), "{bad:?}: {}", e.en);
        }
        let big = format!("old 1\n\n{}", "x".repeat(MAX_ADD_CHECKPOINT_BYTES));
        assert!(AddCheckpoint::parse(&big).is_err());
    }
}
