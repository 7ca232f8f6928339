//! Inside-sales handoffs in storage (SPEC C2): who handed a deal over, to whom, the owner change
//! in history and the audit log, the append-only table, the rules of who may hand what, and the
//! report of the share that passed gate 1 per source. Every case runs on both engines.

use pipewise_app as app;
use pipewise_app::designer::PipelineTemplate;
use pipewise_app::{AuditFilter, StoreError, WriteCtx};
use pipewise_core::opportunity::{OppField, OpportunityPatch};
use pipewise_core::pipeline::Pipeline;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};

/// An organisation with the gated B2B template, an ops user, a field rep outside the rep's
/// team (no manager), a viewer, and `deals` deals of the rep in stage 1.
struct Desk {
    org: TestOrg,
    ops_user: UserId,
    field_rep: UserId,
    viewer: UserId,
    b2b: Pipeline,
    deals: Vec<OpportunityId>,
}

impl Desk {
    fn as_user(&self, user: UserId, when: &str) -> WriteCtx {
        WriteCtx { actor_id: Some(user), at: at(when), ..self.org.ctx }
    }
}

fn desk(db: &TestDb, name: &str, deals: usize) -> Desk {
    let org = test_org(db.store(), name);
    let slug = name.to_lowercase();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let create = |tx: &mut app::Tx, email: &str, name: &str, role: Role| {
        app::users::create_user(tx, &org.ctx, new_user(&format!("{email}@{slug}.test"), name, role, None)).unwrap().id
    };
    let ops_user = create(&mut tx, "ops", "Olga Ops", Role::Ops);
    let field_rep = create(&mut tx, "field", "Farah Field", Role::Rep);
    let viewer = create(&mut tx, "viewer", "Vic Viewer", Role::Viewer);
    let as_ops = WriteCtx { actor_id: Some(ops_user), ..org.ctx };
    let (b2b, _) = app::designer::create_pipeline_from_template(&mut tx, &as_ops, PipelineTemplate::B2bTheModel).unwrap();
    let deals = (0..deals)
        .map(|index| {
            let mut new = org.new_deal(&format!("Inbound case {index}"));
            new.pipeline_id = b2b.id;
            new.close_date = Some("2027-06-30".parse().unwrap());
            app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-11-02T09:00:00Z")), &new).unwrap().id
        })
        .collect();
    tx.commit().unwrap();
    Desk { org, ops_user, field_rep, viewer, b2b, deals }
}

