//! Offline proof that one record is in the log: the leaf (data or hash), its inclusion proof
//! and a signed checkpoint, as one JSON document.
//!
//! Whoever holds a bundle and the log's public key (its `vkey`) can check it without asking
//! anyone: this is what certificates (SPEC L4) and transfer packages (W2) are built on.
//!
//! ```json
//! {
//!   "leaf_index": 5,
//!   "tree_size": 8,
//!   "leaf_data_base64": "…",
//!   "inclusion_proof_base64": ["…", "…", "…"],
//!   "checkpoint": "anxin.example/log\n8\n…\n\n— anxin.example/log …\n"
//! }
//! ```
//!
//! Exactly one of `leaf_data_base64` and `leaf_hash_base64` is present: the data when the
//! record may be disclosed, only its hash when it may not.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, parse_and_verify_checkpoint};
use crate::note::Verifier;
use crate::proof::verify_inclusion;
use crate::tree::MerkleTree;
use crate::{Error, Hash, LogHasher, MAX_PROOF_HASHES, Sha256Hasher};

/// Largest bundle JSON accepted.
pub const MAX_BUNDLE_JSON_BYTES: usize = 4 * 1024 * 1024;

/// Largest leaf data a bundle may carry. Log entries are events of a few hundred bytes.
pub const MAX_BUNDLE_LEAF_BYTES: usize = 1024 * 1024;

/// The offline proof of one leaf; see the module documentation for the JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Position of the leaf in the log, from 0.
    pub leaf_index: u64,
    /// Size of the tree the proof and the checkpoint are for.
    pub tree_size: u64,
    /// The leaf's data, standard base64; absent when only the hash is disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_data_base64: Option<String>,
    /// The leaf hash, standard base64; absent when the data is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_hash_base64: Option<String>,
    /// RFC 9162 inclusion proof, each hash in standard base64, leaf level first.
    pub inclusion_proof_base64: Vec<String>,
    /// The signed checkpoint note for `tree_size`.
    pub checkpoint: String,
}

/// What a successfully verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The signed tree head the leaf is proven against.
    pub checkpoint: Checkpoint,
    /// Position of the leaf.
    pub leaf_index: u64,
    /// Hash of the leaf.
    pub leaf_hash: Hash,
    /// The leaf's data, when the bundle discloses it.
    pub leaf_data: Option<Vec<u8>>,
}

impl Bundle {
    /// A bundle disclosing the leaf's data.
    pub fn with_leaf_data(
        leaf_index: u64,
        tree_size: u64,
        leaf_data: &[u8],
        proof: &[Hash],
        signed_checkpoint: &str,
    ) -> Self {
        Self {
            leaf_index,
            tree_size,
            leaf_data_base64: Some(BASE64.encode(leaf_data)),
            leaf_hash_base64: None,
            inclusion_proof_base64: encode_proof(proof),
            checkpoint: signed_checkpoint.to_owned(),
        }
    }

    /// A bundle disclosing only the leaf's hash.
    pub fn with_leaf_hash(
        leaf_index: u64,
        tree_size: u64,
        leaf_hash: &Hash,
        proof: &[Hash],
        signed_checkpoint: &str,
    ) -> Self {
        Self {
            leaf_index,
            tree_size,
            leaf_data_base64: None,
            leaf_hash_base64: Some(BASE64.encode(leaf_hash)),
            inclusion_proof_base64: encode_proof(proof),
            checkpoint: signed_checkpoint.to_owned(),
        }
    }

