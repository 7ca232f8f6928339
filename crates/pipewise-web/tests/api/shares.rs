//! Sharing a deal with a colleague through the API: list, share, unshare, who may do it, and
//! what the colleague then sees.

use axum::http::Method;
use serde_json::json;

use crate::harness::Shared;

pub async fn a_deal_is_shared_with_a_colleague_and_unshared(app: Shared) {
    let deal = app.deal.0;
    let rep = app.org.rep.id.0;
    let outsider = app.outsider.0;
    let shares = format!("/api/v1/opportunities/{deal}/shares");
    assert_eq!(app.get(&shares, "rep").await.expect(200).body, json!({ "data": [], "next_cursor": null }));
    // Another team's rep cannot see the deal: 404 for its shares, as for the deal.
    app.get(&shares, "outsider").await.expect(404);
    let hidden = app.post(&shares, "outsider", json!({ "user_id": outsider })).await.expect(404);
    assert_eq!(hidden.body["code"], "not_found");
    // A viewer sees the deal but may not share it.
    let refused = app.post(&shares, "viewer", json!({ "user_id": outsider })).await.expect(403);
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(refused.body["code"], "forbidden");
    // Bad bodies and unknown users name `user_id`.
    for body in [json!({ "user_id": 999_999 }), json!({}), json!({ "user_id": "seven" }), json!({ "user_id": rep })] {
        let invalid = app.post(&shares, "rep", body.clone()).await.expect(422);
        assert_eq!(invalid.body["errors"][0]["field"], "user_id", "{body}: {}", invalid.body);
    }
    app.post(&shares, "rep", json!({ "user_id": outsider, "note": "no" })).await.expect(422);

    // The owner shares it with the outsider, who then sees it and may change it.
    let now = app.now();
    let created = app.post(&shares, "rep", json!({ "user_id": outsider })).await.expect(201);
    assert_eq!(created.headers["location"], shares.as_str());
    assert_eq!(created.body["opportunity_id"], deal);
    assert_eq!(created.body["user_id"], outsider);
    assert_eq!(created.body["shared_by"], rep);
    let shared_at: pipewise_core::Timestamp = created.body["shared_at"].as_str().unwrap().parse().unwrap();
    assert!(shared_at >= now, "{}", created.body);
    let listed = app.get(&shares, "outsider").await.expect(200).body;
    assert_eq!(listed["data"], json!([created.body]));
    app.get(&format!("/api/v1/opportunities/{deal}"), "outsider").await.expect(200);
    let visible = app.get("/api/v1/opportunities", "outsider").await.expect(200).body;
    assert_eq!(visible["data"].as_array().unwrap().iter().map(|deal| deal["id"].clone()).collect::<Vec<_>>(), [json!(deal)]);
    app.patch(&format!("/api/v1/opportunities/{deal}"), "outsider", json!({ "next_step": "Joint call" })).await.expect(200);
    // The colleague may see it but neither pass it on nor end shares: 403.
    let passed_on = app.post(&shares, "outsider", json!({ "user_id": app.users["viewer"].0 })).await.expect(403);
    assert_eq!(passed_on.body["code"], "forbidden");
    app.call(Method::DELETE, &format!("{shares}/{outsider}"), "outsider", None).await.expect(403);
    app.call(Method::DELETE, &format!("{shares}/{outsider}"), "viewer", None).await.expect(403);

    // The manager ends the share: 204, then 404 as there is nothing left to end.
    let done = app.call(Method::DELETE, &format!("{shares}/{outsider}"), "manager", None).await.expect(204);
    assert_eq!(done.body, serde_json::Value::Null);
    let gone = app.call(Method::DELETE, &format!("{shares}/{outsider}"), "manager", None).await.expect(404);
    assert_eq!(gone.body["detail"], format!("share of opportunity {deal} with user {outsider} does not exist"));
    app.call(Method::DELETE, &format!("{shares}/999999"), "manager", None).await.expect(404);
    app.call(Method::DELETE, &format!("{shares}/seven"), "manager", None).await.expect(400);
    app.get(&format!("/api/v1/opportunities/{deal}"), "outsider").await.expect(404);
    assert_eq!(app.get(&shares, "rep").await.expect(200).body["data"], json!([]));

    // The audit log has the share and the unshare, by whom and through which edge.
    let audit = app.get(&format!("/api/v1/audit?record_kind=opportunity&record_id={deal}"), "admin").await.expect(200).body;
    let entries: Vec<_> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "share" || entry["action"] == "unshare")
        .map(|entry| {
            (entry["action"].clone(), entry["actor_id"].clone(), entry["source"].clone(), entry["before"].clone(), entry["after"].clone())
        })
        .collect();
    let manager = app.org.manager.id.0;
    assert_eq!(
        entries,
        [
            (json!("unshare"), json!(manager), json!("api"), json!({ "shared_with": outsider }), json!(null)),
            (json!("share"), json!(rep), json!("api"), json!(null), json!({ "shared_with": outsider })),
        ]
    );
}
