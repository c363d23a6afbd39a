//! Structured logs on stderr, through `tracing`: one event per request (target
//! [`REQUESTS`]: method, route *template*, status, latency, request id; INFO, ERROR for a 5xx)
//! and the server's life (target [`SERVER`]: listening, records opened, graceful shutdown).
//!
//! No event carries a path, a query, a body, a person key, a resident ID or a stated purpose:
//! routes are templates (`/persons/{key}`), methods outside the standard list are `OTHER`.

use std::str::FromStr as _;

use anxin_policy::Error;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;

/// Target of the per-request events: `ANXIN_LOG=info,anxin::http=warn` keeps only failures.
pub const REQUESTS: &str = "anxin::http";
/// Target of start-up and shutdown events.
pub const SERVER: &str = "anxin::server";

/// How each event is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line, fields at the top level (for collectors).
    Json,
    /// One readable line per event (for a person at a terminal).
    Text,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "text" => Ok(Format::Text),
            _ => Err(Error::bad_input(
                format!("日志格式“{s}”无效：可用 json 或 text"),
                format!("'{s}' is not a log format: use json or text"),
            )),
        }
    }

    /// The default: text when stderr is a terminal, JSON otherwise.
    pub fn for_stderr() -> Format {
        use std::io::IsTerminal as _;
        if std::io::stderr().is_terminal() {
            Format::Text
        } else {
            Format::Json
        }
    }
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Which events are written: a level (`info`), or levels per target
/// (`info,anxin::http=warn`). `requests`, the older setting, means `info`.
#[derive(Clone, Debug)]
pub struct Filter(Targets);

impl Default for Filter {
    /// `info`: start-up, shutdown and every request.
    fn default() -> Filter {
        Filter::parse("info").expect("info is a level")
    }
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, Error> {
        let text = s.trim();
        let text = if text == "requests" { "info" } else { text };
        let bad = |(zh, en): (String, String)| {
            Error::bad_input(
                format!(
                    "日志级别“{s}”无效（{zh}）：写一个级别，如 info，或 目标=级别，用逗号分隔，如 info,anxin::http=warn；级别可用 {}",
                    LEVELS.join("、")
                ),
                format!(
                    "'{s}' is not a log filter ({en}): give a level such as info, or TARGET=LEVEL pairs separated by commas such as info,anxin::http=warn; levels: {}",
                    LEVELS.join(", ")
                ),
            )
        };
        for directive in text.split(',') {
            let level = match directive.split_once('=') {
                Some((target, level)) if !target.trim().is_empty() => level,
                Some(_) => return Err(bad(("目标为空".into(), "empty target".into()))),
                None => directive,
            };
            if !LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()) {
                let level = level.trim();
                return Err(bad((
                    format!("不认识的级别“{level}”"),
                    format!("unknown level '{level}'"),
                )));
            }
        }
        let spaced: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        Targets::from_str(&spaced.to_ascii_lowercase())
            .map(Filter)
            .map_err(|e| bad((e.to_string(), e.to_string())))
    }
}

/// The subscriber for `format` and `filter`, writing to `writer` (stderr when serving; a
/// buffer in tests).
pub fn subscriber<W>(
    format: Format,
    filter: &Filter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer);
    let layer = match format {
        Format::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed(),
        Format::Text => fmt.boxed(),
    };
    Box::new(tracing_subscriber::registry().with(layer.with_filter(filter.0.clone())))
}

/// Sends this process's events to stderr. A second call changes nothing.
pub fn init(format: Format, filter: &Filter) {
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}

/// The method as a log field and metric label: the standard ones, else `OTHER` (a method is
/// any token a client sends).
pub fn method_name(method: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("OTHER")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_levels_or_targets_with_levels() {
        for good in [
            "info",
            "WARN",
            "requests",
            "info,anxin::http=warn",
            " error ",
        ] {
            assert!(Filter::parse(good).is_ok(), "{good}");
        }
        for bad in ["verbose", "", "anxin::http", "=info", "info,anxin=loud"] {
            let e = Filter::parse(bad).unwrap_err();
            assert!(e.en.contains("levels: off, error"), "{bad}: {}", e.en);
        }
        assert_eq!(Format::parse("JSON").unwrap(), Format::Json);
        assert!(
            Format::parse("xml")
                .unwrap_err()
                .zh
                .contains("json 或 text")
        );
    }
}
