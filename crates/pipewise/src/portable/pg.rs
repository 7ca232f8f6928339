//! The portable backup's PostgreSQL side: its schema from the catalog, typed columns read into
//! SQLite's form and written back from it through COPY.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Column, Engine, Kind, MIGRATIONS, Sink, Table, quoted};

pub(super) struct Postgres<'a> {
    pub(super) tx: postgres::Transaction<'a>,
}

impl Postgres<'_> {
    pub(super) fn kind(data_type: &str) -> Result<Kind> {
        Ok(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "text" | "character varying" => Kind::Text,
            "boolean" => Kind::Bool,
            "date" => Kind::Date,
            "timestamp with time zone" => Kind::Time,
            "numeric" => Kind::Decimal,
            other => bail!("a column of type {other}, which Pipewise never uses"),
        })
    }

    /// What a SELECT reads a column as: a bigint or a text.
    pub(super) fn read_expression(column: &Column) -> String {
        let name = quoted(&column.name);
        match column.kind {
            Kind::Int => format!("{name}::bigint"),
            Kind::Text => name,
            Kind::Bool => format!("({name})::int::bigint"),
            Kind::Time => format!("(EXTRACT(EPOCH FROM {name}) * 1000000)::bigint"),
            Kind::Date | Kind::Decimal => format!("{name}::text"),
        }
    }

    pub(super) fn rows(&mut self, table: &Table, mut each: impl FnMut(Vec<Value>) -> Result<()>) -> Result<()> {
        let columns: Vec<String> = table.columns.iter().map(Postgres::read_expression).collect();
        let order =
            if table.key.is_empty() { "ctid".to_owned() } else { table.key.iter().map(|key| quoted(key)).collect::<Vec<_>>().join(", ") };
        let sql = format!("SELECT {} FROM {} ORDER BY {order}", columns.join(", "), quoted(&table.name));
        let rows = self.tx.query_raw(&sql, std::iter::empty::<&(dyn postgres::types::ToSql + Sync)>())?;
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = rows;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(table.columns.len());
            for (index, column) in table.columns.iter().enumerate() {
                cells.push(match column.kind {
                    Kind::Int | Kind::Bool | Kind::Time => row.get::<_, Option<i64>>(index).map_or(Value::Null, Value::from),
                    Kind::Text | Kind::Date | Kind::Decimal => row.get::<_, Option<String>>(index).map_or(Value::Null, Value::from),
                });
            }
            each(cells)?;
        }
        Ok(())
    }
}

impl Engine for Postgres<'_> {
    fn tables(&mut self) -> Result<Vec<Table>> {
        let mut tables: BTreeMap<String, Table> = BTreeMap::new();
        for row in self.tx.query(
            "SELECT table_name::text, column_name::text, data_type::text, is_identity::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name IN \
               (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') \
             ORDER BY table_name, ordinal_position",
            &[],
        )? {
            let (table, column, data_type, identity): (String, String, String, String) = (row.get(0), row.get(1), row.get(2), row.get(3));
            if table == MIGRATIONS {
                continue;
            }
            let kind = Postgres::kind(&data_type).with_context(|| format!("{table}.{column}"))?;
            tables
                .entry(table.clone())
                .or_insert_with(|| Table { name: table, columns: Vec::new(), key: Vec::new(), refs: Vec::new() })
                .columns
                .push(Column { name: column, kind, identity: identity == "YES" });
        }
        for row in self.tx.query(
            "SELECT cl.relname::text, att.attname::text, c.contype::text, rcl.relname::text, array_position(c.conkey, att.attnum) \
             FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
             JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = ANY (c.conkey) \
             LEFT JOIN pg_class rcl ON rcl.oid = c.confrelid \
             WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f') ORDER BY 1, 3, 5",
            &[],
        )? {
            let (table, column, kind, target): (String, String, String, Option<String>) = (row.get(0), row.get(1), row.get(2), row.get(3));
            let Some(table) = tables.get_mut(&table) else { continue };
            match (kind.as_str(), target) {
                ("p", _) => table.key.push(column),
                ("f", Some(target)) => table.refs.push((column, target)),
                _ => {}
            }
        }
        Ok(tables.into_values().collect())
    }

    fn schema_version(&mut self) -> Result<i64> {
        Ok(self.tx.query_one(&format!("SELECT COALESCE(MAX(version), 0)::bigint FROM {MIGRATIONS}"), &[])?.get(0))
    }

    fn count(&mut self, table: &str) -> Result<i64> {
        Ok(self.tx.query_one(&format!("SELECT COUNT(*) FROM {}", quoted(table)), &[])?.get(0))
    }
}

