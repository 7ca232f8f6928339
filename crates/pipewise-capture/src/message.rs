//! One RFC 5322 message read into what an activity is made of ([`Mail`]), or the reason it
//! cannot be ([`Refusal`]).

use mail_parser::{Address, Encoding, Message, MessageParser, MimeHeaders};
use pipewise_core::Timestamp;
use pipewise_core::message::Message as Worded;

use crate::charset;
use crate::text::{clean_line, clean_text};

/// The largest message read (RFC 5321 servers commonly stop near here too).
pub const MAX_MESSAGE_BYTES: usize = 25 << 20;
/// The longest body kept, in characters; the rest is cut (the activity says so).
pub const MAX_BODY_CHARS: usize = 100_000;
/// The longest subject kept, in characters.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// The most correspondents kept per message (a mailing list's To line can name thousands).
pub const MAX_PARTIES: usize = 100;

/// A person on a message: a lower-cased address and the display name, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub name: Option<String>,
    pub address: String,
}

impl Party {
    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// A message as capture reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The Message-ID without its angle brackets.
    pub message_id: Option<String>,
    /// The Date header, or the newest Received line's date when Date is missing or unreadable.
    pub sent_at: Timestamp,
    pub from: Party,
    /// To, then Cc (Bcc when the copy shows it), each address once, the sender left out.
    pub recipients: Vec<Party>,
    /// Decoded, one line, at most [`MAX_SUBJECT_CHARS`]; `None` when the message has none.
    pub subject: Option<String>,
    /// The first text body (HTML turned into text when there is no plain part), at most
    /// [`MAX_BODY_CHARS`], line ends `\n`, control characters removed.
    pub body: String,
    /// Whether the body was cut at [`MAX_BODY_CHARS`].
    pub body_cut: bool,
    pub in_reply_to: Option<String>,
    /// The message this one forwards, read as a message of its own (attached as
    /// `message/rfc822`, or inline under a "Forwarded message" header block), so that a
    /// forward can be attributed to the original correspondents.
    pub forwarded: Option<Box<Mail>>,
}

/// Why a message does not become an activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLarge {
        bytes: usize,
    },
    /// No header could be read: not a message.
    NoHeaders,
    /// Neither From nor Sender holds an address.
    NoSender,
    /// Neither Date nor any Received line holds a date.
    NoDate,
    /// The MIME parser itself failed on it (a debug assertion inside `mail-parser` that a
    /// damaged multipart trips: see `fuzz-regressions/`).
    Unparsable,
}

impl Refusal {
    /// The reason in the reader's words (catalog keys `capture.*`).
    pub fn message(&self) -> Worded {
        match self {
            Refusal::Empty => Worded::new("capture.empty"),
            Refusal::TooLarge { bytes } => Worded::new("capture.too_large").text("bytes", bytes).text("limit", MAX_MESSAGE_BYTES),
            Refusal::NoHeaders => Worded::new("capture.no_headers"),
            Refusal::NoSender => Worded::new("capture.no_sender"),
            Refusal::NoDate => Worded::new("capture.no_date"),
            Refusal::Unparsable => Worded::new("capture.unparsable"),
        }
    }
}

/// Reads one message.
pub fn read(raw: &[u8]) -> Result<Mail, Refusal> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::Empty);
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(Refusal::TooLarge { bytes: raw.len() });
    }
    // A panic of the parser (only debug assertions are known) refuses this message alone.
    let parsed = std::panic::catch_unwind(|| MessageParser::default().parse(raw)).map_err(|_| Refusal::Unparsable)?;
    let message = parsed.ok_or(Refusal::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(Refusal::NoHeaders);
    }
    let from = first_party(message.from())
        .or_else(|| first_party(message.sender()))
        .or_else(|| archived_sender(&message))
        .ok_or(Refusal::NoSender)?;
    let sent_at = sent_at(&message).ok_or(Refusal::NoDate)?;
    let mut recipients: Vec<Party> = Vec::new();
    for address in [message.to(), message.cc(), message.bcc()].into_iter().flatten() {
        for party in parties(address) {
            if party.address != from.address
                && !recipients.iter().any(|known| known.address == party.address)
                && recipients.len() < MAX_PARTIES
            {
                recipients.push(party);
            }
        }
    }
    let (body, body_cut) = clean_text(&body(&message), MAX_BODY_CHARS);
    let subject = subject(&message);
    let forwarded = forwarded(&message, subject.as_deref(), &body, sent_at);
    Ok(Mail {
        message_id: message.message_id().map(|id| clean_line(id, 998)).filter(|id| !id.is_empty()),
        sent_at,
        from,
        recipients,
        subject,
        body,
        body_cut,
        in_reply_to: message.in_reply_to().as_text().map(|id| clean_line(id, 998)).filter(|id| !id.is_empty()),
        forwarded,
    })
}

/// Lines that open an inline forward, as mail clients write them.
const FORWARD_MARKERS: &[&str] = &[
    "---------- forwarded message ---------",
    "---------- forwarded message ----------",
    "-------- forwarded message --------",
    "----- forwarded message -----",
    "begin forwarded message:",
    "---------- 전달된 메일 ----------",
    "---------- 전달된 메시지 ---------",
    "-----original message-----",
    "-------- original message --------",
    "-----원본 메시지-----",
];

