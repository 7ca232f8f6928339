//! Every error answers RFC 9457 problem+json with a stable code; the bodies, inline.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::harness::Shared;

#[track_caller]
fn check(reply: crate::harness::Reply, status: u16, expected: Value) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body, expected);
}

pub async fn problem_bodies(app: Shared) {
    check(
        app.get("/api/v1/opportunities", "").await,
        401,
        json!({
            "type": "https://pipewise.dev/problems/unauthenticated", "title": "Unauthorized", "status": 401,
            "code": "unauthenticated", "detail": "sign in, or send a valid API token",
        }),
    );
    let mut bad_token =
        Request::builder().uri("/api/v1/me").header(header::AUTHORIZATION, "Bearer pwt_not_a_token").body(Body::empty()).unwrap();
    bad_token.headers_mut().insert(header::ACCEPT, "application/json".parse().unwrap());
    assert_eq!(app.send(bad_token).await.status.as_u16(), 401);
    check(
        app.post("/api/v1/teams", "rep", json!({ "name": "Rogue" })).await,
        403,
        json!({
            "type": "https://pipewise.dev/problems/forbidden", "title": "Forbidden", "status": 403,
            "code": "forbidden", "detail": "only ops and admins manage teams",
        }),
    );
    check(
        app.get("/api/v1/accounts/987654", "rep").await,
        404,
        json!({
            "type": "https://pipewise.dev/problems/not_found", "title": "Not Found", "status": 404,
            "code": "not_found", "detail": "account 987654 does not exist",
        }),
    );
    let domain = app.org.account.domains[0].clone();
    check(
        app.post("/api/v1/accounts", "rep", json!({ "name": "Copycat", "domains": [domain] })).await,
        409,
        json!({
            "type": "https://pipewise.dev/problems/conflict", "title": "Conflict", "status": 409,
            "code": "conflict", "detail": format!("new account: domains: {domain} already belongs to another account"),
        }),
    );
    let other = app.post("/api/v1/accounts", "rep", json!({ "name": "Other" })).await.expect(201).id();
    check(
        app.patch(&format!("/api/v1/accounts/{other}"), "rep", json!({ "domains": [domain] })).await,
        409,
        json!({
            "type": "https://pipewise.dev/problems/conflict", "title": "Conflict", "status": 409,
            "code": "conflict", "detail": format!("account {other}: domains: {domain} already belongs to another account"),
        }),
    );
    let rep = app.org.rep.id.0;
    check(
        app.post("/api/v1/users", "admin", json!({ "email": format!("REP@{}", "acmesales.test"), "name": "Twin", "role": "rep" })).await,
        409,
        json!({
            "type": "https://pipewise.dev/problems/conflict", "title": "Conflict", "status": 409,
            "code": "conflict", "detail": "new user: email: rep@acmesales.test already belongs to another user",
        }),
    );
    check(
        app.post(
            "/api/v1/opportunities",
            "rep",
            json!({ "name": "", "owner_id": rep, "pipeline_id": 424242, "amount": "KRW 10.5", "close_date": "2026-13-01", "colour": "red" }),
        )
        .await,
        422,
        json!({
            "type": "https://pipewise.dev/problems/invalid", "title": "Unprocessable Entity", "status": 422, "code": "invalid",
            "detail": "new opportunity: (body): unknown field \"colour\"; new opportunity: amount: 10.5 has 1 decimal places but KRW has 0; \
                       new opportunity: close_date: \"2026-13-01\" is not a date",
            "errors": [
                { "record": "new opportunity", "field": "(body)", "detail": "unknown field \"colour\"" },
                { "record": "new opportunity", "field": "amount", "detail": "10.5 has 1 decimal places but KRW has 0" },
                { "record": "new opportunity", "field": "close_date", "detail": "\"2026-13-01\" is not a date" },
            ],
        }),
    );
    check(
        app.post("/api/v1/opportunities", "rep", json!({ "name": "Ghost", "owner_id": rep, "pipeline_id": 424242 })).await,
        422,
        json!({
            "type": "https://pipewise.dev/problems/invalid", "title": "Unprocessable Entity", "status": 422, "code": "invalid",
            "detail": "new opportunity: pipeline_id: pipeline 424242 does not exist",
            "errors": [{ "record": "new opportunity", "field": "pipeline_id", "detail": "pipeline 424242 does not exist" }],
        }),
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(pipewise_web::MAX_BODY_BYTES + 1));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["rep"]))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(huge))
        .unwrap();
    check(
        app.send(request).await,
        413,
        json!({
            "type": "https://pipewise.dev/problems/payload_too_large", "title": "Payload Too Large", "status": 413,
            "code": "payload_too_large", "detail": "the request body is larger than 1048576 bytes",
        }),
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["rep"]))
        .body(Body::from("{\"name\": "))
        .unwrap();
    let broken = app.send(request).await;
    assert_eq!((broken.status.as_u16(), broken.body["code"].as_str()), (400, Some("bad_request")));
    check(
        app.get("/api/v1/accounts/abc", "rep").await,
        400,
        json!({
            "type": "https://pipewise.dev/problems/bad_request", "title": "Bad Request", "status": 400,
            "code": "bad_request", "detail": "path parameter id: \"abc\" is not an id",
        }),
    );
}

/// A refused write names every bad field at once (issue 16, point 7): a stage that is not in the
/// deal's pipeline and a date that is not a date, together; nothing is written. A currency code
/// in lower case is refused as the document says, not upper-cased.
pub async fn a_refused_write_names_every_bad_field_at_once(app: Shared) {
    let path = format!("/api/v1/opportunities/{}", app.deal.0);
    let before = app.get(&path, "admin").await.expect(200).body;
    let refused =
        app.patch(&path, "admin", json!({ "stage_id": 987_654, "close_date": "2025-13-01", "next_step": "Call" })).await.expect(422);
    let mut fields: Vec<&str> = refused.body["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["close_date", "stage_id"], "{}", refused.body);
    assert_eq!(app.get(&path, "admin").await.expect(200).body, before, "nothing was written");
    let refused = app.patch(&path, "admin", json!({ "amount": "usd 100" })).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "amount");
    assert!(refused.body["detail"].as_str().unwrap().contains("\"usd\" is not an ISO 4217 currency code"), "{}", refused.body);
}
