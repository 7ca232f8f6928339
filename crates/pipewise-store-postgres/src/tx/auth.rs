//! [`AuthTx`] for PostgreSQL: password hashes, sessions, API tokens and sign-in attempts.

use pipewise_core::user::User;
use pipewise_core::*;
use pipewise_store::{ApiToken, AuthTx, Result, Session, sql};
use postgres::Row;

use crate::fields::Fields;

use super::PgTx;
use super::organisations::read_user;

impl AuthTx for PgTx<'_> {
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.execute("UPDATE app_user SET password_hash = $3 WHERE organisation_id = $1 AND user_id = $2", &[&org.0, &user.0, &hash])?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        let row = self.query_opt(sql::SELECT_PASSWORD_HASH, &[&org.0, &user.0])?;
        let Some(row) = row else { return Ok(None) };
        let mut fields = Fields::new(&row, "app_user");
        fields.key("user_id")?;
        fields.get("password_hash")
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        // Addresses are stored lower-cased, so a lookup ignores case.
        let rows = self.query(sql::SELECT_USERS_BY_EMAIL_EVERYWHERE, &[&email.trim().to_lowercase()])?;
        rows.iter()
            .map(|row| {
                let user = read_user(row)?;
                let org = Fields::new(row, "app_user").get("organisation_id")?;
                Ok((OrgId(org), user))
            })
            .collect()
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
        let row = self.query_opt(sql::SELECT_SESSION, &[&token_hash])?;
        row.as_ref().map(read_session).transpose()
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE session SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1",
            &[&token_hash, &last_seen_at.to_jiff(), &expires_at.to_jiff()],
        )?;
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
        let row = self.query_opt(sql::SELECT_API_TOKEN, &[&token_hash])?;
        row.as_ref().map(read_api_token).transpose()
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        let rows = self.query(sql::SELECT_API_TOKENS, &[&org.0, &user.0])?;
        rows.iter().map(read_api_token).collect()
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.execute("UPDATE api_token SET last_used_at = $2 WHERE api_token_id = $1", &[&id, &at.to_jiff()])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        let revoked = self.execute(
            "UPDATE api_token SET revoked_at = $4 \
             WHERE organisation_id = $1 AND user_id = $2 AND api_token_id = $3 AND revoked_at IS NULL",
            &[&org.0, &user.0, &id, &at.to_jiff()],
        )?;
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
}

fn read_session(row: &Row) -> Result<Session> {
    // No key for error messages: the token hash is as good as the cookie for looking one up.
    let fields = Fields::new(row, "session");
    Ok(Session {
        token_hash: fields.get("token_hash")?,
        org: OrgId(fields.get("organisation_id")?),
        user_id: UserId(fields.get("user_id")?),
        csrf_token: fields.get("csrf_token")?,
        created_at: fields.timestamp("created_at")?,
        last_seen_at: fields.timestamp("last_seen_at")?,
        expires_at: fields.timestamp("expires_at")?,
        client_address: fields.get("client_address")?,
    })
}

fn read_api_token(row: &Row) -> Result<ApiToken> {
    let mut fields = Fields::new(row, "api_token");
    Ok(ApiToken {
        id: fields.key("api_token_id")?,
        org: OrgId(fields.get("organisation_id")?),
        user_id: UserId(fields.get("user_id")?),
        name: fields.get("name")?,
        token_hash: fields.get("token_hash")?,
        prefix: fields.get("prefix")?,
        created_at: fields.timestamp("created_at")?,
        last_used_at: fields.optional_timestamp("last_used_at")?,
        revoked_at: fields.optional_timestamp("revoked_at")?,
    })
}
