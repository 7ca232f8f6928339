//! Passwords, sessions and API tokens: how passwords are hashed and checked, and what signing
//! in, signing out and token use write.
//!
//! Passwords are hashed with argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's recommended minimum),
//! each with its own random salt, and stored as PHC strings. At most one argon2 computation per
//! core runs at once ([`ARGON2_AT_ONCE`]): a flood of sign-ins waits its turn instead of taking
//! the machine's memory.
//!
//! Failed sign-ins slow an attacker down without locking the owner out ([`sign_in_wait`]):
//! - from one client address, for one account: the first [`FREE_FAILURES`] are free, then each
//!   next attempt waits 2, 4, 8 … seconds after the last failure, at most [`MAX_DELAY_SECONDS`];
//!   the owner, elsewhere, is not slowed;
//! - from one client address, any accounts: [`MAX_FAILURES_PER_CLIENT`] in
//!   [`FAILURE_WINDOW_SECONDS`], then it waits for the window;
//! - for one account from anywhere (a distributed guess): [`MAX_FAILURES_PER_ACCOUNT_HOURLY`] an
//!   hour (ASVS 2.2.1's ceiling), then it waits for the hour.
//!
//! The same rule guards the current password asked for by a password change and by a new API
//! token.

use pipewise_core::access::SharedKind;
use pipewise_core::user::User;
use pipewise_core::*;
use serde_json::json;

use crate::*;

/// The shortest password anyone may set.
pub const MIN_PASSWORD_LENGTH: usize = 10;

/// The window over which failures from one client address are counted, in seconds.
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// Failures of one account from one client address before each next attempt waits.
pub const FREE_FAILURES: i64 = 3;
/// The longest wait between two attempts on one account from one client address, in seconds.
pub const MAX_DELAY_SECONDS: i64 = 120;
/// Failures from one client address, any accounts, per [`FAILURE_WINDOW_SECONDS`].
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// Failures of one account from anywhere per hour.
pub const MAX_FAILURES_PER_ACCOUNT_HOURLY: i64 = 100;

/// How many seconds `client_address` must wait before trying a password of `email` again, by
/// the rules in the module documentation; `None`: it may try now.
pub fn sign_in_wait(tx: &mut Tx, email: &str, client_address: &str, now: Timestamp) -> Result<Option<u64>> {
    let (_, by_client) = tx.0.failed_logins_since(email, client_address, now.plus_seconds(-FAILURE_WINDOW_SECONDS))?;
    if by_client >= MAX_FAILURES_PER_CLIENT {
        return Ok(Some(FAILURE_WINDOW_SECONDS as u64));
    }
    let (by_account, _) = tx.0.failed_logins_since(email, client_address, now.plus_seconds(-3600))?;
    if by_account >= MAX_FAILURES_PER_ACCOUNT_HOURLY {
        return Ok(Some(3600));
    }
    let (from_here, last) = tx.0.failures_from(email, client_address, now.plus_seconds(-FAILURE_WINDOW_SECONDS))?;
    if from_here < FREE_FAILURES {
        return Ok(None);
    }
    let Some(last) = last else { return Ok(None) };
    let delay = (2i64 << (from_here - FREE_FAILURES).min(16)).min(MAX_DELAY_SECONDS);
    let wait_micros = last.as_micros() + delay * 1_000_000 - now.as_micros();
    Ok((wait_micros > 0).then(|| (wait_micros as u64).div_ceil(1_000_000)))
}

/// At most this many argon2 computations run at once (each takes 19 MiB).
pub fn argon2_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get())
}

/// Runs `work` (one argon2 computation) when fewer than [`argon2_at_once`] others run.
fn one_at_a_time<R>(work: impl FnOnce() -> R) -> R {
    use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
    struct Slots {
        running: Mutex<usize>,
        freed: Condvar,
    }
    struct Slot(&'static Slots);
    impl Drop for Slot {
        fn drop(&mut self) {
            *self.0.running.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
            self.0.freed.notify_one();
        }
    }
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| Slots { running: Mutex::new(0), freed: Condvar::new() });
    let mut running = slots.running.lock().unwrap_or_else(PoisonError::into_inner);
    while *running >= argon2_at_once() {
        running = slots.freed.wait(running).unwrap_or_else(PoisonError::into_inner);
    }
    *running += 1;
    drop(running);
    let _slot = Slot(slots);
    work()
}

/// Hashing a password failed: the machine gave no randomness, or argon2 refused (internal).
#[derive(Debug)]
pub struct HashError(String);

impl std::fmt::Display for HashError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "cannot hash the password: {}", self.0)
    }
}

impl std::error::Error for HashError {}

fn argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> std::result::Result<String, HashError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|error| HashError(format!("no randomness: {error}")))?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|error| HashError(error.to_string()))?;
    one_at_a_time(|| argon2().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()))
        .map_err(|error| HashError(error.to_string()))
}

/// Whether `password` is the one `hash` (a PHC string) was made from; `false` for a malformed hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| one_at_a_time(|| argon2().verify_password(password.as_bytes(), &parsed).is_ok()))
}

