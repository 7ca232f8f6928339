//! The PostgreSQL engine of the storage contract: [`PgStore`] implements
//! [`pipewise_store::Store`] over a small pool of synchronous `postgres` clients, runs the
//! embedded migrations (the same versions and names as the SQLite engine's), and hands out
//! transactions that roll back unless committed.
//!
//! Several Pipewise instances may share one database: migrations take an advisory lock, and
//! history sequence numbers come from a row lock on the organisation, so they follow commit order.

mod error;
mod fields;
mod pool;
mod tx;

use std::fmt;

use pipewise_store::{Result, Store, StoreError, Tx};
use postgres::Config;

pub use crate::error::PostgresError;
use crate::error::{ConfigError, from_postgres};
use crate::pool::Pool;
use crate::tx::PgTx;

/// One embedded migration: its version, its name (shared with the SQLite engine) and its SQL.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in the order they apply. Never edit one that has shipped: add another.
/// The version of the last migration this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_records", sql: include_str!("../migrations/0001_records.sql") },
    Migration { version: 2, name: "0002_platform", sql: include_str!("../migrations/0002_platform.sql") },
    Migration { version: 3, name: "0003_gates", sql: include_str!("../migrations/0003_gates.sql") },
    Migration { version: 4, name: "0004_handoffs", sql: include_str!("../migrations/0004_handoffs.sql") },
    Migration { version: 5, name: "0005_activity_latest", sql: include_str!("../migrations/0005_activity_latest.sql") },
    Migration { version: 6, name: "0006_health_settings", sql: include_str!("../migrations/0006_health_settings.sql") },
    Migration { version: 7, name: "0007_activity_facts", sql: include_str!("../migrations/0007_activity_facts.sql") },
    Migration { version: 8, name: "0008_organisation_time_zone", sql: include_str!("../migrations/0008_organisation_time_zone.sql") },
    Migration { version: 9, name: "0009_quotas", sql: include_str!("../migrations/0009_quotas.sql") },
    Migration { version: 10, name: "0010_pay", sql: include_str!("../migrations/0010_pay.sql") },
    Migration { version: 11, name: "0011_deal_splits", sql: include_str!("../migrations/0011_deal_splits.sql") },
    Migration { version: 12, name: "0012_dispute_line", sql: include_str!("../migrations/0012_dispute_line.sql") },
    Migration { version: 13, name: "0013_forecast_calls", sql: include_str!("../migrations/0013_forecast_calls.sql") },
    Migration { version: 14, name: "0014_model_forecasts", sql: include_str!("../migrations/0014_model_forecasts.sql") },
    Migration { version: 15, name: "0015_import_keys", sql: include_str!("../migrations/0015_import_keys.sql") },
    Migration { version: 16, name: "0016_sentiment", sql: include_str!("../migrations/0016_sentiment.sql") },
    Migration { version: 17, name: "0017_mailbox", sql: include_str!("../migrations/0017_mailbox.sql") },
    Migration { version: 18, name: "0018_quarantine", sql: include_str!("../migrations/0018_quarantine.sql") },
    Migration { version: 19, name: "0019_webhooks", sql: include_str!("../migrations/0019_webhooks.sql") },
    Migration { version: 20, name: "0020_mailbox_security", sql: include_str!("../migrations/0020_mailbox_security.sql") },
    Migration { version: 21, name: "0021_digests", sql: include_str!("../migrations/0021_digests.sql") },
    Migration { version: 22, name: "0022_lead_routing", sql: include_str!("../migrations/0022_lead_routing.sql") },
    Migration { version: 23, name: "0023_lead_forms", sql: include_str!("../migrations/0023_lead_forms.sql") },
    Migration { version: 24, name: "0024_lead_attempts", sql: include_str!("../migrations/0024_lead_attempts.sql") },
    Migration { version: 25, name: "0025_lead_qualification", sql: include_str!("../migrations/0025_lead_qualification.sql") },
    Migration { version: 26, name: "0026_name_keys", sql: include_str!("../migrations/0026_name_keys.sql") },
    Migration { version: 27, name: "0027_deal_billing", sql: include_str!("../migrations/0027_deal_billing.sql") },
    Migration { version: 28, name: "0028_team_membership", sql: include_str!("../migrations/0028_team_membership.sql") },
    Migration { version: 29, name: "0029_stage_settings", sql: include_str!("../migrations/0029_stage_settings.sql") },
];

/// The first key of the advisory lock migrations hold; the second is the schema's hash, so
/// instances migrating different schemas do not wait for each other.
const MIGRATION_LOCK_CLASS: i32 = 0x5057_4d47;

