//! The pipeline designer (SPEC C2), for ops and admins: pipelines from the two templates with
//! their exit criteria, names and the entry stage, stages added, edited, reordered and archived.
//!
//! Rules beyond each value's own checks:
//! - Open stages come before won and lost stages in a pipeline's order, so "forward" means the
//!   same thing on the board and at the gates.
//! - A stage is never deleted. Archiving keeps its deals where they are; it takes no new deal
//!   and its gate is skipped on the way past it. The entry stage, and the last unarchived stage
//!   of its kind (open, won, lost), cannot be archived.
//! - Every change is audited (`pipeline` or `stage` records).

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::gates::ExitCriterion;
use pipewise_core::pipeline::{
    NewPipeline, NewStage, Pipeline, PipelinePatch, Stage, StageKind, StagePatch, StageSettings, validate_new_stage,
};
use pipewise_core::templates;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

/// The two shipped pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineTemplate {
    /// Seed 003's B2B pipeline, "The Model": stages 1–5, won, lost.
    B2bTheModel,
    /// Seed 002's four stages, won, lost.
    Simple,
}

impl PipelineTemplate {
    pub const ALL: [PipelineTemplate; 2] = [PipelineTemplate::B2bTheModel, PipelineTemplate::Simple];

    pub fn as_str(self) -> &'static str {
        match self {
            PipelineTemplate::B2bTheModel => "b2b_the_model",
            PipelineTemplate::Simple => "simple",
        }
    }

    pub fn parse(raw: &str) -> std::result::Result<PipelineTemplate, Problem> {
        PipelineTemplate::ALL
            .into_iter()
            .find(|template| template.as_str() == raw.trim())
            .ok_or(Problem::Invalid { value: raw.to_owned(), expected: "b2b_the_model or simple" })
    }

    fn pipeline(self) -> NewPipeline {
        match self {
            PipelineTemplate::B2bTheModel => templates::b2b_the_model(),
            PipelineTemplate::Simple => templates::simple(),
        }
    }
}

pub(crate) fn designer(tx: &mut Tx, ctx: &WriteCtx) -> Result<()> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins design pipelines".into())
}

/// Creates a pipeline from a template with the template's exit criteria. Ops and admins.
pub fn create_pipeline_from_template(tx: &mut Tx, ctx: &WriteCtx, template: PipelineTemplate) -> Result<(Pipeline, Vec<ExitCriterion>)> {
    let pipeline = create_pipeline(tx, ctx, template.pipeline())?;
    let new_criteria = match template {
        PipelineTemplate::B2bTheModel => templates::b2b_exit_criteria(&pipeline),
        PipelineTemplate::Simple => templates::simple_exit_criteria(&pipeline),
    };
    let mut criteria = Vec::new();
    for criterion in new_criteria {
        criteria.push(crate::add_exit_criterion(tx, ctx, criterion)?);
    }
    Ok((pipeline, criteria))
}

/// What a new organisation starts with: both templates, B2B first, each with its criteria.
pub fn create_template_pipelines(tx: &mut Tx, ctx: &WriteCtx) -> Result<Vec<(Pipeline, Vec<ExitCriterion>)>> {
    PipelineTemplate::ALL.into_iter().map(|template| create_pipeline_from_template(tx, ctx, template)).collect()
}

pub(crate) fn pipeline_or_not_found(tx: &mut Tx, org: OrgId, id: PipelineId) -> Result<Pipeline> {
    tx.0.pipeline(org, id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: id.0 })
}

pub(crate) fn stage_or_not_found(tx: &mut Tx, org: OrgId, id: StageId) -> Result<(Pipeline, Stage)> {
    for pipeline in tx.0.pipelines(org)? {
        if let Some(stage) = pipeline.stage(id).cloned() {
            return Ok((pipeline, stage));
        }
    }
    Err(StoreError::NotFound { kind: StageId::LABEL, id: id.0 })
}

pub(crate) fn stage_json(stage: &Stage) -> Value {
    json!({
        "name_en": stage.name_en, "name_ko": stage.name_ko, "kind": stage.kind.as_str(), "position": stage.position,
        "win_probability": stage.win_probability.to_string(), "forecast_category": stage.forecast_category.as_str(),
        "counts_in_metrics": stage.counts_in_metrics, "rotting_days": stage.rotting_days,
        "archived_at": stage.archived_at.map(|at| at.to_string()),
    })
}

