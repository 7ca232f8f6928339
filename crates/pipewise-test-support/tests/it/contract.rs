//! Records: what is written reads back exactly, and bad writes are refused with the record and
//! field named.

use pipewise_app as app;
use pipewise_app::{OpportunityFilter, RecordKind, StoreError, TaskFilter, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::records::*;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};

use crate::worded;

pub fn migrations_are_recorded_and_idempotent(db: &TestDb) {
    assert_eq!(db.store().migrate().unwrap(), Vec::<String>::new(), "a migrated database has nothing left to apply");
}

pub fn records_round_trip(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Roundtrip");
    let ctx = WriteCtx { at: at("2026-02-01T08:30:00.123456Z"), ..org.ctx };
    let mut tx = app::Tx::new(store.write().unwrap());
    let team = app::users::create_team(&mut tx, &ctx, NewTeam { name: " Enterprise ".into(), manager_id: Some(org.manager.id) }).unwrap();
    assert_eq!(team.name, "Enterprise");
    let contact = app::records::create_contact(
        &mut tx,
        &ctx,
        NewContact {
            name: "김민준".into(),
            emails: vec!["Minjun.Kim@Roundtrip-Customer.com".into(), "mj@example.kr".into()],
            phone: Some("+82 2 1234 5678".into()),
            title: Some("구매팀장".into()),
            account_id: Some(org.account.id),
        },
    )
    .unwrap();
    let lead = app::records::create_lead(
        &mut tx,
        &ctx,
        NewLead {
            name: "Lee Lead".into(),
            company: Some("Lead Co".into()),
            email: Some("lee@leadco.com".into()),
            phone: None,
            title: None,
            source: Some("web form".into()),
            industry: None,
            employee_count: None,
            region: None,
            status: LeadStatus::Working,
            owner_id: Some(org.rep.id),
        },
    )
    .unwrap();
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(ctx.at), &org.new_deal("Roundtrip expansion")).unwrap();
    let activity_id = app::activities::create_activity(
        &mut tx,
        &ctx,
        NewActivity {
            kind: ActivityKind::Meeting,
            direction: Direction::Outbound,
            occurred_at: at("2026-01-31T05:00:00Z"),
            subject: "Discovery call".into(),
            body: Some("Budget confirmed.\nNext: demo.".into()),
            source: "manual".into(),
            user_id: Some(org.rep.id),
            account_id: Some(org.account.id),
            opportunity_id: Some(deal.id),
            contact_ids: vec![contact.id, contact.id],
        },
    )
    .unwrap();
    let task = app::activities::create_task(
        &mut tx,
        &ctx,
        NewTask {
            title: "Send pricing".into(),
            owner_id: org.rep.id,
            due_on: Some("2026-02-03".parse().unwrap()),
            completed_at: None,
            account_id: Some(org.account.id),
            opportunity_id: Some(deal.id),
            lead_id: Some(lead.id),
        },
    )
    .unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(store.read().unwrap());
    let org_id = org.org();
    assert_eq!(tx.organisation(org_id).unwrap().unwrap().reporting_currency, Currency::USD);
    assert_eq!(tx.team(org_id, team.id).unwrap(), Some(team));
    let stored_contact = tx.contact(org_id, contact.id).unwrap().unwrap();
    assert_eq!(stored_contact, contact);
    assert_eq!(stored_contact.emails, ["minjun.kim@roundtrip-customer.com", "mj@example.kr"]);
    assert_eq!(tx.lead(org_id, lead.id).unwrap(), Some(lead.clone()));
    assert_eq!(tx.leads(org_id).unwrap(), [lead]);
    assert_eq!(tx.task(org_id, task.id).unwrap(), Some(task.clone()));
    let open_of_rep = TaskFilter { owner_id: Some(org.rep.id), open_only: true, ..Default::default() };
    assert_eq!(tx.tasks(org_id, &open_of_rep).unwrap(), [task]);
    assert_eq!(tx.tasks(org_id, &TaskFilter { owner_id: Some(org.manager.id), ..Default::default() }).unwrap(), []);
    assert_eq!(tx.last_activity_at(org_id, None).unwrap(), [(deal.id, at("2026-01-31T05:00:00Z"))]);
    assert_eq!(tx.last_activity_at(org_id, Some(&[deal.id])).unwrap(), [(deal.id, at("2026-01-31T05:00:00Z"))]);
    assert_eq!(tx.last_activity_at(org_id, Some(&[OpportunityId(deal.id.0 + 1000)])).unwrap(), []);
    let activity = tx.activity(org_id, activity_id).unwrap().unwrap();
    assert_eq!((activity.subject.as_str(), activity.contact_ids.as_slice()), ("Discovery call", [contact.id].as_slice()));
    assert_eq!(activity.logged_at, ctx.at);
    assert_eq!(tx.activities_of_opportunity(org_id, deal.id).unwrap(), [activity]);
    assert_eq!(tx.opportunity(org_id, deal.id, false).unwrap(), Some(deal.clone()));
    assert_eq!(tx.account(org_id, org.account.id).unwrap(), Some(org.account.clone()));
    assert_eq!(tx.pipeline(org_id, org.b2b.id).unwrap(), Some(org.b2b.clone()));
    assert_eq!(tx.pipelines(org_id).unwrap(), [org.simple.clone(), org.b2b.clone()]);
    assert_eq!(tx.user_by_email(org_id, "REP@roundtrip.test").unwrap(), Some(org.rep.clone()));
    let mine = tx.opportunities(org_id, &OpportunityFilter { owner_id: Some(org.rep.id), ..Default::default() }).unwrap();
    assert_eq!(mine, [deal]);
    assert_eq!(tx.count(org_id, RecordKind::User).unwrap(), 2);
    assert_eq!(tx.count(org_id, RecordKind::Pipeline).unwrap(), 2);
    assert_eq!(
        tx.count(org_id, RecordKind::History).unwrap(),
        10,
        "a creation records each of its 10 set fields: closed_at and close_reason are unset"
    );
}

