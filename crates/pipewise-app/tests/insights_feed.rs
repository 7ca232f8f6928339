//! Today's activity facts kept up to date from the feed of new activities equal a whole
//! recompute. Runs on SQLite and on PostgreSQL.

use pipewise_app as app;
use std::sync::Arc;

use pipewise_analytics::{DealActivity, day};
use pipewise_app::insights::Insights;
use pipewise_core::OpportunityId;
use pipewise_core::records::{Direction, NewContact, NewTask, TaskPatch};
use pipewise_store::Store;
use pipewise_test_support::SharedDb;
use pipewise_test_support::fixtures::{at, call, test_org};
use pipewise_test_support::transact;

#[test]
fn sqlite_the_feed_of_new_activities_equals_a_whole_recompute() {
    the_feed_of_new_activities_equals_a_whole_recompute(Arc::new(SharedDb(Arc::new(pipewise_test_support::sqlite()))));
}

#[test]
fn postgres_the_feed_of_new_activities_equals_a_whole_recompute() {
    let Some(db) = pipewise_test_support::postgres() else { return };
    the_feed_of_new_activities_equals_a_whole_recompute(Arc::new(SharedDb(Arc::new(db))));
}

fn facts(insights: &Insights, deals: &[OpportunityId]) -> Vec<DealActivity> {
    insights.with(|projection| deals.iter().map(|id| projection.activity.get(projection.deal_index(*id).unwrap())).collect())
}

fn the_feed_of_new_activities_equals_a_whole_recompute(store: Arc<dyn Store>) {
    let org = test_org(store.as_ref(), "Feed Co");
    let ctx = |when: &str| org.by_rep(at(when));
    let (a, b, ana, ben, task) = transact(&*store, |tx| {
        let a = app::deals::create_opportunity(tx, &ctx("2026-02-01T09:00:00Z"), &org.new_deal("A"))?.id;
        let b = app::deals::create_opportunity(tx, &ctx("2026-02-01T09:00:00Z"), &org.new_deal("B"))?.id;
        let contact = |tx: &mut app::Tx, name: &str| {
            let new = NewContact { name: name.into(), emails: Vec::new(), phone: None, title: None, account_id: Some(org.account.id) };
            app::records::create_contact(tx, &ctx("2026-02-01T09:00:00Z"), new).map(|contact| contact.id)
        };
        let (ana, ben) = (contact(tx, "Ana")?, contact(tx, "Ben")?);
        app::activities::create_activity(tx, &ctx("2026-02-10T10:00:00Z"), call(a, Direction::Outbound, "2026-02-10T09:00:00Z", &[ana]))?;
        let new_task = NewTask {
            title: "Send terms".into(),
            owner_id: org.rep.id,
            due_on: Some("2026-02-20".parse().unwrap()),
            completed_at: None,
            account_id: None,
            opportunity_id: Some(b),
            lead_id: None,
        };
        let task = app::activities::create_task(tx, &ctx("2026-02-01T10:00:00Z"), new_task)?.id;
        Ok((a, b, ana, ben, task))
    })
    .unwrap();
    let clock: pipewise_app::insights::Clock = Arc::new(|| at("2026-03-01T12:00:00Z"));
    let insights = Insights::load_with_clock(store.clone(), org.org(), clock).unwrap();
    let deals = [a, b];
    let loaded = facts(&insights, &deals);
    // Hand check: A's one call of 02-10 (a touchpoint of 01-31..=03-01), one contact; B has no
    // activity and one task overdue since 02-20.
    assert_eq!(loaded[0].last_activity, Some(day("2026-02-10")));
    assert_eq!((loaded[0].touchpoints_30d, loaded[0].contacts_engaged), (1, 1));
    assert_eq!((loaded[1].last_activity, loaded[1].overdue_tasks), (None, 1));

    // Today: an inbound call on A with Ben, a late-logged call on B with Ana, B's task done.
    transact(&*store, |tx| {
        let now = ctx("2026-03-01T11:00:00Z");
        app::activities::create_activity(tx, &now, call(a, Direction::Inbound, "2026-03-01T10:00:00Z", &[ben]))?;
        app::activities::create_activity(tx, &now, call(b, Direction::Outbound, "2026-02-25T10:00:00Z", &[ana]))?;
        app::activities::update_task(tx, &now, task, &TaskPatch { completed: Some(true), ..TaskPatch::default() })?;
        Ok(())
    })
    .unwrap();
    insights.update_facts_now().unwrap();
    let fed = facts(&insights, &deals);
    assert_ne!(fed, loaded, "the feed brought the new activities in");
    assert_eq!(fed[0].last_inbound, Some(day("2026-03-01")));
    assert_eq!((fed[0].touchpoints_30d, fed[0].contacts_engaged), (2, 2));
    assert_eq!((fed[1].last_activity, fed[1].max_log_lag_days, fed[1].overdue_tasks), (Some(day("2026-02-25")), 4, 0));
    // A whole recompute agrees, and feeding again (the same ids read twice) changes nothing.
    insights.update_facts_now().unwrap();
    assert_eq!(facts(&insights, &deals), fed);
    insights.refresh_facts().unwrap();
    assert_eq!(facts(&insights, &deals), fed);
}
