//! A deal's activities (e-mails, calls, meetings, notes) and tasks, planned from the deal's
//! plan so that they happen while the deal lives and read like its stage.
//!
//! Signals later features look for are planted on purpose: inbound mail stops when a buyer
//! goes dark before a loss, the last inbound messages of won and lost deals sound positive and
//! negative, a few activities are logged days after they happened, and some open tasks are
//! overdue.

use pipewise_core::records::{ActivityKind, Direction};
use pipewise_core::user::Locale;
use pipewise_core::{ContactId, Date, Timestamp};

use crate::clock::{self, date_of_day, day_of, days_between, plus_days};
use crate::deal::{DealPlan, Outcome, StageRef};
use crate::org::PersonPlan;
use crate::phrases::{self, Phrase, say};
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityPlan {
    pub kind: ActivityKind,
    pub direction: Direction,
    pub occurred_at: Timestamp,
    /// When it was entered or captured; far after `occurred_at` is a late CRM update.
    pub logged_at: Timestamp,
    pub subject: String,
    pub body: Option<String>,
    /// Indices into the deal's buying team.
    pub contacts: Vec<usize>,
    /// Logged by the owner's manager rather than the owner.
    pub by_manager: bool,
}

/// What the activities of one deal depend on besides the deal's plan.
#[derive(Clone, Copy, Debug)]
pub struct ActivityInput<'a> {
    pub now: Timestamp,
    /// Whether each member of the buying team writes Korean.
    pub buying_team_korean: &'a [bool],
    pub owner_korean: bool,
    pub utc_offset_hours: i64,
    pub count: usize,
}

/// A contact on an account, as activities need them.
#[derive(Clone, Copy, Debug)]
pub struct Buyer {
    pub id: ContactId,
    pub korean: bool,
}

/// A deal's buying team: the account's `buyers` shuffled, then as many as `size` draws.
pub fn draw_buying_team(rng: &mut Rng, buyers: &[Buyer], size: impl FnOnce(&mut Rng) -> usize) -> Vec<Buyer> {
    let mut team = buyers.to_vec();
    rng.shuffle(&mut team);
    team.truncate(size(rng));
    team
}

/// How much activity a deal gets relative to others: more the longer it lives (against the
/// average life `mean_life_days`), with a random spread.
pub fn activity_weight(rng: &mut Rng, plan: &DealPlan, mean_life_days: f64) -> f64 {
    (0.4 + 0.6 * plan.life_days() / mean_life_days) * rng.log_normal(1.0, 0.25)
}

/// `count` activities of a deal with the buying team `team`, logged in the language and office
/// hours of its owner `owner`.
pub fn plan_team_activities(
    rng: &mut Rng,
    plan: &DealPlan,
    now: Timestamp,
    team: &[Buyer],
    owner: &PersonPlan,
    count: usize,
) -> Vec<ActivityPlan> {
    let buying_team_korean: Vec<bool> = team.iter().map(|buyer| buyer.korean).collect();
    let input = ActivityInput {
        now,
        buying_team_korean: &buying_team_korean,
        owner_korean: owner.locale == Locale::Ko,
        utc_offset_hours: owner.utc_offset_hours,
        count,
    };
    plan_activities(rng, plan, &input)
}

/// The phrase lists' level for a stage.
fn level_of(stage: StageRef) -> usize {
    match stage {
        StageRef::Open(level) => level.min(4),
        StageRef::Won | StageRef::Lost => 4,
    }
}

