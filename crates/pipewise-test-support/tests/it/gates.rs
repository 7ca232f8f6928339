//! Stage gates and the deal workspace in storage: criteria, the checklist log, enforcement of
//! every stage move with recorded overrides, the SQL and drop marks, the workspace's history, and
//! the pipeline designer. Every case runs on both engines.

use pipewise_app as app;
use pipewise_app::designer::PipelineTemplate;
use pipewise_app::{AuditFilter, StoreError, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::gates::{CriterionKind, CriterionOrigin, ExitCriterion, MoveKind, NewExitCriterion};
use pipewise_core::history;
use pipewise_core::opportunity::{OppField, Opportunity, OpportunityPatch, Status};
use pipewise_core::pipeline::{ForecastCategory, NewStage, Pipeline, PipelinePatch, StageKind, StagePatch};
use pipewise_core::user::Role;
use pipewise_core::workspace::{Bant, BantEntry, BantStatus, FourBox, WorkspacePart};
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};
use pipewise_test_support::transact;

use crate::worded;

/// An organisation with the B2B template and its criteria, an ops user, and one deal of the rep
/// in stage 1 whose close date is far off (so stage 1's decision window is not met).
struct Gated {
    org: TestOrg,
    ops_user: UserId,
    b2b: Pipeline,
    deal: Opportunity,
}

impl Gated {
    fn stage(&self, number: usize) -> StageId {
        self.b2b.stages[number - 1].id
    }

    fn won(&self) -> StageId {
        self.b2b.stages[5].id
    }

    fn lost(&self) -> StageId {
        self.b2b.stages[6].id
    }

    fn as_user(&self, user: UserId, when: &str) -> WriteCtx {
        WriteCtx { actor_id: Some(user), at: at(when), ..self.org.ctx }
    }
}

fn gated(db: &TestDb, name: &str) -> Gated {
    let org = test_org(db.store(), name);
    let slug = name.to_lowercase();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let ops_user =
        app::users::create_user(&mut tx, &org.ctx, new_user(&format!("ops@{slug}.test"), "Olga Ops", Role::Ops, None)).unwrap().id;
    let as_ops = WriteCtx { actor_id: Some(ops_user), ..org.ctx };
    let (b2b, criteria) = app::designer::create_pipeline_from_template(&mut tx, &as_ops, PipelineTemplate::B2bTheModel).unwrap();
    assert_eq!(criteria.len(), 16, "the B2B template's criteria");
    let mut new = org.new_deal("Hanbit Logistics CRM");
    new.pipeline_id = b2b.id;
    new.close_date = Some("2027-06-30".parse().unwrap());
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-11-02T09:00:00Z")), &new).unwrap();
    tx.commit().unwrap();
    Gated { org, ops_user, b2b, deal }
}

fn move_to(stage: StageId) -> OpportunityPatch {
    OpportunityPatch { stage_id: Some(stage), ..Default::default() }
}

fn refusal(error: StoreError) -> pipewise_core::gates::MoveCheck {
    match error {
        StoreError::GateRefused(check) => *check,
        other => panic!("expected a gate refusal, got {other}"),
    }
}

pub fn a_jump_across_two_gates_is_refused_with_everything_missing(db: &TestDb) {
    let gated = gated(db, "Jump");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let error =
        app::deals::update_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-16T10:00:00Z")), gated.deal.id, &move_to(gated.stage(3)))
            .unwrap_err();
    assert!(error.is_user_error());
    let message = error.to_string();
    let check = refusal(error);
    assert_eq!(check.kind, MoveKind::Forward);
    assert_eq!(check.gates_checked, [gated.stage(1), gated.stage(2)]);
    let missing: Vec<(StageId, Vec<&str>)> =
        check.missing.iter().map(|stage| (stage.stage_id, stage.unmet.iter().map(|unmet| unmet.label_en.as_str()).collect())).collect();
    assert_eq!(
        missing,
        [
            (
                gated.stage(1),
                vec![
                    "A business issue our product or service can solve exists",
                    "A decision is needed within the team's average sales cycle"
                ]
            ),
            (
                gated.stage(2),
                vec![
                    "BANT captured: budget, authority, need and timeframe",
                    "Detailed requirements confirmed",
                    "Verification by demo or prototype started",
                    "Comparison with competitors' products started",
                ]
            ),
        ]
    );
    // The message lists every unmet item, one per line.
    assert_eq!(message.lines().count(), 7, "{message}");
    assert!(message.contains("6 exit criteria are not met"), "{message}");
    // Nothing moved, nothing was recorded.
    drop(tx);
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(tx.opportunity(gated.org.org(), gated.deal.id, false).unwrap().unwrap().stage_id, gated.stage(1));
    assert_eq!(tx.history(gated.org.org(), gated.deal.id).unwrap().len(), 10);
}

