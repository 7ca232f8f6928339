//! Every role against every page: what each may open, what answers 404 exactly like a missing
//! record, what is refused, and which writes a viewer cannot make from a form.

use axum::http::StatusCode;
use pipewise_core::user::{Locale, Role};

use crate::support::app;

#[tokio::test]
async fn every_role_against_every_page() {
    let app = app();
    let ops_user = app.create_user("ops@pages.test", "Oscar Ops", Role::Ops, None, Locale::En);
    let viewer = app.create_user("viewer@pages.test", "Vic Viewer", Role::Viewer, None, Locale::En);
    let outsider = app.create_user("outsider@pages.test", "Oli Outsider", Role::Rep, None, Locale::En);
    let deal = app.create_deal("Rep's deal", app.org.rep.id);
    let account = app.org.account.id;
    let deal_page = format!("/opportunities/{}", deal.id);
    let account_page = format!("/accounts/{account}");
    let roles = [
        ("admin", app.admin.email.clone()),
        ("ops", ops_user.email.clone()),
        ("manager", app.org.manager.email.clone()),
        ("rep", app.org.rep.email.clone()),
        ("outsider", outsider.email.clone()),
        ("viewer", viewer.email.clone()),
    ];
    // Expected status per page, in the order of `roles`.
    let pages: [(&str, [u16; 6]); 9] = [
        ("/board", [200; 6]),
        ("/opportunities", [200; 6]),
        (&deal_page, [200, 200, 200, 200, 404, 200]),
        ("/accounts", [200; 6]),
        (&account_page, [200; 6]),
        ("/contacts", [200; 6]),
        ("/tasks", [200; 6]),
        ("/admin/users", [200, 403, 403, 403, 403, 403]),
        ("/admin/audit", [200, 403, 403, 403, 403, 403]),
    ];
    let missing_deal = app.get("/opportunities/999999", Some(&app.sign_in(&app.admin.email).await)).await;
    assert_eq!(missing_deal.0, StatusCode::NOT_FOUND);
    for (index, (role, email)) in roles.iter().enumerate() {
        let session = app.sign_in(email).await;
        for (path, expected) in &pages {
            let (status, body) = app.get(path, Some(&session)).await;
            assert_eq!(status.as_u16(), expected[index], "{role} GET {path}");
            if status == StatusCode::NOT_FOUND {
                assert!(!body.contains("Rep&#x27;s deal") && !body.contains("Rep's deal"), "{role}: a hidden deal's page leaks nothing");
            }
        }
        // Moving the rep's deal from the board: allowed for those who may change it.
        let stage = app.org.simple.stages[1].id.0.to_string();
        let response = app.post_form(&format!("/opportunities/{}/stage", deal.id), Some(&session), &[("stage_id", &stage)], true).await;
        let allowed = matches!(*role, "admin" | "ops" | "manager" | "rep");
        assert_eq!(
            response.status().is_success() || response.status().is_redirection(),
            allowed,
            "{role} moves the deal: {}",
            response.status()
        );
        if *role == "outsider" {
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "an invisible deal cannot be moved either");
        }
        if *role == "viewer" {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "a viewer reads only");
        }
    }
}
