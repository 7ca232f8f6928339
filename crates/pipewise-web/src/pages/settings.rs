//! The health thresholds page for ops and admins (`/admin/health`, SPEC C5 "configurable
//! thresholds"): every threshold of `app::settings::HEALTH_THRESHOLDS` in a form, grouped
//! as the dashboard's health section reads them, with its label, meaning, range and default in
//! the reader's language. Everyone else gets the 403 page.
//!
//! Saving posts every field (`POST /admin/health`) and comes back with `303`; a refused form
//! shows the page again with 422, everything typed kept and each bad field marked with its
//! problem. "Reset to defaults" (`POST /admin/health/reset`) stores the defaults. Both writes go
//! through `app::settings::set_health_thresholds` (authorised and audited) and carry the CSRF token.

use pipewise_app as app;
use std::collections::HashMap;

use app::settings::{HEALTH_THRESHOLDS, HealthSettings, ThresholdSetting};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::HealthThresholds;
use pipewise_core::error::Problem;
use pipewise_core::history::Source;
use pipewise_core::user::{Locale, Role};
use serde::Serialize;

use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// The form's sections and the thresholds in each, in the order the dashboard's health section
/// reads them. Every threshold is in exactly one section (a test checks).
pub const SECTIONS: &[(&str, &[&str])] = &[
    ("follow_up", &["untouched_days", "going_dark_days", "late_update_days", "pushed_min"]),
    ("deal", &["single_threaded_max_contacts", "multi_threaded_min_contacts", "moving_days", "touchpoints_healthy"]),
    ("late", &["late_stage_min_win_bp", "rep_late_stage_max", "late_stage_share_max_pct"]),
    ("groups", &["bottleneck_excess_pts", "bottleneck_share_pct", "bottleneck_min_deals", "coverage_target_pct", "no_new_days"]),
    ("stalling", &["stall_share_pct", "stall_min_deals", "team_stall_reps_pct", "team_stall_min_reps"]),
    ("signals", &["spread_max_share_pct", "moving_share_pct", "front_loaded_share_pct"]),
];

fn settings_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "error.health_settings_only").to_owned()))
    }
}

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: String,
    help: String,
    /// What the input shows: the stored value, or what was typed into a refused form.
    value: String,
    /// `Default: 14 · 1 to 365`.
    hint: String,
    min: i64,
    max: i64,
    error: Option<String>,
    /// Whether the stored value differs from the default.
    changed: bool,
}

#[derive(Serialize)]
struct SectionView {
    title: String,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct HealthView {
    sections: Vec<SectionView>,
    notice: Option<String>,
    /// Whether a refused form is shown.
    failed: bool,
    /// Who changed the thresholds last, and when.
    updated: String,
}

fn setting(name: &str) -> &'static ThresholdSetting {
    app::settings::threshold_setting(name).unwrap_or_else(|| panic!("{name} is a health threshold"))
}

/// A field's problem in the reader's language.
fn message(locale: Locale, setting: &ThresholdSetting, problem: &Problem) -> String {
    match problem {
        Problem::OutOfRange { .. } => {
            tf(locale, "health_settings.out_of_range", &[("min", &setting.min.to_string()), ("max", &setting.max.to_string())])
        }
        other => i18n::problem(locale, other),
    }
}

/// The page; `typed` and `errors` are those of a refused form.
fn page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    typed: Option<&Params>,
    errors: &HashMap<&str, String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let settings: HealthSettings = app::settings::health_settings(&mut tx, viewer.org)?;
    let sections = SECTIONS
        .iter()
        .map(|(key, names)| SectionView {
            title: t(locale, &format!("health_settings.section.{key}")).to_owned(),
            fields: names
                .iter()
                .map(|name| {
                    let setting = setting(name);
                    let stored = setting.get(&settings.thresholds);
                    FieldView {
                        name: setting.name,
                        label: t(locale, &format!("health_settings.{name}")).to_owned(),
                        help: t(locale, &format!("health_settings.{name}.help")).to_owned(),
                        value: typed.map_or_else(|| stored.to_string(), |typed| typed.raw(name).to_owned()),
                        hint: tf(
                            locale,
                            "health_settings.hint",
                            &[
                                ("default", &setting.default_value().to_string()),
                                ("min", &setting.min.to_string()),
                                ("max", &setting.max.to_string()),
                            ],
                        ),
                        min: setting.min,
                        max: setting.max,
                        error: errors.get(setting.name).cloned(),
                        changed: stored != setting.default_value(),
                    }
                })
                .collect(),
        })
        .collect();
    let updated = match settings.updated_at {
        None => t(locale, "health_settings.defaults_in_use").to_owned(),
        Some(at) => {
            let who = match settings.updated_by {
                None => t(locale, "common.system").to_owned(),
                Some(id) => app::users::user(&mut tx, viewer.org, id)?.map_or_else(|| format!("#{id}"), |user| user.name),
            };
            tf(locale, "health_settings.updated", &[("name", &who), ("time", &i18n::timestamp(locale, at, &viewer.user.time_zone))])
        }
    };
    let view = HealthView { sections, notice, failed: !errors.is_empty(), updated };
    render::page(viewer, status, "health_settings.html", "health_settings", t(locale, "health_settings.title").to_owned(), &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        settings_only(&reader)?;
        let locale = reader.user.locale;
        let notice = if params.get("saved").is_some() {
            Some(t(locale, "health_settings.saved").to_owned())
        } else {
            params.get("reset").map(|_| t(locale, "health_settings.reset_done").to_owned())
        };
        page(&state, &reader, StatusCode::OK, None, &HashMap::new(), notice)
    })
    .await;
    respond(&viewer, result)
}

