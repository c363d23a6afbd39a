//! The monitor's results on pages and in the API (issue 16; SPEC §M1–§M3). Thin: what each
//! account sees and every step's rules are `anxin_service::monitor` and `access`; this file
//! reads the request and writes HTML or JSON. The server never runs the monthly run (that is
//! `anxin monitor run`, DataFusion): it reads the run's files under the data directory.
//!
//! - `GET /grid`: the grid worker's phone page — the alerts of their cells, reason and
//!   evidence in plain words, buttons to acknowledge, record a contact and close
//!   (`POST /grid/{alert}/act`, a form: no script);
//! - `GET /monitor/compliance`: the inspector's page — each platform of the region in the
//!   run's year: coverage, grade and why, the under-80 %-for-3-years list, injury bills;
//! - `GET /platform/rating`: a platform's own rating, bill and the workers counted against it
//!   (pseudonyms only);
//! - `GET /api/grid/alerts`, `POST /api/grid/alerts/{alert}/steps`,
//!   `GET /api/monitor/compliance`, `GET /api/monitor/rating`: the same as JSON;
//! - `POST /api/platform/activity?month=YYYY-MM`: a platform delivers a batch of its month's
//!   orders (the body: CSV with the delivery columns, or Parquet), checked row by row like a
//!   delivered file; the answer lists every refused row with its reason.
//!
//! Each takes `month=YYYY-MM` (default: the latest run).

use std::path::PathBuf;
use std::sync::Arc;

use anxin_domain::Fen;
use anxin_policy::Lang;
use anxin_service::monitor::{
    self as rules, AlertView, ComplianceDesk, Delivery, GridDesk, OUTCOMES, Rating, StepRequest,
    VIAS,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use anxin_service::access::Action;

use crate::auth::{Caller, logout_button};
use crate::{ApiError, AppState, Params, cards_head, cards_row, esc, lang_of, private_page};

/// The monitor's routes, mounted by [`crate::router`].
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/grid", get(grid_page))
        .route("/grid/{alert}/act", post(act_submit))
        .route("/monitor/compliance", get(compliance_page))
        .route("/platform/rating", get(rating_page))
        .route("/api/grid/alerts", get(api_alerts))
        .route("/api/grid/alerts/{alert}/steps", post(api_step))
        .route("/api/monitor/compliance", get(api_compliance))
        .route("/api/monitor/rating", get(api_rating))
        .route(
            "/api/platform/activity",
            post(api_deliver).layer(axum::extract::DefaultBodyLimit::max(
                rules::MAX_DELIVERY_BYTES,
            )),
        )
}

/// The query of every monitor page and read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    pub month: Option<String>,
    pub lang: Option<String>,
}

/// The data directory whose monitor files the server reads.
fn data_dir(state: &AppState) -> Result<Arc<PathBuf>, ApiError> {
    state.data_dir.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_records",
            "本服务没有打开数据目录：用 anxin serve --data 目录 启动",
            "this server has no data directory: start it with anxin serve --data DIR",
        )
    })
}

async fn desk(
    state: &AppState,
    caller: Caller,
    month: Option<String>,
) -> Result<GridDesk, ApiError> {
    caller.may(Action::GridAlerts)?;
    let dir = data_dir(state)?;
    state
        .read(move |r| Ok(rules::grid_desk(r, &dir, caller.actor(), month.as_deref())?))
        .await
}

async fn step(
    state: &AppState,
    caller: Caller,
    id: String,
    req: StepRequest,
) -> Result<AlertView, ApiError> {
    caller.may(Action::GridAlerts)?;
    let dir = data_dir(state)?;
    let clock = state.clock.clone();
    state
        .write(move |r| {
            Ok(rules::act(
                r,
                &dir,
                caller.actor(),
                &id,
                &req,
                clock.as_ref(),
            )?)
        })
        .await
}