    /// Builds the bundle for leaf `leaf_index` from `tree`, against the signed checkpoint for
    /// `tree_size`. With `leaf_data`, checks first that the data is what the log holds.
    pub fn from_tree<H: LogHasher>(
        tree: &MerkleTree<H>,
        leaf_index: u64,
        tree_size: u64,
        leaf_data: Option<&[u8]>,
        signed_checkpoint: &str,
    ) -> Result<Self, Error> {
        let proof = tree.inclusion_proof(leaf_index, tree_size)?;
        let Some(leaf_hash) = tree.leaf_hash(leaf_index) else {
            return Err(Error::LeafIndexOutOfRange {
                leaf_index,
                tree_size: tree.size(),
            });
        };
        match leaf_data {
            None => Ok(Self::with_leaf_hash(
                leaf_index,
                tree_size,
                leaf_hash,
                &proof,
                signed_checkpoint,
            )),
            Some(data) if tree.hasher().leaf(data) == *leaf_hash => Ok(Self::with_leaf_data(
                leaf_index,
                tree_size,
                data,
                &proof,
                signed_checkpoint,
            )),
            Some(_) => Err(Error::BundleField {
                field: "leaf_data_base64",
                reason: format!("the data does not hash to leaf {leaf_index} of the log"),
            }),
        }
    }

    /// Parses bundle JSON; unknown fields are rejected.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if json.len() > MAX_BUNDLE_JSON_BYTES {
            return Err(Error::BundleTooLarge {
                len_bytes: json.len(),
                limit_bytes: MAX_BUNDLE_JSON_BYTES,
            });
        }
        serde_json::from_str(json).map_err(|error| Error::BundleJson {
            reason: error.to_string(),
        })
    }

    /// The bundle as indented JSON.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|error| Error::BundleJson {
            reason: error.to_string(),
        })
    }

    /// Verifies the bundle for a SHA-256 log signed by `verifier`.
    pub fn verify(&self, verifier: &Verifier) -> Result<VerifiedBundle, Error> {
        self.verify_with(&Sha256Hasher, verifier)
    }

    /// Verifies the bundle for a log hashed with `hasher`: the checkpoint's signature, that
    /// the checkpoint is for the bundle's tree size, and the inclusion proof against its root.
    pub fn verify_with<H: LogHasher + ?Sized>(
        &self,
        hasher: &H,
        verifier: &Verifier,
    ) -> Result<VerifiedBundle, Error> {
        let checkpoint = parse_and_verify_checkpoint(&self.checkpoint, verifier)?;
        if checkpoint.tree_size != self.tree_size {
            return Err(Error::BundleTreeSizeMismatch {
                bundle_tree_size: self.tree_size,
                checkpoint_tree_size: checkpoint.tree_size,
            });
        }
        let (leaf_hash, leaf_data) = match (&self.leaf_data_base64, &self.leaf_hash_base64) {
            (Some(data_base64), None) => {
                let data = decode_leaf_data(data_base64)?;
                (hasher.leaf(&data), Some(data))
            }
            (None, Some(hash_base64)) => (decode_hash("leaf_hash_base64", hash_base64)?, None),
            (Some(_), Some(_)) => {
                return Err(Error::BundleLeafAmbiguous {
                    found: "found both",
                });
            }
            (None, None) => {
                return Err(Error::BundleLeafAmbiguous {
                    found: "found neither",
                });
            }
        };
        if self.inclusion_proof_base64.len() > MAX_PROOF_HASHES {
            return Err(Error::ProofTooLong {
                len: self.inclusion_proof_base64.len(),
                limit: MAX_PROOF_HASHES,
            });
        }
        let proof = self
            .inclusion_proof_base64
            .iter()
            .map(|hash_base64| decode_hash("inclusion_proof_base64", hash_base64))
            .collect::<Result<Vec<Hash>, Error>>()?;
        verify_inclusion(
            hasher,
            self.leaf_index,
            self.tree_size,
            &leaf_hash,
            &proof,
            &checkpoint.root_hash,
        )?;
        Ok(VerifiedBundle {
            checkpoint,
            leaf_index: self.leaf_index,
            leaf_hash,
            leaf_data,
        })
    }
}

fn encode_proof(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(|hash| BASE64.encode(hash)).collect()
}

