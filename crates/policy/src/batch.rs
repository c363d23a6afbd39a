//! Column-wise evaluation of whole populations (the simulation and monitoring work calls
//! these). Parameters are resolved once per (region, month, reforms); the inner loops are
//! plain integer arithmetic over slices, split across the machine's cores.

use anxin_domain::{Bps, Fen, Rounding};

use crate::calc::pension::{Projector, WorkerInput, WorkerOutcome};
use crate::error::Result;
use crate::scope::{Scope, band_rate};

/// The contribution rule of one region and month, resolved.
#[derive(Clone, Debug)]
pub struct QuoteKernel {
    pub floor: Fen,
    pub ceiling: Fen,
    pub avg: Fen,
    pub tier_min: Bps,
    pub tier_max: Bps,
    pub income_based: bool,
    pub rate: Bps,
    pub rate_bands: Option<Vec<(Fen, Bps)>>,
    pub account_rate: Bps,
    pub subsidy_bands: Option<Vec<(Fen, Bps)>>,
    pub rounding: Rounding,
    pub base_rounding: Rounding,
    pub subsidy_rounding: Rounding,
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
        Ok(QuoteKernel {
            floor: scope.money("flex.base.floor")?.0,
            ceiling: scope.money("flex.base.ceiling")?.0,
            avg: scope.money("flex.base.avg_wage")?.0,
            tier_min: scope.rate("flex.base.tier_min")?.0,
            tier_max: scope.rate("flex.base.tier_max")?.0,
            income_based: scope.flag("flex.base.income_based")?.0,
            rate: scope.rate("flex.pension.rate")?.0,
            rate_bands: scope.bands_opt("flex.pension.rate_bands").map(|b| b.0),
            account_rate: scope.rate("flex.pension.account_rate")?.0,
            subsidy_bands: scope.bands_opt("subsidy.provincial.bands").map(|b| b.0),
            rounding: scope.rounding("rounding.contribution")?.0,
            base_rounding: scope.rounding("rounding.base")?.0,
            subsidy_rounding: scope.rounding("rounding.subsidy")?.0,
        })
    }

    /// The same rule as [`crate::calc::quote::quote`] for one worker-month, without the trace.
    #[inline]
    pub fn one(&self, tier_bps: u32, income_fen: i64) -> QuoteOut {
        let tier = Bps(tier_bps.clamp(self.tier_min.0, self.tier_max.0));
        let base = if self.income_based {
            Fen(income_fen).max(self.floor).min(self.ceiling)
        } else if tier == self.tier_min {
            self.floor
        } else if tier == self.tier_max {
            self.ceiling
        } else {
            self.avg
                .times_rate(tier, self.base_rounding)
                .max(self.floor)
                .min(self.ceiling)
        };
        let rate = match &self.rate_bands {
            Some(b) => band_rate(b, Fen(income_fen)),
            None => self.rate,
        };
        let gross = base.times_rate(rate, self.rounding);
        let account = base.times_rate(self.account_rate.min(rate), self.rounding);
        let subsidy = match &self.subsidy_bands {
            Some(b) => gross.times_rate(band_rate(b, Fen(income_fen)), self.subsidy_rounding),
            None => Fen::ZERO,
        };
        QuoteOut {
            base_fen: base.0,
            gross_fen: gross.0,
            account_fen: account.0,
            subsidy_fen: subsidy.0,
            net_fen: (gross - subsidy).0,
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
