//! The monthly run (`anxin monitor run`): SQL on Apache DataFusion over the stored Parquet
//! files and the instance's insured state, then the rules that are the policy engine's:
//! alert reasons, compliance grades, the injury calculator's bill, union dues.
//!
//! The SQL text is in `crates/monitor/sql/` with `{name}` placeholders filled from the
//! parameters ([`Thresholds::placeholders`]); `scripts/bench-monitor.sh` runs the same text on
//! DuckDB with the same values (written to `params.json` beside the results).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anxin_domain::{Bps, Fen, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::injury::{self, DeliveryTier, InjuryParams, InjuryRequest, Sector};
use anxin_policy::schema::param;
use anxin_policy::scope::ParamRef;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::layout;
use crate::platforms::Registry;
use crate::{Error, ErrorKind, Result, internal};

pub const ALERTS_SQL: &str = include_str!("../sql/alerts.sql");
pub const COMPLIANCE_SQL: &str = include_str!("../sql/compliance.sql");
pub const INJURY_SQL: &str = include_str!("../sql/injury.sql");
pub const UNION_SQL: &str = include_str!("../sql/union.sql");
pub const COUNTED_SQL: &str = include_str!("../sql/counted.sql");

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The province (or any region) whose thresholds apply.
    pub region: String,
    pub month: YearMonth,
    pub reforms: Vec<String>,
    /// DataFusion's target partitions (0: the number of cores).
    pub threads: usize,
}

/// Every threshold of the run, each with the parameter it came from.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Thresholds {
    pub active_min_orders: i64,
    pub lapse_months: i64,
    pub missed_months: i64,
    pub income_drop: Bps,
    pub income_window_months: i64,
    pub school_months: i64,
    pub min_coverage: Bps,
    pub compliance_years: i64,
    pub grade_a: Bps,
    pub params: Vec<ParamRef>,
}

impl Thresholds {
    pub fn resolve(scope: &anxin_policy::Scope) -> Result<Thresholds> {
        let mut params = Vec::new();
        let mut int = |k| -> Result<i64> {
            let (v, r) = scope.int(k)?;
            params.push(r);
            Ok(v)
        };
        let active_min_orders = int(param::MONITOR_ACTIVE_MIN_ORDERS)?;
        let lapse_months = int(param::MONITOR_LAPSE_MONTHS)?;
        let missed_months = int(param::MONITOR_RISK_MISSED_MONTHS)?;
        let income_window_months = int(param::MONITOR_RISK_INCOME_WINDOW_MONTHS)?;
        let school_months = int(param::MONITOR_RISK_SCHOOL_MONTHS)?;
        let compliance_years = int(param::MONITOR_COMPLIANCE_YEARS)?;
        let mut rate = |k| -> Result<Bps> {
            let (v, r) = scope.rate(k)?;
            params.push(r);
            Ok(v)
        };
        let income_drop = rate(param::MONITOR_RISK_INCOME_DROP)?;
        let min_coverage = rate(param::MONITOR_COMPLIANCE_MIN_COVERAGE)?;
        let grade_a = rate(param::MONITOR_GRADE_A_COVERAGE)?;
        let t = Thresholds {
            active_min_orders,
            lapse_months,
            missed_months,
            income_drop,
            income_window_months,
            school_months,
            min_coverage,
            compliance_years,
            grade_a,
            params,
        };
        let bad =
            |zh: &str, en: &str| Error::new(ErrorKind::PolicyFiles, zh.to_string(), en.to_string());
        if t.active_min_orders < 1 || !(1..=120).contains(&t.lapse_months) {
            return Err(bad(
                "监测参数超出范围：活跃单数至少 1，断缴月数 1–120",
                "monitoring parameters out of range: active orders at least 1, lapse months 1–120",
            ));
        }
        if !(1..=t.lapse_months).contains(&t.missed_months)
            || !(1..=36).contains(&t.income_window_months)
            || !(1..=36).contains(&t.school_months)
            || !(1..=20).contains(&t.compliance_years)
            || t.income_drop.0 > 10_000
            || t.min_coverage.0 > 10_000
            || t.grade_a.0 > 10_000
        {
            return Err(bad(
                "监测参数超出范围：漏缴月数 1 至断缴月数，比较月数和入学后月数 1–36，年数 1–20，比例不超过 100%",
                "monitoring parameters out of range: missed months 1 to the lapse months, income window and school months 1–36, years 1–20, rates at most 100 %",
            ));
        }
        Ok(t)
    }

