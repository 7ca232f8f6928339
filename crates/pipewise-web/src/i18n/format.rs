//! Numbers, money, dates, times and how long ago, written in each language.

use pipewise_core::money::{Decimal, MoneyBag};
use pipewise_core::{Date, Money, Timestamp};

use super::{Locale, t, tf};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
