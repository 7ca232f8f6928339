//! One error type for every handler. The API answers RFC 9457 `application/problem+json` with a
//! stable `code` per case; pages get the same status with a short HTML page. Internal errors are
//! logged and never described to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::StoreError;
use pipewise_core::ValidationErrors;
use pipewise_core::user::Locale;
use serde_json::json;

use crate::i18n;

#[derive(Debug)]
pub enum AppError {
    /// 401: not signed in, or the token is not valid.
    Unauthenticated,
    /// 403 with the reason.
    Forbidden(String),
    /// 403: a form post without its CSRF token.
    Csrf,
    /// 404: missing, or not visible to the reader (indistinguishable on purpose).
    NotFound { kind: &'static str, id: String },
    /// 422: every bad field.
    Invalid(ValidationErrors),
    /// 400: input that is not even the right shape (bad JSON, bad query).
    BadRequest(String),
    /// 409: a duplicate.
    Conflict(String),
    /// 409: a stage move past unmet exit criteria; the body lists every one of them (`missing`).
    GateRefused(Box<pipewise_core::gates::MoveCheck>),
    /// 429: too many failed sign-ins.
    Throttled { retry_after_seconds: u64 },
    /// 500: logged, not shown.
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) | AppError::GateRefused(_) => StatusCode::CONFLICT,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf_token_invalid",
            AppError::NotFound { .. } => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::GateRefused(_) => "gate_refused",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the user is told.
    pub fn detail(&self) -> String {
        match self {
            AppError::Unauthenticated => "sign in, or send a valid API token".into(),
            AppError::Forbidden(reason) => reason.clone(),
            AppError::Csrf => "the form is missing its security token or it has expired; reload the page and try again".into(),
            AppError::NotFound { kind, id } => format!("{kind} {id} does not exist"),
            AppError::Invalid(errors) => {
                let lines: Vec<String> = errors
                    .0
                    .iter()
                    .map(|error| format!("{}: {}: {}", error.record, error.field, i18n::problem(Locale::En, &error.problem)))
                    .collect();
                lines.join("; ")
            }
            AppError::BadRequest(reason) | AppError::Conflict(reason) => reason.clone(),
            AppError::GateRefused(check) => {
                // The summary line, then each unmet criterion with its reason.
                let summary = StoreError::GateRefused(check.clone()).to_string();
                let head = summary.lines().next().unwrap_or_default();
                std::iter::once(head.to_owned()).chain(i18n::unmet_lines(Locale::En, check)).collect::<Vec<_>>().join("\n")
            }
            AppError::Throttled { retry_after_seconds } => format!("too many failed sign-ins; try again in {retry_after_seconds} seconds"),
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
        }
    }

    /// The problem+json body.
    pub fn problem(&self) -> serde_json::Value {
        let mut body = json!({
            "type": format!("https://pipewise.dev/problems/{}", self.code()),
            "title": self.status().canonical_reason().unwrap_or("Error"),
            "status": self.status().as_u16(),
            "code": self.code(),
            "detail": self.detail(),
        });
        if let AppError::GateRefused(check) = self {
            body["from_stage_id"] = json!(check.from.0);
            body["to_stage_id"] = json!(check.to.0);
            body["missing"] = crate::api::gate_missing(check);
        }
        if let AppError::Invalid(errors) = self {
            body["errors"] = errors
                .0
                .iter()
                .map(|error| json!({ "record": error.record.to_string(), "field": error.field, "detail": i18n::problem(Locale::En, &error.problem) }))
                .collect();
        }
        body
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(errors) => AppError::Invalid(errors),
            StoreError::NotFound { kind, id } => AppError::NotFound { kind, id: id.to_string() },
            StoreError::Conflict(reason) => AppError::Conflict(reason),
            StoreError::Forbidden(reason) => AppError::Forbidden(reason),
            // The API words problems in English; so it does a refusal's reason.
            StoreError::Refused(reason) => AppError::Forbidden(i18n::message(Locale::En, &reason)),
            StoreError::GateRefused(check) => AppError::GateRefused(check),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<app::auth::HashError> for AppError {
    fn from(error: app::auth::HashError) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl From<ValidationErrors> for AppError {
    fn from(errors: ValidationErrors) -> Self {
        AppError::Invalid(errors)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            eprintln!("internal error: {detail}");
        }
        let mut response = (self.status(), axum::Json(self.problem())).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let AppError::Throttled { retry_after_seconds } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Runs blocking store work on the blocking pool, turning a panic into an internal error.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, AppError> + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| AppError::Internal(format!("a blocking task failed: {error}")))?
}
