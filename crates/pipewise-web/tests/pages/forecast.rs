//! The forecast page (`/forecast`): the figures are `pipewise_forecast`'s on the same projection,
//! the deals that move the number link to deals the viewer may open (a rep sees their own
//! deals only), the page speaks Korean, and it draws in a real browser.

use std::time::Duration;

use axum::http::StatusCode;
use pipewise_analytics::{Period, Scope, day};
use pipewise_app::forecast::{TRIALS, seed_of};
use pipewise_core::fiscal::FiscalCalendar;
use pipewise_core::money::{Decimal, Money};
use pipewise_core::user::Locale;
use pipewise_core::{Currency, OpportunityId};
use pipewise_forecast::{Basis, Window, fit, forecast};
use pipewise_test_support::browser::{Browser, screenshot_dir};
use pipewise_web::i18n;

use crate::dashboard::{AS_OF, demo, set_locale, small_demo};
use crate::support::{between, browser_sign_in, serve, unescape};

fn usd(minor: i64) -> String {
    i18n::money(Locale::En, Money::new(Decimal::new(minor, 2), Currency::USD).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_page_shows_the_models_figures_to_each_viewer() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get(&format!("/forecast?as_of={AS_OF}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The same forecast worked out here, on the organisation's own projection.
    let q4 = Period::from(&FiscalCalendar::CALENDAR_YEAR.parse_key("2026-Q4").unwrap());
    let window = Window::new(day(AS_OF), q4);
    let expected = demo.projection(|projection| {
        let model = fit(projection, window);
        forecast(&model, projection, &Scope::org(), TRIALS, seed_of(window), 30)
    });
    assert_eq!(expected.basis, Basis::Statistical, "the demo's history is above the data floor");
    let [p10, _, p90] = expected.range.unwrap();
    let figures = between(&body, "id=\"fc-figures\"", "id=\"fc-made-of\"").unwrap();
    assert!(figures.contains(&usd(expected.expected)), "the expected total {} in {figures}", usd(expected.expected));
    assert!(figures.contains(&format!("Likely between {} and {} (P10–P90).", usd(p10), usd(p90))), "the range");
    assert!(figures.contains(&usd(expected.won)) && figures.contains(&usd(expected.stage_weighted)), "won and stage-weighted");
    assert!(body.contains("class=\"fc-band\""), "the band is drawn");
    // The track record: the demo's people called the last four closed quarters; each opening
    // call is scored against what their number won, as the analytics count it.
    let summary = between(&body, "id=\"fc-ledger-summary\">", "</p>").unwrap();
    assert!(summary.starts_with("Over the last 4 closed quarters,"), "{summary}");
    let ledger = {
        let clock: pipewise_app::insights::Clock = std::sync::Arc::new(|| pipewise_test_support::fixtures::at("2026-10-30T08:00:00Z"));
        let insights = pipewise_app::insights::Insights::load_with_clock(app.store.clone(), demo.org, clock).unwrap();
        let mut tx = pipewise_app::Tx::new(app.store.read().unwrap());
        let today = "2026-10-30".parse().unwrap();
        pipewise_app::forecast::ledger(&mut tx, demo.org, &pipewise_core::access::Access::System, &insights, today, 4).unwrap()
    };
    assert!(!ledger.scored.is_empty());
    // The model's own record: the demo recorded its opening forecasts of the closed quarters.
    let (forecasts, _, _) = ledger.model_record();
    assert!(forecasts >= 4, "the organisation's opening forecasts at least: {forecasts}");
    let model = between(&body, "id=\"fc-ledger-model\">", "</p>").expect("the model's record");
    assert!(model.contains(&format!("{forecasts} opening forecasts")), "{model}");
    for scored in ledger.scored.iter().filter(|scored| scored.call.user == demo.rep.id) {
        let period = Period::from(&scored.period);
        let actual = demo.projection(|projection| {
            let scope = Scope::owners([projection.owner_index(demo.rep.id).unwrap()]);
            pipewise_analytics::metrics::outcomes(projection, &scope, period.last, period).won_amount as i64
        });
        assert_eq!(scored.actual, actual, "the rep's {} actual", scored.period.key());
    }
    let callers = between(&body, "id=\"fc-ledger\"", "</table>").unwrap();
    assert!(callers.contains(&demo.rep.name), "the rep's record is listed");
    // The movers are the model's, in its order, each linked to its deal.
    let movers = unescape(between(&body, "id=\"fc-movers\"", "</table>").unwrap());
    let first = expected.movers.first().expect("open deals move the number").opportunity;
    assert!(movers.contains(&format!("/opportunities/{}", first.0)), "the first mover links to its deal");

    // The rep calls their number through the form: a bad best case is shown on the form with
    // nothing kept, then the call is kept and shows in the manager's roll-up.
    let rep = app.sign_in(&demo.rep.email).await;
    let refused = app
        .post_form("/forecast/call", Some(&rep), &[("period", "2026-Q4"), ("commit", "50,000"), ("best_case", "40000"), ("note", "")], true)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let called = app
        .post_form(
            "/forecast/call",
            Some(&rep),
            &[("period", "2026-Q4"), ("commit", "50,000"), ("best_case", "80000"), ("note", "Two renewals")],
            true,
        )
        .await;
    assert_eq!(called.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get("/forecast?period=2026-Q4&called=1", Some(&rep)).await;
    let history = between(&body, "id=\"fc-history\"", "</table>").unwrap();
    assert!(history.contains(&usd(5_000_000)) && history.contains("Two renewals"), "the call is in the rep's history");
    let manager_of_rep = demo.users.iter().find(|user| Some(user.id) == demo.rep.manager_id).unwrap();
    let boss = app.sign_in(&manager_of_rep.email).await;
    let (_, body) = app.get("/forecast?period=2026-Q4", Some(&boss)).await;
    let reports = between(&body, "id=\"fc-reports\"", "</table>").unwrap();
    assert!(reports.contains(&demo.rep.name) && reports.contains(&usd(5_000_000)), "the rep's call rolls up to their manager");

    // A rep's movers are their own deals.
    let (status, body) = app.get(&format!("/forecast?as_of={AS_OF}"), Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    let movers = unescape(between(&body, "id=\"fc-movers\"", "</table>").unwrap());
    let ids: Vec<i64> = movers.split("/opportunities/").skip(1).map(|rest| rest.split('"').next().unwrap().parse().unwrap()).collect();
    assert!(!ids.is_empty(), "the rep has deals that move their number");
    let owners = demo.projection(|projection| {
        ids.iter()
            .map(|id| {
                let deal = projection.deal_index(OpportunityId(*id)).unwrap();
                projection.owner_ids[projection.state_at(deal, day(AS_OF)).unwrap().owner as usize]
            })
            .collect::<Vec<_>>()
    });
    assert!(owners.iter().all(|owner| *owner == demo.rep.id), "a rep sees only their own deals: {owners:?}");
    // The rep's hygiene for the last closed quarter (2026-Q3): late updates as the history
    // says, and no call missing (the demo's people called every quarter).
    let symptoms = between(&body, "id=\"fc-symptoms\"", "</table>").unwrap();
    let row = between(symptoms, "<tbody>", "</tbody>").unwrap();
    let cells: Vec<&str> = row.split("<td class=\"numeric\">").skip(1).map(|cell| cell.split([' ', '<']).next().unwrap()).collect();
    let q3 = Period::from(&FiscalCalendar::CALENDAR_YEAR.parse_key("2026-Q3").unwrap());
    let late = demo.projection(|projection| {
        let share = pipewise_forecast::symptoms::late_updates(projection, q3)[projection.owner_index(demo.rep.id).unwrap() as usize];
        share.ratio().map_or("—".to_owned(), |ratio| format!("{:.0}%", ratio * 100.0))
    });
    assert_eq!(cells.len(), 5, "{row}");
    assert_eq!((cells[0], cells[3]), (late.as_str(), "0%"), "{row}");
    let rep_scope = demo.projection(|projection| {
        let model = fit(projection, window);
        forecast(&model, projection, &Scope::owners([projection.owner_index(demo.rep.id).unwrap()]), TRIALS, seed_of(window), 0)
    });
    assert!(body.contains(&usd(rep_scope.expected)), "the rep's own expected total");
    // Another team's id is the same 404 as a missing one.
    let manager = app.sign_in(&demo.manager.email).await;
    let foreign = demo.teams.iter().find(|team| team.manager_id != Some(demo.manager.id)).unwrap();
    let (status, _) = app.get(&format!("/forecast?team={}", foreign.id), Some(&manager)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // In Korean.
    set_locale(app.store.as_ref(), demo.org, &demo.admin, Locale::Ko);
    let (status, body) = app.get(&format!("/forecast?as_of={AS_OF}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("숫자를 가장 크게 움직이는 거래") && body.contains("예상 실적"), "the page speaks Korean");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_page_in_a_real_browser() {
    let demo = demo(small_demo());
    let base = serve(demo.app.router.clone()).await;
    let manager = demo.manager.email.clone();
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1400).unwrap();
        browser_sign_in(&browser, &base, &manager).unwrap();
        browser.goto(&format!("{base}/forecast?as_of={AS_OF}")).unwrap();
        browser.wait_for("#fc-movers", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("forecast.png")).unwrap();
        browser.execute("document.getElementById('fc-call').scrollIntoView()", &[]).unwrap();
        browser.screenshot(screenshot_dir().join("forecast-call.png")).unwrap();
        browser.execute("document.getElementById('fc-ledger').scrollIntoView()", &[]).unwrap();
        browser.screenshot(screenshot_dir().join("forecast-ledger.png")).unwrap();
        // A deal that moves the number, with its win probability and the reasons for it.
        browser.execute("document.querySelector('#fc-movers a[href^=\"/opportunities/\"]').click()", &[]).unwrap();
        browser.wait_for(".deal-win", Duration::from_secs(10)).unwrap();
        browser.execute("document.querySelector('.deal-win').scrollIntoView()", &[]).unwrap();
        browser.screenshot(screenshot_dir().join("deal-win.png")).unwrap();
    })
    .await
    .unwrap();
}

/// The deal page shows an open deal's win probability with the reasons that add up to it, the
/// same as the model scores it here, and the model's held-out record; the API gives the same
/// score; a rep cannot read the score of a deal they may not see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deal_page_and_the_api_give_the_win_probability_with_its_reasons() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let now = pipewise_test_support::fixtures::at("2026-10-30T08:00:00Z");
    let insights = {
        let clock: pipewise_app::insights::Clock = std::sync::Arc::new(move || now);
        pipewise_app::insights::Insights::load_with_clock(app.store.clone(), demo.org, clock).unwrap()
    };
    let today = day(AS_OF);
    // An open deal in a counting stage that the rep does not own.
    let deal = demo.projection(|projection| {
        let rep = projection.owner_index(demo.rep.id);
        (0..projection.n_deals() as u32)
            .rev()
            .find(|deal| {
                projection.state_at(*deal, today).is_some_and(|state| {
                    let stage = &projection.stages[state.stage as usize];
                    stage.is_open() && stage.counts_in_metrics && Some(state.owner) != rep
                })
            })
            .map(|deal| projection.deals().id[deal as usize])
            .expect("an open deal")
    });
    let answer = {
        let mut tx = pipewise_app::Tx::new(app.store.read().unwrap());
        pipewise_app::forecast::win_score(&mut tx, demo.org, &pipewise_core::access::Access::System, &insights, deal, now).unwrap().unwrap()
    };
    let score = answer.score.as_ref().expect("the small demo is above the model's data floor");
    let held = &answer.model.held_out;
    assert!(held.brier < held.brier_stage_default + 0.02, "{held:?}");
    let sum: f64 = score.reasons.iter().map(|reason| reason.points).sum();
    assert!((score.base + sum - score.probability).abs() < 1e-9);

    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let card = unescape(between(&body, "class=\"card deal-win\"", "</section>").expect("the win panel"));
    let shown = format!("<span class=\"win-probability\">{:.0}%</span>", score.probability * 100.0);
    assert!(card.contains(&shown), "{shown} in {card}");
    let top = &score.reasons[0];
    assert!(card.contains(i18n::t(Locale::En, &format!("win.factor.{}", top.factor.key()))), "the largest reason in {card}");
    assert!(card.contains(&format!("{:+.1} pts", top.points * 100.0)), "its points in {card}");
    assert!(card.contains(&format!("{:.3}", held.brier)), "the held-out record in {card}");

    let (status, json) = app.get(&format!("/api/v1/opportunities/{deal}/win-probability"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["probability"], format!("{:.4}", score.probability));
    assert_eq!(json["refused"], serde_json::Value::Null);
    let points: f64 =
        json["reasons"].as_array().unwrap().iter().map(|reason| reason["points"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    let base: f64 = json["base"].as_str().unwrap().parse().unwrap();
    assert!((base + points - score.probability).abs() < 0.001 * json["reasons"].as_array().unwrap().len() as f64);
    assert_eq!(json["model"]["basis"], "fitted");

    // The rep may not see that deal: neither its page nor its score.
    let rep = app.sign_in(&demo.rep.email).await;
    let (status, _) = app.get(&format!("/api/v1/opportunities/{deal}/win-probability"), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A closed deal is not scored.
    let closed = demo.projection(|projection| {
        (0..projection.n_deals() as u32)
            .find(|deal| projection.state_at(*deal, today).is_some_and(|state| !projection.stages[state.stage as usize].is_open()))
            .map(|deal| projection.deals().id[deal as usize])
            .unwrap()
    });
    let (status, json) = app.get(&format!("/api/v1/opportunities/{closed}/win-probability"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(json.contains("\"refused\":\"not_open\""), "{json}");
    let (_, page) = app.get(&format!("/opportunities/{closed}"), Some(&admin)).await;
    assert!(!page.contains("deal-win"), "no panel on a closed deal");
}

/// With the projections kept (as `serve` keeps them), the first view of a deal page does not
/// wait for the day's win model: it says the model is learning, and a later view shows the score.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deal_page_never_waits_for_the_win_model() {
    let mut demo = demo(small_demo());
    let now = pipewise_test_support::fixtures::at("2026-10-30T08:00:00Z");
    let mut state = pipewise_web::AppState::new(pipewise_app::Db::new(demo.app.store.clone()));
    state.clock = std::sync::Arc::new(move || now);
    let registry = pipewise_app::insights::InsightsRegistry::new(demo.app.store.clone()).with_clock(std::sync::Arc::new(move || now));
    state.insights = Some(std::sync::Arc::new(registry));
    demo.app.router = pipewise_web::router(state);
    let app = &demo.app;
    let deal = demo.projection(|projection| {
        (0..projection.n_deals() as u32)
            .rev()
            .find(|deal| {
                projection.state_at(*deal, day(AS_OF)).is_some_and(|state| {
                    let stage = &projection.stages[state.stage as usize];
                    stage.is_open() && stage.counts_in_metrics
                })
            })
            .map(|deal| projection.deals().id[deal as usize])
            .unwrap()
    });
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, first) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let learning = i18n::t(Locale::En, "deal.win_learning");
    assert!(unescape(&first).contains(learning), "the first view says the model is learning");
    let started = std::time::Instant::now();
    loop {
        let (_, page) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
        if page.contains("class=\"win-probability\"") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the model was never fitted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
