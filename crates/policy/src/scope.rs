//! Resolving a parameter for a region, a date and a set of reforms:
//! reforms first (the last named wins), then the region, its parent, … up to national.

use anxin_domain::{Bps, Fen, RegionCode, Rounding, YearMonth};
use jiff::civil::Date;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::load::{Entry, Policy, Reform, Region, Source};
use crate::schema::{self, Key};
use crate::value::Value;

/// Everything a calculation needs to look parameters up.
#[derive(Clone)]
pub struct Scope<'p> {
    pub policy: &'p Policy,
    pub region: &'p Region,
    pub date: Date,
    pub reforms: Vec<&'p Reform>,
}

/// A value that was used, with where it came from: the raw material of every explanation.
#[derive(Clone, Debug, Serialize)]
pub struct ParamRef {
    pub key: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub value: String,
    pub value_en: String,
    pub region: String,
    pub region_en: String,
    pub from: String,
    pub reform: Option<String>,
    pub source: Source,
}

impl ParamRef {
    /// Whether the value is an assumption of anxin or unverified rather than a rule seen for
    /// the region: a page must say so ("本地规则未收录，按…推定"), never state it as a fact.
    pub fn is_assumed(&self) -> bool {
        matches!(
            self.source.confidence,
            crate::load::Confidence::Assumption | crate::load::Confidence::Unverified
        )
    }

    /// The name of the region the value was found at, without its code (e.g. "全国").
    pub fn region_name(&self, lang: crate::Lang) -> &str {
        let full = lang.pick(&self.region, &self.region_en);
        full.rsplit_once(' ')
            .filter(|(name, _)| !name.is_empty())
            .map_or(full, |(name, _)| name)
    }
}

pub struct Resolved<'p> {
    pub value: &'p Value,
    pub pref: ParamRef,
}

impl Policy {
    /// Finds a region by code, Chinese or English name, or alias (case-insensitive).
    pub fn region(&self, name: &str) -> Result<&Region> {
        let key = name.trim().to_lowercase();
        if let Some(code) = self.aliases.get(&key)
            && let Some(r) = self.regions.get(code)
        {
            return Ok(r);
        }
        let known: Vec<String> = self
            .regions
            .values()
            .map(|r| format!("{} {}", r.code, r.name_zh))
            .collect();
        Err(Error::new(
            ErrorKind::NotFound,
            format!("未知地区“{name}”。可用的地区：{}", known.join("、")),
            format!(
                "unknown region '{name}'. Known regions: {}",
                known.join(", ")
            ),
        ))
    }

    pub fn region_by_code(&self, code: RegionCode) -> Option<&Region> {
        self.regions.get(&code)
    }

    /// The region and its ancestors, nearest first.
    pub fn chain(&self, code: RegionCode) -> Vec<&Region> {
        let mut out = Vec::new();
        let mut cur = self.regions.get(&code);
        while let Some(r) = cur {
            out.push(r);
            if out.len() > 8 {
                break;
            }
            cur = r.parent.and_then(|p| self.regions.get(&p));
        }
        out
    }

    pub fn reform(&self, name: &str) -> Result<&Reform> {
        self.reforms.get(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = self.reforms.keys().map(String::as_str).collect();
            Error::new(
                ErrorKind::NotFound,
                format!("未知改革方案“{name}”。可用的方案：{}", known.join("、")),
                format!(
                    "unknown reform '{name}'. Known reforms: {}",
                    known.join(", ")
                ),
            )
        })
    }

    /// Builds a scope, checking that every named reform applies to the region and month.
    pub fn scope(&self, region: &str, month: YearMonth, reforms: &[String]) -> Result<Scope<'_>> {
        self.scope_at(region, month.first_day(), reforms)
    }

    pub fn scope_at(&self, region: &str, date: Date, reforms: &[String]) -> Result<Scope<'_>> {
        let region = self.region(region)?;
        let chain: Vec<RegionCode> = self.chain(region.code).iter().map(|r| r.code).collect();
        let mut rs = Vec::new();
        for name in reforms {
            let reform = self.reform(name)?;
            if !reform.regions.iter().any(|c| chain.contains(c)) {
                let where_: Vec<String> = reform
                    .regions
                    .iter()
                    .filter_map(|c| self.regions.get(c))
                    .map(|r| format!("{}（{}）", r.name_zh, r.code))
                    .collect();
                return Err(Error::new(
                    ErrorKind::NotApplicable,
                    format!(
                        "改革方案“{}”只适用于 {} 及其下辖地区，不适用于 {}（{}）",
                        reform.name,
                        where_.join("、"),
                        region.name_zh,
                        region.code
                    ),
                    format!(
                        "reform '{}' applies to {} and its sub-regions, not to {} ({})",
                        reform.name,
                        where_.join(", "),
                        region.name_en,
                        region.code
                    ),
                ));
            }
            if date < reform.from {
                return Err(Error::new(
                    ErrorKind::NotApplicable,
                    format!(
                        "改革方案“{}”从 {} 起实施，所问日期 {} 在此之前",
                        reform.name, reform.from, date
                    ),
                    format!(
                        "reform '{}' takes effect from {}; the date asked, {}, is before it",
                        reform.name, reform.from, date
                    ),
                ));
            }
            if !rs.iter().any(|r: &&Reform| r.name == reform.name) {
                rs.push(reform);
            }
        }
        Ok(Scope {
            policy: self,
            region,
            date,
            reforms: rs,
        })
    }
}

