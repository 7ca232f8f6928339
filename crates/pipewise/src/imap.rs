//! Mailbox sync's IMAP client (`pipewise mailbox sync`, and every few minutes under `pipewise
//! serve` when `PIPEWISE_SECRET_KEY` is set): a blocking conversation per mailbox, incremental
//! by UIDVALIDITY and UID (`pipewise_capture::imap`), each batch logged and recorded by
//! `pipewise_app::mailboxes` before the next is read. A failure says why (unreachable, login
//! refused, folder, a dropped connection) and is recorded on the mailbox, which is tried again
//! with backoff.
//!
//! TLS from the first byte (`tls`, port 993) or STARTTLS before logging in (`starttls`), with the
//! certificate checked against the Mozilla roots and `PIPEWISE_TLS_CA` (`crate::tls`); a server
//! that offers no TLS is used in the clear only on this machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use pipewise_app::Db;
use pipewise_app::mailboxes::{self, SecretKey};
use pipewise_capture::imap::{self as protocol, Status};
use pipewise_core::Timestamp;
use pipewise_store::StoredMailbox;

use crate::tls::Stream;

/// Messages fetched (and logged) per batch.
const BATCH: usize = 200;
/// The longest response line read (a literal's bytes are read apart).
const MAX_LINE: u64 = 64 << 10;

/// The server's key from `PIPEWISE_SECRET_KEY`.
pub fn secret_key() -> Result<SecretKey> {
    let text = std::env::var("PIPEWISE_SECRET_KEY").map_err(|_| crate::Hinted {
        error: "PIPEWISE_SECRET_KEY is not set: mailbox passwords are sealed with it".into(),
        hint: "set it to 64 hexadecimal digits, for example the output of `openssl rand -hex 32`, and keep it with your backups".into(),
    })?;
    SecretKey::from_hex(&text).map_err(|problem| anyhow::anyhow!("PIPEWISE_SECRET_KEY: {problem}"))
}

/// What one mailbox's sync did.
pub struct Synced {
    pub new: usize,
    pub duplicates: usize,
    pub refused: usize,
    pub restarted: bool,
}

/// Syncs every mailbox (`due_only`: only those due), printing a line each; the last error.
pub fn sync_all(db: &Db, key: &SecretKey, due_only: bool, every_seconds: i64, out: &mut dyn Write) -> Result<()> {
    for mailbox in mailboxes::mailboxes_to_sync(db)? {
        let now = Timestamp::from_jiff(jiff::Timestamp::now());
        if due_only && !mailboxes::is_due(&mailbox, now, every_seconds) {
            continue;
        }
        let name = format!("{}@{}:{}/{}", mailbox.username, mailbox.host, mailbox.port, mailbox.folder);
        match sync(db, key, &mailbox) {
            Ok(synced) => writeln!(
                out,
                "{name}: {} new, {} already logged, {} refused{}",
                synced.new,
                synced.duplicates,
                synced.refused,
                if synced.restarted { " (UIDVALIDITY changed: read again from the start)" } else { "" }
            )?,
            Err(error) => {
                let reason = format!("{error:#}");
                mailboxes::record_attempt(db, &mailbox, mailbox.uidvalidity, mailbox.last_uid, now, Some(&reason))?;
                writeln!(out, "{name}: failed: {reason}")?;
            }
        }
    }
    Ok(())
}

