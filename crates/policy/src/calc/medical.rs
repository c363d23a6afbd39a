//! C4 — medical insurance for a migrant at the place of residence: the employee scheme (as a
//! flexible worker) against the resident scheme, eligibility, cost and waiting periods.

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::calc::quote::{BaseBasis, BaseRule};
use crate::error::Result;
use crate::load::Policy;
use crate::schema::param;
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MedicalRequest {
    /// Where the worker lives and works.
    pub region: String,
    /// Where the hukou is; absent = local.
    pub hukou_region: Option<String>,
    pub residence_permit: bool,
    pub as_of: Option<YearMonth>,
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    /// Whole years without cover before enrolling now (0 = none).
    pub uncovered_years: u32,
    /// Years of continuous cover since re-enrolling.
    pub continuous_years: u32,
    /// Enrolling in the yearly enrolment window (集中参保期).
    pub in_enrollment_window: bool,
    pub reforms: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EmployeeOption {
    pub eligible: bool,
    pub reason_zh: String,
    pub reason_en: String,
    pub rate_bps: Option<anxin_domain::Bps>,
    pub monthly_fen: Fen,
    pub yearly_fen: Fen,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResidentOption {
    pub eligible: bool,
    pub reason_zh: String,
    pub reason_en: String,
    pub yearly_fen: Fen,
    pub subsidy_yearly_fen: Fen,
    pub waiting_months: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct MedicalResult {
    pub region_code: String,
    pub region_zh: String,
    pub local_hukou: bool,
    pub employee: EmployeeOption,
    pub resident: ResidentOption,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

pub fn medical(policy: &Policy, req: &MedicalRequest, today: YearMonth) -> Result<MedicalResult> {
    let as_of = req.as_of.unwrap_or(today);
    let scope = policy.scope(&req.region, as_of, &req.reforms)?;
    if req.uncovered_years > 100 || req.continuous_years > 100 {
        return Err(crate::Error::bad_input(
            "断保年数和连续参保年数都在 0 到 100 之间",
            "years without cover and years of continuous cover are each 0 to 100",
        ));
    }
    let trace = Trace::default();
    let local = match &req.hukou_region {
        None => true,
        Some(h) => {
            let h = policy.region(h)?;
            // Local when the hukou lies in the region of residence (or the region in the hukou's).
            policy
                .chain(h.code)
                .iter()
                .any(|r| r.code == scope.region.code)
                || policy
                    .chain(scope.region.code)
                    .iter()
                    .any(|r| r.code == h.code && !r.code.is_national() && !r.code.is_province())
        }
    };
    let p = MedicalParams::resolve(&scope)?;
    let f = compute(&p, req, local)?;
    Ok(explain(&p, req, &f, trace))
}

/// The employee scheme for a flexible worker, where its rate is sourced.
#[derive(Clone, Debug)]
pub struct EmployeeMedicalRule {
    pub rate: Bps,
    pub permit_holders_eligible: bool,
    pub rounding: Rounding,
    pub base: BaseRule,
    refs: [ParamRef; 2],
}

/// The resident scheme.
#[derive(Clone, Debug)]
pub struct ResidentMedicalRule {
    pub individual: Fen,
    pub subsidy: Fen,
    pub permit_equal_subsidy: bool,
    pub waiting_fixed_months: i64,
    pub waiting_per_gap_year: i64,
    pub waiting_cut_per_year: i64,
    /// individual, subsidy, equal subsidy, fixed, per gap year, cut per year.
    refs: [ParamRef; 6],
}

/// Everything the medical comparison needs, resolved once from the scope.
#[derive(Clone, Debug)]
pub struct MedicalParams {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    /// `None` where no employee medical rate for flexible workers is sourced yet.
    pub employee: Option<EmployeeMedicalRule>,
    pub resident: ResidentMedicalRule,
}

impl MedicalParams {
    pub fn resolve(scope: &Scope) -> Result<MedicalParams> {
        let employee = match scope.find(param::FLEX_MEDICAL_RATE) {
            None => None,
            Some(_) => {
                let (rate, rate_r) = scope.rate(param::FLEX_MEDICAL_RATE)?;
                let (permit_holders_eligible, p_r) =
                    scope.flag(param::FLEX_MEDICAL_PERMIT_HOLDERS_ELIGIBLE)?;
                let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
                let base = BaseRule::resolve(scope)?;
                Some(EmployeeMedicalRule {
                    rate,
                    permit_holders_eligible,
                    rounding,
                    base,
                    refs: [rate_r, p_r],
                })
            }
        };
        let (individual, i_r) = scope.money(param::RESIDENT_MEDICAL_INDIVIDUAL)?;
        let (subsidy, s_r) = scope.money(param::RESIDENT_MEDICAL_SUBSIDY)?;
        let (permit_equal_subsidy, e_r) =
            scope.flag(param::RESIDENT_MEDICAL_PERMIT_EQUAL_SUBSIDY)?;
        let (waiting_fixed_months, f_r) =
            scope.int(param::RESIDENT_MEDICAL_WAITING_FIXED_MONTHS)?;
        let (waiting_per_gap_year, g_r) =
            scope.int(param::RESIDENT_MEDICAL_WAITING_PER_GAP_YEAR)?;
        let (waiting_cut_per_year, c_r) =
            scope.int(param::RESIDENT_MEDICAL_WAITING_CUT_PER_YEAR)?;
        Ok(MedicalParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            employee,
            resident: ResidentMedicalRule {
                individual,
                subsidy,
                permit_equal_subsidy,
                waiting_fixed_months,
                waiting_per_gap_year,
                waiting_cut_per_year,
                refs: [i_r, s_r, e_r, f_r, g_r, c_r],
            },
        })
    }
}

/// The employee scheme's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmployeeFigures {
    pub basis: BaseBasis,
    pub base: Fen,
    pub monthly: Fen,
    pub eligible: bool,
}

/// The figures of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MedicalFigures {
    pub local: bool,
    pub may_join_locally: bool,
    pub employee: Option<EmployeeFigures>,
    pub on_time: bool,
    pub waiting_months: u32,
    pub resident_subsidy: Fen,
}

/// The comparison, with no explanation. `local`: whether the hukou is local.
pub fn compute(p: &MedicalParams, req: &MedicalRequest, local: bool) -> Result<MedicalFigures> {
    let employee = match &p.employee {
        None => None,
        Some(e) => {
            let basis = BaseBasis::of(req.tier_percent, req.base_fen, false, e.base.tier_min);
            let base = e.base.base(basis, None)?;
            Some(EmployeeFigures {
                basis,
                base,
                monthly: base.times_rate(e.rate, e.rounding),
                eligible: local || (req.residence_permit && e.permit_holders_eligible),
            })
        }
    };
    let r = &p.resident;
    let on_time = req.in_enrollment_window && req.uncovered_years == 0;
    let waiting_months = if on_time {
        0
    } else {
        let variable = (r.waiting_per_gap_year * (req.uncovered_years as i64 - 1).max(0)
            - r.waiting_cut_per_year * req.continuous_years as i64)
            .max(0);
        (r.waiting_fixed_months + variable) as u32
    };
    let resident_subsidy = if local || (req.residence_permit && r.permit_equal_subsidy) {
        r.subsidy
    } else {
        Fen::ZERO
    };
    Ok(MedicalFigures {
        local,
        may_join_locally: local || req.residence_permit,
        employee,
        on_time,
        waiting_months,
        resident_subsidy,
    })
}

/// The result with its explanation, from the parameters and the figures.
pub fn explain(
    p: &MedicalParams,
    req: &MedicalRequest,
    f: &MedicalFigures,
    mut trace: Trace,
) -> MedicalResult {
    let local = f.local;
    let may_join_locally = f.may_join_locally;
    // Employee medical insurance as a flexible worker.
    let employee = match (&p.employee, f.employee) {
        (Some(e), Some(ef)) => {
            e.base.explain(ef.basis, ef.base, None, &mut trace);
            let (rate, monthly, eligible) = (e.rate, ef.monthly, ef.eligible);
            trace.step(
                format!("职工医保（灵活就业）：基数 {} 元 × {rate} = 每月 {monthly} 元{}", ef.base, if eligible { "" } else { "；但外地户籍需要持居住证才能参加" }),
                format!("employee medical (flexible worker): base {} × {rate} = {monthly} yuan a month{}", ef.base, if eligible { "" } else { "; a non-local worker needs a residence permit to join" }),
                e.refs.to_vec(),
            );
            EmployeeOption {
                eligible,
                reason_zh: if eligible {
                    "可以以灵活就业身份参加职工医保".into()
                } else {
                    "外地户籍、没有居住证，不能在本地以灵活就业身份参加职工医保".into()
                },
                reason_en: if eligible {
                    "may join employee medical insurance as a flexible worker".into()
                } else {
                    "non-local without a residence permit: cannot join as a flexible worker here"
                        .into()
                },
                rate_bps: Some(rate),
                monthly_fen: if eligible { monthly } else { Fen::ZERO },
                yearly_fen: if eligible { monthly * 12 } else { Fen::ZERO },
            }
        }
        _ => EmployeeOption {
            eligible: false,
            reason_zh: format!(
                "{} 的灵活就业人员职工医保费率还没有收录，无法计算",
                p.region_zh
            ),
            reason_en: format!(
                "no sourced employee medical rate for flexible workers in {} yet",
                p.region_en
            ),
            rate_bps: None,
            monthly_fen: Fen::ZERO,
            yearly_fen: Fen::ZERO,
        },
    };

    // Resident medical insurance.
    let r = &p.resident;
    let (individual, equal, fixed, per_gap, cut) = (
        r.individual,
        r.permit_equal_subsidy,
        r.waiting_fixed_months,
        r.waiting_per_gap_year,
        r.waiting_cut_per_year,
    );
    let [i_r, s_r, e_r, f_r, g_r, c_r] = r.refs.clone();
    let (on_time, waiting, resident_subsidy) = (f.on_time, f.waiting_months, f.resident_subsidy);
    trace.term("waiting");
    trace.step(
        if on_time {
            "城乡居民医保：在集中参保期按时参保、没有断保，没有等待期".to_string()
        } else {
            format!("城乡居民医保等待期：没按时或断保参保，固定等待 {fixed} 个月；断保 {} 年，每多断 1 年加 {per_gap} 个月；之后连续参保 {} 年，每年减 {cut} 个月；合计 {waiting} 个月", req.uncovered_years, req.continuous_years)
        },
        if on_time {
            "resident medical insurance: enrolled on time with no break, so no waiting period".to_string()
        } else {
            format!("resident medical waiting period: {fixed} fixed months after late or broken enrolment; {per_gap} more per extra year without cover ({} years); {cut} fewer per year of continuous cover since ({}); {waiting} months in all", req.uncovered_years, req.continuous_years)
        },
        vec![f_r, g_r, c_r],
    );
    trace.step(
        format!("城乡居民医保：个人每年交 {individual} 元，财政每人每年补助 {resident_subsidy} 元{}", if !local && req.residence_permit && equal { "（持居住证与本地居民补助标准相同）" } else { "" }),
        format!("resident medical insurance: {individual} yuan a year from you, {resident_subsidy} yuan a year of public subsidy{}", if !local && req.residence_permit && equal { " (residence-permit holders get the same as locals)" } else { "" }),
        vec![i_r, s_r, e_r],
    );
    let resident = ResidentOption {
        eligible: may_join_locally,
        reason_zh: if local {
            "本地户籍，可以参加".into()
        } else if req.residence_permit {
            "持居住证，可以在居住地参加，补助与本地居民相同".into()
        } else {
            "外地户籍没有居住证：应在户籍地参保，或先办理居住证".into()
        },
        reason_en: if local {
            "local hukou: may join".into()
        } else if req.residence_permit {
            "residence permit: may join where you live, with the same subsidy as locals".into()
        } else {
            "non-local without a residence permit: enrol where the hukou is, or get a residence permit first".into()
        },
        yearly_fen: individual,
        subsidy_yearly_fen: resident_subsidy,
        waiting_months: waiting,
    };
    let mut notes = Vec::new();
    if !may_join_locally {
        notes.push(Note::new(
            "办理居住证后，可以在居住地参加医保，看病报销更方便",
            "with a residence permit you can be insured where you live, which makes claims easier",
        ));
    }
    MedicalResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        local_hukou: local,
        employee,
        resident,
        notes,
        trace,
    }
}