/// Bytes of COPY text sent at a time.
const COPY_CHUNK: usize = 8 << 20;

pub(super) struct PgSink<'e, 't> {
    pub(super) engine: &'e mut Postgres<'t>,
    pub(super) tables: Vec<Table>,
    pub(super) current: Option<Table>,
    /// The backup's column order, as the target's columns.
    pub(super) columns: Vec<Column>,
    /// Rows in COPY's text form, not sent yet.
    pub(super) copy: Vec<u8>,
}

impl PgSink<'_, '_> {
    /// Sends the rows kept so far through one COPY (which keeps the identity columns' values,
    /// as `OVERRIDING SYSTEM VALUE` does).
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.copy.is_empty() {
            return Ok(());
        }
        let table = self.current.as_ref().expect("a table began");
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            quoted(&table.name),
            self.columns.iter().map(|column| quoted(&column.name)).collect::<Vec<_>>().join(", ")
        );
        let mut writer = self.engine.tx.copy_in(&sql)?;
        writer.write_all(&self.copy)?;
        writer.finish().with_context(|| format!("table {}", table.name))?;
        self.copy.clear();
        Ok(())
    }

    /// One cell in COPY's text form, by the target column's type.
    pub(super) fn copy_cell(&mut self, column: &Column, cell: &Value) -> Result<()> {
        match (cell, column.kind) {
            (Value::Null, _) => self.copy.extend_from_slice(b"\\N"),
            (Value::Number(number), Kind::Int) => write!(self.copy, "{number}")?,
            (Value::Number(number), Kind::Bool) => self.copy.push(if number.as_i64() == Some(0) { b'f' } else { b't' }),
            (Value::Number(number), Kind::Time) => {
                let micros = number.as_i64().context("a time in microseconds")?;
                let at = jiff::Timestamp::from_microsecond(micros).with_context(|| format!("{micros} is no time"))?;
                write!(self.copy, "{at}")?;
            }
            (Value::String(text), Kind::Text | Kind::Date | Kind::Decimal) => {
                for byte in text.bytes() {
                    match byte {
                        b'\\' => self.copy.extend_from_slice(b"\\\\"),
                        b'\t' => self.copy.extend_from_slice(b"\\t"),
                        b'\n' => self.copy.extend_from_slice(b"\\n"),
                        b'\r' => self.copy.extend_from_slice(b"\\r"),
                        other => self.copy.push(other),
                    }
                }
            }
            (cell, kind) => bail!("column {}: {cell} where the database keeps {kind:?}", column.name),
        }
        Ok(())
    }
}

impl Sink for PgSink<'_, '_> {
    fn table(&mut self, table: &Table, columns: &[String]) -> Result<()> {
        let known = self.tables.iter().find(|known| known.name == table.name).cloned().expect("checked");
        self.columns =
            columns.iter().map(|name| known.columns.iter().find(|column| &column.name == name).cloned().expect("checked")).collect();
        self.current = Some(known);
        Ok(())
    }

    fn row(&mut self, row: Vec<Value>) -> Result<()> {
        let columns = std::mem::take(&mut self.columns);
        let written = columns.iter().zip(&row).enumerate().try_for_each(|(index, (column, cell))| {
            if index > 0 {
                self.copy.push(b'\t');
            }
            self.copy_cell(column, cell)
        });
        self.columns = columns;
        written?;
        self.copy.push(b'\n');
        if self.copy.len() >= COPY_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn end_table(&mut self) -> Result<()> {
        self.flush()
    }
}
