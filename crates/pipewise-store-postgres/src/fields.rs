//! Reading one stored row: [`Fields`] is PostgreSQL's [`Columns`], so the records are decoded by
//! `pipewise_store::rows`, column by column and by name. Every surprise (a NULL where none
//! belongs, an unknown enum text, an unparsable amount) becomes [`StoreError::Corrupt`] naming the
//! table, the row and the column, never a panic.
//!
//! Conversions, and why each is exact:
//! - `timestamptz` travels in binary as whole microseconds and is read as a `jiff::Timestamp`,
//!   which [`Timestamp::from_jiff`] turns into the same microseconds.
//! - `date` travels in binary as days and is read as a `jiff::civil::Date`, which is
//!   Pipewise's [`Date`].
//! - `numeric` is selected as text (`amount::text`) and parsed as a decimal: no float on the way.

use pipewise_core::{Date, Timestamp};
use pipewise_store::rows::{Columns, FromRow};
use pipewise_store::{Result, StoreError};
use postgres::Row;
use postgres::types::FromSql;

use crate::error::PostgresError;

/// Decodes a row as a `T` (see [`pipewise_store::rows`]).
pub(crate) fn read<T: FromRow>(row: &Row) -> Result<T> {
    T::from_row(&mut Fields::new(row, T::TABLE))
}

/// One row of `table`, read column by column.
pub(crate) struct Fields<'row> {
    row: &'row Row,
    table: &'static str,
    /// The row's id, once read, so errors can point at the row.
    key: Option<i64>,
}

impl<'row> Fields<'row> {
    pub(crate) fn new(row: &'row Row, table: &'static str) -> Fields<'row> {
        Fields { row, table, key: None }
    }

    /// A column as the driver reads it into `T` (the [`Columns`] readers are made of this).
    pub(crate) fn value<T: FromSql<'row>>(&self, column: &str) -> Result<T> {
        self.row.try_get(column).map_err(|error| self.corrupt(column, PostgresError(error)))
    }
}

impl Columns for Fields<'_> {
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
        Ok(Timestamp::from_jiff(self.value(column)?))
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>> {
        Ok(self.value::<Option<jiff::Timestamp>>(column)?.map(Timestamp::from_jiff))
    }

    fn optional_date(&self, column: &str) -> Result<Option<Date>> {
        self.value(column)
    }

    fn corrupt(&self, column: &str, problem: impl std::fmt::Display) -> StoreError {
        pipewise_store::rows::corrupt(self.table, self.key, column, problem)
    }
}
