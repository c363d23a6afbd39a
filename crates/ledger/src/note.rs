//! Signed notes in the C2SP `signed-note` format, and the key text forms of the Go
//! `golang.org/x/mod/sumdb/note` package, so that checkpoints signed here can be checked by
//! standard transparency-log tools and witnesses.
//!
//! A signed note is UTF-8 text ending in a newline, a blank line, then one or more lines
//! `— <key name> <base64(4-byte key id || signature)>`. The key id is the first four bytes of
//! `SHA-256(key name || 0x0A || signature type || public key)`; name and id together select
//! the key.
//!
//! Two signature algorithms are supported ([`Algorithm`]):
//!
//! - **Ed25519** (the default), signature type `0x01`, exactly as the spec and the Go
//!   package define it: keys and notes interoperate with every C2SP tool.
//! - **SM2** (GB/T 32918.2-2016 with the SM3 digest, GB/T 32905-2016, and the default
//!   distinguishing identifier `1234567812345678`), for deployments that must use the
//!   Chinese national algorithms ("guomi": SM3 log hashes plus SM2 signatures). The spec
//!   assigns no type byte to SM2, so it is an extension type; see [`SM2_TYPE`]. Generic C2SP
//!   tools ignore such signatures as signatures by unknown keys.
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
use sm2::dsa::signature::Verifier as _;
use sm2::elliptic_curve::sec1::ToEncodedPoint as _;

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

/// Length of every signature this module makes: Ed25519's `R || S` and SM2's `r || s`
/// (two 32-byte big-endian integers, not DER) are both 64 bytes.
pub const SIGNATURE_BYTES: usize = 64;

/// Signature type of Ed25519 in C2SP `signed-note`.
pub const ED25519_TYPE: &[u8] = &[0x01];

/// Signature type of SM2 here: the byte `0xff` followed by the ASCII identifier `sm2`.
///
/// C2SP `signed-note` (<https://github.com/C2SP/C2SP/blob/main/signed-note.md>, "Signature
/// types") assigns no byte to SM2 and reserves `0xff` "for signature types without an
/// identifier byte assigned by this specification", recommending that it "be followed by a
/// longer identifier". These four bytes take the place of the one type byte everywhere: in
/// the key id hash `SHA-256(name || 0x0A || 0xff || "sm2" || public key)[:4]` and at the
/// start of the base64 key in the vkey and skey texts.
///
/// What `sm2` stands for here: SM2 signatures per GB/T 32918.2-2016 over the note text (or
/// [`sign_bytes`] message) with the SM3 digest and the default distinguishing identifier
/// `1234567812345678` (GB/T 35276-2017, GM/T 0009-2012); the public key is the 65-byte
/// uncompressed SEC 1 point `0x04 || x || y`; the signature is `r || s`, 64 bytes.
pub const SM2_TYPE: &[u8] = b"\xffsm2";

/// The SM2 distinguishing identifier (user ID) that enters `Z_A` when no other is agreed: the
/// default of GB/T 35276-2017 and GM/T 0009-2012, used by GmSSL and OpenSSL.
pub const SM2_DEFAULT_DISTINGUISHING_ID: &str = "1234567812345678";

/// Length of an SM2 public key as stored here: the uncompressed SEC 1 point `0x04 || x || y`.
///
/// Uncompressed, because that is the form GB/T 32918 and GM/T 0009 define and Chinese tools
/// and crypto hardware (SDF/SKF interfaces) exchange, and `Z_A` hashes both coordinates
/// anyway. Only this form is accepted: the key id hashes the encoding, so a second encoding
/// of the same key would give it a second id.
pub const SM2_PUBLIC_KEY_BYTES: usize = 65;

const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Prefix of messages signed by [`sign_bytes`]. The NUL byte keeps them disjoint from note
/// texts, which may not contain control characters.
const SIGN_BYTES_DOMAIN: &[u8] = b"anxin-ledger/sign-bytes/v1\0";

/// A signature algorithm for notes, checkpoints and [`sign_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), C2SP signature type `0x01`; the default.
    Ed25519,
    /// SM2 with SM3 (GB/T 32918.2, GB/T 32905) and the default distinguishing identifier,
    /// signature type `0xff "sm2"` ([`SM2_TYPE`]).
    Sm2,
}

impl Algorithm {
    /// The signature type bytes that start the key in key texts and enter the key id.
    pub fn signature_type(self) -> &'static [u8] {
        match self {
            Self::Ed25519 => ED25519_TYPE,
            Self::Sm2 => SM2_TYPE,
        }
    }

    /// Length of the public key encoding.
    pub fn public_key_len(self) -> usize {
        match self {
            Self::Ed25519 => 32,
            Self::Sm2 => SM2_PUBLIC_KEY_BYTES,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ed25519 => "Ed25519",
            Self::Sm2 => "SM2",
        })
    }
}

/// The secret half of a key.
#[derive(Clone)]
enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    Sm2(sm2::dsa::SigningKey),
}

