//! Collective agreements (issue 15) through the API and pages: a covered worker's agreements
//! with the quote each gives them (`GET /api/agreements`, `/agreements`), a union's and a
//! platform's agreements (`/agreements`, each on its case page where the sides sign), and the
//! union's form (`/agreements/new`). Thin: the rules, terms, clocks and permissions are
//! `anxin_service::cases` (`agreement`) and `access`; pages are askama templates
//! (`templates/agreements.html`, `templates/agreement_form.html`).

use anxin_domain::{EmploymentForm, Fen};
use anxin_policy::Lang;
use anxin_records::access::Role;
use anxin_service::cases::agreement::{self, PayRate, Terms};
use anxin_service::cases::{self, FileRequest};
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::cases::with_engine;
use crate::{ApiError, AppState, Params};

/// JSON Schema of an agreement's terms (`POST /api/cases` with `"kind": "agreement"`).
pub fn terms_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["title", "regions", "categories", "from", "to"],
        "description": "agreement only: its terms (amounts in fen); at least one of pay_rates, contribution_base_fen, platform_share_percent, supplementary",
        "properties": {
            "title": { "type": "string", "maxLength": 100 },
            "pay_rates": { "type": "array", "maxItems": agreement::MAX_RATES, "items": {
                "type": "object", "additionalProperties": false, "required": ["item", "amount_fen", "per"],
                "properties": {
                    "item": { "type": "string", "maxLength": 40 },
                    "amount_fen": { "type": "integer", "minimum": 1, "maximum": 100_000_000 },
                    "per": { "type": "string", "enum": agreement::PER.map(|p| p.0) }
                }
            }},
            "contribution_base_fen": { "type": ["integer", "null"], "minimum": 1, "description": "inside each covered region's floor and ceiling" },
            "platform_share_percent": { "type": ["integer", "null"], "minimum": 0, "maximum": 100 },
            "supplementary": { "type": "array", "maxItems": agreement::MAX_SUPPLEMENTARY, "items": { "type": "string", "maxLength": 50 } },
            "regions": { "type": "array", "minItems": 1, "maxItems": agreement::MAX_REGIONS, "items": { "type": "string", "pattern": "^[0-9]{6}$" }, "description": "within the union's region" },
            "categories": { "type": "array", "minItems": 1, "items": { "type": "string", "enum": EmploymentForm::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>() } },
            "from": { "type": "string", "format": "date" },
            "to": { "type": "string", "format": "date", "description": "at most case.agreement.max_term_months after from" }
        }
    })
}

/// JSON Schema of `GET /api/agreements`.
pub fn covering_schema() -> Value {
    json!({
        "type": "object", "required": ["items"],
        "properties": { "items": { "type": "array", "items": {
            "type": "object", "required": ["agreement", "quote"],
            "properties": {
                "agreement": { "type": "object", "required": ["case", "platform", "state", "terms"] },
                "quote": { "type": "object", "required": ["case", "base_fen", "monthly_fen", "platform_fen", "worker_fen", "zh", "en"] }
            }
        }}}
    })
}

