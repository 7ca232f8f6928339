//! One scale deal's life, planned lean: creation, the stage moves its fate needs (forward, now
//! and then back one stage), how it ends, and then a budgeted number of minor edits (next
//! steps, close dates pushed, amount changes, forecast calls, hand-overs) spread over its life.
//!
//! The plan is a [`DealPlan`], the same shape the standard demo plans, so its activities are
//! planned by [`crate::activity::plan_activities`], and its stages are walked by the same
//! [`Walk`] (fate, close, moves on and back). Unlike [`crate::deal::plan_deal`], the number
//! of minor edits is a parameter: the scale generator sizes it so the whole book records about
//! as many history events as asked for. Every draw that decides the lifecycle comes before the
//! edits' draws, so the lifecycle does not depend on the edit budget.

use pipewise_core::Timestamp;
use pipewise_core::pipeline::ForecastCategory;

use crate::clock::{self, date_of_day, day_of, days_between, plus_days};
use crate::deal::{self, DealInput, DealPlan, StageRef, Step, Walk};
use crate::rng::Rng;

/// What the edit budget of a deal depends on: its life, and a uniform draw of its own.
#[derive(Clone, Copy, Debug)]
pub struct EditDraw {
    pub life_days: f64,
    pub unit: f64,
}

/// Plans one deal. `edits` turns the deal's [`EditDraw`] into the expected number of minor
/// edits (a fraction is rounded up with that probability).
pub fn plan(rng: &mut Rng, input: &DealInput, edits: &dyn Fn(EditDraw) -> f64) -> DealPlan {
    let mut walk = Walk::start(rng, input);
    let mut steps = Vec::new();
    let mut t = input.created_at;
    let mut end = None;
    // Until when the deal is worked: its close, its last touch before stalling, or now.
    let worked_until;
    loop {
        let (_, stage_end) = walk.stay(rng, t);
        if walk.stalls_here() {
            walk.dark_from = Some(t);
            worked_until = plus_days(t, 10.0);
            break;
        }
        if walk.closes_here() {
            steps.push(walk.close(rng, stage_end));
            end = Some(stage_end);
            worked_until = stage_end;
            break;
        }
        steps.push(walk.move_on(rng, stage_end));
        t = stage_end;
    }
    let name = deal::deal_name(rng, input);
    let next_step = rng.chance(0.5).then(|| deal::next_step(rng, input, 0));

    // Minor edits, strictly before the close, in time order.
    let window_end = worked_until.min(input.now).min(end.map_or(input.now, |end| end.plus_seconds(-60)));
    let life_days = days_between(input.created_at, end.unwrap_or(input.now).min(input.now)).max(0.0);
    let expected = edits(EditDraw { life_days, unit: rng.unit() }).max(0.0);
    let n_edits = expected.floor() as usize + usize::from(rng.chance(expected.fract()));
    if window_end > input.created_at && n_edits > 0 {
        let span = days_between(input.created_at, window_end);
        let mut times: Vec<Timestamp> = (0..n_edits)
            .map(|_| {
                let raw = plus_days(input.created_at, span * rng.unit());
                clock::snap_to_working_time(rng, raw, input.utc_offset_hours).clamp(input.created_at, window_end)
            })
            .collect();
        times.sort();
        let stage_steps: Vec<(Timestamp, StageRef)> = steps.iter().filter_map(|step| Some((step.at, step.stage?))).collect();
        let mut close_day = walk.first_close_day;
        let mut last_next_step = next_step.clone();
        let mut edits_made = Vec::with_capacity(n_edits);
        for at in times {
            let stage = stage_steps.iter().take_while(|(when, _)| *when <= at).last().map_or(StageRef::Open(0), |(_, stage)| *stage);
            let StageRef::Open(level_then) = stage else { continue };
            let has_amount = walk.amount_from.is_some_and(|from| from <= at);
            let mut edit = Step::at(at);
            match rng.weighted(&[30.0, 30.0, 20.0, 12.0, 8.0]) {
                1 => {
                    close_day = close_day.max(day_of(at)) + rng.between(7, 45);
                    edit.close_date = Some(date_of_day(close_day));
                }
                2 if has_amount => {
                    walk.value_usd *= rng.log_normal(1.0, 0.15).clamp(0.6, 1.6);
                    edit.amount = Some(walk.price(walk.value_usd, at));
                }
                3 if level_then >= 1 => {
                    let upgraded = deal::upgraded_category(level_then, walk.levels);
                    edit.forecast_category =
                        Some(if upgraded == ForecastCategory::Commit && rng.chance(0.5) { ForecastCategory::BestCase } else { upgraded });
                }
                4 => edit.reassign = Some(rng.next_u64() as u32),
                _ => {
                    let mut text = deal::next_step(rng, input, level_then);
                    if last_next_step.as_deref() == Some(text.as_str()) {
                        text = deal::next_step(rng, input, (level_then + 1).min(4));
                    }
                    last_next_step = Some(text.clone());
                    edit.next_step = Some(text);
                }
            }
            edits_made.push(edit);
        }
        // Close dates pushed by minor edits must not move the first close date of later moves:
        // each edit is a separate step, merged in time order (the close stays last).
        steps.extend(edits_made);
        steps.sort_by_key(|step| (step.at, step.stage.is_some_and(|stage| !matches!(stage, StageRef::Open(_)))));
    }

    walk.plan(name, next_step, steps, end)
}
