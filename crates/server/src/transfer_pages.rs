//! The pages of transfers between instances (issue 14), Chinese first, for a phone:
//!
//! - `GET /transfers`: a worker's own transfers and the form that asks to move their
//!   insurance here (their own record is used: the form names no person); a clerk's queue,
//!   overdue first, with the working days left on each step's clock, and the form for a worker
//!   at the desk (the resident ID typed from the card);
//! - `POST /transfers`: the form; on to the new transfer's page;
//! - `GET /transfers/{id}`: each step, who holds it, its deadline in working days and what the
//!   worker must do; once recorded, the months and money that arrived and the place of claim
//!   (待遇领取地) under the four rules of 国办发〔2009〕66号 第六条; once done, the voucher;
//! - `GET /transfers/{id}/voucher`: the transfer voucher (转移凭证) to download, checked
//!   offline with `anxin transfer voucher`.
//!
//! Who may do what is `anxin_service::access`'s (`RequestTransfer`, `TransferQueue`,
//! `ReadTransfer`); every step is the state machine's (`anxin_service::transfer`). This
//! module only translates.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use anxin_policy::Lang;
use anxin_records::access::Role;
use anxin_service::transfer::machine::{Role as Side, State as Step};
use anxin_service::transfer::notify;

use crate::auth::{Caller, logout_button};
use crate::transfer::{AskBody, readable, voucher_response};
use crate::{ApiError, AppState, Chrome, LangQuery, Params, lang_of, private_html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(list_page).post(ask_submit))
        .route("/transfers/{transfer}", get(transfer_page))
        .route("/transfers/{transfer}/voucher", get(voucher_file))
}

/// Whether `caller` is offered transfers here: an instance with peers, and a role that may
/// ask for one.
pub fn offered(state: &AppState, caller: &Caller) -> bool {
    state.federation.is_some()
        && caller
            .may(anxin_service::access::Action::RequestTransfer)
            .is_ok()
}

fn not_federated() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "本实例没有开启实例间转移",
        "this instance takes no transfers between instances",
    )
}

/// A region's name as a page shows it.
fn place(state: &AppState, code: &str, lang: Lang) -> String {
    match code.parse::<u32>() {
        Ok(c) => crate::text::place_name(&state.policy, c, lang),
        Err(_) => code.to_string(),
    }
}

/// "还剩 3 个工作日" or "已逾期 2 个工作日", and its class.
fn left_words(days: Option<i64>, lang: Lang) -> (String, &'static str) {
    match days {
        Some(d) if d < 0 => (
            match lang {
                Lang::Zh => format!("已逾期 {} 个工作日", -d),
                Lang::En => format!("overdue by {} working days", -d),
            },
            "late",
        ),
        Some(d) => (
            match lang {
                Lang::Zh => format!("还剩 {d} 个工作日"),
                Lang::En => format!("{d} working days left"),
            },
            "",
        ),
        None => (String::new(), ""),
    }
}

fn yuan(fen: Option<i64>, lang: Lang) -> String {
    match fen {
        Some(f) => format!(
            "{} {}",
            anxin_domain::Fen(f).yuan_string(),
            lang.pick("元", "yuan")
        ),
        None => lang.pick("未提供", "not given").to_string(),
    }
}

struct Row {
    id: String,
    href: String,
    side: String,
    state: String,
    due: String,
    left: String,
    class: &'static str,
}

struct Origin {
    code: String,
    name: String,
}

/// `templates/transfers.html`: a worker's transfers or a clerk's queue, and the form to ask.
#[derive(askama::Template)]
#[template(path = "transfers.html")]
struct ListPage {
    c: Chrome,
    clerk: bool,
    rows: Vec<Row>,
    origins: Vec<Origin>,
    csrf: String,
    to_code: String,
    to_name: String,
    logout: String,
}

/// Where a transfer asked by this caller moves to: a worker's residence here, a clerk's region.
async fn destination(state: &AppState, caller: &Caller) -> Result<Option<u32>, ApiError> {
    match (caller.role, caller.account.person) {
        (Role::Worker, Some(p)) => {
            let row = state.read(move |r| Ok(r.store().person(&p)?)).await?;
            Ok(row.map(|r| r.residence_region))
        }
        _ => Ok(caller.account.region),
    }
}

