//! The school office's and the clerk's pages for SPEC §S:
//! - `/school/review`: an education officer uploads a file of applications and gets, for each,
//!   the decision, points, rank and reasons — on the page or as the results CSV;
//! - `/school/ledger`: the identification ledger of school-driven enrolments in the
//!   official's region, each with its lapse risk, and the cohort retention table and chart.
//!
//! Both run `anxin_service::school`, the code behind `anxin school review|ledger`.

use anxin_import::{Kind, Options};
use anxin_policy::Lang;
use anxin_records::identify::Risk;
use anxin_service::school::{FileReview, ResultLine};
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::text::place_name;
use crate::upload::{File, Upload};
use crate::{ApiError, AppState, CardsTable, Chrome, Params, csv_download, lang_of};
use anxin_service::access::{self as rules, Action};
use askama::Template;

/// Largest applications file.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;
/// Lines shown on the page (the CSV has them all).
const SHOWN: usize = 500;

/// `GET /school/review`
pub async fn review_page(
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSchool)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(crate::html(&ReviewForm {
        c: Chrome::new(
            lang,
            lang.pick("入学申请审核", "Review school applications"),
        ),
        csrf: caller.csrf(),
    })
    .into_response())
}

/// `templates/school_review.html`: the applications file, the places, the reform, the output.
#[derive(Template)]
#[template(path = "school_review.html")]
struct ReviewForm {
    c: Chrome,
    csrf: String,
}

/// `templates/school_results.html`: the review's counts and its lines (cards on a phone).
#[derive(Template)]
#[template(path = "school_results.html")]
struct ResultsPage {
    c: Chrome,
    reviewed: usize,
    admitted: u32,
    refused: usize,
    reform: bool,
    t: CardsTable,
    /// More lines than are shown.
    cut: bool,
}

/// `templates/school_ledger.html`: the enrolments of the region, their retention and chart.
#[derive(Template)]
#[template(path = "school_ledger.html")]
struct LedgerPage {
    c: Chrome,
    count_line: String,
    empty: bool,
    chart: String,
    retention: CardsTable,
    entries: CardsTable,
}

crate::extends_layout!(ReviewForm, ResultsPage, LedgerPage);

/// `POST /school/review`
pub async fn review_submit(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSchool)?;
    let lang = lang_of(q.lang.as_deref());
    let mut upload = Upload::read(multipart, MAX_UPLOAD_BYTES).await?;
    caller.check_csrf(upload.field("csrf"))?;
    let places = places_of(upload.field("places").trim())?;
    let reform = upload.fields.contains_key("reform");
    // How to give the results: on the page (the default), or as a download.
    let output = match upload.field("output").trim() {
        "" | "page" => None,
        "xlsx" => Some("xlsx"),
        "csv" => Some("csv"),
        _ => {
            return Err(ApiError::bad_input(
                "结果方式须为 page（页面）、xlsx（Excel）或 csv 之一",
                "output is one of page, xlsx (Excel) or csv",
            ));
        }
    };
    let review = review(&state, upload.take_file()?, places, reform).await?;
    match output {
        Some("xlsx") => {
            return Ok(crate::xlsx_download(
                ResultLine::HEADER,
                review.lines.iter().map(ResultLine::cells),
                "results.xlsx",
            ));
        }
        Some(_) => return Ok(results_csv(&review)),
        None => {}
    }
    Ok(crate::private_html(&render_review(
        &state.policy,
        &review,
        lang,
        reform,
    )))
}

fn places_of(text: &str) -> Result<u32, ApiError> {
    crate::whole_number(text)
        .filter(|p| (1..=1_000_000).contains(p))
        .ok_or_else(|| {
            ApiError::bad_input(
                "学位数须为 1 到 1000000 之间的整数",
                "places must be a whole number from 1 to 1,000,000",
            )
        })
}

/// Reviews the applications file on the guardians' ledger months and ranks it for `places`.
async fn review(
    state: &AppState,
    File { bytes, format, .. }: File,
    places: u32,
    reform: bool,
) -> Result<FileReview, ApiError> {
    let _running = state.gates.review()?;
    let reforms: Vec<String> = if reform {
        vec!["school-cumulative-first".into()]
    } else {
        Vec::new()
    };
    let policy = state.policy.clone();
    let today = state.today_in_china();
    state
        .write(move |records| {
            let regions = anxin_service::PolicyRegions(&policy);
            let mut rows = anxin_import::from_bytes(
                &bytes,
                format,
                Kind::Applications,
                Options::new(today),
                &regions,
            )
            .map_err(|e| ApiError::bad_input(e.zh(), e.en()))?;
            anxin_service::school::review_file::<_, ApiError>(
                records,
                &policy,
                &mut rows,
                places,
                &reforms,
                Some(today),
            )
        })
        .await
}

