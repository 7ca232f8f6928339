//! Lead forms on the web (issue 14 point 7): ops add a form on the routing page and get the HTML
//! to paste; the hosted form answers in the visitor's language; a submission from another site
//! (cross-site, no session) makes a lead and thanks the visitor, or goes to the form's page after;
//! a refused one shows every problem with what was typed; a bot's is thanked and dropped.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pipewise_app as app;
use pipewise_core::user::{Locale, Role};

use crate::support::{App, app, body_text};

async fn post_from_elsewhere(app: &App, path: &str, fields: &[(&str, &str)], language: &str) -> (StatusCode, String, Option<String>) {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://www.customer-site.example")
        .header(header::ACCEPT_LANGUAGE, language)
        .body(Body::from(body))
        .unwrap();
    let response = app.send(request).await;
    let status = response.status();
    let location = response.headers().get(header::LOCATION).map(|value| value.to_str().unwrap().to_owned());
    (status, body_text(response).await, location)
}

fn lead_names(app: &App) -> Vec<String> {
    let mut tx = app::Tx::new(app.store.read().unwrap());
    app::records::leads(&mut tx, app.org.org()).unwrap().into_iter().map(|lead| lead.name).collect()
}

#[tokio::test]
async fn a_visitor_s_form_becomes_a_lead_and_a_bot_s_does_not() {
    let app = app();
    let ops = app.create_user("ops@pages.test", "Olivia Ops", Role::Ops, None, Locale::En);
    let session = app.sign_in(&ops.email).await;
    let response = app.post_form("/leads/forms", Some(&session), &[("name", "Contact sales"), ("source", "website")], true).await;
    assert_eq!(response.headers()[header::LOCATION], "/leads/routing?form=1#forms");
    let (_, page) = app.get("/leads/routing?form=1", Some(&session)).await;
    assert!(page.contains("Form added") && page.contains("Contact sales") && page.contains("last 30 days: 0 leads"), "{page}");
    let path = crate::support::between(&page, "<a href=\"&#x2f;f&#x2f;", "\"").map(|key| format!("/f/{key}")).expect("the form's address");
    assert!(page.contains("name=&quot;website&quot;"), "the snippet carries the hidden field: {page}");

    // The hosted form, in the visitor's language.
    let request = Request::get(&path).header(header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9").body(Body::empty()).unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let hosted = body_text(response).await;
    assert!(hosted.contains("<h1>Contact sales</h1>") && hosted.contains("보내기") && hosted.contains("name=\"website\""), "{hosted}");

    // From the company's site: a lead, thanked.
    let fields = [("name", "Ana Lima"), ("email", "ana@limafreight.example"), ("company", "Lima Freight"), ("region", "BR")];
    let (status, page, _) = post_from_elsewhere(&app, &path, &fields, "en").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Thank you: we will be in touch soon."), "{page}");
    assert_eq!(lead_names(&app), ["Ana Lima"]);

    // Refused, every problem named, what was typed kept.
    let (status, page, _) = post_from_elsewhere(&app, &path, &[("name", "Bo"), ("employee_count", "many")], "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("E-mail: ") && page.contains("Employees: ") && page.contains("value=\"many\""), "{page}");

    // A bot: thanked, nothing made.
    let bot = [("name", "Cheap pills"), ("email", "pills@spam.example"), ("website", "http://spam.example")];
    let (status, page, _) = post_from_elsewhere(&app, &path, &bot, "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Thank you"), "{page}");
    assert_eq!(lead_names(&app), ["Ana Lima"]);
    let (_, page) = app.get("/leads/routing", Some(&session)).await;
    assert!(page.contains("last 30 days: 1 leads, 1 refused, 1 spam"), "{page}");

    // An unknown form, and a rep adding one.
    let (status, _, _) = post_from_elsewhere(&app, "/f/0123456789abcdef0123456789abcdef", &fields, "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let rep = app.sign_in("rep@pages.test").await;
    let response = app.post_form("/leads/forms", Some(&rep), &[("name", "Mine")], true).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_with_a_page_to_go_to_sends_the_visitor_there() {
    let app = app();
    let ctx = app.ctx(app.admin.id);
    let form = pipewise_test_support::transact(&*app.store, |tx| {
        app::forms::create_form(tx, &ctx, "Demo request", "", Some("https://www.customer-site.example/thanks"))
    })
    .unwrap();
    let (status, _, location) =
        post_from_elsewhere(&app, &format!("/f/{}", form.key), &[("name", "Cy"), ("email", "cy@gomez.example")], "en").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("https://www.customer-site.example/thanks")));
    assert_eq!(lead_names(&app), ["Cy"]);
}
