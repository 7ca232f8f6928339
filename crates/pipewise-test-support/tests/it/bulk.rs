//! The bulk path (`Tx::bulk_*`): ids in slice order, history sequence numbers from the same
//! counter as single writes (gap-free, following on from and followed by `append_history`),
//! activities with their contact links, and nothing kept when the transaction is dropped.

use pipewise_app as app;
use pipewise_app::{ActivityFilter, HistoryAppend, OpportunityFilter, RecordKind};
use pipewise_core::history::{self, Source};
use pipewise_core::opportunity::{self, Opportunity, OpportunityPatch};
use pipewise_core::records::{ActivityKind, Direction, NewActivity};
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, test_org};

/// `n` deals evolved in memory: created, moved one stage, the odd ones lost; with the history
/// each step recorded.
fn evolved_deals(org: &TestOrg, n: usize) -> Vec<(Opportunity, Vec<(history::Change, Timestamp)>)> {
    let pipeline = &org.simple;
    (0..n)
        .map(|index| {
            let created_at = at("2026-02-01T09:00:00Z").plus_seconds(index as i64 * 3_600);
            let mut new = org.new_deal(&format!("Bulk deal {index}"));
            new.amount = Some(format!("EUR {}.5", 1_000 + index).parse().unwrap());
            let created = opportunity::create(OpportunityId(0), &new, pipeline, created_at).unwrap();
            let mut changes: Vec<_> = history::diff(None, &created).into_iter().map(|change| (change, created_at)).collect();
            let moved_at = created_at.plus_seconds(86_400);
            let patch = OpportunityPatch { stage_id: Some(pipeline.stages[1].id), ..Default::default() };
            let mut deal = opportunity::apply(&created, &patch, pipeline, moved_at).unwrap();
            changes.extend(history::diff(Some(&created), &deal).into_iter().map(|change| (change, moved_at)));
            if index % 2 == 1 {
                let lost_at = moved_at.plus_seconds(86_400);
                let lose = OpportunityPatch {
                    stage_id: Some(pipeline.stages[5].id),
                    close_reason: Some(Some("No budget".into())),
                    ..Default::default()
                };
                let lost = opportunity::apply(&deal, &lose, pipeline, lost_at).unwrap();
                changes.extend(history::diff(Some(&deal), &lost).into_iter().map(|change| (change, lost_at)));
                deal = lost;
            }
            (deal, changes)
        })
        .collect()
}

fn appends(ids: &[OpportunityId], deals: &[(Opportunity, Vec<(history::Change, Timestamp)>)], actor: UserId) -> Vec<HistoryAppend> {
    ids.iter()
        .zip(deals)
        .flat_map(|(id, (_, changes))| {
            changes.iter().map(move |(change, when)| HistoryAppend {
                opportunity_id: *id,
                change: change.clone(),
                at: *when,
                actor_id: Some(actor),
                source: Source::Import,
            })
        })
        .collect()
}

pub fn bulk_deals_and_history_replay_and_follow_the_sequence(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "Bulk");
    // One deal through `ops` first: bulk sequence numbers follow on from it.
    let mut tx = app::Tx::new(store.write().unwrap());
    let single = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-01-15T09:00:00Z")), &org.new_deal("Single")).unwrap();
    tx.commit().unwrap();
    let first_count = store.read().unwrap().count(org.org(), RecordKind::History).unwrap();

    let deals = evolved_deals(&org, 7);
    let mut tx = app::Tx::new(store.write().unwrap());
    let states: Vec<Opportunity> = deals.iter().map(|(deal, _)| deal.clone()).collect();
    let ids = tx.bulk_insert_opportunities(org.org(), &states).unwrap();
    assert_eq!(ids.len(), 7);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids ascend in slice order: {ids:?}");
    assert!(ids[0] > single.id);
    let events = appends(&ids, &deals, org.rep.id);
    let seqs = tx.bulk_append_history(org.org(), &events).unwrap();
    assert_eq!(seqs, first_count + 1..first_count + 1 + events.len() as i64);
    assert_eq!(tx.bulk_append_history(org.org(), &[]).unwrap(), 0..0, "nothing to append takes no numbers");
    tx.commit().unwrap();

    // A single write afterwards continues the same sequence.
    let mut tx = app::Tx::new(store.write().unwrap());
    let patch = OpportunityPatch { next_step: Some(Some("Call back".into())), ..Default::default() };
    app::deals::update_opportunity(&mut tx, &org.by_rep(at("2026-06-01T09:00:00Z")), ids[0], &patch).unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(store.read().unwrap());
    let log = tx.history_since(org.org(), 0, 10_000).unwrap();
    let seqs: Vec<i64> = log.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=log.len() as i64).collect::<Vec<_>>(), "gap-free from 1");
    assert_eq!(log.len() as i64, first_count + events.len() as i64 + 1);
    let stored = tx.opportunities(org.org(), &OpportunityFilter::default()).unwrap();
    for ((id, (state, _)), row) in ids.iter().zip(&deals).zip(stored.iter().skip(1)) {
        let events = tx.history(org.org(), *id).unwrap();
        let replayed = history::replay(&events).unwrap().unwrap();
        assert_eq!(&replayed, row, "replay equals the stored row");
        // The first deal was edited through `ops` afterwards; the others are as loaded.
        let loaded = if *id == ids[0] { &events[..events.len() - 1] } else { &events[..] };
        if *id != ids[0] {
            assert_eq!(row, &Opportunity { id: *id, ..state.clone() }, "the stored row is the state given");
        }
        assert!(loaded.iter().all(|event| event.source == Source::Import && event.actor_id == Some(org.rep.id)));
    }
    assert_eq!(stored.iter().filter(|deal| deal.status == opportunity::Status::Lost).count(), 3);
    assert_eq!(stored[1].amount.unwrap().to_string(), "EUR 1000.50", "amounts stay exact");
    // The book as of a date between the bulk edits is the replay up to it.
    let book = app::deals::book_as_of(&mut tx, org.org(), at("2026-02-02T12:00:00Z")).unwrap();
    assert_eq!(book.len(), 1 + 7);
}

