//! S1 — school admission review of a migrant child's guardian: does the family meet the
//! city's social-insurance condition for the application month, and if not, what is missing
//! and from when it could be met.
//!
//! The rule is data (`school.*`): the law-in-force shape is "N continuous months including the
//! application month" (`continuous`); the reform the seed proposes is "cumulative first,
//! continuous second, with grace for gaps caused by childbirth, care, illness, unemployment or
//! a platform's rule change" (`cumulative-first`), plus a hardship channel. No city's real
//! numbers were found (reference §7): the shipped values are marked as examples.

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::YearMonth;
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::{Key, param};
use crate::scope::ParamRef;
use crate::trace::Trace;

/// Most months one request may list: fifty years of five insurances.
const MAX_MONTHS: usize = 3_000;
/// How far ahead "the earliest month it could be met" is searched.
const HORIZON_MONTHS: i32 = 120;

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
    /// Other proofs of stable residence or work the family shows (see [`PROOF_KINDS`]).
    pub proofs: Vec<Proof>,
}

/// The other proofs seed 000 §四(一) asks cities to accept, as written in requests and files.
pub const PROOF_KINDS: &[&str] = &[
    "business_licence",
    "labour_contract",
    "tax_records",
    "platform_orders",
    "community_residence",
];

/// Most proofs one request may list.
const MAX_PROOFS: usize = 20;

/// A proof kind's name in Chinese and English.
pub fn proof_name(kind: &str) -> Option<(&'static str, &'static str)> {
    proof_names(kind).map(|(zh, en, _, _)| (zh, en))
}

fn proof_names(kind: &str) -> Option<(&'static str, &'static str, Key, Key)> {
    // (zh, en, parameter: months it stands for, parameter: fewest months it must show)
    Some(match kind {
        "business_licence" => (
            "营业执照",
            "business licence",
            param::SCHOOL_PROOF_BUSINESS_LICENCE_MONTHS,
            param::SCHOOL_PROOF_BUSINESS_LICENCE_MIN_MONTHS,
        ),
        "labour_contract" => (
            "劳动合同",
            "labour contract",
            param::SCHOOL_PROOF_LABOUR_CONTRACT_MONTHS,
            param::SCHOOL_PROOF_LABOUR_CONTRACT_MIN_MONTHS,
        ),
        "tax_records" => (
            "纳税记录",
            "tax records",
            param::SCHOOL_PROOF_TAX_RECORDS_MONTHS,
            param::SCHOOL_PROOF_TAX_RECORDS_MIN_MONTHS,
        ),
        "platform_orders" => (
            "平台接单记录",
            "platform order records",
            param::SCHOOL_PROOF_PLATFORM_ORDERS_MONTHS,
            param::SCHOOL_PROOF_PLATFORM_ORDERS_MIN_MONTHS,
        ),
        "community_residence" => (
            "社区居住证明",
            "community residence proof",
            param::SCHOOL_PROOF_COMMUNITY_RESIDENCE_MONTHS,
            param::SCHOOL_PROOF_COMMUNITY_RESIDENCE_MIN_MONTHS,
        ),
        _ => return None,
    })
}

