//! The web app in real headless Chromium: signing in through the form, dragging a card,
//! moving one with the keyboard, and (with `PIPEWISE_SCREENSHOTS=1`) a screenshot tour of the
//! demo organisation at 1400×900 in English and Korean. Skips loudly without Chromium.

use pipewise_app as app;
use std::sync::Arc;
use std::time::Duration;

use pipewise_core::user::{Locale, Role};
use pipewise_core::{OpportunityId, OrgId, PipelineId, Timestamp};
use pipewise_store::Store;
use pipewise_test_support::browser::{Browser, keys, screenshot_dir};

use crate::support::{App, app, browser_sign_in as sign_in, serve, set_password};

/// A test app served for a browser, with what the tests of the board read: the simple
/// pipeline and its stage ids in order.
struct BoardSite {
    base: String,
    store: Arc<dyn Store>,
    org: OrgId,
    stages: Vec<i64>,
    pipeline: PipelineId,
}

impl BoardSite {
    async fn serve(app: &App) -> BoardSite {
        BoardSite {
            base: serve(app.router.clone()).await,
            store: app.store.clone(),
            org: app.org.org(),
            stages: app.org.simple.stages.iter().map(|stage| stage.id.0).collect(),
            pipeline: app.org.simple.id,
        }
    }
}

fn stage_of(store: &dyn Store, org: OrgId, deal: OpportunityId) -> i64 {
    store.read().unwrap().opportunity(org, deal, false).unwrap().unwrap().stage_id.0
}

/// Waits up to five seconds for the stored deal to reach `stage` (the page saves a move in the
/// background).
fn wait_for_stage(store: &dyn Store, org: OrgId, deal: OpportunityId, stage: i64) {
    for _ in 0..50 {
        if stage_of(store, org, deal) == stage {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_move_by_drag_and_by_keyboard_in_a_real_browser() {
    let app = app();
    let first = app.create_deal("Acme renewal", app.org.rep.id);
    let second = app.create_deal("Globex expansion", app.org.rep.id);
    let BoardSite { base, store, org, stages, pipeline } = BoardSite::serve(&app).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        sign_in(&browser, &base, "rep@pages.test").unwrap();
        browser.goto(&format!("{base}/board?pipeline={pipeline}")).unwrap();
        browser.wait_for(&format!("#deal-{}", first.id), Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("pages-board-small.png")).unwrap();
        // Drag the first card onto the third column.
        let card = browser.find(&format!("#deal-{}", first.id)).unwrap();
        let target = browser.find(&format!("ol.cards[data-stage-id=\"{}\"]", stages[2])).unwrap();
        card.drag_to(&target).unwrap();
        browser.wait_for(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[2], first.id), Duration::from_secs(5)).unwrap();
        browser.wait_for("#toast:not([hidden])", Duration::from_secs(5)).unwrap();
        wait_for_stage(store.as_ref(), org, first.id, stages[2]);
        assert_eq!(stage_of(store.as_ref(), org, first.id), stages[2], "the drop was saved");
        // Keyboard: focus the second card and press Shift+ArrowRight.
        browser.execute("document.getElementById(arguments[0]).focus()", &[serde_json::json!(format!("deal-{}", second.id))]).unwrap();
        browser.press_keys(&[&[keys::SHIFT, keys::ARROW_RIGHT].concat()]).unwrap();
        browser.wait_for(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[1], second.id), Duration::from_secs(5)).unwrap();
        wait_for_stage(store.as_ref(), org, second.id, stages[1]);
        assert_eq!(stage_of(store.as_ref(), org, second.id), stages[1], "the keyboard move was saved");
        // The header is recounted when the server has answered the move: wait for it.
        let header = format!(".column-head[data-stage-id=\"{}\"] .column-count", stages[0]);
        let mut counts = String::new();
        for _ in 0..50 {
            counts = browser.find(&header).unwrap().text().unwrap();
            if counts == "0 deals" {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(counts, "0 deals", "the column header was recounted");
        // The Move menu: Move… opens the board's menu in the card, and choosing a stage moves it.
        browser.find(&format!("#deal-{} .move-link", second.id)).unwrap().click().unwrap();
        let menu = browser.wait_for(&format!("#move-{}", second.id), Duration::from_secs(5)).unwrap();
        assert_eq!(menu.property("value").unwrap(), serde_json::json!(stages[1].to_string()), "the menu starts at the card's stage");
        browser
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1]",
                &[serde_json::json!(format!("move-{}", second.id)), serde_json::json!(stages[3].to_string())],
            )
            .unwrap();
        browser.find(&format!("#deal-{} .move-form button[type=submit]", second.id)).unwrap().click().unwrap();
        browser.wait_for(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[3], second.id), Duration::from_secs(5)).unwrap();
        wait_for_stage(store.as_ref(), org, second.id, stages[3]);
        assert_eq!(stage_of(store.as_ref(), org, second.id), stages[3], "the menu's move was saved");
        browser.screenshot(screenshot_dir().join("pages-board-after-moves.png")).unwrap();
    })
    .await
    .unwrap();
}

