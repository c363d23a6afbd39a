//! Certificates by their short verification code (核验码): the printable certificate page with
//! its QR code, the public check (`/verify`, `/verify/{code}`) and its JSON twins.
//!
//! Every lookup goes through `Records::certificate_by_code` (anxin-records), which rebuilds the
//! file and runs the offline checks on it; this module only counts lookups per client
//! (`gates::Gates::code_lookup`) and renders what it returns, in Chinese with English beside.

use anxin_domain::codes::{Code as _, Insurance};
use anxin_policy::{Lang, Policy};
use anxin_records::cert_code::{Certified, CodeCheck};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{ClientIp, MaybeCaller};
use crate::text::region_name;
use crate::{ApiError, AppState, Params, esc, page, private_page};

/// Looks `code` up for `client`, counted against the client's limit.
pub async fn lookup(
    state: &AppState,
    client: &ClientIp,
    code: String,
) -> Result<CodeCheck, ApiError> {
    state.gates.code_lookup(client.0, state.clock.now())?;
    state.read(move |r| Ok(r.certificate_by_code(&code)?)).await
}

/// The address the QR code opens: this server's `/verify/{code}`, as the browser reached it.
fn verify_url(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/verify/{code}")
}

/// Chinese, then English beside it in a smaller, grey span.
fn both(zh: &str, en: &str) -> String {
    format!("{zh} <span class=en>{en}</span>")
}

pub const STYLE: &str = "<style>.en{color:#555;font-size:.85em}form button{min-height:2.75rem}\
input[name=code]{font:1.25rem ui-monospace,\"DejaVu Sans Mono\",monospace;letter-spacing:.04em;text-transform:uppercase}.code{font:700 1.4rem/1.4 ui-monospace,\"DejaVu Sans Mono\",monospace;letter-spacing:.04em;white-space:nowrap}\
.card{border:1px solid #ccc;border-radius:.5rem;padding:.5rem .8rem;margin:.8rem 0}.card h2{margin:.2rem 0;font-size:1.2rem}\
dl.who{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem;margin:.5rem 0}dl.who dt{color:#444}dl.who dd{margin:0;font-weight:bold}\
.qr{max-width:220px}.qr svg{width:100%;height:auto}\
@media print{nav,.noprint{display:none}body{max-width:none;font-size:12pt}.card{break-inside:avoid}}</style>";

/// What the certificate states, as cards: the holder, then each insurance with its months,
/// period, continuous runs, gaps and regions.
pub fn certified_html(c: &Certified, policy: &Policy) -> String {
    let mut out = format!(
        "<dl class=who><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        both("持证人", "Holder"),
        esc(&c.name_masked),
        both("身份证号", "Resident ID"),
        esc(&c.id_masked),
        both("签发日期", "Issued on"),
        esc(&c.issued_on),
    );
    if c.insurances.is_empty() && c.cert_type != anxin_records::cert::CONTRIBUTION_HISTORY {
        let kind = match c.cert_type.as_str() {
            "school_eligibility" => both("入学社保条件证明", "School eligibility attestation"),
            other => esc(other),
        };
        out.push_str(&format!("<p>{}：{kind}</p>", both("凭证类型", "Type")));
    }
    if c.insurances.is_empty() && c.cert_type == anxin_records::cert::CONTRIBUTION_HISTORY {
        out.push_str(&format!(
            "<p>{}</p>",
            both(
                "签发时没有缴费记录。",
                "No contributions were on record when issued."
            )
        ));
    }
    let run = |r: &Option<anxin_records::cert_code::CertifiedRun>| match r {
        Some(r) => format!(
            "{} ~ {}，{} 个月 <span class=en>{} months</span>",
            esc(&r.from),
            esc(&r.to),
            r.months,
            r.months
        ),
        None => both("无", "none"),
    };
    for i in &c.insurances {
        let en = Insurance::from_code(&i.insurance).map_or("Other", |i| i.name_en());
        let zh = Insurance::from_code(&i.insurance)
            .map_or_else(|| i.insurance_zh.clone(), |i| i.name_zh());
        let regions: Vec<String> = i
            .regions
            .iter()
            .map(|(code, months)| {
                // The name alone where the policy knows the region (its code only otherwise).
                let name = |lang| {
                    let text = region_name(policy, *code, lang);
                    let suffix = format!(" {code:06}");
                    esc(text.strip_suffix(&suffix).unwrap_or(&text))
                };
                format!(
                    "{} {months} 个月 <span class=en>{} · {months} months</span>",
                    name(Lang::Zh),
                    name(Lang::En),
                )
            })
            .collect();
        out.push_str(&format!(
            "<section class=card><h2>{}</h2><p><span class=big>{} {} 个月</span><br><span class=en>{} months paid</span></p><ul>\
             <li>{}：{} ~ {}</li><li>{}：{}</li><li>{}：{}</li><li>{}：{} {}</li><li>{}：{}</li></ul></section>",
            both(&esc(&zh), en),
            "累计缴费",
            i.paid_months,
            i.paid_months,
            both("期间", "Period"),
            esc(i.first.as_deref().unwrap_or("—")),
            esc(i.last.as_deref().unwrap_or("—")),
            both("最长连续", "Longest continuous run"),
            run(&i.longest_run),
            both("最近连续", "Latest continuous run"),
            run(&i.current_run),
            both("中断", "Gaps"),
            i.gaps,
            both("段", "gaps"),
            both("参保地", "Regions"),
            regions.join("；"),
        ));
    }
    out
}

