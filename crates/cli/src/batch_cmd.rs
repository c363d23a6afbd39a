//! `anxin batch quote|pension IN OUT`: a population file (CSV or Parquet, one person a row) through the
//! calculators' own rules, column-wise on every core (`anxin_policy::batch`), one result row
//! per person in yuan with two decimals, as CSV or (OUT ending in .parquet) Parquet with
//! exact decimal columns. Rows that cannot be read, or that the rule refuses,
//! go to a rejection report in the shape every import writes (`anxin_service::Refusal`).
//!
//! This module only reads the file into typed columns and writes the results; the rules are
//! `QuoteKernel::rows` and `batch::pension_rows`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anxin_domain::{Fen, YearMonth};
use anxin_policy::batch::{PensionRow, QuoteKernel, QuoteRow, pension_rows};
use anxin_policy::calc::pension::Projector;
use anxin_policy::calc::quote::BaseRule;
use anxin_policy::{Lang, Policy};
use anxin_service::Refusal;
use anxin_service::parquet_table::{self, Kind};
use clap::{Args, ValueEnum};

use crate::fail::{Fail, Result};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BatchKind {
    /// Columns base (yuan, may be empty), income (yuan a month).
    Quote,
    /// Columns avg_wage, contribution_index, contribution_months, account_balance, retirement_age_months.
    Pension,
}

#[derive(Args)]
pub struct BatchArgs {
    /// quote | pension
    kind: BatchKind,
    /// The population file: CSV (UTF-8, a header row), or Parquet if it ends in .parquet.
    input: PathBuf,
    /// Where to write one result row per person: CSV, or Parquet if it ends in .parquet.
    output: PathBuf,
    #[command(flatten)]
    common: crate::Common,
    /// The month the rules are taken at (YYYY-MM); for pension, the month the people retire.
    /// Default: this month.
    #[arg(long, value_parser = crate::parse_month)]
    month: Option<YearMonth>,
    /// Where to write the refused rows (default: OUTPUT.rejected.csv).
    #[arg(long)]
    report: Option<PathBuf>,
}

const QUOTE_COLUMNS: [&str; 2] = ["base", "income"];
const PENSION_COLUMNS: [&str; 5] = [
    "avg_wage",
    "contribution_index",
    "contribution_months",
    "account_balance",
    "retirement_age_months",
];

/// A file read into typed columns: the spreadsheet row of each kept row, its `id` if the file
/// has one, and the refusals.
struct Read<T> {
    rows: Vec<T>,
    line: Vec<u64>,
    ids: Option<Vec<String>>,
    refused: Vec<Refusal>,
}

fn io_fail(path: &Path, e: impl std::fmt::Display) -> Fail {
    Fail::data(
        format!("读写 {} 失败：{e}", path.display()),
        format!("reading or writing {} failed: {e}", path.display()),
    )
}

fn refusal(row: u64, column: &str, value: &str, zh: String, en: String) -> Refusal {
    let value: String = value.chars().take(64).collect();
    Refusal {
        row,
        column: column.to_string(),
        value,
        zh,
        en,
    }
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("parquet"))
}

/// Where each of `columns` is in `header`, and the `id` column's place if there is one; a
/// missing column is the whole file's refusal.
fn locate(header: &[String], columns: &[&str]) -> Result<(Vec<usize>, Option<usize>)> {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
    };
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| find(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Fail::bad_input(
            format!(
                "文件缺少列：{}；需要的列：{}",
                missing.join("、"),
                columns.join("、")
            ),
            format!(
                "the file lacks the columns {}; the columns needed are {}",
                missing.join(", "),
                columns.join(", ")
            ),
        ));
    }
    Ok((
        columns.iter().map(|c| find(c).unwrap_or(0)).collect(),
        find("id"),
    ))
}

