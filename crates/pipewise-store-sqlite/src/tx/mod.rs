//! One SQLite transaction ([`SqliteTx`]): its connection, [`Tx::commit`], rollback on drop, and what
//! every area shares (the statement helpers, `found`, `scope_condition`). Each area trait of
//! `pipewise_store` is implemented in the submodule of the same name (`records`, `deals`, …).
//!
//! The statements both engines run unchanged come from [`pipewise_store::sql`] (with `$1`-style
//! placeholders, which SQLite binds by position because they first appear in ascending order);
//! the rest are SQLite's own, with `?1`-style placeholders. Rows are decoded by column name
//! through [`crate::rows::Fields`], records by [`pipewise_store::rows`] ([`crate::rows::read`]).

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

use std::sync::MutexGuard;

use pipewise_core::*;
use pipewise_store::{Result, StoreError, Tx};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::SqliteStore;
use crate::rows::NamedRow;

pub(crate) enum Conn<'a> {
    Writer(MutexGuard<'a, Connection>),
    Reader { store: &'a SqliteStore, connection: Option<Connection> },
}

pub(crate) struct SqliteTx<'a> {
    conn: Conn<'a>,
    finished: bool,
}

impl<'a> SqliteTx<'a> {
    pub(crate) fn new(conn: Conn<'a>) -> SqliteTx<'a> {
        SqliteTx { conn, finished: false }
    }

    fn db(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(guard) => guard,
            Conn::Reader { connection, .. } => connection.as_ref().expect("a reader holds its connection until dropped"),
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Rolling back can only fail if no transaction is open, which is what we want anyway.
            let _ = self.db().execute_batch("ROLLBACK");
        }
        if let Conn::Reader { store, connection } = &mut self.conn
            && let Some(connection) = connection.take()
        {
            store.return_reader(connection);
        }
    }
}

impl Tx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        self.db().execute_batch("COMMIT").map_err(db_err)?;
        self.finished = true;
        Ok(())
    }
}

impl SqliteTx<'_> {
    /// Every row `sql` returns, each decoded by `decode`, which reads its columns by name (see
    /// [`crate::rows::Fields`]); the column names are read once for all the rows.
    fn collect<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        mut decode: impl FnMut(&NamedRow<'_, '_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement.query(params).map_err(db_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_err)? {
            out.push(decode(&NamedRow { row, names: Some(&names) })?);
        }
        Ok(out)
    }

    /// The first row `sql` returns, if any, decoded by `decode`.
    fn one<T>(&self, sql: &str, params: impl rusqlite::Params, decode: impl FnOnce(&NamedRow<'_, '_>) -> Result<T>) -> Result<Option<T>> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        let mut rows = statement.query(params).map_err(db_err)?;
        let value = match rows.next().map_err(db_err)? {
            Some(row) => Some(decode(&NamedRow { row, names: None })?),
            None => None,
        };
        Ok(value)
    }

    /// Runs a statement; returns how many rows it changed.
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        statement.execute(params).map_err(db_err)
    }

    /// The id an `INSERT … RETURNING` statement gave back in its first column.
    fn returned_id(&self, sql: &str, params: impl rusqlite::Params) -> Result<i64> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        statement.query_row(params, |row| row.get(0)).map_err(db_err)
    }
}

fn db_err(error: rusqlite::Error) -> StoreError {
    StoreError::database(error)
}

/// `Ok` when an update changed a row, else `NotFound`.
fn found(changed: usize, kind: &'static str, id: i64) -> Result<()> {
    if changed == 0 { Err(StoreError::NotFound { kind, id }) } else { Ok(()) }
}

/// Ids as one JSON array parameter (`[4,8,15]`) that `json_each` lists: one statement text (and one
/// cache entry) whatever their number.
fn json_array(ids: impl IntoIterator<Item = i64>) -> Value {
    Value::Text(format!("[{}]", ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")))
}

/// The condition that keeps rows (tasks, activities) whose deal is in the scope, or whose
/// `person_column` is one of the scope's owners. Appends its parameters to `values`; `?1` is
/// the organisation.
fn scope_condition(
    person_column: &str,
    owners: &std::collections::BTreeSet<UserId>,
    shared_with: UserId,
    values: &mut Vec<Value>,
) -> String {
    values.push(json_array(owners.iter().map(|owner| owner.0)));
    values.push(Value::Integer(shared_with.0));
    let (owners, shared) = (values.len() - 1, values.len());
    format!(
        " AND ({person_column} IN (SELECT value FROM json_each(?{owners})) OR opportunity_id IN \
         (SELECT opportunity_id FROM opportunity WHERE organisation_id = ?1 AND (owner_id IN (SELECT value FROM json_each(?{owners})) \
         OR opportunity_id IN (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = ?1 AND user_id = ?{shared}))))"
    )
}
