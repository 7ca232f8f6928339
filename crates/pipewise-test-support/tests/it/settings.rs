//! Health thresholds stored per organisation (SPEC C5 "configurable thresholds", issue 6): the
//! defaults until changed, a write read back by a later transaction, "reset to defaults", ops and
//! admins only, every bad field named with nothing written, an audit entry per change, and the
//! stored document read leniently (unknown names ignored, narrowed ranges clamped). Every case
//! runs on both engines.

use pipewise_analytics::HealthThresholds;
use pipewise_app as app;
use pipewise_app::settings::HealthSettings;
use pipewise_app::{AuditFilter, StoreError, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};
use pipewise_test_support::transact;

struct Org {
    org: TestOrg,
    admin: UserId,
    ops_user: UserId,
    viewer: UserId,
}

impl Org {
    fn as_user(&self, user: UserId, when: &str) -> WriteCtx {
        WriteCtx { actor_id: Some(user), source: Source::Api, at: at(when), ..self.org.ctx }
    }
}

fn org(db: &TestDb, name: &str) -> Org {
    let org = test_org(db.store(), name);
    let slug = name.to_lowercase();
    let create = |email: &str, role: Role| {
        transact(db.store(), |tx| app::users::create_user(tx, &org.ctx, new_user(&format!("{email}@{slug}.test"), email, role, None)))
            .unwrap()
            .id
    };
    let (admin, ops_user, viewer) = (create("admin", Role::Admin), create("ops", Role::Ops), create("viewer", Role::Viewer));
    Org { org, admin, ops_user, viewer }
}

fn settings(db: &TestDb, org: OrgId) -> HealthSettings {
    app::settings::health_settings(&mut app::Tx::new(db.store().read().unwrap()), org).unwrap()
}

fn settings_audit(db: &TestDb, org: OrgId) -> Vec<pipewise_store::AuditEvent> {
    let filter = AuditFilter { record_kind: Some(app::settings::HEALTH_SETTINGS.into()), limit: 100, ..AuditFilter::default() };
    db.store().read().unwrap().audit_events(org, &filter).unwrap()
}

pub fn health_thresholds_are_stored_per_organisation_and_reset(db: &TestDb) {
    let acme = org(db, "Thresholds");
    let other = org(db, "Elsewhere");
    let id = acme.org.org();
    // The defaults until someone changes them.
    assert_eq!(settings(db, id), HealthSettings { thresholds: HealthThresholds::default(), updated_at: None, updated_by: None });

    let changed = HealthThresholds { untouched_days: 10, going_dark_days: 28, coverage_target_pct: 250, ..HealthThresholds::default() };
    let by_ops = acme.as_user(acme.ops_user, "2026-03-02T09:00:00Z");
    let written = transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &by_ops, &changed)).unwrap();
    assert_eq!(written, HealthSettings { thresholds: changed, updated_at: Some(by_ops.at), updated_by: Some(acme.ops_user) });
    // A later transaction reads what was written; the other organisation keeps its defaults.
    assert_eq!(settings(db, id), written);
    assert_eq!(app::settings::health_thresholds(&mut app::Tx::new(db.store().read().unwrap()), id).unwrap(), changed);
    assert_eq!(settings(db, other.org.org()).thresholds, HealthThresholds::default());

    // The audit entry holds the changed thresholds before and after, by the ops user.
    let audit = settings_audit(db, id);
    assert_eq!(audit.len(), 1);
    let entry = &audit[0];
    assert_eq!((entry.record_id, entry.action.as_str(), entry.actor_id, entry.source), (id.0, "update", Some(acme.ops_user), Source::Api));
    let before: serde_json::Value = serde_json::from_str(entry.before.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    assert_eq!(before, serde_json::json!({ "untouched_days": 14, "going_dark_days": 21, "coverage_target_pct": 300 }));
    assert_eq!(after, serde_json::json!({ "untouched_days": 10, "going_dark_days": 28, "coverage_target_pct": 250 }));

    // Writing the same values again changes nothing and audits nothing.
    let again = acme.as_user(acme.admin, "2026-03-03T09:00:00Z");
    assert_eq!(transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &again, &changed)).unwrap(), written);
    assert_eq!(settings_audit(db, id).len(), 1);

    // An admin resets them to the defaults: stored as no overrides at all.
    let reset = acme.as_user(acme.admin, "2026-03-04T09:00:00Z");
    let back = transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &reset, &HealthThresholds::default())).unwrap();
    assert_eq!(back, HealthSettings { thresholds: HealthThresholds::default(), updated_at: Some(reset.at), updated_by: Some(acme.admin) });
    assert_eq!(settings(db, id), back);
    let stored = db.store().read().unwrap().health_settings(id).unwrap().expect("a row");
    assert_eq!(stored.document, "{}");
    let audit = settings_audit(db, id);
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].actor_id, Some(acme.admin));
}