/// With `PIPEWISE_SCREENSHOTS=1`: every page of the demo organisation, as an admin in English
/// and a Korean rep, saved under `target/screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_tour_of_the_demo() {
    if std::env::var("PIPEWISE_SCREENSHOTS").is_err() {
        eprintln!("screenshot tour skipped: set PIPEWISE_SCREENSHOTS=1 to take it");
        return;
    }
    let now: Timestamp = "2026-10-30T08:00:00Z".parse().unwrap();
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(crate::support::SharedDb(db));
    let summary =
        pipewise_demo::generate(&pipewise_app::Db::new(store.clone()), &pipewise_demo::DemoConfig::standard(7, now), &mut |_, _, _| {})
            .unwrap();
    let org = summary.organisation;
    let email = |role: Role| summary.users.iter().find(|(candidate, _)| *candidate == role).map(|(_, email)| email.clone()).unwrap();
    let users = store.read().unwrap().users(org).unwrap();
    let admin = users.iter().find(|user| user.email == email(Role::Admin)).unwrap().clone();
    let korean = users.iter().find(|user| user.role == Role::Manager).cloned();
    let system = pipewise_store::WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now };
    let set_locale = |user: pipewise_core::UserId, locale: Locale| {
        let patch = pipewise_core::records::UserPatch { locale: Some(locale), ..Default::default() };
        pipewise_test_support::transact(store.as_ref(), |tx| app::users::update_user(tx, &system, user, &patch)).unwrap();
    };
    set_locale(admin.id, Locale::En);
    if let Some(korean) = &korean {
        set_locale(korean.id, Locale::Ko);
    }
    let fixture = pipewise_test_support::fixtures::TestOrg {
        ctx: pipewise_store::WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now },
        manager: admin.clone(),
        rep: admin.clone(),
        simple: store.read().unwrap().pipelines(org).unwrap()[0].clone(),
        b2b: store.read().unwrap().pipelines(org).unwrap()[0].clone(),
        account: store.read().unwrap().accounts(org).unwrap()[0].clone(),
    };
    set_password(store.as_ref(), &fixture, admin.id);
    if let Some(korean) = &korean {
        set_password(store.as_ref(), &fixture, korean.id);
    }
    let deal = store
        .read()
        .unwrap()
        .opportunities(org, &Default::default())
        .unwrap()
        .into_iter()
        .find(|deal| deal.status == pipewise_core::opportunity::Status::Open)
        .unwrap();
    let app = crate::support::App::with(store, fixture, admin.clone(), now);
    let base = serve(app.router.clone()).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        let directory = screenshot_dir();
        browser.goto(&format!("{base}/login")).unwrap();
        browser.screenshot(directory.join("tour-en-login.png")).unwrap();
        sign_in(&browser, &base, &admin.email).unwrap();
        let pages = [
            ("board", "/board".to_owned()),
            ("today", format!("/today?user={}", deal.owner_id)),
            ("import", "/admin/import".to_owned()),
            ("capture", "/capture".to_owned()),
            ("deal", format!("/opportunities/{}", deal.id)),
            ("deal-as-of", format!("/opportunities/{}?as_of=2026-06-30", deal.id)),
            ("deals", "/opportunities".to_owned()),
            ("accounts", "/accounts".to_owned()),
            ("account", format!("/accounts/{}", deal.account_id.map_or(1, |id| id.0))),
            ("contacts", "/contacts".to_owned()),
            ("tasks", "/tasks?owner=all".to_owned()),
            ("users", "/admin/users".to_owned()),
            ("audit", "/admin/audit".to_owned()),
            ("webhooks", "/admin/webhooks".to_owned()),
            ("routing", "/leads/routing".to_owned()),
            ("leads", "/leads?sort=fit&dir=desc".to_owned()),
            ("account-page", "/account".to_owned()),
            ("dashboard", "/dashboard".to_owned()),
            ("dashboard-past", "/dashboard?as_of=2026-06-30".to_owned()),
            ("health-settings", "/admin/health".to_owned()),
        ];
        for (name, path) in &pages {
            browser.goto(&format!("{base}{path}")).unwrap();
            browser.screenshot(directory.join(format!("tour-en-{name}.png"))).unwrap();
        }
        // A bad amount on the deal page.
        browser.goto(&format!("{base}/opportunities/{}", deal.id)).unwrap();
        browser.find("#amount").unwrap().clear().unwrap();
        browser.find("#amount").unwrap().send_keys("12.345").unwrap();
        browser.find("#currency").unwrap().clear().unwrap();
        browser.find("#currency").unwrap().send_keys("USD").unwrap();
        browser.find(".deal-form button[type=submit]").unwrap().click().unwrap();
        browser.wait_for(".field-error", Duration::from_secs(10)).unwrap();
        browser.screenshot(directory.join("tour-en-deal-error.png")).unwrap();
        if let Some(korean) = korean {
            browser.delete_cookies().unwrap();
            sign_in(&browser, &base, &korean.email).unwrap();
            for (name, path) in &pages[..5] {
                browser.goto(&format!("{base}{path}")).unwrap();
                browser.screenshot(directory.join(format!("tour-ko-{name}.png"))).unwrap();
            }
        }
        eprintln!("screenshots in {}", directory.display());
    })
    .await
    .unwrap();
}

