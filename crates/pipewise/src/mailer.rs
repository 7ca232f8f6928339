//! Sending mail (the daily digests): a small SMTP client over `crate::tls` and the message it
//! sends. Configured by `PIPEWISE_SMTP` (`smtp://[user[:password]@]host[:port]`, STARTTLS
//! required except to this machine, port 587 by default; or `smtps://…`, TLS from the first
//! byte, port 465) and `PIPEWISE_MAIL_FROM` (the sender address).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::tls::{Stream, is_loopback};

/// Where and how mail is sent.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (`smtps://`) rather than STARTTLS.
    pub implicit_tls: bool,
    pub credentials: Option<(String, String)>,
    pub from: String,
}

impl SmtpConfig {
    /// From `PIPEWISE_SMTP` and `PIPEWISE_MAIL_FROM`; `None` when `PIPEWISE_SMTP` is not set.
    pub fn from_env() -> Result<Option<SmtpConfig>> {
        let Ok(url) = std::env::var("PIPEWISE_SMTP") else { return Ok(None) };
        let from = std::env::var("PIPEWISE_MAIL_FROM").context("PIPEWISE_MAIL_FROM is not set: the address digests are sent from")?;
        SmtpConfig::parse(&url, &from).map(Some)
    }

    /// Reads `smtp://[user[:password]@]host[:port]` or `smtps://…`.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig> {
        let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else {
            bail!("PIPEWISE_SMTP must start with smtp:// or smtps://");
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((login, address)) => {
                let (user, password) = login.split_once(':').unwrap_or((login, ""));
                (Some((percent_decode(user)?, percent_decode(password)?)), address)
            }
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            // `[::1]:2525` has a port; `[::1]` has none (its last colon is inside the brackets).
            Some((host, port)) if host.ends_with(']') || !address.starts_with('[') => {
                (host, port.parse::<u16>().with_context(|| format!("PIPEWISE_SMTP: {port} is not a port"))?)
            }
            _ => (address, if implicit_tls { 465 } else { 587 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        anyhow::ensure!(!host.is_empty(), "PIPEWISE_SMTP names no host");
        let from = from.trim().to_owned();
        anyhow::ensure!(
            from.contains('@') && !from.contains(['<', '>', '\r', '\n', ' ']),
            "PIPEWISE_MAIL_FROM must be a bare address such as pipewise@example.com"
        );
        Ok(SmtpConfig { host, port, implicit_tls, credentials, from })
    }
}

pub(crate) fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3).context("PIPEWISE_SMTP: a % not followed by two hexadecimal digits")?;
            out.push(u8::from_str_radix(hex, 16).context("PIPEWISE_SMTP: a % not followed by two hexadecimal digits")?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).context("PIPEWISE_SMTP: the login is not UTF-8")
}

/// One message to send.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub message_id: String,
}

/// The message as sent: headers (names and subject encoded when not ASCII), a UTF-8 plain text
/// body in base64 (so no line is too long and no line starts with a dot), CRLF line ends.
pub fn render(from: &str, message: &Outgoing<'_>, date: &str) -> String {
    let mut out = String::new();
    let mut header = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    };
    header("From", &format!("Pipewise <{from}>"));
    header("To", &format!("{} <{}>", phrase(message.to_name), message.to));
    header("Subject", &encoded_words(message.subject));
    header("Date", date);
    header("Message-ID", &format!("<{}>", message.message_id));
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "base64");
    header("Auto-Submitted", "auto-generated");
    out.push_str("\r\n");
    let body = BASE64.encode(message.text.replace('\n', "\r\n").as_bytes());
    for chunk in body.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// A display name: as it is when plain ASCII letters and spaces, else encoded.
fn phrase(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '.' || c == '-') {
        name.to_owned()
    } else {
        encoded_words(name)
    }
}

