//! The performance page (`/performance`): team attainment beside the share of reps at quota,
//! worked out from the stored quotas and the analytics' own bookings; reps side by side with
//! drill-downs; a rep sees only themselves; the page in a real browser.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::StatusCode;
use pipewise_analytics::{DashboardQuery, Period, Scope, day, leaderboard};
use pipewise_app::{self as app};
use pipewise_core::fiscal::FiscalCalendar;
use pipewise_core::money::Decimal;
use pipewise_core::user::Role;
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::dashboard::{AS_OF, demo, small_demo};
use crate::support::{between, browser_sign_in, serve, unescape};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_attainment_sits_beside_the_share_of_reps_at_quota() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get(&format!("/performance?as_of={AS_OF}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The same figures worked out here: each rep's won amount in Q4 2026 (to the as-of day)
    // against the quota the demo's ops stored for the quarter.
    let q4 = FiscalCalendar::CALENDAR_YEAR.parse_key("2026-Q4").unwrap();
    let book = app::quotas::quota_book(
        &mut app::Tx::new(app.store.read().unwrap()),
        demo.org,
        &pipewise_core::access::Access::System,
        q4.first,
        q4.last,
    )
    .unwrap();
    let won: BTreeMap<_, _> = demo.projection(|projection| {
        let mut query = DashboardQuery::new(day(AS_OF));
        query.period = Period::from(&q4);
        query.scope = Scope::org();
        leaderboard(projection, &query).into_iter().map(|row| (row.user_id, Decimal::from_i128_with_scale(row.won_amount, 2))).collect()
    });
    let reps: Vec<_> = demo.users.iter().filter(|user| user.role == Role::Rep).collect();
    let (mut booked, mut quota, mut at_quota) = (Decimal::ZERO, Decimal::ZERO, 0);
    for rep in &reps {
        let (rep_won, rep_quota) = (won.get(&rep.id).copied().unwrap_or_default(), book.users[&rep.id]);
        booked += rep_won;
        quota += rep_quota;
        at_quota += usize::from(rep_won >= rep_quota);
    }
    let percent = |value: Decimal| format!("{}%", (value * Decimal::ONE_HUNDRED).round_dp(0).normalize());
    let summary = between(&body, "id=\"perf-summary\">", "</p>").unwrap();
    let expected = format!(
        "Pipewise Demo is at {} of quota while {} of its reps reached theirs.",
        percent(booked / quota),
        percent(Decimal::from(at_quota) / Decimal::from(reps.len()))
    );
    assert_eq!(summary, expected);
    assert!(body.contains(&format!("{at_quota} of {} reps with a quota.", reps.len())), "the share's note");
    // Every rep is compared, and their bookings drill down to the deals behind them.
    let table = unescape(between(&body, "id=\"rep-comparison\"", "</table>").unwrap());
    for rep in &reps {
        assert!(table.contains(&format!(">{}</a>", rep.name)), "{} is compared", rep.name);
        assert!(
            table.contains(&format!("/opportunities?figure=won_period&owner={}&period=2026-Q4", rep.id)),
            "{}'s bookings drill down",
            rep.name
        );
    }
    assert!(body.contains("id=\"stage-spread\""), "the stage spread");

    // A rep sees only themselves.
    let rep = app.sign_in(&demo.rep.email).await;
    let (status, body) = app.get(&format!("/performance?as_of={AS_OF}"), Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    let table = between(&body, "id=\"rep-comparison\"", "</table>").unwrap();
    for other in reps.iter().filter(|other| other.id != demo.rep.id) {
        assert!(!table.contains(&other.name), "{} is not shown to another rep", other.name);
    }
    // Another team's id is the same 404 as a missing one.
    let manager = app.sign_in(&demo.manager.email).await;
    let foreign = demo.teams.iter().find(|team| team.manager_id != Some(demo.manager.id)).unwrap();
    let (status, _) = app.get(&format!("/performance?team={}", foreign.id), Some(&manager)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_performance_page_in_a_real_browser() {
    let demo = demo(small_demo());
    let base = serve(demo.app.router.clone()).await;
    let admin = demo.admin.email.clone();
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1300).unwrap();
        browser_sign_in(&browser, &base, &admin).unwrap();
        browser.goto(&format!("{base}/performance?as_of={AS_OF}")).unwrap();
        browser.wait_for("#rep-comparison", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("performance.png")).unwrap();
    })
    .await
    .unwrap();
}
