//! Pipelines and their ordered stages (SPEC C2). Exit criteria (stage gates) attach to stages
//! in a later layer; a stage's `position` orders them and gate checks walk that order.

use rust_decimal::Decimal;

use crate::error::{Problem, RecordRef, ValidationErrors};
use crate::id::{PipelineId, StageId};
use crate::message::Message;
use crate::records::{record_types, text_enum};
use crate::text;
use crate::time::Timestamp;

text_enum! {
    /// Whether a deal in the stage is still being worked, or closed either way.
    StageKind { Open => "open", Won => "won", Lost => "lost" }
    expected "one of open, won, lost"
}

text_enum! {
    /// The forecast categories of SPEC C7.
    ForecastCategory { Pipeline => "pipeline", BestCase => "best_case", Commit => "commit", Closed => "closed", Omitted => "omitted" }
    expected "one of pipeline, best_case, commit, closed, omitted"
}

record_types! {
    /// A step of a pipeline.
    Stage, NewStage; id: StageId
    stored {
        pipeline_id: PipelineId,
        /// Order within the pipeline, from 0.
        position: i32,
    }
    shared {
        name_en: String,
        name_ko: String,
        kind: StageKind,
        /// Default win probability in percent, 0 to 100.
        win_probability: Decimal,
        forecast_category: ForecastCategory,
        /// Whether deals here count in pipeline metrics (stage 1 of The Model does not).
        counts_in_metrics: bool,
        /// Days without stage movement after which a deal here is stale.
        rotting_days: Option<i32>,
    }
    stored {
        /// When ops archived the stage: it keeps its deals but takes no new ones, and its gate is
        /// no longer checked on the way past it. Stages are never deleted.
        archived_at: Option<Timestamp>,
    }
}

impl Stage {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// The settings of a stage that figures read, from a day on (SPEC C6: a past day's weighted
/// pipeline keeps the probability the stage had that day). The application records one when ops
/// change a stage's probability or metrics flag, on the organisation's day of the change (a
/// second change that day replaces it), and one from 1900-01-01 with the settings before the
/// first change; a stage never changed has its settings every day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSettings {
    pub stage: StageId,
    pub from: crate::Date,
    /// In percent, 0 to 100.
    pub win_probability: Decimal,
    pub counts_in_metrics: bool,
}

impl StageSettings {
    /// Since always: the day a stage's first recorded settings start from.
    pub const SINCE_ALWAYS: crate::Date = crate::Date::constant(1900, 1, 1);
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    /// The stage new deals start in; a commodity pipeline may start at stage 3.
    pub entry_stage_id: StageId,
    /// In `position` order.
    pub stages: Vec<Stage>,
}

impl Pipeline {
    pub fn stage(&self, id: StageId) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.id == id)
    }

    pub fn entry_stage(&self) -> &Stage {
        self.stage(self.entry_stage_id).expect("a stored pipeline's entry stage is one of its stages")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPipeline {
    pub name: String,
    /// In order; positions are assigned from this order.
    pub stages: Vec<NewStage>,
    /// Index into `stages` of the entry stage.
    pub entry_stage: usize,
}

impl NewPipeline {
    /// Checks names, probabilities and the shape: at least one open stage, a won and a lost
    /// stage, and an open entry stage.
    pub fn validated(mut self) -> Result<NewPipeline, ValidationErrors> {
        let record = RecordRef::new_record(PipelineId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "name", &mut self.name, 200);
        for stage in &mut self.stages {
            check_new_stage(&mut errors, &record, &StageFields::IN_PIPELINE, stage);
        }
        let has = |kind| self.stages.iter().any(|stage| stage.kind == kind);
        if !has(StageKind::Open) || !has(StageKind::Won) || !has(StageKind::Lost) {
            errors.push(&record, "stages", Problem::Fact(Message::new("rule.pipeline_stage_kinds")));
        }
        match self.stages.get(self.entry_stage) {
            Some(stage) if stage.kind == StageKind::Open => {}
            _ => errors.push(&record, "entry_stage", Problem::Fact(Message::new("rule.entry_stage_open"))),
        }
        errors.into_result(self)
    }
}

/// A change to a stage's properties from the pipeline designer: `None` leaves a property alone;
/// `rotting_days: Some(None)` clears it. The kind, position and archiving have operations of
/// their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StagePatch {
    pub name_en: Option<String>,
    pub name_ko: Option<String>,
    pub win_probability: Option<Decimal>,
    pub forecast_category: Option<ForecastCategory>,
    pub counts_in_metrics: Option<bool>,
    pub rotting_days: Option<Option<i32>>,
}

