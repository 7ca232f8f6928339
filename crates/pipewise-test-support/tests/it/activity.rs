//! Activity aggregates: what the analytics' activity facts are read from.

use pipewise_app as app;
use pipewise_app::ActivityAggregate;
use pipewise_core::opportunity::NewOpportunity;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};

/// Two deals: the first with five activities (times, directions, logging lags and contacts
/// chosen so each aggregate tells them apart), the second with none. Hand-worked expectations:
/// - every activity: last occurred 03-10 (the outbound call logged 03-12, a lag of two days),
///   last inbound 03-05, touchpoints in [03-01, 03-11): the 03-05 e-mail, the 03-10 call and the
///   03-02 meeting (the 03-09 internal note and the 02-20 call are out), contacts {a, b};
/// - known before 03-08: the 02-20 call (logged 02-21), the 03-02 meeting (logged 03-02) and the
///   03-05 e-mail (logged 03-06): the 03-09 note and the 03-10 call are not; contacts {a}.
pub fn aggregates_count_only_what_was_known_before_the_bound(db: &TestDb) {
    let org = test_org(db.store(), "Aggregates");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let contact = |tx: &mut app::Tx, name: &str| {
        let new = NewContact { name: name.into(), emails: Vec::new(), phone: None, title: None, account_id: Some(org.account.id) };
        app::records::create_contact(tx, &org.ctx, new).unwrap().id
    };
    let (a, b) = (contact(&mut tx, "Ada"), contact(&mut tx, "Bo"));
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-02-01T00:00:00Z")), &org.new_deal("Busy")).unwrap();
    let quiet = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-02-01T00:00:00Z")), &org.new_deal("Quiet")).unwrap();
    let mut log = |kind, direction, occurred: &str, logged: &str, contacts: Vec<ContactId>| {
        let activity = NewActivity {
            kind,
            direction,
            occurred_at: at(occurred),
            subject: format!("{kind:?} {occurred}"),
            body: None,
            source: "test".into(),
            user_id: Some(org.rep.id),
            account_id: None,
            opportunity_id: Some(deal.id),
            contact_ids: contacts,
        };
        app::activities::create_activity(&mut tx, &org.by_rep(at(logged)), activity).unwrap();
    };
    log(ActivityKind::Call, Direction::Outbound, "2026-02-20T09:00:00Z", "2026-02-21T09:00:00Z", vec![]);
    log(ActivityKind::Meeting, Direction::Outbound, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", vec![a]);
    log(ActivityKind::Email, Direction::Inbound, "2026-03-05T09:00:00Z", "2026-03-06T09:00:00Z", vec![a]);
    log(ActivityKind::Note, Direction::Internal, "2026-03-09T09:00:00Z", "2026-03-09T09:00:00Z", vec![b]);
    log(ActivityKind::Call, Direction::Outbound, "2026-03-10T09:00:00Z", "2026-03-12T09:00:00Z", vec![a, b]);
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let window = (at("2026-03-01T00:00:00Z"), at("2026-03-11T00:00:00Z"));
    let day = 86_400_000_000i64;
    let all = tx.activity_aggregates(org.org(), None, window.0, window.1, None).unwrap();
    assert_eq!(
        all,
        [ActivityAggregate {
            opportunity_id: deal.id,
            last_occurred: at("2026-03-10T09:00:00Z"),
            last_inbound: Some(at("2026-03-05T09:00:00Z")),
            touchpoints: 3,
            max_lag_micros: 2 * day,
            contacts: 2,
        }]
    );
    let known = tx.activity_aggregates(org.org(), Some(at("2026-03-08T00:00:00Z")), window.0, window.1, None).unwrap();
    assert_eq!(
        known,
        [ActivityAggregate {
            opportunity_id: deal.id,
            last_occurred: at("2026-03-05T09:00:00Z"),
            last_inbound: Some(at("2026-03-05T09:00:00Z")),
            touchpoints: 2,
            max_lag_micros: day,
            contacts: 1,
        }]
    );
    assert!(!all.iter().any(|aggregate| aggregate.opportunity_id == quiet.id), "a deal without activities has no aggregate");
    // Only the deals asked for.
    assert_eq!(tx.activity_aggregates(org.org(), None, window.0, window.1, Some(&[quiet.id])).unwrap(), []);
    assert_eq!(tx.activity_aggregates(org.org(), None, window.0, window.1, Some(&[quiet.id, deal.id])).unwrap(), all);
    // The feed of new activities, in id order from a cursor.
    let feed = tx.activities_after(org.org(), ActivityId(0), 100).unwrap();
    assert_eq!(feed.len(), 5);
    assert!(feed.iter().all(|(_, opportunity, _)| *opportunity == Some(deal.id)));
    assert_eq!(feed[4].2, at("2026-03-12T09:00:00Z"), "when it was logged");
    assert!(feed.windows(2).all(|pair| pair[0].0 < pair[1].0));
    assert_eq!(tx.activities_after(org.org(), feed[2].0, 100).unwrap(), feed[3..]);
    assert_eq!(tx.activities_after(org.org(), ActivityId(0), 2).unwrap(), feed[..2]);
    assert!(tx.max_activity_id().unwrap() >= feed[4].0);
    // Nothing known yet.
    assert_eq!(tx.activity_aggregates(org.org(), Some(at("2026-02-01T00:00:00Z")), window.0, window.1, None).unwrap(), []);
}

/// What the win-probability model reads of deals: every activity of the deals asked for, in
/// activity order, with the contacts each names and their titles; and each deal's company.
/// Another organisation's deal asked for by id yields nothing.
pub fn touches_and_companies_are_read_for_the_deals_asked(db: &TestDb) {
    let org = test_org(db.store(), "Touches");
    let other = test_org(db.store(), "Touches elsewhere");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let company = NewAccount {
        name: "Hanbit Logistics".into(),
        domains: vec!["hanbit.example".into()],
        industry: Some("Logistics".into()),
        employee_count: Some(1_200),
        region: None,
        owner_id: None,
    };
    let company = app::records::create_account(&mut tx, &org.ctx, company).unwrap();
    let contact = |tx: &mut app::Tx, name: &str, title: Option<&str>| {
        let new = NewContact {
            name: name.into(),
            emails: Vec::new(),
            phone: None,
            title: title.map(str::to_owned),
            account_id: Some(company.id),
        };
        app::records::create_contact(tx, &org.ctx, new).unwrap().id
    };
    let (ceo, analyst) = (contact(&mut tx, "Min", Some("대표이사")), contact(&mut tx, "Joe", None));
    let at_company = NewOpportunity { account_id: Some(company.id), ..org.new_deal("Fleet") };
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-02-01T00:00:00Z")), &at_company).unwrap();
    let bare = NewOpportunity { account_id: None, ..org.new_deal("No account") };
    let bare = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-02-01T00:00:00Z")), &bare).unwrap();
    let mut log = |direction, occurred: &str, deal: OpportunityId, contacts: Vec<ContactId>| {
        let activity = NewActivity {
            kind: ActivityKind::Email,
            direction,
            occurred_at: at(occurred),
            subject: "Fleet pricing".into(),
            body: None,
            source: "test".into(),
            user_id: Some(org.rep.id),
            account_id: None,
            opportunity_id: Some(deal),
            contact_ids: contacts,
        };
        app::activities::create_activity(&mut tx, &org.by_rep(at("2026-03-20T00:00:00Z")), activity).unwrap()
    };
    let first = log(Direction::Outbound, "2026-03-02T09:00:00Z", deal.id, vec![analyst, ceo]);
    let second = log(Direction::Inbound, "2026-03-01T09:00:00Z", deal.id, vec![]);
    let third = log(Direction::Internal, "2026-03-03T09:00:00Z", bare.id, vec![analyst]);
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let elsewhere = app::deals::create_opportunity(&mut tx, &other.by_rep(at("2026-02-01T00:00:00Z")), &other.new_deal("Theirs")).unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let touches = tx.deal_touches(org.org(), &[deal.id, bare.id, elsewhere.id]).unwrap();
    let summary: Vec<_> =
        touches.iter().map(|touch| (touch.activity_id, touch.opportunity_id, touch.direction, touch.contacts.clone())).collect();
    let (mut a, mut b) = ((ceo, Some("대표이사".to_owned())), (analyst, None));
    if b.0 < a.0 {
        std::mem::swap(&mut a, &mut b);
    }
    assert_eq!(
        summary,
        [
            (first, deal.id, Direction::Outbound, vec![a, b]),
            (second, deal.id, Direction::Inbound, vec![]),
            (third, bare.id, Direction::Internal, vec![(analyst, None)]),
        ]
    );
    assert_eq!(touches[1].occurred_at, at("2026-03-01T09:00:00Z"));
    assert_eq!(touches[1].logged_at, at("2026-03-20T00:00:00Z"));
    assert_eq!(tx.deal_touches(org.org(), &[bare.id]).unwrap().len(), 1);
    assert_eq!(tx.deal_touches(org.org(), &[]).unwrap(), []);
    assert_eq!(
        tx.deal_companies(org.org(), &[elsewhere.id, bare.id, deal.id]).unwrap(),
        [app::DealCompany { opportunity_id: deal.id, employee_count: Some(1_200), industry: Some("Logistics".into()) }]
    );
}
