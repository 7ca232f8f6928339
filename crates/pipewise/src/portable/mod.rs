//! The portable backup (SPEC C12, issue 16 point 13): every table of Pipewise's schema in a
//! format of its own that either engine writes and either engine restores, so a team that
//! outgrows its SQLite file moves to PostgreSQL (and back) with every record, the history, the
//! audit log, sessions and tokens intact and every id and sequence number kept.
//!
//! # The file
//! Text, one JSON document a line:
//! 1. the magic line `PIPEWISE PORTABLE BACKUP 1`;
//! 2. a header: `{"schema": <the last migration's version>, "tables": [...]}`, the tables in the
//!    order they are written: each after the tables its foreign keys name, but inside a loop
//!    (a user's team and a team's manager), which goes by name;
//! 3. per table, `{"table": name, "columns": [names]}`, its rows as arrays in key order, then
//!    `{"rows": count}`;
//! 4. `{"end": <tables>, "rows": <rows>, "fnv": "<FNV-1a of every line between the magic one and
//!    this one>"}`: a file cut short or altered is refused whole.
//!
//! A cell is `null`, an integer or a text, as SQLite keeps it: times are microseconds since the
//! Unix epoch, dates `YYYY-MM-DD`, decimals their exact text, flags 0 or 1. PostgreSQL's typed
//! columns are read into that form and written back from it by the target's column types.
//!
//! # Consistency
//! The backup reads every table in one read transaction (SQLite's snapshot; PostgreSQL's
//! repeatable read), so it is one moment of a database that keeps taking writes. A restore goes
//! into a new, empty database (migrated first, and refused if it holds an organisation or is on
//! another schema version), in one transaction: a bad file leaves nothing behind. Keys are
//! checked once every row is in (SQLite's `foreign_key_check`; PostgreSQL's constraints dropped
//! and added back inside the transaction, which validates each in one pass instead of a lookup a
//! row), so the order of the tables never refuses a good file.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

mod pg;
mod sqlite;

use pg::{PgSink, Postgres};
use sqlite::{Sqlite, SqliteSink};

pub const MAGIC: &str = "PIPEWISE PORTABLE BACKUP 1";
/// The bookkeeping of migrations, which each database keeps for itself.
const MIGRATIONS: &str = "schema_migration";
/// The longest line a restore reads (a row with long texts; a bound on what a file may ask).
const MAX_LINE: usize = 64 << 20;

/// How a column keeps its values in the engine at hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bool,
    Date,
    Time,
    Decimal,
}

#[derive(Clone, Debug)]
struct Column {
    name: String,
    kind: Kind,
    /// PostgreSQL's identity column (its sequence is moved past the restored ids).
    identity: bool,
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// Primary-key columns (the order of the rows).
    key: Vec<String>,
    /// `(column, referenced table)` of each foreign key.
    refs: Vec<(String, String)>,
}

/// One engine's schema and rows, read or written.
trait Engine {
    fn tables(&mut self) -> Result<Vec<Table>>;
    fn schema_version(&mut self) -> Result<i64>;
    /// How many rows `table` holds.
    fn count(&mut self, table: &str) -> Result<i64>;
}