/// One mailbox's sync.
pub fn sync(db: &Db, key: &SecretKey, mailbox: &StoredMailbox) -> Result<Synced> {
    let password = mailboxes::open(key, mailbox)
        .context("the password cannot be opened with this server's key (was PIPEWISE_SECRET_KEY changed?); connect the mailbox again")?;
    let address = (mailbox.host.as_str(), mailbox.port as u16)
        .to_socket_addrs()
        .with_context(|| format!("unreachable: {} does not resolve", mailbox.host))?
        .next()
        .with_context(|| format!("unreachable: {} has no address", mailbox.host))?;
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(10)).with_context(|| format!("unreachable: {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    let stream = if mailbox.security == "tls" { Stream::tls(stream, &mailbox.host)? } else { Stream::Plain(stream) };
    let mut connection = Connection { reader: BufReader::new(stream), next: 0 };
    let greeting = connection.response().context("the connection dropped before the greeting")?;
    if !greeting.starts_with(b"* OK") {
        bail!("the server refused the connection: {}", String::from_utf8_lossy(&greeting).trim());
    }
    if !connection.reader.get_ref().is_tls() {
        connection = connection.start_tls(&mailbox.host)?;
    }
    let user = protocol::quoted(&mailbox.username).context("the username cannot be sent")?;
    let pass = protocol::quoted(&password).context("the password cannot be sent")?;
    match connection.command(&format!("LOGIN {user} {pass}"))? {
        (Status::Ok, _) => {}
        (Status::No(detail) | Status::Bad(detail), _) => bail!("login refused: {detail}"),
    }
    let folder = protocol::quoted(&mailbox.folder).context("the folder cannot be named")?;
    let (status, untagged) = connection.command(&format!("EXAMINE {folder}"))?;
    if let Status::No(detail) | Status::Bad(detail) = status {
        bail!("folder {}: {detail}", mailbox.folder);
    }
    let uidvalidity = untagged
        .iter()
        .find_map(|line| protocol::response_code(line, "UIDVALIDITY"))
        .context("the server gave no UIDVALIDITY for the folder")? as i64;
    let restarted = mailbox.uidvalidity.is_some_and(|known| known != uidvalidity);
    let start = if mailbox.uidvalidity == Some(uidvalidity) { mailbox.last_uid.max(0) as u64 } else { 0 };
    let (_, untagged) = connection.command(&format!("UID SEARCH UID {}:*", start + 1))?;
    let mut uids: Vec<u64> = untagged.iter().filter_map(|line| protocol::search(line)).flatten().filter(|uid| *uid > start).collect();
    uids.sort_unstable();
    uids.dedup();
    let mut synced = Synced { new: 0, duplicates: 0, refused: 0, restarted };
    for batch in uids.chunks(BATCH) {
        let (status, responses) = connection.command(&format!("UID FETCH {} (UID BODY.PEEK[])", protocol::uid_set(batch)))?;
        if let Status::No(detail) | Status::Bad(detail) = status {
            bail!("fetching UIDs {}: {detail}", protocol::uid_set(batch));
        }
        let messages: Vec<(u64, Vec<u8>)> =
            responses.iter().filter_map(|response| protocol::fetched(response)).map(|(uid, body)| (uid, body.to_vec())).collect();
        let at = Timestamp::from_jiff(jiff::Timestamp::now());
        let report = mailboxes::log_batch(db, mailbox, uidvalidity, messages, at)?;
        synced.new += report.emails + report.meetings;
        synced.duplicates += report.duplicates;
        synced.refused += report.refused_count;
    }
    if uids.is_empty() {
        let at = Timestamp::from_jiff(jiff::Timestamp::now());
        mailboxes::record_attempt(db, mailbox, Some(uidvalidity), start as i64, at, None)?;
    }
    let _ = connection.command("LOGOUT");
    Ok(synced)
}

struct Connection {
    reader: BufReader<Stream>,
    next: u32,
}

impl Connection {
    /// Upgrades a plain connection with STARTTLS when the server offers it. A server that does
    /// not is refused, unless it is this machine (a local proxy): a password never crosses a
    /// network in the clear.
    fn start_tls(mut self, host: &str) -> Result<Connection> {
        let (_, untagged) = self.command("CAPABILITY")?;
        let offered = untagged
            .iter()
            .any(|line| String::from_utf8_lossy(line).split_ascii_whitespace().any(|word| word.eq_ignore_ascii_case("STARTTLS")));
        if !offered {
            if crate::tls::is_loopback(host) {
                return Ok(self);
            }
            bail!("TLS: the server does not offer STARTTLS; use port 993 (TLS) or a server that offers it");
        }
        match self.command("STARTTLS")? {
            (Status::Ok, _) => {}
            (Status::No(detail) | Status::Bad(detail), _) => bail!("TLS: STARTTLS refused: {detail}"),
        }
        anyhow::ensure!(self.reader.buffer().is_empty(), "TLS: the server sent data before the TLS handshake");
        let next = self.next;
        let plain = self.reader.into_inner().into_plain().context("TLS: the connection is already in TLS")?;
        Ok(Connection { reader: BufReader::new(Stream::tls(plain, host)?), next })
    }

    /// Sends a tagged command; its status and the untagged responses before it.
    fn command(&mut self, command: &str) -> Result<(Status, Vec<Vec<u8>>)> {
        self.next += 1;
        let tag = format!("p{}", self.next);
        let writer = self.reader.get_mut();
        writer.write_all(format!("{tag} {command}\r\n").as_bytes()).and_then(|()| writer.flush()).context("the connection dropped")?;
        let mut untagged = Vec::new();
        loop {
            let response = self.response().context("the connection dropped")?;
            if let Some(status) = protocol::tagged(&response, &tag) {
                return Ok((status, untagged));
            }
            untagged.push(response);
        }
    }

    /// One response: a line, and when it ends in a literal, the literal's bytes and what follows.
    fn response(&mut self) -> std::io::Result<Vec<u8>> {
        let mut response = Vec::new();
        loop {
            let before = response.len();
            let read = (&mut self.reader).take(MAX_LINE).read_until(b'\n', &mut response)?;
            if read == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection"));
            }
            match protocol::literal_length(&response[before..]) {
                Some(length) if length <= pipewise_capture::message::MAX_MESSAGE_BYTES + (1 << 20) => {
                    let start = response.len();
                    response.resize(start + length, 0);
                    self.reader.read_exact(&mut response[start..])?;
                }
                Some(length) => {
                    return Err(std::io::Error::other(format!("a literal of {length} bytes is over the message limit")));
                }
                None => return Ok(response),
            }
        }
    }
}
