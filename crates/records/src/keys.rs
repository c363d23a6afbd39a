//! The deployment's secrets: the log signing key and the data key that protects resident IDs.
//!
//! A resident ID is never stored in clear (SPEC L1, X2). Two things are kept instead:
//! - a keyed hash (HMAC-SHA-256 under a key derived from the data key) — the lookup key, the
//!   same for the same ID every time, useless without the data key;
//! - an authenticated encryption of the ID and name (XChaCha20-Poly1305, random 192-bit nonce,
//!   the keyed hash as associated data, so a sealed value cannot be moved to another person).
//!
//! `Debug` never prints a key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A person's lookup key: HMAC-SHA-256 of the resident ID under the deployment's data key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(pub [u8; 32]);

impl PersonKey {
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 lowercase hex digits.
    pub fn from_hex(text: &str) -> Option<PersonKey> {
        let bytes = unhex(text)?;
        Some(PersonKey(bytes.try_into().ok()?))
    }

    /// The first 8 hex digits: enough to tell records apart in a report, not to look anyone up.
    pub fn short(&self) -> String {
        hex(&self.0[..4])
    }
}

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonKey({}…)", self.short())
    }
}

/// The data key: 32 random bytes from configuration.
#[derive(Clone)]
pub struct DataKey {
    mac: [u8; 32],
    seal: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

const SEAL_NONCE_BYTES: usize = 24;

impl DataKey {
    /// Derives the MAC and sealing keys from the configured secret (domain-separated).
    pub fn from_secret(secret: &[u8; 32]) -> DataKey {
        let derive = |label: &[u8]| -> [u8; 32] {
            Sha256::new()
                .chain_update(b"anxin/data-key/v1/")
                .chain_update(label)
                .chain_update(secret)
                .finalize()
                .into()
        };
        DataKey {
            mac: derive(b"mac"),
            seal: derive(b"seal"),
        }
    }

    /// A fresh random secret, as written by `anxin init`.
    pub fn generate_secret() -> Result<[u8; 32]> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| Error::Crypto(format!("random source: {e}")))?;
        Ok(secret)
    }

    /// The keyed hash of an identifier in a namespace ("person", "idem", …).
    pub fn keyed_hash(&self, namespace: &str, value: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("HMAC takes any key length");
        mac.update(namespace.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    pub fn person_key(&self, resident_id: &anxin_domain::ResidentId) -> PersonKey {
        PersonKey(self.keyed_hash("person", resident_id.expose().as_bytes()))
    }

    /// Encrypts `plaintext`, bound to `person` as associated data. Output: nonce || ciphertext.
    pub fn seal(&self, person: &PersonKey, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; SEAL_NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| Error::Crypto(format!("random source: {e}")))?;
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &person.0,
                },
            )
            .map_err(|_| Error::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(SEAL_NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`DataKey::seal`] produced for the same person; fails on any change.
    pub fn open(&self, person: &PersonKey, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < SEAL_NONCE_BYTES + 16 {
            return Err(Error::Crypto("sealed value too short".into()));
        }
        let (nonce, body) = sealed.split_at(SEAL_NONCE_BYTES);
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &person.0,
                },
            )
            .map_err(|_| {
                Error::Crypto(
                    "sealed value does not open with this data key (wrong key or altered row)"
                        .into(),
                )
            })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Lowercase hex only: an uppercase digit is a changed byte, not the same value.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let key = DataKey::from_secret(&[7; 32]);
        let id = anxin_domain::ResidentId::parse("11010519491231002X").unwrap();
        let person = key.person_key(&id);
        assert_eq!(person, key.person_key(&id), "keyed hash is deterministic");
        let sealed = key.seal(&person, b"hello").unwrap();
        assert_eq!(key.open(&person, &sealed).unwrap(), b"hello");
        let other = PersonKey([1; 32]);
        assert!(key.open(&other, &sealed).is_err(), "bound to the person");
        let mut altered = sealed.clone();
        altered[30] ^= 1;
        assert!(key.open(&person, &altered).is_err(), "any change is caught");
        let stranger = DataKey::from_secret(&[8; 32]);
        assert!(stranger.open(&person, &sealed).is_err());
        assert_ne!(stranger.person_key(&id), person);
    }

    #[test]
    fn hex_is_strict() {
        assert_eq!(unhex("00ff"), Some(vec![0, 255]));
        assert_eq!(unhex("00FF"), None);
        assert_eq!(unhex("0"), None);
        assert_eq!(
            PersonKey::from_hex(&hex(&[3; 32])),
            Some(PersonKey([3; 32]))
        );
    }
}