/// Whether a subject says the message is a forward.
fn forward_subject(subject: Option<&str>) -> bool {
    let subject = subject.unwrap_or("").trim_start().to_lowercase();
    ["fwd:", "fw:", "전달:", "wg:", "tr:"].iter().any(|prefix| subject.starts_with(prefix))
}

/// The message `message` forwards: an attached `message/rfc822` part, or an inline block under
/// a forward marker (an "Original Message" marker only when the subject says forward, since
/// Outlook also quotes replies that way). Its date falls back to the forward's own.
fn forwarded(message: &Message<'_>, subject: Option<&str>, body: &str, sent_at: Timestamp) -> Option<Box<Mail>> {
    if forward_subject(subject)
        && let Some(part) = message.parts.iter().find(|part| part.is_message())
    {
        let raw = message.raw_message.get(part.offset_body as usize..part.offset_end as usize)?;
        if let Ok(mut inner) = read_inner(raw) {
            inner.forwarded = None;
            return Some(Box::new(inner));
        }
    }
    let lines: Vec<&str> = body.lines().collect();
    let start = lines.iter().position(|line| {
        let line = line.trim().to_lowercase();
        FORWARD_MARKERS.iter().any(|marker| line == *marker)
            && (!line.contains("original") && !line.contains("원본") || forward_subject(subject))
    })?;
    let mut headers = String::new();
    let mut end = start + 1;
    while let Some(line) = lines.get(end) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if headers.is_empty() {
                end += 1;
                continue;
            }
            break;
        }
        let (key, value) = trimmed.split_once(':')?;
        let key = match key.trim().to_lowercase().as_str() {
            "from" | "보낸 사람" | "보낸사람" => "From",
            "to" | "받는 사람" | "받는사람" => "To",
            "cc" | "참조" => "Cc",
            "date" | "sent" | "날짜" | "보낸 날짜" => "Date",
            "subject" | "제목" => "Subject",
            _ => "X-Forwarded-Header",
        };
        headers.push_str(&format!("{key}: {}\r\n", value.trim()));
        end += 1;
    }
    if !headers.contains("From:") {
        return None;
    }
    let rest = lines.get(end..).map(|rest| rest.join("\r\n")).unwrap_or_default();
    let synthetic = format!("{headers}\r\n{rest}\r\n");
    let inner = match read_inner(synthetic.as_bytes()) {
        Ok(inner) => inner,
        // A client's own date format ("Mon, Dec 7, 2026 at 9:30 AM"): the forward's date.
        Err(Refusal::NoDate) => {
            let date = sent_at.to_jiff().to_zoned(jiff::tz::TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S +0000").to_string();
            let headers: String = headers.split_inclusive("\r\n").filter(|line| !line.starts_with("Date:")).collect();
            read_inner(format!("Date: {date}\r\n{headers}\r\n{rest}\r\n").as_bytes()).ok()?
        }
        Err(_) => return None,
    };
    Some(Box::new(inner))
}

/// Reads a forwarded message without looking for a forward inside it.
fn read_inner(raw: &[u8]) -> Result<Mail, Refusal> {
    let mut inner = read(raw)?;
    inner.forwarded = None;
    Ok(inner)
}

fn parties<'a>(address: &'a Address<'a>) -> impl Iterator<Item = Party> + 'a {
    address.iter().filter_map(|addr| {
        let raw = addr.address()?.trim().trim_matches(['<', '>']);
        let address = pipewise_core::text::email(raw).ok()?;
        let name = addr.name().map(|name| clean_line(name, 200)).filter(|name| !name.is_empty() && *name != address);
        Some(Party { name, address })
    })
}

fn first_party(address: Option<&Address<'_>>) -> Option<Party> {
    parties(address?).next()
}

/// A mailing-list archive's sender, written `name at example.com (Name)` to hide it from
/// harvesters.
fn archived_sender(message: &Message<'_>) -> Option<Party> {
    let raw = message.header_raw("From")?;
    let words: Vec<&str> = raw.split_whitespace().collect();
    let at = words.iter().position(|word| *word == "at").filter(|at| *at > 0)?;
    let address = pipewise_core::text::email(&format!("{}@{}", words[at - 1], words.get(at + 1)?)).ok()?;
    Some(Party { name: None, address })
}

fn sent_at(message: &Message<'_>) -> Option<Timestamp> {
    let stamp =
        |date: &mail_parser::DateTime| date.is_valid().then(|| Timestamp::from_micros(date.to_timestamp().saturating_mul(1_000_000)));
    message.date().and_then(stamp).or_else(|| message.received_all().filter_map(|received| received.date.as_ref().and_then(stamp)).next())
}

fn subject(message: &Message<'_>) -> Option<String> {
    let decoded = message.subject()?;
    let text = message.header_raw("Subject").and_then(charset::decode_fallback_words).unwrap_or_else(|| decoded.to_owned());
    Some(clean_line(&text, MAX_SUBJECT_CHARS)).filter(|subject| !subject.is_empty())
}