#[derive(serde::Deserialize)]
pub struct ApiReviewQuery {
    places: Option<String>,
    reform: Option<String>,
    name: Option<String>,
}

/// `POST /api/school/review?places=N[&reform=true][&name=FILE]`, the applications file as the
/// body: every row once, in file order, with its decision, points, rank and reasons (the
/// review's result, computed for this request and kept nowhere; it is the whole file's, not a
/// page of a stored list).
pub async fn api_review(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ApiReviewQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.may(Action::ReviewSchool)?;
    let places = places_of(q.places.as_deref().unwrap_or(""))?;
    let reform = match q.reform.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::bad_input(
                "reform 须为 true 或 false（true：按改革建议“累计为主、连续为辅”审核）",
                "reform must be true or false (true: review under the proposed cumulative-first reform)",
            ));
        }
    };
    let file = File::from_body(q.name, &headers, body)?;
    let review = review(&state, file, places, reform).await?;
    Ok(axum::Json(serde_json::json!({
        "reviewed": review.reviewed,
        "admitted": review.admitted,
        "refused": review.refused,
        "reform": reform,
        "lines": review.lines,
    })))
}

fn results_csv(review: &FileReview) -> Response {
    csv_download(
        ResultLine::HEADER,
        review.lines.iter().map(ResultLine::cells),
        "results.csv",
    )
}

fn decision_text(d: &str, lang: Lang) -> &'static str {
    match (d, lang) {
        ("eligible", Lang::Zh) => "符合",
        ("eligible_hardship", Lang::Zh) => "困难家庭渠道符合",
        ("not_yet", Lang::Zh) => "暂不符合",
        ("rejected", Lang::Zh) => "未审核",
        ("eligible", Lang::En) => "eligible",
        ("eligible_hardship", Lang::En) => "eligible (hardship)",
        ("not_yet", Lang::En) => "not yet",
        ("rejected", Lang::En) => "not reviewed",
        _ => "?",
    }
}

fn render_review(
    policy: &anxin_policy::Policy,
    review: &FileReview,
    lang: Lang,
    reform: bool,
) -> ResultsPage {
    let rows = review
        .lines
        .iter()
        .take(SHOWN)
        .map(|l| {
            let note = if l.zh.is_empty() {
                match (l.decided_by.as_str(), lang) {
                    ("points", Lang::Zh) => "积分".to_string(),
                    ("continuous_months", Lang::Zh) => "同分看连续缴费月数".to_string(),
                    ("permit_since", Lang::Zh) => "同分看居住证先后".to_string(),
                    ("application_order", Lang::Zh) => "同分看申请先后".to_string(),
                    ("continuous_months", Lang::En) => "tie: continuous months".to_string(),
                    ("permit_since", Lang::En) => "tie: earlier permit".to_string(),
                    ("application_order", Lang::En) => "tie: earlier application".to_string(),
                    ("", Lang::Zh) if l.rank == "1" => "排名第一".to_string(),
                    ("", Lang::En) if l.rank == "1" => "ranked first".to_string(),
                    (other, _) => other.to_string(),
                }
            } else {
                lang.pick(&l.zh, &l.en).to_string()
            };
            // The city by name (the file's code only where the policy has no such city).
            let city = l
                .city
                .parse::<u32>()
                .ok()
                .and_then(|c| anxin_domain::RegionCode::parse(&format!("{c:06}")).ok())
                .and_then(|c| policy.region_by_code(c))
                .map_or_else(
                    || l.city.clone(),
                    |r| lang.pick(&r.name_zh, &r.name_en).to_string(),
                );
            (
                if l.decision == "rejected" { "bad" } else { "" },
                vec![
                    l.row.to_string(),
                    l.application.clone(),
                    format!("{city} {}", l.month),
                    decision_text(&l.decision, lang).to_string(),
                    l.points.clone(),
                    // Never an empty line on a card: an application that is not ranked says so.
                    if l.rank.trim().is_empty() {
                        lang.pick("不参与排名", "not ranked").to_string()
                    } else {
                        l.rank.clone()
                    },
                    if l.admitted {
                        lang.pick("✓ 录取", "✓ admitted")
                    } else if l.rank.trim().is_empty() {
                        lang.pick("否（不参与排名）", "no (not ranked)")
                    } else {
                        lang.pick("未录取（名次在名额之后）", "no (ranked below the places)")
                    }
                    .to_string(),
                    note,
                ],
            )
        })
        .collect();
    ResultsPage {
        c: Chrome::new(lang, lang.pick("审核结果", "Review results")),
        reviewed: review.reviewed,
        admitted: review.admitted,
        refused: review.refused,
        reform,
        t: CardsTable {
            labels: crate::names(&[
                lang.pick("行", "Row"),
                lang.pick("申请", "Application"),
                lang.pick("城市/月份", "City/month"),
                lang.pick("结论", "Decision"),
                lang.pick("积分", "Points"),
                lang.pick("名次", "Rank"),
                lang.pick("录取", "Admitted"),
                lang.pick("依据或原因", "Tie-break or reason"),
            ]),
            rows,
        },
        cut: review.lines.len() > SHOWN,
    }
}

