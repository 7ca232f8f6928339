//! The default storage engine: one SQLite file.
//!
//! The file runs in WAL mode with `synchronous = FULL` and foreign keys on, so a committed
//! write survives a crash of the process or the machine. One connection writes (`BEGIN
//! IMMEDIATE`, so writers queue instead of failing); readers use their own connections and see
//! a consistent snapshot while the writer works.

mod rows;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use pipewise_store::{Result, Store, StoreError, Tx};
use rusqlite::Connection;

use crate::tx::{Conn, SqliteTx};

/// Migrations embedded in the binary: `(version, name, sql)`. Never edit an applied one.
/// The version of the last migration this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _, _)| *version)
}

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_records", include_str!("../migrations/0001_records.sql")),
    (2, "0002_platform", include_str!("../migrations/0002_platform.sql")),
    (3, "0003_gates", include_str!("../migrations/0003_gates.sql")),
    (4, "0004_handoffs", include_str!("../migrations/0004_handoffs.sql")),
    (5, "0005_activity_latest", include_str!("../migrations/0005_activity_latest.sql")),
    (6, "0006_health_settings", include_str!("../migrations/0006_health_settings.sql")),
    (7, "0007_activity_facts", include_str!("../migrations/0007_activity_facts.sql")),
    (8, "0008_organisation_time_zone", include_str!("../migrations/0008_organisation_time_zone.sql")),
    (9, "0009_quotas", include_str!("../migrations/0009_quotas.sql")),
    (10, "0010_pay", include_str!("../migrations/0010_pay.sql")),
    (11, "0011_deal_splits", include_str!("../migrations/0011_deal_splits.sql")),
    (12, "0012_dispute_line", include_str!("../migrations/0012_dispute_line.sql")),
    (13, "0013_forecast_calls", include_str!("../migrations/0013_forecast_calls.sql")),
    (14, "0014_model_forecasts", include_str!("../migrations/0014_model_forecasts.sql")),
    (15, "0015_import_keys", include_str!("../migrations/0015_import_keys.sql")),
    (16, "0016_sentiment", include_str!("../migrations/0016_sentiment.sql")),
    (17, "0017_mailbox", include_str!("../migrations/0017_mailbox.sql")),
    (18, "0018_quarantine", include_str!("../migrations/0018_quarantine.sql")),
    (19, "0019_webhooks", include_str!("../migrations/0019_webhooks.sql")),
    (20, "0020_mailbox_security", include_str!("../migrations/0020_mailbox_security.sql")),
    (21, "0021_digests", include_str!("../migrations/0021_digests.sql")),
    (22, "0022_lead_routing", include_str!("../migrations/0022_lead_routing.sql")),
    (23, "0023_lead_forms", include_str!("../migrations/0023_lead_forms.sql")),
    (24, "0024_lead_attempts", include_str!("../migrations/0024_lead_attempts.sql")),
    (25, "0025_lead_qualification", include_str!("../migrations/0025_lead_qualification.sql")),
    (26, "0026_name_keys", include_str!("../migrations/0026_name_keys.sql")),
    (27, "0027_deal_billing", include_str!("../migrations/0027_deal_billing.sql")),
    (28, "0028_team_membership", include_str!("../migrations/0028_team_membership.sql")),
    (29, "0029_stage_settings", include_str!("../migrations/0029_stage_settings.sql")),
];

