//! Builds real history logs the way the store does: `opportunity::create` / `apply` for the
//! rules, `history::diff` for the events, sequence numbers in commit order.

use std::collections::BTreeMap;

use pipewise_analytics::{Day, Projection, date_of_day};
use pipewise_core::fx::RateTable;
use pipewise_core::history::{HistoryEvent, Source, diff};
use pipewise_core::opportunity::{self, NewOpportunity, Opportunity, OpportunityPatch};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::{Currency, Money, OpportunityId, PipelineId, StageId, Timestamp, UserId, templates};

/// Noon UTC of a `YYYY-MM-DD` date.
pub fn noon(date: &str) -> Timestamp {
    format!("{date}T12:00:00Z").parse().unwrap()
}

/// Noon UTC of a day number.
pub fn noon_of(day: Day) -> Timestamp {
    noon(&date_of_day(day).to_string())
}

pub fn usd(text: &str) -> Money {
    format!("USD {text}").parse().unwrap()
}

/// The B2B template as pipeline 1 with stage ids 1..=7 (positions 0..=6: stage 1 … 5, won,
/// lost) and the simple template as pipeline 2 with stage ids 11..=16.
pub fn pipelines() -> Vec<Pipeline> {
    vec![templates::b2b_the_model().materialise(PipelineId(1), 1), templates::simple().materialise(PipelineId(2), 11)]
}

pub struct LogBuilder {
    pub pipelines: Vec<Pipeline>,
    pub log: Vec<HistoryEvent>,
    pub deals: BTreeMap<i64, Opportunity>,
}

impl LogBuilder {
    pub fn new(pipelines: Vec<Pipeline>) -> LogBuilder {
        LogBuilder { pipelines, log: Vec::new(), deals: BTreeMap::new() }
    }

    fn pipeline(&self, id: PipelineId) -> &Pipeline {
        self.pipelines.iter().find(|pipeline| pipeline.id == id).expect("known pipeline")
    }

    fn append(&mut self, id: i64, before: Option<&Opportunity>, after: &Opportunity, at: Timestamp) {
        for change in diff(before, after) {
            let seq = self.log.len() as i64 + 1;
            self.log.push(HistoryEvent {
                seq,
                opportunity_id: OpportunityId(id),
                field: change.field,
                old: change.old,
                new: change.new,
                at,
                actor_id: Some(after.owner_id),
                source: Source::Api,
            });
        }
    }

    /// Creates deal `id` in `pipeline` at the stage of `position`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &mut self,
        id: i64,
        owner: i64,
        pipeline: i64,
        position: usize,
        amount: Option<Money>,
        close: Option<&str>,
        at: Timestamp,
    ) {
        let pipeline = self.pipeline(PipelineId(pipeline)).clone();
        let new = NewOpportunity {
            name: format!("Deal {id}"),
            account_id: None,
            owner_id: UserId(owner),
            pipeline_id: pipeline.id,
            stage_id: Some(pipeline.stages[position].id),
            amount,
            close_date: close.map(|date| date.parse().unwrap()),
            forecast_category: None,
            next_step: None,
            close_reason: (pipeline.stages[position].kind == StageKind::Lost).then(|| "lost".to_owned()),
        };
        let deal = opportunity::create(OpportunityId(id), &new, &pipeline, at).unwrap();
        self.append(id, None, &deal, at);
        self.deals.insert(id, deal);
    }

    /// Applies `patch` to deal `id`; `false` (and no events) if the rules refuse it.
    pub fn try_update(&mut self, id: i64, patch: OpportunityPatch, at: Timestamp) -> bool {
        let current = self.deals[&id].clone();
        let pipeline = self.pipeline(patch.pipeline_id.unwrap_or(current.pipeline_id)).clone();
        let Ok(next) = opportunity::apply(&current, &patch, &pipeline, at) else { return false };
        self.append(id, Some(&current), &next, at);
        self.deals.insert(id, next);
        true
    }

    pub fn update(&mut self, id: i64, patch: OpportunityPatch, at: Timestamp) {
        assert!(self.try_update(id, patch, at), "update of deal {id} refused");
    }

    /// Moves deal `id` to the stage at `position` of its pipeline (a reason for a loss).
    pub fn stage(&mut self, id: i64, position: usize, at: Timestamp) {
        let pipeline = self.pipeline(self.deals[&id].pipeline_id).clone();
        let stage = &pipeline.stages[position];
        let close_reason = (stage.kind == StageKind::Lost).then(|| Some("lost to a competitor".to_owned()));
        self.update(id, OpportunityPatch { stage_id: Some(stage.id), close_reason, ..Default::default() }, at);
    }

    pub fn amount(&mut self, id: i64, amount: Money, at: Timestamp) {
        self.update(id, OpportunityPatch { amount: Some(Some(amount)), ..Default::default() }, at);
    }

    pub fn close_date(&mut self, id: i64, date: &str, at: Timestamp) {
        self.update(id, OpportunityPatch { close_date: Some(Some(date.parse().unwrap())), ..Default::default() }, at);
    }

    /// A projection of the whole log in USD (no rates needed), compacted.
    pub fn projection(&self) -> Projection {
        Projection::build(Currency::USD, RateTable::new(Currency::USD), &self.pipelines, &self.log).unwrap()
    }
}

/// A stage id by pipeline and position, for readable assertions.
pub fn stage_id(pipelines: &[Pipeline], pipeline: usize, position: usize) -> StageId {
    pipelines[pipeline].stages[position].id
}