/// A PostgreSQL database holding Pipewise records.
pub struct PgStore {
    pool: Pool,
    schema: Option<String>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`, or a key=value string)
    /// and checks that one connection opens.
    pub fn connect(url: &str) -> Result<PgStore> {
        PgStore::open(url, None)
    }

    /// Like [`PgStore::connect`], with every connection's `search_path` set to `schema`, which
    /// must already exist. Tests give each test its own schema this way.
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PgStore> {
        PgStore::open(url, Some(schema))
    }

    fn open(url: &str, schema: Option<&str>) -> Result<PgStore> {
        let mut config: Config = url.parse().map_err(from_postgres)?;
        if config.get_application_name().is_none() {
            config.application_name("pipewise");
        }
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            let options = match config.get_options() {
                Some(existing) if !existing.trim().is_empty() => format!("{existing} -c search_path={schema}"),
                _ => format!("-c search_path={schema}"),
            };
            config.options(&options);
        }
        let store = PgStore { pool: Pool::new(config), schema: schema.map(str::to_owned) };
        // Open one connection now, so a wrong URL or password fails here and not on first use.
        let connection = store.pool.take()?;
        store.pool.give_back(connection);
        Ok(store)
    }

    /// Runs one migration in its own transaction under the migration lock; returns whether it
    /// was applied now (`false` when an earlier run applied it).
    /// Applies every pending migration in one transaction that first takes the schema's
    /// migration lock: of several instances starting at once, one migrates everything and the
    /// others then find nothing to do. PostgreSQL DDL is transactional, so a failure leaves the
    /// schema as it was.
    fn apply_all(client: &mut postgres::Client) -> Result<Vec<String>> {
        let failed = |version: i64, error: postgres::Error| StoreError::Migration { version, detail: PostgresError(error).to_string() };
        let mut transaction = client.transaction().map_err(|error| failed(0, error))?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", &[&MIGRATION_LOCK_CLASS])
            .map_err(|error| failed(0, error))?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migration (\
                     version BIGINT PRIMARY KEY, \
                     name TEXT NOT NULL, \
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .map_err(|error| failed(0, error))?;
        let mut applied = Vec::new();
        for migration in MIGRATIONS {
            let version = migration.version;
            let done = transaction
                .query_opt("SELECT name FROM schema_migration WHERE version = $1", &[&version])
                .map_err(|error| failed(version, error))?;
            if let Some(row) = done {
                let name: String = row.try_get("name").map_err(|error| failed(version, error))?;
                if name != migration.name {
                    let detail = format!("the database applied {name} as version {version}, not {}", migration.name);
                    return Err(StoreError::Migration { version, detail });
                }
                continue;
            }
            transaction.batch_execute(migration.sql).map_err(|error| failed(version, error))?;
            transaction
                .execute(pipewise_store::sql::INSERT_SCHEMA_MIGRATION, &[&version, &migration.name])
                .map_err(|error| failed(version, error))?;
            applied.push(migration.name.to_owned());
        }
        for (select, update) in pipewise_store::sql::UNKEYED_NAMES {
            let unkeyed = transaction.query(select, &[]).map_err(|error| failed(0, error))?;
            let update = transaction.prepare(update).map_err(|error| failed(0, error))?;
            for row in unkeyed {
                let (id, name): (i64, String) = (row.get(0), row.get(1));
                transaction.execute(&update, &[&pipewise_store::name_key(&name), &id]).map_err(|error| failed(0, error))?;
            }
        }
        transaction.commit().map_err(|error| failed(0, error))?;
        Ok(applied)
    }
}

impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    fn migrate(&self) -> Result<Vec<String>> {
        let mut connection = self.pool.take()?;
        // A failed transaction was rolled back when it was dropped; the connection is fine.
        let result = PgStore::apply_all(&mut connection.client);
        self.pool.give_back(connection);
        result
    }

    fn write(&self) -> Result<Box<dyn Tx + '_>> {
        Ok(Box::new(PgTx::begin(&self.pool, false)?))
    }

    fn read(&self) -> Result<Box<dyn Tx + '_>> {
        Ok(Box::new(PgTx::begin(&self.pool, true)?))
    }

    fn pool_use(&self) -> Option<pipewise_store::PoolUse> {
        Some(self.pool.use_now())
    }
}

/// Shows where the store connects, with the password redacted.
impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.pool.config();
        f.debug_struct("PgStore")
            .field("user", &config.get_user())
            .field("password", &config.get_password().map(|_| "<redacted>"))
            .field("hosts", &config.get_hosts())
            .field("ports", &config.get_ports())
            .field("dbname", &config.get_dbname())
            .field("schema", &self.schema)
            .finish()
    }
}

/// Accepts a plain identifier (letters, digits, `_`, not starting with a digit, at most 63
/// bytes), which needs no quoting in `search_path` and cannot smuggle in other settings.
fn check_schema_name(schema: &str) -> Result<()> {
    let mut characters = schema.chars();
    let plain = characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
        && schema.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(StoreError::database(ConfigError(format!(
            "schema {schema:?} is not a plain identifier (letters, digits and _, not starting with a digit, at most 63 bytes)"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("pipewise_test_17").is_ok());
        assert!(check_schema_name("_x").is_ok());
        for bad in ["", "1abc", "a b", "a;drop", "a-c", "x\\ -c", &"a".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1);
            assert!(migration.name.starts_with(&format!("{:04}_", migration.version)), "{}", migration.name);
        }
    }
}
