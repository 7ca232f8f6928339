//! [`PipelinesTx`] for SQLite: pipelines and their stages.

use pipewise_core::pipeline::{NewPipeline, NewStage, Pipeline, Stage, StageSettings};
use pipewise_core::*;
use pipewise_store::rows::PipelineRow;
use pipewise_store::{PipelinesTx, Result, sql};
use rusqlite::params;

use crate::rows::read;

use super::{SqliteTx, db_err, found};

impl PipelinesTx for SqliteTx<'_> {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let id = self.returned_id(sql::INSERT_PIPELINE, params![org.0, pipeline.name])?;
        let mut entry_stage_id = None;
        // Each stage goes after the last, so they take positions 0, 1, … in order.
        for (position, stage) in pipeline.stages.iter().enumerate() {
            let stage_id = self.insert_stage(org, PipelineId(id), stage)?;
            if position == pipeline.entry_stage {
                entry_stage_id = Some(stage_id.0);
            }
        }
        self.execute(sql::SET_ENTRY_STAGE, params![entry_stage_id, org.0, id])?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        let row = self.one(sql::SELECT_PIPELINE, params![org.0, id.0], read)?;
        row.map(|row| self.with_stages(org, row)).transpose()
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        let rows = self.collect(sql::SELECT_PIPELINES, [org.0], read)?;
        rows.into_iter().map(|row| self.with_stages(org, row)).collect()
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let changed = self.execute(sql::UPDATE_PIPELINE, params![name, entry_stage_id.0, org.0, id.0])?;
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
        let mut statement = self.db().prepare_cached(sql::SET_STAGE_POSITION).map_err(db_err)?;
        for (position, stage) in order.iter().enumerate() {
            let changed = statement.execute(params![position as i64, org.0, pipeline.0, stage.0]).map_err(db_err)?;
            found(changed, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }

    fn record_stage_settings(&mut self, org: OrgId, settings: &StageSettings) -> Result<()> {
        let day = settings.from.to_string();
        self.execute(sql::DELETE_STAGE_SETTINGS, params![org.0, settings.stage.0, day])?;
        self.execute(
            "INSERT INTO stage_settings (organisation_id, stage_id, from_day, win_probability, counts_in_metrics) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![org.0, settings.stage.0, day, settings.win_probability.to_string(), settings.counts_in_metrics],
        )?;
        Ok(())
    }

    fn stage_settings(&mut self, org: OrgId) -> Result<Vec<StageSettings>> {
        self.collect(
            "SELECT stage_id, from_day, win_probability, counts_in_metrics FROM stage_settings \
             WHERE organisation_id = ?1 ORDER BY stage_id, from_day",
            [org.0],
            read,
        )
    }
}

impl SqliteTx<'_> {
    fn stages(&self, org: OrgId, pipeline: PipelineId) -> Result<Vec<Stage>> {
        self.collect(
            "SELECT stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability, forecast_category, counts_in_metrics, rotting_days,
                    archived_at
             FROM stage WHERE organisation_id = ?1 AND pipeline_id = ?2 ORDER BY position",
            params![org.0, pipeline.0],
            read,
        )
    }

    fn with_stages(&self, org: OrgId, row: PipelineRow) -> Result<Pipeline> {
        let stages = self.stages(org, row.id)?;
        row.with_stages(stages)
    }
}
