//! Row visibility, authorisation and the audit log, enforced in `ops` for every engine; and the
//! session, token and sign-in throttling tables.

use pipewise_app as app;
use pipewise_app::{ApiToken, AuditFilter, OpportunityFilter, Session, StoreError, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::history::Source;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};

/// The organisation of `test_org` plus a second rep under the same manager, a rep under another
/// manager, and a viewer; one deal each for the two first reps.
struct Team {
    org: pipewise_test_support::fixtures::TestOrg,
    peer: UserId,
    outsider: UserId,
    viewer: UserId,
    rep_deal: OpportunityId,
    peer_deal: OpportunityId,
}

fn team(db: &TestDb, name: &str) -> Team {
    let org = test_org(db.store(), name);
    let slug = name.to_lowercase();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let ctx = org.ctx;
    let peer = app::users::create_user(&mut tx, &ctx, new_user(&format!("peer@{slug}.test"), "Pia Peer", Role::Rep, Some(org.manager.id)))
        .unwrap();
    let other_manager =
        app::users::create_user(&mut tx, &ctx, new_user(&format!("boss@{slug}.test"), "Otto Boss", Role::Manager, None)).unwrap();
    let outsider =
        app::users::create_user(&mut tx, &ctx, new_user(&format!("out@{slug}.test"), "Oli Out", Role::Rep, Some(other_manager.id)))
            .unwrap();
    let viewer = app::users::create_user(&mut tx, &ctx, new_user(&format!("view@{slug}.test"), "Vic View", Role::Viewer, None)).unwrap();
    let rep_deal = app::deals::create_opportunity(&mut tx, &org.by_rep(ctx.at), &org.new_deal("Rep's deal")).unwrap().id;
    let mut new = org.new_deal("Peer's deal");
    new.owner_id = peer.id;
    let peer_deal = app::deals::create_opportunity(&mut tx, &WriteCtx { actor_id: Some(peer.id), ..ctx }, &new).unwrap().id;
    tx.commit().unwrap();
    Team { org, peer: peer.id, outsider: outsider.id, viewer: viewer.id, rep_deal, peer_deal }
}

fn access(db: &TestDb, team: &Team, user: UserId) -> Access {
    let mut tx = app::Tx::new(db.store().read().unwrap());
    app::access::access_for(&mut tx, team.org.org(), Some(user)).unwrap()
}

fn visible_deals(db: &TestDb, team: &Team, user: UserId) -> Vec<OpportunityId> {
    let access = access(db, team, user);
    let mut tx = app::Tx::new(db.store().read().unwrap());
    app::deals::opportunities_for(&mut tx, team.org.org(), &access, &OpportunityFilter::default())
        .unwrap()
        .into_iter()
        .map(|deal| deal.id)
        .collect()
}

pub fn rows_are_visible_by_role_and_hierarchy(db: &TestDb) {
    let team = team(db, "Visibility");
    let both = vec![team.rep_deal, team.peer_deal];
    assert_eq!(visible_deals(db, &team, team.org.rep.id), [team.rep_deal], "a rep sees their own deals");
    assert_eq!(visible_deals(db, &team, team.peer), [team.peer_deal]);
    assert_eq!(visible_deals(db, &team, team.org.manager.id), both, "a manager sees the reporting tree");
    assert_eq!(visible_deals(db, &team, team.viewer), both, "a viewer sees everything");
    assert_eq!(visible_deals(db, &team, team.outsider), [], "another team's rep sees none");
    // A deal one may not see reads exactly like one that does not exist.
    let outsider = access(db, &team, team.outsider);
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(app::deals::opportunity_for(&mut tx, team.org.org(), &outsider, team.rep_deal).unwrap(), None);
    assert_eq!(app::deals::history_for(&mut tx, team.org.org(), &outsider, team.rep_deal).unwrap(), None);
    assert_eq!(
        app::deals::opportunity_as_of_for(&mut tx, team.org.org(), &outsider, team.rep_deal, at("2030-01-01T00:00:00Z")).unwrap(),
        None
    );
    drop(tx);
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let rename = OpportunityPatch { name: Some("Mine now".into()), ..Default::default() };
    let as_outsider = WriteCtx { actor_id: Some(team.outsider), ..team.org.ctx };
    let error = app::deals::update_opportunity(&mut tx, &as_outsider, team.rep_deal, &rename).unwrap_err();
    assert_eq!(error.to_string(), format!("opportunity {} does not exist", team.rep_deal));
}

