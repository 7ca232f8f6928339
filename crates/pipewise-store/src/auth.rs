//! Signing in ([`AuthTx`]): password hashes, browser sessions, API tokens and sign-in attempts.

use pipewise_core::user::User;
use pipewise_core::*;

use crate::Result;

/// A signed-in browser session. The cookie carries a secret; the store keeps its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub org: OrgId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub client_address: Option<String>,
}

/// An API token; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub org: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    /// The first characters of the token, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A transaction's reads and writes of what signing in needs. Sessions, tokens and sign-in attempts
/// are looked up before an organisation is known.
pub trait AuthTx {
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()>;
    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>>;
    /// Users with this e-mail address (ignoring case) in any organisation, for signing in.
    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>>;

    fn insert_session(&mut self, session: &Session) -> Result<()>;
    fn session(&mut self, token_hash: &str) -> Result<Option<Session>>;
    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()>;
    fn delete_session(&mut self, token_hash: &str) -> Result<()>;
    /// Ends every session of a user (after a password change), but `except` if given.
    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()>;

    /// Stores the token (its `id` is ignored) and returns its id.
    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64>;
    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>>;
    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>>;
    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()>;
    /// Revokes one of `user`'s tokens; `false` when there is no such live token.
    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool>;

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()>;
    /// Failed sign-ins since `since`: `(for this e-mail, from this client address)`.
    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)>;
    /// Failed sign-ins for this e-mail from this client address since `since`: how many, and
    /// when the last was.
    fn failures_from(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, Option<Timestamp>)>;
}
