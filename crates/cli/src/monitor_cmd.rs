//! `anxin monitor gen|platforms|insured|ingest|run`: platform activity at province scale
//! (issue 16). Everything is `anxin_monitor`; this parses arguments, opens the data directory
//! and prints counts and file paths — never a resident ID.

use std::path::PathBuf;

use anxin_domain::YearMonth;
use anxin_monitor::{ingest, layout, platforms::Registry, run, synth};
use anxin_policy::{Lang, Policy};
use clap::Subcommand;

use crate::data::DataDir;
use crate::fail::Result;

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// 生成 — a seeded month of platform orders (files as each platform would deliver them),
    /// the platform list and the insured state to match, into OUT.
    Gen {
        #[arg(long, default_value_t = 10_000)]
        workers: u64,
        /// Orders in each month.
        #[arg(long, default_value_t = 200_000)]
        orders: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The (last) month generated, YYYY-MM.
        #[arg(long, default_value = "2026-03", value_parser = parse_month)]
        month: YearMonth,
        /// How many months, ending at --month (income drops need the months before).
        #[arg(long, default_value_t = 1)]
        months: u32,
        /// csv or parquet.
        #[arg(long, default_value = "csv")]
        format: String,
        out: PathBuf,
    },
    /// 登记平台 — register the platforms (CSV: credit_code,name,sector,delivery_tier).
    Platforms { file: PathBuf },
    /// 参保状态 — load the insured state the instance knows: from a CSV of runs
    /// (resident_id,from,to,region), or with --from-records from this instance's own records
    /// (every paid or back-paid month).
    Insured {
        #[arg(
            required_unless_present = "from_records",
            conflicts_with = "from_records"
        )]
        file: Option<PathBuf>,
        /// Read the paid months from the records store of the data directory.
        #[arg(long)]
        from_records: bool,
    },
    /// 导入 — a platform's monthly delivery (CSV or Parquet): refused rows with reasons, the
    /// good rows stored as Parquet, the resident ID replaced by the keyed hash.
    Ingest {
        /// The delivering platform's credit code.
        #[arg(long)]
        platform: String,
        /// The month of the delivery, YYYY-MM.
        #[arg(long, value_parser = parse_month)]
        month: YearMonth,
        file: PathBuf,
    },
    /// 月度运行 — alerts per grid cell, platform compliance, injury bills, union dues.
    Run {
        /// The region whose thresholds apply (a province code or name).
        #[arg(long, default_value = "330000")]
        region: String,
        #[arg(long, value_parser = parse_month)]
        month: YearMonth,
        /// Apply a reform (repeatable), e.g. platform-union-dues.
        #[arg(long = "reform")]
        reforms: Vec<String>,
        /// Query threads (0: every core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Where to write the CSV results [default: DATA/monitor/runs/YYYY-MM].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_month(s: &str) -> std::result::Result<YearMonth, String> {
    YearMonth::parse(s).map_err(|_| format!("月份应为 YYYY-MM / a month is YYYY-MM: {s}"))
}