fn fnv(hash: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *hash ^= u64::from(*byte);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables in an order where each comes after those its foreign keys name, as far as loops
/// allow: the groups of tables that name each other (strongly connected, by Tarjan's algorithm,
/// which finishes a group after every group it reaches) go dependencies first, and the tables of
/// a group by name.
fn load_order(tables: &[Table]) -> Vec<String> {
    let mut names: Vec<&str> = tables.iter().map(|table| table.name.as_str()).collect();
    names.sort_unstable();
    let index_of = |name: &str| names.binary_search(&name).ok();
    let edges: Vec<Vec<usize>> = names
        .iter()
        .map(|name| {
            let table = tables.iter().find(|table| table.name == *name).expect("listed");
            let mut targets: Vec<usize> = table.refs.iter().filter_map(|(_, target)| index_of(target)).collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();
    struct Tarjan<'g> {
        edges: &'g [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, node: usize) {
            self.index[node] = Some(self.next);
            self.low[node] = self.next;
            self.next += 1;
            self.stack.push(node);
            self.on_stack[node] = true;
            for &target in &self.edges[node] {
                match self.index[target] {
                    None => {
                        self.visit(target);
                        self.low[node] = self.low[node].min(self.low[target]);
                    }
                    Some(index) if self.on_stack[target] => self.low[node] = self.low[node].min(index),
                    Some(_) => {}
                }
            }
            if Some(self.low[node]) == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack[member] = false;
                    group.push(member);
                    if member == node {
                        break;
                    }
                }
                group.sort_unstable();
                self.groups.push(group);
            }
        }
    }
    let n = names.len();
    let mut tarjan = Tarjan {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        groups: Vec::new(),
    };
    for node in 0..n {
        if tarjan.index[node].is_none() {
            tarjan.visit(node);
        }
    }
    tarjan.groups.into_iter().flatten().map(|node| names[node].to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// Backup.

/// Hands each row to the callback it is given.
type RowFeed<'a> = dyn FnMut(&mut dyn FnMut(Vec<Value>) -> Result<()>) -> Result<()> + 'a;

fn write_table(out: &mut impl Write, hash: &mut u64, table: &Table, rows: &mut RowFeed<'_>) -> Result<u64> {
    let names: Vec<&str> = table.columns.iter().map(|column| column.name.as_str()).collect();
    let start = json!({ "table": table.name, "columns": names }).to_string();
    fnv(hash, start.as_bytes());
    writeln!(out, "{start}")?;
    let mut count = 0u64;
    rows(&mut |cells: Vec<Value>| {
        let line = serde_json::to_string(&cells)?;
        fnv(hash, line.as_bytes());
        writeln!(out, "{line}")?;
        count += 1;
        Ok(())
    })?;
    let end = json!({ "rows": count }).to_string();
    fnv(hash, end.as_bytes());
    writeln!(out, "{end}")?;
    Ok(count)
}

/// Writes the portable backup of `db` to `out` (a new file).
pub fn backup(db: &str, out: &Path) -> Result<()> {
    let started = Instant::now();
    if out.exists() {
        bail!("{} already exists: choose a new file for the backup", out.display());
    }
    let file =
        std::fs::OpenOptions::new().write(true).create_new(true).open(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let written = match crate::db::sqlite_path(db) {
        Some(path) => {
            // Read only: a wrong path is an error, never a new empty database backed up.
            let connection = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .with_context(|| format!("cannot open the SQLite database {path}"))?;
            connection.busy_timeout(std::time::Duration::from_secs(10))?;
            // One read transaction: one snapshot of the whole file.
            connection.execute_batch("BEGIN")?;
            let mut engine = Sqlite { connection };
            let result = dump(&mut engine, &mut writer, |engine, table, each| engine.rows(table, each));
            let _ = engine.connection.execute_batch("COMMIT");
            result
        }
        None => {
            let mut client = postgres::Client::connect(db, postgres::NoTls).context("cannot connect to the database")?;
            let mut tx = client.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).read_only(true).start()?;
            // Dates as YYYY-MM-DD whatever the server's setting.
            tx.batch_execute("SET LOCAL DateStyle = 'ISO'")?;
            let mut engine = Postgres { tx };
            dump(&mut engine, &mut writer, |engine, table, each| engine.rows(table, each))
        }
    };
    let (tables, rows) = match written.and_then(|counts| writer.flush().map(|()| counts).map_err(Into::into)) {
        Ok(counts) => counts,
        Err(error) => {
            drop(writer);
            let _ = std::fs::remove_file(out);
            return Err(error.context("the backup failed: nothing was kept"));
        }
    };
    let bytes = std::fs::metadata(out).map(|meta| meta.len()).unwrap_or(0);
    println!(
        "portable backup written to {} ({tables} tables, {rows} rows, {:.1} MB) in {:.1} s",
        out.display(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn dump<E: Engine>(
    engine: &mut E,
    out: &mut impl Write,
    rows: impl Fn(&mut E, &Table, &mut dyn FnMut(Vec<Value>) -> Result<()>) -> Result<()>,
) -> Result<(usize, u64)> {
    let schema = engine.schema_version()?;
    let latest = pipewise_store_sqlite::latest_version();
    if schema != latest {
        bail!(
            "the database is at schema version {schema} and this Pipewise's is {latest}: {}",
            if schema < latest { "migrate it first (pipewise migrate --db …)" } else { "back it up with the Pipewise that runs it" }
        );
    }
    let tables = engine.tables()?;
    let order = load_order(&tables);
    writeln!(out, "{MAGIC}")?;
    let mut hash = FNV_START;
    let header = json!({ "schema": schema, "tables": order }).to_string();
    fnv(&mut hash, header.as_bytes());
    writeln!(out, "{header}")?;
    let mut total = 0u64;
    for name in &order {
        let table = tables.iter().find(|table| &table.name == name).expect("ordered from the list");
        total += write_table(out, &mut hash, table, &mut |each| rows(engine, table, each))?;
    }
    writeln!(out, "{}", json!({ "end": order.len(), "rows": total, "fnv": format!("{hash:016x}") }))?;
    Ok((order.len(), total))
}

// ---------------------------------------------------------------------------------------------
// Restore.

/// Whether `file` starts with the portable backup's magic line.
pub fn is_portable(file: &Path) -> bool {
    let Ok(opened) = std::fs::File::open(file) else { return false };
    let mut first = String::new();
    take_line(&mut BufReader::new(opened), &mut first).is_ok() && first.trim_end() == MAGIC
}

/// One line of `reader` into `line`, refused beyond [`MAX_LINE`] bytes; 0 at the end.
fn take_line(reader: &mut impl BufRead, line: &mut String) -> Result<usize> {
    line.clear();
    let read = std::io::Read::take(reader, MAX_LINE as u64 + 1).read_line(line)?;
    if read > MAX_LINE {
        bail!("a line longer than {MAX_LINE} bytes");
    }
    Ok(read)
}

/// The file's lines as JSON, with their numbers for messages.
struct Lines<R> {
    reader: R,
    line: String,
    number: u64,
    /// FNV-1a of every line read after the magic one.
    hash: u64,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Result<Value> {
        self.number += 1;
        if take_line(&mut self.reader, &mut self.line).with_context(|| format!("line {}", self.number))? == 0 {
            bail!("line {}: the file ends too early (cut short?)", self.number);
        }
        fnv(&mut self.hash, self.line.trim_end().as_bytes());
        serde_json::from_str(self.line.trim_end()).with_context(|| format!("line {}: not JSON", self.number))
    }
}

/// Where rows go: the target engine, all in one transaction.
trait Sink {
    fn table(&mut self, table: &Table, columns: &[String]) -> Result<()>;
    fn row(&mut self, row: Vec<Value>) -> Result<()>;
    fn end_table(&mut self) -> Result<()>;
}

/// Restores the portable backup `from` into `db`, a new database of either engine.
pub fn restore(from: &Path, db: &str) -> Result<()> {
    let started = Instant::now();
    let file = std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut lines = Lines { reader: BufReader::with_capacity(1 << 20, file), line: String::new(), number: 0, hash: FNV_START };
    lines.number += 1;
    take_line(&mut lines.reader, &mut lines.line)?;
    if lines.line.trim_end() != MAGIC {
        bail!("{} is not a portable Pipewise backup", from.display());
    }
    let header = lines.next()?;
    let schema = header["schema"].as_i64().context("line 2: the header has no schema version")?;
    let order: Vec<String> = serde_json::from_value(header["tables"].clone()).context("line 2: the header's tables")?;
    crate::db::open_store(db)?;
    let rows = match crate::db::sqlite_path(db) {
        Some(path) => {
            let connection = rusqlite::Connection::open(path).with_context(|| format!("cannot open {path}"))?;
            // Keys are checked once every row is in (a loop of references needs no order).
            connection.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE")?;
            let mut engine = Sqlite { connection };
            let result = load(&mut engine, &mut lines, schema, &order, |engine, _| {
                Ok(Box::new(SqliteSink { engine, sql: String::new(), integers: Vec::new(), columns: Vec::new() }) as Box<dyn Sink + '_>)
            })
            .and_then(|rows| {
                let broken: i64 = engine.connection.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| row.get(0))?;
                if broken > 0 {
                    bail!("{broken} rows name records the backup does not hold");
                }
                Ok(rows)
            });
            match result {
                Ok(rows) => {
                    engine.connection.execute_batch("COMMIT")?;
                    rows
                }
                Err(error) => {
                    let _ = engine.connection.execute_batch("ROLLBACK");
                    return Err(error.context("the restore ran in one transaction, so nothing was kept"));
                }
            }
        }
        None => {
            let mut client = postgres::Client::connect(db, postgres::NoTls).context("cannot connect to the target database")?;
            let mut tx = client.transaction()?;
            // Foreign keys are checked once over every row (a constraint added back validates the
            // whole table in one pass) instead of row by row as COPY goes: dropped here and added
            // back before the commit, all in the one transaction.
            let keys: Vec<(String, String, String)> = tx
                .query(
                    "SELECT cl.relname::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
                     JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
                     WHERE n.nspname = current_schema() AND c.contype = 'f' ORDER BY 1, 2",
                    &[],
                )?
                .into_iter()
                .map(|row| (row.get(0), row.get(1), row.get(2)))
                .collect();
            for (table, name, _) in &keys {
                tx.batch_execute(&format!("ALTER TABLE {} DROP CONSTRAINT {}", quoted(table), quoted(name)))?;
            }
            let mut engine = Postgres { tx };
            let rows = load(&mut engine, &mut lines, schema, &order, |engine, tables| {
                Ok(Box::new(PgSink { engine, tables, current: None, columns: Vec::new(), copy: Vec::new() }) as Box<dyn Sink + '_>)
            })
            .and_then(|rows| {
                for (table, name, definition) in &keys {
                    engine
                        .tx
                        .batch_execute(&format!("ALTER TABLE {} ADD CONSTRAINT {} {definition}", quoted(table), quoted(name)))
                        .with_context(|| format!("table {table}: rows name records the backup does not hold ({name})"))?;
                }
                Ok(rows)
            })
            .context("the restore ran in one transaction, so nothing was kept")?;
            // Identity sequences past the restored ids.
            let tables = engine.tables()?;
            for table in &tables {
                for column in table.columns.iter().filter(|column| column.identity) {
                    engine.tx.query_one(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)",
                            col = quoted(&column.name),
                            table = quoted(&table.name)
                        ),
                        &[&table.name, &column.name],
                    )?;
                }
            }
            engine.tx.commit()?;
            rows
        }
    };
    println!("restored {} ({rows} rows) into {} in {:.1} s", from.display(), crate::db::redact(db), started.elapsed().as_secs_f64());
    Ok(())
}

fn load<'e, E: Engine>(
    engine: &'e mut E,
    lines: &mut Lines<impl BufRead>,
    schema: i64,
    order: &[String],
    sink: impl FnOnce(&'e mut E, Vec<Table>) -> Result<Box<dyn Sink + 'e>>,
) -> Result<u64> {
    let target_schema = engine.schema_version()?;
    if schema != target_schema {
        bail!(
            "the backup is of schema version {schema} and this Pipewise's is {target_schema}: restore it with the Pipewise that wrote it"
        );
    }
    let tables = engine.tables()?;
    let known: BTreeSet<&str> = tables.iter().map(|table| table.name.as_str()).collect();
    let listed: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    if known != listed {
        let missing: Vec<&&str> = known.difference(&listed).collect();
        let extra: Vec<&&str> = listed.difference(&known).collect();
        bail!("the backup's tables differ from the database's (missing {missing:?}, unknown {extra:?})");
    }
    // Refuse a database that already holds records.
    if engine.count("organisation")? > 0 {
        bail!("the target database already holds an organisation: restore into a new, empty database");
    }
    let mut sink = sink(engine, tables.clone())?;
    let mut total = 0u64;
    for name in order {
        let start = lines.next()?;
        if start["table"].as_str() != Some(name.as_str()) {
            bail!("line {}: expected the table {name}", lines.number);
        }
        let table = tables.iter().find(|table| &table.name == name).expect("checked above");
        let columns: Vec<String> =
            serde_json::from_value(start["columns"].clone()).with_context(|| format!("line {}: the columns", lines.number))?;
        let theirs: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
        let ours: BTreeSet<&str> = table.columns.iter().map(|column| column.name.as_str()).collect();
        if theirs != ours || theirs.len() != columns.len() {
            bail!("line {}: table {name}: the backup's columns {columns:?} are not the database's", lines.number);
        }
        sink.table(table, &columns)?;
        let mut count = 0u64;
        loop {
            let line = lines.next()?;
            match line {
                Value::Array(cells) => {
                    if cells.len() != columns.len() {
                        bail!("line {}: table {name}: {} values for {} columns", lines.number, cells.len(), columns.len());
                    }
                    if let Some(bad) = cells.iter().position(|cell| !(cell.is_null() || cell.is_i64() || cell.is_string())) {
                        bail!("line {}: table {name}, column {}: neither null, an integer nor a text", lines.number, columns[bad]);
                    }
                    sink.row(cells).with_context(|| format!("line {}: table {name}", lines.number))?;
                    count += 1;
                }
                Value::Object(end) if end.get("rows").and_then(Value::as_u64) == Some(count) => break,
                _ => bail!("line {}: table {name}: neither a row nor its end after {count} rows", lines.number),
            }
        }
        sink.end_table()?;
        total += count;
    }
    // Every line but the magic one and this last one, as the backup hashed them.
    let hash = lines.hash;
    let end = lines.next()?;
    if end["end"].as_u64() != Some(order.len() as u64)
        || end["rows"].as_u64() != Some(total)
        || end["fnv"].as_str() != Some(format!("{hash:016x}").as_str())
    {
        bail!("line {}: the file's end does not match its rows (altered or cut short)", lines.number);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, refs: &[(&str, &str)]) -> Table {
        Table {
            name: name.into(),
            columns: Vec::new(),
            key: vec!["id".into()],
            refs: refs.iter().map(|(column, target)| ((*column).into(), (*target).into())).collect(),
        }
    }

    #[test]
    fn both_engines_are_at_the_same_schema_version() {
        // A portable backup names one version for both engines.
        assert_eq!(pipewise_store_sqlite::latest_version(), pipewise_store_postgres::latest_version());
    }

    #[test]
    fn tables_come_after_what_they_name_and_a_loop_goes_by_name() {
        // A user names a team and a manager (a user); a team names its manager; a deal names
        // its owner; a deal's contact names the deal and a contact.
        let tables = [
            table("deal_contact", &[("deal_id", "deal"), ("contact_id", "contact")]),
            table("deal", &[("owner_id", "app_user")]),
            table("contact", &[]),
            table("app_user", &[("team_id", "team"), ("manager_id", "app_user")]),
            table("team", &[("manager_id", "app_user")]),
        ];
        let order = load_order(&tables);
        let at = |name: &str| order.iter().position(|table| table == name).unwrap();
        assert!(at("deal") > at("app_user") && at("deal") > at("team"));
        assert!(at("deal_contact") > at("deal") && at("deal_contact") > at("contact"));
        // A user and a team name each other: by name.
        assert!(at("app_user") < at("team"));
    }
}
