//! [`DealsTx`] for SQLite: opportunities, their history log, shares and gate marks.

use pipewise_core::access::DealScope;
use pipewise_core::history::{Change, HistoryEvent, Source};
use pipewise_core::opportunity::{OppField, Opportunity, Status};
use pipewise_core::pipeline::ForecastCategory;
use pipewise_core::*;
use pipewise_store::{DealsTx, OpportunityFilter, OpportunityMarks, OpportunityShare, Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params};

use crate::rows::{corrupt, date, money, parsed, timestamp};

use super::{SqliteTx, db_err, found, identity};

const OPPORTUNITY_COLUMNS: &str = "opportunity_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date, \
     forecast_category, next_step, status, created_at, closed_at, close_reason";
const HISTORY_COLUMNS: &str = "seq, opportunity_id, field, old_value, new_value, at, actor_id, source";

impl DealsTx for SqliteTx<'_> {
    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId> {
        self.db()
            .prepare_cached(
                "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date,
                                          forecast_category, next_step, status, created_at, closed_at, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut statement| statement.insert(opportunity_params(org, opportunity)))
            .map(OpportunityId)
            .map_err(db_err)
    }

    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE opportunity SET name = ?2, account_id = ?3, owner_id = ?4, pipeline_id = ?5, stage_id = ?6, amount = ?7,
                        currency = ?8, close_date = ?9, forecast_category = ?10, next_step = ?11, status = ?12, created_at = ?13,
                        closed_at = ?14, close_reason = ?15
                 WHERE organisation_id = ?1 AND opportunity_id = ?16",
            )
            .and_then(|mut statement| {
                let mut values = opportunity_params(org, opportunity).to_vec();
                values.push(Value::Integer(opportunity.id.0));
                statement.execute(rusqlite::params_from_iter(values))
            })
            .map_err(db_err)?;
        if changed == 0 {
            return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.id.0 });
        }
        Ok(())
    }

    fn opportunity(&mut self, org: OrgId, id: OpportunityId, _lock: bool) -> Result<Option<Opportunity>> {
        // A SQLite write transaction already excludes every other writer.
        let sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = ?1 AND opportunity_id = ?2");
        self.one(&sql, params![org.0, id.0], opportunity_row, finish_opportunity)
    }

    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
        let mut sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = ?1");
        let mut values = vec![Value::Integer(org.0)];
        let mut condition = |column: &str, value: Value| {
            values.push(value);
            sql.push_str(&format!(" AND {column} ?{}", values.len()));
        };
        if let Some(owner) = filter.owner_id {
            condition("owner_id =", Value::Integer(owner.0));
        }
        if let Some(pipeline) = filter.pipeline_id {
            condition("pipeline_id =", Value::Integer(pipeline.0));
        }
        if let Some(account) = filter.account_id {
            condition("account_id =", Value::Integer(account.0));
        }
        if let Some(status) = filter.status {
            condition("status =", Value::Text(status.as_str().to_owned()));
        }
        if let Some(after) = filter.after_id {
            condition("opportunity_id >", Value::Integer(after.0));
        }
        if let Some(stage) = filter.stage_id {
            condition("stage_id =", Value::Integer(stage.0));
        }
        if let Some(ids) = &filter.ids {
            // One JSON array parameter, like the owners below.
            values.push(Value::Text(format!("[{}]", ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(","))));
            sql.push_str(&format!(" AND opportunity_id IN (SELECT value FROM json_each(?{}))", values.len()));
        }
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            // The owners travel as one JSON array parameter, so the statement text (and its
            // cache entry) does not grow with a large reporting tree.
            let owners = format!("[{}]", owners.iter().map(|owner| owner.0.to_string()).collect::<Vec<_>>().join(","));
            values.push(Value::Text(owners));
            values.push(Value::Integer(shared_with.0));
            sql.push_str(&format!(
                " AND (owner_id IN (SELECT value FROM json_each(?{})) OR opportunity_id IN \
                 (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = ?1 AND user_id = ?{}))",
                values.len() - 1,
                values.len()
            ));
        }
        sql.push_str(" ORDER BY opportunity_id");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        self.collect(&sql, rusqlite::params_from_iter(values), opportunity_row, finish_opportunity)
    }

    fn lock_history(&mut self, _org: OrgId) -> Result<()> {
        // `BEGIN IMMEDIATE` already made this the only writer of the whole database.
        Ok(())
    }

    fn append_history(
        &mut self,
        org: OrgId,
        id: OpportunityId,
        changes: &[Change],
        at: Timestamp,
        actor_id: Option<UserId>,
        source: Source,
    ) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let last: i64 = self
            .db()
            .prepare_cached("UPDATE organisation SET history_seq = history_seq + ?2 WHERE organisation_id = ?1 RETURNING history_seq")
            .and_then(|mut statement| statement.query_row(params![org.0, changes.len() as i64], |row| row.get(0)))
            .optional()
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })?;
        let first = last - changes.len() as i64 + 1;
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db_err)?;
        for (offset, change) in changes.iter().enumerate() {
            statement
                .execute(params![
                    org.0,
                    first + offset as i64,
                    id.0,
                    change.field.as_str(),
                    change.old,
                    change.new,
                    at.as_micros(),
                    actor_id.map(|id| id.0),
                    source.as_str()
                ])
                .map_err(db_err)?;
        }
        Ok(())
    }

    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>> {
        // The deal's own index: the planner would otherwise walk the organisation's whole log
        // in sequence order (the primary key matches `ORDER BY seq`), which is O(history).
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM opportunity_history INDEXED BY opportunity_history_deal
             WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq"
        );
        self.collect(&sql, params![org.0, id.0], history_row, finish_history)
    }

    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>> {
        let sql =
            format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
        self.collect(&sql, params![org.0, after_seq, limit], history_row, finish_history)
    }

    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = ?1 AND at <= ?2 ORDER BY seq");
        self.collect(&sql, params![org.0, t.as_micros()], history_row, finish_history)
    }

    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>> {
        let mut statement = self
            .db()
            .prepare_cached(
                "SELECT at FROM opportunity_history INDEXED BY opportunity_history_deal
                 WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .map_err(db_err)?;
        let at: Option<i64> = statement.query_row(params![org.0, id.0], |row| row.get(0)).optional().map_err(db_err)?;
        Ok(at.map(timestamp))
    }

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT OR IGNORE INTO opportunity_share (organisation_id, opportunity_id, user_id, shared_by, shared_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| statement.execute(params![org.0, id.0, user.0, shared_by.map(|id| id.0), at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        self.db()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM opportunity_share WHERE organisation_id = ?1 AND opportunity_id = ?2 AND user_id = ?3)",
            )
            .and_then(|mut statement| statement.query_row(params![org.0, id.0, user.0], |row| row.get(0)))
            .map_err(db_err)
    }

    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>> {
        self.collect(
            "SELECT opportunity_id, user_id, shared_by, shared_at FROM opportunity_share
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY user_id",
            params![org.0, id.0],
            |row| {
                Ok(OpportunityShare {
                    opportunity_id: OpportunityId(row.get(0)?),
                    user_id: UserId(row.get(1)?),
                    shared_by: row.get::<_, Option<i64>>(2)?.map(UserId),
                    shared_at: timestamp(row.get(3)?),
                })
            },
            identity,
        )
    }

    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let removed = self
            .db()
            .prepare_cached("DELETE FROM opportunity_share WHERE organisation_id = ?1 AND opportunity_id = ?2 AND user_id = ?3")
            .and_then(|mut statement| statement.execute(params![org.0, id.0, user.0]))
            .map_err(db_err)?;
        Ok(removed > 0)
    }

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks> {
        let marks = self.one(
            "SELECT sql_at, dropped_at, drop_reason FROM opportunity WHERE organisation_id = ?1 AND opportunity_id = ?2",
            params![org.0, opportunity.0],
            |row| {
                Ok(OpportunityMarks {
                    sql_at: row.get::<_, Option<i64>>(0)?.map(timestamp),
                    dropped_at: row.get::<_, Option<i64>>(1)?.map(timestamp),
                    drop_reason: row.get(2)?,
                })
            },
            identity,
        )?;
        marks.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.0 })
    }

    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE opportunity SET sql_at = ?3, dropped_at = ?4, drop_reason = ?5 WHERE organisation_id = ?1 AND opportunity_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    opportunity.0,
                    marks.sql_at.map(Timestamp::as_micros),
                    marks.dropped_at.map(Timestamp::as_micros),
                    marks.drop_reason
                ])
            })
            .map_err(db_err)?;
        found(changed, OpportunityId::LABEL, opportunity.0)
    }
}

