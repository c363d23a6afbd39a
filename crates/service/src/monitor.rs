//! The monitor's results in use (issue 16; SPEC §M1–§M3): the grid worker's alerts and the
//! steps they take on them, the inspector's compliance of the region, a platform's own rating
//! and everyone's injury bill — read from the files of the monthly run, below HTTP.
//!
//! The run itself (`anxin monitor run`, DataFusion over Parquet) is `anxin-monitor`'s and is
//! not linked here: this module reads only what it wrote,
//!
//! ```text
//! DATA/monitor/runs/YYYY-MM/alerts.csv       one alert a worker: area, kind, pseudonym, evidence
//! DATA/monitor/runs/YYYY-MM/compliance.csv   each platform's coverage, grade and why, that year
//! DATA/monitor/runs/YYYY-MM/injury.csv       each platform's occupational-injury bill lines
//! DATA/monitor/runs/YYYY-MM/counted.csv      (optional) the workers counted against a platform
//! DATA/monitor/grid-cells.csv                which grid cells each grid account looks after
//! ```
//!
//! **Grid cells** are assigned in `DATA/monitor/grid-cells.csv`, a header `username,cell`
//! then one line per account and cell: a cell as the platforms deliver it (`330106-017`) or a
//! whole district (`330106`: every cell of it). It is the deployment's own file (like the
//! platform list beside it), kept by the office that runs the grid; a grid account sees and
//! acts on an alert only when its area is one of its cells **and** lies within the account's
//! region (`anxin account add NAME --role grid --region 330106`), so a mistyped line in the
//! file never opens another district.
//!
//! Every step on an alert (acknowledge, record a contact, close with an outcome from
//! [`OUTCOMES`]) is an `alert_step` event in the tamper-evident log (migration 16), named by
//! the run's month and the monitor's pseudonym — never a resident ID; a contact's note is
//! refused if it carries something that looks like an ID or phone number.
//!
//! Who sees what ([`crate::access`]): a grid worker the alerts of their cells; an inspector
//! the compliance and injury bills of the platforms registered in their region (the region
//! code inside the credit code, GB 32100 characters 3–8); a platform only its own rating,
//! bill and the workers counted against it (pseudonyms only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anxin_domain::{Clock, YearMonth};
use anxin_records::event::AlertEvent;
use anxin_records::store::AlertStepRow;
use anxin_records::{Error, Records, Store};
use serde::Serialize;

use crate::access::{self, Action, Actor};

/// The monitor's directory under the data directory (`anxin_monitor::layout::root`).
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor")
}

/// A month's run results (`anxin_monitor::layout::runs_dir`).
pub fn run_dir(data_dir: &Path, month: YearMonth) -> PathBuf {
    root(data_dir).join("runs").join(month.to_string())
}

/// The grid cells of each grid account.
pub fn grid_cells_file(data_dir: &Path) -> PathBuf {
    root(data_dir).join("grid-cells.csv")
}

/// A refusal, or a failure below.
pub use crate::ServiceError as MonitorError;

type Result<T> = std::result::Result<T, MonitorError>;

fn refused(zh: impl Into<String>, en: impl Into<String>) -> MonitorError {
    MonitorError::Records(Error::refused(zh, en))
}

fn corrupt(what: &Path, e: impl std::fmt::Display) -> MonitorError {
    // The path and the reader's message name a file and a line, never a row's content.
    MonitorError::Records(Error::Corrupt(format!("{}: {e}", what.display())))
}

/// A month written exactly `YYYY-MM` (an empty or padded value is refused).
fn exact_month(text: &str) -> Result<YearMonth> {
    let exact = text.len() == 7 && text.trim() == text;
    YearMonth::parse(text)
        .ok()
        .filter(|_| exact)
        .ok_or_else(|| {
            refused(
                format!("月份应为 YYYY-MM：{text}"),
                format!("a month is YYYY-MM: {text}"),
            )
        })
}

/// The months with a run, oldest first.
pub fn months(data_dir: &Path) -> Vec<YearMonth> {
    let Ok(rd) = std::fs::read_dir(root(data_dir).join("runs")) else {
        return Vec::new();
    };
    let mut out: Vec<YearMonth> = rd
        .flatten()
        .filter(|e| e.path().join("alerts.csv").is_file())
        .filter_map(|e| YearMonth::parse(&e.file_name().to_string_lossy()).ok())
        .collect();
    out.sort();
    out
}