pub fn reporting_hierarchy_refuses_cycles(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Hierarchy");
    let mut tx = app::Tx::new(store.write().unwrap());
    let vp = app::users::create_user(&mut tx, &org.ctx, new_user("vp@hierarchy.test", "Vera VP", Role::Manager, None)).unwrap();
    app::users::set_manager(&mut tx, &org.ctx, org.manager.id, Some(vp.id)).unwrap();
    // vp ← manager ← rep; making the rep the VP's manager closes a loop.
    let error = app::users::set_manager(&mut tx, &org.ctx, vp.id, Some(org.rep.id)).unwrap_err();
    assert_eq!(
        worded(&error),
        format!("user {}: manager_id: user {} reports to user {}, so user {} cannot report to them", vp.id, org.rep.id, vp.id, vp.id)
    );
    assert!(error.is_user_error());
    assert!(app::users::set_manager(&mut tx, &org.ctx, vp.id, Some(vp.id)).is_err());
    tx.commit().unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    assert_eq!(tx.user(org.org(), vp.id).unwrap().unwrap().manager_id, None);
    assert_eq!(tx.user(org.org(), org.manager.id).unwrap().unwrap().manager_id, Some(vp.id));
}

pub fn duplicates_are_conflicts_naming_the_field(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Dupes");
    let mut tx = app::Tx::new(store.write().unwrap());
    let error = app::users::create_user(&mut tx, &org.ctx, new_user("REP@dupes.test", "Someone Else", Role::Rep, None)).unwrap_err();
    assert_eq!(error.to_string(), "new user: email: rep@dupes.test already belongs to another user");
    drop(tx);
    let mut tx = app::Tx::new(store.write().unwrap());
    let account = NewAccount {
        name: "Copycat".into(),
        domains: vec!["DUPES-customer.com".into()],
        industry: None,
        employee_count: None,
        region: None,
        owner_id: None,
    };
    let error = app::records::create_account(&mut tx, &org.ctx, account).unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(error.to_string(), "new account: domains: dupes-customer.com already belongs to another account");
}

pub fn unknown_references_name_the_field(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Refs");
    let mut tx = app::Tx::new(store.write().unwrap());
    let mut deal = org.new_deal("Dangling");
    deal.owner_id = UserId(999_999);
    deal.account_id = Some(AccountId(888_888));
    let error = app::deals::create_opportunity(&mut tx, &org.ctx, &deal).unwrap_err();
    assert_eq!(
        error.to_string(),
        "new opportunity: owner_id: user 999999 does not exist; new opportunity: account_id: account 888888 does not exist"
    );
    let mut deal = org.new_deal("Bad amount");
    deal.amount = Some("USD -1".parse().unwrap());
    deal.name = " ".into();
    assert_eq!(
        app::deals::create_opportunity(&mut tx, &org.ctx, &deal).unwrap_err().to_string(),
        "new opportunity: name: is required; new opportunity: amount: USD -1.00 is negative"
    );
    let missing = app::deals::update_opportunity(&mut tx, &org.ctx, OpportunityId(777_777), &Default::default()).unwrap_err();
    assert_eq!(missing.to_string(), "opportunity 777777 does not exist");
}

