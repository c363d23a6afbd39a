//! Signed tree heads in the C2SP `tlog-checkpoint` format:
//!
//! ```text
//! <origin>
//! <tree size, ASCII decimal, no leading zeros>
//! <base64 root hash>
//! [<extension line>...]
//! ```
//!
//! wrapped in a signed note ([`crate::note`]), Ed25519 or SM2. Parsing is strict in what it
//! accepts: a checkpoint that two parsers could read differently is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::note::{Signer, Verifier, open_note, sign_note};
use crate::{Error, Hash, MAX_TREE_SIZE};

/// Most extension lines accepted. The spec discourages them; we write none.
pub const MAX_CHECKPOINT_EXTENSION_LINES: usize = 16;

/// Longest origin line accepted; origins are short URLs such as `anxin.example/log`.
pub const MAX_ORIGIN_BYTES: usize = 256;

/// Longest extension line accepted.
pub const MAX_EXTENSION_LINE_BYTES: usize = 1024;

/// A tree head: which log, how many leaves, and the root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique name of the log, conventionally equal to its signing key name.
    pub origin: String,
    /// Number of leaves.
    pub tree_size: u64,
    /// RFC 9162 root of the first `tree_size` leaves.
    pub root_hash: Hash,
    /// Opaque extension lines, without their newlines; normally none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, tree_size: u64, root_hash: Hash) -> Self {
        Self {
            origin: origin.into(),
            tree_size,
            root_hash,
            extensions: Vec::new(),
        }
    }

    /// The note text: one line each for origin, size and root, then the extensions.
    ///
    /// Fails rather than write text that would parse back as a different checkpoint (an
    /// origin holding a newline, an empty extension line).
    pub fn to_text(&self) -> Result<String, Error> {
        check_origin(&self.origin)?;
        if self.tree_size > MAX_TREE_SIZE {
            return Err(malformed(
                2,
                "tree size",
                format!(
                    "{} exceeds the limit of {MAX_TREE_SIZE} leaves",
                    self.tree_size
                ),
            ));
        }
        check_extension_count(self.extensions.len())?;
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            BASE64.encode(self.root_hash)
        );
        for (offset, extension) in self.extensions.iter().enumerate() {
            check_extension(offset + 4, extension)?;
            text.push_str(extension);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses checkpoint note text (already verified; see [`parse_and_verify_checkpoint`]).
    pub fn parse_text(text: &str) -> Result<Self, Error> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(malformed(
                text.matches('\n').count() + 1,
                "last line",
                "the text does not end with a newline".into(),
            ));
        };
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_origin(origin)?;
        let tree_size = parse_tree_size(lines.next().ok_or_else(|| missing(2, "tree size"))?)?;
        let root_hash = parse_root_hash(lines.next().ok_or_else(|| missing(3, "root hash"))?)?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        check_extension_count(extensions.len())?;
        for (offset, extension) in extensions.iter().enumerate() {
            check_extension(offset + 4, extension)?;
        }
        Ok(Self {
            origin: origin.to_owned(),
            tree_size,
            root_hash,
            extensions,
        })
    }
}

/// Signs `checkpoint` and returns the signed note text.
pub fn sign_checkpoint(signer: &Signer, checkpoint: &Checkpoint) -> Result<String, Error> {
    sign_note(signer, &checkpoint.to_text()?)
}

/// Verifies the signature of `verifier` on a signed checkpoint note and parses its text.
///
/// The caller still decides whether the origin is the log it expects; with one key per log
/// (the convention here) the key already pins it.
pub fn parse_and_verify_checkpoint(text: &str, verifier: &Verifier) -> Result<Checkpoint, Error> {
    Checkpoint::parse_text(open_note(text, verifier)?)
}

fn parse_tree_size(line: &str) -> Result<u64, Error> {
    let bad = |reason: String| malformed(2, "tree size", reason);
    if line.is_empty() {
        return Err(bad(
            "it is empty; expected the number of leaves in decimal".into()
        ));
    }
    if !line.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(bad(
            "it is not a decimal number (only the digits 0-9 are allowed)".into(),
        ));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(bad("it has a leading zero".into()));
    }
    let tree_size: u64 = line
        .parse()
        .map_err(|_| bad("it does not fit in 64 bits".into()))?;
    if tree_size > MAX_TREE_SIZE {
        return Err(bad(format!(
            "{tree_size} exceeds the limit of {MAX_TREE_SIZE} leaves"
        )));
    }
    Ok(tree_size)
}

