//! The dashboard page's serialisable view (what `dashboard.html` reads) and the small helpers that word its figures.

use pipewise_analytics::health::Flag;
use pipewise_analytics::projection::Projection;
use pipewise_analytics::{FlagCode, Ratio};
use pipewise_core::money::Decimal;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use crate::i18n::{self, t, tf};
use crate::pages::list::Choice;

#[derive(Serialize)]
pub(super) struct Tile {
    pub(super) key: &'static str,
    pub(super) label: String,
    pub(super) value: String,
    pub(super) detail: String,
    pub(super) title: String,
    pub(super) href: Option<String>,
    /// Secondary links: (text, href).
    pub(super) links: Vec<(String, String)>,
}

#[derive(Serialize)]
pub(super) struct StageRow {
    pub(super) name: String,
    pub(super) count: String,
    pub(super) amount: String,
    pub(super) weighted: String,
    pub(super) share: String,
    pub(super) href: String,
}

#[derive(Serialize)]
pub(super) struct WaterfallRow {
    pub(super) key: &'static str,
    pub(super) label: String,
    pub(super) count: String,
    pub(super) amount: String,
    /// `total`, `up`, `down` or `flat`.
    pub(super) kind: &'static str,
    pub(super) href: String,
}

#[derive(Serialize)]
pub(super) struct TrendRow {
    pub(super) date: String,
    pub(super) pipeline: String,
    pub(super) weighted: String,
    pub(super) win_rate: String,
}

#[derive(Serialize)]
pub(super) struct FlagView {
    pub(super) code: &'static str,
    pub(super) label: String,
    pub(super) reason: String,
    pub(super) healthy: bool,
}

#[derive(Serialize)]
pub(super) struct CountView {
    pub(super) code: &'static str,
    pub(super) label: String,
    pub(super) count: String,
    pub(super) healthy: bool,
    pub(super) href: String,
}

#[derive(Serialize)]
pub(super) struct GroupView {
    pub(super) name: String,
    pub(super) href: Option<String>,
    pub(super) flags: Vec<FlagView>,
}

#[derive(Serialize)]
pub(super) struct DealFlags {
    pub(super) name: String,
    pub(super) href: String,
    pub(super) owner: String,
    pub(super) amount: String,
    pub(super) flags: Vec<FlagView>,
}

#[derive(Serialize)]
pub(super) struct LeverView {
    pub(super) kind: &'static str,
    pub(super) title: String,
    pub(super) reason: String,
}

#[derive(Serialize)]
pub(super) struct LeaderRow {
    pub(super) rank: usize,
    pub(super) name: String,
    pub(super) href: String,
    pub(super) won: String,
    pub(super) won_count: String,
    pub(super) won_href: String,
    pub(super) attainment: String,
    pub(super) pipeline: String,
    pub(super) pipeline_href: String,
    pub(super) win_rate: String,
    pub(super) cycle: String,
}

#[derive(Serialize)]
pub(super) struct Assets {
    pub(super) uplot_js: String,
    pub(super) uplot_css: String,
    pub(super) dashboard_js: String,
    pub(super) dashboard_css: String,
}

#[derive(Serialize)]
pub(super) struct FilterView {
    pub(super) pipelines: Vec<Choice>,
    pub(super) pipeline: String,
    pub(super) periods: Vec<Choice>,
    pub(super) period: String,
    pub(super) as_of: String,
    pub(super) today: String,
    pub(super) quota: String,
    pub(super) rep_quota: String,
    pub(super) weeks: String,
    pub(super) team: String,
    pub(super) owner: String,
    /// The subject picker: (group label, choices).
    pub(super) views: Vec<(String, Vec<Choice>)>,
    /// The reps' group holds only the rep shown; a search box finds the others.
    pub(super) rep_picker: bool,
    pub(super) view: String,
}

