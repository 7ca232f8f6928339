//! Pure import rules (SPEC C11): which column of a CSV export fills which field, and each line
//! read into typed values or into problems that name its line and column.
//!
//! The headers of Salesforce, HubSpot and Pipedrive exports are recognised ([`mapping`]), and the
//! CRM guessed from them; a user's choices (`field=Header`) override recognition. Cells are read
//! the way exports write them ([`values`]): dates in ISO, US, European and Korean order, amounts
//! with grouping and a currency symbol or code, a website as its domain. A line becomes a
//! [`DealRow`], an [`AccountRow`] or a [`ContactRow`], or every problem found on it ([`LineError`]); owners,
//! accounts, pipelines and stages stay names, which the application layer resolves against the
//! organisation before it writes anything.
//!
//! No I/O: the edge opens the file and hands the records over one by one, so a file of any size
//! is read in bounded memory.

mod aliases;
pub mod mapping;
pub mod rows;
pub mod values;

pub use mapping::{Choice, Field, Kind, Mapping, Vendor};
pub use rows::{
    AccountRow, ActivityRow, ContactRow, DealRow, LeadRow, LeadStage, LineError, Reading, RowStatus, account, activity, activity_kind,
    contact, deal, lead,
};
pub use values::{DateOrder, Moment};

/// A CSV reader over `bytes` as exports write them: a header line, `,` between cells, quoted
/// cells that may span lines, a UTF-8 byte-order mark skipped, rows of any length (a short row is
/// reported by [`rows`], not refused by the reader). Windows line ends (Excel's) are read as
/// plain ones first: the `csv` crate counts the lines of a CRLF file one short.
pub fn reader<R: std::io::Read>(bytes: R) -> csv::Reader<Lf<R>> {
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::None).from_reader(Lf::new(bytes))
}

/// Bytes with every `\r\n` read as `\n` (a lone `\r` stays), however the reads split them.
pub struct Lf<R> {
    inner: R,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl<R> Lf<R> {
    pub fn new(inner: R) -> Lf<R> {
        Lf { inner, buffer: vec![0; 64 << 10], start: 0, end: 0, eof: false }
    }
}

impl<R: std::io::Read> std::io::Read for Lf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            if self.start == self.end {
                if self.eof || written > 0 {
                    break;
                }
                self.end = self.inner.read(&mut self.buffer)?;
                self.start = 0;
                self.eof = self.end == 0;
                continue;
            }
            let byte = self.buffer[self.start];
            if byte == b'\r' {
                if self.start + 1 < self.end {
                    if self.buffer[self.start + 1] == b'\n' {
                        self.start += 1;
                        continue;
                    }
                } else if !self.eof {
                    // A `\r` ends the buffer: read on to see whether a `\n` follows.
                    self.buffer[0] = b'\r';
                    let more = self.inner.read(&mut self.buffer[1..])?;
                    self.start = 0;
                    self.end = 1 + more;
                    self.eof = more == 0;
                    continue;
                }
            }
            out[written] = byte;
            written += 1;
            self.start += 1;
        }
        Ok(written)
    }
}
