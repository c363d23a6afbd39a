//! A clerk imports a file (CSV in UTF-8 or GBK, .xlsx, JSON) from the browser: the upload lands
//! batch by batch on the ledger in the background while the page shows a progress bar (no
//! JavaScript: the page refreshes itself), then the counts and every refused row with its
//! reason, and the refusal report as a CSV download.
//!
//! The landing itself is `anxin_service::jobs`, the same code as `anxin import`. A job is
//! stored with its file before anything lands and moves on in the same transaction as each
//! batch, so after a crash or a restart it resumes after its last durable batch
//! ([`resume`]) and its progress and refusals are still there.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use anxin_import::Kind;
use anxin_policy::Lang;
use anxin_records::access::Role;
use anxin_records::jobs::{JobRefusal, JobRow};
use anxin_service::Refusal;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Caller;
use crate::list::{ListQuery, Page};
use crate::upload::{File, Upload};
use crate::{
    ApiError, AppState, CardsTable, Chrome, Params, Shared, attachment, csv_download, lang_of,
    lang_query,
};
use anxin_records::access::AccountRow;
use anxin_service::access::{Action, Actor};
use askama::Template;

/// Largest upload (the import streams it; the limit bounds memory).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Rows per transaction for uploads.
const BATCH: usize = 5_000;
/// Refusals shown on the page (all are in the CSV).
const SHOWN: usize = 200;

/// The jobs this process is landing now (the jobs themselves are in the database), so a job
/// is never run twice at once.
#[derive(Default)]
pub struct Jobs {
    running: HashSet<i64>,
}

pub type SharedJobs = Arc<Mutex<Jobs>>;

fn lock(jobs: &SharedJobs) -> std::sync::MutexGuard<'_, Jobs> {
    jobs.lock().unwrap_or_else(|p| p.into_inner())
}

/// The kinds a clerk imports here, in the order the imports need (`template::ORDER`): a
/// contribution names a person and a payer already registered.
const KINDS: [(&str, &str, &str); 4] = [
    ("orgs", "平台和单位", "platforms and employers"),
    ("persons", "人员", "persons"),
    ("children", "子女", "children"),
    ("contributions", "缴费记录", "contributions"),
];

/// `GET /clerk/templates/{file}`: the template of a kind of import file, `{kind}.xlsx` or
/// `{kind}.csv` — every column under its Chinese header ("*" marks a required one) and an
/// example row. For clerks, who import.
pub async fn template(caller: Caller, Path(file): Path<String>) -> Result<Response, ApiError> {
    caller.may(Action::Import)?;
    let allowed = || {
        ApiError::bad_input(
            "模板文件名须为 类型.xlsx 或 类型.csv，类型为 orgs、persons、children、contributions、applications 之一",
            "a template is kind.xlsx or kind.csv, the kind one of orgs, persons, children, contributions, applications",
        )
    };
    let (name, ext) = file.rsplit_once('.').ok_or_else(allowed)?;
    let kind = anxin_import::Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == name)
        .ok_or_else(allowed)?;
    let download = format!("anxin-template-{name}.{ext}");
    match ext {
        "xlsx" => {
            let bytes =
                anxin_import::template::template_xlsx(kind).map_err(|_| ApiError::internal())?;
            Ok(attachment(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &download,
            ))
        }
        "csv" => Ok(attachment(
            anxin_import::template::template_csv(kind),
            "text/csv; charset=utf-8",
            &download,
        )),
        _ => Err(allowed()),
    }
}

/// `GET /clerk/import`
pub async fn import_page(
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::Import)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(crate::html(&ImportForm {
        c: Chrome::new(lang, lang.pick("导入文件", "Import a file")),
        kinds: KINDS
            .iter()
            .map(|(k, zh, en)| (*k, lang.pick(zh, en)))
            .collect(),
        csrf: caller.csrf(),
    })
    .into_response())
}

