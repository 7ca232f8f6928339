//! The default demo, generated into temporary SQLite files: its sizes, that its history replays
//! to its current state, and that the seed alone decides its content.

use pipewise_app as app;
use std::path::PathBuf;

use pipewise_app::{OpportunityFilter, RecordKind};
use pipewise_core::opportunity::Status;
use pipewise_core::user::Role;
use pipewise_core::{Currency, OpportunityId, OrgId, Timestamp};
use pipewise_demo::{DemoConfig, DemoSummary, Phase, generate};
use pipewise_store::Store;
use pipewise_store_sqlite::SqliteStore;

/// A SQLite file in the temp folder, removed (with its WAL files) when dropped.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new(name: &str) -> TempDb {
        let path = std::env::temp_dir().join(format!("pipewise-demo-{}-{name}.db", std::process::id()));
        let db = TempDb { path };
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

fn now() -> Timestamp {
    "2026-11-22T18:00:00Z".parse().unwrap()
}

fn days_before(at: Timestamp, days: i64) -> Timestamp {
    at.plus_seconds(-days * 86_400)
}

/// Generates `config` into a fresh file; returns the store, the summary and the progress calls.
fn demo(db: &TempDb, config: &DemoConfig) -> (std::sync::Arc<SqliteStore>, DemoSummary, Vec<(Phase, u64, u64)>) {
    let store = std::sync::Arc::new(SqliteStore::open(&db.path).unwrap());
    store.migrate().unwrap();
    let mut calls = Vec::new();
    let summary =
        generate(&pipewise_app::Db::new(store.clone()), config, &mut |phase, done, total| calls.push((phase, done, total))).unwrap();
    (store, summary, calls)
}

/// What two demos are compared on: counts, and the whole book as of several dates.
fn fingerprint(store: &SqliteStore, org: OrgId) -> (Vec<i64>, Vec<Vec<pipewise_core::opportunity::Opportunity>>, Vec<String>) {
    let mut tx = app::Tx::new(store.read().unwrap());
    let kinds = [
        RecordKind::User,
        RecordKind::Team,
        RecordKind::Account,
        RecordKind::Contact,
        RecordKind::Opportunity,
        RecordKind::History,
        RecordKind::Lead,
        RecordKind::Activity,
        RecordKind::Task,
        RecordKind::ExchangeRate,
    ];
    let counts = kinds.iter().map(|kind| tx.count(org, *kind).unwrap()).collect();
    let books = [0, 30, 180, 365].iter().map(|days| app::deals::book_as_of(&mut tx, org, days_before(now(), *days)).unwrap()).collect();
    let activities = (1..=40)
        .flat_map(|id| tx.activities_of_opportunity(org, OpportunityId(id)).unwrap())
        .map(|activity| format!("{activity:?}"))
        .collect();
    (counts, books, activities)
}

#[test]
fn the_default_demo_has_the_promised_sizes_and_replays_exactly() {
    let db = TempDb::new("default");
    let (store, summary, calls) = demo(&db, &DemoConfig::standard(42, now()));
    let counts = &summary.counts;
    // 1 admin, 1 ops, 1 VP, 4 team managers, 30 reps, 1 viewer.
    assert_eq!((counts.users, counts.teams, counts.pipelines), (38, 4, 2));
    assert_eq!((counts.accounts, counts.contacts, counts.opportunities, counts.leads), (300, 1_500, 2_000, 400));
    assert_eq!(counts.open + counts.won + counts.lost + counts.dropped, 2_000);
    assert!((18_000..=24_000).contains(&counts.activities), "{counts:?}");
    assert!((1_000..=1_300).contains(&counts.tasks), "{counts:?}");
    assert!(counts.history_events > 30_000, "{counts:?}");
    let win_rate = counts.won as f64 / (counts.won + counts.lost) as f64;
    assert!((0.25..=0.35).contains(&win_rate), "win rate {win_rate}: {counts:?}");
    assert!(counts.open > 200 && counts.dropped > 100, "{counts:?}");
    assert_eq!(summary.users.iter().map(|(role, _)| *role).collect::<Vec<_>>(), Role::ALL);

    // Progress: every phase in order, from 0 to its total.
    let phases: Vec<Phase> = calls.iter().map(|call| call.0).fold(Vec::new(), |mut phases, phase| {
        if phases.last() != Some(&phase) {
            phases.push(phase);
        }
        phases
    });
    assert_eq!(phases, Phase::ALL);
    for phase in Phase::ALL {
        let of_phase: Vec<_> = calls.iter().filter(|call| call.0 == phase).collect();
        assert_eq!(of_phase.first().unwrap().1, 0);
        let last = of_phase.last().unwrap();
        assert_eq!(last.1, last.2, "{phase:?} ends done");
        assert!(of_phase.len() <= 102, "{phase:?} reports about a hundred times, not {}", of_phase.len());
    }

    let org = summary.organisation;
    let mut tx = app::Tx::new(store.read().unwrap());
    for (role, email) in &summary.users {
        assert_eq!(tx.user_by_email(org, email).unwrap().unwrap().role, *role);
    }
    // Each team's manager belongs to the team and every rep reports to their team's manager.
    let users = tx.users(org).unwrap();
    for team in tx.teams(org).unwrap() {
        let manager = users.iter().find(|user| Some(user.id) == team.manager_id).unwrap();
        assert_eq!((manager.role, manager.team_id), (Role::Manager, Some(team.id)));
        let reps: Vec<_> = users.iter().filter(|user| user.team_id == Some(team.id) && user.role == Role::Rep).collect();
        assert!(reps.len() >= 7 && reps.iter().all(|rep| rep.manager_id == Some(manager.id)), "{}", team.name);
    }
    // Replaying the history gives every deal's current state.
    let replayed = app::deals::book_as_of(&mut tx, org, now()).unwrap();
    let current = tx.opportunities(org, &OpportunityFilter::default()).unwrap();
    assert_eq!(replayed, current);
    assert!(current.iter().all(|deal| deal.created_at <= now() && deal.closed_at.is_none_or(|at| at <= now())));
    // Half a year ago fewer deals existed, and some open then are closed now.
    let then = days_before(now(), 182);
    let book_then = app::deals::book_as_of(&mut tx, org, then).unwrap();
    assert!(book_then.len() > 800 && book_then.len() < 1_700, "{}", book_then.len());
    let open_then = book_then.iter().filter(|deal| deal.status == Status::Open).count();
    assert!(open_then > 150, "{open_then}");
    // Health checks have something to find: open deals without an amount or with a past close date.
    let open: Vec<_> = current.iter().filter(|deal| deal.status == Status::Open).collect();
    assert!(open.iter().filter(|deal| deal.amount.is_none()).count() >= 5);
    assert!(open.iter().filter(|deal| deal.close_date.is_some_and(|date| date < now().date_utc())).count() >= 5);
    // Deals in every currency, with the rates to convert them on any day of the period.
    let rates = tx.rate_table(org).unwrap().unwrap();
    for code in ["USD", "EUR", "KRW", "GBP", "JPY"] {
        let currency = Currency::from_code(code).unwrap();
        assert!(current.iter().any(|deal| deal.amount.is_some_and(|amount| amount.currency() == currency)), "{code}");
        for days in (0..=540).step_by(3) {
            let date = days_before(now(), days).date_utc();
            assert!(rates.rate(currency, date).is_ok(), "{code} on {date}");
        }
    }
    assert_eq!(summary.rates_shifted_days, 28);
}

