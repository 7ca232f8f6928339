//! Turning SQLite values into domain values. Stored data that does not decode is reported as
//! [`StoreError::Corrupt`] naming the table, never a panic.

use std::str::FromStr;

use pipewise_core::Problem;
use pipewise_core::money::{Currency, Decimal, Money};
use pipewise_core::time::{Date, Timestamp, parse_date};
use pipewise_store::StoreError;

pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { table, detail: detail.to_string() }
}

pub(crate) fn timestamp(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros)
}

pub(crate) fn date(table: &'static str, text: Option<String>) -> Result<Option<Date>, StoreError> {
    text.map(|text| parse_date(&text).map_err(|problem| corrupt(table, problem))).transpose()
}

pub(crate) fn money(table: &'static str, amount: Option<String>, currency: Option<String>) -> Result<Option<Money>, StoreError> {
    match (amount, currency) {
        (Some(amount), Some(currency)) => {
            let currency = Currency::from_code(&currency).map_err(|problem| corrupt(table, problem))?;
            Money::parse_amount(&amount, currency).map(Some).map_err(|problem| corrupt(table, problem))
        }
        (None, None) => Ok(None),
        _ => Err(corrupt(table, "amount and currency must be set together")),
    }
}

pub(crate) fn decimal(table: &'static str, text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text).map_err(|error| corrupt(table, format!("{text:?}: {error}")))
}

/// Decodes a text enum column (`Role::parse`, `StageKind::parse`, …).
pub(crate) fn parsed<T>(table: &'static str, text: &str, parse: impl Fn(&str) -> Result<T, Problem>) -> Result<T, StoreError> {
    parse(text).map_err(|problem| corrupt(table, problem))
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