/// Renames a pipeline or changes its entry stage (an open, unarchived stage of it).
pub fn update_pipeline(tx: &mut Tx, ctx: &WriteCtx, id: PipelineId, patch: &PipelinePatch) -> Result<Pipeline> {
    designer(tx, ctx)?;
    let current = pipeline_or_not_found(tx, ctx.org, id)?;
    let next = patch.apply(&current)?;
    if next != current {
        tx.0.update_pipeline(ctx.org, id, &next.name, next.entry_stage_id)?;
        let json = |pipeline: &Pipeline| json!({ "name": pipeline.name, "entry_stage_id": pipeline.entry_stage_id.0 });
        audit_update(tx, ctx, PipelineId::LABEL, id.0, json(&current), json(&next))?;
    }
    Ok(next)
}

/// Checks that open stages come before won and lost ones: `stages` are `(id, name, kind)` in
/// the new order.
pub(crate) fn check_order(pipeline: PipelineId, stages: &[(i64, String, StageKind)]) -> std::result::Result<(), ValidationErrors> {
    let record = RecordRef::new(PipelineId::LABEL, pipeline.0);
    let mut errors = ValidationErrors::default();
    let mut seen_closed = None;
    for (id, name, kind) in stages {
        match (kind, seen_closed) {
            (StageKind::Open, Some(closed)) => errors.push(
                &record,
                "stages",
                Problem::Fact(Message::new("rule.open_after_closed").text("stage", id).text("name", name).text("closed", closed)),
            ),
            (StageKind::Open, None) => {}
            _ => seen_closed = seen_closed.or(Some(*id)),
        }
    }
    errors.into_result(())
}

pub(crate) fn described(pipeline: &Pipeline, order: &[StageId]) -> Vec<(i64, String, StageKind)> {
    order.iter().filter_map(|id| pipeline.stage(*id)).map(|stage| (stage.id.0, stage.name_en.clone(), stage.kind)).collect()
}

/// Adds a stage to a pipeline at `position` (0-based; by default an open stage goes after the
/// last open stage, a won or lost one at the end). Returns the pipeline with the stage.
pub fn add_stage(tx: &mut Tx, ctx: &WriteCtx, pipeline_id: PipelineId, new: NewStage, position: Option<usize>) -> Result<Pipeline> {
    designer(tx, ctx)?;
    let current = pipeline_or_not_found(tx, ctx.org, pipeline_id)?;
    let new = validate_new_stage(new)?;
    let mut order: Vec<StageId> = current.stages.iter().map(|stage| stage.id).collect();
    let at = match position {
        Some(position) => position.min(order.len()),
        None if new.kind == StageKind::Open => {
            current.stages.iter().rposition(|stage| stage.kind == StageKind::Open).map_or(0, |last| last + 1)
        }
        None => order.len(),
    };
    let mut planned = described(&current, &order);
    planned.insert(at, (0, new.name_en.clone(), new.kind));
    check_order(pipeline_id, &planned)?;
    let id = tx.0.insert_stage(ctx.org, pipeline_id, &new)?;
    order.insert(at, id);
    tx.0.set_stage_positions(ctx.org, pipeline_id, &order)?;
    let pipeline = pipeline_or_not_found(tx, ctx.org, pipeline_id)?;
    let stage = pipeline.stage(id).ok_or(StoreError::NotFound { kind: StageId::LABEL, id: id.0 })?;
    audit(tx, ctx, StageId::LABEL, id.0, "create", None, Some(json!({ "pipeline_id": pipeline_id.0, "stage": stage_json(stage) })))?;
    Ok(pipeline)
}

/// Changes a stage's names, probability, forecast category, metrics flag or rotting age.
pub fn update_stage(tx: &mut Tx, ctx: &WriteCtx, stage_id: StageId, patch: &StagePatch) -> Result<Stage> {
    designer(tx, ctx)?;
    let (_, current) = stage_or_not_found(tx, ctx.org, stage_id)?;
    let next = patch.apply(&current)?;
    if next != current {
        tx.0.update_stage(ctx.org, &next)?;
        if (next.win_probability, next.counts_in_metrics) != (current.win_probability, current.counts_in_metrics) {
            record_settings(tx, ctx, &current, &next)?;
        }
        audit_update(tx, ctx, StageId::LABEL, stage_id.0, stage_json(&current), stage_json(&next))?;
    }
    Ok(next)
}

