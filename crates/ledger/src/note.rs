//! Ed25519 signed notes in the C2SP `signed-note` format, and the key text forms of the Go
//! `golang.org/x/mod/sumdb/note` package, so that checkpoints signed here can be checked by
//! standard transparency-log tools and witnesses.
//!
//! A signed note is UTF-8 text ending in a newline, a blank line, then one or more lines
//! `— <key name> <base64(4-byte key id || signature)>`. The key id is the first four bytes of
//! `SHA-256(key name || 0x0A || 0x01 || public key)`; name and id together select the key.
//!
//! [`sign_bytes`] and [`verify_bytes`] sign raw messages (certificates) with the same keys,
//! under a prefix that contains a NUL byte. Note texts can never contain NUL, so a signature
//! made for a certificate can never be replayed as a signature on a checkpoint, nor the
//! reverse; the `context` string separates kinds of certificates from one another likewise.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use sha2::Digest as _;

use crate::Error;

/// Largest signed note accepted, signatures included. A checkpoint with a few cosignatures
/// is well under a kilobyte; this leaves room for 16 post-quantum cosignatures (~5 kB each),
/// which the C2SP spec asks verifiers to accept.
pub const MAX_NOTE_BYTES: usize = 256 * 1024;

/// Most signature lines accepted on one note (the Go `note` package's limit).
pub const MAX_NOTE_SIGNATURES: usize = 100;

/// Longest key name accepted; names are short URLs such as `anxin.example/log`.
pub const MAX_KEY_NAME_BYTES: usize = 256;

/// Longest context string accepted by [`sign_bytes`] and [`verify_bytes`].
pub const MAX_CONTEXT_BYTES: usize = 256;

/// Largest message accepted by [`sign_bytes`] and [`verify_bytes`]; certificates are a few
/// kilobytes.
pub const MAX_SIGNED_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Signature type byte of Ed25519 in C2SP `signed-note`.
const ED25519_TYPE: u8 = 0x01;

const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Prefix of messages signed by [`sign_bytes`]. The NUL byte keeps them disjoint from note
/// texts, which may not contain control characters.
const SIGN_BYTES_DOMAIN: &[u8] = b"anxin-ledger/sign-bytes/v1\0";

/// A named Ed25519 signing key. `Debug` never prints the secret.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    signing_key: ed25519_dalek::SigningKey,
}

/// A named Ed25519 public key that notes and messages are verified against.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    verifying_key: ed25519_dalek::VerifyingKey,
}