    /// The values the SQL placeholders take for month `m`.
    pub fn placeholders(&self, m: YearMonth) -> BTreeMap<&'static str, i64> {
        let year = i64::from(m.year());
        BTreeMap::from([
            ("m", i64::from(m.index())),
            ("active_min", self.active_min_orders),
            ("lapse", self.lapse_months),
            ("missed", self.missed_months),
            ("drop_bps", i64::from(self.income_drop.0)),
            ("window", self.income_window_months),
            ("school", self.school_months),
            ("year", year),
            ("first_year", year - self.compliance_years + 1),
        ])
    }
}

/// The SQL text with its placeholders filled (integers only: nothing from a file reaches it).
pub fn fill(sql: &str, values: &BTreeMap<&'static str, i64>) -> String {
    let mut s = sql.to_string();
    for (k, v) in values {
        s = s.replace(&format!("{{{k}}}"), &v.to_string());
    }
    s
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Uninsured,
    Stopped,
    Missed,
    SchoolCohort,
    IncomeDrop,
}

impl AlertKind {
    fn parse(s: &str) -> Option<AlertKind> {
        Some(match s {
            "uninsured" => AlertKind::Uninsured,
            "stopped" => AlertKind::Stopped,
            "missed" => AlertKind::Missed,
            "school_cohort" => AlertKind::SchoolCohort,
            "income_drop" => AlertKind::IncomeDrop,
            _ => return None,
        })
    }
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Uninsured => "uninsured",
            AlertKind::Stopped => "stopped",
            AlertKind::Missed => "missed",
            AlertKind::SchoolCohort => "school_cohort",
            AlertKind::IncomeDrop => "income_drop",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            AlertKind::Uninsured => "在干活但未参保",
            AlertKind::Stopped => "已断缴",
            AlertKind::Missed => "漏缴，有断缴风险",
            AlertKind::SchoolCohort => "因子女入学参保，入学后有断缴风险",
            AlertKind::IncomeDrop => "收入骤降，有断缴风险",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            AlertKind::Uninsured => "works but is not insured",
            AlertKind::Stopped => "stopped paying",
            AlertKind::Missed => "missed months, at risk",
            AlertKind::SchoolCohort => "enrolled for a school review, at risk after it",
            AlertKind::IncomeDrop => "income drop, at risk",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Alert {
    /// The grid cell (or district) where most of the worker's orders of the month were.
    pub area: String,
    pub kind: AlertKind,
    /// The monitor's pseudonym (16 hex digits, the prefix of the person's key).
    pub person: String,
    pub orders: i64,
    pub income_fen: Fen,
    pub platforms: i64,
    pub last_paid: Option<YearMonth>,
    /// Average monthly income of the months with orders before (income drops only).
    pub prev_avg_fen: Option<Fen>,
    /// The school review that drove the person's enrolment (school cohort alerts only).
    pub school_review: Option<YearMonth>,
    pub reason_zh: String,
    pub reason_en: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Compliance {
    pub platform: String,
    pub name: String,
    pub year: i32,
    pub active: i64,
    pub insured: i64,
    pub coverage: Bps,
    /// Consecutive years under the line, ending with this one.
    pub years_under: i64,
    pub sanction: bool,
    pub grade: char,
    pub why_zh: String,
    pub why_en: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct InjuryLine {
    pub platform: String,
    pub region: String,
    pub sector: String,
    pub orders: i64,
    pub per_order_fen: Option<Fen>,
    pub bill_fen: Option<Fen>,
    /// Why there is no bill, where there is none.
    pub note_zh: String,
    pub note_en: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct UnionLine {
    pub platform: String,
    pub active: i64,
    pub income_fen: Fen,
    pub dues_fen: Fen,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct UnionDues {
    /// None when the overlay is not named: the union dues by active workers are a proposal.
    pub rate: Option<ParamRef>,
    pub lines: Vec<UnionLine>,
    pub note_zh: String,
    pub note_en: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct RunReport {
    pub month: String,
    pub region: String,
    pub thresholds: Thresholds,
    pub alerts: Vec<Alert>,
    pub compliance: Vec<Compliance>,
    pub injury: Vec<InjuryLine>,
    pub union: UnionDues,
    /// The workers counted against each platform this year (active, not insured), by
    /// pseudonym: (platform, pseudonym).
    pub counted: Vec<(String, String)>,
    /// Seconds spent in each query.
    pub seconds: BTreeMap<&'static str, f64>,
}

fn engine(e: impl std::fmt::Display) -> Error {
    internal("查询引擎出错", "the query engine failed", e)
}

fn col_i64(b: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| engine(format!("no column {name}")))?;
    let c = arrow::compute::cast(c, &DataType::Int64).map_err(engine)?;
    let a = c.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect())
}

fn col_str(b: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| engine(format!("no column {name}")))?;
    let c = arrow::compute::cast(c, &DataType::Utf8).map_err(engine)?;
    let a = c.as_string::<i32>();
    Ok((0..a.len()).map(|i| a.value(i).to_string()).collect())
}

/// The embedded engine's configuration: `threads` target partitions (0: the number of cores).
///
/// Without file statistics at planning: with them, DataFusion reads `month` as constant in a
/// one-month data set (every file's minimum equals its maximum) and plans the
/// `(platform, month, person)` group-by of compliance.sql and counted.sql as partially sorted,
/// which grew faster than the data (about 45 s an aggregate at 100 M orders, BENCHMARKS.md).
/// Row groups are still pruned by their statistics when read; the results are the same.
pub fn config(threads: usize) -> SessionConfig {
    let config = SessionConfig::new().with_collect_statistics(false);
    if threads > 0 {
        config.with_target_partitions(threads)
    } else {
        config
    }
}

/// A DataFusion session in this process over the data directory (see [`register`]).
pub async fn session(data_dir: &Path, threads: usize) -> Result<SessionContext> {
    let ctx = SessionContext::new_with_config(config(threads));
    register(&ctx, data_dir).await?;
    Ok(ctx)
}

/// Registers the run's three tables on a session of either engine — DataFusion in this process
/// or a Ballista cluster's (the `anxin-cluster` crate): `orders` (every stored delivery) and
/// `insured` (the Parquet file of paid runs) and `school` (the school cohort), each an empty
/// view when none was loaded (a view rather than an in-memory table, so that a cluster can be
/// sent its plan).
pub async fn register(ctx: &SessionContext, data_dir: &Path) -> Result<()> {
    let orders = layout::orders_dir(data_dir);
    let has_orders = walk_has_parquet(&orders);
    if !has_orders {
        return Err(Error::new(
            ErrorKind::NotFound,
            "还没有导入任何平台数据：先运行 anxin monitor ingest",
            "no platform data has been ingested: run anxin monitor ingest first",
        ));
    }
    let dir = format!("{}/", orders.display());
    ctx.register_parquet("orders", &dir, ParquetReadOptions::default())
        .await
        .map_err(engine)?;
    file_or_empty(
        ctx,
        "insured",
        &layout::insured_file(data_dir),
        EMPTY_INSURED_SQL,
    )
    .await?;
    file_or_empty(
        ctx,
        "school",
        &layout::school_file(data_dir),
        EMPTY_SCHOOL_SQL,
    )
    .await
}

/// Registers the Parquet file as table `name`, or runs `empty` (the table as an empty view).
async fn file_or_empty(ctx: &SessionContext, name: &str, file: &Path, empty: &str) -> Result<()> {
    if file.exists() {
        ctx.register_parquet(
            name,
            file.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await
        .map_err(engine)?;
    } else {
        query(ctx, empty).await?;
    }
    Ok(())
}

/// The school table when no school cohort was loaded: the columns of
/// [`layout::school_schema`], no row.
const EMPTY_SCHOOL_SQL: &str = "CREATE VIEW school AS SELECT person, reviewed FROM \
    (VALUES (CAST(0 AS BIGINT), CAST(0 AS INT))) AS t(person, reviewed) WHERE person <> 0";

/// The insured table when no insured state was loaded: the columns of
/// [`layout::insured_schema`], no row.
const EMPTY_INSURED_SQL: &str = "CREATE VIEW insured AS SELECT person, from_month, to_month, region FROM \
    (VALUES (CAST(0 AS BIGINT), CAST(0 AS INT), CAST(0 AS INT), CAST('' AS VARCHAR))) \
    AS t(person, from_month, to_month, region) WHERE person <> 0";

fn walk_has_parquet(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            walk_has_parquet(&p)
        } else {
            p.extension().is_some_and(|x| x == "parquet")
        }
    })
}

async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql)
        .await
        .map_err(engine)?
        .collect()
        .await
        .map_err(engine)
}