/// `GET /school/ledger`: the enrolments in the official's region, and their retention.
pub async fn ledger_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::ReadSchoolLedger)?;
    let lang = lang_of(q.lang.as_deref());
    let policy = state.policy.clone();
    let today = state.today();
    let ledger = state
        .read(move |records| anxin_service::school::ledger::<_, ApiError>(records, &policy, today))
        .await?;
    let actor = caller.actor();
    let entries: Vec<_> = ledger
        .entries
        .iter()
        .filter(|(e, _)| rules::in_region(actor, e.region))
        .map(|(e, _)| e)
        .collect();
    let table: Vec<_> = ledger
        .table
        .into_iter()
        .filter(|t| rules::in_region(actor, t.region))
        .collect();
    let policy = &state.policy;
    let mut labels = crate::names(&[
        lang.pick("城市", "City"),
        lang.pick("年份", "Year"),
        lang.pick("人数", "People"),
    ]);
    labels.extend(
        anxin_records::identify::RETENTION_MONTHS
            .iter()
            .map(|n| match lang {
                Lang::Zh => format!("{n} 个月后仍在缴"),
                Lang::En => format!("still paying after {n} months"),
            }),
    );
    let retention = CardsTable {
        labels,
        rows: table
            .iter()
            .map(|t| {
                let mut cells = vec![
                    place_name(policy, t.region, lang),
                    t.year.to_string(),
                    t.admitted.to_string(),
                ];
                cells.extend(t.still_paying.iter().map(|(_, due, paying)| {
                    if *due == 0 {
                        "–".to_string()
                    } else {
                        format!("{paying}/{due} ({}%)", paying * 100 / due)
                    }
                }));
                ("", cells)
            })
            .collect(),
    };
    let entry_rows = entries
        .iter()
        .map(|e| {
            (
                if e.risk == Risk::Stopped { "bad" } else { "" },
                vec![
                    format!("{}…", e.person),
                    place_name(policy, e.region, lang),
                    e.enrolled.to_string(),
                    e.reviewed.to_string(),
                    e.months_paid_since.to_string(),
                    crate::text::risk_text(&e.risk, lang).to_string(),
                ],
            )
        })
        .collect();
    Ok(crate::html(&LedgerPage {
        c: Chrome::new(
            lang,
            lang.pick("因入学参保人员台账", "Identification ledger"),
        ),
        count_line: match lang {
            Lang::Zh => format!("截至 {today}，本辖区因入学参保 {} 人。", entries.len()),
            Lang::En => format!(
                "As of {today}, {} school-driven enrolments in this region.",
                entries.len()
            ),
        },
        empty: entries.is_empty(),
        chart: anxin_service::school::retention_chart(policy, &table, today, lang),
        retention,
        entries: CardsTable {
            labels: crate::names(&[
                lang.pick("编号", "Person"),
                lang.pick("城市", "City"),
                lang.pick("参保", "Enrolled"),
                lang.pick("审核", "Reviewed"),
                lang.pick("此后已缴月数", "Months paid since"),
                lang.pick("断保风险", "Lapse risk"),
            ]),
            rows: entry_rows,
        },
    })
    .into_response())
}
