//! [`AuthTx`] for SQLite: password hashes, sessions, API tokens and sign-in attempts.

use pipewise_core::user::User;
use pipewise_core::*;
use pipewise_store::rows::{Columns, FromRow, user_with_organisation};
use pipewise_store::{ApiToken, AuthTx, Result, Session, sql};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::SqliteTx;

impl AuthTx for SqliteTx<'_> {
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.execute(sql::SET_PASSWORD_HASH, params![hash, org.0, user.0])?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        let hash = self.one(sql::SELECT_PASSWORD_HASH, params![org.0, user.0], |row| {
            let mut fields = Fields::new(row, User::TABLE);
            fields.key("user_id")?;
            fields.get::<Option<String>>("password_hash")
        })?;
        Ok(hash.flatten())
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        self.collect(sql::SELECT_USERS_BY_EMAIL_EVERYWHERE, [email.trim().to_lowercase()], |row| {
            user_with_organisation(&mut Fields::new(row, User::TABLE))
        })
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.execute(
            sql::INSERT_SESSION,
            params![
                session.token_hash,
                session.org.0,
                session.user_id.0,
                session.csrf_token,
                session.created_at.as_micros(),
                session.last_seen_at.as_micros(),
                session.expires_at.as_micros(),
                session.client_address
            ],
        )?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        self.one(sql::SELECT_SESSION, [token_hash], read)
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.execute(sql::TOUCH_SESSION, params![last_seen_at.as_micros(), expires_at.as_micros(), token_hash])?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.execute(sql::DELETE_SESSION, [token_hash])?;
        Ok(())
    }

    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()> {
        self.execute(
            "DELETE FROM session WHERE organisation_id = ?1 AND user_id = ?2 AND token_hash IS NOT ?3",
            params![org.0, user.0, except],
        )?;
        Ok(())
    }

    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64> {
        self.returned_id(
            sql::INSERT_API_TOKEN,
            params![
                token.org.0,
                token.user_id.0,
                token.name,
                token.token_hash,
                token.prefix,
                token.created_at.as_micros(),
                token.last_used_at.map(Timestamp::as_micros),
                token.revoked_at.map(Timestamp::as_micros)
            ],
        )
    }

    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.one(sql::SELECT_API_TOKEN, [token_hash], read)
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        self.collect(sql::SELECT_API_TOKENS, params![org.0, user.0], read)
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.execute(sql::TOUCH_API_TOKEN, params![at.as_micros(), id])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        let revoked = self.execute(sql::REVOKE_API_TOKEN, params![at.as_micros(), org.0, user.0, id])?;
        Ok(revoked == 1)
    }

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()> {
        self.execute(sql::INSERT_LOGIN_ATTEMPT, params![email.trim().to_lowercase(), client_address, at.as_micros(), succeeded])?;
        Ok(())
    }

    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
        let count = |sql: &str, key: &str| -> Result<i64> {
            let count = self.one(sql, params![key, since.as_micros()], |row| Fields::new(row, "login_attempt").get::<i64>("n"))?;
            // An aggregate without GROUP BY always gives one row.
            Ok(count.unwrap_or(0))
        };
        let by_email =
            count("SELECT count(*) AS n FROM login_attempt WHERE email = ?1 AND at >= ?2 AND NOT succeeded", &email.trim().to_lowercase())?;
        let by_client =
            count("SELECT count(*) AS n FROM login_attempt WHERE client_address = ?1 AND at >= ?2 AND NOT succeeded", client_address)?;
        Ok((by_email, by_client))
    }

    fn failures_from(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, Option<Timestamp>)> {
        let row = self.one(sql::SELECT_FAILURES_FROM, params![email.trim().to_lowercase(), client_address, since.as_micros()], |row| {
            let fields = Fields::new(row, "login_attempt");
            Ok((fields.get::<i64>("n")?, fields.get::<Option<Timestamp>>("last_at")?))
        })?;
        // An aggregate without GROUP BY always gives one row.
        Ok(row.unwrap_or((0, None)))
    }
}
