//! Whose figures, and when: the [`Context`] parsed once from the query string, and links that keep it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use pipewise_analytics::projection::Projection;
use pipewise_analytics::{ActivityFacts, DashboardQuery, Day, HealthThresholds, Period, Scope, day_of_date};
use pipewise_app::visibility::{self, Resolved, Subject};
use pipewise_app::{self as app, Tx};
use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use pipewise_core::money::Decimal;
use pipewise_core::records::Team;
use pipewise_core::time::parse_date;
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;

use super::resolve;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};
use crate::pages::data::OrgData;
use crate::pages::{Params, url_with};

/// Trend points by default (weeks), and at most.
const TREND_WEEKS: i32 = 12;
const MAX_TREND_WEEKS: i32 = 52;

/// Where the subject's quota for the period comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaSource {
    /// Set by ops for the subject (the rep, or the team).
    Stored,
    /// The sum of the stored quotas of the subject's `reps` that have one.
    StoredReps { reps: usize },
    /// Typed into the page for the subject.
    Typed,
    /// The quota per rep typed into the page times the subject's `reps`.
    TypedReps { reps: usize },
    /// None stored for the period, none typed.
    Missing,
}

/// Everything a dashboard or a drill-down is computed for, parsed once from the query string.
#[derive(Clone, Debug)]
pub struct Context {
    pub resolved: Resolved,
    pub as_of: Date,
    pub today: Date,
    /// The organisation's fiscal calendar, and the fiscal period shown in it.
    pub calendar: FiscalCalendar,
    pub fiscal: FiscalPeriod,
    pub period: Period,
    pub period_key: String,
    pub pipeline: Option<PipelineId>,
    /// The subject's quota for the period, in reporting minor units.
    pub quota: Option<i64>,
    /// Where `quota` comes from.
    pub quota_source: QuotaSource,
    /// Each rep's quota for the period, in reporting minor units: stored, or the one typed.
    pub rep_quotas: BTreeMap<UserId, i64>,
    /// The quota per rep typed into the page, if any (it replaces the stored ones).
    pub typed_rep_quota: Option<i64>,
    pub weeks: i32,
    /// The organisation's health thresholds (`OrgData::health_thresholds`).
    pub thresholds: HealthThresholds,
    /// Problems with the inputs, shown above the figures.
    pub notes: Vec<String>,
    /// Every rep and group in the leaderboard and the health lists (`?rows=all`), not only the
    /// first [`ROWS_SHOWN`].
    pub every_row: bool,
    /// The quotas as typed (`quota`, `rep_quota`), carried over by the page's own links.
    pub typed_inputs: Vec<(&'static str, String)>,
}

/// Rows a dashboard list shows before "show all" (a head of sales over 2,000 reps would get
/// megabytes of HTML).
pub const ROWS_SHOWN: usize = 50;

fn parse_quota(raw: Option<&str>, currency: Currency, locale: Locale, notes: &mut Vec<String>) -> Option<i64> {
    let raw = raw?;
    let cleaned: String = raw.chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
    match Money::parse_amount(&cleaned, currency) {
        Ok(money) if money.amount() > Decimal::ZERO => i64::try_from(money.amount().mantissa()).ok(),
        _ => {
            notes.push(tf(locale, "dash.bad_quota", &[("value", raw)]));
            None
        }
    }
}

impl Context {
    pub fn parse(
        tx: &mut Tx,
        viewer: &Viewer,
        data: &OrgData,
        teams: &[Team],
        params: &Params,
        now: Timestamp,
    ) -> Result<Context, AppError> {
        let locale = viewer.user.locale;
        let today = viewer.today(now);
        let mut notes = Vec::new();
        let as_of = match params.get("as_of") {
            None => today,
            Some(raw) => match parse_date(raw) {
                Ok(date) if date > today => {
                    notes.push(tf(locale, "dash.future_as_of", &[("date", &i18n::date(locale, today))]));
                    today
                }
                Ok(date) => date,
                Err(_) => {
                    notes.push(tf(locale, "dash.bad_date", &[("value", raw)]));
                    today
                }
            },
        };
        let history = app::users::team_history(tx, viewer.org)?;
        let resolved = resolve(viewer, data, teams, &history, as_of, params)?;
        let calendar = data.organisation.fiscal;
        let as_of_quarter = calendar.period_of(PeriodKind::Quarter, as_of);
        let fiscal = match params.get("period") {
            None => as_of_quarter,
            Some(key) => match calendar.parse_key(key) {
                Err(_) => {
                    notes.push(tf(locale, "dash.bad_period", &[("value", key)]));
                    as_of_quarter
                }
                // Never computed backwards, nor from days the as-of view does not know.
                Ok(period) if period.first > as_of => {
                    notes.push(tf(locale, "dash.period_after_as_of", &[("period", &i18n::period_label(locale, calendar, &period))]));
                    as_of_quarter
                }
                Ok(period) => period,
            },
        };
        let currency = data.organisation.reporting_currency;
        let typed_rep_quota = parse_quota(params.get("rep_quota"), currency, locale, &mut notes);
        let typed_quota = parse_quota(params.get("quota"), currency, locale, &mut notes);
        // The reps of the subject: a rep's own dashboard has one, whatever their role.
        let quota_reps: BTreeSet<UserId> = match &resolved.subject {
            Subject::Rep(user) => [*user].into(),
            _ => data
                .users
                .iter()
                .filter(|user| user.role == Role::Rep && resolved.owners.as_ref().is_none_or(|owners| owners.contains(&user.id)))
                .map(|user| user.id)
                .collect(),
        };
        let book = app::quotas::quota_book(tx, viewer.org, &viewer.access, fiscal.first, fiscal.last)?;
        let minor = |amount: Decimal| Money::new(amount, currency).ok().and_then(|money| i64::try_from(money.amount().mantissa()).ok());
        // A typed quota per rep (on a rep's dashboard, either input) replaces the stored ones.
        let typed_rep_quota = match &resolved.subject {
            Subject::Rep(_) => typed_rep_quota.or(typed_quota),
            _ => typed_rep_quota,
        };
        let rep_quotas: BTreeMap<UserId, i64> = match typed_rep_quota {
            Some(each) => quota_reps.iter().map(|user| (*user, each)).collect(),
            None => quota_reps.iter().filter_map(|user| Some((*user, minor(*book.users.get(user)?)?))).collect(),
        };
        let stored_subject = match &resolved.subject {
            Subject::Rep(user) => book.users.get(user).copied(),
            Subject::Team(team) => book.teams.get(team).copied(),
            Subject::Organisation | Subject::Reports => None,
        };
        let reps_sum = || rep_quotas.values().try_fold(0i64, |sum, quota| sum.checked_add(*quota));
        let (quota, quota_source) = match (&resolved.subject, typed_quota, typed_rep_quota, stored_subject) {
            (Subject::Rep(_), _, Some(each), _) => (Some(each), QuotaSource::Typed),
            (_, Some(quota), _, _) => (Some(quota), QuotaSource::Typed),
            (_, None, Some(_), _) if !rep_quotas.is_empty() => (reps_sum(), QuotaSource::TypedReps { reps: rep_quotas.len() }),
            (_, None, None, Some(stored)) => (minor(stored), QuotaSource::Stored),
            (_, None, None, None) if !rep_quotas.is_empty() => (reps_sum(), QuotaSource::StoredReps { reps: rep_quotas.len() }),
            _ => (None, QuotaSource::Missing),
        };
        let quota_source = if quota.is_some() { quota_source } else { QuotaSource::Missing };
        let pipeline = params.id("pipeline").map(PipelineId).filter(|id| data.pipeline(*id).is_some());
        let weeks = params.get("weeks").and_then(|raw| raw.parse::<i32>().ok()).unwrap_or(TREND_WEEKS).clamp(2, MAX_TREND_WEEKS);
        Ok(Context {
            resolved,
            as_of,
            today,
            calendar,
            period: Period::from(&fiscal),
            period_key: fiscal.key(),
            fiscal,
            pipeline,
            quota,
            quota_source,
            rep_quotas,
            typed_rep_quota,
            weeks,
            thresholds: data.health_thresholds,
            notes,
            every_row: params.get("rows") == Some("all"),
            typed_inputs: ["quota", "rep_quota"].into_iter().map(|name| (name, params.raw(name).trim().to_owned())).collect(),
        })
    }

