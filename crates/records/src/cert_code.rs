//! Short verification codes (核验码) for certificates: what a person types or a QR code opens
//! instead of handing over the whole file.
//!
//! A code is 16 characters of Crockford's base 32 (digits and capitals without I, L, O, U,
//! so nothing reads as something else), shown in four groups of four (`7KQ3-M0XD-9TRB-W2HF`):
//! 15 characters (75 bits) of a keyed hash of the document's SHA-256 under the deployment's
//! data key, then one Luhn mod 32 check character, which catches every single mistyped
//! character and every swap of two neighbours but 0 with Z. The code cannot be computed from the public log
//! (which holds only the document hash) and cannot usefully be guessed: see ARCHITECTURE.md.
//!
//! Issuing keeps the document and its signature under the code, sealed to the holder
//! (migration 10). [`Records::certificate_by_code`] rebuilds the full certificate with an
//! inclusion proof against the current signed head and runs the offline [`verify`] on it, so a
//! check by code and a check of the file are one and the same; it also checks that the code is
//! the one this document's hash gives.

use anxin_domain::codes::{Code as _, Insurance};
use serde::Serialize;
use sha2::Digest as _;

use crate::cert::{Certificate, Check, FORMAT, Verification, verify};
use crate::error::{Error, Result};
use crate::keys::{PersonKey, hex};
use crate::records::Records;
use crate::store::{CertificateCodeRow, Store};

/// Crockford's base 32.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code, the check character included.
pub const CODE_LEN: usize = 16;
/// Random-looking characters before the check character (5 bits each: 75 bits).
const DATA_LEN: usize = CODE_LEN - 1;

/// A well-formed verification code (its check character holds), 16 characters, no dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct VerifyCode(String);

impl From<VerifyCode> for String {
    fn from(c: VerifyCode) -> String {
        c.grouped()
    }
}

impl VerifyCode {
    /// The code of a document with SHA-256 `digest`, under the keyed hash `mac`.
    fn from_mac(mac: &[u8; 32]) -> VerifyCode {
        let mut values = [0u8; DATA_LEN];
        for (i, v) in values.iter_mut().enumerate() {
            let bit = i * 5;
            let pair = u16::from_be_bytes([mac[bit / 8], mac[bit / 8 + 1]]);
            *v = ((pair >> (11 - bit % 8)) & 31) as u8;
        }
        let mut text: String = values
            .iter()
            .map(|&v| ALPHABET[v as usize] as char)
            .collect();
        text.push(ALPHABET[check_value(&values) as usize] as char);
        VerifyCode(text)
    }

    /// Reads a code as a person types it: any case, with or without dashes or spaces, O read as
    /// 0 and I or L as 1. Refuses (in both languages) anything else, and a code whose check
    /// character does not hold (a mistyped or altered character).
    pub fn parse(text: &str) -> Result<VerifyCode> {
        let mut values = Vec::with_capacity(CODE_LEN);
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            match ALPHABET.iter().position(|&a| a as char == c) {
                Some(v) if values.len() < CODE_LEN => values.push(v as u8),
                Some(_) => return Err(wrong_length()),
                None => {
                    let shown: String = c.escape_default().collect();
                    return Err(Error::refused(
                        format!(
                            "核验码里不能有「{shown}」：只用数字和除 I、L、O、U 以外的大写字母"
                        ),
                        format!(
                            "a verification code has no \"{shown}\": only digits and capital letters other than I, L, O, U"
                        ),
                    ));
                }
            }
        }
        if values.len() != CODE_LEN {
            return Err(wrong_length());
        }
        if check_value(&values[..DATA_LEN]) != values[DATA_LEN] {
            return Err(Error::refused(
                "核验码有一位不对（可能抄错或被改过）：请对照凭证上的核验码重新输入",
                "one character of this verification code is wrong (mistyped or altered): type it again from the certificate",
            ));
        }
        Ok(VerifyCode(
            values
                .iter()
                .map(|&v| ALPHABET[v as usize] as char)
                .collect(),
        ))
    }

    /// The 16 characters, no dashes (how it is stored and put in a URL).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// In four groups of four, for reading aloud: `7KQ3-M0XD-9TRB-W2HF`.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|g| std::str::from_utf8(g).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl std::fmt::Display for VerifyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.grouped())
    }
}

fn wrong_length() -> Error {
    Error::refused(
        format!("核验码是 {CODE_LEN} 位数字和字母，如 7KQ3-M0XD-9TRB-W2HF（短横可不输）"),
        format!(
            "a verification code is {CODE_LEN} digits and letters, like 7KQ3-M0XD-9TRB-W2HF (the dashes are optional)"
        ),
    )
}