/// One row's cells (in the order of `columns`) through `parse`: kept, or refused with its
/// reason.
fn take<T>(
    out: &mut Read<T>,
    row: u64,
    cells: &[&str],
    id: Option<&str>,
    columns: &[&str],
    parse: &impl Fn(&[&str]) -> std::result::Result<T, (usize, String, String)>,
) {
    match parse(cells) {
        Ok(t) => {
            out.rows.push(t);
            out.line.push(row);
            if let Some(ids) = out.ids.as_mut() {
                ids.push(id.unwrap_or("").to_string());
            }
        }
        Err((col, zh, en)) => out
            .refused
            .push(refusal(row, columns[col], cells[col], zh, en)),
    }
}

/// Reads `path` (CSV, or Parquet when it ends in .parquet: each column read as the text it
/// would have in a CSV, rows counted as a spreadsheet counts them, the header being row 1)
/// with `columns` required, each row through `parse` (column values in the order of
/// `columns`).
fn read<T>(
    path: &Path,
    columns: &[&str],
    parse: impl Fn(&[&str]) -> std::result::Result<T, (usize, String, String)>,
) -> Result<Read<T>> {
    if is_parquet(path) {
        let file = std::fs::File::open(path).map_err(|e| io_fail(path, e))?;
        let mut r = parquet_table::TableReader::open(file).map_err(|e| io_fail(path, e))?;
        let (mut at, id_at) = locate(r.names(), columns)?;
        if let Some(i) = id_at {
            at.push(i);
        }
        let mut out = Read {
            rows: Vec::new(),
            line: Vec::new(),
            ids: id_at.map(|_| Vec::new()),
            refused: Vec::new(),
        };
        let mut row = 1u64;
        while let Some(b) = r.next_batch(&at) {
            let b = b.map_err(|e| io_fail(path, e))?;
            for i in 0..b.rows() {
                row += 1;
                let cells: Vec<&str> = (0..columns.len()).map(|k| b.cell(k, i).trim()).collect();
                let id = id_at.map(|_| b.cell(columns.len(), i));
                take(&mut out, row, &cells, id, columns, &parse);
            }
        }
        return Ok(out);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| io_fail(path, e))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| io_fail(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let (at, id_at) = locate(&header, columns)?;
    let mut out = Read {
        rows: Vec::new(),
        line: Vec::new(),
        ids: id_at.map(|_| Vec::new()),
        refused: Vec::new(),
    };
    let mut rec = csv::StringRecord::new();
    let mut row = 1u64;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                row += 1;
                out.refused.push(refusal(
                    row,
                    "",
                    "",
                    format!("这一行读不出来：{e}"),
                    format!("this row cannot be read: {e}"),
                ));
                continue;
            }
        }
        row = rec.position().map(|p| p.line()).unwrap_or(row + 1);
        let cells: Vec<&str> = at
            .iter()
            .map(|&i| rec.get(i).unwrap_or("").trim())
            .collect();
        let id = id_at.map(|i| rec.get(i).unwrap_or(""));
        take(&mut out, row, &cells, id, columns, &parse);
    }
    Ok(out)
}

fn yuan(
    col: usize,
    s: &str,
    empty_ok: bool,
) -> std::result::Result<Option<Fen>, (usize, String, String)> {
    if s.is_empty() {
        return if empty_ok {
            Ok(None)
        } else {
            Err((col, "不能为空".into(), "cannot be empty".into()))
        };
    }
    match Fen::parse_yuan(s) {
        Ok(f) if f < Fen::ZERO => Err((
            col,
            format!("金额 {s} 不能为负数"),
            format!("the amount {s} cannot be negative"),
        )),
        Ok(f) => Ok(Some(f)),
        Err(e) => Err((
            col,
            format!("“{s}”不是以元为单位、最多两位小数的金额（如 4812 或 962.40）"),
            e.to_string(),
        )),
    }
}

fn count(col: usize, s: &str) -> std::result::Result<u32, (usize, String, String)> {
    s.parse::<u32>().map_err(|_| {
        (
            col,
            format!("“{s}”不是非负整数（月数）"),
            format!("'{s}' is not a whole number of months"),
        )
    })
}