impl Signer {
    /// The signer whose Ed25519 secret key is `seed` (RFC 8032's 32-byte private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let signing_key = ed25519_dalek::SigningKey::from_bytes(seed);
        let key_id = key_id(name, signing_key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            signing_key,
        })
    }

    /// A new signer with a fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, Error> {
        check_key_name(name)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| Error::RandomSourceFailed {
            reason: error.to_string(),
        })?;
        Self::from_seed(name, &seed)
    }

    /// Parses the Go `note` private key text form,
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`.
    pub fn from_skey(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidSignerKey {
            reason: reason.to_owned(),
        };
        if text.len() > MAX_KEY_NAME_BYTES + 128 {
            return Err(invalid("it is too long"));
        }
        let rest = text
            .strip_prefix(SKEY_PREFIX)
            .ok_or_else(|| invalid("it does not start with PRIVATE+KEY+"))?;
        let (name, key_id_text, key_text) =
            split_key_text(rest).map_err(|reason| Error::InvalidSignerKey { reason })?;
        let key_bytes = BASE64
            .decode(key_text)
            .map_err(|_| invalid("the key is not valid base64"))?;
        let seed: [u8; 32] =
            typed_key(&key_bytes).map_err(|reason| Error::InvalidSignerKey { reason })?;
        let signer = Self::from_seed(name, &seed)?;
        let key_id = u32::from_str_radix(key_id_text, 16)
            .map_err(|_| invalid("the key id is not hexadecimal"))?;
        if key_id != signer.key_id {
            return Err(invalid("the key id does not match the name and key"));
        }
        Ok(signer)
    }

    /// The Go `note` private key text form. It holds the secret key: store it like one.
    pub fn to_skey(&self) -> String {
        let mut key = vec![ED25519_TYPE];
        key.extend_from_slice(self.signing_key.as_bytes());
        format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(key)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id that signature lines carry.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching public verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            verifying_key: self.signing_key.verifying_key(),
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

impl Verifier {
    /// The verifier for Ed25519 `public_key` under `name`.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let verifying_key =
            verifying_key(public_key).map_err(|reason| Error::InvalidVerifierKey {
                reason: reason.to_owned(),
            })?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            verifying_key,
        })
    }

    /// Parses the Go `note` verifier key text form, `<name>+<hex key id>+<base64(0x01 || key)>`.
    pub fn from_vkey(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidVerifierKey {
            reason: reason.to_owned(),
        };
        if text.len() > MAX_KEY_NAME_BYTES + 128 {
            return Err(invalid("it is too long"));
        }
        let (name, key_id_text, key_text) =
            split_key_text(text).map_err(|reason| Error::InvalidVerifierKey { reason })?;
        let key_bytes = BASE64
            .decode(key_text)
            .map_err(|_| invalid("the key is not valid base64"))?;
        let public_key: [u8; 32] =
            typed_key(&key_bytes).map_err(|reason| Error::InvalidVerifierKey { reason })?;
        let verifier = Self::new(name, &public_key)?;
        let key_id = u32::from_str_radix(key_id_text, 16)
            .map_err(|_| invalid("the key id is not hexadecimal"))?;
        if key_id != verifier.key_id {
            return Err(invalid("the key id does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The Go `note` verifier key text form; safe to publish.
    pub fn to_vkey(&self) -> String {
        let mut key = vec![ED25519_TYPE];
        key.extend_from_slice(self.verifying_key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(key))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id that signature lines carry.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.verifying_key.to_bytes()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verifier").field(&self.to_vkey()).finish()
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl std::str::FromStr for Verifier {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_vkey(text)
    }
}

/// Signs `text` and returns the signed note: `text`, a blank line, one signature line.
///
/// `text` must be non-empty, end with a newline and contain no control characters other
/// than newline.
pub fn sign_note(signer: &Signer, text: &str) -> Result<String, Error> {
    // Room for the blank line and our own signature line within the note limit.
    let limit_bytes = MAX_NOTE_BYTES - MAX_KEY_NAME_BYTES - 128;
    if text.len() > limit_bytes {
        return Err(Error::NoteTooLarge {
            len_bytes: text.len(),
            limit_bytes,
        });
    }
    if text.is_empty() {
        return Err(Error::NoteTextEmpty);
    }
    if !text.ends_with('\n') {
        return Err(Error::NoteTextMissingFinalNewline);
    }
    check_control_characters(text)?;
    let signature = signer.signing_key.sign(text.as_bytes());
    let mut signature_bytes = Vec::with_capacity(68);
    signature_bytes.extend_from_slice(&signer.key_id.to_be_bytes());
    signature_bytes.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{text}\n{SIGNATURE_LINE_PREFIX}{} {}\n",
        signer.name,
        BASE64.encode(signature_bytes)
    ))
}

/// Verifies a signed note against `verifier` and returns its text (final newline included).
///
/// As C2SP `signed-note` requires, signatures by other keys are ignored, a signature by the
/// trusted key that fails makes the whole note fail, and a note with no signature by the
/// trusted key is rejected. Every signature line must still be well formed.
pub fn open_note<'a>(note: &'a str, verifier: &Verifier) -> Result<&'a str, Error> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(Error::NoteTooLarge {
            len_bytes: note.len(),
            limit_bytes: MAX_NOTE_BYTES,
        });
    }
    check_control_characters(note)?;
    // The text ends at the last blank line; signature lines are never empty.
    let split = note.rfind("\n\n").ok_or(Error::NoteMissingSignatures)?;
    let text = &note[..=split];
    let signatures = &note[split + 2..];
    if signatures.is_empty() {
        return Err(Error::NoteMissingSignatures);
    }
    let first_signature_line = text.matches('\n').count() + 2;
    let lines: Vec<&str> = signatures.split_terminator('\n').collect();
    if lines.len() > MAX_NOTE_SIGNATURES {
        return Err(Error::NoteTooManySignatures {
            count: lines.len(),
            limit: MAX_NOTE_SIGNATURES,
        });
    }
    if !signatures.ends_with('\n') {
        return Err(Error::NoteMalformedSignatureLine {
            line_number: first_signature_line + lines.len() - 1,
            reason: "the last signature line does not end with a newline",
        });
    }

    let mut verified = false;
    let mut present = Vec::new();
    for (offset, line) in lines.iter().enumerate() {
        let line_number = first_signature_line + offset;
        let malformed = |reason| Error::NoteMalformedSignatureLine {
            line_number,
            reason,
        };
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or_else(|| malformed("it does not start with an em dash (U+2014) and a space"))?;
        let (name, signature_text) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("it has no space between the key name and the signature"))?;
        key_name_problem(name).map_or(Ok(()), |_| Err(malformed("the key name is invalid")))?;
        let signature_bytes = BASE64
            .decode(signature_text)
            .map_err(|_| malformed("the signature is not valid base64"))?;
        let Some((id_bytes, signature)) = signature_bytes.split_first_chunk::<4>() else {
            return Err(malformed("the signature is shorter than its 4-byte key id"));
        };
        if signature.is_empty() {
            return Err(malformed(
                "the signature has a key id but no signature bytes",
            ));
        }
        let key_id = u32::from_be_bytes(*id_bytes);
        if present.len() < 8 {
            present.push(format!("{name} ({key_id:08x})"));
        }
        if name != verifier.name || key_id != verifier.key_id {
            continue; // Unknown key: ignored, as the spec requires.
        }
        let invalid = || Error::NoteSignatureInvalid {
            key_name: verifier.name.clone(),
            key_id: verifier.key_id,
        };
        let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| invalid())?;
        verifier
            .verifying_key
            .verify_strict(text.as_bytes(), &signature)
            .map_err(|_| invalid())?;
        verified = true;
    }
    if !verified {
        return Err(Error::NoteNotSignedByKey {
            key_name: verifier.name.clone(),
            key_id: verifier.key_id,
            present: present.join(", "),
        });
    }
    Ok(text)
}

/// Signs `message` for the given `context` (for example `"anxin/certificate/v1"`).
///
/// The signature covers a fixed domain prefix, the context and the message, so it is valid
/// only for that context and can never pass as a note signature.
pub fn sign_bytes(signer: &Signer, context: &str, message: &[u8]) -> Result<[u8; 64], Error> {
    let signed = sign_bytes_message(context, message)?;
    Ok(signer.signing_key.sign(&signed).to_bytes())
}

/// Verifies a signature made by [`sign_bytes`] with the same `context`.
pub fn verify_bytes(
    verifier: &Verifier,
    context: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
        Error::SignatureWrongLength {
            len_bytes: signature.len(),
        }
    })?;
    let signed = sign_bytes_message(context, message)?;
    verifier
        .verifying_key
        .verify_strict(&signed, &signature)
        .map_err(|_| Error::SignatureInvalid {
            key_name: verifier.name.clone(),
            key_id: verifier.key_id,
        })
}

fn sign_bytes_message(context: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
    let invalid = |reason| Error::InvalidSignatureContext {
        context: context.chars().take(64).collect(),
        reason,
    };
    if context.is_empty() {
        return Err(invalid(
            "it is empty; expected a short name such as \"anxin/certificate/v1\"",
        ));
    }
    if context.len() > MAX_CONTEXT_BYTES {
        return Err(invalid("it is longer than 256 bytes"));
    }
    if context.contains('\0') {
        return Err(invalid("it contains a NUL character"));
    }
    if message.len() > MAX_SIGNED_MESSAGE_BYTES {
        return Err(Error::MessageTooLarge {
            len_bytes: message.len(),
            limit_bytes: MAX_SIGNED_MESSAGE_BYTES,
        });
    }
    let mut signed =
        Vec::with_capacity(SIGN_BYTES_DOMAIN.len() + context.len() + 1 + message.len());
    signed.extend_from_slice(SIGN_BYTES_DOMAIN);
    signed.extend_from_slice(context.as_bytes());
    signed.push(0);
    signed.extend_from_slice(message);
    Ok(signed)
}

/// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`, big-endian.
fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let digest = sha2::Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ED25519_TYPE])
        .chain_update(public_key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Splits `<name>+<8 hex digits>+<base64>`; the base64 part may itself contain '+'.
fn split_key_text(text: &str) -> Result<(&str, &str, &str), String> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(key_id_text), Some(key_text)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err("it does not have three parts separated by '+'".to_owned());
    };
    if let Some(reason) = key_name_problem(name) {
        return Err(format!("the key name is invalid: {reason}"));
    }
    if key_id_text.len() != 8 || !key_id_text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err("the key id is not 8 hexadecimal digits".to_owned());
    }
    Ok((name, key_id_text, key_text))
}

