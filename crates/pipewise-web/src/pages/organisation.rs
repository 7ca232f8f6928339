//! The organisation's settings page for ops and admins (`/admin/organisation`): the time zone its
//! days, periods and figures are counted in, and the month its fiscal years start in. Everyone
//! else gets the 403 page. Saving posts both (`POST /admin/organisation`, CSRF-checked) through
//! `app::settings::set_time_zone` and `app::quotas::set_fiscal_year_start` (authorised and
//! audited) in one transaction; a refused form comes back with 422 and the problem.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_core::history::Source;
use pipewise_core::user::Role;
use serde::Serialize;

use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct OrganisationView {
    name: String,
    currency: &'static str,
    time_zone: String,
    fiscal_start: String,
    months: Vec<Choice>,
    notice: Option<String>,
    problems: Vec<String>,
}

fn ops_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "org_settings.ops_only").to_owned()))
    }
}

fn page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    typed: Option<&Params>,
    problems: Vec<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let organisation =
        app::users::organisation(&mut tx, viewer.org)?.ok_or(AppError::NotFound { kind: "organisation", id: viewer.org.to_string() })?;
    let view = OrganisationView {
        name: organisation.name.clone(),
        currency: organisation.reporting_currency.code(),
        time_zone: typed.map_or_else(|| organisation.time_zone.name().to_owned(), |typed| typed.raw("time_zone").to_owned()),
        fiscal_start: typed
            .map_or_else(|| organisation.fiscal.start_month().to_string(), |typed| typed.raw("fiscal_year_start_month").to_owned()),
        months: (1..=12)
            .map(|month: u8| Choice { value: month.to_string(), label: t(locale, &format!("month.{month}")).to_owned() })
            .collect(),
        notice,
        problems,
    };
    render::page(viewer, status, "organisation.html", "org_settings", t(locale, "org_settings.title").to_owned(), &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        ops_only(&reader)?;
        let notice = params.get("saved").map(|_| t(reader.user.locale, "org_settings.saved").to_owned());
        page(&state, &reader, StatusCode::OK, None, Vec::new(), notice)
    })
    .await;
    respond(&viewer, result)
}

pub async fn save(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        ops_only(&reader)?;
        let locale = reader.user.locale;
        let zone = form.raw("time_zone").trim().to_owned();
        let month = form.raw("fiscal_year_start_month").trim().parse::<u8>().unwrap_or(0);
        let ctx = reader.ctx(Source::Web, state.now());
        let written = state.db.transact(|tx| {
            app::settings::set_time_zone(tx, &ctx, &zone)?;
            app::quotas::set_fiscal_year_start(tx, &ctx, month)
        });
        match written {
            Ok(_) => {
                // Figures are counted again in the zone from the next read.
                state.forget_insights(reader.org);
                Ok(see_other("/admin/organisation?saved=1"))
            }
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => {
                    let problems =
                        errors.0.iter().map(|error| format!("{}: {}", error.field, i18n::problem(locale, &error.problem))).collect();
                    page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, Some(&form), problems, None)
                }
                other => Err(other.into()),
            },
        }
    })
    .await;
    respond(&viewer, result)
}