pub fn overrides_are_for_managers_and_recorded_everywhere(db: &TestDb) {
    let gated = gated(db, "Override");
    let org = gated.org.org();
    let reason = "Board approved the pilot; paperwork follows";
    // A rep cannot override, even on their own deal.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let by_rep = OpportunityPatch { gate_override_reason: Some(reason.into()), ..move_to(gated.stage(2)) };
    let error = app::deals::update_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-16T10:00:00Z")), gated.deal.id, &by_rep).unwrap_err();
    assert!(matches!(error, StoreError::Refused(_)), "{error}");
    drop(tx);
    // Without a reason the manager is refused too, with the list.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let as_manager = gated.as_user(gated.org.manager.id, "2026-11-17T10:00:00Z");
    let error = app::deals::update_opportunity(&mut tx, &as_manager, gated.deal.id, &move_to(gated.stage(2))).unwrap_err();
    assert_eq!(refusal(error).missing.len(), 1);
    // With a reason the manager's override goes through.
    let moved = app::deals::update_opportunity(&mut tx, &as_manager, gated.deal.id, &by_rep).unwrap();
    tx.commit().unwrap();
    assert_eq!(moved.stage_id, gated.stage(2));

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let overrides = tx.gate_overrides(org, gated.deal.id).unwrap();
    assert_eq!(overrides.len(), 1);
    let record = &overrides[0].gate_override;
    assert_eq!((record.by, record.at, record.reason.as_str()), (Some(gated.org.manager.id), at("2026-11-17T10:00:00Z"), reason));
    assert_eq!((record.from_stage_id, record.to_stage_id), (gated.stage(1), gated.stage(2)));
    assert_eq!(record.unmet.len(), 2);
    // History: the stage change and the marker, in one write; replay still equals the row.
    let events = tx.history(org, gated.deal.id).unwrap();
    let last: Vec<(OppField, Option<&str>)> = events[10..].iter().map(|event| (event.field, event.new.as_deref())).collect();
    assert_eq!(last.first().map(|(field, _)| *field), Some(OppField::Stage));
    assert_eq!(last.last(), Some(&(OppField::GateOverride, Some(reason))));
    assert_eq!(history::replay(&events).unwrap(), tx.opportunity(org, gated.deal.id, false).unwrap());
    // The audit log has it.
    let filter = AuditFilter { record_id: Some(gated.deal.id.0), limit: 50, ..AuditFilter::default() };
    let audit = tx.audit_events(org, &filter).unwrap();
    let entry = audit.iter().find(|entry| entry.action == "gate_override").expect("an audited override");
    assert_eq!(entry.actor_id, Some(gated.org.manager.id));
    assert!(entry.after.as_deref().unwrap().contains(reason));
    // Passing gate 1 made the deal a sales-qualified lead, at the move's time.
    assert_eq!(tx.opportunity_marks(org, gated.deal.id).unwrap().sql_at, Some(at("2026-11-17T10:00:00Z")));
    drop(tx);

    // Moving back is always allowed, and the SQL time stays.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let back =
        app::deals::update_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-18T10:00:00Z")), gated.deal.id, &move_to(gated.stage(1)))
            .unwrap();
    assert_eq!(back.stage_id, gated.stage(1));
    assert_eq!(tx.opportunity_marks(org, gated.deal.id).unwrap().sql_at, Some(at("2026-11-17T10:00:00Z")));
    // Ops may override too; a manager of another line may not.
    let other = app::users::create_user(&mut tx, &gated.org.ctx, new_user("boss@override.test", "Otto Boss", Role::Manager, None)).unwrap();
    let by_other = gated.as_user(other.id, "2026-11-19T10:00:00Z");
    let error = app::deals::update_opportunity(&mut tx, &by_other, gated.deal.id, &by_rep).unwrap_err();
    assert!(matches!(error, StoreError::NotFound { .. } | StoreError::Refused(_)), "{error}");
    let by_ops = gated.as_user(gated.ops_user, "2026-11-19T10:00:00Z");
    app::deals::update_opportunity(&mut tx, &by_ops, gated.deal.id, &by_rep).unwrap();
    // An empty reason is a validation error on gate_override_reason.
    app::deals::update_opportunity(&mut tx, &by_ops, gated.deal.id, &move_to(gated.stage(1))).unwrap();
    let blank = OpportunityPatch { gate_override_reason: Some("  ".into()), ..move_to(gated.stage(2)) };
    let error = app::deals::update_opportunity(&mut tx, &by_ops, gated.deal.id, &blank).unwrap_err();
    assert_eq!(error.to_string(), format!("opportunity {}: gate_override_reason: is required", gated.deal.id));
}

