//! Opportunities: their fields, how a patch changes them, and the rules a state must obey.
//!
//! Every field that can change is an [`OppField`] with one canonical text encoding; history
//! records changes in that encoding and [`crate::history`] replays them.

use std::fmt;

use crate::error::{Problem, RecordRef, ValidationErrors};
use crate::gates::term;
use crate::id::{AccountId, OpportunityId, PipelineId, StageId, UserId};
use crate::message::Message;
use crate::money::{Decimal, Money};
use crate::pipeline::{ForecastCategory, Pipeline, StageKind};
use crate::records::text_enum;
use crate::time::{Date, Timestamp, parse_date};

text_enum! {
    Status { Open => "open", Won => "won", Lost => "lost" }
    expected "one of open, won, lost"
}

impl From<StageKind> for Status {
    fn from(kind: StageKind) -> Status {
        match kind {
            StageKind::Open => Status::Open,
            StageKind::Won => Status::Won,
            StageKind::Lost => Status::Lost,
        }
    }
}

/// The largest amount a deal may carry, in any currency.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub name: String,
    pub account_id: Option<AccountId>,
    pub owner_id: UserId,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    /// `None` while nobody has put a number on the deal.
    pub amount: Option<Money>,
    pub close_date: Option<Date>,
    pub forecast_category: ForecastCategory,
    pub next_step: Option<String>,
    pub status: Status,
    pub created_at: Timestamp,
    /// When the deal entered a won or lost stage; `None` while open.
    pub closed_at: Option<Timestamp>,
    /// Why it was won or lost. Required for a loss.
    pub close_reason: Option<String>,
}

/// The fields history tracks, in the order a creation records them, and the marker events
/// ([`OppField::MARKERS`]) that history records beside them.
///
/// A marker is not part of a deal's state: [`OppField::encode`] gives `None` for it, so
/// [`crate::history::diff`] never produces one, and replaying it changes nothing, so replay still
/// equals the stored row. `ops` appends markers itself, in the same transaction as the change
/// they explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OppField {
    Name,
    Account,
    Owner,
    Pipeline,
    Stage,
    Amount,
    CloseDate,
    ForecastCategory,
    NextStep,
    Status,
    ClosedAt,
    CloseReason,
    /// Marker: a stage move went past unmet exit criteria on someone's authority. `new` is the
    /// reason given; the full record (who, the move, every unmet criterion) is in the store's
    /// gate overrides.
    GateOverride,
}

impl OppField {
    /// The fields of a deal's state, which [`crate::history::diff`] compares.
    pub const ALL: [OppField; 12] = [
        OppField::Name,
        OppField::Account,
        OppField::Owner,
        OppField::Pipeline,
        OppField::Stage,
        OppField::Amount,
        OppField::CloseDate,
        OppField::ForecastCategory,
        OppField::NextStep,
        OppField::Status,
        OppField::ClosedAt,
        OppField::CloseReason,
    ];

    /// Marker events: recorded in history, no part of the state.
    pub const MARKERS: [OppField; 1] = [OppField::GateOverride];

    /// Whether this is a marker event rather than a field of the state.
    pub fn is_marker(self) -> bool {
        OppField::MARKERS.contains(&self)
    }

