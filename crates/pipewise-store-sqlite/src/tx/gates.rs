//! [`GatesTx`] for SQLite: exit criteria, checks, gate overrides, handoffs and team cycle days.

use pipewise_core::gates::{self, CriterionKind, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{CheckEntry, GatesTx, Handoff, Result, StoredOverride, codec, sql};
use rusqlite::params;

use crate::rows::{Fields, NamedRow};

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
        self.one(sql::SELECT_EXIT_CRITERION, params![org.0, id], read_criterion)
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        self.collect(sql::SELECT_EXIT_CRITERIA, params![org.0, pipeline.0], |row| read_criterion(row).map(|(criterion, _)| criterion))
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let changed = self.execute(
            "UPDATE exit_criterion SET archived_at = ?3 WHERE organisation_id = ?1 AND exit_criterion_id = ?2",
            params![org.0, id, at.as_micros()],
        )?;
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
        self.collect(sql::SELECT_CRITERION_CHECKS, params![org.0, opportunity.0], |row| {
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
        self.collect(sql::SELECT_GATE_OVERRIDES, params![org.0, opportunity.0], |row| {
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
        self.collect(sql::SELECT_HANDOFFS_OF_OPPORTUNITY, params![org.0, opportunity.0], read_handoff)
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        self.collect(sql::SELECT_HANDOFFS, [org.0], read_handoff)
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let days = self.one(sql::SELECT_TEAM_CYCLE_DAYS, params![org.0, team.0], |row| {
            Fields::new(row, "team").get::<Option<u32>>("average_cycle_days")
        })?;
        Ok(days.flatten())
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let changed = self
            .execute("UPDATE team SET average_cycle_days = ?3 WHERE organisation_id = ?1 AND team_id = ?2", params![org.0, team.0, days])?;
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

fn read_criterion(row: &NamedRow<'_, '_>) -> Result<(ExitCriterion, Option<Timestamp>)> {
    let mut fields = Fields::new(row, "exit_criterion");
    let id = fields.key("exit_criterion_id")?;
    let kind: String = fields.get("kind")?;
    let argument: Option<String> = fields.get("argument")?;
    let kind = CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| fields.corrupt("argument", problem))?;
    let origin: String = fields.get("origin")?;
    let origin_opportunity = fields.get::<Option<i64>>("origin_opportunity_id")?.map(OpportunityId);
    let origin = codec::origin_from_parts(&origin, origin_opportunity).map_err(|detail| fields.corrupt("origin", detail))?;
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

fn read_handoff(row: &NamedRow<'_, '_>) -> Result<Handoff> {
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
