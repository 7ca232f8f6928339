//! Pipelines and their stages ([`PipelinesTx`]): reading them, and the pipeline designer's writes.

use pipewise_core::pipeline::{NewPipeline, NewStage, Pipeline, Stage, StageSettings};
use pipewise_core::*;

use crate::Result;

/// A transaction's reads and writes of pipelines and their stages, including the pipeline designer's
/// edits.
pub trait PipelinesTx {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId>;
    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>>;
    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>>;

    /// Writes the pipeline's name and entry stage.
    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()>;
    /// Adds a stage at the end of the pipeline (after its last position) and returns its id.
    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId>;
    /// Writes a stage's names, probability, category, metrics flag, rotting age and archiving
    /// time (not its kind, pipeline or position).
    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()>;
    /// Gives the stages positions 0, 1, … in the order of `order`, which lists every stage of the
    /// pipeline once.
    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()>;

    /// Records a stage's settings from a day on, replacing what that day had.
    fn record_stage_settings(&mut self, org: OrgId, settings: &StageSettings) -> Result<()>;
    /// Every recorded setting of the organisation's stages, by stage and day.
    fn stage_settings(&mut self, org: OrgId) -> Result<Vec<StageSettings>>;
}