fn forbidden(result: Result<impl std::fmt::Debug, StoreError>) {
    match result {
        Err(StoreError::Forbidden(_)) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

fn invalid_field(result: Result<impl std::fmt::Debug, StoreError>, field: &str) {
    match result {
        Err(StoreError::Invalid(errors)) => assert!(errors.to_string().contains(field), "{errors}"),
        other => panic!("expected Invalid on {field}, got {other:?}"),
    }
}

pub fn a_handoff_is_recorded_with_who_handed_it_over(db: &TestDb) {
    let desk = desk(db, "Handover", 1);
    let org = desk.org.org();
    let deal = desk.deals[0];
    let rep = desk.org.rep.id;
    let mut tx = app::Tx::new(db.store().write().unwrap());
    // Refused before anything is written: a viewer, the current owner, an unknown user.
    let by_rep = desk.as_user(rep, "2026-11-03T09:00:00Z");
    invalid_field(app::handoffs::hand_off(&mut tx, &by_rep, deal, desk.viewer, None), "to_user_id");
    invalid_field(app::handoffs::hand_off(&mut tx, &by_rep, deal, rep, None), "to_user_id");
    invalid_field(app::handoffs::hand_off(&mut tx, &by_rep, deal, UserId(999_999), None), "to_user_id");
    // The viewer may look, not hand over.
    forbidden(app::handoffs::hand_off(&mut tx, &desk.as_user(desk.viewer, "2026-11-03T09:00:00Z"), deal, desk.field_rep, None));

    // Inside sales: the rep owns the deal in the entry stage and hands it to a rep of another team.
    let handoff = app::handoffs::hand_off(&mut tx, &by_rep, deal, desk.field_rep, Some("  Budget confirmed, wants a demo  ")).unwrap();
    assert_eq!(handoff.from_user_id, rep);
    assert_eq!(handoff.to_user_id, desk.field_rep);
    assert_eq!(handoff.actor_id, Some(rep));
    assert_eq!(handoff.stage_id, desk.b2b.stages[0].id);
    assert_eq!(handoff.at, at("2026-11-03T09:00:00Z"));
    assert_eq!(handoff.note.as_deref(), Some("Budget confirmed, wants a demo"));
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(tx.handoffs_of_opportunity(org, deal).unwrap(), vec![handoff.clone()]);
    assert_eq!(tx.handoffs(org).unwrap(), vec![handoff.clone()]);
    assert_eq!(tx.opportunity(org, deal, false).unwrap().unwrap().owner_id, desk.field_rep);
    // The owner change is in the deal's history, by the rep, and replays.
    let history = tx.history(org, deal).unwrap();
    let owner_change = history.iter().rfind(|event| event.field == OppField::Owner).unwrap();
    assert_eq!(owner_change.old, Some(rep.0.to_string()));
    assert_eq!(owner_change.new, Some(desk.field_rep.0.to_string()));
    assert_eq!(owner_change.actor_id, Some(rep));
    assert_eq!(owner_change.at, handoff.at);
    // Audited twice: the owner change and the handoff.
    let audit = tx.audit_events(org, &AuditFilter { record_id: Some(deal.0), limit: 10, ..AuditFilter::default() }).unwrap();
    let actions: Vec<&str> = audit.iter().take(2).map(|event| event.action.as_str()).collect();
    assert_eq!(actions, ["hand_off", "update"]);
    assert!(audit[0].after.as_deref().unwrap().contains("Budget confirmed"));
    // Visibility follows the deal: the rep no longer sees it, the field rep does.
    let rep_access = app::access::access_for(&mut tx, org, Some(rep)).unwrap();
    assert_eq!(app::handoffs::handoffs_for(&mut tx, org, &rep_access, deal).unwrap(), None);
    let field_access = app::access::access_for(&mut tx, org, Some(desk.field_rep)).unwrap();
    assert_eq!(app::handoffs::handoffs_for(&mut tx, org, &field_access, deal).unwrap().unwrap().len(), 1);
    drop(tx);

    // Past the entry stage a rep hands over only to someone they may assign deals to.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let to_stage_2 = OpportunityPatch {
        stage_id: Some(desk.b2b.stages[1].id),
        gate_override_reason: Some("Qualified on the phone".into()),
        ..OpportunityPatch::default()
    };
    app::deals::update_opportunity(&mut tx, &desk.as_user(desk.ops_user, "2026-11-04T09:00:00Z"), deal, &to_stage_2).unwrap();
    forbidden(app::handoffs::hand_off(&mut tx, &desk.as_user(desk.field_rep, "2026-11-05T09:00:00Z"), deal, rep, None));
    // Ops may hand any deal to anyone.
    let back = app::handoffs::hand_off(&mut tx, &desk.as_user(desk.ops_user, "2026-11-05T09:00:00Z"), deal, rep, None).unwrap();
    assert_eq!((back.from_user_id, back.to_user_id, back.actor_id), (desk.field_rep, rep, Some(desk.ops_user)));
    assert_eq!(back.stage_id, desk.b2b.stages[1].id);
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(tx.handoffs_of_opportunity(org, deal).unwrap().len(), 2);
    drop(tx);

    // The table is append-only in the database itself.
    for sql in ["UPDATE handoff SET note = 'tampered'", "DELETE FROM handoff"] {
        let error = db.execute_raw(sql).unwrap_err();
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(tx.handoffs_of_opportunity(org, deal).unwrap()[0], handoff);
}

/// The inside-sales exception is for cases that never passed gate 1: moving a qualified deal
/// back to stage 1 does not let its rep hand it to anyone in any team.
pub fn a_qualified_deal_moved_back_to_stage_1_is_not_an_inside_sales_case(db: &TestDb) {
    let desk = desk(db, "Requalified", 2);
    let rep = desk.org.rep.id;
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let to_stage_2 = OpportunityPatch {
        stage_id: Some(desk.b2b.stages[1].id),
        gate_override_reason: Some("Qualified on the phone".into()),
        ..OpportunityPatch::default()
    };
    app::deals::update_opportunity(&mut tx, &desk.as_user(desk.ops_user, "2026-11-04T09:00:00Z"), desk.deals[0], &to_stage_2).unwrap();
    let back = OpportunityPatch { stage_id: Some(desk.b2b.stages[0].id), ..OpportunityPatch::default() };
    let by_rep = desk.as_user(rep, "2026-11-05T09:00:00Z");
    app::deals::update_opportunity(&mut tx, &by_rep, desk.deals[0], &back).unwrap();
    let deal = tx.opportunity(desk.org.org(), desk.deals[0], false).unwrap().unwrap();
    assert_eq!(deal.stage_id, desk.b2b.stages[0].id, "back in the entry stage");
    assert!(!app::handoffs::is_inside_sales_case(&mut tx, desk.org.org(), &deal).unwrap());
    forbidden(app::handoffs::hand_off(&mut tx, &by_rep, desk.deals[0], desk.field_rep, None));
    // The case that never passed gate 1 still may go to a rep of another team.
    let untouched = tx.opportunity(desk.org.org(), desk.deals[1], false).unwrap().unwrap();
    assert!(app::handoffs::is_inside_sales_case(&mut tx, desk.org.org(), &untouched).unwrap());
    app::handoffs::hand_off(&mut tx, &by_rep, desk.deals[1], desk.field_rep, None).unwrap();
}

pub fn the_report_gives_the_share_that_passed_gate_1_per_source(db: &TestDb) {
    let desk = desk(db, "HandoffReport", 2);
    let org = desk.org.org();
    let rep = desk.org.rep.id;
    let mut tx = app::Tx::new(db.store().write().unwrap());
    for (index, deal) in desk.deals.iter().enumerate() {
        let ctx = desk.as_user(rep, &format!("2026-11-0{}T09:00:00Z", 3 + index));
        app::handoffs::hand_off(&mut tx, &ctx, *deal, desk.field_rep, Some("Ready for field sales")).unwrap();
    }
    // One of the two handed cases passes gate 1 (ops pushes it through with a reason).
    let to_stage_2 = OpportunityPatch {
        stage_id: Some(desk.b2b.stages[1].id),
        gate_override_reason: Some("Qualified on the phone".into()),
        ..OpportunityPatch::default()
    };
    app::deals::update_opportunity(&mut tx, &desk.as_user(desk.ops_user, "2026-11-10T09:00:00Z"), desk.deals[0], &to_stage_2).unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let from: Date = "2026-11-01".parse().unwrap();
    let report_for = |tx: &mut app::Tx, user: Option<UserId>, from: Date, to: Option<Date>| {
        let access = app::access::access_for(tx, org, user).unwrap();
        app::handoffs::handoff_report_for(tx, org, &access, from, to).unwrap()
    };
    for reader in [Some(desk.ops_user), Some(desk.org.manager.id), Some(rep), Some(desk.viewer), None] {
        let report = report_for(&mut tx, reader, from, None);
        assert_eq!(report.len(), 1, "{reader:?}");
        let line = &report[0];
        assert_eq!((line.user_id, line.handed_over, line.became_sql, line.won), (rep, 2, 1, 0), "{reader:?}");
        assert_eq!(line.sql_share(), Some(0.5));
    }
    // The field rep handed nothing over and sees no one else's line.
    assert!(report_for(&mut tx, Some(desk.field_rep), from, None).is_empty());
    // The period counts by the handoff's day: only the first handoff is on the 3rd.
    let third: Date = "2026-11-03".parse().unwrap();
    let only_first = report_for(&mut tx, Some(desk.ops_user), third, Some(third));
    assert_eq!((only_first[0].handed_over, only_first[0].became_sql), (1, 1));
    let second_only = report_for(&mut tx, Some(desk.ops_user), "2026-11-04".parse().unwrap(), None);
    assert_eq!((second_only[0].handed_over, second_only[0].became_sql, second_only[0].sql_share()), (1, 0, Some(0.0)));
    assert!(report_for(&mut tx, Some(desk.ops_user), "2026-12-01".parse().unwrap(), None).is_empty());
}