pub fn organisations_do_not_see_each_other(db: &TestDb) {
    let store = db.store();
    let first = test_org(store, "First");
    let second = test_org(store, "Second");
    let mut tx = app::Tx::new(store.write().unwrap());
    let deal = app::deals::create_opportunity(&mut tx, &first.ctx, &first.new_deal("Private")).unwrap();
    // The second organisation's rep may not own a deal on the first organisation's account.
    let mut poach = second.new_deal("Poach");
    poach.account_id = Some(first.account.id);
    assert!(app::deals::create_opportunity(&mut tx, &second.ctx, &poach).is_err());
    tx.commit().unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    assert_eq!(tx.opportunity(second.org(), deal.id, false).unwrap(), None);
    assert_eq!(tx.history(second.org(), deal.id).unwrap(), []);
    assert_eq!(tx.user(second.org(), first.rep.id).unwrap(), None);
    assert!(tx.opportunities(second.org(), &Default::default()).unwrap().is_empty());
    assert_eq!(tx.count(first.org(), RecordKind::Opportunity).unwrap(), 1);
}

pub fn money_is_exact_in_every_currency(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Money");
    let mut tx = app::Tx::new(store.write().unwrap());
    for amount in ["KRW 1500000000", "USD 0.01", "KWD 1234567.891", "JPY 9999999999", "USD 999999999999999.99", "EUR 0"] {
        let mut new = org.new_deal(amount);
        new.amount = Some(amount.parse().unwrap());
        let created = app::deals::create_opportunity(&mut tx, &org.ctx, &new).unwrap();
        let stored = tx.opportunity(org.org(), created.id, false).unwrap().unwrap();
        assert_eq!(stored.amount, new.amount, "{amount}");
        assert_eq!(stored.amount.unwrap().to_string(), amount.parse::<Money>().unwrap().to_string());
    }
}

pub fn exchange_rates_round_trip_and_convert(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Rates");
    let date = |text: &str| -> Date { text.parse().unwrap() };
    let rate = |text: &str| -> Decimal { text.parse().unwrap() };
    let mut tx = app::Tx::new(store.write().unwrap());
    assert!(tx.rate_table(org.org()).unwrap().is_none());
    let krw = Currency::KRW;
    tx.put_rates(
        org.org(),
        Currency::EUR,
        &[(Currency::USD, date("2026-10-30"), rate("1.1172")), (krw, date("2026-10-30"), rate("1491.76"))],
    )
    .unwrap();
    // Replacing a day's rate keeps one row.
    tx.put_rates(org.org(), Currency::EUR, &[(Currency::USD, date("2026-10-30"), rate("1.1172"))]).unwrap();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    assert_eq!(tx.count(org.org(), RecordKind::ExchangeRate).unwrap(), 2);
    let table = tx.rate_table(org.org()).unwrap().unwrap();
    assert_eq!(table.rate(Currency::USD, date("2026-10-30")).unwrap(), rate("1.1172"));
    // EUR 50 at 1.1172 = USD 55.86; with USD 50, USD 105.86.
    let total = table.total(["USD 50".parse().unwrap(), "EUR 50".parse().unwrap()], Currency::USD, date("2026-10-30")).unwrap();
    assert_eq!(total.to_string(), "USD 105.86");
}

pub fn a_dropped_transaction_leaves_nothing(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Rollback");
    let mut tx = app::Tx::new(store.write().unwrap());
    let deal = app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal("Never committed")).unwrap();
    drop(tx);
    let mut tx = app::Tx::new(store.write().unwrap());
    assert_eq!(tx.opportunity(org.org(), deal.id, false).unwrap(), None);
    assert_eq!(tx.count(org.org(), RecordKind::History).unwrap(), 0);
    let kept = app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal("Committed")).unwrap();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    let events = tx.history_since(org.org(), 0, 100).unwrap();
    assert_eq!(events.first().map(|event| event.seq), Some(1), "the rolled-back transaction used no sequence numbers");
    assert!(events.iter().all(|event| event.opportunity_id == kept.id && event.source == Source::System));
}
