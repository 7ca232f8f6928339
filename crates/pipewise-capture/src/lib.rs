//! Pure capture rules (SPEC C4): files of mail and calendars read into the activities they
//! record, without anyone typing them.
//!
//! A file is an `.eml`, an mbox (with or without its `From ` separator lines: [`mailbox`]) or an
//! `.ics` calendar ([`calendar`]); [`read_file`] tells them apart by their content and gives each
//! message or event as a [`Capture`] or as a [`Refused`] with its place and reason. Messages are
//! decoded by `mail-parser` (RFC 2047 words, MIME parts, EUC-KR, CP949 and the other charsets
//! of `encoding_rs`), plus ISO-2022-KR ([`charset`]). [`matching`] links the people on a message
//! to colleagues, contacts and accounts (by company domain: the Public Suffix List, free mail
//! never), and [`Capture::key`] is what makes the same message or event count once.
//!
//! No I/O: the edge reads the files and the application layer stores what comes out.

pub mod calendar;
pub mod charset;
pub mod commands;
pub mod domains;
pub mod imap;
pub mod ladder;
pub mod mailbox;
pub mod matching;
pub mod message;
pub mod sentiment;
pub mod smtp;
mod text;

pub use calendar::{CalendarRefusal, EventProblem, EventRefusal, Meeting};
pub use domains::{Suffixes, company_domain, is_free_mail};
pub use matching::{Directory, Matched};
pub use message::{Mail, Party, Refusal};

use jiff::tz::TimeZone;
use pipewise_core::message::Message;
use sha2::{Digest, Sha256};

/// A message or a meeting read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capture {
    Mail(Mail),
    Meeting(Meeting),
}

/// Something in a file that does not become an activity: where it is and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// 1-based position among the file's messages or events; 0 for the whole file.
    pub number: usize,
    /// The file line it starts on (0 for the whole file).
    pub line: usize,
    /// Its Message-ID or UID, when it has one.
    pub id: Option<String>,
    pub reason: Message,
}

/// One item of a file: its position, line, and what it became.
pub type Item = (usize, usize, Result<Capture, Refused>);

/// Whether `bytes` is an iCalendar file (its first line, a byte-order mark and blank lines
/// skipped, is `BEGIN:VCALENDAR`).
pub fn is_calendar(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].get(..15).is_some_and(|head| head.eq_ignore_ascii_case(b"BEGIN:VCALENDAR"))
}

/// Reads every message or event of one file; `zone` places a calendar's floating times.
pub fn read_file(bytes: &[u8], zone: &TimeZone) -> Vec<Item> {
    if is_calendar(bytes) {
        return match calendar::read(bytes, zone) {
            Ok(events) => events
                .into_iter()
                .enumerate()
                .map(|(index, event)| match event {
                    Ok(meeting) => (index + 1, 0, Ok(Capture::Meeting(meeting))),
                    Err(refusal) => {
                        let reason = refusal.problem.message();
                        (refusal.number, refusal.line, Err(Refused { number: refusal.number, line: refusal.line, id: refusal.uid, reason }))
                    }
                })
                .collect(),
            Err(refusal) => vec![(0, 0, Err(Refused { number: 0, line: 0, id: None, reason: refusal.message() }))],
        };
    }
    mailbox::split(bytes)
        .into_iter()
        .map(|piece| {
            let read = message::read(&piece.bytes).map(Capture::Mail).map_err(|refusal| Refused {
                number: piece.number,
                line: piece.line,
                id: message_id_of(&piece.bytes),
                reason: refusal.message(),
            });
            (piece.number, piece.line, read)
        })
        .collect()
}

/// The Message-ID header of a message that could not be read, for its refusal.
fn message_id_of(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let text = String::from_utf8_lossy(head);
    let line = text.lines().take_while(|line| !line.trim().is_empty()).find(|line| line.to_ascii_lowercase().starts_with("message-id:"))?;
    Some(text::clean_line(line[11..].trim().trim_matches(['<', '>']), 200)).filter(|id| !id.is_empty())
}

impl Capture {
    /// What makes one message or event count once, whichever file or mailbox it comes from: a
    /// hash of its Message-ID with its sender, date, subject and body (so a copy is the same
    /// message, a Message-ID reused for other content is not, and a message without one is
    /// known by its content), or of a meeting's UID and occurrence (its content when it has no UID).
    pub fn key(&self) -> String {
        let mut hash = Sha256::new();
        let mut field = |value: &str| {
            hash.update((value.len() as u64).to_le_bytes());
            hash.update(value.as_bytes());
        };
        match self {
            Capture::Mail(mail) => {
                field("mail");
                field(mail.message_id.as_deref().unwrap_or(""));
                field(&mail.from.address);
                field(&mail.sent_at.as_micros().to_string());
                field(mail.subject.as_deref().unwrap_or(""));
                field(&mail.body);
            }
            Capture::Meeting(meeting) => {
                field("meeting");
                match &meeting.uid {
                    Some(uid) => {
                        field(uid);
                        field(meeting.recurrence_id.as_deref().unwrap_or(""));
                    }
                    None => {
                        field(&meeting.start.as_micros().to_string());
                        field(meeting.summary.as_deref().unwrap_or(""));
                        field(meeting.organizer.as_ref().map_or("", |organizer| organizer.address.as_str()));
                        field(&meeting.description);
                    }
                }
            }
        }
        let digest = hash.finalize();
        digest[..16].iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

#[cfg(test)]
mod tests;
