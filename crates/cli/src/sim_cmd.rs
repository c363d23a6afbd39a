//! `anxin simulate --reform R --years N --seed S`: the microsimulation of
//! `anxin_policy::sim`, a one-screen summary on stdout (Chinese, English with `--lang en`) and
//! every table as CSV in the output directory. This module parses and renders only.

use std::path::{Path, PathBuf};

use anxin_domain::{Fen, YearMonth};
use anxin_policy::sim::{self, SimParams, SimRequest, YearStats};
use anxin_policy::{Lang, Policy};
use clap::Args;

use crate::fail::{Fail, Result};

#[derive(Args)]
pub struct SimArgs {
    /// A reform to compare with the law in force (repeatable; each alone, and all together).
    #[arg(long = "reform")]
    reforms: Vec<String>,
    /// Years to follow.
    #[arg(long, default_value_t = 10)]
    years: u32,
    /// The seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// People in the synthetic population.
    #[arg(long, default_value_t = 100_000)]
    persons: u32,
    /// Everyone in this region instead of the population file's region mix.
    #[arg(long, short)]
    region: Option<String>,
    /// The first simulated month (YYYY-MM); default: this month.
    #[arg(long, value_parser = crate::parse_month)]
    start: Option<YearMonth>,
    /// A population file instead of the one shipped (policy/simulation/zhejiang-flex.toml).
    #[arg(long)]
    population: Option<PathBuf>,
    /// Where to write the tables as CSV.
    #[arg(long, default_value = "simulation")]
    out: PathBuf,
}

fn io_fail(path: &Path, e: impl std::fmt::Display) -> Fail {
    Fail::data(
        format!("写 {} 失败：{e}", path.display()),
        format!("writing {} failed: {e}", path.display()),
    )
}

pub fn run(policy: &Policy, today: YearMonth, a: SimArgs, lang: Lang, json: bool) -> Result<()> {
    let params = match &a.population {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| io_fail(p, e))?;
            SimParams::parse(&text, &p.display().to_string())?
        }
        None => SimParams::embedded()?,
    };
    let req = SimRequest {
        seed: a.seed,
        persons: a.persons,
        years: a.years,
        start: a.start.unwrap_or(today),
        reforms: a.reforms.clone(),
        region: a.region.clone(),
    };
    let res = sim::simulate(policy, &params, &req)?;
    let tables = sim::tables(&res, &params);
    std::fs::create_dir_all(&a.out).map_err(|e| io_fail(&a.out, e))?;
    let mut files = Vec::new();
    for (name, (header, rows)) in &tables {
        let path = a.out.join(format!("{name}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| io_fail(&path, e))?;
        w.write_record(header).map_err(|e| io_fail(&path, e))?;
        for r in rows {
            w.write_record(r).map_err(|e| io_fail(&path, e))?;
        }
        w.flush().map_err(|e| io_fail(&path, e))?;
        files.push(path.display().to_string());
    }
    if json {
        println!("{}", serde_json::json!({ "tables": files }));
        return Ok(());
    }
    print!("{}", summary(&res, &params, lang, &a.out));
    Ok(())
}

/// Yuan in 万元 (zh) or million yuan (en), one decimal, from fen by integer arithmetic.
fn big(f: i64, lang: Lang) -> String {
    let unit: i64 = if lang == Lang::En {
        100_000_000
    } else {
        1_000_000
    };
    let tenths = (f.abs() * 10 + unit / 2) / unit;
    let sign = if f < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths / 10, tenths % 10)
}

fn share(a: u64, b: u64) -> String {
    (a * 10_000)
        .checked_div(b)
        .map(|v| format!("{} %", sim::bps(v as i64)))
        .unwrap_or_else(|| "–".into())
}

