//! The portable backup's SQLite side: its schema from `table_info`/`foreign_key_list`, rows
//! read as SQLite keeps them and inserted back as they are.

use anyhow::{Result, bail};
use serde_json::Value;

use super::{Column, Engine, Kind, MIGRATIONS, Sink, Table, quoted};

pub(super) struct Sqlite {
    pub(super) connection: rusqlite::Connection,
}

impl Sqlite {
    pub(super) fn kind(declared: &str) -> Kind {
        if declared.eq_ignore_ascii_case("INTEGER") { Kind::Int } else { Kind::Text }
    }
}

impl Engine for Sqlite {
    fn tables(&mut self) -> Result<Vec<Table>> {
        let names: Vec<String> = self
            .connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut tables = Vec::new();
        for name in names.into_iter().filter(|name| name.as_str() != MIGRATIONS) {
            let mut columns = Vec::new();
            let mut key: Vec<(i64, String)> = Vec::new();
            let mut info = self.connection.prepare(&format!("PRAGMA table_info({})", quoted(&name)))?;
            let mut rows = info.query([])?;
            while let Some(row) = rows.next()? {
                let column: String = row.get("name")?;
                let declared: String = row.get("type")?;
                let pk: i64 = row.get("pk")?;
                if pk > 0 {
                    key.push((pk, column.clone()));
                }
                columns.push(Column { name: column, kind: Sqlite::kind(&declared), identity: false });
            }
            key.sort();
            let mut refs = Vec::new();
            let mut keys = self.connection.prepare(&format!("PRAGMA foreign_key_list({})", quoted(&name)))?;
            let mut rows = keys.query([])?;
            while let Some(row) = rows.next()? {
                refs.push((row.get::<_, String>("from")?, row.get::<_, String>("table")?));
            }
            tables.push(Table { name, columns, key: key.into_iter().map(|(_, column)| column).collect(), refs });
        }
        Ok(tables)
    }

    fn schema_version(&mut self) -> Result<i64> {
        Ok(self.connection.query_row(&format!("SELECT COALESCE(MAX(version), 0) FROM {MIGRATIONS}"), [], |row| row.get(0))?)
    }

    fn count(&mut self, table: &str) -> Result<i64> {
        Ok(self.connection.query_row(&format!("SELECT COUNT(*) FROM {}", quoted(table)), [], |row| row.get(0))?)
    }
}

impl Sqlite {
    pub(super) fn rows(&mut self, table: &Table, mut each: impl FnMut(Vec<Value>) -> Result<()>) -> Result<()> {
        let columns: Vec<String> = table.columns.iter().map(|column| quoted(&column.name)).collect();
        let order =
            if table.key.is_empty() { "rowid".to_owned() } else { table.key.iter().map(|key| quoted(key)).collect::<Vec<_>>().join(", ") };
        let sql = format!("SELECT {} FROM {} ORDER BY {order}", columns.join(", "), quoted(&table.name));
        let mut statement = self.connection.prepare(&sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(columns.len());
            for (index, column) in table.columns.iter().enumerate() {
                cells.push(match row.get_ref(index)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(value) => Value::from(value),
                    rusqlite::types::ValueRef::Text(text) => Value::from(String::from_utf8_lossy(text).into_owned()),
                    rusqlite::types::ValueRef::Real(value) => {
                        bail!("{}.{}: a floating-point value ({value}) Pipewise never writes", table.name, column.name)
                    }
                    rusqlite::types::ValueRef::Blob(_) => bail!("{}.{}: a blob Pipewise never writes", table.name, column.name),
                });
            }
            each(cells)?;
        }
        Ok(())
    }

    pub(super) fn insert_sql(table: &Table, columns: &[String]) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(&table.name),
            columns.iter().map(|column| quoted(column)).collect::<Vec<_>>().join(", "),
            (1..=columns.len()).map(|index| format!("?{index}")).collect::<Vec<_>>().join(", ")
        )
    }

    pub(super) fn insert(&mut self, sql: &str, row: &[Value]) -> Result<()> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let values: Vec<rusqlite::types::Value> = row
            .iter()
            .map(|cell| match cell {
                Value::Null => rusqlite::types::Value::Null,
                Value::Number(number) => rusqlite::types::Value::Integer(number.as_i64().unwrap_or_default()),
                Value::String(text) => rusqlite::types::Value::Text(text.clone()),
                _ => rusqlite::types::Value::Null,
            })
            .collect();
        statement.execute(rusqlite::params_from_iter(values))?;
        Ok(())
    }
}

pub(super) struct SqliteSink<'e> {
    pub(super) engine: &'e mut Sqlite,
    /// The current table's INSERT.
    pub(super) sql: String,
    /// Whether each column of the current table (in the backup's order) keeps integers.
    pub(super) integers: Vec<bool>,
    pub(super) columns: Vec<String>,
}

impl Sink for SqliteSink<'_> {
    fn table(&mut self, table: &Table, columns: &[String]) -> Result<()> {
        self.sql = Sqlite::insert_sql(table, columns);
        self.integers = columns
            .iter()
            .map(|name| table.columns.iter().find(|column| &column.name == name).is_some_and(|column| column.kind == Kind::Int))
            .collect();
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, row: Vec<Value>) -> Result<()> {
        // SQLite would keep a text in an integer column: refuse it, as PostgreSQL does.
        if let Some(at) = row.iter().zip(&self.integers).position(|(cell, integer)| !cell.is_null() && cell.is_i64() != *integer) {
            bail!(
                "column {}: {} where the database keeps {}",
                self.columns[at],
                row[at],
                if self.integers[at] { "an integer" } else { "a text" }
            );
        }
        self.engine.insert(&self.sql, &row)
    }

    fn end_table(&mut self) -> Result<()> {
        Ok(())
    }
}