/// The 32 key bytes after the Ed25519 type byte.
fn typed_key(key_bytes: &[u8]) -> Result<[u8; 32], String> {
    match key_bytes.split_first() {
        None => Err("the key is empty".to_owned()),
        Some((&ED25519_TYPE, key)) => key
            .try_into()
            .map_err(|_| format!("the Ed25519 key is {} bytes; expected 32", key.len())),
        Some((other, _)) => Err(format!(
            "the signature type is 0x{other:02x}; only Ed25519 (0x01) is supported"
        )),
    }
}

fn verifying_key(public_key: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, &'static str> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(public_key)
        .map_err(|_| "the public key is not a valid Ed25519 point")?;
    if key.is_weak() {
        // A small-order key admits signatures that verify for many messages.
        return Err("the public key has small order and cannot be trusted");
    }
    Ok(key)
}

fn check_key_name(name: &str) -> Result<(), Error> {
    match key_name_problem(name) {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidKeyName {
            name: name.chars().take(64).collect(),
            reason,
        }),
    }
}

/// Why `name` cannot be a key name, if it cannot: C2SP requires non-empty names without
/// Unicode spaces or '+'; control characters and length are our own limits.
fn key_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_KEY_NAME_BYTES {
        Some("it is longer than 256 bytes")
    } else if name.chars().any(char::is_whitespace) {
        Some("it contains a space; key names must have no Unicode spaces")
    } else if name.contains('+') {
        Some("it contains '+', which separates the parts of key texts")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    }
}

