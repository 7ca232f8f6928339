//! [`PipelinesTx`] for PostgreSQL: pipelines and their stages.

use std::collections::HashMap;

use pipewise_core::error::RecordRef;
use pipewise_core::pipeline::{NewPipeline, NewStage, Pipeline, Stage, StageSettings};
use pipewise_core::*;
use pipewise_store::rows::PipelineRow;
use pipewise_store::{PipelinesTx, Result, sql};

use crate::fields::read;

use super::{PgTx, found};

const STAGE_COLUMNS: &str = "stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability::text AS win_probability, \
     forecast_category, counts_in_metrics, rotting_days, archived_at";

impl PipelinesTx for PgTx<'_> {
    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let record = RecordRef::new_record(PipelineId::LABEL);
        if pipeline.entry_stage >= pipeline.stages.len() {
            let problem = Problem::Fact(Message::new("rule.entry_stage_open"));
            return Err(FieldError { record, field: "entry_stage", problem }.into());
        }
        // Positions are `integer`s: the stage at index 2,147,483,648 would have none.
        let first_too_many = i32::MAX as usize + 1;
        if pipeline.stages.len() > first_too_many {
            let problem = Problem::OutOfRange { value: first_too_many.to_string(), range: "at most 2,147,483,647 stages" };
            return Err(FieldError { record, field: "stages", problem }.into());
        }
        let id = self.returned_id("pipeline", sql::INSERT_PIPELINE, &[&org.0, &pipeline.name])?;
        let mut stage_ids = Vec::with_capacity(pipeline.stages.len());
        // Each stage goes after the last, so they take positions 0, 1, … in order.
        for stage in &pipeline.stages {
            stage_ids.push(self.insert_stage(org, PipelineId(id), stage)?.0);
        }
        self.execute(sql::SET_ENTRY_STAGE, &[&stage_ids[pipeline.entry_stage], &org.0, &id])?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        Ok(self.load_pipelines(org, Some(id))?.into_iter().next())
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        self.load_pipelines(org, None)
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let updated = self.execute(sql::UPDATE_PIPELINE, &[&name, &entry_stage_id.0, &org.0, &id.0])?;
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
            let updated = self.execute(sql::SET_STAGE_POSITION, &[&position, &org.0, &pipeline.0, &stage.0])?;
            found(updated, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }

    fn record_stage_settings(&mut self, org: OrgId, settings: &StageSettings) -> Result<()> {
        self.execute(sql::DELETE_STAGE_SETTINGS, &[&org.0, &settings.stage.0, &settings.from])?;
        self.execute(
            "INSERT INTO stage_settings (organisation_id, stage_id, from_day, win_probability, counts_in_metrics) \
             VALUES ($1, $2, $3, $4::text::numeric, $5)",
            &[&org.0, &settings.stage.0, &settings.from, &settings.win_probability.to_string(), &settings.counts_in_metrics],
        )?;
        Ok(())
    }

    fn stage_settings(&mut self, org: OrgId) -> Result<Vec<StageSettings>> {
        self.collect(
            "SELECT stage_id, from_day, win_probability::text AS win_probability, counts_in_metrics FROM stage_settings \
             WHERE organisation_id = $1 ORDER BY stage_id, from_day",
            &[&org.0],
            read,
        )
    }
}

impl PgTx<'_> {
    fn load_pipelines(&mut self, org: OrgId, only: Option<PipelineId>) -> Result<Vec<Pipeline>> {
        let (rows, stage_list): (Vec<PipelineRow>, Vec<Stage>) = match only {
            Some(id) => (
                self.collect(sql::SELECT_PIPELINE, &[&org.0, &id.0], read)?,
                self.collect(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 AND pipeline_id = $2 ORDER BY position"),
                    &[&org.0, &id.0],
                    read,
                )?,
            ),
            None => (
                self.collect(sql::SELECT_PIPELINES, &[&org.0], read)?,
                self.collect(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 ORDER BY pipeline_id, position"),
                    &[&org.0],
                    read,
                )?,
            ),
        };
        let mut stages: HashMap<i64, Vec<Stage>> = HashMap::new();
        for stage in stage_list {
            stages.entry(stage.pipeline_id.0).or_default().push(stage);
        }
        rows.into_iter()
            .map(|row| {
                let stages = stages.remove(&row.id.0).unwrap_or_default();
                row.with_stages(stages)
            })
            .collect()
    }
}
