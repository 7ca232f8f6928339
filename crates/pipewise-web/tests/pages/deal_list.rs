//! The deal list and the board found through the analytics projection (what `pipewise serve`
//! does) are the ones read whole: for every column the list can order, both directions, the
//! filters, pages and drill-downs, and the board of every pipeline, for an admin, a manager and
//! a rep, the page is the same, byte for byte.

use pipewise_app as app;

use axum::http::StatusCode;
use pipewise_test_support::fixtures::at;

use crate::support::{App, Demo, demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deal_list_through_the_projection_is_the_list_read_whole() {
    let now = at("2026-10-30T08:00:00Z");
    let Demo { store, fixture, admin, manager, rep, pipelines, .. } = demo(11, now);
    // An account with deals renamed to a name no deal's name holds: its deals are found by it
    // alone.
    let renamed = pipewise_core::records::AccountPatch { name: Some("Zyxwvé Holdings".into()), ..Default::default() };
    pipewise_test_support::transact(&*store, |tx| {
        let deals = app::deals::opportunities_for(tx, fixture.ctx.org, &pipewise_core::access::Access::System, &Default::default())?;
        let account = deals.iter().find_map(|deal| deal.account_id).expect("a deal with an account");
        app::records::update_account(tx, &fixture.ctx, account, &renamed)
    })
    .unwrap();
    let account = "ZYXWVÉ".to_owned();
    let whole = App::with(store.clone(), fixture.clone(), admin.clone(), now);
    let quick = App::with(store, fixture, admin.clone(), now).with_insights();
    let pipeline = pipelines.last().unwrap();
    let stage = pipeline.stages[1].id;
    let mut filters = vec![
        String::new(),
        "&status=all".to_owned(),
        "&status=won&page=2".to_owned(),
        "&status=lost&page=999".to_owned(),
        format!("&pipeline={}", pipeline.id),
        format!("&stage={stage}&status=all"),
        format!("&owner={}&status=all", rep.id),
        "&figure=open".to_owned(),
        "&figure=won&status=all".to_owned(),
    ];
    filters.push("&page=3&status=all".to_owned());
    // A search, in deal names and account names (ignoring case), alone and with filters.
    filters.push("&q=RENEW&status=all".to_owned());
    filters.push(format!("&q={}&status=all", urlencode(&account)));
    filters.push(format!("&q=e&owner={}&status=all&page=2", rep.id));
    let mut compared = 0;
    for user in [&admin, &manager, &rep] {
        let session = whole.sign_in(&user.email).await;
        for sort in ["pipeline", "stage", "amount", "close_date", "forecast", "owner", "status"] {
            for dir in ["asc", "desc"] {
                for filter in &filters {
                    let path = format!("/opportunities?sort={sort}&dir={dir}{filter}");
                    let (status, expected) = whole.get(&path, Some(&session)).await;
                    assert_eq!(status, StatusCode::OK, "{path}");
                    let (status, found) = quick.get(&path, Some(&session)).await;
                    assert_eq!(status, StatusCode::OK, "{path}");
                    if path.contains("ZYXW") && user.id == admin.id {
                        assert!(found.contains("Zyxwvé Holdings"), "{path}: the account's deals are found");
                    }
                    if found != expected {
                        let line = found.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(0);
                        panic!(
                            "{} {path}: the pages differ from line {line}:\nquick: {}\nwhole: {}",
                            user.email,
                            found.lines().nth(line).unwrap_or_default(),
                            expected.lines().nth(line).unwrap_or_default()
                        );
                    }
                    compared += 1;
                }
            }
        }
        // The CSV, streamed from the projection's order, is the one of the list read whole.
        for sort in ["amount", "close_date", "owner"] {
            for filter in &filters {
                let path = format!("/opportunities?sort={sort}&dir=desc{filter}&format=csv");
                let (status, expected) = whole.get(&path, Some(&session)).await;
                assert_eq!(status, StatusCode::OK, "{path}");
                let (status, found) = quick.get(&path, Some(&session)).await;
                assert_eq!(status, StatusCode::OK, "{path}");
                assert!(expected.lines().count() > 1 || filter.contains("page=999") || filter.contains("q="), "{path}: rows to compare");
                assert_eq!(found, expected, "{} {path}: the CSVs differ", user.email);
            }
        }
        // The default order too.
        let (_, expected) = whole.get("/opportunities", Some(&session)).await;
        let (_, found) = quick.get("/opportunities", Some(&session)).await;
        assert_eq!(found, expected, "{}: the default list", user.email);
        // The board of every pipeline, everyone's and one owner's, and the one chosen for the
        // reader: counts, totals, the cards and their order, the closed columns.
        let mut boards = vec!["/board".to_owned(), format!("/board?owner={}", rep.id)];
        boards.extend(pipelines.iter().map(|pipeline| format!("/board?pipeline={}", pipeline.id)));
        for path in boards {
            let (status, expected) = whole.get(&path, Some(&session)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            let (_, found) = quick.get(&path, Some(&session)).await;
            if found != expected {
                let line = found.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(0);
                panic!(
                    "{} {path}: the boards differ from line {line}:\nquick: {}\nwhole: {}",
                    user.email,
                    found.lines().nth(line).unwrap_or_default(),
                    expected.lines().nth(line).unwrap_or_default()
                );
            }
        }
    }
    assert_eq!(compared, 3 * 7 * 2 * 13);
}

/// The account and contact lists found a page at a time (in name order through the store's
/// index, in another order by that column's keys alone) are the lists read whole: for every
/// column, both directions, the filters and the pages, each page's rows are those of the CSV
/// (every matching row, ordered by `List::respond` as a list read whole is), for an admin and a
/// rep, with and without the analytics projection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_and_contact_pages_are_the_lists_read_whole() {
    let now = at("2026-10-30T08:00:00Z");
    let Demo { store, fixture, admin, rep, .. } = demo(5, now);
    let industry = store.read().unwrap().accounts(fixture.ctx.org).unwrap().iter().find_map(|account| account.industry.clone()).unwrap();
    let whole = App::with(store.clone(), fixture.clone(), admin.clone(), now);
    let quick = App::with(store, fixture.clone(), admin.clone(), now).with_insights();
    let lists: [(&str, &[&str], Vec<String>); 2] = [
        (
            "/accounts",
            &["name", "domains", "industry", "region", "employees", "owner", "open_deals", "open_amount"],
            vec![String::new(), "&q=co".to_owned(), format!("&industry={industry}"), format!("&owner={}", fixture.rep.id)],
        ),
        (
            "/contacts",
            &["name", "title", "account", "email", "phone"],
            vec![String::new(), "&q=a".to_owned(), format!("&account={}", fixture.account.id)],
        ),
    ];
    let mut compared = 0;
    for app in [&whole, &quick] {
        for user in [&admin, &rep] {
            let session = app.sign_in(&user.email).await;
            for (path, columns, filters) in &lists {
                for column in *columns {
                    for dir in ["asc", "desc"] {
                        for filter in filters {
                            let list = format!("{path}?sort={column}&dir={dir}{filter}");
                            let (status, csv) = app.get(&format!("{list}&format=csv"), Some(&session)).await;
                            assert_eq!(status, StatusCode::OK, "{list}");
                            // The first cell of every row: the name, unique enough with the
                            // rest of the row's first column.
                            let every: Vec<String> = csv.lines().skip(1).map(first_csv_field).collect();
                            assert!(!every.is_empty(), "{list}: rows to compare");
                            if filter.is_empty() {
                                assert!(every.len() > 100, "{list}: more than a page to compare ({})", every.len());
                            }
                            let pages = every.len().div_ceil(100).max(1);
                            for page in [1, 2, pages + 5] {
                                let (status, html) = app.get(&format!("{list}&page={page}"), Some(&session)).await;
                                assert_eq!(status, StatusCode::OK, "{list}&page={page}");
                                let shown = page.min(pages);
                                let expected: Vec<&String> = every.iter().skip((shown - 1) * 100).take(100).collect();
                                let found = row_names(&html);
                                assert_eq!(found.len(), expected.len(), "{} {list}&page={page}: rows shown", user.email);
                                for (found, expected) in found.iter().zip(&expected) {
                                    assert_eq!(found, *expected, "{} {list}&page={page}: the rows' order", user.email);
                                }
                                assert!(
                                    html.contains(&format!("{}", every.len())),
                                    "{} {list}: the count of every match ({})",
                                    user.email,
                                    every.len()
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(compared, 2 * 2 * (8 * 2 * 4 + 5 * 2 * 3) * 3);
}

/// The first field of a CSV line (quoted or not), as the list shows it.
fn first_csv_field(line: &str) -> String {
    let line = line.trim_start_matches('\u{feff}');
    if let Some(rest) = line.strip_prefix('"') {
        let mut field = String::new();
        let mut characters = rest.chars().peekable();
        while let Some(character) = characters.next() {
            match character {
                '"' if characters.peek() == Some(&'"') => {
                    field.push('"');
                    characters.next();
                }
                '"' => break,
                other => field.push(other),
            }
        }
        field
    } else {
        line.split(',').next().unwrap_or_default().to_owned()
    }
}

/// The text of each row's first cell (a link to the record) in a list page's table.
fn row_names(html: &str) -> Vec<String> {
    let body = html.split("<tbody>").nth(1).and_then(|rest| rest.split("</tbody>").next()).unwrap_or_default();
    body.split("<tr")
        .skip(1)
        .filter_map(|row| {
            let cell = row.split("<td").nth(1)?;
            let text = cell.split_once('>')?.1;
            let text = text.split("</td>").next()?;
            // Inside the link, if any.
            let text = match text.split_once("<a ") {
                Some((_, link)) => link.split_once('>')?.1.split("</a>").next()?,
                None => text,
            };
            Some(unescape(text.trim()))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
}

/// `text` as a URL's query value.
fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect()
}
