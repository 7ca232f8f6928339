//! Digests ([`DigestTx`]): which manager's daily digest of at-risk deals has been sent for
//! which local day, claimed before sending so that it goes out once.

use pipewise_core::*;

use crate::Result;
use crate::rows::{Columns, FromRow};

/// One manager's digest for one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDigest {
    pub user_id: UserId,
    pub day: Date,
    /// `sending`, `sent`, `failed` or `empty` (nothing at risk, nothing sent).
    pub status: String,
    pub attempts: i32,
    pub deals: i32,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// How a claimed digest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestEnd<'a> {
    /// `sent`, `failed` or `empty`.
    pub status: &'a str,
    pub deals: i32,
    pub error: Option<&'a str>,
}

/// A transaction's reads and writes of digests.
pub trait DigestTx {
    /// Claims `user`'s digest of `day` for sending: `Some(attempt)` when this caller is to send
    /// it (never tried; failed fewer than `max_attempts` times; or left `sending` since before
    /// `stale_before`), `None` when it is sent, empty, being sent, or given up.
    fn claim_digest(
        &mut self,
        org: OrgId,
        user: UserId,
        day: Date,
        at: Timestamp,
        max_attempts: i32,
        stale_before: Timestamp,
    ) -> Result<Option<i32>>;
    /// Records how a claimed digest ended.
    fn finish_digest(&mut self, org: OrgId, user: UserId, day: Date, end: &DigestEnd<'_>, at: Timestamp) -> Result<()>;
    /// The organisation's digests of `day`, by user.
    fn digests(&mut self, org: OrgId, day: Date) -> Result<Vec<StoredDigest>>;
}

/// A row of the `digest` table (every column but its id and organisation).
impl FromRow for StoredDigest {
    const TABLE: &'static str = "digest";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let user_id = UserId(fields.get("user_id")?);
        let day: String = fields.get("day")?;
        let day = pipewise_core::time::parse_date(&day).map_err(|problem| fields.corrupt("day", problem))?;
        Ok(StoredDigest {
            user_id,
            day,
            status: fields.get("status")?,
            attempts: fields.get("attempts")?,
            deals: fields.get("deals")?,
            last_error: fields.get("last_error")?,
            updated_at: fields.get("updated_at")?,
        })
    }
}