/// The month asked for (`YYYY-MM`), or the latest run; `None` when there is no run at all.
pub fn pick_month(data_dir: &Path, asked: Option<&str>) -> Result<Option<YearMonth>> {
    let have = months(data_dir);
    // Absent: the latest run. Present, it must be a month exactly (an empty or padded value is
    // refused, as the API document says), never read as "the latest".
    match asked {
        None => Ok(have.last().copied()),
        Some(text) => {
            let m = exact_month(text)?;
            if have.contains(&m) {
                Ok(Some(m))
            } else {
                Err(MonitorError::Records(Error::not_found(
                    format!("{m} 没有月度运行结果（有：{}）", list(&have)),
                    format!(
                        "there is no monthly run for {m} (there are: {})",
                        list(&have)
                    ),
                )))
            }
        }
    }
}

fn list(months: &[YearMonth]) -> String {
    if months.is_empty() {
        return "—".into();
    }
    months
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the run's files ----

/// One alert of the run, as `alerts.csv` holds it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    /// `{YYYY-MM}-{pseudonym}`.
    pub id: String,
    pub month: String,
    pub area: String,
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    /// The monitor's pseudonym (16 hex digits of the keyed hash).
    pub person: String,
    pub orders: i64,
    pub income_fen: i64,
    pub platforms: i64,
    pub last_paid: Option<String>,
    pub prev_avg_fen: Option<i64>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A platform's compliance in the run's year.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceRow {
    pub platform: String,
    pub name: String,
    pub year: i32,
    pub active: i64,
    pub insured: i64,
    pub coverage_percent: String,
    pub years_under: i64,
    /// On the list for joint sanctions (under the line for the parameter's years running).
    pub sanction: bool,
    pub grade: String,
    pub why_zh: String,
    pub why_en: String,
}

/// A line of a platform's occupational-injury bill (one province and sector).
#[derive(Debug, Clone, Serialize)]
pub struct InjuryRow {
    pub platform: String,
    pub region: String,
    pub sector: String,
    pub orders: i64,
    pub per_order_fen: Option<i64>,
    pub bill_fen: Option<i64>,
    pub note_zh: String,
    pub note_en: String,
}

/// Reads a CSV of the run by its header names; `None` when the file is absent.
fn read_csv(path: &Path) -> Result<Option<Vec<BTreeMap<String, String>>>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(corrupt(path, e)),
    };
    let mut r = csv::Reader::from_reader(std::io::BufReader::new(file));
    let header: Vec<String> = r
        .headers()
        .map_err(|e| corrupt(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| corrupt(path, e))?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok(Some(out))
}

fn field<'a>(path: &Path, row: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    row.get(name)
        .map(String::as_str)
        .ok_or_else(|| corrupt(path, format!("no column {name}")))
}

fn int(path: &Path, row: &BTreeMap<String, String>, name: &str) -> Result<i64> {
    field(path, row, name)?
        .parse()
        .map_err(|_| corrupt(path, format!("column {name} is not an integer")))
}

fn opt_int(path: &Path, row: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>> {
    let v = field(path, row, name)?;
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| corrupt(path, format!("column {name} is not an integer")))
}

/// The run's alert kinds in words (the run's own, `anxin_monitor::run::AlertKind`).
pub fn kind_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "uninsured" => ("在干活但未参保", "works but is not insured"),
        "stopped" => ("已断缴", "stopped paying"),
        "missed" => ("漏缴，有断缴风险", "missed months, at risk"),
        "school_cohort" => (
            "因子女入学参保，入学后有断缴风险",
            "enrolled for a school review, at risk after it",
        ),
        "income_drop" => ("收入骤降，有断缴风险", "income drop, at risk"),
        _ => ("其他", "other"),
    }
}

/// The alerts of `month`'s run.
pub fn alerts_of(data_dir: &Path, month: YearMonth) -> Result<Vec<AlertRow>> {
    let path = run_dir(data_dir, month).join("alerts.csv");
    let Some(rows) = read_csv(&path)? else {
        return Err(MonitorError::Records(Error::not_found(
            format!("{month} 没有月度运行结果"),
            format!("there is no monthly run for {month}"),
        )));
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let person = field(&path, row, "person")?.to_string();
        if !is_pseudonym(&person) {
            return Err(corrupt(&path, "a person is not 16 hex digits"));
        }
        let kind = field(&path, row, "kind")?.to_string();
        let (kind_zh, kind_en) = kind_words(&kind);
        let last_paid = field(&path, row, "last_paid")?;
        out.push(AlertRow {
            id: format!("{month}-{person}"),
            month: month.to_string(),
            area: field(&path, row, "area")?.to_string(),
            kind_zh: kind_zh.into(),
            kind_en: kind_en.into(),
            kind,
            person,
            orders: int(&path, row, "orders")?,
            income_fen: int(&path, row, "income_fen")?,
            platforms: int(&path, row, "platforms")?,
            last_paid: (!last_paid.is_empty()).then(|| last_paid.to_string()),
            prev_avg_fen: opt_int(&path, row, "prev_avg_fen")?,
            reason_zh: field(&path, row, "原因")?.to_string(),
            reason_en: field(&path, row, "reason")?.to_string(),
        });
    }
    Ok(out)
}