pub fn checks_append_and_the_latest_counts(db: &TestDb) {
    let gated = gated(db, "Checks");
    let org = gated.org.org();
    let criteria =
        app::gates::exit_criteria_for(&mut app::Tx::new(db.store().read().unwrap()), org, &Access::System, gated.b2b.id).unwrap();
    let requirements = criteria.iter().find(|criterion| criterion.label_en == "Detailed requirements confirmed").unwrap().clone();
    let bant = criteria.iter().find(|criterion| criterion.label_en.starts_with("BANT")).unwrap().clone();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let by_rep = |when: &str| gated.org.by_rep(at(when));
    // Derived criteria are not ticked by hand; a tick needs evidence.
    let error = app::gates::check_criterion(&mut tx, &by_rep("2026-11-03T09:00:00Z"), gated.deal.id, bant.id, "trust me").unwrap_err();
    assert!(worded(&error).contains("derived from data, not ticked by a person"), "{error}");
    let error = app::gates::check_criterion(&mut tx, &by_rep("2026-11-03T09:00:00Z"), gated.deal.id, requirements.id, " ").unwrap_err();
    assert!(error.to_string().ends_with("evidence: is required"), "{error}");
    // Tick, untick, tick again: three rows, the latest counts.
    app::gates::check_criterion(&mut tx, &by_rep("2026-11-03T09:00:00Z"), gated.deal.id, requirements.id, "RFP v1 reviewed").unwrap();
    app::gates::uncheck_criterion(&mut tx, &by_rep("2026-11-04T09:00:00Z"), gated.deal.id, requirements.id).unwrap();
    let error = app::gates::uncheck_criterion(&mut tx, &by_rep("2026-11-04T09:30:00Z"), gated.deal.id, requirements.id).unwrap_err();
    assert!(worded(&error).contains("is not checked"), "{error}");
    let access = app::access::access_for(&mut tx, org, Some(gated.org.rep.id)).unwrap();
    let status = app::gates::gate_status_for(&mut tx, org, &access, gated.deal.id, "2026-11-04".parse().unwrap()).unwrap().unwrap();
    let state = |status: &app::gates::DealGates| {
        status.stages.iter().flat_map(|gate| &gate.criteria).find(|(criterion, _)| criterion.id == requirements.id).unwrap().1.clone()
    };
    assert!(!state(&status).met);
    app::gates::check_criterion(&mut tx, &by_rep("2026-11-05T09:00:00Z"), gated.deal.id, requirements.id, "RFP v2 signed off by IT")
        .unwrap();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let log = tx.criterion_checks(org, gated.deal.id).unwrap();
    assert_eq!(log.iter().map(|entry| entry.checked).collect::<Vec<_>>(), [true, false, true]);
    let status = app::gates::gate_status_for(&mut tx, org, &access, gated.deal.id, "2026-11-05".parse().unwrap()).unwrap().unwrap();
    let ticked = state(&status);
    assert!(ticked.met);
    assert_eq!(ticked.check.map(|check| (check.checked_by, check.evidence)), Some((gated.org.rep.id, "RFP v2 signed off by IT".into())));
    assert_eq!(status.next_stage_id, Some(gated.stage(2)));
    let next = status.next_move.unwrap();
    assert_eq!(next.missing[0].unmet.len(), 2, "stage 1's two criteria");
    // The log and the overrides table refuse changes in the database itself.
    for sql in [
        "UPDATE criterion_check SET evidence = 'tampered'",
        "DELETE FROM criterion_check",
        "UPDATE gate_override SET reason = 'tampered'",
        "DELETE FROM gate_override",
        "UPDATE workspace_history SET new_json = '{}'",
        "DELETE FROM workspace_history",
    ] {
        match db.execute_raw(sql) {
            // An empty table has nothing to refuse; the checks table is not empty.
            Ok(()) => assert!(!sql.contains("criterion_check"), "{sql} went through"),
            Err(error) => assert!(error.contains("append-only"), "{sql}: {error}"),
        }
    }
    assert_eq!(tx.criterion_checks(org, gated.deal.id).unwrap().len(), 3);
}

pub fn meeting_the_gates_lets_the_deal_through(db: &TestDb) {
    let gated = gated(db, "Through");
    let org = gated.org.org();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let by_rep = |when: &str| gated.org.by_rep(at(when));
    let story = FourBox {
        business_issue: "Double revenue in three years without more warehouses".into(),
        solution: "Route optimisation across the fleet".into(),
        ..FourBox::default()
    };
    app::workspace::update_workspace(&mut tx, &by_rep("2026-11-03T09:00:00Z"), gated.deal.id, WorkspacePart::FourBox(story)).unwrap();
    // The decision window: the team's own average cycle, else its won deals', else 90 days.
    let error =
        app::deals::update_opportunity(&mut tx, &by_rep("2026-11-04T09:00:00Z"), gated.deal.id, &move_to(gated.stage(2))).unwrap_err();
    let check = refusal(error);
    assert_eq!(check.unmet().map(|unmet| &unmet.reason).collect::<Vec<_>>().len(), 1);
    let team = app::users::create_team(&mut tx, &gated.org.ctx, pipewise_core::records::NewTeam { name: "Field".into(), manager_id: None })
        .unwrap();
    let patch = pipewise_core::records::UserPatch { team_id: Some(Some(team.id)), ..Default::default() };
    app::users::update_user(&mut tx, &gated.org.ctx, gated.org.rep.id, &patch).unwrap();
    let rep_ctx = by_rep("2026-11-04T09:00:00Z");
    assert!(matches!(app::gates::set_team_cycle_days(&mut tx, &rep_ctx, team.id, Some(365)), Err(StoreError::Forbidden(_))));
    app::gates::set_team_cycle_days(&mut tx, &gated.as_user(gated.ops_user, "2026-11-04T09:00:00Z"), team.id, Some(365)).unwrap();
    assert_eq!(app::gates::team_cycle_days(&mut tx, org, gated.org.rep.id).unwrap(), Some(365));
    let moved = app::deals::update_opportunity(&mut tx, &by_rep("2026-11-04T10:00:00Z"), gated.deal.id, &move_to(gated.stage(2))).unwrap();
    assert_eq!(moved.stage_id, gated.stage(2));
    assert_eq!(tx.opportunity_marks(org, gated.deal.id).unwrap().sql_at, Some(at("2026-11-04T10:00:00Z")));
    assert!(tx.gate_overrides(org, gated.deal.id).unwrap().is_empty());
    // Without the override the computed average of won deals counts: 30 and 61 days → 45.5 → 46.
    app::gates::set_team_cycle_days(&mut tx, &gated.as_user(gated.ops_user, "2026-11-04T11:00:00Z"), team.id, None).unwrap();
    for (name, created, won) in
        [("A", "2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z"), ("B", "2026-02-01T00:00:00Z", "2026-04-03T00:00:00Z")]
    {
        let deal = app::deals::create_opportunity(&mut tx, &by_rep(created), &gated.org.new_deal(name)).unwrap();
        let won_stage = gated.org.simple.stages[4].id;
        app::deals::update_opportunity(&mut tx, &by_rep(won), deal.id, &move_to(won_stage)).unwrap();
    }
    assert_eq!(app::gates::team_cycle_days(&mut tx, org, gated.org.rep.id).unwrap(), Some(46));
}

