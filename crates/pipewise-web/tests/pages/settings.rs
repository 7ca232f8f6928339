//! The health thresholds page (`/admin/health`): ops and admins only, behind the CSRF token; a
//! refused form keeps every input and marks each bad field; a saved threshold changes the
//! dashboard's flag counts at once; "reset to defaults"; labels in Korean.

use axum::http::StatusCode;
use pipewise_app as app;
use pipewise_app::settings::HEALTH_THRESHOLDS;
use pipewise_core::user::{Locale, Role};
use pipewise_store::AuditFilter;

use crate::support::{App, Session, app, between, location};

/// Every threshold of the form at its default, with `changes` applied.
fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, String)> {
    HEALTH_THRESHOLDS
        .iter()
        .map(|setting| {
            let value = changes
                .iter()
                .find(|(name, _)| *name == setting.name)
                .map_or_else(|| setting.default_value().to_string(), |(_, value)| (*value).to_owned());
            (setting.name, value)
        })
        .collect()
}

async fn post(app: &App, path: &str, session: &Session, fields: &[(&str, String)]) -> axum::http::Response<axum::body::Body> {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    app.post_form(path, Some(session), &fields, true).await
}

/// The count the dashboard shows beside a per-deal flag.
async fn flag_count(app: &App, session: &Session, code: &str) -> i64 {
    let (status, body) = app.get("/dashboard", Some(session)).await;
    assert_eq!(status, StatusCode::OK);
    let link =
        between(&body, &format!("data-code=\"{code}\"><span class=\"count\">"), "</span>").unwrap_or_else(|| panic!("a {code} count"));
    link.replace(',', "").parse().unwrap()
}

fn stored_untouched_days(app: &App) -> i32 {
    app::settings::health_thresholds(&mut app::Tx::new(app.store.read().unwrap()), app.org.org()).unwrap().untouched_days
}

