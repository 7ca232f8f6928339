//! Whose figures, and when: the [`Context`] parsed once from the query string, and links that keep it.

use std::collections::BTreeSet;
use std::sync::Arc;

use pipewise_analytics::projection::Projection;
use pipewise_analytics::{ActivityFacts, DashboardQuery, Day, HealthThresholds, Period, Scope, date_of_day, day_of_date};
use pipewise_app::visibility::{self, Resolved, Subject};
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

/// Everything a dashboard or a drill-down is computed for, parsed once from the query string.
#[derive(Clone, Debug)]
pub struct Context {
    pub resolved: Resolved,
    pub as_of: Date,
    pub today: Date,
    pub period: Period,
    pub period_key: String,
    pub pipeline: Option<PipelineId>,
    /// The subject's quota for the period, in reporting minor units.
    pub quota: Option<i64>,
    pub rep_quota: Option<i64>,
    /// Who `rep_quota` applies to: the reps of the subject.
    pub quota_reps: BTreeSet<UserId>,
    /// Whether `quota` was derived from `rep_quota` × reps.
    pub quota_derived: bool,
    pub weeks: i32,
    /// The organisation's health thresholds (`OrgData::health_thresholds`).
    pub thresholds: HealthThresholds,
    /// Problems with the inputs, shown above the figures.
    pub notes: Vec<String>,
}

pub(super) fn quarter_key(period: Period) -> String {
    let first = date_of_day(period.first);
    format!("{}-Q{}", first.year(), (first.month() - 1) / 3 + 1)
}

fn parse_quarter(key: &str) -> Option<Period> {
    let (year, quarter) = key.split_once("-Q")?;
    let (year, quarter): (i16, i8) = (year.parse().ok()?, quarter.parse().ok()?);
    if !(1..=4).contains(&quarter) || !(1900..=2200).contains(&year) {
        return None;
    }
    let first = Date::new(year, (quarter - 1) * 3 + 1, 1).ok()?;
    Some(Period::quarter_of(day_of_date(first)))
}

pub(super) fn quarter_label(locale: Locale, period: Period) -> String {
    let first = date_of_day(period.first);
    let quarter = ((first.month() - 1) / 3 + 1).to_string();
    tf(locale, "dash.quarter", &[("year", &first.year().to_string()), ("quarter", &quarter)])
}

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
    pub fn parse(viewer: &Viewer, data: &OrgData, teams: &[Team], params: &Params, now: Timestamp) -> Result<Context, AppError> {
        let locale = viewer.user.locale;
        let resolved = resolve(viewer, data, teams, params)?;
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
        let as_of_day = day_of_date(as_of);
        let period = match params.get("period") {
            None => Period::quarter_of(as_of_day),
            Some(key) => match parse_quarter(key) {
                None => {
                    notes.push(tf(locale, "dash.bad_period", &[("value", key)]));
                    Period::quarter_of(as_of_day)
                }
                // Never computed backwards, nor from days the as-of view does not know.
                Some(period) if period.first > as_of_day => {
                    notes.push(tf(locale, "dash.period_after_as_of", &[("period", &quarter_label(locale, period))]));
                    Period::quarter_of(as_of_day)
                }
                Some(period) => period,
            },
        };
        let currency = data.organisation.reporting_currency;
        let rep_quota = parse_quota(params.get("rep_quota"), currency, locale, &mut notes);
        let mut quota = parse_quota(params.get("quota"), currency, locale, &mut notes);
        // Quotas per rep go to users with the rep role in the subject; a rep's own dashboard
        // takes either input as their quota.
        let quota_reps: BTreeSet<UserId> = match &resolved.subject {
            Subject::Rep(user) => [*user].into(),
            _ => data
                .users
                .iter()
                .filter(|user| user.role == Role::Rep && resolved.owners.as_ref().is_none_or(|owners| owners.contains(&user.id)))
                .map(|user| user.id)
                .collect(),
        };
        let rep_quota = match &resolved.subject {
            Subject::Rep(_) => rep_quota.or(quota),
            _ => rep_quota,
        };
        let mut quota_derived = false;
        if quota.is_none()
            && let Some(each) = rep_quota
            && !quota_reps.is_empty()
        {
            quota = each.checked_mul(quota_reps.len() as i64);
            quota_derived = !matches!(resolved.subject, Subject::Rep(_));
        }
        let pipeline = params.id("pipeline").map(PipelineId).filter(|id| data.pipeline(*id).is_some());
        let weeks = params.get("weeks").and_then(|raw| raw.parse::<i32>().ok()).unwrap_or(TREND_WEEKS).clamp(2, MAX_TREND_WEEKS);
        Ok(Context {
            resolved,
            as_of,
            today,
            period,
            period_key: quarter_key(period),
            pipeline,
            quota,
            rep_quota,
            quota_reps,
            quota_derived,
            weeks,
            thresholds: data.health_thresholds,
            notes,
        })
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
        if let Some(each) = self.rep_quota {
            query.rep_quotas = projection
                .owner_ids
                .iter()
                .enumerate()
                .map(|(owner, user)| (query.scope.admits_owner(owner as u32) && self.quota_reps.contains(user)).then_some(each))
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

    /// This dashboard for another subject (the quota inputs carried over).
    pub(super) fn dashboard_href(&self, subject: &[(&'static str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = subject.to_vec();
        pairs.extend(self.pairs().into_iter().filter(|(key, _)| !matches!(*key, "team" | "owner")));
        pairs.push(("rep_quota", self.rep_quota.map(|quota| quota.to_string()).unwrap_or_default()));
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
    use super::*;

    #[test]
    fn quarters_round_trip() {
        let period = parse_quarter("2026-Q2").unwrap();
        assert_eq!(
            (date_of_day(period.first).to_string(), date_of_day(period.last).to_string()),
            ("2026-04-01".into(), "2026-06-30".into())
        );
        assert_eq!(quarter_key(period), "2026-Q2");
        assert_eq!(parse_quarter("2026-Q5"), None);
        assert_eq!(parse_quarter("junk"), None);
        assert_eq!(quarter_label(Locale::Ko, period), "2026년 2분기");
        assert_eq!(quarter_label(Locale::En, period), "Q2 2026");
    }
}