/// A proof shown: its kind and, if the document says so, the month it starts from (licence
/// registered, contract signed, first tax or order month, residence certified). Without
/// `since` the office has checked that it shows the months the city requires. Written as a
/// bare kind (`"labour_contract"`) or as `{ kind, since }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "ProofIn")]
pub struct Proof {
    pub kind: String,
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

impl From<ProofIn> for Proof {
    fn from(p: ProofIn) -> Self {
        match p {
            ProofIn::Kind(kind) => Proof { kind, since: None },
            ProofIn::Full(f) => Proof {
                kind: f.kind,
                since: f.since,
            },
        }
    }
}

/// What a proof was worth in this review.
#[derive(Clone, Debug, Serialize)]
pub struct ProofCounted {
    pub kind: String,
    /// Months of the condition it stands for (0: not counted), ending at the application month.
    pub months: u32,
    pub note: Note,
}

/// Refuses a proof kind anxin does not know, naming the allowed ones.
pub fn check_proof_kind(kind: &str) -> Result<()> {
    if proof_names(kind).is_some() {
        return Ok(());
    }
    let zh: Vec<String> = PROOF_KINDS
        .iter()
        .filter_map(|k| proof_names(k).map(|n| format!("{k}（{}）", n.0)))
        .collect();
    let en: Vec<String> = PROOF_KINDS
        .iter()
        .filter_map(|k| proof_names(k).map(|n| format!("{k} ({})", n.1)))
        .collect();
    Err(Error::bad_input(
        format!("未知的证明材料“{kind}”：可用 {}", zh.join("、")),
        format!("unknown proof '{kind}': use {}", en.join(", ")),
    ))
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthRecord {
    pub month: YearMonth,
    pub insurance: String,
    /// paid, backpaid, unpaid, deferred or excused.
    pub status: String,
    /// Why an excused month was not paid: childbirth, care, illness, unemployment, platform_rule.
    #[serde(default)]
    pub reason: Option<String>,
    /// Evidence of the reason was shown.
    #[serde(default)]
    pub evidence: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ForgivenGap {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
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

/// Insurances that may earn new-citizen points beyond the months that count for admission
/// (`school.points.extra.<insurance>`).
pub const EXTRA_POINT_INSURANCES: [&str; 4] = ["medical", "unemployment", "injury", "maternity"];

/// The extra-points parameter of an insurance of [`EXTRA_POINT_INSURANCES`].
fn extra_points_key(insurance: &str) -> Key {
    match insurance {
        "medical" => param::SCHOOL_POINTS_EXTRA_MEDICAL,
        "unemployment" => param::SCHOOL_POINTS_EXTRA_UNEMPLOYMENT,
        "injury" => param::SCHOOL_POINTS_EXTRA_INJURY,
        _ => param::SCHOOL_POINTS_EXTRA_MATERNITY,
    }
}

fn grace_key(reason: &str) -> Option<Key> {
    Some(match reason {
        "childbirth" => param::SCHOOL_GRACE_CHILDBIRTH,
        "care" => param::SCHOOL_GRACE_CARE,
        "illness" => param::SCHOOL_GRACE_ILLNESS,
        "unemployment" => param::SCHOOL_GRACE_UNEMPLOYMENT,
        "platform_rule" => param::SCHOOL_GRACE_PLATFORM_RULE,
        _ => return None,
    })
}

/// An insurance's Chinese name, for the Chinese explanation (the code where it is unknown).
fn insurance_zh(code: &str) -> &str {
    use anxin_domain::Code as _;
    anxin_domain::codes::Insurance::from_code(code).map_or(code, |i| i.zh())
}

/// Gap reasons ("childbirth+care") in Chinese ("生育、照护").
fn reasons_zh(codes: &str) -> String {
    use anxin_domain::Code as _;
    codes
        .split('+')
        .map(|c| anxin_domain::codes::GapReason::from_code(c).map_or(c, |r| r.zh()))
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

fn window_count(paid: &BTreeSet<i32>, at: i32, lookback: i64) -> u32 {
    let from = at - lookback as i32 + 1;
    paid.range(from..=at).count() as u32
}

pub fn review(policy: &Policy, req: &SchoolRequest, today: YearMonth) -> Result<SchoolResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    if req.months.len() > MAX_MONTHS {
        return Err(Error::bad_input(
            format!("一次最多 {MAX_MONTHS} 条月份记录"),
            format!("at most {MAX_MONTHS} month records at once"),
        ));
    }
    if req.proofs.len() > MAX_PROOFS {
        return Err(Error::bad_input(
            format!("一次最多 {MAX_PROOFS} 份证明材料"),
            format!("at most {MAX_PROOFS} proofs at once"),
        ));
    }
    for p in &req.proofs {
        check_proof_kind(&p.kind)?;
    }
    let mut records = req.months.clone();
    for (from, to) in &req.paid_ranges {
        if to < from || from.months_until(*to) as usize >= MAX_MONTHS {
            return Err(Error::bad_input(
                format!("缴费区间 {from} 到 {to} 不对：起月不能晚于止月，且最多 {MAX_MONTHS} 个月"),
                format!(
                    "paid range {from} to {to} is wrong: the first month must not be after the last, at most {MAX_MONTHS} months"
                ),
            ));
        }
        let mut m = *from;
        while m <= *to {
            records.push(MonthRecord {
                month: m,
                insurance: "pension".into(),
                status: "paid".into(),
                reason: None,
                evidence: false,
            });
            m = m.plus(1);
        }
    }
    if records.len() > MAX_MONTHS {
        return Err(Error::bad_input(
            format!("一次最多 {MAX_MONTHS} 条月份记录"),
            format!("at most {MAX_MONTHS} month records at once"),
        ));
    }
    let mut trace = Trace::default();
    let (rule, rule_r) = scope.word(param::SCHOOL_RULE)?;
    let (permit_required, permit_r) = scope.flag(param::SCHOOL_PERMIT_REQUIRED)?;
    let (insurances, ins_r) = scope.set(param::SCHOOL_INSURANCES)?;
    let (need_cont, cont_r) = scope.int(param::SCHOOL_CONTINUOUS_MONTHS)?;
    let (need_cum, cum_r) = scope.int(param::SCHOOL_CUMULATIVE_MONTHS)?;
    let (lookback, look_r) = scope.int(param::SCHOOL_LOOKBACK_MONTHS)?;
    let (hardship_channel, hard_r) = scope.flag(param::SCHOOL_HARDSHIP_CHANNEL)?;

    // Months that count, and excused months per reason, up to the application month.
    let a = month.index();
    let mut paid: BTreeSet<i32> = BTreeSet::new();
    // Months paid of each insurance, counted or not (for points per insurance).
    let mut paid_by_insurance: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let mut excused: BTreeMap<i32, (String, bool)> = BTreeMap::new();
    for r in &records {
        if !crate::schema::INSURANCES.contains(&r.insurance.as_str()) {
            return Err(Error::bad_input(
                format!(
                    "未知险种“{}”：可用 {}",
                    r.insurance,
                    crate::schema::INSURANCES.join("、")
                ),
                format!(
                    "unknown insurance '{}': use {}",
                    r.insurance,
                    crate::schema::INSURANCES.join(", ")
                ),
            ));
        }
        let known = ["paid", "backpaid", "unpaid", "deferred", "excused"];
        if !known.contains(&r.status.as_str()) {
            return Err(Error::bad_input(
                format!("未知状态“{}”：可用 {}", r.status, known.join("、")),
                format!("unknown status '{}': use {}", r.status, known.join(", ")),
            ));
        }
        if let Some(reason) = &r.reason
            && grace_key(reason).is_none()
            && reason != "other"
        {
            return Err(Error::bad_input(
                format!(
                    "未知断缴原因“{reason}”：可用 childbirth、care、illness、unemployment、platform_rule、other"
                ),
                format!(
                    "unknown gap reason '{reason}': use childbirth, care, illness, unemployment, platform_rule, other"
                ),
            ));
        }
        let m = r.month.index();
        if m <= a && matches!(r.status.as_str(), "paid" | "backpaid") {
            paid_by_insurance
                .entry(r.insurance.clone())
                .or_default()
                .insert(m);
        }
        if m > a || !insurances.iter().any(|i| i == &r.insurance) {
            continue;
        }
        match r.status.as_str() {
            "paid" | "backpaid" => {
                paid.insert(m);
            }
            "excused" => {
                excused.insert(
                    m,
                    (
                        r.reason.clone().unwrap_or_else(|| "other".into()),
                        r.evidence,
                    ),
                );
            }
            _ => {}
        }
    }
    let ym = |i: i32| YearMonth::from_index(i).expect("months from valid input");
    // Other proofs: each stands for up to N months ending at the application month, if it
    // shows at least the months the city asks for. A month counts once however many proofs
    // cover it; proofs never earn points (those are for months paid).
    let mut proved: BTreeSet<i32> = BTreeSet::new();
    let mut proofs = Vec::new();
    for p in &req.proofs {
        let Some((zh, en, months_key, min_key)) = proof_names(&p.kind) else {
            continue;
        };
        let (worth, worth_r) = scope.int(months_key)?;
        let (need, need_r) = scope.int(min_key)?;
        let shown = p.since.map(|since| {
            if since <= month {
                since.months_until(month) as i64 + 1
            } else {
                0
            }
        });
        let counted = if worth <= 0 {
            0
        } else {
            match shown {
                Some(n) if n < need => 0,
                Some(n) => n.min(worth),
                None => worth,
            }
        }
        .clamp(0, MAX_MONTHS as i64);
        let note = if worth <= 0 {
            Note {
                zh: format!("{}不认可{zh}代替缴费", scope.region.name_zh),
                en: format!(
                    "{} does not accept a {en} in place of contributions",
                    scope.region.name_en
                ),
            }
        } else if counted == 0 {
            let n = shown.unwrap_or(0);
            Note {
                zh: format!("{zh}只证明了 {n} 个月，要求至少 {need} 个月：不计"),
                en: format!(
                    "{en}: shows only {n} months, at least {need} are required: not counted"
                ),
            }
        } else {
            let first = YearMonth::from_index(a - counted as i32 + 1)
                .map_or_else(String::new, |m| m.to_string());
            Note {
                zh: format!(
                    "{zh}可抵 {first} 至 {month} 共 {counted} 个月（最多 {worth} 个月，须证明至少 {need} 个月）"
                ),
                en: format!(
                    "{en}: stands for {counted} months, {first} to {month} (at most {worth}; it must show at least {need})"
                ),
            }
        };
        trace.step(note.zh.clone(), note.en.clone(), vec![worth_r, need_r]);
        proved.extend(a - counted as i32 + 1..=a);
        proofs.push(ProofCounted {
            kind: p.kind.clone(),
            months: counted as u32,
            note,
        });
    }
    let proof_months = proved.iter().filter(|m| !paid.contains(m)).count() as u32;
    // The months that show stable work or residence: paid, or covered by a proof.
    let shown_months: BTreeSet<i32> = paid.union(&proved).copied().collect();
    for m in &shown_months {
        excused.remove(m);
    }
    trace.step(
        format!(
            "{} 的入学审核方式：{}；认可的险种：{}",
            scope.region.name_zh,
            if rule == "continuous" {
                "连续缴费"
            } else {
                "累计缴费为主、连续缴费为辅"
            },
            insurances
                .iter()
                .map(|i| insurance_zh(i))
                .collect::<Vec<_>>()
                .join("、")
        ),
        format!(
            "{} reviews by: {}; insurances that count: {}",
            scope.region.name_en,
            if rule == "continuous" {
                "continuous months"
            } else {
                "cumulative months first, continuity second"
            },
            insurances.join(", ")
        ),
        vec![rule_r, ins_r],
    );

    // Grace: a gap made only of excused months with evidence, no longer than its reason allows.
    let mut forgiven_months: BTreeSet<i32> = BTreeSet::new();
    let mut forgiven = Vec::new();
    let mut grace_refs: Vec<ParamRef> = Vec::new();
    // Runs of consecutive excused months (the map is ordered by month).
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &m in excused.keys() {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == m => *end = m,
            _ => runs.push((m, m)),
        }
    }
    for (start, end) in runs {
        let mut reasons: BTreeSet<String> = BTreeSet::new();
        let mut evidenced = true;
        for m in start..=end {
            let (reason, evidence) = &excused[&m];
            reasons.insert(reason.clone());
            evidenced &= *evidence;
        }
        let length = (end - start + 1) as i64;
        // A gap with several reasons gets the smallest of their graces.
        let mut allowed = i64::MAX;
        for reason in &reasons {
            let grace = match grace_key(reason) {
                Some(key) => {
                    let (v, r) = scope.int(key)?;
                    grace_refs.push(r);
                    v
                }
                None => 0,
            };
            allowed = allowed.min(grace);
        }
        let reason_text = reasons.into_iter().collect::<Vec<_>>().join("+");
        if evidenced && length <= allowed {
            forgiven_months.extend(start..=end);
            forgiven.push(ForgivenGap {
                from: ym(start),
                to: ym(end),
                months: length as u32,
                reason: reason_text,
            });
        } else {
            let why_zh = if !evidenced {
                "没有提供证明".to_string()
            } else {
                format!("超过宽限 {allowed} 个月")
            };
            let why_en = if !evidenced {
                "no evidence was shown".to_string()
            } else {
                format!("longer than the {allowed}-month grace")
            };
            trace.step(
                format!("{} 至 {} 断缴 {length} 个月（{}）：{why_zh}，不能宽限", ym(start), ym(end), reasons_zh(&reason_text)),
                format!("{} to {}: a {length}-month gap ({reason_text}): {why_en}, so it is not forgiven", ym(start), ym(end)),
                grace_refs.clone(),
            );
        }
    }
    for g in &forgiven {
        trace.step(
            format!("{} 至 {} 因{}断缴 {} 个月，有证明、在宽限内：不算中断（也不计入缴费月数）", g.from, g.to, reasons_zh(&g.reason), g.months),
            format!("{} to {}: {} months missed for {}, with evidence and within the grace: not a break (and not counted as paid)", g.from, g.to, g.months, g.reason),
            grace_refs.clone(),
        );
    }

    let continuous = run_ending(&shown_months, &forgiven_months, a);
    let cumulative = window_count(&shown_months, a, lookback);
    let mut missing = Vec::new();
    let permit_ok = !permit_required || req.permit;
    if !permit_ok {
        missing.push(Note {
            zh: "需要本市居住证".into(),
            en: "a residence permit of the city is needed".into(),
        });
    }
    let meets = |cont: u32, cum: u32| -> bool {
        if rule == "continuous" {
            cont as i64 >= need_cont
        } else {
            cum as i64 >= need_cum && cont as i64 >= need_cont
        }
    };
    let contributions_ok = meets(continuous, cumulative);
    // A run that ends the month before the application month is still unbroken: say so,
    // rather than only "0 continuous months".
    let before = if shown_months.contains(&a) {
        None
    } else {
        let run = run_ending(&shown_months, &forgiven_months, a - 1);
        YearMonth::from_index(a - 1)
            .filter(|_| run > 0)
            .map(|last| (last, run))
    };
    let (before_zh, before_en) = before.map_or((String::new(), String::new()), |(last, run)| {
        (
            format!("（申请月还没缴费；到 {last} 已连续缴费 {run} 个月，没有中断）"),
            format!(" (the application month is not paid yet; {run} continuous months up to {last}, unbroken)"),
        )
    });
    trace.step(
        format!(
            "截至申请月 {month}：连续缴费 {continuous} 个月{before_zh}（要求 {need_cont}）{}",
            if rule == "continuous" { String::new() } else { format!("；近 {lookback} 个月累计 {cumulative} 个月（要求 {need_cum}）") }
        ),
        format!(
            "up to the application month {month}: {continuous} continuous months{before_en} (required {need_cont}){}",
            if rule == "continuous" { String::new() } else { format!("; {cumulative} months in the last {lookback} (required {need_cum})") }
        ),
        vec![cont_r, cum_r, look_r],
    );
    let decision = if permit_ok && contributions_ok {
        "eligible"
    } else if hardship_channel && req.hardship && req.permit {
        trace.step(
            "家庭困难、有居住证和监护关系：走兜底渠道，不因缴费不足被拒",
            "a family in hardship with a permit and guardianship: the hardship channel admits the child whatever the contributions",
            vec![hard_r.clone()],
        );
        "eligible_hardship"
    } else {
        "not_yet"
    };
    trace.step(
        if permit_required {
            "申请人须持有本市居住证"
        } else {
            "本市不以居住证为前提"
        },
        if permit_required {
            "the applicant must hold a residence permit of the city"
        } else {
            "the city does not require a residence permit"
        },
        vec![permit_r, hard_r],
    );
    // The earliest month, paying every month from the application month on.
    let earliest_month = if decision == "not_yet" && permit_ok {
        let mut future = shown_months.clone();
        (0..=HORIZON_MONTHS).find_map(|k| {
            let m = a + k;
            future.insert(m);
            meets(
                run_ending(&future, &forgiven_months, m),
                window_count(&future, m, lookback),
            )
            .then(|| YearMonth::from_index(m))
            .flatten()
        })
    } else {
        None
    };
    // What is missing, counted as the months still to pay from the application month on, so
    // that "N more months" and the earliest month always agree (a guardian who paid through
    // last month needs only the application month itself).
    if !contributions_ok {
        let first_meeting = |ok: &dyn Fn(u32, u32) -> bool| {
            let mut future = shown_months.clone();
            (0..=HORIZON_MONTHS).find_map(|k| {
                let m = a + k;
                future.insert(m);
                ok(
                    run_ending(&future, &forgiven_months, m),
                    window_count(&future, m, lookback),
                )
                .then_some(m)
            })
        };
        let to_pay = |until: i32| (a..=until).filter(|m| !shown_months.contains(m)).count() as i64;
        let cont_short = if (continuous as i64) < need_cont {
            Some(
                first_meeting(&|c, _| c as i64 >= need_cont)
                    .map_or(need_cont - continuous as i64, to_pay),
            )
        } else {
            None
        };
        let cum_short = if rule != "continuous" && (cumulative as i64) < need_cum {
            Some(
                first_meeting(&|_, c| c as i64 >= need_cum)
                    .map_or(need_cum - cumulative as i64, to_pay),
            )
        } else {
            None
        };
        if !shown_months.contains(&a) {
            missing.push(Note {
                zh: format!("申请月 {month} 还没有缴费记录"),
                en: format!("the application month {month} has no payment yet"),
            });
        }
        if let Some(n) = cont_short.filter(|n| *n > 0) {
            missing.push(Note {
                zh: format!("还差连续缴费 {n} 个月"),
                en: format!("{n} more continuous months"),
            });
        }
        if let Some(n) = cum_short.filter(|n| *n > 0) {
            missing.push(Note {
                zh: format!("还差累计缴费 {n} 个月"),
                en: format!("{n} more cumulative months"),
            });
        }
    }
    // New-citizen points (also usable for medical access and the citizen card).
    let (per_month, pm_r) = scope.int(param::SCHOOL_POINTS_PER_MONTH)?;
    let (max_months, mm_r) = scope.int(param::SCHOOL_POINTS_MAX_MONTHS)?;
    let (per_year, py_r) = scope.int(param::SCHOOL_POINTS_PER_PERMIT_YEAR)?;
    let (max_years, my_r) = scope.int(param::SCHOOL_POINTS_MAX_PERMIT_YEARS)?;
    let all_paid = paid.len() as i64;
    let points_from_months = per_month * all_paid.min(max_months);
    let permit_years = match (req.permit, req.permit_since) {
        (true, Some(since)) if since <= month => (since.months_until(month) as i64 + 1) / 12,
        _ => 0,
    };
    let points_from_permit = per_year * permit_years.min(max_years);
    // A permit whose month of issue is not known counts no years: say that, not "0 years".
    let (permit_zh, permit_en) = match (req.permit, req.permit_since) {
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
    let mut points_from_insurances = 0;
    let mut extra_refs = Vec::new();
    let (mut extra_zh, mut extra_en) = (Vec::new(), Vec::new());
    for insurance in EXTRA_POINT_INSURANCES {
        let (per, r) = scope.int(extra_points_key(insurance))?;
        let months = paid_by_insurance
            .get(insurance)
            .map_or(0, |s| s.len() as i64)
            .min(max_months);
        if per > 0 && months > 0 {
            points_from_insurances += per * months;
            extra_zh.push(format!(
                "{}保险 {months} 个月 × {per} 分 = {} 分",
                match insurance {
                    "medical" => "医疗",
                    "unemployment" => "失业",
                    "injury" => "工伤",
                    _ => "生育",
                },
                per * months
            ));
            extra_en.push(format!(
                "{insurance} {months} months × {per} = {}",
                per * months
            ));
            extra_refs.push(r);
        }
    }
    if !extra_zh.is_empty() {
        trace.step(
            format!("按险种另加积分：{}", extra_zh.join("；")),
            format!("extra points by insurance: {}", extra_en.join("; ")),
            extra_refs,
        );
    }
    let points = points_from_months + points_from_permit + points_from_insurances;
    trace.step(
        format!(
            "新市民积分：缴费 {all_paid} 个月（最多计 {max_months} 个月）× {per_month} 分 = {points_from_months} 分；{permit_zh}（最多计 {max_years} 年）× {per_year} 分 = {points_from_permit} 分；按险种另加 {points_from_insurances} 分；合计 {points} 分"
        ),
        format!(
            "new-citizen points: {all_paid} months paid (at most {max_months} count) × {per_month} = {points_from_months}; {permit_en} (at most {max_years}) × {per_year} = {points_from_permit}; {points_from_insurances} extra by insurance; {points} in all"
        ),
        vec![pm_r, mm_r, py_r, my_r],
    );
    trace.term("school");
    Ok(SchoolResult {
        region_code: scope.region.code.to_string(),
        region_zh: scope.region.name_zh.clone(),
        month,
        rule,
        decision,
        continuous_months: continuous,
        cumulative_months: cumulative,
        required_continuous: need_cont,
        required_cumulative: need_cum,
        permit_met: permit_ok,
        forgiven,
        proofs,
        proof_months,
        missing,
        earliest_month,
        points,
        points_from_months,
        points_from_permit,
        points_from_insurances,
        trace,
    })
}

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
#[serde(deny_unknown_fields, default)]
pub struct Application {
    pub id: String,
    pub permit: bool,
    pub permit_since: Option<YearMonth>,
    pub hardship: bool,
    pub months: Vec<MonthRecord>,
    pub paid_ranges: Vec<(YearMonth, YearMonth)>,
    pub proofs: Vec<Proof>,
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

/// Reviews every application, then ranks the eligible ones by points; ties go to more
/// continuous months, then the earlier residence permit, then the earlier application.
pub fn rank(policy: &Policy, req: &RankRequest, today: YearMonth) -> Result<RankResult> {
    if req.applications.len() > MAX_APPLICATIONS {
        return Err(Error::bad_input(
            format!("一次最多排序 {MAX_APPLICATIONS} 份申请"),
            format!("at most {MAX_APPLICATIONS} applications at once"),
        ));
    }
    let month = req.month.unwrap_or(today);
    let mut reviewed = Vec::with_capacity(req.applications.len());
    for (order, a) in req.applications.iter().enumerate() {
        let r = review(
            policy,
            &SchoolRequest {
                region: req.region.clone(),
                month: Some(month),
                permit: a.permit,
                permit_since: a.permit_since,
                hardship: a.hardship,
                reforms: req.reforms.clone(),
                months: a.months.clone(),
                paid_ranges: a.paid_ranges.clone(),
                proofs: a.proofs.clone(),
            },
            today,
        )
        .map_err(|e| {
            Error::new(
                e.kind,
                format!("申请 {}：{}", a.id, e.zh),
                format!("application {}: {}", a.id, e.en),
            )
        })?;
        let permit_key = if a.permit {
            a.permit_since.map_or(i32::MAX, |m| m.index())
        } else {
            i32::MAX
        };
        reviewed.push((order, a, r, permit_key));
    }
    let mut eligible: Vec<usize> = (0..reviewed.len())
        .filter(|&i| reviewed[i].2.decision != "not_yet")
        .collect();
    let key = |i: usize| {
        let (order, _, r, permit) = &reviewed[i];
        (
            std::cmp::Reverse(r.points),
            std::cmp::Reverse(r.continuous_months),
            *permit,
            *order,
        )
    };
    eligible.sort_by_key(|&i| key(i));
    let mut ranked: Vec<Ranked> = reviewed
        .iter()
        .map(|(_, a, r, _)| Ranked {
            id: a.id.clone(),
            decision: r.decision,
            points: r.points,
            continuous_months: r.continuous_months,
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
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let mut trace = Trace::default();
    let admitted = ranked.iter().filter(|r| r.admitted).count() as u32;
    trace.step(
        format!(
            "{} {month}：{} 份申请中 {} 份符合条件，按积分排序（同分看连续缴费月数，再看居住证先后，再看申请先后），前 {} 名录取，录取 {admitted} 名",
            scope.region.name_zh,
            ranked.len(),
            eligible.len(),
            req.places
        ),
        format!(
            "{} {month}: of {} applications {} are eligible, ranked by points (ties: more continuous months, then the earlier permit, then the earlier application); the first {} get places: {admitted} admitted",
            scope.region.name_en,
            ranked.len(),
            eligible.len(),
            req.places
        ),
        Vec::new(),
    );
    Ok(RankResult {
        region_code: scope.region.code.to_string(),
        month,
        places: req.places,
        eligible: eligible.len() as u32,
        admitted,
        applications: ranked,
        trace,
    })
}
