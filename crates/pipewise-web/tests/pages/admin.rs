//! Admin pages are for admins.

use axum::http::StatusCode;

use crate::support::{app, unescape};

#[tokio::test]
async fn only_admins_open_the_admin_pages() {
    let app = app();
    app.create_deal("Acme renewal", app.org.rep.id);
    for email in ["rep@pages.test", "manager@pages.test"] {
        let session = app.sign_in(email).await;
        for path in ["/admin/users", "/admin/audit", "/admin/audit?format=csv"] {
            let (status, body) = app.get(path, Some(&session)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{email} {path}");
            assert!(body.contains("Only an administrator can open this page."));
        }
        let (_, board) = app.get("/board", Some(&session)).await;
        assert!(!board.contains("/admin/users") && !board.contains("&#x2f;admin&#x2f;users"), "no admin links for {email}");
    }
    let admin = app.sign_in(&app.admin.email).await;
    let (status, users) = app.get("/admin/users", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(users.contains("Mina Manager") && users.contains("rep@pages.test"));
    let (status, audit) = app.get("/admin/audit?kind=opportunity", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let audit = unescape(&audit);
    assert!(audit.contains(">opportunity<") && audit.contains(">create<"), "{audit}");
    assert!(!audit.contains(">sign_in<"), "filtered by kind");
    let (_, sign_ins) = app.get("/admin/audit?kind=user", Some(&admin)).await;
    assert!(unescape(&sign_ins).contains(">sign_in<"), "sign-ins are audited");
}
