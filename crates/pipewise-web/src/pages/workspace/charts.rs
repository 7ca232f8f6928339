//! The quadrants of the workspace: the stakeholder map (rank against influence, sized by
//! activity) and one competitive quadrant per assessed competitor, with the criteria to propose.

use std::collections::BTreeMap;

use pipewise_core::ContactId;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{Workspace, competitive_quadrant, proposed_selection_criteria, stakeholder_quadrant};
use serde::Serialize;

use crate::i18n::{self, t};
use crate::pages::quadrant::{self, QuadrantView};

/// One competitor's quadrant with the criteria to propose.
#[derive(Clone, Debug, Serialize)]
pub struct CompetitorChart {
    pub chart: QuadrantView,
    pub proposed: Vec<String>,
}

/// The stakeholder map, when anyone is on it.
pub fn stakeholder_chart(workspace: &Workspace, activity_by_contact: &BTreeMap<ContactId, u32>, locale: Locale) -> Option<QuadrantView> {
    (!workspace.stakeholders.is_empty()).then(|| {
        let chart = stakeholder_quadrant(&workspace.stakeholders, activity_by_contact);
        quadrant::layout(&chart, quadrant::Kind::Stakeholders, "stakeholder-map", t(locale, "stakeholders.chart").to_owned(), locale)
    })
}

/// A quadrant for each competitor with criteria, numbered by its place in the assessment.
pub fn competitor_charts(workspace: &Workspace, locale: Locale) -> Vec<CompetitorChart> {
    workspace
        .competitors
        .iter()
        .enumerate()
        .filter(|(_, assessment)| !assessment.criteria.is_empty())
        .map(|(index, assessment)| {
            let chart = competitive_quadrant(assessment);
            let title = i18n::tf(locale, "competitors.chart", &[("name", &assessment.competitor)]);
            CompetitorChart {
                chart: quadrant::layout(&chart, quadrant::Kind::Competitive, &format!("competitor-{index}"), title, locale),
                proposed: proposed_selection_criteria(assessment).into_iter().map(|criterion| criterion.label.clone()).collect(),
            }
        })
        .collect()
}