fn parse_root_hash(line: &str) -> Result<Hash, Error> {
    let bad = |reason: &str| malformed(3, "root hash", reason.into());
    if line.len() != 44 {
        return Err(bad(
            "it is not 44 characters of base64, the encoding of a 32-byte hash",
        ));
    }
    let bytes = BASE64
        .decode(line)
        .map_err(|_| bad("it is not valid standard base64 with padding"))?;
    let root_hash: Hash = bytes
        .try_into()
        .map_err(|_| bad("it does not decode to 32 bytes"))?;
    if BASE64.encode(root_hash) != line {
        return Err(bad("it is not the canonical base64 encoding of its bytes"));
    }
    Ok(root_hash)
}

fn check_origin(origin: &str) -> Result<(), Error> {
    let bad = |reason: &str| malformed(1, "origin", reason.into());
    if origin.is_empty() {
        return Err(bad(
            "it is empty; expected the log's name, such as anxin.example/log",
        ));
    }
    if origin.len() > MAX_ORIGIN_BYTES {
        return Err(bad("it is longer than 256 bytes"));
    }
    if origin.chars().any(char::is_control) {
        return Err(bad("it contains a newline or another control character"));
    }
    Ok(())
}

fn check_extension(line_number: usize, extension: &str) -> Result<(), Error> {
    let bad = |reason: &str| malformed(line_number, "extension", reason.into());
    if extension.is_empty() {
        return Err(bad("it is empty; extension lines must be non-empty"));
    }
    if extension.len() > MAX_EXTENSION_LINE_BYTES {
        return Err(bad("it is longer than 1024 bytes"));
    }
    if extension.chars().any(char::is_control) {
        return Err(bad("it contains a newline or another control character"));
    }
    Ok(())
}

fn check_extension_count(count: usize) -> Result<(), Error> {
    if count > MAX_CHECKPOINT_EXTENSION_LINES {
        return Err(Error::CheckpointTooManyExtensions {
            count,
            limit: MAX_CHECKPOINT_EXTENSION_LINES,
        });
    }
    Ok(())
}

fn missing(line_number: usize, line_name: &'static str) -> Error {
    malformed(
        line_number,
        line_name,
        "the line is missing; a checkpoint has at least origin, tree size and root hash lines"
            .into(),
    )
}

