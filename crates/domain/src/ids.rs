//! Identifiers with check digits: the resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)
//! and the unified social credit code (GB 32100-2015). A `ResidentId` is personal data: its
//! `Debug` is redacted and its `Display` is masked, so it cannot reach a log by accident.

use std::fmt;

use crate::YearMonth;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a resident ID has 18 characters (17 digits then a digit or X); this one has {0}")]
    IdLength(usize),
    #[error("a resident ID has 17 digits then a digit or X; character {0} is not allowed there")]
    IdCharacter(usize),
    #[error("the birth date inside this resident ID (characters 7–14) is not a real date")]
    IdBirthDate,
    #[error(
        "the check character of this resident ID is wrong (GB 11643: the last character must be {expected})"
    )]
    IdCheck { expected: char },
    #[error(
        "a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V, Z; this one has {0}"
    )]
    CodeLength(usize),
    #[error(
        "character {position} ('{found}') is not allowed in a unified social credit code: use 0-9 and A-Y without I, O, S, V, Z"
    )]
    CodeCharacter { position: usize, found: char },
    #[error(
        "the check character of this unified social credit code is wrong (GB 32100: the last character must be {expected})"
    )]
    CodeCheck { expected: char },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// A validated 18-character resident ID number. Never printed in clear except through
/// [`ResidentId::expose`], which callers use only to encrypt or hash it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId([u8; 18]);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character of 17 ASCII digits.
fn id_check(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

impl ResidentId {
    /// The ID whose first 17 digits are `prefix17`, with its check character computed (for
    /// synthetic data and tests); the result is validated like any parsed ID.
    pub fn complete(prefix17: &str) -> Result<ResidentId, IdError> {
        if prefix17.len() != 17 || !prefix17.bytes().all(|b| b.is_ascii_digit()) {
            return ResidentId::parse(prefix17);
        }
        ResidentId::parse(&format!(
            "{prefix17}{}",
            id_check(prefix17.as_bytes()) as char
        ))
    }

    pub fn parse(text: &str) -> Result<ResidentId, IdError> {
        let t = text.trim();
        let chars: Vec<char> = t.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::IdLength(chars.len()));
        }
        let mut bytes = [0u8; 18];
        for (i, c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (*c == 'X' || *c == 'x'));
            if !ok {
                return Err(IdError::IdCharacter(i + 1));
            }
            bytes[i] = c.to_ascii_uppercase() as u8;
        }
        let expected = id_check(&bytes[..17]);
        if bytes[17] != expected {
            return Err(IdError::IdCheck {
                expected: expected as char,
            });
        }
        let id = ResidentId(bytes);
        id.birth_date().ok_or(IdError::IdBirthDate)?;
        Ok(id)
    }

    /// The ID in clear. Call only to encrypt or key-hash it, never to log or display it.
    pub fn expose(&self) -> &str {
        // Only ASCII digits and 'X' are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn digits(&self, range: std::ops::Range<usize>) -> u32 {
        self.0[range]
            .iter()
            .fold(0, |acc, b| acc * 10 + (b - b'0') as u32)
    }

    pub fn birth_date(&self) -> Option<jiff::civil::Date> {
        let y = self.digits(6..10) as i16;
        let m = self.digits(10..12) as i8;
        let d = self.digits(12..14) as i8;
        if y < 1800 {
            return None;
        }
        jiff::civil::Date::new(y, m, d).ok()
    }

    pub fn birth_month(&self) -> Option<YearMonth> {
        self.birth_date().and_then(YearMonth::of_date)
    }

    /// Odd sequence digit (character 17) = male, even = female.
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The six-digit address code of the place of registration (first issuance).
    pub fn address_code(&self) -> u32 {
        self.digits(0..6)
    }

    /// Masked form shown to anyone but the owner: the first four and last four characters.
    pub fn masked(&self) -> String {
        let s = self.expose();
        format!("{}**********{}", &s[..4], &s[14..])
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResidentId(<redacted>)")
    }
}
impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A validated unified social credit code (统一社会信用代码) of a platform or employer.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode([u8; 18]);

const CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The GB 32100 check character of 17 character values (positions in `CODE_CHARS`).
fn code_check(values: &[u32]) -> u8 {
    let sum: u32 = values.iter().zip(CODE_WEIGHTS).map(|(v, w)| v * w).sum();
    CODE_CHARS[((31 - sum % 31) % 31) as usize]
}

