//! Reading and strictly validating the parameter files.
//!
//! Layout under the policy directory:
//! - `regions.toml` — every region: GB/T 2260 code, names, aliases, parent;
//! - `params/*.toml` — one file per region: `region = "330000"` then `[[param]]` entries;
//! - `reforms/*.toml` — one file per reform: `[reform]` then `[[param]]` overrides;
//! - `calendar/*.toml` — the official working-day calendar, one year per file
//!   (`crate::calendar`).
//!
//! Every problem found is reported (not just the first), each with file and line.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use anxin_domain::RegionCode;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::schema::{self, KeySpec};
use crate::value::Value;

/// How sure we are of a value; shown beside it in every trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// An official URL and the original sentence were seen.
    OfficialQuoted,
    /// An official URL and value, without the quoted sentence.
    OfficialUrlOnly,
    /// Only in third-party code or data.
    Secondary,
    /// Arithmetic on sourced numbers.
    Derived,
    /// Not verified against a source: shown as such.
    Unverified,
    /// A modelling assumption of anxin, not a rule.
    Assumption,
    /// A proposal of the source documents (a reform), not law.
    Proposal,
}

impl Confidence {
    pub fn label_zh(self) -> &'static str {
        match self {
            Confidence::OfficialQuoted => "官方原文",
            Confidence::OfficialUrlOnly => "官方网址",
            Confidence::Secondary => "第三方资料",
            Confidence::Derived => "推算",
            Confidence::Unverified => "未核实",
            Confidence::Assumption => "假设",
            Confidence::Proposal => "政策建议",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Confidence::OfficialQuoted => "official, quoted",
            Confidence::OfficialUrlOnly => "official URL",
            Confidence::Secondary => "secondary source",
            Confidence::Derived => "derived",
            Confidence::Unverified => "unverified",
            Confidence::Assumption => "assumption",
            Confidence::Proposal => "proposal",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Document number or title, e.g. "浙人社发〔2024〕61号".
    pub doc: String,
    pub url: Option<String>,
    pub confidence: Confidence,
    pub note: Option<String>,
}

/// One dated value of one parameter.
#[derive(Clone, Debug)]
pub struct Entry {
    pub from: Date,
    pub until: Option<Date>,
    pub value: Value,
    pub source: Source,
    pub file: String,
    pub line: usize,
}

impl Entry {
    pub fn in_force(&self, date: Date) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Region {
    pub code: RegionCode,
    pub name_zh: String,
    pub name_en: String,
    pub parent: Option<RegionCode>,
    pub aliases: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Reform {
    pub name: String,
    pub title_zh: String,
    pub title_en: String,
    pub summary_zh: String,
    pub summary_en: String,
    pub source: Source,
    /// Regions where the reform may be applied (each with all its sub-regions).
    pub regions: Vec<RegionCode>,
    pub from: Date,
    pub params: HashMap<&'static str, Vec<Entry>>,
}

/// All parameters, regions and reforms, validated.
#[derive(Debug)]
pub struct Policy {
    pub regions: BTreeMap<RegionCode, Region>,
    pub(crate) aliases: HashMap<String, RegionCode>,
    pub(crate) params: HashMap<(RegionCode, &'static str), Vec<Entry>>,
    pub reforms: BTreeMap<String, Reform>,
    /// The official working-day calendar (`calendar/*.toml`).
    pub calendar: crate::calendar::Calendar,
}

/// A problem in a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    region: Vec<Spanned<RawRegion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    code: String,
    name_zh: String,
    name_en: String,
    parent: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamFile {
    region: Spanned<String>,
    #[serde(default)]
    param: Vec<Spanned<RawParam>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    key: String,
    unit: String,
    from: Option<toml::Value>,
    until: Option<toml::Value>,
    value: toml::Value,
    source: Option<String>,
    url: Option<String>,
    confidence: Option<Confidence>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReformFile {
    reform: Spanned<RawReform>,
    #[serde(default)]
    param: Vec<Spanned<RawParam>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReform {
    name: String,
    title_zh: String,
    title_en: String,
    summary_zh: String,
    summary_en: String,
    source: String,
    url: Option<String>,
    note: Option<String>,
    regions: Vec<String>,
    from: toml::Value,
}

/// Upper bound on how many policy files one load reads, and on each file's size: a policy
/// directory is hand-written data, so anything larger is a mistake, not a workload.
const MAX_FILES: usize = 10_000;
const MAX_FILE_BYTES: usize = 4 << 20;

struct Loader {
    errors: Vec<LoadError>,
}

impl Loader {
    fn err(&mut self, file: &str, text: &str, offset: usize, message: impl Into<String>) {
        self.errors.push(LoadError {
            file: file.to_string(),
            line: line_of(text, offset),
            message: message.into(),
        });
    }
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn toml_error_line(text: &str, e: &toml::de::Error) -> usize {
    e.span().map(|s| line_of(text, s.start)).unwrap_or(1)
}

/// Parses a whole file, recording a syntax or shape error with its line.
fn parse_toml<T: serde::de::DeserializeOwned>(l: &mut Loader, name: &str, text: &str) -> Option<T> {
    toml::from_str(text)
        .map_err(|e| {
            l.errors.push(LoadError {
                file: name.into(),
                line: toml_error_line(text, &e),
                message: e.message().to_string(),
            })
        })
        .ok()
}

fn parse_date(v: &toml::Value) -> Result<Date, String> {
    let s = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => return Err(format!("expected a date YYYY-MM-DD, found {other}")),
    };
    s.parse::<Date>()
        .map_err(|_| format!("'{s}' is not a date: write YYYY-MM-DD, e.g. 2025-07-01"))
}

impl Policy {
    /// Loads from a directory on disk (`regions.toml`, `params/`, `reforms/`).
    pub fn load_dir(dir: &Path) -> Result<Policy, Vec<LoadError>> {
        let mut files = Vec::new();
        let io_err = |p: &Path, e: std::io::Error| {
            vec![LoadError {
                file: p.display().to_string(),
                line: 0,
                message: format!("cannot read: {e}"),
            }]
        };
        let regions = dir.join("regions.toml");
        files.push((
            "regions.toml".to_string(),
            std::fs::read_to_string(&regions).map_err(|e| io_err(&regions, e))?,
        ));
        for sub in ["params", "reforms", "calendar"] {
            let d = dir.join(sub);
            // The calendar is optional: without it every working-day count is refused.
            if sub == "calendar" && !d.is_dir() {
                continue;
            }
            let mut names: Vec<_> = std::fs::read_dir(&d)
                .map_err(|e| io_err(&d, e))?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            names.sort();
            for p in names {
                if files.len() >= MAX_FILES {
                    return Err(vec![LoadError {
                        file: d.display().to_string(),
                        line: 0,
                        message: format!("more than {MAX_FILES} files"),
                    }]);
                }
                let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
                let rel = format!(
                    "{sub}/{}",
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                );
                files.push((rel, text));
            }
        }
        Policy::load_files(&files)
    }

    /// The policy files compiled into the binary, so that anxin runs anywhere with no set-up.
    pub fn embedded() -> Result<Policy, Vec<LoadError>> {
        let files: Vec<(String, String)> = crate::EMBEDDED
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        Policy::load_files(&files)
    }

    /// Loads from (relative path, contents) pairs: `regions.toml`, `params/…`, `reforms/…`.
    pub fn load_files(files: &[(String, String)]) -> Result<Policy, Vec<LoadError>> {
        let mut l = Loader { errors: Vec::new() };
        let mut policy = Policy {
            regions: BTreeMap::new(),
            aliases: HashMap::new(),
            params: HashMap::new(),
            reforms: BTreeMap::new(),
            calendar: Default::default(),
        };
        for (name, text) in files {
            if text.len() > MAX_FILE_BYTES {
                l.err(
                    name,
                    text,
                    0,
                    format!("file larger than {MAX_FILE_BYTES} bytes"),
                );
            }
        }
        if !l.errors.is_empty() {
            return Err(l.errors);
        }
        match files.iter().find(|(n, _)| n == "regions.toml") {
            Some((name, text)) => load_regions(&mut l, &mut policy, name, text),
            None => l.errors.push(LoadError {
                file: "regions.toml".into(),
                line: 0,
                message: "missing: every policy directory needs regions.toml".into(),
            }),
        }
        for (name, text) in files.iter().filter(|(n, _)| n.starts_with("params/")) {
            load_params(&mut l, &mut policy, name, text);
        }
        for (name, text) in files.iter().filter(|(n, _)| n.starts_with("reforms/")) {
            load_reform(&mut l, &mut policy, name, text);
        }
        policy.calendar = crate::calendar::load(files, &mut l.errors);
        for (key, entries) in &policy.params {
            check_order(&mut l, &format!("{} in region {}", key.1, key.0), entries);
        }
        for reform in policy.reforms.values() {
            for (key, entries) in &reform.params {
                check_order(&mut l, &format!("{key} in reform {}", reform.name), entries);
            }
        }
        if l.errors.is_empty() {
            Ok(policy)
        } else {
            Err(l.errors)
        }
    }
}

fn load_regions(l: &mut Loader, p: &mut Policy, name: &str, text: &str) {
    let Some(file) = parse_toml::<RegionsFile>(l, name, text) else {
        return;
    };
    for sr in &file.region {
        let at = sr.span().start;
        let r = sr.get_ref();
        let code = match RegionCode::parse(&r.code) {
            Ok(c) => c,
            Err(e) => {
                l.err(name, text, at, e.to_string());
                continue;
            }
        };
        let parent = match (&r.parent, code.is_national()) {
            (None, true) => None,
            (Some(_), true) => {
                l.err(name, text, at, "the national level (000000) has no parent");
                None
            }
            (None, false) => {
                l.err(name, text, at, format!("region {} has no parent: name one (its province, or 000000 for a province)", r.code));
                None
            }
            (Some(ps), false) => match RegionCode::parse(ps) {
                Ok(pc) => Some(pc),
                Err(e) => {
                    l.err(name, text, at, e.to_string());
                    None
                }
            },
        };
        if p.regions.contains_key(&code) {
            l.err(name, text, at, format!("region {code} is listed twice"));
            continue;
        }
        let mut names = vec![r.code.clone(), r.name_zh.clone(), r.name_en.to_lowercase()];
        names.extend(r.aliases.iter().map(|a| a.to_lowercase()));
        for alias in names {
            if let Some(other) = p.aliases.insert(alias.clone(), code)
                && other != code
            {
                l.err(
                    name,
                    text,
                    at,
                    format!("alias '{alias}' names both {other} and {code}"),
                );
            }
        }
        p.regions.insert(
            code,
            Region {
                code,
                name_zh: r.name_zh.clone(),
                name_en: r.name_en.clone(),
                parent,
                aliases: r.aliases.clone(),
            },
        );
    }
    // Every parent must exist, and the chain must end at the national level without cycles.
    let codes: Vec<RegionCode> = p.regions.keys().copied().collect();
    for code in codes {
        let mut cur = code;
        let mut hops = 0;
        while let Some(parent) = p.regions.get(&cur).and_then(|r| r.parent) {
            if !p.regions.contains_key(&parent) {
                l.errors.push(LoadError {
                    file: name.into(),
                    line: 0,
                    message: format!("region {cur} names parent {parent}, which is not listed"),
                });
                break;
            }
            cur = parent;
            hops += 1;
            if hops > 8 {
                l.errors.push(LoadError {
                    file: name.into(),
                    line: 0,
                    message: format!("region {code}: the parent chain loops"),
                });
                break;
            }
        }
    }
    if !p.regions.contains_key(&RegionCode::NATIONAL) {
        l.errors.push(LoadError {
            file: name.into(),
            line: 0,
            message: "the national level 000000 must be listed".into(),
        });
    }
}

fn parse_entry(
    l: &mut Loader,
    name: &str,
    text: &str,
    sp: &Spanned<RawParam>,
    default_from: Option<Date>,
) -> Option<(&'static KeySpec, Entry)> {
    let at = sp.span().start;
    let raw = sp.get_ref();
    let Some(spec) = schema::spec(&raw.key) else {
        let hint = schema::closest(&raw.key)
            .map(|k| format!(" (did you mean '{k}'?)"))
            .unwrap_or_default();
        l.err(name, text, at, format!("unknown parameter '{}'{hint}; the known ones are listed in crates/policy/src/schema.rs", raw.key));
        return None;
    };
    let mut ok = true;
    if raw.unit != spec.unit {
        l.err(
            name,
            text,
            at,
            format!(
                "parameter {} has unit '{}', expected '{}'",
                raw.key, raw.unit, spec.unit
            ),
        );
        ok = false;
    }
    let source = raw.source.as_deref().map(str::trim).unwrap_or("");
    if source.is_empty() {
        l.err(
            name,
            text,
            at,
            format!(
                "parameter {} has no source: give the document number or title (source = \"…\")",
                raw.key
            ),
        );
        ok = false;
    }
    let Some(confidence) = raw.confidence else {
        l.err(name, text, at, format!("parameter {} has no confidence: one of official-quoted, official-url-only, secondary, derived, unverified, assumption, proposal", raw.key));
        return None;
    };
    if matches!(
        confidence,
        Confidence::OfficialQuoted | Confidence::OfficialUrlOnly
    ) && raw.url.is_none()
    {
        l.err(
            name,
            text,
            at,
            format!(
                "parameter {} is marked {} but has no url",
                raw.key,
                confidence.label_en()
            ),
        );
        ok = false;
    }
    let from = match (&raw.from, default_from) {
        (Some(v), _) => match parse_date(v) {
            Ok(d) => Some(d),
            Err(e) => {
                l.err(name, text, at, format!("parameter {}: from: {e}", raw.key));
                None
            }
        },
        (None, Some(d)) => Some(d),
        (None, None) => {
            l.err(
                name,
                text,
                at,
                format!(
                    "parameter {} has no date it takes effect (from = 2025-01-01)",
                    raw.key
                ),
            );
            None
        }
    };
    let until = match &raw.until {
        Some(v) => match parse_date(v) {
            Ok(d) => Some(d),
            Err(e) => {
                l.err(name, text, at, format!("parameter {}: until: {e}", raw.key));
                ok = false;
                None
            }
        },
        None => None,
    };
    let value = match Value::from_toml(spec.kind, &raw.value) {
        Ok(v) => Some(v),
        Err(e) => {
            l.err(
                name,
                text,
                at,
                format!("parameter {} ({}): {e}", raw.key, spec.unit),
            );
            None
        }
    };
    let (Some(from), Some(value)) = (from, value) else {
        return None;
    };
    if until.is_some_and(|u| u <= from) {
        l.err(
            name,
            text,
            at,
            format!("parameter {}: until must come after from", raw.key),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    Some((
        spec,
        Entry {
            from,
            until,
            value,
            source: Source {
                doc: source.to_string(),
                url: raw.url.clone(),
                confidence,
                note: raw.note.clone(),
            },
            file: name.to_string(),
            line: line_of(text, at),
        },
    ))
}

fn load_params(l: &mut Loader, p: &mut Policy, name: &str, text: &str) {
    let Some(file) = parse_toml::<ParamFile>(l, name, text) else {
        return;
    };
    let region = match RegionCode::parse(file.region.get_ref()) {
        Ok(c) if p.regions.contains_key(&c) => c,
        Ok(c) => {
            l.err(
                name,
                text,
                file.region.span().start,
                format!("region {c} is not listed in regions.toml"),
            );
            return;
        }
        Err(e) => {
            l.err(name, text, file.region.span().start, e.to_string());
            return;
        }
    };
    for sp in &file.param {
        if let Some((spec, entry)) = parse_entry(l, name, text, sp, None) {
            p.params.entry((region, spec.key)).or_default().push(entry);
        }
    }
}

fn load_reform(l: &mut Loader, p: &mut Policy, name: &str, text: &str) {
    let Some(file) = parse_toml::<ReformFile>(l, name, text) else {
        return;
    };
    let at = file.reform.span().start;
    let r = file.reform.get_ref();
    let from = match parse_date(&r.from) {
        Ok(d) => d,
        Err(e) => {
            l.err(name, text, at, format!("reform {}: from: {e}", r.name));
            return;
        }
    };
    let valid_name = !r.name.is_empty()
        && r.name.len() <= 64
        && r.name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid_name {
        l.err(
            name,
            text,
            at,
            format!(
                "reform name '{}' must be lowercase letters, digits and '-'",
                r.name
            ),
        );
        return;
    }
    let mut regions = Vec::new();
    for rc in &r.regions {
        match RegionCode::parse(rc) {
            Ok(c) if p.regions.contains_key(&c) => regions.push(c),
            Ok(c) => l.err(
                name,
                text,
                at,
                format!(
                    "reform {}: region {c} is not listed in regions.toml",
                    r.name
                ),
            ),
            Err(e) => l.err(name, text, at, e.to_string()),
        }
    }
    if r.regions.is_empty() {
        l.err(
            name,
            text,
            at,
            format!(
                "reform {} names no region: list where it may apply (000000 for everywhere)",
                r.name
            ),
        );
    }
    let mut params: HashMap<&'static str, Vec<Entry>> = HashMap::new();
    for sp in &file.param {
        if let Some((spec, entry)) = parse_entry(l, name, text, sp, Some(from)) {
            if entry.from < from {
                l.err(
                    name,
                    text,
                    sp.span().start,
                    format!(
                        "parameter {} takes effect before the reform itself ({from})",
                        spec.key
                    ),
                );
                continue;
            }
            params.entry(spec.key).or_default().push(entry);
        }
    }
    if p.reforms.contains_key(&r.name) {
        l.err(
            name,
            text,
            at,
            format!("reform {} is defined twice", r.name),
        );
        return;
    }
    p.reforms.insert(
        r.name.clone(),
        Reform {
            name: r.name.clone(),
            title_zh: r.title_zh.clone(),
            title_en: r.title_en.clone(),
            summary_zh: r.summary_zh.clone(),
            summary_en: r.summary_en.clone(),
            source: Source {
                doc: r.source.clone(),
                url: r.url.clone(),
                confidence: Confidence::Proposal,
                note: r.note.clone(),
            },
            regions,
            from,
            params,
        },
    );
}

/// Entries of one parameter in one region must be in date order without overlap.
fn check_order(l: &mut Loader, what: &str, entries: &[Entry]) {
    for w in entries.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if b.from <= a.from {
            l.errors.push(LoadError {
                file: b.file.clone(),
                line: b.line,
                message: format!(
                    "{what}: dates out of order or repeated: {} does not come after {} (line {})",
                    b.from, a.from, a.line
                ),
            });
        } else if a.until.is_some_and(|u| u > b.from) {
            l.errors.push(LoadError {
                file: b.file.clone(),
                line: b.line,
                message: format!(
                    "{what}: overlaps the value of line {} which runs until {}",
                    a.line,
                    a.until.map(|d| d.to_string()).unwrap_or_default()
                ),
            });
        }
    }
}
