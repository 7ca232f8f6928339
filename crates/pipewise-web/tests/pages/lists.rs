//! Lists: filters, sorting, and CSV exports that match the page.

use axum::http::{StatusCode, header};
use pipewise_app as app;
use pipewise_core::records::{NewContact, NewTask};
use pipewise_test_support::transact;

use crate::support::{App, Session, app, between, unescape};

/// The header and cell texts of the page's list table.
fn html_table(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let table = between(body, r#"<table class="table list-table">"#, "</table>").expect("a list table");
    let strip = |html: &str| {
        let mut text = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        unescape(text.trim())
    };
    let head = between(table, "<thead>", "</thead>").unwrap();
    let header: Vec<String> = head
        .split("<th")
        .skip(1)
        .map(|cell| strip(&cell[cell.find('>').unwrap() + 1..]).replace(['▲', '▼'], "").trim().to_owned())
        .collect();
    let tbody = between(table, "<tbody>", "</tbody>").unwrap();
    let rows = tbody
        .split("<tr")
        .skip(1)
        .filter(|row| !row.contains("class=\"empty\""))
        .map(|row| row.split("<td").skip(1).map(|cell| strip(&cell[cell.find('>').unwrap() + 1..cell.rfind("</td>").unwrap()])).collect())
        .collect();
    (header, rows)
}

/// Parses RFC 4180 CSV.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

async fn csv(app: &App, path: &str, session: &Session) -> Vec<Vec<String>> {
    let request = axum::http::Request::get(path).header(header::COOKIE, &session.cookie).body(axum::body::Body::empty()).unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    assert!(response.headers().get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap().starts_with("attachment; filename=\""));
    parse_csv(&crate::support::body_text(response).await)
}

/// What a spreadsheet should see for a cell the page shows as `text`.
fn guarded(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() }
}

#[tokio::test]
async fn the_deal_list_csv_is_the_list_as_shown() {
    let app = app();
    app.create_deal("Acme, \"the big one\"", app.org.rep.id);
    app.create_deal("=HYPERLINK(\"http://evil.example\",\"click\")", app.org.rep.id);
    app.create_deal("Globex; second, line", app.org.rep.id);
    app.create_deal("-5 discount deal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    for query in ["status=all&sort=name&dir=asc", "status=open&sort=amount&dir=desc", "q=globex&status=all", "status=lost"] {
        let (status, body) = app.get(&format!("/opportunities?{query}"), Some(&session)).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let (header, rows) = html_table(&body);
        let exported = csv(&app, &format!("/opportunities?{query}&format=csv"), &session).await;
        assert_eq!(exported[0], header, "{query}: the same columns");
        let shown: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|cell| guarded(cell)).collect()).collect();
        assert_eq!(&exported[1..], &shown[..], "{query}: the same rows in the same order");
    }
    let all = csv(&app, "/opportunities?status=all&sort=name&format=csv", &session).await;
    assert_eq!(all.len(), 5);
    assert!(all.iter().any(|row| row[0] == "'=HYPERLINK(\"http://evil.example\",\"click\")"), "formulas are defused");
    assert!(all.iter().any(|row| row[0] == "'-5 discount deal"));
    assert!(all.iter().any(|row| row[0] == "Acme, \"the big one\""));
    assert!(all.iter().any(|row| row[0] == "Globex; second, line"));
    assert_eq!(all[0][..5], ["Name", "Account", "Pipeline", "Stage", "Amount"]);
    assert_eq!(all.iter().find(|row| row[0].starts_with("Acme")).unwrap()[4], "USD 12,000.00");
    // The filter and the sort apply to the export.
    assert_eq!(csv(&app, "/opportunities?status=all&q=globex&format=csv", &session).await.len(), 2);
}