/// A shown pseudonym back to the stored integer, for ordering as the SQL does.
fn person_order(hex: &str) -> i64 {
    u64::from_str_radix(hex, 16).unwrap_or(0) as i64
}

fn yuan(f: Fen) -> String {
    f.yuan_string()
}

/// The monthly run on DataFusion in this process.
pub fn run(data_dir: &Path, policy: &Policy, reg: &Registry, o: &RunOptions) -> Result<RunReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads.max(1))
        .enable_all()
        .build()
        .map_err(engine)?;
    rt.block_on(run_on(
        SessionContext::new_with_config(config(o.threads)),
        data_dir,
        policy,
        reg,
        o,
    ))
}

/// `EXPLAIN ANALYZE` of one of the run's queries (`alerts`, `compliance`, `injury`, `union`,
/// `counted`) over the data directory, as the run fills it: the plan with each operator's
/// time and rows, for tuning the SQL (`scripts/bench-monitor.sh`'s driver prints it).
pub fn explain(data_dir: &Path, policy: &Policy, o: &RunOptions, name: &str) -> Result<String> {
    let sql = query_sql(name)?;
    explain_sql(data_dir, policy, o, sql)
}

/// The SQL text of the run's query `name`.
fn query_sql(name: &str) -> Result<&'static str> {
    Ok(match name {
        "alerts" => ALERTS_SQL,
        "compliance" => COMPLIANCE_SQL,
        "injury" => INJURY_SQL,
        "union" => UNION_SQL,
        "counted" => COUNTED_SQL,
        _ => {
            return Err(Error::new(
                ErrorKind::BadInput,
                format!("没有查询「{name}」：可选 alerts、compliance、injury、union、counted"),
                format!("no query {name:?}: alerts, compliance, injury, union or counted"),
            ));
        }
    })
}

