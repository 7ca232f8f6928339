//! [`GatesTx`] for PostgreSQL: exit criteria, checks, gate overrides, handoffs and team cycle days.

use pipewise_core::gates::{self, CriterionKind, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{CheckEntry, GatesTx, Handoff, Result, StoredOverride, codec, sql};
use postgres::Row;

use crate::fields::Fields;

use super::{PgTx, found};

impl GatesTx for PgTx<'_> {
    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = pipewise_store::codec::origin_parts(criterion.origin);
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
        let row = self.query_opt(sql::SELECT_EXIT_CRITERION, &[&org.0, &id])?;
        row.as_ref().map(read_criterion).transpose()
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        let rows = self.query(sql::SELECT_EXIT_CRITERIA, &[&org.0, &pipeline.0])?;
        rows.iter().map(|row| read_criterion(row).map(|(criterion, _)| criterion)).collect()
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let updated = self.execute(
            "UPDATE exit_criterion SET archived_at = $3 WHERE organisation_id = $1 AND exit_criterion_id = $2",
            &[&org.0, &id, &at.to_jiff()],
        )?;
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
        let rows = self.query(sql::SELECT_CRITERION_CHECKS, &[&org.0, &opportunity.0])?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "criterion_check");
                Ok(CheckEntry {
                    id: fields.key("criterion_check_id")?,
                    opportunity_id: OpportunityId(fields.get("opportunity_id")?),
                    criterion_id: fields.get("exit_criterion_id")?,
                    checked: fields.get("checked")?,
                    evidence: fields.get("evidence")?,
                    at: fields.timestamp("at")?,
                    actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
                    source: fields.parsed("source", Source::parse)?,
                })
            })
            .collect()
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
        let rows = self.query(sql::SELECT_GATE_OVERRIDES, &[&org.0, &opportunity.0])?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "gate_override");
                let id = fields.key("gate_override_id")?;
                let unmet: String = fields.get("unmet_json")?;
                Ok(StoredOverride {
                    id,
                    opportunity_id: OpportunityId(fields.get("opportunity_id")?),
                    source: fields.parsed("source", Source::parse)?,
                    gate_override: GateOverride {
                        by: fields.get::<Option<i64>>("actor_id")?.map(UserId),
                        at: fields.timestamp("at")?,
                        reason: fields.get("reason")?,
                        from_stage_id: StageId(fields.get("from_stage_id")?),
                        to_stage_id: StageId(fields.get("to_stage_id")?),
                        unmet: codec::unmet_from_json(&unmet).map_err(|detail| fields.corrupt("unmet_json", detail))?,
                    },
                })
            })
            .collect()
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
        let rows = self.query(sql::SELECT_HANDOFFS_OF_OPPORTUNITY, &[&org.0, &opportunity.0])?;
        rows.iter().map(handoff_from_row).collect()
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        let rows = self.query(sql::SELECT_HANDOFFS, &[&org.0])?;
        rows.iter().map(handoff_from_row).collect()
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
        let updated =
            self.execute("UPDATE team SET average_cycle_days = $3 WHERE organisation_id = $1 AND team_id = $2", &[&org.0, &team.0, &days])?;
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

fn read_criterion(row: &Row) -> Result<(ExitCriterion, Option<Timestamp>)> {
    let mut fields = Fields::new(row, "exit_criterion");
    let id = fields.key("exit_criterion_id")?;
    let kind: String = fields.get("kind")?;
    let argument: Option<String> = fields.get("argument")?;
    let kind = CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| fields.corrupt("argument", problem))?;
    let origin: String = fields.get("origin")?;
    let origin_opportunity = fields.get::<Option<i64>>("origin_opportunity_id")?.map(OpportunityId);
    let origin =
        pipewise_store::codec::origin_from_parts(&origin, origin_opportunity).map_err(|detail| fields.corrupt("origin", detail))?;
    let criterion = ExitCriterion {
        id,
        stage_id: StageId(fields.get("stage_id")?),
        label_en: fields.get("label_en")?,
        label_ko: fields.get("label_ko")?,
        kind,
        origin,
    };
    Ok((criterion, fields.optional_timestamp("archived_at")?))
}

fn handoff_from_row(row: &Row) -> Result<Handoff> {
    let mut fields = Fields::new(row, "handoff");
    Ok(Handoff {
        id: fields.key("handoff_id")?,
        opportunity_id: OpportunityId(fields.get("opportunity_id")?),
        from_user_id: UserId(fields.get("from_user_id")?),
        to_user_id: UserId(fields.get("to_user_id")?),
        actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
        stage_id: StageId(fields.get("stage_id")?),
        at: fields.timestamp("at")?,
        source: fields.parsed("source", Source::parse)?,
        note: fields.get("note")?,
    })
}