/// Stores a new password hash for `user` (an argon2id PHC string made by the edge) and ends
/// the user's other sessions. Users change their own password; admins anyone's.
pub fn set_password_hash(tx: &mut Tx, ctx: &WriteCtx, user_id: UserId, hash: &str, keep_session: Option<&str>) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.user_id().is_none_or(|actor| actor == user_id) || access.can_write(SharedKind::User), || {
        "only an admin changes another user's password".into()
    })?;
    tx.0.user(ctx.org, user_id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })?;
    tx.0.set_password_hash(ctx.org, user_id, hash)?;
    tx.0.delete_user_sessions(ctx.org, user_id, keep_session)?;
    // The hash itself is a secret and stays out of the audit log.
    audit(tx, ctx, UserId::LABEL, user_id.0, "set_password", None, None)
}

/// A successful sign-in: the attempt, the new session and an audit entry, in one transaction.
/// The session's `token_hash` is the hash of a secret only the browser holds.
pub fn record_sign_in(tx: &mut Tx, session: &crate::Session, email: &str, client_address: &str) -> Result<()> {
    tx.0.record_login_attempt(email, client_address, session.created_at, true)?;
    tx.0.insert_session(session)?;
    let ctx =
        WriteCtx { org: session.org, actor_id: Some(session.user_id), source: pipewise_core::history::Source::Web, at: session.created_at };
    audit(tx, &ctx, UserId::LABEL, session.user_id.0, "sign_in", None, None)
}

/// A failed sign-in, counted for throttling. Not audited: it names no user for certain.
pub fn record_failed_sign_in(tx: &mut Tx, email: &str, client_address: &str, at: Timestamp) -> Result<()> {
    tx.0.record_login_attempt(email, client_address, at, false)
}

/// Ends a session and audits it.
pub fn end_session(tx: &mut Tx, ctx: &WriteCtx, token_hash: &str) -> Result<()> {
    tx.0.delete_session(token_hash)?;
    let user = ctx.actor_id.map_or(0, |id| id.0);
    audit(tx, ctx, UserId::LABEL, user, "sign_out", None, None)
}

/// Slides a session's expiry; bookkeeping, not audited.
pub fn touch_session(tx: &mut Tx, token_hash: &str, at: Timestamp, expires_at: Timestamp) -> Result<()> {
    tx.0.touch_session(token_hash, at, expires_at)
}

/// Notes a token's last use; bookkeeping, not audited.
pub fn touch_api_token(tx: &mut Tx, id: i64, at: Timestamp) -> Result<()> {
    tx.0.touch_api_token(id, at)
}

/// Stores a new API token of the actor (its `user_id` must be the actor's) and audits it.
pub fn create_api_token(tx: &mut Tx, ctx: &WriteCtx, token: &crate::ApiToken) -> Result<i64> {
    let access = writer_access(tx, ctx)?;
    require(access.user_id() == Some(token.user_id), || "a token is created by its owner".into())?;
    let id = tx.0.insert_api_token(token)?;
    audit(tx, ctx, "api token", id, "create", None, Some(json!({ "name": token.name, "prefix": token.prefix })))?;
    Ok(id)
}

/// Revokes one of the actor's tokens; `NotFound` when there is no such live token.
pub fn revoke_api_token(tx: &mut Tx, ctx: &WriteCtx, id: i64) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    let user = access.user_id().ok_or_else(|| StoreError::Forbidden("a token is revoked by its owner".into()))?;
    if !tx.0.revoke_api_token(ctx.org, user, id, ctx.at)? {
        return Err(StoreError::NotFound { kind: "api token", id });
    }
    audit(tx, ctx, "api token", id, "revoke", None, None)
}

/// Revokes every live token of the actor but those in `keep` (a password change); each is
/// audited. Returns how many were revoked.
pub fn revoke_api_tokens_except(tx: &mut Tx, ctx: &WriteCtx, keep: &[i64]) -> Result<usize> {
    let access = writer_access(tx, ctx)?;
    let user = access.user_id().ok_or_else(|| StoreError::Forbidden("tokens are revoked by their owner".into()))?;
    let live: Vec<i64> =
        tx.0.api_tokens(ctx.org, user)?
            .into_iter()
            .filter(|token| token.revoked_at.is_none() && !keep.contains(&token.id))
            .map(|token| token.id)
            .collect();
    for id in &live {
        revoke_api_token(tx, ctx, *id)?;
    }
    Ok(live.len())
}

// Reads for signing in and for a user's own settings.

pub fn session(tx: &mut Tx, token_hash: &str) -> Result<Option<Session>> {
    tx.0.session(token_hash)
}

pub fn api_token(tx: &mut Tx, token_hash: &str) -> Result<Option<ApiToken>> {
    tx.0.api_token(token_hash)
}

/// A user's own API tokens.
pub fn api_tokens(tx: &mut Tx, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
    tx.0.api_tokens(org, user)
}

pub fn password_hash(tx: &mut Tx, org: OrgId, user: UserId) -> Result<Option<String>> {
    tx.0.password_hash(org, user)
}

/// Users with this e-mail address (ignoring case) in any organisation, for signing in.
pub fn users_by_email_everywhere(tx: &mut Tx, email: &str) -> Result<Vec<(OrgId, User)>> {
    tx.0.users_by_email_everywhere(email)
}

/// Failed sign-ins since `since`: `(for this e-mail, from this client address)`.
pub fn failed_logins_since(tx: &mut Tx, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
    tx.0.failed_logins_since(email, client_address, since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("Correct horse battery staple", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery staple").unwrap(), "each hash has its own salt");
    }
}