pub fn only_ops_and_admins_change_health_thresholds_and_every_bad_field_is_named(db: &TestDb) {
    let acme = org(db, "Guarded");
    let id = acme.org.org();
    let changed = HealthThresholds { untouched_days: 7, ..HealthThresholds::default() };
    // A rep, a manager and a viewer are refused; nothing is written or audited.
    for user in [acme.org.rep.id, acme.org.manager.id, acme.viewer] {
        let ctx = acme.as_user(user, "2026-03-02T09:00:00Z");
        match transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &ctx, &changed)) {
            Err(StoreError::Forbidden(reason)) => assert!(reason.contains("ops and admins"), "{reason}"),
            other => panic!("user {user} was not refused: {other:?}"),
        }
    }
    assert_eq!(settings(db, id).updated_at, None);
    assert!(settings_audit(db, id).is_empty());
    // Everyone reads them: figures for every role use them.
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(app::settings::health_thresholds(&mut tx, id).unwrap(), HealthThresholds::default());
    drop(tx);

    // Every bad field at once, each by name; nothing is written.
    let bad = HealthThresholds {
        untouched_days: 0,
        going_dark_days: 60,
        bottleneck_share_pct: 101,
        single_threaded_max_contacts: 3,
        multi_threaded_min_contacts: 2,
        ..HealthThresholds::default()
    };
    let by_admin = acme.as_user(acme.admin, "2026-03-02T10:00:00Z");
    let errors = match transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &by_admin, &bad)) {
        Err(StoreError::Invalid(errors)) => errors,
        other => panic!("expected every bad field, got {other:?}"),
    };
    let fields: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
    assert_eq!(fields, ["untouched_days", "going_dark_days", "bottleneck_share_pct", "multi_threaded_min_contacts"]);
    assert!(errors.to_string().contains("health_settings"), "{errors}");
    assert!(errors.to_string().contains("going_dark_days: 60 is out of range (14 to 42 days)"), "{errors}");
    assert_eq!(settings(db, id).thresholds, HealthThresholds::default());
    assert!(settings_audit(db, id).is_empty());

    // Ops may, and admins may.
    let by_ops = acme.as_user(acme.ops_user, "2026-03-02T11:00:00Z");
    transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &by_ops, &changed)).unwrap();
    let by_admin = acme.as_user(acme.admin, "2026-03-02T12:00:00Z");
    let more = HealthThresholds { untouched_days: 21, ..changed };
    transact(db.store(), |tx| app::settings::set_health_thresholds(tx, &by_admin, &more)).unwrap();
    assert_eq!(settings(db, id).thresholds.untouched_days, 21);
    let actors: Vec<Option<UserId>> = settings_audit(db, id).iter().map(|event| event.actor_id).collect();
    assert_eq!(actors, [Some(acme.admin), Some(acme.ops_user)], "one entry per change, newest first");
}

pub fn stored_health_settings_are_read_leniently_and_must_be_an_object(db: &TestDb) {
    let acme = org(db, "Lenient");
    let id = acme.org.org();
    let ctx = acme.as_user(acme.ops_user, "2026-03-02T09:00:00Z");
    transact(db.store(), |tx| {
        app::settings::set_health_thresholds(tx, &ctx, &HealthThresholds { pushed_min: 3, ..HealthThresholds::default() })
    })
    .unwrap();
    // A document a newer release wrote: a name this one does not know, and a value outside a
    // range this release allows.
    let document = r#"{"pushed_min": 4, "a_future_threshold": 12, "going_dark_days": 90}"#;
    db.execute_raw(&format!("UPDATE health_settings SET thresholds = '{document}' WHERE organisation_id = {}", id.0)).unwrap();
    let expected = HealthThresholds { pushed_min: 4, going_dark_days: 42, ..HealthThresholds::default() };
    assert_eq!(settings(db, id).thresholds, expected);
    // The database itself refuses a document that is not a JSON object.
    for bad in ["[1, 2]", "12"] {
        let refused = db.execute_raw(&format!("UPDATE health_settings SET thresholds = '{bad}' WHERE organisation_id = {}", id.0));
        assert!(refused.is_err(), "{bad} was stored");
    }
    // A value that is not a whole number is a corrupt row, not a silent default.
    db.execute_raw(&format!(r#"UPDATE health_settings SET thresholds = '{{"pushed_min": "four"}}' WHERE organisation_id = {}"#, id.0))
        .unwrap();
    match app::settings::health_thresholds(&mut app::Tx::new(db.store().read().unwrap()), id) {
        Err(StoreError::Corrupt { table: "health_settings", detail }) => assert!(detail.contains("pushed_min"), "{detail}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}
