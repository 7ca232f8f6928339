//! An open deal's health today from the analytics projection: its problem flags with their
//! reasons, under the organisation's thresholds.

use super::DealCtx;
use crate::AppState;
use crate::pages::dashboard::{self, Badge};
use pipewise_core::opportunity::Status;

/// The health part. Not for a past day's view (the badges read today's activity facts), nor a
/// closed deal, nor when the projection cannot be read (the page still works).
pub(super) fn badges(state: &AppState, ctx: &DealCtx<'_>) -> Vec<Badge> {
    if ctx.as_of.is_some() || ctx.deal.status != Status::Open {
        return Vec::new();
    }
    dashboard::badges(state, ctx.viewer.org, ctx.locale, &[ctx.id], ctx.today, &ctx.data.health_thresholds)
        .map_err(|error| eprintln!("deal page: health unavailable: {error:?}"))
        .ok()
        .and_then(|mut badges| badges.remove(&ctx.id))
        .unwrap_or_default()
}