#[test]
fn the_same_seed_gives_the_same_demo_and_another_seed_another() {
    let (first, second, other) = (TempDb::new("seed-7a"), TempDb::new("seed-7b"), TempDb::new("seed-8"));
    let config = DemoConfig::standard(7, now());
    let (store_first, summary_first, _) = demo(&first, &config);
    let (store_second, summary_second, _) = demo(&second, &config);
    assert_eq!(summary_first, summary_second);
    let fingerprint_first = fingerprint(&store_first, summary_first.organisation);
    assert_eq!(fingerprint_first, fingerprint(&store_second, summary_second.organisation));

    let (store_other, summary_other, _) = demo(&other, &DemoConfig { seed: 8, ..config });
    let fingerprint_other = fingerprint(&store_other, summary_other.organisation);
    assert_ne!(fingerprint_first.1, fingerprint_other.1);
    assert_ne!(fingerprint_first.2, fingerprint_other.2);
}

#[test]
fn a_bad_configuration_is_refused_before_anything_is_written() {
    let db = TempDb::new("bad");
    let store = std::sync::Arc::new(SqliteStore::open(&db.path).unwrap());
    store.migrate().unwrap();
    let config = DemoConfig { teams: 0, months: 0, ..DemoConfig::standard(1, now()) };
    let error = generate(&pipewise_app::Db::new(store.clone()), &config, &mut |_, _, _| {}).unwrap_err();
    assert!(error.is_user_error());
    assert_eq!(
        error.to_string(),
        "new demo configuration: months: 0 is out of range (1 to 120); new demo configuration: teams: 0 is out of range (1 to 10,000)"
    );
    assert!(store.read().unwrap().organisations().unwrap().is_empty());
}

#[test]
fn other_sizes_and_dates_work_too() {
    let db = TempDb::new("sizes");
    // More accounts than there are companies, few contacts, odd team sizes, small batches, and a
    // "today" before the vendored exchange rates begin.
    let now: Timestamp = "2023-03-15T09:00:00Z".parse().unwrap();
    let config = DemoConfig {
        months: 6,
        teams: 6,
        reps: 13,
        accounts: 900,
        contacts: 100,
        opportunities: 300,
        activities_per_opportunity: 3,
        tasks: 40,
        leads: 10,
        batch_size: 97,
        ..DemoConfig::standard(99, now)
    };
    let (store, summary, _) = demo(&db, &config);
    let counts = &summary.counts;
    assert_eq!(
        (counts.teams, counts.users, counts.accounts, counts.contacts, counts.opportunities, counts.leads),
        (6, 13 + 6 + 4, 900, 100, 300, 10)
    );
    assert!(summary.rates_shifted_days < 0 && summary.rates_shifted_days % 7 == 0);
    let mut tx = app::Tx::new(store.read().unwrap());
    let org = summary.organisation;
    let deals = tx.opportunities(org, &OpportunityFilter::default()).unwrap();
    assert_eq!(app::deals::book_as_of(&mut tx, org, now).unwrap(), deals);
    assert!(deals.iter().all(|deal| deal.created_at >= days_before(now, 190) && deal.created_at <= now));
    let rates = tx.rate_table(org).unwrap().unwrap();
    assert!(rates.rate(Currency::KRW, now.date_utc()).is_ok());
}
