//! The deal's recent activities and open tasks (neither in a past view).

use std::collections::HashMap;

use pipewise_app as app;
use pipewise_app::{TaskFilter, Tx};
use pipewise_core::records::Direction;
use serde::Serialize;

use super::DealCtx;
use crate::error::AppError;
use crate::i18n;
use crate::pages::data::label;

/// How many of the latest activities the page lists.
const SHOWN: usize = 12;

#[derive(Serialize)]
pub(super) struct ActivityView {
    id: i64,
    kind: String,
    kind_key: &'static str,
    direction: String,
    subject: String,
    when: String,
    relative: String,
    who: Option<String>,
    /// Capture's score, signed with two decimals, when the message was scored.
    score: Option<String>,
    /// `positive`, `negative` or `neutral`.
    tone: &'static str,
    /// The words behind the score.
    words: String,
    /// The reader's own rating: 1, -1 or none.
    rating: Option<i8>,
}

#[derive(Serialize)]
pub(super) struct TaskView {
    title: String,
    due: Option<String>,
    overdue: bool,
    owner: String,
}

/// The deal's inbound and outbound activities counted apart, each with when the latest was.
#[derive(Serialize, Default)]
pub(super) struct Touches {
    inbound: usize,
    last_inbound: Option<String>,
    outbound: usize,
    last_outbound: Option<String>,
}

/// The latest activities on the deal, and its touches in each direction.
pub(super) fn activities(tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Result<(Vec<ActivityView>, Touches), AppError> {
    if ctx.as_of.is_some() {
        return Ok((Vec::new(), Touches::default()));
    }
    let locale = ctx.locale;
    let every = app::activities::activities_of_opportunity(tx, ctx.viewer.org, ctx.id)?;
    let latest =
        |direction: Direction| every.iter().filter(|activity| activity.direction == direction).map(|activity| activity.occurred_at).max();
    let touches = Touches {
        inbound: every.iter().filter(|activity| activity.direction == Direction::Inbound).count(),
        last_inbound: latest(Direction::Inbound).map(|at| i18n::relative(locale, at, ctx.now)),
        outbound: every.iter().filter(|activity| activity.direction == Direction::Outbound).count(),
        last_outbound: latest(Direction::Outbound).map(|at| i18n::relative(locale, at, ctx.now)),
    };
    let shown: Vec<_> = every.into_iter().take(SHOWN).collect();
    let ids: Vec<_> = shown.iter().map(|activity| activity.id).collect();
    let scores: HashMap<_, _> = app::capture::sentiments(tx, ctx.viewer.org, &ids, ctx.viewer.user.id)?
        .into_iter()
        .map(|sentiment| (sentiment.activity_id, sentiment))
        .collect();
    let views = shown
        .into_iter()
        .map(|activity| {
            let sentiment = scores.get(&activity.id);
            let tone = match sentiment.map(|sentiment| sentiment.score) {
                Some(score) if score <= app::capture::WARNING_BELOW => "negative",
                Some(score) if score >= -app::capture::WARNING_BELOW => "positive",
                _ => "neutral",
            };
            ActivityView {
                id: activity.id.0,
                score: sentiment
                    .filter(|sentiment| !sentiment.words.is_empty())
                    .map(|sentiment| format!("{:+.2}", f64::from(sentiment.score) / 1000.0)),
                tone,
                words: sentiment
                    .map(|sentiment| {
                        sentiment
                            .words
                            .split(' ')
                            .filter_map(|pair| pair.split_once(':'))
                            .map(|(word, _)| word)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                rating: sentiment.and_then(|sentiment| sentiment.rating),
                kind: label(locale, "activity", activity.kind.as_str()),
                kind_key: activity.kind.as_str(),
                direction: label(locale, "direction", activity.direction.as_str()),
                subject: activity.subject,
                when: i18n::timestamp(locale, activity.occurred_at, ctx.zone),
                relative: i18n::relative(locale, activity.occurred_at, ctx.now),
                who: activity.user_id.map(|id| ctx.data.user_name(id)),
            }
        })
        .collect();
    Ok((views, touches))
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