pub fn a_stage_1_drop_is_not_a_loss(db: &TestDb) {
    let gated = gated(db, "Drop");
    let org = gated.org.org();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let drop = OpportunityPatch { close_reason: Some(Some("No budget this quarter".into())), ..move_to(gated.lost()) };
    let lost = app::deals::update_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-05T09:00:00Z")), gated.deal.id, &drop).unwrap();
    assert_eq!(lost.status, Status::Lost, "it keeps the lost stage and status");
    let marks = tx.opportunity_marks(org, gated.deal.id).unwrap();
    assert_eq!((marks.dropped_at, marks.drop_reason.as_deref()), (Some(at("2026-11-05T09:00:00Z")), Some("no_budget_this_quarter")));
    // The loss review grows stage 1's checklist; a rep may not, the owner's manager may.
    let access = app::access::access_for(&mut tx, org, Some(gated.org.manager.id)).unwrap();
    assert_eq!(app::gates::lost_from_stage_for(&mut tx, org, &access, gated.deal.id).unwrap(), Some(gated.stage(1)));
    let lesson = ("Budget holder confirmed for this quarter", "이번 분기 예산 담당자 확인");
    let by_rep = gated.org.by_rep(at("2026-11-05T10:00:00Z"));
    let error = app::gates::criterion_from_loss(&mut tx, &by_rep, gated.deal.id, gated.stage(1), lesson.0, lesson.1).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let by_manager = gated.as_user(gated.org.manager.id, "2026-11-05T10:00:00Z");
    let criterion = app::gates::criterion_from_loss(&mut tx, &by_manager, gated.deal.id, gated.stage(1), lesson.0, lesson.1).unwrap();
    assert_eq!(criterion.origin, CriterionOrigin::LossReview { opportunity_id: Some(gated.deal.id) });
    assert_eq!(criterion.kind, CriterionKind::Checklist);
    assert!(app::gates::exit_criteria_for(&mut tx, org, &Access::System, gated.b2b.id).unwrap().contains(&criterion));
    // Reopening clears the drop; a loss from stage 2 is a real loss.
    app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &move_to(gated.stage(1))).unwrap();
    assert_eq!(tx.opportunity_marks(org, gated.deal.id).unwrap().dropped_at, None);
    let to_stage_2 = OpportunityPatch { gate_override_reason: Some("Met the CFO".into()), ..move_to(gated.stage(2)) };
    app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &to_stage_2).unwrap();
    let lose = OpportunityPatch { close_reason: Some(Some("Lost on price".into())), ..move_to(gated.lost()) };
    app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &lose).unwrap();
    assert_eq!(tx.opportunity_marks(org, gated.deal.id).unwrap().dropped_at, None);
    // Winning a lost deal outright checks every gate from the stage it was lost from.
    let error = app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &move_to(gated.won())).unwrap_err();
    assert_eq!(refusal(error).gates_checked, [gated.stage(2), gated.stage(3), gated.stage(4), gated.stage(5)]);
}