/// `templates/import.html`: the order to import in, each kind with its templates, and the
/// form.
#[derive(Template)]
#[template(path = "import.html")]
struct ImportForm {
    c: Chrome,
    kinds: Vec<(&'static str, &'static str)>,
    csrf: String,
}

/// `templates/import_status.html`: progress (the page refreshes itself until done), then
/// the counts and the refused rows.
#[derive(Template)]
#[template(path = "import_status.html")]
struct StatusPage {
    c: Chrome,
    id: i64,
    file_name: String,
    kind: String,
    read: u64,
    total: u64,
    /// The bar's maximum (never 0).
    total_bar: u64,
    finished: bool,
    error: String,
    added: u64,
    unchanged: u64,
    rejected: u64,
    t: CardsTable,
}

crate::extends_layout!(ImportForm, StatusPage);

/// `POST /clerk/import`: starts the import and sends the browser to its progress page.
pub async fn import_submit(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    caller.may(Action::Import)?;
    let mut upload = Upload::read(multipart, MAX_UPLOAD_BYTES).await?;
    caller.check_csrf(upload.field("csrf"))?;
    let kind = kind_of(upload.field("kind"))?;
    let file = upload.take_file()?;
    let id = start(&state, &caller, kind, file).await?;
    let lang = lang_query(lang_of(q.lang.as_deref()), true);
    Ok(Redirect::to(&format!("/clerk/import/{id}{lang}")).into_response())
}

/// A kind of file by its name in [`KINDS`].
fn kind_of(text: &str) -> Result<(Kind, &'static str), ApiError> {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == text)
        .and_then(|(k, _, _)| k.parse::<Kind>().ok().map(|kind| (kind, *k)))
        .ok_or_else(|| {
            ApiError::bad_input(
                format!("不能导入 {text:?}：可导入 persons、orgs、children、contributions"),
                format!("cannot import {text:?}: use persons, orgs, children or contributions"),
            )
        })
}

