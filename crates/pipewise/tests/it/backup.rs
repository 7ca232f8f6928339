//! Backups while the server keeps writing (issue 16 point 13), on both engines: a writer changes
//! deals without pause while `pipewise backup` runs; `pipewise restore` brings the backup into a
//! new database; what comes back is one consistent moment of the original — its history and
//! audit log a prefix of the original's, every deal exactly what its restored history replays
//! to, every user and account the same. A restore onto data, or of a file that is no backup, is
//! refused.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pipewise_app as app;
use pipewise_app::{AuditFilter, OpportunityFilter};
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::*;
use pipewise_store::Store;
use pipewise_test_support::TempDir;
use pipewise_test_support::fixtures::{TestOrg, test_org};

use crate::pipewise;

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap();
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

fn deals(store: &dyn Store, org: &TestOrg, n: usize) -> Vec<OpportunityId> {
    let mut tx = app::Tx::new(store.write().unwrap());
    let ids = (0..n)
        .map(|index| app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal(&format!("Deal {index}"))).unwrap().id)
        .collect();
    tx.commit().unwrap();
    ids
}

/// Changes deal amounts one transaction at a time until told to stop; how many it wrote.
fn writer(
    store: Arc<dyn Store>,
    ctx: app::WriteCtx,
    ids: Vec<OpportunityId>,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut round = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let id = ids[round as usize % ids.len()];
            let patch =
                OpportunityPatch { amount: Some(Some(format!("USD {}", 1_000 + round).parse().unwrap())), ..OpportunityPatch::default() };
            let mut tx = app::Tx::new(store.write().unwrap());
            app::deals::update_opportunity(&mut tx, &ctx, id, &patch).unwrap();
            tx.commit().unwrap();
            written.fetch_add(1, Ordering::Relaxed);
            round += 1;
        }
    })
}

/// The restored database is one consistent moment of the original.
fn compare(original: &dyn Store, restored: &dyn Store, org: OrgId) {
    let mut before = app::Tx::new(original.read().unwrap());
    let mut after = app::Tx::new(restored.read().unwrap());
    let history = before.history_since(org, 0, u32::MAX).unwrap();
    let kept = after.history_since(org, 0, u32::MAX).unwrap();
    assert!(!kept.is_empty() && kept.len() <= history.len());
    assert_eq!(kept[..], history[..kept.len()], "the restored history is a prefix of the original's");
    let audit = |tx: &mut app::Tx| tx.audit_events(org, &AuditFilter { limit: u32::MAX, ..AuditFilter::default() }).unwrap();
    let (mut audit_before, mut audit_after) = (audit(&mut before), audit(&mut after));
    audit_before.sort_by_key(|event| event.id);
    audit_after.sort_by_key(|event| event.id);
    assert_eq!(audit_after[..], audit_before[..audit_after.len()], "the restored audit log is a prefix of the original's");
    for deal in after.opportunities(org, &OpportunityFilter::default()).unwrap() {
        let events: Vec<_> = kept.iter().filter(|event| event.opportunity_id == deal.id).collect();
        assert_eq!(pipewise_core::history::replay(events).unwrap(), Some(deal.clone()), "deal {} is what its history replays to", deal.id);
    }
    assert_eq!(after.users(org).unwrap(), before.users(org).unwrap());
    assert_eq!(after.accounts(org).unwrap(), before.accounts(org).unwrap());
}

/// Backs up `url` while a writer goes on, restores into `target`, and compares.
fn round_trip(store: Arc<dyn Store>, org: TestOrg, url: &str, out: &std::path::Path, target: &str, reopen: impl Fn() -> Box<dyn Store>) {
    let ids = deals(&*store, &org, 20);
    let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let handle = writer(store.clone(), org.ctx, ids, stop.clone(), written.clone());
    while written.load(Ordering::Relaxed) < 20 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (ok, said) = run(pipewise().args(["backup", "--db", url, "--out"]).arg(out));
    let during = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert!(ok && said.contains("backup written to"), "{said}");
    assert!(written.load(Ordering::Relaxed) > 20 && during > 20, "the writer kept writing");
    let (ok, said) = run(pipewise().args(["backup", "--db", url, "--out"]).arg(out));
    assert!(!ok && said.contains("already exists"), "{said}");

    let (ok, said) = run(pipewise().args(["restore", "--db", target, "--from"]).arg(out));
    assert!(ok && said.contains("restored"), "{said}");
    let restored = reopen();
    compare(&*store, &*restored, org.org());
    let (ok, said) = run(pipewise().args(["restore", "--db", target, "--from"]).arg(out));
    assert!(!ok && (said.contains("already exists") || said.contains("already holds")), "{said}");
}

#[test]
fn a_sqlite_backup_taken_during_writes_restores_one_consistent_moment() {
    let dir = TempDir::new("cli-backup");
    let source = dir.path().join("source.db");
    let org = crate::database_with_org(&source, "Backups");
    let store: Arc<dyn Store> = Arc::new(pipewise_store_sqlite::SqliteStore::open(&source).unwrap());
    let target = dir.path().join("restored.db");
    let target_text = target.to_str().unwrap().to_owned();
    let reopen = || -> Box<dyn Store> { Box::new(pipewise_store_sqlite::SqliteStore::open(&target).unwrap()) };
    round_trip(store, org, source.to_str().unwrap(), &dir.path().join("backup.pwb"), &target_text, reopen);

    let junk = dir.path().join("junk.pwb");
    std::fs::write(&junk, "not a backup").unwrap();
    let (ok, said) = run(pipewise().args(["restore", "--db"]).arg(dir.path().join("other.db")).arg("--from").arg(&junk));
    assert!(!ok && said.contains("is not a Pipewise backup"), "{said}");
    let (ok, said) =
        run(pipewise().args(["restore", "--db", "postgres://nobody@127.0.0.1:1/x", "--from"]).arg(dir.path().join("backup.pwb")));
    assert!(!ok && said.contains("this backup is a SQLite database"), "{said}");
}

#[test]
fn a_postgres_backup_taken_during_writes_restores_one_consistent_moment() {
    let Some(server) = pipewise_test_support::postgres_server_url() else { return };
    if pipewise_test_support::require_program("pg_dump").is_none() {
        return;
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let suffix = format!("{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let (source_db, target_db) = (format!("pw_backup_src_{suffix}"), format!("pw_backup_dst_{suffix}"));
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    for name in [&source_db, &target_db] {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    }
    let with_database = |name: &str| {
        let (base, query) = server.split_once('?').map_or((server.as_str(), None), |(base, query)| (base, Some(query)));
        let base = base.rsplit_once('/').map_or(base, |(host, _)| host);
        match query {
            Some(query) => format!("{base}/{name}?{query}"),
            None => format!("{base}/{name}"),
        }
    };
    let (source_url, target_url) = (with_database(&source_db), with_database(&target_db));
    let store = pipewise_store_postgres::PgStore::connect(&source_url).unwrap();
    store.migrate().unwrap();
    let org = test_org(&store, "Backups PG");
    let store: Arc<dyn Store> = Arc::new(store);
    let dir = TempDir::new("cli-backup-pg");
    let reopen = || -> Box<dyn Store> { Box::new(pipewise_store_postgres::PgStore::connect(&target_url).unwrap()) };
    round_trip(store.clone(), org, &source_url, &dir.path().join("backup.dump"), &target_url, reopen);
    drop(store);
    for name in [&source_db, &target_db] {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
