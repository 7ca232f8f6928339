//! What a running server says about itself: one log line per request (`tracing`, target
//! `pipewise::request`: request id, method, route, status, milliseconds) and the Prometheus
//! text at `/metrics` (requests and their latency per route and status class, each
//! organisation's projection lag in history events, the database pool's use).
//!
//! Every request gets an id: the `X-Request-Id` it came with when that is a plain token of at
//! most 64 characters, else a new random one; the reply carries it back. Routes are labelled
//! by their pattern (`/opportunities/{id}`), never the path a client sent, so the number of
//! series stays bounded; requests no route matched share `unmatched`.
//!
//! `/metrics` answers only a scraper presenting `Authorization: Bearer` with the
//! `PIPEWISE_METRICS_TOKEN` the server was started with (compared in constant time); without
//! that variable it answers no one. (Trusting loopback instead would open it to every visitor
//! of a reverse proxy on the same machine.) It names routes and counts, never a record.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Latency buckets in seconds (Prometheus' `le`), from a millisecond to ten seconds.
const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route a request matched, put on its response by [`route_label`] for [`observe`].
#[derive(Clone)]
struct MatchedRoute(String);

/// Request counts and latency histograms, per method, route and status class.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, &'static str), Series>>,
}

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Requests at or under each of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = series.entry((method.to_owned(), route.to_owned(), class)).or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The request series in Prometheus' text format.
    fn write(&self, out: &mut String) {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        out.push_str("# HELP pipewise_http_requests_total Requests answered, by method, route and status class.\n");
        out.push_str("# TYPE pipewise_http_requests_total counter\n");
        for ((method, route, class), entry) in series.iter() {
            let _ = writeln!(out, "pipewise_http_requests_total{{{}}} {}", labels(method, route, class), entry.count);
        }
        out.push_str("# HELP pipewise_http_request_duration_seconds Time to answer, by method, route and status class.\n");
        out.push_str("# TYPE pipewise_http_request_duration_seconds histogram\n");
        for ((method, route, class), entry) in series.iter() {
            let labels = labels(method, route, class);
            for (count, bound) in entry.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(out, "pipewise_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "pipewise_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", entry.count);
            let _ = writeln!(out, "pipewise_http_request_duration_seconds_sum{{{labels}}} {}", entry.sum_seconds);
            let _ = writeln!(out, "pipewise_http_request_duration_seconds_count{{{labels}}} {}", entry.count);
        }
    }
}

fn labels(method: &str, route: &str, class: &str) -> String {
    format!("method=\"{}\",route=\"{}\",status=\"{class}\"", escape(method), escape(route))
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Inside the router, for matched routes only: labels the response with its route pattern.
pub async fn route_label(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map(|path| path.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(MatchedRoute(route));
    }
    response
}

/// Around everything: the request id, the timing, the log line and the metrics.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty() && value.len() <= 64 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(new_request_id, str::to_owned);
    let header_value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert("x-request-id", header_value.clone());
    // Any token is a method to HTTP: the label keeps the standard ones and calls the rest OTHER,
    // so a client cannot grow the series without bound.
    let method = match request.method().as_str() {
        known @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => known.to_owned(),
        _ => "OTHER".to_owned(),
    };
    let mut response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let route = response.extensions().get::<MatchedRoute>().map_or("unmatched", |matched| matched.0.as_str()).to_owned();
    let status = response.status();
    state.metrics.record(&method, &route, status, seconds);
    tracing::info!(
        target: "pipewise::request",
        request_id = %id,
        method = %method,
        route = %route,
        status = status.as_u16(),
        ms = (seconds * 1e4).round() / 10.0,
        "request"
    );
    response.headers_mut().insert("x-request-id", header_value);
    response
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `GET /metrics`: see the module documentation for who may read it.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let presented =
        request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer "));
    let token_matches = match (&state.metrics_token, presented) {
        (Some(expected), Some(presented)) => constant_time_eq(expected.as_bytes(), presented.as_bytes()),
        _ => false,
    };
    if !token_matches {
        return (StatusCode::FORBIDDEN, "metrics are served with the bearer token set in PIPEWISE_METRICS_TOKEN\n").into_response();
    }
    let state = state.clone();
    let text = tokio::task::spawn_blocking(move || exposition(&state)).await.unwrap_or_else(|_| String::new());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], text).into_response()
}

/// Everything `/metrics` says, in Prometheus' text format.
fn exposition(state: &AppState) -> String {
    let mut out = String::new();
    state.metrics.write(&mut out);
    if let Some(registry) = &state.insights {
        out.push_str("# HELP pipewise_projection_lag_events History events the store holds past the last one the organisation's analytics projection applied (counted up to 10000).\n");
        out.push_str("# TYPE pipewise_projection_lag_events gauge\n");
        match registry.lags(10_000) {
            Ok(lags) => {
                for (org, lag) in lags {
                    let _ = writeln!(out, "pipewise_projection_lag_events{{organisation=\"{org}\"}} {lag}");
                }
            }
            Err(error) => tracing::warn!(target: "pipewise::metrics", "projection lag unavailable: {error}"),
        }
    }
    if let Some(pool) = state.db.pool_use() {
        out.push_str("# HELP pipewise_db_connections Database connections of this server's pool, by state.\n");
        out.push_str("# TYPE pipewise_db_connections gauge\n");
        let _ = writeln!(out, "pipewise_db_connections{{state=\"busy\"}} {}", pool.open - pool.idle);
        let _ = writeln!(out, "pipewise_db_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(out, "pipewise_db_connections_max {}", pool.max);
    }
    out
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}
