//! Drill-downs: the deals behind a dashboard figure (`/opportunities?figure=…`).

use std::collections::HashSet;
use std::sync::Arc;

use pipewise_analytics::health::deal_health;
use pipewise_analytics::projection::Projection;
use pipewise_analytics::{ActivityFacts, Figure, FlagCode, Membership, day_of_date};
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_app::visibility::Subject;
use pipewise_core::*;

use super::context::Context;
use super::flag_label;
use super::{with_projection, with_projection_as_of};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};
use crate::pages::data::OrgData;
use crate::pages::{Params, list};

fn flag_code(raw: &str) -> Option<FlagCode> {
    FlagCode::DEAL.into_iter().find(|code| code.as_str() == raw)
}

/// The deals behind a figure of the dashboard.
pub struct Drill {
    pub ids: HashSet<OpportunityId>,
    /// What the list shows, in the viewer's language.
    pub note: String,
    /// The subject's team, to keep in the list's links.
    pub team: Option<TeamId>,
}

/// The deals behind `?figure=…` for the subject, filters and as-of day in `params` (see the
/// module documentation); `None` when `params` name no figure.
pub fn drill(state: &AppState, viewer: &Viewer, tx: &mut Tx, data: &OrgData, params: &Params) -> Result<Option<Drill>, AppError> {
    let Some(figure) = params.get("figure") else { return Ok(None) };
    let locale = viewer.user.locale;
    // The analytics' own figures (`Figure`), and the deals with a health flag.
    if figure != "flag" && Figure::parse(figure, None).is_none() {
        return Err(AppError::BadRequest(tf(locale, "dash.bad_figure", &[("value", figure)])));
    }
    let teams = app::users::teams(tx, viewer.org)?;
    let context = Context::parse(tx, viewer, data, &teams, params, state.now())?;
    let flag = match figure {
        "flag" => Some(
            params
                .get("flag")
                .and_then(flag_code)
                .ok_or_else(|| AppError::BadRequest(tf(locale, "dash.bad_figure", &[("value", params.raw("flag"))])))?,
        ),
        _ => None,
    };
    let stage = params.id("at_stage").map(StageId);
    let behind_figure = |projection: &Projection, facts: Option<Arc<ActivityFacts>>| {
        let query = context.query(projection, facts);
        let membership = Membership::new(projection, &query.scope, query.as_of);
        let as_of = query.as_of;
        let stage_index = stage.and_then(|id| projection.stage_index(id));
        // Every figure but a health flag is one of the analytics' own.
        let counted = Figure::parse(figure, stage_index);
        let thresholds = query.thresholds;
        let mut ids = HashSet::new();
        // The deals the dashboard's figures visit (`Projection::candidates` for its horizon).
        let candidates = projection.candidates(query.horizon());
        candidates.for_each_in(0..candidates.len(), |deal| {
            let Some(state) = projection.state_at(deal, as_of) else { return };
            let behind = match (counted, flag) {
                (Some(counted), _) => membership.behind(counted, &query, deal, &state),
                (None, Some(code)) => {
                    membership.in_health(&state)
                        && deal_health(projection, query.facts(projection), deal, as_of, &thresholds)
                            .is_some_and(|health| health.flags.iter().chain(&health.signals).any(|raised| raised.code == code))
                }
                (None, None) => false,
            };
            if behind {
                ids.insert(projection.deals().id[deal as usize]);
            }
        });
        ids
    };
    // Only flags read the activity facts: the other figures need not read a past day's.
    let ids = match flag {
        Some(_) => with_projection_as_of(state, viewer.org, context.as_of_day(), day_of_date(context.today), behind_figure)?,
        None => with_projection(state, viewer.org, |projection| behind_figure(projection, None))?,
    };
    let subject = context.subject_name(locale, data, &teams);
    let what = match (figure, flag) {
        (_, Some(code)) => flag_label(locale, code),
        ("stage", _) => {
            let name = stage.map(|id| data.stage_name(locale, id)).unwrap_or_default();
            tf(locale, "dash.figure.stage", &[("stage", &name)])
        }
        _ => t(locale, &format!("dash.figure.{figure}")).to_owned(),
    };
    let note = tf(
        locale,
        "dash.drill_note",
        &[
            ("figure", &what),
            ("subject", &subject),
            ("date", &i18n::date(locale, context.as_of)),
            ("period", &context.period_label(locale)),
        ],
    );
    let team = match context.resolved.subject {
        Subject::Team(team) => Some(team),
        _ => None,
    };
    Ok(Some(Drill { ids, note, team }))
}

/// The drill-down's own parameters, kept by the deal list's sort links, pager, export and
/// filter form as hidden fields.
pub fn drill_filters(drill: &Drill, params: &Params) -> Vec<list::Filter> {
    let hidden = |name: &'static str, value: String| list::Filter {
        name,
        label: String::new(),
        kind: "hidden",
        value,
        choices: Vec::new(),
        picker: None,
    };
    let mut filters: Vec<list::Filter> = ["figure", "as_of", "period", "at_stage", "flag"]
        .into_iter()
        .map(|name| hidden(name, params.raw(name).trim().to_owned()))
        .collect();
    filters.push(hidden("team", drill.team.map(|team| team.to_string()).unwrap_or_default()));
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_and_flag_has_a_label() {
        // A stage's figure is worded with the stage's name (`dash.figure.stage`).
        let figures = [Figure::Open, Figure::Closing, Figure::Won, Figure::Lost, Figure::Closed, Figure::WonInPeriod]
            .into_iter()
            .chain(pipewise_analytics::WaterfallBucket::ALL.map(Figure::Waterfall));
        for figure in figures {
            let name = figure.name();
            assert_eq!(Figure::parse(&name, None), Some(figure));
            assert!(i18n::has(&format!("dash.figure.{name}")), "{name}");
        }
        for code in FlagCode::DEAL {
            assert!(i18n::has(&format!("health.{}", code.as_str())), "{code:?}");
        }
    }
}
