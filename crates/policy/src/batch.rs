//! Column-wise evaluation of whole populations (the simulation and monitoring work calls
//! these). Parameters are resolved once per (region, month, reforms); the inner loops are
//! plain integer arithmetic over slices, split across the machine's cores.

use anxin_domain::{Bps, Fen};

use crate::calc::pension::{Projector, WorkerInput, WorkerOutcome};
use crate::calc::quote::{BaseBasis, MonthAsk, MonthFigures, QuoteParams, compute_month};
use crate::error::{Error, Result};
use crate::scope::Scope;

/// The contribution rule of one region and month, resolved once: the calculator's own
/// [`QuoteParams`], evaluated by the calculator's own [`compute_month`] — no second copy of a
/// rule.
#[derive(Clone, Debug)]
pub struct QuoteKernel {
    pub params: QuoteParams,
    income_based: bool,
}

/// One worker-month: the tier chosen (basis points of the average wage; 0 = lowest) and the
/// month's income (fen; used by income-band reforms and subsidies).
#[derive(Clone, Copy, Debug, Default)]
pub struct QuoteOut {
    pub base_fen: i64,
    pub gross_fen: i64,
    pub account_fen: i64,
    pub subsidy_fen: i64,
    pub net_fen: i64,
}

impl QuoteKernel {
    pub fn load(scope: &Scope) -> Result<QuoteKernel> {
        let params = QuoteParams::resolve(scope)?;
        Ok(QuoteKernel {
            income_based: params.base.income_based_allowed(),
            params,
        })
    }

    /// The ask of one worker-month: the base follows income where the parameters allow it,
    /// otherwise the tier, kept within the allowed tiers; no personal subsidy conditions.
    #[inline]
    pub fn ask(&self, tier_bps: u32, income_fen: i64) -> MonthAsk {
        let b = &self.params.base;
        MonthAsk {
            basis: if self.income_based {
                BaseBasis::Income
            } else {
                BaseBasis::Tier(Bps(tier_bps.clamp(b.tier_min.0, b.tier_max.0)))
            },
            income: Some(Fen(income_fen)),
            employment_difficulty: false,
            school_first_enrollment: false,
            household_hardship: false,
        }
    }

    /// [`crate::calc::quote::quote`]'s figures for one worker-month, without the trace; all
    /// zero if the rule refuses the month (it cannot for an ask made by [`QuoteKernel::ask`]).
    #[inline]
    pub fn one(&self, tier_bps: u32, income_fen: i64) -> QuoteOut {
        match compute_month(&self.params, &self.ask(tier_bps, income_fen)) {
            Ok(f) => QuoteOut {
                base_fen: f.base.0,
                gross_fen: f.monthly.0,
                account_fen: f.account.0,
                subsidy_fen: f.paid_now.0,
                net_fen: f.net.0,
            },
            Err(_) => QuoteOut::default(),
        }
    }

    /// Evaluates columns `tiers_bps` and `incomes_fen` (equal length) into `out`.
    pub fn run(&self, tiers_bps: &[u32], incomes_fen: &[i64], out: &mut [QuoteOut]) {
        let n = tiers_bps.len().min(incomes_fen.len()).min(out.len());
        par_zip(n, out, |start, chunk| {
            for (i, o) in chunk.iter_mut().enumerate() {
                *o = self.one(tiers_bps[start + i], incomes_fen[start + i]);
            }
        });
    }
}

/// One person of a quote population file: the base chosen (`None`: the income where the
/// parameters let the base follow it, else the lowest tier) and the monthly income.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteRow {
    pub base: Option<Fen>,
    pub income: Fen,
}

impl QuoteKernel {
    /// The calculator's ask for a population file's row, exactly as `anxin quote --base B
    /// --income I` asks (`--income-based` where the parameters allow it and no base is given).
    pub fn ask_row(&self, row: &QuoteRow) -> Result<MonthAsk> {
        if row.income < Fen::ZERO {
            return Err(Error::bad_input(
                format!("月收入 {} 元不能为负数", row.income),
                format!("the monthly income {} yuan cannot be negative", row.income),
            ));
        }
        let b = &self.params.base;
        Ok(MonthAsk {
            basis: BaseBasis::of(
                None,
                row.base.map(|f| f.0),
                row.base.is_none() && self.income_based,
                b.tier_min,
            ),
            income: Some(row.income),
            employment_difficulty: false,
            school_first_enrollment: false,
            household_hardship: false,
        })
    }