async fn compliance(
    state: &AppState,
    caller: &Caller,
    month: Option<String>,
) -> Result<ComplianceDesk, ApiError> {
    caller.may(Action::MonitorCompliance)?;
    let dir = data_dir(state)?;
    let account = caller.account.clone();
    let role = caller.role;
    tokio::task::spawn_blocking(move || {
        let actor = anxin_service::access::Actor::new(&account, role);
        rules::compliance(&dir, actor, month.as_deref())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

async fn rating(
    state: &AppState,
    caller: &Caller,
    month: Option<String>,
) -> Result<Rating, ApiError> {
    caller.may(Action::PlatformRating)?;
    let dir = data_dir(state)?;
    let account = caller.account.clone();
    let role = caller.role;
    tokio::task::spawn_blocking(move || {
        let actor = anxin_service::access::Actor::new(&account, role);
        rules::rating(&dir, actor, month.as_deref())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

/// `GET /api/grid/alerts?month=`
pub async fn api_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<GridDesk>, ApiError> {
    Ok(Json(desk(&state, caller, q.month).await?))
}

/// `POST /api/grid/alerts/{alert}/steps {"action", "via"?, "when"?, "note"?, "outcome"?}`
pub async fn api_step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<AlertView>, ApiError> {
    let req: StepRequest = crate::json_object(&bytes).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"action\", \"via\"?, \"when\"?, \"note\"?, \"outcome\"?}}：{e}"),
            format!("the request must be {{\"action\", \"via\"?, \"when\"?, \"note\"?, \"outcome\"?}}: {e}"),
        )
    })?;
    Ok(Json(step(&state, caller, id, req).await?))
}

/// The query of a delivery: the month it is for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverQuery {
    /// Required; checked after the caller's role, so a refusal never depends on the query.
    pub month: Option<String>,
}

/// `POST /api/platform/activity?month=YYYY-MM`: a platform's batch of activity.
pub async fn api_deliver(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DeliverQuery>,
    bytes: axum::body::Bytes,
) -> Result<Json<Delivery>, ApiError> {
    caller.may(Action::DeliverActivity)?;
    let dir = data_dir(&state)?;
    let now = anxin_domain::Clock::now(state.clock.as_ref());
    // One delivery at a time: two batches of the same month never both miss each other's
    // order ids.
    let delivery = state
        .write(move |r| {
            Ok(rules::deliver(
                r,
                &dir,
                caller.actor(),
                q.month.as_deref().unwrap_or(""),
                &bytes,
                now,
            )?)
        })
        .await?;
    Ok(Json(delivery))
}

/// `GET /api/monitor/compliance?month=`
pub async fn api_compliance(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<ComplianceDesk>, ApiError> {
    Ok(Json(compliance(&state, &caller, q.month).await?))
}

/// `GET /api/monitor/rating?month=`
pub async fn api_rating(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<Rating>, ApiError> {
    Ok(Json(rating(&state, &caller, q.month).await?))
}

fn yuan(fen: i64) -> String {
    Fen(fen).yuan_string()
}

/// Links to the other months with a run.
fn month_links(path: &str, months: &[String], current: Option<&str>, lang: Lang) -> String {
    if months.len() < 2 {
        return String::new();
    }
    let links: Vec<String> = months
        .iter()
        .rev()
        .map(|m| {
            if Some(m.as_str()) == current {
                format!("<b>{m}</b>")
            } else {
                format!(
                    "<a href=\"{path}?month={m}&amp;lang={}\">{m}</a>",
                    lang.code()
                )
            }
        })
        .collect();
    format!(
        "<p class=\"months\">{} {}</p>",
        lang.pick("其他月份：", "Other months:"),
        links.join(" · ")
    )
}

const STYLE: &str = "<style>.alert{border:1px solid #ccc;border-radius:.5rem;padding:.5rem .8rem;margin:.8rem 0}\
.alert h2{font-size:1.05rem;margin:.2rem 0}.alert.open{border-color:#c60;border-width:2px}\
.alert.closed{color:#555}.alert form{margin:.5rem 0}.alert button{min-height:44px;min-width:44px}\
.alert select,.alert input,.alert textarea{width:100%;box-sizing:border-box;font-size:1rem;min-height:44px}\
.alert ol{padding-left:1.2rem;margin:.3rem 0}.alert fieldset{border:1px solid #ddd;border-radius:.4rem;margin:.4rem 0}\
.state{font-weight:bold}.months{overflow-wrap:anywhere}</style>";

fn hidden(caller: &Caller, lang: Lang, month: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><input type=\"hidden\" name=\"month\" value=\"{}\">",
        caller.csrf(),
        lang.code(),
        esc(month)
    )
}

fn alert_card(a: &AlertView, caller: &Caller, lang: Lang) -> String {
    let x = &a.alert;
    let mut facts = vec![
        (lang.pick("网格", "Cell"), esc(&x.area)),
        (
            lang.pick("化名", "Pseudonym"),
            format!("<code>{}</code>", esc(&x.person)),
        ),
        (
            lang.pick("本月接单", "Orders this month"),
            format!("{} {}", x.orders, lang.pick("单", "")),
        ),
        (
            lang.pick("本月收入", "Income this month"),
            format!("{} {}", yuan(x.income_fen), lang.pick("元", "yuan")),
        ),
        (lang.pick("平台数", "Platforms"), x.platforms.to_string()),
        (
            lang.pick("最后缴费月", "Last paid"),
            x.last_paid
                .clone()
                .unwrap_or_else(|| lang.pick("无记录", "none known").into()),
        ),
    ];
    if let Some(avg) = x.prev_avg_fen {
        facts.push((
            lang.pick("之前月平均收入", "Average before"),
            format!("{} {}", yuan(avg), lang.pick("元", "yuan")),
        ));
    }
    let dl: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>"))
        .collect();
    let steps: String = a
        .steps
        .iter()
        .map(|s| {
            let mut t = format!(
                "{} · {}",
                esc(&s.at),
                esc(lang.pick(&s.action_zh, &s.action_en))
            );
            if let (Some(zh), Some(en)) = (&s.via_zh, &s.via_en) {
                t.push_str(&format!(
                    "：{}{}",
                    esc(lang.pick(zh, en)),
                    s.contact_at
                        .as_deref()
                        .map(|c| format!(" {}", esc(c)))
                        .unwrap_or_default()
                ));
            }
            if let Some(n) = &s.note {
                t.push_str(&format!(" — {}", esc(n)));
            }
            if let (Some(zh), Some(en)) = (&s.outcome_zh, &s.outcome_en) {
                t.push_str(&format!("：{}", esc(lang.pick(zh, en))));
            }
            format!("<li>{t}</li>")
        })
        .collect();
    let steps = if steps.is_empty() {
        String::new()
    } else {
        format!("<ol>{steps}</ol>")
    };
    let action = format!("/grid/{}/act", esc(&x.id));
    let hid = hidden(caller, lang, &x.month);
    let mut forms = String::new();
    if a.next.iter().any(|n| n == "acknowledge") {
        forms.push_str(&format!(
            "<form method=\"post\" action=\"{action}\">{hid}<input type=\"hidden\" name=\"action\" value=\"acknowledge\"><button>{}</button></form>",
            lang.pick("确认收到", "Acknowledge")
        ));
    }
    if a.next.iter().any(|n| n == "contact") {
        let vias: String = VIAS
            .iter()
            .map(|(c, zh, en)| format!("<option value=\"{c}\">{}</option>", lang.pick(zh, en)))
            .collect();
        forms.push_str(&format!(
            "<form method=\"post\" action=\"{action}\"><fieldset><legend>{}</legend>{hid}<input type=\"hidden\" name=\"action\" value=\"contact\">\
<label>{}<select name=\"via\">{vias}</select></label>\
<label>{}<input type=\"datetime-local\" name=\"when\"></label>\
<label>{}<textarea name=\"note\" maxlength=\"{}\" rows=\"3\" required></textarea></label>\
<button>{}</button></fieldset></form>",
            lang.pick("记录一次联系", "Record a contact"),
            lang.pick("怎么联系的", "How"),
            lang.pick("什么时候（不填就是现在）", "When (empty: now)"),
            lang.pick("情况（不要写身份证号、电话号码）", "What came of it (no ID or phone numbers)"),
            rules::MAX_NOTE_CHARS,
            lang.pick("记录联系", "Record contact"),
        ));
    }
    if a.next.iter().any(|n| n == "close") {
        let outcomes: String = OUTCOMES
            .iter()
            .map(|(c, zh, en)| format!("<option value=\"{c}\">{}</option>", lang.pick(zh, en)))
            .collect();
        forms.push_str(&format!(
            "<form method=\"post\" action=\"{action}\"><fieldset><legend>{}</legend>{hid}<input type=\"hidden\" name=\"action\" value=\"close\">\
<label>{}<select name=\"outcome\">{outcomes}</select></label><button>{}</button></fieldset></form>",
            lang.pick("办结", "Close"),
            lang.pick("结果", "Outcome"),
            lang.pick("办结", "Close"),
        ));
    }
    format!(
        "<section class=\"alert {state}\" id=\"a-{id}\"><h2>{kind}</h2><p>{reason}</p><p class=\"state\">{state_words}</p><dl>{dl}</dl>{steps}{forms}</section>",
        state = esc(&a.state),
        id = esc(&x.id),
        kind = esc(lang.pick(&x.kind_zh, &x.kind_en)),
        reason = esc(lang.pick(&x.reason_zh, &x.reason_en)),
        state_words = esc(lang.pick(&a.state_zh, &a.state_en)),
    )
}

/// `GET /grid`: the grid worker's alerts, open ones first.
pub async fn grid_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let d = desk(&state, caller.clone(), q.month).await?;
    let mut body = String::from(STYLE);
    let cells = if d.cells.is_empty() {
        lang.pick(
            "还没有给你的账户分配网格：请网格管理部门在数据目录的 monitor/grid-cells.csv 里加上你的用户名和网格。",
            "No grid cells are assigned to your account yet: ask the office that runs the grid to add your username and cells to monitor/grid-cells.csv in the data directory.",
        )
        .to_string()
    } else {
        format!(
            "{} {}",
            lang.pick("我的网格：", "My cells:"),
            esc(&d.cells.join("、"))
        )
    };
    body.push_str(&format!("<p>{cells}</p>"));
    match &d.month {
        None => body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "还没有月度运行结果（anxin monitor run）。",
                "There is no monthly run yet (anxin monitor run)."
            )
        )),
        Some(m) => {
            let open = d.alerts.iter().filter(|a| a.state != "closed").count();
            body.push_str(&format!(
                "<p>{} {m}：{} {} · {} {}</p>",
                lang.pick("月份", "Month"),
                lang.pick("预警", "alerts"),
                d.alerts.len(),
                lang.pick("未办结", "not closed"),
                open
            ));
            body.push_str(&month_links("/grid", &d.months, Some(m), lang));
            body.push_str(&format!(
                "<p><small>{}</small></p>",
                lang.pick(
                    "预警来自各平台报送的接单数据和本实例知道的参保记录；人只用化名（身份证号的密钥散列），上门核实身份后再办理。每一步都记在防篡改的日志里。",
                    "Alerts come from the platforms' order data and the insured records this instance knows; people appear by pseudonym only (a keyed hash of the ID number): confirm who they are in person. Every step is kept in the tamper-evident log."
                )
            ));
        }
    }
    if d.month.is_some() && d.alerts.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "你的网格这个月没有预警。",
                "No alerts in your cells this month."
            )
        ));
    }
    for a in &d.alerts {
        body.push_str(&alert_card(a, &caller, lang));
    }
    body.push_str(&format!(
        "<p><a href=\"/quote?lang={l}\">{}</a> · <a href=\"/verify?lang={l}\">{}</a></p>{}",
        lang.pick("帮人算缴费", "Help someone: what to pay"),
        lang.pick("核验缴费凭证", "Check a certificate"),
        logout_button(&caller, lang),
        l = lang.code(),
    ));
    Ok(private_page(
        lang,
        lang.pick("我的网格预警", "My grid alerts"),
        &body,
    ))
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    lang: Option<String>,
    month: Option<String>,
    action: String,
    via: Option<String>,
    when: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
}

