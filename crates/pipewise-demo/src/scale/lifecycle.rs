//! One scale deal's life, planned lean: creation, the stage moves its fate needs (forward, now
//! and then back one stage), how it ends, and then a budgeted number of minor edits (next
//! steps, close dates pushed, amount changes, forecast calls, hand-overs) spread over its life.
//!
//! The plan is a [`DealPlan`], the same shape the standard demo plans, so its activities are
//! planned by [`crate::activity::plan_activities`]. Unlike [`crate::deal::plan_deal`], the number
//! of minor edits is a parameter: the scale generator sizes it so the whole book records about
//! as many history events as asked for. Every draw that decides the lifecycle comes before the
//! edits' draws, so the lifecycle does not depend on the edit budget.

use pipewise_core::Timestamp;
use pipewise_core::pipeline::ForecastCategory;

use crate::clock::{self, date_of_day, day_of, days_between, plus_days};
use crate::deal::{self, DealInput, DealPlan, Outcome, StageRef, Step};
use crate::phrases;
use crate::rng::Rng;

/// How a deal's story goes, decided at creation (as in [`crate::deal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Drop,
    Stall(usize),
    Win,
    Lose(usize),
}

/// What the edit budget of a deal depends on: its life, and a uniform draw of its own.
#[derive(Clone, Copy, Debug)]
pub struct EditDraw {
    pub life_days: f64,
    pub unit: f64,
}

fn step(at: Timestamp) -> Step {
    Step { at, stage: None, amount: None, close_date: None, next_step: None, forecast_category: None, close_reason: None, reassign: None }
}

