//! Sharing a deal with a colleague, in storage: share, list, unshare, who may do it, what the
//! colleague then sees, and the audit entries. Every case runs on both engines.

use pipewise_app as app;
use pipewise_app::{AuditFilter, OpportunityFilter, OpportunityShare, StoreError, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::history::Source;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};

/// The fixture organisation (the rep reports to the manager) plus a peer rep under the same
/// manager, a rep under another manager, a viewer and an ops user; the rep owns `deal`.
struct Desk {
    org: TestOrg,
    peer: UserId,
    outsider: UserId,
    viewer: UserId,
    ops_user: UserId,
    deal: OpportunityId,
}

impl Desk {
    fn as_user(&self, user: UserId, when: &str) -> WriteCtx {
        WriteCtx { actor_id: Some(user), source: Source::Api, at: at(when), ..self.org.ctx }
    }

    fn access(&self, db: &TestDb, user: UserId) -> Access {
        let mut tx = app::Tx::new(db.store().read().unwrap());
        app::access::access_for(&mut tx, self.org.org(), Some(user)).unwrap()
    }

    fn visible_deals(&self, db: &TestDb, user: UserId) -> Vec<OpportunityId> {
        let access = self.access(db, user);
        let mut tx = app::Tx::new(db.store().read().unwrap());
        let deals = app::deals::opportunities_for(&mut tx, self.org.org(), &access, &OpportunityFilter::default()).unwrap();
        deals.into_iter().map(|deal| deal.id).collect()
    }

    fn shares(&self, db: &TestDb, user: UserId) -> Option<Vec<OpportunityShare>> {
        let access = self.access(db, user);
        let mut tx = app::Tx::new(db.store().read().unwrap());
        app::deals::opportunity_shares_for(&mut tx, self.org.org(), &access, self.deal).unwrap()
    }
}

fn desk(db: &TestDb, name: &str) -> Desk {
    let org = test_org(db.store(), name);
    let slug = name.to_lowercase();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let ctx = org.ctx;
    let mut create = |email: &str, name: &str, role: Role, manager: Option<UserId>| {
        app::users::create_user(&mut tx, &ctx, new_user(&format!("{email}@{slug}.test"), name, role, manager)).unwrap().id
    };
    let peer = create("peer", "Pia Peer", Role::Rep, Some(org.manager.id));
    let boss = create("boss", "Otto Boss", Role::Manager, None);
    let outsider = create("out", "Oli Out", Role::Rep, Some(boss));
    let viewer = create("viewer", "Vic Viewer", Role::Viewer, None);
    let ops_user = create("ops", "Olga Ops", Role::Ops, None);
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-02-01T09:00:00Z")), &org.new_deal("Shared deal")).unwrap().id;
    tx.commit().unwrap();
    Desk { org, peer, outsider, viewer, ops_user, deal }
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Forbidden(_)) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

fn invalid_user_id<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Invalid(errors)) => {
            assert_eq!(errors.0.iter().map(|error| error.field).collect::<Vec<_>>(), ["user_id"], "{errors}")
        }
        other => panic!("expected Invalid on user_id, got {other:?}"),
    }
}

