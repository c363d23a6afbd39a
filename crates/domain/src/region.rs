//! Regions as GB/T 2260 administrative division codes, with city → province → national
//! inheritance. Names and aliases live in the policy files, not here.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error(
        "'{0}' is not a region code: write six digits of GB/T 2260, e.g. 330000 (浙江省) or 330100 (杭州市); 000000 is the national level"
    )]
    Malformed(String),
}

/// A six-digit GB/T 2260 code. `000000` stands for the national level (an anxin convention:
/// GB/T 2260 has no code for the whole country).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(u32);

impl RegionCode {
    pub const NATIONAL: RegionCode = RegionCode(0);

    pub fn parse(text: &str) -> Result<RegionCode, RegionError> {
        let t = text.trim();
        if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionError::Malformed(text.to_string()));
        }
        let v: u32 = t
            .parse()
            .map_err(|_| RegionError::Malformed(text.to_string()))?;
        let province = v / 10_000;
        // Province codes run 11–82; a non-national code must have one, and a county part
        // without a city part is not a GB/T 2260 shape.
        if v != 0 && !(11..=82).contains(&province) {
            return Err(RegionError::Malformed(text.to_string()));
        }
        Ok(RegionCode(v))
    }

    pub fn code(self) -> u32 {
        self.0
    }

    pub fn is_national(self) -> bool {
        self.0 == 0
    }

    pub fn is_province(self) -> bool {
        self.0 != 0 && self.0.is_multiple_of(10_000)
    }

    /// The province this region belongs to (itself if it is a province; national stays national).
    pub fn province(self) -> RegionCode {
        RegionCode(self.0 / 10_000 * 10_000)
    }

    /// The next level up by the code's shape: county → city → province → national.
    /// The policy files may name a different parent (e.g. a city under separate state
    /// planning); they are the authority, this is the default.
    pub fn structural_parent(self) -> Option<RegionCode> {
        if self.0 == 0 {
            None
        } else if self.0.is_multiple_of(10_000) {
            Some(RegionCode::NATIONAL)
        } else if self.0.is_multiple_of(100) {
            Some(RegionCode(self.0 / 10_000 * 10_000))
        } else {
            Some(RegionCode(self.0 / 100 * 100))
        }
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}
impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents() {
        let hz = RegionCode::parse("330100").unwrap();
        assert_eq!(hz.structural_parent().unwrap().to_string(), "330000");
        assert_eq!(hz.province().to_string(), "330000");
        let zj = hz.structural_parent().unwrap();
        assert!(zj.is_province());
        assert_eq!(zj.structural_parent(), Some(RegionCode::NATIONAL));
        assert_eq!(RegionCode::NATIONAL.structural_parent(), None);
        assert_eq!(
            RegionCode::parse("330106")
                .unwrap()
                .structural_parent()
                .unwrap(),
            hz
        );
        for bad in ["33010", "3301000", "abcdef", "990000", "100000", ""] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
    }
}
