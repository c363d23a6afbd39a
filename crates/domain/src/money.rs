//! Money is integer fen (分, 1/100 yuan), never a float. Rates are basis points (1/10000).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "'{0}' is not an amount of money: write yuan with at most two decimals, e.g. 4812 or 962.40"
    )]
    Malformed(String),
    #[error("'{0}' has more than two decimals: amounts are kept to the fen (0.01 yuan)")]
    TooPrecise(String),
    #[error("'{0}' is out of range: amounts must lie within ±90 trillion yuan")]
    OutOfRange(String),
    #[error("'{0}' is not a rate: write a percentage with at most two decimals, e.g. 20 or 9.5")]
    MalformedRate(String),
    #[error("'{0}' is out of range: a rate lies between 0 and 1000 %")]
    RateOutOfRange(String),
}

/// An amount of money in fen. Display and parsing use yuan with two decimals.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// Largest magnitude accepted from text: keeps every product with a rate inside i128 and
/// every sum of a province's population inside i64.
const MAX_ABS_FEN: i64 = 9_000_000_000_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses yuan as written by people and parameter files: "4812", "962.4", "962.40",
    /// "-3.5", "1,234.50". At most two decimals; no exponent, no float.
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty()
            || !all_digits(whole)
            || !all_digits(frac)
            || (whole.is_empty() && digits.starts_with('.') && frac.is_empty())
        {
            return Err(MoneyError::Malformed(text.to_string()));
        }
        if frac.len() > 2 {
            // Trailing zeros beyond the fen are harmless ("962.400").
            if frac[2..].bytes().any(|b| b != b'0') {
                return Err(MoneyError::TooPrecise(text.to_string()));
            }
        }
        if whole.len() > 15 {
            return Err(MoneyError::OutOfRange(text.to_string()));
        }
        let whole_fen: i64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse::<i64>()
                .map_err(|_| MoneyError::OutOfRange(text.to_string()))?
                * 100
        };
        let mut frac2 = frac.chars().take(2).collect::<String>();
        while frac2.len() < 2 {
            frac2.push('0');
        }
        let frac_fen: i64 = frac2
            .parse()
            .map_err(|_| MoneyError::Malformed(text.to_string()))?;
        let total = whole_fen + frac_fen;
        if total > MAX_ABS_FEN {
            return Err(MoneyError::OutOfRange(text.to_string()));
        }
        Ok(Fen(if negative { -total } else { total }))
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// `self × numerator / denominator`, rounded by `rounding`. Computed in i128, so it
    /// cannot overflow for any amount and ratio anxin handles.
    pub fn mul_ratio(self, numerator: i64, denominator: i64, rounding: Rounding) -> Fen {
        debug_assert!(denominator > 0);
        rounding.apply(
            self.0 as i128 * numerator as i128,
            denominator.max(1) as i128,
        )
    }

    /// `self × rate`, rounded by `rounding`.
    pub fn times_rate(self, rate: Bps, rounding: Rounding) -> Fen {
        self.mul_ratio(rate.0 as i64, 10_000, rounding)
    }

    /// Share of `self` in `whole`, in basis points, rounded half up; 0 when `whole` is 0.
    pub fn share_of(self, whole: Fen) -> Bps {
        if whole.0 <= 0 {
            return Bps(0);
        }
        let v = Rounding::HalfUpFen
            .apply(self.0 as i128 * 10_000, whole.0 as i128)
            .0;
        Bps(v.clamp(0, u32::MAX as i64) as u32)
    }

    /// Yuan with two decimals, e.g. "962.40".
    pub fn yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}
impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}
impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, rhs: Fen) {
        self.0 += rhs.0;
    }
}
impl std::ops::Mul<i64> for Fen {
    type Output = Fen;
    fn mul(self, rhs: i64) -> Fen {
        Fen(self.0 * rhs)
    }
}
impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.yuan_string())
    }
}
impl fmt::Debug for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.yuan_string())
    }
}
impl FromStr for Fen {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Fen, MoneyError> {
        Fen::parse_yuan(s)
    }
}

/// A rate in basis points: 2000 = 20 %, 950 = 9.5 %, 5 = 0.05 %.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bps(pub u32);

impl Bps {
    /// Parses a percentage such as "20", "9.5", "0.05", "12%". At most two decimals.
    pub fn parse_percent(text: &str) -> Result<Bps, MoneyError> {
        let t = text.trim().trim_end_matches('%').trim();
        let fen = Fen::parse_yuan(t).map_err(|_| MoneyError::MalformedRate(text.to_string()))?;
        // "percent with two decimals" has the same shape as "yuan with two decimals".
        if fen.0 < 0 || fen.0 > 100_000 {
            return Err(MoneyError::RateOutOfRange(text.to_string()));
        }
        Ok(Bps(fen.0 as u32))
    }

    pub const fn bps(self) -> u32 {
        self.0
    }

    /// "20%", "9.5%", "0.05%".
    pub fn percent_string(self) -> String {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            format!("{whole}%")
        } else if frac.is_multiple_of(10) {
            format!("{whole}.{}%", frac / 10)
        } else {
            format!("{whole}.{frac:02}%")
        }
    }
}

impl fmt::Display for Bps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.percent_string())
    }
}
impl fmt::Debug for Bps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}bps", self.0)
    }
}

