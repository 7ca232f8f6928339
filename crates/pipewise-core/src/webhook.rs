//! What outbound webhooks send (SPEC C11): the organisation's history log read in sequence order,
//! cut into events (one per write to one deal: the run of history rows with the same deal, time,
//! actor and edge), each given its kinds and filtered by a subscription. Pure: the application
//! layer reads the log, words the body and stores progress; the edge sends.

use std::collections::BTreeSet;

use crate::error::Problem;
use crate::history::HistoryEvent;
use crate::id::OpportunityId;
use crate::opportunity::{OppField, Status};
use crate::records::text_enum;

text_enum! {
    /// The kinds of deal event a webhook may subscribe to.
    EventKind {
        Created => "opportunity.created",
        Won => "opportunity.won",
        Lost => "opportunity.lost",
        Reopened => "opportunity.reopened",
        StageChanged => "opportunity.stage_changed",
        Updated => "opportunity.updated",
    }
    expected "one of opportunity.created, opportunity.won, opportunity.lost, opportunity.reopened, opportunity.stage_changed, opportunity.updated, or *"
}

/// The kinds a webhook receives: every kind, or the ones named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    Every,
    Kinds(BTreeSet<EventKind>),
}

impl Subscription {
    /// Reads kinds separated by spaces or commas; `*` is every kind. At least one.
    pub fn parse(text: &str) -> Result<Subscription, Problem> {
        let words: Vec<&str> = text.split([' ', ',', '\n', '\t']).filter(|word| !word.is_empty()).collect();
        if words.is_empty() {
            return Err(Problem::Required);
        }
        if words.contains(&"*") {
            return Ok(Subscription::Every);
        }
        words.into_iter().map(EventKind::parse).collect::<Result<_, _>>().map(Subscription::Kinds)
    }

    /// The stored form: `*`, or the kinds in a fixed order separated by spaces.
    pub fn as_text(&self) -> String {
        match self {
            Subscription::Every => "*".to_owned(),
            Subscription::Kinds(kinds) => kinds.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(" "),
        }
    }

    pub fn admits(&self, kinds: &[EventKind]) -> bool {
        match self {
            Subscription::Every => true,
            Subscription::Kinds(subscribed) => kinds.iter().any(|kind| subscribed.contains(kind)),
        }
    }
}

/// One write to one deal, as the history log holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event<'a> {
    pub rows: &'a [HistoryEvent],
    /// Most telling first: created, then won, lost or reopened, then a stage move, then any
    /// other change.
    pub kinds: Vec<EventKind>,
}

impl Event<'_> {
    pub fn first_seq(&self) -> i64 {
        self.rows[0].seq
    }

    pub fn last_seq(&self) -> i64 {
        self.rows[self.rows.len() - 1].seq
    }

    pub fn opportunity_id(&self) -> OpportunityId {
        self.rows[0].opportunity_id
    }

    /// The event's main kind.
    pub fn kind(&self) -> EventKind {
        self.kinds[0]
    }
}

/// Cuts `rows` (in sequence order) into events. With `more` (the rows are a page of a longer
/// log), the last event may continue past the page and is left for the next read, unless it is
/// the only one.
pub fn events(rows: &[HistoryEvent], more: bool) -> Vec<Event<'_>> {
    let mut events = Vec::new();
    let mut start = 0;
    for index in 1..=rows.len() {
        let boundary = index == rows.len() || {
            let (a, b) = (&rows[index - 1], &rows[index]);
            (a.opportunity_id, a.at, a.actor_id, a.source) != (b.opportunity_id, b.at, b.actor_id, b.source)
        };
        if boundary {
            let rows = &rows[start..index];
            events.push(Event { rows, kinds: kinds(rows) });
            start = index;
        }
    }
    if more && events.len() > 1 {
        events.pop();
    }
    events
}

