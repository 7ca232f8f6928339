//! [`DigestTx`] for PostgreSQL.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{DigestEnd, DigestTx, Result, StoredDigest};

use crate::fields::{Fields, read};

use super::PgTx;

const CLAIM: &str = "INSERT INTO digest (organisation_id, user_id, day, status, attempts, updated_at) VALUES ($1, $2, $3, 'sending', 1, $4) \
     ON CONFLICT (user_id, day) DO UPDATE SET status = 'sending', attempts = digest.attempts + 1, last_error = NULL, updated_at = excluded.updated_at \
     WHERE (digest.status = 'failed' AND digest.attempts < $5) OR (digest.status = 'sending' AND digest.updated_at < $6) \
     RETURNING attempts";
const FINISH: &str = "UPDATE digest SET status = $4, deals = $5, last_error = $6, updated_at = $7 \
     WHERE organisation_id = $1 AND user_id = $2 AND day = $3";
const SELECT: &str = "SELECT user_id, day, status, attempts, deals, last_error, updated_at FROM digest \
     WHERE organisation_id = $1 AND day = $2 ORDER BY user_id";

impl DigestTx for PgTx<'_> {
    fn claim_digest(
        &mut self,
        org: OrgId,
        user: UserId,
        day: Date,
        at: Timestamp,
        max_attempts: i32,
        stale_before: Timestamp,
    ) -> Result<Option<i32>> {
        self.one(CLAIM, &[&org.0, &user.0, &day.to_string(), &at.to_jiff(), &max_attempts, &stale_before.to_jiff()], |row| {
            Fields::new(row, "digest").get::<i32>("attempts")
        })
    }

    fn finish_digest(&mut self, org: OrgId, user: UserId, day: Date, end: &DigestEnd<'_>, at: Timestamp) -> Result<()> {
        self.execute(FINISH, &[&org.0, &user.0, &day.to_string(), &end.status, &end.deals, &end.error, &at.to_jiff()])?;
        Ok(())
    }

    fn digests(&mut self, org: OrgId, day: Date) -> Result<Vec<StoredDigest>> {
        self.collect(SELECT, &[&org.0, &day.to_string()], read)
    }
}
