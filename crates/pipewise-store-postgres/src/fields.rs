//! Reading one stored row: [`PgRow`] is PostgreSQL's [`EngineRow`], so [`Fields`] over it is the
//! [`Columns`](pipewise_store::rows::Columns) `pipewise_store::rows` decodes the records from,
//! column by column and by name. Every surprise (a NULL where none belongs, an unknown enum text,
//! an unparsable amount) becomes [`StoreError::Corrupt`](pipewise_store::StoreError::Corrupt)
//! naming the table, the row and the column, never a panic.
//!
//! Conversions, and why each is exact:
//! - `timestamptz` travels in binary as whole microseconds and is read as a `jiff::Timestamp`,
//!   which [`Timestamp::from_jiff`] turns into the same microseconds.
//! - `date` travels in binary as days and is read as a `jiff::civil::Date`, which is
//!   Pipewise's [`Date`].
//! - `numeric` is selected as text (`amount::text`) and parsed as a decimal: no float on the way.

use pipewise_core::{Date, Timestamp};
use pipewise_store::Result;
use pipewise_store::rows::{self, EngineRow, FromRow, Native};
use postgres::Row;
use postgres::types::FromSql;

use crate::error::PostgresError;

/// Decodes a row as a `T` (see [`pipewise_store::rows`]).
pub(crate) fn read<T: FromRow>(row: &Row) -> Result<T> {
    T::from_row(&mut Fields::new(row, T::TABLE))
}

/// One row of a table, read column by column.
pub(crate) type Fields<'row> = rows::Fields<PgRow<'row>>;

/// The driver's row as [`Fields`] reads it.
pub(crate) struct PgRow<'row>(&'row Row);

impl<'row> From<&'row Row> for PgRow<'row> {
    fn from(row: &'row Row) -> PgRow<'row> {
        PgRow(row)
    }
}

impl<'row, T: FromSql<'row>> Native<T> for PgRow<'row> {
    fn native(&self, column: &str) -> Result<T, String> {
        self.0.try_get(column).map_err(|error| PostgresError(error).to_string())
    }
}

impl EngineRow for PgRow<'_> {
    fn timestamp(&self, column: &str) -> Result<Timestamp, String> {
        self.native(column).map(Timestamp::from_jiff)
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>, String> {
        let at: Option<jiff::Timestamp> = self.native(column)?;
        Ok(at.map(Timestamp::from_jiff))
    }

    fn optional_date(&self, column: &str) -> Result<Option<Date>, String> {
        self.native(column)
    }
}

#[cfg(test)]
mod tests {
    use pipewise_store::rows::Columns;

    use super::*;

    #[test]
    fn errors_name_the_table_the_row_and_the_column() {
        let Some(url) = pipewise_test_support::postgres_server_url() else { return };
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "SELECT 42::bigint AS opportunity_id, NULL::text AS name, 'soon'::text AS created_at, 3000000000::bigint AS position, \
                 'x'::text AS amount, 'USD'::text AS currency, TIMESTAMPTZ '2026-03-01 09:00:00.000001Z' AS at, DATE '2026-03-01' AS day",
                &[],
            )
            .unwrap();
        let mut fields = Fields::new(&row, "opportunity");
        let error = fields.text("name").unwrap_err().to_string();
        assert!(error.starts_with("stored opportunity row is unreadable: name: "), "{error}");
        assert_eq!(fields.key("opportunity_id").unwrap(), 42);
        for (column, error) in [
            ("name", fields.text("name").map(drop)),
            ("created_at", fields.timestamp("created_at").map(drop)),
            ("position", fields.small_integer("position").map(drop)),
            ("stage_id", fields.integer("stage_id").map(drop)),
            ("amount", fields.money("amount", "currency").map(drop)),
        ] {
            let error = error.unwrap_err().to_string();
            assert!(error.starts_with(&format!("stored opportunity row is unreadable: opportunity 42: {column}: ")), "{error}");
        }
        assert_eq!(fields.timestamp("at").unwrap(), Timestamp::from_micros(1_772_355_600_000_001));
        assert_eq!(fields.optional_date("day").unwrap(), Some(pipewise_core::time::parse_date("2026-03-01").unwrap()));
    }
}
