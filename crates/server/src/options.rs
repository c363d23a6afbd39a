//! The worker's other questions, answered from their own record: which missed months may still
//! be paid and at what cost (`backpay`), and employee versus resident medical insurance where
//! they live (`medical`). Every figure comes from the calculators; each with its explanation.

use anxin_policy::calc::backpay::backpay;
use anxin_policy::calc::medical::medical;
use anxin_service::plans;
use axum::extract::{Path, State};
use axum::response::Response;

use crate::auth::Caller;
use crate::{ApiError, AppState, CardsTable, Chrome, Params, lang_of};

/// `GET /persons/{key}/options`: back-payment and medical insurance, for the owner.
pub async fn options_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<crate::LangQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let key = crate::person::own_key(
        &caller,
        &key,
        "补缴和医保测算只对本人开放",
        "only the worker may open their own back-payment and medical options",
    )?;
    let view = crate::person::view_of(&state, key).await?;
    let back = plans::backpay_request(&view);
    let med = plans::medical_request(&view);
    let policy = state.policy.clone();
    let today = state.today();
    let (back, med) = tokio::task::spawn_blocking(move || {
        let b = back.map(|back| backpay(&policy, &back, today));
        (b, medical(&policy, &med, today))
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let how = |r: &anxin_policy::Trace| r.render_named(lang);
    let notes = |n: &[anxin_policy::calc::Note]| {
        n.iter()
            .map(|n| lang.pick(&n.zh, &n.en).to_string())
            .collect::<Vec<_>>()
    };
    let back = match back {
        None => Answer::None,
        Some(Err(e)) => Answer::Refused(lang.pick(&e.zh, &e.en).to_string()),
        Some(Ok(r)) => Answer::Shown(
            format!(
                "{} {} · {} {} {}",
                lang.pick("可补", "may be paid"),
                r.allowed_count,
                lang.pick("合计", "total"),
                r.total_fen.yuan_string(),
                lang.pick("元", "yuan"),
            ),
            CardsTable {
                labels: crate::names(&[
                    lang.pick("月份", "Month"),
                    lang.pick("能否补缴", "Allowed"),
                    lang.pick("金额（元）", "Amount (yuan)"),
                ]),
                rows: r
                    .months
                    .iter()
                    .map(|m| {
                        (
                            if m.allowed { "" } else { "bad" },
                            vec![
                                m.month.to_string(),
                                lang.pick(&m.reason_zh, &m.reason_en).to_string(),
                                m.amount_fen.yuan_string(),
                            ],
                        )
                    })
                    .collect(),
            },
            notes(&r.notes),
            how(&r.trace),
        ),
    };
    let medical = match med {
        Err(e) => Answer::Refused(lang.pick(&e.zh, &e.en).to_string()),
        Ok(r) => {
            // No rate recorded is "not recorded", never 0.00.
            let employee_yearly = if r.employee.rate_bps.is_some() {
                r.employee.yearly_fen.yuan_string()
            } else {
                lang.pick("未收录 / not recorded", "not recorded / 未收录")
                    .to_string()
            };
            Answer::Shown(
                String::new(),
                CardsTable {
                    labels: crate::names(&[
                        lang.pick("医保", "Scheme"),
                        lang.pick("每年（元）", "Per year (yuan)"),
                        lang.pick("能不能参加", "Can you join"),
                    ]),
                    rows: vec![
                        (
                            "",
                            vec![
                                lang.pick("职工医保（灵活就业）", "Employee scheme (flexible)")
                                    .to_string(),
                                employee_yearly,
                                lang.pick(&r.employee.reason_zh, &r.employee.reason_en)
                                    .to_string(),
                            ],
                        ),
                        (
                            "",
                            vec![
                                lang.pick("居民医保", "Resident scheme").to_string(),
                                r.resident.yearly_fen.yuan_string(),
                                lang.pick(&r.resident.reason_zh, &r.resident.reason_en)
                                    .to_string(),
                            ],
                        ),
                    ],
                },
                notes(&r.notes),
                how(&r.trace),
            )
        }
    };
    Ok(crate::private_html(&OptionsPage {
        c: Chrome::new(
            lang,
            lang.pick("补缴与医保", "Back-payment and medical insurance"),
        ),
        back,
        medical,
        key: key.hex(),
    }))
}

/// `templates/options.html`: back-payment and medical insurance, each with its explanation.
#[derive(askama::Template)]
#[template(path = "options.html")]
struct OptionsPage {
    c: Chrome,
    back: Answer,
    medical: Answer,
    key: String,
}
crate::extends_layout!(OptionsPage);

/// A calculator's answer on the page: nothing to say, why it could not, or the headline, the
/// table, the notes and how it was computed.
enum Answer {
    None,
    Refused(String),
    Shown(String, CardsTable, Vec<String>, String),
}