/// Plans one deal. `edits` turns the deal's [`EditDraw`] into the expected number of minor
/// edits (a fraction is rounded up with that probability).
pub fn plan(rng: &mut Rng, input: &DealInput, edits: &dyn Fn(EditDraw) -> f64) -> DealPlan {
    let levels = input.open_stages.max(1);
    let dwell_means: &[f64] = if input.b2b { &deal::B2B_DWELL_DAYS } else { &deal::SIMPLE_DWELL_DAYS };
    let dwell_mean = |level: usize| dwell_means[level.min(dwell_means.len() - 1)] * input.pace;
    let first_counted = usize::from(input.b2b && levels > 1);
    let fate = if input.b2b && levels > 1 && rng.chance(0.2) {
        Fate::Drop
    } else if rng.chance(0.015) {
        Fate::Stall(rng.between(first_counted as i64, levels as i64 - 1) as usize)
    } else if rng.chance(input.win_probability) {
        Fate::Win
    } else {
        let weights: Vec<f64> =
            (0..levels).map(|level| if level < first_counted { 0.0 } else { [6.0, 6.0, 4.0, 2.5, 1.5][level.min(4)] }).collect();
        Fate::Lose(rng.weighted(&weights))
    };
    let final_level = match fate {
        Fate::Drop => 0,
        Fate::Stall(level) | Fate::Lose(level) => level,
        Fate::Win => levels - 1,
    };
    let precise = rng.chance(0.05);
    let price = |value: f64, at: Timestamp| input.pricing.price(value, input.currency, date_of_day(day_of(at)), precise);
    let expected_days: f64 = (0..levels).map(dwell_mean).sum();
    let created_day = day_of(input.created_at);
    let first_close_day = created_day + (expected_days * (0.5 + 0.4 * rng.unit())) as i64 + 7;
    let amount_at_start = rng.chance(if input.b2b { 0.6 } else { 0.8 });
    let mut value_usd = input.value_usd;
    // When the deal first carries an amount: at creation, or on its first move forward.
    let mut amount_from = amount_at_start.then_some(input.created_at);
    let mut steps = Vec::new();
    let mut t = input.created_at;
    let mut level = 0;
    let mut bounced = false;
    let mut dark_from = None;
    let mut end = None;
    // Until when the deal is worked: its close, its last touch before stalling, or now.
    let worked_until;
    loop {
        let dwell = rng.log_normal(dwell_mean(level), 0.55).clamp(0.5, 240.0);
        let stage_end = deal::office_hours(rng, plus_days(t, dwell), input.utc_offset_hours).max(t);
        if let Fate::Stall(stall_level) = fate
            && level == stall_level
        {
            dark_from = Some(t);
            worked_until = plus_days(t, 10.0);
            break;
        }
        if level == final_level {
            let mut close = Step { close_date: Some(date_of_day(day_of(stage_end))), ..step(stage_end) };
            match fate {
                Fate::Drop => {
                    close.stage = Some(StageRef::Lost);
                    close.close_reason = Some((*rng.pick(phrases::DROP_REASONS)).to_owned());
                }
                Fate::Win => {
                    if amount_from.is_some() && rng.chance(0.3) {
                        value_usd *= 0.85 + 0.1 * rng.unit();
                        close.amount = Some(price(value_usd, stage_end));
                    }
                    close.stage = Some(StageRef::Won);
                    close.close_reason = rng.chance(0.7).then(|| (*rng.pick(phrases::WIN_REASONS)).to_owned());
                }
                Fate::Lose(_) | Fate::Stall(_) => {
                    close.stage = Some(StageRef::Lost);
                    let reasons: Vec<f64> = phrases::LOSS_REASONS.iter().map(|(_, weight)| *weight).collect();
                    close.close_reason = Some(phrases::LOSS_REASONS[rng.weighted(&reasons)].0.to_owned());
                    dark_from = Some(plus_days(stage_end, -(14.0 + 28.0 * rng.unit())).max(input.created_at));
                }
            }
            end = Some(stage_end);
            worked_until = stage_end;
            steps.push(close);
            break;
        }
        let mut move_on = step(stage_end);
        if level >= 2 && !bounced && rng.chance(0.08) {
            bounced = true;
            level -= 1;
        } else {
            level += 1;
            if amount_from.is_none() && level >= 1 {
                amount_from = Some(stage_end);
                move_on.amount = Some(price(value_usd, stage_end));
            }
            if level >= 2 && rng.chance(0.2) {
                move_on.forecast_category = Some(deal::upgraded_category(level, levels));
            }
        }
        move_on.stage = Some(StageRef::Open(level));
        steps.push(move_on);
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
        let mut close_day = first_close_day;
        let mut last_next_step = next_step.clone();
        let mut edits_made = Vec::with_capacity(n_edits);
        for at in times {
            let stage = stage_steps.iter().take_while(|(when, _)| *when <= at).last().map_or(StageRef::Open(0), |(_, stage)| *stage);
            let StageRef::Open(level_then) = stage else { continue };
            let has_amount = amount_from.is_some_and(|from| from <= at);
            let mut edit = step(at);
            match rng.weighted(&[30.0, 30.0, 20.0, 12.0, 8.0]) {
                1 => {
                    close_day = close_day.max(day_of(at)) + rng.between(7, 45);
                    edit.close_date = Some(date_of_day(close_day));
                }
                2 if has_amount => {
                    value_usd *= rng.log_normal(1.0, 0.15).clamp(0.6, 1.6);
                    edit.amount = Some(price(value_usd, at));
                }
                3 if level_then >= 1 => {
                    let upgraded = deal::upgraded_category(level_then, levels);
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

    let mut plan = DealPlan {
        created_at: input.created_at,
        name,
        amount: amount_at_start.then(|| price(input.value_usd, input.created_at)),
        close_date: date_of_day(first_close_day),
        next_step,
        steps,
        outcome: Outcome::Open,
        end: input.now,
        dark_from,
    };
    plan.steps.retain(|step| step.at <= input.now && step.at >= input.created_at);
    plan.dark_from = plan.dark_from.filter(|at| *at <= input.now);
    match (plan.steps.last().and_then(|step| step.stage), end) {
        (Some(StageRef::Won), Some(at)) if at <= input.now => {
            plan.outcome = Outcome::Won;
            plan.end = at;
        }
        (Some(StageRef::Lost), Some(at)) if at <= input.now => {
            plan.outcome = if fate == Fate::Drop { Outcome::Dropped } else { Outcome::Lost };
            plan.end = at;
        }
        _ => {}
    }
    plan
}