/// Stores the job with its file and lands it in the background; returns the job's id.
async fn start(
    state: &AppState,
    caller: &Caller,
    (kind, _): (Kind, &'static str),
    File {
        name,
        bytes,
        format,
    }: File,
) -> Result<u64, ApiError> {
    let owner = caller.account.id;
    let job = anxin_service::jobs::Start {
        owner,
        file_name: name,
        kind,
        format,
        today: state.today_in_china(),
        content: bytes.to_vec(),
        path: None,
        now: state.now(),
    };
    let id = state
        .write(move |r| {
            if unfinished(&r.store().unfinished_jobs()?, owner) >= crate::gates::IMPORTS_PER_CLERK {
                return Err(crate::gates::busy(
                    "你发起的导入",
                    "your imports",
                    crate::gates::IMPORTS_PER_CLERK,
                ));
            }
            Ok(anxin_service::jobs::create(r, job)?)
        })
        .await?;
    spawn(state, id);
    Ok(id as u64)
}

/// The owner's imports still landing.
fn unfinished(jobs: &[JobRow], owner: i64) -> usize {
    jobs.iter()
        .filter(|j| j.owner == owner && !j.progress.finished)
        .count()
}

/// Lands job `id` on a thread of its own, unless this process is already landing it. The
/// thread runs `background_nice` steps below the readers (its parsing and checks take what the
/// pages leave of the cores) and ends with the job, so no pooled thread keeps the lower
/// priority.
fn spawn(state: &AppState, id: i64) {
    let Some(records) = state.records.clone() else {
        return;
    };
    if !lock(&state.imports).running.insert(id) {
        return;
    }
    let jobs = state.imports.clone();
    let policy = state.policy.clone();
    let nice = state.background_nice;
    let land = move || {
        anxin_service::db::background(nice);
        if let Err(e) = run(&records, &policy, id) {
            // The job stays unfinished and resumes on the next start; no row's data is logged.
            tracing::warn!(target: crate::logging::SERVER, job = id, reason = %e, "import stopped; it resumes on the next start");
        }
        lock(&jobs).running.remove(&id);
    };
    let started = std::thread::Builder::new()
        .name("anxin-import".into())
        .spawn(land);
    if let Err(e) = started {
        tracing::warn!(target: crate::logging::SERVER, job = id, reason = %e, "cannot start the import's thread; it resumes on the next start");
        lock(&state.imports).running.remove(&id);
    }
}

/// Resumes every unfinished upload (after a crash or a restart): each goes on after its last
/// durable batch. The command line's jobs (their file is not stored) are left to it: the same
/// `anxin import` resumes them. Returns how many were resumed.
pub async fn resume(state: &AppState) -> Result<usize, ApiError> {
    let ids = state
        .read(|r| Ok(r.store().unfinished_jobs()?))
        .await?
        .into_iter()
        .filter(|j| j.path.is_none())
        .map(|j| j.id)
        .collect::<Vec<_>>();
    for id in &ids {
        tracing::info!(target: crate::logging::SERVER, job = id, "resuming import");
        spawn(state, *id);
    }
    Ok(ids.len())
}

#[derive(serde::Deserialize)]
pub struct ApiImportQuery {
    kind: Option<String>,
    name: Option<String>,
}

/// `POST /api/imports?kind=…[&name=FILE]`, the file as the body (CSV in UTF-8 or GBK, .xlsx,
/// JSON; told apart by `name`'s extension, else by `Content-Type`, else by the bytes):
/// `202 Accepted` with the job, to follow at `GET /api/imports/{id}`.
pub async fn api_import(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ApiImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.may(Action::Import)?;
    let kind = kind_of(q.kind.as_deref().unwrap_or(""))?;
    let file = File::from_body(q.name, &headers, body)?;
    let id = start(&state, &caller, kind, file).await?;
    let status = status_json(&job_of(&state, id, &caller).await?);
    let mut r = (StatusCode::ACCEPTED, axum::Json(status)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/imports/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// A job as JSON: progress, then counts and any early stop.
fn status_json(job: &JobRow) -> serde_json::Value {
    let p = &job.progress;
    let id = job.id;
    serde_json::json!({
        "id": id,
        "file": job.file_name,
        "kind": job.kind,
        "rows_total": p.rows_total,
        "rows_read": p.rows_read,
        "finished": p.finished,
        "counts": { "added": p.added, "unchanged": p.unchanged, "rejected": p.rejected },
        "error": p.error.as_ref().map(|(zh, en)| serde_json::json!({ "zh": zh, "en": en })),
        "rejected": format!("/api/imports/{id}/rejected"),
    })
}

/// `GET /api/imports/{id}`: the job's progress and result (its owner only).
pub async fn api_import_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.may(Action::FollowImport)?;
    let id = job_id(&id)?;
    Ok(axum::Json(status_json(&job_of(&state, id, &caller).await?)))
}

fn refusal(r: JobRefusal) -> Refusal {
    Refusal {
        row: r.row,
        column: r.column,
        value: r.value,
        zh: r.zh,
        en: r.en,
    }
}

/// The job's refusals from number `from`, at most `limit`.
async fn refusals(
    state: &AppState,
    id: u64,
    from: u64,
    limit: u64,
) -> Result<Vec<Refusal>, ApiError> {
    let id = id as i64;
    let rows = state
        .read(move |r| Ok(r.store().job_refusals(id, from, limit)?))
        .await?;
    Ok(rows.into_iter().map(refusal).collect())
}

/// `GET /api/imports/{id}/rejected?limit=&after=`: the refused rows in file order, a page at
/// a time (the cursor is the count of rows already given).
pub async fn api_import_rejected(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<ListQuery>,
) -> Result<axum::Json<Page<Refusal>>, ApiError> {
    caller.may(Action::FollowImport)?;
    let id = job_id(&id)?;
    let window = q.by_id()?;
    job_of(&state, id, &caller).await?;
    let from = window.after.unwrap_or(0).max(0) as u64;
    let rows = refusals(&state, id, from, u64::from(window.fetch())).await?;
    let mut page = Page::of(rows, &window, |_| String::new());
    // The cursor is the count of refusals given so far.
    page.next = page
        .next
        .map(|_| (from as usize + page.items.len()).to_string());
    Ok(axum::Json(page))
}

fn job_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && *n <= i64::MAX as u64)
        .ok_or_else(|| {
            ApiError::bad_input(
                format!(
                    "导入任务编号须为正整数，收到「{}」",
                    text.chars().take(20).collect::<String>()
                ),
                format!(
                    "an import id is a positive whole number, got \"{}\"",
                    text.chars().take(20).collect::<String>()
                ),
            )
        })
}