impl CreditCode {
    /// The code whose first 17 characters are `prefix17`, with its check character computed
    /// (for synthetic data and tests); the result is validated like any parsed code.
    pub fn complete(prefix17: &str) -> Result<CreditCode, IdError> {
        let values: Option<Vec<u32>> = prefix17
            .chars()
            .map(|c| {
                CODE_CHARS
                    .iter()
                    .position(|b| *b as char == c.to_ascii_uppercase())
                    .map(|p| p as u32)
            })
            .collect();
        match values {
            Some(v) if v.len() == 17 => {
                CreditCode::parse(&format!("{prefix17}{}", code_check(&v) as char))
            }
            _ => CreditCode::parse(prefix17),
        }
    }

    pub fn parse(text: &str) -> Result<CreditCode, IdError> {
        let t = text.trim();
        let chars: Vec<char> = t.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::CodeLength(chars.len()));
        }
        let mut bytes = [0u8; 18];
        let mut values = [0u32; 18];
        for (i, c) in chars.iter().enumerate() {
            let up = c.to_ascii_uppercase();
            let pos = CODE_CHARS.iter().position(|b| *b as char == up);
            match pos {
                Some(p) => {
                    bytes[i] = up as u8;
                    values[i] = p as u32;
                }
                None => {
                    return Err(IdError::CodeCharacter {
                        position: i + 1,
                        found: *c,
                    });
                }
            }
        }
        let expected = code_check(&values[..17]);
        if bytes[17] != expected {
            return Err(IdError::CodeCheck {
                expected: expected as char,
            });
        }
        Ok(CreditCode(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Characters 3–8: the administrative division of registration.
    pub fn division_code(&self) -> &str {
        &self.as_str()[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resident_ids_from_the_reference() {
        for ok in [
            "11010519491231002X",
            "440524188001010014",
            "11010119900307803X",
            "110101199003077758",
        ] {
            let id = ResidentId::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(id.expose(), ok);
        }
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_month().unwrap().to_string(), "1949-12");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "ResidentId(<redacted>)");
        assert_eq!(
            ResidentId::parse("330106199001011234"),
            Err(IdError::IdCheck { expected: 'X' })
        );
        assert!(matches!(
            ResidentId::parse("1234"),
            Err(IdError::IdLength(4))
        ));
        assert!(matches!(
            ResidentId::parse("11010519491231002Y"),
            Err(IdError::IdCharacter(18))
        ));
    }

    #[test]
    fn complete_computes_the_check_character() {
        assert_eq!(
            ResidentId::complete("11010519491231002").unwrap().expose(),
            "11010519491231002X"
        );
        assert_eq!(
            CreditCode::complete("91350100M000100Y4").unwrap().as_str(),
            "91350100M000100Y43"
        );
        assert!(ResidentId::complete("1101051949123100").is_err());
        assert!(
            ResidentId::complete("11010519491399002").is_err(),
            "month 13 is no date"
        );
        assert!(
            CreditCode::complete("91350100M000100I4").is_err(),
            "I is not a code character"
        );
    }

    #[test]
    fn impossible_birth_date_is_refused() {
        // 1990-02-30 with a correct check character.
        let body = "11010119900230001";
        let sum: u32 = body
            .bytes()
            .zip(ID_WEIGHTS)
            .map(|(b, w)| (b - b'0') as u32 * w)
            .sum();
        let id = format!("{body}{}", ID_CHECK[(sum % 11) as usize] as char);
        assert_eq!(ResidentId::parse(&id), Err(IdError::IdBirthDate));
    }

    #[test]
    fn credit_codes_from_the_reference() {
        for ok in [
            "91350100M000100Y43",
            "91110000600037341L",
            "911100001000128855",
            "91310000MA1FL5LQ2B",
        ] {
            CreditCode::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert_eq!(
            CreditCode::parse("91440300MA5G5Y9J0B"),
            Err(IdError::CodeCheck { expected: 'Y' })
        );
        assert!(matches!(
            CreditCode::parse("91440300MA5G5Y9JOB"),
            Err(IdError::CodeCharacter {
                position: 17,
                found: 'O'
            })
        ));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = ResidentId::parse(&s);
            let _ = CreditCode::parse(&s);
        }

        #[test]
        fn one_changed_digit_is_caught(pos in 0usize..17, delta in 1u8..10) {
            let s = "11010519491231002X".as_bytes().to_vec();
            let mut t = s.clone();
            t[pos] = b'0' + (t[pos] - b'0' + delta) % 10;
            let t = String::from_utf8(t).unwrap();
            prop_assert!(ResidentId::parse(&t).is_err());
        }
    }
}
