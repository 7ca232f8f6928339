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

/// `/metrics` needs the metrics token; with it, the request series are there (a made-up method
/// counted as OTHER), and every reply carries its request id.
#[tokio::test]
async fn metrics_need_the_token() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = crate::support::app();
    let mut state = pipewise_web::AppState::new(pipewise_app::Db::new(app.store.clone()));
    state.metrics_token = Some("s3cret-scraper".into());
    let router = pipewise_web::router(state);
    let send = |request: Request<Body>| {
        let router = router.clone();
        async move { tower::ServiceExt::oneshot(router, request).await.unwrap() }
    };
    let health = send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(health.headers().get("x-request-id").map(|id| id.len()), Some(16));
    let odd = send(Request::builder().method("BREW").uri("/healthz").body(Body::empty()).unwrap()).await;
    assert_ne!(odd.status(), StatusCode::OK);
    let refused = send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let wrong = send(Request::get("/metrics").header(header::AUTHORIZATION, "Bearer guess").body(Body::empty()).unwrap()).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let allowed = send(Request::get("/metrics").header(header::AUTHORIZATION, "Bearer s3cret-scraper").body(Body::empty()).unwrap()).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let text = crate::support::body_text(allowed).await;
    assert!(text.contains(r#"pipewise_http_requests_total{method="GET",route="/healthz",status="2xx"} 1"#), "{text}");
    assert!(text.contains(r#"pipewise_http_requests_total{method="GET",route="/metrics",status="4xx"} 2"#), "{text}");
    assert!(text.contains(r#"method="OTHER""#) && !text.contains("BREW"), "{text}");
}