/// Losing a deal is no way round a gate: reopened, it resumes where it was lost (the entry stage
/// when it was created lost) and every gate beyond is checked, through the same path as any move.
pub fn a_lost_deal_resumes_where_it_was_lost(db: &TestDb) {
    let gated = gated(db, "Resume");
    let org = gated.org.org();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let by_ops = gated.as_user(gated.ops_user, "2026-11-03T09:00:00Z");
    let to_stage_2 = OpportunityPatch { gate_override_reason: Some("Qualified at the trade fair".into()), ..move_to(gated.stage(2)) };
    app::deals::update_opportunity(&mut tx, &by_ops, gated.deal.id, &to_stage_2).unwrap();
    let by_rep = gated.org.by_rep(at("2026-11-04T09:00:00Z"));
    let lose = OpportunityPatch { close_reason: Some(Some("Lost on price".into())), ..move_to(gated.lost()) };
    app::deals::update_opportunity(&mut tx, &by_rep, gated.deal.id, &lose).unwrap();
    tx.commit().unwrap();

    // The rep's way round gates 2 to 4: lose the deal, then PATCH it to stage 5. Refused, with
    // every gate from stage 2 on, and nothing written.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let events_before = tx.history(org, gated.deal.id).unwrap().len();
    let error = app::deals::update_opportunity(&mut tx, &by_rep, gated.deal.id, &move_to(gated.stage(5))).unwrap_err();
    let check = refusal(error);
    assert_eq!(check.kind, MoveKind::Reopen);
    assert_eq!(check.gates_checked, [gated.stage(2), gated.stage(3), gated.stage(4)]);
    assert_eq!(tx.history(org, gated.deal.id).unwrap().len(), events_before);
    assert_eq!(tx.opportunity(org, gated.deal.id, false).unwrap().unwrap().status, Status::Lost);
    // Winning it outright checks the same gates and stage 5's.
    let error = app::deals::update_opportunity(&mut tx, &by_rep, gated.deal.id, &move_to(gated.won())).unwrap_err();
    assert_eq!(refusal(error).gates_checked, [gated.stage(2), gated.stage(3), gated.stage(4), gated.stage(5)]);
    // Back to where it was lost needs no check.
    let reopened = app::deals::update_opportunity(&mut tx, &by_rep, gated.deal.id, &move_to(gated.stage(2))).unwrap();
    assert_eq!((reopened.stage_id, reopened.status), (gated.stage(2), Status::Open));
    // The manager's override of a reopening is recorded like any other.
    app::deals::update_opportunity(&mut tx, &by_rep, gated.deal.id, &lose).unwrap();
    let as_manager = gated.as_user(gated.org.manager.id, "2026-11-05T09:00:00Z");
    let past = OpportunityPatch { gate_override_reason: Some("Customer came back with budget".into()), ..move_to(gated.stage(3)) };
    app::deals::update_opportunity(&mut tx, &as_manager, gated.deal.id, &past).unwrap();
    let overrides = tx.gate_overrides(org, gated.deal.id).unwrap();
    let last = &overrides.last().unwrap().gate_override;
    assert_eq!((last.from_stage_id, last.to_stage_id, last.by), (gated.lost(), gated.stage(3), Some(gated.org.manager.id)));

    // A deal created lost resumes at the entry stage: stage 2 already needs gate 1.
    let mut new = gated.org.new_deal("Created lost");
    new.pipeline_id = gated.b2b.id;
    new.stage_id = Some(gated.lost());
    new.close_reason = Some("Chose a competitor".into());
    let created = app::deals::create_opportunity(&mut tx, &by_rep, &new).unwrap();
    let error = app::deals::update_opportunity(&mut tx, &by_rep, created.id, &move_to(gated.stage(2))).unwrap_err();
    assert_eq!(refusal(error).gates_checked, [gated.stage(1)]);
    let error = app::deals::update_opportunity(&mut tx, &by_rep, created.id, &move_to(gated.stage(5))).unwrap_err();
    assert_eq!(refusal(error).gates_checked.len(), 4);
    let reopened = app::deals::update_opportunity(&mut tx, &by_rep, created.id, &move_to(gated.stage(1))).unwrap();
    assert_eq!(reopened.status, Status::Open);
}