pub fn plan_activities(rng: &mut Rng, plan: &DealPlan, input: &ActivityInput) -> Vec<ActivityPlan> {
    let start = plan.created_at;
    let end = plan.end.min(input.now);
    let span = days_between(start, end).max(0.0);
    let mut times: Vec<Timestamp> = (0..input.count)
        .map(|_| {
            let raw = plus_days(start, span * rng.unit());
            clock::snap_to_working_time(rng, raw, input.utc_offset_hours).clamp(start, end)
        })
        .collect();
    times.sort();
    let team = input.buying_team_korean;
    times
        .into_iter()
        .map(|occurred_at| {
            let stage = plan.stage_at(occurred_at);
            let level = level_of(stage);
            let late_in_life = span > 0.0 && days_between(start, occurred_at) > span * 0.85;
            let (kind, mut direction) = match rng.weighted(&[45.0, 20.0, 18.0, 12.0]) {
                0 => (ActivityKind::Email, *rng.pick(&[Direction::Inbound, Direction::Inbound, Direction::Outbound, Direction::Outbound])),
                1 => (ActivityKind::Call, if rng.chance(0.3) { Direction::Inbound } else { Direction::Outbound }),
                2 => (ActivityKind::Meeting, if rng.chance(0.35) { Direction::Inbound } else { Direction::Outbound }),
                _ => (ActivityKind::Note, Direction::Internal),
            };
            if direction == Direction::Inbound && plan.dark_from.is_some_and(|dark| occurred_at >= dark) {
                // The buyer has gone quiet: the rep keeps chasing.
                direction = Direction::Outbound;
            }
            let n_contacts = match kind {
                ActivityKind::Note => usize::from(rng.chance(0.4)),
                ActivityKind::Meeting => 1 + rng.weighted(&[4.0, 4.0, 2.0]),
                _ => 1 + usize::from(rng.chance(0.25)),
            };
            let mut contacts: Vec<usize> = (0..n_contacts.min(team.len())).map(|_| rng.index(team.len())).collect();
            contacts.sort();
            contacts.dedup();
            let korean = match (kind, contacts.first()) {
                (ActivityKind::Note, _) | (_, None) => input.owner_korean,
                (_, Some(&contact)) => team[contact],
            };
            let subject = subject(rng, kind, direction, level, korean);
            let body = body(rng, plan, kind, direction, late_in_life, korean);
            let delay_minutes = match rng.weighted(&[92.0, 6.0, 2.0]) {
                0 => rng.between(2, 180),
                1 => rng.between(24 * 60, 3 * 24 * 60),
                _ => rng.between(5 * 24 * 60, 15 * 24 * 60),
            };
            let logged_at = occurred_at.plus_seconds(delay_minutes * 60).min(input.now).max(occurred_at);
            let by_manager = matches!(kind, ActivityKind::Meeting | ActivityKind::Note) && rng.chance(0.08);
            ActivityPlan { kind, direction, occurred_at, logged_at, subject, body, contacts, by_manager }
        })
        .collect()
}

fn subject(rng: &mut Rng, kind: ActivityKind, direction: Direction, level: usize, korean: bool) -> String {
    let list: &[Phrase] = match (kind, direction) {
        (ActivityKind::Email, Direction::Inbound) => phrases::EMAIL_IN[level],
        (ActivityKind::Email, Direction::Internal) => phrases::NOTES,
        (ActivityKind::Email, _) => phrases::EMAIL_OUT[level],
        (ActivityKind::Call, _) => phrases::CALLS[level],
        (ActivityKind::Meeting, _) => phrases::MEETINGS[level],
        _ => phrases::NOTES,
    };
    if kind == ActivityKind::Note && rng.chance(0.2) {
        let competitor = rng.pick(crate::names::COMPETITORS);
        return say(phrases::COMPETITOR_NOTE, korean).replace("{}", competitor);
    }
    say(*rng.pick(list), korean).to_owned()
}

