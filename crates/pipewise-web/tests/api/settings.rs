//! Health thresholds through the API (`/api/v1/settings/health`): everyone reads them, ops and
//! admins change them, every bad field is a 422 naming it, each change is audited, and the
//! analytics endpoints compute flags with the stored values from the next request on.

use axum::http::Method;
use serde_json::{Value, json};

use crate::harness::Shared;

const SETTINGS: &str = "/api/v1/settings/health";

fn fields(body: &Value) -> Vec<&str> {
    body["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect()
}

pub async fn health_settings_are_read_by_everyone_and_changed_by_ops_and_admins(app: Shared) {
    // The defaults, for every role.
    for who in ["rep", "manager", "viewer", "ops", "admin"] {
        let body = app.get(SETTINGS, who).await.expect(200).body;
        assert_eq!(body["thresholds"], body["defaults"], "{who}");
        assert_eq!(body["thresholds"]["untouched_days"], 14);
        assert_eq!(body["thresholds"]["going_dark_days"], 21);
        assert_eq!(body["updated_at"], Value::Null);
        assert_eq!(body["updated_by"], Value::Null);
        assert_eq!(body["thresholds"].as_object().unwrap().len(), 23);
        assert_eq!(body["thresholds"]["bottleneck_excess_pts"], 15);
    }
    assert_eq!(app.get(SETTINGS, "").await.status.as_u16(), 401);

    // A rep, a manager and a viewer may not change them.
    for who in ["rep", "manager", "viewer"] {
        let reply = app.call(Method::PUT, SETTINGS, who, Some(json!({ "untouched_days": 10 }))).await.expect(403);
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.body["code"], "forbidden");
    }

    // Ops may: the reply is the new settings; what is left out keeps its default.
    let body =
        app.call(Method::PUT, SETTINGS, "ops", Some(json!({ "untouched_days": 10, "coverage_target_pct": 250 }))).await.expect(200).body;
    assert_eq!(body["thresholds"]["untouched_days"], 10);
    assert_eq!(body["thresholds"]["coverage_target_pct"], 250);
    assert_eq!(body["thresholds"]["going_dark_days"], 21);
    assert_eq!(body["defaults"]["untouched_days"], 14);
    assert_eq!(body["updated_by"], app.users["ops"].0);
    assert!(body["updated_at"].is_string());
    assert_eq!(app.get(SETTINGS, "rep").await.expect(200).body, body, "everyone reads what ops stored");

    // Every bad field at once, each named, as problem+json; nothing is stored.
    let bad = json!({ "going_dark_days": 50, "pushed_min": "2", "colour": "red", "single_threaded_max_contacts": 3, "multi_threaded_min_contacts": 2 });
    let reply = app.call(Method::PUT, SETTINGS, "admin", Some(bad)).await.expect(422);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], "invalid");
    assert_eq!(fields(&reply.body), ["(body)", "pushed_min", "going_dark_days", "multi_threaded_min_contacts"]);
    let going_dark = &reply.body["errors"][2];
    assert_eq!(going_dark["detail"], "50 is out of range (14 to 42 days)");
    assert_eq!(going_dark["record"], format!("health_settings {}", app.org.org().0));
    let reply = app.call(Method::PUT, SETTINGS, "admin", Some(json!([1]))).await.expect(422);
    assert_eq!(fields(&reply.body), ["(body)"]);
    assert_eq!(app.get(SETTINGS, "admin").await.expect(200).body["thresholds"]["untouched_days"], 10);

    // Each change is audited; a write that changes nothing is not.
    app.call(Method::PUT, SETTINGS, "ops", Some(json!({ "untouched_days": 10, "coverage_target_pct": 250 }))).await.expect(200);
    let audit = app.get("/api/v1/audit?record_kind=health_settings", "admin").await.expect(200).body;
    let events = audit["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(events[0]["record_id"], app.org.org().0);
    assert_eq!(events[0]["actor_id"], app.users["ops"].0);
    assert_eq!(events[0]["source"], "api");
    assert_eq!(events[0]["before"], json!({ "untouched_days": 14, "coverage_target_pct": 300 }));
    assert_eq!(events[0]["after"], json!({ "untouched_days": 10, "coverage_target_pct": 250 }));

    // `{}` resets them all.
    let body = app.call(Method::PUT, SETTINGS, "admin", Some(json!({}))).await.expect(200).body;
    assert_eq!(body["thresholds"], body["defaults"]);
    assert_eq!(body["updated_by"], app.users["admin"].0);
    let audit = app.get("/api/v1/audit?record_kind=health_settings", "admin").await.expect(200).body;
    assert_eq!(audit["data"].as_array().unwrap().len(), 2);
}

/// The codes of a list of flags.
fn codes(flags: &Value) -> Vec<&str> {
    flags.as_array().unwrap().iter().map(|flag| flag["code"].as_str().unwrap()).collect()
}

pub async fn analytics_use_the_stored_health_thresholds(app: Shared) {
    // The rep's deal was created on 2026-01-01 with no activity since: as of 2026-03-01 it is
    // 59 days untouched (over the default 14) and dark for 59 days (over 21).
    let deal_health = format!("/api/v1/opportunities/{}/health?as_of=2026-03-01", app.deal);
    let body = app.get(&deal_health, "rep").await.expect(200).body;
    assert!(codes(&body["flags"]).contains(&"untouched"), "{body}");
    let untouched = body["flags"].as_array().unwrap().iter().find(|flag| flag["code"] == "untouched").unwrap();
    assert_eq!((untouched["value"].as_i64(), untouched["limit"].as_i64()), (Some(59), Some(14)));
    let health = app.get("/api/v1/analytics/health?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(health["summary"]["deal_counts"]["untouched"], 1);
    let dashboard = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(dashboard["health"]["summary"]["deal_counts"]["untouched"], 1);

    // 90 days untouched before a flag: the deal is no longer untouched anywhere, from the next
    // request on. Going dark keeps its own threshold (raised here to its maximum, 42: still over).
    app.call(Method::PUT, SETTINGS, "admin", Some(json!({ "untouched_days": 90, "going_dark_days": 42 }))).await.expect(200);
    let body = app.get(&deal_health, "rep").await.expect(200).body;
    assert!(!codes(&body["flags"]).contains(&"untouched"), "{body}");
    let dark = body["flags"].as_array().unwrap().iter().find(|flag| flag["code"] == "going_dark").expect("still going dark");
    assert_eq!(dark["limit"], 42);
    let health = app.get("/api/v1/analytics/health?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(health["summary"]["deal_counts"]["untouched"], 0);
    assert_eq!(health["summary"]["deal_counts"]["going_dark"], 1);
    let flagged = health["flagged_deals"].as_array().unwrap();
    assert!(flagged.iter().all(|deal| !codes(&deal["flags"]).contains(&"untouched")), "{health}");
    let dashboard = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(dashboard["health"]["summary"]["deal_counts"]["untouched"], 0);

    // Apart from the thresholds, the answers are what they were: the pipeline is untouched.
    assert_eq!(dashboard["pipeline"]["count"], 1);
    assert_eq!(dashboard["pipeline"]["amount"], "USD 12000.00");

    // Back to the defaults, back to the flag.
    app.call(Method::PUT, SETTINGS, "ops", Some(json!({}))).await.expect(200);
    let body = app.get(&deal_health, "rep").await.expect(200).body;
    assert!(codes(&body["flags"]).contains(&"untouched"), "{body}");
}
