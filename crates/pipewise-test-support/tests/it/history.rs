//! History: every change is appended in the same transaction, sequence numbers only grow and
//! have no gaps, the database itself refuses to change history, and replay rebuilds any past
//! state exactly.

use pipewise_app as app;
use std::collections::BTreeMap;

use pipewise_app::{RecordKind, WriteCtx};
use pipewise_core::history::{self, Source};
use pipewise_core::opportunity::{OppField, Opportunity, OpportunityPatch, Status};
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, test_org};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn patch_stage(stage: StageId) -> OpportunityPatch {
    OpportunityPatch { stage_id: Some(stage), ..Default::default() }
}

pub fn edits_are_recorded_and_replayed_as_of(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Replay");
    let stages: Vec<StageId> = org.simple.stages.iter().map(|stage| stage.id).collect();
    let mut tx = app::Tx::new(store.write().unwrap());
    let created = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-11-09T09:00:00Z")), &org.new_deal("Acme renewal")).unwrap();
    tx.commit().unwrap();

    // A week later the rep moves it forward and raises the amount, then pushes the close date.
    let mut tx = app::Tx::new(store.write().unwrap());
    let moved = OpportunityPatch { stage_id: Some(stages[2]), amount: Some(Some("USD 15000".parse().unwrap())), ..Default::default() };
    let moved = app::deals::update_opportunity(&mut tx, &org.by_rep(at("2026-11-16T10:00:00Z")), created.id, &moved).unwrap();
    let pushed = OpportunityPatch { close_date: Some(Some("2027-01-31".parse().unwrap())), ..Default::default() };
    let current = app::deals::update_opportunity(&mut tx, &org.by_rep(at("2026-11-20T10:00:00Z")), created.id, &pushed).unwrap();
    // An edit that changes nothing records nothing.
    app::deals::update_opportunity(&mut tx, &org.by_rep(at("2026-11-21T10:00:00Z")), created.id, &pushed).unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(store.read().unwrap());
    let events = tx.history(org.org(), created.id).unwrap();
    let fields: Vec<&str> = events.iter().skip(10).map(|event| event.field.as_str()).collect();
    assert_eq!(fields, ["stage_id", "amount", "forecast_category", "close_date"]);
    let amount_change = &events[11];
    assert_eq!((amount_change.old.as_deref(), amount_change.new.as_deref()), (Some("USD 12000.00"), Some("USD 15000.00")));
    assert_eq!((amount_change.actor_id, amount_change.source), (Some(org.rep.id), Source::System));
    assert_eq!(tx.opportunity(org.org(), created.id, false).unwrap(), Some(current.clone()));
    assert_eq!(history::replay(&events).unwrap(), Some(current.clone()));
    assert_eq!(app::deals::opportunity_as_of(&mut tx, org.org(), created.id, at("2026-11-15T00:00:00Z")).unwrap(), Some(created.clone()));
    assert_eq!(app::deals::opportunity_as_of(&mut tx, org.org(), created.id, at("2026-11-16T10:00:00Z")).unwrap(), Some(moved));
    assert_eq!(app::deals::opportunity_as_of(&mut tx, org.org(), created.id, at("2026-11-08T00:00:00Z")).unwrap(), None);
    assert_eq!(app::deals::book_as_of(&mut tx, org.org(), at("2026-11-30T00:00:00Z")).unwrap(), [current]);
}

pub fn history_is_append_only_in_the_database(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Immutable");
    let mut tx = app::Tx::new(store.write().unwrap());
    app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal("Locked")).unwrap();
    tx.commit().unwrap();
    let update = db.execute_raw("UPDATE opportunity_history SET new_value = 'tampered'").unwrap_err();
    assert!(update.contains("append-only"), "{update}");
    let delete = db.execute_raw("DELETE FROM opportunity_history").unwrap_err();
    assert!(delete.contains("append-only"), "{delete}");
    let mut tx = app::Tx::new(store.read().unwrap());
    assert_eq!(tx.count(org.org(), RecordKind::History).unwrap(), 10);
}

pub fn readers_follow_the_log_by_sequence(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Follow");
    let mut tx = app::Tx::new(store.write().unwrap());
    let deal = app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal("Followed")).unwrap();
    tx.commit().unwrap();
    // A reader catches up in pages of 4.
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store.read().unwrap().history_since(org.org(), cursor, 4).unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        seen.extend(page);
    }
    assert_eq!(seen.iter().map(|event| event.seq).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    // New writes appear after the cursor, and only they.
    let mut tx = app::Tx::new(store.write().unwrap());
    app::deals::update_opportunity(&mut tx, &org.ctx, deal.id, &patch_stage(org.simple.stages[1].id)).unwrap();
    tx.commit().unwrap();
    let next = store.read().unwrap().history_since(org.org(), cursor, 100).unwrap();
    assert_eq!(next.iter().map(|event| (event.seq, event.field)).collect::<Vec<_>>(), [(11, OppField::Stage)]);
}

