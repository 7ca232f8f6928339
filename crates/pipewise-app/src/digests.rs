//! Daily digests of at-risk deals (SPEC C11): every morning at [`SEND_HOUR`] in the
//! organisation's time zone, each manager (anyone with active people reporting to them) gets one
//! message listing the open deals in their tree that need something today. This module decides
//! who is due and keeps, per manager and day, whether it went out: a digest is claimed before it
//! is sent, so that one server sends it once however many run; a failed one is tried again up to
//! [`MAX_ATTEMPTS`] times, a send that crashed midway after [`STALE_MINUTES`].
//!
//! Which deals and how they are worded is the web edge's (`pipewise_web::digest`); sending is
//! the binary's.

use pipewise_core::user::User;
use pipewise_core::*;
pub use pipewise_store::StoredDigest;

use crate::*;

/// The local hour from which the day's digests go out.
pub const SEND_HOUR: i64 = 8;
/// Attempts at one digest before it is given up for the day.
pub const MAX_ATTEMPTS: i32 = 5;
/// A digest left `sending` this long (a crash midway) is claimed again.
pub const STALE_MINUTES: i64 = 15;

/// How a claimed digest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    Sent {
        deals: i32,
    },
    /// Nothing at risk: nothing is sent.
    Empty,
    Failed {
        deals: i32,
        error: &'a str,
    },
}

/// The organisation's day at `now`, and whether its digests are due (it is past [`SEND_HOUR`]).
pub fn day_at(tx: &mut Tx, org: OrgId, now: Timestamp) -> Result<(Date, bool)> {
    let zone = crate::users::zone(tx, org)?;
    let day = zone.date_of(now);
    let due = now >= zone.start_of(day).plus_seconds(SEND_HOUR * 3_600);
    Ok((day, due))
}

/// Who gets a digest: active users with at least one active person reporting to them (directly
/// or not), in id order.
pub fn recipients(tx: &mut Tx, org: OrgId) -> Result<Vec<User>> {
    let users = crate::users::users(tx, org)?;
    let active: Vec<&User> = users.iter().filter(|user| user.active).collect();
    Ok(active
        .iter()
        .filter(|manager| active.iter().any(|user| user.manager_id == Some(manager.id)))
        .map(|manager| (*manager).clone())
        .collect())
}

/// Claims `user`'s digest of `day`: `Some(attempt)` when the caller is to send it now.
pub fn claim(db: &Db, org: OrgId, user: UserId, day: Date, now: Timestamp) -> Result<Option<i32>> {
    let mut tx = db.write()?;
    let claimed = tx.0.claim_digest(org, user, day, now, MAX_ATTEMPTS, now.plus_seconds(-STALE_MINUTES * 60))?;
    tx.commit()?;
    Ok(claimed)
}

/// Records how `user`'s digest of `day` ended.
pub fn finish(db: &Db, org: OrgId, user: UserId, day: Date, outcome: Outcome<'_>, now: Timestamp) -> Result<()> {
    let (status, deals, error) = match outcome {
        Outcome::Sent { deals } => ("sent", deals, None),
        Outcome::Empty => ("empty", 0, None),
        Outcome::Failed { deals, error } => ("failed", deals, Some(error.chars().take(500).collect::<String>())),
    };
    let mut tx = db.write()?;
    tx.0.finish_digest(org, user, day, &pipewise_store::DigestEnd { status, deals, error: error.as_deref() }, now)?;
    tx.commit()
}

/// The organisation's digests of `day` (admins, and the system).
pub fn digests_for(tx: &mut Tx, org: OrgId, access: &pipewise_core::access::Access, day: Date) -> Result<Vec<StoredDigest>> {
    require(access.can_read_audit(), || "only an admin reads the digests' log".into())?;
    tx.0.digests(org, day)
}
