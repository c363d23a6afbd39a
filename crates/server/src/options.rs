//! The worker's other questions, answered from their own record: which missed months may still
//! be paid and at what cost (`backpay`), and employee versus resident medical insurance where
//! they live (`medical`). Every figure comes from the calculators; each with its explanation.

use anxin_policy::calc::backpay::backpay;
use anxin_policy::calc::medical::medical;
use anxin_service::plans;
use axum::extract::{Path, State};
use axum::response::Response;

use crate::auth::Caller;
use crate::{ApiError, AppState, Params, cards_head, cards_row, esc, lang_of};

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
    let mut body = format!(
        "<h2>{}</h2>",
        lang.pick("断缴的月份能不能补", "Can the missed months be paid now?")
    );
    match back {
        None => body.push_str(lang.pick(
            "<p>居住地的养老保险没有断缴的月份。</p>",
            "<p>No missed pension months where you live.</p>",
        )),
        Some(Err(e)) => body.push_str(&format!(
            "<p class=bad>{}</p>",
            esc(lang.pick(&e.zh, &e.en))
        )),
        Some(Ok(r)) => {
            let labels = [
                lang.pick("月份", "Month"),
                lang.pick("能否补缴", "Allowed"),
                lang.pick("金额（元）", "Amount (yuan)"),
            ];
            body.push_str(&format!(
                "<p class=big>{} {} · {} {} {}</p>{}",
                lang.pick("可补", "may be paid"),
                r.allowed_count,
                lang.pick("合计", "total"),
                r.total_fen.yuan_string(),
                lang.pick("元", "yuan"),
                cards_head(&labels),
            ));
            for m in &r.months {
                body.push_str(&cards_row(
                    &labels,
                    &[
                        m.month.to_string(),
                        esc(lang.pick(&m.reason_zh, &m.reason_en)),
                        m.amount_fen.yuan_string(),
                    ],
                    if m.allowed { "" } else { "bad" },
                ));
            }
            body.push_str("</table>");
            for n in &r.notes {
                body.push_str(&format!("<p>{}</p>", esc(lang.pick(&n.zh, &n.en))));
            }
            body.push_str(&format!(
                "<details><summary>{}</summary><pre>{}</pre></details>",
                lang.pick(
                    "怎么算的（含政策出处）",
                    "How it is computed (with sources)"
                ),
                esc(&r.trace.render(lang))
            ));
        }
    }
    body.push_str(&format!(
        "<h2>{}</h2>",
        lang.pick(
            "医保：职工医保还是居民医保",
            "Medical insurance: employee or resident scheme"
        )
    ));
    match med {
        Err(e) => body.push_str(&format!(
            "<p class=bad>{}</p>",
            esc(lang.pick(&e.zh, &e.en))
        )),
        Ok(r) => {
            let labels = [
                lang.pick("医保", "Scheme"),
                lang.pick("每年（元）", "Per year (yuan)"),
                lang.pick("能不能参加", "Can you join"),
            ];
            // No rate recorded is "not recorded", never 0.00.
            let employee_yearly = if r.employee.rate_bps.is_some() {
                r.employee.yearly_fen.yuan_string()
            } else {
                lang.pick("未收录 / not recorded", "not recorded / 未收录")
                    .to_string()
            };
            body.push_str(&cards_head(&labels));
            body.push_str(&cards_row(
                &labels,
                &[
                    lang.pick("职工医保（灵活就业）", "Employee scheme (flexible)")
                        .to_string(),
                    employee_yearly,
                    esc(lang.pick(&r.employee.reason_zh, &r.employee.reason_en)),
                ],
                "",
            ));
            body.push_str(&cards_row(
                &labels,
                &[
                    lang.pick("居民医保", "Resident scheme").to_string(),
                    r.resident.yearly_fen.yuan_string(),
                    esc(lang.pick(&r.resident.reason_zh, &r.resident.reason_en)),
                ],
                "",
            ));
            body.push_str("</table>");
            for n in &r.notes {
                body.push_str(&format!("<p>{}</p>", esc(lang.pick(&n.zh, &n.en))));
            }
            body.push_str(&format!(
                "<details><summary>{}</summary><pre>{}</pre></details>",
                lang.pick(
                    "怎么算的（含政策出处）",
                    "How it is computed (with sources)"
                ),
                esc(&r.trace.render(lang))
            ));
        }
    }
    Ok(crate::private_page(
        lang,
        lang.pick("补缴与医保", "Back-payment and medical insurance"),
        &body,
    ))
}
