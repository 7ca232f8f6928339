//! Activity facts as of a past day use only what was known then: logging an activity or
//! completing, reopening or postponing a task today leaves health as of an earlier day as it
//! was, while today's facts change. Every case runs on SQLite and on PostgreSQL.

use pipewise_app as app;
use std::sync::Arc;

use pipewise_analytics::health::{DealHealth, HealthOverview, deal_health};
use pipewise_analytics::{DashboardQuery, DealActivity, FlagCode, HealthThresholds, Projection, dashboard, day};
use pipewise_app::insights::{Insights, activity_facts_as_of};
use pipewise_core::records::{Direction, NewContact, NewTask, TaskPatch};
use pipewise_core::{OpportunityId, TaskId};
use pipewise_store::Store;
use pipewise_test_support::SharedDb;
use pipewise_test_support::fixtures::{TestOrg, at, call, test_org};
use pipewise_test_support::transact;

#[test]
fn sqlite_editing_todays_activities_and_tasks_does_not_change_past_health() {
    editing_todays_activities_and_tasks_does_not_change_past_health(Arc::new(SharedDb(Arc::new(pipewise_test_support::sqlite()))));
}

#[test]
fn postgres_editing_todays_activities_and_tasks_does_not_change_past_health() {
    let Some(db) = pipewise_test_support::postgres() else { return };
    editing_todays_activities_and_tasks_does_not_change_past_health(Arc::new(SharedDb(Arc::new(db))));
}

/// "Today" for the insights: 2026-03-01.
const TODAY: &str = "2026-03-01T12:00:00Z";
/// The past day every check looks back at.
const PAST: &str = "2026-02-15";

fn task(org: &TestOrg, deal: OpportunityId, title: &str, due: &str) -> NewTask {
    NewTask {
        title: title.into(),
        owner_id: org.rep.id,
        due_on: Some(due.parse().unwrap()),
        completed_at: None,
        account_id: None,
        opportunity_id: Some(deal),
        lead_id: None,
    }
}

/// Health of `deal` as of `as_of` with the facts [`Insights::with_as_of`] gives, the facts
/// themselves, and the dashboard's health of the organisation, its teams and reps.
fn read(insights: &Insights, deal: OpportunityId, as_of: i32) -> (Option<DealHealth>, DealActivity, HealthOverview) {
    insights
        .with_as_of(as_of, |projection: &Projection, facts| {
            let index = projection.deal_index(deal).unwrap();
            let columns = facts.as_deref().unwrap_or(&projection.activity);
            // Laid out for exactly this projection, new deals included.
            assert_eq!(columns.touchpoints_30d.len(), projection.n_deals());
            let health = deal_health(projection, columns, index, as_of, &HealthThresholds::default());
            let mut query = DashboardQuery::new(as_of);
            query.facts = facts.clone();
            let board = dashboard(projection, &query);
            (health, columns.get(index), board.health)
        })
        .unwrap()
}

fn codes(health: &Option<DealHealth>) -> Vec<FlagCode> {
    let health = health.as_ref().expect("the deal existed");
    health.flags.iter().chain(&health.signals).map(|flag| flag.code).collect()
}

