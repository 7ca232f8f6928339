//! Reading one stored row: [`Fields`] is SQLite's [`Columns`], so the records are decoded by
//! `pipewise_store::rows`, column by column and by name. Every surprise (a NULL where none belongs,
//! a value of the wrong type, an unknown enum text, an unparsable amount) becomes
//! [`StoreError::Corrupt`] naming the table, the row and the column, never a panic; the messages
//! read like the PostgreSQL engine's: `stored opportunity row is unreadable: opportunity 42: amount: …`.
//!
//! Conversions: times are `INTEGER` microseconds since the Unix epoch, dates are `YYYY-MM-DD`
//! text, and exact decimals (amounts, rates, win probabilities) are text parsed as decimals.

use std::cell::Cell;

use pipewise_core::time::{Date, Timestamp, parse_date};
use pipewise_store::rows::{Columns, FromRow};
use pipewise_store::{Result, StoreError};
use rusqlite::types::{FromSql, Type, ValueRef};
use rusqlite::{Row, Statement};

/// A row as the statement helpers hand it to a decoder: the driver's row and, when the
/// statement gives many rows, its column names read once for all of them.
pub(crate) struct NamedRow<'row, 'stmt> {
    pub(crate) row: &'row Row<'stmt>,
    pub(crate) names: Option<&'row [String]>,
}

/// Decodes a row as a `T` (see [`pipewise_store::rows`]).
pub(crate) fn read<T: FromRow>(row: &NamedRow<'_, '_>) -> Result<T> {
    T::from_row(&mut Fields::new(row, T::TABLE))
}

/// One row of `table`, read column by column.
pub(crate) struct Fields<'row, 'stmt> {
    row: &'row Row<'stmt>,
    names: Option<&'row [String]>,
    table: &'static str,
    /// The row's id, once read, so errors can point at the row.
    key: Option<i64>,
    /// The index where the next column is looked for first. Decoders read the columns mostly in
    /// the order the statement selects them, so a name is found at once instead of by a scan of
    /// the driver's column names (which, for every column of every row, doubled the time it took
    /// to read a long list of deals).
    next: Cell<usize>,
}

impl<'row, 'stmt> Fields<'row, 'stmt> {
    pub(crate) fn new(row: &NamedRow<'row, 'stmt>, table: &'static str) -> Fields<'row, 'stmt> {
        Fields { row: row.row, names: row.names, table, key: None, next: Cell::new(0) }
    }

    /// A column as the driver reads it into `T` (the [`Columns`] readers are made of this).
    pub(crate) fn value<T: FromSql>(&self, column: &str) -> Result<T> {
        self.index(column)
            .and_then(|index| self.row.get::<usize, T>(index))
            .map_err(|error| self.corrupt(column, self.unreadable(column, error)))
    }

    /// The index of `column` (compared ignoring ASCII case, as SQLite names columns).
    fn index(&self, column: &str) -> rusqlite::Result<usize> {
        let guess = self.next.get();
        let index = match self.names {
            Some(names) if names.get(guess).is_some_and(|name| name.eq_ignore_ascii_case(column)) => guess,
            Some(names) => names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(column))
                .ok_or_else(|| rusqlite::Error::InvalidColumnName(column.to_owned()))?,
            None => {
                let statement: &Statement<'stmt> = self.row.as_ref();
                if guess < statement.column_count() && statement.column_name(guess)?.eq_ignore_ascii_case(column) {
                    guess
                } else {
                    statement.column_index(column)?
                }
            }
        };
        self.next.set(index + 1);
        Ok(index)
    }

    /// What is wrong with `column`, whose value the driver could not read as the type asked for.
    fn unreadable(&self, column: &str, error: rusqlite::Error) -> String {
        match error {
            rusqlite::Error::InvalidColumnType(_, _, Type::Null) => "is NULL".to_owned(),
            rusqlite::Error::InvalidColumnType(..) => match self.row.get_ref(column) {
                Ok(value) => format!("{} is not of the expected type", shown(value)),
                Err(error) => error.to_string(),
            },
            rusqlite::Error::IntegralValueOutOfRange(_, value) => format!("{value} is out of range"),
            rusqlite::Error::InvalidColumnName(_) => "is not among the columns read".to_owned(),
            other => other.to_string(),
        }
    }
}

impl Columns for Fields<'_, '_> {
    fn key(&mut self, column: &str) -> Result<i64> {
        let key: i64 = self.value(column)?;
        self.key = Some(key);
        Ok(key)
    }

    fn integer(&self, column: &str) -> Result<i64> {
        self.value(column)
    }

    fn optional_integer(&self, column: &str) -> Result<Option<i64>> {
        self.value(column)
    }

    fn small_integer(&self, column: &str) -> Result<i32> {
        self.value(column)
    }

    fn optional_small_integer(&self, column: &str) -> Result<Option<i32>> {
        self.value(column)
    }

    fn text(&self, column: &str) -> Result<String> {
        self.value(column)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>> {
        self.value(column)
    }

    fn boolean(&self, column: &str) -> Result<bool> {
        self.value(column)
    }

    fn timestamp(&self, column: &str) -> Result<Timestamp> {
        Ok(Timestamp::from_micros(self.value(column)?))
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>> {
        Ok(self.value::<Option<i64>>(column)?.map(Timestamp::from_micros))
    }

    fn optional_date(&self, column: &str) -> Result<Option<Date>> {
        let text: Option<String> = self.value(column)?;
        text.map(|text| parse_date(&text).map_err(|problem| self.corrupt(column, problem))).transpose()
    }

    fn corrupt(&self, column: &str, problem: impl std::fmt::Display) -> StoreError {
        pipewise_store::rows::corrupt(self.table, self.key, column, problem)
    }
}

/// A stored value as an error message shows it: `"12x"`, `42`, `a 16-byte blob`.
fn shown(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(integer) => integer.to_string(),
        ValueRef::Real(real) => real.to_string(),
        ValueRef::Text(text) => format!("{:?}", String::from_utf8_lossy(text)),
        ValueRef::Blob(blob) => format!("a {}-byte blob", blob.len()),
    }
}

/// Maps a unique-constraint failure to a [`StoreError::Conflict`] with `message`; any other
/// error to a database error.
pub(crate) fn conflict_or(error: rusqlite::Error, message: impl FnOnce() -> String) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(message())
        }
        _ => StoreError::database(error),
    }
}
