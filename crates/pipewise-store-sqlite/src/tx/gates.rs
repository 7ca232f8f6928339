//! [`GatesTx`] for SQLite: exit criteria, checks, gate overrides, handoffs and team cycle days.

use pipewise_core::gates::{self, CriterionKind, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{CheckEntry, GatesTx, Handoff, Result, StoredOverride, codec};
use rusqlite::{Row, params};

use crate::rows::{corrupt, parsed, timestamp};

use super::{SqliteTx, db_err, found, identity};

const CRITERION_COLUMNS: &str =
    "exit_criterion_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, archived_at";

impl GatesTx for SqliteTx<'_> {
    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = pipewise_store::codec::origin_parts(criterion.origin);
        self.db()
            .prepare_cached(
                "INSERT INTO exit_criterion (organisation_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    criterion.stage_id.0,
                    criterion.label_en,
                    criterion.label_ko,
                    criterion.kind.kind_str(),
                    criterion.kind.argument(),
                    origin,
                    origin_opportunity.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map_err(db_err)
    }

    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>> {
        let sql = format!("SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = ?1 AND exit_criterion_id = ?2");
        self.one(&sql, params![org.0, id], criterion_row, finish_criterion)
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        let sql = format!(
            "SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = ?1 AND archived_at IS NULL
               AND stage_id IN (SELECT stage_id FROM stage WHERE organisation_id = ?1 AND pipeline_id = ?2)
             ORDER BY exit_criterion_id"
        );
        let rows = self.collect(&sql, params![org.0, pipeline.0], criterion_row, finish_criterion)?;
        Ok(rows.into_iter().map(|(criterion, _)| criterion).collect())
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE exit_criterion SET archived_at = ?3 WHERE organisation_id = ?1 AND exit_criterion_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, id, at.as_micros()]))
            .map_err(db_err)?;
        found(changed, gates::CRITERION_LABEL, id)
    }

    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO criterion_check (organisation_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    entry.opportunity_id.0,
                    entry.criterion_id,
                    entry.checked,
                    entry.evidence,
                    entry.at.as_micros(),
                    entry.actor_id.map(|id| id.0),
                    entry.source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>> {
        self.collect(
            "SELECT criterion_check_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source FROM criterion_check
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY criterion_check_id",
            params![org.0, opportunity.0],
            |row| {
                let entry = CheckEntry {
                    id: row.get(0)?,
                    opportunity_id: OpportunityId(row.get(1)?),
                    criterion_id: row.get(2)?,
                    checked: row.get(3)?,
                    evidence: row.get(4)?,
                    at: timestamp(row.get(5)?),
                    actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
                    source: Source::System,
                };
                Ok((entry, row.get::<_, String>(7)?))
            },
            |(mut entry, source)| {
                entry.source = parsed("criterion_check", &source, Source::parse)?;
                Ok(entry)
            },
        )
    }

    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO gate_override (organisation_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    opportunity.0,
                    record.by.map(|id| id.0),
                    record.at.as_micros(),
                    record.reason,
                    record.from_stage_id.0,
                    record.to_stage_id.0,
                    codec::unmet_to_json(&record.unmet),
                    source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>> {
        type Raw = (i64, i64, Option<i64>, i64, String, i64, i64, String, String);
        self.collect(
            "SELECT gate_override_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source FROM gate_override
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY gate_override_id",
            params![org.0, opportunity.0],
            |row| -> rusqlite::Result<Raw> {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
            },
            |(id, opportunity, actor, at, reason, from, to, unmet, source): Raw| {
                Ok(StoredOverride {
                    id,
                    opportunity_id: OpportunityId(opportunity),
                    source: parsed("gate_override", &source, Source::parse)?,
                    gate_override: GateOverride {
                        by: actor.map(UserId),
                        at: timestamp(at),
                        reason,
                        from_stage_id: StageId(from),
                        to_stage_id: StageId(to),
                        unmet: codec::unmet_from_json(&unmet).map_err(|detail| corrupt("gate_override", detail))?,
                    },
                })
            },
        )
    }

    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO handoff (organisation_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    handoff.opportunity_id.0,
                    handoff.from_user_id.0,
                    handoff.to_user_id.0,
                    handoff.actor_id.map(|id| id.0),
                    handoff.stage_id.0,
                    handoff.at.as_micros(),
                    handoff.source.as_str(),
                    handoff.note
                ])
            })
            .map_err(db_err)
    }

    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>> {
        self.collect(
            "SELECT handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note FROM handoff
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY handoff_id",
            params![org.0, opportunity.0],
            handoff_row,
            finish_handoff,
        )
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        self.collect(
            "SELECT handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note FROM handoff
             WHERE organisation_id = ?1 ORDER BY handoff_id",
            params![org.0],
            handoff_row,
            finish_handoff,
        )
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let days = self.one(
            "SELECT average_cycle_days FROM team WHERE organisation_id = ?1 AND team_id = ?2",
            params![org.0, team.0],
            |row| row.get::<_, Option<u32>>(0),
            identity,
        )?;
        Ok(days.flatten())
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE team SET average_cycle_days = ?3 WHERE organisation_id = ?1 AND team_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, team.0, days]))
            .map_err(db_err)?;
        found(changed, TeamId::LABEL, team.0)
    }

    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)> {
        let totals = self.one(
            // Driven from the team's members through the owner index, not from every deal.
            "SELECT COUNT(*), COALESCE(SUM(closed_at - created_at), 0) FROM opportunity
             WHERE organisation_id = ?1 AND status = 'won' AND closed_at IS NOT NULL
               AND owner_id IN (SELECT user_id FROM app_user WHERE organisation_id = ?1 AND team_id = ?2)",
            params![org.0, team.0],
            |row| Ok((row.get(0)?, row.get(1)?)),
            identity,
        )?;
        Ok(totals.unwrap_or((0, 0)))
    }
}

type CriterionRow = (i64, i64, String, String, String, Option<String>, String, Option<i64>, Option<i64>);

fn criterion_row(row: &Row<'_>) -> rusqlite::Result<CriterionRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
}

fn finish_criterion(
    (id, stage, label_en, label_ko, kind, argument, origin, origin_opportunity, archived_at): CriterionRow,
) -> Result<(ExitCriterion, Option<Timestamp>)> {
    let kind =
        CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| corrupt("exit_criterion", format!("row {id}: {problem}")))?;
    let origin = pipewise_store::codec::origin_from_parts(&origin, origin_opportunity.map(OpportunityId))
        .map_err(|detail| corrupt("exit_criterion", format!("row {id}: {detail}")))?;
    let criterion = ExitCriterion { id, stage_id: StageId(stage), label_en, label_ko, kind, origin };
    Ok((criterion, archived_at.map(timestamp)))
}

fn handoff_row(row: &Row<'_>) -> rusqlite::Result<(Handoff, String)> {
    let handoff = Handoff {
        id: row.get(0)?,
        opportunity_id: OpportunityId(row.get(1)?),
        from_user_id: UserId(row.get(2)?),
        to_user_id: UserId(row.get(3)?),
        actor_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        stage_id: StageId(row.get(5)?),
        at: timestamp(row.get(6)?),
        source: Source::System,
        note: row.get(8)?,
    };
    Ok((handoff, row.get(7)?))
}

fn finish_handoff((mut handoff, source): (Handoff, String)) -> Result<Handoff> {
    handoff.source = parsed("handoff", &source, Source::parse)?;
    Ok(handoff)
}
