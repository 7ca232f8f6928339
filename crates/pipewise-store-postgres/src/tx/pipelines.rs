//! [`PipelinesTx`] for PostgreSQL: pipelines and their stages.

use std::collections::HashMap;

use pipewise_core::error::RecordRef;
use pipewise_core::pipeline::{ForecastCategory, NewPipeline, NewStage, Pipeline, Stage, StageKind};
use pipewise_core::*;
use pipewise_store::{PipelinesTx, Result, sql};
use postgres::Row;

use crate::fields::Fields;

use super::{PgTx, found};

const STAGE_COLUMNS: &str = "stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability::text AS win_probability, \
     forecast_category, counts_in_metrics, rotting_days, archived_at";

impl PipelinesTx for PgTx<'_> {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let record = RecordRef::new_record(PipelineId::LABEL);
        if pipeline.entry_stage >= pipeline.stages.len() {
            let problem = Problem::Rule("the entry stage must be one of the pipeline's open stages".into());
            return Err(FieldError { record, field: "entry_stage", problem }.into());
        }
        let id = self.returned_id("pipeline", sql::INSERT_PIPELINE, &[&org.0, &pipeline.name])?;
        let mut stage_ids = Vec::with_capacity(pipeline.stages.len());
        for (index, stage) in pipeline.stages.iter().enumerate() {
            let position = i32::try_from(index).map_err(|_| FieldError {
                record: record.clone(),
                field: "stages",
                problem: Problem::OutOfRange { value: index.to_string(), range: "at most 2,147,483,647 stages" },
            })?;
            let stage_id = self.returned_id(
                "stage",
                "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability, \
                 forecast_category, counts_in_metrics, rotting_days) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10) RETURNING stage_id",
                &[
                    &org.0,
                    &id,
                    &position,
                    &stage.name_en,
                    &stage.name_ko,
                    &stage.kind.as_str(),
                    &stage.win_probability.to_string(),
                    &stage.forecast_category.as_str(),
                    &stage.counts_in_metrics,
                    &stage.rotting_days,
                ],
            )?;
            stage_ids.push(stage_id);
        }
        self.execute(
            "UPDATE pipeline SET entry_stage_id = $3 WHERE organisation_id = $1 AND pipeline_id = $2",
            &[&org.0, &id, &stage_ids[pipeline.entry_stage]],
        )?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        Ok(self.load_pipelines(org, Some(id))?.into_iter().next())
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        self.load_pipelines(org, None)
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let updated = self.execute(
            "UPDATE pipeline SET name = $3, entry_stage_id = $4 WHERE organisation_id = $1 AND pipeline_id = $2",
            &[&org.0, &id.0, &name, &entry_stage_id.0],
        )?;
        found(updated, PipelineId::LABEL, id.0)
    }

    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId> {
        let id = self.returned_id(
            "stage",
            "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability, \
             forecast_category, counts_in_metrics, rotting_days) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), -1) + 1 FROM stage WHERE pipeline_id = $2), $3, $4, $5, $6::text::numeric, \
             $7, $8, $9) RETURNING stage_id",
            &[
                &org.0,
                &pipeline.0,
                &stage.name_en,
                &stage.name_ko,
                &stage.kind.as_str(),
                &stage.win_probability.to_string(),
                &stage.forecast_category.as_str(),
                &stage.counts_in_metrics,
                &stage.rotting_days,
            ],
        )?;
        Ok(StageId(id))
    }

    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()> {
        let updated = self.execute(
            "UPDATE stage SET name_en = $3, name_ko = $4, win_probability = $5::text::numeric, forecast_category = $6, \
             counts_in_metrics = $7, rotting_days = $8, archived_at = $9 WHERE organisation_id = $1 AND stage_id = $2",
            &[
                &org.0,
                &stage.id.0,
                &stage.name_en,
                &stage.name_ko,
                &stage.win_probability.to_string(),
                &stage.forecast_category.as_str(),
                &stage.counts_in_metrics,
                &stage.rotting_days,
                &stage.archived_at.map(Timestamp::to_jiff),
            ],
        )?;
        found(updated, StageId::LABEL, stage.id.0)
    }

    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()> {
        // Positions are unique per pipeline: park every stage on a negative position first.
        self.execute(sql::PARK_STAGES, &[&org.0, &pipeline.0])?;
        for (index, stage) in order.iter().enumerate() {
            let position = i32::try_from(index).unwrap_or(i32::MAX);
            let updated = self.execute(
                "UPDATE stage SET position = $4 WHERE organisation_id = $1 AND pipeline_id = $2 AND stage_id = $3",
                &[&org.0, &pipeline.0, &stage.0, &position],
            )?;
            found(updated, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }
}

impl PgTx<'_> {
    fn load_pipelines(&mut self, org: OrgId, only: Option<PipelineId>) -> Result<Vec<Pipeline>> {
        let (rows, stage_rows) = match only {
            Some(id) => (
                self.query(sql::SELECT_PIPELINE, &[&org.0, &id.0])?,
                self.query(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 AND pipeline_id = $2 ORDER BY position"),
                    &[&org.0, &id.0],
                )?,
            ),
            None => (
                self.query(sql::SELECT_PIPELINES, &[&org.0])?,
                self.query(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 ORDER BY pipeline_id, position"),
                    &[&org.0],
                )?,
            ),
        };
        let mut stages: HashMap<i64, Vec<Stage>> = HashMap::new();
        for row in &stage_rows {
            let stage = read_stage(row)?;
            stages.entry(stage.pipeline_id.0).or_default().push(stage);
        }
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "pipeline");
                let id = fields.key("pipeline_id")?;
                let entry_stage_id = fields.get::<Option<i64>>("entry_stage_id")?.map(StageId);
                let stages = stages.remove(&id).unwrap_or_default();
                let Some(entry_stage_id) = entry_stage_id.filter(|entry| stages.iter().any(|stage| stage.id == *entry)) else {
                    return Err(fields.corrupt("entry_stage_id", "is not one of the pipeline's stages"));
                };
                Ok(Pipeline { id: PipelineId(id), name: fields.get("name")?, entry_stage_id, stages })
            })
            .collect()
    }
}

fn read_stage(row: &Row) -> Result<Stage> {
    let mut fields = Fields::new(row, "stage");
    Ok(Stage {
        id: StageId(fields.key("stage_id")?),
        pipeline_id: PipelineId(fields.get("pipeline_id")?),
        position: fields.get("position")?,
        name_en: fields.get("name_en")?,
        name_ko: fields.get("name_ko")?,
        kind: fields.parsed("kind", StageKind::parse)?,
        win_probability: fields.decimal("win_probability")?,
        forecast_category: fields.parsed("forecast_category", ForecastCategory::parse)?,
        counts_in_metrics: fields.get("counts_in_metrics")?,
        rotting_days: fields.get("rotting_days")?,
        archived_at: fields.optional_timestamp("archived_at")?,
    })
}
