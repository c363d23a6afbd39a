//! A worker's own record as the calculators' requests, built in one place and typed end to
//! end: the pension projection (`长缴多得`), the back-payment of missed months and employee
//! versus resident medical insurance where they live. The server's pages and the command line
//! call these and only render what comes back.

use anxin_domain::codes::{GapReason, Insurance, ProofKind, Status};
use anxin_domain::{Sex, YearMonth};
use anxin_policy::calc::backpay::BackpayRequest;
use anxin_policy::calc::medical::MedicalRequest;
use anxin_policy::calc::pension::{PensionRequest, Scenario, Track};
use anxin_records::account::{MonthState, Summary};
use anxin_records::view::PersonView;

/// The scenarios a worker sees side by side: keep paying, stop after the school year, a
/// year's gap.
pub const SCENARIOS: [Scenario; 3] = [Scenario::Keep, Scenario::StopAfter(12), Scenario::Gap(12)];

/// Most missed months put to the back-payment calculator at once (fifty years).
pub const MAX_MISSED: usize = 600;

/// The summary of `insurance` across every region.
fn across(view: &PersonView, insurance: Insurance) -> Option<&Summary> {
    view.summaries
        .iter()
        .find(|s| s.insurance == insurance && s.region.is_none())
}

/// The pension track of a flexible worker: men retire on the men's schedule, women on the
/// schedule that starts at 55 (flexible workers are not on the 50 schedule of women workers).
pub fn track(sex: Sex) -> Track {
    match sex {
        Sex::Male => Track::Male,
        Sex::Female => Track::Female55,
    }
}

/// The projection request from the worker's own record: where they live, born when, their
/// track, the pension months paid anywhere and the personal account so far; `tier` is the
/// base tier from now on (percent of the average wage), `None` for the region's floor.
pub fn pension_request(view: &PersonView, tier: Option<u32>) -> PensionRequest {
    let pension = across(view, Insurance::Pension);
    PensionRequest {
        region: format!("{:06}", view.row.residence_region),
        birth: view.id.birth_month(),
        track: track(view.id.sex()),
        paid_months: pension.map_or(0, |s| s.paid_months),
        account_balance_fen: pension.map_or(0, |s| s.account_fen),
        tier_percent: tier,
        scenarios: SCENARIOS.to_vec(),
        ..Default::default()
    }
}

/// Pension months missed (no record or unpaid) in the region of residence, oldest first, at
/// most [`MAX_MISSED`].
pub fn missed_months(view: &PersonView) -> Vec<YearMonth> {
    missed_in(&view.summaries, view.row.residence_region)
}

/// Pension months missed (no record or unpaid) between the first and the last month recorded
/// in `home`, oldest first, at most [`MAX_MISSED`].
pub fn missed_in(summaries: &[Summary], home: u32) -> Vec<YearMonth> {
    summaries
        .iter()
        .filter(|s| s.insurance == Insurance::Pension && s.region == Some(home))
        .flat_map(|s| s.gaps.iter())
        .filter(|g| matches!(g.state, MonthState::Missing | MonthState::Unpaid))
        .flat_map(|g| {
            let mut m = g.from;
            std::iter::from_fn(move || {
                (m <= g.to).then(|| {
                    let this = m;
                    m = m.plus(1);
                    this
                })
            })
        })
        .take(MAX_MISSED)
        .collect()
}

/// The back-payment request for the missed months where the worker lives; `None` when none
/// is missed.
pub fn backpay_request(view: &PersonView) -> Option<BackpayRequest> {
    let missed = missed_months(view);
    (!missed.is_empty()).then(|| BackpayRequest {
        region: format!("{:06}", view.row.residence_region),
        missed,
        ..Default::default()
    })
}

/// Employee versus resident medical insurance where the worker lives: their hukou, whether
/// their residence permit is for that city, and the whole years of their current run of
/// medical insurance (months are counted as whole years, as the rules count them).
pub fn medical_request(view: &PersonView) -> MedicalRequest {
    let home = view.row.residence_region;
    let medical_months = across(view, Insurance::Medical)
        .and_then(|s| s.current_run.as_ref())
        .map_or(0, |r| r.months);
    MedicalRequest {
        region: format!("{home:06}"),
        hukou_region: view.row.hukou_region.map(|h| format!("{h:06}")),
        residence_permit: view.row.permit_region == Some(home),
        continuous_years: medical_months / 12,
        ..Default::default()
    }
}

