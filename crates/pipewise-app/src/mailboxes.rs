//! Mailbox sync (SPEC C4): each rep connects their IMAP mailbox; its password is sealed with the
//! server's key (ChaCha20-Poly1305, a fresh nonce each time) and never shown again; sync reads
//! the folder incrementally by UID and logs what it finds through [`capture`](crate::capture),
//! recording after each batch how far it got, so a crash or a dropped connection resumes where
//! it stopped (a batch logged but not recorded is read again and found duplicate).
//!
//! The edge does the I/O (the binary's IMAP client); this module stores, checks and words.

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::*;
use pipewise_store::{MailboxSync, NewMailbox, Quarantined, StoredMailbox};
use serde_json::json;

use crate::capture::{CaptureFile, CaptureOptions, CaptureReport};
pub use crate::secrets::SecretKey;
use crate::secrets::seal;
use crate::*;

/// Opens a mailbox's sealed password; `None` when the key is not the one it was sealed with (or
/// the stored value was altered).
pub fn open(key: &SecretKey, mailbox: &StoredMailbox) -> Option<String> {
    crate::secrets::open(key, &mailbox.secret)
}

/// What a rep types to connect a mailbox.
#[derive(Clone, Debug, Default)]
pub struct MailboxSettings {
    pub host: String,
    pub port: i32,
    pub username: String,
    pub password: String,
    /// `INBOX` by default.
    pub folder: Option<String>,
    /// `tls` (TLS from the first byte) or `starttls` (upgraded before logging in); by default
    /// `tls` on port 993 and `starttls` on any other.
    pub security: Option<String>,
}

/// Connects a mailbox for `ctx`'s actor (a writer); the password is sealed with `key`. Audited
/// without the password.
pub fn connect_mailbox(tx: &mut Tx, ctx: &WriteCtx, key: &SecretKey, settings: &MailboxSettings) -> Result<i64> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot connect a mailbox".into())?;
    let user = access.user_id().ok_or_else(|| StoreError::Forbidden("a mailbox is a person's: sign in to connect one".into()))?;
    let record = RecordRef::new_record("mailbox");
    let mut errors = ValidationErrors::default();
    let host = settings.host.trim().to_lowercase();
    let host_ok = !host.is_empty() && host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !host_ok {
        errors.push(
            &record,
            "host",
            Problem::Invalid { value: settings.host.clone(), expected: "a host name or address, such as imap.example.com" },
        );
    }
    if !(1..=65_535).contains(&settings.port) {
        errors.push(&record, "port", Problem::OutOfRange { value: settings.port.to_string(), range: "1 to 65535" });
    }
    let username = errors.check(&record, "username", text::required(&settings.username, 200));
    if pipewise_capture::imap::quoted(&settings.password).is_none() || settings.password.is_empty() {
        errors.push(
            &record,
            "password",
            Problem::Invalid { value: "(hidden)".into(), expected: "a password of 1 to 1,000 characters on one line" },
        );
    }
    let folder = settings.folder.as_deref().map(str::trim).filter(|folder| !folder.is_empty()).unwrap_or("INBOX").to_owned();
    if pipewise_capture::imap::quoted(&folder).is_none() || folder.len() > 200 {
        errors.push(&record, "folder", Problem::Invalid { value: folder.clone(), expected: "a folder name such as INBOX" });
    }
    let security = match settings.security.as_deref().map(str::trim).filter(|security| !security.is_empty()) {
        None if settings.port == 993 => "tls",
        None => "starttls",
        Some("tls") => "tls",
        Some("starttls") => "starttls",
        Some(other) => {
            errors.push(&record, "security", Problem::Invalid { value: other.to_owned(), expected: "tls or starttls" });
            "starttls"
        }
    };
    errors.into_result(())?;
    let username = username.unwrap_or_default();
    let secret = seal(key, &settings.password)?;
    let mailbox =
        NewMailbox { user_id: user, host: &host, port: settings.port, username: &username, secret: &secret, folder: &folder, security };
    let id = tx.0.put_mailbox(ctx.org, &mailbox, ctx.at)?;
    let after = json!({ "host": host, "port": settings.port, "username": username, "folder": folder, "security": security });
    audit(tx, ctx, "mailbox", id, "connect", None, Some(after))?;
    Ok(id)
}

/// The mailboxes `access` may see: a rep's own, every one for admins; secrets left out.
pub fn mailboxes_for(tx: &mut Tx, org: OrgId, access: &pipewise_core::access::Access) -> Result<Vec<StoredMailbox>> {
    let admin = access.can_read_every_mailbox();
    let mut mailboxes = tx.0.mailboxes(Some(org))?;
    mailboxes.retain(|mailbox| admin || access.user_id() == Some(mailbox.user_id));
    for mailbox in &mut mailboxes {
        mailbox.secret.clear();
    }
    Ok(mailboxes)
}

/// Every organisation's mailboxes, secrets sealed, for the sync loop.
pub fn mailboxes_to_sync(db: &Db) -> Result<Vec<StoredMailbox>> {
    let mut tx = db.read()?;
    tx.0.mailboxes(None)
}

/// How long sync waits after `failures` failed attempts in a row: 1, 2, 4 … minutes, at most an
/// hour.
pub fn backoff_seconds(failures: i32) -> i64 {
    60 * (1i64 << failures.clamp(0, 6)).min(60)
}

