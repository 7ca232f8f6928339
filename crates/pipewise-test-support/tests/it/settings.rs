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

/// The organisation's time zone (issue 16, point 2): UTC until set; ops and admins set it, a rep
/// may not, a name that is not a zone is refused on `time_zone`; audited. The figures count in
/// it: a deal won at 08:30 in Seoul on 1 July (23:30 on 30 June in UTC) is won in Seoul's third
/// quarter, and a projection loaded before the change notices it and is loaded again.
pub fn the_organisations_days_are_taken_in_its_time_zone(db: &TestDb) {
    use pipewise_analytics::metrics::outcomes;
    use pipewise_analytics::{Period, Scope, day};
    use pipewise_app::insights::{Clock, Insights, InsightsRegistry};
    use pipewise_core::opportunity::OpportunityPatch;
    use std::sync::Arc;

    let org = org(db, "Seoul");
    let id = org.org.org();
    let zone = || transact(db.store(), |tx| app::users::zone(tx, id)).unwrap();
    assert!(zone().is_utc(), "UTC until set");
    let won_stage = org.org.simple.stages[4].id;
    transact(db.store(), |tx| {
        let deal = app::deals::create_opportunity(tx, &org.org.by_rep(at("2026-05-04T01:00:00Z")), &org.org.new_deal("Hanbit"))?;
        let win = OpportunityPatch { stage_id: Some(won_stage), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &org.org.by_rep(at("2026-06-30T23:30:00Z")), deal.id, &win)
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-12-01T12:00:00Z"));
    let won_in = |insights: &Insights, first: &str, last: &str| {
        insights.with(|projection| outcomes(projection, &Scope::org(), day("2026-12-01"), Period::new(day(first), day(last))).won)
    };
    let registry = InsightsRegistry::new(db.shared()).with_clock(Arc::clone(&clock));
    let before = registry.get(id).unwrap();
    assert_eq!((won_in(&before, "2026-04-01", "2026-06-30"), won_in(&before, "2026-07-01", "2026-09-30")), (1, 0), "in UTC");

    // A rep may not set it; a name that is not a zone is named with its field; nothing written.
    let error =
        transact(db.store(), |tx| app::settings::set_time_zone(tx, &org.org.by_rep(at("2026-12-01T09:00:00Z")), "Asia/Seoul")).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let by_ops = org.as_user(org.ops_user, "2026-12-01T09:00:00Z");
    let error = transact(db.store(), |tx| app::settings::set_time_zone(tx, &by_ops, "Seoul")).unwrap_err();
    assert_eq!(error.to_string(), format!("organisation {id}: time_zone: \"Seoul\" is not an IANA time zone such as Asia/Seoul"));
    assert!(zone().is_utc());
    // Ops sets it; it reads back and is audited.
    let organisation = transact(db.store(), |tx| app::settings::set_time_zone(tx, &by_ops, " Asia/Seoul ")).unwrap();
    assert_eq!(organisation.time_zone.name(), "Asia/Seoul");
    assert_eq!(zone().name(), "Asia/Seoul");
    let audit = db.store().read().unwrap().audit_events(id, &AuditFilter { limit: 5, ..AuditFilter::default() }).unwrap();
    let entry = audit.iter().find(|entry| entry.record_kind == "organisation").expect("an audited change");
    assert_eq!((entry.action.as_str(), entry.actor_id), ("update", Some(org.ops_user)));
    assert!(entry.after.as_deref().unwrap().contains("Asia/Seoul"), "{entry:?}");

    // Counted in Seoul: the deal is won on 1 July there.
    let fresh = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    assert_eq!((won_in(&fresh, "2026-04-01", "2026-06-30"), won_in(&fresh, "2026-07-01", "2026-09-30")), (0, 1), "in Seoul");
    // The projection loaded before notices at its next refresh, and the registry loads it again.
    before.refresh_facts().unwrap();
    assert!(before.is_stale());
    let after = registry.get(id).unwrap();
    assert_eq!(after.zone().name(), "Asia/Seoul");
    assert_eq!(won_in(&after, "2026-07-01", "2026-09-30"), 1);
}

/// Conversion is a pure function of the stored data (issue 16, point 3): EUR 100,000 set on the
/// morning of 30 October, before that day's ECB fixing, reads USD 111,300.00 (the 29th's rate)
/// until the fixing is stored; then the running projection reads USD 111,720.00, as one loaded
/// afresh from the store does.
pub fn a_rate_stored_after_an_amount_converts_it_as_a_restart_would(db: &TestDb) {
    use pipewise_analytics::{Scope, day, metrics::pipeline_by_stage};
    use pipewise_app::insights::{Clock, Insights};
    use std::sync::Arc;

    let org = org(db, "Late-rates");
    let id = org.org.org();
    let put_rate = |date: &str, rate: &str| {
        let mut tx = app::Tx::new(db.store().write().unwrap());
        tx.put_rates(id, Currency::EUR, &[(Currency::USD, date.parse().unwrap(), rate.parse().unwrap())]).unwrap();
        tx.commit().unwrap();
    };
    put_rate("2026-10-29", "1.113");
    let deal = opportunity::NewOpportunity { amount: Some("EUR 100000".parse().unwrap()), ..org.org.new_deal("Nordlicht") };
    transact(db.store(), |tx| app::deals::create_opportunity(tx, &org.org.by_rep(at("2026-10-30T08:00:00Z")), &deal)).unwrap();
    let clock: Clock = Arc::new(|| at("2026-10-30T16:00:00Z"));
    let pipeline =
        |insights: &Insights| insights.with(|projection| pipeline_by_stage(projection, &Scope::org(), day("2026-10-30"), None).amount);
    let running = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    assert_eq!(pipeline(&running), 11_130_000);

    put_rate("2026-10-30", "1.1172");
    running.refresh_facts().unwrap();
    assert_eq!(pipeline(&running), 11_172_000, "the running projection converts again");
    let restarted = Insights::load_with_clock(db.shared(), id, clock).unwrap();
    assert_eq!(pipeline(&restarted), 11_172_000);
}

/// A stage's probability or metrics flag changed today leaves a past day's figures as they were
/// (issue 16 point 6): a 10,000 deal in Qualification (25 %) weighs 2,500 as of 9 March; the
/// probability set to 50 % on 10 March (first to 40 %, then 50 % the same day: the day's last
/// stands) weighs it 5,000 from that day, and 2,500 still as of 9 March, on the running
/// projection and after a restart alike. Leaving the stage out of metrics on 12 March takes the
/// deal out of the pipeline from that day only. The settings are kept one row a day, after the
/// settings the stage had before its first change.
pub fn a_stage_change_today_leaves_a_past_days_figures_as_they_were(db: &TestDb) {
    use pipewise_analytics::{Scope, day, metrics::pipeline_by_stage};
    use pipewise_app::insights::{Clock, Insights};
    use pipewise_core::pipeline::StagePatch;
    use std::sync::Arc;

    let org = org(db, "Stage-days");
    let id = org.org.org();
    let qualification = org.org.simple.stages[1].id;
    let deal = opportunity::NewOpportunity {
        amount: Some("USD 10000".parse().unwrap()),
        stage_id: Some(qualification),
        ..org.org.new_deal("Weighed")
    };
    transact(db.store(), |tx| app::deals::create_opportunity(tx, &org.org.by_rep(at("2026-03-01T09:00:00Z")), &deal)).unwrap();
    let clock: Clock = Arc::new(|| at("2026-03-15T12:00:00Z"));
    let running = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let weighed = |insights: &Insights, date: &str| {
        insights.with(|projection| {
            let pipeline = pipeline_by_stage(projection, &Scope::org(), day(date), None);
            (pipeline.amount, pipeline.weighted)
        })
    };
    assert_eq!(weighed(&running, "2026-03-09"), (1_000_000, 250_000), "in minor units");

    let change = |when: &str, patch: StagePatch| {
        transact(db.store(), |tx| app::designer::update_stage(tx, &org.as_user(org.admin, when), qualification, &patch)).unwrap();
    };
    let probability = |percent: i64| StagePatch { win_probability: Some(percent.into()), ..StagePatch::default() };
    change("2026-03-10T08:00:00Z", probability(40));
    change("2026-03-10T09:00:00Z", probability(50));
    running.refresh_facts().unwrap();
    for insights in [&running, &Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap()] {
        assert_eq!(weighed(insights, "2026-03-09"), (1_000_000, 250_000), "as it was");
        assert_eq!(weighed(insights, "2026-03-10"), (1_000_000, 500_000));
    }

    change("2026-03-12T09:00:00Z", StagePatch { counts_in_metrics: Some(false), ..StagePatch::default() });
    running.refresh_facts().unwrap();
    for insights in [&running, &Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap()] {
        assert_eq!(weighed(insights, "2026-03-11"), (1_000_000, 500_000));
        assert_eq!(weighed(insights, "2026-03-12"), (0, 0), "out of metrics from that day");
    }

    let recorded = transact(db.store(), |tx| tx.stage_settings(id)).unwrap();
    let rows: Vec<(String, String, bool)> = recorded
        .iter()
        .filter(|row| row.stage == qualification)
        .map(|row| (row.from.to_string(), row.win_probability.normalize().to_string(), row.counts_in_metrics))
        .collect();
    assert_eq!(
        rows,
        [
            ("1900-01-01".to_owned(), "25".to_owned(), true),
            ("2026-03-10".to_owned(), "50".to_owned(), true),
            ("2026-03-12".to_owned(), "50".to_owned(), false),
        ]
    );
}
