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

use std::collections::HashMap;
use std::sync::OnceLock;

use pipewise_analytics::health::{Flag, LeverAdvice};
use pipewise_analytics::projection::StageInfo;
use pipewise_analytics::{FlagCode, Projection};
use pipewise_core::error::Problem;
use pipewise_core::money::{Decimal, MoneyBag};
use pipewise_core::pipeline::Stage;
pub use pipewise_core::user::Locale;
use pipewise_core::{Date, Money, Timestamp};

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
        Locale::En => ("crates/pipewise-web/locales/en.ftl", include_str!("../locales/en.ftl")),
        Locale::Ko => ("crates/pipewise-web/locales/ko.ftl", include_str!("../locales/ko.ftl")),
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

/// One message read from a catalog file: its key (dotted, as the code writes it) and its text
/// in the `{name}` form.
type Entry = (String, String);

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

/// Reads a catalog file (the syntax is in the module doc), in file order. `path` names the file
/// in errors, which read `path:line: what is wrong`.
fn parse(path: &str, source: &str) -> Result<Vec<Entry>, String> {
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

/// A stage's name in `locale` (Korean falls back to English when a stage has no Korean name).
pub fn stage_name(locale: Locale, stage: &Stage) -> &str {
    match locale {
        Locale::Ko if !stage.name_ko.trim().is_empty() => &stage.name_ko,
        _ => &stage.name_en,
    }
}

/// A stage of the analytics projection in `locale`, as health reasons and the analytics API
/// name it: its Korean name as it is, even a blank one (unlike [`stage_name`]).
pub fn projection_stage_name(locale: Locale, stage: &StageInfo) -> &str {
    match locale {
        Locale::En => &stage.name_en,
        Locale::Ko => &stage.name_ko,
    }
}

/// Why a health flag or signal was raised ([`Flag`], from `pipewise_analytics::health`), in
/// `locale`: the message `health.reason.<code>` with the flag's numbers and the name of the
/// stage it names in `projection`. The dashboards, the board's badges, the deal page and the
/// analytics API all word flags with it.
pub fn health_reason(locale: Locale, projection: &Projection, flag: &Flag) -> String {
    let stage = flag.stage.map_or("", |stage| projection_stage_name(locale, &projection.stages[usize::from(stage)]));
    flag_reason(locale, flag, stage)
}

/// [`health_reason`] with the stage's name given (ignored when the flag names no stage). The
/// messages' arguments: `value`, `limit` and `total` as the flag has them (what each means is
/// in [`Flag`]'s documentation), except thin pipeline's coverage percentages, written as
/// multiples (`57` → `0.57`); `share`, `value` in percent of `total` (rounded down; 0 without a
/// total); `stage`.
pub fn flag_reason(locale: Locale, flag: &Flag, stage: &str) -> String {
    let times = |percent: i64| format!("{}.{:02}", percent / 100, percent % 100);
    let (value, limit) = match flag.code {
        FlagCode::ThinPipeline => (times(flag.value), times(flag.limit)),
        _ => (flag.value.to_string(), flag.limit.to_string()),
    };
    let share = if flag.total == 0 { 0 } else { flag.value * 100 / flag.total };
    tf(
        locale,
        &format!("health.reason.{}", flag.code.as_str()),
        &[("value", &value), ("limit", &limit), ("total", &flag.total.to_string()), ("share", &share.to_string()), ("stage", stage)],
    )
}

/// The next lever's advice ([`LeverAdvice`]) in `locale`: the message `health.lever.<lever>`
/// with the coverage and its target as multiples (`0.57`, `3.00`) and, when the win rate is
/// known, `health.lever.conversion` (the win rate by value and the share of the remaining quota
/// it closes, in percent) as its `conversion`.
pub fn lever_reason(locale: Locale, advice: &LeverAdvice) -> String {
    let conversion = match (advice.win_rate_by_value, advice.expected()) {
        (Some(win_rate), Some(expected)) => tf(
            locale,
            "health.lever.conversion",
            &[("win_rate", &win_rate.percent(1).to_string()), ("expected", &expected.percent(0).to_string())],
        ),
        _ => String::new(),
    };
    let target = Decimal::new(i64::from(advice.coverage_target_pct), 2);
    tf(
        locale,
        &format!("health.lever.{}", advice.lever.as_str()),
        &[("coverage", &advice.coverage.round(2).to_string()), ("target", &target.to_string()), ("conversion", &conversion)],
    )
}

/// Groups the digits of a plain decimal text (`-1234567.50` → `-1,234,567.50`).
fn group_digits(plain: &str) -> String {
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (integer, fraction) = match digits.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(plain.len() + integer.len() / 3);
    grouped.push_str(sign);
    for (position, digit) in integer.chars().enumerate() {
        if position > 0 && (integer.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

/// A whole number with thousands separators: `12,500`.
pub fn group(number: i64) -> String {
    group_digits(&number.to_string())
}

/// The exact amount: `USD 12,000.00`, `KRW 1,500,000` (the same in both languages).
pub fn money(_locale: Locale, money: Money) -> String {
    format!("{} {}", money.currency().code(), group_digits(&money.amount().to_string()))
}

/// A short form for column totals: `USD 5.1M` in English, `USD 512만` in Korean. Shown next
/// to (or with a tooltip of) the exact value.
pub fn money_compact(locale: Locale, money: Money) -> String {
    let amount = money.amount();
    let code = money.currency().code();
    let units: &[(i64, &str)] = match locale {
        Locale::En => &[(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")],
        Locale::Ko => &[(1_000_000_000_000, "조"), (100_000_000, "억"), (10_000, "만")],
    };
    let magnitude = amount.abs();
    for (size, suffix) in units {
        let size = Decimal::from(*size);
        if magnitude >= size {
            let scaled = amount / size;
            let digits = if scaled.abs() >= Decimal::from(100) { 0 } else { 1 };
            let rounded = scaled.round_dp(digits).normalize();
            return format!("{code} {}{suffix}", group_digits(&rounded.to_string()));
        }
    }
    format!("{code} {}", group_digits(&amount.round_dp(0).normalize().to_string()))
}

/// Totals per currency, never summed across currencies: `EUR 500.00 + USD 1,000.00`.
pub fn money_bag(locale: Locale, bag: &MoneyBag) -> String {
    let parts: Vec<String> = bag.totals().map(|total| money(locale, total)).collect();
    if parts.is_empty() { "0".to_owned() } else { parts.join(" + ") }
}

/// `2026-11-22` or `2026년 11월 22일`.
pub fn date(locale: Locale, date: Date) -> String {
    match locale {
        Locale::En => date.to_string(),
        Locale::Ko => format!("{}년 {}월 {}일", date.year(), date.month(), date.day()),
    }
}

/// A moment in the reader's time zone: `2026-11-23 04:30 KST` or `2026년 11월 23일 04:30 KST`.
pub fn timestamp(locale: Locale, at: Timestamp, time_zone: &str) -> String {
    let shown = at.display_in(time_zone);
    match locale {
        Locale::En => shown,
        Locale::Ko => match shown.split_once(' ').and_then(|(day, rest)| Some((day.parse::<Date>().ok()?, rest))) {
            Some((day, rest)) => format!("{} {rest}", date(locale, day)),
            None => shown,
        },
    }
}

/// How long ago `at` was: `3 d ago`, `3일 전`.
pub fn relative(locale: Locale, at: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_micros() - at.as_micros()) / 1_000_000;
    if seconds < -60 {
        return t(locale, "time.upcoming").to_owned();
    }
    let (key, n) = match seconds {
        ..60 => return t(locale, "time.just_now").to_owned(),
        60..3_600 => ("time.minutes_ago", seconds / 60),
        3_600..86_400 => ("time.hours_ago", seconds / 3_600),
        86_400..2_592_000 => ("time.days_ago", seconds / 86_400),
        2_592_000..31_536_000 => ("time.months_ago", seconds / 2_592_000),
        _ => ("time.years_ago", seconds / 31_536_000),
    };
    tf(locale, key, &[("n", &n.to_string())])
}

/// A validation problem in `locale`. Rules core states in words are translated when the
/// catalog knows them and shown in English otherwise.
pub fn problem(locale: Locale, problem: &Problem) -> String {
    match problem {
        Problem::Required => t(locale, "problem.required").to_owned(),
        Problem::Invalid { value, expected } => {
            let expected = match *expected {
                "a date" => t(locale, "expected.date"),
                "a decimal amount" => t(locale, "expected.amount"),
                "an id" => t(locale, "expected.id"),
                "a contact of this account" => t(locale, "expected.contact"),
                "yes or no" => t(locale, "expected.yes_no"),
                "a whole number" => t(locale, "expected.whole_number"),
                other => other,
            };
            tf(locale, "problem.invalid", &[("value", &format!("{value:?}")), ("expected", expected)])
        }
        Problem::TooLong { len, max } => tf(locale, "problem.too_long", &[("len", &len.to_string()), ("max", &max.to_string())]),
        Problem::ControlCharacter => t(locale, "problem.control_character").to_owned(),
        Problem::UnknownCurrency { value } => tf(locale, "problem.unknown_currency", &[("value", &format!("{value:?}"))]),
        Problem::TooPrecise { amount, currency, scale, minor_units } => tf(
            locale,
            "problem.too_precise",
            &[("amount", amount), ("scale", &scale.to_string()), ("currency", currency), ("minor_units", &minor_units.to_string())],
        ),
        Problem::Negative { value } => tf(locale, "problem.negative", &[("value", value)]),
        Problem::OutOfRange { value, range } => tf(locale, "problem.out_of_range", &[("value", value), ("range", range)]),
        Problem::UnknownReference { kind, id } => tf(locale, "problem.unknown_reference", &[("kind", kind), ("id", &id.to_string())]),
        Problem::Rule(text) => messages(Locale::En)
            .iter()
            .find(|(key, english)| key.starts_with("rule.") && english.as_str() == text.as_str())
            .map_or_else(|| text.clone(), |(key, _)| t(locale, key).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use pipewise_analytics::Lever;

    use super::*;

    #[test]
    fn every_problem_has_a_korean_message() {
        let problems = [
            Problem::Required,
            Problem::Invalid { value: "x".into(), expected: "a date" },
            Problem::TooLong { len: 300, max: 200 },
            Problem::ControlCharacter,
            Problem::UnknownCurrency { value: "ZZZ".into() },
            Problem::TooPrecise { amount: "12.345".into(), currency: "USD", scale: 3, minor_units: 2 },
            Problem::Negative { value: "USD -5.00".into() },
            Problem::OutOfRange { value: "1800-01-01".into(), range: "years 1900 to 2200" },
            Problem::UnknownReference { kind: "account", id: 9 },
            Problem::Rule("a lost deal needs the reason it was lost".into()),
        ];
        for problem in &problems {
            // English matches core's own wording exactly.
            assert_eq!(super::problem(Locale::En, problem), problem.to_string());
            assert!(super::problem(Locale::Ko, problem).chars().any(|c| ('가'..='힣').contains(&c)), "{problem}");
        }
        assert_eq!(super::problem(Locale::Ko, &problems[5]), "12.345은(는) 소수점 이하 3자리이지만 USD는 2자리까지입니다");
    }

    #[test]
    fn money_keeps_its_exact_value_and_groups_thousands() {
        let money = |text: &str| text.parse::<Money>().unwrap();
        assert_eq!(super::money(Locale::En, money("USD 12000")), "USD 12,000.00");
        assert_eq!(super::money(Locale::Ko, money("KRW 1500000")), "KRW 1,500,000");
        assert_eq!(super::money(Locale::En, money("USD 999.5")), "USD 999.50");
        assert_eq!(super::money(Locale::En, money("KWD 1234567.125")), "KWD 1,234,567.125");
        assert_eq!(super::money(Locale::En, money("USD -1234")), "USD -1,234.00");
        // 5,123,456 = 5.1 million = 512.3456만 → 512만 (three digits before the point: none after).
        assert_eq!(money_compact(Locale::En, money("USD 5123456")), "USD 5.1M");
        assert_eq!(money_compact(Locale::Ko, money("USD 5123456")), "USD 512만");
        // 1,234,567,890 KRW = 12.3억.
        assert_eq!(money_compact(Locale::Ko, money("KRW 1234567890")), "KRW 12.3억");
        assert_eq!(money_compact(Locale::En, money("USD 950.40")), "USD 950");
        assert_eq!(money_compact(Locale::En, money("USD 120000")), "USD 120K");
        let mut bag = MoneyBag::default();
        bag.add(money("USD 1000"));
        bag.add(money("EUR 500"));
        assert_eq!(money_bag(Locale::En, &bag), "EUR 500.00 + USD 1,000.00");
    }

    #[test]
    fn dates_and_times_per_language() {
        let day: Date = "2026-11-22".parse().unwrap();
        assert_eq!(date(Locale::En, day), "2026-11-22");
        assert_eq!(date(Locale::Ko, day), "2026년 11월 22일");
        let at: Timestamp = "2026-11-22T19:30:00Z".parse().unwrap();
        assert_eq!(timestamp(Locale::En, at, "Asia/Seoul"), "2026-11-23 04:30 KST");
        assert_eq!(timestamp(Locale::Ko, at, "Asia/Seoul"), "2026년 11월 23일 04:30 KST");
        let now = at.plus_seconds(3 * 86_400 + 5);
        assert_eq!(relative(Locale::En, at, now), "3 d ago");
        assert_eq!(relative(Locale::Ko, at, now), "3일 전");
        assert_eq!(relative(Locale::En, at, at.plus_seconds(30)), "just now");
        assert_eq!(relative(Locale::En, at, at.plus_seconds(7_200)), "2 h ago");
    }

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

    #[test]
    fn messages_come_from_the_files() {
        assert_eq!(t(Locale::Ko, "nav.board"), "보드");
        assert_eq!(tf(Locale::En, "login.throttled", &[("minutes", "5")]), "Too many failed sign-ins. Try again in 5 minutes.");
        assert_eq!(tf(Locale::Ko, "login.throttled", &[("minutes", "5")]), "로그인 실패가 너무 많습니다. 5분 후에 다시 시도하세요.");
        // A leading space is written {" "} in the files.
        assert_eq!(tf(Locale::En, "quadrant.activity", &[("count", "3")]), " (3 activities)");
        assert!(has("health_settings.pushed_min.help"));
        assert!(!has("health_settings-pushed_min-help"));
        assert!(!has("no.such.key"));
    }

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

    /// A file the scans below read: Rust without its test module (a key only a test mentions is
    /// not in use), or a template.
    struct Source {
        path: PathBuf,
        text: String,
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
    fn web_sources() -> Vec<Source> {
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

    /// The Rust sources of every crate of the workspace, without their tests, as one text.
    fn workspace_sources() -> String {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&crates).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                files_under(&src, ".rs", &mut files);
            }
        }
        let mut text = String::new();
        for path in &files {
            text.push_str(&read(path));
            text.push('\n');
        }
        text
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
    fn quoted_words<'a>(text: &'a str, words: &mut HashSet<&'a str>) {
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
        missing.sort_unstable();
        assert!(missing.is_empty(), "these look like keys but are in no catalog (if one is no key, teach looks_like_a_key): {missing:?}");
    }

    /// Keys the code builds at run time: the prefix, and the code that builds keys under it. The
    /// code must still be in the sources (or the entry is stale and must go).
    const BUILT: &[(&str, &str)] = &[
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
    ];

    #[test]
    fn every_key_is_used() {
        let sources = web_sources();
        let english = messages(Locale::En);
        for (prefix, code) in BUILT {
            assert!(sources.iter().any(|source| source.text.contains(code)), "no source has {code}: remove {prefix:?} from BUILT");
            assert!(english.keys().any(|key| key.starts_with(prefix)), "no key starts with {prefix:?}: remove it from BUILT");
        }
        let mut written = HashSet::new();
        for source in &sources {
            quoted_words(&source.text, &mut written);
        }
        // `problem` translates core's rules (Problem::Rule) by their English text.
        let workspace = workspace_sources();
        let mut unused: Vec<&str> = english
            .iter()
            .filter(|(key, text)| {
                let built = BUILT.iter().any(|(prefix, _)| key.starts_with(prefix));
                let rule = key.starts_with("rule.") && workspace.contains(&format!("\"{text}\""));
                let used = written.contains(key.as_str()) || built || rule;
                !used
            })
            .map(|(key, _)| key.as_str())
            .collect();
        unused.sort_unstable();
        assert!(unused.is_empty(), "no code or template uses these keys: delete them from every catalog: {unused:?}");
    }

    /// The health messages are exactly the codes' labels and reasons, the levers' advice and
    /// what the code writes out: none missing, none left over under the broad `health.` prefix.
    #[test]
    fn health_messages_match_the_codes() {
        let levers = [Lever::FillTheFunnel, Lever::ConvertWhatYouHave].map(|lever| format!("health.lever.{}", lever.as_str()));
        let built: HashSet<String> = FlagCode::ALL
            .iter()
            .flat_map(|code| [format!("health.{}", code.as_str()), format!("health.reason.{}", code.as_str())])
            .chain(levers)
            .collect();
        for key in &built {
            for locale in LOCALES {
                assert!(messages(locale).contains_key(key), "{key:?} is not in {}", file(locale).0);
            }
        }
        let sources = web_sources();
        let mut written = HashSet::new();
        for source in &sources {
            quoted_words(&source.text, &mut written);
        }
        let mut stray: Vec<&str> = messages(Locale::En)
            .keys()
            .map(String::as_str)
            .filter(|key| key.starts_with("health.") && !built.contains(*key) && !written.contains(key))
            .collect();
        stray.sort_unstable();
        assert!(stray.is_empty(), "no flag, signal or lever has these health messages: {stray:?}");
    }

    /// Every reason reads as the analytics worded it before the catalogs did (golden tests of
    /// pipewise-analytics: the same numbers and stages).
    #[test]
    fn health_reasons_read_as_before() {
        let flag = |code, value, limit, total| Flag { code, stage: Some(1), value, limit, total };
        let (en, ko) = ("2 Problem recognition", "2 비즈니스 과제의 인식");
        let cases = [
            (
                flag(FlagCode::PastCloseDate, 10, 0, 0),
                "The close date passed 10 days ago and the deal is still open.",
                "예상 마감일이 10일 지났는데 거래가 아직 진행 중입니다.",
            ),
            (
                flag(FlagCode::Stale, 89, 45, 0),
                "No stage movement for 89 days in 2 Problem recognition (rotting age 45 days).",
                "'2 비즈니스 과제의 인식' 단계에서 89일째 움직임이 없습니다 (기준 45일).",
            ),
            (
                flag(FlagCode::TeamStalling, 2, 50, 2),
                "2 of 2 reps stall at 2 Problem recognition: a process problem, not a rep problem.",
                "담당자 2명 중 2명이 '2 비즈니스 과제의 인식' 단계에서 정체되어 있습니다: 개인이 아닌 프로세스의 문제입니다.",
            ),
            (
                Flag { stage: None, ..flag(FlagCode::ThinPipeline, 57, 300, 0) },
                "Thin pipeline: coverage is 0.57× against a 3.00× target.",
                "파이프라인이 얇습니다: 커버리지가 목표 3.00배에 못 미치는 0.57배입니다.",
            ),
            (
                flag(FlagCode::Bottleneck, 3, 40, 6),
                "Bottleneck: 3 of 6 open deals (50%) sit in 2 Problem recognition (limit 40%).",
                "병목: 진행 중인 거래 6건 중 3건(50%)이 '2 비즈니스 과제의 인식' 단계에 몰려 있습니다 (기준 40%).",
            ),
            (flag(FlagCode::NoAmount, 0, 0, 0), "The open deal has no amount.", "진행 중인 거래에 금액이 없습니다."),
        ];
        for (flag, english, korean) in cases {
            assert_eq!(flag_reason(Locale::En, &flag, en), english);
            assert_eq!(flag_reason(Locale::Ko, &flag, ko), korean);
        }
        // The golden book's lever: C = 4/7, W = 18/47 by value, against 3×.
        let ratio = |numerator, denominator| pipewise_analytics::Ratio::new(numerator, denominator).unwrap();
        let fill = LeverAdvice {
            lever: Lever::FillTheFunnel,
            coverage: ratio(4, 7),
            win_rate_by_value: Some(ratio(18, 47)),
            coverage_target_pct: 300,
        };
        assert_eq!(
            lever_reason(Locale::En, &fill),
            "Fill the top of the funnel: coverage is 0.57× against a 3.00× target. At the recent win rate of 38.3% by value, the pipeline would close 22% of the remaining quota."
        );
        assert_eq!(
            lever_reason(Locale::Ko, &fill),
            "퍼널 상단을 채우세요: 커버리지가 목표 3.00배에 못 미치는 0.57배입니다. 최근 금액 기준 승률 38.3%로는 남은 할당량의 22%를 달성하게 됩니다."
        );
        let convert =
            LeverAdvice { lever: Lever::ConvertWhatYouHave, coverage: ratio(7, 2), win_rate_by_value: None, coverage_target_pct: 300 };
        assert_eq!(
            lever_reason(Locale::En, &convert),
            "Convert what you have: coverage is 3.50× (target 3.00×); the lever is closing these deals."
        );
        assert_eq!(
            lever_reason(Locale::Ko, &convert),
            "가진 파이프라인을 전환하세요: 커버리지는 3.50배(목표 3.00배)이며, 지금 필요한 것은 이 거래들의 성사입니다."
        );
    }

    #[test]
    fn rules_have_distinct_english_texts() {
        let mut seen = HashSet::new();
        for (key, text) in messages(Locale::En).iter().filter(|(key, _)| key.starts_with("rule.")) {
            assert!(seen.insert(text.as_str()), "{key}: another rule has the same English text, so `problem` cannot tell them apart");
        }
    }
}
