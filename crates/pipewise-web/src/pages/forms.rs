//! Lead forms on the web. Public: `GET /f/{key}` is a hosted form (in the visitor's language)
//! and `POST /f/{key}` takes a submission from it or from a form on the company's own site
//! (cross-site by design, so the CSRF guard lets `/f/` through: these handlers never read a
//! session), through `app::forms::submit` (spam, limits, duplicates, every problem named).
//! For ops and admins: `POST /leads/forms` makes a form and `POST /leads/forms/{id}/{pause|resume}`
//! turns it off or on; the forms are listed on the routing page with their outcomes and the HTML
//! to paste into a web page.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::forms::Submitted;
use pipewise_core::history::Source;
use pipewise_core::user::Locale;
use serde::Serialize;

use super::render::{self, Chrome};
use super::{Params, SignedIn, request_locale, respond, see_other};
use crate::AppState;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

/// The largest submission taken.
pub const MAX_SUBMISSION_BYTES: usize = 16 << 10;

#[derive(Serialize)]
struct PublicForm {
    name: String,
    action: String,
    honeypot: &'static str,
    values: Vec<(String, String)>,
    problems: Vec<String>,
    thanks: bool,
}

fn public_page(locale: Locale, status: StatusCode, view: &PublicForm) -> Response {
    let chrome = Chrome::new(None, locale, "form", view.name.clone());
    match render::render("lead_form.html", locale, &chrome, view) {
        Ok(body) => render::html(status, body),
        Err(error) => render::error_page(None, locale, error),
    }
}

fn not_found(locale: Locale) -> Response {
    render::error_page(None, locale, AppError::NotFound { kind: "lead_form", id: String::new() })
}

pub async fn show(State(state): State<AppState>, Path(key): Path<String>, headers: HeaderMap) -> Response {
    let locale = request_locale(&headers);
    let found = blocking(move || Ok(app::forms::form_by_key(&state.db, &key)?.filter(|form| form.active).map(|form| (form, key)))).await;
    match found {
        Ok(Some((form, key))) => public_page(
            locale,
            StatusCode::OK,
            &PublicForm {
                name: form.name,
                action: format!("/f/{key}"),
                honeypot: app::forms::HONEYPOT,
                values: Vec::new(),
                problems: Vec::new(),
                thanks: false,
            },
        ),
        Ok(None) => not_found(locale),
        Err(error) => render::error_page(None, locale, error),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let locale = request_locale(&headers);
    let client = crate::client_address(&state.trusted_proxies, request.headers(), request.extensions());
    let body = match axum::body::to_bytes(request.into_body(), MAX_SUBMISSION_BYTES).await {
        Ok(body) => body,
        Err(_) => return render::error_page(None, locale, AppError::BadRequest(t(locale, "forms.too_large").to_owned())),
    };
    let fields: Vec<(String, String)> = Params::from_body(&body)
        .0
        .into_iter()
        .filter(|(name, _)| app::forms::FIELDS.contains(&name.as_str()) || name == app::forms::HONEYPOT)
        .collect();
    let now = state.now();
    let db = state.db.clone();
    let key_for = key.clone();
    let fields_for = fields.clone();
    let outcome = blocking(move || {
        let Some(form) = app::forms::form_by_key(&db, &key_for)? else {
            return Err(AppError::NotFound { kind: "lead_form", id: String::new() });
        };
        let submitted = app::forms::submit_to(&db, &form, &client, &fields_for, now)?;
        Ok((form, submitted))
    })
    .await;
    match outcome {
        Ok((form, Submitted::Accepted(_) | Submitted::Quietly(_))) => match form.redirect_url {
            Some(url) => see_other(&url),
            None => public_page(
                locale,
                StatusCode::OK,
                &PublicForm {
                    name: form.name,
                    action: String::new(),
                    honeypot: app::forms::HONEYPOT,
                    values: Vec::new(),
                    problems: Vec::new(),
                    thanks: true,
                },
            ),
        },
        Ok((form, Submitted::Invalid(errors))) => {
            let problems = errors
                .0
                .iter()
                .map(|error| format!("{}: {}", field_label(locale, error.field), i18n::problem(locale, &error.problem)))
                .collect();
            let values = fields.into_iter().filter(|(name, _)| name != app::forms::HONEYPOT).collect();
            public_page(
                locale,
                StatusCode::UNPROCESSABLE_ENTITY,
                &PublicForm {
                    name: form.name,
                    action: format!("/f/{key}"),
                    honeypot: app::forms::HONEYPOT,
                    values,
                    problems,
                    thanks: false,
                },
            )
        }
        Err(AppError::NotFound { .. }) => not_found(locale),
        Err(error) => render::error_page(None, locale, error),
    }
}

fn field_label(locale: Locale, field: &str) -> &'static str {
    t(
        locale,
        match field {
            "name" => "forms.name",
            "email" => "forms.email",
            "company" => "forms.company",
            "title" => "forms.job_title",
            "phone" => "forms.phone",
            "industry" => "forms.industry",
            "employee_count" => "forms.employee_count",
            "region" => "forms.region",
            _ => "forms.message",
        },
    )
}

/// `POST /leads/forms`: name, source, redirect_url.
pub async fn create(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let ctx = reader.ctx(Source::Web, state.now());
        let redirect = form.get("redirect_url");
        state.db.transact(|tx| app::forms::create_form(tx, &ctx, form.raw("name"), form.raw("source"), redirect))?;
        Ok(see_other("/leads/routing?form=1#forms"))
    })
    .await;
    respond(&viewer, result)
}

/// `POST /leads/forms/{id}/{pause|resume}`.
pub async fn act(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path((id, action)): Path<(i64, String)>) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        let active = match action.as_str() {
            "pause" => false,
            "resume" => true,
            _ => return Err(AppError::NotFound { kind: "page", id: action }),
        };
        let ctx = reader.ctx(Source::Web, state.now());
        state.db.transact(|tx| app::forms::set_form_active(tx, &ctx, id, active))?;
        Ok(see_other("/leads/routing#forms"))
    })
    .await;
    respond(&viewer, result)
}
