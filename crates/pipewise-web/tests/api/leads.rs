//! Converting leads through the API: one step to an account, a contact and a deal; the account
//! found by company name or by the address's domain (never a free-mail one), or made; refused
//! for a converted lead, a lead without company, and a viewer.

use serde_json::json;

use crate::harness::Shared;

pub async fn a_lead_converts_into_an_account_a_contact_and_a_deal(app: Shared) {
    let rep = app.org.rep.id.0;
    let lead = |name: &str, company: Option<&str>, email: &str| json!({ "name": name, "company": company, "email": email, "title": "Head of Ops", "owner_id": rep, "status": "qualified" });
    let ana = app.post("/api/v1/leads", "rep", lead("Ana Lima", Some("Lima Freight"), "ana@limafreight.example")).await.expect(201).id();
    app.post(&format!("/api/v1/leads/{ana}/convert"), "viewer", json!({})).await.expect(403);
    app.post(&format!("/api/v1/leads/{ana}/convert"), "rep", json!({ "amount": "lots" })).await.expect(422);

    let body = json!({ "opportunity_name": "Lima Freight pilot", "amount": "USD 18000", "close_date": "2026-06-30" });
    let converted = app.post(&format!("/api/v1/leads/{ana}/convert"), "rep", body).await.expect(201).body;
    assert_eq!((converted["account_created"].as_bool(), converted["contact_created"].as_bool()), (Some(true), Some(true)));
    assert_eq!((converted["opportunity_name"].as_str(), converted["amount"].as_str()), (Some("Lima Freight pilot"), Some("USD 18000.00")));
    let account = app.get(&format!("/api/v1/accounts/{}", converted["account_id"]), "rep").await.expect(200).body;
    assert_eq!((account["name"].as_str(), account["domains"][0].as_str()), (Some("Lima Freight"), Some("limafreight.example")));
    let contact = app.get(&format!("/api/v1/contacts/{}", converted["contact_id"]), "rep").await.expect(200).body;
    assert_eq!((contact["name"].as_str(), contact["title"].as_str()), (Some("Ana Lima"), Some("Head of Ops")));
    let deal = app.get(&format!("/api/v1/opportunities/{}", converted["opportunity_id"]), "rep").await.expect(200).body;
    assert_eq!((deal["owner_id"].as_i64(), deal["account_id"].as_i64()), (Some(rep), converted["account_id"].as_i64()));
    let stored = app.get(&format!("/api/v1/leads/{ana}"), "rep").await.expect(200).body;
    assert_eq!(stored["status"], "converted");
    // Once is enough.
    let again = app.post(&format!("/api/v1/leads/{ana}/convert"), "rep", json!({})).await.expect(422).body;
    assert_eq!(again["errors"][0]["field"], "status", "{again}");

    // A colleague at the same domain lands on the same account, without a deal.
    let bo = app.post("/api/v1/leads", "rep", lead("Bo Park", None, "bo@limafreight.example")).await.expect(201).id();
    let converted = app.post(&format!("/api/v1/leads/{bo}/convert"), "rep", json!({})).await.expect(201).body;
    assert_eq!((converted["account_id"].as_i64(), converted["account_created"].as_bool()), (account["id"].as_i64(), Some(false)));
    assert!(converted["opportunity_id"].is_null());
    // A free-mail address matches no account: without a company the lead cannot be converted.
    let cy = app.post("/api/v1/leads", "rep", lead("Cy Gomez", None, "cy.gomez@gmail.com")).await.expect(201).id();
    let refused = app.post(&format!("/api/v1/leads/{cy}/convert"), "rep", json!({})).await.expect(422).body;
    assert_eq!(refused["errors"][0]["field"], "company", "{refused}");
    let given = json!({ "account_id": account["id"] });
    app.post(&format!("/api/v1/leads/{cy}/convert"), "rep", given).await.expect(201);
}