/// The first text body; a part in a charset the parser does not know ([`charset::fallback`])
/// is decoded here.
fn body(message: &Message<'_>) -> String {
    let Some(part) = message.text_body.first().and_then(|id| message.parts.get(*id as usize)) else {
        return String::new();
    };
    if let Some(decode) = part.content_type().and_then(|kind| kind.attribute("charset")).and_then(charset::fallback) {
        let raw = message.raw_message.get(part.offset_body as usize..part.offset_end as usize).unwrap_or_default();
        let bytes = match part.encoding {
            Encoding::None => Some(raw.to_vec()),
            Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(raw),
            Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw),
        };
        if let Some(bytes) = bytes {
            return decode(&bytes);
        }
    }
    message.body_text(0).map(|text| text.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_an_activity_needs() {
        let raw = b"From: Kim Minji <Minji@Acme.co.kr>\r\nTo: rep@pipewise.test, Minji@acme.co.kr\r\nCc: \"Lee\" <lee@acme.co.kr>\r\n\
Date: Mon, 07 Dec 2026 09:30:00 +0900\r\nMessage-ID: <abc@acme.co.kr>\r\nSubject: =?UTF-8?B?6rCA6rKpIOusuOydmA==?=\r\n\r\nHello\r\n";
        let mail = read(raw).unwrap();
        assert_eq!(mail.from, Party { name: Some("Kim Minji".into()), address: "minji@acme.co.kr".into() });
        assert_eq!(mail.recipients.iter().map(|party| party.address.as_str()).collect::<Vec<_>>(), ["rep@pipewise.test", "lee@acme.co.kr"]);
        assert_eq!(mail.sent_at.to_string(), "2026-12-07T00:30:00Z");
        assert_eq!(mail.message_id.as_deref(), Some("abc@acme.co.kr"));
        assert_eq!(mail.subject.as_deref(), Some("가격 문의"));
        assert_eq!(mail.body, "Hello");
    }

    #[test]
    fn falls_back_to_received_for_the_date_and_refuses_without_one() {
        let raw = b"Received: from a by b; Tue, 1 Dec 2026 10:00:00 +0000\nFrom: a@b.com\nDate: yesterday\n\nx";
        assert_eq!(read(raw).unwrap().sent_at.to_string(), "2026-12-01T10:00:00Z");
        assert_eq!(read(b"From: a@b.com\n\nx"), Err(Refusal::NoDate));
        assert_eq!(read(b"Date: Tue, 1 Dec 2026 10:00:00 +0000\n\nx"), Err(Refusal::NoSender));
        assert_eq!(read(b"  \n"), Err(Refusal::Empty));
        let archived = read(b"From: vondruch at redhat.com (V. Ondruch)\nDate: Tue, 10 Jul 2012 13:29:44 +0200\n\nx").unwrap();
        assert_eq!(archived.from.address, "vondruch@redhat.com");
    }

    #[test]
    fn a_forward_carries_the_original_correspondents() {
        let gmail =
            b"From: Rep <rep@pipewise.test>\nTo: capture@drop.test\nDate: Tue, 8 Dec 2026 09:00:00 +0900\nSubject: Fwd: Pricing\n\n\
next step: send the quote\n\n---------- Forwarded message ---------\nFrom: Kim Minji <minji@acme.co.kr>\n\
Date: Mon, Dec 7, 2026 at 9:30 AM\nSubject: Pricing\nTo: Rep <rep@pipewise.test>\n\nCould you send the price list?\n";
        let mail = read(gmail).unwrap();
        let inner = mail.forwarded.expect("a forward");
        assert_eq!(inner.from.address, "minji@acme.co.kr");
        assert_eq!(inner.recipients[0].address, "rep@pipewise.test");
        assert_eq!(inner.subject.as_deref(), Some("Pricing"));
        assert_eq!(inner.body, "Could you send the price list?");
        assert_eq!(inner.sent_at, mail.sent_at, "Gmail's own date format falls back to the forward's");
        let outlook = b"From: rep@pipewise.test\nDate: Tue, 8 Dec 2026 09:00:00 +0900\nSubject: FW: Contract\n\n\
-----Original Message-----\nFrom: buyer@acme.co.kr\nSent: Mon, 7 Dec 2026 10:00:00 +0900\nTo: rep@pipewise.test\nSubject: Contract\n\nSigned.\n";
        let inner = read(outlook).unwrap().forwarded.expect("an Outlook forward");
        assert_eq!((inner.from.address.as_str(), inner.sent_at.to_string().as_str()), ("buyer@acme.co.kr", "2026-12-07T01:00:00Z"));
        let reply = b"From: rep@pipewise.test\nDate: Tue, 8 Dec 2026 09:00:00 +0900\nSubject: RE: Contract\n\nThanks\n\n\
-----Original Message-----\nFrom: buyer@acme.co.kr\nSent: Mon, 7 Dec 2026 10:00:00 +0900\n\nSigned.\n";
        assert_eq!(read(reply).unwrap().forwarded, None, "a reply quoting the original is no forward");
    }
}
