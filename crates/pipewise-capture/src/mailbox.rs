//! A file of mail split into its messages: an mbox (messages after `From ` lines, `>From `
//! unquoted), or a single bare message (an `.eml`, or an "mbox" that holds one message without a
//! separator line, as mailing-list archives often do).

use std::borrow::Cow;

/// One message of a file: where it starts and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    /// 1-based position in the file.
    pub number: usize,
    /// The file line its first header is on (1-based).
    pub line: usize,
    pub bytes: Cow<'a, [u8]>,
}

/// Whether `bytes` is an mbox: its first line is a `From ` separator.
pub fn is_mbox(bytes: &[u8]) -> bool {
    strip_bom(bytes).starts_with(b"From ")
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// The messages of a file, in order. A separator is a `From ` line at the start of the file or
/// after an empty line; lines of `>From ` (any number of `>`) lose one `>`. A file that does not
/// start with a separator is one message.
pub fn split(bytes: &[u8]) -> Vec<Piece<'_>> {
    let bytes = strip_bom(bytes);
    if !is_mbox(bytes) {
        return vec![Piece { number: 1, line: 1, bytes: Cow::Borrowed(bytes) }];
    }
    let mut pieces = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    let mut offset = 0;
    let mut line = 1;
    let mut previous_blank = true;
    while offset < bytes.len() {
        let end = bytes[offset..].iter().position(|byte| *byte == b'\n').map_or(bytes.len(), |at| offset + at + 1);
        let text = &bytes[offset..end];
        if offset == 0 || (previous_blank && is_separator(text, next_line(bytes, end))) {
            if let Some((from, first)) = start.take() {
                pieces.push(piece(pieces.len() + 1, first, &bytes[from..offset], true));
            }
            start = Some((end, line + 1));
        }
        previous_blank = matches!(text, b"\n" | b"\r\n");
        offset = end;
        line += 1;
    }
    if let Some((from, first)) = start {
        pieces.push(piece(pieces.len() + 1, first, &bytes[from..], false));
    }
    pieces
}

/// A separator line: `From ` and the sender (and usually a date), followed by a header line,
/// so that a body line "From here on" after a blank line is not one. (Real archives write
/// anything after `From `: patchew's say `From A`.)
fn is_separator(line: &[u8], next: &[u8]) -> bool {
    let header = |line: &[u8]| {
        let name = line.iter().take_while(|byte| **byte != b':').count();
        name > 0 && name < line.len() && line[..name].iter().all(|byte| byte.is_ascii_graphic())
    };
    line.starts_with(b"From ") && line.len() > 5 && header(next)
}

/// The line starting at `offset` (empty at the end).
fn next_line(bytes: &[u8], offset: usize) -> &[u8] {
    let rest = &bytes[offset.min(bytes.len())..];
    &rest[..rest.iter().position(|byte| *byte == b'\n').unwrap_or(rest.len())]
}

fn piece(number: usize, line: usize, bytes: &[u8], before_separator: bool) -> Piece<'_> {
    // The blank line before the next separator belongs to the mbox, not to the message.
    let bytes = if before_separator { bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).unwrap_or(bytes) } else { bytes };
    Piece { number, line, bytes: unquote_from(bytes) }
}

/// Removes one `>` from each line of `>From ` (mboxrd quoting); borrowed when there is none.
fn unquote_from(bytes: &[u8]) -> Cow<'_, [u8]> {
    let quoted = |line: &[u8]| {
        let arrows = line.iter().take_while(|byte| **byte == b'>').count();
        arrows > 0 && line[arrows..].starts_with(b"From ")
    };
    if !bytes.split(|byte| *byte == b'\n').any(quoted) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (index, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        if index > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(if quoted(line) { &line[1..] } else { line });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_message_is_one_piece() {
        let pieces = split(b"Subject: hi\n\nbody\n");
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].bytes.as_ref(), b"Subject: hi\n\nbody\n");
    }

    #[test]
    fn an_mbox_splits_at_separators_after_blank_lines_only() {
        let file = b"From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nFrom here on, text.\n>From quoted\n\nFrom b@x Tue Jan  2 00:00:00 2024\r\nSubject: two\r\n\r\nbody\r\n";
        let pieces = split(file);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].line, 2);
        assert_eq!(pieces[0].bytes.as_ref(), b"Subject: one\n\nFrom here on, text.\nFrom quoted\n");
        assert_eq!(pieces[1].line, 8);
        assert_eq!(pieces[1].bytes.as_ref(), b"Subject: two\r\n\r\nbody\r\n");
    }
}
