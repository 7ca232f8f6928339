//! Every string the web app shows, in English and Korean, and how money, dates and times are
//! written in each language.
//!
//! - A message is looked up by key (`nav.board`) with [`t`]; `{name}` placeholders are filled by
//!   [`tf`] (templates call `t("key", name=value)`, see `pages::render`).
//! - Money keeps its exact value: `USD 12,000.00`, `KRW 1,500,000` (the currency's own minor
//!   units, comma thousands separators, the ISO code first) in both languages. Column totals may
//!   be written compactly (`USD 5.1M`, `USD 512만`) with the exact value beside them.
//! - Dates are `2026-11-22` in English and `2026년 11월 22일` in Korean; times are shown in the
//!   reader's time zone.
//! - The pure crates return facts, not words: a code with its arguments. They are worded here,
//!   for the pages and the API alike: core's validation problems by [`problem`], the analytics'
//!   health flags and signals by [`health_reason`] (`health.reason.<code>`) and the next lever
//!   by [`lever_reason`] (`health.lever.<lever>`).
//!
//! # The catalogs
//!
//! Each language has one catalog file, `crates/pipewise-web/locales/<language>.ftl` (`en.ftl`,
//! `ko.ftl`). The files are embedded in the binary (`include_str!`) and parsed once, on first
//! use; a file that does not parse panics with its path and line, and a test parses every file,
//! so that never reaches a user.
//!
//! The files are written in a strict subset of [Project Fluent](https://projectfluent.org/)
//! syntax, so that Fluent tools and translators read them as they are and a later move to
//! `fluent-rs` keeps them unchanged:
//!
//! - `# text` is a comment, `## text` a section heading, `### text` a note about the whole file;
//!   blank lines separate sections.
//! - `id = text` is a message, on one line. A text with line breaks continues on lines indented
//!   by spaces (the common indentation is removed; a blank line ends the message). Fluent drops
//!   the spaces after `=` and at the end of a text.
//! - `{ $name }` is a placeholder the code fills in; `{ "text" }` is literal text, for what a
//!   plain text cannot hold: a leading space (`{" "}`) or a brace (`{"{"}`, `{"}"}`). A string
//!   literal knows the escapes `\"`, `\\`, `\uXXXX` and `\UXXXXXX`.
//! - Nothing else: no terms (`-id`), attributes (`.name =`), variants or selectors, functions or
//!   message references. The loader refuses them with the file and line rather than show them
//!   half understood.
//!
//! **Keys.** Code and templates use dotted keys (`nav.board`, `health_settings.pushed_min.help`).
//! A Fluent id cannot contain a dot, so in the files every `.` of a key is written `-` and the
//! rest is unchanged (`nav-board`, `health_settings-pushed_min-help`); the loader turns every `-`
//! of an id back into `.`. The mapping is one to one because no key contains `-`: a key must be
//! made of letters, digits, `_` and `.`, and start with a letter.
//!
//! In memory a text keeps the `{name}` form that [`fill`] and [`placeholders`] read (`{ $name }`
//! becomes `{name}`, a string literal its text). A literal brace therefore reaches [`fill`] as a
//! brace: a text should not spell `{"{"}name{"}"}`.
//!
//! Tests check that every file parses, that every language has the same keys with the same
//! placeholders, that every key the code or a template asks for exists, and that every key is
//! used (written out in the code or a template, or under a prefix the code builds keys with).
//!
//! **Adding a language:** its `Locale` variant (in `pipewise_core::user`, with `as_str` and
//! `parse`); `locales/<language>.ftl` with every id of `en.ftl`; its arms in `slot` and
//! `file` and its place in `LOCALES` (the compiler points at the matches); a `locale.<code>`
//! message in every file; and the per-language parts of this module (`money_compact`, `date`,
//! `timestamp`, `locale_from_accept_language`) and of `pages::render::translate`.

mod catalog;
mod format;
mod words;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use pipewise_core::user::Locale;