fn body(rng: &mut Rng, plan: &DealPlan, kind: ActivityKind, direction: Direction, late_in_life: bool, korean: bool) -> Option<String> {
    let share = match kind {
        ActivityKind::Email => 0.6,
        ActivityKind::Note => 0.7,
        ActivityKind::Meeting => 0.4,
        _ => 0.3,
    };
    if !rng.chance(share) {
        return None;
    }
    let list = match (direction, late_in_life, plan.outcome) {
        (Direction::Inbound, true, Outcome::Won) => phrases::BODY_POSITIVE,
        (Direction::Inbound, true, Outcome::Lost) => phrases::BODY_NEGATIVE,
        _ => phrases::BODY_NEUTRAL,
    };
    Some(say(*rng.pick(list), korean).to_owned())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPlan {
    pub title: String,
    pub due_on: Date,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// `count` tasks on a deal: done ones during its life, and for open deals some still to do,
/// some of them overdue.
pub fn plan_deal_tasks(rng: &mut Rng, plan: &DealPlan, now: Timestamp, count: usize, korean: bool, utc_offset_hours: i64) -> Vec<TaskPlan> {
    let today = day_of(now);
    (0..count)
        .map(|_| {
            let open = plan.outcome == Outcome::Open && rng.chance(0.7);
            let (due_day, stage) = if open {
                (today + rng.between(-12, 25), plan.stage_at(now))
            } else {
                let at = plus_days(plan.created_at, days_between(plan.created_at, plan.end) * rng.unit());
                (day_of(at), plan.stage_at(at))
            };
            let title = say(*rng.pick(phrases::TASKS[level_of(stage)]), korean).to_owned();
            let earliest = plan.created_at;
            let created_day = due_day - rng.between(2, 10);
            let created_at = clock::working_time(rng, created_day, utc_offset_hours).clamp(earliest, now);
            let done = if open { due_day < today && rng.chance(0.45) } else { rng.chance(0.95) };
            let completed_day = due_day + rng.between(-2, 1);
            let completed_at = done.then(|| clock::working_time(rng, completed_day, utc_offset_hours).clamp(created_at, now));
            TaskPlan { title, due_on: date_of_day(due_day), completed_at, created_at }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deal::{DealInput, Pricing, plan_deal};
    use crate::rng::Stream;
    use pipewise_core::Currency;
    use pipewise_core::fx::RateTable;

    #[test]
    fn activities_happen_during_the_deal_and_respect_going_dark() {
        let rates = RateTable::new(Currency::EUR);
        let now: Timestamp = "2026-10-30T12:00:00Z".parse().unwrap();
        let mut n_activities = 0;
        let mut late = 0;
        for index in 0..300u64 {
            let input = DealInput {
                created_at: "2025-09-01T10:00:00Z".parse().unwrap(),
                now,
                b2b: true,
                open_stages: 5,
                account_name: "한빛데이터",
                korean: true,
                currency: Currency::KRW,
                value_usd: 30_000.0,
                win_probability: 0.3,
                pace: 1.0,
                utc_offset_hours: 9,
                pricing: Pricing { rates: &rates },
            };
            let plan = plan_deal(&mut Rng::stream(1, Stream::Deal, index), &input);
            let activity_input =
                ActivityInput { now, buying_team_korean: &[true, false, true], owner_korean: true, utc_offset_hours: 9, count: 12 };
            let mut rng = Rng::stream(1, Stream::Activities, index);
            let activities = plan_activities(&mut rng, &plan, &activity_input);
            assert_eq!(activities.len(), 12);
            for activity in &activities {
                assert!(activity.occurred_at >= plan.created_at && activity.occurred_at <= plan.end, "{activity:?}");
                assert!(activity.logged_at >= activity.occurred_at && activity.logged_at <= now);
                assert!(activity.contacts.iter().all(|&contact| contact < 3));
                if let Some(dark) = plan.dark_from {
                    assert!(!(activity.direction == Direction::Inbound && activity.occurred_at >= dark));
                }
                assert_eq!(
                    activity.kind == ActivityKind::Note,
                    activity.direction == Direction::Internal || activity.kind == ActivityKind::Note
                );
                late += usize::from(days_between(activity.occurred_at, activity.logged_at) > 1.0);
            }
            n_activities += activities.len();
            for task in plan_deal_tasks(&mut Rng::stream(1, Stream::Tasks, index), &plan, now, 2, true, 9) {
                assert!(task.created_at >= plan.created_at && task.created_at <= now);
                assert!(task.completed_at.is_none_or(|done| done >= task.created_at && done <= now));
            }
        }
        let share_late = late as f64 / n_activities as f64;
        assert!((0.03..0.15).contains(&share_late), "{share_late}");
    }
}
