//! The filing forms of the case kinds other than the complaint (issue 15): a back-payment
//! request (the missed months, ticked) and an enrolment without an employer (the cover, the
//! income evidence). Both post to `POST /cases/new` (its `kind` field), whose handler and the
//! service decide everything; these only draw the forms (Chinese first, 360 px, no JavaScript).

use anxin_domain::YearMonth;
use anxin_policy::Lang;

use crate::{ApiError, AppState};

/// How many months back the back-payment form offers to tick (a screen's worth; the region's
/// rules decide which may be paid, and say why a month may not).
const MONTHS_SHOWN: i32 = 36;

/// A month of the back-payment form: paid already (shown, not offered) or to tick.
struct MonthBox {
    month: String,
    paid: bool,
}

/// `templates/case_backpay.html`.
#[derive(askama::Template)]
#[template(path = "case_backpay.html")]
struct BackpayForm {
    c: crate::Chrome,
    csrf: String,
    months: Vec<MonthBox>,
}

/// `templates/case_enrolment.html`.
#[derive(askama::Template)]
#[template(path = "case_enrolment.html")]
struct EnrolmentForm {
    c: crate::Chrome,
    csrf: String,
    /// The covers: code and words.
    covers: Vec<(&'static str, String)>,
}

crate::extends_layout!(BackpayForm, EnrolmentForm);

/// The words of a cover (the subject of a back-payment or an enrolment).
pub fn cover_words(code: &str, lang: Lang) -> String {
    match code {
        "pension" => lang.pick("职工养老保险", "employee pension"),
        "medical" => lang.pick("职工医疗保险", "employee medical insurance"),
        "injury" => lang.pick(
            "工伤（职业伤害）保障",
            "work-injury (occupational injury) cover",
        ),
        other => other,
    }
    .to_string()
}

/// `GET /cases/new?kind=backpay`: the months of the last three years, those already paid
/// shown as paid and not offered.
pub async fn backpay_form(
    state: &AppState,
    caller: &crate::auth::Caller,
    lang: Lang,
) -> Result<axum::response::Response, ApiError> {
    let person = caller.actor().account.person;
    let paid: Vec<i32> = state
        .read(move |r| {
            let Some(p) = person else {
                return Ok(Vec::new());
            };
            Ok(r.store()
                .contributions_of(&p)?
                .into_iter()
                .filter(|c| c.insurance == anxin_domain::Insurance::Pension && c.status.is_paid())
                .map(|c| c.month)
                .collect())
        })
        .await?;
    let today = state.clock.today();
    let this_month = u32::try_from(today.month())
        .ok()
        .and_then(|m| YearMonth::new(i32::from(today.year()), m))
        .ok_or_else(ApiError::internal)?;
    let months = (1..=MONTHS_SHOWN)
        .map(|back| {
            let m = this_month.plus(-back);
            MonthBox {
                month: m.to_string(),
                paid: paid.contains(&m.index()),
            }
        })
        .collect();
    Ok(crate::private_html(&BackpayForm {
        c: crate::Chrome::new(lang, lang.pick("补缴申请", "Back-payment request")),
        csrf: caller.csrf(),
        months,
    }))
}

/// `GET /cases/new?kind=enrolment`: one cover, and the income evidence.
pub fn enrolment_form(caller: &crate::auth::Caller, lang: Lang) -> axum::response::Response {
    crate::private_html(&EnrolmentForm {
        c: crate::Chrome::new(
            lang,
            lang.pick("无雇主参保申请", "Enrol without an employer"),
        ),
        csrf: caller.csrf(),
        covers: ["pension", "medical", "injury"]
            .iter()
            .map(|c| (*c, cover_words(c, lang)))
            .collect(),
    })
}