/// Every platform's compliance in `month`'s run (empty when the file is absent).
pub fn compliance_of(data_dir: &Path, month: YearMonth) -> Result<Vec<ComplianceRow>> {
    let path = run_dir(data_dir, month).join("compliance.csv");
    let mut out = Vec::new();
    for row in read_csv(&path)?.unwrap_or_default() {
        out.push(ComplianceRow {
            platform: field(&path, &row, "platform")?.to_string(),
            name: field(&path, &row, "name")?.to_string(),
            year: int(&path, &row, "year")? as i32,
            active: int(&path, &row, "active")?,
            insured: int(&path, &row, "insured")?,
            coverage_percent: field(&path, &row, "coverage_percent")?.to_string(),
            years_under: int(&path, &row, "years_under")?,
            sanction: field(&path, &row, "sanction")? == "true",
            grade: field(&path, &row, "grade")?.to_string(),
            why_zh: field(&path, &row, "依据")?.to_string(),
            why_en: field(&path, &row, "why")?.to_string(),
        });
    }
    Ok(out)
}

/// Every injury bill line of `month`'s run (empty when the file is absent).
pub fn injury_of(data_dir: &Path, month: YearMonth) -> Result<Vec<InjuryRow>> {
    let path = run_dir(data_dir, month).join("injury.csv");
    let mut out = Vec::new();
    for row in read_csv(&path)?.unwrap_or_default() {
        out.push(InjuryRow {
            platform: field(&path, &row, "platform")?.to_string(),
            region: field(&path, &row, "region")?.to_string(),
            sector: field(&path, &row, "sector")?.to_string(),
            orders: int(&path, &row, "orders")?,
            per_order_fen: opt_int(&path, &row, "per_order_fen")?,
            bill_fen: opt_int(&path, &row, "bill_fen")?,
            note_zh: field(&path, &row, "说明")?.to_string(),
            note_en: field(&path, &row, "note")?.to_string(),
        });
    }
    Ok(out)
}

/// The pseudonyms of the workers counted against `platform` (active, not insured) in
/// `month`'s run, when the run wrote them (`counted.csv`: `platform,person`).
pub fn counted_of(
    data_dir: &Path,
    month: YearMonth,
    platform: &str,
) -> Result<Option<Vec<String>>> {
    let path = run_dir(data_dir, month).join("counted.csv");
    let Some(rows) = read_csv(&path)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for row in rows {
        if field(&path, &row, "platform")? == platform {
            let p = field(&path, &row, "person")?;
            if !is_pseudonym(p) {
                return Err(corrupt(&path, "a person is not 16 hex digits"));
            }
            out.push(p.to_string());
        }
    }
    Ok(Some(out))
}