fn decode_leaf_data(data_base64: &str) -> Result<Vec<u8>, Error> {
    // Check the size before decoding, so a huge field costs nothing.
    let len_bytes = data_base64.len() / 4 * 3;
    if len_bytes > MAX_BUNDLE_LEAF_BYTES {
        return Err(Error::BundleLeafTooLarge {
            len_bytes,
            limit_bytes: MAX_BUNDLE_LEAF_BYTES,
        });
    }
    BASE64
        .decode(data_base64)
        .map_err(|error| Error::BundleField {
            field: "leaf_data_base64",
            reason: format!("it is not valid standard base64 ({error})"),
        })
}

fn decode_hash(field: &'static str, hash_base64: &str) -> Result<Hash, Error> {
    let bad = |reason: String| Error::BundleField { field, reason };
    if hash_base64.len() != 44 {
        return Err(bad(format!(
            "a hash is {} characters; expected 44 characters of base64 encoding 32 bytes",
            hash_base64.len()
        )));
    }
    let bytes = BASE64.decode(hash_base64).map_err(|error| {
        bad(format!(
            "{hash_base64:?} is not valid standard base64 ({error})"
        ))
    })?;
    bytes
        .try_into()
        .map_err(|_| bad(format!("{hash_base64:?} does not decode to 32 bytes")))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Sm3Hasher;
    use crate::checkpoint::sign_checkpoint;
    use crate::note::Signer;

    struct Fixture {
        signer: Signer,
        tree: MerkleTree,
        signed_checkpoint: String,
    }

    fn fixture() -> Fixture {
        let signer = Signer::from_seed("anxin.example/log", &[5u8; 32]).unwrap();
        let mut tree = MerkleTree::default();
        for i in 0..13u32 {
            tree.append_leaf_data(format!("event {i}").as_bytes())
                .unwrap();
        }
        let checkpoint = Checkpoint::new("anxin.example/log", 11, tree.root_at(11).unwrap());
        let signed_checkpoint = sign_checkpoint(&signer, &checkpoint).unwrap();
        Fixture {
            signer,
            tree,
            signed_checkpoint,
        }
    }

    #[test]
    fn bundles_verify_offline_after_a_json_round_trip() {
        let f = fixture();
        for leaf_index in 0..11 {
            let data = format!("event {leaf_index}");
            let bundle = Bundle::from_tree(
                &f.tree,
                leaf_index,
                11,
                Some(data.as_bytes()),
                &f.signed_checkpoint,
            )
            .unwrap();
            let json = bundle.to_json().unwrap();
            let parsed = Bundle::from_json(&json).unwrap();
            assert_eq!(parsed, bundle);
            let verified = parsed.verify(&f.signer.verifier()).unwrap();
            assert_eq!(verified.leaf_index, leaf_index);
            assert_eq!(verified.leaf_data.as_deref(), Some(data.as_bytes()));
            assert_eq!(verified.checkpoint.tree_size, 11);

            let hash_only =
                Bundle::from_tree(&f.tree, leaf_index, 11, None, &f.signed_checkpoint).unwrap();
            assert!(hash_only.to_json().unwrap().contains("leaf_hash_base64"));
            assert_eq!(
                hash_only.verify(&f.signer.verifier()).unwrap().leaf_hash,
                verified.leaf_hash
            );
        }
    }

    #[test]
    fn tampered_bundles_are_rejected() {
        let f = fixture();
        let verifier = f.signer.verifier();
        let good =
            Bundle::from_tree(&f.tree, 4, 11, Some(b"event 4"), &f.signed_checkpoint).unwrap();
        assert!(good.verify(&verifier).is_ok());

        let mut bad = good.clone();
        bad.leaf_data_base64 = Some(BASE64.encode(b"event 5"));
        assert!(matches!(
            bad.verify(&verifier),
            Err(Error::RootMismatch { .. })
        ));

        let mut bad = good.clone();
        bad.leaf_index = 5;
        assert!(matches!(
            bad.verify(&verifier),
            Err(Error::RootMismatch { .. })
        ));

        let mut bad = good.clone();
        bad.tree_size = 12;
        assert_eq!(
            bad.verify(&verifier),
            Err(Error::BundleTreeSizeMismatch {
                bundle_tree_size: 12,
                checkpoint_tree_size: 11
            })
        );

        let mut bad = good.clone();
        bad.inclusion_proof_base64.pop();
        assert!(matches!(
            bad.verify(&verifier),
            Err(Error::ProofTooShort { .. })
        ));

        let mut bad = good.clone();
        bad.leaf_hash_base64 = Some(BASE64.encode([0u8; 32]));
        assert_eq!(
            bad.verify(&verifier),
            Err(Error::BundleLeafAmbiguous {
                found: "found both"
            })
        );

        let mut bad = good.clone();
        bad.leaf_data_base64 = None;
        assert_eq!(
            bad.verify(&verifier),
            Err(Error::BundleLeafAmbiguous {
                found: "found neither"
            })
        );

        let mut bad = good.clone();
        bad.inclusion_proof_base64[0] = "AAAA".into();
        assert!(matches!(
            bad.verify(&verifier),
            Err(Error::BundleField {
                field: "inclusion_proof_base64",
                ..
            })
        ));

        let mut bad = good.clone();
        bad.checkpoint = bad.checkpoint.replacen("\n11\n", "\n12\n", 1);
        assert!(matches!(
            bad.verify(&verifier),
            Err(Error::NoteSignatureInvalid { .. })
        ));

        let stranger = Signer::from_seed("anxin.example/log", &[6u8; 32]).unwrap();
        assert!(matches!(
            good.verify(&stranger.verifier()),
            Err(Error::NoteNotSignedByKey { .. })
        ));

        // The wrong leaf data is refused when building, before anything is written.
        assert!(Bundle::from_tree(&f.tree, 4, 11, Some(b"event 5"), &f.signed_checkpoint).is_err());
    }

    /// The guomi suite: an SM3 log whose checkpoints are SM2-signed. Bundles verify with the
    /// SM3 hasher and the SM2 key, and fail clearly with the wrong key, algorithm or hasher.
    #[test]
    fn guomi_bundles_verify_and_reject_tampering() {
        let signer = Signer::from_sm2_secret("anxin.example/log", &[5u8; 32]).unwrap();
        let verifier = signer.verifier();
        let mut tree = MerkleTree::new(Sm3Hasher);
        for i in 0..13u32 {
            tree.append_leaf_data(format!("event {i}").as_bytes())
                .unwrap();
        }
        let checkpoint = Checkpoint::new("anxin.example/log", 11, tree.root_at(11).unwrap());
        let signed_checkpoint = sign_checkpoint(&signer, &checkpoint).unwrap();
        for leaf_index in 0..11 {
            let data = format!("event {leaf_index}");
            let bundle = Bundle::from_tree(
                &tree,
                leaf_index,
                11,
                Some(data.as_bytes()),
                &signed_checkpoint,
            )
            .unwrap();
            let parsed = Bundle::from_json(&bundle.to_json().unwrap()).unwrap();
            let verified = parsed.verify_with(&Sm3Hasher, &verifier).unwrap();
            assert_eq!(verified.leaf_index, leaf_index);
            assert_eq!(verified.leaf_data.as_deref(), Some(data.as_bytes()));
            assert_eq!(verified.checkpoint, checkpoint);
            let hash_only =
                Bundle::from_tree(&tree, leaf_index, 11, None, &signed_checkpoint).unwrap();
            assert_eq!(
                hash_only
                    .verify_with(&Sm3Hasher, &verifier)
                    .unwrap()
                    .leaf_hash,
                verified.leaf_hash
            );
        }

        let good = Bundle::from_tree(&tree, 4, 11, Some(b"event 4"), &signed_checkpoint).unwrap();
        // The SHA-256 hasher gives another root: the signature holds, the proof does not.
        assert!(matches!(
            good.verify(&verifier),
            Err(Error::RootMismatch { .. })
        ));
        // An Ed25519 key of the same name, or another SM2 key, is not the signer.
        let ed = Signer::from_seed("anxin.example/log", &[5u8; 32]).unwrap();
        assert!(matches!(
            good.verify_with(&Sm3Hasher, &ed.verifier()),
            Err(Error::NoteNotSignedByKey {
                algorithm: crate::Algorithm::Ed25519,
                ..
            })
        ));
        let stranger = Signer::from_sm2_secret("anxin.example/log", &[6u8; 32]).unwrap();
        assert!(matches!(
            good.verify_with(&Sm3Hasher, &stranger.verifier()),
            Err(Error::NoteNotSignedByKey { .. })
        ));
        let mut bad = good.clone();
        bad.checkpoint = bad.checkpoint.replacen("\n11\n", "\n12\n", 1);
        assert!(matches!(
            bad.verify_with(&Sm3Hasher, &verifier),
            Err(Error::NoteSignatureInvalid {
                algorithm: crate::Algorithm::Sm2,
                ..
            })
        ));
        let mut bad = good.clone();
        bad.leaf_data_base64 = Some(BASE64.encode(b"event 5"));
        assert!(matches!(
            bad.verify_with(&Sm3Hasher, &verifier),
            Err(Error::RootMismatch { .. })
        ));
        // A bundle of the Ed25519 log does not verify with the SM2 key either.
        let f = fixture();
        let ed_bundle = Bundle::from_tree(&f.tree, 4, 11, None, &f.signed_checkpoint).unwrap();
        assert!(matches!(
            ed_bundle.verify(&verifier),
            Err(Error::NoteNotSignedByKey {
                algorithm: crate::Algorithm::Sm2,
                ..
            })
        ));
    }

    #[test]
    fn json_is_strict() {
        assert!(matches!(
            Bundle::from_json("{}"),
            Err(Error::BundleJson { .. })
        ));
        let f = fixture();
        let good = Bundle::from_tree(&f.tree, 1, 11, None, &f.signed_checkpoint)
            .unwrap()
            .to_json()
            .unwrap();
        let extra = good.replacen('{', "{\"surprise\": 1,", 1);
        assert!(matches!(
            Bundle::from_json(&extra),
            Err(Error::BundleJson { .. })
        ));
        let huge = " ".repeat(MAX_BUNDLE_JSON_BYTES + 1);
        assert!(matches!(
            Bundle::from_json(&huge),
            Err(Error::BundleTooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_json_never_panics(text in "\\PC{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let verifier = fixture().signer.verifier();
            for input in [text.clone(), String::from_utf8_lossy(&bytes).into_owned()] {
                if let Ok(bundle) = Bundle::from_json(&input) {
                    let _ = bundle.verify(&verifier);
                }
            }
        }

        #[test]
        fn arbitrary_fields_never_panic(
            leaf_index: u64,
            tree_size: u64,
            data in prop::option::of("\\PC{0,60}"),
            hash in prop::option::of("[A-Za-z0-9+/=]{0,50}"),
            proof in prop::collection::vec("[A-Za-z0-9+/=]{40,48}", 0..70),
            keep_checkpoint: bool,
        ) {
            let f = fixture();
            let bundle = Bundle {
                leaf_index,
                tree_size,
                leaf_data_base64: data,
                leaf_hash_base64: hash,
                inclusion_proof_base64: proof,
                checkpoint: if keep_checkpoint { f.signed_checkpoint.clone() } else { "x".into() },
            };
            let _ = bundle.verify(&f.signer.verifier());
            let _ = Bundle::from_json(&bundle.to_json().unwrap());
        }
    }
}
