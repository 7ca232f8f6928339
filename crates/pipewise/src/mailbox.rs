//! `pipewise mailbox connect|sync|list`: a rep's IMAP mailbox connected (the password read from
//! stdin and sealed with `PIPEWISE_SECRET_KEY`), every mailbox synced once, or each mailbox's
//! sync state and last error listed.

use std::io::BufRead;

use anyhow::{Context, Result, bail};
use pipewise_app::mailboxes::{self, MailboxSettings};
use pipewise_app::{StoreError, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_web::error::AppError;

pub struct ConnectArgs<'a> {
    pub db: &'a str,
    pub org: Option<i64>,
    pub actor: Option<&'a str>,
    pub host: &'a str,
    pub port: i32,
    pub username: &'a str,
    pub folder: Option<&'a str>,
    pub security: Option<&'a str>,
}

pub fn connect(args: &ConnectArgs<'_>) -> Result<()> {
    let key = crate::imap::secret_key()?;
    let store = crate::db::open(args.db)?;
    let org = crate::init::pick_organisation(&store, args.org)?;
    let actor_id = crate::init::actor_of(&store, org, args.actor)?;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("cannot read the mailbox password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("give the mailbox password (or app password) as one line on stdin");
    }
    let settings = MailboxSettings {
        host: args.host.to_owned(),
        port: args.port,
        username: args.username.to_owned(),
        password,
        folder: args.folder.map(str::to_owned),
        security: args.security.map(str::to_owned),
    };
    let ctx = WriteCtx { org, actor_id, source: Source::Cli, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    let id = match store.transact(|tx| mailboxes::connect_mailbox(tx, &ctx, &key, &settings)) {
        Ok(id) => id,
        Err(StoreError::Invalid(errors)) => bail!("{}", AppError::Invalid(errors).detail()),
        Err(error) => return Err(error.into()),
    };
    println!(
        "mailbox {id} connected: {}@{}:{}/{}",
        settings.username,
        settings.host,
        settings.port,
        settings.folder.as_deref().unwrap_or("INBOX")
    );
    Ok(())
}

pub fn sync(db: &str) -> Result<()> {
    let key = crate::imap::secret_key()?;
    let store = crate::db::open(db)?;
    crate::imap::sync_all(&store, &key, false, 0, &mut std::io::stdout())
}

pub fn list(db: &str, org: Option<i64>) -> Result<()> {
    let store = crate::db::open(db)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let mut tx = store.read()?;
    let access = pipewise_core::access::Access::System;
    for mailbox in mailboxes::mailboxes_for(&mut tx, org, &access)? {
        let state = match (&mailbox.last_error, mailbox.synced_at) {
            (Some(error), _) => format!("failing ({} in a row): {error}", mailbox.failures),
            (None, Some(at)) => format!("synced {at}, up to UID {} of UIDVALIDITY {}", mailbox.last_uid, mailbox.uidvalidity.unwrap_or(0)),
            (None, None) => "not synced yet".to_owned(),
        };
        println!(
            "{} user {} {}@{}:{}/{}: {state}",
            mailbox.id, mailbox.user_id, mailbox.username, mailbox.host, mailbox.port, mailbox.folder
        );
    }
    for kept in mailboxes::quarantine_for(&mut tx, org, &access, 100)? {
        let id = kept.message_id.map(|id| format!(" <{id}>")).unwrap_or_default();
        println!("quarantined: {}{id}: {}", kept.place, pipewise_web::i18n::message(pipewise_core::user::Locale::En, &kept.reason));
    }
    Ok(())
}