/// `POST /grid/{alert}/act`: a button of the grid page; back to the alert on the page.
pub async fn act_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StepForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    let req = StepRequest {
        action: f.action,
        via: f.via,
        when: f.when,
        note: f.note,
        outcome: f.outcome,
    };
    let v = step(&state, caller, id, req).await?;
    let month = f
        .month
        .filter(|m| anxin_domain::YearMonth::parse(m).is_ok())
        .map(|m| format!("&month={m}"))
        .unwrap_or_default();
    Ok(Redirect::to(&format!(
        "/grid?lang={}{month}#a-{}",
        lang.code(),
        v.alert.id
    ))
    .into_response())
}

fn injury_table(
    policy: &anxin_policy::Policy,
    lines: &[rules::InjuryRow],
    names: &dyn Fn(&str) -> String,
    lang: Lang,
) -> String {
    if lines.is_empty() {
        return format!("<p>{}</p>", lang.pick("没有账单。", "No bill."));
    }
    let labels = [
        lang.pick("平台", "Platform"),
        lang.pick("地区", "Region"),
        lang.pick("行业", "Sector"),
        lang.pick("单数", "Orders"),
        lang.pick("每单（元）", "Per order (yuan)"),
        lang.pick("账单（元）", "Bill (yuan)"),
    ];
    let mut out = cards_head(&labels);
    for l in lines {
        out.push_str(&cards_row(
            &labels,
            &[
                names(&l.platform),
                l.region
                    .parse::<u32>()
                    .map(|r| crate::text::place_name(policy, r, lang))
                    .unwrap_or_else(|_| esc(&l.region)),
                anxin_policy::calc::injury::Sector::parse(&l.sector)
                    .map(|s| lang.pick(s.zh(), s.en()).to_string())
                    .unwrap_or_else(|| esc(&l.sector)),
                l.orders.to_string(),
                l.per_order_fen.map(yuan).unwrap_or_else(|| "—".into()),
                l.bill_fen
                    .map(yuan)
                    .unwrap_or_else(|| esc(lang.pick(&l.note_zh, &l.note_en))),
            ],
            "",
        ));
    }
    out.push_str("</table>");
    let total: i64 = lines.iter().filter_map(|l| l.bill_fen).sum();
    out.push_str(&format!(
        "<p>{} {} {}</p>",
        lang.pick("合计", "Total"),
        yuan(total),
        lang.pick("元", "yuan")
    ));
    out
}