    /// The field's name in history, the API and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            OppField::Name => "name",
            OppField::Account => "account_id",
            OppField::Owner => "owner_id",
            OppField::Pipeline => "pipeline_id",
            OppField::Stage => "stage_id",
            OppField::Amount => "amount",
            OppField::CloseDate => "close_date",
            OppField::ForecastCategory => "forecast_category",
            OppField::NextStep => "next_step",
            OppField::Status => "status",
            OppField::ClosedAt => "closed_at",
            OppField::CloseReason => "close_reason",
            OppField::GateOverride => "gate_override",
        }
    }

    /// A field of the state by name (markers are not fields one can set or require).
    pub fn parse(raw: &str) -> Option<OppField> {
        OppField::ALL.into_iter().find(|field| field.as_str() == raw)
    }

    /// A field or a marker by name, as history stores them.
    pub fn parse_event(raw: &str) -> Option<OppField> {
        OppField::ALL.into_iter().chain(OppField::MARKERS).find(|field| field.as_str() == raw)
    }

    /// The field's value in `opportunity`, in canonical text; `None` when unset.
    pub fn encode(self, opportunity: &Opportunity) -> Option<String> {
        match self {
            OppField::Name => Some(opportunity.name.clone()),
            OppField::Account => opportunity.account_id.map(|id| id.0.to_string()),
            OppField::Owner => Some(opportunity.owner_id.0.to_string()),
            OppField::Pipeline => Some(opportunity.pipeline_id.0.to_string()),
            OppField::Stage => Some(opportunity.stage_id.0.to_string()),
            OppField::Amount => opportunity.amount.map(|money| money.to_string()),
            OppField::CloseDate => opportunity.close_date.map(|date| date.to_string()),
            OppField::ForecastCategory => Some(opportunity.forecast_category.as_str().to_owned()),
            OppField::NextStep => opportunity.next_step.clone(),
            OppField::Status => Some(opportunity.status.as_str().to_owned()),
            OppField::ClosedAt => opportunity.closed_at.map(|at| at.to_string()),
            OppField::CloseReason => opportunity.close_reason.clone(),
            OppField::GateOverride => None,
        }
    }

    /// Sets the field in `opportunity` from its canonical text, as [`OppField::encode`] wrote it.
    pub fn decode_into(self, opportunity: &mut Opportunity, value: Option<&str>) -> Result<(), Problem> {
        let required = || value.ok_or(Problem::Required);
        let id = |raw: &str| raw.parse::<i64>().map_err(|_| Problem::Invalid { value: raw.to_owned(), expected: "an id" });
        match self {
            OppField::Name => opportunity.name = required()?.to_owned(),
            OppField::Account => opportunity.account_id = value.map(id).transpose()?.map(AccountId),
            OppField::Owner => opportunity.owner_id = UserId(id(required()?)?),
            OppField::Pipeline => opportunity.pipeline_id = PipelineId(id(required()?)?),
            OppField::Stage => opportunity.stage_id = StageId(id(required()?)?),
            OppField::Amount => opportunity.amount = value.map(str::parse).transpose()?,
            OppField::CloseDate => opportunity.close_date = value.map(parse_date).transpose()?,
            OppField::ForecastCategory => opportunity.forecast_category = ForecastCategory::parse(required()?)?,
            OppField::NextStep => opportunity.next_step = value.map(str::to_owned),
            OppField::Status => opportunity.status = Status::parse(required()?)?,
            OppField::ClosedAt => opportunity.closed_at = value.map(str::parse).transpose()?,
            OppField::CloseReason => opportunity.close_reason = value.map(str::to_owned),
            // A marker explains a change; it changes nothing itself.
            OppField::GateOverride => {}
        }
        Ok(())
    }
}

