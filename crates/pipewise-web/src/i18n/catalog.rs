//! The reader of the catalog files: the strict subset of Fluent that the `i18n` module doc
//! describes, read into dotted keys and texts in the `{name}` form.

use std::collections::HashMap;

/// One message read from a catalog file: its key (dotted, as the code writes it) and its text
/// in the `{name}` form.
pub(super) type Entry = (String, String);

/// A message whose continuation lines may still follow.
struct Pending<'a> {
    id: &'a str,
    /// The line of `id = …`, for errors.
    line: usize,
    /// The text after `=` on the first line.
    first: &'a str,
    /// The indented continuation lines, as written.
    rest: Vec<&'a str>,
}

/// Reads a catalog file (the syntax is in the `i18n` module doc), in file order. `path` names the file
/// in errors, which read `path:line: what is wrong`.
pub(super) fn parse(path: &str, source: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut defined: HashMap<String, usize> = HashMap::new();
    let mut pending: Option<Pending<'_>> = None;
    for (index, raw) in source.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let error = |what: String| format!("{path}:{number}: {what}");
        if line.trim_start_matches(' ').is_empty() {
            finish(path, pending.take(), &mut entries, &mut defined)?;
        } else if line.starts_with(' ') {
            let Some(message) = pending.as_mut() else {
                return Err(error("an indented line outside a message (a blank line ends a message)".to_owned()));
            };
            let content = line.trim_start_matches(' ');
            if content.starts_with(['.', '[', '*']) {
                return Err(error(format!(
                    "Fluent reads {content:?} as an attribute or a variant, which the catalogs do not use: start the line with other text"
                )));
            }
            message.rest.push(line);
        } else if line.starts_with('#') {
            finish(path, pending.take(), &mut entries, &mut defined)?;
            let text = line.trim_start_matches('#');
            let marks = line.len() - text.len();
            let spaced = text.is_empty() || text.starts_with(' ');
            if marks > 3 || !spaced {
                return Err(error(format!("a comment is #, ## or ### and a space before its text: {line:?}")));
            }
        } else {
            finish(path, pending.take(), &mut entries, &mut defined)?;
            let (id, first) = message_line(line).map_err(error)?;
            pending = Some(Pending { id, line: number, first, rest: Vec::new() });
        }
    }
    finish(path, pending.take(), &mut entries, &mut defined)?;
    Ok(entries)
}

/// The id and the text of an `id = text` line.
fn message_line(line: &str) -> Result<(&str, &str), String> {
    let length = identifier_length(line);
    if length == 0 {
        return Err(format!("expected `id = text`, a comment or a blank line, found {line:?}"));
    }
    let (id, rest) = line.split_at(length);
    if rest.starts_with('.') {
        let written = line.split([' ', '=']).next().unwrap_or(line).replace('.', "-");
        return Err(format!("an id cannot contain `.`: write {written:?}"));
    }
    match rest.trim_start_matches(' ').strip_prefix('=') {
        Some(text) => Ok((id, text.trim_start_matches(' '))),
        None => Err(format!("expected `=` after the id {id:?}")),
    }
}

/// The length of the Fluent identifier (`[a-zA-Z][a-zA-Z0-9_-]*`) at the start of `text`; 0
/// when there is none.
fn identifier_length(text: &str) -> usize {
    if !text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return 0;
    }
    text.find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-').unwrap_or(text.len())
}

/// Ends the message being read, if any: joins its lines, reads its placeables and adds it.
fn finish(path: &str, pending: Option<Pending<'_>>, entries: &mut Vec<Entry>, defined: &mut HashMap<String, usize>) -> Result<(), String> {
    let Some(message) = pending else {
        return Ok(());
    };
    let error = |what: String| format!("{path}:{}: {}: {what}", message.line, message.id);
    let indent = message.rest.iter().map(|line| line.len() - line.trim_start_matches(' ').len()).min().unwrap_or(0);
    let mut lines: Vec<&str> = Vec::with_capacity(message.rest.len() + 1);
    if !message.first.is_empty() {
        lines.push(message.first);
    }
    lines.extend(message.rest.iter().map(|line| &line[indent..]));
    let joined = lines.join("\n");
    let value = joined.trim_end_matches([' ', '\n']);
    if value.is_empty() {
        return Err(error("the message has no text".to_owned()));
    }
    let text = placeables(value).map_err(error)?;
    let key = message.id.replace('-', ".");
    if let Some(first) = defined.insert(key.clone(), message.line) {
        return Err(error(format!("already defined on line {first}")));
    }
    entries.push((key, text));
    Ok(())
}