use catalog::parse;
pub use format::{date, group, money, money_bag, money_compact, relative, timestamp};
pub use words::{flag_reason, health_reason, lever_reason, message, period_label, problem, projection_stage_name, stage_name, unmet_lines};

/// Every language Pipewise speaks, each at its [`slot`].
const LOCALES: [Locale; 2] = [Locale::En, Locale::Ko];

/// Where `locale` is in [`LOCALES`] (and its catalog in [`messages`]).
const fn slot(locale: Locale) -> usize {
    match locale {
        Locale::En => 0,
        Locale::Ko => 1,
    }
}

/// A language's catalog file: its path (for errors) and its text, embedded in the binary.
fn file(locale: Locale) -> (&'static str, &'static str) {
    match locale {
        Locale::En => ("crates/pipewise-web/locales/en.ftl", include_str!("../../locales/en.ftl")),
        Locale::Ko => ("crates/pipewise-web/locales/ko.ftl", include_str!("../../locales/ko.ftl")),
    }
}

/// One language's messages: key (`nav.board`) → text with `{name}` placeholders.
type Messages = HashMap<String, String>;

/// The messages of `locale`, parsed from its file on first use.
fn messages(locale: Locale) -> &'static Messages {
    static CATALOGS: OnceLock<[Messages; 2]> = OnceLock::new();
    let catalogs = CATALOGS.get_or_init(|| {
        LOCALES.map(|locale| {
            let (path, source) = file(locale);
            parse(path, source).unwrap_or_else(|error| panic!("{error}")).into_iter().collect::<Messages>()
        })
    });
    &catalogs[slot(locale)]
}

/// Whether `key` is in the catalog.
pub fn has(key: &str) -> bool {
    messages(Locale::En).contains_key(key)
}

/// The message `key` in `locale`. An unknown key is a bug: it panics in debug builds and
/// shows nothing (an empty text) in release builds.
pub fn t(locale: Locale, key: &str) -> &'static str {
    match messages(locale).get(key).map(String::as_str) {
        Some(text) => text,
        None => {
            debug_assert!(false, "the message {key:?} is not in the {} catalog", locale.as_str());
            ""
        }
    }
}

/// The message `key` with each `{name}` replaced by its value.
pub fn tf(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    fill(t(locale, key), args)
}

/// Replaces each `{name}` in `template` by its value in `args`.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholders}` of a message, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect();
    names.sort_unstable();
    names
}