/// Connections kept open for readers.
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`. Does not migrate.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let writer = connect(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL").map_err(StoreError::database)?;
        Ok(SqliteStore { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no transaction open (SqliteTx rolls back on
        // drop), so the connection is still good.
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Copies the database into `target` (a new file) while writers go on: SQLite's backup API
    /// copies every page in one step, inside one read transaction, so the copy is one consistent
    /// snapshot. The copy is then checked page by page and made a single self-contained file.
    pub fn backup_to(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StoreError::Conflict(format!("{} already exists: a backup is written to a new file", target.display())));
        }
        let source = connect(&self.path)?;
        let mut copy = Connection::open(target).map_err(StoreError::database)?;
        copy_all(&source, &mut copy)?;
        copy.pragma_update(None, "journal_mode", "DELETE").map_err(StoreError::database)?;
        check_integrity(&copy)
    }

    /// Restores `backup` (a file [`SqliteStore::backup_to`] wrote) into `target`, a new file,
    /// after checking it page by page; migrations newer than the backup are applied by whoever
    /// opens the store next.
    pub fn restore_from(backup: &Path, target: &Path) -> Result<()> {
        if target.exists() && std::fs::metadata(target).map(|meta| meta.len() > 0).unwrap_or(true) {
            return Err(StoreError::Conflict(format!("{} already exists: a backup is restored into a new database", target.display())));
        }
        let source = Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(StoreError::database)?;
        check_integrity(&source)?;
        let ours: bool = source
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration') AS ours",
                [],
                |row| row.get(0),
            )
            .map_err(StoreError::database)?;
        if !ours {
            return Err(StoreError::Conflict(format!("{} is a SQLite file but not a Pipewise database", backup.display())));
        }
        let mut restored = Connection::open(target).map_err(StoreError::database)?;
        copy_all(&source, &mut restored)?;
        check_integrity(&restored)
    }

    fn take_reader(&self) -> Result<Connection> {
        let idle = self.readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => connect(&self.path),
        }
    }

    pub(crate) fn return_reader(&self, connection: Connection) {
        let mut readers = self.readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if readers.len() < MAX_IDLE_READERS {
            readers.push(connection);
        }
    }
}

/// Copies every page of `source` into `target` in one step (one snapshot of the source).
fn copy_all(source: &Connection, target: &mut Connection) -> Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let backup = Backup::new(source, target).map_err(StoreError::database)?;
    for _ in 0..1_000 {
        match backup.step(-1).map_err(StoreError::database)? {
            StepResult::Done => return Ok(()),
            // A writer holds the lock for a moment: try again.
            StepResult::More | StepResult::Busy | StepResult::Locked => std::thread::sleep(std::time::Duration::from_millis(10)),
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Err(StoreError::Conflict("the database stayed locked for ten seconds: the backup did not start".into()))
}

/// `PRAGMA integrity_check` must say `ok`.
fn check_integrity(connection: &Connection) -> Result<()> {
    let verdict: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(StoreError::database)?;
    if verdict == "ok" { Ok(()) } else { Err(StoreError::Conflict(format!("the copy is damaged: {verdict}"))) }
}

fn connect(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(StoreError::database)?;
    connection
        .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536;")
        .map_err(StoreError::database)?;
    Ok(connection)
}

impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    fn migrate(&self) -> Result<Vec<String>> {
        let mut connection = self.writer();
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::database)?;
        transaction
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migration (
                     version    INTEGER PRIMARY KEY,
                     name       TEXT    NOT NULL,
                     applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 )",
            )
            .map_err(StoreError::database)?;
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            let done: bool = transaction
                .query_row("SELECT EXISTS (SELECT 1 FROM schema_migration WHERE version = ?1) AS done", [version], |row| row.get("done"))
                .map_err(StoreError::database)?;
            if done {
                continue;
            }
            transaction.execute_batch(sql).map_err(|error| StoreError::Migration { version: *version, detail: error.to_string() })?;
            transaction
                .execute(pipewise_store::sql::INSERT_SCHEMA_MIGRATION, rusqlite::params![version, name])
                .map_err(StoreError::database)?;
            applied.push((*name).to_owned());
        }
        for (select, update) in pipewise_store::sql::UNKEYED_NAMES {
            let unkeyed: Vec<(i64, String)> = transaction
                .prepare(select)
                .and_then(|mut statement| statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
                .map_err(StoreError::database)?;
            let mut statement = transaction.prepare(update).map_err(StoreError::database)?;
            for (id, name) in unkeyed {
                statement.execute(rusqlite::params![pipewise_store::name_key(&name), id]).map_err(StoreError::database)?;
            }
        }
        transaction.commit().map_err(StoreError::database)?;
        Ok(applied)
    }

    fn write(&self) -> Result<Box<dyn Tx + '_>> {
        let connection = self.writer();
        connection.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::database)?;
        Ok(Box::new(SqliteTx::new(Conn::Writer(connection))))
    }

    fn read(&self) -> Result<Box<dyn Tx + '_>> {
        let connection = self.take_reader()?;
        connection.execute_batch("BEGIN DEFERRED").map_err(StoreError::database)?;
        Ok(Box::new(SqliteTx::new(Conn::Reader { store: self, connection: Some(connection) })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_core::records::NewAccount;
    use pipewise_core::{Currency, Timestamp};
    use pipewise_store::{AccountFilter, NameOrder};

    /// A database made before names were keyed has its rows keyed when it is migrated, with
    /// Unicode's lower case: the name order is then the same as for rows written since.
    #[test]
    fn rows_written_before_keys_are_keyed_on_migration() {
        let path = std::env::temp_dir().join(format!("pipewise-keys-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path).unwrap();
        store.migrate().unwrap();
        let at = Timestamp::from_micros(0);
        let mut tx = store.write().unwrap();
        let org = tx.insert_organisation("Keys", Currency::USD, at).unwrap();
        let account = |name: &str| NewAccount {
            name: name.into(),
            domains: Vec::new(),
            industry: None,
            employee_count: None,
            region: None,
            owner_id: None,
        };
        let zed = tx.insert_account(org, &account("Zed"), at).unwrap();
        let emile = tx.insert_account(org, &account("ÉMILE"), at).unwrap();
        let abel = tx.insert_account(org, &account("abel"), at).unwrap();
        tx.commit().unwrap();
        // As an older version left them: no keys.
        store.writer().execute_batch("UPDATE account SET name_key = NULL").unwrap();
        assert!(store.migrate().unwrap().is_empty(), "no migration is left to apply");
        let key: String = store.writer().query_row("SELECT name_key FROM account WHERE name = 'ÉMILE'", [], |row| row.get(0)).unwrap();
        assert_eq!(key, "émile", "Unicode's lower case, not SQL's");
        let mut tx = store.read().unwrap();
        let page = tx.account_page(org, &AccountFilter::default(), NameOrder::default()).unwrap();
        assert_eq!(page.ids, [abel, zed, emile]);
        drop(tx);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }
}