/// `EXPLAIN ANALYZE` of any SQL text with the run's `{name}` placeholders (a variant of one of
/// the run's queries, tried before it replaces it).
pub fn explain_sql(data_dir: &Path, policy: &Policy, o: &RunOptions, sql: &str) -> Result<String> {
    let scope = policy.scope(&o.region, o.month, &o.reforms)?;
    let values = Thresholds::resolve(&scope)?.placeholders(o.month);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads.max(1))
        .enable_all()
        .build()
        .map_err(engine)?;
    rt.block_on(async {
        let ctx = SessionContext::new_with_config(config(o.threads));
        register(&ctx, data_dir).await?;
        let batches = query(&ctx, &format!("EXPLAIN ANALYZE {}", fill(sql, &values))).await?;
        let plans = col_str(batches.first().ok_or_else(|| engine("no plan"))?, "plan")?;
        Ok(plans.join("\n"))
    })
}

/// The monthly run on a given session: the one code path of both engines. `ctx` is a fresh
/// session, DataFusion's in this process ([`run`]) or one connected to a Ballista scheduler
/// (`anxin-cluster run`); the tables are registered on it here and the same SQL runs.
pub async fn run_on(
    ctx: SessionContext,
    data_dir: &Path,
    policy: &Policy,
    reg: &Registry,
    o: &RunOptions,
) -> Result<RunReport> {
    let scope = policy.scope(&o.region, o.month, &o.reforms)?;
    let t = Thresholds::resolve(&scope)?;
    let values = t.placeholders(o.month);
    let mut seconds = BTreeMap::new();
    register(&ctx, data_dir).await?;
    let mut timed = async |name: &'static str, sql: &str| -> Result<Vec<RecordBatch>> {
        let t0 = std::time::Instant::now();
        let r = query(&ctx, &fill(sql, &values)).await;
        seconds.insert(name, t0.elapsed().as_secs_f64());
        r
    };
    let alert_b = timed("alerts", ALERTS_SQL).await?;
    let comp_b = timed("compliance", COMPLIANCE_SQL).await?;
    let inj_b = timed("injury", INJURY_SQL).await?;
    let union_b = timed("union", UNION_SQL).await?;
    let counted_b = timed("counted", COUNTED_SQL).await?;
    let alerts = alerts_of(&alert_b, &t, o.month)?;
    let compliance = compliance_of(&comp_b, &t, reg, o.month.year())?;
    let injury = injury_of(&inj_b, policy, reg, o)?;
    let union = union_of(&union_b, &scope)?;
    let mut counted = Vec::new();
    for b in &counted_b {
        let p = col_str(b, "platform")?;
        let person = col_i64(b, "person")?;
        for (p, person) in p.into_iter().zip(person) {
            if let Some(x) = person {
                counted.push((p, x));
            }
        }
    }
    counted.sort();
    let counted = counted
        .into_iter()
        .map(|(p, x)| (p, layout::person_hex(x)))
        .collect();
    Ok(RunReport {
        month: o.month.to_string(),
        region: scope.region.code.to_string(),
        thresholds: t,
        alerts,
        compliance,
        injury,
        union,
        counted,
        seconds,
    })
}