pub fn bulk_activities_keep_their_contacts_and_order(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "BulkActivities");
    let mut tx = app::Tx::new(store.write().unwrap());
    let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(at("2026-03-01T09:00:00Z")), &org.new_deal("Busy")).unwrap();
    let contact = app::records::create_contact(
        &mut tx,
        &org.ctx,
        pipewise_core::records::NewContact {
            name: "Cora Contact".into(),
            emails: vec!["cora@bulkactivities-customer.com".into()],
            phone: None,
            title: None,
            account_id: Some(org.account.id),
        },
    )
    .unwrap();
    tx.commit().unwrap();
    let activity = |index: i64, contacts: Vec<ContactId>| NewActivity {
        kind: if index % 2 == 0 { ActivityKind::Email } else { ActivityKind::Call },
        direction: if index % 3 == 0 { Direction::Inbound } else { Direction::Outbound },
        occurred_at: at("2026-03-02T09:00:00Z").plus_seconds(index * 60),
        subject: format!("Touch {index}"),
        body: (index % 2 == 0).then(|| "Short body".to_owned()),
        source: "import".into(),
        user_id: Some(org.rep.id),
        account_id: Some(org.account.id),
        opportunity_id: Some(deal.id),
        contact_ids: contacts,
    };
    let batch: Vec<(NewActivity, Timestamp)> = (0..5)
        .map(|index| {
            let contacts = match index {
                0 => vec![contact.id, contact.id],
                1 => Vec::new(),
                _ => vec![contact.id],
            };
            (activity(index, contacts), at("2026-03-05T09:00:00Z"))
        })
        .collect();
    let mut tx = app::Tx::new(store.write().unwrap());
    let ids = tx.bulk_insert_activities(org.org(), &batch).unwrap();
    assert!(tx.bulk_insert_activities(org.org(), &[]).unwrap().is_empty());
    tx.commit().unwrap();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    let mut tx = app::Tx::new(store.read().unwrap());
    let stored = tx.activities(org.org(), &ActivityFilter { opportunity_id: Some(deal.id), ..Default::default() }).unwrap();
    assert_eq!(stored.iter().map(|activity| activity.id).collect::<Vec<_>>(), ids);
    for (index, (stored, (new, logged_at))) in stored.iter().zip(&batch).enumerate() {
        assert_eq!((stored.subject.as_str(), stored.kind, stored.direction), (new.subject.as_str(), new.kind, new.direction));
        assert_eq!((stored.occurred_at, stored.logged_at, stored.body.as_deref()), (new.occurred_at, *logged_at, new.body.as_deref()));
        let expected: Vec<ContactId> = if index == 1 { Vec::new() } else { vec![contact.id] };
        assert_eq!(stored.contact_ids, expected, "a contact listed twice is linked once");
    }
}

pub fn a_dropped_bulk_transaction_leaves_nothing_and_takes_no_sequence_numbers(db: &TestDb) {
    let store = db.store();
    let org = test_org(store, "BulkRollback");
    let deals = evolved_deals(&org, 3);
    let states: Vec<Opportunity> = deals.iter().map(|(deal, _)| deal.clone()).collect();
    {
        let mut tx = app::Tx::new(store.write().unwrap());
        let ids = tx.bulk_insert_opportunities(org.org(), &states).unwrap();
        tx.bulk_append_history(org.org(), &appends(&ids, &deals, org.rep.id)).unwrap();
        // Dropped without commit.
    }
    let mut tx = app::Tx::new(store.read().unwrap());
    assert_eq!(tx.count(org.org(), RecordKind::Opportunity).unwrap(), 0);
    assert_eq!(tx.count(org.org(), RecordKind::History).unwrap(), 0);
    drop(tx);
    let mut tx = app::Tx::new(store.write().unwrap());
    let ids = tx.bulk_insert_opportunities(org.org(), &states).unwrap();
    assert_eq!(tx.bulk_append_history(org.org(), &appends(&ids, &deals, org.rep.id)).unwrap().start, 1);
    tx.commit().unwrap();
}
