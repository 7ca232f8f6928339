//! [`PipelinesTx`] for SQLite: pipelines and their stages.

use pipewise_core::pipeline::{ForecastCategory, NewPipeline, NewStage, Pipeline, Stage, StageKind};
use pipewise_core::*;
use pipewise_store::{PipelinesTx, Result, StoreError, sql};
use rusqlite::params;

use crate::rows::{Fields, NamedRow};

use super::{SqliteTx, db_err, found};

/// A pipeline row before its stages are read: its id, its name and its entry stage's id.
type PipelineRow = (PipelineId, String, Option<StageId>);

impl PipelinesTx for SqliteTx<'_> {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let id = self.returned_id(sql::INSERT_PIPELINE, params![org.0, pipeline.name])?;
        let mut entry_stage_id = None;
        for (position, stage) in pipeline.stages.iter().enumerate() {
            let stage_id = self
                .db()
                .prepare_cached(
                    "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability,
                                        forecast_category, counts_in_metrics, rotting_days)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .and_then(|mut statement| {
                    statement.insert(params![
                        org.0,
                        id,
                        position as i64,
                        stage.name_en,
                        stage.name_ko,
                        stage.kind.as_str(),
                        stage.win_probability.to_string(),
                        stage.forecast_category.as_str(),
                        stage.counts_in_metrics,
                        stage.rotting_days
                    ])
                })
                .map_err(db_err)?;
            if position == pipeline.entry_stage {
                entry_stage_id = Some(stage_id);
            }
        }
        self.execute("UPDATE pipeline SET entry_stage_id = ?2 WHERE pipeline_id = ?1", params![id, entry_stage_id])?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        let row = self.one(sql::SELECT_PIPELINE, params![org.0, id.0], read_pipeline)?;
        row.map(|row| self.with_stages(org, row)).transpose()
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        let rows = self.collect(sql::SELECT_PIPELINES, [org.0], read_pipeline)?;
        rows.into_iter().map(|row| self.with_stages(org, row)).collect()
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let changed = self.execute(
            "UPDATE pipeline SET name = ?3, entry_stage_id = ?4 WHERE organisation_id = ?1 AND pipeline_id = ?2",
            params![org.0, id.0, name, entry_stage_id.0],
        )?;
        found(changed, PipelineId::LABEL, id.0)
    }

    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId> {
        self.db()
            .prepare_cached(
                "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability,
                                    forecast_category, counts_in_metrics, rotting_days)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM stage WHERE pipeline_id = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    pipeline.0,
                    stage.name_en,
                    stage.name_ko,
                    stage.kind.as_str(),
                    stage.win_probability.to_string(),
                    stage.forecast_category.as_str(),
                    stage.counts_in_metrics,
                    stage.rotting_days
                ])
            })
            .map(StageId)
            .map_err(db_err)
    }

    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()> {
        let changed = self.execute(
            "UPDATE stage SET name_en = ?3, name_ko = ?4, win_probability = ?5, forecast_category = ?6, counts_in_metrics = ?7,
                    rotting_days = ?8, archived_at = ?9
             WHERE organisation_id = ?1 AND stage_id = ?2",
            params![
                org.0,
                stage.id.0,
                stage.name_en,
                stage.name_ko,
                stage.win_probability.to_string(),
                stage.forecast_category.as_str(),
                stage.counts_in_metrics,
                stage.rotting_days,
                stage.archived_at.map(Timestamp::as_micros)
            ],
        )?;
        found(changed, StageId::LABEL, stage.id.0)
    }

    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()> {
        // Positions are unique per pipeline: park every stage on a negative position first.
        self.execute(sql::PARK_STAGES, params![org.0, pipeline.0])?;
        let mut statement = self
            .db()
            .prepare_cached("UPDATE stage SET position = ?4 WHERE organisation_id = ?1 AND pipeline_id = ?2 AND stage_id = ?3")
            .map_err(db_err)?;
        for (position, stage) in order.iter().enumerate() {
            let changed = statement.execute(params![org.0, pipeline.0, stage.0, position as i64]).map_err(db_err)?;
            found(changed, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }
}

impl SqliteTx<'_> {
    fn stages(&self, org: OrgId, pipeline: PipelineId) -> Result<Vec<Stage>> {
        self.collect(
            "SELECT stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability, forecast_category, counts_in_metrics, rotting_days,
                    archived_at
             FROM stage WHERE organisation_id = ?1 AND pipeline_id = ?2 ORDER BY position",
            params![org.0, pipeline.0],
            read_stage,
        )
    }

    fn with_stages(&self, org: OrgId, (id, name, entry): PipelineRow) -> Result<Pipeline> {
        let stages = self.stages(org, id)?;
        let Some(entry_stage_id) = entry.filter(|entry| stages.iter().any(|stage| stage.id == *entry)) else {
            let detail = format!("pipeline {id}: entry_stage_id: is not one of the pipeline's stages");
            return Err(StoreError::Corrupt { table: "pipeline", detail });
        };
        Ok(Pipeline { id, name, entry_stage_id, stages })
    }
}

fn read_pipeline(row: &NamedRow<'_, '_>) -> Result<PipelineRow> {
    let mut fields = Fields::new(row, "pipeline");
    let id = PipelineId(fields.key("pipeline_id")?);
    Ok((id, fields.get("name")?, fields.get::<Option<i64>>("entry_stage_id")?.map(StageId)))
}

fn read_stage(row: &NamedRow<'_, '_>) -> Result<Stage> {
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
