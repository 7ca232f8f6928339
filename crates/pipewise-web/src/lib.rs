//! The HTTP edge: the JSON API under `/api/v1`, the server-rendered web app, and `/healthz`.
//! Handlers are thin: they find out who is asking ([`auth::Viewer`]), parse input
//! (`pipewise_app::input`), call an operation of `pipewise_app` on a blocking thread, and render
//! the result.
//!
//! Every state-changing request passes [`auth::csrf_guard`]; bodies are limited to
//! [`MAX_BODY_BYTES`].

pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod observe;
pub mod pages;
pub mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pipewise_app as app;
use pipewise_app::Db;
use pipewise_app::insights::{Insights, InsightsRegistry};
use pipewise_core::Timestamp;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The clock; tests replace it.
    pub clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    /// Whether cookies get `Secure` (set when Pipewise is served behind TLS).
    pub secure_cookies: bool,
    /// The reverse proxies whose `X-Forwarded-For` names the client (empty: none is believed).
    /// See [`client_address`].
    pub trusted_proxies: proxy::TrustedProxies,
    /// Each organisation's analytics projection, kept current from the history log. `None`:
    /// analytics build a projection per request (correct, slow at scale; tests and tools).
    /// Use [`AppState::insights_for`].
    pub insights: Option<Arc<InsightsRegistry>>,
    /// The key that seals reps' mailbox passwords (`PIPEWISE_SECRET_KEY`); without it mailboxes
    /// cannot be connected from the web app.
    pub secret_key: Option<app::secrets::SecretKey>,
    /// Each organisation's lead cadence, learnt at most a few minutes ago (see
    /// [`app::cadence::PolicyCache`]).
    pub cadence: Arc<app::cadence::PolicyCache>,
    /// Request counts and latencies for `/metrics` (see [`observe`]).
    pub metrics: Arc<observe::Metrics>,
    /// The bearer token that lets a scraper off this machine read `/metrics`
    /// (`PIPEWISE_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            clock: Arc::new(|| Timestamp::from_jiff(jiff::Timestamp::now())),
            secure_cookies: false,
            trusted_proxies: proxy::TrustedProxies::default(),
            insights: None,
            secret_key: None,
            cadence: Arc::default(),
            metrics: Arc::default(),
            metrics_token: None,
        }
    }

    /// Drops this instance's projection of `org` (its time zone changed): the next read loads it.
    pub fn forget_insights(&self, org: pipewise_core::OrgId) {
        if let Some(registry) = &self.insights {
            registry.forget(org);
        }
    }

    /// The organisation's analytics, current as of this call: the registry's (refreshed
    /// first, so a reader sees its own writes), or a projection loaded now when there is no
    /// registry. Blocking: call it on a blocking thread.
    pub fn insights_for(&self, org: pipewise_core::OrgId) -> Result<Arc<Insights>, app::StoreError> {
        match &self.insights {
            Some(registry) => {
                let insights = registry.get(org)?;
                insights.refresh()?;
                Ok(insights)
            }
            None => Ok(Arc::new(self.db.load_insights(org, {
                let clock = self.clock.clone();
                Arc::new(move || clock())
            })?)),
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(observe::metrics))
        .merge(api::routes())
        .merge(pages::routes())
        .route_layer(axum::middleware::from_fn(observe::route_label))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::csrf_guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// The address of the client that sent a request: the TCP peer, or, when the peer is one of
/// `trusted_proxies`, the address it forwarded (the rule is in [`proxy`]). Sign-in throttling
/// and sessions key on it. `unknown` without a socket (tests that do not set `ConnectInfo`).
pub fn client_address(
    trusted_proxies: &proxy::TrustedProxies,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| trusted_proxies.client_address(info.0.ip(), headers).to_string())
}

/// The client address of a request ([`client_address`]), as an extractor.
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<ClientAddress, Self::Rejection> {
        Ok(ClientAddress(client_address(&state.trusted_proxies, &parts.headers, &parts.extensions)))
    }
}

/// 200 when the database answers a read, else 503. The body says only that: nothing about the
/// engine, the organisations or the version, which an anonymous caller has no need to know.
async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.db.clone();
    let probe = tokio::task::spawn_blocking(move || store.read().and_then(|mut tx| app::users::organisations(&mut tx).map(|_| ()))).await;
    match probe {
        Ok(Ok(())) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))).into_response(),
        Ok(Err(error)) => {
            eprintln!("healthz: database check failed: {error}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "status": "unavailable" }))).into_response()
        }
        Err(error) => {
            eprintln!("healthz: check panicked: {error}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "status": "unavailable" }))).into_response()
        }
    }
}

/// Serves on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
