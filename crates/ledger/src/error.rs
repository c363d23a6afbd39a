//! One error type for the whole crate, so callers (CLI, server) map it in one place.
//!
//! Messages are for operators reading a log or a terminal: they say what is wrong and what
//! was expected. They never echo secret material; they may echo public values (sizes, key
//! names, hashes in hex).

/// Everything that can go wrong in the ledger library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- Tree and proofs -------------------------------------------------------------------
    #[error(
        "leaf index {leaf_index} is outside a tree of size {tree_size}; expected an index below the tree size"
    )]
    LeafIndexOutOfRange { leaf_index: u64, tree_size: u64 },

    #[error("tree size {tree_size} exceeds the limit of {limit} leaves")]
    TreeSizeTooLarge { tree_size: u64, limit: u64 },

    #[error("tree size {requested} was asked for, but the tree holds only {available} leaves")]
    TreeSizeBeyondLog { requested: u64, available: u64 },

    #[error("proof has {len} hashes; at most {limit} are accepted")]
    ProofTooLong { len: usize, limit: usize },

    #[error(
        "proof has more hashes than a tree of size {tree_size} needs: hash number {position} is surplus"
    )]
    ProofHasSurplusHashes { tree_size: u64, position: usize },

    #[error(
        "proof has too few hashes for a tree of size {tree_size}: it ended before reaching the root"
    )]
    ProofTooShort { tree_size: u64 },

    #[error("computed root {computed_hex} does not match the expected root {expected_hex}")]
    RootMismatch {
        computed_hex: String,
        expected_hex: String,
    },

    #[error(
        "consistency proof from size {size1} to size {size2} is impossible: the first size must not exceed the second"
    )]
    ConsistencySizesReversed { size1: u64, size2: u64 },

    #[error(
        "consistency proof from an empty tree is meaningless: every tree extends the empty tree; expected a first size of at least 1"
    )]
    ConsistencyFromEmptyTree,

    #[error(
        "consistency proof between equal sizes ({size}) must be empty, but it has {len} hashes"
    )]
    ConsistencyProofNotEmpty { size: u64, len: usize },

    #[error(
        "consistency proof from size {size1} to size {size2} is empty; expected at least one hash"
    )]
    ConsistencyProofEmpty { size1: u64, size2: u64 },

    #[error(
        "roots of the two tree heads of equal size {size} differ ({root1_hex} and {root2_hex}): the log has forked"
    )]
    ConsistencyRootsDiffer {
        size: u64,
        root1_hex: String,
        root2_hex: String,
    },

    #[error(
        "consistency proof does not reproduce the first root: computed {computed_hex}, expected {expected_hex}"
    )]
    ConsistencyRoot1Mismatch {
        computed_hex: String,
        expected_hex: String,
    },

    #[error(
        "consistency proof does not reproduce the second root: computed {computed_hex}, expected {expected_hex}"
    )]
    ConsistencyRoot2Mismatch {
        computed_hex: String,
        expected_hex: String,
    },

    // ---- Tiles -----------------------------------------------------------------------------
    #[error(
        "tile path {path:?} is malformed: {reason}; expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in groups of three digits (x001/x234/067), W from 1 to 255"
    )]
    TilePathMalformed { path: String, reason: &'static str },

    #[error(
        "stored hashes {from}..{to} of level {level} were asked for, but {got} came back: the stored tree is incomplete"
    )]
    TileHashesMissing {
        level: u8,
        from: u64,
        to: u64,
        got: usize,
    },

    // ---- Keys ------------------------------------------------------------------------------
    #[error("key name {name:?} is invalid: {reason}")]
    InvalidKeyName { name: String, reason: &'static str },

    #[error(
        "verifier key is malformed: {reason}; expected \"<name>+<8 hex digits key id>+<base64 of 0x01 and the 32-byte Ed25519 public key, or of 0xff, \"sm2\" and the 65-byte uncompressed SM2 public key>\""
    )]
    InvalidVerifierKey { reason: String },

    #[error(
        "signer key is malformed: {reason}; expected \"PRIVATE+KEY+<name>+<8 hex digits key id>+<base64 of 0x01 and the 32-byte Ed25519 seed, or of 0xff, \"sm2\" and the 32-byte SM2 secret key>\""
    )]
    InvalidSignerKey { reason: String },

    #[error("the operating system's random number source failed: {reason}")]
    RandomSourceFailed { reason: String },

    // ---- Signed notes ----------------------------------------------------------------------
    #[error("signed note is {len_bytes} bytes; at most {limit_bytes} are accepted")]
    NoteTooLarge {
        len_bytes: usize,
        limit_bytes: usize,
    },

    #[error("note text is empty; expected at least one line ending in a newline")]
    NoteTextEmpty,

    #[error("note text must end with a newline (U+000A)")]
    NoteTextMissingFinalNewline,

    #[error(
        "note contains the control character U+{code:04X} at byte {offset}; only newline (U+000A) is allowed"
    )]
    NoteControlCharacter { code: u32, offset: usize },

    #[error(
        "note has no blank line separating the text from the signatures; expected text, an empty line, then lines of the form \"— <key name> <base64 signature>\""
    )]
    NoteMissingSignatures,

    #[error("note has {count} signature lines; at most {limit} are accepted")]
    NoteTooManySignatures { count: usize, limit: usize },

    #[error(
        "signature line {line_number} is malformed: {reason}; expected \"— <key name> <base64 of 4-byte key id and signature>\""
    )]
    NoteMalformedSignatureLine {
        line_number: usize,
        reason: &'static str,
    },

    #[error(
        "note is not signed by the trusted {algorithm} key {key_name} (key id {key_id:08x}); signatures present: {present}"
    )]
    NoteNotSignedByKey {
        key_name: String,
        key_id: u32,
        algorithm: crate::note::Algorithm,
        present: String,
    },

    #[error(
        "signature by the trusted {algorithm} key {key_name} (key id {key_id:08x}) does not verify: the note was altered after signing or signed with another key"
    )]
    NoteSignatureInvalid {
        key_name: String,
        key_id: u32,
        algorithm: crate::note::Algorithm,
    },

    #[error("signature context {context:?} is invalid: {reason}")]
    InvalidSignatureContext {
        context: String,
        reason: &'static str,
    },

    #[error("signature is {len_bytes} bytes; Ed25519 and SM2 signatures (r || s) are exactly 64")]
    SignatureWrongLength { len_bytes: usize },

    #[error("message to sign or verify is {len_bytes} bytes; at most {limit_bytes} are accepted")]
    MessageTooLarge {
        len_bytes: usize,
        limit_bytes: usize,
    },

    #[error(
        "signature by {algorithm} key {key_name} (key id {key_id:08x}) does not verify over this message and context; a signature made with another key or another algorithm never does"
    )]
    SignatureInvalid {
        key_name: String,
        key_id: u32,
        algorithm: crate::note::Algorithm,
    },

    #[error("{algorithm} signing failed for this message; signing it again cannot help")]
    SigningFailed { algorithm: crate::note::Algorithm },

    // ---- Checkpoints -----------------------------------------------------------------------
    #[error("checkpoint line {line_number} ({line_name}) is malformed: {reason}")]
    CheckpointMalformed {
        line_number: usize,
        line_name: &'static str,
        reason: String,
    },

    #[error("checkpoint has {count} extension lines; at most {limit} are accepted")]
    CheckpointTooManyExtensions { count: usize, limit: usize },

    // ---- Bundles ---------------------------------------------------------------------------
    #[error("bundle JSON is {len_bytes} bytes; at most {limit_bytes} are accepted")]
    BundleTooLarge {
        len_bytes: usize,
        limit_bytes: usize,
    },

    #[error("bundle JSON is malformed: {reason}")]
    BundleJson { reason: String },

    #[error("bundle field {field} is malformed: {reason}")]
    BundleField { field: &'static str, reason: String },

    #[error("bundle must carry exactly one of leaf_data_base64 and leaf_hash_base64, {found}")]
    BundleLeafAmbiguous { found: &'static str },

    #[error(
        "bundle claims tree size {bundle_tree_size} but its checkpoint is for tree size {checkpoint_tree_size}"
    )]
    BundleTreeSizeMismatch {
        bundle_tree_size: u64,
        checkpoint_tree_size: u64,
    },

    #[error("bundle leaf data is {len_bytes} bytes; at most {limit_bytes} are accepted")]
    BundleLeafTooLarge {
        len_bytes: usize,
        limit_bytes: usize,
    },
}
