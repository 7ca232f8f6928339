//! Checks shared by every free-text field: length limits and no control characters (a NUL byte
//! is refused by PostgreSQL and invisible to users, so it is refused here for both engines).

use crate::error::Problem;

/// Trims `raw` and checks it is non-empty, at most `max` characters, and has no control
/// characters other than newline and tab when `multiline`.
pub fn required(raw: &str, max: usize) -> Result<String, Problem> {
    let value = optional(raw, max, false)?;
    value.ok_or(Problem::Required)
}

/// Like [`required`] but empty text is `None`.
pub fn optional(raw: &str, max: usize, multiline: bool) -> Result<Option<String>, Problem> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(Problem::TooLong { len, max });
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t' || c == '\r');
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Problem::ControlCharacter);
    }
    Ok(Some(trimmed.to_owned()))
}

/// A lower-cased e-mail address with one `@`, a non-empty local part and a dotted domain.
pub fn email(raw: &str) -> Result<String, Problem> {
    let value = required(raw, 254)?.to_lowercase();
    let invalid = || Problem::Invalid { value: raw.to_owned(), expected: "an e-mail address" };
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || !domain_ok || local.contains(char::is_whitespace) {
        return Err(invalid());
    }
    Ok(value)
}

/// A lower-cased domain name such as `acme.co.kr` (no scheme, no path, no `www.` is stripped).
pub fn domain(raw: &str) -> Result<String, Problem> {
    let value = required(raw, 253)?.to_lowercase();
    let ok = value.contains('.')
        && !value.starts_with('.')
        && !value.ends_with('.')
        && !value.contains("..")
        && value.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if ok { Ok(value) } else { Err(Problem::Invalid { value: raw.to_owned(), expected: "a domain name" }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(required("  Acme  ", 10), Ok("Acme".to_owned()));
        assert_eq!(required("   ", 10), Err(Problem::Required));
        assert_eq!(required("abc", 2), Err(Problem::TooLong { len: 3, max: 2 }));
        assert_eq!(required("a\0b", 10), Err(Problem::ControlCharacter));
        assert_eq!(optional("line\nline", 20, true), Ok(Some("line\nline".to_owned())));
        assert_eq!(optional("line\nline", 20, false), Err(Problem::ControlCharacter));
        // Korean counts characters, not bytes.
        assert_eq!(required("영업관리", 4), Ok("영업관리".to_owned()));
    }

    #[test]
    fn email_rules() {
        assert_eq!(email(" Kim@Acme.CO.kr "), Ok("kim@acme.co.kr".to_owned()));
        for bad in ["kim", "kim@", "@acme.com", "kim@acme", "kim@@acme.com", "kim@acme..com", "k m@acme.com"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }
}
