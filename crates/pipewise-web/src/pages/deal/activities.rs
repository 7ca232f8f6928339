//! The deal's recent activities and open tasks (neither in a past view).

use pipewise_app as app;
use pipewise_app::{TaskFilter, Tx};
use serde::Serialize;

use super::DealCtx;
use crate::error::AppError;
use crate::i18n;
use crate::pages::data::label;

/// How many of the latest activities the page lists.
const SHOWN: usize = 12;

#[derive(Serialize)]
pub(super) struct ActivityView {
    kind: String,
    kind_key: &'static str,
    direction: String,
    subject: String,
    when: String,
    relative: String,
    who: Option<String>,
}

#[derive(Serialize)]
pub(super) struct TaskView {
    title: String,
    due: Option<String>,
    overdue: bool,
    owner: String,
}

/// The latest activities on the deal.
pub(super) fn activities(tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Result<Vec<ActivityView>, AppError> {
    if ctx.as_of.is_some() {
        return Ok(Vec::new());
    }
    let locale = ctx.locale;
    Ok(app::activities::activities_of_opportunity(tx, ctx.viewer.org, ctx.id)?
        .into_iter()
        .take(SHOWN)
        .map(|activity| ActivityView {
            kind: label(locale, "activity", activity.kind.as_str()),
            kind_key: activity.kind.as_str(),
            direction: label(locale, "direction", activity.direction.as_str()),
            subject: activity.subject,
            when: i18n::timestamp(locale, activity.occurred_at, ctx.zone),
            relative: i18n::relative(locale, activity.occurred_at, ctx.now),
            who: activity.user_id.map(|id| ctx.data.user_name(id)),
        })
        .collect())
}

/// The deal's open tasks the viewer may see.
pub(super) fn tasks(tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Result<Vec<TaskView>, AppError> {
    if ctx.as_of.is_some() {
        return Ok(Vec::new());
    }
    let filter = TaskFilter { opportunity_id: Some(ctx.id), open_only: true, ..TaskFilter::default() };
    Ok(app::activities::tasks_for(tx, ctx.viewer.org, &ctx.viewer.access, &filter)?
        .into_iter()
        .map(|task| TaskView {
            overdue: task.due_on.is_some_and(|date| date < ctx.today),
            due: task.due_on.map(|date| i18n::date(ctx.locale, date)),
            owner: ctx.data.user_name(task.owner_id),
            title: task.title,
        })
        .collect())
}