/// `GET /api/agreements`: the agreements in force covering the signed-in worker, each with
/// their quote under it.
pub async fn api_covering(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let list = with_engine(&state, false, move |r, engine, clock| {
        agreement::mine(r, engine, caller.actor(), clock)
    })
    .await?;
    let items: Vec<Value> = list
        .iter()
        .map(|(a, q)| json!({ "agreement": a, "quote": q }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// One agreement as the list page shows it.
struct Item {
    title: String,
    platform: String,
    state: String,
    lines: Vec<String>,
    /// The worker's quote under it (empty for the others).
    quote: String,
    /// Its case, where the sides sign (not for a worker).
    case: Option<String>,
}

/// `templates/agreements.html`.
#[derive(askama::Template)]
#[template(path = "agreements.html")]
struct ListPage {
    c: crate::Chrome,
    /// The reader's role (`worker`, `union`, `platform`, …): what the page says first.
    role: &'static str,
    items: Vec<Item>,
    logout: String,
}

/// `GET /agreements`: a worker's agreements in force (with their quote); a union's, a
/// platform's or the labour administration's agreements, each linking to its case page.
pub async fn list_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<axum::response::Response, ApiError> {
    let lang = crate::lang_of(q.lang.as_deref());
    let pick = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let mut items = Vec::new();
    if caller.role == Role::Worker {
        let reader = caller.clone();
        let list = with_engine(&state, false, move |r, engine, clock| {
            agreement::mine(r, engine, reader.actor(), clock)
        })
        .await?;
        for (a, quote) in list {
            items.push(Item {
                title: a.terms.title.clone(),
                platform: a.platform_name.clone(),
                state: pick(&a.state_zh, &a.state_en),
                lines: agreement::terms_lines(&a.terms)
                    .into_iter()
                    .skip(1)
                    .map(|(zh, en)| pick(&zh, &en))
                    .collect(),
                quote: pick(&quote.zh, &quote.en),
                case: None,
            });
        }
    } else {
        let reader = caller.clone();
        let rows = with_engine(&state, false, move |r, engine, _| {
            let mut out = Vec::new();
            for c in cases::queue(r, engine, reader.actor())? {
                let Some(kind) = engine.kinds.get(&c.case_kind) else {
                    continue;
                };
                if kind.request != cases::rules::Request::Agreement {
                    continue;
                }
                let terms = agreement::terms_of(r, &c.case_id)?;
                let name = r
                    .store()
                    .org_names(&[c.party.as_deref().unwrap_or_default()])?
                    .into_values()
                    .next()
                    .unwrap_or_else(|| c.party.clone().unwrap_or_default());
                let st = kind.state(&c.state).map(|s| (s.zh.clone(), s.en.clone()));
                out.push((c, terms, name, st.unwrap_or_default()));
            }
            Ok(out)
        })
        .await?;
        for (c, terms, name, (szh, sen)) in rows {
            items.push(Item {
                title: terms.title.clone(),
                platform: name,
                state: pick(&szh, &sen),
                lines: agreement::terms_lines(&terms)
                    .into_iter()
                    .skip(1)
                    .map(|(zh, en)| pick(&zh, &en))
                    .collect(),
                quote: String::new(),
                case: Some(c.case_id),
            });
        }
    }
    Ok(crate::private_html(&ListPage {
        c: crate::Chrome::new(lang, lang.pick("集体合同", "Collective agreements")),
        role: caller.role.as_str(),
        items,
        logout: crate::auth::logout_button(&caller, lang),
    }))
}

/// `templates/agreement_form.html`: the union's form.
#[derive(askama::Template)]
#[template(path = "agreement_form.html")]
struct FormPage {
    c: crate::Chrome,
    csrf: String,
    /// The agreement's kinds, the registered platforms, the pay rates' units and the
    /// categories of workers: code and words.
    subjects: Vec<(String, String)>,
    platforms: Vec<(String, String)>,
    /// The pay rate rows offered.
    rows: Vec<u32>,
    pers: Vec<(&'static str, &'static str)>,
    /// The union's region, prefilled.
    region: String,
    categories: Vec<(&'static str, &'static str)>,
}

crate::extends_layout!(ListPage, FormPage);

/// `GET /agreements/new`: the union's form (the platform from the registry, the terms).
pub async fn new_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<axum::response::Response, ApiError> {
    let lang = crate::lang_of(q.lang.as_deref());
    caller.may(anxin_service::access::Action::FileCase)?;
    if caller.role != Role::Union {
        return Err(ApiError::from(cases::CaseError::Denied(
            anxin_service::access::Denied {
                why: anxin_service::access::Why::NotParty,
                zh: "集体合同由工会提出".into(),
                en: "a collective agreement is proposed by a union".into(),
            },
        )));
    }
    let platforms = crate::cases::platforms(&state).await?;
    let kind = crate::cases::kinds()?
        .0
        .iter()
        .find(|k| k.request == cases::rules::Request::Agreement)
        .ok_or_else(ApiError::internal)?;
    let subjects = kind
        .subjects
        .iter()
        .map(|s| {
            let (zh, en) = kind.subject(s);
            (s.clone(), lang.pick(&zh, &en).to_string())
        })
        .collect();
    Ok(crate::private_html(&FormPage {
        c: crate::Chrome::new(
            lang,
            lang.pick("提出集体合同", "Propose a collective agreement"),
        ),
        csrf: caller.csrf(),
        subjects,
        platforms,
        rows: vec![1, 2, 3],
        pers: agreement::PER
            .iter()
            .map(|p| (p.0, if lang == Lang::En { p.2 } else { p.1 }))
            .collect(),
        region: caller
            .account
            .region
            .map(|r| format!("{r:06}"))
            .unwrap_or_default(),
        categories: EmploymentForm::ALL
            .iter()
            .map(|f| {
                (
                    f.as_str(),
                    if lang == Lang::En { f.as_str() } else { f.zh() },
                )
            })
            .collect(),
    }))
}

/// Yuan as typed ("4.50") to fen; empty is none.
fn fen_of(text: &str, what: (&str, &str)) -> Result<Option<i64>, ApiError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<Fen>().map(|f| Some(f.0)).map_err(|_| {
        let shown: String = t.chars().take(20).collect();
        ApiError::bad_input(
            format!("{}“{shown}”不是金额：请写成 4.50 这样的元数", what.0),
            format!(
                "{} {shown:?} is not an amount: write yuan like 4.50",
                what.1
            ),
        )
    })
}

/// `POST /agreements/new`: files the union's agreement, then its case page.
pub async fn new_submit(
    State(state): State<AppState>,
    caller: Caller,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<axum::response::Response, ApiError> {
    let one = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let all = |n: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    caller.check_csrf(&one("csrf"))?;
    let lang = crate::lang_of(Some(one("lang").as_str()));
    let mut pay_rates = Vec::new();
    let (items, yuan, pers) = (all("rate_item"), all("rate_yuan"), all("rate_per"));
    for (i, item) in items.iter().enumerate() {
        let amount = yuan.get(i).map(String::as_str).unwrap_or_default();
        if item.is_empty() && amount.is_empty() {
            continue;
        }
        pay_rates.push(PayRate {
            item: item.clone(),
            amount_fen: fen_of(amount, ("报酬金额", "the pay rate"))?.unwrap_or(0),
            per: pers.get(i).cloned().unwrap_or_default(),
        });
    }
    let share = match one("share") {
        s if s.is_empty() => None,
        s => Some(s.parse::<u32>().map_err(|_| {
            ApiError::bad_input(
                "平台承担比例要写 0 到 100 的整数",
                "the platform's share is a whole number 0 to 100",
            )
        })?),
    };
    let split = |text: String| -> Vec<String> {
        text.split([',', '，', '、'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let terms = Terms {
        title: one("title"),
        pay_rates,
        contribution_base_fen: fen_of(&one("base_yuan"), ("缴费基数", "the base"))?,
        platform_share_percent: share,
        supplementary: split(one("supplementary")),
        regions: split(one("regions")),
        categories: all("category"),
        from: one("from"),
        to: one("to"),
    };
    let req = FileRequest {
        kind: "agreement".into(),
        subject: one("subject"),
        party: one("party"),
        months: Vec::new(),
        terms: Some(terms),
    };
    let id = with_engine(&state, true, move |r, engine, clock| {
        cases::file(r, engine, caller.actor(), &req, clock).map(|v| v.id)
    })
    .await?;
    Ok(axum::response::Redirect::to(&format!("/cases/{id}?lang={}", lang.code())).into_response())
}