#[tokio::test]
async fn every_list_filters_sorts_and_exports() {
    let app = app();
    app.create_deal("Acme renewal", app.org.rep.id);
    let contact = NewContact {
        name: "Chris Contact".into(),
        emails: vec!["chris@pages-customer.com".into()],
        phone: Some("+82 2 1234 5678".into()),
        title: Some("CFO".into()),
        account_id: Some(app.org.account.id),
    };
    transact(&*app.store, |tx| app::records::create_contact(tx, &app.org.ctx, contact)).unwrap();
    let task = NewTask {
        title: "Send the =SUM(A1) proposal".into(),
        owner_id: app.org.rep.id,
        due_on: Some("2026-06-01".parse().unwrap()),
        completed_at: None,
        account_id: Some(app.org.account.id),
        opportunity_id: None,
        lead_id: None,
    };
    transact(&*app.store, |tx| app::activities::create_task(tx, &app.org.ctx, task)).unwrap();
    let admin = app.sign_in("admin@pages.test").await;
    let lists = [
        "/opportunities?status=all",
        "/accounts?sort=open_amount&dir=desc",
        "/accounts?industry=Software",
        "/contacts?q=chris",
        "/tasks?owner=all&status=all",
        "/admin/users?role=rep&sort=email",
        "/admin/audit?kind=opportunity",
    ];
    for path in lists {
        let (status, body) = app.get(path, Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let (header, rows) = html_table(&body);
        let exported = csv(&app, &format!("{path}&format=csv"), &admin).await;
        assert_eq!(exported[0], header, "{path}");
        let shown: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|cell| guarded(cell)).collect()).collect();
        assert_eq!(&exported[1..], &shown[..], "{path}");
        assert!(!shown.is_empty(), "{path} lists something");
    }
    let contacts = csv(&app, "/contacts?q=chris&format=csv", &admin).await;
    assert_eq!(contacts[1], ["Chris Contact", "CFO", "Pages Customer", "chris@pages-customer.com", "'+82 2 1234 5678"]);
    // The rep's own task list: open, overdue highlighted (due 2026-06-01, today is 2026-06-15).
    let rep = app.sign_in("rep@pages.test").await;
    let (_, tasks) = app.get("/tasks", Some(&rep)).await;
    assert!(tasks.contains(r#"<tr class="overdue">"#) && tasks.contains("Send the =SUM(A1) proposal"), "{tasks}");
    let users = csv(&app, "/admin/users?role=rep&format=csv", &admin).await;
    assert_eq!(users.len(), 2, "one rep");
    assert_eq!(users[1][0], "Ravi Rep");
}

/// Past 200 accounts, account selects search as the reader types instead of listing every
/// account: the deal page, a lead's conversion and the contacts filter offer only the one
/// chosen, with a search box that asks `/pick/accounts`. A small organisation's selects list
/// them all.
#[tokio::test]
async fn account_pickers_search_instead_of_listing_every_account() {
    let app = app();
    let deal = app.create_deal("Picker deal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let (_, small) = app.get(&format!("/opportunities/{}", deal.id), Some(&rep)).await;
    assert!(
        !small.contains(r#"data-picker-for="account_id""#) && small.contains(">Pages Customer</option>"),
        "a small organisation's select"
    );
    let mut names: Vec<String> = (0..205).map(|n| format!("Filler {n:03}")).collect();
    names.extend(["Zephyr Foods", "Acme Zinc", "Quiet Harbor"].map(str::to_owned));
    for name in names {
        let new = pipewise_core::records::NewAccount {
            name,
            domains: Vec::new(),
            industry: None,
            employee_count: None,
            region: None,
            owner_id: None,
        };
        transact(&*app.store, |tx| app::records::create_account(tx, &app.org.ctx, new.clone())).unwrap();
    }
    let (status, body) = app.get("/pick/accounts?q=z", Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    let found: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let labels: Vec<&str> = found["items"].as_array().unwrap().iter().map(|item| item["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Zephyr Foods", "Acme Zinc"], "starting with it first, then by name");
    let (_, body) = app.get("/pick/accounts?q=", Some(&rep)).await;
    assert_eq!(body, r#"{"items":[]}"#, "nothing typed, nothing offered");
    let (status, _) = app.get("/pick/accounts?q=acme", None).await;
    assert_ne!(status, StatusCode::OK, "only for the signed in");

    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&rep)).await;
    assert!(page.contains(r#"data-picker-for="account_id""#), "the deal form has a search box");
    assert!(!page.contains("Quiet Harbor"), "the deal page does not list every account");
    let (_, list) = app.get(&format!("/contacts?account={}", app.org.account.id), Some(&rep)).await;
    assert!(list.contains(r#"data-picker-for="filter-account""#), "the contacts filter searches too");
    assert!(
        list.contains(&format!(r#"<option value="{}" selected>Pages Customer</option>"#, app.org.account.id)),
        "and keeps the one chosen"
    );
    assert!(!list.contains("Zephyr Foods"));

    // A refused edit that chose another account shows that account chosen, not "no account".
    let zephyr = {
        let mut tx = app::Tx::new(app.store.read().unwrap());
        app::records::search_accounts(&mut tx, app.org.org(), "zephyr", 1).unwrap()[0].id.to_string()
    };
    let (owner, stage) = (app.org.rep.id.to_string(), app.org.simple.stages[0].id.to_string());
    let fields = [
        ("name", "Picker deal"),
        ("account_id", zephyr.as_str()),
        ("owner_id", owner.as_str()),
        ("stage_id", stage.as_str()),
        ("forecast_category", "pipeline"),
        ("currency", "USD"),
        ("amount", "12.345"),
        ("close_date", "2026-11-30"),
        ("next_step", ""),
        ("close_reason", ""),
    ];
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&rep), &fields, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = crate::support::body_text(response).await;
    assert!(refused.contains(&format!(r#"<option value="{zephyr}" selected>Zephyr Foods</option>"#)), "the chosen account stays chosen");
}

/// Past 200 people, the deal page's person selects (owner, share, splits, handoff) hold only
/// the chosen ones and search as the reader types; `/pick/users` finds active people by name or
/// address, and for an owner only those the reader may assign.
#[tokio::test]
async fn person_pickers_search_once_the_organisation_is_large() {
    use pipewise_core::user::Role;
    let app = app();
    let deal = app.create_deal("Large team deal", app.org.rep.id);
    let admin = app.sign_in("admin@pages.test").await;
    let (_, small) = app.get(&format!("/opportunities/{}", deal.id), Some(&admin)).await;
    assert!(!small.contains(r#"data-picker-for="owner_id""#), "a small organisation keeps its selects whole");
    for n in 0..210 {
        let new =
            pipewise_test_support::fixtures::new_user(&format!("seller{n:03}@pages.test"), &format!("Seller {n:03}"), Role::Rep, None);
        transact(&*app.store, |tx| app::users::create_user(tx, &app.org.ctx, new.clone())).unwrap();
    }
    let (status, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    for select in ["owner_id", "share-user", "split-user-0", "handoff-to"] {
        assert!(page.contains(&format!(r#"data-picker-for="{select}""#)), "{select} searches");
    }
    assert!(!page.contains("Seller 042"), "no select lists everyone");
    assert!(page.contains(&format!(r#"<option value="{}" selected>"#, app.org.rep.id)), "the owner stays chosen");

    let names = |body: &str| -> Vec<String> {
        let found: serde_json::Value = serde_json::from_str(body).expect("JSON");
        found["items"].as_array().unwrap().iter().map(|item| item["label"].as_str().unwrap().to_owned()).collect()
    };
    let (_, body) = app.get("/pick/users?q=seller%2004", Some(&admin)).await;
    assert_eq!(names(&body), (40..50).map(|n| format!("Seller {n:03}")).collect::<Vec<_>>());
    let (_, body) = app.get("/pick/users?q=SELLER199@", Some(&admin)).await;
    assert_eq!(names(&body), ["Seller 199"], "by address, ignoring case");
    let (_, body) = app.get("/pick/users?q=e", Some(&admin)).await;
    assert_eq!(names(&body).len(), 20, "at most twenty");
    // A manager may assign deals within their team only: the new sellers report to nobody.
    let manager = app.sign_in("manager@pages.test").await;
    let (_, body) = app.get("/pick/users?q=seller&among=assignable", Some(&manager)).await;
    assert!(names(&body).is_empty(), "{body}");
    let (_, body) = app.get("/pick/users?q=seller", Some(&manager)).await;
    assert_eq!(names(&body).len(), 20);
    // Shares offer everyone active but the owner and those it is shared with already.
    let (_, body) = app.get(&format!("/pick/users?q=ravi&among=shareable&deal={}", deal.id), Some(&admin)).await;
    assert!(names(&body).is_empty(), "not the owner: {body}");
    let (_, body) = app.get(&format!("/pick/users?q=seller%20001&among=shareable&deal={}", deal.id), Some(&admin)).await;
    assert_eq!(names(&body), ["Seller 001"]);
    let (status, _) = app.get("/pick/users?q=seller&among=handoff&deal=999999", Some(&admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deal the reader cannot see names no one");
}