pub fn writes_are_authorised(db: &TestDb) {
    let team = team(db, "Authorised");
    let ctx = team.org.ctx;
    let rename = OpportunityPatch { name: Some("Renamed".into()), ..Default::default() };
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let as_viewer = WriteCtx { actor_id: Some(team.viewer), ..ctx };
    let error = app::deals::update_opportunity(&mut tx, &as_viewer, team.rep_deal, &rename).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error:?}");
    assert_eq!(error.to_string(), format!("not allowed: you may view opportunity {} but not change it", team.rep_deal));
    // A rep may not hand a deal to a peer, nor create one for them; the manager may.
    let as_rep = WriteCtx { actor_id: Some(team.org.rep.id), ..ctx };
    let hand_over = OpportunityPatch { owner_id: Some(team.peer), ..Default::default() };
    assert!(matches!(app::deals::update_opportunity(&mut tx, &as_rep, team.rep_deal, &hand_over), Err(StoreError::Forbidden(_))));
    let mut for_peer = team.org.new_deal("For a peer");
    for_peer.owner_id = team.peer;
    assert!(matches!(app::deals::create_opportunity(&mut tx, &as_rep, &for_peer), Err(StoreError::Forbidden(_))));
    let as_manager = WriteCtx { actor_id: Some(team.org.manager.id), ..ctx };
    assert_eq!(app::deals::update_opportunity(&mut tx, &as_manager, team.rep_deal, &hand_over).unwrap().owner_id, team.peer);
    // Only admins manage users; only ops and admins design pipelines.
    let error = app::users::create_user(&mut tx, &as_manager, new_user("new@authorised.test", "New", Role::Rep, None)).unwrap_err();
    assert_eq!(error.to_string(), "not allowed: only an admin manages users");
    assert!(matches!(app::records::create_pipeline(&mut tx, &as_rep, templates::simple()), Err(StoreError::Forbidden(_))));
    // Sharing lets a peer see and change the deal.
    app::deals::share_opportunity(&mut tx, &as_manager, team.peer_deal, team.org.rep.id).unwrap();
    app::deals::update_opportunity(&mut tx, &as_rep, team.peer_deal, &rename).unwrap();
    // A share lets the rep work on the deal, not take it or pass it on.
    let take = OpportunityPatch { owner_id: Some(team.org.rep.id), ..Default::default() };
    assert!(matches!(app::deals::update_opportunity(&mut tx, &as_rep, team.peer_deal, &take), Err(StoreError::Forbidden(_))));
    assert!(matches!(app::deals::share_opportunity(&mut tx, &as_rep, team.peer_deal, team.outsider), Err(StoreError::Forbidden(_))));
    // Nobody records work in another's name: no tasks for a peer, no activity logged as them.
    let task_for_peer = pipewise_core::records::NewTask {
        title: "Do my work".into(),
        owner_id: team.peer,
        due_on: None,
        completed_at: None,
        account_id: None,
        opportunity_id: None,
        lead_id: None,
    };
    assert!(matches!(app::activities::create_task(&mut tx, &as_rep, task_for_peer), Err(StoreError::Forbidden(_))));
    let as_peer = pipewise_core::records::NewActivity {
        kind: pipewise_core::records::ActivityKind::Call,
        direction: pipewise_core::records::Direction::Outbound,
        occurred_at: at("2026-02-01T00:00:00Z"),
        subject: "A call I never made".into(),
        body: None,
        source: "manual".into(),
        user_id: Some(team.peer),
        account_id: None,
        opportunity_id: None,
        contact_ids: Vec::new(),
    };
    assert!(matches!(app::activities::create_activity(&mut tx, &as_rep, as_peer), Err(StoreError::Forbidden(_))));
    tx.commit().unwrap();
    assert_eq!(visible_deals(db, &team, team.org.rep.id), [team.peer_deal]);
}

