//! Board badges: a deal's health flags, short enough for a card.

use std::collections::HashMap;

use pipewise_analytics::health::deal_health;
use pipewise_analytics::{FlagCode, HealthThresholds, day_of_date};
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::flag_label;
use super::with_projection_as_of;
use crate::AppState;
use crate::error::AppError;
use crate::i18n::{self, tf};

/// A deal's health badge on the board: a short label and the plain-language reason.
#[derive(Clone, Debug, Serialize)]
pub struct Badge {
    pub code: &'static str,
    pub label: String,
    pub reason: String,
}

/// The health badges (problem flags only) of each of `deals` as of `today` (the viewer's local
/// date: current facts) under the organisation's `thresholds`, by deal id.
pub fn badges(
    state: &AppState,
    org: OrgId,
    locale: Locale,
    deals: &[OpportunityId],
    today: Date,
    thresholds: &HealthThresholds,
) -> Result<HashMap<OpportunityId, Vec<Badge>>, AppError> {
    let day = day_of_date(today);
    with_projection_as_of(state, org, day, day, |projection, facts| {
        let facts = facts.as_deref().unwrap_or(&projection.activity);
        deals
            .iter()
            .filter_map(|id| {
                let deal = projection.deal_index(*id)?;
                let health = deal_health(projection, facts, deal, day, thresholds)?;
                let badges: Vec<Badge> = health
                    .flags
                    .iter()
                    .map(|flag| Badge {
                        code: flag.code.as_str(),
                        label: match flag.code {
                            FlagCode::CloseDatePushed => tf(locale, "health.badge.pushed", &[("count", &flag.value.to_string())]),
                            code => flag_label(locale, code),
                        },
                        reason: i18n::health_reason(locale, projection, flag),
                    })
                    .collect();
                Some((*id, badges))
            })
            .collect()
    })
}