pub fn concurrent_writers_get_gapless_sequences(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Concurrent");
    let mut tx = app::Tx::new(store.write().unwrap());
    let deals: Vec<Opportunity> =
        (0..2).map(|i| app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal(&format!("Deal {i}"))).unwrap()).collect();
    tx.commit().unwrap();
    let writers = 4;
    let edits = 15;
    std::thread::scope(|scope| {
        for writer in 0..writers {
            let (org, deals) = (&org, &deals);
            scope.spawn(move || {
                for edit in 0..edits {
                    let deal = &deals[(writer + edit) % deals.len()];
                    let name = format!("Deal renamed by {writer} #{edit}");
                    let patch = OpportunityPatch { name: Some(name), ..Default::default() };
                    let ctx = WriteCtx { at: org.ctx.at.plus_seconds((edit * writers + writer) as i64), ..org.ctx };
                    let mut tx = app::Tx::new(store.write().unwrap());
                    app::deals::update_opportunity(&mut tx, &ctx, deal.id, &patch).unwrap();
                    tx.commit().unwrap();
                }
            });
        }
    });
    let mut tx = app::Tx::new(store.read().unwrap());
    let log = tx.history_since(org.org(), 0, 10_000).unwrap();
    let creations = 2 * 10;
    assert_eq!(log.len(), creations + writers * edits);
    assert!(log.iter().enumerate().all(|(index, event)| event.seq == index as i64 + 1), "sequence numbers have no gaps");
    for deal in &deals {
        let events: Vec<_> = log.iter().filter(|event| event.opportunity_id == deal.id).cloned().collect();
        assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at), "a deal's history never goes back in time");
        assert_eq!(history::replay(&events).unwrap(), tx.opportunity(org.org(), deal.id, false).unwrap());
    }
}

/// One random edit: target stage (index), amount in cents, a rename, a close date shift in
/// days, and the seconds since the previous edit (0: the same instant; negative: a writer whose
/// clock is behind).
type Edit = (Option<usize>, Option<Option<u32>>, Option<String>, Option<i64>, i64);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = (
        proptest::option::of(0usize..6),
        proptest::option::of(proptest::option::of(0u32..100_000_000)),
        proptest::option::of("[A-Za-z가-힣 ]{1,16}"),
        proptest::option::of(-40i64..40),
        prop_oneof![3 => 0i64..1, 6 => 1i64..86_400, 1 => -5i64..0],
    );
    proptest::collection::vec(edit, 0..12)
}

fn apply_edits(db: &TestDb, org: &TestOrg, start: Timestamp, edits: &[Edit]) -> (OpportunityId, Vec<(Timestamp, Opportunity)>) {
    let store = db.store();
    let mut tx = app::Tx::new(store.write().unwrap());
    let mut current = app::deals::create_opportunity(&mut tx, &org.by_rep(start), &org.new_deal("Random walk")).unwrap();
    tx.commit().unwrap();
    let mut observed = vec![(start, current.clone())];
    let mut now = start;
    let mut last_change = start;
    for (stage, cents, name, shift, gap) in edits {
        now = now.plus_seconds(*gap);
        let stage_id = stage.map(|index| org.simple.stages[index].id);
        let patch = OpportunityPatch {
            stage_id,
            close_reason: stage_id
                .filter(|id| org.simple.stage(*id).is_some_and(|s| s.kind == pipeline::StageKind::Lost))
                .map(|_| Some("No budget".into())),
            amount: cents.map(|cents| cents.map(|cents| Money::new(money::Decimal::new(i64::from(cents), 2), Currency::USD).unwrap())),
            name: name.clone().filter(|name| !name.trim().is_empty()),
            close_date: shift.map(|days| current.close_date.map(|date| date.checked_add(jiff::Span::new().days(days)).unwrap())),
            ..Default::default()
        };
        let mut tx = app::Tx::new(store.write().unwrap());
        let Ok(next) = app::deals::update_opportunity(&mut tx, &org.by_rep(now), current.id, &patch) else { continue };
        tx.commit().unwrap();
        if next != current {
            last_change = last_change.max(now);
        }
        current = next;
        observed.retain(|(when, _)| *when != last_change);
        observed.push((last_change, current.clone()));
    }
    (current.id, observed)
}

pub fn replay_matches_current_state_for_random_edits(db: &TestDb) {
    let org = test_org(db.store(), "Property");
    let all_observed: std::cell::RefCell<BTreeMap<OpportunityId, Vec<(Timestamp, Opportunity)>>> = Default::default();
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    let case = std::cell::Cell::new(0i64);
    runner
        .run(&edits(), |edits| {
            case.set(case.get() + 1);
            let start = at("2026-03-01T00:00:00Z").plus_seconds(case.get() * 7 * 86_400);
            let (id, observed) = apply_edits(db, &org, start, &edits);
            let mut tx = app::Tx::new(db.store().read().unwrap());
            let current = tx.opportunity(org.org(), id, false).unwrap();
            let events = tx.history(org.org(), id).unwrap();
            prop_assert_eq!(&history::replay(&events).unwrap(), &current, "replay of the whole history is the stored row");
            for (when, state) in &observed {
                let replayed = app::deals::opportunity_as_of(&mut tx, org.org(), id, *when).unwrap();
                prop_assert_eq!(replayed.as_ref(), Some(state), "as of {}", when);
            }
            prop_assert!(current.is_some_and(|current| current.status != Status::Lost || current.close_reason.is_some()));
            all_observed.borrow_mut().insert(id, observed);
            Ok(())
        })
        .unwrap();
    // The whole book as of a few instants: every deal as it was then.
    let mut tx = app::Tx::new(db.store().read().unwrap());
    for when in ["2026-03-20T00:00:00Z", "2026-05-01T12:00:00Z", "2026-09-01T00:00:00Z"].map(at) {
        let book = app::deals::book_as_of(&mut tx, org.org(), when).unwrap();
        let expected: Vec<Opportunity> = all_observed
            .borrow()
            .values()
            .filter_map(|observed| observed.iter().rev().find(|(seen, _)| *seen <= when).map(|(_, state)| state.clone()))
            .collect();
        assert_eq!(book, expected, "book as of {when}");
    }
}