fn editing_todays_activities_and_tasks_does_not_change_past_health(store: Arc<dyn Store>) {
    let org = test_org(store.as_ref(), "Past Facts Co");
    let ctx = |when: &str| org.by_rep(at(when));
    let (past, today) = (day(PAST), pipewise_analytics::day_of_timestamp(at(TODAY), &pipewise_core::Zone::utc()));

    // Known by the end of 2026-02-15: one inbound call with contact A on 02-01, and four tasks
    // created on 02-01: "Send terms" due 02-10 (open), "Book demo" due 02-12 (done on 02-14),
    // "Chase legal" due 02-05 (open), "Prepare call" due 03-10 (open).
    let (deal, contacts, tasks) = transact(&*store, |tx| {
        let deal = app::deals::create_opportunity(tx, &ctx("2026-01-05T09:00:00Z"), &org.new_deal("Renewal"))?.id;
        let mut contacts = Vec::new();
        for name in ["Ana", "Ben", "Cho"] {
            let new = NewContact {
                name: name.into(),
                emails: vec![format!("{}@past-facts.test", name.to_lowercase())],
                phone: None,
                title: None,
                account_id: Some(org.account.id),
            };
            contacts.push(app::records::create_contact(tx, &ctx("2026-01-05T09:00:00Z"), new)?.id);
        }
        app::activities::create_activity(
            tx,
            &ctx("2026-02-01T15:00:00Z"),
            call(deal, Direction::Inbound, "2026-02-01T14:00:00Z", &contacts[..1]),
        )?;
        let mut tasks: Vec<TaskId> = Vec::new();
        let planned =
            [("Send terms", "2026-02-10"), ("Book demo", "2026-02-12"), ("Chase legal", "2026-02-05"), ("Prepare call", "2026-03-10")];
        for (title, due) in planned {
            tasks.push(app::activities::create_task(tx, &ctx("2026-02-01T16:00:00Z"), task(&org, deal, title, due))?.id);
        }
        app::activities::update_task(
            tx,
            &ctx("2026-02-14T10:00:00Z"),
            tasks[1],
            &TaskPatch { completed: Some(true), ..TaskPatch::default() },
        )?;
        Ok((deal, contacts, tasks))
    })
    .unwrap();

    let clock: pipewise_app::insights::Clock = Arc::new(|| at(TODAY));
    let insights = Insights::load_with_clock(store.clone(), org.org(), clock.clone()).unwrap();
    assert!(insights.facts_as_of(today).unwrap().is_none(), "today reads the projection's own facts");
    assert!(insights.facts_as_of(today + 3).unwrap().is_none());
    let before = read(&insights, deal, past);
    // Hand check: the 02-01 call is the last activity and the last inbound one, one touchpoint
    // in 2026-01-17..=02-15, one contact, no lag; overdue: "Send terms" and "Chase legal".
    let expected = DealActivity {
        last_activity: Some(day("2026-02-01")),
        last_inbound: Some(day("2026-02-01")),
        touchpoints_30d: 1,
        contacts_engaged: 1,
        overdue_tasks: 2,
        max_log_lag_days: 0,
    };
    assert_eq!(before.1, expected);
    assert!(codes(&before.0).contains(&FlagCode::OverdueTasks), "{:?}", before.0);
    assert!(codes(&before.0).contains(&FlagCode::SingleThreaded), "{:?}", before.0);
    assert!(!codes(&before.0).contains(&FlagCode::LateUpdates), "{:?}", before.0);

    // Today, 2026-03-01: a call of 02-10 with Ben and Cho is logged late (19 days), an inbound
    // call with Cho happens, "Send terms" is done, "Book demo" reopened, "Chase legal" postponed
    // to 03-20, "Prepare call" brought forward to 02-03, a task due 02-01 is created now, and a
    // new deal appears. (Read with today's task records instead of those of 02-15, the past
    // would count "Send terms", "Book demo" and "Prepare call": 3.)
    transact(&*store, |tx| {
        let now = ctx("2026-03-01T10:00:00Z");
        app::activities::create_activity(tx, &now, call(deal, Direction::Outbound, "2026-02-10T09:00:00Z", &contacts[1..]))?;
        app::activities::create_activity(tx, &now, call(deal, Direction::Inbound, "2026-03-01T09:30:00Z", &contacts[2..]))?;
        app::activities::update_task(tx, &now, tasks[0], &TaskPatch { completed: Some(true), ..TaskPatch::default() })?;
        app::activities::update_task(tx, &now, tasks[1], &TaskPatch { completed: Some(false), ..TaskPatch::default() })?;
        app::activities::update_task(
            tx,
            &now,
            tasks[2],
            &TaskPatch { due_on: Some(Some("2026-03-20".parse().unwrap())), ..TaskPatch::default() },
        )?;
        app::activities::update_task(
            tx,
            &now,
            tasks[3],
            &TaskPatch { due_on: Some(Some("2026-02-03".parse().unwrap())), ..TaskPatch::default() },
        )?;
        app::activities::create_task(tx, &now, task(&org, deal, "Late one", "2026-02-01"))?;
        app::deals::create_opportunity(tx, &now, &org.new_deal("Newcomer"))?;
        Ok(())
    })
    .unwrap();
    insights.refresh_facts().unwrap();

    // The past is as it was: facts, the deal's flags and signals, the dashboard's counts.
    let after = read(&insights, deal, past);
    assert_eq!(after, before, "health as of {PAST} changed after writes on 2026-03-01");
    // So is it for an instance that never saw the old state, and straight from the store.
    let fresh = Insights::load_with_clock(store.clone(), org.org(), clock).unwrap();
    assert_eq!(read(&fresh, deal, past), before);
    let from_store = activity_facts_as_of(store.read().unwrap().as_mut(), org.org(), &pipewise_core::Zone::utc(), past, None).unwrap();
    assert_eq!(from_store[&deal.0], expected);
    // Read for some deals only (those open then, as a past day's dashboard reads them): the
    // same facts for those, none for the others.
    let only = activity_facts_as_of(store.read().unwrap().as_mut(), org.org(), &pipewise_core::Zone::utc(), past, Some(&[deal])).unwrap();
    assert_eq!(only.keys().collect::<Vec<_>>(), [&deal.0]);
    assert_eq!(only[&deal.0], expected);

    // Today sees every write: last activity 03-01 (inbound), 3 touchpoints in 01-31..=03-01,
    // 3 contacts, a 19-day lag (logged 03-01 10:00 for 02-10 09:00), overdue: "Book demo"
    // (reopened, due 02-12), "Prepare call" (now due 02-03) and "Late one" (due 02-01).
    let now = read(&insights, deal, today);
    assert_eq!(
        now.1,
        DealActivity {
            last_activity: Some(day("2026-03-01")),
            last_inbound: Some(day("2026-03-01")),
            touchpoints_30d: 3,
            contacts_engaged: 3,
            overdue_tasks: 3,
            max_log_lag_days: 19,
        }
    );
    assert!(codes(&now.0).contains(&FlagCode::LateUpdates), "{:?}", now.0);
    assert!(codes(&now.0).contains(&FlagCode::MultiThreaded), "{:?}", now.0);
    // A day between: as of 02-20 the late call was not logged yet, and nothing of 03-01 was done.
    let between = read(&insights, deal, day("2026-02-20")).1;
    assert_eq!((between.touchpoints_30d, between.contacts_engaged, between.overdue_tasks), (1, 1, 2));
}
