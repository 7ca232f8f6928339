//! Cells read into values the way exports write them: dates in ISO, US, European and Korean
//! order, times after a date, amounts with grouping, a currency symbol or an ISO code.

use pipewise_core::Date;
use pipewise_core::error::Problem;
use pipewise_core::money::{Currency, Money};

/// How a date with the year last is read: `3/1/2017` is 1 March in the US (Salesforce's and
/// HubSpot's default export) and 3 January in most of the world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateOrder {
    #[default]
    MonthFirst,
    DayFirst,
}

/// A day and, when the export gave one, the time of day in seconds (the organisation's local
/// time: exports write local times without an offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub date: Date,
    pub seconds: Option<u32>,
}

fn not_a(value: &str, expected: &'static str) -> Problem {
    Problem::Invalid { value: value.to_owned(), expected }
}

/// `2017-03-01`, `2017/03/01`, `2017. 3. 1.`, or with the year last in `order`
/// (`3/1/2017`, `01.03.2017`, `1-3-2017`). Years 1900 to 2200; two-digit years are refused.
pub fn date(raw: &str, order: DateOrder) -> Result<Date, Problem> {
    let trimmed = raw.trim().trim_end_matches('.');
    let parts: Vec<&str> = trimmed.split(['-', '/', '.']).map(str::trim).collect();
    let number = |part: &str| {
        (!part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse::<i16>().ok()).flatten()
    };
    let expected = match order {
        DateOrder::MonthFirst => "a date (YYYY-MM-DD or M/D/YYYY)",
        DateOrder::DayFirst => "a date (YYYY-MM-DD or D/M/YYYY)",
    };
    let [a, b, c] = parts.as_slice() else { return Err(not_a(raw, expected)) };
    let (year, month, day) = match (number(a), number(b), number(c)) {
        (Some(year), Some(month), Some(day)) if a.len() == 4 => (year, month, day),
        (Some(first), Some(second), Some(year)) if c.len() == 4 => match order {
            DateOrder::MonthFirst => (year, first, second),
            DateOrder::DayFirst => (year, second, first),
        },
        _ => return Err(not_a(raw, expected)),
    };
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else { return Err(not_a(raw, expected)) };
    let date = Date::new(year, month, day).map_err(|_| not_a(raw, expected))?;
    if !(1900..=2200).contains(&year) {
        return Err(Problem::OutOfRange { value: trimmed.to_owned(), range: "years 1900 to 2200" });
    }
    Ok(date)
}

