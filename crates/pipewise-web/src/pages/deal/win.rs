//! An open deal's win probability today, with the reasons that add up to it (issue 13 point 3):
//! the model learnt from the organisation's closed deals (`pipewise_app::forecast::win_score`).

use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_app::forecast::win::{FLOOR_OUTCOMES, Factor, Refusal, Shown, WinBasis};
use pipewise_core::opportunity::Status;
use pipewise_core::user::Locale;
use serde::Serialize;

use super::DealCtx;
use crate::AppState;
use crate::i18n::{self, t, tf};

/// Reasons shown (the largest); the rest are summed into one line.
const SHOWN_REASONS: usize = 6;

#[derive(Serialize)]
pub(super) struct WinPanel {
    /// "42%", or none when the model refuses.
    probability: Option<String>,
    /// Why there is no score.
    refused: Option<String>,
    /// "An average deal: 27%; this stage's default: 40%."
    base: Option<String>,
    reasons: Vec<ReasonView>,
    /// What the model learnt from and its held-out record.
    record: String,
}

#[derive(Serialize)]
struct ReasonView {
    label: String,
    value: String,
    /// "+4.2 pts".
    points: String,
    up: bool,
    /// The bar's length, in percent of the largest reason's.
    width: u32,
}

fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

fn points(locale: Locale, value: f64) -> String {
    tf(locale, "deal.win_points", &[("points", &format!("{:+.1}", value * 100.0))])
}

/// A factor's message key.
fn factor_key(factor: Factor) -> &'static str {
    match factor {
        Factor::Stage => "win.factor.stage",
        Factor::TimeInStage => "win.factor.time_in_stage",
        Factor::DealAge => "win.factor.deal_age",
        Factor::Amount => "win.factor.amount",
        Factor::CloseDate => "win.factor.close_date",
        Factor::OwnerRecord => "win.factor.owner_record",
        Factor::RecentTouches => "win.factor.recent_touches",
        Factor::BuyerSilence => "win.factor.buyer_silence",
        Factor::TouchTrend => "win.factor.touch_trend",
        Factor::Contacts => "win.factor.contacts",
        Factor::SeniorContact => "win.factor.senior_contact",
        Factor::CompanySize => "win.factor.company_size",
        Factor::Industry => "win.factor.industry",
    }
}

/// What a factor showed, in the reader's words.
fn shown(ctx: &DealCtx<'_>, projection: &pipewise_analytics::Projection, value: &Shown) -> String {
    let locale = ctx.locale;
    match value {
        Shown::Stage(stage) => i18n::projection_stage_name(locale, &projection.stages[*stage as usize]).to_owned(),
        Shown::Days(days) => tf(locale, "dash.days", &[("days", &days.to_string())]),
        Shown::Amount(minor) => {
            let currency = projection.reporting_currency();
            let amount = currency.amount_of(*minor);
            pipewise_core::Money::new(amount, currency).map_or_else(|_| amount.to_string(), |money| i18n::money(locale, money))
        }
        Shown::Count(count) => i18n::group(i64::from(*count)),
        Shown::Rate(rate) => percent(*rate),
        Shown::Yes(yes) => t(locale, if *yes { "deal.win_yes" } else { "deal.win_no" }).to_owned(),
        Shown::Text(text) => text.clone(),
        Shown::Unknown => t(locale, "deal.win_unknown").to_owned(),
    }
}

/// The panel, for an open deal viewed today; none for a past day's view, a closed deal, or when
/// the analytics cannot be read (the page still works). While the day's model is being learnt
/// the panel says so.
pub(super) fn panel(state: &AppState, tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Option<WinPanel> {
    if ctx.as_of.is_some() || ctx.deal.status != Status::Open {
        return None;
    }
    let insights =
        state.insights_for(ctx.viewer.org).map_err(|error| eprintln!("deal page: win probability unavailable: {error:?}")).ok()?;
    let locale = ctx.locale;
    // With the organisations' projections kept (as `serve` keeps them), the page never waits
    // for a fit: the first view of the day starts it in the background. Without (a projection
    // loaded per request), nothing would keep the fit, so it is made here.
    let scored = if state.insights.is_some() {
        app::forecast::win_score_if_ready(tx, ctx.viewer.org, &ctx.viewer.access, &insights, ctx.id, ctx.now)
    } else {
        app::forecast::win_score(tx, ctx.viewer.org, &ctx.viewer.access, &insights, ctx.id, ctx.now)
            .map(|answer| answer.map(app::forecast::WinScore::Ready))
    };
    let answer = match scored.map_err(|error| eprintln!("deal page: win probability unavailable: {error:?}")).ok()?? {
        app::forecast::WinScore::Ready(answer) => answer,
        app::forecast::WinScore::Learning => {
            let refused = Some(t(locale, "deal.win_learning").to_owned());
            return Some(WinPanel { probability: None, refused, base: None, reasons: Vec::new(), record: String::new() });
        }
    };
    let model = &answer.model;
    let group = |n: u32| i18n::group(i64::from(n));
    let record = if model.basis == WinBasis::Fitted {
        tf(
            locale,
            "deal.win_record",
            &[
                ("deals", &group(model.examples)),
                ("brier", &format!("{:.3}", model.held_out.brier)),
                ("stage", &format!("{:.3}", model.held_out.brier_stage_default)),
            ],
        )
    } else {
        String::new()
    };
    let panel = insights.with(|projection| match &answer.score {
        Ok(score) => {
            let largest = score.reasons.first().map_or(0.0, |reason| reason.points.abs());
            let mut reasons: Vec<ReasonView> = score
                .reasons
                .iter()
                .take(SHOWN_REASONS)
                .filter(|reason| reason.points.abs() >= 0.0005)
                .map(|reason| ReasonView {
                    label: t(locale, factor_key(reason.factor)).to_owned(),
                    value: shown(ctx, projection, &reason.shown),
                    points: points(locale, reason.points),
                    up: reason.points > 0.0,
                    width: if largest > 0.0 { (reason.points.abs() / largest * 100.0).round() as u32 } else { 0 },
                })
                .collect();
            let rest: f64 = score.reasons.iter().skip(SHOWN_REASONS).map(|reason| reason.points).sum();
            if score.reasons.len() > SHOWN_REASONS && rest.abs() >= 0.0005 {
                reasons.push(ReasonView {
                    label: t(locale, "deal.win_other").to_owned(),
                    value: String::new(),
                    points: points(locale, rest),
                    up: rest > 0.0,
                    width: if largest > 0.0 { (rest.abs() / largest * 100.0).round().min(100.0) as u32 } else { 0 },
                });
            }
            WinPanel {
                probability: Some(percent(score.probability)),
                refused: None,
                base: Some(tf(locale, "deal.win_base", &[("base", &percent(score.base)), ("stage", &percent(score.stage_default))])),
                reasons,
                record: record.clone(),
            }
        }
        Err(refusal) => {
            let refused = match refusal {
                Refusal::BelowFloor { won, lost } => {
                    tf(locale, "deal.win_below_floor", &[("won", &group(*won)), ("lost", &group(*lost)), ("floor", &group(FLOOR_OUTCOMES))])
                }
                Refusal::NotOpen => t(locale, "deal.win_not_open").to_owned(),
            };
            WinPanel { probability: None, refused: Some(refused), base: None, reasons: Vec::new(), record: record.clone() }
        }
    });
    Some(panel)
}