fn is_pseudonym(s: &str) -> bool {
    s.len() == 16
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ---- grid cells ----

/// Whether `cell` is a grid cell (`DDDDDD-NNN`) or a district (`DDDDDD`).
fn valid_cell(cell: &str) -> bool {
    let b = cell.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    match b.len() {
        6 => digits(b),
        n if n > 7 && n <= 16 => digits(&b[..6]) && b[6] == b'-' && digits(&b[7..]),
        _ => false,
    }
}

/// The cells assigned to `username` in the grid-cells file (none when the file is absent).
pub fn cells_of(data_dir: &Path, username: &str) -> Result<Vec<String>> {
    let path = grid_cells_file(data_dir);
    let Some(rows) = read_csv(&path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let cell = field(&path, row, "cell")?.trim();
        if !valid_cell(cell) {
            return Err(refused(
                format!(
                    "{} 第 {} 行的网格“{cell}”不对：应为 6 位区县代码加网格号（如 330106-017）或 6 位区县代码",
                    path.display(),
                    i + 2
                ),
                format!(
                    "{} line {}: the cell {cell:?} is wrong: a cell is a 6-digit district code and a number (330106-017) or a 6-digit district code",
                    path.display(),
                    i + 2
                ),
            ));
        }
        if field(&path, row, "username")?.trim() == username {
            out.push(cell.to_string());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `area` (a cell or a district code) is among `cells` (a district covers its cells).
pub fn in_cells(cells: &[String], area: &str) -> bool {
    cells.iter().any(|c| {
        area == c
            || (c.len() == 6
                && area.len() > 7
                && area.starts_with(c.as_str())
                && area.as_bytes()[6] == b'-')
    })
}

/// The district code of an area (its first six digits).
pub fn district_of(area: &str) -> Option<u32> {
    area.get(..6).and_then(|d| d.parse().ok())
}

/// The region a platform is registered in: characters 3–8 of its credit code (GB 32100).
pub fn platform_region(code: &str) -> Option<u32> {
    code.get(2..8)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
}

// ---- steps ----

/// How a contact was made.
pub const VIAS: [(&str, &str, &str); 4] = [
    ("visit", "上门", "a visit"),
    ("phone", "电话", "a phone call"),
    ("message", "短信或微信", "a text or WeChat message"),
    ("other", "其他方式", "another way"),
];

/// How an alert is closed: the fixed list of outcomes.
pub const OUTCOMES: [(&str, &str, &str); 8] = [
    ("enrolled", "已办理参保", "enrolled"),
    (
        "will_enrol",
        "同意参保，尚未办理",
        "agreed to enrol, not done yet",
    ),
    ("resumed", "已恢复缴费", "resumed paying"),
    ("insured_elsewhere", "已在其他地方参保", "insured elsewhere"),
    ("declined", "本人不愿参保", "declined to enrol"),
    ("unreachable", "多次联系不上", "could not be reached"),
    ("moved_away", "已离开本网格", "moved away from the cell"),
    (
        "data_error",
        "数据有误（并未在平台干活等）",
        "the data was wrong",
    ),
];

/// The steps and the states they lead to.
pub const ACTIONS: [(&str, &str, &str, &str); 3] = [
    ("acknowledge", "acknowledged", "确认收到", "acknowledge"),
    ("contact", "contacted", "记录联系", "record a contact"),
    ("close", "closed", "办结", "close"),
];

/// The states of an alert in words.
pub fn state_words(state: &str) -> (&'static str, &'static str) {
    match state {
        "open" => ("待处理", "open"),
        "acknowledged" => ("已确认", "acknowledged"),
        "contacted" => ("已联系", "contacted"),
        "closed" => ("已办结", "closed"),
        _ => ("未知", "unknown"),
    }
}

fn words<'a>(list: &'a [(&'a str, &'a str, &'a str)], code: &str) -> Option<(&'a str, &'a str)> {
    list.iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| (*zh, *en))
}

/// Longest contact note, in characters.
pub const MAX_NOTE_CHARS: usize = 300;

/// What a grid worker asks for: a step, with a contact's how, when and note, or a closing's
/// outcome.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    pub action: String,
    #[serde(default)]
    pub via: Option<String>,
    /// When the contact was made: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (China time) or RFC 3339.
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
}

/// A step as shown.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub step: u32,
    pub action: String,
    pub action_zh: String,
    pub action_en: String,
    pub state: String,
    /// China time, `YYYY-MM-DD HH:MM`.
    pub at: String,
    pub via: Option<String>,
    pub via_zh: Option<String>,
    pub via_en: Option<String>,
    pub contact_at: Option<String>,
    pub note: Option<String>,
    pub outcome: Option<String>,
    pub outcome_zh: Option<String>,
    pub outcome_en: Option<String>,
}

/// An alert with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: AlertRow,
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    pub steps: Vec<StepView>,
    /// The steps the state allows next.
    pub next: Vec<String>,
}

fn china_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(anxin_domain::china())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn step_view(r: &AlertStepRow) -> StepView {
    let (action_zh, action_en) = ACTIONS
        .iter()
        .find(|a| a.0 == r.action)
        .map(|a| (a.2, a.3))
        .unwrap_or(("", ""));
    let via = r.via.as_deref().and_then(|v| words(&VIAS, v));
    let outcome = r.outcome.as_deref().and_then(|o| words(&OUTCOMES, o));
    StepView {
        step: r.step,
        action: r.action.clone(),
        action_zh: action_zh.into(),
        action_en: action_en.into(),
        state: r.state.clone(),
        at: china_time(r.at),
        via: r.via.clone(),
        via_zh: via.map(|v| v.0.to_string()),
        via_en: via.map(|v| v.1.to_string()),
        contact_at: r.contact_at.map(china_time),
        note: r.note.clone(),
        outcome: r.outcome.clone(),
        outcome_zh: outcome.map(|o| o.0.to_string()),
        outcome_en: outcome.map(|o| o.1.to_string()),
    }
}

/// The steps a state allows: acknowledging once, contacts until closed, closing once.
pub fn allowed(state: &str) -> Vec<&'static str> {
    match state {
        "open" => vec!["acknowledge", "contact", "close"],
        "acknowledged" | "contacted" => vec!["contact", "close"],
        _ => Vec::new(),
    }
}

fn view(alert: AlertRow, steps: &[AlertStepRow]) -> AlertView {
    let mine: Vec<&AlertStepRow> = steps.iter().filter(|s| s.alert_id == alert.id).collect();
    let state = mine
        .last()
        .map(|s| s.state.clone())
        .unwrap_or_else(|| "open".into());
    let (zh, en) = state_words(&state);
    AlertView {
        alert,
        state_zh: zh.into(),
        state_en: en.into(),
        next: allowed(&state).into_iter().map(String::from).collect(),
        state,
        steps: mine.into_iter().map(step_view).collect(),
    }
}