pub fn the_workspace_is_tracked_and_replayed_as_of(db: &TestDb) {
    let gated = gated(db, "Workspace");
    let org = gated.org.org();
    let by_rep = |when: &str| gated.org.by_rep(at(when));
    let budget = |status: BantStatus, note: &str| Bant { budget: BantEntry { status, note: note.into() }, ..Bant::default() };
    let mut tx = app::Tx::new(db.store().write().unwrap());
    app::workspace::update_workspace(
        &mut tx,
        &by_rep("2026-11-03T09:00:00Z"),
        gated.deal.id,
        WorkspacePart::Bant(budget(BantStatus::Partial, " KRW 50M ")),
    )
    .unwrap();
    let after = app::workspace::update_workspace(
        &mut tx,
        &by_rep("2026-11-10T09:00:00Z"),
        gated.deal.id,
        WorkspacePart::Bant(budget(BantStatus::Confirmed, "KRW 80M")),
    )
    .unwrap();
    // Unchanged edits write nothing; bad edits write nothing and name the field.
    app::workspace::update_workspace(&mut tx, &by_rep("2026-11-11T09:00:00Z"), gated.deal.id, WorkspacePart::Bant(after.bant.clone()))
        .unwrap();
    let stranger = pipewise_core::workspace::Stakeholder {
        contact_id: ContactId(999_999),
        name: "Nobody".into(),
        buying_role: pipewise_core::workspace::BuyingRole::Champion,
        level: pipewise_core::workspace::Level::Executive,
        rank: 9,
        influence: 4,
        influence_evidence: String::new(),
    };
    let error = app::workspace::update_workspace(
        &mut tx,
        &by_rep("2026-11-11T09:00:00Z"),
        gated.deal.id,
        WorkspacePart::Stakeholders(vec![stranger]),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), format!("opportunity {}: stakeholders.rank: 9 is out of range (1 to 5)", gated.deal.id));
    // A viewer may read but not edit.
    let viewer =
        app::users::create_user(&mut tx, &gated.org.ctx, new_user("viewer@workspace.test", "Vic View", Role::Viewer, None)).unwrap();
    let error = app::workspace::update_workspace(
        &mut tx,
        &gated.as_user(viewer.id, "2026-11-11T09:00:00Z"),
        gated.deal.id,
        WorkspacePart::Bant(Bant::default()),
    )
    .unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let access = app::access::access_for(&mut tx, org, Some(gated.org.manager.id)).unwrap();
    let history = app::workspace::workspace_history_for(&mut tx, org, &access, gated.deal.id).unwrap().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].part.as_str(), history[0].old_json.is_none()), ("bant", true));
    assert!(history[1].old_json.as_deref().unwrap().contains("KRW 50M"));
    let as_of = |t: &str, tx: &mut app::Tx| app::workspace::workspace_as_of_for(tx, org, &access, gated.deal.id, at(t)).unwrap().unwrap();
    assert_eq!(as_of("2026-11-01T00:00:00Z", &mut tx), Default::default());
    assert_eq!(as_of("2026-11-05T00:00:00Z", &mut tx).bant, budget(BantStatus::Partial, "KRW 50M"), "trimmed when stored");
    assert_eq!(as_of("2026-11-30T00:00:00Z", &mut tx), after);
    assert_eq!(app::workspace::workspace_for(&mut tx, org, &access, gated.deal.id).unwrap(), Some(after));
    // Someone who may not see the deal sees no workspace at all.
    let outsider =
        pipewise_core::access::Access::User(pipewise_core::access::Actor { user_id: UserId(0), role: Role::Rep, tree: [UserId(0)].into() });
    assert_eq!(app::workspace::workspace_for(&mut tx, org, &outsider, gated.deal.id).unwrap(), None);
    let flags = app::workspace::workspace_flags_for(&mut tx, org, &access, gated.deal.id, "2026-11-30".parse().unwrap()).unwrap().unwrap();
    assert!(flags.iter().all(|flag| !flag.code.is_empty()));
}