/// Luhn mod 32 over `values` (the check value that makes the whole sum divisible by 32).
fn check_value(values: &[u8]) -> u8 {
    let n = ALPHABET.len() as u32;
    let mut factor = 2;
    let mut sum = 0;
    for &v in values.iter().rev() {
        let addend = factor * v as u32;
        sum += addend / n + addend % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    ((n - sum % n) % n) as u8
}

/// What a certificate states, masked for anyone who holds its code: the holder's name (the
/// surname only) and ID (first four and last four), the issue date and, per insurance, the
/// months, the regions and the continuous runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certified {
    pub cert_type: String,
    pub name_masked: String,
    pub id_masked: String,
    pub issued_on: String,
    pub insurances: Vec<CertifiedInsurance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertifiedInsurance {
    /// The insurance's code (`pension`, …) and Chinese name.
    pub insurance: String,
    pub insurance_zh: String,
    pub paid_months: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub longest_run: Option<CertifiedRun>,
    pub current_run: Option<CertifiedRun>,
    pub gaps: u64,
    /// Each region (GB/T 2260 code) with its paid months.
    pub regions: Vec<(u32, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertifiedRun {
    pub from: String,
    pub to: String,
    pub months: u64,
}

/// The surname alone: "张三" → "张*", "欧阳娜娜" → "欧***".
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

impl Certified {
    /// Reads what a certificate document states (the document's own JSON).
    pub fn of(doc: &serde_json::Value) -> Certified {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
        let run = |v: &serde_json::Value| {
            v.is_object().then(|| CertifiedRun {
                from: text(&v["from"]),
                to: text(&v["to"]),
                months: v["months"].as_u64().unwrap_or(0),
            })
        };
        let summaries = doc["summaries"].as_array().cloned().unwrap_or_default();
        let insurances = summaries
            .iter()
            .filter(|s| s["region"].is_null())
            .map(|s| {
                let code = text(&s["insurance"]);
                let regions = summaries
                    .iter()
                    .filter(|r| r["insurance"] == s["insurance"])
                    .filter_map(|r| {
                        Some((r["region"].as_u64()? as u32, r["paid_months"].as_u64()?))
                    })
                    .collect();
                CertifiedInsurance {
                    insurance_zh: Insurance::from_code(&code)
                        .map(|i| i.zh().to_string())
                        .unwrap_or_else(|| "其他".into()),
                    insurance: code,
                    paid_months: s["paid_months"].as_u64().unwrap_or(0),
                    first: s["first"].as_str().map(String::from),
                    last: s["last"].as_str().map(String::from),
                    longest_run: run(&s["longest_run"]),
                    current_run: run(&s["current_run"]),
                    gaps: s["gaps"].as_array().map_or(0, |g| g.len() as u64),
                    regions,
                }
            })
            .collect();
        Certified {
            cert_type: text(&doc["cert_type"]),
            name_masked: mask_name(doc["subject"]["name"].as_str().unwrap_or("")),
            id_masked: text(&doc["subject"]["id_masked"]),
            issued_on: text(&doc["issued_on"]),
            insurances,
        }
    }
}

/// A certificate found by its code: the file rebuilt with a proof against the current signed
/// head, the offline checks run on it (and that the code is this document's), and what it
/// states, masked. `certified` is `None` unless every check holds.
#[derive(Debug, Clone)]
pub struct CodeCheck {
    pub code: VerifyCode,
    pub holder: PersonKey,
    pub certificate: Certificate,
    pub verification: Verification,
    pub certified: Option<Certified>,
    /// The peers' witnesses whose cosignatures of the certificate's checkpoint it carries
    /// (each verified with the witness's key when it was received).
    pub witnesses: Vec<String>,
}

impl<S: Store> Records<S> {
    /// The verification code of the document whose SHA-256 is `digest`.
    pub fn code_of_digest(&self, digest: &[u8]) -> VerifyCode {
        VerifyCode::from_mac(&self.data_key().keyed_hash("certificate-code", digest))
    }

    /// The verification code of `certificate`.
    pub fn certificate_code(&self, certificate: &Certificate) -> VerifyCode {
        self.code_of_digest(&sha2::Sha256::digest(certificate.document.as_bytes()))
    }

    /// Keeps `certificate` (just issued, its entry at `leaf_index`) under its code.
    pub(crate) fn keep_certificate(
        &mut self,
        person: &PersonKey,
        certificate: &Certificate,
    ) -> Result<VerifyCode> {
        let code = self.certificate_code(certificate);
        let clear = serde_json::json!({
            "document": certificate.document,
            "signature": certificate.signature,
        })
        .to_string();
        let sealed = self.data_key().seal(person, clear.as_bytes())?;
        self.store().save_certificate_code(&CertificateCodeRow {
            code: code.as_str().into(),
            seq: certificate.leaf_index,
            person: person.0,
            sealed,
        })?;
        // Two documents with one code (about one in 10^7 after 10^8 certificates): refused,
        // never the other holder's certificate under this one's code.
        match self.store().certificate_by_code(code.as_str())? {
            Some(kept) if kept.seq == certificate.leaf_index => Ok(code),
            _ => Err(Error::Corrupt(
                "a certificate's verification code is taken by another".into(),
            )),
        }
    }

    /// The certificate with `code` (as typed: see [`VerifyCode::parse`]), checked: refused
    /// for a malformed or altered code, not found for a code nobody was given.
    pub fn certificate_by_code(&mut self, code: &str) -> Result<CodeCheck> {
        let code = VerifyCode::parse(code)?;
        let row = self.store().certificate_by_code(code.as_str())?.ok_or_else(|| {
            Error::not_found(
                "没有这个核验码的凭证：请核对每一位；凭证若被改过，核验码也对不上",
                "no certificate has this verification code: check every character; a changed certificate has no valid code",
            )
        })?;
        let holder = PersonKey(row.person);
        let clear = self.data_key().open(&holder, &row.sealed)?;
        let clear: serde_json::Value = serde_json::from_slice(&clear)
            .map_err(|_| Error::Corrupt("sealed certificate does not parse".into()))?;
        let (Some(document), Some(signature)) =
            (clear["document"].as_str(), clear["signature"].as_str())
        else {
            return Err(Error::Corrupt("sealed certificate lacks its parts".into()));
        };
        let event = self
            .store()
            .events(row.seq, row.seq + 1)?
            .pop()
            .ok_or_else(|| Error::Corrupt("a certificate code names no log entry".into()))?;
        // Against the latest checkpoint the peers' witnesses cosigned, with their lines.
        let (size, checkpoint, proof, witnesses) = self.witnessed_inclusion(row.seq)?;
        let certificate = Certificate {
            format: FORMAT.into(),
            suite: self.suite().as_str().into(),
            document: document.into(),
            signature: signature.into(),
            event: String::from_utf8(event.body)
                .map_err(|_| Error::Corrupt("a log entry is not UTF-8".into()))?,
            leaf_index: row.seq,
            tree_size: size,
            inclusion_proof: proof.iter().map(|h| hex(h)).collect(),
            checkpoint,
        };
        let mut verification = verify(&certificate.to_bytes(), self.verifier());
        let digest = sha2::Sha256::digest(certificate.document.as_bytes());
        let belongs = self.code_of_digest(&digest) == code
            && certificate
                .event
                .contains(&format!("\"person\":\"{}\"", holder.hex()));
        verification.checks.push(Check {
            zh: "核验码属于这份凭证",
            en: "the code belongs to this certificate",
            ok: belongs,
            detail: if belongs {
                String::new()
            } else {
                "核验码与凭证内容或持证人不符 / the code does not match the document or its holder"
                    .into()
            },
        });
        let certified = verification
            .ok()
            .then(|| verification.document.as_ref().map(Certified::of))
            .flatten();
        Ok(CodeCheck {
            code,
            holder,
            certificate,
            verification,
            certified,
            witnesses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(seed: u8) -> VerifyCode {
        VerifyCode::from_mac(&sha2::Sha256::digest([seed]).into())
    }

    #[test]
    fn a_code_reads_back_as_typed() {
        for seed in 0..=255 {
            let c = code(seed);
            assert_eq!(c.as_str().len(), CODE_LEN);
            assert_eq!(VerifyCode::parse(&c.grouped()).unwrap(), c);
            assert_eq!(VerifyCode::parse(&c.as_str().to_lowercase()).unwrap(), c);
            let spaced = c.grouped().replace('-', " ");
            assert_eq!(VerifyCode::parse(&spaced).unwrap(), c);
        }
    }

    #[test]
    fn every_single_change_and_neighbour_swap_but_0_z_is_refused() {
        for seed in 0..=63 {
            let c = code(seed);
            let chars: Vec<char> = c.as_str().chars().collect();
            for i in 0..CODE_LEN {
                for &a in ALPHABET {
                    let mut changed = chars.clone();
                    if changed[i] == a as char {
                        continue;
                    }
                    changed[i] = a as char;
                    let text: String = changed.iter().collect();
                    assert!(VerifyCode::parse(&text).is_err(), "{c}: {text} accepted");
                }
                // Luhn mod 32's one blind spot, as 0 with 9 is Luhn's in decimal.
                let blind = matches!(
                    (chars[i], chars.get(i + 1)),
                    ('0', Some('Z')) | ('Z', Some('0'))
                );
                if i + 1 < CODE_LEN && chars[i] != chars[i + 1] && !blind {
                    let mut swapped = chars.clone();
                    swapped.swap(i, i + 1);
                    let text: String = swapped.iter().collect();
                    assert!(VerifyCode::parse(&text).is_err(), "{c}: {text} accepted");
                }
            }
        }
    }

    #[test]
    fn look_alikes_are_read_and_strangers_refused() {
        let c = code(7);
        let with_o = c.as_str().replace('0', "O");
        assert_eq!(VerifyCode::parse(&with_o).unwrap(), c);
        for bad in [
            "",
            "ABC",
            "7KQ3-M0XD-9TRB-W2HFX",
            "7KQ3-M0XD-9TRB-W2HU",
            "七KQ3M0XD9TRBW2HF",
        ] {
            let e = VerifyCode::parse(bad).unwrap_err();
            assert!(matches!(e, Error::Refused { .. }), "{bad}: {e:?}");
        }
    }

    #[test]
    fn names_are_masked_to_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name(""), "");
    }
}