#[derive(Serialize)]
pub(super) struct DashboardView {
    pub(super) heading: String,
    pub(super) subtitle: String,
    pub(super) notes: Vec<String>,
    pub(super) quota_note: String,
    pub(super) filters: FilterView,
    pub(super) tiles: Vec<Tile>,
    pub(super) lever: Option<LeverView>,
    /// Why there is no lever: no quota given, or nothing left to win.
    pub(super) lever_missing: String,
    pub(super) stages: Vec<StageRow>,
    pub(super) stage_total: StageRow,
    pub(super) spread: Option<FlagView>,
    /// What the pipeline leaves out as forecast Omitted, when anything.
    pub(super) omitted_note: Option<String>,
    pub(super) waterfall: Vec<WaterfallRow>,
    pub(super) waterfall_span: String,
    pub(super) reconciles: String,
    pub(super) reconciled: bool,
    pub(super) trend: Vec<TrendRow>,
    pub(super) trend_caption: String,
    pub(super) health_title: String,
    pub(super) health_flags: Vec<FlagView>,
    pub(super) health_signals: Vec<FlagView>,
    pub(super) deal_counts: Vec<CountView>,
    pub(super) team_stalls: Vec<GroupView>,
    pub(super) rep_stalls: Vec<GroupView>,
    pub(super) groups: Vec<GroupView>,
    pub(super) flagged: Vec<DealFlags>,
    pub(super) leaderboard: Vec<LeaderRow>,
    /// "Show all N" and its address, when the leaderboard, the stalls or the groups were cut
    /// to their first rows.
    pub(super) more_leaders: Option<(String, String)>,
    pub(super) more_stalls: Option<(String, String)>,
    pub(super) more_groups: Option<(String, String)>,
    /// How many groups need attention in all (the list may show the first ones).
    pub(super) groups_total: usize,
    pub(super) show_attainment: bool,
    pub(super) charts: serde_json::Value,
    pub(super) assets: Assets,
}

/// Reporting minor units as money.
pub(super) fn money_of(minor: i128, currency: Currency) -> Money {
    let amount = Decimal::try_from_i128_with_scale(minor, u32::from(currency.minor_units())).unwrap_or(Decimal::MAX);
    Money::new(amount, currency).unwrap_or_else(|_| Money::zero(currency))
}

/// Major units as a float, for charts only.
pub(super) fn chart_amount(minor: i128, currency: Currency) -> f64 {
    minor as f64 / 10f64.powi(i32::from(currency.minor_units()))
}

pub(super) fn percent_text(ratio: Option<Ratio>) -> String {
    ratio.map_or_else(|| "—".to_owned(), |ratio| format!("{}%", ratio.percent(1)))
}

pub(super) fn days_text(locale: Locale, ratio: Option<Ratio>) -> String {
    ratio.map_or_else(|| "—".to_owned(), |ratio| tf(locale, "dash.days", &[("days", &ratio.round(1).to_string())]))
}

pub(super) fn count_text(count: impl ToString) -> String {
    i18n::group(count.to_string().parse::<i64>().unwrap_or(0))
}

pub fn flag_label(locale: Locale, code: FlagCode) -> String {
    t(locale, &format!("health.{}", code.as_str())).to_owned()
}

pub(super) fn flag_view(locale: Locale, projection: &Projection, flag: &Flag) -> FlagView {
    FlagView {
        code: flag.code.as_str(),
        label: flag_label(locale, flag.code),
        reason: i18n::health_reason(locale, projection, flag),
        healthy: flag.code.is_healthy(),
    }
}

pub(super) fn stage_label(locale: Locale, projection: &Projection, stage: u16, with_pipeline: bool) -> String {
    let info = &projection.stages[stage as usize];
    let name = match locale {
        Locale::Ko if !info.name_ko.trim().is_empty() => info.name_ko.clone(),
        _ => info.name_en.clone(),
    };
    if with_pipeline { format!("{} · {name}", projection.pipelines[info.pipeline as usize].name) } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_from_minor_units() {
        assert_eq!(i18n::money(Locale::En, money_of(1_234_567, Currency::USD)), "USD 12,345.67");
        assert_eq!(i18n::money(Locale::Ko, money_of(-500, Currency::USD)), "USD -5.00");
        assert_eq!(chart_amount(1_234_567, Currency::USD), 12_345.67);
    }
}
