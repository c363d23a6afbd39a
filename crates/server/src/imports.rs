//! A clerk imports a file (CSV in UTF-8 or GBK, .xlsx, JSON) from the browser: the upload lands
//! batch by batch on the ledger in the background while the page shows a progress bar (no
//! JavaScript: the page refreshes itself), then the counts and every refused row with its
//! reason, and the refusal report as a CSV download.
//!
//! The landing itself is `anxin_service::ingest`, the same code as `anxin import`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anxin_import::{Format, Kind, Options};
use anxin_policy::Lang;
use anxin_records::access::Role;
use anxin_service::{Counts, Refusal, Step};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Caller;
use crate::list::{ListQuery, Page};
use crate::upload::{File, Upload};
use crate::{
    ApiError, AppState, Params, Shared, csv_download, esc, lang_of, lang_query, page, table_head,
};
use anxin_records::access::AccountRow;
use anxin_service::access::{Action, Actor};

/// Largest upload (the import streams it; the limit bounds memory).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Rows per transaction for uploads.
const BATCH: usize = 5_000;
/// Refusals shown on the page (all are in the CSV).
const SHOWN: usize = 200;
/// Finished jobs kept per server (oldest dropped first).
const KEPT: usize = 200;

#[derive(Default)]
pub struct Job {
    owner: i64,
    file: String,
    kind: &'static str,
    rows_total: u64,
    rows_read: u64,
    counts: Counts,
    refusals: Vec<Refusal>,
    finished: bool,
    /// Why the import stopped early, if it did.
    error: Option<(String, String)>,
}

#[derive(Default)]
pub struct Jobs {
    next: u64,
    jobs: HashMap<u64, Job>,
}

pub type SharedJobs = Arc<Mutex<Jobs>>;

fn lock(jobs: &SharedJobs) -> std::sync::MutexGuard<'_, Jobs> {
    jobs.lock().unwrap_or_else(|p| p.into_inner())
}

const KINDS: [(&str, &str, &str); 4] = [
    ("persons", "人员", "persons"),
    ("orgs", "平台和单位", "platforms and employers"),
    ("children", "子女", "children"),
    ("contributions", "缴费记录", "contributions"),
];

/// `GET /clerk/import`
pub async fn import_page(
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::Import)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(page(
        lang,
        lang.pick("导入文件", "Import a file"),
        &form(&caller, lang),
    )
    .into_response())
}

fn form(caller: &Caller, lang: Lang) -> String {
    let options: String = KINDS
        .iter()
        .map(|(k, zh, en)| format!("<option value=\"{k}\">{}</option>", lang.pick(zh, en)))
        .collect();
    format!(
        "<p>{}</p><form method=\"post\" action=\"/clerk/import{}\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>{}<select name=\"kind\">{options}</select></label>\
         <label>{}<input type=\"file\" name=\"file\" accept=\".csv,.xlsx,.json,.ndjson\" required></label>\
         <button>{}</button></form>",
        lang.pick(
            "CSV（UTF-8 或 GBK）、Excel（.xlsx）或 JSON。好的行入库，有问题的行逐行说明原因；同一文件重复导入不会重复入库。",
            "CSV (UTF-8 or GBK), Excel (.xlsx) or JSON. Good rows land; every refused row gets its reason; importing the same file again changes nothing."
        ),
        lang_query(lang, true),
        caller.csrf(),
        lang.pick("文件内容", "What the file holds"),
        lang.pick("文件", "File"),
        lang.pick("导入", "Import"),
    )
}

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
    let id = start(&state, &caller, kind, file)?;
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

