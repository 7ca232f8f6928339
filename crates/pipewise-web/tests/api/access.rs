//! Who may do what, through the API: every role against every resource, and deals (with their
//! tasks and activities) that a reader may not see answering 404 like missing ones.

use serde_json::{Value, json};

use crate::harness::{App, Shared};

const ROLES: [&str; 5] = ["admin", "ops", "manager", "rep", "viewer"];

/// A record of each kind to read and change, made by the system.
struct Records {
    account: i64,
    contact: i64,
    lead: i64,
    task: i64,
    activity: i64,
    team: i64,
}

async fn records(app: &App) -> Records {
    let rep = app.org.rep.id.0;
    let deal = app.deal.0;
    let account = app.post("/api/v1/accounts", "admin", json!({ "name": "Globex" })).await.expect(201).id();
    let contact = app.post("/api/v1/contacts", "admin", json!({ "name": "Gil", "account_id": account })).await.expect(201).id();
    let lead = app.post("/api/v1/leads", "admin", json!({ "name": "Lee" })).await.expect(201).id();
    let task =
        app.post("/api/v1/tasks", "rep", json!({ "title": "Call back", "owner_id": rep, "opportunity_id": deal })).await.expect(201).id();
    let activity = app
        .post(
            "/api/v1/activities",
            "rep",
            json!({ "kind": "call", "direction": "outbound", "occurred_at": "2026-02-01T10:00:00Z", "subject": "Intro", "opportunity_id": deal }),
        )
        .await
        .expect(201)
        .id();
    let team = app.post("/api/v1/teams", "admin", json!({ "name": "Enterprise" })).await.expect(201).id();
    Records { account, contact, lead, task, activity, team }
}

/// `(resource, create body, patch target id, patch body, who may create, who may patch)`.
type Case = (&'static str, Value, Option<i64>, Value, &'static [&'static str], &'static [&'static str]);

/// The cases of one role.
/// Everyone may list and get every resource.
fn cases(app: &App, records: &Records, role: &str, round: usize) -> Vec<Case> {
    let rep = app.org.rep.id.0;
    let writers: &'static [&'static str] = &["admin", "ops", "manager", "rep"];
    let admins: &'static [&'static str] = &["admin"];
    let designers: &'static [&'static str] = &["admin", "ops"];
    let unique = format!("{role}{round}");
    vec![
        (
            "opportunities",
            json!({ "name": format!("Deal by {unique}"), "owner_id": rep, "pipeline_id": app.org.simple.id.0, "amount": "EUR 100.00" }),
            Some(app.deal.0),
            json!({ "next_step": format!("Step by {unique}") }),
            writers,
            writers,
        ),
        (
            "accounts",
            json!({ "name": format!("Account {unique}"), "domains": [format!("{unique}.example.com")] }),
            Some(records.account),
            json!({ "region": format!("Region {unique}") }),
            writers,
            writers,
        ),
        ("contacts", json!({ "name": format!("Contact {unique}") }), Some(records.contact), json!({ "title": unique }), writers, writers),
        (
            "users",
            json!({ "email": format!("{unique}@new.test"), "name": "New", "role": "rep" }),
            Some(app.outsider.0),
            json!({ "name": format!("Renamed by {unique}") }),
            admins,
            admins,
        ),
        (
            "teams",
            json!({ "name": format!("Team {unique}") }),
            Some(records.team),
            json!({ "name": format!("Team by {unique}") }),
            designers,
            designers,
        ),
        (
            "pipelines",
            json!({ "name": format!("Pipe {unique}"), "stages": [{ "name_en": "Open" }, { "name_en": "Won", "kind": "won", "win_probability": "100" }, { "name_en": "Lost", "kind": "lost" }] }),
            None,
            Value::Null,
            designers,
            &[],
        ),
        (
            "leads",
            json!({ "name": format!("Lead {unique}") }),
            Some(records.lead),
            json!({ "status": "working", "company": unique }),
            writers,
            writers,
        ),
        (
            "activities",
            json!({ "kind": "note", "direction": "internal", "occurred_at": "2026-02-02T10:00:00+09:00", "subject": unique }),
            None,
            Value::Null,
            writers,
            &[],
        ),
        (
            "tasks",
            json!({ "title": format!("Task {unique}") }),
            Some(records.task),
            json!({ "title": format!("Task by {unique}") }),
            writers,
            writers,
        ),
    ]
}

