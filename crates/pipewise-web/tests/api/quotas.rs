//! Quotas through the API: ops set, spread, import and remove them; everyone else reads the
//! ones of the people they may see; bad input names its line, column or field and changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::harness::{App, Reply, Shared};

async fn csv(app: &App, who: &str, text: &str) -> Reply {
    let token = app.tokens.get(who).unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/quotas/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(text.to_owned()))
        .unwrap();
    app.send(request).await
}

fn amounts(body: &Value) -> Vec<(String, i64, String, String)> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|quota| {
            (
                quota["subject"].as_str().unwrap().to_owned(),
                quota["id"].as_i64().unwrap(),
                quota["period"].as_str().unwrap().to_owned(),
                quota["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub async fn ops_set_spread_import_and_remove_quotas(app: Shared) {
    let rep = app.org.rep.id.0;
    let outsider = app.outsider.0;
    let path = format!("/api/v1/quotas/users/{rep}/2026-Q1");
    // Only ops and admins set quotas.
    app.call(Method::PUT, &path, "rep", Some(json!({ "amount": "1" }))).await.expect(403);
    app.call(Method::PUT, &path, "manager", Some(json!({ "amount": "1" }))).await.expect(403);
    let set = app.call(Method::PUT, &path, "ops", Some(json!({ "amount": "120000" }))).await.expect(200).body;
    assert_eq!(set["period"], "2026-Q1");
    assert_eq!(
        (set["first_day"].clone(), set["last_day"].clone(), set["amount"].clone()),
        (json!("2026-01-01"), json!("2026-03-31"), json!("120000.00"))
    );
    // A period that is no fiscal period is a bad path (400, as the document says); a bad amount
    // is a bad field (422); nothing stored.
    let bad = app
        .call(Method::PUT, &format!("/api/v1/quotas/users/{rep}/2026-Q7"), "ops", Some(json!({ "amount": "-5" })))
        .await
        .expect(400)
        .body;
    assert!(bad["detail"].as_str().unwrap().starts_with("path parameter period: \"2026-Q7\""), "{bad}");
    let bad = app
        .call(Method::PUT, &format!("/api/v1/quotas/users/{rep}/2026-Q2"), "ops", Some(json!({ "amount": "-5" })))
        .await
        .expect(422)
        .body;
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["amount"], "{bad}");
    app.call(Method::PUT, "/api/v1/quotas/users/99999/2026-Q1", "ops", Some(json!({ "amount": "5" }))).await.expect(422);

    // A year spread over its quarters by seasonality, exact to the cent.
    let spread =
        json!({ "subject": "user", "id": outsider, "year": "2026", "kind": "quarter", "amount": "1000000", "weights": [2, 3, 3, 4] });
    let spread = app.post("/api/v1/quotas/seasonal", "admin", spread).await.expect(200).body;
    let parts: Vec<String> = spread["data"].as_array().unwrap().iter().map(|quota| quota["amount"].as_str().unwrap().to_owned()).collect();
    assert_eq!(parts, ["166666.67", "250000.00", "250000.00", "333333.33"]);

    // Everyone's for ops; a rep reads only their own.
    let all = app.get("/api/v1/quotas?period=2026", "ops").await.expect(200).body;
    assert_eq!(all["period"], json!({ "key": "2026", "start": "2026-01-01", "end": "2026-12-31" }));
    assert_eq!(amounts(&all).len(), 5);
    let own = app.get("/api/v1/quotas", "rep").await.expect(200).body;
    assert_eq!(amounts(&own), [("user".to_owned(), rep, "2026-Q1".to_owned(), "120000.00".to_owned())]);
    app.get("/api/v1/quotas?period=soon", "rep").await.expect(400);

    // The export imports as it is; a changed file sets, removes and leaves alone.
    let export = app.get("/api/v1/quotas/export?period=2026", "ops").await.expect(200);
    assert!(export.content_type.starts_with("text/csv"), "{}", export.content_type);
    let text = export.body.as_str().unwrap().to_owned();
    assert!(text.starts_with("subject,who,name,period,first_day,last_day,amount,currency\n"), "{text}");
    assert!(text.contains(&format!("user,{},", app.org.rep.email)), "{text}");
    let same = csv(&app, "ops", &text).await.expect(200).body;
    assert_eq!(same, json!({ "set": 0, "removed": 0, "unchanged": 5 }));
    let changed = format!("who,subject,period,amount\n{},user,2026-Q1,130000\nout@acme.test,user,2026-Q4,\n", app.org.rep.email);
    assert_eq!(csv(&app, "ops", &changed).await.expect(200).body, json!({ "set": 1, "removed": 1, "unchanged": 0 }));
    let after = amounts(&app.get("/api/v1/quotas?period=2026", "ops").await.expect(200).body);
    assert!(after.contains(&("user".to_owned(), rep, "2026-Q1".to_owned(), "130000.00".to_owned())), "{after:?}");
    assert_eq!(after.len(), 4);

    // All or nothing: bad lines named by line and column, nothing written, a rep refused.
    let broken = format!(
        "subject,who,period,amount\nuser,{},2026-Q2,1\nuser,nobody@acme.test,2026-Q2,5\nuser,{},2026-Q2,7\nteam,x,2026-Q9,abc\n",
        app.org.rep.email, app.org.rep.email
    );
    let refused = csv(&app, "ops", &broken).await.expect(422).body;
    let named: Vec<String> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| format!("{} {}", error["record"].as_str().unwrap_or_default(), error["field"].as_str().unwrap()))
        .collect();
    assert_eq!(named, ["line 3 who", "line 4 period", "line 5 who", "line 5 period", "line 5 amount"], "{refused}");
    assert_eq!(amounts(&app.get("/api/v1/quotas?period=2026", "ops").await.expect(200).body), after);
    csv(&app, "rep", "subject,who,period,amount\n").await.expect(403);
    let headless = csv(&app, "ops", "name,amount\nx,1\n").await.expect(422).body;
    assert!(headless.to_string().contains("subject"), "{headless}");

    // Removing: 204, then 404; audited all along.
    app.call(Method::DELETE, &format!("/api/v1/quotas/users/{rep}/2026-Q1"), "ops", None).await.expect(204);
    app.call(Method::DELETE, &format!("/api/v1/quotas/users/{rep}/2026-Q1"), "ops", None).await.expect(404);
    let audit = app.get("/api/v1/audit?limit=100", "admin").await.expect(200).body;
    let quota_entries = audit["data"].as_array().unwrap().iter().filter(|entry| entry["record_kind"] == "quota").count();
    // 1 set, 4 spread, 1 update and 1 delete by import, 1 delete.
    assert_eq!(quota_entries, 8, "{audit}");

    // The fiscal year start, through the organisation's settings.
    app.call(Method::PUT, "/api/v1/settings/organisation", "rep", Some(json!({ "fiscal_year_start_month": 4 }))).await.expect(403);
    let settings =
        app.call(Method::PUT, "/api/v1/settings/organisation", "ops", Some(json!({ "fiscal_year_start_month": 4 }))).await.expect(200).body;
    assert_eq!(settings["fiscal_year_start_month"], 4);
    app.call(Method::PUT, "/api/v1/settings/organisation", "ops", Some(json!({ "fiscal_year_start_month": 13 }))).await.expect(422);
    app.call(Method::PUT, "/api/v1/settings/organisation", "ops", Some(json!({}))).await.expect(422);
    let fiscal = app.get("/api/v1/quotas", "ops").await.expect(200).body;
    assert_eq!(fiscal["period"], json!({ "key": "2026", "start": "2025-04-01", "end": "2026-03-31" }));
}