impl fmt::Display for OppField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOpportunity {
    pub name: String,
    pub account_id: Option<AccountId>,
    pub owner_id: UserId,
    pub pipeline_id: PipelineId,
    /// Defaults to the pipeline's entry stage.
    pub stage_id: Option<StageId>,
    pub amount: Option<Money>,
    pub close_date: Option<Date>,
    /// Defaults to the stage's forecast category.
    pub forecast_category: Option<ForecastCategory>,
    pub next_step: Option<String>,
    pub close_reason: Option<String>,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpportunityPatch {
    pub name: Option<String>,
    pub account_id: Option<Option<AccountId>>,
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub amount: Option<Option<Money>>,
    pub close_date: Option<Option<Date>>,
    pub forecast_category: Option<ForecastCategory>,
    pub next_step: Option<Option<String>>,
    pub close_reason: Option<Option<String>>,
    /// Pushes a stage move past unmet exit criteria, with this reason. Only a manager in the
    /// owner's line, ops or an admin may (`gates::authorize_override`); `ops` records it.
    /// Not a field of the deal: [`apply`] ignores it.
    pub gate_override_reason: Option<String>,
}

impl OpportunityPatch {
    pub fn is_empty(&self) -> bool {
        *self == OpportunityPatch::default()
    }
}

/// Builds a new deal's state. `pipeline` must be the one `new.pipeline_id` names.
pub fn create(id: OpportunityId, new: &NewOpportunity, pipeline: &Pipeline, at: Timestamp) -> Result<Opportunity, ValidationErrors> {
    let record = RecordRef::new_record(OpportunityId::LABEL);
    let stage_id = new.stage_id.unwrap_or(pipeline.entry_stage_id);
    let Some(stage) = pipeline.stage(stage_id) else {
        return Err(stage_not_in_pipeline(&record, stage_id, pipeline));
    };
    if stage.is_archived() {
        return Err(stage_archived(&record, stage));
    }
    let status = Status::from(stage.kind);
    let opportunity = Opportunity {
        id,
        name: new.name.clone(),
        account_id: new.account_id,
        owner_id: new.owner_id,
        pipeline_id: pipeline.id,
        stage_id,
        amount: new.amount,
        close_date: new.close_date,
        forecast_category: closed_category(status).or(new.forecast_category).unwrap_or(stage.forecast_category),
        next_step: new.next_step.clone(),
        status,
        created_at: at,
        closed_at: (status != Status::Open).then_some(at),
        close_reason: new.close_reason.clone(),
    };
    normalise(opportunity, &record, pipeline)
}

/// Applies `patch` to `current` at time `at`. `pipeline` is the pipeline the deal ends up in
/// (the patch's `pipeline_id` if it has one). Moving into a won or lost stage closes the deal
/// at `at`; moving back to an open stage reopens it. The forecast category follows the stage
/// unless the patch sets it.
pub fn apply(current: &Opportunity, patch: &OpportunityPatch, pipeline: &Pipeline, at: Timestamp) -> Result<Opportunity, ValidationErrors> {
    let record = RecordRef::new(OpportunityId::LABEL, current.id.0);
    let mut next = current.clone();
    if let Some(name) = &patch.name {
        next.name = name.clone();
    }
    if let Some(account_id) = patch.account_id {
        next.account_id = account_id;
    }
    if let Some(owner_id) = patch.owner_id {
        next.owner_id = owner_id;
    }
    if let Some(amount) = patch.amount {
        next.amount = amount;
    }
    if let Some(close_date) = patch.close_date {
        next.close_date = close_date;
    }
    if let Some(next_step) = &patch.next_step {
        next.next_step = next_step.clone();
    }
    next.pipeline_id = pipeline.id;
    let stage_id = match patch.stage_id {
        Some(stage_id) => stage_id,
        None if current.pipeline_id != pipeline.id => pipeline.entry_stage_id,
        None => current.stage_id,
    };
    let Some(stage) = pipeline.stage(stage_id) else {
        return Err(stage_not_in_pipeline(&record, stage_id, pipeline));
    };
    let stage_changed = stage_id != current.stage_id;
    if stage_changed && stage.is_archived() {
        return Err(stage_archived(&record, stage));
    }
    next.stage_id = stage_id;
    next.status = Status::from(stage.kind);
    if next.status != current.status {
        next.closed_at = (next.status != Status::Open).then_some(at);
        if next.status == Status::Open {
            next.close_reason = None;
        }
    }
    if let Some(close_reason) = &patch.close_reason {
        next.close_reason = close_reason.clone();
    }
    next.forecast_category = match (closed_category(next.status), patch.forecast_category) {
        (Some(category), Some(asked)) if asked != category => {
            let problem = Problem::Fact(
                Message::new("rule.closed_forecast")
                    .term("status", term("status", next.status.as_str()))
                    .term("category", term("forecast", category.as_str())),
            );
            return Err(ValidationErrors(vec![crate::FieldError { record, field: "forecast_category", problem }]));
        }
        (Some(category), _) => category,
        (None, Some(asked)) => asked,
        (None, None) if stage_changed || current.status != Status::Open => stage.forecast_category,
        (None, None) => current.forecast_category,
    };
    normalise(next, &record, pipeline)
}

/// Won deals forecast as Closed and lost ones are Omitted, whatever the stage says.
fn closed_category(status: Status) -> Option<ForecastCategory> {
    match status {
        Status::Open => None,
        Status::Won => Some(ForecastCategory::Closed),
        Status::Lost => Some(ForecastCategory::Omitted),
    }
}

fn stage_archived(record: &RecordRef, stage: &crate::pipeline::Stage) -> ValidationErrors {
    let problem = Problem::Fact(Message::new("rule.stage_archived").text("stage", stage.id).text("name", &stage.name_en));
    ValidationErrors(vec![crate::FieldError { record: record.clone(), field: "stage_id", problem }])
}

fn stage_not_in_pipeline(record: &RecordRef, stage_id: StageId, pipeline: &Pipeline) -> ValidationErrors {
    let problem = Problem::Fact(
        Message::new("rule.stage_not_in_pipeline").text("stage", stage_id).text("pipeline", pipeline.id).text("name", &pipeline.name),
    );
    ValidationErrors(vec![crate::FieldError { record: record.clone(), field: "stage_id", problem }])
}

/// Trims text fields and checks every rule a stored opportunity obeys, reporting all problems.
fn normalise(mut opportunity: Opportunity, record: &RecordRef, pipeline: &Pipeline) -> Result<Opportunity, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    errors.required_text(record, "name", &mut opportunity.name, 200);
    errors.optional_text(record, "next_step", &mut opportunity.next_step, 500);
    errors.optional_text(record, "close_reason", &mut opportunity.close_reason, 500);
    if let Some(amount) = opportunity.amount {
        if amount.is_negative() {
            errors.push(record, "amount", Problem::Negative { value: amount.to_string() });
        } else if amount.amount() > Decimal::from(MAX_AMOUNT) {
            errors.push(record, "amount", Problem::OutOfRange { value: amount.to_string(), range: "at most 10^15" });
        }
    }
    if let Some(date) = opportunity.close_date
        && !(1900..=2200).contains(&date.year())
    {
        errors.push(record, "close_date", Problem::OutOfRange { value: date.to_string(), range: "years 1900 to 2200" });
    }
    match opportunity.status {
        Status::Lost if opportunity.close_reason.is_none() => {
            errors.push(record, "close_reason", Problem::Fact(Message::new("rule.lost_needs_reason")));
        }
        Status::Open if opportunity.close_reason.is_some() => {
            errors.push(record, "close_reason", Problem::Fact(Message::new("rule.open_no_reason")));
        }
        _ => {}
    }
    debug_assert_eq!(opportunity.pipeline_id, pipeline.id);
    errors.into_result(opportunity)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::message::catalog::{en_errors, ko};
    use crate::templates;

