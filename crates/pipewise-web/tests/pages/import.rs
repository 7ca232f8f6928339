//! The import page (`/admin/import`, issue 14 point 3): ops and admins only; each step sends
//! the file again and answers a fragment: the preview maps the columns and lists the file's
//! stages, the check lists every bad line by line, column and reason and writes nothing, the
//! import writes all or nothing. Then the same in a real browser, with screenshots.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pipewise_app as app;
use pipewise_app::OpportunityFilter;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::support::{App, Session, app, body_text, browser_sign_in, serve};

const HUBSPOT: &str = "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Associated Company\n\
                       H1,Acme expansion,Prospecting,\"24,000\",2026-09-30,2026-01-15,Ravi Rep,Acme\n\
                       H2,Globex renewal,Prospecting,\"8,500.50\",10/15/2026,2/1/2026,rep@pages.test,Globex\n\
                       H3,Initech pilot,Appointment scheduled,lots,2026-09-01,2026-02-10,Nobody,Initech\n";

async fn step(app: &App, session: &Session, query: &str, file: &str, csrf: bool) -> (StatusCode, String) {
    let mut request = Request::post(format!("/admin/import/run?{query}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .header(header::COOKIE, &session.cookie);
    if csrf {
        request = request.header("x-csrf-token", &session.csrf);
    }
    let response = app.send(request.body(Body::from(file.to_owned())).unwrap()).await;
    let status = response.status();
    (status, body_text(response).await)
}

fn deal_names(app: &App) -> Vec<String> {
    let mut tx = app::Tx::new(app.store.read().unwrap());
    let deals = tx.opportunities(app.org.org(), &OpportunityFilter::default()).unwrap();
    deals.into_iter().map(|deal| deal.name).collect()
}

#[tokio::test]
async fn ops_preview_check_and_import_a_hubspot_export_all_or_nothing() {
    let app = app();
    let rep = app.sign_in("rep@pages.test").await;
    let (status, _) = app.get("/admin/import", Some(&rep)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = step(&app, &rep, "step=import&kind=opportunities", HUBSPOT, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let ops = app.create_user("ops@pages.test", "Olga Ops", Role::Ops, None, Locale::En);
    let session = app.sign_in(&ops.email).await;
    let (status, page) = app.get("/admin/import", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-import") && page.contains("href=\"/admin/import\""), "{page}");
    // Without the CSRF header nothing runs.
    let (status, _) = step(&app, &session, "step=import&kind=opportunities", HUBSPOT, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The preview: the CRM, each column's field with its first values, the file's stages.
    let (status, preview) = step(&app, &session, "step=preview&kind=opportunities", HUBSPOT, true).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(preview.contains("The headers look like a HubSpot export.") && preview.contains("3 rows"), "{preview}");
    assert!(preview.contains("<option value=\"owner\" selected>Owner</option>"), "{preview}");
    assert!(preview.contains("data-from=\"Appointment scheduled\""), "{preview}");
    assert!(!preview.contains("import-report"));

    // The check lists every bad line by line and column, and writes nothing.
    let (status, checked) = step(&app, &session, "step=check&kind=opportunities", HUBSPOT, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(checked.contains("problems in 3 rows"), "{checked}");
    for expected in [
        "<td class=\"num\">4</td><td>Amount</td>",
        "<td class=\"num\">4</td><td>Deal owner</td>",
        "<td class=\"num\">4</td><td>Deal Stage</td>",
    ] {
        assert!(checked.contains(expected), "{expected} in {checked}");
    }
    assert!(checked.contains("no active user has the e-mail address or name Nobody"), "{checked}");
    assert!(deal_names(&app).is_empty());

    // Fixed, with the HubSpot stage mapped to the pipeline's: ready, then imported.
    let fixed = HUBSPOT.replace("lots,2026-09-01,2026-02-10,Nobody", "\"$3,000\",2026-09-01,2026-02-10,Mina Manager");
    let mapped = "kind=opportunities&stage_from=Appointment+scheduled&stage_to=Qualification&stage_from=Prospecting&stage_to=";
    let (status, checked) = step(&app, &session, &format!("step=check&{mapped}"), &fixed, true).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert!(checked.contains("Checked: ready to import") && checked.contains("importing would create 3"), "{checked}");
    assert!(deal_names(&app).is_empty(), "a check writes nothing");
    let (status, imported) = step(&app, &session, &format!("step=import&{mapped}&historical=Moving+from+HubSpot"), &fixed, true).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert!(imported.contains("3 rows imported: 3 created"), "{imported}");
    let mut names = deal_names(&app);
    names.sort();
    assert_eq!(names, ["Acme expansion", "Globex renewal", "Initech pilot"]);

    // A column the editor leaves out is not imported.
    let (status, again) = step(
        &app,
        &session,
        &format!("step=check&{mapped}&columns=external_id,name,stage,,close_date,created,owner,account"),
        &fixed,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(again.contains("<option value=\"\" selected>(not imported)</option>"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_page_in_a_real_browser() {
    let app = app();
    let base = serve(app.router.clone()).await;
    let admin = app.admin.email.clone();
    let dir = pipewise_test_support::TempDir::new("import-page");
    let file = dir.path().join("hubspot-deals.csv");
    std::fs::write(&file, HUBSPOT).unwrap();
    let fixed = dir.path().join("hubspot-deals-fixed.csv");
    std::fs::write(
        &fixed,
        HUBSPOT
            .replace("lots,2026-09-01,2026-02-10,Nobody,Initech", "\"$3,000\",2026-09-01,2026-02-10,Ravi Rep,Initech")
            .replace(",Appointment scheduled,", ",Qualification,"),
    )
    .unwrap();
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1300).unwrap();
        browser_sign_in(&browser, &base, &admin).unwrap();
        browser.goto(&format!("{base}/admin/import")).unwrap();
        browser.find("#import-file").unwrap().send_keys(file.to_str().unwrap()).unwrap();
        browser.find("[data-step=preview]").unwrap().click().unwrap();
        browser.wait_for("#import-mapping", Duration::from_secs(10)).unwrap();
        browser.find("#import-mapping [data-step=check]").unwrap().click().unwrap();
        let summary = browser.wait_for("#import-summary", Duration::from_secs(10)).unwrap().text().unwrap();
        assert!(summary.contains("Nothing was written"), "{summary}");
        assert_eq!(browser.find_all("#import-errors tbody tr").unwrap().len(), 3);
        browser.screenshot(screenshot_dir().join("import-check.png")).unwrap();

        browser.find("#import-file").unwrap().clear().unwrap();
        browser.find("#import-file").unwrap().send_keys(fixed.to_str().unwrap()).unwrap();
        browser.find("#import-mapping [name=historical]").unwrap().send_keys("Moving from HubSpot").unwrap();
        browser.find("#import-mapping [data-step=import]").unwrap().click().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut summary = String::new();
        while std::time::Instant::now() < deadline {
            summary = browser.find("#import-summary").and_then(|element| element.text()).unwrap_or_default();
            if summary.contains("imported") {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(summary.contains("3 rows imported: 3 created"), "{summary}");
        browser.screenshot(screenshot_dir().join("import-done.png")).unwrap();
        eprintln!("screenshots in {}", screenshot_dir().display());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn admins_download_every_file_of_the_export_streamed() {
    let app = app();
    app.create_deal("Exported deal", app.org.rep.id);
    let ops = app.create_user("ops@pages.test", "Olga Ops", Role::Ops, None, Locale::En);
    let session = app.sign_in(&ops.email).await;
    let (status, page) = app.get("/admin/import", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("/admin/export/"), "ops import but do not export everything");
    let (status, _) = app.get("/admin/export/opportunities.csv", Some(&session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let admin = app.sign_in(&app.admin.email).await;
    let (_, page) = app.get("/admin/import", Some(&admin)).await;
    assert!(page.contains("href=\"/admin/export/history.csv\""), "{page}");
    let response =
        app.send(Request::get("/admin/export/opportunities.csv").header(header::COOKIE, &admin.cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename=\"opportunities-"));
    let body = body_text(response).await;
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,owner,account,pipeline,stage,status,amount,currency,close_date,next_step,created,closed,close_reason")
    );
    assert!(lines.next().is_some_and(|line| line.contains(",Exported deal,rep@pages.test,")), "{body}");
    for kind in ["users", "accounts", "contacts", "history", "activities"] {
        let (status, body) = app.get(&format!("/admin/export/{kind}.csv"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert!(body.lines().count() >= 1, "{kind}");
    }
    let (status, _) = app.get("/admin/export/passwords.csv", Some(&admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