/// The writer, given one batch at a time, appending on behalf of the clerk who started the
/// import (rows outside their region are refused by `anxin_service::access`). Between two
/// batches the writer serves whatever else is queued; reads never wait for it.
struct Queued<'a> {
    records: &'a Shared,
    account: &'a AccountRow,
    role: Role,
}

impl anxin_service::Sink for Queued<'_> {
    fn append(
        &mut self,
        inputs: Vec<anxin_records::Input>,
    ) -> anxin_records::Result<anxin_records::Committed> {
        let (account, role) = (self.account.clone(), self.role);
        self.records.write(move |r| {
            anxin_service::access::append_as(r, Actor::new(&account, role), inputs)
        })?
    }

    fn append_job(
        &mut self,
        inputs: Vec<anxin_records::Input>,
        job: anxin_records::records::JobFn<'_>,
    ) -> anxin_records::Result<anxin_records::Committed> {
        // The job's new state is made here, from the outcomes the writer sends back while its
        // transaction is open, and saved in that same transaction.
        let (ask, asked) = std::sync::mpsc::channel::<Vec<anxin_records::Outcome>>();
        let (answer, answered) = std::sync::mpsc::channel::<anxin_records::jobs::JobWrite>();
        let (account, role) = (self.account.clone(), self.role);
        let records = self.records.clone();
        let batch = std::thread::scope(|scope| {
            let batch = scope.spawn(move || {
                records.write(move |r| {
                    let mut bridge = |outcomes: &[anxin_records::Outcome]| {
                        let _ = ask.send(outcomes.to_vec());
                        answered
                            .recv()
                            .expect("the import waits for its job's state")
                    };
                    anxin_service::access::append_job_as(
                        r,
                        Actor::new(&account, role),
                        inputs,
                        &mut bridge,
                    )
                })
            });
            // Ends when the writer's closure is done (it holds `ask`).
            while let Ok(outcomes) = asked.recv() {
                let _ = answer.send(job(&outcomes));
            }
            batch.join()
        });
        batch.map_err(|_| anxin_records::Error::Corrupt("an import batch panicked".into()))??
    }

    fn save_job(&mut self, job: &anxin_records::jobs::JobWrite) -> anxin_records::Result<()> {
        let job = job.clone();
        self.records.write(move |r| r.save_job(&job))?
    }
}

/// Lands (the rest of) job `id`, on behalf of the clerk who started it.
fn run(records: &Shared, policy: &anxin_policy::Policy, id: i64) -> anxin_records::Result<()> {
    let found = records.read(move |r| -> anxin_records::Result<_> {
        let Some(job) = r.store().job(id)? else {
            return Ok(None);
        };
        let content = r.store().job_content(id)?.unwrap_or_default();
        let account = r.store().account(job.owner)?;
        Ok(Some((job, content, account)))
    })??;
    let Some((job, content, account)) = found else {
        return Ok(());
    };
    if job.progress.finished || job.path.is_some() {
        return Ok(());
    }
    let Some(account) = account else {
        return Err(anxin_records::Error::not_found(
            "发起导入的账户已不存在",
            "the account that started the import no longer exists",
        ));
    };
    let role = account.role()?;
    let mut sink = Queued {
        records,
        account: &account,
        role,
    };
    anxin_service::jobs::run(&mut sink, policy, &job, content, BATCH, &mut |_| Ok(()))?;
    Ok(())
}

