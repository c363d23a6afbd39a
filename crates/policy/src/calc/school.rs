//! S1 — school admission review of a migrant child's guardian: does the family meet the
//! city's social-insurance condition for the application month, and if not, what is missing
//! and from when it could be met.
//!
//! The rule is data (`school.*`): the law-in-force shape is "N continuous months including the
//! application month" (`continuous`); the reform the seed proposes is "cumulative first,
//! continuous second, with grace for gaps caused by childbirth, care, illness, unemployment or
//! a platform's rule change" (`cumulative-first`), plus a hardship channel. No city's real
//! numbers were found (reference §7): the shipped values are marked as examples.
//!
//! Like the other calculators it runs in three steps: [`SchoolParams::resolve`] reads every
//! parameter once from the scope into a typed struct, [`compute`] is a pure function of those
//! parameters and the request ([`SchoolAsk`]), and [`explain`] builds the result and its trace
//! from both. [`rank`] resolves once and computes every application against the same
//! parameters.
//!
//! The request's codes are typed ([`Insurance`], [`Status`], [`GapReason`], [`ProofKind`]) and
//! written in JSON as their snake_case code; an unknown code is refused while the request is
//! read, naming the codes allowed.

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::YearMonth;
use anxin_domain::codes::{Code, GapReason, Insurance, ProofKind, Status};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::{Key, param};
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;

/// Most months one request may list: fifty years of five insurances.
const MAX_MONTHS: usize = 3_000;
/// How far ahead "the earliest month it could be met" is searched.
const HORIZON_MONTHS: i32 = 120;
/// Most proofs one request may list.
const MAX_PROOFS: usize = 20;

// ---------------------------------------------------------------------------------------
// The request

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchoolRequest {
    /// The city where the child applies.
    pub region: String,
    /// The application month (default: this month).
    pub month: Option<YearMonth>,
    /// The guardian holds a residence permit in the city …
    pub permit: bool,
    /// … since this month (for new-citizen points).
    pub permit_since: Option<YearMonth>,
    /// The family is in hardship (low income, single parent, several children).
    pub hardship: bool,
    pub reforms: Vec<String>,
    /// The guardian's months, as the ledger records them.
    pub months: Vec<MonthRecord>,
    /// Shorthand: pension paid every month from the first to the second (inclusive).
    pub paid_ranges: Vec<(YearMonth, YearMonth)>,
    /// Other proofs of stable residence or work the family shows (see [`ProofKind`]).
    pub proofs: Vec<Proof>,
}

/// A proof kind's name in Chinese and English.
pub fn proof_name(kind: ProofKind) -> (&'static str, &'static str) {
    let en = match kind {
        ProofKind::BusinessLicence => "business licence",
        ProofKind::LabourContract => "labour contract",
        ProofKind::TaxRecords => "tax records",
        ProofKind::PlatformOrders => "platform order records",
        ProofKind::CommunityResidence => "community residence proof",
    };
    (kind.zh(), en)
}

/// The parameters of a proof kind: the months it stands for, and the fewest months it must
/// show.
fn proof_keys(kind: ProofKind) -> (Key, Key) {
    match kind {
        ProofKind::BusinessLicence => (
            param::SCHOOL_PROOF_BUSINESS_LICENCE_MONTHS,
            param::SCHOOL_PROOF_BUSINESS_LICENCE_MIN_MONTHS,
        ),
        ProofKind::LabourContract => (
            param::SCHOOL_PROOF_LABOUR_CONTRACT_MONTHS,
            param::SCHOOL_PROOF_LABOUR_CONTRACT_MIN_MONTHS,
        ),
        ProofKind::TaxRecords => (
            param::SCHOOL_PROOF_TAX_RECORDS_MONTHS,
            param::SCHOOL_PROOF_TAX_RECORDS_MIN_MONTHS,
        ),
        ProofKind::PlatformOrders => (
            param::SCHOOL_PROOF_PLATFORM_ORDERS_MONTHS,
            param::SCHOOL_PROOF_PLATFORM_ORDERS_MIN_MONTHS,
        ),
        ProofKind::CommunityResidence => (
            param::SCHOOL_PROOF_COMMUNITY_RESIDENCE_MONTHS,
            param::SCHOOL_PROOF_COMMUNITY_RESIDENCE_MIN_MONTHS,
        ),
    }
}

/// The grace parameter of a gap reason (`other` has none: no grace).
fn grace_key(reason: GapReason) -> Option<Key> {
    match reason {
        GapReason::Childbirth => Some(param::SCHOOL_GRACE_CHILDBIRTH),
        GapReason::Care => Some(param::SCHOOL_GRACE_CARE),
        GapReason::Illness => Some(param::SCHOOL_GRACE_ILLNESS),
        GapReason::Unemployment => Some(param::SCHOOL_GRACE_UNEMPLOYMENT),
        GapReason::PlatformRule => Some(param::SCHOOL_GRACE_PLATFORM_RULE),
        GapReason::Other => None,
    }
}

/// The extra new-citizen points per month paid of an insurance beyond those that count for
/// admission (`school.points.extra.<insurance>`; pension has none).
fn extra_points_key(insurance: Insurance) -> Option<Key> {
    match insurance {
        Insurance::Pension => None,
        Insurance::Medical => Some(param::SCHOOL_POINTS_EXTRA_MEDICAL),
        Insurance::Unemployment => Some(param::SCHOOL_POINTS_EXTRA_UNEMPLOYMENT),
        Insurance::Injury => Some(param::SCHOOL_POINTS_EXTRA_INJURY),
        Insurance::Maternity => Some(param::SCHOOL_POINTS_EXTRA_MATERNITY),
    }
}

/// Refuses a proof kind anxin does not know, naming the allowed ones; accepts the code, its
/// Chinese name or a synonym (as import files and the command line write them).
pub fn check_proof_kind(kind: &str) -> Result<ProofKind> {
    ProofKind::parse(kind).ok_or_else(|| unknown_proof(kind))
}

fn unknown_proof(kind: &str) -> Error {
    let zh: Vec<String> = ProofKind::ALL
        .iter()
        .map(|k| format!("{}（{}）", k.as_str(), proof_name(*k).0))
        .collect();
    let en: Vec<String> = ProofKind::ALL
        .iter()
        .map(|k| format!("{} ({})", k.as_str(), proof_name(*k).1))
        .collect();
    Error::bad_input(
        format!("未知的证明材料“{kind}”：可用 {}", zh.join("、")),
        format!("unknown proof '{kind}': use {}", en.join(", ")),
    )
}

/// Refuses a code of a month record anxin does not know, naming the allowed codes.
fn unknown_code<C: Code>(what_zh: &str, what_en: &str, month: YearMonth, text: &str) -> Error {
    let codes: Vec<&str> = C::ALL.iter().map(|c| c.as_str()).collect();
    Error::bad_input(
        format!(
            "{month} 的{what_zh}“{text}”不认识：可用 {}",
            C::ALL
                .iter()
                .map(|c| format!("{}（{}）", c.as_str(), c.zh()))
                .collect::<Vec<_>>()
                .join("、")
        ),
        format!(
            "unknown {what_en} '{text}' in {month}: use {}",
            codes.join(", ")
        ),
    )
}