fn check_control_characters(text: &str) -> Result<(), Error> {
    match text.char_indices().find(|&(_, ch)| ch < ' ' && ch != '\n') {
        None => Ok(()),
        Some((offset, ch)) => Err(Error::NoteControlCharacter {
            code: u32::from(ch),
            offset,
        }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // Known answer from golang.org/x/mod/sumdb/note (its package documentation).
    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIGNATURE_LINE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn signer() -> Signer {
        Signer::from_seed("anxin.example/log", &[7u8; 32]).unwrap()
    }

    #[test]
    fn go_note_known_answer() {
        let signer = Signer::from_skey(GO_SKEY).unwrap();
        assert_eq!(signer.key_id(), 0xc74f20a3);
        assert_eq!(signer.to_skey(), GO_SKEY);
        assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
        let verifier = Verifier::from_vkey(GO_VKEY).unwrap();
        assert_eq!(verifier, signer.verifier());
        let signed = sign_note(&signer, GO_TEXT).unwrap();
        assert_eq!(signed, format!("{GO_TEXT}\n{GO_SIGNATURE_LINE}"));
        assert_eq!(open_note(&signed, &verifier), Ok(GO_TEXT));
    }

    #[test]
    fn key_texts_round_trip_and_reject_manglings() {
        let signer = signer();
        let vkey = signer.verifier().to_vkey();
        assert_eq!(Verifier::from_vkey(&vkey).unwrap(), signer.verifier());
        assert_eq!(vkey.parse::<Verifier>().unwrap().to_string(), vkey);
        assert_eq!(
            Signer::from_skey(&signer.to_skey()).unwrap().verifier(),
            signer.verifier()
        );
        assert!(
            !format!("{signer:?}").contains(&signer.to_skey()[40..]),
            "Debug leaks the key"
        );
        // Go's TestNewVerifier: removing any part of the key text must be rejected.
        for start in 0..vkey.len() {
            for end in start + 1..=vkey.len() {
                if vkey.is_char_boundary(start) && vkey.is_char_boundary(end) {
                    let mangled = format!("{}{}", &vkey[..start], &vkey[end..]);
                    assert!(
                        Verifier::from_vkey(&mangled).is_err(),
                        "accepted {mangled:?}"
                    );
                }
            }
        }
        let wrong_id = format!(
            "anxin.example/log+00000000+{}",
            vkey.rsplit('+').next().unwrap()
        );
        assert!(
            Verifier::from_vkey(&wrong_id)
                .unwrap_err()
                .to_string()
                .contains("key id does not match")
        );
    }

    #[test]
    fn key_names_follow_the_spec() {
        for bad in [
            "",
            "has space",
            "plus+sign",
            "tab\there",
            "nbsp\u{a0}",
            &"x".repeat(257),
        ] {
            assert!(
                Signer::from_seed(bad, &[1; 32]).is_err(),
                "accepted {bad:?}"
            );
        }
        assert!(Signer::from_seed("社保.example/日志", &[1; 32]).is_ok());
    }

    #[test]
    fn generated_keys_differ() {
        let a = Signer::generate("a.example").unwrap();
        let b = Signer::generate("a.example").unwrap();
        assert_ne!(a.verifier().public_key(), b.verifier().public_key());
    }

    #[test]
    fn notes_reject_tampering_and_wrong_keys() {
        let signer = signer();
        let verifier = signer.verifier();
        let signed = sign_note(&signer, "hello\n\nworld\n").unwrap();
        assert_eq!(open_note(&signed, &verifier), Ok("hello\n\nworld\n"));

        let altered = signed.replacen("world", "World", 1);
        assert!(matches!(
            open_note(&altered, &verifier),
            Err(Error::NoteSignatureInvalid { .. })
        ));

        let other = Signer::from_seed("anxin.example/log", &[8u8; 32]).unwrap();
        assert!(matches!(
            open_note(&signed, &other.verifier()),
            Err(Error::NoteNotSignedByKey { .. })
        ));

        // An extra signature from an unknown key is ignored, in any order.
        let cosigned = sign_note(&other, "hello\n\nworld\n").unwrap();
        let other_line = cosigned.rsplit("\n\n").next().unwrap();
        assert_eq!(
            open_note(&format!("{signed}{other_line}"), &verifier),
            Ok("hello\n\nworld\n")
        );
        let (text, own_line) = signed.rsplit_once("\n\n").unwrap();
        assert_eq!(
            open_note(&format!("{text}\n\n{other_line}{own_line}"), &verifier),
            Ok("hello\n\nworld\n")
        );

        let malformed = [
            ("hello\n", Error::NoteMissingSignatures),
            ("hello\n\n", Error::NoteMissingSignatures),
            (
                "hello\n\n- name c2ln\n",
                Error::NoteMalformedSignatureLine {
                    line_number: 3,
                    reason: "it does not start with an em dash (U+2014) and a space",
                },
            ),
            (
                "hello\n\n\u{2014} name\n",
                Error::NoteMalformedSignatureLine {
                    line_number: 3,
                    reason: "it has no space between the key name and the signature",
                },
            ),
            (
                "hello\n\n\u{2014} name !!!!\n",
                Error::NoteMalformedSignatureLine {
                    line_number: 3,
                    reason: "the signature is not valid base64",
                },
            ),
            (
                "hello\n\n\u{2014} name AAAA\n",
                Error::NoteMalformedSignatureLine {
                    line_number: 3,
                    reason: "the signature is shorter than its 4-byte key id",
                },
            ),
            (
                "a\rb\n\n",
                Error::NoteControlCharacter {
                    code: 0x0d,
                    offset: 1,
                },
            ),
        ];
        for (note, want) in malformed {
            assert_eq!(open_note(note, &verifier), Err(want), "{note:?}");
        }
        assert_eq!(
            sign_note(&signer, "no newline"),
            Err(Error::NoteTextMissingFinalNewline)
        );
        assert_eq!(sign_note(&signer, ""), Err(Error::NoteTextEmpty));
        assert!(sign_note(&signer, "nul\0\n").is_err());
    }

    #[test]
    fn signatures_by_the_trusted_key_must_all_verify() {
        let signer = signer();
        let signed = sign_note(&signer, "text\n").unwrap();
        let own_line = signed.rsplit("\n\n").next().unwrap();
        let signature_text = own_line.trim_end().rsplit(' ').next().unwrap();
        let mut signature_bytes = BASE64.decode(signature_text).unwrap();
        signature_bytes[10] ^= 1; // Inside the signature, after the 4-byte key id.
        let forged = format!(
            "\u{2014} {} {}\n",
            signer.name(),
            BASE64.encode(&signature_bytes)
        );
        // A second line with the trusted name and key id but a bad signature fails the note.
        assert!(matches!(
            open_note(&format!("{signed}{forged}"), &signer.verifier()),
            Err(Error::NoteSignatureInvalid { .. })
        ));
    }

    #[test]
    fn sign_bytes_is_bound_to_context() {
        let signer = signer();
        let verifier = signer.verifier();
        let signature = sign_bytes(&signer, "anxin/certificate/v1", b"payload").unwrap();
        assert_eq!(
            verify_bytes(&verifier, "anxin/certificate/v1", b"payload", &signature),
            Ok(())
        );
        assert!(verify_bytes(&verifier, "anxin/transfer/v1", b"payload", &signature).is_err());
        assert!(verify_bytes(&verifier, "anxin/certificate/v1", b"payloaD", &signature).is_err());
        assert_eq!(
            verify_bytes(
                &verifier,
                "anxin/certificate/v1",
                b"payload",
                &signature[..63]
            ),
            Err(Error::SignatureWrongLength { len_bytes: 63 })
        );
        assert!(sign_bytes(&signer, "", b"x").is_err());
        assert!(sign_bytes(&signer, "a\0b", b"x").is_err());
        // A note signature is not a sign_bytes signature for the same bytes, nor the reverse.
        let signed = sign_note(&signer, "text\n").unwrap();
        assert!(open_note(&signed, &verifier).is_ok());
        let raw_signature = signer.signing_key.sign(b"text\n").to_bytes();
        assert!(verify_bytes(&verifier, "c", b"text\n", &raw_signature).is_err());
    }

    proptest! {
        #[test]
        fn opening_arbitrary_text_never_panics(text in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let verifier = signer().verifier();
            let _ = open_note(&text, &verifier);
            let _ = open_note(&String::from_utf8_lossy(&bytes), &verifier);
            let _ = Verifier::from_vkey(&text);
            let _ = Signer::from_skey(&text);
        }

        #[test]
        fn structured_garbage_never_panics(
            text in "[a-z\n]{0,40}",
            name in "[^ +\n]{0,20}",
            signature in "[A-Za-z0-9+/=]{0,100}",
        ) {
            let verifier = signer().verifier();
            let note = format!("{text}\n\u{2014} {name} {signature}\n");
            let _ = open_note(&note, &verifier);
            let _ = Verifier::from_vkey(&format!("{name}+c74f20a3+{signature}"));
        }

        #[test]
        fn sign_then_open_round_trips(lines in prop::collection::vec("[^\u{0}-\u{1f}]{0,40}", 1..6)) {
            let signer = signer();
            let text = lines.join("\n") + "\n";
            let signed = sign_note(&signer, &text).unwrap();
            prop_assert_eq!(open_note(&signed, &signer.verifier()), Ok(text.as_str()));
        }
    }
}