/// The public half of a key. SM2 keys carry their `Z_A` hash, computed once.
#[derive(Clone)]
enum VerifyingKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(sm2::dsa::VerifyingKey),
}

impl SigningKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::Sm2(_) => Algorithm::Sm2,
        }
    }

    fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Ed25519(key) => VerifyingKey::Ed25519(key.verifying_key()),
            Self::Sm2(key) => VerifyingKey::Sm2(key.verifying_key().clone()),
        }
    }

    /// The secret key bytes of the key texts: the Ed25519 seed or the SM2 scalar (big-endian).
    fn secret_bytes(&self) -> [u8; 32] {
        match self {
            Self::Ed25519(key) => key.to_bytes(),
            Self::Sm2(key) => key.to_bytes().into(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_BYTES], Error> {
        match self {
            Self::Ed25519(key) => Ok(key.sign(message).to_bytes()),
            // `try_sign`, not `sign`: the RFC 6979 nonce can, with negligible probability,
            // give r = 0 or r + k = n, which the sm2 crate reports as an error, not a retry.
            Self::Sm2(key) => key
                .try_sign(message)
                .map(|signature| signature.to_bytes())
                .map_err(|_| Error::SigningFailed {
                    algorithm: Algorithm::Sm2,
                }),
        }
    }
}

impl VerifyingKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::Sm2(_) => Algorithm::Sm2,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => key.as_bytes().to_vec(),
            Self::Sm2(key) => key.to_encoded_point(false).as_bytes().to_vec(),
        }
    }

    /// Whether `signature` is this key's valid signature on `message`. Ed25519 uses strict
    /// verification (canonical `S`, no small-order `R`); SM2 parsing rejects `r` or `s`
    /// outside `[1, n-1]`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            Self::Sm2(key) => sm2::dsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
        }
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm() == other.algorithm() && self.to_bytes() == other.to_bytes()
    }
}

impl Eq for VerifyingKey {}

/// A named signing key, Ed25519 or SM2. `Debug` never prints the secret.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    signing_key: SigningKey,
}

/// A named public key, Ed25519 or SM2, that notes and messages are verified against.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    verifying_key: VerifyingKey,
}