pub fn run_cmd(
    data_dir: PathBuf,
    policy: &Policy,
    today: YearMonth,
    cmd: MonitorCommand,
    lang: Lang,
    json: bool,
) -> Result<()> {
    let say = |zh: String, en: String| match lang {
        Lang::Zh => println!("{zh} / {en}"),
        Lang::En => println!("{en}"),
    };
    match cmd {
        MonitorCommand::Gen {
            workers,
            orders,
            seed,
            month,
            months,
            format,
            out,
        } => {
            let format = match format.as_str() {
                "csv" => synth::Format::Csv,
                "parquet" => synth::Format::Parquet,
                _ => {
                    return Err(crate::fail::Fail::bad_input(
                        "格式只能是 csv 或 parquet",
                        "the format is csv or parquet",
                    ));
                }
            };
            let t0 = std::time::Instant::now();
            let s = synth::generate(
                &out,
                &synth::GenOptions {
                    workers,
                    orders,
                    seed,
                    month,
                    months,
                    format,
                },
            )?;
            let secs = t0.elapsed().as_secs_f64();
            if json {
                println!("{}", serde_json::json!({ "summary": s, "seconds": secs }));
            } else {
                say(
                    format!(
                        "生成 {} 个平台、{} 人、{} 单、{} 段参保记录，用时 {secs:.1} 秒，写入 {}",
                        s.platforms,
                        s.workers,
                        s.orders,
                        s.insured_runs,
                        out.display()
                    ),
                    format!(
                        "generated {} platforms, {} workers, {} orders, {} insured runs in {secs:.1} s into {}",
                        s.platforms,
                        s.workers,
                        s.orders,
                        s.insured_runs,
                        out.display()
                    ),
                );
            }
            Ok(())
        }
        MonitorCommand::Platforms { file } => {
            DataDir::open(&data_dir)?;
            let reg = Registry::read(&file)?;
            reg.write(&layout::platforms_file(&data_dir))?;
            say(
                format!("已登记 {} 个平台", reg.0.len()),
                format!("{} platforms registered", reg.0.len()),
            );
            Ok(())
        }
        MonitorCommand::Insured {
            file: None,
            from_records: _,
        } => {
            let d = DataDir::open(&data_dir)?;
            let mut records = d.records()?;
            let r = ingest::insured_from_records(&data_dir, records.store().as_mut(), 100_000)?;
            // The school cohort: the identification ledger's enrolments, with their review.
            let (ledger, keys) = anxin_service::school::ledger_with_keys::<_, crate::fail::Fail>(
                &mut records,
                policy,
                today,
            )?;
            let cohort: Vec<([u8; 32], YearMonth)> = keys
                .iter()
                .zip(&ledger.entries)
                .map(|(k, (e, _))| (k.0, e.reviewed))
                .collect();
            let school = ingest::write_school(&data_dir, &cohort)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "insured": r, "school_cohort": school })
                );
                return Ok(());
            }
            say(
                format!(
                    "从记录库读了 {} 个缴费月（已缴 {}），{} 人，写入 {} 段参保记录",
                    r.months_read, r.paid, r.persons, r.runs
                ),
                format!(
                    "read {} contribution months from the records ({} paid), {} people, {} insured runs written",
                    r.months_read, r.paid, r.persons, r.runs
                ),
            );
            say(
                format!("入学审核带来的参保 {school} 人（学龄队列）"),
                format!("{school} enrolments driven by a school review (the school cohort)"),
            );
            Ok(())
        }
        MonitorCommand::Insured {
            file: Some(file), ..
        } => {
            let d = DataDir::open(&data_dir)?;
            let key = d.data_key()?;
            let n = ingest::load_insured(&data_dir, &key, &file)?;
            say(
                format!("已载入 {n} 段参保记录（身份证号已换成密钥散列）"),
                format!("{n} insured runs loaded (resident IDs replaced by the keyed hash)"),
            );
            Ok(())
        }
        MonitorCommand::Ingest {
            platform,
            month,
            file,
        } => {
            let d = DataDir::open(&data_dir)?;
            let key = d.data_key()?;
            let reg = Registry::of_data_dir(&data_dir)?;
            let t0 = std::time::Instant::now();
            let r = ingest::ingest(
                &data_dir,
                &key,
                &reg,
                &ingest::IngestOptions {
                    file: &file,
                    platform: &platform,
                    month,
                    now: jiff::Timestamp::now(),
                },
            )?;
            let secs = t0.elapsed().as_secs_f64();
            if json {
                println!("{}", serde_json::json!({ "report": r, "seconds": secs }));
                return Ok(());
            }
            let rate = r.rows as f64 / secs.max(1e-9);
            say(
                format!(
                    "{} 行：导入 {} 行，拒收 {} 行；{secs:.1} 秒（每秒 {rate:.0} 行）",
                    r.rows, r.landed, r.refused
                ),
                format!(
                    "{} rows: {} landed, {} refused; {secs:.1} s ({rate:.0} rows/s)",
                    r.rows, r.landed, r.refused
                ),
            );
            if r.landed > 0 {
                say(
                    format!(
                        "存为 {}（{} 字节，每单 {:.1} 字节）",
                        r.file
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        r.file_bytes,
                        r.file_bytes as f64 / r.landed as f64
                    ),
                    format!(
                        "stored as {} ({} bytes, {:.1} bytes/order)",
                        r.file
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        r.file_bytes,
                        r.file_bytes as f64 / r.landed as f64
                    ),
                );
            }
            for (code, n) in &r.reasons {
                println!("  {code}: {n}");
            }
            if let Some(p) = &r.report {
                say(
                    format!("拒收原因见 {}", p.display()),
                    format!("the refused rows and reasons are in {}", p.display()),
                );
            }
            Ok(())
        }
        MonitorCommand::Run {
            region,
            month,
            reforms,
            threads,
            out,
        } => {
            DataDir::open(&data_dir)?;
            let reg = Registry::of_data_dir(&data_dir)?;
            let t0 = std::time::Instant::now();
            let r = run::run(
                &data_dir,
                policy,
                &reg,
                &run::RunOptions {
                    region,
                    month,
                    reforms,
                    threads,
                },
            )?;
            let out = out.unwrap_or_else(|| layout::runs_dir(&data_dir, month));
            let files = run::write_outputs(&out, &r)?;
            let secs = t0.elapsed().as_secs_f64();
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "run": r, "files": files, "seconds": secs })
                );
                return Ok(());
            }
            let count = |k: run::AlertKind| r.alerts.iter().filter(|a| a.kind == k).count();
            say(
                format!(
                    "{} 月度运行（{secs:.1} 秒）：预警 {} 条 —— 未参保 {}、断缴 {}、漏缴 {}、收入骤降 {}",
                    r.month,
                    r.alerts.len(),
                    count(run::AlertKind::Uninsured),
                    count(run::AlertKind::Stopped),
                    count(run::AlertKind::Missed),
                    count(run::AlertKind::IncomeDrop)
                ),
                format!(
                    "{} monthly run ({secs:.1} s): {} alerts — uninsured {}, stopped {}, missed {}, income drop {}",
                    r.month,
                    r.alerts.len(),
                    count(run::AlertKind::Uninsured),
                    count(run::AlertKind::Stopped),
                    count(run::AlertKind::Missed),
                    count(run::AlertKind::IncomeDrop)
                ),
            );
            for c in &r.compliance {
                let why = match lang {
                    Lang::Zh => &c.why_zh,
                    Lang::En => &c.why_en,
                };
                println!(
                    "  {} {} {}: {}/{} {} {}",
                    c.platform, c.name, c.year, c.insured, c.active, c.grade, why
                );
            }
            let bills: i64 = r
                .injury
                .iter()
                .filter_map(|l| l.bill_fen)
                .map(|f| f.0)
                .sum();
            say(
                format!(
                    "职业伤害保障账单合计 {} 元（{} 行）",
                    anxin_domain::Fen(bills).yuan_string(),
                    r.injury.len()
                ),
                format!(
                    "occupational-injury bills total {} yuan ({} lines)",
                    anxin_domain::Fen(bills).yuan_string(),
                    r.injury.len()
                ),
            );
            match lang {
                Lang::Zh => println!("{}", r.union.note_zh),
                Lang::En => println!("{}", r.union.note_en),
            }
            say(
                format!("结果写入 {}", out.display()),
                format!("results written to {}", out.display()),
            );
            Ok(())
        }
    }
}