    /// The period as people say it, in `locale`.
    pub fn period_label(&self, locale: Locale) -> String {
        i18n::period_label(locale, self.calendar, &self.fiscal)
    }

    pub fn as_of_day(&self) -> Day {
        day_of_date(self.as_of)
    }

    /// The analytics scope: the subject's owners (as owner indexes) and the pipeline.
    pub fn scope(&self, projection: &Projection) -> Scope {
        let scope = visibility::scope_of(projection, self.resolved.owners.as_ref());
        match self.pipeline.and_then(|id| projection.pipeline_index(id)) {
            Some(index) => scope.in_pipeline(index),
            None => scope,
        }
    }

    /// The dashboard query; `facts` are the activity facts as of the as-of day from
    /// [`with_projection_as_of`](super::with_projection_as_of) (`None`: the projection's own, today's).
    pub fn query(&self, projection: &Projection, facts: Option<Arc<ActivityFacts>>) -> DashboardQuery {
        let mut query = DashboardQuery::new(self.as_of_day());
        query.thresholds = self.thresholds;
        query.facts = facts;
        query.scope = self.scope(projection);
        query.period = self.period;
        query.quota = self.quota;
        if !self.rep_quotas.is_empty() {
            query.rep_quotas = projection
                .owner_ids
                .iter()
                .enumerate()
                .map(|(owner, user)| self.rep_quotas.get(user).copied().filter(|_| query.scope.admits_owner(owner as u32)))
                .collect();
        }
        query
    }