fn alerts_of(batches: &[RecordBatch], t: &Thresholds, m: YearMonth) -> Result<Vec<Alert>> {
    let mut out = Vec::new();
    for b in batches {
        let area = col_str(b, "area")?;
        let kind = col_str(b, "kind")?;
        let person = col_i64(b, "person")?;
        let orders = col_i64(b, "orders")?;
        let income = col_i64(b, "income")?;
        let platforms = col_i64(b, "platforms")?;
        let last = col_i64(b, "last_paid")?;
        let prev_income = col_i64(b, "prev_income")?;
        let prev_months = col_i64(b, "prev_months")?;
        let reviewed = col_i64(b, "reviewed")?;
        for i in 0..b.num_rows() {
            let Some(kind) = AlertKind::parse(&kind[i]) else {
                return Err(engine(format!("unknown alert kind {}", kind[i])));
            };
            let orders = orders[i].unwrap_or(0);
            let income = Fen(income[i].unwrap_or(0));
            let platforms = platforms[i].unwrap_or(0);
            let last_paid = last[i].and_then(|x| YearMonth::from_index(x as i32));
            let gap = last_paid.map(|l| l.months_until(m)).unwrap_or(0);
            let prev_avg = match (prev_income[i], prev_months[i]) {
                (Some(s), Some(n)) if n > 0 => Some(Fen(s / n)),
                _ => None,
            };
            let work_zh = format!(
                "本月在 {platforms} 个平台接单 {orders} 单、收入 {} 元",
                yuan(income)
            );
            let work_en = format!(
                "{orders} orders on {platforms} platform(s) this month, earning {} yuan",
                yuan(income)
            );
            let lp = last_paid.map(|l| l.to_string()).unwrap_or_default();
            let school_review = reviewed[i].and_then(|x| YearMonth::from_index(x as i32));
            let (zh, en) = match kind {
                AlertKind::Uninsured => (
                    format!("{work_zh}；本实例不知其在任何地方参保"),
                    format!("{work_en}; not insured anywhere this instance knows"),
                ),
                AlertKind::Stopped => (
                    format!(
                        "{work_zh}；最后缴费月 {lp}，已 {gap} 个月没缴（{} 个月及以上算断缴）",
                        t.lapse_months
                    ),
                    format!(
                        "{work_en}; last paid {lp}, {gap} months without paying ({} or more is a lapse)",
                        t.lapse_months
                    ),
                ),
                AlertKind::Missed => (
                    format!(
                        "{work_zh}；最后缴费月 {lp}，已 {gap} 个月没缴（{}–{} 个月：有断缴风险）",
                        t.missed_months,
                        t.lapse_months - 1
                    ),
                    format!(
                        "{work_en}; last paid {lp}, {gap} month(s) without paying ({}–{}: at risk of lapsing)",
                        t.missed_months,
                        t.lapse_months - 1
                    ),
                ),
                AlertKind::SchoolCohort => {
                    let r = school_review.map(|r| r.to_string()).unwrap_or_default();
                    let since = school_review.map(|r| r.months_until(m)).unwrap_or(0);
                    (
                        format!(
                            "{work_zh}；仍在缴费（最后缴费月 {lp}），但参保是 {r} 的入学审核带来的，审核后第 {since} 个月（{} 个月内）：因入学参保的人入学后容易断缴",
                            t.school_months
                        ),
                        format!(
                            "{work_en}; still paying (last paid {lp}), but enrolled for the school review of {r}, {since} month(s) ago (within {}): people who enrol for a school review often stop after it",
                            t.school_months
                        ),
                    )
                }
                AlertKind::IncomeDrop => {
                    let avg = prev_avg.unwrap_or(Fen(0));
                    let drop = if avg.0 > 0 {
                        100 - income.0 * 100 / avg.0
                    } else {
                        0
                    };
                    (
                        format!(
                            "{work_zh}；比之前有单月份的月平均 {} 元少了约 {drop}%（少 {} 及以上算收入骤降），仍在缴费但有断缴风险",
                            yuan(avg),
                            t.income_drop.percent_string()
                        ),
                        format!(
                            "{work_en}; about {drop} % under the average of {} yuan of the months with orders before (a drop of {} or more counts), still paying but at risk",
                            yuan(avg),
                            t.income_drop.percent_string()
                        ),
                    )
                }
            };
            out.push(Alert {
                area: area[i].clone(),
                kind,
                person: person[i].map(layout::person_hex).unwrap_or_default(),
                orders,
                income_fen: income,
                platforms,
                last_paid,
                prev_avg_fen: if kind == AlertKind::IncomeDrop {
                    prev_avg
                } else {
                    None
                },
                school_review: if kind == AlertKind::SchoolCohort {
                    school_review
                } else {
                    None
                },
                reason_zh: zh,
                reason_en: en,
            });
        }
    }
    // The SQL's order, kept whichever engine ran it (a cluster merges partitions as they come).
    out.sort_by_cached_key(|a| (a.area.clone(), a.kind.code(), person_order(&a.person)));
    Ok(out)
}

