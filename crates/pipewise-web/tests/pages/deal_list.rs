//! The deal list and the board found through the analytics projection (what `pipewise serve`
//! does) are the ones read whole: for every column the list can order, both directions, the
//! filters, pages and drill-downs, and the board of every pipeline, for an admin, a manager and
//! a rep, the page is the same, byte for byte.

use pipewise_app as app;
use std::sync::Arc;

use axum::http::StatusCode;
use pipewise_core::user::Role;
use pipewise_demo::DemoConfig;
use pipewise_store::Store;
use pipewise_test_support::fixtures::at;

use crate::support::{App, SharedDb, set_password};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deal_list_through_the_projection_is_the_list_read_whole() {
    let now = at("2026-10-30T08:00:00Z");
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(SharedDb(db));
    let summary = pipewise_demo::generate(&pipewise_app::Db::new(store.clone()), &DemoConfig::standard(11, now), &mut |_, _, _| {})
        .expect("the demo");
    let org = summary.organisation;
    let email = |role: Role| summary.users.iter().find(|(candidate, _)| *candidate == role).map(|(_, email)| email.clone()).unwrap();
    let (admin, manager, rep) = {
        let mut tx = app::Tx::new(store.read().unwrap());
        let mut user = |role| tx.user_by_email(org, &email(role)).unwrap().unwrap();
        (user(Role::Admin), user(Role::Manager), user(Role::Rep))
    };
    let pipelines = store.read().unwrap().pipelines(org).unwrap();
    let fixture = pipewise_test_support::fixtures::TestOrg {
        ctx: pipewise_store::WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now },
        manager: manager.clone(),
        rep: rep.clone(),
        simple: pipelines[0].clone(),
        b2b: pipelines.last().unwrap().clone(),
        account: store.read().unwrap().accounts(org).unwrap()[0].clone(),
    };
    for user in [&admin, &manager, &rep] {
        set_password(store.as_ref(), &fixture, user.id);
    }
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
    assert_eq!(compared, 3 * 7 * 2 * 10);
}
