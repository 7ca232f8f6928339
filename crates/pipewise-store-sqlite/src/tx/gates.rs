//! [`GatesTx`] for SQLite: exit criteria, checks, gate overrides, handoffs and team cycle days.

use pipewise_core::gates::{self, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{CheckEntry, GatesTx, Handoff, Result, StoredOverride, codec, sql};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::{SqliteTx, found};

impl GatesTx for SqliteTx<'_> {
    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = codec::origin_parts(criterion.origin);
        self.returned_id(
            sql::INSERT_EXIT_CRITERION,
            params![
                org.0,
                criterion.stage_id.0,
                criterion.label_en,
                criterion.label_ko,
                criterion.kind.kind_str(),
                criterion.kind.argument(),
                origin,
                origin_opportunity.map(|id| id.0),
                at.as_micros()
            ],
        )
    }

    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>> {
        self.one(sql::SELECT_EXIT_CRITERION, params![org.0, id], read)
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        self.collect(sql::SELECT_EXIT_CRITERIA, params![org.0, pipeline.0], |row| {
            read(row).map(|(criterion, _archived_at): (_, Option<Timestamp>)| criterion)
        })
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let changed = self.execute(sql::ARCHIVE_EXIT_CRITERION, params![at.as_micros(), org.0, id])?;
        found(changed, gates::CRITERION_LABEL, id)
    }

    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64> {
        self.returned_id(
            sql::INSERT_CRITERION_CHECK,
            params![
                org.0,
                entry.opportunity_id.0,
                entry.criterion_id,
                entry.checked,
                entry.evidence,
                entry.at.as_micros(),
                entry.actor_id.map(|id| id.0),
                entry.source.as_str()
            ],
        )
    }

    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>> {
        self.collect(sql::SELECT_CRITERION_CHECKS, params![org.0, opportunity.0], read)
    }

    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64> {
        self.returned_id(
            sql::INSERT_GATE_OVERRIDE,
            params![
                org.0,
                opportunity.0,
                record.by.map(|id| id.0),
                record.at.as_micros(),
                record.reason,
                record.from_stage_id.0,
                record.to_stage_id.0,
                codec::unmet_to_json(&record.unmet),
                source.as_str()
            ],
        )
    }

    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>> {
        self.collect(sql::SELECT_GATE_OVERRIDES, params![org.0, opportunity.0], read)
    }

    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64> {
        self.returned_id(
            sql::INSERT_HANDOFF,
            params![
                org.0,
                handoff.opportunity_id.0,
                handoff.from_user_id.0,
                handoff.to_user_id.0,
                handoff.actor_id.map(|id| id.0),
                handoff.stage_id.0,
                handoff.at.as_micros(),
                handoff.source.as_str(),
                handoff.note
            ],
        )
    }

    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>> {
        self.collect(sql::SELECT_HANDOFFS_OF_OPPORTUNITY, params![org.0, opportunity.0], read)
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        self.collect(sql::SELECT_HANDOFFS, [org.0], read)
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let days = self.one(sql::SELECT_TEAM_CYCLE_DAYS, params![org.0, team.0], |row| {
            Fields::new(row, "team").value::<Option<u32>>("average_cycle_days")
        })?;
        Ok(days.flatten())
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let changed = self.execute(sql::SET_TEAM_CYCLE_DAYS, params![days, org.0, team.0])?;
        found(changed, TeamId::LABEL, team.0)
    }

    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)> {
        let totals = self.one(
            // Driven from the team's members through the owner index, not from every deal.
            "SELECT COUNT(*) AS deals, COALESCE(SUM(closed_at - created_at), 0) AS total_micros FROM opportunity
             WHERE organisation_id = ?1 AND status = 'won' AND closed_at IS NOT NULL
               AND owner_id IN (SELECT user_id FROM app_user WHERE organisation_id = ?1 AND team_id = ?2)",
            params![org.0, team.0],
            |row| {
                let fields = Fields::new(row, "opportunity");
                Ok((fields.get::<i64>("deals")?, fields.get::<i64>("total_micros")?))
            },
        )?;
        Ok(totals.unwrap_or((0, 0)))
    }
}