/// A decimal ratio ("1", "0.6", "1.2345") in basis points, exactly: at most four decimals.
fn ratio_bps(col: usize, s: &str) -> std::result::Result<u32, (usize, String, String)> {
    let bad = || {
        (
            col,
            format!("“{s}”不是最多四位小数的非负数（如 1.00 表示与平均工资相同）"),
            format!(
                "'{s}' is not a non-negative number with at most four decimals (1.00 = the average wage)"
            ),
        )
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if (whole.is_empty() && frac.is_empty())
        || whole.len() > 4
        || frac.len() > 4
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let w: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: u32 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
    Ok(w * 10_000 + f)
}

fn pct(bps: u32) -> String {
    format!("{}.{:02}", bps / 100, bps % 100)
}

/// The rejection report: CSV with a UTF-8 BOM, the columns of every import's report.
fn write_report(path: &Path, refused: &[Refusal]) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| io_fail(path, e))?;
    file.write_all(b"\xEF\xBB\xBF")
        .map_err(|e| io_fail(path, e))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(Refusal::HEADER)
        .map_err(|e| io_fail(path, e))?;
    for r in refused {
        w.write_record(r.cells()).map_err(|e| io_fail(path, e))?;
    }
    w.flush().map_err(|e| io_fail(path, e))
}

/// Where the result rows go: CSV, or Parquet when the output ends in .parquet.
enum Sink {
    Csv(csv::Writer<std::fs::File>),
    Parquet(parquet_table::TableWriter<std::io::BufWriter<std::fs::File>>),
}

impl Sink {
    /// The output file with its header; `kinds` are the Parquet columns' kinds after `row`
    /// and `id`.
    fn create(path: &Path, header: &[&str], kinds: &[Kind]) -> Result<Sink> {
        let mut head = vec!["row", "id"];
        head.extend_from_slice(header);
        if is_parquet(path) {
            let file = std::fs::File::create(path).map_err(|e| io_fail(path, e))?;
            let mut k = vec![Kind::Integer, Kind::Text];
            k.extend_from_slice(kinds);
            let w = parquet_table::TableWriter::new(std::io::BufWriter::new(file), &head, &k)
                .map_err(|e| io_fail(path, e))?;
            return Ok(Sink::Parquet(w));
        }
        let mut w = csv::Writer::from_path(path).map_err(|e| io_fail(path, e))?;
        w.write_record(&head).map_err(|e| io_fail(path, e))?;
        Ok(Sink::Csv(w))
    }

    fn row(&mut self, path: &Path, cells: &[String]) -> Result<()> {
        match self {
            Sink::Csv(w) => w.write_record(cells).map_err(|e| io_fail(path, e)),
            Sink::Parquet(w) => w.push(cells).map_err(|e| io_fail(path, e)),
        }
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(|e| io_fail(path, e)),
            Sink::Parquet(w) => {
                let mut f = w.finish().map_err(|e| io_fail(path, e))?;
                f.flush().map_err(|e| io_fail(path, e))
            }
        }
    }
}

/// Writes one row per computed person to `out`; the rows the rule refused join the file's
/// refusals. Returns how many were computed, and every refusal.
fn write_results<T, F>(
    out: &mut Sink,
    path: &Path,
    read: Read<T>,
    figures: Vec<anxin_policy::Result<F>>,
    cells: impl Fn(&F) -> Vec<String>,
) -> Result<(u64, Vec<Refusal>)> {
    let mut ok = 0;
    let mut refused = read.refused;
    for (i, f) in figures.into_iter().enumerate() {
        match f {
            Ok(f) => {
                ok += 1;
                let id = read.ids.as_ref().map(|v| v[i].as_str()).unwrap_or("");
                let mut row = vec![read.line[i].to_string(), id.to_string()];
                row.extend(cells(&f));
                out.row(path, &row)?;
            }
            Err(e) => refused.push(refusal(read.line[i], "", "", e.zh, e.en)),
        }
    }
    Ok((ok, refused))
}