/// Raw opportunity columns; decoding that can fail happens in [`finish_opportunity`].
type OpportunityRow = (Opportunity, Option<String>, Option<String>, Option<String>, String, String);

fn opportunity_row(row: &Row<'_>) -> rusqlite::Result<OpportunityRow> {
    let opportunity = Opportunity {
        id: OpportunityId(row.get(0)?),
        name: row.get(1)?,
        account_id: row.get::<_, Option<i64>>(2)?.map(AccountId),
        owner_id: UserId(row.get(3)?),
        pipeline_id: PipelineId(row.get(4)?),
        stage_id: StageId(row.get(5)?),
        amount: None,
        close_date: None,
        forecast_category: ForecastCategory::Pipeline,
        next_step: row.get(10)?,
        status: Status::Open,
        created_at: timestamp(row.get(12)?),
        closed_at: row.get::<_, Option<i64>>(13)?.map(timestamp),
        close_reason: row.get(14)?,
    };
    Ok((opportunity, row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?, row.get(11)?))
}

fn finish_opportunity((mut opportunity, amount, currency, close_date, category, status): OpportunityRow) -> Result<Opportunity> {
    opportunity.amount = money("opportunity", amount, currency)?;
    opportunity.close_date = date("opportunity", close_date)?;
    opportunity.forecast_category = parsed("opportunity", &category, ForecastCategory::parse)?;
    opportunity.status = parsed("opportunity", &status, Status::parse)?;
    Ok(opportunity)
}

