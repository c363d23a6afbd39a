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
use crate::{
    ApiError, AppState, Params, cards_head, cards_row, csv_download, esc, lang_of, lang_query,
    page, table_head,
};
use anxin_service::access::{self as rules, Action};

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
    Ok(page(
        lang,
        lang.pick("入学申请审核", "Review school applications"),
        &form(&caller, lang),
    )
    .into_response())
}

fn form(caller: &Caller, lang: Lang) -> String {
    format!(
        "<p>{}</p><form method=\"post\" action=\"/school/review{}\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>{}<input type=\"file\" name=\"file\" accept=\".csv,.xlsx,.json,.ndjson\" required></label>\
         <label>{}<input name=\"places\" inputmode=\"numeric\" value=\"100\"></label>\
         <label><input type=\"checkbox\" name=\"reform\" value=\"1\" style=\"width:auto\"> {}</label>\
         <label>{}<select name=\"output\"><option value=\"page\">{}</option><option value=\"xlsx\">{}</option><option value=\"csv\">{}</option></select></label>\
         <button>{}</button></form><p><a href=\"/school/ledger{}\">{}</a></p>",
        lang.pick(
            "申请表（CSV、Excel 或 JSON）：申请编号、子女身份证号、监护人身份证号、城市、申请月份、困难家庭、证明材料。按监护人在账本上的缴费记录逐份审核，并按学位数排名。",
            "Applications (CSV, Excel or JSON): application id, child's ID, guardian's ID, city, month, hardship, proofs. Each is reviewed on the guardian's ledger months and ranked for the places."
        ),
        lang_query(lang, true),
        caller.csrf(),
        lang.pick("申请文件", "Applications file"),
        lang.pick("学位数", "Places"),
        lang.pick("按改革建议“累计为主、连续为辅”审核", "Review under the proposed reform (cumulative first)"),
        lang.pick("结果", "Results"),
        lang.pick("在页面上显示", "Show on the page"),
        lang.pick("下载 Excel（.xlsx）", "Download as Excel (.xlsx)"),
        lang.pick("下载 CSV", "Download as CSV"),
        lang.pick("审核", "Review"),
        lang_query(lang, true),
        lang.pick("因入学参保人员台账", "Identification ledger of school-driven enrolments"),
    )
}

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
    let body = render_review(&state.policy, &review, lang, reform);
    Ok(crate::private_page(
        lang,
        lang.pick("审核结果", "Review results"),
        &body,
    ))
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
) -> String {
    let mut body = format!(
        "<p class=big>{} {} · {} {} · {} {}</p><p>{}</p>",
        lang.pick("审核", "reviewed"),
        review.reviewed,
        lang.pick("录取", "admitted"),
        review.admitted,
        lang.pick("未审核", "not reviewed"),
        review.refused,
        if reform {
            lang.pick(
                "按改革建议（累计为主、连续为辅）",
                "under the proposed reform (cumulative first)",
            )
        } else {
            lang.pick("按现行做法", "under the law in force")
        },
    );
    let labels = [
        lang.pick("行", "Row"),
        lang.pick("申请", "Application"),
        lang.pick("城市/月份", "City/month"),
        lang.pick("结论", "Decision"),
        lang.pick("积分", "Points"),
        lang.pick("名次", "Rank"),
        lang.pick("录取", "Admitted"),
        lang.pick("依据或原因", "Tie-break or reason"),
    ];
    body.push_str(&cards_head(&labels));
    for l in review.lines.iter().take(SHOWN) {
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
        body.push_str(&cards_row(
            &labels,
            &[
                l.row.to_string(),
                esc(&l.application),
                // The city by name (the file's code only where the policy has no such city).
                format!(
                    "{} {}",
                    esc(&l
                        .city
                        .parse::<u32>()
                        .ok()
                        .and_then(|c| anxin_domain::RegionCode::parse(&format!("{c:06}")).ok())
                        .and_then(|c| policy.region_by_code(c))
                        .map_or_else(
                            || l.city.clone(),
                            |r| lang.pick(&r.name_zh, &r.name_en).to_string()
                        )),
                    esc(&l.month)
                ),
                decision_text(&l.decision, lang).to_string(),
                esc(&l.points),
                // Never an empty line on a card: an application that is not ranked says so.
                if l.rank.trim().is_empty() {
                    lang.pick("不参与排名", "not ranked").to_string()
                } else {
                    esc(&l.rank)
                },
                if l.admitted {
                    lang.pick("✓ 录取", "✓ admitted")
                } else if l.rank.trim().is_empty() {
                    lang.pick("否（不参与排名）", "no (not ranked)")
                } else {
                    lang.pick("未录取（名次在名额之后）", "no (ranked below the places)")
                }
                .to_string(),
                esc(&note),
            ],
            if l.decision == "rejected" { "bad" } else { "" },
        ));
    }
    body.push_str("</table>");
    if review.lines.len() > SHOWN {
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "只显示前 500 行；全部结果请勾选“下载结果 CSV”重新提交。",
                "Only the first 500 rows are shown; tick “Download the results CSV” for all."
            )
        ));
    }
    body
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
    let mut body = format!(
        "<p>{}</p>",
        match lang {
            Lang::Zh => format!("截至 {today}，本辖区因入学参保 {} 人。", entries.len()),
            Lang::En => format!(
                "As of {today}, {} school-driven enrolments in this region.",
                entries.len()
            ),
        }
    );
    if entries.is_empty() {
        // Empty says why, and what will fill it.
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "还没有因入学参保的人员。每次入学审核都会记入账本；审核前不久才开始缴费、或断缴后恢复缴费的监护人会列在这里，并跟踪他们之后是否继续缴费。",
                "No school-driven enrolments yet. Every school review is recorded in the log; guardians who started or resumed paying shortly before their review are listed here, and followed to see whether they keep paying."
            )
        ));
    }
    body.push_str(&format!(
        "<figure>{}</figure>",
        anxin_service::school::retention_chart(policy, &table, today, lang)
    ));
    body.push_str(&format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th>",
        lang.pick("城市", "City"),
        lang.pick("年份", "Year"),
        lang.pick("人数", "People"),
    ));
    for n in anxin_records::identify::RETENTION_MONTHS {
        body.push_str(&format!("<th>{n} {}</th>", lang.pick("个月", "months")));
    }
    body.push_str("</tr>");
    for t in &table {
        let cells: String = t
            .still_paying
            .iter()
            .map(|(_, due, paying)| {
                if *due == 0 {
                    "<td>–</td>".to_string()
                } else {
                    format!("<td>{paying}/{due} ({}%)</td>", paying * 100 / due)
                }
            })
            .collect();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>{cells}</tr>",
            esc(&place_name(policy, t.region, lang)),
            t.year,
            t.admitted
        ));
    }
    body.push_str("</table>");
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        lang.pick("台账", "Entries"),
        table_head(&[
            lang.pick("编号", "Person"),
            lang.pick("城市", "City"),
            lang.pick("参保", "Enrolled"),
            lang.pick("审核", "Reviewed"),
            lang.pick("此后已缴月数", "Months paid since"),
            lang.pick("断保风险", "Lapse risk"),
        ])
    ));
    for e in entries {
        let risk = crate::text::risk_text(&e.risk, lang);
        let class = if e.risk == Risk::Stopped {
            " class=bad"
        } else {
            ""
        };
        body.push_str(&format!(
            "<tr{class}><td>{}…</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{risk}</td></tr>",
            esc(&e.person),
            esc(&place_name(policy, e.region, lang)),
            e.enrolled,
            e.reviewed,
            e.months_paid_since,
        ));
    }
    body.push_str("</table>");
    Ok(page(
        lang,
        lang.pick("因入学参保人员台账", "Identification ledger"),
        &body,
    )
    .into_response())
}
