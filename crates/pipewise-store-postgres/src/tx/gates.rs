//! [`GatesTx`] for PostgreSQL: exit criteria, checks, gate overrides, handoffs and team cycle days.

use pipewise_core::gates::{self, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{CheckEntry, GatesTx, Handoff, Result, StoredOverride, codec, sql};

use crate::fields::{Fields, read};

use super::{PgTx, found};

impl GatesTx for PgTx<'_> {
    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = codec::origin_parts(criterion.origin);
        self.returned_id(
            "exit_criterion",
            sql::INSERT_EXIT_CRITERION,
            &[
                &org.0,
                &criterion.stage_id.0,
                &criterion.label_en,
                &criterion.label_ko,
                &criterion.kind.kind_str(),
                &criterion.kind.argument(),
                &origin,
                &origin_opportunity.map(|id| id.0),
                &at.to_jiff(),
            ],
        )
    }

    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>> {
        self.one(sql::SELECT_EXIT_CRITERION, &[&org.0, &id], read)
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        self.collect(sql::SELECT_EXIT_CRITERIA, &[&org.0, &pipeline.0], |row| {
            read(row).map(|(criterion, _archived_at): (_, Option<Timestamp>)| criterion)
        })
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let updated = self.execute(sql::ARCHIVE_EXIT_CRITERION, &[&at.to_jiff(), &org.0, &id])?;
        found(updated, gates::CRITERION_LABEL, id)
    }

    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64> {
        self.returned_id(
            "criterion_check",
            sql::INSERT_CRITERION_CHECK,
            &[
                &org.0,
                &entry.opportunity_id.0,
                &entry.criterion_id,
                &entry.checked,
                &entry.evidence,
                &entry.at.to_jiff(),
                &entry.actor_id.map(|id| id.0),
                &entry.source.as_str(),
            ],
        )
    }

    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>> {
        self.collect(sql::SELECT_CRITERION_CHECKS, &[&org.0, &opportunity.0], read)
    }

    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64> {
        self.returned_id(
            "gate_override",
            sql::INSERT_GATE_OVERRIDE,
            &[
                &org.0,
                &opportunity.0,
                &record.by.map(|id| id.0),
                &record.at.to_jiff(),
                &record.reason,
                &record.from_stage_id.0,
                &record.to_stage_id.0,
                &codec::unmet_to_json(&record.unmet),
                &source.as_str(),
            ],
        )
    }

    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>> {
        self.collect(sql::SELECT_GATE_OVERRIDES, &[&org.0, &opportunity.0], read)
    }

    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64> {
        self.returned_id(
            "handoff",
            sql::INSERT_HANDOFF,
            &[
                &org.0,
                &handoff.opportunity_id.0,
                &handoff.from_user_id.0,
                &handoff.to_user_id.0,
                &handoff.actor_id.map(|id| id.0),
                &handoff.stage_id.0,
                &handoff.at.to_jiff(),
                &handoff.source.as_str(),
                &handoff.note,
            ],
        )
    }

    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>> {
        self.collect(sql::SELECT_HANDOFFS_OF_OPPORTUNITY, &[&org.0, &opportunity.0], read)
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        self.collect(sql::SELECT_HANDOFFS, &[&org.0], read)
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let row = self.query_opt(sql::SELECT_TEAM_CYCLE_DAYS, &[&org.0, &team.0])?;
        let Some(row) = row else { return Ok(None) };
        let fields = Fields::new(&row, "team");
        let days: Option<i32> = fields.get("average_cycle_days")?;
        days.map(|days| u32::try_from(days).map_err(|_| fields.corrupt("average_cycle_days", days))).transpose()
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let days = days.map(|days| i32::try_from(days).unwrap_or(i32::MAX));
        let updated = self.execute(sql::SET_TEAM_CYCLE_DAYS, &[&days, &org.0, &team.0])?;
        found(updated, TeamId::LABEL, team.0)
    }

    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)> {
        // Epochs of timestamptz are exact numerics with microseconds: no float on the way.
        let row = self.query_one(
            "SELECT COUNT(*) AS deals, \
                    COALESCE(SUM((EXTRACT(EPOCH FROM opportunity.closed_at) - EXTRACT(EPOCH FROM opportunity.created_at)) * 1000000), 0)::bigint \
                    AS total_micros \
             FROM opportunity JOIN app_user ON app_user.user_id = opportunity.owner_id \
             WHERE opportunity.organisation_id = $1 AND app_user.team_id = $2 AND opportunity.status = 'won' \
               AND opportunity.closed_at IS NOT NULL",
            &[&org.0, &team.0],
        )?;
        let fields = Fields::new(&row, "opportunity");
        Ok((fields.get("deals")?, fields.get("total_micros")?))
    }
}