/// `GET /monitor/compliance`: the inspector's page.
pub async fn compliance_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let d = compliance(&state, &caller, q.month).await?;
    let mut body = String::new();
    let Some(m) = &d.month else {
        body.push_str(&format!(
            "<p>{}</p>{}",
            lang.pick(
                "还没有月度运行结果（anxin monitor run）。",
                "There is no monthly run yet (anxin monitor run)."
            ),
            logout_button(&caller, lang)
        ));
        return Ok(private_page(
            lang,
            lang.pick("平台参保合规", "Platform compliance"),
            &body,
        ));
    };
    let year = d
        .rows
        .first()
        .map(|r| r.year.to_string())
        .unwrap_or_else(|| m[..4].to_string());
    body.push_str(&format!(
        "<p>{}</p>",
        lang.pick(
            &format!("{year} 年（截至 {m} 的月度运行）：本辖区登记的平台，其活跃劳动者中有多少在本实例知道的地方参保。"),
            &format!("{year} (the monthly run of {m}): the platforms registered in your region, and how many of their active workers are insured anywhere this instance knows."),
        )
    ));
    body.push_str(&month_links(
        "/monitor/compliance",
        &d.months,
        Some(m),
        lang,
    ));
    let names: std::collections::BTreeMap<String, String> = d
        .rows
        .iter()
        .map(|r| (r.platform.clone(), r.name.clone()))
        .collect();
    let name_of = |code: &str| match names.get(code) {
        Some(n) if !n.is_empty() => format!("{}<br><small>{}</small>", esc(n), esc(code)),
        _ => esc(code),
    };
    let labels = [
        lang.pick("平台", "Platform"),
        lang.pick("活跃劳动者", "Active workers"),
        lang.pick("已参保", "Insured"),
        lang.pick("参保率", "Coverage"),
        lang.pick("等级", "Grade"),
        lang.pick("依据", "Why"),
    ];
    body.push_str(&format!("<h2>{}</h2>", lang.pick("各平台", "Platforms")));
    if d.rows.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "本辖区没有登记的平台数据。",
                "No platform registered in your region has data."
            )
        ));
    } else {
        body.push_str(&cards_head(&labels));
        for r in &d.rows {
            body.push_str(&cards_row(
                &labels,
                &[
                    name_of(&r.platform),
                    r.active.to_string(),
                    r.insured.to_string(),
                    esc(&r.coverage_percent),
                    format!("<b>{}</b>", esc(&r.grade)),
                    esc(lang.pick(&r.why_zh, &r.why_en)),
                ],
                "",
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!(
        "<h2>{}</h2><p><small>{}</small></p>",
        lang.pick(
            "连续三年参保率低于 80% 的平台（联合惩戒名单）",
            "Platforms under 80 % for three consecutive years (joint-sanction list)"
        ),
        lang.pick(
            "80% 和三年是种子文件 001 §5.5 的建议，不是现行规定（policy/params/000000-monitor.toml）。",
            "The 80 % and three years are the seed's proposal (001 §5.5), not a rule in force (policy/params/000000-monitor.toml)."
        )
    ));
    if d.sanction_list.is_empty() {
        body.push_str(&format!("<p>{}</p>", lang.pick("没有。", "None.")));
    } else {
        let items: String = d
            .sanction_list
            .iter()
            .map(|r| {
                format!(
                    "<li>{} — {}</li>",
                    name_of(&r.platform),
                    esc(lang.pick(&r.why_zh, &r.why_en))
                )
            })
            .collect();
        body.push_str(&format!("<ul>{items}</ul>"));
    }
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.pick(
            &format!("职业伤害保障账单（{m}）"),
            &format!("Occupational-injury bills ({m})")
        )
    ));
    body.push_str(&injury_table(&state.policy, &d.injury, &name_of, lang));
    body.push_str(&format!(
        "<p><a href=\"/clerk?lang={l}\">{}</a> · <a href=\"/cases?lang={l}\">{}</a></p>{}",
        lang.pick("查阅个人记录", "Read a person's record"),
        lang.pick("维权案件", "Rights complaints"),
        logout_button(&caller, lang),
        l = lang.code(),
    ));
    Ok(private_page(
        lang,
        lang.pick("平台参保合规", "Platform compliance"),
        &body,
    ))
}

