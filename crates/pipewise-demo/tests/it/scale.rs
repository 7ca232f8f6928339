//! The scale data set (`generate_scale`) at a small size, on SQLite and on PostgreSQL: totals
//! within tolerance, every deal's history replays to its stored row, sequence numbers without
//! gaps, one audit entry per chunk with chunks no larger than asked, and the seed alone decides
//! the content.

use pipewise_app as app;
use std::collections::BTreeSet;

use pipewise_app::{AuditFilter, OpportunityFilter, RecordKind};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::user::Role;
use pipewise_core::{OpportunityId, Timestamp, history};
use pipewise_demo::{ScaleConfig, ScalePhase, ScaleSummary, generate_scale};
use pipewise_store::Store;
use pipewise_test_support::TestDb;

fn now() -> Timestamp {
    "2026-11-22T18:00:00Z".parse().unwrap()
}

/// 20 reps, 2,000 deals, 50,000 history events, 40,000 activities, in chunks of 300 deals.
fn small(seed: u64) -> ScaleConfig {
    let mut config = ScaleConfig::new(seed, now(), 20, 2_000, Some(50_000), 40_000);
    config.chunk_deals = 300;
    config.deals_per_transaction = 700;
    config
}

fn generate(db: &pipewise_test_support::TestDb, config: &ScaleConfig) -> (ScaleSummary, Vec<(ScalePhase, u64, u64)>) {
    let mut calls = Vec::new();
    let summary = generate_scale(&db.db(), config, &mut |phase, done, total| calls.push((phase, done, total))).unwrap();
    (summary, calls)
}

fn within(actual: u64, expected: u64, tolerance: f64) -> bool {
    (actual as f64 - expected as f64).abs() <= expected as f64 * tolerance
}

/// Everything two data sets are compared on: every deal, the history log, some activities.
fn fingerprint(store: &dyn Store, summary: &ScaleSummary) -> (Vec<Opportunity>, Vec<String>, Vec<String>) {
    let org = summary.organisation;
    let mut tx = app::Tx::new(store.read().unwrap());
    let deals = tx.opportunities(org, &OpportunityFilter::default()).unwrap();
    let log = tx.history_since(org, 0, u32::MAX).unwrap().iter().map(ToString::to_string).collect();
    let first = deals.first().map_or(0, |deal| deal.id.0);
    let activities = (first..first + 30)
        .flat_map(|id| tx.activities_of_opportunity(org, OpportunityId(id)).unwrap())
        .map(|activity| format!("{:?}", (activity.kind, activity.direction, activity.occurred_at, activity.subject, activity.body)))
        .collect();
    (deals, log, activities)
}

