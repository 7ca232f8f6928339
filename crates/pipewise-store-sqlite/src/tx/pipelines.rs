//! [`PipelinesTx`] for SQLite: pipelines and their stages.

use pipewise_core::money::Decimal;
use pipewise_core::pipeline::{ForecastCategory, NewPipeline, NewStage, Pipeline, Stage, StageKind};
use pipewise_core::*;
use pipewise_store::{PipelinesTx, Result};
use rusqlite::{Row, params};

use crate::rows::{corrupt, decimal, parsed, timestamp};

use super::{SqliteTx, db_err, found, identity};

impl PipelinesTx for SqliteTx<'_> {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let id = self
            .db()
            .prepare_cached("INSERT INTO pipeline (organisation_id, name) VALUES (?1, ?2)")
            .and_then(|mut statement| statement.insert(params![org.0, pipeline.name]))
            .map_err(db_err)?;
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
        self.db()
            .prepare_cached("UPDATE pipeline SET entry_stage_id = ?2 WHERE pipeline_id = ?1")
            .and_then(|mut statement| statement.execute(params![id, entry_stage_id]))
            .map_err(db_err)?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        let row = self.one(
            "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = ?1 AND pipeline_id = ?2",
            params![org.0, id.0],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            identity,
        )?;
        row.map(|row| self.with_stages(org, row)).transpose()
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        let rows = self.collect(
            "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = ?1 ORDER BY pipeline_id",
            [org.0],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            identity,
        )?;
        rows.into_iter().map(|row| self.with_stages(org, row)).collect()
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE pipeline SET name = ?3, entry_stage_id = ?4 WHERE organisation_id = ?1 AND pipeline_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, id.0, name, entry_stage_id.0]))
            .map_err(db_err)?;
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
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE stage SET name_en = ?3, name_ko = ?4, win_probability = ?5, forecast_category = ?6, counts_in_metrics = ?7,
                        rotting_days = ?8, archived_at = ?9
                 WHERE organisation_id = ?1 AND stage_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    stage.id.0,
                    stage.name_en,
                    stage.name_ko,
                    stage.win_probability.to_string(),
                    stage.forecast_category.as_str(),
                    stage.counts_in_metrics,
                    stage.rotting_days,
                    stage.archived_at.map(Timestamp::as_micros)
                ])
            })
            .map_err(db_err)?;
        found(changed, StageId::LABEL, stage.id.0)
    }

    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()> {
        // Positions are unique per pipeline: park every stage on a negative position first.
        self.db()
            .prepare_cached("UPDATE stage SET position = -1 - position WHERE organisation_id = ?1 AND pipeline_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, pipeline.0]))
            .map_err(db_err)?;
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
            stage_row,
            finish_stage,
        )
    }

    fn with_stages(&self, org: OrgId, (id, name, entry): (i64, String, Option<i64>)) -> Result<Pipeline> {
        let id = PipelineId(id);
        let stages = self.stages(org, id)?;
        let entry_stage_id = entry.map(StageId).filter(|entry| stages.iter().any(|stage| stage.id == *entry));
        let entry_stage_id = entry_stage_id.ok_or_else(|| corrupt("pipeline", format!("pipeline {id} has no valid entry stage")))?;
        Ok(Pipeline { id, name, entry_stage_id, stages })
    }
}

type StageRow = (Stage, String, String, String);

fn stage_row(row: &Row<'_>) -> rusqlite::Result<StageRow> {
    let stage = Stage {
        id: StageId(row.get(0)?),
        pipeline_id: PipelineId(row.get(1)?),
        position: row.get(2)?,
        name_en: row.get(3)?,
        name_ko: row.get(4)?,
        kind: StageKind::Open,
        win_probability: Decimal::ZERO,
        forecast_category: ForecastCategory::Pipeline,
        counts_in_metrics: row.get(8)?,
        rotting_days: row.get(9)?,
        archived_at: row.get::<_, Option<i64>>(10)?.map(timestamp),
    };
    Ok((stage, row.get(5)?, row.get(6)?, row.get(7)?))
}

fn finish_stage((mut stage, kind, probability, category): StageRow) -> Result<Stage> {
    stage.kind = parsed("stage", &kind, StageKind::parse)?;
    stage.win_probability = decimal("stage", &probability)?;
    stage.forecast_category = parsed("stage", &category, ForecastCategory::parse)?;
    Ok(stage)
}