    /// Every row of a population file through the quote's own [`compute_month`], in
    /// parallel; a row the rule refuses keeps the calculator's reason.
    pub fn rows(&self, rows: &[QuoteRow]) -> Vec<Result<MonthFigures>> {
        let mut out: Vec<Result<MonthFigures>> = vec![Ok(MonthFigures::default()); rows.len()];
        let n = rows.len();
        par_zip(n, &mut out, |start, chunk| {
            for (i, o) in chunk.iter_mut().enumerate() {
                *o = self
                    .ask_row(&rows[start + i])
                    .and_then(|ask| compute_month(&self.params, &ask));
            }
        });
        out
    }
}

/// One person of a pension population file, on the day they retire: the average wage the
/// pension is calculated on (计发基数), the average contribution index in basis points
/// (1.00 = 10 000), the months paid, the personal-account balance and the retirement age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PensionRow {
    pub avg_wage: Fen,
    pub index_bps: u32,
    pub months: u32,
    pub balance: Fen,
    pub retirement_age_months: u32,
}

/// The pension of one [`PensionRow`], fen a month; zero when the months are fewer than the
/// minimum for the year of retirement (`eligible` false), as the calculator gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PensionOut {
    pub eligible: bool,
    pub min_months: u32,
    pub payout_tenths: u32,
    pub basic_fen: i64,
    pub account_fen: i64,
    pub total_fen: i64,
}

/// Evaluates pension population rows for people retiring in `year`, through the
/// projector's own [`Projector::at_retirement`] (where every projection ends), in parallel.
/// `max_index_bps` is the highest contribution tier the region allows; a row outside what
/// is possible is refused with its reason.
pub fn pension_rows(
    proj: &Projector,
    year: i64,
    max_index_bps: u32,
    rows: &[PensionRow],
) -> Vec<Result<PensionOut>> {
    let (first, last) = proj.payout_ages();
    let one = |r: &PensionRow| -> Result<PensionOut> {
        if r.avg_wage <= Fen::ZERO || r.balance < Fen::ZERO {
            return Err(Error::bad_input(
                "平均工资必须大于 0，账户余额不能为负数",
                "the average wage must be above 0 and the account balance cannot be negative",
            ));
        }
        if r.index_bps > max_index_bps {
            return Err(Error::bad_input(
                format!(
                    "平均缴费指数 {} 超过最高档 {}",
                    Bps(r.index_bps),
                    Bps(max_index_bps)
                ),
                format!(
                    "the average contribution index {} is above the highest tier {}",
                    Bps(r.index_bps),
                    Bps(max_index_bps)
                ),
            ));
        }
        let age = r.retirement_age_months as i64;
        if age < first || age > last || r.months as i64 > age - 16 * 12 {
            let (y, m, paid, lo, hi) = (age / 12, age % 12, r.months, first / 12, last / 12);
            return Err(Error::bad_input(
                format!(
                    "退休年龄 {age} 个月（{y} 岁 {m} 个月）或已缴 {paid} 个月不可能：计发月数表只有 {lo}–{hi} 岁，缴费从 16 岁起"
                ),
                format!(
                    "retirement age {age} months ({y} years {m} months) or {paid} months paid is impossible: the payout table covers ages {lo}–{hi}, contributions start at 16"
                ),
            ));
        }
        let min_months = proj.min_months_in(year);
        let eligible = r.months >= min_months;
        let (basic, account) = if eligible {
            proj.at_retirement(r.avg_wage.0, r.index_bps as i64, r.months, r.balance.0, age)
        } else {
            (0, 0)
        };
        Ok(PensionOut {
            eligible,
            min_months,
            payout_tenths: proj.payout_tenths(age),
            basic_fen: basic,
            account_fen: account,
            total_fen: basic + account,
        })
    };
    let mut out: Vec<Result<PensionOut>> = vec![Ok(PensionOut::default()); rows.len()];
    par_zip(rows.len(), &mut out, |start, chunk| {
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = one(&rows[start + i]);
        }
    });
    out
}

/// Projects every worker of a population to retirement, in parallel.
pub fn project_population(
    proj: &Projector,
    as_of_index: i32,
    workers: &[WorkerInput],
    out: &mut [WorkerOutcome],
) {
    let n = workers.len().min(out.len());
    par_zip(n, out, |start, chunk| {
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = proj.project(as_of_index, &workers[start + i]);
        }
    });
}

/// Splits `out[..n]` into one chunk per core and runs `f(start_index, chunk)` on each.
fn par_zip<T: Send>(n: usize, out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .max(1);
    let out = &mut out[..n];
    if n < 4096 || threads == 1 {
        f(0, out);
        return;
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (k, part) in out.chunks_mut(chunk).enumerate() {
            let f = &f;
            s.spawn(move || f(k * chunk, part));
        }
    });
}