    pub(crate) fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The simple template with stage ids 1..=6 (Prospecting … Lost) in pipeline 1.
    pub(crate) fn simple_pipeline() -> Pipeline {
        templates::simple().materialise(PipelineId(1), 1)
    }

    pub(crate) fn new_deal() -> NewOpportunity {
        NewOpportunity {
            name: "Acme renewal".into(),
            account_id: Some(AccountId(7)),
            owner_id: UserId(3),
            pipeline_id: PipelineId(1),
            stage_id: None,
            amount: Some("USD 12000".parse().unwrap()),
            close_date: Some("2026-12-15".parse().unwrap()),
            forecast_category: None,
            next_step: Some("  send proposal ".into()),
            close_reason: None,
        }
    }

    #[test]
    fn creation_starts_at_the_entry_stage_with_its_category() {
        let pipeline = simple_pipeline();
        let deal = create(OpportunityId(1), &new_deal(), &pipeline, at("2026-01-05T09:00:00Z")).unwrap();
        assert_eq!(deal.stage_id, StageId(1));
        assert_eq!(deal.forecast_category, ForecastCategory::Pipeline);
        assert_eq!(deal.status, Status::Open);
        assert_eq!(deal.next_step.as_deref(), Some("send proposal"));
    }

    #[test]
    fn closing_reopening_and_categories() {
        let pipeline = simple_pipeline();
        let deal = create(OpportunityId(1), &new_deal(), &pipeline, at("2026-01-05T09:00:00Z")).unwrap();
        // Stage 4 is Closing (commit by default).
        let closing =
            apply(&deal, &OpportunityPatch { stage_id: Some(StageId(4)), ..Default::default() }, &pipeline, at("2026-02-01T00:00:00Z"))
                .unwrap();
        assert_eq!(closing.forecast_category, ForecastCategory::Commit);
        // Lost without a reason is refused.
        let lose = OpportunityPatch { stage_id: Some(StageId(6)), ..Default::default() };
        assert_eq!(
            en_errors(&apply(&closing, &lose, &pipeline, at("2026-02-02T00:00:00Z")).unwrap_err()),
            "opportunity 1: close_reason: a lost deal needs the reason it was lost"
        );
        let lose = OpportunityPatch { close_reason: Some(Some("no budget".into())), ..lose };
        let lost = apply(&closing, &lose, &pipeline, at("2026-02-02T00:00:00Z")).unwrap();
        assert_eq!((lost.status, lost.forecast_category), (Status::Lost, ForecastCategory::Omitted));
        assert_eq!(lost.closed_at, Some(at("2026-02-02T00:00:00Z")));
        // Back to an open stage reopens and clears the reason.
        let reopened =
            apply(&lost, &OpportunityPatch { stage_id: Some(StageId(2)), ..Default::default() }, &pipeline, at("2026-02-03T00:00:00Z"))
                .unwrap();
        assert_eq!((reopened.status, reopened.closed_at, reopened.close_reason.as_deref()), (Status::Open, None, None));
        assert_eq!(reopened.forecast_category, ForecastCategory::Pipeline);
        // A won deal cannot be forecast as commit.
        let win = OpportunityPatch { stage_id: Some(StageId(5)), forecast_category: Some(ForecastCategory::Commit), ..Default::default() };
        let refused = apply(&reopened, &win, &pipeline, at("2026-02-04T00:00:00Z")).unwrap_err();
        assert_eq!(en_errors(&refused), "opportunity 1: forecast_category: a won deal's forecast category is closed");
        let Problem::Fact(fact) = &refused.0[0].problem else { panic!("a fact: {refused}") };
        assert_eq!(ko(fact), "수주 거래의 예측 범주는 마감임");
    }

