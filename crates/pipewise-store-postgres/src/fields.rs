//! Reading one stored row back into Pipewise values, where every surprise (a NULL where none
//! belongs, an unknown enum text, an unparsable amount) becomes [`StoreError::Corrupt`] naming
//! the table, the row and the column, never a panic.
//!
//! Conversions, and why each is exact:
//! - `timestamptz` travels in binary as whole microseconds and is read as a `jiff::Timestamp`,
//!   which [`Timestamp::from_jiff`] turns into the same microseconds.
//! - `date` travels in binary as days and is read as a `jiff::civil::Date`, which is
//!   Pipewise's [`Date`].
//! - `numeric` is selected as text (`amount::text`) and parsed as a decimal: no float on the way.

use std::str::FromStr;

use pipewise_core::money::{Currency, Decimal, Money};
use pipewise_core::{Date, Problem, Timestamp};
use pipewise_store::Result;
use postgres::Row;
use postgres::types::FromSql;

use crate::error::{PostgresError, corrupt};

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

    /// Reads the row's id from `column` and remembers it for error messages.
    pub(crate) fn key(&mut self, column: &str) -> Result<i64> {
        let key: i64 = self.get(column)?;
        self.key = Some(key);
        Ok(key)
    }

    pub(crate) fn get<T: FromSql<'row>>(&self, column: &str) -> Result<T> {
        self.row.try_get(column).map_err(|error| self.corrupt(column, PostgresError(error)))
    }

    pub(crate) fn timestamp(&self, column: &str) -> Result<Timestamp> {
        let value: jiff::Timestamp = self.get(column)?;
        Ok(Timestamp::from_jiff(value))
    }

    pub(crate) fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>> {
        let value: Option<jiff::Timestamp> = self.get(column)?;
        Ok(value.map(Timestamp::from_jiff))
    }

    pub(crate) fn optional_date(&self, column: &str) -> Result<Option<Date>> {
        self.get(column)
    }

    /// A text column parsed by `parse` (an enum's `parse`, for instance).
    pub(crate) fn parsed<T>(&self, column: &str, parse: impl FnOnce(&str) -> Result<T, Problem>) -> Result<T> {
        let text: &str = self.get(column)?;
        parse(text).map_err(|problem| self.corrupt(column, problem))
    }

    /// A `numeric` column selected as text.
    pub(crate) fn decimal(&self, column: &str) -> Result<Decimal> {
        let text: &str = self.get(column)?;
        Decimal::from_str(text).map_err(|error| self.corrupt(column, format!("{text:?} is not a decimal: {error}")))
    }

    /// An amount (`numeric` selected as text) and its currency code; both or neither are set.
    pub(crate) fn money(&self, amount_column: &str, currency_column: &str) -> Result<Option<Money>> {
        let amount: Option<&str> = self.get(amount_column)?;
        let currency: Option<&str> = self.get(currency_column)?;
        match (amount, currency) {
            (None, None) => Ok(None),
            (Some(amount), Some(code)) => {
                let currency = Currency::from_code(code).map_err(|problem| self.corrupt(currency_column, problem))?;
                let money = Money::parse_amount(amount, currency).map_err(|problem| self.corrupt(amount_column, problem))?;
                Ok(Some(money))
            }
            _ => Err(self.corrupt(amount_column, format!("{amount_column} and {currency_column} must be set together"))),
        }
    }

    pub(crate) fn corrupt(&self, column: &str, problem: impl std::fmt::Display) -> pipewise_store::StoreError {
        match self.key {
            Some(key) => corrupt(self.table, format!("{} {key}: {column}: {problem}", self.table)),
            None => corrupt(self.table, format!("{column}: {problem}")),
        }
    }
}