impl StagePatch {
    /// The stage with the patch applied, checked like a new stage (names required, a Korean
    /// name defaulting to the English one, probability 0 to 100, rotting 1 to 3650 days).
    pub fn apply(&self, current: &Stage) -> Result<Stage, ValidationErrors> {
        let record = RecordRef::new(StageId::LABEL, current.id.0);
        let mut errors = ValidationErrors::default();
        let mut next = current.clone();
        if let Some(name) = &self.name_en {
            next.name_en = name.clone();
            errors.required_text(&record, "name_en", &mut next.name_en, 100);
        }
        if let Some(name) = &self.name_ko {
            next.name_ko = name.clone();
            errors.korean_text(&record, "name_ko", &mut next.name_ko, &next.name_en, 100);
        }
        if let Some(probability) = self.win_probability {
            check_win_probability(&mut errors, &record, "win_probability", probability);
            next.win_probability = probability;
        }
        if let Some(category) = self.forecast_category {
            next.forecast_category = category;
        }
        if let Some(counts) = self.counts_in_metrics {
            next.counts_in_metrics = counts;
        }
        if let Some(rotting_days) = self.rotting_days {
            check_rotting_days(&mut errors, &record, "rotting_days", rotting_days);
            next.rotting_days = rotting_days;
        }
        errors.into_result(next)
    }
}

/// A change to a pipeline itself: its name and the stage new deals start in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelinePatch {
    pub name: Option<String>,
    pub entry_stage_id: Option<StageId>,
}

impl PipelinePatch {
    /// The pipeline with the patch applied. The entry stage must be an open, unarchived stage
    /// of the pipeline.
    pub fn apply(&self, current: &Pipeline) -> Result<Pipeline, ValidationErrors> {
        let record = RecordRef::new(PipelineId::LABEL, current.id.0);
        let mut errors = ValidationErrors::default();
        let mut next = current.clone();
        if let Some(name) = &self.name
            && let Some(name) = errors.check(&record, "name", text::required(name, 200))
        {
            next.name = name;
        }
        if let Some(entry) = self.entry_stage_id {
            match current.stage(entry) {
                Some(stage) if stage.kind == StageKind::Open && !stage.is_archived() => next.entry_stage_id = entry,
                Some(stage) => errors.push(
                    &record,
                    "entry_stage_id",
                    Problem::Fact(Message::new("rule.entry_stage_not_open").text("stage", entry).text("name", &stage.name_en)),
                ),
                None => errors.push(
                    &record,
                    "entry_stage_id",
                    Problem::Fact(
                        Message::new("rule.stage_not_in_pipeline")
                            .text("stage", entry)
                            .text("pipeline", current.id)
                            .text("name", &current.name),
                    ),
                ),
            }
        }
        errors.into_result(next)
    }
}

/// Checks a new stage's properties (names, probability, rotting age) the way
/// [`NewPipeline::validated`] checks each of its stages.
pub fn validate_new_stage(mut stage: NewStage) -> Result<NewStage, ValidationErrors> {
    let record = RecordRef::new_record(StageId::LABEL);
    let mut errors = ValidationErrors::default();
    check_new_stage(&mut errors, &record, &StageFields::ALONE, &mut stage);
    errors.into_result(stage)
}

/// The fields a new stage's problems are reported under.
struct StageFields {
    name_en: &'static str,
    name_ko: &'static str,
    win_probability: &'static str,
    rotting_days: &'static str,
}

impl StageFields {
    /// A stage added on its own.
    const ALONE: StageFields =
        StageFields { name_en: "name_en", name_ko: "name_ko", win_probability: "win_probability", rotting_days: "rotting_days" };

    /// One of the stages of a new pipeline.
    const IN_PIPELINE: StageFields = StageFields {
        name_en: "stages.name_en",
        name_ko: "stages.name_ko",
        win_probability: "stages.win_probability",
        rotting_days: "stages.rotting_days",
    };
}

/// Trims a new stage's names (a blank Korean name takes the English one) and checks its
/// probability and rotting age.
fn check_new_stage(errors: &mut ValidationErrors, record: &RecordRef, fields: &StageFields, stage: &mut NewStage) {
    errors.required_text(record, fields.name_en, &mut stage.name_en, 100);
    errors.korean_text(record, fields.name_ko, &mut stage.name_ko, &stage.name_en, 100);
    check_win_probability(errors, record, fields.win_probability, stage.win_probability);
    check_rotting_days(errors, record, fields.rotting_days, stage.rotting_days);
}

/// A win probability is a percentage, 0 to 100.
fn check_win_probability(errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, probability: Decimal) {
    if probability < Decimal::ZERO || probability > Decimal::ONE_HUNDRED {
        errors.push(record, field, Problem::OutOfRange { value: probability.to_string(), range: "0 to 100" });
    }
}

/// A stage's deals go stale after 1 to 3650 days without movement, or never (`None`).
fn check_rotting_days(errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, rotting_days: Option<i32>) {
    if let Some(days) = rotting_days.filter(|days| !(1..=3650).contains(days)) {
        errors.push(record, field, Problem::OutOfRange { value: days.to_string(), range: "1 to 3650 days" });
    }
}