    #[test]
    fn every_problem_is_reported_with_record_and_field() {
        let pipeline = simple_pipeline();
        let deal = create(OpportunityId(42), &new_deal(), &pipeline, at("2026-01-05T09:00:00Z")).unwrap();
        let patch = OpportunityPatch {
            name: Some("   ".into()),
            amount: Some(Some("USD -5".parse().unwrap())),
            close_reason: Some(Some("why not".into())),
            ..Default::default()
        };
        assert_eq!(
            en_errors(&apply(&deal, &patch, &pipeline, at("2026-01-06T00:00:00Z")).unwrap_err()),
            "opportunity 42: name: is required; opportunity 42: amount: USD -5.00 is negative; \
             opportunity 42: close_reason: only a won or lost deal has a close reason"
        );
        let foreign_stage = OpportunityPatch { stage_id: Some(StageId(99)), ..Default::default() };
        assert_eq!(
            en_errors(&apply(&deal, &foreign_stage, &pipeline, at("2026-01-06T00:00:00Z")).unwrap_err()),
            "opportunity 42: stage_id: stage 99 is not a stage of pipeline 1 (Simple)"
        );
    }

    #[test]
    fn every_field_round_trips_through_its_text() {
        let pipeline = simple_pipeline();
        let mut deal = create(OpportunityId(1), &new_deal(), &pipeline, at("2026-01-05T09:00:00.123456Z")).unwrap();
        deal.closed_at = Some(at("2026-03-01T00:00:00Z"));
        deal.close_reason = Some("price".into());
        let mut copy = deal.clone();
        copy.name = String::new();
        for field in OppField::ALL {
            let text = field.encode(&deal);
            field.decode_into(&mut copy, text.as_deref()).unwrap();
            assert_eq!(OppField::parse(field.as_str()), Some(field));
        }
        assert_eq!(copy, deal);
    }
}