/// The form that asks for a code (on `/verify` and below every result).
pub fn code_form(value: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/verify\"><label>{}<input name=\"code\" value=\"{}\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"40\" placeholder=\"7KQ3-M0XD-9TRB-W2HF\" required></label><button>{}</button></form>",
        both(
            "输入凭证上的 16 位核验码（短横可不输）",
            "Type the 16-character code printed on the certificate (dashes optional)"
        ),
        esc(value),
        both("核验", "Verify"),
    )
}

/// The checks, for the reader who wants them: signature, log inclusion, checkpoint, the code.
fn checks_html(check: &CodeCheck, open: bool) -> String {
    let mut out = format!(
        "<details{}><summary>{}</summary><ul>",
        if open { " open" } else { "" },
        both("核验了什么", "What was checked")
    );
    for c in &check.verification.checks {
        out.push_str(&format!(
            "<li class=\"{}\">{} {}{}</li>",
            if c.ok { "good" } else { "bad" },
            if c.ok { "✓" } else { "✗" },
            both(c.zh, c.en),
            if c.ok {
                String::new()
            } else {
                format!("<br><small>{}</small>", esc(&c.detail))
            }
        ));
    }
    out.push_str(&format!(
        "</ul><p><small>{} #{} / {}</small></p></details>",
        both("签名日志中的位置", "Entry in the signed log"),
        check.certificate.leaf_index,
        check.certificate.tree_size
    ));
    out
}

/// The page for a lookup that failed before any certificate was found (a malformed or
/// unknown code, too many lookups): the reason in both languages and the form again.
fn refused_page(lang: Lang, e: ApiError, typed: &str) -> Response {
    if e.status == StatusCode::INTERNAL_SERVER_ERROR || e.status == StatusCode::SERVICE_UNAVAILABLE
    {
        return e.into_response();
    }
    let body = format!(
        "{STYLE}<p class=\"big bad\">✗ {}</p><p>{}</p>{}",
        both("无法核验", "Cannot verify"),
        both(&esc(&e.zh), &esc(&e.en)),
        code_form(typed),
    );
    let mut r = page(lang, "核验凭证 Verify a certificate", &body).into_response();
    *r.status_mut() = e.status;
    if let Some(wait) = e.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, wait.into());
    }
    r
}

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    lang: Option<String>,
}

/// `GET /verify/{code}` (what the QR code opens): what the certificate states and whether it
/// is genuine, or a clear refusal.
pub async fn verify_code_page(
    State(state): State<AppState>,
    client: ClientIp,
    Path(code): Path<String>,
    Params(q): Params<CodeQuery>,
) -> Response {
    let lang = crate::lang_of(q.lang.as_deref());
    let check = match lookup(&state, &client, code.clone()).await {
        Ok(c) => c,
        Err(e) => return refused_page(lang, e, &code),
    };
    let mut body = String::from(STYLE);
    match &check.certified {
        Some(c) => {
            body.push_str(&format!(
                "<p class=\"big good\">✓ {}</p><p>{}</p>",
                both("凭证真实有效", "The certificate is genuine"),
                both(
                    "签发机构的签名正确，且这份凭证已记入签名的公开日志，内容未被改动。",
                    "The issuer's signature holds and the certificate is in the signed log, unchanged."
                ),
            ));
            body.push_str(&format!(
                "<p>{}：<span class=code>{}</span></p>",
                both("核验码", "Code"),
                check.code
            ));
            body.push_str(&certified_html(c, &state.policy));
            body.push_str(&checks_html(&check, false));
        }
        None => {
            body.push_str(&format!(
                "<p class=\"big bad\">✗ {}</p><p>{}</p>",
                both("凭证未通过核验", "The certificate does not verify"),
                both(
                    "不要相信这份凭证的内容：下面列出了没有通过的检查。",
                    "Do not rely on this certificate: the failed checks are listed below."
                ),
            ));
            body.push_str(&checks_html(&check, true));
        }
    }
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        both("核验另一份凭证", "Verify another"),
        code_form("")
    ));
    private_page(lang, "核验结果 Verification", &body)
}