pub fn the_designer_archives_and_reorders_without_losing_deals(db: &TestDb) {
    let gated = gated(db, "Designer");
    let org = gated.org.org();
    let as_ops = gated.as_user(gated.ops_user, "2026-11-20T09:00:00Z");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    // Only ops and admins design.
    let rename = PipelinePatch { name: Some("B2B 2027".into()), entry_stage_id: None };
    let error = app::designer::update_pipeline(&mut tx, &gated.org.by_rep(at("2026-11-20T09:00:00Z")), gated.b2b.id, &rename).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    assert_eq!(app::designer::update_pipeline(&mut tx, &as_ops, gated.b2b.id, &rename).unwrap().name, "B2B 2027");
    // A new open stage goes after the last open stage by default.
    let new = NewStage {
        name_en: "4b Legal review".into(),
        name_ko: "4b 법무 검토".into(),
        kind: StageKind::Open,
        win_probability: 75.into(),
        forecast_category: ForecastCategory::Commit,
        counts_in_metrics: true,
        rotting_days: Some(14),
    };
    let pipeline = app::designer::add_stage(&mut tx, &as_ops, gated.b2b.id, new.clone(), None).unwrap();
    let names: Vec<&str> = pipeline.stages.iter().map(|stage| stage.name_en.as_str()).collect();
    assert_eq!(names[5..], ["4b Legal review", "Closed won", "Closed lost"]);
    let legal = pipeline.stages[5].id;
    // Open stages go before closed ones.
    let error = app::designer::add_stage(&mut tx, &as_ops, gated.b2b.id, new, Some(7)).unwrap_err();
    assert!(worded(&error).contains("open stages go first"), "{error}");
    let mut order: Vec<StageId> = pipeline.stages.iter().map(|stage| stage.id).collect();
    order.swap(4, 5);
    let pipeline = app::designer::reorder_stages(&mut tx, &as_ops, gated.b2b.id, &order).unwrap();
    assert_eq!(pipeline.stages[4].id, legal);
    assert_eq!(pipeline.stages.iter().map(|stage| stage.position).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6, 7]);
    let patch = StagePatch { name_ko: Some("4b 법무·구매 검토".into()), rotting_days: Some(None), ..Default::default() };
    let edited = app::designer::update_stage(&mut tx, &as_ops, legal, &patch).unwrap();
    assert_eq!((edited.name_ko.as_str(), edited.rotting_days), ("4b 법무·구매 검토", None));
    // Archive a stage that holds a deal: the deal stays; no deal may enter it.
    let by_manager = gated.as_user(gated.org.manager.id, "2026-11-20T10:00:00Z");
    let into_stage_2 = OpportunityPatch { gate_override_reason: Some("Qualified on the call".into()), ..move_to(gated.stage(2)) };
    app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &into_stage_2).unwrap();
    let error = app::designer::archive_stage(&mut tx, &as_ops, gated.stage(1)).unwrap_err();
    assert!(worded(&error).contains("is the entry stage"), "{error}");
    let archived = app::designer::archive_stage(&mut tx, &as_ops, gated.stage(2)).unwrap();
    assert_eq!(archived.archived_at, Some(at("2026-11-20T09:00:00Z")));
    let deal = tx.opportunity(org, gated.deal.id, false).unwrap().unwrap();
    assert_eq!(deal.stage_id, gated.stage(2), "the deal keeps its stage");
    let back = app::deals::update_opportunity(&mut tx, &by_manager, gated.deal.id, &move_to(gated.stage(1))).unwrap();
    let error = app::deals::update_opportunity(&mut tx, &by_manager, back.id, &into_stage_2).unwrap_err();
    assert!(worded(&error).contains("is archived"), "{error}");
    let mut new = gated.org.new_deal("Into the archive");
    new.pipeline_id = gated.b2b.id;
    new.stage_id = Some(gated.stage(2));
    assert!(worded(&app::deals::create_opportunity(&mut tx, &by_manager, &new).unwrap_err()).contains("is archived"));
    // Its gate is skipped on the way past it: 1 → 3 checks stage 1 only.
    let error = app::deals::update_opportunity(&mut tx, &by_manager, back.id, &move_to(gated.stage(3))).unwrap_err();
    assert_eq!(refusal(error).gates_checked, [gated.stage(1)]);
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let stored = tx.pipeline(org, gated.b2b.id).unwrap().unwrap();
    assert!(stored.stage(gated.stage(2)).unwrap().is_archived());
    assert_eq!(stored.stages.len(), 8, "nothing was deleted");
    // A criterion archived leaves its gate.
    drop(tx);
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let criteria = app::gates::exit_criteria_for(&mut tx, org, &Access::System, gated.b2b.id).unwrap();
    let new = NewExitCriterion {
        stage_id: legal,
        label_en: "Legal has the contract".into(),
        label_ko: String::new(),
        kind: CriterionKind::Checklist,
        origin: CriterionOrigin::Ops,
    };
    let added = app::gates::add_exit_criterion(&mut tx, &as_ops, new).unwrap();
    assert_eq!(added.label_ko, "Legal has the contract", "Korean defaults to English");
    app::gates::archive_exit_criterion(&mut tx, &as_ops, criteria[0].id).unwrap();
    let after = app::gates::exit_criteria_for(&mut tx, org, &Access::System, gated.b2b.id).unwrap();
    assert_eq!(after.len(), criteria.len());
    assert!(!after.iter().any(|criterion| criterion.id == criteria[0].id));
    assert_eq!(after.last(), Some(&added));
}

