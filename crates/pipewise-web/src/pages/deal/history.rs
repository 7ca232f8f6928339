//! The deal's history timeline (one entry per write, newest first, with gate overrides and
//! their reasons) and the "as of" view of a past day.

use pipewise_app as app;
use pipewise_app::{StoredOverride, Tx};
use pipewise_core::history::HistoryEvent;
use pipewise_core::opportunity::{OppField, Opportunity};
use pipewise_core::time::parse_date;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::DealCtx;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};
use crate::pages::data::{OrgData, label};

#[derive(Serialize)]
struct ChangeView {
    field: String,
    old: Option<String>,
    new: Option<String>,
}

#[derive(Serialize)]
pub(super) struct HistoryView {
    when: String,
    relative: String,
    who: String,
    via: Option<String>,
    created: bool,
    changes: Vec<ChangeView>,
    #[serde(rename = "override")]
    gate_override: Option<OverrideView>,
}

#[derive(Serialize)]
struct OverrideView {
    reason: String,
    from: String,
    to: String,
    unmet: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct AsOfView {
    pub(super) value: String,
    banner: String,
    missing: Option<String>,
}

/// The deal as of the end of the day `raw` names (in the reader's time zone) with `events` cut
/// to then, and that moment with its banner; the deal now when no day is asked for. A day that
/// is not a date is a bad request.
pub(super) fn as_of(
    tx: &mut Tx<'_>,
    viewer: &Viewer,
    id: OpportunityId,
    current: &Opportunity,
    events: &mut Vec<HistoryEvent>,
    raw: Option<&str>,
) -> Result<(Opportunity, Option<(Timestamp, AsOfView)>), AppError> {
    let locale = viewer.user.locale;
    let zone = viewer.zone.name();
    let Some(raw) = raw else { return Ok((current.clone(), None)) };
    let date = parse_date(raw).map_err(|problem| AppError::BadRequest(i18n::problem(locale, &problem)))?;
    let at = viewer.zone.end_of(date);
    let then = app::deals::opportunity_as_of_for(tx, viewer.org, &viewer.access, id, at)?;
    events.retain(|event| event.at <= at);
    let shown_date = i18n::date(locale, date);
    let view = AsOfView {
        value: date.to_string(),
        banner: i18n::tf(locale, "deal.as_of_banner", &[("date", &shown_date), ("zone", zone)]),
        missing: then.is_none().then(|| i18n::tf(locale, "deal.as_of_missing", &[("date", &shown_date)])),
    };
    Ok((then.unwrap_or_else(|| current.clone()), Some((at, view))))
}

/// How many entries of the timeline a deal page shows unless asked for all.
pub(super) const HISTORY_SHOWN: usize = 50;

/// The line under a cut timeline: how many are shown of how many, and the link to all.
#[derive(Serialize)]
pub(super) struct HistoryMore {
    pub label: String,
    pub href: String,
}

/// The line under a timeline cut to its newest [`HISTORY_SHOWN`] of `total` entries (a deal
/// changed every day for years would otherwise weigh megabytes): how many are shown and the link
/// to the whole timeline; `None` when nothing was cut.
pub(super) fn cut(total: usize, locale: Locale, id: OpportunityId, as_of: Option<&str>) -> Option<HistoryMore> {
    if total <= HISTORY_SHOWN {
        return None;
    }
    let mut pairs = vec![("history", "all".to_owned())];
    pairs.extend(as_of.map(|day| ("as_of", day.to_owned())));
    Some(HistoryMore {
        label: i18n::tf(locale, "deal.history_cut", &[("shown", &HISTORY_SHOWN.to_string()), ("total", &i18n::group(total as i64))]),
        href: format!("{}#history", crate::pages::url_with(&format!("/opportunities/{id}"), &pairs)),
    })
}

/// The history part: every write up to the shown moment (its newest [`HISTORY_SHOWN`] unless
/// `all`), with the stored gate overrides (not in a past view); and how many writes there are.
pub(super) fn history(
    tx: &mut Tx<'_>,
    ctx: &DealCtx<'_>,
    events: &[HistoryEvent],
    all: bool,
) -> Result<(Vec<HistoryView>, usize), AppError> {
    let overrides = if ctx.as_of.is_none() {
        app::gates::gate_overrides_for(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let limit = if all { usize::MAX } else { HISTORY_SHOWN };
    Ok(history_views(events, &overrides, &ctx.data, ctx.locale, ctx.zone, ctx.now, limit))
}

/// The history, newest first, one entry per write (events with the same time and author).
/// The newest `limit` entries, and how many there are in all.
fn history_views(
    events: &[HistoryEvent],
    overrides: &[StoredOverride],
    data: &OrgData,
    locale: Locale,
    zone: &str,
    now: Timestamp,
    limit: usize,
) -> (Vec<HistoryView>, usize) {
    let mut groups: Vec<Vec<&HistoryEvent>> = Vec::new();
    for event in events {
        match groups.last_mut() {
            Some(group) if group[0].at == event.at && group[0].actor_id == event.actor_id && group[0].source == event.source => {
                group.push(event)
            }
            _ => groups.push(vec![event]),
        }
    }
    let total = groups.len();
    let views = groups
        .into_iter()
        .rev()
        .take(limit)
        .map(|group| {
            let first = group[0];
            let created = group.iter().any(|event| event.field == OppField::Pipeline && event.old.is_none());
            let gate_override = group
                .iter()
                .find(|event| event.field == OppField::GateOverride)
                .map(|marker| override_view(marker, overrides, data, locale));
            let changes = group
                .iter()
                .filter(|event| !event.field.is_marker())
                .filter(|event| !created || (!matches!(event.field, OppField::Status | OppField::Pipeline) && event.new.is_some()))
                .map(|event| ChangeView {
                    field: t(locale, &format!("field.{}", event.field.as_str())).to_owned(),
                    old: if created { None } else { history_value(event.field, event.old.as_deref(), data, locale, zone) },
                    new: history_value(event.field, event.new.as_deref(), data, locale, zone),
                })
                .collect();
            HistoryView {
                when: i18n::timestamp(locale, first.at, zone),
                relative: i18n::relative(locale, first.at, now),
                who: first.actor_id.map_or_else(|| t(locale, "common.system").to_owned(), |id| data.user_name(id)),
                via: Some(i18n::tf(locale, "deal.via", &[("source", &label(locale, "source", first.source.as_str()))])),
                created,
                changes,
                gate_override,
            }
        })
        .collect();
    (views, total)
}

/// A gate override in a history entry: its reason, the move, and what was unmet, from the
/// stored override of the same moment (the marker's own text when there is none).
fn override_view(marker: &HistoryEvent, overrides: &[StoredOverride], data: &OrgData, locale: Locale) -> OverrideView {
    let stored = overrides.iter().map(|stored| &stored.gate_override).find(|record| record.at == marker.at);
    OverrideView {
        reason: stored.map_or_else(|| marker.new.clone().unwrap_or_default(), |record| record.reason.clone()),
        from: stored.map_or_else(String::new, |record| data.stage_name(locale, record.from_stage_id)),
        to: stored.map_or_else(String::new, |record| data.stage_name(locale, record.to_stage_id)),
        unmet: stored
            .map(|record| {
                record
                    .unmet
                    .iter()
                    .map(|unmet| {
                        let label = match locale {
                            Locale::En => &unmet.label_en,
                            Locale::Ko => &unmet.label_ko,
                        };
                        format!("{label}: {}", i18n::message(locale, &unmet.reason))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A history value in words: names instead of ids, money and dates as the reader writes them.
fn history_value(field: OppField, raw: Option<&str>, data: &OrgData, locale: Locale, zone: &str) -> Option<String> {
    let raw = raw?;
    let id = || raw.parse::<i64>().ok();
    Some(match field {
        OppField::Account => {
            id().and_then(|id| data.account_name(Some(AccountId(id))).map(str::to_owned)).unwrap_or_else(|| format!("#{raw}"))
        }
        OppField::Owner => id().map_or_else(|| raw.to_owned(), |id| data.user_name(UserId(id))),
        OppField::Pipeline => {
            id().and_then(|id| data.pipeline(PipelineId(id))).map_or_else(|| format!("#{raw}"), |pipeline| pipeline.name.clone())
        }
        OppField::Stage => id().map_or_else(|| raw.to_owned(), |id| data.stage_name(locale, StageId(id))),
        OppField::Amount => raw.parse::<Money>().map_or_else(|_| raw.to_owned(), |money| i18n::money(locale, money)),
        OppField::CloseDate => raw.parse::<Date>().map_or_else(|_| raw.to_owned(), |date| i18n::date(locale, date)),
        OppField::ForecastCategory => label(locale, "forecast", raw),
        OppField::Status => label(locale, "status", raw),
        OppField::ClosedAt => raw.parse::<Timestamp>().map_or_else(|_| raw.to_owned(), |at| i18n::timestamp(locale, at, zone)),
        OppField::Name | OppField::NextStep | OppField::CloseReason | OppField::GateOverride => raw.to_owned(),
    })
}