/// Pseudonyms listed on the page at most (the API has them all).
const COUNTED_ON_PAGE: usize = 500;

/// `GET /platform/rating`: the platform's own rating.
pub async fn rating_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let r = rating(&state, &caller, q.month).await?;
    let mut body = format!(
        "<p>{} <code>{}</code></p>",
        lang.pick("平台", "Platform"),
        esc(&r.platform)
    );
    let Some(m) = &r.month else {
        body.push_str(&format!(
            "<p>{}</p>{}",
            lang.pick("还没有月度运行结果。", "There is no monthly run yet."),
            logout_button(&caller, lang)
        ));
        return Ok(private_page(
            lang,
            lang.pick("本平台的参保评级", "Our rating"),
            &body,
        ));
    };
    body.push_str(&month_links("/platform/rating", &r.months, Some(m), lang));
    match &r.rating {
        None => body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                &format!("{m} 的月度运行没有本平台的数据。"),
                &format!("The monthly run of {m} has no data of this platform."),
            )
        )),
        Some(c) => body.push_str(&format!(
            "<section class=\"card\"><h3>{} {} · {}</h3><p class=\"big\"><b>{}</b></p><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl><p>{}</p></section>",
            c.year,
            lang.pick("年", ""),
            esc(&c.name),
            lang.pick(&format!("等级 {}", c.grade), &format!("Grade {}", c.grade)),
            lang.pick("活跃劳动者", "Active workers"),
            c.active,
            lang.pick("已参保", "Insured"),
            c.insured,
            lang.pick("参保率", "Coverage"),
            esc(&c.coverage_percent),
            esc(lang.pick(&c.why_zh, &c.why_en)),
        )),
    }
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.pick(
            &format!("职业伤害保障账单（{m}）"),
            &format!("Occupational-injury bill ({m})")
        )
    ));
    body.push_str(&injury_table(
        &state.policy,
        &r.injury,
        &|c: &str| esc(c),
        lang,
    ));
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.pick(
            "计为未参保的劳动者（化名）",
            "Workers counted as not insured (pseudonyms)"
        )
    ));
    match &r.counted {
        None => body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "这次月度运行没有写出名单。",
                "This run did not write the list."
            )
        )),
        Some(list) if list.is_empty() => {
            body.push_str(&format!("<p>{}</p>", lang.pick("没有。", "None.")))
        }
        Some(list) => {
            let shown: String = list
                .iter()
                .take(COUNTED_ON_PAGE)
                .map(|p| format!("<li><code>{}</code></li>", esc(p)))
                .collect();
            body.push_str(&format!(
                "<p>{}</p><ul>{shown}</ul>",
                lang.pick(
                    &format!("共 {} 人。化名是身份证号的密钥散列的前 16 位：请让这些劳动者到社保经办窗口或在网上参保；平台看不到他们的身份证号。", list.len()),
                    &format!("{} in all. A pseudonym is the first 16 digits of the keyed hash of the ID number: ask these workers to enrol at a social insurance office or online; the platform never sees their ID numbers.", list.len()),
                )
            ));
            if list.len() > COUNTED_ON_PAGE {
                body.push_str(&format!(
                    "<p>{}</p>",
                    lang.pick(
                        "页面只列出前 500 人，完整名单见 GET /api/monitor/rating。",
                        "The page lists the first 500; the full list is GET /api/monitor/rating."
                    )
                ));
            }
        }
    }
    body.push_str(&format!(
        "<p><a href=\"/platform?lang={}\">{}</a></p>{}",
        lang.code(),
        lang.pick("本平台的缴费报告", "Our contribution report"),
        logout_button(&caller, lang)
    ));
    Ok(private_page(
        lang,
        lang.pick("本平台的参保评级", "Our rating"),
        &body,
    ))
}