/// `GET /transfers`: a worker's own transfers, a clerk's queue; the form to ask.
async fn list_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<LangQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let node = state.federation.clone().ok_or_else(not_federated)?;
    caller.may(anxin_service::access::Action::RequestTransfer)?;
    let clerk = caller.role != Role::Worker;
    let person = caller.account.person.map(anxin_records::PersonKey);
    let today = state.today_in_china();
    let (rows, origins) = {
        let node = node.clone();
        let policy = state.policy.clone();
        tokio::task::spawn_blocking(move || {
            let origins = node.origins()?;
            let mut rows = Vec::new();
            if clerk {
                for q in node.queue()? {
                    let (left, class) = left_words(q.days_left, lang);
                    let peer = node
                        .transfer(&q.transfer)?
                        .map(|t| t.peer)
                        .unwrap_or_default();
                    let w = notify::words(q.role, q.state, (peer.as_str(), peer.as_str()));
                    rows.push(Row {
                        href: format!("/transfers/{}{}", q.transfer, crate::lang_query(lang, true)),
                        id: q.transfer,
                        side: match q.role {
                            Side::Destination => lang.pick("转入 ← ", "in ← ").to_string() + &peer,
                            Side::Origin => lang.pick("转出 → ", "out → ").to_string() + &peer,
                        },
                        state: lang.pick(w.state_zh, w.state_en).to_string(),
                        due: q.due.map(|d| d.to_string()).unwrap_or_default(),
                        left,
                        class,
                    });
                }
            } else if let Some(p) = person {
                for t in node.transfers_of(&p)? {
                    let days = t
                        .due
                        .and_then(|d| policy.calendar.working_days_between(today, d).ok())
                        .filter(|_| t.state.is_open());
                    let (left, class) = left_words(days, lang);
                    let w = notify::words(t.role, t.state, (t.peer.as_str(), t.peer.as_str()));
                    rows.push(Row {
                        href: format!("/transfers/{}{}", t.id, crate::lang_query(lang, true)),
                        side: String::new(),
                        state: lang.pick(w.state_zh, w.state_en).to_string(),
                        due: if t.state.is_open() {
                            t.due.map(|d| d.to_string()).unwrap_or_default()
                        } else {
                            String::new()
                        },
                        id: t.id,
                        left,
                        class,
                    });
                }
            }
            Ok::<_, anxin_service::transfer::Refusal>((rows, origins))
        })
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(crate::transfer::refused)?
    };
    let to = destination(&state, &caller).await?;
    let origins = origins
        .into_iter()
        .filter(|(r, _)| Some(r.code()) != to)
        .map(|(r, _)| Origin {
            code: r.to_string(),
            name: place(&state, &r.to_string(), lang),
        })
        .collect();
    let to_code = to.map(|c| format!("{c:06}")).unwrap_or_default();
    let title = if clerk {
        lang.pick("转移接续：待办队列", "Transfers: the queue")
    } else {
        lang.pick("转移接续", "Moving my insurance")
    };
    Ok(private_html(&ListPage {
        c: Chrome::new(lang, title),
        clerk,
        rows,
        origins,
        csrf: caller.csrf(),
        to_name: place(&state, &to_code, lang),
        to_code,
        logout: logout_button(&caller, lang),
    }))
}

#[derive(Deserialize)]
struct AskForm {
    csrf: String,
    lang: Option<String>,
    from_region: String,
    to_region: Option<String>,
    person_id: Option<String>,
    /// Months without medical insurance before joining here (empty: not said).
    medical_gap: Option<String>,
}