pub async fn every_role_against_every_resource(app: Shared) {
    let records = records(&app).await;
    let ids = [
        ("opportunities", app.deal.0),
        ("accounts", records.account),
        ("contacts", records.contact),
        ("users", app.org.rep.id.0),
        ("teams", records.team),
        ("pipelines", app.org.simple.id.0),
        ("leads", records.lead),
        ("activities", records.activity),
        ("tasks", records.task),
    ];
    let mut checked = 0;
    for (round, role) in ROLES.into_iter().enumerate() {
        for (resource, id) in ids {
            let list = app.get(&format!("/api/v1/{resource}"), role).await.expect(200);
            let listed: Vec<i64> = list.body["data"].as_array().unwrap().iter().map(|row| row["id"].as_i64().unwrap()).collect();
            assert!(listed.contains(&id), "{role} lists {resource}: {listed:?} lacks {id}");
            let got = app.get(&format!("/api/v1/{resource}/{id}"), role).await.expect(200);
            assert_eq!(got.body["id"], id, "{role} gets {resource}");
            checked += 2;
        }
        for (resource, create, target, patch, creators, patchers) in cases(&app, &records, role, round) {
            let reply = app.post(&format!("/api/v1/{resource}"), role, create).await;
            let expected = if creators.contains(&role) { 201 } else { 403 };
            assert_eq!(reply.status.as_u16(), expected, "{role} creates {resource}: {}", reply.body);
            if expected == 403 {
                assert_eq!(reply.body["code"], "forbidden", "{role} creates {resource}");
            }
            checked += 1;
            if let Some(target) = target {
                let reply = app.patch(&format!("/api/v1/{resource}/{target}"), role, patch.clone()).await;
                let expected = if patchers.contains(&role) { 200 } else { 403 };
                assert_eq!(reply.status.as_u16(), expected, "{role} patches {resource}: {}", reply.body);
                if expected == 200 {
                    let (field, value) = patch.as_object().unwrap().iter().next().unwrap();
                    assert_eq!(&reply.body[field], value, "{role} patches {resource}");
                }
                checked += 1;
            }
        }
    }
    // 5 roles × (9 resources × list and get + 9 creates + 7 patches).
    assert_eq!(checked, 5 * (9 * 2 + 9 + 7));
}

pub async fn another_reps_deal_is_not_found(app: Shared) {
    let path = format!("/api/v1/opportunities/{}", app.deal.0);
    let missing = app.get("/api/v1/opportunities/999999", "outsider").await.expect(404);
    let hidden = app.get(&path, "outsider").await.expect(404);
    // Exactly like a missing one, but for the id.
    assert_eq!(hidden.body["code"], missing.body["code"]);
    assert_eq!(hidden.body["detail"], format!("opportunity {} does not exist", app.deal.0));
    app.get(&format!("{path}/history"), "outsider").await.expect(404);
    app.get(&format!("{path}?as_of=2026-06-01T00:00:00Z"), "outsider").await.expect(404);
    app.patch(&path, "outsider", json!({ "name": "Mine" })).await.expect(404);
    let listed = app.get("/api/v1/opportunities", "outsider").await.expect(200);
    assert_eq!(listed.body["data"], json!([]));
    // The rep's peer-less manager sees it; the viewer sees it but may not change it.
    app.get(&path, "manager").await.expect(200);
    let refused = app.patch(&path, "viewer", json!({ "name": "Mine" })).await.expect(403);
    assert_eq!(refused.body["detail"], format!("you may view opportunity {} but not change it", app.deal.0));
}

pub async fn tasks_and_activities_follow_the_deals(app: Shared) {
    let deal = app.deal.0;
    let task = app.post("/api/v1/tasks", "rep", json!({ "title": "Send deck", "opportunity_id": deal })).await.expect(201).id();
    let own = app.post("/api/v1/tasks", "outsider", json!({ "title": "My own" })).await.expect(201).id();
    let activity = app
        .post(
            "/api/v1/activities",
            "rep",
            json!({ "kind": "email", "direction": "inbound", "occurred_at": "2026-02-01T10:00:00Z", "subject": "Re: pricing", "opportunity_id": deal }),
        )
        .await
        .expect(201)
        .id();
    let ids = |reply: crate::harness::Reply| {
        reply.body["data"].as_array().unwrap().iter().map(|row| row["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(ids(app.get("/api/v1/tasks", "outsider").await.expect(200)), [own]);
    assert_eq!(ids(app.get("/api/v1/tasks", "rep").await.expect(200)), [task]);
    assert_eq!(ids(app.get("/api/v1/tasks", "manager").await.expect(200)), [task]);
    assert_eq!(ids(app.get("/api/v1/tasks?sort=id", "admin").await.expect(200)), [task, own]);
    app.get(&format!("/api/v1/tasks/{task}"), "outsider").await.expect(404);
    app.patch(&format!("/api/v1/tasks/{task}"), "outsider", json!({ "completed": true })).await.expect(404);
    assert_eq!(ids(app.get("/api/v1/activities", "outsider").await.expect(200)), Vec::<i64>::new());
    assert_eq!(ids(app.get(&format!("/api/v1/activities?opportunity_id={deal}"), "manager").await.expect(200)), [activity]);
    app.get(&format!("/api/v1/activities/{activity}"), "outsider").await.expect(404);
    // Completing and reopening.
    let done = app.patch(&format!("/api/v1/tasks/{task}"), "rep", json!({ "completed": true, "due_on": "2026-03-10" })).await.expect(200);
    assert_eq!((done.body["completed"].clone(), done.body["due_on"].clone()), (json!(true), json!("2026-03-10")));
    assert_eq!(ids(app.get("/api/v1/tasks?open=true", "rep").await.expect(200)), Vec::<i64>::new());
    assert_eq!(ids(app.get("/api/v1/tasks?open=false", "rep").await.expect(200)), [task]);
    let reopened = app.patch(&format!("/api/v1/tasks/{task}"), "rep", json!({ "completed": false, "due_on": null })).await.expect(200);
    assert_eq!((reopened.body["completed_at"].clone(), reopened.body["due_on"].clone()), (json!(null), json!(null)));
    // A rep cannot hand a task to a peer in another team.
    let outsider = app.outsider.0;
    app.patch(&format!("/api/v1/tasks/{task}"), "rep", json!({ "owner_id": outsider })).await.expect(403);
}