pub fn run(policy: &Policy, today: YearMonth, a: BatchArgs, lang: Lang, json: bool) -> Result<()> {
    let month = a.month.unwrap_or(today);
    let scope = policy.scope(&a.common.region, month, &a.common.reforms)?;
    let started = Instant::now();
    let t;
    let ((ok, mut refused), compute_s) = match a.kind {
        BatchKind::Quote => {
            let kernel = QuoteKernel::load(&scope)?;
            let r = read(&a.input, &QUOTE_COLUMNS, |c| {
                Ok(QuoteRow {
                    base: yuan(0, c[0], true)?,
                    income: yuan(1, c[1], false)?.unwrap_or_default(),
                })
            })?;
            t = Instant::now();
            let figures = kernel.rows(&r.rows);
            let compute_s = t.elapsed().as_secs_f64();
            let header = [
                "base",
                "rate_percent",
                "monthly",
                "personal_account",
                "pooling",
                "subsidy",
                "net",
            ];
            let mut out = Sink::create(&a.output, &header, &[Kind::Decimal(2); 7])?;
            let w = write_results(&mut out, &a.output, r, figures, |f| {
                vec![
                    f.base.yuan_string(),
                    pct(f.rate.0),
                    f.monthly.yuan_string(),
                    f.account.yuan_string(),
                    f.pooling.yuan_string(),
                    f.paid_now.yuan_string(),
                    f.net.yuan_string(),
                ]
            })?;
            out.finish(&a.output)?;
            (w, compute_s)
        }
        BatchKind::Pension => {
            let (proj, _) = Projector::resolve(&scope)?;
            let max_index = BaseRule::resolve(&scope)?.tier_max.0;
            let r = read(&a.input, &PENSION_COLUMNS, |c| {
                Ok(PensionRow {
                    avg_wage: yuan(0, c[0], false)?.unwrap_or_default(),
                    index_bps: ratio_bps(1, c[1])?,
                    months: count(2, c[2])?,
                    balance: yuan(3, c[3], false)?.unwrap_or_default(),
                    retirement_age_months: count(4, c[4])?,
                })
            })?;
            t = Instant::now();
            let figures = pension_rows(&proj, month.year() as i64, max_index, &r.rows);
            let compute_s = t.elapsed().as_secs_f64();
            let header = [
                "eligible",
                "min_months",
                "payout_months",
                "basic_pension",
                "account_pension",
                "total_pension",
            ];
            let kinds = [
                Kind::Text,
                Kind::Integer,
                Kind::Decimal(1),
                Kind::Decimal(2),
                Kind::Decimal(2),
                Kind::Decimal(2),
            ];
            let mut out = Sink::create(&a.output, &header, &kinds)?;
            let w = write_results(&mut out, &a.output, r, figures, |f| {
                vec![
                    if f.eligible { "yes" } else { "no" }.to_string(),
                    f.min_months.to_string(),
                    format!("{}.{}", f.payout_tenths / 10, f.payout_tenths % 10),
                    Fen(f.basic_fen).yuan_string(),
                    Fen(f.account_fen).yuan_string(),
                    Fen(f.total_fen).yuan_string(),
                ]
            })?;
            out.finish(&a.output)?;
            (w, compute_s)
        }
    };
    refused.sort_by_key(|r| r.row);
    let report = a.report.clone().unwrap_or_else(|| {
        let mut p = a.output.clone().into_os_string();
        p.push(".rejected.csv");
        PathBuf::from(p)
    });
    write_report(&report, &refused)?;
    let total = started.elapsed().as_secs_f64();
    let rejected = refused.len();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "rows": ok,
                "rejected": rejected,
                "output": a.output.display().to_string(),
                "report": report.display().to_string(),
                "seconds": total,
                "compute_seconds": compute_s,
            })
        );
    } else if lang == Lang::En {
        println!(
            "{ok} rows computed, {rejected} refused ({}) → {}; {total:.3} s, compute {compute_s:.3} s",
            report.display(),
            a.output.display()
        );
    } else {
        println!(
            "已算 {ok} 行，拒收 {rejected} 行（{}）→ {}；用时 {total:.3} 秒，其中计算 {compute_s:.3} 秒",
            report.display(),
            a.output.display()
        );
    }
    if ok == 0 && rejected > 0 {
        return Err(Fail::bad_input(
            "每一行都被拒收，见拒收报告",
            "every row was refused: see the rejection report",
        ));
    }
    Ok(())
}
