//! The immutable history of opportunities, and replaying it to any past state.
//!
//! Every write to an opportunity appends one [`HistoryEvent`] per changed field, in the same
//! transaction as the write. Events carry a sequence number that only grows (per organisation),
//! so a reader can follow the log from where it left off.
//!
//! Replay rule: the state of a deal as of `t` is what applying, in sequence order, every event
//! of that deal with `at <= t` gives. The store keeps `at` non-decreasing per deal (a write
//! stamped earlier than the deal's last change is stamped with that change's time instead), so
//! sequence order and time order agree and "as of" is well defined.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Problem;
use crate::id::{OpportunityId, PipelineId, StageId, UserId};
use crate::opportunity::{OppField, Opportunity, Status};
use crate::pipeline::ForecastCategory;
use crate::records::text_enum;
use crate::time::Timestamp;

text_enum! {
    /// Through which edge a change came in.
    Source { Web => "web", Api => "api", Cli => "cli", Import => "import", Mail => "mail", Demo => "demo", System => "system" }
    expected "one of web, api, cli, import, mail, demo, system"
}

/// One field's change, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub field: OppField,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One stored change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEvent {
    /// Grows by one with every event of the organisation, in commit order.
    pub seq: i64,
    pub opportunity_id: OpportunityId,
    pub field: OppField,
    pub old: Option<String>,
    pub new: Option<String>,
    pub at: Timestamp,
    /// Who made the change; `None` for the system.
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// The changes that turn `before` into `after`; with no `before` (a creation), every set field.
pub fn diff(before: Option<&Opportunity>, after: &Opportunity) -> Vec<Change> {
    OppField::ALL
        .into_iter()
        .filter_map(|field| {
            let old = before.and_then(|before| field.encode(before));
            let new = field.encode(after);
            (old != new).then_some(Change { field, old, new })
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("history event {seq} of opportunity {opportunity_id}: {field}: {problem}")]
    BadValue { seq: i64, opportunity_id: OpportunityId, field: OppField, problem: Problem },
    #[error("history of opportunity {opportunity_id} never sets {field}")]
    Incomplete { opportunity_id: OpportunityId, field: OppField },
}

/// Rebuilds one deal from its events (in sequence order). `None` when there are none.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a HistoryEvent>) -> Result<Option<Opportunity>, ReplayError> {
    let mut events = events.into_iter().peekable();
    let Some(first) = events.peek() else { return Ok(None) };
    let mut opportunity = blank(first.opportunity_id, first.at);
    let mut required_seen = [false; 4];
    for event in events {
        event.field.decode_into(&mut opportunity, event.new.as_deref()).map_err(|problem| ReplayError::BadValue {
            seq: event.seq,
            opportunity_id: event.opportunity_id,
            field: event.field,
            problem,
        })?;
        if let Some(index) = REQUIRED.iter().position(|field| *field == event.field) {
            required_seen[index] = true;
        }
    }
    if let Some(index) = required_seen.iter().position(|seen| !seen) {
        return Err(ReplayError::Incomplete { opportunity_id: opportunity.id, field: REQUIRED[index] });
    }
    Ok(Some(opportunity))
}

/// The deal as it was known at `t`: replay of the events with `at <= t`.
pub fn as_of(events: &[HistoryEvent], t: Timestamp) -> Result<Option<Opportunity>, ReplayError> {
    replay(events.iter().filter(|event| event.at <= t))
}

/// Rebuilds every deal from a log of many deals' events (in sequence order), as of `t`.
pub fn book_as_of<'a>(
    events: impl IntoIterator<Item = &'a HistoryEvent>,
    t: Timestamp,
) -> Result<BTreeMap<OpportunityId, Opportunity>, ReplayError> {
    let mut by_deal: BTreeMap<OpportunityId, Vec<&HistoryEvent>> = BTreeMap::new();
    for event in events.into_iter().filter(|event| event.at <= t) {
        by_deal.entry(event.opportunity_id).or_default().push(event);
    }
    let mut book = BTreeMap::new();
    for (id, events) in by_deal {
        if let Some(opportunity) = replay(events)? {
            book.insert(id, opportunity);
        }
    }
    Ok(book)
}

/// Fields a creation always records.
const REQUIRED: [OppField; 4] = [OppField::Name, OppField::Owner, OppField::Pipeline, OppField::Stage];

fn blank(id: OpportunityId, created_at: Timestamp) -> Opportunity {
    Opportunity {
        id,
        name: String::new(),
        account_id: None,
        owner_id: UserId(0),
        pipeline_id: PipelineId(0),
        stage_id: StageId(0),
        amount: None,
        close_date: None,
        forecast_category: ForecastCategory::Pipeline,
        next_step: None,
        status: Status::Open,
        created_at,
        closed_at: None,
        close_reason: None,
    }
}