/// The grade of a year: D on the sanction list, C under the line, A at or above the A line,
/// B between.
fn compliance_of(
    batches: &[RecordBatch],
    t: &Thresholds,
    reg: &Registry,
    year: i32,
) -> Result<Vec<Compliance>> {
    let mut rows: BTreeMap<(String, i32), (i64, i64)> = BTreeMap::new();
    for b in batches {
        let p = col_str(b, "platform")?;
        let y = col_i64(b, "year")?;
        let a = col_i64(b, "active")?;
        let s = col_i64(b, "insured")?;
        for i in 0..b.num_rows() {
            rows.insert(
                (p[i].clone(), y[i].unwrap_or(0) as i32),
                (a[i].unwrap_or(0), s[i].unwrap_or(0)),
            );
        }
    }
    let mut out = Vec::new();
    let platforms: std::collections::BTreeSet<String> =
        rows.keys().map(|(p, _)| p.clone()).collect();
    let under = |active: i64, insured: i64| {
        active > 0 && (insured * 10_000 / active) < i64::from(t.min_coverage.0)
    };
    for p in platforms {
        let Some(&(active, insured)) = rows.get(&(p.clone(), year)) else {
            continue;
        };
        let mut years_under = 0;
        for k in 0..t.compliance_years {
            match rows.get(&(p.clone(), year - k as i32)) {
                Some(&(a, s)) if under(a, s) => years_under += 1,
                _ => break,
            }
        }
        let coverage = Bps(if active > 0 {
            (insured * 10_000 / active) as u32
        } else {
            0
        });
        let sanction = years_under >= t.compliance_years;
        let is_under = under(active, insured);
        let grade = if sanction {
            'D'
        } else if is_under {
            'C'
        } else if coverage >= t.grade_a {
            'A'
        } else {
            'B'
        };
        let (cov, line, a_line) = (
            coverage.percent_string(),
            t.min_coverage.percent_string(),
            t.grade_a.percent_string(),
        );
        let n = t.compliance_years;
        let (why_zh, why_en) = match grade {
            'D' => (
                format!(
                    "参保率 {cov}，连续 {years_under} 年低于 {line}：列入联合惩戒名单（种子文件的建议，非现行规定）"
                ),
                format!(
                    "coverage {cov}, under {line} for {years_under} consecutive years: on the joint-sanction list (the seed's proposal, not a rule in force)"
                ),
            ),
            'C' => (
                format!(
                    "参保率 {cov}，低于 {line}（已连续 {years_under} 年，满 {n} 年列入联合惩戒名单）"
                ),
                format!(
                    "coverage {cov}, under {line} ({years_under} year(s) running; {n} put the platform on the joint-sanction list)"
                ),
            ),
            'A' => (
                format!("参保率 {cov}，不低于 {a_line}"),
                format!("coverage {cov}, at least {a_line}"),
            ),
            _ => (
                format!("参保率 {cov}，不低于 {line}、低于 {a_line}"),
                format!("coverage {cov}, at least {line} and under {a_line}"),
            ),
        };
        out.push(Compliance {
            name: reg.get(&p).map(|x| x.name.clone()).unwrap_or_default(),
            platform: p,
            year,
            active,
            insured,
            coverage,
            years_under,
            sanction,
            grade,
            why_zh,
            why_en,
        });
    }
    Ok(out)
}