pub fn a_deal_is_shared_listed_and_unshared_with_audit_entries(db: &TestDb) {
    let desk = desk(db, "Sharing");
    let org = desk.org.org();
    let rep = desk.org.rep.id;
    assert_eq!(desk.visible_deals(db, desk.outsider), [], "another team's rep sees nothing yet");
    assert_eq!(desk.shares(db, rep), Some(Vec::new()));
    // The owner shares the deal with a rep of another team; sharing again keeps the first share.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let share = app::deals::share_opportunity(&mut tx, &desk.as_user(rep, "2026-03-01T10:00:00Z"), desk.deal, desk.outsider).unwrap();
    let first =
        OpportunityShare { opportunity_id: desk.deal, user_id: desk.outsider, shared_by: Some(rep), shared_at: at("2026-03-01T10:00:00Z") };
    assert_eq!(share, first);
    let manager = desk.org.manager.id;
    let again = app::deals::share_opportunity(&mut tx, &desk.as_user(manager, "2026-03-02T10:00:00Z"), desk.deal, desk.outsider).unwrap();
    assert_eq!(again, first);
    app::deals::share_opportunity(&mut tx, &desk.as_user(manager, "2026-03-02T11:00:00Z"), desk.deal, desk.viewer).unwrap();
    tx.commit().unwrap();
    // Everyone who sees the deal sees whom it is shared with, in user id order.
    let both = vec![
        first.clone(),
        OpportunityShare {
            opportunity_id: desk.deal,
            user_id: desk.viewer,
            shared_by: Some(manager),
            shared_at: at("2026-03-02T11:00:00Z"),
        },
    ];
    for reader in [rep, manager, desk.outsider, desk.viewer, desk.ops_user] {
        assert_eq!(desk.shares(db, reader).as_ref(), Some(&both), "reader {reader}");
    }
    assert_eq!(desk.shares(db, desk.peer), None, "a rep who cannot see the deal cannot see its shares");
    // The colleague sees the deal and may work on it; the deals shared with someone are listed
    // by whom (what the deal list's projection path reads).
    assert_eq!(desk.visible_deals(db, desk.outsider), [desk.deal]);
    let shared_with = |user| app::deals::shared_with(&mut app::Tx::new(db.store().read().unwrap()), desk.org.org(), user).unwrap();
    assert_eq!(shared_with(desk.outsider), [desk.deal]);
    assert_eq!(shared_with(desk.peer), []);
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let rename = OpportunityPatch { next_step: Some(Some("Joint call".into())), ..OpportunityPatch::default() };
    app::deals::update_opportunity(&mut tx, &desk.as_user(desk.outsider, "2026-03-03T09:00:00Z"), desk.deal, &rename).unwrap();
    // Unsharing ends it; unsharing again writes nothing.
    let unshare_at = desk.as_user(rep, "2026-03-04T09:00:00Z");
    assert!(app::deals::unshare_opportunity(&mut tx, &unshare_at, desk.deal, desk.outsider).unwrap());
    assert!(!app::deals::unshare_opportunity(&mut tx, &unshare_at, desk.deal, desk.outsider).unwrap());
    tx.commit().unwrap();
    assert_eq!(desk.visible_deals(db, desk.outsider), [], "after unsharing the colleague no longer sees the deal");
    assert_eq!(shared_with(desk.outsider), []);
    assert_eq!(desk.shares(db, rep), Some(vec![both[1].clone()]));
    assert_eq!(desk.shares(db, desk.outsider), None);
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let error =
        app::deals::update_opportunity(&mut tx, &desk.as_user(desk.outsider, "2026-03-05T09:00:00Z"), desk.deal, &rename).unwrap_err();
    assert_eq!(error.to_string(), format!("opportunity {} does not exist", desk.deal));
    drop(tx);
    // The audit log has each share (twice for the repeated one) and the one unshare.
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let filter = AuditFilter { record_kind: Some("opportunity".into()), record_id: Some(desk.deal.0), limit: 20, ..AuditFilter::default() };
    let events: Vec<_> = tx
        .audit_events(org, &filter)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|event| event.action == "share" || event.action == "unshare")
        .map(|event| (event.action, event.actor_id, event.source, event.at, event.before, event.after))
        .collect();
    let shared_with = |user: UserId| Some(format!(r#"{{"shared_with":{user}}}"#));
    assert_eq!(
        events,
        [
            ("share".to_owned(), Some(rep), Source::Api, at("2026-03-01T10:00:00Z"), None, shared_with(desk.outsider)),
            ("share".to_owned(), Some(manager), Source::Api, at("2026-03-02T10:00:00Z"), None, shared_with(desk.outsider)),
            ("share".to_owned(), Some(manager), Source::Api, at("2026-03-02T11:00:00Z"), None, shared_with(desk.viewer)),
            ("unshare".to_owned(), Some(rep), Source::Api, at("2026-03-04T09:00:00Z"), shared_with(desk.outsider), None),
        ]
    );
}

pub fn only_those_responsible_share_and_unshare(db: &TestDb) {
    let desk = desk(db, "Rights");
    let rep = desk.org.rep.id;
    let when = "2026-03-01T10:00:00Z";
    let mut tx = app::Tx::new(db.store().write().unwrap());
    // A rep cannot share another rep's deal they cannot see: it does not exist for them.
    let error = app::deals::share_opportunity(&mut tx, &desk.as_user(desk.peer, when), desk.deal, desk.peer).unwrap_err();
    assert_eq!(error.to_string(), format!("opportunity {} does not exist", desk.deal));
    let error = app::deals::unshare_opportunity(&mut tx, &desk.as_user(desk.outsider, when), desk.deal, desk.outsider).unwrap_err();
    assert!(matches!(error, StoreError::NotFound { .. }), "{error:?}");
    // A viewer may look, not share.
    forbidden(app::deals::share_opportunity(&mut tx, &desk.as_user(desk.viewer, when), desk.deal, desk.peer));
    // An unknown user, or the owner, is named as the bad field.
    invalid_user_id(app::deals::share_opportunity(&mut tx, &desk.as_user(rep, when), desk.deal, UserId(999_999)));
    invalid_user_id(app::deals::share_opportunity(&mut tx, &desk.as_user(rep, when), desk.deal, rep));
    invalid_user_id(app::deals::unshare_opportunity(&mut tx, &desk.as_user(rep, when), desk.deal, UserId(999_999)));
    // Ops may share any deal; the colleague it is shared with may work on it but neither pass
    // it on nor end shares.
    app::deals::share_opportunity(&mut tx, &desk.as_user(desk.ops_user, when), desk.deal, desk.peer).unwrap();
    forbidden(app::deals::share_opportunity(&mut tx, &desk.as_user(desk.peer, when), desk.deal, desk.outsider));
    forbidden(app::deals::unshare_opportunity(&mut tx, &desk.as_user(desk.peer, when), desk.deal, desk.peer));
    forbidden(app::deals::unshare_opportunity(&mut tx, &desk.as_user(desk.viewer, when), desk.deal, desk.peer));
    // The owner's manager ends the share.
    assert!(app::deals::unshare_opportunity(&mut tx, &desk.as_user(desk.org.manager.id, when), desk.deal, desk.peer).unwrap());
    tx.commit().unwrap();
    assert_eq!(desk.visible_deals(db, desk.peer), []);
    // Refused writes left nothing behind: one share and one unshare in the audit log.
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let filter = AuditFilter { record_kind: Some("opportunity".into()), record_id: Some(desk.deal.0), limit: 20, ..AuditFilter::default() };
    let actions: Vec<String> = tx.audit_events(desk.org.org(), &filter).unwrap().into_iter().rev().map(|event| event.action).collect();
    assert_eq!(actions, ["create", "share", "unshare"]);
}