/// The user flows, each checked in Chromium: sign in; drag a deal to the next stage and
/// find it there after a reload; a rep opening another rep's deal by URL gets the not-found page;
/// a Korean user sees Korean; a bad amount shows the field's error and keeps every other input.
/// Screenshots of the board and the deal page are written on every run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_flows_in_a_real_browser() {
    use pipewise_web::i18n::t;
    let app = app();
    let mine = app.create_deal("Initech rollout", app.org.rep.id);
    let peer = app.create_user("peer@pages.test", "Pia Peer", Role::Rep, Some(app.org.manager.id), Locale::En);
    let theirs = app.create_deal("Peer's private deal", peer.id);
    let korean = app.create_user("kim@pages.test", "김민준", Role::Rep, Some(app.org.manager.id), Locale::Ko);
    let account = app.org.account.id;
    // Enough accounts that the deal's account select becomes a search.
    for n in 0..205 {
        let new = pipewise_core::records::NewAccount {
            name: format!("Filler {n:03}"),
            domains: Vec::new(),
            industry: None,
            employee_count: None,
            region: None,
            owner_id: None,
        };
        pipewise_test_support::transact(&*app.store, |tx| pipewise_app::records::create_account(tx, &app.org.ctx, new.clone())).unwrap();
    }
    let BoardSite { base, store, org, stages, pipeline } = BoardSite::serve(&app).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        sign_in(&browser, &base, "rep@pages.test").unwrap();

        // Drag to the next stage, then reload: the card is in the new column.
        browser.goto(&format!("{base}/board?pipeline={pipeline}")).unwrap();
        let card = browser.wait_for(&format!("#deal-{}", mine.id), Duration::from_secs(10)).unwrap();
        let next_column = browser.find(&format!("ol.cards[data-stage-id=\"{}\"]", stages[1])).unwrap();
        card.drag_to(&next_column).unwrap();
        browser.wait_for("#toast:not([hidden])", Duration::from_secs(5)).unwrap();
        wait_for_stage(store.as_ref(), org, mine.id, stages[1]);
        browser.refresh().unwrap();
        browser.wait_for(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[1], mine.id), Duration::from_secs(10)).unwrap();
        assert_eq!(stage_of(store.as_ref(), org, mine.id), stages[1]);
        browser.screenshot(screenshot_dir().join("board.png")).unwrap();

        // Another rep's deal by URL: the same page as a deal that does not exist.
        browser.goto(&format!("{base}/opportunities/{}", theirs.id)).unwrap();
        let source = browser.page_source().unwrap();
        assert!(source.contains(t(Locale::En, "error.not_found.title")), "the not-found page is shown");
        assert!(!source.contains("Peer's private deal"), "nothing of the deal leaks");

        // A bad amount: the field's error, and every other input as typed.
        browser.goto(&format!("{base}/opportunities/{}", mine.id)).unwrap();
        browser.wait_for("#amount", Duration::from_secs(10)).unwrap();
        let typed = [
            ("#name", "Initech rollout, phase 2"),
            ("#next_step", "Call the CFO on Monday"),
            ("#close_date", "2026-12-31"),
            ("#amount", "12.345"),
        ];
        for (field, value) in typed {
            let input = browser.find(field).unwrap();
            input.clear().unwrap();
            input.send_keys(value).unwrap();
        }
        browser.find(".deal-form button[type=submit]").unwrap().click().unwrap();
        let error = browser.wait_for(".field-error", Duration::from_secs(10)).unwrap();
        assert!(error.text().unwrap().contains("12.345 has 3 decimal places but USD has 2"), "{}", error.text().unwrap());
        for (field, value) in typed {
            assert_eq!(browser.find(field).unwrap().property("value").unwrap(), serde_json::json!(value), "{field} keeps what was typed");
        }
        browser.screenshot(screenshot_dir().join("opportunity.png")).unwrap();
        let stored = store.read().unwrap().opportunity(org, mine.id, false).unwrap().unwrap();
        assert_eq!(stored.name, "Initech rollout", "nothing was saved");

        // The account picker: typing part of a name fills the select from the server and
        // chooses the first match.
        browser.goto(&format!("{base}/opportunities/{}", mine.id)).unwrap();
        let search = browser.wait_for("input[data-picker-for=account_id]", Duration::from_secs(10)).unwrap();
        assert!(search.is_displayed().unwrap(), "the script shows the search box");
        search.send_keys("customer").unwrap();
        let chosen = || browser.execute("return document.getElementById('account_id').value", &[]).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while chosen() != serde_json::json!(account.to_string()) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(chosen(), serde_json::json!(account.to_string()), "the account found is chosen");

        // A Korean user's board is in Korean, and so is the sign-in page for a Korean browser.
        browser.delete_cookies().unwrap();
        sign_in(&browser, &base, &korean.email).unwrap();
        assert!(browser.current_url().unwrap().ends_with("/today"), "the day is the first page");
        browser.goto(&format!("{base}/board")).unwrap();
        browser.wait_for("#board", Duration::from_secs(10)).unwrap();
        let source = browser.page_source().unwrap();
        assert!(source.contains(t(Locale::Ko, "nav.board")) && source.contains(t(Locale::Ko, "nav.sign_out")), "Korean navigation");
        assert!(source.contains("탐사"), "Korean stage names");
        drop(browser);
        let Some(korean_browser) = Browser::start_with_language("ko") else { return };
        korean_browser.goto(&format!("{base}/login")).unwrap();
        assert!(korean_browser.page_source().unwrap().contains(t(Locale::Ko, "login.title")));
    })
    .await
    .unwrap();
}