/// The school self-check a guardian fills in (`/school`): the city and month of the
/// application, the span they paid pension in that city, one gap inside it with its reason,
/// and what else they hold. Turned into the school calculator's typed request here, so the
/// page only reads the form and renders the result.
#[derive(Debug, Clone)]
pub struct SelfCheck {
    pub region: String,
    pub month: YearMonth,
    pub paid_from: YearMonth,
    pub paid_to: YearMonth,
    /// The gap's first month and length (months, 0–120).
    pub gap: Option<(YearMonth, i32)>,
    /// Why the gap happened (a gap-reason code), with evidence.
    pub gap_reason: GapReason,
    pub permit: bool,
    /// The month the residence permit was issued, when known (for its years' points).
    pub permit_since: Option<YearMonth>,
    pub hardship: bool,
    /// Other proofs shown (proof codes).
    pub proofs: Vec<ProofKind>,
}

/// The self-check prefilled from a worker's own record for an application in `month`: the
/// city they live in, their current unbroken run of pension months there (reaching back over
/// the one excused gap before it, with its recorded reason, when that is the only gap), and
/// their residence permit of that city (with its month of issue). `None` when they have paid
/// no pension month where they live (nothing to prefill but the city).
pub fn self_check_of(view: &PersonView, month: YearMonth) -> Option<SelfCheck> {
    use anxin_domain::Code as _;
    use anxin_domain::codes::GapReason;
    let home = view.row.residence_region;
    let summary = view
        .summaries
        .iter()
        .find(|s| s.insurance == Insurance::Pension && s.region == Some(home))?;
    let run = summary.current_run.as_ref()?;
    let home_code = anxin_domain::RegionCode::parse(&format!("{home:06}")).ok()?;
    let (permit, permit_since) = crate::school::permit_in(&view.row, home_code);
    // One excused gap right before the run, with a single recorded reason: the self-check's
    // one gap (the school rules may forgive it).
    let excused = match summary.gaps.as_slice() {
        [g] if g.state == MonthState::Excused
            && g.to.plus(1) == run.from
            && (g.months as i32) <= MAX_GAP_MONTHS =>
        {
            match g.reasons.as_slice() {
                [r] => GapReason::from_code(r).map(|reason| (g.from, g.months as i32, reason)),
                _ => None,
            }
        }
        _ => None,
    };
    let (paid_from, gap, gap_reason) = match (excused, summary.first) {
        (Some((from, months, reason)), Some(first))
            if first <= from && first.months_until(run.to) < MAX_SPAN_MONTHS =>
        {
            (first, Some((from, months)), reason)
        }
        _ => (run.from, None, GapReason::Other),
    };
    Some(SelfCheck {
        region: format!("{home:06}"),
        month,
        paid_from,
        paid_to: run.to,
        gap,
        gap_reason,
        permit,
        permit_since,
        hardship: false,
        proofs: Vec::new(),
    })
}

/// Longest span a self-check may describe (fifty years), and longest gap (ten years).
pub const MAX_SPAN_MONTHS: i32 = 600;
pub const MAX_GAP_MONTHS: i32 = 120;

impl SelfCheck {
    /// The request under the law in force, or under the proposal "cumulative first,
    /// continuous second" (`reform`).
    pub fn request(&self, reform: bool) -> anxin_policy::calc::school::SchoolRequest {
        use anxin_policy::calc::school::{MonthRecord, Proof, SchoolRequest};
        let in_gap = |m: YearMonth| {
            self.gap
                .is_some_and(|(from, months)| m >= from && from.months_until(m) < months)
        };
        let mut months = Vec::new();
        let mut m = self.paid_from;
        while m <= self.paid_to && self.paid_from.months_until(m) < MAX_SPAN_MONTHS {
            let gap = in_gap(m);
            months.push(MonthRecord {
                month: m,
                insurance: Insurance::Pension,
                status: if gap { Status::Excused } else { Status::Paid },
                reason: gap.then_some(self.gap_reason),
                evidence: gap,
            });
            m = m.plus(1);
        }
        SchoolRequest {
            region: self.region.clone(),
            month: Some(self.month),
            permit: self.permit,
            permit_since: self.permit_since.filter(|_| self.permit),
            hardship: self.hardship,
            reforms: if reform {
                vec!["school-cumulative-first".to_string()]
            } else {
                Vec::new()
            },
            months,
            proofs: self
                .proofs
                .iter()
                .map(|&kind| Proof { kind, since: None })
                .collect(),
            ..Default::default()
        }
    }
}

