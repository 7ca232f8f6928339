//! Day arithmetic for the generator: days since the Unix epoch, weekdays, and instants placed in
//! a person's working hours. Pure integer arithmetic, so it is fast and exact.

use pipewise_core::{Date, Timestamp};

use crate::rng::Rng;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const SECONDS_PER_DAY: i64 = 86_400;
pub const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

/// Whole days since 1970-01-01 (UTC) of the day holding `at`.
pub fn day_of(at: Timestamp) -> i64 {
    at.as_micros().div_euclid(MICROS_PER_DAY)
}

/// Midnight UTC starting `day`.
pub fn start_of(day: i64) -> Timestamp {
    Timestamp::from_micros(day * MICROS_PER_DAY)
}

pub fn date_of_day(day: i64) -> Date {
    start_of(day).date_utc()
}

pub fn day_of_date(date: Date) -> i64 {
    day_of(Timestamp::start_of_day(date))
}

/// 0 for Monday … 6 for Sunday. 1970-01-01 was a Thursday.
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Moves a Saturday or Sunday to the following Monday.
pub fn next_workday(day: i64) -> i64 {
    match weekday(day) {
        5 => day + 2,
        6 => day + 1,
        _ => day,
    }
}

/// `days` later, as an instant.
pub fn plus_days(at: Timestamp, days: f64) -> Timestamp {
    Timestamp::from_micros(at.as_micros() + (days * MICROS_PER_DAY as f64) as i64)
}

/// Days from `from` to `to` (fractional).
pub fn days_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_micros() - from.as_micros()) as f64 / MICROS_PER_DAY as f64
}

/// An instant on the local working day `day` (moved off weekends) between 08:00 and 18:59 in a
/// zone `utc_offset_hours` from UTC, to the minute.
pub fn working_time(rng: &mut Rng, day: i64, utc_offset_hours: i64) -> Timestamp {
    let day = next_workday(day);
    let local_minute = rng.between(8 * 60, 18 * 60 + 59);
    let seconds = day * SECONDS_PER_DAY + (local_minute - utc_offset_hours * 60) * 60;
    Timestamp::from_micros(seconds * MICROS_PER_SECOND)
}

/// A working-hours instant in the working day holding `at` (or the next one), no earlier than
/// `at` itself when that is already within working hours; used to snap a raw instant.
pub fn snap_to_working_time(rng: &mut Rng, at: Timestamp, utc_offset_hours: i64) -> Timestamp {
    let local = at.plus_seconds(utc_offset_hours * 3600);
    let candidate = working_time(rng, day_of(local), utc_offset_hours);
    candidate.max(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_weekdays() {
        let at: Timestamp = "2026-11-22T19:30:00Z".parse().unwrap();
        let day = day_of(at);
        assert_eq!(date_of_day(day).to_string(), "2026-11-22");
        assert_eq!(day_of_date("2026-11-22".parse().unwrap()), day);
        // 2026-11-22 is a Sunday.
        assert_eq!(weekday(day), 6);
        assert_eq!(date_of_day(next_workday(day)).to_string(), "2026-11-23");
        assert_eq!(weekday(day_of("1970-01-01T00:00:00Z".parse().unwrap())), 3);
        assert_eq!(day_of("1969-12-31T23:59:59Z".parse().unwrap()), -1);
    }

    #[test]
    fn working_time_is_in_local_office_hours() {
        let mut rng = Rng::new(5);
        let day = day_of("2026-11-20T00:00:00Z".parse().unwrap()); // a Friday
        for _ in 0..200 {
            let seoul = working_time(&mut rng, day, 9);
            let shown = seoul.display_in("Asia/Seoul");
            assert!(shown.starts_with("2026-11-20 "), "{shown}");
            let hour: i64 = shown[11..13].parse().unwrap();
            assert!((8..19).contains(&hour), "{shown}");
        }
        let saturday = day + 1;
        assert!(working_time(&mut rng, saturday, 0).display_in("UTC").starts_with("2026-11-23 "));
    }
}