/// A date, optionally followed by a time (`2017-03-01 14:05`, `2017-03-01T14:05:09`,
/// `3/1/2017 2:05 PM`). An offset or `Z` after the time is refused: say which zone instead.
pub fn moment(raw: &str, order: DateOrder) -> Result<Moment, Problem> {
    let trimmed = raw.trim();
    let split = trimmed.find(['T', ' ']).filter(|at| trimmed[..*at].bytes().any(|b| b.is_ascii_digit()));
    let Some(at) = split.filter(|at| !trimmed[..*at].ends_with('.')) else {
        return Ok(Moment { date: date(trimmed, order)?, seconds: None });
    };
    let date = date(&trimmed[..at], order)?;
    let expected = "a date and time (YYYY-MM-DD HH:MM[:SS], local time)";
    let rest = trimmed[at + 1..].trim();
    let (clock, meridiem) = match rest.rsplit_once(' ') {
        Some((clock, m)) if m.eq_ignore_ascii_case("am") || m.eq_ignore_ascii_case("pm") => {
            (clock.trim(), Some(m.eq_ignore_ascii_case("pm")))
        }
        _ => (rest, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let number = |part: &str| (part.len() == 2 || part.len() == 1).then(|| part.parse::<u32>().ok()).flatten();
    let (hour, minute, second) = match fields.as_slice() {
        [h, m] => (number(h), number(m), Some(0)),
        [h, m, s] => (number(h), number(m), number(s)),
        _ => (None, None, None),
    };
    let (Some(mut hour), Some(minute), Some(second)) = (hour, minute, second) else { return Err(not_a(raw, expected)) };
    if let Some(pm) = meridiem {
        if !(1..=12).contains(&hour) {
            return Err(not_a(raw, expected));
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(not_a(raw, expected));
    }
    Ok(Moment { date, seconds: Some(hour * 3600 + minute * 60 + second) })
}

/// Currency symbols an export may put before an amount, and the currency each one means when the
/// file does not say otherwise. `$` is read as the row's currency (it names a dozen).
const SYMBOLS: [(char, Option<&str>); 6] =
    [('$', None), ('€', Some("EUR")), ('£', Some("GBP")), ('₩', Some("KRW")), ('¥', Some("JPY")), ('￦', Some("KRW"))];

/// An amount in `currency`: `1054`, `1,054.50`, `$1,054.50`, `USD 1,054.50`, `1 054,50 €` is
/// refused (a comma as the decimal mark is ambiguous with grouping). A symbol or code naming
/// another currency than `currency` is a problem, never a silent conversion.
pub fn amount(raw: &str, currency: Currency) -> Result<Money, Problem> {
    let invalid = || not_a(raw, "an amount (digits, optionally grouped by commas, with a point for decimals)");
    let mut text = raw.trim();
    let mut named: Option<&str> = None;
    for (symbol, code) in SYMBOLS {
        if let Some(rest) = text.strip_prefix(symbol).or_else(|| text.strip_suffix(symbol)) {
            text = rest.trim();
            named = code;
            break;
        }
    }
    fn code(part: Option<&str>) -> Option<&str> {
        part.filter(|part| part.bytes().all(|b| b.is_ascii_uppercase()))
    }
    if let (Some(head), Some(tail)) = (code(text.get(..3)), text.get(3..).filter(|tail| tail.starts_with(' '))) {
        named = Some(head);
        text = tail.trim();
    } else if let (Some(body), Some(tail)) = (
        text.len().checked_sub(3).and_then(|at| text.get(..at)).filter(|body| body.ends_with(' ')),
        code(text.len().checked_sub(3).and_then(|at| text.get(at..))),
    ) {
        named = Some(tail);
        text = body.trim();
    }
    if let Some(code) = named
        && code != currency.code()
    {
        return Err(Problem::Invalid { value: raw.to_owned(), expected: "an amount in the row's currency" });
    }
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (text, None),
    };
    let digits = integer.strip_prefix('-').unwrap_or(integer);
    let grouped = digits.contains(',');
    let well_grouped = !grouped || {
        let groups: Vec<&str> = digits.split(',').collect();
        (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|group| group.len() == 3)
    };
    if digits.is_empty() || !well_grouped || !digits.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err(invalid());
    }
    if fraction.is_some_and(|fraction| fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid());
    }
    let mut plain = integer.replace(',', "");
    if let Some(fraction) = fraction {
        plain.push('.');
        plain.push_str(fraction);
    }
    Money::parse_amount(&plain, currency)
}

/// A whole number such as an employee count: `2822`, `2,822`; a range (`201-500`, HubSpot's
/// size bands) reads as its lower bound.
pub fn count(raw: &str) -> Result<i64, Problem> {
    let text = raw.trim();
    let lower = text.split_once('-').map_or(text, |(lower, _)| lower.trim()).trim_end_matches('+');
    let digits = lower.replace(',', "");
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a(raw, "a whole number"));
    }
    digits.parse().map_err(|_| not_a(raw, "a whole number"))
}

