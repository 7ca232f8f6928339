//! `pipewise serve`: the HTTP server on a multi-threaded runtime.

use std::sync::Arc;

use anyhow::{Context, Result};
use pipewise_store::Store;
use pipewise_web::AppState;

pub fn run(db_url: &str, addr: &str, secure_cookies: bool) -> Result<()> {
    let store: Arc<dyn Store> = Arc::from(crate::db::open(db_url)?);
    serve(store, addr, secure_cookies)
}

/// Serves `store` on `addr` until interrupted, printing the URL on stdout once listening.
pub fn serve(store: Arc<dyn Store>, addr: &str, secure_cookies: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| crate::Hinted {
            error: format!("cannot listen on {addr}: {error}"),
            hint: "pass another address with --addr, e.g. --addr 127.0.0.1:8081".into(),
        })?;
        let local = listener.local_addr().context("the listener has no address")?;
        println!("Pipewise is serving on http://{local}/ (API: http://{local}/api/openapi.json); press Ctrl-C to stop");
        // Each organisation's analytics projection loads on first use and follows the history log.
        let insights = Arc::new(pipewise_insights::InsightsRegistry::following(store.clone(), std::time::Duration::from_millis(100)));
        pipewise_web::serve(listener, AppState { secure_cookies, insights: Some(insights), ..AppState::new(store) })
            .await
            .context("the server stopped with an error")
    })
}