/// Each platform's bill per province and sector, by the injury calculator itself (resolve →
/// compute): no rate is written here.
fn injury_of(
    batches: &[RecordBatch],
    policy: &Policy,
    reg: &Registry,
    o: &RunOptions,
) -> Result<Vec<InjuryLine>> {
    // Orders per platform, province and sector (areas are checked codes: 6 digits first).
    let mut groups: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for b in batches {
        let p = col_str(b, "platform")?;
        let area = col_str(b, "area")?;
        let sector = col_str(b, "sector")?;
        let orders = col_i64(b, "orders")?;
        for i in 0..b.num_rows() {
            let prov: String = area[i].chars().take(2).collect();
            *groups
                .entry((p[i].clone(), prov, sector[i].clone()))
                .or_insert(0) += orders[i].unwrap_or(0);
        }
    }
    let mut out = Vec::new();
    {
        for ((p, prov, sector), n) in groups {
            let region = format!("{prov}0000");
            let s = Sector::parse(&sector);
            let delivery = matches!(s, Some(Sector::InstantDelivery | Sector::FoodDelivery));
            let tier = if delivery {
                Some(
                    reg.get(&p)
                        .and_then(|x| x.tier)
                        .unwrap_or(DeliveryTier::Standard),
                )
            } else {
                None
            };
            let req = InjuryRequest {
                region: region.clone(),
                month: Some(o.month),
                sector: sector.clone(),
                orders: Some(n.max(0) as u64),
                delivery_tier: tier,
                reforms: o.reforms.clone(),
            };
            let figures = policy
                .scope(&region, o.month, &o.reforms)
                .and_then(|scope| InjuryParams::resolve(&scope))
                .and_then(|params| injury::compute(&params, &req));
            let line = match figures {
                Ok(f) => InjuryLine {
                    platform: p.clone(),
                    region,
                    sector: f.sector.name().to_string(),
                    orders: n,
                    per_order_fen: f.per_order,
                    bill_fen: f.bill,
                    note_zh: String::new(),
                    note_en: String::new(),
                },
                Err(e) => InjuryLine {
                    platform: p.clone(),
                    region,
                    sector: sector.clone(),
                    orders: n,
                    per_order_fen: None,
                    bill_fen: None,
                    note_zh: e.zh,
                    note_en: e.en,
                },
            };
            out.push(line);
        }
    }
    Ok(out)
}

fn union_of(batches: &[RecordBatch], scope: &anxin_policy::Scope) -> Result<UnionDues> {
    let (rate, rref) = match scope.rate(param::UNION_PLATFORM_DUES_RATE) {
        Ok(x) => x,
        Err(_) => {
            return Ok(UnionDues {
                rate: None,
                lines: Vec::new(),
                note_zh: "按活跃劳动者缴纳工会会费是改革建议（种子文件 001 §5.4），现行规定没有；用 --reform platform-union-dues 查看".into(),
                note_en: "union dues by active workers are a proposal (seed 001 §5.4), not in force; see them with --reform platform-union-dues".into(),
            });
        }
    };
    let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
    let mut lines = Vec::new();
    for b in batches {
        let p = col_str(b, "platform")?;
        let a = col_i64(b, "active")?;
        let inc = col_i64(b, "income")?;
        for i in 0..b.num_rows() {
            let income = Fen(inc[i].unwrap_or(0));
            lines.push(UnionLine {
                platform: p[i].clone(),
                active: a[i].unwrap_or(0),
                income_fen: income,
                dues_fen: income.times_rate(rate, rounding),
            });
        }
    }
    lines.sort_by(|a, b| a.platform.cmp(&b.platform));
    Ok(UnionDues {
        note_zh: format!(
            "改革建议（{}）：按活跃劳动者当月在平台的收入的 {} 缴纳",
            rref.source.doc,
            rate.percent_string()
        ),
        note_en: format!(
            "a proposal ({}): {} of the active workers' income from the platform that month",
            rref.source.doc,
            rate.percent_string()
        ),
        rate: Some(rref),
        lines,
    })
}