/// Issue 16, point 10: a checklist item grown from a loss names the lost deal only to readers
/// who may see that deal (its owner, their managers, ops, admins, viewers, a user it is shared
/// with); to anyone else it is a loss-review item of no deal, in the pipeline's criteria and on
/// the gates of their own deals alike.
pub fn a_loss_review_names_its_deal_only_to_those_who_may_see_it(db: &TestDb) {
    let gated = gated(db, "Lessons");
    let org = gated.org.org();
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let boss = app::users::create_user(&mut tx, &gated.org.ctx, new_user("boss@lessons.test", "Other Boss", Role::Manager, None)).unwrap();
    let outsider =
        app::users::create_user(&mut tx, &gated.org.ctx, new_user("out@lessons.test", "Oli Out", Role::Rep, Some(boss.id))).unwrap().id;
    let lose = OpportunityPatch { close_reason: Some(Some("Went with a competitor".into())), ..move_to(gated.lost()) };
    app::deals::update_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-05T09:00:00Z")), gated.deal.id, &lose).unwrap();
    let by_manager = gated.as_user(gated.org.manager.id, "2026-11-05T10:00:00Z");
    let lesson = app::gates::criterion_from_loss(&mut tx, &by_manager, gated.deal.id, gated.stage(1), "Champion confirmed", "").unwrap();
    let mut theirs = gated.org.new_deal("Outsider's deal");
    theirs.owner_id = outsider;
    theirs.pipeline_id = gated.b2b.id;
    let theirs = app::deals::create_opportunity(&mut tx, &gated.as_user(outsider, "2026-11-06T09:00:00Z"), &theirs).unwrap().id;
    tx.commit().unwrap();

    // The origin of the lesson as `user` reads it: on the gates of `deal`, or (`None`) among
    // the pipeline's criteria.
    let origin = |user: UserId, deal: Option<OpportunityId>| {
        let mut tx = app::Tx::new(db.store().read().unwrap());
        let access = app::access::access_for(&mut tx, org, Some(user)).unwrap();
        let criteria: Vec<ExitCriterion> = match deal {
            Some(deal) => {
                let today: Date = "2026-11-06".parse().unwrap();
                let gates = app::gates::gate_status_for(&mut tx, org, &access, deal, today).unwrap().expect("a visible deal");
                gates.stages.into_iter().flat_map(|gate| gate.criteria).map(|(criterion, _)| criterion).collect()
            }
            None => app::gates::exit_criteria_for(&mut tx, org, &access, gated.b2b.id).unwrap(),
        };
        let found = criteria.into_iter().find(|criterion| criterion.id == lesson.id).expect("the lesson is on stage 1's gate");
        app::codec::origin_parts(found.origin)
    };
    let (named, unnamed) = (("loss_review", Some(gated.deal.id)), ("loss_review", None));
    let (rep, manager, ops) = (gated.org.rep.id, gated.org.manager.id, gated.ops_user);
    for user in [rep, manager, ops] {
        assert_eq!(origin(user, None), named, "user {user}");
    }
    assert_eq!(origin(rep, Some(gated.deal.id)), named);
    assert_eq!(origin(manager, Some(gated.deal.id)), named);
    assert_eq!(origin(ops, Some(theirs)), named, "ops see every deal");
    for listing in [None, Some(theirs)] {
        assert_eq!(origin(outsider, listing), unnamed, "the outsider may not see the lost deal");
        assert_eq!(origin(boss.id, listing), unnamed, "nor may their manager");
    }
    let system = app::gates::exit_criteria_for(&mut app::Tx::new(db.store().read().unwrap()), org, &Access::System, gated.b2b.id).unwrap();
    assert!(system.contains(&lesson), "the system reads the criterion as stored");
    // Shared with the outsider, the lost deal is one they may see, and the lesson names it.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    app::deals::share_opportunity(&mut tx, &gated.org.by_rep(at("2026-11-06T10:00:00Z")), gated.deal.id, outsider).unwrap();
    tx.commit().unwrap();
    assert_eq!(origin(outsider, None), named);
    assert_eq!(origin(outsider, Some(theirs)), named);
    assert_eq!(origin(boss.id, Some(theirs)), unnamed, "a share is the outsider's alone");
}

/// Overdue close-plan items count among a deal's health flags, as overdue tasks do (SPEC C5,
/// issue 16 point 7): a plan with an item due 10 March and not done, one due 12 March done on
/// 11 March, one due 20 March done on 25 March and one without a date. Before 10 March none is
/// overdue; on 15 March one (10 March's; 20 March's is not due yet); on 22 March two (10 and 20
/// March); on 26 March one again (the 20 March item was done on the 25th). The same counts as of
/// a past day and today.
pub fn overdue_close_plan_items_are_health_flags(db: &TestDb) {
    use pipewise_core::workspace::{ClosePlan, ClosePlanItem, PlanStep, Side};
    let org = test_org(db.store(), "Plans");
    let id = org.org();
    let deal =
        transact(db.store(), |tx| app::deals::create_opportunity(tx, &org.by_rep(at("2026-03-01T09:00:00Z")), &org.new_deal("Planned")))
            .unwrap()
            .id;
    let date = |text: &str| -> Date { text.parse().unwrap() };
    let item = |title: &str, target: Option<&str>, done: Option<&str>| ClosePlanItem {
        side: Side::Customer,
        owner: "Kim".into(),
        title: title.into(),
        target_date: target.map(date),
        done_on: done.map(date),
        step: PlanStep::Task,
    };
    let plan = ClosePlan {
        items: vec![
            item("Security review signed off", Some("2026-03-10"), None),
            item("Budget owner meeting held", Some("2026-03-12"), Some("2026-03-11")),
            item("Legal redlines returned", Some("2026-03-20"), Some("2026-03-25")),
            item("Reference call arranged", None, None),
        ],
        ..ClosePlan::default()
    };
    transact(db.store(), |tx| {
        app::workspace::update_workspace(tx, &org.by_rep(at("2026-03-02T09:00:00Z")), deal, WorkspacePart::ClosePlan(plan))
    })
    .unwrap();
    let zone = Zone::utc();
    let overdue = |day: &str| {
        let day = pipewise_analytics::day(day);
        let mut tx = db.store().read().unwrap();
        let past = app::insights::activity_facts_as_of(tx.as_mut(), id, &zone, day, None).unwrap();
        let today = app::insights::activity_facts(tx.as_mut(), id, &zone, day).unwrap();
        let count = |facts: &std::collections::HashMap<i64, pipewise_analytics::DealActivity>| {
            facts.get(&deal.0).map_or(0, |facts| facts.overdue_tasks)
        };
        assert_eq!(count(&past), count(&today), "as of a past day and today alike");
        count(&past)
    };
    assert_eq!(overdue("2026-03-09"), 0);
    assert_eq!(overdue("2026-03-15"), 1);
    assert_eq!(overdue("2026-03-22"), 2);
    assert_eq!(overdue("2026-03-26"), 1);
}
