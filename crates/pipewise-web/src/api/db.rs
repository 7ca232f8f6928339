//! The one way API handlers reach the store: [`Api`], the signed-in caller of a handler, reads
//! in a snapshot or writes through `pipewise_app` in one transaction as the viewer
//! (`Source::Api`), each on a blocking thread. `read` alone serves the few public routes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pipewise_app::{Tx, WriteCtx};
use pipewise_core::history::Source;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};

/// A handler's caller: the application and the signed-in viewer (401 without one).
pub struct Api {
    pub state: AppState,
    pub viewer: Viewer,
}

impl FromRequestParts<AppState> for Api {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Api, AppError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        Ok(Api { state: state.clone(), viewer })
    }
}

impl Api {
    /// Runs a read in a snapshot of the store, for the viewer.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Tx, &Viewer) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let viewer = self.viewer.clone();
        read(&self.state, move |tx| work(tx, &viewer)).await
    }

    /// Runs a write through `pipewise_app` in one transaction, as the viewer through the API.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Tx, &WriteCtx) -> pipewise_app::Result<T> + Send + 'static,
    ) -> Result<T, AppError> {
        let ctx = self.viewer.ctx(Source::Api, self.state.now());
        let store = self.state.db.clone();
        blocking(move || Ok(store.transact(|tx| work(tx, &ctx))?)).await
    }
}

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
