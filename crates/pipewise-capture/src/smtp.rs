//! The drop box's SMTP conversation (RFC 5321), as a state machine with no I/O: the edge feeds
//! it one line at a time (without its line end) and writes back what it answers. Reps BCC or
//! forward mail to the drop box; a finished message comes out as [`Step::Deliver`] with its
//! envelope, and the edge answers with what capture made of it.
//!
//! Limits: a command line of at most [`MAX_COMMAND_LINE`] bytes, at most [`MAX_RECIPIENTS`]
//! recipients, a message of at most the size given to [`Session::new`] (announced with `SIZE`
//! and enforced while reading). No AUTH and no relaying: the only mail taken is for the drop
//! box, and the edge asks whether the sender is known ([`Step::CheckSender`]) before any data.

/// The longest command line taken (RFC 5321 §4.5.3.1.4: 512 with its line end; extensions make
/// it longer).
pub const MAX_COMMAND_LINE: usize = 1_000;
/// The most recipients of one message.
pub const MAX_RECIPIENTS: usize = 100;

/// What the edge does after a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write this reply (one or more lines, each ending `\r\n`).
    Reply(String),
    /// Ask whether `sender` may send to the drop box, then call [`Session::sender_checked`]
    /// and write what it returns.
    CheckSender(String),
    /// Nothing to write: a line of message data was taken.
    Read,
    /// A message is complete: capture it, then call [`Session::delivered`] with the outcome and
    /// write what it returns.
    Deliver(Envelope),
    /// Write this reply and close the connection.
    Close(String),
}

/// A finished message: who the envelope says sent it, to whom, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub sender: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Greeted,
    Ready,
    /// MAIL FROM given, its sender being checked.
    Checking(String),
    Mail(String),
    Recipients(String, Vec<String>),
    Data {
        sender: String,
        recipients: Vec<String>,
        data: Vec<u8>,
        too_large: bool,
    },
}

/// One connection's conversation.
#[derive(Clone, Debug)]
pub struct Session {
    host: String,
    max_bytes: usize,
    state: State,
}

impl Session {
    /// A new conversation for a server called `host` taking messages up to `max_bytes`; the
    /// edge writes [`Session::greeting`] first.
    pub fn new(host: &str, max_bytes: usize) -> Session {
        Session { host: host.to_owned(), max_bytes, state: State::Greeted }
    }

    pub fn greeting(&self) -> String {
        format!("220 {} Pipewise drop box ESMTP\r\n", self.host)
    }

    /// Whether the session is reading message data (the edge allows long lines then).
    pub fn in_data(&self) -> bool {
        matches!(self.state, State::Data { .. })
    }