// ---- the API document's schemas ----

pub fn step_body() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "additionalProperties": false, "required": ["action"],
        "properties": {
            "action": { "type": "string", "enum": ["acknowledge", "contact", "close"] },
            "via": { "type": ["string", "null"], "enum": ["visit", "phone", "message", "other", null] },
            "when": { "type": ["string", "null"], "description": "联系时间 YYYY-MM-DD, YYYY-MM-DDTHH:MM (China time) or RFC 3339; empty: now" },
            "note": { "type": ["string", "null"], "maxLength": rules::MAX_NOTE_CHARS, "description": "联系情况 what came of the contact (no ID or phone numbers)" },
            "outcome": { "type": ["string", "null"], "enum": ["enrolled", "will_enrol", "resumed", "insured_elsewhere", "declined", "unreachable", "moved_away", "data_error", null] }
        }
    })
}

pub fn alert_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["id", "month", "area", "kind", "person", "reason_zh", "reason_en", "state", "steps", "next"],
        "properties": {
            "id": { "type": "string" }, "month": { "type": "string" }, "area": { "type": "string" },
            "kind": { "type": "string", "enum": ["uninsured", "stopped", "missed", "school_cohort", "income_drop"] },
            "person": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
            "orders": { "type": "integer" }, "income_fen": { "type": "integer" },
            "platforms": { "type": "integer" },
            "last_paid": { "type": ["string", "null"] }, "prev_avg_fen": { "type": ["integer", "null"] },
            "reason_zh": { "type": "string" }, "reason_en": { "type": "string" },
            "state": { "type": "string", "enum": ["open", "acknowledged", "contacted", "closed"] },
            "steps": { "type": "array", "items": { "type": "object" } },
            "next": { "type": "array", "items": { "type": "string" } }
        }
    })
}

