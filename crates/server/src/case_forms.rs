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

const STYLE: &str = "<style>.months label{display:inline-block;width:31%;min-height:44px;margin:.2rem 0}\
    .months input{width:1.4rem;height:1.4rem;vertical-align:middle}\
    button,select,input[type=file]{min-height:44px;font-size:1rem}\
    label{display:block;margin:.6rem 0}select{width:100%;box-sizing:border-box}</style>";

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
    let mut boxes = String::new();
    for back in 1..=MONTHS_SHOWN {
        let m = this_month.plus(-back);
        let shown = m.to_string();
        if paid.contains(&m.index()) {
            boxes.push_str(&format!(
                "<label><input type=\"checkbox\" disabled> {shown} <small>{}</small></label>",
                lang.pick("已缴", "paid")
            ));
        } else {
            boxes.push_str(&format!(
                "<label><input type=\"checkbox\" name=\"month\" value=\"{shown}\"> {shown}</label>"
            ));
        }
    }
    let body = format!(
        "{STYLE}<p>{intro}</p>\
         <form method=\"post\" action=\"/cases/new\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <input type=\"hidden\" name=\"kind\" value=\"backpay\"><input type=\"hidden\" name=\"subject\" value=\"pension\">\
         <fieldset class=\"months\"><legend>{pick}</legend>{boxes}</fieldset>\
         <p><small>{rule}</small></p><button>{go}</button></form>",
        intro = lang.pick(
            "补缴职工养老保险没交的月份。你所在地区的补缴规定决定哪些月份能补、要交多少；不能补的月份会逐月说明依据，整份申请不会提交。经办机构审核批准后记入你的缴费记录。",
            "Pay missed months of the employee pension. Your region's back-payment rules decide which months may be paid and what they cost; a month that may not is named with its rule, and nothing is filed. Once the office approves, the months are recorded as back-paid."
        ),
        csrf = caller.csrf(),
        l = lang.code(),
        pick = lang.pick("选择没交的月份", "Tick the missed months"),
        rule = lang.pick(
            "已经缴过的月份不能再补。",
            "A month already paid cannot be paid again."
        ),
        go = lang.pick("提交补缴申请", "File the back-payment request"),
    );
    Ok(crate::private_page(
        lang,
        lang.pick("补缴申请", "Back-payment request"),
        &body,
    ))
}

/// `GET /cases/new?kind=enrolment`: one cover, and the income evidence.
pub fn enrolment_form(caller: &crate::auth::Caller, lang: Lang) -> axum::response::Response {
    let covers: String = ["pension", "medical", "injury"]
        .iter()
        .map(|c| format!("<option value=\"{c}\">{}</option>", cover_words(c, lang)))
        .collect();
    let body = format!(
        "{STYLE}<p>{intro}</p>\
         <form method=\"post\" action=\"/cases/new\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <input type=\"hidden\" name=\"kind\" value=\"enrolment\">\
         <label>{which}<select name=\"subject\" required>{covers}</select></label>\
         <label>{files}<input type=\"file\" name=\"files\" multiple accept=\"image/jpeg,image/png,application/pdf,text/plain,.txt\"></label>\
         <p><small>{limits}</small></p><button>{go}</button></form>",
        intro = lang.pick(
            "没有劳动合同也能在工作地参保，不限户籍；养老、医疗、工伤各自单独申请。请附上持续收入的证明：平台收入记录、纳税记录或营业执照。经办机构审核后批准或说明不批准的依据，批准时给出首次缴费测算。",
            "Enrol where you work without an employment contract, whatever your hukou; pension, medical and injury cover each on its own. Attach evidence of continuing income: platform income records, tax records or a business licence. The office approves, with a first quote, or refuses naming the rule."
        ),
        csrf = caller.csrf(),
        l = lang.code(),
        which = lang.pick("申请哪个险种", "Which cover"),
        files = lang.pick(
            "收入证明：平台收入记录、纳税记录、营业执照（可多选）",
            "Income evidence: platform income records, tax records, a business licence (several at once)"
        ),
        limits = lang.pick(
            "每份不超过 10 MB，一个案件最多 10 份。",
            "Up to 10 MB a file, 10 files a case."
        ),
        go = lang.pick("提交参保申请", "File the enrolment request"),
    );
    crate::private_page(
        lang,
        lang.pick("无雇主参保申请", "Enrol without an employer"),
        &body,
    )
}