/// The tiers a worker may pick for their base, in percent of the average wage (the national
/// range 60–300 %; a city's own range is enforced by the calculator).
pub const TIERS: [u32; 10] = [60, 70, 80, 90, 100, 120, 150, 200, 250, 300];

/// What the monthly bill is asked for: the city, the income (for the burden), the tier
/// (`None`: the lowest), and the hukou and permit that decide who may join employee medical
/// insurance there (`hukou_region: None` is read as a local hukou, and said so).
#[derive(Debug, Clone, Default)]
pub struct BillAsk {
    pub region: String,
    pub income_fen: Option<i64>,
    pub tier_percent: Option<u32>,
    pub hukou_region: Option<String>,
    pub residence_permit: bool,
}

/// The bill for a signed-in worker in the city they live in, with their hukou and permit.
pub fn bill_ask_of(view: &PersonView) -> BillAsk {
    let m = medical_request(view);
    BillAsk {
        region: m.region,
        hukou_region: m.hukou_region,
        residence_permit: m.residence_permit,
        ..Default::default()
    }
}

/// Employee medical insurance in the monthly bill: its amount, or why it is not in it.
#[derive(Debug, Clone)]
pub enum MedicalLine {
    /// Payable each month as a flexible worker (the medical calculator's figure).
    Monthly {
        fen: anxin_domain::Fen,
        rate: anxin_domain::Bps,
    },
    /// No rate for flexible workers is recorded for the city: not recorded, with the reason.
    NotRecorded { zh: String, en: String },
    /// The worker may not join it here (say, a non-local hukou without a permit).
    NotEligible { zh: String, en: String },
}

/// A flexible worker's whole monthly bill in a city: pension (the quote calculator) plus
/// employee medical insurance on the same tier (the medical calculator).
#[derive(Debug, Clone)]
pub struct Bill {
    pub pension: anxin_policy::calc::quote::QuoteResult,
    pub medical: MedicalLine,
    /// The medical calculator's explanation (with its sources), when it ran.
    pub medical_trace: Option<anxin_policy::Trace>,
    /// Pension plus medical where medical is payable; the pension alone otherwise.
    pub total_fen: anxin_domain::Fen,
    /// Whether the hukou was assumed local (no record to say otherwise).
    pub hukou_assumed_local: bool,
}

