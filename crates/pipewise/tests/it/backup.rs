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

/// A new PostgreSQL database on `server` (dropped again by the returned guard), and its URL.
struct PgDatabase {
    server: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn new(server: &str, prefix: &str) -> PgDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!("pw_{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(server, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, query) = server.split_once('?').map_or((server, None), |(base, query)| (base, Some(query)));
        let base = base.rsplit_once('/').map_or(base, |(host, _)| host);
        let url = match query {
            Some(query) => format!("{base}/{name}?{query}"),
            None => format!("{base}/{name}"),
        };
        PgDatabase { server: server.to_owned(), name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The portable backup moves a whole organisation between engines (issue 16 point 13): the demo
/// (every kind of record, history, audit, pay, leads, mail) plus a session and an API token is
/// backed up from SQLite while a writer goes on, restored into PostgreSQL, backed up from there
/// and restored into a new SQLite file. Each backup is byte for byte the first one (every row of
/// every table, ids and sequence numbers, in the same order and form), the restored database is
/// one consistent moment of the original (the history and audit log a prefix, every deal what its
/// history replays to), and new records continue after the restored ids on both engines. A
/// restore onto data, a file cut short and an altered row are refused with nothing kept.
#[test]
fn a_portable_backup_moves_between_engines_with_every_record() {
    use pipewise_store::{ApiToken, Session};
    let dir = TempDir::new("cli-portable");
    let source = dir.path().join("source.db");
    let (ok, said) = run(pipewise().args(["demo", "--no-serve", "--db"]).arg(&source));
    assert!(ok, "{said}");
    let store: Arc<dyn Store> = Arc::new(pipewise_store_sqlite::SqliteStore::open(&source).unwrap());
    let (org, ctx, ids) = {
        let mut tx = app::Tx::new(store.write().unwrap());
        let org = tx.organisations().unwrap()[0].id;
        let users = tx.users(org).unwrap();
        let admin = users.iter().find(|user| user.role == pipewise_core::user::Role::Admin).unwrap().id;
        let at = Timestamp::from_micros(1_790_000_000_000_000);
        tx.insert_session(&Session {
            token_hash: "session-hash".into(),
            org,
            user_id: admin,
            csrf_token: "csrf".into(),
            created_at: at,
            last_seen_at: at,
            expires_at: Timestamp::from_micros(1_790_086_400_000_000),
            client_address: Some("198.51.100.7".into()),
        })
        .unwrap();
        tx.insert_api_token(&ApiToken {
            id: 0,
            org,
            user_id: admin,
            name: "Warehouse sync".into(),
            token_hash: "token-hash".into(),
            prefix: "pw_abc".into(),
            created_at: at,
            last_used_at: None,
            revoked_at: None,
        })
        .unwrap();
        let ids: Vec<OpportunityId> = tx
            .opportunities(org, &OpportunityFilter::default())
            .unwrap()
            .iter()
            .filter(|deal| deal.status == pipewise_core::opportunity::Status::Open)
            .take(20)
            .map(|deal| deal.id)
            .collect();
        tx.commit().unwrap();
        let now = Timestamp::from_jiff(jiff::Timestamp::now());
        let ctx = app::WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now };
        (org, ctx, ids)
    };

    // Backed up while a writer changes deals.
    let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let handle = writer(store.clone(), ctx, ids, stop.clone(), written.clone());
    while written.load(Ordering::Relaxed) < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let first = dir.path().join("first.pwx");
    let (ok, said) = run(pipewise().args(["backup", "--portable", "--db"]).arg(&source).arg("--out").arg(&first));
    let during = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert!(ok && said.contains("portable backup written to"), "{said}");
    assert!(written.load(Ordering::Relaxed) > 5 && during > 5, "the writer kept writing");
    let text = std::fs::read_to_string(&first).unwrap();
    for table in ["\"table\":\"opportunity_history\"", "\"table\":\"audit_event\"", "\"table\":\"session\"", "\"table\":\"api_token\""] {
        assert!(text.contains(table), "{table} is in the backup");
    }

    // Into PostgreSQL and out again, when a server is at hand; else SQLite to SQLite.
    let pg = pipewise_test_support::postgres_server_url().map(|server| PgDatabase::new(&server, "portable"));
    let second = dir.path().join("second.pwx");
    let middle = match &pg {
        Some(database) => database.url.clone(),
        None => dir.path().join("middle.db").to_str().unwrap().to_owned(),
    };
    let (ok, said) = run(pipewise().args(["restore", "--db", &middle, "--from"]).arg(&first));
    assert!(ok && said.contains("restored"), "{said}");
    let (ok, said) = run(pipewise().args(["backup", "--portable", "--db", &middle, "--out"]).arg(&second));
    assert!(ok, "{said}");
    assert!(std::fs::read_to_string(&second).unwrap() == text, "the backup from the restored database is the same file");

    let back = dir.path().join("back.db");
    let (ok, said) = run(pipewise().args(["restore", "--from"]).arg(&second).arg("--db").arg(&back));
    assert!(ok && said.contains("restored"), "{said}");
    let third = dir.path().join("third.pwx");
    let (ok, said) = run(pipewise().args(["backup", "--portable", "--db"]).arg(&back).arg("--out").arg(&third));
    assert!(ok, "{said}");
    assert!(std::fs::read_to_string(&third).unwrap() == text, "back in SQLite, the same file again");
    let restored: Box<dyn Store> = Box::new(pipewise_store_sqlite::SqliteStore::open(&back).unwrap());
    compare(&*store, &*restored, org);

    // New records continue after the restored ids and sequence numbers, on both engines.
    let middle_store: Box<dyn Store> = match &pg {
        Some(database) => Box::new(pipewise_store_postgres::PgStore::connect(&database.url).unwrap()),
        None => Box::new(pipewise_store_sqlite::SqliteStore::open(&middle).unwrap()),
    };
    for target in [&*middle_store, &*restored] {
        let mut tx = app::Tx::new(target.write().unwrap());
        let last = tx.opportunities(org, &OpportunityFilter::default()).unwrap().iter().map(|deal| deal.id.0).max().unwrap();
        let seq = tx.history_since(org, 0, u32::MAX).unwrap().last().unwrap().seq;
        let like = tx.opportunities(org, &OpportunityFilter::default()).unwrap()[0].clone();
        let new = pipewise_core::opportunity::NewOpportunity {
            name: "After the move".into(),
            account_id: like.account_id,
            owner_id: like.owner_id,
            pipeline_id: like.pipeline_id,
            stage_id: None,
            amount: Some("USD 1000".parse().unwrap()),
            close_date: None,
            forecast_category: None,
            next_step: None,
            close_reason: None,
        };
        let deal = app::deals::create_opportunity(&mut tx, &ctx, &new).unwrap();
        assert_eq!(deal.id.0, last + 1);
        assert_eq!(tx.history_since(org, seq, u32::MAX).unwrap()[0].seq, seq + 1);
        // Dropped without a commit: rolled back.
    }

    // Refused, with nothing kept: onto data, cut short, altered.
    let (ok, said) = run(pipewise().args(["restore", "--from"]).arg(&first).arg("--db").arg(&back));
    assert!(!ok && said.contains("already holds an organisation"), "{said}");
    let cut = dir.path().join("cut.pwx");
    std::fs::write(&cut, &text.as_bytes()[..text.len() * 2 / 3]).unwrap();
    let empty = dir.path().join("empty.db");
    let (ok, said) = run(pipewise().args(["restore", "--from"]).arg(&cut).arg("--db").arg(&empty));
    assert!(!ok && said.contains("nothing was kept"), "{said}");
    let altered = dir.path().join("altered.pwx");
    std::fs::write(&altered, text.replacen("\"Warehouse sync\"", "\"Warehouse sink\"", 1)).unwrap();
    let (ok, said) = run(pipewise().args(["restore", "--from"]).arg(&altered).arg("--db").arg(&empty));
    assert!(!ok && said.contains("altered or cut short"), "{said}");
    let empty = pipewise_store_sqlite::SqliteStore::open(&empty).unwrap();
    let mut check = app::Tx::new(empty.read().unwrap());
    assert!(check.organisations().unwrap().is_empty(), "nothing was kept");
}
