//! Column-wise evaluation of whole populations (the simulation and monitoring work calls
//! these). Parameters are resolved once per (region, month, reforms); the inner loops are
//! plain integer arithmetic over slices, split across the machine's cores.

use anxin_domain::{Bps, Fen};

use crate::calc::pension::{Projector, WorkerInput, WorkerOutcome};
use crate::calc::quote::{BaseBasis, MonthAsk, QuoteParams, compute_month};
use crate::error::Result;
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