/// How an exact quotient is turned into fen. Each policy rule names the one it uses in its
/// parameter file (`rounding.*`), so changing a region's practice is a data change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rounding {
    /// 四舍五入到分: half up to the fen (the usual practice for contributions).
    HalfUpFen,
    /// 四舍五入到角: half up to 0.1 yuan.
    HalfUpJiao,
    /// 四舍五入到元: half up to the yuan (bases are often published in whole yuan).
    HalfUpYuan,
    /// 舍去分以下: truncate toward zero at the fen.
    TruncateFen,
}

impl Rounding {
    pub const ALL: [Rounding; 4] = [
        Rounding::HalfUpFen,
        Rounding::HalfUpJiao,
        Rounding::HalfUpYuan,
        Rounding::TruncateFen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rounding::HalfUpFen => "half-up-fen",
            Rounding::HalfUpJiao => "half-up-jiao",
            Rounding::HalfUpYuan => "half-up-yuan",
            Rounding::TruncateFen => "truncate-fen",
        }
    }

    pub fn parse(text: &str) -> Option<Rounding> {
        Rounding::ALL.into_iter().find(|r| r.name() == text)
    }

    /// Rounds `numerator / denominator` fen (an exact rational) to a whole `Fen` by this rule.
    /// Half-up means half away from zero, as in 四舍五入.
    pub fn apply(self, numerator: i128, denominator: i128) -> Fen {
        let unit: i128 = match self {
            Rounding::HalfUpFen | Rounding::TruncateFen => 1,
            Rounding::HalfUpJiao => 10,
            Rounding::HalfUpYuan => 100,
        };
        let den = denominator * unit;
        let neg = (numerator < 0) != (den < 0);
        let (n, d) = (numerator.abs(), den.abs());
        let mut q = n / d;
        if self != Rounding::TruncateFen && (n % d) * 2 >= d {
            q += 1;
        }
        let v = q * unit;
        let v = if neg { -v } else { v };
        Fen(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan() {
        assert_eq!(Fen::parse_yuan("4812").unwrap(), Fen(481_200));
        assert_eq!(Fen::parse_yuan("962.4").unwrap(), Fen(96_240));
        assert_eq!(Fen::parse_yuan("962.40").unwrap(), Fen(96_240));
        assert_eq!(Fen::parse_yuan("0.05").unwrap(), Fen(5));
        assert_eq!(Fen::parse_yuan("-3.5").unwrap(), Fen(-350));
        assert_eq!(Fen::parse_yuan("1,234.50").unwrap(), Fen(123_450));
        assert_eq!(Fen::parse_yuan(".5").unwrap(), Fen(50));
        assert!(matches!(
            Fen::parse_yuan("1.234"),
            Err(MoneyError::TooPrecise(_))
        ));
        for bad in ["", ".", "abc", "1e3", "1.2.3", "--1", "¥5", "NaN"] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Fen::parse_yuan("9999999999999999"),
            Err(MoneyError::OutOfRange(_))
        ));
    }

    #[test]
    fn rates() {
        assert_eq!(Bps::parse_percent("20").unwrap(), Bps(2000));
        assert_eq!(Bps::parse_percent("9.5%").unwrap(), Bps(950));
        assert_eq!(Bps::parse_percent("0.05").unwrap(), Bps(5));
        assert!(Bps::parse_percent("-1").is_err());
        assert!(Bps::parse_percent("1001").is_err());
        assert_eq!(Bps(950).to_string(), "9.5%");
        assert_eq!(Bps(5).to_string(), "0.05%");
        assert_eq!(Bps(2000).to_string(), "20%");
    }

    #[test]
    fn zhejiang_tax_bureau_example() {
        // 4812 × 20 % = 962.40 (浙江税务 Q&A 2024-12-20).
        assert_eq!(
            Fen::from_yuan(4812).times_rate(Bps(2000), Rounding::HalfUpFen),
            Fen(96_240)
        );
    }

    #[test]
    fn rounding_rules() {
        assert_eq!(Rounding::HalfUpFen.apply(5, 10), Fen(1));
        assert_eq!(Rounding::HalfUpFen.apply(4, 10), Fen(0));
        assert_eq!(Rounding::HalfUpFen.apply(-5, 10), Fen(-1));
        assert_eq!(Rounding::TruncateFen.apply(19, 10), Fen(1));
        assert_eq!(Rounding::HalfUpYuan.apply(501_234, 1), Fen(501_200));
        assert_eq!(Rounding::HalfUpYuan.apply(501_250, 1), Fen(501_300));
        assert_eq!(Rounding::HalfUpJiao.apply(96_245, 1), Fen(96_250));
    }

    proptest! {
        #[test]
        fn yuan_round_trips(v in -MAX_ABS_FEN/10..MAX_ABS_FEN/10) {
            let f = Fen(v);
            prop_assert_eq!(Fen::parse_yuan(&f.yuan_string()).unwrap(), f);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Fen::parse_yuan(&s);
            let _ = Bps::parse_percent(&s);
        }

        #[test]
        fn rounding_is_within_one_unit(n in -1_000_000_000i64..1_000_000_000, d in 1i64..100_000) {
            for r in Rounding::ALL {
                let got = r.apply(n as i128, d as i128).0 as i128;
                let exact_times_d = n as i128;
                let unit = match r { Rounding::HalfUpJiao => 10, Rounding::HalfUpYuan => 100, _ => 1 };
                prop_assert!((got * d as i128 - exact_times_d).abs() <= unit * d as i128);
            }
        }
    }
}