fn kinds(rows: &[HistoryEvent]) -> Vec<EventKind> {
    let created = rows.iter().any(|row| row.field == OppField::Name && row.old.is_none());
    let status = rows.iter().find(|row| row.field == OppField::Status);
    let is = |value: &Option<String>, status: Status| value.as_deref() == Some(status.as_str());
    let mut kinds = Vec::new();
    if created {
        kinds.push(EventKind::Created);
    }
    if let Some(row) = status {
        if is(&row.new, Status::Won) {
            kinds.push(EventKind::Won);
        } else if is(&row.new, Status::Lost) {
            kinds.push(EventKind::Lost);
        } else if !created && is(&row.new, Status::Open) {
            kinds.push(EventKind::Reopened);
        }
    }
    if !created && rows.iter().any(|row| row.field == OppField::Stage) {
        kinds.push(EventKind::StageChanged);
    }
    // A stage move or a close carries its own closing time, reason and forecast category: only
    // another field (or a category set by hand) makes it an update too.
    let moved = status.is_some() || rows.iter().any(|row| row.field == OppField::Stage);
    let other = |field: OppField| match field {
        OppField::Status | OppField::Stage | OppField::ClosedAt | OppField::CloseReason => false,
        OppField::ForecastCategory => !moved,
        field => !field.is_marker(),
    };
    if !created && (kinds.is_empty() || rows.iter().any(|row| other(row.field))) {
        kinds.push(EventKind::Updated);
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Source;
    use crate::id::UserId;
    use crate::time::Timestamp;

    fn row(seq: i64, deal: i64, at: i64, field: OppField, old: Option<&str>, new: Option<&str>) -> HistoryEvent {
        HistoryEvent {
            seq,
            opportunity_id: OpportunityId(deal),
            field,
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
            at: Timestamp::from_micros(at * 1_000_000),
            actor_id: Some(UserId(7)),
            source: Source::Web,
        }
    }

    fn log() -> Vec<HistoryEvent> {
        vec![
            // Deal 1 created.
            row(1, 1, 10, OppField::Name, None, Some("Acme renewal")),
            row(2, 1, 10, OppField::Stage, None, Some("3")),
            row(3, 1, 10, OppField::Status, None, Some("open")),
            // Deal 2's amount changed.
            row(4, 2, 11, OppField::Amount, Some("USD 10.00"), Some("USD 20.00")),
            // Deal 1 moved a stage.
            row(5, 1, 12, OppField::Stage, Some("3"), Some("4")),
            // Deal 1 won: stage, status, closing time.
            row(6, 1, 13, OppField::Stage, Some("4"), Some("6")),
            row(7, 1, 13, OppField::Status, Some("open"), Some("won")),
            row(8, 1, 13, OppField::ForecastCategory, Some("pipeline"), Some("closed")),
            // Deal 1 reopened with a new close date.
            row(9, 1, 14, OppField::Status, Some("won"), Some("open")),
            row(10, 1, 14, OppField::CloseDate, Some("2026-12-01"), Some("2027-01-15")),
        ]
    }

    #[test]
    fn the_log_is_cut_into_one_event_per_write_with_its_kinds() {
        let rows = log();
        let events = events(&rows, false);
        let seen: Vec<(i64, i64, Vec<&str>)> = events
            .iter()
            .map(|event| (event.first_seq(), event.last_seq(), event.kinds.iter().map(|kind| kind.as_str()).collect()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1, 3, vec!["opportunity.created"]),
                (4, 4, vec!["opportunity.updated"]),
                (5, 5, vec!["opportunity.stage_changed"]),
                (6, 8, vec!["opportunity.won", "opportunity.stage_changed"]),
                (9, 10, vec!["opportunity.reopened", "opportunity.updated"]),
            ]
        );
    }

    #[test]
    fn a_page_of_a_longer_log_leaves_its_last_event_for_the_next_read() {
        let rows = log();
        let page = &rows[..7];
        let events = events(page, true);
        assert_eq!(events.last().map(Event::last_seq), Some(5), "the win (6–8) is read whole next time");
        let single = events_of_one(&rows[5..7]);
        assert_eq!(single, vec![(6, 7)], "a page holding part of one event still moves on");
    }

    fn events_of_one(rows: &[HistoryEvent]) -> Vec<(i64, i64)> {
        events(rows, true).iter().map(|event| (event.first_seq(), event.last_seq())).collect()
    }

    #[test]
    fn subscriptions_read_kinds_and_admit_events_with_any_of_them() {
        let won = Subscription::parse("opportunity.won, opportunity.lost").unwrap();
        assert_eq!(won.as_text(), "opportunity.won opportunity.lost");
        assert!(won.admits(&[EventKind::Won, EventKind::StageChanged]));
        assert!(!won.admits(&[EventKind::StageChanged]));
        assert_eq!(Subscription::parse(" * ").unwrap(), Subscription::Every);
        assert_eq!(Subscription::parse("  "), Err(Problem::Required));
        assert!(
            matches!(Subscription::parse("opportunity.won deal.exploded"), Err(Problem::Invalid { value, .. }) if value == "deal.exploded")
        );
    }
}
