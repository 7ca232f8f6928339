//! [`DealsTx`] for SQLite: opportunities, their history log, shares and gate marks.

use pipewise_core::access::DealScope;
use pipewise_core::history::{Change, HistoryEvent, Source};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{DealsTx, FilterValue, OpportunityFilter, OpportunityMarks, OpportunityShare, Result, StoreError, sql};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params};

use crate::rows::{Fields, read};

use super::{SqliteTx, db_err, found, json_array};

/// SQLite's own: PostgreSQL selects the amount as text (`amount::text`).
const OPPORTUNITY_COLUMNS: &str = "opportunity_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date, \
     forecast_category, next_step, status, created_at, closed_at, close_reason";

/// One opportunity, bound by [`opportunity_params`]; `insert_opportunity` and the bulk loader
/// run it. (PostgreSQL casts the amount: `$7::text::numeric`.)
pub(super) const INSERT_OPPORTUNITY: &str =
    "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date,
                              forecast_category, next_step, status, created_at, closed_at, close_reason)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

/// One history event; `append_history` and the bulk loader run it.
pub(super) const INSERT_HISTORY: &str =
    "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

impl DealsTx for SqliteTx<'_> {
    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId> {
        self.db()
            .prepare_cached(INSERT_OPPORTUNITY)
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
        self.one(&sql, params![org.0, id.0], read)
    }

    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
        let mut sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = ?1");
        let mut values = vec![Value::Integer(org.0)];
        for (condition, value) in filter.conditions() {
            values.push(match value {
                FilterValue::Id(id) => Value::Integer(id),
                FilterValue::Text(text) => Value::Text(text.to_owned()),
            });
            sql.push_str(&format!(" AND {condition} ?{}", values.len()));
        }
        if let Some(ids) = &filter.ids {
            // One JSON array parameter, like the owners below.
            values.push(json_array(ids.iter().map(|id| id.0)));
            sql.push_str(&format!(" AND opportunity_id IN (SELECT value FROM json_each(?{}))", values.len()));
        }
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            // The owners travel as one JSON array parameter, so the statement text (and its
            // cache entry) does not grow with a large reporting tree.
            values.push(json_array(owners.iter().map(|owner| owner.0)));
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
        self.collect(&sql, rusqlite::params_from_iter(values), read)
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
        let first = self.reserve_history_seq(org, changes.len() as i64)?.start;
        let mut statement = self.db().prepare_cached(INSERT_HISTORY).map_err(db_err)?;
        for (offset, change) in changes.iter().enumerate() {
            statement.execute(history_params(org, first + offset as i64, id, change, at, actor_id, source)).map_err(db_err)?;
        }
        Ok(())
    }

    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>> {
        // The deal's own index: the planner would otherwise walk the organisation's whole log
        // in sequence order (the primary key matches `ORDER BY seq`), which is O(history).
        let sql = format!(
            "SELECT {} FROM opportunity_history INDEXED BY opportunity_history_deal
             WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq",
            sql::HISTORY_COLUMNS
        );
        self.collect(&sql, params![org.0, id.0], read)
    }

    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>> {
        self.collect(sql::SELECT_HISTORY_SINCE, params![org.0, after_seq, limit], read)
    }

    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>> {
        self.collect(sql::SELECT_HISTORY_UNTIL, params![org.0, t.as_micros()], read)
    }

    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>> {
        let at = self.one(
            "SELECT at FROM opportunity_history INDEXED BY opportunity_history_deal
             WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![org.0, id.0],
            |row| Fields::new(row, "opportunity_history").timestamp("at"),
        )?;
        Ok(at)
    }

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT OR IGNORE INTO opportunity_share (organisation_id, opportunity_id, user_id, shared_by, shared_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![org.0, id.0, user.0, shared_by.map(|id| id.0), at.as_micros()],
        )?;
        Ok(())
    }

    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let shared =
            self.one(sql::SELECT_IS_SHARED, params![org.0, id.0, user.0], |row| Fields::new(row, "opportunity_share").get("shared"))?;
        // `EXISTS` always gives one row.
        Ok(shared.unwrap_or(false))
    }

    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>> {
        self.collect(sql::SELECT_SHARES, params![org.0, id.0], read)
    }

    fn shares_with(&mut self, org: OrgId, user: UserId) -> Result<Vec<OpportunityShare>> {
        self.collect(sql::SELECT_SHARES_WITH, params![org.0, user.0], read)
    }

    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let removed = self.execute(sql::DELETE_SHARE, params![org.0, id.0, user.0])?;
        Ok(removed > 0)
    }

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks> {
        let marks = self.one(sql::SELECT_MARKS, params![org.0, opportunity.0], read)?;
        marks.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.0 })
    }

    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()> {
        let changed = self.execute(
            sql::SET_MARKS,
            params![
                marks.sql_at.map(Timestamp::as_micros),
                marks.dropped_at.map(Timestamp::as_micros),
                marks.drop_reason,
                org.0,
                opportunity.0
            ],
        )?;
        found(changed, OpportunityId::LABEL, opportunity.0)
    }
}

impl SqliteTx<'_> {
    /// Takes the organisation's next `count` history sequence numbers. `BEGIN IMMEDIATE` made
    /// this the only writer, so they follow commit order.
    pub(super) fn reserve_history_seq(&self, org: OrgId, count: i64) -> Result<std::ops::Range<i64>> {
        let last: i64 = self
            .db()
            .prepare_cached(sql::RESERVE_HISTORY_SEQ)
            .and_then(|mut statement| statement.query_row(params![count, org.0], |row| row.get(0)))
            .optional()
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })?;
        Ok(last - count + 1..last + 1)
    }
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

/// The values [`INSERT_HISTORY`] binds: event `seq`, `change` to deal `id`.
pub(super) fn history_params(
    org: OrgId,
    seq: i64,
    id: OpportunityId,
    change: &Change,
    at: Timestamp,
    actor_id: Option<UserId>,
    source: Source,
) -> impl rusqlite::Params + '_ {
    (
        org.0,
        seq,
        id.0,
        change.field.as_str(),
        change.old.as_deref(),
        change.new.as_deref(),
        at.as_micros(),
        actor_id.map(|id| id.0),
        source.as_str(),
    )
}