impl Signer {
    /// The signer whose Ed25519 secret key is `seed` (RFC 8032's 32-byte private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let signing_key = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(Self::with_key(name, SigningKey::Ed25519(signing_key)))
    }

    /// A new Ed25519 signer with a fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, Error> {
        check_key_name(name)?;
        Self::from_seed(name, &random_bytes()?)
    }

    /// The SM2 signer whose secret key is `secret`, a big-endian integer `d` with
    /// `1 <= d <= n - 2` as GB/T 32918.1 requires (`n` is the order of the SM2 curve).
    pub fn from_sm2_secret(name: &str, secret: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let signing_key = sm2_signing_key(secret).map_err(|reason| Error::InvalidSignerKey {
            reason: reason.to_owned(),
        })?;
        Ok(Self::with_key(name, SigningKey::Sm2(signing_key)))
    }

    /// A new SM2 signer with a fresh key from the operating system's random source.
    pub fn generate_sm2(name: &str) -> Result<Self, Error> {
        check_key_name(name)?;
        // Rejection sampling: a random 256-bit value is outside [1, n-2] with probability
        // about 2^-32, so this loop almost never runs twice.
        loop {
            if let Ok(signing_key) = sm2_signing_key(&random_bytes()?) {
                return Ok(Self::with_key(name, SigningKey::Sm2(signing_key)));
            }
        }
    }

    fn with_key(name: &str, signing_key: SigningKey) -> Self {
        let key_id = key_id(name, &signing_key.verifying_key());
        Self {
            name: name.to_owned(),
            key_id,
            signing_key,
        }
    }

    /// Parses the Go `note` private key text form,
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(signature type || secret)>`: the Ed25519 form
    /// `0x01 || 32-byte seed`, or the SM2 form `0xff "sm2" || 32-byte big-endian secret`.
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
        let (algorithm, secret) =
            split_typed_key(&key_bytes).map_err(|reason| Error::InvalidSignerKey { reason })?;
        let secret: &[u8; 32] = secret.try_into().map_err(|_| Error::InvalidSignerKey {
            reason: format!(
                "the {algorithm} secret key is {} bytes; expected 32",
                secret.len()
            ),
        })?;
        let signer = match algorithm {
            Algorithm::Ed25519 => Self::from_seed(name, secret)?,
            Algorithm::Sm2 => Self::from_sm2_secret(name, secret)?,
        };
        let key_id = u32::from_str_radix(key_id_text, 16)
            .map_err(|_| invalid("the key id is not hexadecimal"))?;
        if key_id != signer.key_id {
            return Err(invalid("the key id does not match the name and key"));
        }
        Ok(signer)
    }

    /// The Go `note` private key text form. It holds the secret key: store it like one.
    pub fn to_skey(&self) -> String {
        let mut key = self.algorithm().signature_type().to_vec();
        key.extend_from_slice(&self.signing_key.secret_bytes());
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

    /// The signature algorithm of the key.
    pub fn algorithm(&self) -> Algorithm {
        self.signing_key.algorithm()
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
            .field("algorithm", &self.algorithm())
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
        Ok(Self::with_key(name, VerifyingKey::Ed25519(verifying_key)))
    }

    /// The verifier for SM2 `public_key` (the uncompressed SEC 1 point `0x04 || x || y`)
    /// under `name`.
    pub fn new_sm2(name: &str, public_key: &[u8; SM2_PUBLIC_KEY_BYTES]) -> Result<Self, Error> {
        check_key_name(name)?;
        let verifying_key =
            sm2_verifying_key(public_key).map_err(|reason| Error::InvalidVerifierKey {
                reason: reason.to_owned(),
            })?;
        Ok(Self::with_key(name, VerifyingKey::Sm2(verifying_key)))
    }

    fn with_key(name: &str, verifying_key: VerifyingKey) -> Self {
        Self {
            name: name.to_owned(),
            key_id: key_id(name, &verifying_key),
            verifying_key,
        }
    }

    /// Parses the Go `note` verifier key text form,
    /// `<name>+<hex key id>+<base64(signature type || public key)>`: the Ed25519 form
    /// `0x01 || 32-byte key`, or the SM2 form `0xff "sm2" || 65-byte uncompressed point`.
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
        let (algorithm, public_key) =
            split_typed_key(&key_bytes).map_err(|reason| Error::InvalidVerifierKey { reason })?;
        let wrong_length = || Error::InvalidVerifierKey {
            reason: format!(
                "the {algorithm} public key is {} bytes; expected {}",
                public_key.len(),
                algorithm.public_key_len()
            ),
        };
        let verifier = match algorithm {
            Algorithm::Ed25519 => {
                Self::new(name, public_key.try_into().map_err(|_| wrong_length())?)?
            }
            Algorithm::Sm2 => {
                Self::new_sm2(name, public_key.try_into().map_err(|_| wrong_length())?)?
            }
        };
        let key_id = u32::from_str_radix(key_id_text, 16)
            .map_err(|_| invalid("the key id is not hexadecimal"))?;
        if key_id != verifier.key_id {
            return Err(invalid("the key id does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The Go `note` verifier key text form; safe to publish.
    pub fn to_vkey(&self) -> String {
        let mut key = self.algorithm().signature_type().to_vec();
        key.extend_from_slice(&self.verifying_key.to_bytes());
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

    /// The signature algorithm of the key.
    pub fn algorithm(&self) -> Algorithm {
        self.verifying_key.algorithm()
    }

    /// The 32-byte Ed25519 public key; `None` for an SM2 key (see [`Self::public_key_bytes`]).
    pub fn public_key(&self) -> Option<[u8; 32]> {
        match &self.verifying_key {
            VerifyingKey::Ed25519(key) => Some(key.to_bytes()),
            VerifyingKey::Sm2(_) => None,
        }
    }

    /// The public key encoding of either algorithm, without the signature type: 32 bytes for
    /// Ed25519, the 65-byte uncompressed point for SM2.
    pub fn public_key_bytes(&self) -> Vec<u8> {
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
    let signature = signer.signing_key.sign(text.as_bytes())?;
    let mut signature_bytes = Vec::with_capacity(4 + SIGNATURE_BYTES);
    signature_bytes.extend_from_slice(&signer.key_id.to_be_bytes());
    signature_bytes.extend_from_slice(&signature);
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
            present.push(if name == verifier.name && key_id != verifier.key_id {
                // The usual mistake: the right log, but another key or algorithm (an Ed25519
                // verifier for a log that signs with SM2, or the reverse).
                format!("{name} ({key_id:08x}: same name, another key or algorithm)")
            } else {
                format!("{name} ({key_id:08x})")
            });
        }
        if name != verifier.name || key_id != verifier.key_id {
            continue; // Unknown key: ignored, as the spec requires.
        }
        if !verifier.verifying_key.verify(text.as_bytes(), signature) {
            return Err(Error::NoteSignatureInvalid {
                key_name: verifier.name.clone(),
                key_id: verifier.key_id,
                algorithm: verifier.algorithm(),
            });
        }
        verified = true;
    }
    if !verified {
        return Err(Error::NoteNotSignedByKey {
            key_name: verifier.name.clone(),
            key_id: verifier.key_id,
            algorithm: verifier.algorithm(),
            present: present.join(", "),
        });
    }
    Ok(text)
}

/// Signs `message` for the given `context` (for example `"anxin/certificate/v1"`).
///
/// The signature covers a fixed domain prefix, the context and the message, so it is valid
/// only for that context and can never pass as a note signature.
pub fn sign_bytes(
    signer: &Signer,
    context: &str,
    message: &[u8],
) -> Result<[u8; SIGNATURE_BYTES], Error> {
    let signed = sign_bytes_message(context, message)?;
    signer.signing_key.sign(&signed)
}

/// Verifies a signature made by [`sign_bytes`] with the same `context`.
pub fn verify_bytes(
    verifier: &Verifier,
    context: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    if signature.len() != SIGNATURE_BYTES {
        return Err(Error::SignatureWrongLength {
            len_bytes: signature.len(),
        });
    }
    let signed = sign_bytes_message(context, message)?;
    if verifier.verifying_key.verify(&signed, signature) {
        Ok(())
    } else {
        Err(Error::SignatureInvalid {
            key_name: verifier.name.clone(),
            key_id: verifier.key_id,
            algorithm: verifier.algorithm(),
        })
    }
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

/// `SHA-256(name || 0x0A || signature type || public key)[:4]`, big-endian.
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let digest = sha2::Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n'])
        .chain_update(key.algorithm().signature_type())
        .chain_update(key.to_bytes())
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

/// The algorithm a text key names, and the key bytes after its signature type.
fn split_typed_key(key_bytes: &[u8]) -> Result<(Algorithm, &[u8]), String> {
    if key_bytes.is_empty() {
        return Err("the key is empty".to_owned());
    }
    for algorithm in [Algorithm::Ed25519, Algorithm::Sm2] {
        if let Some(key) = key_bytes.strip_prefix(algorithm.signature_type()) {
            return Ok((algorithm, key));
        }
    }
    Err(format!(
        "the signature type is 0x{:02x}{}; only Ed25519 (0x01) and SM2 (0xff followed by \"sm2\") are supported",
        key_bytes[0],
        if key_bytes[0] == 0xff {
            " with an identifier other than \"sm2\""
        } else {
            ""
        }
    ))
}

/// Random bytes from the operating system.
fn random_bytes() -> Result<[u8; 32], Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| Error::RandomSourceFailed {
        reason: error.to_string(),
    })?;
    Ok(bytes)
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

/// The SM2 signing key with secret `d`, which must lie in `[1, n-2]` (GB/T 32918.1-2016,
/// 6.1): `d = n-1` leaves `1 + d` without an inverse, so it could never sign.
fn sm2_signing_key(secret: &[u8; 32]) -> Result<sm2::dsa::SigningKey, &'static str> {
    const OUT_OF_RANGE: &str =
        "the SM2 secret key is not in [1, n-2], n being the order of the SM2 curve";
    let scalar = sm2::NonZeroScalar::try_from(&secret[..]).map_err(|_| OUT_OF_RANGE)?;
    if bool::from((*scalar + sm2::Scalar::ONE).is_zero()) {
        return Err(OUT_OF_RANGE);
    }
    sm2::dsa::SigningKey::from_nonzero_scalar(SM2_DEFAULT_DISTINGUISHING_ID, scalar)
        .map_err(|_| OUT_OF_RANGE)
}

/// The SM2 verifying key for the uncompressed point `public_key`, which must lie on the curve
/// (the point at infinity has no such encoding; the curve's cofactor is 1, so every other
/// point on it is a valid key).
fn sm2_verifying_key(
    public_key: &[u8; SM2_PUBLIC_KEY_BYTES],
) -> Result<sm2::dsa::VerifyingKey, &'static str> {
    if public_key[0] != 0x04 {
        return Err("the SM2 public key is not an uncompressed point (0x04 || x || y)");
    }
    sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_DISTINGUISHING_ID, public_key)
        .map_err(|_| "the SM2 public key is not a point on the SM2 curve")
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

    fn sm2_signer() -> Signer {
        Signer::from_sm2_secret("anxin.example/log", &[7u8; 32]).unwrap()
    }

    fn hex_bytes<const N: usize>(hex: &str) -> [u8; N] {
        assert_eq!(hex.len(), 2 * N);
        std::array::from_fn(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
    }

    /// n - 1, n being the order of the SM2 curve (GB/T 32918.5-2017).
    const SM2_N_MINUS_1: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122";

    // The SM2 signature example on the recommended curve of GM/T 0003.5-2012 and
    // GB/T 32918.5-2017 (annex), with the distinguishing ID 1234567812345678 and message
    // "message digest"; it was signed with the nonce k = 59276E27…BC21, so only its
    // verification can be reproduced here (our nonces are RFC 6979's).
    const GBT_SECRET: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const GBT_PUBLIC_X: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
    const GBT_PUBLIC_Y: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    const GBT_MESSAGE: &[u8] = b"message digest";
    const GBT_R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
    const GBT_S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

    #[test]
    fn gbt32918_sm2_known_answer() {
        let signer = Signer::from_sm2_secret("gbt32918.example", &hex_bytes(GBT_SECRET)).unwrap();
        let public_key: [u8; 65] = hex_bytes(&format!("04{GBT_PUBLIC_X}{GBT_PUBLIC_Y}"));
        assert_eq!(signer.verifier().public_key_bytes(), public_key);
        let verifier = Verifier::new_sm2("gbt32918.example", &public_key).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert_eq!(verifier.algorithm(), Algorithm::Sm2);
        assert_eq!(verifier.public_key(), None);

        let signature: [u8; 64] = hex_bytes(&format!("{GBT_R}{GBT_S}"));
        assert!(verifier.verifying_key.verify(GBT_MESSAGE, &signature));
        assert!(!verifier.verifying_key.verify(b"message digesT", &signature));
        let mut tampered = signature;
        tampered[63] ^= 1;
        assert!(!verifier.verifying_key.verify(GBT_MESSAGE, &tampered));
        // Our own signature on the same message verifies too, and also differs from the
        // standard's only because the nonce differs.
        let ours = signer.signing_key.sign(GBT_MESSAGE).unwrap();
        assert!(verifier.verifying_key.verify(GBT_MESSAGE, &ours));
        assert_ne!(ours, signature);
    }

    // Pinned SM2 key texts and note for the secret [7; 32]: regression values of our own
    // format (signing is deterministic, RFC 6979 with SM3). Checked independently with
    // OpenSSL 3.0: `openssl pkey` derives the same public key from the secret, and
    // `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678` accepts
    // the signature (r || s re-encoded in DER) on GO_TEXT and rejects it under another ID.
    const SM2_VKEY: &str = "anxin.example/log+c247a38e+/3NtMgTfB9wLMVkd+2PsiVUW5btK0FoJwv66bUls5SP3MD//zUrdJ94JJi3Fm69pDAKG8F4plIUXzB4Gm5iOE5wA9EnI";
    const SM2_SKEY: &str =
        "PRIVATE+KEY+anxin.example/log+c247a38e+/3NtMgcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";
    const SM2_SIGNATURE_LINE: &str = "\u{2014} anxin.example/log wkejjl9rbGLdyS0RoLEzskvAF5cw9SlFae3E6pkK2TB1x7XC8Syldd8+e16Q8Kfucn+g6hZmpNGa/jnxlLIjt8mfwn4=\n";

    #[test]
    fn sm2_note_known_answer() {
        let signer = sm2_signer();
        assert_eq!(signer.algorithm(), Algorithm::Sm2);
        let verifier = signer.verifier();
        // The key id is the one the module documents, computed independently here.
        let digest = sha2::Sha256::new()
            .chain_update(b"anxin.example/log\n\xffsm2")
            .chain_update(verifier.public_key_bytes())
            .finalize();
        assert_eq!(
            verifier.key_id(),
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
        );
        assert_eq!(verifier.public_key_bytes().len(), 65);
        assert_eq!(verifier.public_key_bytes()[0], 0x04);
        assert_eq!(signer.to_skey(), SM2_SKEY, "{}", signer.to_skey());
        assert_eq!(verifier.to_vkey(), SM2_VKEY, "{}", verifier.to_vkey());
        assert!(SM2_VKEY.starts_with(&format!(
            "anxin.example/log+{:08x}+/3NtMg",
            verifier.key_id()
        )));
        let signed = sign_note(&signer, GO_TEXT).unwrap();
        assert_eq!(
            signed,
            format!("{GO_TEXT}\n{SM2_SIGNATURE_LINE}"),
            "{signed}"
        );
        let from_text = Verifier::from_vkey(SM2_VKEY).unwrap();
        assert_eq!(from_text, verifier);
        assert_eq!(open_note(&signed, &from_text), Ok(GO_TEXT));
        let signature_bytes = BASE64
            .decode(SM2_SIGNATURE_LINE.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        assert_eq!(signature_bytes.len(), 4 + 64);
        assert_eq!(signature_bytes[..4], verifier.key_id().to_be_bytes());
    }

    #[test]
    fn sm2_key_texts_round_trip_and_reject_manglings() {
        for signer in [
            sm2_signer(),
            Signer::generate_sm2("社保.example/日志").unwrap(),
        ] {
            let vkey = signer.verifier().to_vkey();
            let parsed = Verifier::from_vkey(&vkey).unwrap();
            assert_eq!(parsed, signer.verifier());
            assert_eq!(parsed.algorithm(), Algorithm::Sm2);
            assert_eq!(parsed.to_string(), vkey);
            let skey = signer.to_skey();
            let reparsed = Signer::from_skey(&skey).unwrap();
            assert_eq!(reparsed.algorithm(), Algorithm::Sm2);
            assert_eq!(reparsed.to_skey(), skey);
            assert_eq!(reparsed.verifier(), signer.verifier());
            let debug = format!("{signer:?}");
            assert!(debug.contains("Sm2"), "{debug}");
            let secret_text = skey.splitn(5, '+').nth(4).unwrap();
            assert!(!debug.contains(secret_text), "Debug leaks the key");
        }
        let vkey = sm2_signer().verifier().to_vkey();
        for start in 0..vkey.len() {
            for end in start + 1..=vkey.len() {
                let mangled = format!("{}{}", &vkey[..start], &vkey[end..]);
                assert!(
                    Verifier::from_vkey(&mangled).is_err(),
                    "accepted {mangled:?}"
                );
            }
        }
        let skey = sm2_signer().to_skey();
        for start in 0..skey.len() {
            for end in start + 1..=skey.len() {
                let mangled = format!("{}{}", &skey[..start], &skey[end..]);
                assert!(Signer::from_skey(&mangled).is_err(), "accepted {mangled:?}");
            }
        }
        // An Ed25519 key id on SM2 key bytes (and the reverse) does not pass.
        let ed_vkey = signer().verifier().to_vkey();
        let swapped = format!(
            "anxin.example/log+{}+{}",
            ed_vkey.split('+').nth(1).unwrap(),
            vkey.splitn(3, '+').nth(2).unwrap()
        );
        assert!(
            Verifier::from_vkey(&swapped)
                .unwrap_err()
                .to_string()
                .contains("key id does not match")
        );
    }

    #[test]
    fn malformed_sm2_keys_are_rejected() {
        let verifier = sm2_signer().verifier();
        let point = verifier.public_key_bytes();
        let vkey_with = |key: &[u8]| {
            let name = "anxin.example/log";
            let mut id_input = format!("{name}\n").into_bytes();
            id_input.extend_from_slice(key);
            let digest = sha2::Sha256::digest(&id_input);
            format!("{name}+{}+{}", crate::hex(&digest[..4]), BASE64.encode(key))
        };
        let reason = |key: &[u8]| match Verifier::from_vkey(&vkey_with(key)) {
            Err(Error::InvalidVerifierKey { reason }) => reason,
            other => panic!("accepted or odd error: {other:?}"),
        };
        // Sanity: the helper makes a valid vkey from valid parts.
        assert_eq!(
            Verifier::from_vkey(&vkey_with(&[SM2_TYPE, &point[..]].concat())).unwrap(),
            verifier
        );
        let mut off_curve = point.clone();
        off_curve[64] ^= 1;
        let mut compressed = vec![0x02 | (point[64] & 1)];
        compressed.extend_from_slice(&point[1..33]);
        let mut compressed_padded = compressed.clone();
        compressed_padded.resize(65, 0);
        let cases: [(Vec<u8>, &str); 8] = [
            (
                [SM2_TYPE, &off_curve[..]].concat(),
                "not a point on the SM2 curve",
            ),
            (
                [SM2_TYPE, &compressed[..]].concat(),
                "SM2 public key is 33 bytes; expected 65",
            ),
            (
                [SM2_TYPE, &compressed_padded[..]].concat(),
                "not an uncompressed point",
            ),
            (
                [SM2_TYPE, &[0u8; 65][..]].concat(),
                "not an uncompressed point",
            ),
            (
                [SM2_TYPE, &point[..64]].concat(),
                "SM2 public key is 64 bytes",
            ),
            (
                [b"\xffsm3", &point[..]].concat(),
                "identifier other than \"sm2\"",
            ),
            (
                [&[0xff][..], &point[..]].concat(),
                "identifier other than \"sm2\"",
            ),
            ([&[0x02][..], &point[..]].concat(), "signature type is 0x02"),
        ];
        for (key, want) in &cases {
            let got = reason(key);
            assert!(got.contains(want), "{got:?} lacks {want:?}");
        }
        // An SM2 key under the Ed25519 type byte is the wrong length for Ed25519.
        assert!(reason(&[ED25519_TYPE, &point[..]].concat()).contains("Ed25519 public key is 65"));

        let n_minus_1: [u8; 32] = hex_bytes(SM2_N_MINUS_1);
        let mut n_minus_2 = n_minus_1;
        n_minus_2[31] -= 1;
        let mut n = n_minus_1;
        n[31] += 1;
        assert!(Signer::from_sm2_secret("a.example", &n_minus_2).is_ok());
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(Signer::from_sm2_secret("a.example", &one).is_ok());
        for secret in [[0u8; 32], n_minus_1, n, [0xff; 32]] {
            assert!(
                matches!(
                    Signer::from_sm2_secret("a.example", &secret),
                    Err(Error::InvalidSignerKey { ref reason }) if reason.contains("not in [1, n-2]")
                ),
                "accepted {secret:02x?}"
            );
        }
        let skey = sm2_signer().to_skey();
        let (head, _) = skey.rsplit_once('+').unwrap();
        assert!(!skey.splitn(5, '+').nth(4).unwrap().contains('+'));
        let short = format!(
            "{head}+{}",
            BASE64.encode([SM2_TYPE, &[7u8; 31][..]].concat())
        );
        assert!(
            Signer::from_skey(&short)
                .unwrap_err()
                .to_string()
                .contains("SM2 secret key is 31 bytes; expected 32")
        );
        let zero = format!(
            "{head}+{}",
            BASE64.encode([SM2_TYPE, &[0u8; 32][..]].concat())
        );
        assert!(
            Signer::from_skey(&zero)
                .unwrap_err()
                .to_string()
                .contains("not in [1, n-2]")
        );
        assert!(Signer::from_sm2_secret("bad name", &one).is_err());
        assert!(Verifier::new_sm2("bad name", point[..].try_into().unwrap()).is_err());
        assert!(Verifier::new_sm2("a.example", &[4u8; 65]).is_err());
    }

    #[test]
    fn generated_sm2_keys_differ() {
        let a = Signer::generate_sm2("a.example").unwrap();
        let b = Signer::generate_sm2("a.example").unwrap();
        assert_eq!(a.algorithm(), Algorithm::Sm2);
        assert_ne!(
            a.verifier().public_key_bytes(),
            b.verifier().public_key_bytes()
        );
        assert_ne!(a.key_id(), b.key_id());
        assert_eq!(
            Signer::generate("a.example").unwrap().algorithm(),
            Algorithm::Ed25519
        );
    }

    #[test]
    fn sm2_notes_reject_tampering_and_wrong_keys() {
        let signer = sm2_signer();
        let verifier = signer.verifier();
        let signed = sign_note(&signer, "hello\n\nworld\n").unwrap();
        assert_eq!(open_note(&signed, &verifier), Ok("hello\n\nworld\n"));

        let altered = signed.replacen("world", "World", 1);
        assert_eq!(
            open_note(&altered, &verifier),
            Err(Error::NoteSignatureInvalid {
                key_name: "anxin.example/log".into(),
                key_id: verifier.key_id(),
                algorithm: Algorithm::Sm2,
            })
        );

        let other = Signer::from_sm2_secret("anxin.example/log", &[8u8; 32]).unwrap();
        assert!(matches!(
            open_note(&signed, &other.verifier()),
            Err(Error::NoteNotSignedByKey { .. })
        ));

        // Every bit of the signature matters; out-of-range r or s fail without a panic.
        let (text, line) = signed.rsplit_once("\n\n").unwrap();
        let signature_text = line.trim_end().rsplit(' ').next().unwrap();
        let signature_bytes = BASE64.decode(signature_text).unwrap();
        let forge = |bytes: &[u8]| {
            format!(
                "{text}\n\n\u{2014} anxin.example/log {}\n",
                BASE64.encode(bytes)
            )
        };
        for position in 4..68 {
            let mut bytes = signature_bytes.clone();
            bytes[position] ^= 0x80 >> (position % 8);
            assert!(
                matches!(
                    open_note(&forge(&bytes), &verifier),
                    Err(Error::NoteSignatureInvalid { .. })
                ),
                "accepted a flip at byte {position}"
            );
        }
        let id = &signature_bytes[..4];
        for bad in [
            [id, &[0u8; 64][..]].concat(),
            [id, &[0xffu8; 64][..]].concat(),
            [id, &signature_bytes[4..36]].concat(),
            [&signature_bytes[..], &[0u8][..]].concat(),
        ] {
            assert!(matches!(
                open_note(&forge(&bad), &verifier),
                Err(Error::NoteSignatureInvalid { .. })
            ));
        }
    }

    #[test]
    fn algorithms_do_not_verify_each_other() {
        let ed = signer();
        let sm2 = sm2_signer();
        assert_eq!(ed.name(), sm2.name());
        assert_ne!(ed.key_id(), sm2.key_id());
        let text = "hello\n";
        let ed_note = sign_note(&ed, text).unwrap();
        let sm2_note = sign_note(&sm2, text).unwrap();

        let error = open_note(&ed_note, &sm2.verifier()).unwrap_err();
        assert!(matches!(
            error,
            Error::NoteNotSignedByKey {
                algorithm: Algorithm::Sm2,
                ..
            }
        ));
        let message = error.to_string();
        assert!(
            message.contains("trusted SM2 key anxin.example/log"),
            "{message}"
        );
        assert!(
            message.contains("same name, another key or algorithm"),
            "{message}"
        );

        let error = open_note(&sm2_note, &ed.verifier()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("trusted Ed25519 key anxin.example/log"),
            "{error}"
        );

        // Both signatures on one note: each verifier finds its own and ignores the other.
        let (_, sm2_line) = sm2_note.rsplit_once("\n\n").unwrap();
        let both = format!("{ed_note}{sm2_line}");
        assert_eq!(open_note(&both, &ed.verifier()), Ok(text));
        assert_eq!(open_note(&both, &sm2.verifier()), Ok(text));

        // An Ed25519 signature relabelled with the SM2 key id, and the reverse, fail.
        let relabel = |note: &str, key_id: u32| {
            let (text, line) = note.rsplit_once("\n\n").unwrap();
            let mut bytes = BASE64
                .decode(line.trim_end().rsplit(' ').next().unwrap())
                .unwrap();
            bytes[..4].copy_from_slice(&key_id.to_be_bytes());
            format!(
                "{text}\n\n\u{2014} anxin.example/log {}\n",
                BASE64.encode(bytes)
            )
        };
        assert!(matches!(
            open_note(&relabel(&ed_note, sm2.key_id()), &sm2.verifier()),
            Err(Error::NoteSignatureInvalid {
                algorithm: Algorithm::Sm2,
                ..
            })
        ));
        assert!(matches!(
            open_note(&relabel(&sm2_note, ed.key_id()), &ed.verifier()),
            Err(Error::NoteSignatureInvalid {
                algorithm: Algorithm::Ed25519,
                ..
            })
        ));

        // The same holds for sign_bytes.
        let ed_signature = sign_bytes(&ed, "anxin/certificate/v1", b"payload").unwrap();
        let sm2_signature = sign_bytes(&sm2, "anxin/certificate/v1", b"payload").unwrap();
        assert_eq!(
            verify_bytes(
                &sm2.verifier(),
                "anxin/certificate/v1",
                b"payload",
                &ed_signature
            ),
            Err(Error::SignatureInvalid {
                key_name: "anxin.example/log".into(),
                key_id: sm2.key_id(),
                algorithm: Algorithm::Sm2,
            })
        );
        assert!(matches!(
            verify_bytes(
                &ed.verifier(),
                "anxin/certificate/v1",
                b"payload",
                &sm2_signature
            ),
            Err(Error::SignatureInvalid {
                algorithm: Algorithm::Ed25519,
                ..
            })
        ));
    }

    #[test]
    fn sm2_sign_bytes_is_bound_to_context_and_key() {
        let signer = sm2_signer();
        let verifier = signer.verifier();
        let signature = sign_bytes(&signer, "anxin/certificate/v1", b"payload").unwrap();
        assert_eq!(
            verify_bytes(&verifier, "anxin/certificate/v1", b"payload", &signature),
            Ok(())
        );
        assert!(verify_bytes(&verifier, "anxin/transfer/v1", b"payload", &signature).is_err());
        assert!(verify_bytes(&verifier, "anxin/certificate/v1", b"payloaD", &signature).is_err());
        let other = Signer::from_sm2_secret("anxin.example/log", &[8u8; 32]).unwrap();
        assert!(
            verify_bytes(
                &other.verifier(),
                "anxin/certificate/v1",
                b"payload",
                &signature
            )
            .is_err()
        );
        let mut tampered = signature;
        tampered[40] ^= 4;
        assert!(verify_bytes(&verifier, "anxin/certificate/v1", b"payload", &tampered).is_err());
        for bad in [[0u8; 64], [0xff; 64]] {
            assert!(verify_bytes(&verifier, "anxin/certificate/v1", b"payload", &bad).is_err());
        }
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
        // A note signature is not a sign_bytes signature for the same bytes, nor the reverse.
        let raw_signature = signer.signing_key.sign(b"text\n").unwrap();
        assert!(verify_bytes(&verifier, "c", b"text\n", &raw_signature).is_err());
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
        let raw_signature = signer.signing_key.sign(b"text\n").unwrap();
        assert!(verify_bytes(&verifier, "c", b"text\n", &raw_signature).is_err());
    }

    proptest! {
        #[test]
        fn opening_arbitrary_text_never_panics(text in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let verifier = signer().verifier();
            let _ = open_note(&text, &verifier);
            let _ = open_note(&String::from_utf8_lossy(&bytes), &verifier);
            let _ = open_note(&text, &sm2_signer().verifier());
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
            let _ = open_note(&note, &sm2_signer().verifier());
            let _ = Verifier::from_vkey(&format!("{name}+c74f20a3+{signature}"));
        }

        #[test]
        fn sm2_key_texts_never_panic(
            name in "[^ +\n]{0,20}",
            id in "[0-9a-f]{8}",
            key in prop::collection::vec(any::<u8>(), 0..80),
            garbage in "[A-Za-z0-9+/=]{0,100}",
        ) {
            // Past the base64 and type checks, into SM2 point and scalar decoding.
            let typed = BASE64.encode([SM2_TYPE, &key[..]].concat());
            let _ = Verifier::from_vkey(&format!("{name}+{id}+{typed}"));
            let _ = Signer::from_skey(&format!("PRIVATE+KEY+{name}+{id}+{typed}"));
            let _ = Verifier::from_vkey(&format!("{name}+{id}+/3NtMg{garbage}"));
            let _ = Signer::from_skey(&format!("PRIVATE+KEY+{name}+{id}+/3NtMg{garbage}"));
        }

        #[test]
        fn sm2_raw_keys_never_panic(point in any::<[u8; 64]>(), secret in any::<[u8; 32]>()) {
            let mut public_key = [4u8; 65];
            public_key[1..].copy_from_slice(&point);
            let _ = Verifier::new_sm2("a.example", &public_key);
            if let Ok(signer) = Signer::from_sm2_secret("a.example", &secret) {
                let signed = sign_note(&signer, "x\n").unwrap();
                prop_assert_eq!(open_note(&signed, &signer.verifier()), Ok("x\n"));
            }
        }

        #[test]
        fn sm2_sign_then_open_round_trips(lines in prop::collection::vec("[^\u{0}-\u{1f}]{0,40}", 1..6)) {
            let signer = sm2_signer();
            let text = lines.join("\n") + "\n";
            let signed = sign_note(&signer, &text).unwrap();
            prop_assert_eq!(open_note(&signed, &signer.verifier()), Ok(text.as_str()));
            prop_assert!(open_note(&signed, &self::signer().verifier()).is_err());
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
