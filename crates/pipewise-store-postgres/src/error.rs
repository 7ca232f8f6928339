//! Turning driver errors into [`StoreError`]s: unique violations become user-facing conflicts
//! that name the record and field, everything else an internal database error whose message
//! carries the server's own words and SQLSTATE.

use std::fmt;

use pipewise_store::{StoreError, conflict};
use postgres::error::{DbError, SqlState};

/// A driver error that shows the server's message, detail and SQLSTATE in its `Display`
/// (the driver's own says only "db error").
#[derive(Debug)]
pub struct PostgresError(pub postgres::Error);

impl fmt::Display for PostgresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_db_error() {
            Some(db_error) => {
                write!(f, "{}: {} (SQLSTATE {})", db_error.severity(), db_error.message(), db_error.code().code())?;
                if let Some(detail) = db_error.detail() {
                    write!(f, "; {detail}")?;
                }
                Ok(())
            }
            None => match std::error::Error::source(&self.0) {
                Some(cause) => write!(f, "{}: {cause}", self.0),
                None => write!(f, "{}", self.0),
            },
        }
    }
}

impl std::error::Error for PostgresError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Any driver error: unique violations are [`StoreError::Conflict`], the rest
/// [`StoreError::Database`].
pub(crate) fn from_postgres(error: postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db_error) if *db_error.code() == SqlState::UNIQUE_VIOLATION => StoreError::Conflict(conflict_message(db_error)),
        _ => StoreError::database(PostgresError(error)),
    }
}

/// Names the record and field a unique violation is about, in the words of the validation
/// errors (`new account: domains: …`).
fn conflict_message(db_error: &DbError) -> String {
    let value = db_error.detail().and_then(conflicting_value).unwrap_or_default();
    match db_error.constraint() {
        Some("app_user_organisation_id_email_key") => conflict::email_taken(None, &value),
        Some("account_domain_pkey") => conflict::domain_taken(None, &value),
        Some("contact_email_pkey") => format!("new contact: emails: {value} is listed twice"),
        Some("stage_pipeline_id_position_key") => format!("new pipeline: stages: two stages share position {value}"),
        Some("exchange_rate_pkey") => format!("exchange rate: {value} is stored twice"),
        Some("opportunity_history_pkey") => format!("opportunity history: seq: {value} is already taken"),
        // The hashes stand in for secrets, so the messages leave them out.
        Some("session_pkey") => "new session: token_hash: is already in use".to_owned(),
        Some("api_token_token_hash_key") => "new API token: token_hash: is already in use".to_owned(),
        constraint => {
            let table = db_error.table().unwrap_or("record");
            let constraint = constraint.unwrap_or("a unique constraint");
            format!("{table}: {constraint}: {}", db_error.detail().unwrap_or(db_error.message()))
        }
    }
}

/// The last value of a unique violation's detail, `Key (organisation_id, domain)=(1, acme.com)
/// already exists.` gives `acme.com`.
fn conflicting_value(detail: &str) -> Option<String> {
    let values = detail.split_once(")=(")?.1;
    let values = values.rsplit_once(") already exists")?.0;
    Some(values.rsplit(", ").next().unwrap_or(values).to_owned())
}

/// A stored row that cannot be turned back into a record.
pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt { table, detail: detail.into() }
}

/// A problem that is not the server's: a bad setting or a busy pool.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflicting_value_is_the_last_key_column() {
        assert_eq!(conflicting_value("Key (organisation_id, domain)=(1, acme.com) already exists."), Some("acme.com".to_owned()));
        assert_eq!(conflicting_value("Key (contact_id)=(7) already exists."), Some("7".to_owned()));
        assert_eq!(conflicting_value("something else"), None);
    }
}
