//! [`PgTx`]: one transaction on one pooled connection, its [`Tx::commit`] and rollback on drop, and
//! the statement helpers every area shares. The SQL of every primitive lives in the submodule named
//! like its area trait in `pipewise_store` (`records`, `deals`, …), except the statements both
//! engines run unchanged, which come from [`pipewise_store::sql`]. Every statement is
//! parameterised, prepared once per connection, and filtered by `organisation_id`, except those that
//! run before an organisation is known: looking a session or an API token up by its hash, finding a
//! user by e-mail for signing in, and counting sign-in attempts.
//!
//! Values cross the wire as follows (see [`crate::fields`] for the way back):
//! times as binary `timestamptz` from `jiff::Timestamp`, dates as binary `date`, and exact
//! decimals (amounts, rates, win probabilities) as text cast in SQL (`$1::text::numeric`).

mod activities;
mod audit;
mod auth;
mod bulk;
mod deals;
mod digests;
mod forecast;
mod forms;
mod gates;
mod imports;
mod mailboxes;
mod organisations;
mod pay;
mod pipelines;
mod quotas;
mod records;
mod routing;
mod sentiment;
mod settings;
mod webhooks;
mod workspace;

use pipewise_core::access::DealScope;
use pipewise_store::{Result, StoreError, Tx};
use postgres::Row;
use postgres::types::ToSql;

use crate::error::{ConfigError, from_postgres};
use crate::pool::{Connection, Pool};

type Params<'a> = [&'a (dyn ToSql + Sync)];

/// A transaction that holds a pooled connection until it commits or is dropped.
pub(crate) struct PgTx<'store> {
    pool: &'store Pool,
    /// `None` only after [`Tx::commit`] or during [`Drop`].
    connection: Option<Connection>,
    /// A `REPEATABLE READ READ ONLY` snapshot, where row locks are neither possible nor needed.
    read_only: bool,
}

impl<'store> PgTx<'store> {
    /// Takes a connection and starts a transaction on it.
    pub(crate) fn begin(pool: &'store Pool, read_only: bool) -> Result<PgTx<'store>> {
        let mut connection = pool.take()?;
        let begin = if read_only { "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" } else { "BEGIN ISOLATION LEVEL READ COMMITTED" };
        if let Err(error) = connection.client.batch_execute(begin) {
            // A connection that cannot start a transaction is not worth keeping.
            drop(connection);
            pool.forget_one();
            return Err(from_postgres(error));
        }
        Ok(PgTx { pool, connection: Some(connection), read_only })
    }

    fn connection(&mut self) -> Result<&mut Connection> {
        self.connection.as_mut().ok_or_else(|| StoreError::database(ConfigError("the transaction has already ended".to_owned())))
    }

    fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query(&statement, params).map_err(from_postgres)
    }

    /// Every row `sql` returns, each decoded by `decode` (a record's is [`read`](crate::fields::read)).
    fn collect<T>(&mut self, sql: &str, params: &Params<'_>, decode: impl FnMut(&Row) -> Result<T>) -> Result<Vec<T>> {
        self.query(sql, params)?.iter().map(decode).collect()
    }

    /// The first row `sql` returns, if any, decoded by `decode`.
    fn one<T>(&mut self, sql: &str, params: &Params<'_>, decode: impl FnOnce(&Row) -> Result<T>) -> Result<Option<T>> {
        self.query_opt(sql, params)?.as_ref().map(decode).transpose()
    }

    fn query_opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query_opt(&statement, params).map_err(from_postgres)
    }

    fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query_one(&statement, params).map_err(from_postgres)
    }

    fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.execute(&statement, params).map_err(from_postgres)
    }

    /// Runs a statement without parameters or results, such as `SAVEPOINT`.
    fn simple(&mut self, sql: &str) -> Result<()> {
        self.connection()?.client.batch_execute(sql).map_err(from_postgres)
    }

    /// The id a `RETURNING` clause gave back in its first column.
    fn returned_id(&mut self, table: &'static str, sql: &str, params: &Params<'_>) -> Result<i64> {
        let row = self.query_one(sql, params)?;
        row.try_get(0).map_err(|error| crate::error::corrupt(table, format!("returned id: {}", crate::error::PostgresError(error))))
    }
}

impl Tx for PgTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        let Some(mut connection) = self.connection.take() else {
            return Err(StoreError::database(ConfigError("the transaction has already ended".to_owned())));
        };
        match connection.client.batch_execute("COMMIT") {
            Ok(()) => {
                self.pool.give_back(connection);
                Ok(())
            }
            Err(error) => {
                // The server ended the transaction either way; a fresh connection is the safe bet.
                drop(connection);
                self.pool.forget_one();
                Err(from_postgres(error))
            }
        }
    }
}

impl Drop for PgTx<'_> {
    /// Rolls back a transaction that was not committed, and keeps the connection only when the
    /// rollback worked.
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        match connection.client.batch_execute("ROLLBACK") {
            Ok(()) => self.pool.give_back(connection),
            Err(_) => {
                drop(connection);
                self.pool.forget_one();
            }
        }
    }
}

/// `Ok` when an update changed a row, else `NotFound`.
fn found(updated: u64, kind: &'static str, id: i64) -> Result<()> {
    if updated == 0 { Err(StoreError::NotFound { kind, id }) } else { Ok(()) }
}

/// The deals of a scope's owners (`$6`) and those shared with its reader (`$7`); `$1` is the
/// organisation.
const VISIBLE_DEALS: &str = "(SELECT opportunity_id FROM opportunity WHERE organisation_id = $1 AND (owner_id = ANY($6::bigint[]) \
     OR opportunity_id IN (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = $1 AND user_id = $7)))";

/// `(restricted, owners, shared_with)` for the `$5`, `$6`, `$7` of a scoped task or activity
/// query; unrestricted for no scope or [`DealScope::All`].
fn scope_params(scope: Option<&DealScope>) -> (bool, Vec<i64>, i64) {
    match scope {
        Some(DealScope::Owners { owners, shared_with }) => (true, owners.iter().map(|owner| owner.0).collect(), shared_with.0),
        Some(DealScope::All) | None => (false, Vec::new(), 0),
    }
}
