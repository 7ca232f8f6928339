//! Inside-sales handoffs through the API: hand over, list, and the report of the share that
//! passed gate 1 per source.

use serde_json::json;

use crate::harness::Shared;

pub async fn handoffs_are_recorded_and_reported_per_source(app: Shared) {
    let pipeline = app.post("/api/v1/pipelines/from-template", "ops", json!({ "template": "b2b_the_model" })).await.expect(201).body;
    let rep = app.org.rep.id.0;
    let mut deals = Vec::new();
    for name in ["Inbound one", "Inbound two"] {
        let body = json!({ "name": name, "owner_id": rep, "pipeline_id": pipeline["id"], "close_date": "2027-06-30" });
        deals.push(app.post("/api/v1/opportunities", "rep", body).await.expect(201).id());
    }
    let outsider = app.outsider.0;
    // Bad bodies and a viewer are refused before anything is written.
    app.post(&format!("/api/v1/opportunities/{}/handoff", deals[0]), "rep", json!({ "to_user": outsider })).await.expect(422);
    app.post(&format!("/api/v1/opportunities/{}/handoff", deals[0]), "viewer", json!({ "to_user_id": outsider })).await.expect(403);
    // The rep hands both stage-1 deals to a rep of another team.
    for deal in &deals {
        let body = json!({ "to_user_id": outsider, "note": "Qualified by phone" });
        let handoff = app.post(&format!("/api/v1/opportunities/{deal}/handoff"), "rep", body).await.expect(201).body;
        assert_eq!((handoff["from_user_id"].as_i64(), handoff["to_user_id"].as_i64()), (Some(rep), Some(outsider)));
        assert_eq!(handoff["actor_id"].as_i64(), Some(rep));
        assert_eq!(handoff["note"], "Qualified by phone");
        assert_eq!(handoff["source"], "api");
    }
    let path = format!("/api/v1/opportunities/{}/handoffs", deals[0]);
    let listed = app.get(&path, "outsider").await.expect(200).body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["from_user_id"].as_i64(), Some(rep));
    // The deal is the outsider's now: the rep no longer sees it.
    app.get(&path, "rep").await.expect(404);
    let deal = app.get(&format!("/api/v1/opportunities/{}", deals[0]), "outsider").await.expect(200).body;
    assert_eq!(deal["owner_id"].as_i64(), Some(outsider));

    // One of the two passes gate 1.
    let stage_2 = pipeline["stages"][1]["id"].clone();
    let body = json!({ "stage_id": stage_2, "gate_override_reason": "Budget confirmed" });
    app.patch(&format!("/api/v1/opportunities/{}", deals[0]), "ops", body).await.expect(200);
    for who in ["ops", "manager", "rep"] {
        let report = app.get("/api/v1/handoffs/report", who).await.expect(200).body;
        assert_eq!(
            report["sources"],
            json!([{ "user_id": rep, "handed_over": 2, "became_sql": 1, "sql_share": "0.5000", "won": 0 }]),
            "{who}"
        );
    }
    let outsiders = app.get("/api/v1/handoffs/report?from=2020-01-01&to=2099-12-31", "outsider").await.expect(200).body;
    assert_eq!(outsiders, json!({ "from": "2020-01-01", "to": "2099-12-31", "sources": [] }));
    app.get("/api/v1/handoffs/report?from=yesterday", "ops").await.expect(400);
}
