//! Mailboxes ([`MailboxTx`]): reps' IMAP mailboxes and how far sync has read each.

use pipewise_core::*;

use crate::Result;
use crate::codec;
use crate::rows::{Columns, FromRow};

/// A stored mailbox. `secret` is the password sealed by the application layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMailbox {
    pub id: i64,
    pub organisation_id: OrgId,
    pub user_id: UserId,
    pub host: String,
    pub port: i32,
    pub username: String,
    pub secret: String,
    pub folder: String,
    /// `tls` (TLS from the first byte) or `starttls` (upgraded before logging in).
    pub security: String,
    /// The folder's UIDVALIDITY when last read (none before the first sync).
    pub uidvalidity: Option<i64>,
    /// The highest UID taken under that UIDVALIDITY.
    pub last_uid: i64,
    pub attempted_at: Option<Timestamp>,
    pub synced_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Failed attempts in a row.
    pub failures: i32,
    pub created_at: Timestamp,
}

/// A new mailbox's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMailbox<'a> {
    pub user_id: UserId,
    pub host: &'a str,
    pub port: i32,
    pub username: &'a str,
    pub secret: &'a str,
    pub folder: &'a str,
    pub security: &'a str,
}

/// How a sync attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxSync<'a> {
    pub uidvalidity: Option<i64>,
    pub last_uid: i64,
    pub attempted_at: Timestamp,
    /// Set when the attempt succeeded.
    pub synced_at: Option<Timestamp>,
    pub last_error: Option<&'a str>,
    pub failures: i32,
}

/// A message sync could not read, kept with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub id: i64,
    pub user_id: UserId,
    pub mailbox_id: Option<i64>,
    /// Where it was: `host/folder UID n`.
    pub place: String,
    pub message_id: Option<String>,
    pub reason: pipewise_core::message::Message,
    pub at: Timestamp,
}

/// A transaction's reads and writes of mailboxes.
pub trait MailboxTx {
    /// Stores a mailbox (a user's same host, username and folder replace the earlier one's
    /// settings and start its sync again) and returns its id.
    fn put_mailbox(&mut self, org: OrgId, mailbox: &NewMailbox<'_>, at: Timestamp) -> Result<i64>;
    /// The mailboxes of `org` (every organisation's with `None`), in id order.
    fn mailboxes(&mut self, org: Option<OrgId>) -> Result<Vec<StoredMailbox>>;
    /// Records a sync attempt of mailbox `id`.
    fn record_mailbox_sync(&mut self, id: i64, sync: &MailboxSync<'_>) -> Result<()>;
    /// Keeps messages sync could not read (`id` ignored).
    fn put_quarantined(&mut self, org: OrgId, messages: &[Quarantined]) -> Result<()>;
    /// The latest quarantined messages of `user` (everyone's with `None`), newest first.
    fn quarantined(&mut self, org: OrgId, user: Option<UserId>, limit: u32) -> Result<Vec<Quarantined>>;
}

/// A row of the `mailbox` table (every column).
impl FromRow for StoredMailbox {
    const TABLE: &'static str = "mailbox";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(StoredMailbox {
            id: fields.key("mailbox_id")?,
            organisation_id: OrgId(fields.get("organisation_id")?),
            user_id: UserId(fields.get("user_id")?),
            host: fields.get("host")?,
            port: fields.get("port")?,
            username: fields.get("username")?,
            secret: fields.get("secret")?,
            folder: fields.get("folder")?,
            security: fields.get("security")?,
            uidvalidity: fields.get("uidvalidity")?,
            last_uid: fields.get("last_uid")?,
            attempted_at: fields.get("attempted_at")?,
            synced_at: fields.get("synced_at")?,
            last_error: fields.get("last_error")?,
            failures: fields.get("failures")?,
            created_at: fields.get("created_at")?,
        })
    }
}

/// A row of the `capture_quarantine` table, its reason a message as JSON text.
impl FromRow for Quarantined {
    const TABLE: &'static str = "capture_quarantine";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("quarantine_id")?;
        let reason: String = fields.get("reason")?;
        let reason = codec::message_from_text(&reason).map_err(|problem| fields.corrupt("reason", problem))?;
        Ok(Quarantined {
            id,
            user_id: UserId(fields.get("user_id")?),
            mailbox_id: fields.get("mailbox_id")?,
            place: fields.get("place")?,
            message_id: fields.get("message_id")?,
            reason,
            at: fields.get("quarantined_at")?,
        })
    }
}
