//! [`AuthTx`] for SQLite: password hashes, sessions, API tokens and sign-in attempts.

use pipewise_core::user::User;
use pipewise_core::*;
use pipewise_store::{ApiToken, AuthTx, Result, Session};
use rusqlite::{OptionalExtension, Row, params};

use crate::rows::timestamp;

use super::organisations::{USER_COLUMNS, finish_user, user_row};
use super::{SqliteTx, db_err, identity};

const API_TOKEN_COLUMNS: &str = "api_token_id, organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at";

impl AuthTx for SqliteTx<'_> {
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE app_user SET password_hash = ?3 WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, hash]))
            .map_err(db_err)?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        self.db()
            .prepare_cached("SELECT password_hash FROM app_user WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.query_row(params![org.0, user.0], |row| row.get::<_, Option<String>>(0)).optional())
            .map(Option::flatten)
            .map_err(db_err)
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        let sql = format!("SELECT {USER_COLUMNS}, organisation_id FROM app_user WHERE email = ?1 ORDER BY organisation_id, user_id");
        self.collect(
            &sql,
            [email.trim().to_lowercase()],
            |row| Ok((user_row(row)?, row.get::<_, i64>(10)?)),
            |(user, org)| Ok((OrgId(org), finish_user(user)?)),
        )
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO session (token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    session.token_hash,
                    session.org.0,
                    session.user_id.0,
                    session.csrf_token,
                    session.created_at.as_micros(),
                    session.last_seen_at.as_micros(),
                    session.expires_at.as_micros(),
                    session.client_address
                ])
            })
            .map_err(db_err)?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        self.one(
            "SELECT token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address
             FROM session WHERE token_hash = ?1",
            [token_hash],
            |row| {
                Ok(Session {
                    token_hash: row.get(0)?,
                    org: OrgId(row.get(1)?),
                    user_id: UserId(row.get(2)?),
                    csrf_token: row.get(3)?,
                    created_at: timestamp(row.get(4)?),
                    last_seen_at: timestamp(row.get(5)?),
                    expires_at: timestamp(row.get(6)?),
                    client_address: row.get(7)?,
                })
            },
            identity,
        )
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE session SET last_seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1")
            .and_then(|mut statement| statement.execute(params![token_hash, last_seen_at.as_micros(), expires_at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.db()
            .prepare_cached("DELETE FROM session WHERE token_hash = ?1")
            .and_then(|mut statement| statement.execute([token_hash]))
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()> {
        self.db()
            .prepare_cached("DELETE FROM session WHERE organisation_id = ?1 AND user_id = ?2 AND token_hash IS NOT ?3")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, except]))
            .map_err(db_err)?;
        Ok(())
    }

    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO api_token (organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    token.org.0,
                    token.user_id.0,
                    token.name,
                    token.token_hash,
                    token.prefix,
                    token.created_at.as_micros(),
                    token.last_used_at.map(Timestamp::as_micros),
                    token.revoked_at.map(Timestamp::as_micros)
                ])
            })
            .map_err(db_err)
    }

    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE token_hash = ?1");
        self.one(&sql, [token_hash], api_token_row, identity)
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE organisation_id = ?1 AND user_id = ?2 ORDER BY api_token_id");
        self.collect(&sql, params![org.0, user.0], api_token_row, identity)
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE api_token SET last_used_at = ?2 WHERE api_token_id = ?1")
            .and_then(|mut statement| statement.execute(params![id, at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        self.db()
            .prepare_cached(
                "UPDATE api_token SET revoked_at = ?4
                 WHERE organisation_id = ?1 AND user_id = ?2 AND api_token_id = ?3 AND revoked_at IS NULL",
            )
            .and_then(|mut statement| statement.execute(params![org.0, user.0, id, at.as_micros()]))
            .map(|changed| changed == 1)
            .map_err(db_err)
    }

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()> {
        self.db()
            .prepare_cached("INSERT INTO login_attempt (email, client_address, at, succeeded) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut statement| statement.execute(params![email.trim().to_lowercase(), client_address, at.as_micros(), succeeded]))
            .map_err(db_err)?;
        Ok(())
    }

    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
        let count = |sql: &str, key: &str| -> Result<i64> {
            self.db()
                .prepare_cached(sql)
                .and_then(|mut statement| statement.query_row(params![key, since.as_micros()], |row| row.get(0)))
                .map_err(db_err)
        };
        let by_email =
            count("SELECT count(*) FROM login_attempt WHERE email = ?1 AND at >= ?2 AND NOT succeeded", &email.trim().to_lowercase())?;
        let by_client =
            count("SELECT count(*) FROM login_attempt WHERE client_address = ?1 AND at >= ?2 AND NOT succeeded", client_address)?;
        Ok((by_email, by_client))
    }
}

fn api_token_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        org: OrgId(row.get(1)?),
        user_id: UserId(row.get(2)?),
        name: row.get(3)?,
        token_hash: row.get(4)?,
        prefix: row.get(5)?,
        created_at: timestamp(row.get(6)?),
        last_used_at: row.get::<_, Option<i64>>(7)?.map(timestamp),
        revoked_at: row.get::<_, Option<i64>>(8)?.map(timestamp),
    })
}
