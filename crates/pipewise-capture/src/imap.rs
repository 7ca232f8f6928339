//! The few IMAP4rev1 (RFC 3501) exchanges mailbox sync needs, without I/O: commands to write,
//! and the server's responses read back. The edge reads a response line by line; a line ending
//! in a literal (`{123}`) is followed by that many bytes, which the edge appends before reading
//! on ([`literal_length`]).
//!
//! Sync is incremental by UID: `EXAMINE` gives the folder's UIDVALIDITY (when it changes, every
//! UID the folder had is void and sync starts again from the first, the capture keys keeping
//! messages from being logged twice); `UID SEARCH UID n:*` lists what arrived after the last UID
//! taken; `UID FETCH … (UID BODY.PEEK[])` reads messages without marking them seen.

/// How a tagged command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    No(String),
    Bad(String),
}

/// A quoted IMAP string, or `None` for text that cannot be one (line ends, NUL, over 1,000 bytes).
pub fn quoted(text: &str) -> Option<String> {
    if text.len() > 1_000 || text.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return None;
    }
    Some(format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// The length of the literal a response line ends with (`… {123}\r\n`).
pub fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n").or_else(|| line.strip_suffix(b"\n")).unwrap_or(line);
    let open = line.iter().rposition(|byte| *byte == b'{')?;
    let digits = line[open + 1..].strip_suffix(b"}")?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The status of the tagged response line `line` for `tag`, if it is one.
pub fn tagged(line: &[u8], tag: &str) -> Option<Status> {
    let text = String::from_utf8_lossy(line);
    let rest = text.strip_prefix(tag)?.strip_prefix(' ')?;
    let (word, detail) = rest.split_once(' ').unwrap_or((rest, ""));
    let detail = detail.trim().to_owned();
    match word.to_ascii_uppercase().as_str() {
        "OK" => Some(Status::Ok),
        "NO" => Some(Status::No(detail)),
        "BAD" => Some(Status::Bad(detail)),
        _ => None,
    }
}

/// The number after `[KEY ` in an untagged response (`* OK [UIDVALIDITY 3857529045] UIDs valid`).
pub fn response_code(line: &[u8], key: &str) -> Option<u64> {
    let text = String::from_utf8_lossy(line);
    let start = text.to_ascii_uppercase().find(&format!("[{key} "))? + key.len() + 2;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The UIDs of a `* SEARCH 4 5 9` line.
pub fn search(line: &[u8]) -> Option<Vec<u64>> {
    let text = String::from_utf8_lossy(line);
    let rest = text.trim_end().strip_prefix("* ")?;
    let rest = rest.get(..6).filter(|word| word.eq_ignore_ascii_case("SEARCH")).map(|_| &rest[6..])?;
    Some(rest.split_whitespace().filter_map(|uid| uid.parse().ok()).collect())
}

/// A `* n FETCH (UID u BODY[] {len}` response with its literal appended: the UID and the
/// message's bytes.
pub fn fetched(response: &[u8]) -> Option<(u64, &[u8])> {
    let head_end = response.iter().position(|byte| *byte == b'\n')?;
    let head = String::from_utf8_lossy(&response[..head_end]);
    if !head.starts_with("* ") || !head.to_ascii_uppercase().contains(" FETCH ") {
        return None;
    }
    let upper = head.to_ascii_uppercase();
    let uid_at = upper.find("UID ")? + 4;
    let uid: u64 = head[uid_at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()?;
    let length = literal_length(&response[..=head_end])?;
    let body = response.get(head_end + 1..head_end + 1 + length)?;
    Some((uid, body))
}

/// The UID set naming `uids` (ascending) in consecutive runs: `4:6,9`.
pub fn uid_set(uids: &[u64]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &uid in uids {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == uid => *end = uid,
            _ => runs.push((uid, uid)),
        }
    }
    runs.iter().map(|(start, end)| if start == end { start.to_string() } else { format!("{start}:{end}") }).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_read() {
        assert_eq!(tagged(b"a1 OK LOGIN completed", "a1"), Some(Status::Ok));
        assert_eq!(
            tagged(b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.", "a1"),
            Some(Status::No("[AUTHENTICATIONFAILED] Authentication failed.".into()))
        );
        assert_eq!(tagged(b"* OK still going", "a1"), None);
        assert_eq!(response_code(b"* OK [UIDVALIDITY 1733000000] UIDs valid", "UIDVALIDITY"), Some(1_733_000_000));
        assert_eq!(response_code(b"* OK [UIDNEXT 7] Predicted next UID", "UIDVALIDITY"), None);
        assert_eq!(search(b"* SEARCH 4 5 9\r\n"), Some(vec![4, 5, 9]));
        assert_eq!(search(b"* SEARCH\r\n"), Some(vec![]));
        assert_eq!(literal_length(b"* 1 FETCH (UID 4 BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_length(b"* 1 FETCH (FLAGS (\\Seen))\r\n"), None);
        let response = b"* 1 FETCH (UID 4 BODY[] {5}\r\nHello)\r\n";
        assert_eq!(fetched(response), Some((4, &b"Hello"[..])));
        assert_eq!(uid_set(&[4, 5, 6, 9, 11, 12]), "4:6,9,11:12");
        assert_eq!(quoted("pa\"ss\\word").unwrap(), "\"pa\\\"ss\\\\word\"");
        assert_eq!(quoted("line\r\nbreak"), None);
    }
}
