//! The health section: the subject's flags and signals, teams and reps with problems, the largest flagged deals.

use pipewise_analytics::health::{HealthReport, Subject as HealthSubject, deal_health};
use pipewise_analytics::projection::DealState;
use pipewise_analytics::{FlagCode, Lever, Membership, Ratio};
use pipewise_app::visibility::Subject;
use pipewise_core::*;

use super::build::Parts;
use super::view::{CountView, DealFlags, FlagView, GroupView, LeverView, count_text, flag_label, flag_view, percent_text, stage_label};
use crate::i18n::{self, t, tf};

/// Flagged deals listed on the page (the largest first).
const FLAGGED_DEALS: usize = 15;

/// The health section of the page, but for the flagged deals ([`flagged_deals`]).
pub(super) struct Health<'a> {
    /// The subject's own report (its flags and signals head the section).
    pub(super) subject_report: &'a HealthReport,
    pub(super) spread: Option<FlagView>,
    pub(super) lever: Option<LeverView>,
    pub(super) team_stalls: Vec<GroupView>,
    pub(super) rep_stalls: Vec<GroupView>,
    pub(super) groups: Vec<GroupView>,
    pub(super) deal_counts: Vec<CountView>,
}

/// Health of the subject.
pub(super) fn health<'a>(parts: &Parts<'a>) -> Health<'a> {
    let Parts { board, .. } = *parts;
    let subject_report = subject_report(parts);
    let spread = spread(parts);
    let lever = lever(parts);
    let team_stalls: Vec<GroupView> =
        board.health.teams.iter().filter_map(|report| group_of(parts, report, Some(FlagCode::TeamStalling))).collect();
    let rep_stalls: Vec<GroupView> =
        board.health.reps.iter().filter_map(|report| group_of(parts, report, Some(FlagCode::RepStalling))).collect();
    let groups = other_groups(parts);
    let deal_counts = deal_counts(parts, subject_report);
    Health { subject_report, spread, lever, team_stalls, rep_stalls, groups, deal_counts }
}

/// The subject's own report: a rep's (with their late-stage and stalling flags), else the
/// scope's as a whole (computed with the subject's quota, like coverage and the lever);
/// team stalls are listed on their own below.
fn subject_report<'a>(parts: &Parts<'a>) -> &'a HealthReport {
    let Parts { context, projection, board, .. } = *parts;
    match &context.resolved.subject {
        Subject::Rep(user) => projection
            .owner_index(*user)
            .and_then(|owner| board.health.reps.iter().find(|report| report.subject == HealthSubject::Rep(owner)))
            .unwrap_or(&board.health.organisation),
        _ => &board.health.organisation,
    }
}

/// Whether the open pipeline's value is spread over the stages, or where it sits.
fn spread(parts: &Parts) -> Option<FlagView> {
    let Parts { locale, projection, board, with_pipeline, .. } = *parts;
    let pipeline = &board.pipeline;
    board
        .health
        .organisation
        .signals
        .iter()
        .find(|signal| signal.code == FlagCode::ValueSpread)
        .map(|signal| flag_view(locale, projection, signal))
        .or_else(|| {
            // Not spread: say where the value sits.
            let largest = pipeline.lines.iter().max_by_key(|line| line.amount)?;
            let share = Ratio::new(largest.amount, pipeline.amount)?;
            Some(FlagView {
                code: "value_concentrated",
                label: t(locale, "dash.concentrated").to_owned(),
                reason: tf(
                    locale,
                    "dash.concentrated_reason",
                    &[("stage", &stage_label(locale, projection, largest.stage, with_pipeline)), ("share", &percent_text(Some(share)))],
                ),
                healthy: false,
            })
        })
}

/// The lever to pull to make the quota: fill the funnel or convert what is in it.
fn lever(parts: &Parts) -> Option<LeverView> {
    let Parts { locale, board, .. } = *parts;
    board.health.organisation.lever.map(|advice| LeverView {
        kind: advice.lever.as_str(),
        title: t(
            locale,
            match advice.lever {
                Lever::FillTheFunnel => "dash.lever.fill",
                Lever::ConvertWhatYouHave => "dash.lever.convert",
            },
        )
        .to_owned(),
        reason: i18n::lever_reason(locale, &advice),
    })
}

