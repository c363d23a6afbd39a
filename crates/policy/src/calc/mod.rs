//! The calculators (SPEC §C). Each takes a request (serde, so the CLI, the API and the
//! scenario files share one shape), returns a result with its trace, and never panics.

pub mod backpay;
pub mod fiscal;
pub mod injury;
pub mod medical;
pub mod pension;
pub mod platform;
pub mod quote;
pub mod school;
pub mod transfer;

use serde::Serialize;

/// A remark for the reader that is not a step of the computation.
pub type Note = anxin_domain::Text;

/// The calculators by name, as the CLI, the API and the scenario files call them.
pub const CALCULATORS: &[&str] = &[
    "quote", "pension", "backpay", "medical", "platform", "school", "injury", "fiscal", "transfer",
];

/// Runs a calculator on a JSON request and returns its JSON result. The request shape is the
/// calculator's `*Request` type; unknown fields are refused, with the reason.
pub fn run_json(
    policy: &crate::Policy,
    calculator: &str,
    request: serde_json::Value,
    today: anxin_domain::YearMonth,
) -> crate::Result<serde_json::Value> {
    fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> crate::Result<T> {
        serde_json::from_value(v).map_err(|e| {
            // A field refused with a message in both languages (a code the request's type
            // checks while it is read, see `calc::school`) carries it as "zh\nen".
            let text = e.to_string();
            let (zh, en) = text.split_once('\n').unwrap_or((&text, &text));
            crate::Error::bad_input(
                format!("请求格式不对：{zh}"),
                format!("malformed request: {en}"),
            )
        })
    }
    fn out<T: Serialize>(r: crate::Result<T>) -> crate::Result<serde_json::Value> {
        r.and_then(|v| {
            serde_json::to_value(v)
                .map_err(|e| crate::Error::bad_input(e.to_string(), e.to_string()))
        })
    }
    match calculator {
        "quote" => out(quote::quote(policy, &parse(request)?, today)),
        "pension" => out(pension::project(policy, &parse(request)?, today)),
        "backpay" => out(backpay::backpay(policy, &parse(request)?, today)),
        "medical" => out(medical::medical(policy, &parse(request)?, today)),
        "platform" => out(platform::platform(policy, &parse(request)?, today)),
        "school" => out(school::review(policy, &parse(request)?, today)),
        "injury" => out(injury::injury(policy, &parse(request)?, today)),
        "fiscal" => out(fiscal::fiscal(policy, &parse(request)?, today)),
        "transfer" => out(transfer::transfer(policy, &parse(request)?, today)),
        "school_rank" => out(school::rank(policy, &parse(request)?, today)),
        other => Err(crate::Error::new(
            crate::ErrorKind::NotFound,
            format!("没有叫“{other}”的计算器；可用：{}", CALCULATORS.join("、")),
            format!(
                "no calculator named '{other}'; known: {}",
                CALCULATORS.join(", ")
            ),
        )),
    }
}
