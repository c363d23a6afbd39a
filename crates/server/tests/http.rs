//! The router as a client sees it: status codes, the one error shape, the pages in both
//! languages, and a certificate checked through the API and the page.

use std::sync::Arc;

use anxin_domain::YearMonth;
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

fn state(verifier: Option<anxin_ledger::Verifier>) -> AppState {
    AppState {
        verifier: verifier.map(Arc::new),
        today: YearMonth::new(2026, 6),
        ..AppState::new(anxin_policy::Policy::embedded().expect("embedded policy loads"))
    }
}

async fn call(
    state: AppState,
    method: &str,
    uri: &str,
    body: &str,
    content_type: &str,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = router(state).oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    )
}

#[tokio::test]
async fn calculators_over_json() {
    let (status, body, headers) = call(
        state(None),
        "POST",
        "/api/calc/quote",
        r#"{"region":"330000","month":"2024-06"}"#,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["monthly_fen"], 96240,
        "the Zhejiang tax bureau's example: 4812 × 20%"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/pension?today=2026-06",
        r#"{"region":"330000","birth":"1990-05"}"#,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Failures: one shape, a clear reason in both languages, the right status.
    for (uri, body, status, kind) in [
        (
            "/api/calc/quote",
            r#"{"region":"火星"}"#,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/calc/quote",
            "{not json",
            StatusCode::BAD_REQUEST,
            "bad_input",
        ),
        (
            "/api/calc/quote",
            r#"{"region":7}"#,
            StatusCode::BAD_REQUEST,
            "bad_input",
        ),
        (
            "/api/calc/teleport",
            r#"{}"#,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/calc/quote?today=soon",
            r#"{"region":"330000"}"#,
            StatusCode::BAD_REQUEST,
            "bad_input",
        ),
        (
            "/api/calc/quote",
            r#"{"region":"440000","reforms":["income-band-rate"]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_applicable",
        ),
    ] {
        let (got, text, _) = call(state(None), "POST", uri, body, "application/json").await;
        assert_eq!(got, status, "{uri} {body}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).expect("error body is JSON");
        assert_eq!(v["error"]["kind"], kind, "{text}");
        assert!(
            v["error"]["zh"].as_str().is_some_and(|s| !s.is_empty())
                && v["error"]["en"].as_str().is_some_and(|s| !s.is_empty())
        );
    }
    let big = format!(
        "{{\"region\":\"{}\"}}",
        "x".repeat(anxin_server::MAX_BODY_BYTES + 10)
    );
    let (status, _, _) = call(
        state(None),
        "POST",
        "/api/calc/quote",
        &big,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, text, _) = call(state(None), "GET", "/nowhere", "", "text/plain").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text.contains("/api/calc"));
    let (status, text, _) = call(state(None), "GET", "/api/regions", "", "text/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("杭州"));
    assert_eq!(
        call(state(None), "GET", "/healthz", "", "text/plain")
            .await
            .1,
        "ok"
    );
}

#[tokio::test]
async fn pages_in_chinese_and_english() {
    let (status, html, _) = call(
        state(None),
        "GET",
        "/quote?region=330000&income=3500",
        "",
        "text/plain",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("元/月") && html.contains("统筹基金") && html.contains("<pre>"),
        "{html}"
    );
    let (_, html, _) = call(
        state(None),
        "GET",
        "/quote?region=330000&income=3500&lang=en",
        "",
        "text/plain",
    )
    .await;
    assert!(html.contains("yuan/month") && html.contains("lang=\"en\""));
    let (_, html, _) = call(
        state(None),
        "GET",
        "/quote?region=330000&income=abc",
        "",
        "text/plain",
    )
    .await;
    assert!(
        html.contains("收入填写有误"),
        "bad input gets a clear message: {html}"
    );
    let (_, html, _) = call(
        state(None),
        "GET",
        "/quote?region=%3Cscript%3E",
        "",
        "text/plain",
    )
    .await;
    assert!(!html.contains("<script>"), "input is escaped");
    // The school self-check: a childbirth gap fails the law in force and passes the reform.
    let uri = "/school?region=330100&month=2026-09&paid_from=2025-01&paid_to=2026-09&gap_from=2026-03&gap_months=2&gap_reason=childbirth&permit=1&reform=1";
    let (status, html, _) = call(state(None), "GET", uri, "", "text/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("还不符合")
            && html.contains("✓ 符合入学的社保条件")
            && html.contains("2027-04"),
        "{html}"
    );
    let (_, html, _) = call(
        state(None),
        "GET",
        "/school?region=330100&month=soon&paid_from=x&paid_to=y&lang=en",
        "",
        "text/plain",
    )
    .await;
    assert!(html.contains("write months as 2026-09"), "{html}");
    let (_, html, _) = call(state(None), "GET", "/", "", "text/plain").await;
    assert!(html.contains("width=device-width"), "works on a phone");
}

#[tokio::test]
async fn certificates_verify_through_api_and_page() {
    use anxin_records::conformance::{contribution, fresh, person, platform, resident_id};
    let mut records = fresh(anxin_records_store());
    let worker = resident_id("33010619900101123");
    records
        .append(vec![
            platform(),
            person(&worker),
            contribution(
                &worker,
                "c1",
                "2025-01",
                anxin_import::Payer::Individual,
                "962.40",
            ),
        ])
        .unwrap();
    let cert = records
        .issue_certificate(&worker, jiff::civil::date(2026, 6, 1))
        .unwrap();
    let bytes = String::from_utf8(cert.to_bytes()).unwrap();
    let verifier = records.verifier().clone();

    let (status, text, _) = call(
        state(Some(verifier.clone())),
        "POST",
        "/api/certificates/verify",
        &bytes,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], true, "{text}");
    let altered = bytes.replacen("96240", "96241", 1);
    let (_, text, _) = call(
        state(Some(verifier.clone())),
        "POST",
        "/api/certificates/verify",
        &altered,
        "application/json",
    )
    .await;
    assert!(text.contains("\"ok\":false"));

    let form = format!("certificate={}", urlencode(&bytes));
    let (status, html, headers) = call(
        state(Some(verifier.clone())),
        "POST",
        "/verify",
        &form,
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("凭证真实有效")
            && html.contains("张*")
            && html.contains("累计缴费")
            && !html.contains("张三"),
        "{html}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let form = format!("certificate={}", urlencode(&altered));
    let (_, html, _) = call(
        state(Some(verifier)),
        "POST",
        "/verify?lang=en",
        &form,
        "application/x-www-form-urlencoded",
    )
    .await;
    assert!(
        html.contains("does not verify") && html.contains("✗"),
        "{html}"
    );
    let (status, _, _) = call(
        state(None),
        "POST",
        "/api/certificates/verify",
        &bytes,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

fn anxin_records_store() -> Box<dyn anxin_records::Store> {
    Box::new(anxin_store_sqlite::SqliteStore::in_memory().unwrap())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A worker with 9 months paid ticks "platform order records": the law in force does not
/// count it; the proposed reform counts it for the months the city allows (scenario
/// "platform orders tip the family over" in policy/scenarios/school.toml).
#[tokio::test]
async fn school_self_check_counts_other_proofs_under_the_reform() {
    let uri = "/school?region=330100&month=2026-09&paid_from=2026-01&paid_to=2026-09&permit=1&reform=1&p_platform_orders=1";
    let (status, html, _) = call(state(None), "GET", uri, "", "text/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("name=\"p_platform_orders\" value=\"1\" checked"),
        "the box stays ticked: {html}"
    );
    assert!(html.contains("平台接单记录"), "{html}");
    let law = html.split("<h2>").nth(1).unwrap_or("");
    let reform = html.split("<h2>").nth(2).unwrap_or("");
    assert!(law.contains("还不符合"), "{law}");
    assert!(reform.contains("✓"), "{reform}");
}

/// Issue 12: the framework's own refusals (a form missing a field: 422; a body over the limit:
/// 413; a method the path does not take: 405) came as English plain text. They come in the one
/// error shape on the API and as the bilingual page on pages, with the same status.
#[tokio::test]
async fn framework_refusals_speak_the_one_error_shape() {
    let big = "x".repeat(anxin_server::MAX_BODY_BYTES + 10);
    let api = [
        (
            "POST",
            "/api/calc/quote",
            big.as_str(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "1 MiB",
        ),
        (
            "POST",
            "/api/sessions",
            big.as_str(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "1 MiB",
        ),
        (
            "PUT",
            "/api/regions",
            "",
            "application/json",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Allow",
        ),
    ];
    for (method, uri, body, content_type, status, kind, says) in api {
        let (got, text, headers) = call(state(None), method, uri, body, content_type).await;
        assert_eq!(got, status, "{method} {uri}: {text}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{method} {uri}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).expect("the one error shape");
        assert_eq!(v["error"]["kind"], kind, "{text}");
        let (zh, en) = (
            v["error"]["zh"].as_str().unwrap(),
            v["error"]["en"].as_str().unwrap(),
        );
        assert!(en.contains(says), "{text}");
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese first: {text}"
        );
        assert!(!text.contains("Failed to buffer"), "{text}");
    }
    // Pages: a readable page in both languages, same status.
    let pages = [
        (
            "/login",
            "username=a".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            "/verify",
            format!("certificate={big}"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "MiB",
        ),
    ];
    for (uri, body, status, says) in pages {
        for lang in ["", "?lang=en"] {
            let uri = format!("{uri}{lang}");
            let (got, text, headers) = call(
                state(None),
                "POST",
                &uri,
                &body,
                "application/x-www-form-urlencoded",
            )
            .await;
            assert_eq!(got, status, "{uri}: {text}");
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{uri}: {text}"
            );
            assert!(
                text.contains(says) && text.contains("<small>"),
                "{uri}: {text}"
            );
            assert!(
                !text.contains("Failed to deserialize form body") || text.contains("请求缺少"),
                "{uri}: {text}"
            );
        }
    }
}

/// Issue 13: the self-check does not contradict itself. A guardian who paid 2025-09..2026-08
/// and applies in 2026-09 is one month short (the application month), not twelve; the page
/// says the run up to last month is unbroken, and its earliest month agrees with the
/// shortfall. A ticked permit without its month does not read "居住证满 0 年".
#[tokio::test]
async fn school_self_check_agrees_with_itself() {
    let uri = "/school?region=330100&month=2026-09&paid_from=2025-09&paid_to=2026-08&permit=1";
    let (status, html, _) = call(state(None), "GET", uri, "", "text/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("还差连续缴费 12 个月"), "{html}");
    assert!(
        html.contains("还差连续缴费 1 个月")
            && html.contains("申请月 2026-09 还没有缴费记录")
            && html.contains("最早可以满足的月份： 2026-09")
            && html.contains("到 2026-08 已连续缴费 12 个月"),
        "{html}"
    );
    assert!(!html.contains("居住证满 0 年"), "{html}");
    assert!(html.contains("没有填办证月份"), "{html}");
    assert!(
        html.contains("认可的险种：养老"),
        "names, not codes: {html}"
    );
    // With its month of issue the permit's whole years count.
    let (_, html, _) = call(
        state(None),
        "GET",
        &format!("{uri}&permit_since=2023-05"),
        "",
        "text/plain",
    )
    .await;
    assert!(html.contains("居住证满 3 年"), "{html}");
    assert!(
        html.contains("value=\"2023-05\""),
        "the month stays filled: {html}"
    );
    // Five months paid with the application month: seven more, met 2027-04 (2026-09 + 7).
    let (_, html, _) = call(
        state(None),
        "GET",
        "/school?region=330100&month=2026-09&paid_from=2026-05&paid_to=2026-09&permit=1&lang=en",
        "",
        "text/plain",
    )
    .await;
    assert!(
        html.contains("7 more continuous months") && html.contains("2027-04"),
        "{html}"
    );
    assert!(!html.contains("has no payment yet"), "{html}");
}

/// Issue 13: the quote shows the whole monthly bill — pension plus employee medical insurance
/// on the tier picked — and says "not recorded" where a city's medical rate is not, never 0.00.
#[tokio::test]
async fn the_quote_is_the_whole_monthly_bill() {
    let policy = anxin_policy::Policy::embedded().unwrap();
    let today = YearMonth::new(2026, 6).unwrap();
    let pension = anxin_policy::calc::quote::quote(
        &policy,
        &anxin_policy::calc::quote::QuoteRequest {
            region: "330100".into(),
            tier_percent: Some(100),
            income_fen: Some(500_000),
            ..Default::default()
        },
        today,
    )
    .unwrap();
    let medical = anxin_policy::calc::medical::medical(
        &policy,
        &anxin_policy::calc::medical::MedicalRequest {
            region: "330100".into(),
            tier_percent: Some(100),
            ..Default::default()
        },
        today,
    )
    .unwrap();
    assert!(medical.employee.monthly_fen.0 > 0);
    let total = pension.monthly_fen + medical.employee.monthly_fen;
    let (status, html, _) = call(
        state(None),
        "GET",
        "/quote?region=330100&income=5000&tier=100",
        "",
        "text/plain",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("<p class=big>{} 元/月</p>", total.yuan_string()))
            && html.contains(&pension.monthly_fen.yuan_string())
            && html.contains(&medical.employee.monthly_fen.yuan_string())
            && html.contains("职工医保（灵活就业）")
            && html.contains("<option value=\"100\" selected>100%</option>"),
        "{html}"
    );
    // Beijing has no sourced employee medical rate for flexible workers: not recorded.
    let (_, html, _) = call(state(None), "GET", "/quote?region=110000", "", "text/plain").await;
    assert!(
        html.contains("未收录 / not recorded") && html.contains("每月合计只含养老保险"),
        "{html}"
    );
    // Nothing chosen: the first city is chosen on purpose, and no figure is stated yet.
    let (_, html, _) = call(state(None), "GET", "/quote", "", "text/plain").await;
    assert!(
        html.contains("<option value=\"110000\" selected>"),
        "{html}"
    );
    assert!(!html.contains("元/月"), "{html}");
    let (_, html, _) = call(
        state(None),
        "GET",
        "/quote?region=330100&tier=lots&lang=en",
        "",
        "text/plain",
    )
    .await;
    assert!(html.contains("the tier must be a whole percent"), "{html}");
}

/// Issue 13: Hangzhou has no back-payment rule on record; the default it falls back on is an
/// assumption and is said to be one. Shanghai's own rule is still stated as the rule.
#[tokio::test]
async fn an_assumed_back_payment_rule_says_so() {
    let ask = |region: &str| format!(r#"{{"region":"{region}","missed":["2026-01"]}}"#);
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/backpay",
        &ask("330100"),
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let reason = v["months"][0]["reason_zh"].as_str().unwrap();
    assert!(
        reason.contains("本地规则未收录")
            && reason.contains("推定")
            && !reason.contains("本地不允许"),
        "{reason}"
    );
    assert!(
        v["months"][0]["reason_en"]
            .as_str()
            .unwrap()
            .contains("assumed"),
        "{v}"
    );
    let (_, body, _) = call(
        state(None),
        "POST",
        "/api/calc/backpay",
        &ask("310000"),
        "application/json",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let reason = v["months"][0]["reason_zh"].as_str().unwrap();
    assert!(
        reason.contains("本地不允许") && reason.contains("沪人社规"),
        "{reason}"
    );
}

/// The occupational-injury calculator over the API: a platform's bill, and 422-style refusals
/// ("not applicable" with the start date) in the one error shape.
#[tokio::test]
async fn injury_calculator_over_json() {
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/injury",
        r#"{"region":"330000","month":"2025-08","sector":"delivery","orders":100000}"#,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["bill_fen"], 700000, "100000 orders × 0.07 yuan");
    assert_eq!(v["worker_pays_fen"], 0);
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/injury",
        r#"{"region":"330000","month":"2025-06","sector":"delivery","orders":100000}"#,
        "application/json",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.contains("2025-07-01") && body.contains("not_applicable"),
        "{body}"
    );
}

/// The fiscal-sharing calculator over the API: Beijing's split (central 10 %), and a region
/// with no recorded tier refused in the one error shape, naming the recorded ones.
#[tokio::test]
async fn fiscal_calculator_over_json() {
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/fiscal",
        r#"{"region":"110000","year":2024,"residents":1000000}"#,
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["total"]["subsidy_fen"], 67_000_000_000i64,
        "1,000,000 × 670 yuan"
    );
    assert_eq!(v["total"]["central_fen"], 6_700_000_000i64, "central 10 %");
    assert_eq!(v["tier"], 5);
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/fiscal",
        r#"{"region":"000000","year":2025,"residents":1}"#,
        "application/json",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.contains("not_found") && body.contains("110000"),
        "{body}"
    );
    let (status, body, _) = call(
        state(None),
        "POST",
        "/api/calc/fiscal",
        r#"{"region":"110000","year":2025,"residents":1,"people":2}"#,
        "application/json",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body.contains("people"), "{body}");
}
