//! The one way API handlers reach the store: a read in a snapshot, or a write through
//! `pipewise_app` in one transaction as the viewer (`Source::Api`), each on a blocking thread.

use pipewise_app::{Tx, WriteCtx};
use pipewise_core::history::Source;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};

/// Runs a read in a snapshot of the store.
pub async fn read<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&mut Tx) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let store = state.db.clone();
    blocking(move || {
        let mut tx = store.read()?;
        work(&mut tx)
    })
    .await
}

/// Runs a write through `pipewise_app` in one transaction, as the viewer through the API.
pub async fn write<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    work: impl FnOnce(&mut Tx, &WriteCtx) -> pipewise_app::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    let ctx = viewer.ctx(Source::Api, state.now());
    let store = state.db.clone();
    blocking(move || Ok(store.transact(|tx| work(tx, &ctx))?)).await
}