fn out_io(e: impl std::fmt::Display) -> Error {
    internal("写运行结果失败", "cannot write the run's results", e)
}

/// Writes alerts.csv, cells.csv, compliance.csv, injury.csv, union.csv, counted.csv and params.json into
/// `dir`; returns their paths.
pub fn write_outputs(dir: &Path, r: &RunReport) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(out_io)?;
    let mut paths = Vec::new();
    let mut csv_file = |name: &str, header: &[&str], rows: Vec<Vec<String>>| -> Result<()> {
        let p = dir.join(name);
        let mut w = csv::Writer::from_path(&p).map_err(out_io)?;
        w.write_record(header).map_err(out_io)?;
        for row in rows {
            w.write_record(&row).map_err(out_io)?;
        }
        w.flush().map_err(out_io)?;
        paths.push(p);
        Ok(())
    };
    let opt = |f: Option<Fen>| f.map(|x| x.0.to_string()).unwrap_or_default();
    csv_file(
        "alerts.csv",
        &[
            "area",
            "kind",
            "person",
            "orders",
            "income_fen",
            "platforms",
            "last_paid",
            "prev_avg_fen",
            "原因",
            "reason",
        ],
        r.alerts
            .iter()
            .map(|a| {
                vec![
                    a.area.clone(),
                    a.kind.code().into(),
                    a.person.clone(),
                    a.orders.to_string(),
                    a.income_fen.0.to_string(),
                    a.platforms.to_string(),
                    a.last_paid.map(|m| m.to_string()).unwrap_or_default(),
                    opt(a.prev_avg_fen),
                    a.reason_zh.clone(),
                    a.reason_en.clone(),
                ]
            })
            .collect(),
    )?;
    let mut cells: BTreeMap<(String, AlertKind), u64> = BTreeMap::new();
    for a in &r.alerts {
        *cells.entry((a.area.clone(), a.kind)).or_insert(0) += 1;
    }
    csv_file(
        "cells.csv",
        &["area", "kind", "alerts"],
        cells
            .into_iter()
            .map(|((a, k), n)| vec![a, k.code().into(), n.to_string()])
            .collect(),
    )?;
    csv_file(
        "compliance.csv",
        &[
            "platform",
            "name",
            "year",
            "active",
            "insured",
            "coverage_percent",
            "years_under",
            "sanction",
            "grade",
            "依据",
            "why",
        ],
        r.compliance
            .iter()
            .map(|c| {
                vec![
                    c.platform.clone(),
                    c.name.clone(),
                    c.year.to_string(),
                    c.active.to_string(),
                    c.insured.to_string(),
                    c.coverage.percent_string(),
                    c.years_under.to_string(),
                    c.sanction.to_string(),
                    c.grade.to_string(),
                    c.why_zh.clone(),
                    c.why_en.clone(),
                ]
            })
            .collect(),
    )?;
    csv_file(
        "injury.csv",
        &[
            "platform",
            "region",
            "sector",
            "orders",
            "per_order_fen",
            "bill_fen",
            "说明",
            "note",
        ],
        r.injury
            .iter()
            .map(|l| {
                vec![
                    l.platform.clone(),
                    l.region.clone(),
                    l.sector.clone(),
                    l.orders.to_string(),
                    opt(l.per_order_fen),
                    opt(l.bill_fen),
                    l.note_zh.clone(),
                    l.note_en.clone(),
                ]
            })
            .collect(),
    )?;
    csv_file(
        "union.csv",
        &["platform", "active", "income_fen", "dues_fen"],
        r.union
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.platform.clone(),
                    l.active.to_string(),
                    l.income_fen.0.to_string(),
                    l.dues_fen.0.to_string(),
                ]
            })
            .collect(),
    )?;
    csv_file(
        "counted.csv",
        &["platform", "person"],
        r.counted
            .iter()
            .map(|(p, x)| vec![p.clone(), x.clone()])
            .collect(),
    )?;
    let values = r
        .thresholds
        .placeholders(YearMonth::parse(&r.month).map_err(out_io)?);
    let p = dir.join("params.json");
    std::fs::write(&p, serde_json::to_string_pretty(&values).map_err(out_io)?).map_err(out_io)?;
    paths.push(p);
    Ok(paths)
}