pub fn delivery_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["batch", "platform", "month", "rows", "landed", "refused", "reasons", "refusals"],
        "properties": {
            "batch": { "type": "string" }, "platform": { "type": "string" }, "month": { "type": "string" },
            "rows": { "type": "integer" }, "landed": { "type": "integer" }, "refused": { "type": "integer" },
            "reasons": { "type": "object", "additionalProperties": { "type": "integer" } },
            "refusals": { "type": "array", "items": {
                "type": "object", "required": ["line", "order_id", "reason", "reason_zh", "reason_en"],
                "properties": {
                    "line": { "type": "integer" }, "order_id": { "type": "string" },
                    "reason": { "type": "string" }, "reason_zh": { "type": "string" }, "reason_en": { "type": "string" }
                }
            } }
        }
    })
}

pub fn desk_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "cells", "alerts"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "cells": { "type": "array", "items": { "type": "string" } },
            "alerts": { "type": "array", "items": alert_schema() }
        }
    })
}

fn compliance_row() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["platform", "name", "year", "active", "insured", "coverage_percent", "grade", "sanction"],
        "properties": {
            "platform": { "type": "string" }, "name": { "type": "string" }, "year": { "type": "integer" },
            "active": { "type": "integer" }, "insured": { "type": "integer" },
            "coverage_percent": { "type": "string" }, "years_under": { "type": "integer" },
            "sanction": { "type": "boolean" }, "grade": { "type": "string", "enum": ["A", "B", "C", "D"] },
            "why_zh": { "type": "string" }, "why_en": { "type": "string" }
        }
    })
}

fn injury_row() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["platform", "region", "sector", "orders"],
        "properties": {
            "platform": { "type": "string" }, "region": { "type": "string" }, "sector": { "type": "string" },
            "orders": { "type": "integer" }, "per_order_fen": { "type": ["integer", "null"] },
            "bill_fen": { "type": ["integer", "null"] }, "note_zh": { "type": "string" }, "note_en": { "type": "string" }
        }
    })
}

pub fn compliance_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "rows", "sanction_list", "injury"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "rows": { "type": "array", "items": compliance_row() },
            "sanction_list": { "type": "array", "items": compliance_row() },
            "injury": { "type": "array", "items": injury_row() }
        }
    })
}

pub fn rating_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "platform", "rating", "injury", "counted"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "platform": { "type": "string" },
            "rating": { "oneOf": [compliance_row(), { "type": "null" }] },
            "injury": { "type": "array", "items": injury_row() },
            "counted": { "type": ["array", "null"], "items": { "type": "string", "pattern": "^[0-9a-f]{16}$" } }
        }
    })
}