/// A team's or a rep's problem flags (only those with `only`), named and linked to their own
/// dashboard when the viewer may see them; `None` without flags or for a rep the viewer may not see.
fn group_of(parts: &Parts, report: &HealthReport, only: Option<FlagCode>) -> Option<GroupView> {
    let Parts { data, teams, context, projection, locale, visible, query, .. } = *parts;
    let flags: Vec<FlagView> = report
        .flags
        .iter()
        .filter(|flag| only.is_none_or(|code| flag.code == code))
        .map(|flag| flag_view(locale, projection, flag))
        .collect();
    if flags.is_empty() {
        return None;
    }
    let (name, href) = match report.subject {
        HealthSubject::Rep(owner) if parts.owner_visible(owner) => {
            (parts.owner_name(owner), Some(context.dashboard_href(&[("owner", projection.owner_ids[owner as usize].to_string())])))
        }
        HealthSubject::Team(team) => {
            let id = projection.team_ids[team as usize];
            // Linked when the viewer sees one of its members of the day (as the subject resolves).
            let href = visible
                .as_ref()
                .is_none_or(|v| {
                    projection.team_members_on(team, query.as_of).any(|owner| v.contains(&projection.owner_ids[owner as usize]))
                })
                .then(|| context.dashboard_href(&[("team", id.to_string())]));
            (parts.team_name(team), href)
        }
        HealthSubject::Organisation => (context.subject_name(locale, data, teams), None),
        HealthSubject::Rep(_) => return None,
    };
    Some(GroupView { name, href, flags })
}

/// The teams' and reps' other problem flags (not for a rep's own dashboard).
fn other_groups(parts: &Parts) -> Vec<GroupView> {
    let Parts { context, board, .. } = *parts;
    let mut groups: Vec<GroupView> = Vec::new();
    if !matches!(context.resolved.subject, Subject::Rep(_)) {
        groups.extend(board.health.teams.iter().filter_map(|report| group_but(parts, report, FlagCode::TeamStalling)));
        groups.extend(board.health.reps.iter().filter_map(|report| group_but(parts, report, FlagCode::RepStalling)));
    }
    groups
}

/// A team's or a rep's problem flags other than `listed` (which has its own list); `None` when
/// none is left.
fn group_but(parts: &Parts, report: &HealthReport, listed: FlagCode) -> Option<GroupView> {
    let mut group = group_of(parts, report, None)?;
    group.flags.retain(|flag| flag.code != listed.as_str());
    (!group.flags.is_empty()).then_some(group)
}

/// How many of the subject's deals carry each deal flag, linked to those deals.
fn deal_counts(parts: &Parts, subject_report: &HealthReport) -> Vec<CountView> {
    let Parts { locale, context, .. } = *parts;
    FlagCode::DEAL
        .iter()
        .zip(subject_report.deal_counts)
        .map(|(code, count)| CountView {
            code: code.as_str(),
            label: flag_label(locale, *code),
            count: count_text(count),
            healthy: code.is_healthy(),
            href: context.drill_href("flag", &[("flag", code.as_str().to_owned())]),
        })
        .collect()
}

/// The largest open deals in scope with a problem flag, and their ids and owners (their names
/// are read afterwards, through the visibility-checked reads).
pub(super) fn flagged_deals(parts: &Parts) -> (Vec<DealFlags>, Vec<(OpportunityId, UserId)>) {
    let Parts { locale, projection, query, .. } = *parts;
    let membership = Membership::new(projection, &query.scope, query.as_of);
    let thresholds = query.thresholds;
    // Only the deals that can be open as of the day (`Projection::candidates`).
    let candidates = projection.candidates(query.as_of.saturating_add(1));
    let mut open: Vec<(i64, u32, DealState)> = Vec::new();
    candidates.for_each_in(0..candidates.len(), |deal| {
        let Some(state) = projection.state_at(deal, query.as_of) else { return };
        if membership.in_health(&state) {
            open.push((state.amount_or_zero(), deal, state));
        }
    });
    // Ties by deal id: the same list whatever order the projection holds the deals in.
    let ids = &projection.deals().id;
    open.sort_by_key(|(amount, deal, _)| (std::cmp::Reverse(*amount), ids[*deal as usize]));
    let mut flagged = Vec::new();
    let mut flagged_ids = Vec::new();
    for (amount, deal, state) in open {
        if flagged.len() == FLAGGED_DEALS {
            break;
        }
        let Some(health) = deal_health(projection, query.facts(projection), deal, query.as_of, &thresholds) else { continue };
        if health.flags.is_empty() {
            continue;
        }
        let id = projection.deals().id[deal as usize];
        flagged.push(DealFlags {
            name: String::new(),
            href: format!("/opportunities/{id}"),
            owner: String::new(),
            amount: parts.money(i128::from(amount)),
            flags: health.flags.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        });
        flagged_ids.push((id, projection.owner_ids[state.owner as usize]));
    }
    (flagged, flagged_ids)
}
