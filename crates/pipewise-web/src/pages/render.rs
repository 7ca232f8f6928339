//! Templates: minijinja with HTML auto-escaping for every `.html` template, compiled into the
//! binary. Templates get `lang`, `chrome` (the frame: who is signed in, the CSRF token, asset
//! URLs) and `page` (the page's own view model), and call `t("key", name=value)` for text.
//!
//! Nothing is marked safe: every value a template prints is escaped.

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::value::{Kwargs, Serde};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value, context};
use pipewise_core::user::{Locale, Role};
use serde::Serialize;

use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

/// Every template, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("board.html", include_str!("../../templates/board.html")),
    ("dashboard.html", include_str!("../../templates/dashboard.html")),
    ("deal.html", include_str!("../../templates/deal.html")),
    ("move.html", include_str!("../../templates/move.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("today.html", include_str!("../../templates/today.html")),
    ("lead.html", include_str!("../../templates/lead.html")),
    ("import_result.html", include_str!("../../templates/import_result.html")),
    ("capture.html", include_str!("../../templates/capture.html")),
    ("capture_result.html", include_str!("../../templates/capture_result.html")),
    ("list.html", include_str!("../../templates/list.html")),
    ("account_detail.html", include_str!("../../templates/account_detail.html")),
    ("contact_detail.html", include_str!("../../templates/contact_detail.html")),
    ("record_deals.html", include_str!("../../templates/record_deals.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("workspace.html", include_str!("../../templates/workspace.html")),
    ("pipelines.html", include_str!("../../templates/pipelines.html")),
    ("pipeline.html", include_str!("../../templates/pipeline.html")),
    ("health_settings.html", include_str!("../../templates/health_settings.html")),
    ("quotas.html", include_str!("../../templates/quotas.html")),
    ("organisation.html", include_str!("../../templates/organisation.html")),
    ("webhooks.html", include_str!("../../templates/webhooks.html")),
    ("routing.html", include_str!("../../templates/routing.html")),
    ("lead_form.html", include_str!("../../templates/lead_form.html")),
    ("performance.html", include_str!("../../templates/performance.html")),
    ("forecast.html", include_str!("../../templates/forecast.html")),
    ("pay.html", include_str!("../../templates/pay.html")),
    ("pay_statement.html", include_str!("../../templates/pay_statement.html")),
    ("pay_plan.html", include_str!("../../templates/pay_plan.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            environment.add_template(name, source).unwrap_or_else(|error| panic!("template {name} does not compile: {error:#}"));
        }
        environment.add_function("t", translate);
        environment
    })
}

/// `t("key", name=value, …)`: the message in the page's language with placeholders filled.
fn translate(state: &State, key: &str, arguments: Kwargs) -> Result<String, Error> {
    let locale = match state.lookup("lang").as_ref().and_then(|value| value.as_str()) {
        Some("ko") => Locale::Ko,
        _ => Locale::En,
    };
    if !i18n::has(key) {
        return Err(Error::new(ErrorKind::InvalidOperation, format!("the message {key:?} is not in the catalog")));
    }
    let mut values = Vec::new();
    for name in arguments.args() {
        let value: minijinja::Value = arguments.get(name)?;
        values.push((name.to_owned(), value.to_string()));
    }
    let pairs: Vec<(&str, &str)> = values.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    Ok(i18n::fill(t(locale, key), &pairs))
}

/// The frame around every page.
#[derive(Serialize)]
pub struct Chrome {
    pub title: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    pub csrf_token: Option<String>,
    pub user: Option<ChromeUser>,
    pub css: String,
    pub js: String,
    pub sortable: String,
}

#[derive(Serialize)]
pub struct ChromeUser {
    pub name: String,
    pub initials: String,
    pub role: &'static str,
    pub is_admin: bool,
    /// Ops or admin: may design pipelines.
    pub is_designer: bool,
    /// Not a viewer: may log activities (and capture mail).
    pub is_writer: bool,
}

impl Chrome {
    pub fn new(viewer: Option<&Viewer>, locale: Locale, nav: &'static str, title: String) -> Chrome {
        Chrome {
            title,
            nav,
            csrf_token: viewer.and_then(|viewer| viewer.csrf_token().map(str::to_owned)),
            user: viewer.map(|viewer| ChromeUser {
                name: viewer.user.name.clone(),
                initials: super::initials(&viewer.user.name),
                role: t(locale, &format!("role.{}", viewer.user.role.as_str())),
                is_admin: viewer.user.role == Role::Admin,
                is_designer: matches!(viewer.user.role, Role::Admin | Role::Ops),
                is_writer: viewer.user.role != Role::Viewer,
            }),
            css: super::asset_url("app.css"),
            js: super::asset_url("app.js"),
            sortable: super::asset_url("Sortable.min.js"),
        }
    }
}

/// Renders `template` with the frame and `page`.
pub fn render(template: &str, locale: Locale, chrome: &Chrome, page: &impl Serialize) -> Result<String, AppError> {
    let template = environment().get_template(template).map_err(|error| AppError::Internal(format!("template: {error:#}")))?;
    template
        .render(context! { lang => locale.as_str(), chrome => Value::from(Serde(chrome)), page => Value::from(Serde(page)) })
        .map_err(|error| AppError::Internal(format!("rendering {}: {error:#}", template.name())))
}

/// An HTML response with `status`.
pub fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// Renders a page for a signed-in viewer.
pub fn page(
    viewer: &Viewer,
    status: StatusCode,
    template: &str,
    nav: &'static str,
    title: String,
    page: &impl Serialize,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let chrome = Chrome::new(Some(viewer), locale, nav, title);
    Ok(html(status, render(template, locale, &chrome, page)?))
}

#[derive(Serialize)]
struct ErrorView {
    status: u16,
    heading: String,
    message: String,
}

/// An error as an HTML page in the reader's language, with the error's status. Internal
/// details are logged, never shown; a missing record and one the reader may not see look the
/// same.
pub fn error_page(viewer: Option<&Viewer>, locale: Locale, error: AppError) -> Response {
    if let AppError::Internal(detail) = &error {
        eprintln!("internal error: {detail}");
    }
    let status = error.status();
    let (heading, message) = match &error {
        AppError::NotFound { .. } => (t(locale, "error.not_found.title"), t(locale, "error.not_found").to_owned()),
        AppError::Forbidden(reason) => (t(locale, "error.forbidden.title"), reason.clone()),
        AppError::Csrf => (t(locale, "error.forbidden.title"), t(locale, "error.csrf").to_owned()),
        AppError::Invalid(errors) => (t(locale, "error.invalid.title"), super::form::problems(locale, errors)),
        AppError::BadRequest(reason) => (t(locale, "error.bad_request.title"), reason.clone()),
        AppError::Conflict(reason) => (t(locale, "error.conflict.title"), reason.clone()),
        AppError::Throttled { retry_after_seconds } => {
            (t(locale, "login.title"), i18n::tf(locale, "login.throttled", &[("seconds", &retry_after_seconds.to_string())]))
        }
        AppError::Unauthenticated => (t(locale, "login.title"), t(locale, "login.title").to_owned()),
        AppError::Internal(_) => (t(locale, "error.internal.title"), t(locale, "error.internal").to_owned()),
        AppError::GateRefused(check) => (t(locale, "error.conflict.title"), super::gates::refusal_text(check, locale)),
    };
    let chrome = Chrome::new(viewer, locale, "", heading.to_owned());
    let view = ErrorView { status: status.as_u16(), heading: heading.to_owned(), message };
    match render("error.html", locale, &chrome, &view) {
        Ok(body) => html(status, body),
        Err(render_error) => {
            eprintln!("the error page itself failed: {render_error:?}");
            (status, heading.to_owned()).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_every_message_it_uses_exists() {
        let _ = environment();
        for (name, source) in TEMPLATES {
            for piece in source.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                assert!(i18n::has(key), "{name} uses the message {key:?}, which is not in the catalog");
            }
            assert!(!source.contains("|safe"), "{name} marks something safe");
        }
    }

    #[test]
    fn values_are_escaped() {
        let chrome = Chrome::new(None, Locale::En, "", "<b>title</b>".into());
        let body = render(
            "error.html",
            Locale::En,
            &chrome,
            &ErrorView { status: 404, heading: "x".into(), message: "<script>alert(1)</script>".into() },
        )
        .unwrap();
        assert!(body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{body}");
        assert!(!body.contains("<script>alert"));
        assert!(!body.contains("<b>title</b>"));
    }
}
