//! The forecast page's band over time: the as-of days of its points and the SVG drawn from them.

use pipewise_analytics::{Day, date_of_day};
use pipewise_app::forecast::Forecast;
use serde::Serialize;

use crate::i18n;

/// Points of the chart at most.
pub(super) const MAX_POINTS: i32 = 14;

#[derive(Serialize)]
pub(super) struct Point {
    date: String,
    low: String,
    median: String,
    high: String,
    won: String,
}

#[derive(Serialize)]
pub(super) struct Chart {
    /// SVG path data.
    band: String,
    median: String,
    won: String,
    quota_y: Option<f64>,
    /// Horizontal grid lines: (y, amount).
    ticks: Vec<(f64, String)>,
    width: u32,
    height: u32,
    first: String,
    last: String,
    top: String,
    points: Vec<Point>,
}

/// The as-of days of the chart: the period's eve, then every week (or a longer step, so that
/// there are at most [`MAX_POINTS`]), and the as-of day itself.
pub(super) fn chart_days(first: Day, last: Day, as_of: Day) -> Vec<Day> {
    let start = first - 1;
    let end = as_of.min(last);
    let span = (end - start).max(0);
    let step = (span as u32).div_ceil((MAX_POINTS - 1) as u32).max(7) as Day;
    let mut days: Vec<Day> = (0..).map(|k| start + k * step).take_while(|day| *day < end).collect();
    days.push(end);
    days
}

/// The band over time: x from the period's eve to its last day, y from 0 to the highest of the
/// P90s, the quota and what was won.
pub(super) fn draw(
    history: &[(Day, std::sync::Arc<Forecast>)],
    quota: Option<i64>,
    first: Day,
    last: Day,
    money: &dyn Fn(i64) -> String,
    compact: &dyn Fn(i64) -> String,
    locale: pipewise_core::user::Locale,
) -> Chart {
    const WIDTH: u32 = 720;
    const HEIGHT: u32 = 240;
    const PAD: f64 = 8.0;
    let high = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[2]);
    let low = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[0]);
    let median = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[1]);
    let top = history.iter().map(|(_, forecast)| high(forecast).max(forecast.won)).chain(quota).max().unwrap_or(0).max(1);
    let top = top as f64 * 1.08;
    let x = |day: Day| PAD + (f64::from(day - first) / f64::from((last - first).max(1))) * (f64::from(WIDTH) - 2.0 * PAD);
    let y = |amount: i64| f64::from(HEIGHT) - PAD - (amount as f64 / top) * (f64::from(HEIGHT) - 2.0 * PAD);
    let line = |pick: &dyn Fn(&Forecast) -> i64| {
        history
            .iter()
            .enumerate()
            .map(|(k, (day, forecast))| format!("{}{:.1},{:.1}", if k == 0 { "M" } else { "L" }, x(*day), y(pick(forecast))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let band = if history.iter().all(|(_, forecast)| forecast.range.is_some()) && !history.is_empty() {
        let upper = history.iter().map(|(day, forecast)| format!("{:.1},{:.1}", x(*day), y(high(forecast))));
        let lower = history.iter().rev().map(|(day, forecast)| format!("{:.1},{:.1}", x(*day), y(low(forecast))));
        format!("M{} Z", upper.chain(lower).collect::<Vec<_>>().join(" L"))
    } else {
        String::new()
    };
    Chart {
        band,
        median: line(&median),
        won: line(&|forecast: &Forecast| forecast.won),
        quota_y: quota.map(|quota| (y(quota) * 10.0).round() / 10.0),
        ticks: (1..=3)
            .map(|k| {
                let amount = (top * f64::from(k) / 4.0) as i64;
                ((y(amount) * 10.0).round() / 10.0, compact(amount))
            })
            .collect(),
        width: WIDTH,
        height: HEIGHT,
        first: i18n::date(locale, date_of_day(first + 1)),
        last: i18n::date(locale, date_of_day(last)),
        top: money(top as i64),
        points: history
            .iter()
            .map(|(day, forecast)| Point {
                date: i18n::date(locale, date_of_day(*day)),
                low: money(low(forecast)),
                median: money(median(forecast)),
                high: money(high(forecast)),
                won: money(forecast.won),
            })
            .collect(),
    }
}