/// Saves every threshold of the form, or shows it again with each bad field marked.
pub async fn save(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        settings_only(&reader)?;
        let locale = reader.user.locale;
        let mut errors: HashMap<&str, String> = HashMap::new();
        let mut values = Vec::new();
        for setting in &HEALTH_THRESHOLDS {
            let raw = params.raw(setting.name).trim();
            let problem = if raw.is_empty() {
                Problem::Required
            } else {
                match raw.parse::<i64>() {
                    Ok(value) => {
                        values.push((setting, value));
                        continue;
                    }
                    Err(_) => Problem::Invalid { value: raw.to_owned(), expected: "a whole number" },
                }
            };
            errors.insert(setting.name, message(locale, setting, &problem));
        }
        let (thresholds, problems) = app::settings::health_thresholds_from(reader.org, values);
        let add = |errors: &mut HashMap<&str, String>, problems: pipewise_core::ValidationErrors| {
            for error in problems.0 {
                errors.entry(error.field).or_insert_with(|| message(locale, setting(error.field), &error.problem));
            }
        };
        add(&mut errors, problems);
        if errors.is_empty() {
            let ctx = reader.ctx(Source::Web, state.now());
            match state.db.transact(|tx| app::settings::set_health_thresholds(tx, &ctx, &thresholds)) {
                Ok(_) => return Ok(see_other("/admin/health?saved=1")),
                Err(error) => match refusal(error)? {
                    Refusal::Invalid(problems) => add(&mut errors, problems),
                    other => return Err(other.into()),
                },
            }
        }
        page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, Some(&params), &errors, None)
    })
    .await;
    respond(&viewer, result)
}

/// Stores the defaults.
pub async fn reset(State(state): State<AppState>, SignedIn(viewer): SignedIn) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        settings_only(&reader)?;
        let ctx = reader.ctx(Source::Web, state.now());
        state.db.transact(|tx| app::settings::set_health_thresholds(tx, &ctx, &HealthThresholds::default()))?;
        Ok(see_other("/admin/health?reset=1"))
    })
    .await;
    respond(&viewer, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_threshold_is_in_one_section_with_labels_in_both_languages() {
        let mut listed: Vec<&str> = SECTIONS.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        listed.sort_unstable();
        let mut all: Vec<&str> = HEALTH_THRESHOLDS.iter().map(|setting| setting.name).collect();
        all.sort_unstable();
        assert_eq!(listed, all);
        for (key, _) in SECTIONS {
            assert!(i18n::has(&format!("health_settings.section.{key}")), "{key}");
        }
        for setting in &HEALTH_THRESHOLDS {
            for key in [format!("health_settings.{}", setting.name), format!("health_settings.{}.help", setting.name)] {
                assert!(i18n::has(&key), "{key}");
                assert_ne!(t(Locale::En, &key), t(Locale::Ko, &key), "{key} is translated");
            }
        }
    }

    #[test]
    fn problems_read_in_the_readers_language() {
        let going_dark = setting("going_dark_days");
        let out = Problem::OutOfRange { value: "50".into(), range: going_dark.range };
        assert_eq!(message(Locale::En, going_dark, &out), "Enter a whole number from 14 to 42.");
        assert_eq!(message(Locale::Ko, going_dark, &out), "14에서 42 사이의 정수를 입력하세요.");
        let rule = Problem::Fact(pipewise_core::Message::new(app::settings::MULTI_ABOVE_SINGLE));
        assert_eq!(message(Locale::Ko, setting("multi_threaded_min_contacts"), &rule), "단일 창구 기준 연락처 수보다 커야 합니다");
    }
}