/// The job, if the caller started it.
async fn job_of(state: &AppState, id: u64, caller: &Caller) -> Result<JobRow, ApiError> {
    let owner = caller.account.id;
    let found = state.read(move |r| Ok(r.store().job(id as i64)?)).await?;
    found.filter(|j| j.owner == owner).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有这个导入任务（只能看自己发起的）",
            "no such import (you see only your own)",
        )
    })
}

/// `GET /clerk/import/{id}`: progress, then the result.
pub async fn import_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::FollowImport)?;
    let lang = lang_of(q.lang.as_deref());
    let job = job_of(&state, id, &caller).await?;
    let shown = refusals(&state, id, 0, SHOWN as u64).await?;
    Ok(crate::private_html(&render(&job, &shown, lang)))
}

fn render(job: &JobRow, shown: &[Refusal], lang: Lang) -> StatusPage {
    let c = &job.progress;
    StatusPage {
        c: Chrome::new(lang, lang.pick("导入进度", "Import progress")),
        id: job.id,
        file_name: job.file_name.clone(),
        // The kind by its name (the code only for a kind this page does not import).
        kind: KINDS
            .iter()
            .find(|(k, ..)| *k == job.kind)
            .map_or(job.kind.clone(), |(_, zh, en)| {
                lang.pick(zh, en).to_string()
            }),
        read: c.rows_read,
        total: c.rows_total,
        total_bar: c.rows_total.max(1),
        finished: c.finished,
        error: c
            .error
            .as_ref()
            .map(|(zh, en)| lang.pick(zh, en).to_string())
            .unwrap_or_default(),
        added: c.added,
        unchanged: c.unchanged,
        rejected: c.rejected,
        t: CardsTable::refusals(shown, lang),
    }
}

/// `GET /clerk/import/{id}/rejected.csv`: every refused row (UTF-8 with BOM, for Excel).
pub async fn import_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let all = all_refusals(&state, &caller, id).await?;
    Ok(csv_download(
        Refusal::HEADER,
        all.iter().map(Refusal::cells),
        "rejected.csv",
    ))
}

/// `GET /clerk/import/{id}/rejected.xlsx`: the same rows as an Excel workbook.
pub async fn import_report_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let all = all_refusals(&state, &caller, id).await?;
    Ok(crate::xlsx_download(
        Refusal::HEADER,
        all.iter().map(Refusal::cells),
        "rejected.xlsx",
    ))
}

/// Every refused row of a job its caller may follow.
async fn all_refusals(
    state: &AppState,
    caller: &Caller,
    id: u64,
) -> Result<Vec<Refusal>, ApiError> {
    caller.may(Action::FollowImport)?;
    job_of(state, id, caller).await?;
    let mut all = Vec::new();
    loop {
        let page = refusals(state, id, all.len() as u64, 10_000).await?;
        let more = page.len() == 10_000;
        all.extend(page);
        if !more {
            break;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owners_unfinished_imports_count() {
        let mut jobs = Vec::new();
        for (id, owner, finished) in [(1, 7, false), (2, 7, true), (3, 8, false), (4, 7, false)] {
            let mut job = JobRow {
                id,
                owner,
                ..JobRow::default()
            };
            job.progress.finished = finished;
            jobs.push(job);
        }
        assert_eq!(unfinished(&jobs, 7), 2);
        assert_eq!(unfinished(&jobs, 8), 1);
        assert_eq!(unfinished(&jobs, 9), 0);
    }
}