/// `POST /transfers`: the form; a worker's own record and residence are used whatever the
/// form says, a clerk names the worker at the desk.
async fn ask_submit(
    State(state): State<AppState>,
    caller: Caller,
    axum::Form(f): axum::Form<AskForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    let node = state.federation.clone().ok_or_else(not_federated)?;
    caller.may(anxin_service::access::Action::RequestTransfer)?;
    let worker = caller.role == Role::Worker;
    let to_region = if worker {
        destination(&state, &caller)
            .await?
            .map(|c| format!("{c:06}"))
    } else {
        f.to_region.clone()
    }
    .unwrap_or_default();
    let medical_gap_months = match f.medical_gap.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            crate::whole_number::<u32>(text)
                .filter(|n| *n <= 1200)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        format!("医保断缴月数应为 0 到 1200 之间的整数，而不是 {text}"),
                        format!("the months without medical insurance must be a whole number from 0 to 1200, not {text}"),
                    )
                })?,
        ),
    };
    let ask = AskBody {
        person_id: if worker {
            None
        } else {
            f.person_id.filter(|p| !p.trim().is_empty())
        },
        from_region: f.from_region,
        to_region,
        elsewhere: Vec::new(),
        medical_gap_months,
    };
    let (_, id) = crate::transfer::start(&state, node, caller, ask).await?;
    Ok(Redirect::to(&format!("/transfers/{id}{}", crate::lang_query(lang, true))).into_response())
}

struct StepLine {
    class: &'static str,
    mark: &'static str,
    what: String,
    who: String,
}

struct MonthsRow {
    region: String,
    span: String,
    count: u32,
}

struct RuleLine {
    class: &'static str,
    text: &'static str,
}

crate::extends_layout!(ListPage, TransferPage);

/// `templates/transfer.html`: one transfer, step by step.
#[derive(askama::Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    c: Chrome,
    /// Whether the reader is the worker (else a clerk: back to the queue).
    worker: bool,
    logout: String,
    id: String,
    route: String,
    state: String,
    holder: String,
    due: String,
    left: String,
    left_class: &'static str,
    todo: String,
    refusal: String,
    /// Why the last message did not reach the other office, and when it is tried again.
    undelivered: String,
    retry: String,
    steps: Vec<StepLine>,
    received: bool,
    months: Vec<MonthsRow>,
    pooling: String,
    personal: String,
    total: String,
    claim_place: String,
    claim_why: String,
    rules: Vec<RuleLine>,
    /// Medical insurance moved: its months, its account, and whether cover is continuous
    /// (empty `medical_months`: medical did not move).
    medical_months: String,
    medical_account: String,
    medical_continuity: String,
    voucher: String,
    file: String,
    keys: Vec<String>,
}

/// The four rules of 国办发〔2009〕66号 第六条, in words (the years they need are the policy's
/// `transfer.pension.claim_min_years`, named in the decision's own reason above them).
const RULES: [(&str, &str); 4] = [
    (
        "规则一：养老保险关系在户籍所在地的，由户籍所在地办理待遇领取。",
        "Rule 1: the relationship is at the hukou place, which handles the claim.",
    ),
    (
        "规则二：关系不在户籍地，但在关系所在地累计缴费满规定年限的，在关系所在地领取。",
        "Rule 2: not at the hukou place, but paid the required years where it is: claimed there.",
    ),
    (
        "规则三：关系所在地不满规定年限的，转回上一个缴费满规定年限的原参保地领取。",
        "Rule 3: fewer than the required years where it is: back to the last earlier place with them.",
    ),
    (
        "规则四：哪里都不满规定年限的，归集到户籍所在地，由户籍所在地办理。",
        "Rule 4: no place has the required years: collected to the hukou place, which handles the claim.",
    ),
];