    /// The query pairs that name this subject and its filters (for links).
    pub(super) fn pairs(&self) -> Vec<(&'static str, String)> {
        let (team, owner) = match &self.resolved.subject {
            Subject::Team(team) => (team.to_string(), String::new()),
            Subject::Rep(user) => (String::new(), user.to_string()),
            Subject::Organisation | Subject::Reports => (String::new(), String::new()),
        };
        vec![
            ("team", team),
            ("owner", owner),
            ("pipeline", self.pipeline.map(|id| id.to_string()).unwrap_or_default()),
            ("period", self.period_key.clone()),
            ("as_of", self.as_of.to_string()),
        ]
    }

    /// The deal list of the deals behind `figure`.
    pub(super) fn drill_href(&self, figure: &str, extra: &[(&'static str, String)]) -> String {
        let mut pairs = vec![("figure", figure.to_owned())];
        pairs.extend(self.pairs());
        pairs.push(("status", "all".to_owned()));
        pairs.extend(extra.iter().cloned());
        url_with("/opportunities", &pairs)
    }

    /// This dashboard with every row of its lists shown, at `anchor` (the typed quotas and
    /// trend weeks carried over).
    pub(super) fn every_row_href(&self, anchor: &str) -> String {
        let mut pairs = self.pairs();
        pairs.extend(self.typed_inputs.iter().cloned());
        pairs.push(("weeks", self.weeks.to_string()));
        pairs.push(("rows", "all".to_owned()));
        format!("{}#{anchor}", url_with("/dashboard", &pairs))
    }

    /// This dashboard for another subject (the quota inputs carried over).
    pub(super) fn dashboard_href(&self, subject: &[(&'static str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = subject.to_vec();
        pairs.extend(self.pairs().into_iter().filter(|(key, _)| !matches!(*key, "team" | "owner")));
        // The per-rep quota as typed (it was written in minor units, a hundred times too much).
        pairs.extend(self.typed_inputs.iter().filter(|(name, _)| *name == "rep_quota").cloned());
        url_with("/dashboard", &pairs)
    }

    pub(super) fn subject_name(&self, locale: Locale, data: &OrgData, teams: &[Team]) -> String {
        match &self.resolved.subject {
            Subject::Organisation => data.organisation.name.clone(),
            Subject::Team(id) => teams.iter().find(|team| team.id == *id).map_or_else(|| format!("#{id}"), |team| team.name.clone()),
            Subject::Rep(id) => data.user_name(*id),
            Subject::Reports => t(locale, "dash.my_reports").to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use pipewise_core::fiscal::FiscalCalendar;

    use super::*;

    #[test]
    fn periods_are_worded_in_the_organisations_calendar() {
        let q2 = FiscalCalendar::CALENDAR_YEAR.parse_key("2026-Q2").unwrap();
        assert_eq!(i18n::period_label(Locale::Ko, FiscalCalendar::CALENDAR_YEAR, &q2), "2026년 2분기");
        assert_eq!(i18n::period_label(Locale::En, FiscalCalendar::CALENDAR_YEAR, &q2), "Q2 2026");
        let april = FiscalCalendar::new(4).unwrap();
        let q1 = april.parse_key("2027-Q1").unwrap();
        assert_eq!((q1.first.to_string(), q1.last.to_string()), ("2026-04-01".into(), "2026-06-30".into()));
        assert_eq!(i18n::period_label(Locale::En, april, &q1), "Q1 FY2027");
        assert_eq!(i18n::period_label(Locale::Ko, april, &q1), "2027 회계연도 1분기");
        let june = april.parse_key("2027-M03").unwrap();
        assert_eq!(i18n::period_label(Locale::En, april, &june), "June 2026");
        assert_eq!(i18n::period_label(Locale::Ko, april, &june), "2026년 6월");
    }
}