fn malformed(line_number: usize, line_name: &'static str, reason: String) -> Error {
    Error::CheckpointMalformed {
        line_number,
        line_name,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{Algorithm, LogHasher, MerkleTree, Sha256Hasher, Sm3Hasher};

    fn signer() -> Signer {
        Signer::from_seed("anxin.example/log", &[3u8; 32]).unwrap()
    }

    fn sm2_signer() -> Signer {
        Signer::from_sm2_secret("anxin.example/log", &[3u8; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        let mut tree = MerkleTree::default();
        for i in 0..5u8 {
            tree.append_leaf_data(&[i]).unwrap();
        }
        Checkpoint::new("anxin.example/log", tree.size(), tree.root())
    }

    #[test]
    fn c2sp_example_text_parses() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let parsed = Checkpoint::parse_text(text).unwrap();
        assert_eq!(parsed.origin, "example.com/behind-the-sofa");
        assert_eq!(parsed.tree_size, 20852163);
        assert_eq!(parsed.to_text().unwrap(), text);
    }

    #[test]
    fn round_trip() {
        round_trip_with(&signer());
        round_trip_with(&sm2_signer());
    }

    fn round_trip_with(signer: &Signer) {
        let mut checkpoint = checkpoint();
        let signed = sign_checkpoint(signer, &checkpoint).unwrap();
        assert!(signed.starts_with("anxin.example/log\n5\n"));
        assert!(signed.contains("\n\n\u{2014} anxin.example/log "));
        assert_eq!(
            parse_and_verify_checkpoint(&signed, &signer.verifier()),
            Ok(checkpoint.clone())
        );

        checkpoint.extensions.push("witnessed-by a.example".into());
        let signed = sign_checkpoint(signer, &checkpoint).unwrap();
        assert_eq!(
            parse_and_verify_checkpoint(&signed, &signer.verifier()),
            Ok(checkpoint)
        );

        let empty = Checkpoint::new("anxin.example/log", 0, Sha256Hasher.empty_root());
        let signed = sign_checkpoint(signer, &empty).unwrap();
        assert!(
            signed.starts_with(
                "anxin.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
            )
        );
        assert_eq!(
            parse_and_verify_checkpoint(&signed, &signer.verifier()),
            Ok(empty)
        );
    }

    #[test]
    fn tampering_is_rejected() {
        tampering_is_rejected_with(&signer(), Signer::from_seed);
        tampering_is_rejected_with(&sm2_signer(), Signer::from_sm2_secret);
    }

    fn tampering_is_rejected_with(
        signer: &Signer,
        same_algorithm: fn(&str, &[u8; 32]) -> Result<Signer, Error>,
    ) {
        let verifier = signer.verifier();
        let signed = sign_checkpoint(signer, &checkpoint()).unwrap();
        let root_line = signed.lines().nth(2).unwrap();
        let other_root = BASE64.encode([9u8; 32]);
        let tampered = [
            signed.replacen("anxin.example/log\n", "anxin.example/loh\n", 1),
            signed.replacen("\n5\n", "\n6\n", 1),
            signed.replacen(root_line, &other_root, 1),
            signed.replacen("\n\n", "\nextra line\n\n", 1),
        ];
        for text in &tampered {
            assert!(
                matches!(
                    parse_and_verify_checkpoint(text, &verifier),
                    Err(Error::NoteSignatureInvalid { .. })
                ),
                "accepted {text:?}"
            );
        }
        let other = same_algorithm("anxin.example/log", &[4u8; 32]).unwrap();
        let error = parse_and_verify_checkpoint(&signed, &other.verifier()).unwrap_err();
        assert!(matches!(error, Error::NoteNotSignedByKey { .. }));
        assert!(
            error
                .to_string()
                .contains("signatures present: anxin.example/log ("),
            "{error}"
        );
        let (text, _) = signed.rsplit_once("\n\n").unwrap();
        assert_eq!(
            parse_and_verify_checkpoint(&format!("{text}\n"), &verifier),
            Err(Error::NoteMissingSignatures)
        );
    }

    /// A guomi checkpoint (SM3 root, SM2 signature) verifies with the SM2 key only.
    #[test]
    fn guomi_checkpoint_round_trip() {
        let mut tree = MerkleTree::new(Sm3Hasher);
        for i in 0..5u8 {
            tree.append_leaf_data(&[i]).unwrap();
        }
        let checkpoint = Checkpoint::new("anxin.example/log", tree.size(), tree.root());
        let signer = sm2_signer();
        let signed = sign_checkpoint(&signer, &checkpoint).unwrap();
        assert_eq!(
            parse_and_verify_checkpoint(&signed, &signer.verifier()),
            Ok(checkpoint)
        );
        let error = parse_and_verify_checkpoint(&signed, &self::signer().verifier()).unwrap_err();
        assert!(
            matches!(
                error,
                Error::NoteNotSignedByKey {
                    algorithm: Algorithm::Ed25519,
                    ..
                }
            ),
            "{error}"
        );
        let ed_signed = sign_checkpoint(&self::signer(), &self::checkpoint()).unwrap();
        assert!(matches!(
            parse_and_verify_checkpoint(&ed_signed, &signer.verifier()),
            Err(Error::NoteNotSignedByKey {
                algorithm: Algorithm::Sm2,
                ..
            })
        ));
    }

    /// Malformed bodies are rejected even when properly signed.
    #[test]
    fn malformed_bodies_are_rejected() {
        let signer = signer();
        let root = BASE64.encode([1u8; 32]);
        let cases = [
            ("origin\n".to_owned(), 2, "tree size"),
            ("origin\n5\n".to_owned(), 3, "root hash"),
            (format!("\n5\n{root}\n"), 1, "origin"),
            (format!("origin\n05\n{root}\n"), 2, "tree size"),
            (format!("origin\n+5\n{root}\n"), 2, "tree size"),
            (format!("origin\n5 \n{root}\n"), 2, "tree size"),
            (
                format!("origin\n18446744073709551616\n{root}\n"),
                2,
                "tree size",
            ),
            (
                format!("origin\n4611686018427387905\n{root}\n"),
                2,
                "tree size",
            ),
            (format!("origin\n5\n{}\n", &root[..43]), 3, "root hash"),
            (
                format!("origin\n5\n{}\n", root.replace('=', "A")),
                3,
                "root hash",
            ),
            (
                format!("origin\n5\n{}\n", BASE64.encode([1u8; 31])),
                3,
                "root hash",
            ),
            (
                format!(
                    "origin\n5\n{}\n",
                    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF="
                ),
                3,
                "root hash",
            ),
        ];
        for (text, line_number, line_name) in cases {
            let signed = sign_note(&signer, &text).unwrap();
            let error = parse_and_verify_checkpoint(&signed, &signer.verifier()).unwrap_err();
            assert!(
                matches!(error, Error::CheckpointMalformed { line_number: l, line_name: n, .. } if l == line_number && n == line_name),
                "{text:?}: {error}"
            );
        }
        let many = format!(
            "origin\n5\n{root}\n{}",
            "ext\n".repeat(MAX_CHECKPOINT_EXTENSION_LINES + 1)
        );
        assert!(matches!(
            Checkpoint::parse_text(&many),
            Err(Error::CheckpointTooManyExtensions { .. })
        ));
        let with_blank_extension = format!("origin\n5\n{root}\n\next\n");
        assert!(Checkpoint::parse_text(&with_blank_extension).is_err());
    }

    #[test]
    fn writing_refuses_ambiguous_checkpoints() {
        let signer = signer();
        let mut checkpoint = checkpoint();
        checkpoint.origin = "evil\n999".into();
        assert!(sign_checkpoint(&signer, &checkpoint).is_err());
        checkpoint.origin = String::new();
        assert!(sign_checkpoint(&signer, &checkpoint).is_err());
        let mut checkpoint = self::checkpoint();
        checkpoint.extensions.push(String::new());
        assert!(sign_checkpoint(&signer, &checkpoint).is_err());
        let mut checkpoint = self::checkpoint();
        checkpoint.tree_size = MAX_TREE_SIZE + 1;
        assert!(sign_checkpoint(&signer, &checkpoint).is_err());
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let verifier = signer().verifier();
            let _ = parse_and_verify_checkpoint(&text, &verifier);
            let _ = parse_and_verify_checkpoint(&text, &sm2_signer().verifier());
            let _ = parse_and_verify_checkpoint(&String::from_utf8_lossy(&bytes), &verifier);
            let _ = Checkpoint::parse_text(&text);
        }

        /// Random edits of a real signed checkpoint: never a panic, and never accepted
        /// unless the edit left the text unchanged.
        #[test]
        fn edited_checkpoints_are_rejected(position: usize, replacement in "[\\x00-\\x7f\u{2014}]{0,3}", cut in 0usize..4, sm2: bool) {
            let signer = if sm2 { sm2_signer() } else { signer() };
            let signed = sign_checkpoint(&signer, &checkpoint()).unwrap();
            let mut at = position % signed.len();
            while !signed.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(signed.len());
            while !signed.is_char_boundary(end) {
                end += 1;
            }
            let edited = format!("{}{}{}", &signed[..at], replacement, &signed[end..]);
            let result = parse_and_verify_checkpoint(&edited, &signer.verifier());
            if edited != signed {
                // Only the unsigned part after the text may change harmlessly (for example
                // by adding a line that another key signed); the checkpoint must not.
                if let Ok(parsed) = result {
                    prop_assert_eq!(parsed, checkpoint());
                }
            } else {
                prop_assert!(result.is_ok());
            }
        }
    }
}