/// A grid worker's desk: the month, their cells and the alerts there.
#[derive(Debug, Clone, Serialize)]
pub struct GridDesk {
    /// `None`: no run yet.
    pub month: Option<String>,
    pub months: Vec<String>,
    pub cells: Vec<String>,
    pub alerts: Vec<AlertView>,
}

/// Whether the grid worker may see `area`: one of their cells, inside their region.
fn grid_covers(actor: Actor<'_>, cells: &[String], area: &str) -> bool {
    in_cells(cells, area) && district_of(area).is_some_and(|d| actor.covers(d))
}

/// The alerts of the grid worker's cells in `month` (or the latest run), open ones first.
pub fn grid_desk<S: Store>(
    records: &mut Records<S>,
    data_dir: &Path,
    actor: Actor<'_>,
    month: Option<&str>,
) -> Result<GridDesk> {
    access::check(actor, Action::GridAlerts)?;
    let cells = cells_of(data_dir, &actor.account.username)?;
    let months: Vec<String> = months(data_dir).iter().map(|m| m.to_string()).collect();
    let Some(m) = pick_month(data_dir, month)? else {
        return Ok(GridDesk {
            month: None,
            months,
            cells,
            alerts: Vec::new(),
        });
    };
    let steps = records.store().alert_steps_in(&m.to_string())?;
    let mut alerts: Vec<AlertView> = alerts_of(data_dir, m)?
        .into_iter()
        .filter(|a| grid_covers(actor, &cells, &a.area))
        .map(|a| view(a, &steps))
        .collect();
    alerts.sort_by_key(|a| {
        (
            a.state == "closed",
            a.alert.area.clone(),
            a.alert.id.clone(),
        )
    });
    Ok(GridDesk {
        month: Some(m.to_string()),
        months,
        cells,
        alerts,
    })
}

/// Checks an alert id (`YYYY-MM-` and 16 hex digits) and finds the alert in its run.
fn find(data_dir: &Path, id: &str) -> Result<AlertRow> {
    let bad = || {
        refused(
            "预警编号应为 YYYY-MM- 加 16 位十六进制数字",
            "an alert id is YYYY-MM- followed by 16 hex digits",
        )
    };
    if id.len() != 24 || id.as_bytes()[7] != b'-' {
        return Err(bad());
    }
    let month = YearMonth::parse(&id[..7]).map_err(|_| bad())?;
    if !is_pseudonym(&id[8..]) {
        return Err(bad());
    }
    let not_found =
        || MonitorError::Records(Error::not_found("没有这条预警", "there is no such alert"));
    if !run_dir(data_dir, month).join("alerts.csv").is_file() {
        return Err(not_found());
    }
    alerts_of(data_dir, month)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(not_found)
}

/// One alert of the grid worker's cells, with its steps. An alert outside their cells is
/// refused as if it did not exist for them (the same words either way: no probing).
pub fn alert<S: Store>(
    records: &mut Records<S>,
    data_dir: &Path,
    actor: Actor<'_>,
    id: &str,
) -> Result<AlertView> {
    access::check(actor, Action::GridAlerts)?;
    let a = find(data_dir, id)?;
    let cells = cells_of(data_dir, &actor.account.username)?;
    access::check_alert_area(actor, grid_covers(actor, &cells, &a.area))?;
    let steps = records.store().alert_steps_in(&a.month)?;
    Ok(view(a, &steps))
}

/// Parses when a contact was made; refuses the future and the time before the run's month.
fn parse_when(text: &str, month: YearMonth, now: i64) -> Result<i64> {
    let t = text.trim();
    let bad = || {
        refused(
            format!("联系时间“{t}”看不懂：请写 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM"),
            format!(
                "the contact time {t:?} is not understood: write YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            ),
        )
    };
    let secs = if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        ts.as_second()
    } else if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        dt.to_zoned(anxin_domain::china())
            .map_err(|_| bad())?
            .timestamp()
            .as_second()
    } else if let Ok(d) = t.parse::<jiff::civil::Date>() {
        d.to_zoned(anxin_domain::china())
            .map_err(|_| bad())?
            .timestamp()
            .as_second()
    } else {
        return Err(bad());
    };
    if secs > now + 300 {
        return Err(refused(
            "联系时间不能在将来",
            "the contact time cannot be in the future",
        ));
    }
    let start = month
        .first_day()
        .to_zoned(anxin_domain::china())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0);
    if secs < start {
        return Err(refused(
            format!("联系时间不能早于这条预警所属的 {month}"),
            format!("the contact time cannot be before the alert's month {month}"),
        ));
    }
    Ok(secs)
}