/// Registers the job and lands the file in the background; returns the job's id.
fn start(
    state: &AppState,
    caller: &Caller,
    (kind, kind_name): (Kind, &'static str),
    File {
        name,
        bytes,
        format,
    }: File,
) -> Result<u64, ApiError> {
    let records = state.records.clone().ok_or_else(ApiError::internal)?;
    let id = {
        let mut jobs = lock(&state.imports);
        if unfinished(&jobs, caller.account.id) >= crate::gates::IMPORTS_PER_CLERK {
            return Err(crate::gates::busy(
                "你发起的导入",
                "your imports",
                crate::gates::IMPORTS_PER_CLERK,
            ));
        }
        jobs.next += 1;
        let id = jobs.next;
        if jobs.jobs.len() >= KEPT
            && let Some(oldest) = jobs.jobs.keys().min().copied()
        {
            jobs.jobs.remove(&oldest);
        }
        jobs.jobs.insert(
            id,
            Job {
                owner: caller.account.id,
                file: name,
                kind: kind_name,
                ..Job::default()
            },
        );
        id
    };
    let jobs = state.imports.clone();
    let policy = state.policy.clone();
    let today = crate::auth::today_in_china();
    let by = (caller.account.clone(), caller.role);
    tokio::task::spawn_blocking(move || {
        run(
            &jobs, id, &records, &policy, &bytes, format, kind, today, by,
        )
    });
    Ok(id)
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
    let id = start(&state, &caller, kind, file)?;
    let status = { status_json(job_of(&lock(&state.imports), id, &caller)?, id) };
    let mut r = (StatusCode::ACCEPTED, axum::Json(status)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/imports/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// A job as JSON: progress, then counts and any early stop.
fn status_json(job: &Job, id: u64) -> serde_json::Value {
    let c = job.counts;
    serde_json::json!({
        "id": id,
        "file": job.file,
        "kind": job.kind,
        "rows_total": job.rows_total,
        "rows_read": job.rows_read,
        "finished": job.finished,
        "counts": { "added": c.added, "unchanged": c.unchanged, "rejected": c.rejected },
        "error": job.error.as_ref().map(|(zh, en)| serde_json::json!({ "zh": zh, "en": en })),
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
    let jobs = lock(&state.imports);
    Ok(axum::Json(status_json(job_of(&jobs, id, &caller)?, id)))
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
    let jobs = lock(&state.imports);
    let job = job_of(&jobs, id, &caller)?;
    let from = window.after.unwrap_or(0) as usize;
    let rows = job.refusals.iter().skip(from).take(window.fetch() as usize);
    let mut page = Page::of(rows.cloned().collect(), &window, |_| String::new());
    // The cursor is the count of refusals given so far.
    page.next = page.next.map(|_| (from + page.items.len()).to_string());
    Ok(axum::Json(page))
}

fn job_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
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

/// The owner's imports still landing.
fn unfinished(jobs: &Jobs, owner: i64) -> usize {
    jobs.jobs
        .values()
        .filter(|j| j.owner == owner && !j.finished)
        .count()
}

/// The records, locked one batch at a time, appended to on behalf of the clerk who started
/// the import (rows outside their region are refused by `anxin_service::access`).
struct Locked<'a> {
    records: &'a Shared,
    account: &'a AccountRow,
    role: Role,
}

impl anxin_service::Sink for Locked<'_> {
    fn append(
        &mut self,
        inputs: Vec<anxin_records::Input>,
    ) -> anxin_records::Result<anxin_records::Committed> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        anxin_service::access::append_as(&mut records, Actor::new(self.account, self.role), inputs)
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    jobs: &SharedJobs,
    id: u64,
    records: &Shared,
    policy: &anxin_policy::Policy,
    bytes: &[u8],
    format: Format,
    kind: Kind,
    today: jiff::civil::Date,
    by: (AccountRow, Role),
) {
    let update = |f: &mut dyn FnMut(&mut Job)| {
        if let Some(job) = lock(jobs).jobs.get_mut(&id) {
            f(job);
        }
    };
    let regions = anxin_service::PolicyRegions(policy);
    let mut rows =
        match anxin_import::from_bytes(bytes, format, kind, Options::new(today), &regions) {
            Ok(rows) => rows,
            Err(e) => {
                update(&mut |j| {
                    j.error = Some((e.zh(), e.en()));
                    j.finished = true;
                });
                return;
            }
        };
    let total = rows.progress().rows_total;
    update(&mut |j| j.rows_total = total);
    let mut sink = Locked {
        records,
        account: &by.0,
        role: by.1,
    };
    let result =
        anxin_service::ingest::<anxin_records::Error>(&mut sink, &mut rows, BATCH, &mut |step| {
            match step {
                Step::Refused(r) => update(&mut |j| j.refusals.push(r.clone())),
                Step::Committed {
                    progress, counts, ..
                } => update(&mut |j| {
                    j.rows_read = progress.rows_read;
                    j.rows_total = progress.rows_total;
                    j.counts = counts;
                }),
            }
            Ok(())
        });
    // A file that stops early says why; a refusal of the records service says its reason; a
    // database failure stays out of the page (the one error mapping of the API).
    let (counts, failed) = match result {
        Ok(counts) => (Some(counts), None),
        Err(e) => {
            let e = ApiError::from(e);
            (None, Some((e.zh, e.en)))
        }
    };
    let error = rows.stopped().map(|e| (e.zh(), e.en())).or(failed);
    update(&mut |j| {
        if let Some(c) = counts {
            j.counts = c;
        }
        if error.is_some() {
            j.error = error.clone();
        }
        j.rows_read = j.rows_total.max(j.rows_read);
        j.finished = true;
    });
}

fn job_of<'a>(jobs: &'a Jobs, id: u64, caller: &Caller) -> Result<&'a Job, ApiError> {
    jobs.jobs
        .get(&id)
        .filter(|j| j.owner == caller.account.id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "没有这个导入任务（只能看自己发起的，服务重启后不保留）",
                "no such import (you see only your own, and they do not survive a restart)",
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
    let body = {
        let jobs = lock(&state.imports);
        let job = job_of(&jobs, id, &caller)?;
        render(job, id, lang)
    };
    Ok(crate::private_page(
        lang,
        lang.pick("导入进度", "Import progress"),
        &body,
    ))
}

fn render(job: &Job, id: u64, lang: Lang) -> String {
    let c = job.counts;
    let mut body = format!(
        "<p>{} · {}</p><progress value=\"{}\" max=\"{}\" style=\"width:100%\"></progress><p>{} {} / {}</p>",
        esc(&job.file),
        job.kind,
        job.rows_read,
        job.rows_total.max(1),
        lang.pick("已读", "read"),
        job.rows_read,
        job.rows_total,
    );
    if !job.finished {
        // Refresh until done: a progress bar without JavaScript.
        body.insert_str(0, "<meta http-equiv=\"refresh\" content=\"1\">");
        return body;
    }
    if let Some((zh, en)) = &job.error {
        body.push_str(&format!("<p class=bad>{}</p>", esc(lang.pick(zh, en))));
    }
    body.push_str(&format!(
        "<p class=big>{} {} · {} {} · {} {}</p>",
        lang.pick("新增", "added"),
        c.added,
        lang.pick("已存在", "already there"),
        c.unchanged,
        lang.pick("拒收", "refused"),
        c.rejected,
    ));
    if !job.refusals.is_empty() {
        body.push_str(&format!(
            "<p><a href=\"/clerk/import/{id}/rejected.csv\">{}</a></p>{}",
            lang.pick("下载拒收报告（CSV）", "Download the refusal report (CSV)"),
            table_head(&[
                lang.pick("行号", "Row"),
                lang.pick("列", "Column"),
                lang.pick("值", "Value"),
                lang.pick("原因", "Reason"),
            ]),
        ));
        for r in job.refusals.iter().take(SHOWN) {
            body.push_str(&format!(
                "<tr class=bad><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.row,
                esc(&r.column),
                esc(&r.value),
                esc(lang.pick(&r.zh, &r.en))
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!(
        "<p><a href=\"/clerk/import{}\">{}</a></p>",
        lang_query(lang, true),
        lang.pick("再导入一个文件", "Import another file")
    ));
    body
}

/// `GET /clerk/import/{id}/rejected.csv`: every refused row (UTF-8 with BOM, for Excel).
pub async fn import_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    caller.may(Action::FollowImport)?;
    let jobs = lock(&state.imports);
    let job = job_of(&jobs, id, &caller)?;
    Ok(csv_download(
        Refusal::HEADER,
        job.refusals.iter().map(Refusal::cells),
        "rejected.csv",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owners_unfinished_imports_count() {
        let mut jobs = Jobs::default();
        for (id, owner, finished) in [(1, 7, false), (2, 7, true), (3, 8, false), (4, 7, false)] {
            jobs.jobs.insert(
                id,
                Job {
                    owner,
                    finished,
                    ..Job::default()
                },
            );
        }
        assert_eq!(unfinished(&jobs, 7), 2);
        assert_eq!(unfinished(&jobs, 8), 1);
        assert_eq!(unfinished(&jobs, 9), 0);
    }
}