pub fn the_scale_set_has_the_asked_sizes_and_replays_exactly(db: &TestDb) {
    let store = db.store();
    let config = small(5);
    let (summary, calls) = generate(db, &config);
    let counts = &summary.counts;
    // 20 reps in three teams of up to eight: 3 managers, no directors (too few teams), the VP,
    // an admin, an ops person and a viewer.
    assert_eq!((counts.users, counts.teams, counts.pipelines), (27, 3, 2), "{counts:?}");
    assert_eq!((counts.accounts, counts.contacts, counts.opportunities), (1_000, 2_000, 2_000));
    assert!(within(counts.history_events, 50_000, 0.03), "{counts:?} {summary:?}");
    assert!(within(counts.activities, 40_000, 0.03), "{counts:?}");
    assert!(summary.history_note(&config).is_none());
    assert_eq!(counts.open + counts.won + counts.lost + counts.dropped, 2_000);
    let win_rate = counts.won as f64 / (counts.won + counts.lost) as f64;
    assert!((0.2..=0.45).contains(&win_rate), "win rate {win_rate}: {counts:?}");
    assert!(counts.open > 50 && counts.dropped > 100, "{counts:?}");
    assert_eq!(summary.users.iter().map(|(role, _)| *role).collect::<Vec<_>>(), Role::ALL);

    // Progress: every phase in order, from 0 to its total.
    let mut phases: Vec<ScalePhase> = calls.iter().map(|call| call.0).collect();
    phases.dedup();
    assert_eq!(phases, ScalePhase::ALL);
    assert!(calls.iter().filter(|call| call.0 == ScalePhase::Deals).count() <= 102);
    assert_eq!(calls.last(), Some(&(ScalePhase::Deals, 2_000, 2_000)));

    // Chunks of at most 300 deals, one audit entry each, naming its ids and counts.
    assert_eq!((summary.chunks, summary.largest_chunk.deals), (7, 300));
    assert!(summary.largest_chunk.history_events < 300 * 60 && summary.largest_chunk.activities < 300 * 60, "{summary:?}");
    let org = summary.organisation;
    let mut tx = app::Tx::new(store.read().unwrap());
    let filter = AuditFilter { record_kind: Some("opportunity".into()), limit: 1_000, ..AuditFilter::default() };
    let imports: Vec<_> = tx.audit_events(org, &filter).unwrap().into_iter().filter(|event| event.action == "import").collect();
    assert_eq!(imports.len(), 7);
    let last = imports.iter().find(|event| event.after.as_deref().unwrap_or("").contains("\"deal_indices\":[1800,1999]")).unwrap();
    assert!(last.after.as_deref().unwrap().contains("\"opportunities\":200"), "{last:?}");

    // Replay equals state for every deal, and the log has no gaps.
    let deals = tx.opportunities(org, &OpportunityFilter::default()).unwrap();
    let log = tx.history_since(org, 0, u32::MAX).unwrap();
    assert_eq!(log.len() as u64, counts.history_events);
    assert!(log.iter().enumerate().all(|(index, event)| event.seq == index as i64 + 1), "gap-free from 1");
    let book = history::book_as_of(&log, now()).unwrap();
    assert_eq!(book.into_values().collect::<Vec<_>>(), deals);
    for deal in deals.iter().step_by(97) {
        let events = tx.history(org, deal.id).unwrap();
        assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at), "time order per deal");
        assert_eq!(history::replay(&events).unwrap().as_ref(), Some(deal));
    }
    // Realistic shape: deals over about three years, old ones mostly closed, several currencies,
    // owners skewed towards top performers, activities inside each deal's life.
    let three_years_ago = now().plus_seconds(-36 * 30 * 86_400);
    assert!(deals.iter().all(|deal| deal.created_at >= three_years_ago && deal.created_at <= now()));
    let old: Vec<_> = deals.iter().filter(|deal| deal.created_at < now().plus_seconds(-365 * 86_400)).collect();
    let old_closed = old.iter().filter(|deal| deal.status != Status::Open).count() as f64 / old.len() as f64;
    assert!(old_closed > 0.9, "{old_closed}");
    let currencies: BTreeSet<_> = deals.iter().filter_map(|deal| deal.amount.map(|amount| amount.currency())).collect();
    assert!(currencies.len() >= 4, "{currencies:?}");
    let mut per_owner = std::collections::BTreeMap::new();
    for deal in &deals {
        *per_owner.entry(deal.owner_id).or_insert(0usize) += 1;
    }
    let busiest = per_owner.values().max().copied().unwrap_or(0);
    assert!(busiest as f64 > 2.0 * 2_000.0 / per_owner.len() as f64, "{per_owner:?}");
    for deal in deals.iter().step_by(131) {
        for activity in tx.activities_of_opportunity(org, deal.id).unwrap() {
            assert!(activity.occurred_at >= deal.created_at && activity.occurred_at <= deal.closed_at.unwrap_or(now()));
            assert!(activity.logged_at >= activity.occurred_at && activity.logged_at <= now());
            assert!((1..=2).contains(&activity.contact_ids.len()) || activity.contact_ids.is_empty());
            assert_eq!(activity.account_id, deal.account_id);
        }
    }
    assert_eq!(tx.count(org, RecordKind::Opportunity).unwrap(), 2_000);
    assert_eq!(app::deals::book_as_of(&mut tx, org, now()).unwrap(), deals);
}

pub fn the_same_seed_gives_the_same_scale_set_and_another_seed_another(first: &TestDb, second: &TestDb, other: &TestDb) {
    let mut config = small(21);
    (config.opportunities, config.history, config.activities) = (500, Some(12_000), 6_000);
    let (summary_first, _) = generate(first, &config);
    // Chunking and transaction size do not change the data.
    let rechunked = ScaleConfig { chunk_deals: 77, deals_per_transaction: 1, ..config.clone() };
    let (summary_second, _) = generate(second, &rechunked);
    assert_eq!(summary_first.counts, summary_second.counts);
    let fingerprint_first = fingerprint(first.store(), &summary_first);
    assert_eq!(fingerprint_first, fingerprint(second.store(), &summary_second));
    let (summary_other, _) = generate(other, &ScaleConfig { seed: 22, ..config });
    let fingerprint_other = fingerprint(other.store(), &summary_other);
    assert_ne!(fingerprint_first.0, fingerprint_other.0);
    assert_ne!(fingerprint_first.2, fingerprint_other.2);
}

pub fn too_little_history_gets_the_lifecycle_floor_and_says_so(db: &TestDb) {
    let mut config = small(3);
    (config.opportunities, config.history, config.activities) = (400, Some(400 * 5), 800);
    let (summary, _) = generate(db, &config);
    let note = summary.history_note(&config).expect("a note");
    assert!(note.starts_with("asked for 2000 history events (5.0 per deal), but a deal's lifecycle alone records about"), "{note}");
    assert_eq!(summary.edits_per_deal, 0.0);
    let floor = summary.lifecycle_events_per_deal * 400.0;
    assert!(within(summary.counts.history_events, floor as u64, 0.1), "{summary:?}");
    assert!(summary.lifecycle_events_per_deal > 10.0 && summary.lifecycle_events_per_deal < 25.0, "{summary:?}");
}