/// A contact note: plain text, at most [`MAX_NOTE_CHARS`] characters, no run of 11 or more
/// digits (a phone number, an ID number): the log keeps it for good.
fn check_note(text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(refused(
            "请写下联系的情况（谈了什么、对方怎么说）",
            "write what came of the contact (what was said, what they answered)",
        ));
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(refused(
            format!("联系情况最多 {MAX_NOTE_CHARS} 个字"),
            format!("the note is at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(refused(
            "联系情况里有控制字符",
            "the note contains control characters",
        ));
    }
    let mut run = 0;
    for c in t.chars() {
        if c.is_ascii_digit() || ((c == 'X' || c == 'x') && run >= 14) {
            run += 1;
            if run >= 11 {
                return Err(refused(
                    "联系情况里不要写身份证号或电话号码（记录永久保存，只用化名）",
                    "do not write an ID or phone number in the note (the record is kept for good; the alert uses a pseudonym)",
                ));
            }
        } else if c != ' ' && c != '-' {
            run = 0;
        }
    }
    Ok(t.to_string())
}

/// Takes a step on an alert of the grid worker's cells: checked by [`crate::access`] and the
/// state, then appended as an `alert_step` event. Returns the alert as it now stands.
pub fn act<S: Store>(
    records: &mut Records<S>,
    data_dir: &Path,
    actor: Actor<'_>,
    id: &str,
    req: &StepRequest,
    clock: &dyn Clock,
) -> Result<AlertView> {
    access::check(actor, Action::GridAlerts)?;
    let a = find(data_dir, id)?;
    let cells = cells_of(data_dir, &actor.account.username)?;
    access::check_alert_area(actor, grid_covers(actor, &cells, &a.area))?;
    let month = YearMonth::parse(&a.month).map_err(|_| refused("月份不对", "bad month"))?;
    let steps = records.store().alert_steps_in(&a.month)?;
    let mine: Vec<&AlertStepRow> = steps.iter().filter(|s| s.alert_id == a.id).collect();
    let state = mine.last().map(|s| s.state.as_str()).unwrap_or("open");
    let Some(&(action, next_state, _, _)) = ACTIONS.iter().find(|x| x.0 == req.action.trim())
    else {
        return Err(refused(
            format!(
                "不认识的操作“{}”：可以是 acknowledge、contact、close",
                req.action
            ),
            format!(
                "unknown step {:?}: it is acknowledge, contact or close",
                req.action
            ),
        ));
    };
    if !allowed(state).contains(&action) {
        let (zh, en) = state_words(state);
        return Err(MonitorError::Denied(access::alert_state_denied(zh, en)));
    }
    let now = clock.unix_seconds();
    let (mut via, mut contact_at, mut note, mut outcome) = (None, None, None, None);
    let stray = |what_zh: &str, what_en: &str| {
        refused(
            format!("“{action}”这一步不带{what_zh}"),
            format!("the step {action} takes no {what_en}"),
        )
    };
    match action {
        "contact" => {
            let v = req.via.as_deref().map(str::trim).unwrap_or_default();
            if words(&VIAS, v).is_none() {
                return Err(refused(
                    format!(
                        "联系方式“{v}”不对：可以是 visit（上门）、phone（电话）、message（短信或微信）、other（其他）"
                    ),
                    format!("the contact way {v:?} is wrong: it is visit, phone, message or other"),
                ));
            }
            via = Some(v.to_string());
            contact_at = Some(match req.when.as_deref().map(str::trim) {
                Some(w) if !w.is_empty() => parse_when(w, month, now)?,
                _ => now,
            });
            note = Some(check_note(req.note.as_deref().unwrap_or_default())?);
            if req.outcome.as_deref().is_some_and(|o| !o.trim().is_empty()) {
                return Err(stray("办结结果", "outcome"));
            }
        }
        "close" => {
            let o = req.outcome.as_deref().map(str::trim).unwrap_or_default();
            if words(&OUTCOMES, o).is_none() {
                let codes: Vec<&str> = OUTCOMES.iter().map(|x| x.0).collect();
                return Err(refused(
                    format!("办结结果“{o}”不对：可以是 {}", codes.join("、")),
                    format!(
                        "the outcome {o:?} is wrong: it is one of {}",
                        codes.join(", ")
                    ),
                ));
            }
            outcome = Some(o.to_string());
            if req.via.as_deref().is_some_and(|v| !v.trim().is_empty())
                || req.when.as_deref().is_some_and(|v| !v.trim().is_empty())
                || req.note.as_deref().is_some_and(|v| !v.trim().is_empty())
            {
                return Err(stray(
                    "联系记录（请先记录联系，再办结）",
                    "contact (record the contact first, then close)",
                ));
            }
        }
        _ => {
            if [&req.via, &req.when, &req.note, &req.outcome]
                .iter()
                .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()))
            {
                return Err(stray("其他内容", "other fields"));
            }
        }
    }
    let step = mine.len() as u32 + 1;
    let event = AlertEvent {
        key: format!("alert:{}:{step}", a.id),
        alert: a.id.clone(),
        step,
        month,
        area: a.area.clone(),
        alert_kind: a.kind.clone(),
        person: a.person.clone(),
        action: action.into(),
        state: next_state.into(),
        actor: format!("account:{}", actor.account.id),
        at: now,
        via,
        contact_at,
        note,
        outcome,
    };
    records.append_alert_step(event)?;
    let steps = records.store().alert_steps_in(&a.month)?;
    Ok(view(a, &steps))
}