pub fn every_write_is_audited(db: &TestDb) {
    let team = team(db, "Audited");
    let org = team.org.org();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let as_rep = WriteCtx { actor_id: Some(team.org.rep.id), source: Source::Api, at: at("2026-03-01T10:00:00Z"), ..team.org.ctx };
    let patch = OpportunityPatch { amount: Some(Some("USD 15000".parse().unwrap())), ..Default::default() };
    app::deals::update_opportunity(&mut tx, &as_rep, team.rep_deal, &patch).unwrap();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let latest = tx.audit_events(org, &AuditFilter { limit: 1, ..Default::default() }).unwrap();
    let event = &latest[0];
    assert_eq!((event.record_kind.as_str(), event.record_id, event.action.as_str()), ("opportunity", team.rep_deal.0, "update"));
    assert_eq!((event.actor_id, event.source, event.at), (Some(team.org.rep.id), Source::Api, at("2026-03-01T10:00:00Z")));
    assert_eq!(event.before.as_deref(), Some(r#"{"amount":"USD 12000.00"}"#));
    assert_eq!(event.after.as_deref(), Some(r#"{"amount":"USD 15000.00"}"#));
    // Creations of the fixture and the team: 4 fixture records + 4 users + 2 deals, then the update.
    let all = tx.audit_events(org, &AuditFilter { limit: 100, ..Default::default() }).unwrap();
    let kinds: Vec<&str> = all.iter().rev().map(|event| event.record_kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["user", "user", "pipeline", "pipeline", "account", "user", "user", "user", "user", "opportunity", "opportunity", "opportunity"]
    );
    let of_deal = tx
        .audit_events(
            org,
            &AuditFilter { record_kind: Some("opportunity".into()), record_id: Some(team.rep_deal.0), limit: 10, ..Default::default() },
        )
        .unwrap();
    assert_eq!(of_deal.iter().map(|event| event.action.as_str()).collect::<Vec<_>>(), ["update", "create"]);
    drop(tx);
    let refused = db.execute_raw("DELETE FROM audit_event").unwrap_err();
    assert!(refused.contains("append-only"), "{refused}");
}

pub fn sessions_tokens_and_sign_in_attempts(db: &TestDb) {
    let team = team(db, "Sessions");
    let org = team.org.org();
    let rep = team.org.rep.id;
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let session = Session {
        token_hash: "a".repeat(64),
        org,
        user_id: rep,
        csrf_token: "csrf".into(),
        created_at: at("2026-03-01T10:00:00Z"),
        last_seen_at: at("2026-03-01T10:00:00Z"),
        expires_at: at("2026-03-15T10:00:00Z"),
        client_address: Some("127.0.0.1".into()),
    };
    tx.insert_session(&session).unwrap();
    tx.insert_session(&Session { token_hash: "b".repeat(64), ..session.clone() }).unwrap();
    tx.touch_session(&session.token_hash, at("2026-03-02T10:00:00Z"), at("2026-03-16T10:00:00Z")).unwrap();
    let stored = tx.session(&session.token_hash).unwrap().unwrap();
    assert_eq!((stored.last_seen_at, stored.expires_at), (at("2026-03-02T10:00:00Z"), at("2026-03-16T10:00:00Z")));
    // A password change ends the other sessions but keeps the current one.
    app::auth::set_password_hash(
        &mut tx,
        &WriteCtx { actor_id: Some(rep), ..team.org.ctx },
        rep,
        "$argon2id$v=19$stub",
        Some(&session.token_hash),
    )
    .unwrap();
    assert!(tx.session(&"b".repeat(64)).unwrap().is_none());
    assert_eq!(tx.password_hash(org, rep).unwrap().as_deref(), Some("$argon2id$v=19$stub"));
    let error = app::auth::set_password_hash(&mut tx, &WriteCtx { actor_id: Some(rep), ..team.org.ctx }, team.peer, "x", None).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)));
    tx.delete_session(&session.token_hash).unwrap();
    assert!(tx.session(&session.token_hash).unwrap().is_none());

    let token = ApiToken {
        id: 0,
        org,
        user_id: rep,
        name: "laptop".into(),
        token_hash: "c".repeat(64),
        prefix: "pw_abc".into(),
        created_at: at("2026-03-01T10:00:00Z"),
        last_used_at: None,
        revoked_at: None,
    };
    let id = tx.insert_api_token(&token).unwrap();
    tx.touch_api_token(id, at("2026-03-03T10:00:00Z")).unwrap();
    assert_eq!(tx.api_token(&token.token_hash).unwrap().unwrap().last_used_at, Some(at("2026-03-03T10:00:00Z")));
    assert!(!tx.revoke_api_token(org, team.peer, id, at("2026-03-04T00:00:00Z")).unwrap(), "only the owner revokes");
    assert!(tx.revoke_api_token(org, rep, id, at("2026-03-04T00:00:00Z")).unwrap());
    assert!(!tx.revoke_api_token(org, rep, id, at("2026-03-05T00:00:00Z")).unwrap(), "already revoked");
    assert_eq!(tx.api_tokens(org, rep).unwrap()[0].revoked_at, Some(at("2026-03-04T00:00:00Z")));

    for minute in 0..3 {
        tx.record_login_attempt("REP@sessions.test", "10.0.0.1", at("2026-03-01T10:00:00Z").plus_seconds(minute * 60), false).unwrap();
    }
    tx.record_login_attempt("someone@sessions.test", "10.0.0.1", at("2026-03-01T10:05:00Z"), false).unwrap();
    tx.record_login_attempt("rep@sessions.test", "10.0.0.2", at("2026-03-01T10:06:00Z"), true).unwrap();
    assert_eq!(tx.failed_logins_since("rep@sessions.test", "10.0.0.1", at("2026-03-01T10:01:00Z")).unwrap(), (2, 3));
    let everywhere = tx.users_by_email_everywhere(" Rep@Sessions.test").unwrap();
    assert_eq!(everywhere.iter().map(|(org, user)| (*org, user.id)).collect::<Vec<_>>(), [(org, rep)]);
}

/// The sign-in throttle (issue 16, point 8) on each engine: failures of one account from one
/// client wait longer and longer after the first three, other clients are not slowed, a client
/// guessing at many accounts waits for the window, and a distributed guess at one account hits
/// the hourly ceiling.
pub fn failed_sign_ins_slow_an_attacker_without_locking_the_owner_out(db: &TestDb) {
    let store = db.store();
    let t0 = at("2026-03-01T10:00:00Z");
    let fail = |email: &str, client: &str, when: Timestamp| {
        let mut tx = app::Tx::new(store.write().unwrap());
        app::auth::record_failed_sign_in(&mut tx, email, client, when).unwrap();
        tx.commit().unwrap();
    };
    let wait = |email: &str, client: &str, when: Timestamp| {
        app::auth::sign_in_wait(&mut app::Tx::new(store.read().unwrap()), email, client, when).unwrap()
    };
    let owner = "owner@throttle.test";
    for second in 0..3 {
        assert_eq!(wait(owner, "198.51.100.1", t0.plus_seconds(second)), None, "the first three are free");
        fail(owner, "198.51.100.1", t0.plus_seconds(second));
    }
    let (count, last) = store.read().unwrap().failures_from(" OWNER@throttle.test", "198.51.100.1", t0).unwrap();
    assert_eq!((count, last), (3, Some(t0.plus_seconds(2))));
    assert_eq!(wait(owner, "198.51.100.1", t0.plus_seconds(2)), Some(2));
    assert_eq!(wait(owner, "198.51.100.1", t0.plus_seconds(4)), None);
    assert_eq!(wait(owner, "203.0.113.5", t0.plus_seconds(2)), None, "the owner elsewhere is not slowed");
    fail(owner, "198.51.100.1", t0.plus_seconds(4));
    assert_eq!(wait(owner, "198.51.100.1", t0.plus_seconds(5)), Some(3), "4 s after the fourth failure");
    for n in 5..12 {
        fail(owner, "198.51.100.1", t0.plus_seconds(10 * n));
    }
    assert_eq!(wait(owner, "198.51.100.1", t0.plus_seconds(110)), Some(120), "at most two minutes");
    // One client guessing at many accounts waits for the window.
    for n in 0..app::auth::MAX_FAILURES_PER_CLIENT {
        fail(&format!("user{n}@throttle.test"), "192.0.2.99", t0.plus_seconds(n));
    }
    assert_eq!(wait("someone@throttle.test", "192.0.2.99", t0.plus_seconds(30)), Some(app::auth::FAILURE_WINDOW_SECONDS as u64));
    // Many clients guessing at one account meet the hourly ceiling, wherever they come from.
    let target = "target@throttle.test";
    for n in 0..app::auth::MAX_FAILURES_PER_ACCOUNT_HOURLY {
        fail(target, &format!("10.1.{}.{}", n / 200, n % 200), t0.plus_seconds(n));
    }
    assert_eq!(wait(target, "203.0.113.5", t0.plus_seconds(200)), Some(3600));
}