/// The steps of a transfer as its side sees them: (what, who acts, done by which states).
fn steps(d: &anxin_service::transfer::node::Detail, here: &str, lang: Lang) -> Vec<StepLine> {
    let t = &d.transfer;
    let peer = lang.pick(&d.peer.0, &d.peer.1).to_string();
    let (origin, dest) = match t.role {
        Side::Destination => (peer, here.to_string()),
        Side::Origin => (here.to_string(), peer),
    };
    let reached = |states: &[Step]| states.contains(&t.state);
    let list: [(&str, &str, &String, bool); 4] = [
        (
            "提出申请，转入地向转出地发出联系函",
            "asked; the destination sends the liaison request to the origin",
            &dest,
            true,
        ),
        (
            "转出地核对记录、冻结原账户，发出转移包（缴费记录、资金和证明）",
            "the origin checks the record, freezes the account and sends the package (months, money, proofs)",
            &origin,
            reached(&[Step::Frozen, Step::Recorded, Step::Sealed, Step::Done]),
        ),
        (
            "转入地离线核验转移包，记入缴费记录",
            "the destination verifies the package offline and records the months",
            &dest,
            reached(&[Step::Recorded, Step::Sealed, Step::Done]),
        ),
        (
            "转出地封存原账户，办结",
            "the origin closes the old account; done",
            &origin,
            reached(&[Step::Sealed, Step::Done]),
        ),
    ];
    let mut current = false;
    list.iter()
        .map(|(zh, en, who, done)| {
            let (class, mark) = if *done {
                ("done", lang.pick("✓ 已完成", "✓ done"))
            } else if t.state == Step::Refused && !current {
                current = true;
                ("stop", lang.pick("✗ 退回", "✗ refused"))
            } else if !current && t.state != Step::Refused {
                current = true;
                ("now", lang.pick("▶ 正在办理", "▶ under way"))
            } else {
                ("wait", lang.pick("· 等待", "· waiting"))
            };
            StepLine {
                class,
                mark,
                what: lang.pick(zh, en).to_string(),
                who: format!(
                    "{}{}",
                    lang.pick("办理：", "by "),
                    match lang {
                        Lang::Zh => format!("{who}社保经办机构"),
                        Lang::En => format!("the {who} office"),
                    }
                ),
            }
        })
        .collect()
}

