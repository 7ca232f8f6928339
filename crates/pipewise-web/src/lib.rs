//! The HTTP edge. Today it serves `/healthz`; the JSON API and the web app build on the same
//! router and state. Handlers are thin: they parse input ([`input`]), call `pipewise_store::ops`
//! on a blocking thread, and render the result.

pub mod input;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pipewise_store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/healthz", get(healthz)).with_state(state)
}

/// 200 when the database answers a read, else 503. The body says which engine serves.
async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let probe = tokio::task::spawn_blocking(move || store.read().and_then(|mut tx| tx.organisations().map(|orgs| orgs.len()))).await;
    match probe {
        Ok(Ok(organisations)) => {
            let body = serde_json::json!({ "status": "ok", "engine": state.store.engine(), "organisations": organisations });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
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

/// Serves `router` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown_signal()).await
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