    /// Takes one line, without its `\r\n`.
    pub fn line(&mut self, line: &[u8]) -> Step {
        if let State::Data { data, too_large, .. } = &mut self.state {
            if line == b"." {
                let State::Data { sender, recipients, data, too_large } = std::mem::replace(&mut self.state, State::Ready) else {
                    unreachable!("matched above")
                };
                if too_large {
                    return Step::Reply(format!("552 5.3.4 The message is over {} bytes; nothing was kept\r\n", self.max_bytes));
                }
                return Step::Deliver(Envelope { sender, recipients, data });
            }
            // Dot-stuffing: a leading dot was doubled by the client.
            let line = line.strip_prefix(b".").filter(|_| line.starts_with(b"..")).unwrap_or(line);
            if !*too_large {
                if data.len() + line.len() + 2 > self.max_bytes {
                    *too_large = true;
                    data.clear();
                    data.shrink_to_fit();
                } else {
                    data.extend_from_slice(line);
                    data.extend_from_slice(b"\r\n");
                }
            }
            return Step::Read;
        }
        if line.len() > MAX_COMMAND_LINE {
            return Step::Reply("500 5.5.2 Line too long\r\n".into());
        }
        let text = String::from_utf8_lossy(line);
        let (verb, rest) = match text.split_once(' ') {
            Some((verb, rest)) => (verb.to_ascii_uppercase(), rest.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                self.state = State::Ready;
                Step::Reply(format!(
                    "250-{} greets {}\r\n250-SIZE {}\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n",
                    self.host,
                    clip(rest),
                    self.max_bytes
                ))
            }
            "HELO" => {
                self.state = State::Ready;
                Step::Reply(format!("250 {}\r\n", self.host))
            }
            "MAIL" => {
                if self.state == State::Greeted {
                    return Step::Reply("503 5.5.1 Say EHLO first\r\n".into());
                }
                if !matches!(self.state, State::Ready) {
                    return Step::Reply("503 5.5.1 A message is already begun; RSET first\r\n".into());
                }
                let Some((sender, parameters)) = path(rest, "FROM:") else {
                    return Step::Reply("501 5.5.4 Write MAIL FROM:<address>\r\n".into());
                };
                let declared = parameters
                    .split_whitespace()
                    .find_map(|parameter| parameter.get(..5).filter(|key| key.eq_ignore_ascii_case("SIZE=")).map(|_| &parameter[5..]))
                    .and_then(|size| size.parse::<usize>().ok());
                if declared.is_some_and(|size| size > self.max_bytes) {
                    return Step::Reply(format!("552 5.3.4 Messages over {} bytes are not taken\r\n", self.max_bytes));
                }
                if sender.is_empty() {
                    return Step::Reply("550 5.7.1 Bounces are not taken by the drop box\r\n".into());
                }
                self.state = State::Checking(sender.clone());
                Step::CheckSender(sender)
            }
            "RCPT" => {
                let (sender, mut recipients) = match std::mem::replace(&mut self.state, State::Ready) {
                    State::Mail(sender) => (sender, Vec::new()),
                    State::Recipients(sender, recipients) => (sender, recipients),
                    other => {
                        self.state = other;
                        return Step::Reply("503 5.5.1 MAIL FROM first\r\n".into());
                    }
                };
                let Some((recipient, _)) = path(rest, "TO:").filter(|(recipient, _)| !recipient.is_empty()) else {
                    self.state = if recipients.is_empty() { State::Mail(sender) } else { State::Recipients(sender, recipients) };
                    return Step::Reply("501 5.5.4 Write RCPT TO:<address>\r\n".into());
                };
                if recipients.len() >= MAX_RECIPIENTS {
                    self.state = State::Recipients(sender, recipients);
                    return Step::Reply("452 4.5.3 Too many recipients\r\n".into());
                }
                recipients.push(recipient);
                self.state = State::Recipients(sender, recipients);
                Step::Reply("250 2.1.5 OK\r\n".into())
            }
            "DATA" => match std::mem::replace(&mut self.state, State::Ready) {
                State::Recipients(sender, recipients) => {
                    self.state = State::Data { sender, recipients, data: Vec::new(), too_large: false };
                    Step::Reply("354 End data with <CR><LF>.<CR><LF>\r\n".into())
                }
                other => {
                    self.state = other;
                    Step::Reply("503 5.5.1 RCPT TO first\r\n".into())
                }
            },
            "RSET" => {
                if self.state != State::Greeted {
                    self.state = State::Ready;
                }
                Step::Reply("250 2.0.0 OK\r\n".into())
            }
            "NOOP" => Step::Reply("250 2.0.0 OK\r\n".into()),
            "VRFY" => Step::Reply("252 2.1.5 Cannot verify; send the message\r\n".into()),
            "QUIT" => Step::Close("221 2.0.0 Bye\r\n".into()),
            "STARTTLS" | "AUTH" | "BDAT" => Step::Reply("502 5.5.1 Not offered by the drop box\r\n".into()),
            _ => Step::Reply("500 5.5.2 Unknown command\r\n".into()),
        }
    }