impl<'p> Scope<'p> {
    /// The same scope at another date (e.g. a back-paid month, a retirement year).
    pub fn at(&self, date: Date) -> Scope<'p> {
        Scope {
            date,
            ..self.clone()
        }
    }

    pub fn has_reform(&self, name: &str) -> bool {
        self.reforms.iter().any(|r| r.name == name)
    }

    fn make_ref(
        &self,
        key: &'static str,
        region: RegionCode,
        entry: &Entry,
        reform: Option<&str>,
    ) -> ParamRef {
        let spec = schema::spec(key);
        let r = self.policy.regions.get(&region);
        let rname = r.map(|r| r.name_zh.clone()).unwrap_or_default();
        let rname_en = r.map(|r| r.name_en.clone()).unwrap_or_default();
        let unit = spec.map(|s| s.unit).unwrap_or("");
        ParamRef {
            key,
            label_zh: spec.map(|s| s.zh).unwrap_or(""),
            label_en: spec.map(|s| s.en).unwrap_or(""),
            value: entry.value.display(unit, crate::Lang::Zh),
            value_en: entry.value.display(unit, crate::Lang::En),
            region: format!("{rname} {region}"),
            region_en: format!("{rname_en} {region}"),
            from: entry.from.to_string(),
            reform: reform.map(str::to_string),
            source: entry.source.clone(),
        }
    }

    /// Looks a parameter up; `None` if no level defines it at this date.
    pub fn find(&self, key: Key) -> Option<Resolved<'p>> {
        let spec = schema::spec(key.as_str())?;
        let chain = self.policy.chain(self.region.code);
        for reform in self.reforms.iter().rev() {
            if !reform
                .regions
                .iter()
                .any(|c| chain.iter().any(|r| r.code == *c))
            {
                continue;
            }
            if let Some(e) = reform
                .params
                .get(spec.key)
                .and_then(|es| es.iter().rev().find(|e| e.in_force(self.date)))
            {
                return Some(Resolved {
                    value: &e.value,
                    pref: self.make_ref(spec.key, self.region.code, e, Some(&reform.name)),
                });
            }
        }
        for r in chain {
            if let Some(e) = self
                .policy
                .params
                .get(&(r.code, spec.key))
                .and_then(|es| es.iter().rev().find(|e| e.in_force(self.date)))
            {
                return Some(Resolved {
                    value: &e.value,
                    pref: self.make_ref(spec.key, r.code, e, None),
                });
            }
        }
        None
    }

    /// Looks a parameter up; the error says which dates do have values.
    pub fn get(&self, key: Key) -> Result<Resolved<'p>> {
        self.find(key).ok_or_else(|| self.missing(key))
    }

    fn missing(&self, key: Key) -> Error {
        let key = key.as_str();
        let mut ranges_zh = Vec::new();
        let mut ranges_en = Vec::new();
        for r in self.policy.chain(self.region.code) {
            if let Some(es) =
                schema::spec(key).and_then(|s| self.policy.params.get(&(r.code, s.key)))
            {
                let first = es.first().map(|e| e.from.to_string()).unwrap_or_default();
                let last = es
                    .last()
                    .and_then(|e| e.until)
                    .map(|d| format!("到 {d} 止"))
                    .unwrap_or_default();
                ranges_zh.push(format!("{}（{}）从 {first} 起{last}", r.name_zh, r.code));
                ranges_en.push(format!("{} ({}) from {first}", r.name_en, r.code));
            }
        }
        let label = schema::spec(key).map(|s| s.zh).unwrap_or(key);
        let (zh_cov, en_cov) = if ranges_zh.is_empty() {
            (
                "各级都没有这个参数的数值".to_string(),
                "no level has a value for it".to_string(),
            )
        } else {
            (
                format!("已有数值：{}", ranges_zh.join("；")),
                format!("values exist for {}", ranges_en.join("; ")),
            )
        };
        Error::new(
            ErrorKind::NotFound,
            format!(
                "{}（{}）在 {} 没有“{label}”（{key}）的数值：{zh_cov}",
                self.region.name_zh, self.region.code, self.date
            ),
            format!(
                "{} ({}) has no value of {key} on {}: {en_cov}",
                self.region.name_en, self.region.code, self.date
            ),
        )
    }

    fn typed<T>(&self, key: Key, f: impl Fn(&Value) -> Option<T>) -> Result<(T, ParamRef)> {
        let r = self.get(key)?;
        match f(r.value) {
            Some(v) => Ok((v, r.pref)),
            None => Err(Error::new(
                ErrorKind::PolicyFiles,
                format!("参数 {key} 类型不对"),
                format!("parameter {key} has the wrong type"),
            )),
        }
    }

    pub fn money(&self, key: Key) -> Result<(Fen, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Money(f) = v {
                Some(*f)
            } else {
                None
            }
        })
    }
    pub fn rate(&self, key: Key) -> Result<(Bps, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Rate(b) = v {
                Some(*b)
            } else {
                None
            }
        })
    }
    pub fn ratio(&self, key: Key) -> Result<((i64, i64), ParamRef)> {
        self.typed(key, |v| {
            if let Value::Ratio(n, d) = v {
                Some((*n, *d))
            } else {
                None
            }
        })
    }
    pub fn int(&self, key: Key) -> Result<(i64, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        })
    }
    pub fn flag(&self, key: Key) -> Result<(bool, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Bool(b) = v {
                Some(*b)
            } else {
                None
            }
        })
    }
    pub fn word(&self, key: Key) -> Result<(String, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Word(w) = v {
                Some(w.clone())
            } else {
                None
            }
        })
    }
    pub fn set(&self, key: Key) -> Result<(Vec<String>, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Set(s) = v {
                Some(s.clone())
            } else {
                None
            }
        })
    }
    pub fn table(&self, key: Key) -> Result<(Vec<(i64, i64)>, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Table(t) = v {
                Some(t.clone())
            } else {
                None
            }
        })
    }
    pub fn money_list(&self, key: Key) -> Result<(Vec<Fen>, ParamRef)> {
        self.typed(key, |v| {
            if let Value::MoneyList(l) = v {
                Some(l.clone())
            } else {
                None
            }
        })
    }
    pub fn bands(&self, key: Key) -> Result<(Vec<(Fen, Bps)>, ParamRef)> {
        self.typed(key, |v| {
            if let Value::Bands(b) = v {
                Some(b.clone())
            } else {
                None
            }
        })
    }
    /// Optional bands: `None` when no level or reform defines them.
    pub fn bands_opt(&self, key: Key) -> Option<(Vec<(Fen, Bps)>, ParamRef)> {
        let r = self.find(key)?;
        match r.value {
            Value::Bands(b) => Some((b.clone(), r.pref)),
            _ => None,
        }
    }
    pub fn rounding(&self, key: Key) -> Result<(Rounding, ParamRef)> {
        let (w, r) = self.word(key)?;
        Ok((Rounding::parse(&w).unwrap_or(Rounding::HalfUpFen), r))
    }
}

/// The band an amount falls in: the last band whose lower bound is ≤ the amount.
pub fn band_rate(bands: &[(Fen, Bps)], amount: Fen) -> Bps {
    bands
        .iter()
        .rev()
        .find(|(lo, _)| *lo <= amount)
        .map(|(_, r)| *r)
        .unwrap_or(Bps(0))
}

/// Table lookup by the last key ≤ `k`; below the first key, the first value.
pub fn table_at_or_before(table: &[(i64, i64)], k: i64) -> Option<i64> {
    table
        .iter()
        .rev()
        .find(|(tk, _)| *tk <= k)
        .or(table.first())
        .map(|(_, v)| *v)
}