/// `GET /transfers/{id}`: one transfer, step by step.
async fn transfer_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<LangQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let d = readable(&state, &caller, id).await?;
    let node = state.federation.clone().ok_or_else(not_federated)?;
    let keys = tokio::task::spawn_blocking(move || node.keys())
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(crate::transfer::refused)?;
    let t = &d.transfer;
    let here = match &d.to_region {
        Some(r) => place(&state, r, lang),
        None => lang.pick("本地", "here").to_string(),
    };
    let peer = lang.pick(&d.peer.0, &d.peer.1).to_string();
    let w = notify::words(t.role, t.state, (d.peer.0.as_str(), d.peer.1.as_str()));
    let route = match t.role {
        Side::Destination => format!("{peer} → {here}"),
        Side::Origin => format!("{here} → {peer}"),
    };
    let (left, left_class) = left_words(d.days_left.filter(|_| t.state.is_open()), lang);
    // A message that has not reached the other office yet: the state's own words would say
    // it was sent, and that office holds it; until it gets through, it is still here.
    let (state_words, holder) = match (&d.undelivered, lang) {
        (Some(_), Lang::Zh) => (
            format!("消息还没有送到{peer}，系统正在自动重试"),
            format!("{here}社保经办机构（系统自动重试）"),
        ),
        (Some(_), Lang::En) => (
            format!("The message has not reached {peer} yet; it is being retried"),
            format!("the {here} office (retried by the system)"),
        ),
        (None, _) => (
            lang.pick(w.state_zh, w.state_en).to_string(),
            lang.pick(&w.holder_zh, &w.holder_en).to_string(),
        ),
    };
    let refusal = t
        .refusal
        .as_ref()
        .map(|(_, zh, en)| lang.pick(zh, en).to_string())
        .unwrap_or_default();
    let mut months: Vec<MonthsRow> = Vec::new();
    let (mut pooling, mut personal, mut total) = (String::new(), String::new(), String::new());
    let (mut claim_place, mut claim_why, mut rules) = (String::new(), String::new(), Vec::new());
    let (mut medical_months, mut medical_account, mut medical_continuity) =
        (String::new(), String::new(), String::new());
    if let Some((r, m)) = d
        .received
        .as_ref()
        .and_then(|r| r.medical.as_ref().map(|m| (r, m)))
    {
        let count = r
            .months
            .iter()
            .filter(|x| x.insurance == anxin_domain::Insurance::Medical)
            .count();
        medical_months = lang
            .pick(&format!("{count} 个月"), &format!("{count} months"))
            .to_string();
        medical_account = yuan(m.account_fen, lang);
        medical_continuity = match (m.gap_months, m.continuous, m.max_waiting_months) {
            (Some(g), Some(true), _) => lang
                .pick(
                    &format!("断缴 {g} 个月，在连续计算的期限内：医保缴费年限连续计算，没有等待期"),
                    &format!("{g} months without cover, within the limit: cover counts as continuous, no waiting period"),
                )
                .to_string(),
            (Some(g), Some(false), Some(w)) => lang
                .pick(
                    &format!("断缴 {g} 个月，超过连续计算的期限：转入地可以设不超过 {w} 个月的等待期"),
                    &format!("{g} months without cover, past the limit: the destination may set a waiting period of up to {w} months"),
                )
                .to_string(),
            (Some(g), Some(false), None) => lang
                .pick(
                    &format!("断缴 {g} 个月，超过连续计算的期限：按转入地规定设等待期"),
                    &format!("{g} months without cover, past the limit: the destination's waiting period applies"),
                )
                .to_string(),
            _ => lang
                .pick(
                    "申请时没有填写断缴月数，未判断是否连续",
                    "no months without cover were given: continuity not decided",
                )
                .to_string(),
        };
    }
    if let Some(r) = &d.received {
        let mut pension: Vec<_> = r
            .months
            .iter()
            .filter(|m| m.insurance == anxin_domain::Insurance::Pension)
            .collect();
        pension.sort_by_key(|m| (m.region, m.month));
        let mut firsts: Vec<String> = Vec::new();
        for m in pension {
            let region = place(&state, &m.region.to_string(), lang);
            if let Some(last) = months.last_mut()
                && last.region == region
                && let Some(first) = firsts.last()
            {
                last.span = format!("{first} – {}", m.month);
                last.count += 1;
                continue;
            }
            firsts.push(m.month.to_string());
            months.push(MonthsRow {
                region,
                span: format!("{} – {}", m.month, m.month),
                count: 1,
            });
        }
        pooling = yuan(Some(r.pooling_fen), lang);
        personal = yuan(r.personal_account_fen, lang);
        total = yuan(r.pension_total_fen, lang);
        claim_place = place(&state, &r.claim_place, lang);
        claim_why = lang.pick(&r.claim_why.0, &r.claim_why.1).to_string();
        rules = RULES
            .iter()
            .enumerate()
            .map(|(i, &(zh, en))| RuleLine {
                class: if usize::from(r.claim_rule) == i + 1 {
                    "this"
                } else {
                    ""
                },
                text: lang.pick(zh, en),
            })
            .collect();
    }
    let done = t.role == Side::Destination && t.state == Step::Done;
    let file = format!("voucher-{}.json", t.id.replace([':', '/'], "-"));
    // This instance's key and the origin's: the two a voucher needs.
    let keys: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(i, (n, _))| *i == 0 || *n == t.peer)
        .map(|(_, (n, k))| format!("{n}={k}"))
        .collect();
    Ok(private_html(&TransferPage {
        c: Chrome::new(lang, lang.pick("转移接续进度", "Transfer, step by step")),
        worker: caller.role == Role::Worker,
        logout: logout_button(&caller, lang),
        id: t.id.clone(),
        route,
        state: state_words,
        holder,
        due: if t.state.is_open() {
            t.due.map(|d| d.to_string()).unwrap_or_default()
        } else {
            String::new()
        },
        left,
        left_class,
        todo: lang.pick(w.todo_zh, w.todo_en).to_string(),
        refusal,
        undelivered: d
            .undelivered
            .as_ref()
            .map(|u| lang.pick(&u.zh, &u.en).to_string())
            .unwrap_or_default(),
        retry: d
            .undelivered
            .as_ref()
            .and_then(|u| u.next_try)
            .map(crate::when)
            .unwrap_or_default(),
        steps: steps(&d, &here, lang),
        received: d.received.is_some(),
        months,
        pooling,
        personal,
        total,
        claim_place,
        claim_why,
        rules,
        medical_months,
        medical_account,
        medical_continuity,
        voucher: if done {
            format!("/transfers/{}/voucher", t.id)
        } else {
            String::new()
        },
        file,
        keys,
    }))
}

/// `GET /transfers/{id}/voucher`: the voucher file.
async fn voucher_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    voucher_response(&state, &caller, id).await
}