pub(super) fn opportunity_params(org: OrgId, opportunity: &Opportunity) -> [Value; 15] {
    let text = |value: Option<String>| value.map_or(Value::Null, Value::Text);
    let integer = |value: Option<i64>| value.map_or(Value::Null, Value::Integer);
    [
        Value::Integer(org.0),
        Value::Text(opportunity.name.clone()),
        integer(opportunity.account_id.map(|id| id.0)),
        Value::Integer(opportunity.owner_id.0),
        Value::Integer(opportunity.pipeline_id.0),
        Value::Integer(opportunity.stage_id.0),
        text(opportunity.amount.map(|money| money.amount().to_string())),
        text(opportunity.amount.map(|money| money.currency().code().to_owned())),
        text(opportunity.close_date.map(|date| date.to_string())),
        Value::Text(opportunity.forecast_category.as_str().to_owned()),
        text(opportunity.next_step.clone()),
        Value::Text(opportunity.status.as_str().to_owned()),
        Value::Integer(opportunity.created_at.as_micros()),
        integer(opportunity.closed_at.map(Timestamp::as_micros)),
        text(opportunity.close_reason.clone()),
    ]
}

type HistoryRow = (HistoryEvent, String, String);

fn history_row(row: &Row<'_>) -> rusqlite::Result<HistoryRow> {
    let event = HistoryEvent {
        seq: row.get(0)?,
        opportunity_id: OpportunityId(row.get(1)?),
        field: OppField::Name,
        old: row.get(3)?,
        new: row.get(4)?,
        at: timestamp(row.get(5)?),
        actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
        source: Source::System,
    };
    Ok((event, row.get(2)?, row.get(7)?))
}

fn finish_history((mut event, field, source): HistoryRow) -> Result<HistoryEvent> {
    event.field = OppField::parse_event(&field).ok_or_else(|| corrupt("opportunity_history", format!("unknown field {field:?}")))?;
    event.source = parsed("opportunity_history", &source, Source::parse)?;
    Ok(event)
}