/// Whether `mailbox` is due for an attempt at `now`, syncing every `every` seconds when it
/// works and backing off when it fails.
pub fn is_due(mailbox: &StoredMailbox, now: Timestamp, every: i64) -> bool {
    let wait = if mailbox.failures > 0 { backoff_seconds(mailbox.failures) } else { every };
    mailbox.attempted_at.is_none_or(|at| now.as_micros() - at.as_micros() >= wait * 1_000_000)
}

/// Logs a batch of fetched messages (`(uid, bytes)`) as the mailbox's owner, then records
/// that sync reached the batch's last UID under `uidvalidity`.
pub fn log_batch(
    db: &Db,
    mailbox: &StoredMailbox,
    uidvalidity: i64,
    messages: Vec<(u64, Vec<u8>)>,
    at: Timestamp,
) -> Result<CaptureReport> {
    let last = messages.iter().map(|(uid, _)| *uid).max().map_or(mailbox.last_uid, |uid| uid as i64);
    let files: Vec<CaptureFile> = messages
        .into_iter()
        .map(|(uid, bytes)| CaptureFile { name: format!("{}/{} UID {uid}", mailbox.host, mailbox.folder), bytes })
        .collect();
    let ctx = WriteCtx { org: mailbox.organisation_id, actor_id: Some(mailbox.user_id), source: pipewise_core::history::Source::Mail, at };
    let options = CaptureOptions { source: Some("imap"), ..CaptureOptions::default() };
    let report = crate::capture::capture(db, &ctx, &files, &options)?;
    // What could not be read is kept with its reason; mail that is simply not about a customer
    // (no contact or account on it) is not business mail, and is left in the mailbox alone.
    let unreadable: Vec<Quarantined> = report
        .refused
        .iter()
        .filter(|refusal| UNREADABLE.contains(&refusal.reason.key.as_str()))
        .map(|refusal| Quarantined {
            id: 0,
            user_id: mailbox.user_id,
            mailbox_id: Some(mailbox.id),
            place: refusal.file.clone(),
            message_id: refusal.id.clone(),
            reason: refusal.reason.clone(),
            at,
        })
        .collect();
    if !unreadable.is_empty() {
        let mut tx = db.write()?;
        tx.0.put_quarantined(mailbox.organisation_id, &unreadable)?;
        tx.commit()?;
    }
    record(
        db,
        mailbox.id,
        &MailboxSync {
            uidvalidity: Some(uidvalidity),
            last_uid: last,
            attempted_at: at,
            synced_at: Some(at),
            last_error: None,
            failures: 0,
        },
    )?;
    Ok(report)
}

/// The refusals that mean a message could not be read (quarantined), as opposed to one that
/// was read and is not about a customer.
const UNREADABLE: &[&str] = &[
    "capture.empty",
    "capture.too_large",
    "capture.no_headers",
    "capture.no_sender",
    "capture.no_date",
    "capture.unparsable",
    "capture.invalid",
];

/// The quarantined messages `access` may see (a rep's own, everyone's for admins), newest first.
pub fn quarantine_for(tx: &mut Tx, org: OrgId, access: &pipewise_core::access::Access, limit: u32) -> Result<Vec<Quarantined>> {
    let admin = access.can_read_every_mailbox();
    let user =
        if admin { None } else { Some(access.user_id().ok_or_else(|| StoreError::Forbidden("sign in to read the quarantine".into()))?) };
    tx.0.quarantined(org, user, limit)
}

/// Records an attempt that read nothing new (`error` none) or failed (`error` says why).
pub fn record_attempt(
    db: &Db,
    mailbox: &StoredMailbox,
    uidvalidity: Option<i64>,
    last_uid: i64,
    at: Timestamp,
    error: Option<&str>,
) -> Result<()> {
    let failures = if error.is_some() { mailbox.failures.saturating_add(1) } else { 0 };
    let synced_at = error.is_none().then_some(at);
    record(db, mailbox.id, &MailboxSync { uidvalidity, last_uid, attempted_at: at, synced_at, last_error: error, failures })
}

fn record(db: &Db, id: i64, sync: &MailboxSync<'_>) -> Result<()> {
    let mut tx = db.write()?;
    tx.0.record_mailbox_sync(id, sync)?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(secret: String) -> StoredMailbox {
        StoredMailbox {
            id: 1,
            organisation_id: OrgId(1),
            user_id: UserId(1),
            host: "imap.example.com".into(),
            port: 143,
            username: "rep".into(),
            secret,
            folder: "INBOX".into(),
            security: "starttls".into(),
            uidvalidity: None,
            last_uid: 0,
            attempted_at: None,
            synced_at: None,
            last_error: None,
            failures: 0,
            created_at: Timestamp::from_micros(0),
        }
    }

    #[test]
    fn failing_mailboxes_back_off() {
        assert_eq!((backoff_seconds(1), backoff_seconds(3), backoff_seconds(20)), (120, 480, 3_600));
        let mut mailbox = stored(String::new());
        let now = Timestamp::from_micros(10_000_000_000);
        assert!(is_due(&mailbox, now, 300), "never tried");
        mailbox.attempted_at = Some(now.plus_seconds(-200));
        assert!(!is_due(&mailbox, now, 300));
        mailbox.failures = 1;
        assert!(is_due(&mailbox, now, 300), "after one failure, two minutes");
    }
}
