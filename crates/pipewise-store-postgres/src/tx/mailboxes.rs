//! [`MailboxTx`] for PostgreSQL.

use pipewise_core::*;
use pipewise_store::{MailboxSync, MailboxTx, NewMailbox, Quarantined, Result, StoredMailbox, codec};

use crate::fields::read;

use super::PgTx;

const PUT: &str = "INSERT INTO mailbox (organisation_id, user_id, host, port, username, secret, folder, created_at, security) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (user_id, host, username, folder) DO UPDATE SET \
     port = excluded.port, secret = excluded.secret, security = excluded.security, uidvalidity = NULL, last_uid = 0, last_error = NULL, failures = 0 \
     RETURNING mailbox_id";
const SELECT: &str = "SELECT mailbox_id, organisation_id, user_id, host, port, username, secret, folder, security, uidvalidity, last_uid, \
     attempted_at, synced_at, last_error, failures, created_at FROM mailbox WHERE ($1::bigint IS NULL OR organisation_id = $1) ORDER BY mailbox_id";
const RECORD: &str = "UPDATE mailbox SET uidvalidity = $2, last_uid = $3, attempted_at = $4, synced_at = coalesce($5, synced_at), \
     last_error = $6, failures = $7 WHERE mailbox_id = $1";

const PUT_QUARANTINED: &str = "INSERT INTO capture_quarantine (organisation_id, user_id, mailbox_id, place, message_id, reason, quarantined_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SELECT_QUARANTINED: &str = "SELECT quarantine_id, user_id, mailbox_id, place, message_id, reason, quarantined_at FROM capture_quarantine \
     WHERE organisation_id = $1 AND ($2::bigint IS NULL OR user_id = $2) ORDER BY quarantine_id DESC LIMIT $3";

impl MailboxTx for PgTx<'_> {
    fn put_mailbox(&mut self, org: OrgId, mailbox: &NewMailbox<'_>, at: Timestamp) -> Result<i64> {
        self.returned_id(
            "mailbox",
            PUT,
            &[
                &org.0,
                &mailbox.user_id.0,
                &mailbox.host,
                &mailbox.port,
                &mailbox.username,
                &mailbox.secret,
                &mailbox.folder,
                &at.to_jiff(),
                &mailbox.security,
            ],
        )
    }

    fn mailboxes(&mut self, org: Option<OrgId>) -> Result<Vec<StoredMailbox>> {
        self.collect(SELECT, &[&org.map(|org| org.0)], read)
    }

    fn record_mailbox_sync(&mut self, id: i64, sync: &MailboxSync<'_>) -> Result<()> {
        self.execute(
            RECORD,
            &[
                &id,
                &sync.uidvalidity,
                &sync.last_uid,
                &sync.attempted_at.to_jiff(),
                &sync.synced_at.map(Timestamp::to_jiff),
                &sync.last_error,
                &sync.failures,
            ],
        )?;
        Ok(())
    }

    fn put_quarantined(&mut self, org: OrgId, messages: &[Quarantined]) -> Result<()> {
        for message in messages {
            let reason = codec::message_to_text(&message.reason);
            self.execute(
                PUT_QUARANTINED,
                &[&org.0, &message.user_id.0, &message.mailbox_id, &message.place, &message.message_id, &reason, &message.at.to_jiff()],
            )?;
        }
        Ok(())
    }

    fn quarantined(&mut self, org: OrgId, user: Option<UserId>, limit: u32) -> Result<Vec<Quarantined>> {
        self.collect(SELECT_QUARANTINED, &[&org.0, &user.map(|user| user.0), &i64::from(limit)], read)
    }
}