impl fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "∅".to_owned());
        write!(
            f,
            "#{} {} opportunity {} {}: {} → {} ({})",
            self.seq,
            self.at,
            self.opportunity_id,
            self.field,
            show(&self.old),
            show(&self.new),
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opportunity::tests::{at, new_deal, simple_pipeline};
    use crate::opportunity::{self, OpportunityPatch};
    use crate::{AccountId, Money};
    use proptest::prelude::*;

    /// Appends `changes` as events the way a store does.
    fn append(log: &mut Vec<HistoryEvent>, id: OpportunityId, changes: Vec<Change>, when: Timestamp) {
        for change in changes {
            let seq = log.len() as i64 + 1;
            log.push(HistoryEvent {
                seq,
                opportunity_id: id,
                field: change.field,
                old: change.old,
                new: change.new,
                at: when,
                actor_id: Some(UserId(3)),
                source: Source::Api,
            });
        }
    }

    #[test]
    fn a_deal_is_replayed_as_of_last_week() {
        let pipeline = simple_pipeline();
        let id = OpportunityId(1);
        let mut log = Vec::new();
        let created = opportunity::create(id, &new_deal(), &pipeline, at("2026-11-02T09:00:00Z")).unwrap();
        append(&mut log, id, diff(None, &created), created.created_at);
        let bigger =
            OpportunityPatch { amount: Some(Some("USD 15000".parse().unwrap())), stage_id: Some(StageId(2)), ..Default::default() };
        let edited = opportunity::apply(&created, &bigger, &pipeline, at("2026-11-20T10:00:00Z")).unwrap();
        let changes = diff(Some(&created), &edited);
        assert_eq!(changes.iter().map(|change| change.field.as_str()).collect::<Vec<_>>(), ["stage_id", "amount"]);
        append(&mut log, id, changes, at("2026-11-20T10:00:00Z"));

        assert_eq!(replay(&log).unwrap(), Some(edited.clone()));
        assert_eq!(as_of(&log, at("2026-11-15T00:00:00Z")).unwrap(), Some(created));
        assert_eq!(as_of(&log, at("2026-11-01T00:00:00Z")).unwrap(), None, "not yet created");
        assert_eq!(log[5].to_string(), "#6 2026-11-02T09:00:00Z opportunity 1 amount: ∅ → USD 12000.00 (api)");
    }

    #[test]
    fn corrupt_history_is_an_error_not_a_panic() {
        let event = |seq, field, new: &str| HistoryEvent {
            seq,
            opportunity_id: OpportunityId(9),
            field,
            old: None,
            new: Some(new.into()),
            at: at("2026-01-01T00:00:00Z"),
            actor_id: None,
            source: Source::System,
        };
        assert_eq!(
            replay(&[event(1, OppField::Name, "x"), event(2, OppField::Amount, "USD 1.234")]).unwrap_err().to_string(),
            "history event 2 of opportunity 9: amount: 1.234 has 3 decimal places but USD has 2"
        );
        assert_eq!(replay(&[event(1, OppField::Name, "x")]).unwrap_err().to_string(), "history of opportunity 9 never sets owner_id");
    }

    /// One random edit: target stage (index into the simple pipeline), amount in cents, a new
    /// name, an account, and the seconds since the previous edit.
    type Edit = (Option<usize>, Option<Option<u32>>, Option<String>, Option<Option<i64>>, u8);

    fn edit() -> impl Strategy<Value = Edit> {
        (
            proptest::option::of(0usize..6),
            proptest::option::of(proptest::option::of(0u32..1_000_000)),
            proptest::option::of("[a-z ]{0,12}"),
            proptest::option::of(proptest::option::of(1i64..5)),
            0u8..3, // seconds to the next edit: 0 means the same instant.
        )
    }

    proptest! {
        #[test]
        fn replay_gives_the_current_state_and_as_of_the_state_seen_then(edits in proptest::collection::vec(edit(), 0..25)) {
            let pipeline = simple_pipeline();
            let id = OpportunityId(1);
            let mut log = Vec::new();
            let mut now = at("2026-01-01T00:00:00Z");
            let mut current = opportunity::create(id, &new_deal(), &pipeline, now).unwrap();
            append(&mut log, id, diff(None, &current), now);
            let mut observed = vec![(now, current.clone())];
            for (stage, amount, name, account, gap) in edits {
                now = now.plus_seconds(i64::from(gap));
                let stage_id = stage.map(|index| pipeline.stages[index].id);
                let patch = OpportunityPatch {
                    stage_id,
                    close_reason: (stage == Some(5)).then(|| Some("lost to a competitor".to_owned())),
                    amount: amount.map(|cents| cents.map(|cents| Money::new(rust_decimal::Decimal::new(i64::from(cents), 2), crate::Currency::USD).unwrap())),
                    name: name.filter(|name| !name.trim().is_empty()),
                    account_id: account.map(|account| account.map(AccountId)),
                    ..Default::default()
                };
                let Ok(next) = opportunity::apply(&current, &patch, &pipeline, now) else { continue };
                append(&mut log, id, diff(Some(&current), &next), now);
                current = next;
                observed.retain(|(when, _)| *when != now);
                observed.push((now, current.clone()));
            }
            prop_assert_eq!(replay(&log).unwrap(), Some(current));
            for (when, state) in observed {
                prop_assert_eq!(as_of(&log, when).unwrap(), Some(state));
            }
        }
    }
}
