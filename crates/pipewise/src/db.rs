//! Opening a store from a database URL: a `postgres://` (or `postgresql://`) URL picks
//! PostgreSQL, a plain path or `sqlite:` picks SQLite, anything else is a clear error.

use anyhow::{Context, Result};
use std::sync::Arc;

use pipewise_app::Db;
use pipewise_store::Store;
use pipewise_store_postgres::PgStore;
use pipewise_store_sqlite::SqliteStore;

/// The SQLite file a database URL names (a path, `sqlite:path` or `sqlite://path`); `None` for
/// a PostgreSQL URL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    Some(url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url))
}

/// Connects to the store `url` names, without migrating.
pub fn connect(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url).with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
        return Ok(Box::new(store));
    }
    if let Some((scheme, _)) = url.split_once("://").filter(|(scheme, _)| *scheme != "sqlite") {
        return Err(crate::Hinted {
            error: format!("unsupported database URL scheme {scheme:?}"),
            hint: "use a SQLite file path (e.g. pipewise.db) or a postgres:// URL".into(),
        }
        .into());
    }
    let path = sqlite_path(url).unwrap_or(url);
    Ok(Box::new(SqliteStore::open(path).with_context(|| format!("cannot open the SQLite database {path}"))?))
}

/// Connects and applies pending migrations, logging each to stderr.
/// [`open_store`] behind the application layer.
pub fn open(url: &str) -> Result<Db> {
    Ok(Db::new(Arc::from(open_store(url)?)))
}

pub fn open_store(url: &str) -> Result<Box<dyn Store>> {
    let store = connect(url)?;
    for name in store.migrate().with_context(|| format!("cannot migrate {}", redact(url)))? {
        eprintln!("applied migration {name}");
    }
    Ok(store)
}

/// `pipewise migrate`: lists what it applied on stdout.
pub fn migrate(url: &str) -> Result<()> {
    let applied = connect(url)?.migrate().with_context(|| format!("cannot migrate {}", redact(url)))?;
    if applied.is_empty() {
        println!("the database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    // The host part starts after the last `@`: a password may itself contain `@`.
    let (credentials, host) = match rest.rsplit_once('@') {
        Some((credentials, host)) => (Some(credentials), host),
        None => (None, rest),
    };
    let user = credentials.map(|credentials| match credentials.split_once(':') {
        Some((user, _password)) => format!("{user}:***@"),
        None => format!("{credentials}@"),
    });
    // A `password=` query parameter is a password too.
    let host = match host.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| if pair.starts_with("password=") { "password=***".to_owned() } else { pair.to_owned() })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => host.to_owned(),
    };
    format!("{scheme}://{}{host}", user.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/pipewise"), "postgres://app:***@db:5432/pipewise");
        assert_eq!(redact("postgres://app@db/pipewise"), "postgres://app@db/pipewise");
        assert_eq!(redact("pipewise.db"), "pipewise.db");
        assert_eq!(redact("postgres://app:p@ss@db/x"), "postgres://app:***@db/x");
        assert_eq!(
            redact("postgres://db/x?user=app&password=secret&sslmode=require"),
            "postgres://db/x?user=app&password=***&sslmode=require"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_with_a_hint() {
        let error = open("mysql://root@localhost/crm").expect_err("refused");
        assert_eq!(error.to_string(), "unsupported database URL scheme \"mysql\"");
        assert_eq!(crate::hint_for(&error).as_deref(), Some("use a SQLite file path (e.g. pipewise.db) or a postgres:// URL"));
    }
}