// ---- compliance, ratings, bills ----

/// The inspector's page: each platform of the region in the run's year, the sanction list,
/// the injury bills.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceDesk {
    pub month: Option<String>,
    pub months: Vec<String>,
    pub rows: Vec<ComplianceRow>,
    /// The platforms under the line for the parameter's years running (a proposal).
    pub sanction_list: Vec<ComplianceRow>,
    pub injury: Vec<InjuryRow>,
}

/// An inspector's compliance of the platforms registered in their region.
pub fn compliance(
    data_dir: &Path,
    actor: Actor<'_>,
    month: Option<&str>,
) -> Result<ComplianceDesk> {
    access::check(actor, Action::MonitorCompliance)?;
    let months: Vec<String> = months(data_dir).iter().map(|m| m.to_string()).collect();
    let Some(m) = pick_month(data_dir, month)? else {
        return Ok(ComplianceDesk {
            month: None,
            months,
            rows: Vec::new(),
            sanction_list: Vec::new(),
            injury: Vec::new(),
        });
    };
    let ours = |code: &str| platform_region(code).is_some_and(|r| actor.covers(r));
    let rows: Vec<ComplianceRow> = compliance_of(data_dir, m)?
        .into_iter()
        .filter(|c| ours(&c.platform))
        .collect();
    let injury = injury_of(data_dir, m)?
        .into_iter()
        .filter(|l| ours(&l.platform))
        .collect();
    Ok(ComplianceDesk {
        month: Some(m.to_string()),
        months,
        sanction_list: rows.iter().filter(|c| c.sanction).cloned().collect(),
        rows,
        injury,
    })
}

/// A platform's own rating, bill and the workers counted against it.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    pub month: Option<String>,
    pub months: Vec<String>,
    pub platform: String,
    pub rating: Option<ComplianceRow>,
    pub injury: Vec<InjuryRow>,
    /// Pseudonyms of the active workers not insured that year; `None` when the run did not
    /// write them.
    pub counted: Option<Vec<String>>,
}

