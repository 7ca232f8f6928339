//! Working a lead (seeds 001 and 002): the first touch within the speed-to-lead window, then
//! attempts spaced out, up to a limit learnt from the leads that converted (how many attempts it
//! took to reach the ones that became customers); past the limit, the close-out habit in the
//! seed's order: a last-chance message, a wait, and closing the lead only once it is clearly
//! past the average sales cycle, never before.

use pipewise_core::Timestamp;

/// One contact attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub at: Timestamp,
    /// The lead answered (a call picked up, a reply).
    pub reached: bool,
    /// The last-chance message ("shall I close your file?").
    pub last_chance: bool,
}

/// How many attempts to make before the close-out starts, and what that rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub attempts: u32,
    /// Converted leads it was learnt from; none below [`MIN_BASIS`] (the default applies).
    pub basis: usize,
}

/// Below this many converted leads the limit is the default.
pub const MIN_BASIS: usize = 10;
pub const DEFAULT_LIMIT: u32 = 6;
/// The share of converted leads the limit must cover.
pub const COVER: f64 = 0.9;

/// The smallest number of attempts within which [`COVER`] of the converted leads were reached
/// (`reached_after[i]`: attempts it took to reach converted lead `i`), kept between 3 and 12.
pub fn learn_limit(reached_after: &[u32]) -> Limit {
    if reached_after.len() < MIN_BASIS {
        return Limit { attempts: DEFAULT_LIMIT, basis: reached_after.len() };
    }
    let mut sorted = reached_after.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 * COVER).ceil() as usize).clamp(1, sorted.len()) - 1;
    Limit { attempts: sorted[index].clamp(3, 12), basis: sorted.len() }
}

/// The rules of the cadence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// The speed-to-lead window for the first touch.
    pub first_touch_hours: i64,
    pub limit: Limit,
    /// Days between attempt `n` and `n + 1` (the last repeats).
    pub gaps_days: [i64; 5],
    /// Days to wait after the last-chance message.
    pub last_chance_wait_days: i64,
    /// The organisation's average sales cycle, in days.
    pub cycle_days: i64,
}

impl Policy {
    pub fn new(limit: Limit, cycle_days: i64) -> Policy {
        Policy { first_touch_hours: 24, limit, gaps_days: [1, 2, 3, 5, 7], last_chance_wait_days: 3, cycle_days: cycle_days.max(1) }
    }

    fn gap_after(&self, attempts: usize) -> i64 {
        self.gaps_days[attempts.saturating_sub(1).min(self.gaps_days.len() - 1)]
    }
}

/// What the lead needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// No attempt yet: due by the end of the window; `late` once past it.
    FirstTouch { due: Timestamp, late: bool },
    /// Attempt `number` (of the limit) is due at `due`.
    Attempt { number: u32, due: Timestamp },
    /// The limit is reached without an answer: send the last-chance message.
    LastChance,
    /// Waiting after the last-chance message, or for the lead to be past the average sales
    /// cycle, until `until`.
    Wait { until: Timestamp },
    /// Clearly past the average sales cycle with no answer: close it out.
    CloseOut,
    /// They answered: the rep works it as a conversation, not a cadence.
    Engaged,
}

/// The speed to lead: how long the first touch took, and whether it was inside the window.
pub fn first_touch(created: Timestamp, attempts: &[Attempt], policy: &Policy) -> Option<(i64, bool)> {
    let first = attempts.iter().map(|attempt| attempt.at).min()?;
    let minutes = (first.as_micros() - created.as_micros()).max(0) / 60_000_000;
    Some((minutes, minutes <= policy.first_touch_hours * 60))
}

/// The lead's next step at `now`.
pub fn next_step(created: Timestamp, attempts: &[Attempt], policy: &Policy, now: Timestamp) -> Step {
    let mut attempts: Vec<Attempt> = attempts.to_vec();
    attempts.sort_by_key(|attempt| attempt.at);
    if attempts.iter().any(|attempt| attempt.reached) {
        return Step::Engaged;
    }
    let tries: Vec<&Attempt> = attempts.iter().filter(|attempt| !attempt.last_chance).collect();
    let Some(last) = tries.last() else {
        let due = created.plus_seconds(policy.first_touch_hours * 3_600);
        return Step::FirstTouch { due, late: now > due };
    };
    let made = tries.len() as u32;
    if made < policy.limit.attempts {
        return Step::Attempt { number: made + 1, due: last.at.plus_seconds(policy.gap_after(tries.len()) * 86_400) };
    }
    let Some(last_chance) = attempts.iter().rev().find(|attempt| attempt.last_chance) else { return Step::LastChance };
    let waited = last_chance.at.plus_seconds(policy.last_chance_wait_days * 86_400);
    let past_cycle = created.plus_seconds(policy.cycle_days * 86_400);
    let until = waited.max(past_cycle);
    if now >= until { Step::CloseOut } else { Step::Wait { until } }
}