/// Keeps the settings figures read from the organisation's day of the change, after those the
/// stage had before its first change (since always): a past day's figures keep the stage's
/// settings of that day.
fn record_settings(tx: &mut Tx, ctx: &WriteCtx, current: &Stage, next: &Stage) -> Result<()> {
    let settings = |stage: &Stage, from| StageSettings {
        stage: stage.id,
        from,
        win_probability: stage.win_probability,
        counts_in_metrics: stage.counts_in_metrics,
    };
    if !tx.0.stage_settings(ctx.org)?.iter().any(|recorded| recorded.stage == current.id) {
        tx.0.record_stage_settings(ctx.org, &settings(current, StageSettings::SINCE_ALWAYS))?;
    }
    let today = crate::users::zone(tx, ctx.org)?.date_of(ctx.at);
    tx.0.record_stage_settings(ctx.org, &settings(next, today))?;
    Ok(())
}

/// Puts the pipeline's stages in `order`, which must list each of its stages once, open stages
/// first.
pub fn reorder_stages(tx: &mut Tx, ctx: &WriteCtx, pipeline_id: PipelineId, order: &[StageId]) -> Result<Pipeline> {
    designer(tx, ctx)?;
    let current = pipeline_or_not_found(tx, ctx.org, pipeline_id)?;
    let record = RecordRef::new(PipelineId::LABEL, pipeline_id.0);
    let mut sorted: Vec<StageId> = order.to_vec();
    sorted.sort();
    let mut expected: Vec<StageId> = current.stages.iter().map(|stage| stage.id).collect();
    expected.sort();
    if sorted != expected {
        let problem = Problem::Fact(
            Message::new("rule.order_lists_each_stage")
                .text("count", expected.len())
                .text("stages", expected.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        );
        return Err(FieldError { record, field: "stage_ids", problem }.into());
    }
    check_order(pipeline_id, &described(&current, order))?;
    let before: Vec<StageId> = current.stages.iter().map(|stage| stage.id).collect();
    if before == order {
        return Ok(current);
    }
    tx.0.set_stage_positions(ctx.org, pipeline_id, order)?;
    let ids = |ids: &[StageId]| ids.iter().map(|id| id.0).collect::<Vec<i64>>();
    audit(
        tx,
        ctx,
        PipelineId::LABEL,
        pipeline_id.0,
        "reorder",
        Some(json!({ "stage_ids": ids(&before) })),
        Some(json!({ "stage_ids": ids(order) })),
    )?;
    pipeline_or_not_found(tx, ctx.org, pipeline_id)
}

/// Archives a stage: it keeps its deals, takes no new ones, and its gate is skipped on the way
/// past it.
pub fn archive_stage(tx: &mut Tx, ctx: &WriteCtx, stage_id: StageId) -> Result<Stage> {
    designer(tx, ctx)?;
    let (pipeline, current) = stage_or_not_found(tx, ctx.org, stage_id)?;
    let record = RecordRef::new(StageId::LABEL, stage_id.0);
    let fact = |key: &str| Message::new(key).text("stage", stage_id).text("name", &current.name_en);
    let refuse = |message: Message| -> StoreError {
        FieldError { record: record.clone(), field: "archived_at", problem: Problem::Fact(message) }.into()
    };
    if current.is_archived() {
        return Err(refuse(fact("rule.stage_already_archived")));
    }
    if pipeline.entry_stage_id == stage_id {
        return Err(refuse(fact("rule.archive_entry_stage")));
    }
    let others = pipeline.stages.iter().filter(|stage| stage.kind == current.kind && stage.id != stage_id && !stage.is_archived()).count();
    if others == 0 {
        let kind = pipewise_core::gates::term("stage_kind", current.kind.as_str());
        return Err(refuse(fact("rule.archive_last_stage").term("kind", kind)));
    }
    let next = Stage { archived_at: Some(ctx.at), ..current.clone() };
    tx.0.update_stage(ctx.org, &next)?;
    audit(tx, ctx, StageId::LABEL, stage_id.0, "archive", Some(stage_json(&current)), Some(stage_json(&next)))?;
    Ok(next)
}