/// `text` as RFC 2047 encoded words (`=?UTF-8?B?…?=`), split between characters so that each
/// word stays under 75 characters, folded; plain when it is printable ASCII.
fn encoded_words(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) && !text.contains("=?") {
        return text;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", BASE64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", BASE64.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// Sends `message` through `config`'s server.
pub fn send(config: &SmtpConfig, message: &Outgoing<'_>) -> Result<()> {
    let address = (config.host.as_str(), config.port)
        .to_socket_addrs()
        .with_context(|| format!("unreachable: {} does not resolve", config.host))?
        .next()
        .with_context(|| format!("unreachable: {} has no address", config.host))?;
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(10)).with_context(|| format!("unreachable: {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let stream = if config.implicit_tls { Stream::tls(stream, &config.host)? } else { Stream::Plain(stream) };
    let mut smtp = Smtp { reader: BufReader::new(stream) };
    smtp.expect(220, "the greeting")?;
    let mut offered = smtp.ehlo()?;
    if !smtp.reader.get_ref().is_tls() {
        if offered.iter().any(|line| line.eq_ignore_ascii_case("STARTTLS")) {
            smtp.command("STARTTLS", 220)?;
            anyhow::ensure!(smtp.reader.buffer().is_empty(), "TLS: the server sent data before the TLS handshake");
            let plain = smtp.reader.into_inner().into_plain().context("TLS: the connection is already in TLS")?;
            smtp = Smtp { reader: BufReader::new(Stream::tls(plain, &config.host)?) };
            offered = smtp.ehlo()?;
        } else if !is_loopback(&config.host) {
            bail!("TLS: the server does not offer STARTTLS; use smtps:// or a server that offers it");
        }
    }
    if let Some((user, password)) = &config.credentials {
        let mechanisms: Vec<String> = offered
            .iter()
            .filter_map(|line| line.strip_prefix("AUTH ").or_else(|| line.strip_prefix("auth ")))
            .flat_map(|list| list.split_ascii_whitespace().map(str::to_ascii_uppercase))
            .collect();
        anyhow::ensure!(mechanisms.iter().any(|mechanism| mechanism == "PLAIN"), "the server offers no AUTH PLAIN for the login");
        let token = BASE64.encode(format!("\0{user}\0{password}").as_bytes());
        smtp.command(&format!("AUTH PLAIN {token}"), 235).map_err(|error| anyhow::anyhow!("login refused: {error:#}"))?;
    }
    smtp.command(&format!("MAIL FROM:<{}>", config.from), 250)?;
    smtp.command(&format!("RCPT TO:<{}>", message.to), 250)?;
    smtp.command("DATA", 354)?;
    let date = jiff::Zoned::now().strftime("%a, %d %b %Y %H:%M:%S %z").to_string();
    let mut data = String::new();
    for line in render(&config.from, message, &date).split_inclusive("\r\n") {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
    }
    data.push_str(".\r\n");
    smtp.write(&data)?;
    smtp.expect(250, "the message")?;
    let _ = smtp.command("QUIT", 221);
    Ok(())
}

struct Smtp {
    reader: BufReader<Stream>,
}

impl Smtp {
    fn write(&mut self, text: &str) -> Result<()> {
        let writer = self.reader.get_mut();
        writer.write_all(text.as_bytes()).and_then(|()| writer.flush()).context("the connection dropped")
    }

    /// Sends a command and expects the reply `code`; its lines after the code.
    fn command(&mut self, command: &str, code: u16) -> Result<Vec<String>> {
        self.write(&format!("{command}\r\n"))?;
        let shown = if command.starts_with("AUTH") { "AUTH" } else { command };
        self.expect(code, shown)
    }

    /// Reads one reply (its lines) and checks its code.
    fn expect(&mut self, code: u16, after: &str) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for _ in 0..100 {
            let mut line = String::new();
            let read = (&mut self.reader).take(4_096).read_line(&mut line).context("the connection dropped")?;
            anyhow::ensure!(read > 0, "the server closed the connection after {after}");
            let line = line.trim_end();
            let got: u16 = line.get(..3).and_then(|digits| digits.parse().ok()).with_context(|| format!("not an SMTP reply: {line}"))?;
            lines.push(line.get(4..).unwrap_or_default().to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                if got != code {
                    bail!("{after}: the server answered {line}");
                }
                return Ok(lines);
            }
        }
        bail!("{after}: a reply of more than 100 lines")
    }

    /// EHLO; the extensions the server offers.
    fn ehlo(&mut self) -> Result<Vec<String>> {
        let lines = self.command("EHLO pipewise", 250)?;
        Ok(lines.into_iter().skip(1).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_address_reads_login_host_port_and_tls() {
        let config = SmtpConfig::parse("smtp://digest%40acme.com:p%3Ass@mail.acme.com", "pipewise@acme.com").unwrap();
        assert_eq!((config.host.as_str(), config.port, config.implicit_tls), ("mail.acme.com", 587, false));
        assert_eq!(config.credentials, Some(("digest@acme.com".to_owned(), "p:ss".to_owned())));
        let config = SmtpConfig::parse("smtps://[::1]:2465", "a@b.c").unwrap();
        assert_eq!((config.host.as_str(), config.port, config.implicit_tls, config.credentials), ("::1", 2465, true, None));
        assert_eq!(SmtpConfig::parse("smtp://[::1]", "a@b.c").unwrap().port, 587);
        assert!(SmtpConfig::parse("http://x", "a@b.c").is_err());
        assert!(SmtpConfig::parse("smtp://x:port", "a@b.c").is_err());
        assert!(SmtpConfig::parse("smtp://x", "Pipewise <a@b.c>").is_err());
    }

    #[test]
    fn non_ascii_headers_are_encoded_words_and_the_body_base64() {
        let message = Outgoing {
            to: "mina@acme.kr",
            to_name: "김민아",
            subject: "오늘 손봐야 할 딜: 3건",
            text: ".starts with a dot\n한국어\n",
            message_id: "d-1@pipewise".into(),
        };
        let rendered = render("pipewise@acme.kr", &message, "Mon, 07 Dec 2026 08:00:00 +0900");
        assert!(rendered.contains("To: =?UTF-8?B?6rmA66+87JWE?= <mina@acme.kr>\r\n"), "{rendered}");
        assert!(rendered.contains("Subject: =?UTF-8?B?"), "{rendered}");
        assert!(rendered.lines().all(|line| line.len() <= 998));
        let body = rendered.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "");
        assert_eq!(BASE64.decode(body).unwrap(), ".starts with a dot\r\n한국어\r\n".as_bytes());
        assert_eq!(encoded_words("Deals: 3"), "Deals: 3");
        let long = encoded_words(&"가".repeat(40));
        assert!(long.split("\r\n ").all(|word| word.len() <= 75), "{long}");
    }
}
