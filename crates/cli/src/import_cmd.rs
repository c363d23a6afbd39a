//! `anxin import persons|orgs|children|contributions FILE`: stream the file, land every good
//! row in batches (one transaction each), write every refused row to a rejection report.
//!
//! Re-running the same file changes nothing: persons, orgs and children are keyed by a hash
//! of their content, contributions by the caller's record id. An interrupted import can simply
//! be run again; `--ack` prints a line after each durable commit (the crash test reads it).
//!
//! Exit status: 0 when at least one row is in (added or already there), even if others were
//! refused; 2 when the file is refused whole, or when every row of it was refused (the
//! summary and the rejection report are written all the same).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anxin_import::{Kind, Options};
use anxin_policy::{Lang, Policy};
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::DataDir;
use crate::fail::{Fail, Result};

pub struct ImportArgs<'a> {
    pub kind: &'a str,
    pub file: &'a Path,
    pub report: Option<PathBuf>,
    pub batch: usize,
    pub ack: bool,
    pub today: jiff::civil::Date,
}

/// The rejection report: CSV with a UTF-8 BOM so that Excel shows the Chinese.
struct Report {
    path: PathBuf,
    writer: csv::Writer<std::fs::File>,
    rows: u64,
}

impl Report {
    fn create(path: PathBuf) -> Result<Report> {
        let io = |e: std::io::Error| {
            Fail::data(
                format!("写拒收报告失败：{e}"),
                format!("writing the rejection report failed: {e}"),
            )
        };
        let mut file = std::fs::File::create(&path).map_err(io)?;
        file.write_all(b"\xEF\xBB\xBF").map_err(io)?;
        let mut writer = csv::Writer::from_writer(file);
        writer
            .write_record(anxin_service::Refusal::HEADER)
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))?;
        Ok(Report {
            path,
            writer,
            rows: 0,
        })
    }

    fn add(&mut self, refusal: &anxin_service::Refusal) -> Result<()> {
        self.rows += 1;
        self.writer
            .write_record(refusal.cells())
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))
    }

    fn finish(mut self) -> Result<(PathBuf, u64)> {
        self.writer
            .flush()
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))?;
        Ok((self.path, self.rows))
    }
}

