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
    let home = view.row.residence_region;
    view.summaries
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
    pub hardship: bool,
    /// Other proofs shown (proof codes).
    pub proofs: Vec<ProofKind>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
