//! [`AuthTx`] for PostgreSQL: password hashes, sessions, API tokens and sign-in attempts.

use pipewise_core::user::User;
use pipewise_core::*;
use pipewise_store::rows::{Columns, FromRow, user_with_organisation};
use pipewise_store::{ApiToken, AuthTx, Result, Session, sql};

use crate::fields::{Fields, read};

use super::PgTx;

impl AuthTx for PgTx<'_> {
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.execute(sql::SET_PASSWORD_HASH, &[&hash, &org.0, &user.0])?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        let row = self.query_opt(sql::SELECT_PASSWORD_HASH, &[&org.0, &user.0])?;
        let Some(row) = row else { return Ok(None) };
        let mut fields = Fields::new(&row, User::TABLE);
        fields.key("user_id")?;
        fields.get("password_hash")
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        // Addresses are stored lower-cased, so a lookup ignores case.
        self.collect(sql::SELECT_USERS_BY_EMAIL_EVERYWHERE, &[&email.trim().to_lowercase()], |row| {
            user_with_organisation(&mut Fields::new(row, User::TABLE))
        })
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.execute(
            sql::INSERT_SESSION,
            &[
                &session.token_hash,
                &session.org.0,
                &session.user_id.0,
                &session.csrf_token,
                &session.created_at.to_jiff(),
                &session.last_seen_at.to_jiff(),
                &session.expires_at.to_jiff(),
                &session.client_address,
            ],
        )?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        self.one(sql::SELECT_SESSION, &[&token_hash], read)
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.execute(sql::TOUCH_SESSION, &[&last_seen_at.to_jiff(), &expires_at.to_jiff(), &token_hash])?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.execute(sql::DELETE_SESSION, &[&token_hash])?;
        Ok(())
    }

    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()> {
        self.execute(
            "DELETE FROM session WHERE organisation_id = $1 AND user_id = $2 AND token_hash IS DISTINCT FROM $3::text",
            &[&org.0, &user.0, &except],
        )?;
        Ok(())
    }

    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64> {
        self.returned_id(
            "api_token",
            sql::INSERT_API_TOKEN,
            &[
                &token.org.0,
                &token.user_id.0,
                &token.name,
                &token.token_hash,
                &token.prefix,
                &token.created_at.to_jiff(),
                &token.last_used_at.map(Timestamp::to_jiff),
                &token.revoked_at.map(Timestamp::to_jiff),
            ],
        )
    }

    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.one(sql::SELECT_API_TOKEN, &[&token_hash], read)
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        self.collect(sql::SELECT_API_TOKENS, &[&org.0, &user.0], read)
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.execute(sql::TOUCH_API_TOKEN, &[&at.to_jiff(), &id])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        let revoked = self.execute(sql::REVOKE_API_TOKEN, &[&at.to_jiff(), &org.0, &user.0, &id])?;
        Ok(revoked == 1)
    }

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()> {
        self.execute(sql::INSERT_LOGIN_ATTEMPT, &[&email.trim().to_lowercase(), &client_address, &at.to_jiff(), &succeeded])?;
        Ok(())
    }

    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
        // Two subqueries, so each count walks its own index.
        let row = self.query_one(
            "SELECT \
             (SELECT count(*) FROM login_attempt WHERE email = $1 AND at >= $3 AND NOT succeeded) AS by_email, \
             (SELECT count(*) FROM login_attempt WHERE client_address = $2 AND at >= $3 AND NOT succeeded) AS by_client",
            &[&email.trim().to_lowercase(), &client_address, &since.to_jiff()],
        )?;
        let fields = Fields::new(&row, "login_attempt");
        Ok((fields.get("by_email")?, fields.get("by_client")?))
    }

    fn failures_from(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, Option<Timestamp>)> {
        let row = self.query_one(sql::SELECT_FAILURES_FROM, &[&email.trim().to_lowercase(), &client_address, &since.to_jiff()])?;
        let fields = Fields::new(&row, "login_attempt");
        Ok((fields.get("n")?, fields.get("last_at")?))
    }
}