fn summary(res: &sim::SimResult, params: &SimParams, lang: Lang, out: &Path) -> String {
    let en = lang == Lang::En;
    let r = &res.request;
    let mut s = String::new();
    let last_year = r.start.year() + r.years as i32 - 1;
    if en {
        s += &format!(
            "{} — {} persons, {}–{}, seed {}\nregions {}; every figure of the population is in calibration.csv (assumptions marked)\n\n",
            params.meta.title_en,
            r.persons,
            r.start.year(),
            last_year,
            r.seed,
            res.regions.join(" ")
        );
        s += "scenario             coverage(first→last)  retention  contributions  pooling  accounts  subsidy prov.  paid by workers  mean pension  replacement\n";
        s += "                     flexible workers                  (million yuan over the window)                                        (yuan/month)\n";
    } else {
        s += &format!(
            "{} — {} 人，{}–{} 年，种子 {}\n地区 {}；人口的每个数字及出处见 calibration.csv（假设已标明）\n\n",
            params.meta.title_zh,
            r.persons,
            r.start.year(),
            last_year,
            r.seed,
            res.regions.join(" ")
        );
        s += "方案                 灵活就业参保率(首年→末年)  续保率  缴费合计  统筹基金  个人账户  省级补贴  个人实缴  平均养老金  替代率\n";
        s += "                                                       （窗口期合计，万元）                      （元/月）\n";
    }
    for sc in &res.scenarios {
        let mut w = YearStats::default();
        for st in &sc.years {
            w.alive += st.alive;
            w.stayed += st.stayed;
            w.paid_before += st.paid_before;
            w.gross += st.gross;
            w.pooling += st.pooling;
            w.account += st.account;
            w.subsidy_provincial += st.subsidy_provincial;
            w.net += st.net;
        }
        let first = sc.years.first().copied().unwrap_or_default();
        let last = sc.years.last().copied().unwrap_or_default();
        let (mean, repl) = sim::pension_means(res, sc);
        s += &format!(
            "{:<20} {:>9} → {:<9}  {:>9}  {:>9}  {:>8}  {:>8}  {:>8}  {:>8}  {:>9}  {:>7} %\n",
            sc.name,
            share(first.paying, first.flexible()),
            share(last.paying, last.flexible()),
            share(w.stayed, w.paid_before),
            big(w.gross, lang),
            big(w.pooling, lang),
            big(w.account, lang),
            big(w.subsidy_provincial, lang),
            big(w.net, lang),
            Fen(mean).yuan_string(),
            repl,
        );
    }
    let base = &res.scenarios[0];
    for sc in &res.scenarios[1..] {
        let mut bands = [0u64; 5];
        for (b, p) in base.people.iter().zip(&sc.people) {
            bands[sim::band(b.pension, p.pension)] += 1;
        }
        let n = base.people.len() as u64;
        if en {
            s += &format!(
                "\n{} against the law in force — pensions: gain >5 % {}, gain ≤5 % {}, no change {}, lose ≤5 % {}, lose >5 % {}",
                sc.name,
                share(bands[0], n),
                share(bands[1], n),
                share(bands[2], n),
                share(bands[3], n),
                share(bands[4], n)
            );
        } else {
            s += &format!(
                "\n{} 对比现行规定 — 养老金：增加超过5% {}，增加不超过5% {}，不变 {}，减少不超过5% {}，减少超过5% {}",
                sc.name,
                share(bands[0], n),
                share(bands[1], n),
                share(bands[2], n),
                share(bands[3], n),
                share(bands[4], n)
            );
        }
    }
    if en {
        s += &format!(
            "\n\nThe participation model and most mixes are assumptions (policy/simulation). Tables: {}/years.csv, window.csv, deciles.csv, winners.csv, calibration.csv\n",
            out.display()
        );
    } else {
        s += &format!(
            "\n\n参保行为模型和多数人口构成是假设（见 policy/simulation）。各表：{}/years.csv、window.csv、deciles.csv、winners.csv、calibration.csv\n",
            out.display()
        );
    }
    s
}
