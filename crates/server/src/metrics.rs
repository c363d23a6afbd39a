//! `/metrics` in the Prometheus text format, and one log event per request (see
//! [`crate::logging`]) with a request id, also sent back as the `x-request-id` header.
//!
//! Labels are the route *template* (`/persons/{key}`), never the path: no person key, ID or
//! query string reaches the metrics or the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to ~1.6 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("anxin_http");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        registry.register("requests", "HTTP requests answered", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
        }
    }
}

/// A request's id: this process's random-looking prefix and a counter (`3f9a2c1e-0000002a`).
/// Made here, never taken from the client, so it carries nothing the client chose.
fn request_id() -> String {
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let nanos = jiff::Timestamp::now().as_nanosecond();
        (nanos as u32) ^ ((nanos >> 32) as u32).rotate_left(16) ^ std::process::id()
    });
    format!("{prefix:08x}-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Counts, times and logs every request, and tags its response with `x-request-id`.
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = Instant::now();
    let id = request_id();
    let method = crate::logging::method_name(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.to_string(),
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.to_string(),
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    let latency_ms = (elapsed.as_secs_f64() * 100_000.0).round() / 100.0;
    let route = route.as_str();
    let request_id = id.as_str();
    if status >= 500 {
        tracing::error!(target: crate::logging::REQUESTS, method, route, status, latency_ms, request_id, "request failed");
    } else {
        tracing::info!(target: crate::logging::REQUESTS, method, route, status, latency_ms, request_id, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `GET /metrics`
pub async fn export(State(metrics): State<Arc<Metrics>>) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return crate::ApiError::internal().into_response();
    }
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
