//! Opportunities through the API: history and "as of", paging, filters and sorts, patches, and
//! hostile strings.

use std::collections::BTreeSet;

use pipewise_test_support::fixtures::at;
use serde_json::json;

use crate::harness::{App, Shared};

pub async fn as_of_and_history(app: Shared) {
    app.set_clock(at("2026-04-01T00:00:00Z"));
    let simple = app.org.simple.id.0;
    let rep = app.org.rep.id.0;
    let created = app
        .post("/api/v1/opportunities", "rep", json!({ "name": "Initech", "owner_id": rep, "pipeline_id": simple, "amount": "USD 1000" }))
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(created.headers["location"], format!("/api/v1/opportunities/{id}"));
    assert_eq!(created.body["amount"], "USD 1000.00");
    app.set_clock(at("2026-05-01T00:00:00Z"));
    app.patch(&format!("/api/v1/opportunities/{id}"), "rep", json!({ "amount": "USD 2500.50", "close_date": "2026-09-30" }))
        .await
        .expect(200);
    let path = format!("/api/v1/opportunities/{id}");
    let now = app.get(&path, "manager").await.expect(200);
    assert_eq!((now.body["amount"].clone(), now.body["close_date"].clone()), (json!("USD 2500.50"), json!("2026-09-30")));
    let then = app.get(&format!("{path}?as_of=2026-04-15T00:00:00Z"), "manager").await.expect(200);
    assert_eq!((then.body["amount"].clone(), then.body["close_date"].clone()), (json!("USD 1000.00"), json!(null)));
    let offset = app.get(&format!("{path}?as_of=2026-04-15T09:00:00%2B09:00"), "manager").await.expect(200);
    assert_eq!(offset.body, then.body);
    let before = app.get(&format!("{path}?as_of=2026-03-31T23:59:59Z"), "manager").await.expect(404);
    assert_eq!(before.body["code"], "not_found");
    let bad = app.get(&format!("{path}?as_of=yesterday"), "manager").await.expect(400);
    assert_eq!(bad.body["detail"], "query parameter as_of: \"yesterday\" is not an RFC 3339 time with an offset");
    let history = app.get(&format!("{path}/history"), "rep").await.expect(200);
    let events = history.body["data"].as_array().unwrap();
    let changes: Vec<(String, String, String)> = events
        .iter()
        .filter(|event| event["field"] == "amount" || event["field"] == "close_date")
        .map(|event| (event["field"].as_str().unwrap().to_owned(), event["new"].to_string(), event["source"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        changes,
        [
            ("amount".to_owned(), "\"USD 1000.00\"".to_owned(), "api".to_owned()),
            ("amount".to_owned(), "\"USD 2500.50\"".to_owned(), "api".to_owned()),
            ("close_date".to_owned(), "\"2026-09-30\"".to_owned(), "api".to_owned())
        ]
    );
    assert!(events.iter().all(|event| event["actor_id"] == rep));
    let last = events.last().unwrap();
    assert!(last["at"].as_str().unwrap().starts_with("2026-05-01T00:00:00"), "{last}");
    assert_eq!(last["old"], json!(null));
    // History pages too.
    let first = app.get(&format!("{path}/history?limit=2"), "rep").await.expect(200);
    assert_eq!(first.body["data"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("{path}/history?limit=200&cursor={cursor}"), "rep").await.expect(200);
    assert_eq!(rest.body["data"].as_array().unwrap().len(), events.len() - 2);
}

/// Follows `next_cursor` from `path` until the last page; returns every id in order.
async fn walk(app: &App, path: &str, who: &str) -> Vec<i64> {
    walk_from(app, path, who, None).await
}

async fn walk_from(app: &App, path: &str, who: &str, mut cursor: Option<String>) -> Vec<i64> {
    let mut ids = Vec::new();
    for _ in 0..100 {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(cursor) => format!("{path}{separator}cursor={cursor}"),
            None => path.to_owned(),
        };
        let page = app.get(&url, who).await.expect(200);
        ids.extend(page.body["data"].as_array().unwrap().iter().map(|row| row["id"].as_i64().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
    panic!("{path} did not end");
}

pub async fn cursor_pagination_walks_every_row_once(app: Shared) {
    let simple = app.org.simple.id.0;
    let rep = app.org.rep.id.0;
    // Names and amounts repeat, so ties are broken by id.
    for n in 0..11 {
        let amount = if n % 4 == 0 { json!(null) } else { json!(format!("USD {}", (n % 3) * 100)) };
        let body = json!({ "name": format!("Deal {}", n % 5), "owner_id": rep, "pipeline_id": simple, "amount": amount });
        app.post("/api/v1/opportunities", "rep", body).await.expect(201);
    }
    let all = walk(&app, "/api/v1/opportunities?limit=200", "rep").await;
    assert_eq!(all.len(), 12);
    for sort in ["id", "-id", "name", "-name", "amount", "-amount", "created_at", "-close_date"] {
        for limit in [1, 3, 5] {
            let walked = walk(&app, &format!("/api/v1/opportunities?limit={limit}&sort={sort}"), "rep").await;
            assert_eq!(walked.len(), all.len(), "sort {sort}, limit {limit}: {walked:?}");
            assert_eq!(walked.iter().collect::<BTreeSet<_>>().len(), all.len(), "sort {sort}, limit {limit}: a row twice");
        }
    }
    let by_id = walk(&app, "/api/v1/opportunities?limit=4", "rep").await;
    assert_eq!(by_id, all, "the default order is by id");
    let mut descending = all.clone();
    descending.reverse();
    assert_eq!(walk(&app, "/api/v1/opportunities?limit=4&sort=-id", "rep").await, descending);
    // A row added while walking shows up on a later page; none is repeated.
    let first = app.get("/api/v1/opportunities?limit=5", "rep").await.expect(200);
    app.post("/api/v1/opportunities", "rep", json!({ "name": "Late", "owner_id": rep, "pipeline_id": simple })).await.expect(201);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = walk_from(&app, "/api/v1/opportunities?limit=5", "rep", Some(cursor)).await;
    assert_eq!(rest.len(), 13 - 5);
    // Other resources page the same way.
    for n in 0..6 {
        app.post("/api/v1/accounts", "rep", json!({ "name": format!("Company {}", n % 2) })).await.expect(201);
    }
    for sort in ["name", "-name", "id", "-employee_count"] {
        let walked = walk(&app, &format!("/api/v1/accounts?limit=2&sort={sort}"), "rep").await;
        assert_eq!(walked.iter().collect::<BTreeSet<_>>().len(), 7, "accounts by {sort}");
        assert_eq!(walked.len(), 7, "accounts by {sort}");
    }
    // A cursor belongs to its sort.
    let page = app.get("/api/v1/accounts?limit=2&sort=name", "rep").await.expect(200);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let wrong = app.get(&format!("/api/v1/accounts?limit=2&sort=id&cursor={cursor}"), "rep").await.expect(400);
    assert_eq!(wrong.body["detail"], "query parameter cursor: belongs to a list sorted by \"name\", not \"id\"");
    let garbage = app.get("/api/v1/accounts?cursor=zz", "rep").await.expect(400);
    assert_eq!(garbage.body["detail"], "query parameter cursor: is not a cursor this API gave out");
}

pub async fn hostile_strings_are_stored_verbatim(app: Shared) {
    let hostile = ["Robert'); DROP TABLE opportunity;--", "<script>alert(1)</script>", "\" OR 1=1 --", "Ünïcödé 영업 🚀", "50% off_%"];
    let simple = app.org.simple.id.0;
    let rep = app.org.rep.id.0;
    for name in hostile {
        let deal = app
            .post("/api/v1/opportunities", "rep", json!({ "name": name, "owner_id": rep, "pipeline_id": simple, "next_step": name }))
            .await
            .expect(201);
        let fetched = app.get(&format!("/api/v1/opportunities/{}", deal.id()), "rep").await.expect(200);
        assert_eq!((fetched.body["name"].as_str(), fetched.body["next_step"].as_str()), (Some(name), Some(name)));
        let account = app.post("/api/v1/accounts", "rep", json!({ "name": name, "industry": name })).await.expect(201);
        let fetched = app.get(&format!("/api/v1/accounts/{}", account.id()), "rep").await.expect(200);
        assert_eq!(fetched.body["name"].as_str(), Some(name));
        let contact = app.post("/api/v1/contacts", "rep", json!({ "name": name, "title": name })).await.expect(201);
        let patched = app.patch(&format!("/api/v1/contacts/{}", contact.id()), "rep", json!({ "phone": name })).await.expect(200);
        assert_eq!((patched.body["name"].as_str(), patched.body["phone"].as_str()), (Some(name), Some(name)));
    }
    // The tables are all still there, and the hostile names list like any other.
    let names: Vec<String> = app.get("/api/v1/opportunities?sort=id&limit=200", "rep").await.expect(200).body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 1 + hostile.len());
    assert!(hostile.iter().all(|name| names.iter().any(|stored| stored == name)));
    // A hostile filter value is just a value.
    app.get("/api/v1/opportunities?status=open'%20OR%201=1", "rep").await.expect(400);
    app.get("/api/v1/leads?status=new", "rep").await.expect(200);
}

pub async fn patches_clear_with_null_and_refuse_unknown_fields(app: Shared) {
    let path = format!("/api/v1/opportunities/{}", app.deal.0);
    let cleared = app.patch(&path, "rep", json!({ "amount": null, "next_step": null })).await.expect(200);
    assert_eq!((cleared.body["amount"].clone(), cleared.body["next_step"].clone()), (json!(null), json!(null)));
    assert_eq!(cleared.body["name"], "Rep's deal", "absent fields stay");
    let account = app.org.account.id.0;
    let account_path = format!("/api/v1/accounts/{account}");
    let patched = app
        .patch(&account_path, "rep", json!({ "industry": null, "employee_count": 12, "domains": ["new-acme.example"] }))
        .await
        .expect(200);
    assert_eq!(patched.body["industry"], json!(null));
    assert_eq!(patched.body["employee_count"], 12);
    assert_eq!(patched.body["domains"], json!(["new-acme.example"]));
    let refused = app.patch(&account_path, "rep", json!({ "colour": "red", "name": null })).await.expect(422);
    assert_eq!(
        refused.body["errors"],
        json!([
            { "record": format!("account {account}"), "field": "(body)", "detail": "unknown field \"colour\"" },
            { "record": format!("account {account}"), "field": "name", "detail": "is required" },
        ])
    );
    // Users change their own name and zone, not their role.
    let rep = app.org.rep.id.0;
    let me =
        app.patch(&format!("/api/v1/users/{rep}"), "rep", json!({ "name": "Ravi R.", "time_zone": "Europe/Berlin" })).await.expect(200);
    assert_eq!((me.body["name"].clone(), me.body["time_zone"].clone()), (json!("Ravi R."), json!("Europe/Berlin")));
    app.patch(&format!("/api/v1/users/{rep}"), "rep", json!({ "role": "admin" })).await.expect(403);
    // An admin cannot lock themself out; a manager loop is refused.
    let admin = app.users["admin"].0;
    let locked = app.patch(&format!("/api/v1/users/{admin}"), "admin", json!({ "active": false, "role": "rep" })).await.expect(422);
    assert_eq!(locked.body["errors"].as_array().unwrap().len(), 2);
    let manager = app.org.manager.id.0;
    let looped = app.patch(&format!("/api/v1/users/{manager}"), "admin", json!({ "manager_id": rep })).await.expect(422);
    assert_eq!(
        looped.body["errors"][0]["detail"],
        format!("user {rep} reports to user {manager}, so user {manager} cannot report to them")
    );
    // A deactivated user's token stops working.
    app.patch(&format!("/api/v1/users/{}", app.outsider.0), "admin", json!({ "active": false })).await.expect(200);
    app.get("/api/v1/me", "outsider").await.expect(401);
}

pub async fn filters_and_sorts(app: Shared) {
    let simple = app.org.simple.id.0;
    let b2b = app.org.b2b.id.0;
    let rep = app.org.rep.id.0;
    let manager = app.org.manager.id.0;
    let won_stage = app.org.simple.stages.iter().find(|stage| stage.kind.as_str() == "won").unwrap().id.0;
    app.post("/api/v1/opportunities", "manager", json!({ "name": "B", "owner_id": manager, "pipeline_id": b2b, "amount": "USD 5" }))
        .await
        .expect(201);
    let won = app
        .post(
            "/api/v1/opportunities",
            "rep",
            json!({ "name": "A", "owner_id": rep, "pipeline_id": simple, "stage_id": won_stage, "amount": "USD 50" }),
        )
        .await
        .expect(201)
        .id();
    let names = |reply: crate::harness::Reply| -> Vec<String> {
        reply.body["data"].as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(app.get(&format!("/api/v1/opportunities?pipeline_id={b2b}"), "manager").await.expect(200)), ["B"]);
    assert_eq!(names(app.get(&format!("/api/v1/opportunities?owner_id={manager}"), "manager").await.expect(200)), ["B"]);
    assert_eq!(names(app.get("/api/v1/opportunities?status=won", "manager").await.expect(200)), ["A"]);
    assert_eq!(names(app.get(&format!("/api/v1/opportunities?stage_id={won_stage}"), "manager").await.expect(200)), ["A"]);
    let account = app.org.account.id.0;
    assert_eq!(
        names(app.get(&format!("/api/v1/opportunities?account_id={account}&sort=name"), "manager").await.expect(200)),
        ["Rep's deal"]
    );
    assert_eq!(names(app.get("/api/v1/opportunities?sort=-amount", "manager").await.expect(200)), ["Rep's deal", "A", "B"]);
    assert_eq!(
        names(app.get("/api/v1/opportunities?sort=name", "rep").await.expect(200)),
        ["A", "Rep's deal"],
        "the rep sees only their own"
    );
    let won_deal = app.get(&format!("/api/v1/opportunities/{won}"), "rep").await.expect(200);
    assert_eq!(won_deal.body["status"], "won");
    let unknown = app.get("/api/v1/opportunities?sort=colour", "rep").await.expect(400);
    assert_eq!(
        unknown.body["detail"],
        "query parameter sort: cannot sort by \"colour\"; sort by one of id, name, amount, close_date, created_at"
    );
    let param = app.get("/api/v1/opportunities?owner=1", "rep").await.expect(400);
    assert!(
        param.body["detail"].as_str().unwrap().starts_with("unknown query parameter \"owner\"; this endpoint takes: owner_id, "),
        "{}",
        param.body
    );
    let limit = app.get("/api/v1/opportunities?limit=201", "rep").await.expect(400);
    assert_eq!(limit.body["detail"], "query parameter limit: \"201\" is not a whole number from 1 to 200");
    let pipelines = app.get("/api/v1/pipelines?sort=name", "rep").await.expect(200);
    assert!(pipelines.body["data"][0]["stages"][0]["win_probability"].is_string());
    let contacts =
        app.post("/api/v1/contacts", "rep", json!({ "name": "Cy", "account_id": account, "emails": ["CY@Example.com"] })).await.expect(201);
    assert_eq!(contacts.body["emails"], json!(["cy@example.com"]));
    assert_eq!(
        app.get(&format!("/api/v1/contacts?account_id={account}"), "rep").await.expect(200).body["data"].as_array().unwrap().len(),
        1
    );
    app.post("/api/v1/leads", "rep", json!({ "name": "L1", "status": "qualified", "owner_id": rep })).await.expect(201);
    app.post("/api/v1/leads", "rep", json!({ "name": "L2" })).await.expect(201);
    assert_eq!(names(app.get("/api/v1/leads?status=qualified", "rep").await.expect(200)), ["L1"]);
    assert_eq!(names(app.get(&format!("/api/v1/leads?owner_id={rep}"), "rep").await.expect(200)), ["L1"]);
}