/// A Fluent text in the `{name}` form: `{ $name }` becomes `{name}` and `{ "text" }` its text.
fn placeables(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    loop {
        let Some(at) = rest.find(['{', '}']) else {
            out.push_str(rest);
            return Ok(out);
        };
        out.push_str(&rest[..at]);
        if rest[at..].starts_with('}') {
            return Err(r#"a `}` outside a placeable: write {"}"}"#.to_owned());
        }
        let inside = rest[at + 1..].trim_start_matches(' ');
        let after = if let Some(variable) = inside.strip_prefix('$') {
            let length = identifier_length(variable);
            if length == 0 {
                return Err("`{ $` needs a variable name".to_owned());
            }
            out.push('{');
            out.push_str(&variable[..length]);
            out.push('}');
            &variable[length..]
        } else if let Some(literal) = inside.strip_prefix('"') {
            let (text, after) = string_literal(literal)?;
            out.push_str(&text);
            after
        } else {
            return Err(r#"a placeable is { $name } or { "text" }; nothing else is supported"#.to_owned());
        };
        rest = match after.trim_start_matches(' ').strip_prefix('}') {
            Some(rest) => rest,
            None => return Err("a placeable is not closed with `}` on its line".to_owned()),
        };
    }
}

/// A Fluent string literal's text, from after its opening `"`, and what follows its closing `"`.
fn string_literal(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[at + 1..])),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, marker @ ('u' | 'U'))) => {
                    let digits = if marker == 'u' { 4 } else { 6 };
                    let hex = text.get(at + 2..at + 2 + digits).unwrap_or_default();
                    let decoded = if hex.len() == digits && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else {
                        None
                    };
                    let Some(decoded) = decoded else {
                        return Err(format!("the escape \\{marker} needs {digits} hexadecimal digits of a character"));
                    };
                    out.push(decoded);
                    for _ in 0..digits {
                        chars.next();
                    }
                }
                _ => return Err(r#"a string literal knows only the escapes \" \\ \uXXXX \UXXXXXX"#.to_owned()),
            },
            _ => out.push(c),
        }
    }
    Err(r#"a string literal is not closed with `"` on its line"#.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_reads_comments_messages_placeholders_and_continuations() {
        // Trailing spaces after `lead` are part of the test: Fluent drops them.
        let source = r#"### About the whole file.

## A section.
# About hello.
hello-world = Hello, { $name }!
nav-sign_out=Sign out
lead = {" "}({ $count } activities)   
multi = First line
    second {$n}
      indented third
block =
    Only
    block

braces = a {"{"} b {"}"} \u0041 {"\u0041\"\\"}
"#;
        let entries = parse("golden.ftl", source).unwrap();
        let read: Vec<(&str, &str)> = entries.iter().map(|(key, text)| (key.as_str(), text.as_str())).collect();
        assert_eq!(
            read,
            [
                ("hello.world", "Hello, {name}!"),
                ("nav.sign_out", "Sign out"),
                ("lead", " ({count} activities)"),
                ("multi", "First line\nsecond {n}\n  indented third"),
                ("block", "Only\nblock"),
                ("braces", "a { b } \\u0041 A\"\\"),
            ]
        );
        let crlf = parse("crlf.ftl", "# Windows.\r\na = x\r\n    y\r\n\r\nb = z\r\n").unwrap();
        assert_eq!(crlf, [("a".to_owned(), "x\ny".to_owned()), ("b".to_owned(), "z".to_owned())]);
        assert!(parse("empty.ftl", "").unwrap().is_empty());
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_the_file_and_line() {
        let cases = [
            ("ok = fine\nnav.board = Board\n", 2, r#"write "nav-board""#),
            ("ok = fine\n\n    orphan\n", 3, "outside a message"),
            ("a = x\n    .title = y\n", 2, "attribute"),
            ("a = x\n    [one] y\n", 2, "variant"),
            ("a = x\n-term = y\n", 2, "expected `id = text`"),
            ("\ta = x\n", 1, "expected `id = text`"),
            ("a x\n", 1, "expected `=`"),
            ("#no space\n", 1, "comment"),
            ("#### four\n", 1, "comment"),
            ("a = x\n\nb =\n", 3, "b: the message has no text"),
            ("a = one\nb = two\na = three\n", 3, "a: already defined on line 1"),
            ("a = x { $n\n", 1, "not closed"),
            ("a = x }\n", 1, "outside a placeable"),
            ("a = { -term }\n", 1, "nothing else"),
            ("a = { n }\n", 1, "nothing else"),
            ("a = { $ }\n", 1, "variable name"),
            ("a = {\"\\n\"}\n", 1, "escapes"),
            ("a = {\"\\u00\"}\n", 1, "hexadecimal"),
            ("a = {\"open }\n", 1, "not closed"),
        ];
        for (source, line, words) in cases {
            let error = parse("bad.ftl", source).expect_err(source);
            assert!(error.starts_with(&format!("bad.ftl:{line}: ")), "{source:?}: {error}");
            assert!(error.contains(words), "{source:?}: {error}");
        }
    }
}
