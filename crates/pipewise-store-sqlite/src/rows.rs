//! Reading one stored row: [`SqliteRow`] is SQLite's [`EngineRow`], so [`Fields`] over it is the
//! [`Columns`](pipewise_store::rows::Columns) `pipewise_store::rows` decodes the records from,
//! column by column and by name. Every surprise (a NULL where none belongs, a value of the wrong
//! type, an unknown enum text, an unparsable amount) becomes [`StoreError::Corrupt`] naming the
//! table, the row and the column, never a panic; the messages read like the PostgreSQL engine's:
//! `stored opportunity row is unreadable: opportunity 42: amount: …`.
//!
//! Conversions: times are `INTEGER` microseconds since the Unix epoch, dates are `YYYY-MM-DD`
//! text, and exact decimals (amounts, rates, win probabilities) are text parsed as decimals.

use std::cell::Cell;

use pipewise_core::time::{Date, Timestamp, parse_date};
use pipewise_store::rows::{self, EngineRow, FromRow, Native};
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

/// One row of a table, read column by column.
pub(crate) type Fields<'row, 'stmt> = rows::Fields<SqliteRow<'row, 'stmt>>;

/// The driver's row as [`Fields`] reads it.
pub(crate) struct SqliteRow<'row, 'stmt> {
    row: &'row Row<'stmt>,
    names: Option<&'row [String]>,
    /// The index where the next column is looked for first. Decoders read the columns mostly in
    /// the order the statement selects them, so a name is found at once instead of by a scan of
    /// the driver's column names (which, for every column of every row, doubled the time it took
    /// to read a long list of deals).
    next: Cell<usize>,
}

impl<'row, 'stmt> From<&NamedRow<'row, 'stmt>> for SqliteRow<'row, 'stmt> {
    fn from(row: &NamedRow<'row, 'stmt>) -> SqliteRow<'row, 'stmt> {
        SqliteRow { row: row.row, names: row.names, next: Cell::new(0) }
    }
}

impl<'stmt> SqliteRow<'_, 'stmt> {
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

impl<T: FromSql> Native<T> for SqliteRow<'_, '_> {
    fn native(&self, column: &str) -> Result<T, String> {
        self.index(column).and_then(|index| self.row.get::<usize, T>(index)).map_err(|error| self.unreadable(column, error))
    }
}

impl EngineRow for SqliteRow<'_, '_> {
    fn timestamp(&self, column: &str) -> Result<Timestamp, String> {
        self.native(column).map(Timestamp::from_micros)
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>, String> {
        let micros: Option<i64> = self.native(column)?;
        Ok(micros.map(Timestamp::from_micros))
    }

    fn optional_date(&self, column: &str) -> Result<Option<Date>, String> {
        let text: Option<String> = self.native(column)?;
        text.map(|text| parse_date(&text).map_err(|problem| problem.to_string())).transpose()
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

#[cfg(test)]
mod tests {
    use pipewise_store::rows::Columns;

    use super::*;

    /// What reading `read` from the one row of `select` says, as [`StoreError::Corrupt`] shows it.
    fn error_of<T: std::fmt::Debug>(select: &str, read: impl FnOnce(&mut Fields<'_, '_>) -> Result<T>) -> String {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let mut statement = connection.prepare(select).unwrap();
        let mut rows = statement.query([]).unwrap();
        let row = rows.next().unwrap().unwrap();
        let mut fields = Fields::new(&NamedRow { row, names: None }, "opportunity");
        read(&mut fields).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_table_the_row_and_the_column() {
        let select = "SELECT 42 AS opportunity_id, NULL AS name, 'soon' AS created_at, 3000000000 AS position, \
                      '2026-13-45' AS close_date, 'x' AS amount, 'USD' AS currency";
        let unreadable = |read: fn(&mut Fields<'_, '_>) -> Result<()>| error_of(select, read);
        assert_eq!(
            unreadable(|fields| fields.text("name").map(drop)),
            "stored opportunity row is unreadable: name: is NULL",
            "before the key is read, the row has no id yet"
        );
        let keyed = |read: fn(&Fields<'_, '_>) -> Result<()>| {
            error_of(select, |fields| {
                fields.key("opportunity_id")?;
                read(fields)
            })
        };
        assert_eq!(keyed(|fields| fields.text("name").map(drop)), "stored opportunity row is unreadable: opportunity 42: name: is NULL");
        assert_eq!(
            keyed(|fields| fields.timestamp("created_at").map(drop)),
            "stored opportunity row is unreadable: opportunity 42: created_at: \"soon\" is not of the expected type"
        );
        assert_eq!(
            keyed(|fields| fields.small_integer("position").map(drop)),
            "stored opportunity row is unreadable: opportunity 42: position: 3000000000 is out of range"
        );
        assert_eq!(
            keyed(|fields| fields.integer("stage_id").map(drop)),
            "stored opportunity row is unreadable: opportunity 42: stage_id: is not among the columns read"
        );
        assert!(
            keyed(|fields| fields.optional_date("close_date").map(drop))
                .starts_with("stored opportunity row is unreadable: opportunity 42: close_date: "),
        );
        assert!(
            keyed(|fields| fields.money("amount", "currency").map(drop))
                .starts_with("stored opportunity row is unreadable: opportunity 42: amount: "),
        );
    }

    #[test]
    fn columns_read_as_stored() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let mut statement = connection
            .prepare("SELECT 7 AS id, 'Acme' AS name, NULL AS note, 1 AS active, 1794000000123457 AS at, '2026-03-01' AS day")
            .unwrap();
        let mut rows = statement.query([]).unwrap();
        let row = rows.next().unwrap().unwrap();
        let mut fields = Fields::new(&NamedRow { row, names: None }, "account");
        assert_eq!(fields.key("id").unwrap(), 7);
        assert_eq!(fields.text("name").unwrap(), "Acme");
        assert_eq!(fields.optional_text("note").unwrap(), None);
        assert!(fields.boolean("active").unwrap());
        assert_eq!(fields.timestamp("at").unwrap(), Timestamp::from_micros(1_794_000_000_123_457));
        assert_eq!(fields.optional_date("day").unwrap(), Some(parse_date("2026-03-01").unwrap()));
        assert_eq!(fields.value::<Option<u32>>("note").unwrap(), None);
    }
}