/// The domain of a website cell: `https://www.acme-robotics.com/about` → `acme-robotics.com`.
pub fn domain(raw: &str) -> Result<String, Problem> {
    let text = raw.trim();
    let without_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = without_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let host = host.split(':').next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    pipewise_core::text::domain(host).map_err(|_| not_a(raw, "a website or domain"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    #[test]
    fn dates_in_every_order_an_export_writes() {
        let day = |raw, order| date(raw, order).map(|date| date.to_string());
        assert_eq!(day("2017-03-01", DateOrder::MonthFirst).unwrap(), "2017-03-01");
        assert_eq!(day("2017/3/1", DateOrder::DayFirst).unwrap(), "2017-03-01");
        assert_eq!(day("2017. 3. 1.", DateOrder::MonthFirst).unwrap(), "2017-03-01");
        assert_eq!(day("3/1/2017", DateOrder::MonthFirst).unwrap(), "2017-03-01");
        assert_eq!(day("3/1/2017", DateOrder::DayFirst).unwrap(), "2017-01-03");
        assert_eq!(day("01.03.2017", DateOrder::DayFirst).unwrap(), "2017-03-01");
        for bad in ["", "3/1/17", "2017-02-30", "13/13/2017", "tomorrow", "2017-03", "1/2/3/2017", "99999-1-1"] {
            assert!(date(bad, DateOrder::MonthFirst).is_err(), "{bad}");
        }
        assert!(matches!(date("1/1/1850", DateOrder::MonthFirst), Err(Problem::OutOfRange { .. })));
    }

    #[test]
    fn moments_keep_the_time_of_day_when_there_is_one() {
        let at = |raw| moment(raw, DateOrder::MonthFirst).map(|m| (m.date.to_string(), m.seconds));
        assert_eq!(at("2017-03-01").unwrap(), ("2017-03-01".into(), None));
        assert_eq!(at("2017-03-01 14:05:09").unwrap(), ("2017-03-01".into(), Some(50_709)));
        assert_eq!(at("2017-03-01T14:05").unwrap(), ("2017-03-01".into(), Some(50_700)));
        assert_eq!(at("3/1/2017 2:05 PM").unwrap(), ("2017-03-01".into(), Some(50_700)));
        assert_eq!(at("3/1/2017 12:00 AM").unwrap(), ("2017-03-01".into(), Some(0)));
        assert_eq!(at("2017. 3. 1.").unwrap(), ("2017-03-01".into(), None));
        for bad in ["2017-03-01 25:00", "2017-03-01T14:05:09Z", "2017-03-01 14:05+09:00", "2017-03-01 13:00 PM"] {
            assert!(moment(bad, DateOrder::MonthFirst).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_with_grouping_symbols_and_codes() {
        let value = |raw| amount(raw, usd()).map(|money| money.amount().to_string());
        assert_eq!(value("1054").unwrap(), "1054.00");
        assert_eq!(value("1,054.5").unwrap(), "1054.50");
        assert_eq!(value("$1,054.50").unwrap(), "1054.50");
        assert_eq!(value("USD 12,345,678").unwrap(), "12345678.00");
        assert_eq!(value("99 USD").unwrap(), "99.00");
        assert_eq!(value("0").unwrap(), "0.00");
        for bad in ["", "1,05", "1.054,50", "EUR 10", "€10", "1.005", "12a", "1,,000", ".5", "5."] {
            assert!(amount(bad, usd()).is_err(), "{bad}");
        }
        let won = Currency::from_code("KRW").unwrap();
        assert_eq!(amount("₩1,500,000", won).unwrap().amount().to_string(), "1500000");
    }

    #[test]
    fn counts_and_domains() {
        assert_eq!(count("2,822").unwrap(), 2822);
        assert_eq!(count("201-500").unwrap(), 201);
        assert_eq!(count("10000+").unwrap(), 10_000);
        assert!(count("many").is_err());
        assert_eq!(domain("https://www.acme-robotics.com/").unwrap(), "acme-robotics.com");
        assert_eq!(domain("Acme-Robotics.com").unwrap(), "acme-robotics.com");
        assert!(domain("not a site").is_err());
    }
}
