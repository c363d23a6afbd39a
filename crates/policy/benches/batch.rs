//! Population-scale benchmarks (issue: ≥ 5 M worker-month quotes per second per core; 10 M
//! full-career pension projections in < 10 s on 2 cores).
//!
//! Each measured path runs beside a baseline on the same data: `baseline_rate_only` is the
//! least any quote can do (base × rate, nothing else), so the ratio shows what the policy
//! rules cost on top of the arithmetic itself.
//!
//! Run: `cargo bench -p anxin-policy --bench batch`

use std::hint::black_box;

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use anxin_policy::batch::{QuoteKernel, QuoteOut, project_population};
use anxin_policy::calc::pension::{Projector, WorkerInput, WorkerOutcome};
use anxin_policy::{Policy, Trace};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A deterministic synthetic population (xorshift), incomes mostly 3000–7000 yuan.
fn population(n: usize) -> (Vec<u32>, Vec<i64>) {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let tiers = [6000u32, 6000, 6000, 8000, 10_000, 15_000, 30_000];
    let mut t = Vec::with_capacity(n);
    let mut inc = Vec::with_capacity(n);
    for _ in 0..n {
        t.push(tiers[(next() % tiers.len() as u64) as usize]);
        inc.push(300_000 + (next() % 400_000) as i64);
    }
    (t, inc)
}

fn quotes(c: &mut Criterion) {
    let policy = Policy::embedded().expect("policy files");
    let month = YearMonth::parse("2026-06").unwrap();
    let n = 1_000_000;
    let (tiers, incomes) = population(n);
    let mut out = vec![QuoteOut::default(); n];
    let mut g = c.benchmark_group("quote_1M_worker_months");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    g.bench_function("baseline_rate_only", |b| {
        let mut o = vec![0i64; n];
        b.iter(|| {
            for (i, t) in tiers.iter().enumerate() {
                o[i] = Fen(481_200)
                    .times_rate(Bps(2000 + (*t & 1)), Rounding::HalfUpFen)
                    .0;
            }
            black_box(&o);
        })
    });
    for (label, reforms) in [
        ("law_in_force", vec![]),
        (
            "income_band_and_subsidy",
            vec![
                "income-band-rate".to_string(),
                "provincial-subsidy".to_string(),
            ],
        ),
    ] {
        let scope = policy.scope("330000", month, &reforms).unwrap();
        let k = QuoteKernel::load(&scope).unwrap();
        g.bench_function(format!("kernel_1_core/{label}"), |b| {
            b.iter(|| {
                for i in 0..n {
                    out[i] = k.one(tiers[i], incomes[i]);
                }
                black_box(&out);
            })
        });
        g.bench_function(format!("kernel_all_cores/{label}"), |b| {
            b.iter(|| k.run(&tiers, &incomes, black_box(&mut out)))
        });
    }
    g.finish();
}

fn pensions(c: &mut Criterion) {
    let policy = Policy::embedded().expect("policy files");
    let as_of = YearMonth::parse("2026-06").unwrap();
    let scope = policy.scope("330000", as_of, &[]).unwrap();
    let proj = Projector::load(&scope, &mut Trace::default()).unwrap();
    let n = 10_000_000;
    let mut s: u64 = 42;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let workers: Vec<WorkerInput> = (0..n)
        .map(|_| {
            let birth =
                YearMonth::new(1966 + (next() % 40) as i32, 1 + (next() % 12) as u32).unwrap();
            let paid = (next() % 180) as u32;
            WorkerInput {
                birth: birth.index(),
                track: (next() % 3) as u8,
                paid_months: paid,
                past_tier_bps: 6000,
                balance_fen: paid as i64 * 38_496,
                monthly_account_fen: 38_496,
                tier_bps: 6000,
                pay_from: 0,
                pay_until: (next() % 480) as u32,
            }
        })
        .collect();
    let mut out = vec![WorkerOutcome::default(); n];
    let mut g = c.benchmark_group("pension_10M_full_career");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("baseline_sum_of_contributions", |b| {
        b.iter_batched(
            || (),
            |_| {
                let s: i64 = workers
                    .iter()
                    .map(|w| w.monthly_account_fen * w.pay_until as i64)
                    .sum();
                black_box(s)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("projection_all_cores", |b| {
        b.iter(|| project_population(&proj, as_of.index(), &workers, black_box(&mut out)))
    });
    g.finish();
}

criterion_group!(benches, quotes, pensions);
criterion_main!(benches);