/// Issue 5's flow: dragging a deal across an unmet gate shows what is missing and the card snaps
/// back; the owner's manager then overrides with a reason, the move persists and the deal page's
/// timeline shows the override. Screenshots: the refusal, the deal workspace, the designer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_refuses_a_drag_and_a_managers_override_moves_the_deal() {
    let app = app();
    crate::gates::add_checklist(&app, 0, "Fits our ideal customer profile");
    crate::gates::add_checklist(&app, 1, "Expectations match what we offer");
    let deal = app.create_deal("Initech rollout", app.org.rep.id);
    let BoardSite { base, store, org, stages, pipeline } = BoardSite::serve(&app).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        sign_in(&browser, &base, "manager@pages.test").unwrap();
        browser.goto(&format!("{base}/board?pipeline={pipeline}")).unwrap();
        let card = browser.wait_for(&format!("#deal-{}", deal.id), Duration::from_secs(10)).unwrap();
        let target = browser.find(&format!("ol.cards[data-stage-id=\"{}\"]", stages[2])).unwrap();
        card.drag_to(&target).unwrap();
        let dialog = browser.wait_for("#gate-dialog[open]", Duration::from_secs(10)).unwrap();
        let text = dialog.text().unwrap();
        assert!(text.contains("Not moved: 2 exit criteria are not met"), "{text}");
        assert!(text.contains("Prospecting") && text.contains("Fits our ideal customer profile"), "{text}");
        assert!(text.contains("Qualification") && text.contains("Expectations match what we offer"), "{text}");
        // The card snapped back to its column.
        browser.find(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[0], deal.id)).unwrap();
        assert_eq!(stage_of(store.as_ref(), org, deal.id), stages[0]);
        browser.screenshot(screenshot_dir().join("gate-refused.png")).unwrap();
        // Override without a reason is not sent; with one, the deal moves.
        browser.find("#gate-override-ok").unwrap().click().unwrap();
        browser.wait_for("#gate-reason-error:not([hidden])", Duration::from_secs(5)).unwrap();
        browser.find("#gate-reason").unwrap().send_keys("CFO confirmed the fit on the phone").unwrap();
        browser.find("#gate-override-ok").unwrap().click().unwrap();
        browser.wait_for(&format!("ol.cards[data-stage-id=\"{}\"] #deal-{}", stages[2], deal.id), Duration::from_secs(10)).unwrap();
        wait_for_stage(store.as_ref(), org, deal.id, stages[2]);
        assert_eq!(stage_of(store.as_ref(), org, deal.id), stages[2], "the override moved the deal");
        // The deal page's timeline shows the override.
        browser.goto(&format!("{base}/opportunities/{}", deal.id)).unwrap();
        let timeline = browser.wait_for(".timeline", Duration::from_secs(10)).unwrap().text().unwrap();
        assert!(timeline.contains("Gate override") && timeline.contains("CFO confirmed the fit on the phone"), "{timeline}");
        assert!(timeline.contains("Fits our ideal customer profile"), "{timeline}");
        browser.set_window_size(1400, 1800).unwrap();
        browser.goto(&format!("{base}/opportunities/{}#ws-panel-stakeholders", deal.id)).unwrap();
        browser.wait_for("#workspace", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("workspace.png")).unwrap();
        // The designer, as an admin.
        browser.delete_cookies().unwrap();
        sign_in(&browser, &base, "admin@pages.test").unwrap();
        browser.goto(&format!("{base}/admin/pipelines/{pipeline}")).unwrap();
        browser.wait_for(".designer-stages", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("designer.png")).unwrap();
    })
    .await
    .unwrap();
}
