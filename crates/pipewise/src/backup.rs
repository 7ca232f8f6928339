//! `pipewise backup` and `pipewise restore` (SPEC C12): an online, consistent copy while the
//! server keeps writing — SQLite's backup API (one snapshot, checked page by page, one
//! self-contained file) or PostgreSQL's `pg_dump` (from PATH, custom format, one snapshot) —
//! and its restore into a new, empty database of the same engine, migrated afterwards. A file
//! that is neither, or a restore into a database that already holds data, is refused.
//! Moving between engines goes through the portable format ([`crate::portable`]).

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pipewise_store_sqlite::SqliteStore;

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// The URL without its password, and the password (for `PGPASSWORD`, never a command line).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_owned(), None) };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return (url.to_owned(), None) };
    match credentials.split_once(':') {
        // The URL's password is percent-encoded; PGPASSWORD takes it plain.
        Some((user, password)) => {
            let plain = crate::mailer::percent_decode(password).unwrap_or_else(|_| password.to_owned());
            (format!("{scheme}://{user}@{host}"), Some(plain))
        }
        None => (url.to_owned(), None),
    }
}

fn postgres_tool(name: &str, url: &str) -> Result<Command> {
    let program = on_path(name).with_context(|| format!("{name} is not on PATH: install PostgreSQL's client programs"))?;
    let (url, password) = split_password(url);
    let mut command = Command::new(program);
    command.arg(format!("--dbname={url}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

/// A program on PATH.
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// What a backup file holds, from its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    PgDump,
}

fn kind_of(file: &Path) -> Result<Kind> {
    let mut head = [0u8; 16];
    let read = std::fs::File::open(file)
        .and_then(|mut opened| opened.read(&mut head))
        .with_context(|| format!("cannot read {}", file.display()))?;
    match &head[..read] {
        head if head.starts_with(b"SQLite format 3\0") => Ok(Kind::Sqlite),
        head if head.starts_with(b"PGDMP") => Ok(Kind::PgDump),
        _ => bail!("{} is not a Pipewise backup (neither a SQLite database, a pg_dump archive nor a portable backup)", file.display()),
    }
}

pub fn backup(db: &str, out: &Path) -> Result<()> {
    let started = Instant::now();
    if out.exists() {
        bail!("{} already exists: choose a new file for the backup", out.display());
    }
    if is_postgres(db) {
        let status = postgres_tool("pg_dump", db)?
            .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
            .arg(out)
            .status()
            .context("pg_dump did not run")?;
        if !status.success() {
            let _ = std::fs::remove_file(out);
            bail!("pg_dump failed ({status}): nothing was kept");
        }
    } else {
        // Opening would create a missing file: a wrong path must not back up an empty database.
        if !Path::new(sqlite_path(db)).is_file() {
            bail!("{} does not exist: give the database to back up with --db", sqlite_path(db));
        }
        let store = SqliteStore::open(sqlite_path(db)).with_context(|| format!("cannot open {}", sqlite_path(db)))?;
        if let Err(error) = store.backup_to(out) {
            let _ = std::fs::remove_file(out);
            return Err(error).context("the backup failed: nothing was kept");
        }
    }
    let bytes = std::fs::metadata(out).map(|meta| meta.len()).unwrap_or(0);
    println!("backup written to {} ({:.1} MB) in {:.1} s", out.display(), bytes as f64 / 1e6, started.elapsed().as_secs_f64());
    Ok(())
}

pub fn restore(from: &Path, db: &str) -> Result<()> {
    let started = Instant::now();
    let kind = kind_of(from)?;
    match (kind, is_postgres(db)) {
        (Kind::Sqlite, false) => {
            SqliteStore::restore_from(from, Path::new(sqlite_path(db))).context("the restore failed")?;
        }
        (Kind::PgDump, true) => {
            let mut client = postgres::Client::connect(db, postgres::NoTls).context("cannot connect to the target database")?;
            let taken: bool = client
                .query_one("SELECT to_regclass('schema_migration') IS NOT NULL AS taken", &[])
                .context("cannot look into the target database")?
                .get("taken");
            if taken {
                bail!("the target database already holds Pipewise's tables: restore into a new, empty database");
            }
            drop(client);
            let status = postgres_tool("pg_restore", db)?
                .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
                .arg(from)
                .status()
                .context("pg_restore did not run")?;
            if !status.success() {
                bail!("pg_restore failed ({status}): the restore ran in one transaction, so nothing was kept");
            }
        }
        (Kind::Sqlite, true) => {
            bail!("this backup is a SQLite database: restore it into a SQLite file, or move with `pipewise backup --portable`")
        }
        (Kind::PgDump, false) => {
            bail!("this backup is a PostgreSQL archive: restore it into a postgres:// database, or move with `pipewise backup --portable`")
        }
    }
    // Migrations newer than the backup.
    crate::db::open_store(db)?;
    println!("restored {} into {} in {:.1} s", from.display(), crate::db::redact(db), started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_travel_in_the_environment_not_on_the_command_line() {
        assert_eq!(split_password("postgres://app:s3cr@t@db:5432/x"), ("postgres://app@db:5432/x".into(), Some("s3cr@t".into())));
        assert_eq!(split_password("postgres://app@db/x"), ("postgres://app@db/x".into(), None));
        assert_eq!(split_password("postgres://app:p%40ss@db/x").1.as_deref(), Some("p@ss"));
    }
}