pub fn monthly_bill(
    policy: &anxin_policy::Policy,
    ask: &BillAsk,
    today: YearMonth,
) -> anxin_policy::Result<Bill> {
    use anxin_policy::calc::quote::{QuoteRequest, quote};
    let pension = quote(
        policy,
        &QuoteRequest {
            region: ask.region.clone(),
            income_fen: ask.income_fen,
            tier_percent: ask.tier_percent,
            ..Default::default()
        },
        today,
    )?;
    // The medical calculator may lack a figure for the city (no rate, no resident scheme
    // recorded): the bill then says "not recorded" with the calculator's reason.
    let med = anxin_policy::calc::medical::medical(
        policy,
        &MedicalRequest {
            region: ask.region.clone(),
            hukou_region: ask.hukou_region.clone(),
            residence_permit: ask.residence_permit,
            tier_percent: ask.tier_percent,
            ..Default::default()
        },
        today,
    );
    let (medical, medical_trace) = match med {
        Err(e) => (MedicalLine::NotRecorded { zh: e.zh, en: e.en }, None),
        Ok(med) => {
            let e = &med.employee;
            let line = match e.rate_bps {
                None => MedicalLine::NotRecorded {
                    zh: e.reason_zh.clone(),
                    en: e.reason_en.clone(),
                },
                Some(_) if !e.eligible => MedicalLine::NotEligible {
                    zh: e.reason_zh.clone(),
                    en: e.reason_en.clone(),
                },
                Some(rate) => MedicalLine::Monthly {
                    fen: e.monthly_fen,
                    rate,
                },
            };
            (line, Some(med.trace))
        }
    };
    let total_fen = match &medical {
        MedicalLine::Monthly { fen, .. } => pension.monthly_fen + *fen,
        _ => pension.monthly_fen,
    };
    Ok(Bill {
        pension,
        medical,
        medical_trace,
        total_fen,
        hukou_assumed_local: ask.hukou_region.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anxin_records::account::{Gap, Run};

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).unwrap()
    }

    fn view(gaps: Vec<Gap>, first: YearMonth, run: Run) -> PersonView {
        let id = anxin_domain::ResidentId::parse("33010619900101123X").unwrap();
        PersonView {
            key: anxin_records::PersonKey([0; 32]),
            id,
            name: String::new(),
            row: anxin_records::store::PersonRow {
                person: [0; 32],
                sealed: Vec::new(),
                hukou_region: Some(341200),
                residence_region: 330100,
                employment_form: String::new(),
                platforms: String::new(),
                permit_region: Some(330100),
                permit_since: Some("2023-03-01".into()),
                household: None,
                seq: 0,
            },
            children: 0,
            summaries: vec![Summary {
                insurance: Insurance::Pension,
                region: Some(330100),
                paid_months: 0,
                back_paid_months: 0,
                first: Some(first),
                last: Some(run.to),
                longest_run: Some(run.clone()),
                current_run: Some(run),
                gaps,
                amount_fen: 0,
                account_fen: 0,
                by_payer_fen: Default::default(),
            }],
            months: Vec::new(),
            org_names: Default::default(),
        }
    }

    /// The prefill reaches back over one excused gap before the current run, with its
    /// reason, so the reform's grace can apply; any other gap leaves the current run alone.
    #[test]
    fn the_self_check_prefill_carries_an_excused_gap() {
        let run = Run {
            from: ym(2026, 5),
            to: ym(2026, 9),
            months: 5,
        };
        let childbirth = Gap {
            from: ym(2026, 3),
            to: ym(2026, 4),
            months: 2,
            state: MonthState::Excused,
            reasons: vec!["childbirth".into()],
        };
        let v = view(vec![childbirth.clone()], ym(2025, 1), run.clone());
        let check = self_check_of(&v, ym(2026, 9)).unwrap();
        assert_eq!(
            (check.paid_from, check.paid_to, check.gap),
            (ym(2025, 1), ym(2026, 9), Some((ym(2026, 3), 2)))
        );
        assert_eq!(check.gap_reason, anxin_domain::codes::GapReason::Childbirth);
        assert!(check.permit);
        assert_eq!(check.permit_since, Some(ym(2023, 3)));
        let unpaid = Gap {
            state: MonthState::Unpaid,
            reasons: Vec::new(),
            ..childbirth
        };
        let v = view(vec![unpaid], ym(2025, 1), run);
        let check = self_check_of(&v, ym(2026, 9)).unwrap();
        assert_eq!((check.paid_from, check.gap), (ym(2026, 5), None));
    }

    /// The self-check passes the codes themselves: a childbirth gap with evidence inside a
    /// paid span is forgiven under the reform and breaks the run under the law in force.
    #[test]
    fn the_self_check_request_is_typed() {
        let ym = |s: &str| YearMonth::parse(s).expect("month");
        let check = SelfCheck {
            region: "330100".into(),
            month: ym("2026-09"),
            paid_from: ym("2024-01"),
            paid_to: ym("2026-09"),
            gap: Some((ym("2025-03"), 3)),
            gap_reason: GapReason::Childbirth,
            permit: true,
            hardship: false,
            proofs: vec![ProofKind::TaxRecords],
            permit_since: None,
        };
        let req = check.request(true);
        let gap: Vec<_> = req
            .months
            .iter()
            .filter(|m| m.status == Status::Excused)
            .collect();
        assert_eq!(gap.len(), 3);
        assert!(gap.iter().all(|m| m.reason == Some(GapReason::Childbirth)
            && m.evidence
            && m.insurance == Insurance::Pension));
        assert_eq!(req.proofs[0].kind, ProofKind::TaxRecords);
        let policy = anxin_policy::Policy::embedded().expect("policy");
        let r = anxin_policy::calc::school::review(&policy, &req, check.month).expect("review");
        assert_eq!(r.forgiven.len(), 1);
        assert_eq!(r.forgiven[0].reason, "childbirth");
        let r = anxin_policy::calc::school::review(&policy, &check.request(false), check.month)
            .expect("review");
        assert!(r.forgiven.is_empty());
    }
}
