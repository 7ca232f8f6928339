//! Pay through the API: ops save a plan, assign it and compute a statement whose line traces to
//! the deal; the payee reads it and disputes a line; another rep cannot see it; what-if; lock.

use pipewise_app as app;
use pipewise_app::WriteCtx;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_test_support::fixtures::at;
use pipewise_test_support::transact;
use serde_json::json;

use crate::harness::Shared;

pub async fn ops_pay_a_rep_who_traces_and_disputes_it(app: Shared) {
    let rep = app.org.rep.id.0;
    // The rep won 5,000 in February.
    let won_stage = app.org.simple.stages[4].id;
    let deal = app.blocking(|| {
        transact(&*app.store, |tx| {
            let ctx = WriteCtx { at: at("2026-02-10T10:00:00Z"), ..app.org.ctx };
            let win = OpportunityPatch {
                stage_id: Some(won_stage),
                amount: Some(Some("USD 5000".parse().unwrap())),
                ..OpportunityPatch::default()
            };
            app::deals::update_opportunity(tx, &ctx, app.deal, &win)?;
            Ok(app.deal)
        })
        .unwrap()
    });
    let definition = json!({ "currency": "USD", "components": [{ "type": "commission", "rule": "AE", "measure": "revenue",
        "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.1" }] }] });
    app.post("/api/v1/pay/plans", "rep", json!({ "name": "AE", "definition": definition })).await.expect(403);
    let bad = app.post("/api/v1/pay/plans", "ops", json!({ "name": "AE", "definition": { "components": [] } })).await.expect(422).body;
    assert!(bad.to_string().contains("currency"), "{bad}");
    let plan = app.post("/api/v1/pay/plans", "ops", json!({ "name": "AE", "definition": definition })).await.expect(201).body;
    assert_eq!(plan["version"], 1);
    app.post("/api/v1/pay/assignments", "ops", json!({ "user_id": rep, "plan": "AE", "first_day": "2026-01-01" })).await.expect(200);

    let statement = app.post("/api/v1/pay/statements", "ops", json!({ "user_id": rep, "period": "2026-Q1" })).await.expect(200).body;
    assert_eq!((statement["total"].clone(), statement["status"].clone()), (json!("500.00"), json!("open")));
    let line = &statement["lines"][0];
    assert_eq!((line["deal_id"].as_i64(), line["rule"].clone(), line["rate"].clone()), (Some(deal.0), json!("AE"), json!("0.1")));
    assert_eq!(line["credit"]["amount"], "5000.00");
    let id = statement["id"].as_i64().unwrap();

    // The payee reads it; another rep does not; the list holds it.
    app.get(&format!("/api/v1/pay/statements/{id}"), "rep").await.expect(200);
    app.get(&format!("/api/v1/pay/statements/{id}"), "outsider").await.expect(404);
    let list = app.get("/api/v1/pay/statements", "rep").await.expect(200).body;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/pay/statements", "outsider").await.expect(200).body["data"], json!([]));
    let what_if = app.get(&format!("/api/v1/pay/what-if?user_id={rep}&period=2026-Q1&amount=20000"), "rep").await.expect(200).body;
    assert_eq!(what_if["added"], "2000.00");
    app.get(&format!("/api/v1/pay/what-if?user_id={rep}&period=2026-Q1&amount=-5"), "rep").await.expect(400);

    // A dispute of line 1, reviewed by ops; a locked statement stays as it was.
    let dispute = app
        .post(&format!("/api/v1/pay/statements/{id}/disputes"), "rep", json!({ "line": 1, "note": "Short by 100" }))
        .await
        .expect(201)
        .body;
    let dispute_id = dispute["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/pay/disputes/{dispute_id}/status"), "rep", json!({ "status": "in_review" })).await.expect(403);
    app.post(&format!("/api/v1/pay/disputes/{dispute_id}/status"), "ops", json!({ "status": "in_review" })).await.expect(200);
    app.post(&format!("/api/v1/pay/disputes/{dispute_id}/status"), "ops", json!({ "status": "resolved" })).await.expect(422);
    let locked = app.post(&format!("/api/v1/pay/statements/{id}/lock"), "ops", json!({})).await.expect(200).body;
    assert_eq!(locked["status"], "locked");
    let again = app.post("/api/v1/pay/statements", "ops", json!({ "user_id": rep, "period": "2026-Q1" })).await.expect(200).body;
    assert_eq!((again["id"].as_i64(), again["total"].clone(), again["status"].clone()), (Some(id), json!("500.00"), json!("locked")));
    let read = app.get(&format!("/api/v1/pay/statements/{id}"), "rep").await.expect(200).body;
    assert_eq!(read["disputes"][0]["status"], "in_review");

    // Splits: ops, admins and the owner's managers set them; revenue shares add up to 1.
    let splits_path = format!("/api/v1/opportunities/{}/splits", deal.0);
    let half = json!({ "splits": [{ "user_id": rep, "kind": "revenue", "share": "0.5" }, { "user_id": app.outsider.0, "kind": "revenue", "share": "0.5" }] });
    app.call(axum::http::Method::PUT, &splits_path, "rep", Some(half.clone())).await.expect(403);
    let short = json!({ "splits": [{ "user_id": rep, "kind": "revenue", "share": "0.5" }] });
    app.call(axum::http::Method::PUT, &splits_path, "ops", Some(short)).await.expect(422);
    // A manager credits only their own reporting line (the outsider is another manager's).
    app.call(axum::http::Method::PUT, &splits_path, "manager", Some(half.clone())).await.expect(422);
    let set = app.call(axum::http::Method::PUT, &splits_path, "ops", Some(half)).await.expect(200).body;
    assert_eq!(set["splits"].as_array().unwrap().len(), 2);
    assert_eq!(app.get(&splits_path, "rep").await.expect(200).body, set);
}