/// The language a browser prefers among those Pipewise speaks, from `Accept-Language`
/// (`ko-KR,ko;q=0.9,en;q=0.8`); English when neither is asked for.
pub fn locale_from_accept_language(header: Option<&str>) -> Locale {
    let mut best: Option<(f32, Locale)> = None;
    for part in header.unwrap_or("").split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality =
            pieces.filter_map(|piece| piece.trim().strip_prefix("q=")).find_map(|value| value.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let locale = match primary {
            "ko" => Locale::Ko,
            "en" => Locale::En,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(best_quality, _)| quality > best_quality) {
            best = Some((quality, locale));
        }
    }
    best.map_or(Locale::En, |(_, locale)| locale)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use super::catalog::Entry;
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(locale_from_accept_language(Some("ko-KR,ko;q=0.9,en-US;q=0.8")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("ko")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("en-US,en;q=0.9,ko;q=0.8")), Locale::En);
        assert_eq!(locale_from_accept_language(Some("fr-FR,ko;q=0.5")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("de")), Locale::En);
        assert_eq!(locale_from_accept_language(None), Locale::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("{n} d ago", &[("n", "3")]), "3 d ago");
        assert_eq!(fill("{a} and {b}, {missing}", &[("a", "x"), ("b", "y")]), "x and y, {missing}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(placeholders("{b} {a}"), ["a", "b"]);
    }

    /// Every catalog file, parsed; a parse error fails the test with the file and line.
    fn parsed_catalogs() -> Vec<(Locale, Vec<Entry>)> {
        LOCALES
            .iter()
            .map(|locale| {
                let (path, source) = file(*locale);
                (*locale, parse(path, source).unwrap_or_else(|error| panic!("{error}")))
            })
            .collect()
    }

    #[test]
    fn slots_follow_the_list_of_languages() {
        for (index, locale) in LOCALES.iter().enumerate() {
            assert_eq!(slot(*locale), index, "{locale:?}");
        }
    }

    #[test]
    fn every_message_has_every_language_with_the_same_placeholders() {
        let catalogs = parsed_catalogs();
        let english: HashMap<&str, &str> = catalogs[slot(Locale::En)].1.iter().map(|(key, text)| (key.as_str(), text.as_str())).collect();
        assert!(!english.is_empty(), "the English catalog is empty");
        for (locale, entries) in &catalogs {
            let (path, _) = file(*locale);
            let texts: HashMap<&str, &str> = entries.iter().map(|(key, text)| (key.as_str(), text.as_str())).collect();
            for (key, text) in &texts {
                assert!(!text.trim().is_empty(), "{path}: {key} has no text");
                let Some(english_text) = english.get(key) else {
                    panic!("{path}: {key} is not in the English catalog");
                };
                assert_eq!(placeholders(english_text), placeholders(text), "{path}: {key} uses other placeholders than English");
            }
            for key in english.keys() {
                assert!(texts.contains_key(key), "{path}: {key} is missing");
            }
            // What `t` serves is what the file says.
            assert_eq!(messages(*locale).len(), texts.len(), "{path}");
            for (key, text) in &texts {
                assert_eq!(t(*locale, key), *text, "{path}: {key}");
            }
        }
    }

    /// Every Korean text is Korean: none is the English text left as it was (but for symbols,
    /// names and codes), and none carries an English phrase ("Mutual Close Plan" once did).
    #[test]
    fn the_korean_catalog_is_translated() {
        let same_on_purpose = [
            "app.name",
            "common.none",
            "handoff.entry",
            "source.api",
            "gate.override_move",
            "workspace.tab.bant",
            "list.semicolon",
            "verdict.reasons",
            "verdict.recorded",
        ];
        let (english, korean) = (messages(Locale::En), messages(Locale::Ko));
        for (key, text) in korean {
            if !same_on_purpose.contains(&key.as_str()) {
                assert_ne!(Some(text), english.get(key), "ko: {key} is still in English");
            }
            // Two English words in a row (acronyms such as "JSON API" aside), outside placeholders.
            let plain: String = text.split(['{', '}']).step_by(2).collect::<Vec<_>>().join(" ");
            let english_word = |word: &&str| word.len() > 2 && word.chars().any(|c| c.is_ascii_lowercase());
            let phrase = plain
                .split(|c: char| !(c.is_ascii_alphabetic() || c == ' '))
                .any(|run| run.split_whitespace().filter(english_word).count() >= 2);
            assert!(!phrase, "ko: {key} carries an English phrase: {text}");
        }
    }

    #[test]
    fn messages_come_from_the_files() {
        assert_eq!(t(Locale::Ko, "nav.board"), "보드");
        assert_eq!(tf(Locale::En, "login.throttled", &[("seconds", "5")]), "Too many failed sign-ins. Try again in 5 seconds.");
        assert_eq!(tf(Locale::Ko, "login.throttled", &[("seconds", "5")]), "로그인 실패가 너무 많습니다. 5초 후에 다시 시도하세요.");
        // A leading space is written {" "} in the files.
        assert_eq!(tf(Locale::En, "quadrant.activity", &[("count", "3")]), " (3 activities)");
        assert!(has("health_settings.pushed_min.help"));
        assert!(!has("health_settings-pushed_min-help"));
        assert!(!has("no.such.key"));
    }

    /// A file the scans below read: Rust without its test module (a key only a test mentions is
    /// not in use), or a template.
    pub(super) struct Source {
        path: PathBuf,
        pub(super) text: String,
        rust: bool,
    }

    /// The files under `dir`, recursively, whose names end with `suffix`.
    fn files_under(dir: &Path, suffix: &str, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path, suffix, found);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }

    fn read(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        match text.find("\n#[cfg(test)]\nmod tests {") {
            Some(end) if path.extension().is_some_and(|extension| extension == "rs") => text[..end].to_owned(),
            _ => text,
        }
    }

    /// This crate's Rust sources and templates.
    pub(super) fn web_sources() -> Vec<Source> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut rust = Vec::new();
        files_under(&root.join("src"), ".rs", &mut rust);

        let mut templates = Vec::new();
        files_under(&root.join("templates"), "", &mut templates);
        let mut sources: Vec<Source> = rust.into_iter().map(|path| Source { text: read(&path), path, rust: true }).collect();
        sources.extend(templates.into_iter().map(|path| Source { text: read(&path), path, rust: false }));
        assert!(sources.iter().any(|source| source.rust) && sources.iter().any(|source| !source.rust), "no sources found");
        sources
    }

    /// The catalog namespaces of the messages the pure crates, the store, the engines and the
    /// application layer return (`pipewise_core::Message`, `Problem::Fact`): their keys are
    /// quoted in those crates' sources.
    const MESSAGE_NAMESPACES: [&str; 8] = ["verdict.", "flag.", "term.", "list.", "rule.", "problem.", "import.", "capture."];

    /// The sources of the crates that return messages, as one text.
    fn message_sources() -> String {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for name in ["pipewise-core", "pipewise-store", "pipewise-store-postgres", "pipewise-app", "pipewise-import", "pipewise-capture"] {
            files_under(&crates.join(name).join("src"), ".rs", &mut files);
        }
        files.iter().map(|path| read(path)).collect::<Vec<_>>().join("\n")
    }

    /// The string literals passed as the key of `t(…)` or `tf(…)`: in Rust the second argument
    /// (`t(locale, "key")`), in a template the first (`t("key", name=value)`). A key built at run
    /// time (`format!`, `'prefix.' ~ key`) is no literal and is skipped.
    fn literal_keys(text: &str, rust: bool) -> Vec<&str> {
        let bytes = text.as_bytes();
        let mut keys = Vec::new();
        for name in ["t(", "tf("] {
            for (at, _) in text.match_indices(name) {
                if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                    continue;
                }
                let mut position = at + name.len();
                if rust {
                    // Skip the first argument (the locale), up to its comma.
                    let mut depth = 0_usize;
                    let mut comma = None;
                    for (offset, byte) in bytes[position..].iter().copied().enumerate().take(200) {
                        match byte {
                            b'(' | b'[' | b'{' => depth += 1,
                            b')' | b']' | b'}' if depth == 0 => break,
                            b')' | b']' | b'}' => depth -= 1,
                            b'"' => break,
                            b',' if depth == 0 => {
                                comma = Some(position + offset + 1);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let Some(after_comma) = comma else {
                        continue;
                    };
                    position = after_comma;
                }
                let rest = text[position..].trim_start();
                let Some(quote) = rest.chars().next().filter(|c| *c == '"' || (!rust && *c == '\'')) else {
                    continue;
                };
                let Some(length) = rest[1..].find(quote) else {
                    continue;
                };
                if rest[1 + length + 1..].trim_start().starts_with([')', ',']) {
                    keys.push(&rest[1..1 + length]);
                }
            }
        }
        keys
    }

    /// Every `"word"` and `'word'` in `text` whose word could be a key.
    pub(super) fn quoted_words<'a>(text: &'a str, words: &mut HashSet<&'a str>) {
        let bytes = text.as_bytes();
        for (at, quote) in bytes.iter().copied().enumerate() {
            if quote != b'"' && quote != b'\'' {
                continue;
            }
            let length = bytes[at + 1..].iter().take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_' || **byte == b'.').count();
            if length > 0 && bytes.get(at + 1 + length) == Some(&quote) {
                words.insert(&text[at + 1..at + 1 + length]);
            }
        }
    }

    #[test]
    fn the_scan_finds_literal_keys() {
        let rust = r#"t(l, "a.b") i18n::tf(v.locale, "c.d", &[("n", "1")]) t(l, &format!("x.{y}")) print("z") t(f(x, y), "e.f")"#;
        assert_eq!(literal_keys(rust, true), ["a.b", "e.f", "c.d"]);
        let template = r#"{{ t("a.b") }} {{ t('c.' ~ key) }} {{ t('d.e', n=1) }} {{ t(label) }}"#;
        assert_eq!(literal_keys(template, false), ["a.b", "d.e"]);
        let mut words = HashSet::new();
        quoted_words(r#"("nav.board", "x y") 'a_b' "open"#, &mut words);
        assert_eq!(words, HashSet::from(["nav.board", "a_b"]));
    }

    /// Whether a quoted word reads as a key: a catalog namespace (`nav`), a dot and more, and no
    /// file name (`board.html`, `app.css`). Code and templates also pass keys around in lists
    /// (base.html's navigation, pages::tasks' choices, pages::list's columns), which this catches.
    fn looks_like_a_key(word: &str, namespaces: &HashSet<&str>) -> bool {
        let Some((namespace, _)) = word.split_once('.') else {
            return false;
        };
        namespaces.contains(namespace)
            && !word.ends_with('.')
            && ![".html", ".css", ".js"].iter().any(|extension| word.ends_with(extension))
    }

    #[test]
    fn every_key_the_code_or_a_template_asks_for_exists() {
        let sources = web_sources();
        let mut asked = 0;
        for source in &sources {
            for key in literal_keys(&source.text, source.rust) {
                asked += 1;
                for locale in LOCALES {
                    assert!(
                        messages(locale).contains_key(key),
                        "{} asks for {key:?}, which is not in {}",
                        source.path.display(),
                        file(locale).0
                    );
                }
            }
        }
        assert!(asked > 100, "the scan found only {asked} keys: does it still recognise how t(…) is called?");
        let namespaces: HashSet<&str> =
            messages(Locale::En).keys().filter_map(|key| key.split_once('.')).map(|(namespace, _)| namespace).collect();
        let mut words = HashSet::new();
        for source in &sources {
            quoted_words(&source.text, &mut words);
        }
        let mut missing: Vec<&str> = words.into_iter().filter(|word| looks_like_a_key(word, &namespaces) && !has(word)).collect();
        let mut quoted = HashSet::new();
        let messages = message_sources();
        quoted_words(&messages, &mut quoted);
        missing
            .extend(quoted.into_iter().filter(|word| MESSAGE_NAMESPACES.iter().any(|namespace| word.starts_with(namespace)) && !has(word)));
        missing.sort_unstable();
        assert!(missing.is_empty(), "these look like keys but are in no catalog (if one is no key, teach looks_like_a_key): {missing:?}");
    }

    /// Keys the code builds at run time: the prefix, and the code that builds keys under it. The
    /// code must still be in the sources (or the entry is stale and must go).
    const BUILT: &[(&str, &str)] = &[
        // pipewise_core::gates::term: words inside the pure crates' messages.
        ("term.", "format!(\"term.{kind}.{code}\")"),
        // pages::gates and pages::designer: a criterion's kind.
        ("gate.kind.", "format!(\"gate.kind.{"),
        // pages::deals: a changed field in the history; pages::deals and pages::designer: data::label.
        ("field.", "format!(\"field.{"),
        ("field.", "label(locale, \"field\""),
        // pages::workspace: a BANT item.
        ("bant.", "format!(\"bant.{"),
        // pages::workspace: the tabs of the deal workspace.
        ("workspace.tab.", "format!(\"workspace.tab.{"),
        // pages::dashboard: a figure's drill-down title and the waterfall's steps.
        ("dash.figure.", "format!(\"dash.figure.{"),
        ("dash.wf.", "format!(\"dash.wf.{"),
        // pages::dashboard: a health flag or signal (pipewise_analytics::health codes).
        ("health.", "format!(\"health.{"),
        // i18n::flag_reason and i18n::lever_reason: why a flag was raised, the lever's advice.
        ("health.reason.", "format!(\"health.reason.{"),
        ("health.lever.", "format!(\"health.lever.{"),
        // pages::settings: a threshold's label, help and section.
        ("health_settings.", "format!(\"health_settings.{"),
        ("health_settings.section.", "format!(\"health_settings.section.{"),
        // pages::render and pages::session: the viewer's role and language; pages::admin: data::label.
        ("role.", "format!(\"role.{"),
        // pages::dashboard::performance: an outlier's measure and direction.
        ("perf.outlier.", "format!(\"perf.outlier.{"),
        // pages::pay: a statement line's kind, a dispute's status and next step, a done notice.
        ("pay.kind.", "format!(\"pay.kind.{"),
        ("pay.dispute.", "format!(\"pay.dispute.{"),
        ("pay.move.", "format!(\"pay.move.{"),
        ("pay.done.", "format!(\"pay.done.{"),
        // pages::quotas: a realism check's verdict.
        ("quotas.verdict.", "format!(\"quotas.verdict.{"),
        // i18n::period_label: a month's name.
        ("month.", "format!(\"month.{"),
        ("locale.", "format!(\"locale.{"),
        // pages::designer: a stage's kind.
        ("designer.stage_kind.", "format!(\"designer.stage_kind.{"),
        // pages::data::label: enum-like values in lists, the deal page and the designer.
        ("forecast.", "label(locale, \"forecast\""),
        ("status.", "label(locale, \"status\""),
        ("activity.", "label(locale, \"activity\""),
        ("direction.", "label(locale, \"direction\""),
        ("source.", "label(locale, \"source\""),
        // pages::workspace::choices: the workspace's drop-downs.
        ("bant_status.", "choices(locale, \"bant_status\""),
        ("buying_role.", "choices(locale, \"buying_role\""),
        ("level.", "choices(locale, \"level\""),
        ("side.", "choices(locale, \"side\""),
        ("plan_step.", "choices(locale, \"plan_step\""),
        ("approval_form.", "choices(locale, \"approval_form\""),
        ("meeting_body.", "choices(locale, \"meeting_body\""),
        // templates/workspace.html: the four-box and approval fields, in loops.
        ("four_box.", "t('four_box.' ~ key"),
        ("approval.", "t('approval.' ~ key"),
        // templates/pay_plan.html: the plan builder's drop-downs and component headings.
        ("pay.builder.choice.", "t('pay.builder.choice.' ~ value"),
        ("pay.builder.kind.", "t('pay.builder.kind.' ~ c.kind"),
    ];

    #[test]
    fn every_key_is_used() {
        let sources = web_sources();
        let english = messages(Locale::En);
        let messages = message_sources();
        for (prefix, code) in BUILT {
            let found = sources.iter().any(|source| source.text.contains(code)) || messages.contains(code);
            assert!(found, "no source has {code}: remove {prefix:?} from BUILT");
            assert!(english.keys().any(|key| key.starts_with(prefix)), "no key starts with {prefix:?}: remove it from BUILT");
        }
        let mut written = HashSet::new();
        for source in &sources {
            quoted_words(&source.text, &mut written);
        }
        quoted_words(&messages, &mut written);
        let mut unused: Vec<&str> = english
            .keys()
            .filter(|key| {
                let built = BUILT.iter().any(|(prefix, _)| key.starts_with(prefix));
                !written.contains(key.as_str()) && !built
            })
            .map(String::as_str)
            .collect();
        unused.sort_unstable();
        assert!(unused.is_empty(), "no code or template uses these keys: delete them from every catalog: {unused:?}");
    }
}