#[tokio::test]
async fn only_ops_and_admins_change_the_health_thresholds() {
    let app = app();
    for email in ["rep@pages.test", "manager@pages.test"] {
        let session = app.sign_in(email).await;
        let (status, body) = app.get("/admin/health", Some(&session)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        assert!(body.contains("Only sales ops or an administrator can change the health thresholds."), "{body}");
        let response = post(&app, "/admin/health", &session, &form(&[("untouched_days", "30")])).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{email}");
        let response = post(&app, "/admin/health/reset", &session, &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{email}");
        let (_, dashboard) = app.get("/dashboard", Some(&session)).await;
        assert!(!dashboard.contains("health-settings-link"), "no link to the thresholds for {email}");
    }
    assert_eq!(stored_untouched_days(&app), 14);

    let ops_user = app.create_user("ops@pages.test", "Olga Ops", Role::Ops, None, Locale::En);
    let session = app.sign_in(&ops_user.email).await;
    let (status, body) = app.get("/admin/health", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    for setting in &HEALTH_THRESHOLDS {
        assert!(body.contains(&format!("name=\"{}\" value=\"{}\"", setting.name, setting.default_value())), "{} on the form", setting.name);
    }
    assert!(body.contains("Untouched after (days)") && body.contains("Reset to defaults"));
    assert!(body.contains("The organisation uses the default thresholds."));
    assert!(body.contains("href=\"&#x2f;admin&#x2f;health\"") || body.contains("href=\"/admin/health\""), "in the navigation");
    // Without the form's CSRF token nothing is changed.
    let fields = form(&[("untouched_days", "30")]);
    let plain: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let response = app.post_form("/admin/health", Some(&session), &plain, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored_untouched_days(&app), 14);
    // With it, ops saves; the audit log has the change, from the web.
    let response = post(&app, "/admin/health", &session, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/health?saved=1");
    assert_eq!(stored_untouched_days(&app), 30);
    let (_, body) = app.get("/admin/health?saved=1", Some(&session)).await;
    assert!(body.contains("Saved. Dashboards and badges use the new thresholds now."));
    assert!(body.contains("name=\"untouched_days\" value=\"30\""));
    assert!(body.contains("Last changed by Olga Ops"), "{body}");
    let filter = AuditFilter { record_kind: Some("health_settings".into()), limit: 10, ..AuditFilter::default() };
    let audit = app.store.read().unwrap().audit_events(app.org.org(), &filter).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].actor_id, audit[0].source.as_str()), (Some(ops_user.id), "web"));
}

#[tokio::test]
async fn a_refused_form_keeps_every_input_and_marks_each_bad_field() {
    let app = app();
    let admin = app.sign_in(&app.admin.email).await;
    let fields = form(&[
        ("untouched_days", "ten"),
        ("going_dark_days", "50"),
        ("no_new_days", ""),
        ("moving_days", "21"),
        ("single_threaded_max_contacts", "4"),
        ("multi_threaded_min_contacts", "4"),
    ]);
    let response = post(&app, "/admin/health", &admin, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::support::body_text(response).await;
    assert!(body.contains("Nothing was saved. Fix the fields marked below."));
    // What was typed stays, good and bad alike.
    for (name, value) in [("untouched_days", "ten"), ("going_dark_days", "50"), ("no_new_days", ""), ("moving_days", "21")] {
        assert!(body.contains(&format!("name=\"{name}\" value=\"{value}\"")), "{name} keeps {value:?}");
    }
    // Each bad field is marked with its own problem; the good ones are not.
    let marked: Vec<&str> =
        HEALTH_THRESHOLDS.iter().map(|setting| setting.name).filter(|name| body.contains(&format!("id=\"{name}-error\""))).collect();
    assert_eq!(marked, ["untouched_days", "going_dark_days", "multi_threaded_min_contacts", "no_new_days"]);
    let error = |name: &str| between(&body, &format!("id=\"{name}-error\">"), "</p>").unwrap().to_owned();
    assert_eq!(error("going_dark_days"), "Enter a whole number from 14 to 42.");
    assert!(error("untouched_days").contains("is not a whole number"), "{}", error("untouched_days"));
    assert_eq!(error("no_new_days"), "is required");
    assert_eq!(error("multi_threaded_min_contacts"), "must be more than single_threaded_max_contacts");
    assert!(body.contains("name=\"going_dark_days\" value=\"50\" inputmode=\"numeric\" min=\"14\" max=\"42\" aria-describedby=\"going_dark_days-help going_dark_days-error\" aria-invalid=\"true\""));
    // Nothing was stored.
    assert_eq!(app::settings::health_thresholds(&mut app::Tx::new(app.store.read().unwrap()), app.org.org()).unwrap(), Default::default());
}

#[tokio::test]
async fn the_stored_threshold_changes_the_dashboards_flag_counts_and_resets() {
    let app = app();
    // Two of the rep's deals, created on 2026-02-01 and not touched since: on 2026-06-15 they
    // are 134 days untouched.
    app.create_deal("Acme renewal", app.org.rep.id);
    app.create_deal("Globex expansion", app.org.rep.id);
    let admin = app.sign_in(&app.admin.email).await;
    assert_eq!(flag_count(&app, &admin, "untouched").await, 2);
    let (_, dashboard) = app.get("/dashboard", Some(&admin)).await;
    assert!(dashboard.contains("id=\"health-settings-link\""), "the dashboard's health section links to the thresholds");
    let (_, board) = app.get("/board", Some(&admin)).await;
    assert_eq!(board.matches("data-code=\"untouched\"").count(), 2, "the board badges the two deals");

    // Untouched only after 200 days: no deal is untouched any more, on the dashboard and the board.
    let response = post(&app, "/admin/health", &admin, &form(&[("untouched_days", "200")])).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(flag_count(&app, &admin, "untouched").await, 0);
    let (_, board) = app.get("/board", Some(&admin)).await;
    assert_eq!(board.matches("data-code=\"untouched\"").count(), 0);
    // The drill-down behind the flag lists no deal either.
    let (status, list) = app.get("/opportunities?figure=flag&flag=untouched&status=all", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.contains("Acme renewal") && !list.contains("Globex expansion"));

    // Reset to defaults: the deals are untouched again.
    let response = post(&app, "/admin/health/reset", &admin, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/health?reset=1");
    assert_eq!(flag_count(&app, &admin, "untouched").await, 2);
    let (_, body) = app.get("/admin/health?reset=1", Some(&admin)).await;
    assert!(body.contains("Every threshold is back to its default."));
}

#[tokio::test]
async fn korean_readers_get_korean_labels_and_problems() {
    let app = app();
    let ops_user = app.create_user("ops@pages.test", "운영 담당", Role::Ops, None, Locale::Ko);
    let session = app.sign_in(&ops_user.email).await;
    let (status, body) = app.get("/admin/health", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    for text in ["파이프라인 건강 상태 기준", "활동 없음 기준 (일)", "연락 끊김 기준 (일)", "기본값으로 되돌리기", "후속 조치"]
    {
        assert!(body.contains(text), "{text} is on the Korean page");
    }
    assert!(!body.contains("Untouched after (days)"));
    let response = post(&app, "/admin/health", &session, &form(&[("going_dark_days", "7")])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::support::body_text(response).await;
    assert!(body.contains("14에서 42 사이의 정수를 입력하세요."), "{body}");
}

/// The organisation's settings page: ops and admins set the time zone and the fiscal year's
/// first month together; a bad zone is named and nothing is written; others get 403.
#[tokio::test]
async fn ops_set_the_organisations_time_zone_and_fiscal_year() {
    let app = app();
    let rep = app.sign_in("rep@pages.test").await;
    let (status, _) = app.get("/admin/organisation", Some(&rep)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = app.sign_in("admin@pages.test").await;
    let (status, body) = app.get("/admin/organisation", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("name=\"time_zone\" value=\"UTC\""), "the zone as stored");
    let organisation = || app::users::organisation(&mut app::Tx::new(app.store.read().unwrap()), app.org.org()).unwrap().unwrap();
    let response =
        app.post_form("/admin/organisation", Some(&admin), &[("time_zone", "Mars/Olympus"), ("fiscal_year_start_month", "4")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((organisation().time_zone.name().to_owned(), organisation().fiscal.start_month()), ("UTC".to_owned(), 1), "nothing written");
    let response =
        app.post_form("/admin/organisation", Some(&admin), &[("time_zone", "Asia/Seoul"), ("fiscal_year_start_month", "4")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!((organisation().time_zone.name().to_owned(), organisation().fiscal.start_month()), ("Asia/Seoul".to_owned(), 4));
}
