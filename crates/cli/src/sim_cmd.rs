//! `anxin simulate --reform R --years N --seed S`: the microsimulation of
//! `anxin_policy::sim`, a one-screen summary on stdout (Chinese, English with `--lang en`) and
//! every table as CSV and as Parquet in the output directory. The run, its bounds and its summary are
//! `anxin_service::analyst`'s, the same as the analyst's page; this module parses and renders
//! only.

use std::path::{Path, PathBuf};

use anxin_domain::{Fen, YearMonth};
use anxin_policy::sim::{SimParams, SimRequest};
use anxin_policy::{Lang, Policy};
use anxin_service::analyst::{self, Bounds, Desk};
use anxin_service::{parquet_table, population};
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
    /// People to follow instead of a synthetic population: a CSV, one person a row (columns
    /// age, track, income, region; optional sector, volatile, contract, migrant, insured,
    /// paid_months, balance; see `anxin_service::population`). Any bad row is refused with
    /// its reason and nothing runs.
    #[arg(long)]
    people: Option<PathBuf>,
    /// Where to write the tables, each as CSV and as Parquet.
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
    let desk = match &a.people {
        None => analyst::run(policy, &params, &req, Bounds::SIMULATION)?,
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| io_fail(p, e))?;
            let limits = population::Limits::embedded()?;
            match population::read(policy, &params, &limits, req.start, &bytes)? {
                Ok(people) => {
                    analyst::run_people(policy, &params, &req, &people, Bounds::SIMULATION)?
                }
                Err(refused) => {
                    for r in refused.iter().take(50) {
                        eprintln!(
                            "第 {} 行 row {}，列 column {}：{} — {}",
                            r.row, r.row, r.column, r.zh, r.en
                        );
                    }
                    return Err(Fail::bad_input(
                        format!(
                            "人口文件有 {} 行不合格，没有运行模拟（前 50 行的原因见上）",
                            refused.len()
                        ),
                        format!(
                            "{} rows of the population file are refused, nothing was run (the first 50 reasons above)",
                            refused.len()
                        ),
                    ));
                }
            }
        }
    };
    std::fs::create_dir_all(&a.out).map_err(|e| io_fail(&a.out, e))?;
    let mut files = Vec::new();
    for (name, (header, rows)) in &desk.tables {
        let path = a.out.join(format!("{name}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| io_fail(&path, e))?;
        w.write_record(header).map_err(|e| io_fail(&path, e))?;
        for r in rows {
            w.write_record(r).map_err(|e| io_fail(&path, e))?;
        }
        w.flush().map_err(|e| io_fail(&path, e))?;
        files.push(path.display().to_string());
        let path = a.out.join(format!("{name}.parquet"));
        let bytes = parquet_table::table_bytes(header, rows).map_err(|e| io_fail(&path, e))?;
        std::fs::write(&path, bytes).map_err(|e| io_fail(&path, e))?;
        files.push(path.display().to_string());
    }
    if json {
        println!("{}", serde_json::json!({ "tables": files }));
        return Ok(());
    }
    print!("{}", summary(&desk, &params, lang, &a.out));
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

fn share(bps: Option<i64>) -> String {
    analyst::percent_text(bps)
}

fn summary(desk: &Desk, params: &SimParams, lang: Lang, out: &Path) -> String {
    let en = lang == Lang::En;
    let res = &desk.result;
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
    for l in &desk.summary {
        s += &format!(
            "{:<20} {:>9} → {:<9}  {:>9}  {:>9}  {:>8}  {:>8}  {:>8}  {:>8}  {:>9}  {:>7} %\n",
            l.scenario,
            share(l.coverage_first_bps),
            share(l.coverage_last_bps),
            share(l.retention_bps),
            big(l.contributions_fen, lang),
            big(l.pooling_fen, lang),
            big(l.accounts_fen, lang),
            big(l.subsidy_provincial_fen, lang),
            big(l.paid_by_workers_fen, lang),
            Fen(l.mean_pension_fen).yuan_string(),
            l.replacement_percent,
        );
    }
    for l in &desk.summary[1..] {
        let bands = l.bands.unwrap_or_default();
        let n = l.persons;
        let b = |i: usize| share((bands[i] * 10_000).checked_div(n).map(|v| v as i64));
        if en {
            s += &format!(
                "\n{} against the law in force — pensions: gain >5 % {}, gain ≤5 % {}, no change {}, lose ≤5 % {}, lose >5 % {}",
                l.scenario,
                b(0),
                b(1),
                b(2),
                b(3),
                b(4)
            );
        } else {
            s += &format!(
                "\n{} 对比现行规定 — 养老金：增加超过5% {}，增加不超过5% {}，不变 {}，减少不超过5% {}，减少超过5% {}",
                l.scenario,
                b(0),
                b(1),
                b(2),
                b(3),
                b(4)
            );
        }
    }
    if en {
        s += &format!(
            "\n\nThe participation model and most mixes are assumptions (policy/simulation). Tables (CSV and Parquet): {}/years.csv, window.csv, deciles.csv, winners.csv, calibration.csv and the same .parquet\n",
            out.display()
        );
    } else {
        s += &format!(
            "\n\n参保行为模型和多数人口构成是假设（见 policy/simulation）。各表（CSV 和 Parquet）：{}/years.csv、window.csv、deciles.csv、winners.csv、calibration.csv 及同名 .parquet\n",
            out.display()
        );
    }
    s
}

/// `anxin school cohort`: what to forecast and where to write it.
pub struct CohortAsk {
    pub reforms: Vec<String>,
    pub seed: u64,
    pub draws: Option<u32>,
    pub out: PathBuf,
}

/// `anxin school cohort`: the ledger's cohorts forward (`anxin_service::analyst`, as on the
/// analyst's page), the share still paying per scenario on stdout, the table as CSV and the
/// chart as SVG in the output directory.
pub fn cohort(
    data: &crate::data::DataDir,
    policy: &Policy,
    today: YearMonth,
    a: CohortAsk,
    lang: Lang,
    json: bool,
) -> Result<()> {
    let mut records = data.records()?;
    let ledger = anxin_service::school::ledger::<_, Fail>(&mut records, policy, today)?;
    let desk = analyst::cohort_forward(
        policy,
        &ledger,
        |_| true,
        a.seed,
        a.draws,
        today,
        &a.reforms,
    )?;
    let (header, rows) = analyst::cohort_table(&desk);
    std::fs::create_dir_all(&a.out).map_err(|e| io_fail(&a.out, e))?;
    let path = a.out.join("cohort.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| io_fail(&path, e))?;
    w.write_record(&header).map_err(|e| io_fail(&path, e))?;
    for r in &rows {
        w.write_record(r).map_err(|e| io_fail(&path, e))?;
    }
    w.flush().map_err(|e| io_fail(&path, e))?;
    let parquet = a.out.join("cohort.parquet");
    let bytes = parquet_table::table_bytes(&header, &rows).map_err(|e| io_fail(&parquet, e))?;
    std::fs::write(&parquet, bytes).map_err(|e| io_fail(&parquet, e))?;
    let chart = a.out.join("cohort.svg");
    std::fs::write(&chart, analyst::cohort_chart(policy, &desk, lang))
        .map_err(|e| io_fail(&chart, e))?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "table": path.display().to_string(), "chart": chart.display().to_string() })
        );
        return Ok(());
    }
    let members: usize = desk.cohorts.iter().map(|c| c.members.len()).sum();
    let en = lang == Lang::En;
    let mut s = if en {
        format!(
            "{} school-driven enrolments in {} cohorts, {} draws each, seed {}; share still paying after 3 / 6 / 12 / 24 months:\n",
            members,
            desk.cohorts.len(),
            desk.result.request.draws,
            a.seed
        )
    } else {
        format!(
            "因入学参保 {} 人，{} 个批次，每人模拟 {} 次，种子 {}；审核后 3 / 6 / 12 / 24 个月仍在缴费的比例：\n",
            members,
            desk.cohorts.len(),
            desk.result.request.draws,
            a.seed
        )
    };
    let draws = u64::from(desk.result.request.draws.max(1));
    for sc in &desk.result.scenarios {
        let (mut at, mut of) = ([0u64; 4], 0u64);
        for (c, f) in desk.cohorts.iter().zip(&sc.cohorts) {
            if let anxin_policy::cohort::Forecast::Paying(p) = f {
                for i in 0..4 {
                    at[i] += p[i];
                }
                of += c.members.len() as u64 * draws;
            }
        }
        let cells: Vec<String> = at
            .iter()
            .map(|x| share((x * 10_000).checked_div(of).map(|v| v as i64)))
            .collect();
        s += &format!("  {:<26} {}\n", sc.name, cells.join("  "));
    }
    s += &if en {
        format!(
            "The behavioural model is an assumption (policy/simulation/school-cohort.toml). Table: {}; chart: {}\n",
            path.display(),
            chart.display()
        )
    } else {
        format!(
            "行为模型是假设（见 policy/simulation/school-cohort.toml）。表：{}；图：{}\n",
            path.display(),
            chart.display()
        )
    };
    print!("{s}");
    Ok(())
}