pub fn import(
    data: &DataDir,
    policy: &Policy,
    args: ImportArgs<'_>,
    lang: Lang,
    json: bool,
) -> Result<()> {
    let kind: Kind = args.kind.parse().map_err(|_| {
        Fail::bad_input(
            format!("不能导入 {:?}：可导入 persons（人员）、orgs（平台和单位）、children（子女）、contributions（缴费）", args.kind),
            format!("cannot import {:?}: use persons, orgs, children or contributions", args.kind),
        )
    })?;
    if kind == Kind::Applications {
        return Err(Fail::bad_input(
            "入学申请不入库，请用 anxin school review 文件 审核",
            "applications are reviewed, not stored: use anxin school review FILE",
        ));
    }
    if args.batch == 0 || args.batch > anxin_records::records::MAX_BATCH {
        return Err(Fail::bad_input(
            format!(
                "--batch 须在 1 到 {} 之间",
                anxin_records::records::MAX_BATCH
            ),
            format!(
                "--batch must be between 1 and {}",
                anxin_records::records::MAX_BATCH
            ),
        ));
    }
    let regions = anxin_service::PolicyRegions(policy);
    // The file is opened once before anything is stored, so a file that cannot be read
    // leaves no job behind.
    let first = anxin_import::open(args.file, kind, Options::new(args.today), &regions)
        .map_err(|e| Fail::bad_input(e.zh(), e.en()))?;
    drop(first);
    let io = |e: std::io::Error| {
        Fail::bad_input(
            format!("读不了文件 {}：{e}", args.file.display()),
            format!("cannot read {}: {e}", args.file.display()),
        )
    };
    let path = std::fs::canonicalize(args.file).map_err(io)?;
    let digest = anxin_service::jobs::digest_file(&path).map_err(io)?;
    let mut prefix = Vec::with_capacity(512);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(&path).map_err(io)?, 512),
        &mut prefix,
    )
    .map_err(io)?;
    let format = anxin_import::Format::detect(&path, &prefix)
        .map_err(|e| Fail::bad_input(e.zh(), e.en()))?;
    let mut records = data.records()?;
    let path_text = path.display().to_string();
    // The same file imported again after a crash resumes its job after the last durable batch.
    let job =
        match anxin_service::jobs::unfinished_for_file(&mut records, kind, &path_text, &digest)? {
            Some(job) => job,
            None => {
                let id = anxin_service::jobs::create(
                    &mut records,
                    anxin_service::jobs::Start {
                        owner: anxin_service::jobs::COMMAND_LINE,
                        file_name: args
                            .file
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        kind,
                        format,
                        today: args.today,
                        content: Vec::new(),
                        path: Some((path_text, digest)),
                        now: anxin_domain::Clock::unix_seconds(&anxin_domain::SystemClock),
                    },
                )?;
                records.store().job(id)?.ok_or_else(|| {
                    Fail::data("导入任务未能保存", "the import job was not stored")
                })?
            }
        };
    let options = anxin_service::jobs::options_of(&job).unwrap_or(Options::new(args.today));
    let mut rows = anxin_import::open_as(&path, format, kind, options, &regions)
        .map_err(|e| Fail::bad_input(e.zh(), e.en()))?;
    if matches!(kind, Kind::Contributions) {
        records.set_account_rule(anxin_service::account_rule(policy, options.today));
    }
    let report_path = args.report.clone().unwrap_or_else(|| {
        let mut p = args.file.as_os_str().to_owned();
        p.push(".rejected.csv");
        PathBuf::from(p)
    });
    let mut report = Report::create(report_path)?;
    // A resumed job's report starts with the refusals stored before the crash.
    loop {
        let stored = records.store().job_refusals(job.id, report.rows, 10_000)?;
        if stored.is_empty() {
            break;
        }
        for r in stored {
            report.add(&anxin_service::Refusal {
                row: r.row,
                column: r.column,
                value: r.value,
                zh: r.zh,
                en: r.en,
            })?;
        }
    }
    let bar = ProgressBar::new(rows.progress().rows_total.max(1));
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {per_sec} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    // A failure of the report or the checkpoint file, kept to be returned as itself.
    let mut failed: Option<Fail> = None;
    let mut step = |step: anxin_service::Step<'_>| -> Result<()> {
        match step {
            anxin_service::Step::Refused(r) => report.add(r)?,
            anxin_service::Step::Committed {
                committed,
                last_row,
                progress,
                counts,
            } => {
                if args.ack {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "ack {last_row} {}", committed.head.size);
                    let _ = out.flush();
                }
                bar.set_position(progress.rows_read);
                bar.set_message(format!(
                    "{}+ {}= {}x",
                    counts.added, counts.unchanged, counts.rejected
                ));
            }
        }
        Ok(())
    };
    let result =
        anxin_service::jobs::run_rows(&mut records, &job, &mut rows, args.batch, &mut |s| {
            step(s).map_err(|f| {
                failed = Some(f);
                // The job stays unfinished: the same import resumes it.
                anxin_records::Error::store("the report or the checkpoint could not be written")
            })
        });
    if let Some(f) = failed {
        return Err(f);
    }
    let progress = result?;
    if let (Some((zh, en)), None) = (&progress.error, rows.stopped()) {
        return Err(Fail::bad_input(zh.clone(), en.clone()));
    }
    let counts = anxin_service::Counts {
        read: progress.read,
        added: progress.added,
        unchanged: progress.unchanged,
        rejected: progress.rejected,
    };
    let anxin_service::Counts {
        read,
        added,
        unchanged,
        rejected: refused,
    } = counts;
    bar.finish_and_clear();
    let (report_path, _) = report.finish()?;
    if let Some(e) = rows.stopped() {
        return Err(Fail::bad_input(
            format!(
                "导入在读完文件前停止：{}；已读的 {read} 行中 {added} 行已入库，修正文件后重新导入即可（已入库的行会跳过）",
                e.zh()
            ),
            format!(
                "the import stopped before the end of the file: {}; of the {read} rows read, {added} landed — fix the file and import it again (rows already in are skipped)",
                e.en()
            ),
        ));
    }
    let size = records.store().head()?.size;
    if json {
        println!(
            "{}",
            serde_json::json!({ "rows": read, "added": added, "unchanged": unchanged, "rejected": refused,
                "report": report_path, "log_size": size, "ignored_columns": rows.ignored_columns() })
        );
    } else {
        match lang {
            Lang::Zh => println!(
                "读入 {read} 行：新增 {added}，已存在未变 {unchanged}，拒收 {refused}（原因见 {}）。日志现有 {size} 条。",
                report_path.display()
            ),
            Lang::En => println!(
                "read {read} rows: {added} added, {unchanged} already there, {refused} rejected (reasons in {}). The log now has {size} entries.",
                report_path.display()
            ),
        }
        let ignored = rows.ignored_columns();
        if !ignored.is_empty() {
            println!(
                "{}{}",
                lang.pick("未使用的列：", "columns not used: "),
                ignored.join(", ")
            );
        }
    }
    if refused > 0 && added == 0 && unchanged == 0 {
        // Nothing of the file is in: a script must not take this for success.
        return Err(Fail::bad_input(
            format!(
                "全部 {refused} 行都被拒收，没有任何记录入库：原因见 {}",
                report_path.display()
            ),
            format!(
                "all {refused} rows were rejected and nothing was imported: reasons in {}",
                report_path.display()
            ),
        ));
    }
    Ok(())
}