    /// The reply to MAIL FROM once the edge knows whether the sender may send.
    pub fn sender_checked(&mut self, allowed: bool) -> String {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Checking(sender) if allowed => {
                self.state = State::Mail(sender);
                "250 2.1.0 OK\r\n".into()
            }
            State::Checking(_) => "550 5.7.1 Only Pipewise users may send to the drop box\r\n".into(),
            other => {
                self.state = other;
                "503 5.5.1 No sender to check\r\n".into()
            }
        }
    }

    /// The reply after a delivery: `Ok(summary)` when capture took the message, `Err(reason)`
    /// when it refused it.
    pub fn delivered(&mut self, outcome: Result<String, String>) -> String {
        self.state = State::Ready;
        match outcome {
            Ok(summary) => format!("250 2.0.0 {}\r\n", clip(&summary)),
            Err(reason) => format!("554 5.6.0 {}\r\n", clip(&reason)),
        }
    }
}

/// `FROM:<address> PARAMETERS` → the address (lower-cased, brackets off) and the parameters.
fn path<'a>(rest: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let (address, parameters) = match rest.strip_prefix('<') {
        Some(inner) => {
            let end = inner.find('>')?;
            (&inner[..end], &inner[end + 1..])
        }
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    Some((address.trim().to_lowercase(), parameters.trim()))
}

/// A reply's text: one line, printable, at most 200 characters.
fn clip(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(step: Step) -> String {
        match step {
            Step::Reply(text) | Step::Close(text) => text,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_conversation_delivers_one_message_with_its_envelope() {
        let mut session = Session::new("drop.test", 1_000);
        assert!(session.greeting().starts_with("220 "));
        assert!(reply(session.line(b"EHLO client")).contains("250-SIZE 1000"));
        assert_eq!(session.line(b"MAIL FROM:<Rep@Acme.test> SIZE=200"), Step::CheckSender("rep@acme.test".into()));
        assert!(session.sender_checked(true).starts_with("250 "));
        assert!(reply(session.line(b"RCPT TO:<capture@drop.test>")).starts_with("250 "));
        assert!(reply(session.line(b"DATA")).starts_with("354 "));
        assert_eq!(session.line(b"Subject: hi"), Step::Read);
        assert_eq!(session.line(b""), Step::Read);
        assert_eq!(session.line(b"..leading dot"), Step::Read);
        let Step::Deliver(envelope) = session.line(b".") else { panic!("no delivery") };
        assert_eq!(envelope.sender, "rep@acme.test");
        assert_eq!(envelope.recipients, ["capture@drop.test"]);
        assert_eq!(envelope.data, b"Subject: hi\r\n\r\n.leading dot\r\n");
        assert!(session.delivered(Ok("logged 1 e-mail".into())).starts_with("250 2.0.0 logged"));
        assert!(reply(session.line(b"QUIT")).starts_with("221 "));
    }

    #[test]
    fn order_size_and_senders_are_enforced() {
        let mut session = Session::new("drop.test", 20);
        assert!(reply(session.line(b"MAIL FROM:<a@b.test>")).starts_with("503 "), "EHLO first");
        session.line(b"HELO x");
        assert!(reply(session.line(b"RCPT TO:<x@y.test>")).starts_with("503 "));
        assert!(reply(session.line(b"MAIL FROM:<a@b.test> SIZE=999")).starts_with("552 "));
        assert!(matches!(session.line(b"MAIL FROM:<stranger@else.test>"), Step::CheckSender(_)));
        assert!(session.sender_checked(false).starts_with("550 "));
        assert!(matches!(session.line(b"MAIL FROM:<a@b.test>"), Step::CheckSender(_)));
        session.sender_checked(true);
        session.line(b"RCPT TO:<x@y.test>");
        session.line(b"DATA");
        session.line(b"this line is far longer than twenty bytes");
        assert!(reply(session.line(b".")).starts_with("552 "), "an oversized message is refused whole");
        assert!(reply(session.line(&vec![b'A'; MAX_COMMAND_LINE + 1])).starts_with("500 "));
    }
}
