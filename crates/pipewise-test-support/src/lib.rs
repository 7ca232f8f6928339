//! Test fixtures shared by every crate's tests:
//! - [`sqlite`] and [`postgres`] give each test its own migrated database on a real engine;
//! - the PostgreSQL server comes from `PIPEWISE_TEST_PG`, or else a throwaway cluster that this
//!   process starts with `initdb`/`pg_ctl` in a temp directory on a free port and that is stopped
//!   when the process exits;
//! - [`require_program`] skips loudly when an external program is missing, and fails under `CI`.

pub mod browser;
mod cluster;
pub mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use pipewise_store::Store;
use pipewise_store_postgres::PgStore;
use pipewise_store_sqlite::SqliteStore;

pub use cluster::{Cluster, postgres_server_url};

/// Whether the tests run under CI, where a missing program is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "0" && value != "false")
}

/// Reports that `what` is missing: a loud skip locally, a panic under `CI`. Returns `false` so
/// callers can write `if !require(...) { return; }`.
pub fn skip_or_fail(what: &str) -> bool {
    if in_ci() {
        panic!("{what} is required under CI but is missing");
    }
    eprintln!("\n=== SKIPPED: {what} is missing; this test did not run ===\n");
    false
}

/// Finds `program` on PATH (or at an absolute path); skips loudly or fails under CI if absent.
pub fn require_program(program: &str) -> Option<PathBuf> {
    match find_program(program) {
        Some(path) => Some(path),
        None => {
            skip_or_fail(&format!("the program `{program}`"));
            None
        }
    }
}

pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!("pipewise-{label}-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("the temp directory is writable");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated database for one test, on one engine.
pub struct TestDb {
    store: std::sync::Arc<dyn Store>,
    raw: Raw,
    _dir: Option<TempDir>,
}

enum Raw {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

/// A PostgreSQL test's schema goes with it (else every run would leave its schemas behind on
/// the test server: thousands of them, gigabytes, on a developer's machine).
impl Drop for TestDb {
    fn drop(&mut self) {
        if let Raw::Postgres { url, schema } = &self.raw
            && let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

impl TestDb {
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The store itself, shared, as a server holds it (for the analytics' projections).
    pub fn shared(&self) -> std::sync::Arc<dyn Store> {
        self.store.clone()
    }

    /// The same database behind the application layer, as the edges hold it.
    pub fn db(&self) -> pipewise_app::Db {
        pipewise_app::Db::new(self.store.clone())
    }

    pub fn engine(&self) -> &'static str {
        self.store.engine()
    }

    /// Runs `sql` on a connection of its own, outside the store: for tests that prove what the
    /// database itself refuses (e.g. changing history).
    pub fn execute_raw(&self, sql: &str) -> Result<(), String> {
        match &self.raw {
            Raw::Sqlite(path) => {
                let connection = rusqlite_connection(path)?;
                connection.execute_batch(sql).map_err(|error| error.to_string())
            }
            Raw::Postgres { url, schema } => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|error| error.to_string())?;
                client.batch_execute(&format!("SET search_path = {schema}; {sql}")).map_err(|error| match error.as_db_error() {
                    Some(db_error) => db_error.message().to_owned(),
                    None => error.to_string(),
                })
            }
        }
    }
}

/// A [`TestDb`] behind an `Arc`, as the app and the insights want an `Arc<dyn Store>`:
/// `Arc::new(SharedDb(Arc::new(db)))`; the test keeps its own `Arc<TestDb>` for raw access.
pub struct SharedDb(pub std::sync::Arc<TestDb>);

impl Store for SharedDb {
    fn engine(&self) -> &'static str {
        self.0.engine()
    }
    fn migrate(&self) -> pipewise_store::Result<Vec<String>> {
        self.0.store().migrate()
    }
    fn write(&self) -> pipewise_store::Result<Box<dyn pipewise_store::Tx + '_>> {
        self.0.store().write()
    }
    fn read(&self) -> pipewise_store::Result<Box<dyn pipewise_store::Tx + '_>> {
        self.0.store().read()
    }
}

/// Runs `work` in one write transaction of `store` through the application layer and commits it;
/// on error nothing is kept.
pub fn transact<T>(
    store: &dyn Store,
    work: impl FnOnce(&mut pipewise_app::Tx<'_>) -> pipewise_store::Result<T>,
) -> pipewise_store::Result<T> {
    let mut tx = pipewise_app::Tx::new(store.write()?);
    let value = work(&mut tx)?;
    tx.commit()?;
    Ok(value)
}

fn rusqlite_connection(path: &Path) -> Result<rusqlite::Connection, String> {
    rusqlite::Connection::open(path).map_err(|error| error.to_string())
}

/// A fresh SQLite file in a temp directory, migrated.
pub fn sqlite() -> TestDb {
    let dir = TempDir::new("sqlite");
    let path = dir.path().join("test.db");
    let store = SqliteStore::open(&path).expect("a new SQLite file opens");
    store.migrate().expect("migrations apply to a new SQLite file");
    TestDb { store: std::sync::Arc::new(store), raw: Raw::Sqlite(path), _dir: Some(dir) }
}

/// A fresh schema on the test PostgreSQL server, migrated; `None` (after a loud skip) when no
/// server can be had and not under `CI`.
pub fn postgres() -> Option<TestDb> {
    let url = postgres_server_url()?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let schema = format!("t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("the test PostgreSQL server accepts connections");
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).expect("a test schema can be created");
    let store = PgStore::connect_with_schema(&url, &schema).expect("PgStore connects to the test server");
    store.migrate().expect("migrations apply to a new PostgreSQL schema");
    Some(TestDb { store: std::sync::Arc::new(store), raw: Raw::Postgres { url, schema }, _dir: None })
}
