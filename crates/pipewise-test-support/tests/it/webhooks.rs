//! Webhooks on both engines, without the network: only admins subscribe (audited, the secret
//! sealed); what waits follows the history log from the subscription on, cut into one event per
//! write and filtered by kind; a failure is logged and backs off without moving the webhook on;
//! a success moves it past the event; progress never goes back (two servers on one database);
//! pausing, resuming and removing are audited.

use pipewise_app as app;
use pipewise_app::webhooks::{Attempt, Pending};
use pipewise_app::{AuditFilter, StoreError};
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};

pub fn webhooks_follow_the_log_from_their_subscription_and_keep_their_place(db: &TestDb) {
    let org = test_org(db.store(), "Webhooks");
    let key = app::secrets::SecretKey::from_hex(&"cd".repeat(32)).unwrap();
    let store = db.db();
    let transact = |work: &mut dyn FnMut(&mut app::Tx) -> app::Result<()>| pipewise_test_support::transact(db.store(), |tx| work(tx));
    // A deal before the subscription is never sent.
    transact(&mut |tx| app::deals::create_opportunity(tx, &org.ctx, &org.new_deal("Before")).map(drop)).unwrap();

    let when = at("2026-12-07T10:00:00Z");
    for (who, role) in [(org.rep.id, "rep"), (org.manager.id, "manager")] {
        let ctx = pipewise_app::WriteCtx { actor_id: Some(who), at: when, ..org.ctx };
        let refused = pipewise_test_support::transact(db.store(), |tx| {
            app::webhooks::create_webhook(tx, &ctx, &key, "https://hooks.example.com/a", "*")
        });
        assert!(matches!(refused, Err(StoreError::Forbidden(_))), "a {role} may not subscribe");
    }
    let admin = pipewise_app::WriteCtx { at: when, ..org.ctx };
    let invalid = pipewise_test_support::transact(db.store(), |tx| app::webhooks::create_webhook(tx, &admin, &key, "mailto:x@y.z", ""));
    let Err(StoreError::Invalid(errors)) = invalid else { panic!("{invalid:?}") };
    let fields: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
    assert_eq!(fields, vec!["url", "events"]);
    let created = pipewise_test_support::transact(db.store(), |tx| {
        app::webhooks::create_webhook(tx, &admin, &key, "https://hooks.example.com/a", "opportunity.created opportunity.stage_changed")
    })
    .unwrap();
    let webhook = app::webhooks::webhooks_to_deliver(&store).unwrap().pop().unwrap();
    assert_eq!(webhook.id, created.id);
    assert!(!webhook.secret.contains(&created.secret[6..]), "the secret is sealed");
    assert_eq!(webhook.events, "opportunity.created opportunity.stage_changed");
    assert_eq!(app::webhooks::pending(&store, &key, &webhook).unwrap().unwrap().requests, vec![], "nothing from before");

    // Two deals created, one moved a stage, one renamed (not subscribed).
    let later = at("2026-12-07T11:00:00Z");
    let ctx = org.by_rep(later);
    let mut ids = Vec::new();
    transact(&mut |tx| {
        ids = vec![
            app::deals::create_opportunity(tx, &ctx, &org.new_deal("First"))?.id,
            app::deals::create_opportunity(tx, &ctx, &org.new_deal("Second"))?.id,
        ];
        let moved = OpportunityPatch { stage_id: Some(org.simple.stages[1].id), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &ctx, ids[0], &moved)?;
        let renamed = OpportunityPatch { name: Some("Second, renamed".into()), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &ctx, ids[1], &renamed).map(drop)
    })
    .unwrap();
    let Pending { secret, requests, read_through } = app::webhooks::pending(&store, &key, &webhook).unwrap().unwrap();
    assert_eq!(secret, created.secret);
    let seen: Vec<(&str, OpportunityId)> = requests.iter().map(|request| (request.event.as_str(), request.opportunity_id)).collect();
    assert_eq!(seen, vec![("opportunity.created", ids[0]), ("opportunity.created", ids[1]), ("opportunity.stage_changed", ids[0])]);
    assert!(read_through > requests[2].last_seq, "the rename is read and passed over");
    let body: serde_json::Value = serde_json::from_str(&requests[2].body).unwrap();
    assert_eq!(body["type"], "opportunity.stage_changed");
    assert_eq!(body["actor_id"], org.rep.id.0);
    assert_eq!(body["occurred_at"], "2026-12-07T11:00:00Z");
    assert_eq!(body["changes"][0]["field"], "stage_id");
    assert_eq!(requests[0].delivery_id, format!("{}-{}", webhook.id, requests[0].last_seq));

    // The first fails: logged, backed off, not moved on.
    let failed = Attempt { status: Some(503), error: None, duration_ms: 12, at: later };
    let after_failure = app::webhooks::record(&store, &webhook, &requests[0], &failed).unwrap();
    assert_eq!((after_failure.failures, after_failure.delivered_seq), (1, webhook.delivered_seq));
    assert_eq!(after_failure.next_attempt_at, Some(later.plus_seconds(10)));
    assert!(!app::webhooks::is_due(&after_failure, later.plus_seconds(9)));
    assert!(app::webhooks::is_due(&after_failure, later.plus_seconds(10)));
    // Then all three succeed, and the rename is passed over.
    let mut current = after_failure;
    for request in &requests {
        let ok = Attempt { status: Some(200), error: None, duration_ms: 3, at: later.plus_seconds(10) };
        current = app::webhooks::record(&store, &current, request, &ok).unwrap();
    }
    current = app::webhooks::passed_over(&store, &current, read_through).unwrap();
    let stored = app::webhooks::webhooks_to_deliver(&store).unwrap().pop().unwrap();
    assert_eq!((stored.delivered_seq, stored.failures, stored.last_error.clone(), stored.next_attempt_at), (read_through, 0, None, None));
    assert_eq!(current.delivered_seq, read_through);
    assert!(app::webhooks::pending(&store, &key, &stored).unwrap().unwrap().requests.is_empty());

    // A second server with an older view cannot move it back.
    app::webhooks::passed_over(&store, &webhook, webhook.delivered_seq + 1).unwrap();
    assert_eq!(app::webhooks::webhooks_to_deliver(&store).unwrap()[0].delivered_seq, read_through);

    // Its page: the log, newest first, with the first attempt's 503 at the bottom.
    let mut tx = store.read().unwrap();
    let states = app::webhooks::webhooks_for(&mut tx, org.org(), &pipewise_core::access::Access::System, 10).unwrap();
    drop(tx);
    let log: Vec<(i32, Option<i32>)> = states[0].deliveries.iter().map(|delivery| (delivery.attempt, delivery.status)).collect();
    assert_eq!(log, vec![(1, Some(200)), (1, Some(200)), (2, Some(200)), (1, Some(503))]);
    assert_eq!(states[0].deliveries[3].error.as_deref(), Some("the receiver answered 503"));
    assert_eq!((states[0].waiting, states[0].webhook.secret.as_str()), (0, ""));
    let mut tx = store.read().unwrap();
    let rep = app::access::access_for(&mut tx, org.org(), Some(org.rep.id)).unwrap();
    assert!(matches!(app::webhooks::webhooks_for(&mut tx, org.org(), &rep, 10), Err(StoreError::Forbidden(_))));
    drop(tx);

    // A key that does not open the secret is said, not sent with.
    let other = app::secrets::SecretKey::from_hex(&"ef".repeat(32)).unwrap();
    assert!(app::webhooks::pending(&store, &other, &stored).unwrap().is_none());

    // Paused, resumed, removed: each audited; removal takes the log with it.
    transact(&mut |tx| app::webhooks::set_webhook_active(tx, &admin, created.id, false)).unwrap();
    assert!(app::webhooks::webhooks_to_deliver(&store).unwrap().is_empty(), "a paused webhook is not delivered");
    transact(&mut |tx| app::webhooks::set_webhook_active(tx, &admin, created.id, true)).unwrap();
    transact(&mut |tx| app::webhooks::delete_webhook(tx, &admin, created.id)).unwrap();
    assert!(matches!(transact(&mut |tx| app::webhooks::delete_webhook(tx, &admin, created.id)), Err(StoreError::NotFound { .. })));
    let mut tx = store.read().unwrap();
    assert!(app::webhooks::webhooks_for(&mut tx, org.org(), &pipewise_core::access::Access::System, 10).unwrap().is_empty());
    let filter = AuditFilter { record_kind: Some("webhook".into()), limit: 50, ..AuditFilter::default() };
    let actions: Vec<String> = app::audit::audit_events_for(&mut tx, org.org(), &pipewise_core::access::Access::System, &filter)
        .unwrap()
        .into_iter()
        .map(|event| event.action)
        .collect();
    assert_eq!(actions.len(), 4, "{actions:?}");
    for action in ["create", "pause", "resume", "delete"] {
        assert!(actions.iter().any(|done| done == action), "{action} in {actions:?}");
    }
}