/// A proof shown: its kind and, if the document says so, the month it starts from (licence
/// registered, contract signed, first tax or order month, residence certified). Without
/// `since` the office has checked that it shows the months the city requires. Written as a
/// bare kind (`"labour_contract"`) or as `{ kind, since }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProofIn")]
pub struct Proof {
    pub kind: ProofKind,
    pub since: Option<YearMonth>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProofIn {
    Kind(String),
    Full(ProofFull),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofFull {
    kind: String,
    #[serde(default)]
    since: Option<YearMonth>,
}

impl TryFrom<ProofIn> for Proof {
    type Error = Error;
    fn try_from(p: ProofIn) -> Result<Proof> {
        let (kind, since) = match p {
            ProofIn::Kind(kind) => (kind, None),
            ProofIn::Full(f) => (f.kind, f.since),
        };
        // Exactly the code, as the request's JSON writes it.
        let kind = ProofKind::from_code(&kind).ok_or_else(|| unknown_proof(&kind))?;
        Ok(Proof { kind, since })
    }
}

/// What a proof was worth in this review.
#[derive(Clone, Debug, Serialize)]
pub struct ProofCounted {
    pub kind: ProofKind,
    /// Months of the condition it stands for (0: not counted), ending at the application month.
    pub months: u32,
    pub note: Note,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MonthRecordIn")]
pub struct MonthRecord {
    pub month: YearMonth,
    pub insurance: Insurance,
    /// paid, backpaid, unpaid, deferred or excused.
    pub status: Status,
    /// Why an excused month was not paid: childbirth, care, illness, unemployment,
    /// platform_rule or other.
    pub reason: Option<GapReason>,
    /// Evidence of the reason was shown.
    pub evidence: bool,
}

/// A month record as written in a request, its codes not yet checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthRecordIn {
    month: YearMonth,
    insurance: String,
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    evidence: bool,
}

impl TryFrom<MonthRecordIn> for MonthRecord {
    type Error = Error;
    fn try_from(r: MonthRecordIn) -> Result<MonthRecord> {
        let insurance = Insurance::from_code(&r.insurance)
            .ok_or_else(|| unknown_code::<Insurance>("险种", "insurance", r.month, &r.insurance))?;
        let status = Status::from_code(&r.status)
            .ok_or_else(|| unknown_code::<Status>("缴费状态", "status", r.month, &r.status))?;
        let reason = match r.reason {
            Some(text) => Some(GapReason::from_code(&text).ok_or_else(|| {
                unknown_code::<GapReason>("断缴原因", "gap reason", r.month, &text)
            })?),
            None => None,
        };
        Ok(MonthRecord {
            month: r.month,
            insurance,
            status,
            reason,
            evidence: r.evidence,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ForgivenGap {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
    /// The gap's reasons, joined by "+" in the order of their codes.
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SchoolResult {
    pub region_code: String,
    pub region_zh: String,
    pub month: YearMonth,
    pub rule: String,
    /// eligible, eligible_hardship or not_yet.
    pub decision: &'static str,
    pub continuous_months: u32,
    pub cumulative_months: u32,
    pub required_continuous: i64,
    pub required_cumulative: i64,
    /// The residence-permit condition holds (held, or not required).
    pub permit_met: bool,
    pub forgiven: Vec<ForgivenGap>,
    /// The other proofs shown and what each was worth.
    pub proofs: Vec<ProofCounted>,
    /// Months up to the application month that count only thanks to a proof (not paid).
    pub proof_months: u32,
    /// What is missing, in both languages.
    pub missing: Vec<Note>,
    /// The first month the condition could be met if the guardian pays every month from now.
    pub earliest_month: Option<YearMonth>,
    /// New-citizen points: months paid in the city and years of residence permit.
    pub points: i64,
    pub points_from_months: i64,
    pub points_from_permit: i64,
    /// Extra points for months paid of other insurances (medical, unemployment, …).
    pub points_from_insurances: i64,
    pub trace: Trace,
}

// ---------------------------------------------------------------------------------------
// Resolve: every parameter the review reads, once.

/// How a city reviews the months (`school.rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// N continuous months including the application month.
    Continuous,
    /// Cumulative months in a window first, continuous months second.
    CumulativeFirst,
}

/// What a proof kind is worth in a city.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofWorth {
    /// Most months of the condition it stands for, counted back from the application month
    /// (0 or less: not accepted).
    pub months: i64,
    /// Fewest months it must show when it says from when.
    pub min_months: i64,
}

/// New-citizen points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointRule {
    pub per_month: i64,
    pub max_months: i64,
    pub per_permit_year: i64,
    pub max_permit_years: i64,
    /// Extra points per month paid of the other insurances, in code order.
    pub extra: Vec<(Insurance, i64)>,
}

/// Everything the school review needs from a city at a month under some reforms, resolved
/// once from the scope.
#[derive(Clone, Debug)]
pub struct SchoolParams {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    /// The rule as written in the parameter files (`continuous`, `cumulative-first`).
    pub rule_word: String,
    pub rule: Rule,
    pub permit_required: bool,
    /// The insurances whose months count, as the parameter lists them.
    pub insurances: Vec<Insurance>,
    pub continuous_months: i64,
    pub cumulative_months: i64,
    pub lookback_months: i64,
    pub hardship_channel: bool,
    /// Months of grace per gap reason (`other`: none).
    pub grace: Vec<(GapReason, i64)>,
    pub proofs: Vec<(ProofKind, ProofWorth)>,
    pub points: PointRule,
    /// Where each value came from, for the explanation.
    refs: BTreeMap<Key, ParamRef>,
}

impl SchoolParams {
    pub fn resolve(scope: &Scope) -> Result<SchoolParams> {
        let mut refs = BTreeMap::new();
        let mut int = |key: Key| -> Result<i64> {
            let (v, r) = scope.int(key)?;
            refs.insert(key, r);
            Ok(v)
        };
        let continuous_months = int(param::SCHOOL_CONTINUOUS_MONTHS)?;
        let cumulative_months = int(param::SCHOOL_CUMULATIVE_MONTHS)?;
        let lookback_months = int(param::SCHOOL_LOOKBACK_MONTHS)?;
        let mut grace = Vec::new();
        for &reason in GapReason::ALL {
            if let Some(key) = grace_key(reason) {
                grace.push((reason, int(key)?));
            }
        }
        let mut proofs = Vec::new();
        for &kind in ProofKind::ALL {
            let (months_key, min_key) = proof_keys(kind);
            let months = int(months_key)?;
            let min_months = int(min_key)?;
            proofs.push((kind, ProofWorth { months, min_months }));
        }
        let per_month = int(param::SCHOOL_POINTS_PER_MONTH)?;
        let max_months = int(param::SCHOOL_POINTS_MAX_MONTHS)?;
        let per_permit_year = int(param::SCHOOL_POINTS_PER_PERMIT_YEAR)?;
        let max_permit_years = int(param::SCHOOL_POINTS_MAX_PERMIT_YEARS)?;
        let mut extra = Vec::new();
        for &insurance in Insurance::ALL {
            if let Some(key) = extra_points_key(insurance) {
                extra.push((insurance, int(key)?));
            }
        }
        let (rule_word, r) = scope.word(param::SCHOOL_RULE)?;
        refs.insert(param::SCHOOL_RULE, r);
        let (permit_required, r) = scope.flag(param::SCHOOL_PERMIT_REQUIRED)?;
        refs.insert(param::SCHOOL_PERMIT_REQUIRED, r);
        let (insurances, r) = scope.set(param::SCHOOL_INSURANCES)?;
        refs.insert(param::SCHOOL_INSURANCES, r);
        let (hardship_channel, r) = scope.flag(param::SCHOOL_HARDSHIP_CHANNEL)?;
        refs.insert(param::SCHOOL_HARDSHIP_CHANNEL, r);
        Ok(SchoolParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            rule: if rule_word == "continuous" {
                Rule::Continuous
            } else {
                Rule::CumulativeFirst
            },
            rule_word,
            permit_required,
            // The schema checks the set against the insurance codes.
            insurances: insurances
                .iter()
                .filter_map(|i| Insurance::from_code(i))
                .collect(),
            continuous_months,
            cumulative_months,
            lookback_months,
            hardship_channel,
            grace,
            proofs,
            points: PointRule {
                per_month,
                max_months,
                per_permit_year,
                max_permit_years,
                extra,
            },
            refs,
        })
    }

    /// Months of grace a gap of this reason gets (`other`: none).
    pub fn grace(&self, reason: GapReason) -> i64 {
        self.grace
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, g)| *g)
    }

    pub fn proof(&self, kind: ProofKind) -> ProofWorth {
        self.proofs
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(ProofWorth::default_refused(), |(_, w)| *w)
    }

    /// Whether these continuous and cumulative months meet the rule.
    pub fn meets(&self, continuous: u32, cumulative: u32) -> bool {
        match self.rule {
            Rule::Continuous => continuous as i64 >= self.continuous_months,
            Rule::CumulativeFirst => {
                cumulative as i64 >= self.cumulative_months
                    && continuous as i64 >= self.continuous_months
            }
        }
    }

    /// The sources of these parameters, for a step of the explanation.
    fn refs(&self, keys: impl IntoIterator<Item = Key>) -> Vec<ParamRef> {
        keys.into_iter()
            .filter_map(|k| self.refs.get(&k).cloned())
            .collect()
    }
}

impl ProofWorth {
    fn default_refused() -> ProofWorth {
        ProofWorth {
            months: 0,
            min_months: 0,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The request, checked: what compute reads.

/// A school request checked and with its paid ranges spelt out as month records.
#[derive(Clone, Debug)]
pub struct SchoolAsk {
    pub month: YearMonth,
    pub permit: bool,
    pub permit_since: Option<YearMonth>,
    pub hardship: bool,
    pub records: Vec<MonthRecord>,
    pub proofs: Vec<Proof>,
}

impl SchoolAsk {
    pub fn of(req: &SchoolRequest, today: YearMonth) -> Result<SchoolAsk> {
        SchoolAsk::new(
            req.month.unwrap_or(today),
            req.permit,
            req.permit_since,
            req.hardship,
            &req.months,
            &req.paid_ranges,
            &req.proofs,
        )
    }

    fn application(a: &Application, month: YearMonth) -> Result<SchoolAsk> {
        SchoolAsk::new(
            month,
            a.permit,
            a.permit_since,
            a.hardship,
            &a.months,
            &a.paid_ranges,
            &a.proofs,
        )
    }

    fn new(
        month: YearMonth,
        permit: bool,
        permit_since: Option<YearMonth>,
        hardship: bool,
        months: &[MonthRecord],
        paid_ranges: &[(YearMonth, YearMonth)],
        proofs: &[Proof],
    ) -> Result<SchoolAsk> {
        let too_many = || {
            Error::bad_input(
                format!("一次最多 {MAX_MONTHS} 条月份记录"),
                format!("at most {MAX_MONTHS} month records at once"),
            )
        };
        if months.len() > MAX_MONTHS {
            return Err(too_many());
        }
        if proofs.len() > MAX_PROOFS {
            return Err(Error::bad_input(
                format!("一次最多 {MAX_PROOFS} 份证明材料"),
                format!("at most {MAX_PROOFS} proofs at once"),
            ));
        }
        let mut records = months.to_vec();
        for (from, to) in paid_ranges {
            if to < from || from.months_until(*to) as usize >= MAX_MONTHS {
                return Err(Error::bad_input(
                    format!(
                        "缴费区间 {from} 到 {to} 不对：起月不能晚于止月，且最多 {MAX_MONTHS} 个月"
                    ),
                    format!(
                        "paid range {from} to {to} is wrong: the first month must not be after the last, at most {MAX_MONTHS} months"
                    ),
                ));
            }
            // Counted, not stepped until `to`: `plus` stops at the last month anxin knows.
            for k in 0..=from.months_until(*to) {
                records.push(MonthRecord {
                    month: from.plus(k),
                    insurance: Insurance::Pension,
                    status: Status::Paid,
                    reason: None,
                    evidence: false,
                });
            }
        }
        if records.len() > MAX_MONTHS {
            return Err(too_many());
        }
        Ok(SchoolAsk {
            month,
            permit,
            permit_since,
            hardship,
            records,
            proofs: proofs.to_vec(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Compute: a pure function of the parameters and the request.

/// The outcome of the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Eligible,
    /// Admitted by the hardship channel whatever the contributions.
    EligibleHardship,
    NotYet,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Eligible => "eligible",
            Decision::EligibleHardship => "eligible_hardship",
            Decision::NotYet => "not_yet",
        }
    }
}

/// What one proof was worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofFigure {
    pub kind: ProofKind,
    pub worth: ProofWorth,
    /// Months the document shows up to the application month, if it says from when.
    pub shown: Option<i64>,
    /// Months it counts for, ending at the application month.
    pub counted: i64,
}

/// A run of excused months between shown months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
    /// Its reasons, in the order of their codes.
    pub reasons: Vec<GapReason>,
    pub evidenced: bool,
    /// The smallest grace of its reasons.
    pub allowed: i64,
    pub forgiven: bool,
}

impl Gap {
    fn reason_text(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// Extra points earned by the months paid of one insurance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraPoints {
    pub insurance: Insurance,
    pub months: i64,
    pub per_month: i64,
}

/// Every figure of a review, before it is explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolFigures {
    pub proofs: Vec<ProofFigure>,
    /// Months up to the application month that count only thanks to a proof.
    pub proof_months: u32,
    /// The runs of excused months, in month order.
    pub gaps: Vec<Gap>,
    pub continuous: u32,
    pub cumulative: u32,
    pub permit_ok: bool,
    pub contributions_ok: bool,
    pub decision: Decision,
    pub earliest_month: Option<YearMonth>,
    /// Whether the application month itself is paid (or stood for by a proof).
    pub month_paid: bool,
    /// When the application month is not paid: the unbroken run that ends the month before
    /// (its last month and length), so the words do not say only "0 continuous months".
    pub run_before: Option<(YearMonth, u32)>,
    /// Continuous and cumulative months still to pay from the application month on before
    /// the condition is met (`None`: that condition already holds). Counted to the first
    /// month that meets it, so "N more months" and the earliest month always agree.
    pub continuous_short: Option<i64>,
    pub cumulative_short: Option<i64>,
    /// Months paid of the insurances that count, up to the application month.
    pub all_paid: i64,
    pub permit_years: i64,
    pub points_from_months: i64,
    pub points_from_permit: i64,
    pub extra: Vec<ExtraPoints>,
    pub points_from_insurances: i64,
    pub points: i64,
}

/// A gap's reasons in Chinese ("生育、照护"), for the Chinese explanation.
fn reasons_zh(g: &Gap) -> String {
    g.reasons
        .iter()
        .map(|r| r.zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// Continuous paid months ending at `at` (which must be paid), bridging forgiven gaps.
fn run_ending(paid: &BTreeSet<i32>, forgiven: &BTreeSet<i32>, at: i32) -> u32 {
    if !paid.contains(&at) {
        return 0;
    }
    let mut count = 0;
    let mut m = at;
    while paid.contains(&m) || forgiven.contains(&m) {
        if paid.contains(&m) {
            count += 1;
        }
        m -= 1;
    }
    count
}

/// Months in `paid` among the `lookback` months ending at `at`.
fn window_count(paid: &BTreeSet<i32>, at: i32, lookback: i64) -> u32 {
    let lookback = lookback.clamp(0, i32::MAX as i64) as i32;
    let from = at.saturating_sub(lookback).saturating_add(1);
    if from > at {
        return 0;
    }
    paid.range(from..=at).count() as u32
}

/// The review of one guardian: which months count, what the proofs are worth, which gaps
/// are forgiven, the decision, the earliest month and the points.
pub fn compute(p: &SchoolParams, ask: &SchoolAsk) -> SchoolFigures {
    let month = ask.month;
    let a = month.index();
    // Months that count, and excused months (with reason and evidence), up to the
    // application month.
    let mut paid: BTreeSet<i32> = BTreeSet::new();
    // Months paid of each insurance, counted or not (for points per insurance).
    let mut paid_by_insurance: BTreeMap<Insurance, BTreeSet<i32>> = BTreeMap::new();
    let mut excused: BTreeMap<i32, (GapReason, bool)> = BTreeMap::new();
    for r in &ask.records {
        let m = r.month.index();
        if m <= a && r.status.is_paid() {
            paid_by_insurance.entry(r.insurance).or_default().insert(m);
        }
        if m > a || !p.insurances.contains(&r.insurance) {
            continue;
        }
        match r.status {
            Status::Paid | Status::Backpaid => {
                paid.insert(m);
            }
            Status::Excused => {
                excused.insert(m, (r.reason.unwrap_or(GapReason::Other), r.evidence));
            }
            Status::Unpaid | Status::Deferred => {}
        }
    }
    // Other proofs: each stands for up to N months ending at the application month, if it
    // shows at least the months the city asks for. A month counts once however many proofs
    // cover it; proofs never earn points (those are for months paid).
    let mut proved: BTreeSet<i32> = BTreeSet::new();
    let mut proofs = Vec::with_capacity(ask.proofs.len());
    for proof in &ask.proofs {
        let worth = p.proof(proof.kind);
        let shown = proof.since.map(|since| {
            if since <= month {
                since.months_until(month) as i64 + 1
            } else {
                0
            }
        });
        let counted = if worth.months <= 0 {
            0
        } else {
            match shown {
                Some(n) if n < worth.min_months => 0,
                Some(n) => n.min(worth.months),
                None => worth.months,
            }
        }
        .clamp(0, MAX_MONTHS as i64);
        proved.extend(a - counted as i32 + 1..=a);
        proofs.push(ProofFigure {
            kind: proof.kind,
            worth,
            shown,
            counted,
        });
    }
    let proof_months = proved.iter().filter(|m| !paid.contains(m)).count() as u32;
    // The months that show stable work or residence: paid, or covered by a proof.
    let shown_months: BTreeSet<i32> = paid.union(&proved).copied().collect();
    for m in &shown_months {
        excused.remove(m);
    }

    // Grace: a gap made only of excused months with evidence, no longer than its reason allows.
    let mut forgiven_months: BTreeSet<i32> = BTreeSet::new();
    let mut gaps = Vec::new();
    // Runs of consecutive excused months (the map is ordered by month).
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &m in excused.keys() {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == m => *end = m,
            _ => runs.push((m, m)),
        }
    }
    for (start, end) in runs {
        let mut reasons: Vec<GapReason> = Vec::new();
        let mut evidenced = true;
        for (reason, evidence) in excused.range(start..=end).map(|(_, v)| v) {
            if !reasons.contains(reason) {
                reasons.push(*reason);
            }
            evidenced &= *evidence;
        }
        reasons.sort_by_key(|r| r.as_str());
        let length = (end - start + 1) as i64;
        // A gap with several reasons gets the smallest of their graces.
        let allowed = reasons
            .iter()
            .map(|r| p.grace(*r))
            .min()
            .unwrap_or(i64::MAX);
        let forgiven = evidenced && length <= allowed;
        if forgiven {
            forgiven_months.extend(start..=end);
        }
        let (Some(from), Some(to)) = (YearMonth::from_index(start), YearMonth::from_index(end))
        else {
            continue;
        };
        gaps.push(Gap {
            from,
            to,
            months: length as u32,
            reasons,
            evidenced,
            allowed,
            forgiven,
        });
    }

    let continuous = run_ending(&shown_months, &forgiven_months, a);
    let cumulative = window_count(&shown_months, a, p.lookback_months);
    let permit_ok = !p.permit_required || ask.permit;
    let contributions_ok = p.meets(continuous, cumulative);
    let decision = if permit_ok && contributions_ok {
        Decision::Eligible
    } else if p.hardship_channel && ask.hardship && ask.permit {
        Decision::EligibleHardship
    } else {
        Decision::NotYet
    };
    // The earliest month, paying every month from the application month on.
    let earliest_month = if decision == Decision::NotYet && permit_ok {
        let mut future = shown_months.clone();
        (0..=HORIZON_MONTHS).find_map(|k| {
            let m = a + k;
            future.insert(m);
            p.meets(
                run_ending(&future, &forgiven_months, m),
                window_count(&future, m, p.lookback_months),
            )
            .then(|| YearMonth::from_index(m))
            .flatten()
        })
    } else {
        None
    };
    let month_paid = shown_months.contains(&a);
    let run_before = if month_paid {
        None
    } else {
        let run = run_ending(&shown_months, &forgiven_months, a - 1);
        YearMonth::from_index(a - 1)
            .filter(|_| run > 0)
            .map(|last| (last, run))
    };
    // What is short, as the months still to pay from the application month to the first
    // month that meets each condition (a guardian who paid through last month needs only
    // the application month itself).
    let first_meeting = |ok: &dyn Fn(u32, u32) -> bool| {
        let mut future = shown_months.clone();
        (0..=HORIZON_MONTHS).find_map(|k| {
            let m = a + k;
            future.insert(m);
            ok(
                run_ending(&future, &forgiven_months, m),
                window_count(&future, m, p.lookback_months),
            )
            .then_some(m)
        })
    };
    let to_pay = |until: i32| (a..=until).filter(|m| !shown_months.contains(m)).count() as i64;
    let continuous_short = ((continuous as i64) < p.continuous_months).then(|| {
        first_meeting(&|c, _| c as i64 >= p.continuous_months)
            .map_or(p.continuous_months - continuous as i64, to_pay)
    });
    let cumulative_short =
        (p.rule != Rule::Continuous && (cumulative as i64) < p.cumulative_months).then(|| {
            first_meeting(&|_, c| c as i64 >= p.cumulative_months)
                .map_or(p.cumulative_months - cumulative as i64, to_pay)
        });
    // New-citizen points (also usable for medical access and the citizen card).
    let pts = &p.points;
    let all_paid = paid.len() as i64;
    let points_from_months = pts.per_month.saturating_mul(all_paid.min(pts.max_months));
    let permit_years = match (ask.permit, ask.permit_since) {
        (true, Some(since)) if since <= month => (since.months_until(month) as i64 + 1) / 12,
        _ => 0,
    };
    let points_from_permit = pts
        .per_permit_year
        .saturating_mul(permit_years.min(pts.max_permit_years));
    let mut extra = Vec::new();
    for &(insurance, per_month) in &pts.extra {
        let months = paid_by_insurance
            .get(&insurance)
            .map_or(0, |s| s.len() as i64)
            .min(pts.max_months);
        if per_month > 0 && months > 0 {
            extra.push(ExtraPoints {
                insurance,
                months,
                per_month,
            });
        }
    }
    let points_from_insurances = extra
        .iter()
        .map(|e| e.per_month.saturating_mul(e.months))
        .fold(0i64, i64::saturating_add);
    let points = points_from_months
        .saturating_add(points_from_permit)
        .saturating_add(points_from_insurances);
    SchoolFigures {
        proofs,
        proof_months,
        gaps,
        continuous,
        cumulative,
        permit_ok,
        contributions_ok,
        decision,
        earliest_month,
        month_paid,
        run_before,
        continuous_short,
        cumulative_short,
        all_paid,
        permit_years,
        points_from_months,
        points_from_permit,
        extra,
        points_from_insurances,
        points,
    }
}

// ---------------------------------------------------------------------------------------
// Explain: the result and its trace, from the parameters and the figures.

fn proof_note(p: &SchoolParams, month: YearMonth, f: &ProofFigure) -> Note {
    let (zh, en) = proof_name(f.kind);
    let (worth, need) = (f.worth.months, f.worth.min_months);
    let counted = f.counted;
    if worth <= 0 {
        Note {
            zh: format!("{}不认可{zh}代替缴费", p.region_zh),
            en: format!(
                "{} does not accept a {en} in place of contributions",
                p.region_en
            ),
        }
    } else if counted == 0 {
        let n = f.shown.unwrap_or(0);
        Note {
            zh: format!("{zh}只证明了 {n} 个月，要求至少 {need} 个月：不计"),
            en: format!("{en}: shows only {n} months, at least {need} are required: not counted"),
        }
    } else {
        let first = YearMonth::from_index(month.index() - counted as i32 + 1)
            .map_or_else(String::new, |m| m.to_string());
        Note {
            zh: format!(
                "{zh}可抵 {first} 至 {month} 共 {counted} 个月（最多 {worth} 个月，须证明至少 {need} 个月）"
            ),
            en: format!(
                "{en}: stands for {counted} months, {first} to {month} (at most {worth}; it must show at least {need})"
            ),
        }
    }
}

/// The review's result, with its explanation, built from the parameters, the request and
/// the figures.
pub fn explain(p: &SchoolParams, ask: &SchoolAsk, f: &SchoolFigures) -> SchoolResult {
    let month = ask.month;
    let mut trace = Trace::default();
    let mut proofs = Vec::with_capacity(f.proofs.len());
    for figure in &f.proofs {
        let note = proof_note(p, month, figure);
        let (months_key, min_key) = proof_keys(figure.kind);
        trace.step(
            note.zh.clone(),
            note.en.clone(),
            p.refs([months_key, min_key]),
        );
        proofs.push(ProofCounted {
            kind: figure.kind,
            months: figure.counted as u32,
            note,
        });
    }
    let insurances: Vec<&str> = p.insurances.iter().map(|i| i.as_str()).collect();
    let continuous_rule = p.rule == Rule::Continuous;
    trace.step(
        format!(
            "{} 的入学审核方式：{}；认可的险种：{}",
            p.region_zh,
            if continuous_rule {
                "连续缴费"
            } else {
                "累计缴费为主、连续缴费为辅"
            },
            p.insurances
                .iter()
                .map(|i| i.zh())
                .collect::<Vec<_>>()
                .join("、")
        ),
        format!(
            "{} reviews by: {}; insurances that count: {}",
            p.region_en,
            if continuous_rule {
                "continuous months"
            } else {
                "cumulative months first, continuity second"
            },
            insurances.join(", ")
        ),
        p.refs([param::SCHOOL_RULE, param::SCHOOL_INSURANCES]),
    );
    // Each gap cites the graces of its own reasons.
    let grace_refs = |g: &Gap| p.refs(g.reasons.iter().filter_map(|r| grace_key(*r)));
    for g in f.gaps.iter().filter(|g| !g.forgiven) {
        let (length, allowed, reason_text) = (g.months, g.allowed, g.reason_text());
        let (why_zh, why_en) = if !g.evidenced {
            (
                "没有提供证明".to_string(),
                "no evidence was shown".to_string(),
            )
        } else {
            (
                format!("超过宽限 {allowed} 个月"),
                format!("longer than the {allowed}-month grace"),
            )
        };
        trace.step(
            format!(
                "{} 至 {} 断缴 {length} 个月（{}）：{why_zh}，不能宽限",
                g.from,
                g.to,
                reasons_zh(g)
            ),
            format!(
                "{} to {}: a {length}-month gap ({reason_text}): {why_en}, so it is not forgiven",
                g.from, g.to
            ),
            grace_refs(g),
        );
    }
    let mut forgiven = Vec::new();
    for g in f.gaps.iter().filter(|g| g.forgiven) {
        let reason = g.reason_text();
        trace.step(
            format!(
                "{} 至 {} 因{}断缴 {} 个月，有证明、在宽限内：不算中断（也不计入缴费月数）",
                g.from,
                g.to,
                reasons_zh(g),
                g.months
            ),
            format!(
                "{} to {}: {} months missed for {reason}, with evidence and within the grace: not a break (and not counted as paid)",
                g.from, g.to, g.months
            ),
            grace_refs(g),
        );
        forgiven.push(ForgivenGap {
            from: g.from,
            to: g.to,
            months: g.months,
            reason,
        });
    }

    let (continuous, cumulative) = (f.continuous, f.cumulative);
    let (need_cont, need_cum, lookback) =
        (p.continuous_months, p.cumulative_months, p.lookback_months);
    let mut missing = Vec::new();
    if !f.permit_ok {
        missing.push(Note {
            zh: "需要本市居住证".into(),
            en: "a residence permit of the city is needed".into(),
        });
    }
    let (before_zh, before_en) = f.run_before.map_or((String::new(), String::new()), |(last, run)| {
        (
            format!("（申请月还没缴费；到 {last} 已连续缴费 {run} 个月，没有中断）"),
            format!(" (the application month is not paid yet; {run} continuous months up to {last}, unbroken)"),
        )
    });
    trace.step(
        format!(
            "截至申请月 {month}：连续缴费 {continuous} 个月{before_zh}（要求 {need_cont}）{}",
            if continuous_rule {
                String::new()
            } else {
                format!("；近 {lookback} 个月累计 {cumulative} 个月（要求 {need_cum}）")
            }
        ),
        format!(
            "up to the application month {month}: {continuous} continuous months{before_en} (required {need_cont}){}",
            if continuous_rule {
                String::new()
            } else {
                format!("; {cumulative} months in the last {lookback} (required {need_cum})")
            }
        ),
        p.refs([
            param::SCHOOL_CONTINUOUS_MONTHS,
            param::SCHOOL_CUMULATIVE_MONTHS,
            param::SCHOOL_LOOKBACK_MONTHS,
        ]),
    );
    if !f.contributions_ok {
        if !f.month_paid {
            missing.push(Note {
                zh: format!("申请月 {month} 还没有缴费记录"),
                en: format!("the application month {month} has no payment yet"),
            });
        }
        if let Some(n) = f.continuous_short.filter(|n| *n > 0) {
            missing.push(Note {
                zh: format!("还差连续缴费 {n} 个月"),
                en: format!("{n} more continuous months"),
            });
        }
        if let Some(n) = f.cumulative_short.filter(|n| *n > 0) {
            missing.push(Note {
                zh: format!("还差累计缴费 {n} 个月"),
                en: format!("{n} more cumulative months"),
            });
        }
    }
    if f.decision == Decision::EligibleHardship {
        trace.step(
            "家庭困难、有居住证和监护关系：走兜底渠道，不因缴费不足被拒",
            "a family in hardship with a permit and guardianship: the hardship channel admits the child whatever the contributions",
            p.refs([param::SCHOOL_HARDSHIP_CHANNEL]),
        );
    }
    trace.step(
        if p.permit_required {
            "申请人须持有本市居住证"
        } else {
            "本市不以居住证为前提"
        },
        if p.permit_required {
            "the applicant must hold a residence permit of the city"
        } else {
            "the city does not require a residence permit"
        },
        p.refs([
            param::SCHOOL_PERMIT_REQUIRED,
            param::SCHOOL_HARDSHIP_CHANNEL,
        ]),
    );
    if !f.extra.is_empty() {
        let zh: Vec<String> = f
            .extra
            .iter()
            .map(|e| {
                format!(
                    "{} {} 个月 × {} 分 = {} 分",
                    e.insurance.name_zh(),
                    e.months,
                    e.per_month,
                    e.per_month.saturating_mul(e.months)
                )
            })
            .collect();
        let en: Vec<String> = f
            .extra
            .iter()
            .map(|e| {
                format!(
                    "{} {} months × {} = {}",
                    e.insurance.as_str(),
                    e.months,
                    e.per_month,
                    e.per_month.saturating_mul(e.months)
                )
            })
            .collect();
        trace.step(
            format!("按险种另加积分：{}", zh.join("；")),
            format!("extra points by insurance: {}", en.join("; ")),
            p.refs(f.extra.iter().filter_map(|e| extra_points_key(e.insurance))),
        );
    }
    let pts = &p.points;
    let (per_month, max_months, per_year, max_years) = (
        pts.per_month,
        pts.max_months,
        pts.per_permit_year,
        pts.max_permit_years,
    );
    let (all_paid, permit_years) = (f.all_paid, f.permit_years);
    let (points_from_months, points_from_permit, points_from_insurances, points) = (
        f.points_from_months,
        f.points_from_permit,
        f.points_from_insurances,
        f.points,
    );
    // A permit whose month of issue is not known counts no years: say that, not "0 years".
    let (permit_zh, permit_en) = match (ask.permit, ask.permit_since) {
        (true, None) => (
            "持有居住证，但没有填办证月份，年限不计分".to_string(),
            "a permit is held, but its month of issue is not given: its years earn no points"
                .to_string(),
        ),
        (false, _) => (
            "没有本市居住证，年限不计分".to_string(),
            "no residence permit of the city: no points for permit years".to_string(),
        ),
        (true, Some(_)) => (
            format!("居住证满 {permit_years} 年"),
            format!("{permit_years} full permit years"),
        ),
    };
    trace.step(
        format!(
            "新市民积分：缴费 {all_paid} 个月（最多计 {max_months} 个月）× {per_month} 分 = {points_from_months} 分；{permit_zh}（最多计 {max_years} 年）× {per_year} 分 = {points_from_permit} 分；按险种另加 {points_from_insurances} 分；合计 {points} 分"
        ),
        format!(
            "new-citizen points: {all_paid} months paid (at most {max_months} count) × {per_month} = {points_from_months}; {permit_en} (at most {max_years}) × {per_year} = {points_from_permit}; {points_from_insurances} extra by insurance; {points} in all"
        ),
        p.refs([
            param::SCHOOL_POINTS_PER_MONTH,
            param::SCHOOL_POINTS_MAX_MONTHS,
            param::SCHOOL_POINTS_PER_PERMIT_YEAR,
            param::SCHOOL_POINTS_MAX_PERMIT_YEARS,
        ]),
    );
    trace.term("school");
    SchoolResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        month,
        rule: p.rule_word.clone(),
        decision: f.decision.as_str(),
        continuous_months: continuous,
        cumulative_months: cumulative,
        required_continuous: need_cont,
        required_cumulative: need_cum,
        permit_met: f.permit_ok,
        forgiven,
        proofs,
        proof_months: f.proof_months,
        missing,
        earliest_month: f.earliest_month,
        points,
        points_from_months,
        points_from_permit,
        points_from_insurances,
        trace,
    }
}

/// Reviews one application: resolve, compute, explain.
pub fn review(policy: &Policy, req: &SchoolRequest, today: YearMonth) -> Result<SchoolResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let ask = SchoolAsk::of(req, today)?;
    let p = SchoolParams::resolve(&scope)?;
    let f = compute(&p, &ask);
    Ok(explain(&p, &ask, &f))
}

// ---------------------------------------------------------------------------------------
// Ranking

/// Most applications one ranking takes.
pub const MAX_APPLICATIONS: usize = 1_000_000;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankRequest {
    pub region: String,
    pub month: Option<YearMonth>,
    /// School places to fill.
    pub places: u32,
    pub reforms: Vec<String>,
    pub applications: Vec<Application>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "ApplicationIn")]
pub struct Application {
    pub id: String,
    pub permit: bool,
    pub permit_since: Option<YearMonth>,
    pub hardship: bool,
    pub months: Vec<MonthRecord>,
    pub paid_ranges: Vec<(YearMonth, YearMonth)>,
    pub proofs: Vec<Proof>,
}

/// An application as written in a request, its codes not yet checked (so that a refused
/// code can name the application).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ApplicationIn {
    id: String,
    permit: bool,
    permit_since: Option<YearMonth>,
    hardship: bool,
    months: Vec<MonthRecordIn>,
    paid_ranges: Vec<(YearMonth, YearMonth)>,
    proofs: Vec<ProofIn>,
}

impl TryFrom<ApplicationIn> for Application {
    type Error = Error;
    fn try_from(a: ApplicationIn) -> Result<Application> {
        let id = a.id;
        let named = |e: Error| {
            Error::new(
                e.kind,
                format!("申请 {id}：{}", e.zh),
                format!("application {id}: {}", e.en),
            )
        };
        let months = a
            .months
            .into_iter()
            .map(MonthRecord::try_from)
            .collect::<Result<Vec<_>>>()
            .map_err(named)?;
        let proofs = a
            .proofs
            .into_iter()
            .map(Proof::try_from)
            .collect::<Result<Vec<_>>>()
            .map_err(named)?;
        Ok(Application {
            id,
            permit: a.permit,
            permit_since: a.permit_since,
            hardship: a.hardship,
            months,
            paid_ranges: a.paid_ranges,
            proofs,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Ranked {
    pub id: String,
    pub decision: &'static str,
    pub points: i64,
    pub continuous_months: u32,
    /// 1-based place in the ranking of eligible applications; absent for the others.
    pub rank: Option<u32>,
    pub admitted: bool,
    /// Which tie-break decided this application's place against the one ranked just above
    /// it: "points", "continuous_months", "permit_since" or "application_order".
    pub decided_by: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RankResult {
    pub region_code: String,
    pub month: YearMonth,
    pub places: u32,
    pub eligible: u32,
    pub admitted: u32,
    pub applications: Vec<Ranked>,
    pub trace: Trace,
}

/// Reviews every application against the same parameters (resolved once), then ranks the
/// eligible ones by points; ties go to more continuous months, then the earlier residence
/// permit, then the earlier application.
pub fn rank(policy: &Policy, req: &RankRequest, today: YearMonth) -> Result<RankResult> {
    if req.applications.len() > MAX_APPLICATIONS {
        return Err(Error::bad_input(
            format!("一次最多排序 {MAX_APPLICATIONS} 份申请"),
            format!("at most {MAX_APPLICATIONS} applications at once"),
        ));
    }
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let p = SchoolParams::resolve(&scope)?;
    let mut reviewed = Vec::with_capacity(req.applications.len());
    for (order, a) in req.applications.iter().enumerate() {
        let ask = SchoolAsk::application(a, month).map_err(|e| {
            Error::new(
                e.kind,
                format!("申请 {}：{}", a.id, e.zh),
                format!("application {}: {}", a.id, e.en),
            )
        })?;
        let f = compute(&p, &ask);
        let permit_key = if a.permit {
            a.permit_since.map_or(i32::MAX, |m| m.index())
        } else {
            i32::MAX
        };
        reviewed.push((order, a, f, permit_key));
    }
    let mut eligible: Vec<usize> = (0..reviewed.len())
        .filter(|&i| reviewed[i].2.decision != Decision::NotYet)
        .collect();
    let key = |i: usize| {
        let (order, _, f, permit) = &reviewed[i];
        (
            std::cmp::Reverse(f.points),
            std::cmp::Reverse(f.continuous),
            *permit,
            *order,
        )
    };
    eligible.sort_by_key(|&i| key(i));
    let mut ranked: Vec<Ranked> = reviewed
        .iter()
        .map(|(_, a, f, _)| Ranked {
            id: a.id.clone(),
            decision: f.decision.as_str(),
            points: f.points,
            continuous_months: f.continuous,
            rank: None,
            admitted: false,
            decided_by: None,
        })
        .collect();
    for (place, &i) in eligible.iter().enumerate() {
        let decided_by = if place == 0 {
            None
        } else {
            let (a, b) = (key(eligible[place - 1]), key(i));
            Some(if a.0 != b.0 {
                "points"
            } else if a.1 != b.1 {
                "continuous_months"
            } else if a.2 != b.2 {
                "permit_since"
            } else {
                "application_order"
            })
        };
        ranked[i].rank = Some(place as u32 + 1);
        ranked[i].admitted = (place as u32) < req.places;
        ranked[i].decided_by = decided_by;
    }
    let mut trace = Trace::default();
    let admitted = ranked.iter().filter(|r| r.admitted).count() as u32;
    trace.step(
        format!(
            "{} {month}：{} 份申请中 {} 份符合条件，按积分排序（同分看连续缴费月数，再看居住证先后，再看申请先后），前 {} 名录取，录取 {admitted} 名",
            p.region_zh,
            ranked.len(),
            eligible.len(),
            req.places
        ),
        format!(
            "{} {month}: of {} applications {} are eligible, ranked by points (ties: more continuous months, then the earlier permit, then the earlier application); the first {} get places: {admitted} admitted",
            p.region_en,
            ranked.len(),
            eligible.len(),
            req.places
        ),
        Vec::new(),
    );
    Ok(RankResult {
        region_code: p.region_code.clone(),
        month,
        places: req.places,
        eligible: eligible.len() as u32,
        admitted,
        applications: ranked,
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> &'static Policy {
        static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        P.get_or_init(|| Policy::embedded().expect("policy files"))
    }

    fn today() -> YearMonth {
        YearMonth::new(2026, 11).expect("month")
    }

    /// The error of running `calc` on `req`, which must be refused as bad input.
    fn refused(calc: &str, req: serde_json::Value) -> Error {
        match crate::calc::run_json(policy(), calc, req, today()) {
            Ok(v) => panic!("expected a refusal, got {v}"),
            Err(e) => {
                assert_eq!(e.kind, crate::ErrorKind::BadInput, "{e}");
                e
            }
        }
    }

    fn month_with(field: &str, value: &str) -> serde_json::Value {
        let mut m = json!({ "month": "2026-08", "insurance": "pension", "status": "excused", "reason": "care", "evidence": true });
        m[field] = json!(value);
        json!({ "region": "330100", "month": "2026-09", "months": [m] })
    }

    #[test]
    fn an_unknown_insurance_is_refused_naming_the_insurances() {
        let e = refused("school", month_with("insurance", "car"));
        assert!(e.zh.starts_with("请求格式不对："), "{e}");
        assert!(e.zh.contains("险种“car”"), "{e}");
        assert!(e.zh.contains("2026-08"), "{e}");
        assert!(
            e.zh.contains("pension（养老）、medical（医疗）、unemployment（失业）、injury（工伤）、maternity（生育）"),
            "{e}"
        );
        assert!(e.en.starts_with("malformed request: "), "{e}");
        assert!(
            e.en.contains("unknown insurance 'car' in 2026-08: use pension, medical, unemployment, injury, maternity"),
            "{e}"
        );
        // No English in the Chinese message's place and the other way round.
        assert!(!e.zh.contains("unknown"), "{e}");
        assert!(!e.en.contains("请求"), "{e}");
    }

    #[test]
    fn an_unknown_status_is_refused_naming_the_statuses() {
        let e = refused("school", month_with("status", "maybe"));
        assert!(e.zh.contains("缴费状态“maybe”"), "{e}");
        assert!(
            e.zh.contains("paid（已缴）") && e.zh.contains("excused（免缴）"),
            "{e}"
        );
        assert!(
            e.en.contains(
                "unknown status 'maybe' in 2026-08: use paid, unpaid, deferred, backpaid, excused"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_gap_reason_is_refused_naming_the_reasons() {
        let e = refused("school", month_with("reason", "bored"));
        assert!(e.zh.contains("断缴原因“bored”"), "{e}");
        assert!(e.zh.contains("platform_rule（平台规则变更）"), "{e}");
        assert!(
            e.en.contains("unknown gap reason 'bored' in 2026-08: use childbirth, care, illness, unemployment, platform_rule, other"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_proof_is_refused_naming_the_proofs_in_either_form() {
        for proof in [
            json!("utility_bill"),
            json!({ "kind": "utility_bill", "since": "2025-01" }),
        ] {
            let e = refused(
                "school",
                json!({ "region": "330100", "month": "2026-09", "proofs": [proof] }),
            );
            assert!(e.zh.contains("未知的证明材料“utility_bill”"), "{e}");
            assert!(e.zh.contains("business_licence（营业执照）"), "{e}");
            assert!(
                e.en.contains(
                    "unknown proof 'utility_bill': use business_licence (business licence)"
                ),
                "{e}"
            );
            assert!(
                e.en.contains("community_residence (community residence proof)"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_refused_code_in_a_ranking_names_the_application() {
        let e = refused(
            "school_rank",
            json!({ "region": "330100", "month": "2026-09", "applications": [
                { "id": "A7", "months": [{ "month": "2026-08", "insurance": "pensions", "status": "paid" }] }
            ] }),
        );
        assert!(
            e.zh.contains("申请 A7：") && e.zh.contains("险种“pensions”"),
            "{e}"
        );
        assert!(
            e.en.contains("application A7: unknown insurance 'pensions'"),
            "{e}"
        );
    }

    /// The typed request reads and writes the same JSON as before: codes as snake_case strings.
    #[test]
    fn the_typed_request_keeps_its_json() {
        let text = json!({
            "region": "330100", "month": "2026-09", "permit": true, "permit_since": "2020-01",
            "hardship": false, "reforms": ["school-cumulative-first"],
            "months": [{ "month": "2026-08", "insurance": "medical", "status": "excused", "reason": "platform_rule", "evidence": true },
                       { "month": "2026-07", "insurance": "pension", "status": "backpaid" }],
            "paid_ranges": [["2025-01", "2025-12"]],
            "proofs": ["labour_contract", { "kind": "tax_records", "since": "2025-06" }]
        });
        let req: SchoolRequest = serde_json::from_value(text).unwrap();
        assert_eq!(
            req.months[0],
            MonthRecord {
                month: YearMonth::new(2026, 8).unwrap(),
                insurance: Insurance::Medical,
                status: Status::Excused,
                reason: Some(GapReason::PlatformRule),
                evidence: true,
            }
        );
        assert_eq!(req.months[1].reason, None);
        assert_eq!(req.proofs[0].kind, ProofKind::LabourContract);
        assert_eq!(req.proofs[1].since, YearMonth::new(2025, 6));
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(
            back["months"][0],
            json!({ "month": "2026-08", "insurance": "medical", "status": "excused", "reason": "platform_rule", "evidence": true })
        );
        assert_eq!(back["months"][1]["reason"], json!(null));
        assert_eq!(
            back["proofs"][1],
            json!({ "kind": "tax_records", "since": "2025-06" })
        );
        // What it writes it reads back.
        let again: SchoolRequest = serde_json::from_value(back).unwrap();
        assert_eq!(again.months, req.months);
        assert_eq!(again.proofs, req.proofs);
        let r = review(policy(), &req, today()).unwrap();
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["proofs"][0]["kind"], json!("labour_contract"));
    }

    /// A paid range that ends at the last month anxin knows (2200-12) used to step forever.
    #[test]
    fn a_paid_range_at_the_end_of_the_calendar_ends() {
        let last = YearMonth::new(2200, 12).unwrap();
        let req = SchoolRequest {
            region: "330100".into(),
            month: Some(last),
            permit: true,
            paid_ranges: vec![(YearMonth::new(2199, 1).unwrap(), last)],
            ..SchoolRequest::default()
        };
        let r = review(policy(), &req, today()).unwrap();
        assert_eq!(r.continuous_months, 24);
    }

    /// Resolving every parameter up front refuses no review the lazy lookups answered: for
    /// every shipped region, several months and every reform, where the city has a school
    /// rule at all, every school parameter resolves.
    #[test]
    fn every_shipped_scope_with_a_school_rule_resolves() {
        let p = policy();
        let mut resolved = 0;
        for code in p.regions.keys() {
            for m in ["2024-06", "2025-01", "2026-01", "2026-09", "2027-03"] {
                let month: YearMonth = m.parse().unwrap();
                let mut sets = vec![vec![]];
                sets.extend(p.reforms.keys().map(|r| vec![r.clone()]));
                for reforms in sets {
                    let Ok(scope) = p.scope(&code.to_string(), month, &reforms) else {
                        continue;
                    };
                    if scope.word(param::SCHOOL_RULE).is_err() {
                        continue;
                    }
                    if let Err(e) = SchoolParams::resolve(&scope) {
                        panic!("{code} {month} {reforms:?}: {e}");
                    }
                    resolved += 1;
                }
            }
        }
        assert!(resolved > 50, "{resolved}");
    }

    /// Resolve once, compute many times: the ranking and the single review agree.
    #[test]
    fn compute_is_the_same_for_review_and_rank() {
        let month = YearMonth::new(2026, 9).unwrap();
        let scope = policy().scope("330100", month, &[]).unwrap();
        let p = SchoolParams::resolve(&scope).unwrap();
        assert_eq!(p.grace(GapReason::Other), 0);
        assert!(p.insurances.contains(&Insurance::Pension));
        let req = SchoolRequest {
            region: "330100".into(),
            month: Some(month),
            permit: true,
            paid_ranges: vec![(YearMonth::new(2025, 10).unwrap(), month)],
            ..SchoolRequest::default()
        };
        let ask = SchoolAsk::of(&req, today()).unwrap();
        let f = compute(&p, &ask);
        let r = explain(&p, &ask, &f);
        assert_eq!(
            (r.decision, r.continuous_months),
            (f.decision.as_str(), f.continuous)
        );
        let ranked = rank(
            policy(),
            &RankRequest {
                region: "330100".into(),
                month: Some(month),
                places: 1,
                applications: vec![Application {
                    id: "A".into(),
                    permit: true,
                    paid_ranges: req.paid_ranges.clone(),
                    ..Application::default()
                }],
                ..RankRequest::default()
            },
            today(),
        )
        .unwrap();
        assert_eq!(ranked.applications[0].points, r.points);
        assert_eq!(ranked.applications[0].decision, r.decision);
    }
}
