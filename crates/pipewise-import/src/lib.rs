//! Pure import rules (SPEC C11): which column of a CSV export fills which field, and each line
//! read into typed values or into problems that name its line and column.
//!
//! The headers of Salesforce, HubSpot and Pipedrive exports are recognised ([`mapping`]), and the
//! CRM guessed from them; a user's choices (`field=Header`) override recognition. Cells are read
//! the way exports write them ([`values`]): dates in ISO, US, European and Korean order, amounts
//! with grouping and a currency symbol or code, a website as its domain. A line becomes a
//! [`DealRow`] or an [`AccountRow`], or every problem found on it ([`LineError`]); owners,
//! accounts, pipelines and stages stay names, which the application layer resolves against the
//! organisation before it writes anything.
//!
//! No I/O: the edge opens the file and hands the records over one by one, so a file of any size
//! is read in bounded memory.

pub mod mapping;
pub mod rows;
pub mod values;

pub use mapping::{Choice, Field, Kind, Mapping, Vendor};
pub use rows::{AccountRow, DealRow, LineError, Reading, RowStatus, account, deal};
pub use values::{DateOrder, Moment};

/// A CSV reader over `bytes` as exports write them: a header line, `,` between cells, quoted
/// cells that may span lines, a UTF-8 byte-order mark skipped, rows of any length (a short row is
/// reported by [`rows`], not refused by the reader).
pub fn reader<R: std::io::Read>(bytes: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::None).from_reader(bytes)
}