/// The platform account's own rating (its credit code's only).
pub fn rating(data_dir: &Path, actor: Actor<'_>, month: Option<&str>) -> Result<Rating> {
    access::check(actor, Action::PlatformRating)?;
    let code = access::own_org(actor)
        .ok_or_else(access::no_org)?
        .to_string();
    let months: Vec<String> = months(data_dir).iter().map(|m| m.to_string()).collect();
    let Some(m) = pick_month(data_dir, month)? else {
        return Ok(Rating {
            month: None,
            months,
            platform: code,
            rating: None,
            injury: Vec::new(),
            counted: None,
        });
    };
    Ok(Rating {
        month: Some(m.to_string()),
        months,
        rating: compliance_of(data_dir, m)?
            .into_iter()
            .find(|c| c.platform == code),
        injury: injury_of(data_dir, m)?
            .into_iter()
            .filter(|l| l.platform == code)
            .collect(),
        counted: counted_of(data_dir, m, &code)?,
        platform: code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_districts() {
        let cells = vec!["330106-017".to_string(), "330105".to_string()];
        assert!(in_cells(&cells, "330106-017"));
        assert!(!in_cells(&cells, "330106-018"));
        assert!(!in_cells(&cells, "330106-0170"));
        assert!(in_cells(&cells, "330105-003"));
        assert!(in_cells(&cells, "330105"));
        assert!(!in_cells(&cells, "3301050-03"));
        assert!(valid_cell("330106-017") && valid_cell("330106"));
        assert!(!valid_cell("33010-017") && !valid_cell("330106-") && !valid_cell("abc"));
        assert_eq!(platform_region("91330106MA2H00001X"), Some(330106));
        assert_eq!(platform_region("x"), None);
    }

    #[test]
    fn notes_carry_no_numbers() {
        assert!(check_note("上门讲了参保，愿意下周去办").is_ok());
        assert!(check_note("电话 138 1234 5678 打不通").is_err());
        assert!(check_note("身份证 33010619900101123X").is_err());
        assert!(check_note("   ").is_err());
        assert!(check_note(&"字".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(check_note("2026-03-05 下午上门").is_ok());
    }
}

/// One refused row of a delivery: where, which order, why (a stable code, both languages).
#[derive(Debug, Clone, Serialize)]
pub struct RefusedRow {
    pub line: u64,
    pub order_id: String,
    pub reason: &'static str,
    pub reason_zh: &'static str,
    pub reason_en: &'static str,
}

/// What became of a delivery: every row accounted for, the good ones landed.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub batch: String,
    pub platform: String,
    pub month: String,
    pub rows: u64,
    pub landed: u64,
    pub refused: u64,
    /// Refusals per reason code.
    pub reasons: BTreeMap<&'static str, u64>,
    /// Every refused row (the same rows as the report file the command line writes).
    pub refusals: Vec<RefusedRow>,
}

/// The most bytes one delivery through the API may carry (a month's larger files go through
/// `anxin monitor ingest`).
pub const MAX_DELIVERY_BYTES: usize = 16 * 1024 * 1024;

/// A platform's activity of `month` delivered as one batch through the API (CSV with the
/// delivery columns, or Parquet): checked row by row exactly like a delivered file
/// (`anxin_monitor::ingest`), each resident ID replaced at once by the deployment's keyed
/// hash, the good rows landed as one Parquet file, nothing half-imported. Only a platform
/// account, for its own credit code: a row of another platform's orders is refused.
pub fn deliver<S: Store>(
    records: &mut Records<S>,
    data_dir: &Path,
    actor: Actor<'_>,
    month: &str,
    body: &[u8],
    now: jiff::Timestamp,
) -> Result<Delivery> {
    access::check(actor, Action::DeliverActivity)?;
    let code = access::own_org(actor)
        .ok_or_else(access::no_org)?
        .to_string();
    let month = exact_month(month)?;
    if body.is_empty() {
        return Err(refused(
            "没有数据：请求体应为 CSV（表头 order_id,platform,resident_id,time,amount_fen,sector,area）或 Parquet",
            "no data: the body is CSV (header order_id,platform,resident_id,time,amount_fen,sector,area) or Parquet",
        ));
    }
    if body.len() > MAX_DELIVERY_BYTES {
        return Err(refused(
            format!(
                "一批最多 {} MiB：更大的文件请交给经办机构用 anxin monitor ingest 导入",
                MAX_DELIVERY_BYTES >> 20
            ),
            format!(
                "a batch is at most {} MiB: larger files are ingested by the office with anxin monitor ingest",
                MAX_DELIVERY_BYTES >> 20
            ),
        ));
    }
    let reg = anxin_monitor::platforms::Registry::of_data_dir(data_dir).map_err(from_monitor)?;
    // The body as a file in the monitor's staging directory, named by what it is.
    let staging = anxin_monitor::layout::staging_dir(data_dir);
    std::fs::create_dir_all(&staging).map_err(|e| MonitorError::Records(Error::store(e)))?;
    let ext = if body.starts_with(b"PAR1") {
        "parquet"
    } else {
        "csv"
    };
    let upload = tempfile_in(&staging, ext)?;
    std::fs::write(&upload, body).map_err(|e| MonitorError::Records(Error::store(e)))?;
    let r = anxin_monitor::ingest::ingest(
        data_dir,
        records.data_key(),
        &reg,
        &anxin_monitor::ingest::IngestOptions {
            file: &upload,
            platform: &code,
            month,
            now,
        },
    );
    let _ = std::fs::remove_file(&upload);
    // A message about the file names the upload, not the server's path.
    let shown = upload.display().to_string();
    let r = r.map_err(|mut e| {
        e.zh = e.zh.replace(&shown, "上传的数据");
        e.en = e.en.replace(&shown, "the uploaded batch");
        from_monitor(e)
    })?;
    Ok(Delivery {
        batch: r.batch,
        platform: r.platform,
        month: r.month,
        rows: r.rows,
        landed: r.landed,
        refused: r.refused,
        reasons: r.reasons,
        refusals: r
            .refusals
            .iter()
            .map(|x| RefusedRow {
                line: x.line,
                order_id: x.order_id.clone(),
                reason: x.reason.code(),
                reason_zh: x.reason.zh(),
                reason_en: x.reason.en(),
            })
            .collect(),
    })
}

/// A fresh file name in `dir` for one upload.
fn tempfile_in(dir: &Path, ext: &str) -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(dir.join(format!("upload-{}-{n}.{ext}", std::process::id())))
}

/// The monitor's error (a policy-style error with its kind) as the service's.
fn from_monitor(e: anxin_policy::Error) -> MonitorError {
    use anxin_domain::ErrorKind as K;
    MonitorError::Records(match e.kind {
        K::NotFound => Error::not_found(e.zh, e.en),
        K::BadInput | K::Refused | K::NotApplicable | K::Forbidden => Error::refused(e.zh, e.en),
        _ => Error::store(format!("{} / {}", e.zh, e.en)),
    })
}