/// `GET /certificates/{code}`: the printable certificate (masked, with its code and a QR code
/// of `/verify/{code}`). Anyone holding the code may open it; the holder, signed in, also
/// gets the full file.
pub async fn print_page(
    State(state): State<AppState>,
    client: ClientIp,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Params(q): Params<CodeQuery>,
) -> Response {
    let lang = crate::lang_of(q.lang.as_deref());
    let check = match lookup(&state, &client, code.clone()).await {
        Ok(c) => c,
        Err(e) => return refused_page(lang, e, &code),
    };
    let Some(certified) = &check.certified else {
        return Redirect::to(&format!("/verify/{}", check.code.as_str())).into_response();
    };
    let url = verify_url(&state, &headers, check.code.as_str());
    let qr = match anxin_records::cert::qr_svg(&url) {
        Ok(svg) => svg,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // The QR crate's SVG starts with an XML declaration, which has no place inside HTML.
    let qr = qr
        .split_once("<svg")
        .map(|(_, rest)| format!("<svg role=\"img\" aria-label=\"{}\"{rest}", esc(&url)))
        .unwrap_or_default();
    let owner = caller.as_ref().is_some_and(|c| {
        anxin_service::access::check_person_key(
            c.actor(),
            anxin_service::access::Action::ReadPerson,
            &check.holder,
        )
        .unwrap_or(false)
    });
    let mut body = format!(
        "{STYLE}<p>{}</p>{}",
        both(
            "本凭证由安心社保记录系统签发，内容记入签名的公开日志。",
            "Issued by anxin from the insurance record; recorded in the signed public log."
        ),
        certified_html(certified, &state.policy),
    );
    body.push_str(&format!(
        "<section class=card><h2>{}</h2><p class=code>{}</p><div class=qr>{qr}</div>\
         <p>{}</p><p><small>{}</small></p></section>",
        both("核验码", "Verification code"),
        check.code,
        both(
            "扫描二维码，或打开本站的“核验凭证”页输入核验码，即可查看凭证内容并确认真实。",
            "Scan the QR code, or type the code on this site's Verify page, to see what is certified and that it is genuine."
        ),
        esc(&url),
    ));
    body.push_str(&format!(
        "<p class=noprint><a href=\"/verify/{code}\">{}</a></p>",
        both("现在核验", "Verify now"),
        code = check.code.as_str(),
    ));
    if owner {
        body.push_str(&format!(
            "<p class=noprint><a href=\"/certificates/{}/file\" download>{}</a></p>",
            check.code.as_str(),
            both(
                "下载完整凭证文件（.json，可离线核验）",
                "Download the full file (.json, verifiable offline)"
            ),
        ));
    }
    body.push_str(&format!(
        "<p class=noprint>{}</p>",
        both(
            "用手机浏览器的“打印”可存为 PDF。",
            "Use the browser's Print to save it as a PDF."
        )
    ));
    private_page(lang, "参保缴费凭证 Certificate", &body)
}

/// The JSON answer of a lookup.
fn check_json(check: &CodeCheck) -> serde_json::Value {
    serde_json::json!({
        "ok": check.certified.is_some(),
        "code": check.code,
        "certified": check.certified,
        "checks": check.verification.checks,
        "leaf_index": check.certificate.leaf_index,
        "tree_size": check.certificate.tree_size,
    })
}

/// `GET /api/certificates/{code}`
pub async fn api_by_code(
    State(state): State<AppState>,
    client: ClientIp,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(check_json(&lookup(&state, &client, code).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/certificates/lookup {"code"}`: the same, the code kept out of URLs and logs.
pub async fn api_lookup(
    State(state): State<AppState>,
    client: ClientIp,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let b: CodeBody = crate::json_object(&body).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"code\": 核验码}}：{e}"),
            format!("the request must be {{\"code\": verification code}}: {e}"),
        )
    })?;
    Ok(Json(check_json(&lookup(&state, &client, b.code).await?)))
}

/// The `?code=` of the verify form: to the code's own page, or the form again with the reason.
pub async fn verify_code_query(
    state: &AppState,
    client: &ClientIp,
    lang: Lang,
    code: &str,
) -> Response {
    match anxin_records::VerifyCode::parse(code) {
        Ok(c) => Redirect::to(&format!(
            "/verify/{}{}",
            c.as_str(),
            crate::lang_query(lang, true)
        ))
        .into_response(),
        Err(e) => {
            // A malformed code counts too: the form is not a way round the limit.
            if let Err(limited) = state.gates.code_lookup(client.0, state.clock.now()) {
                return refused_page(lang, limited, code);
            }
            refused_page(lang, ApiError::from(e), code)
        }
    }
}
