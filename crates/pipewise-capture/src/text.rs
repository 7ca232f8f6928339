//! Decoded text made safe to store: no control characters (PostgreSQL refuses NUL), `\n` line
//! ends, bounded length.

/// One line: whitespace runs (line ends included) become one space, control characters go,
/// at most `max` characters.
pub fn clean_line(raw: &str, max: usize) -> String {
    let words = raw.split(char::is_whitespace).filter(|word| !word.is_empty());
    let joined = words.flat_map(|word| std::iter::once(' ').chain(word.chars().filter(|c| !c.is_control()))).skip(1);
    joined.take(max).collect()
}

/// Text of many lines: `\r\n` and `\r` become `\n`, control characters other than `\n` and `\t`
/// go, blank lines at either end go, at most `max` characters; also whether it was cut.
pub fn clean_text(raw: &str, max: usize) -> (String, bool) {
    let mut out = String::with_capacity(raw.len().min(max.saturating_mul(4)));
    let mut count = 0;
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                '\n'
            }
            '\n' | '\t' => c,
            c if c.is_control() => continue,
            c => c,
        };
        if count == max {
            return (out, true);
        }
        out.push(c);
        count += 1;
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_texts_are_cleaned_and_bounded() {
        assert_eq!(clean_line("  a\r\n\tb\u{0}c  d ", 100), "a bc d");
        assert_eq!(clean_line("abcdef", 3), "abc");
        assert_eq!(clean_text("\r\n x\r\ny\rz\u{0}\n", 100), ("x\ny\nz".to_owned(), false));
        assert_eq!(clean_text("가나다라", 2), ("가나".to_owned(), true));
    }
}
