//! [`DealsTx`] for PostgreSQL: opportunities, their history log, shares and gate marks.

use pipewise_core::access::DealScope;
use pipewise_core::history::{Change, HistoryEvent, Source};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{DealsTx, FilterValue, OpportunityFilter, OpportunityMarks, OpportunityShare, Result, StoreError, sql};
use postgres::types::ToSql;

use crate::fields::{Fields, read};

use super::{Params, PgTx, found};

/// PostgreSQL's own: the amount is selected as text (`amount::text`).
const OPPORTUNITY_COLUMNS: &str = "opportunity_id, name, account_id, owner_id, pipeline_id, stage_id, amount::text AS amount, currency, \
     close_date, forecast_category, next_step, status, created_at, closed_at, close_reason";

impl DealsTx for PgTx<'_> {
    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId> {
        let id = with_opportunity_params(org, opportunity, |params| {
            self.returned_id(
                "opportunity",
                "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, \
                 close_date, forecast_category, next_step, status, created_at, closed_at, close_reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING opportunity_id",
                params,
            )
        })?;
        Ok(OpportunityId(id))
    }

    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()> {
        let updated = with_opportunity_params(org, opportunity, |params| {
            self.execute(
                "UPDATE opportunity SET name = $2, account_id = $3, owner_id = $4, pipeline_id = $5, stage_id = $6, \
                 amount = $7::text::numeric, currency = $8, close_date = $9, forecast_category = $10, next_step = $11, \
                 status = $12, created_at = $13, closed_at = $14, close_reason = $15 \
                 WHERE organisation_id = $1 AND opportunity_id = $16",
                &[params, &[&opportunity.id.0]].concat(),
            )
        })?;
        if updated == 0 {
            return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.id.0 });
        }
        Ok(())
    }

    fn opportunity(&mut self, org: OrgId, id: OpportunityId, lock: bool) -> Result<Option<Opportunity>> {
        // A read-only snapshot cannot take row locks, and nothing it does needs them.
        let locking = if lock && !self.read_only { " FOR UPDATE" } else { "" };
        self.one(
            &format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = $1 AND opportunity_id = $2{locking}"),
            &[&org.0, &id.0],
            read,
        )
    }

    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
        let conditions = filter.conditions();
        let limit = filter.limit.map(i64::from);
        let ids: Option<Vec<i64>> = filter.ids.as_ref().map(|ids| ids.iter().map(|id| id.0).collect());
        let scope = match &filter.scope {
            Some(DealScope::Owners { owners, shared_with }) => {
                Some((owners.iter().map(|owner| owner.0).collect::<Vec<i64>>(), shared_with.0))
            }
            Some(DealScope::All) | None => None,
        };
        let mut sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = $1");
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        for (condition, value) in &conditions {
            params.push(match value {
                FilterValue::Id(id) => id,
                FilterValue::Text(text) => text,
            });
            sql.push_str(&format!(" AND {condition} ${}", params.len()));
        }
        if let Some(ids) = &ids {
            params.push(ids);
            sql.push_str(&format!(" AND opportunity_id = ANY(${}::bigint[])", params.len()));
        }
        if let Some((owners, shared_with)) = &scope {
            // The owners travel as one array parameter, so the statement text (and its cache
            // entry) does not grow with a large reporting tree.
            params.push(owners);
            params.push(shared_with);
            sql.push_str(&format!(
                " AND (owner_id = ANY(${}::bigint[]) OR opportunity_id IN \
                 (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = $1 AND user_id = ${}))",
                params.len() - 1,
                params.len()
            ));
        }
        sql.push_str(" ORDER BY opportunity_id");
        if let Some(limit) = &limit {
            params.push(limit);
            sql.push_str(&format!(" LIMIT ${}", params.len()));
        }
        self.collect(&sql, &params, read)
    }

    fn lock_history(&mut self, org: OrgId) -> Result<()> {
        // The counter row `append_history` bumps; locking it first gives every writer of the
        // organisation the same lock order (organisation, then deals).
        if self.read_only {
            return Ok(());
        }
        let row = self.query_opt("SELECT history_seq FROM organisation WHERE organisation_id = $1 FOR UPDATE", &[&org.0])?;
        row.map(|_| ()).ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })
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
        let first = self.reserve_history_seq(org, changes.len())?.start;
        let fields: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
        let old_values: Vec<Option<&str>> = changes.iter().map(|change| change.old.as_deref()).collect();
        let new_values: Vec<Option<&str>> = changes.iter().map(|change| change.new.as_deref()).collect();
        self.execute(
            "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source) \
             SELECT $1::bigint, $2::bigint + change.position - 1, $3::bigint, change.field, change.old_value, change.new_value, \
             $4::timestamptz, $5::bigint, $6::text \
             FROM unnest($7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS change (field, old_value, new_value, position)",
            &[&org.0, &first, &id.0, &at.to_jiff(), &actor_id.map(|id| id.0), &source.as_str(), &fields, &old_values, &new_values],
        )?;
        Ok(())
    }

    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>> {
        self.collect(
            &format!(
                "SELECT {} FROM opportunity_history WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY seq",
                sql::HISTORY_COLUMNS
            ),
            &[&org.0, &id.0],
            read,
        )
    }

    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>> {
        self.collect(sql::SELECT_HISTORY_SINCE, &[&org.0, &after_seq, &i64::from(limit)], read)
    }

    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>> {
        self.collect(sql::SELECT_HISTORY_UNTIL, &[&org.0, &t.to_jiff()], read)
    }

    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>> {
        let row = self.query_one(
            "SELECT max(at) AS at FROM opportunity_history WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &id.0],
        )?;
        Fields::new(&row, "opportunity_history").optional_timestamp("at")
    }

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()> {
        // Sharing twice keeps the first share (who shared it, and when).
        self.execute(
            "INSERT INTO opportunity_share (organisation_id, opportunity_id, user_id, shared_by, shared_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&org.0, &id.0, &user.0, &shared_by.map(|id| id.0), &at.to_jiff()],
        )?;
        Ok(())
    }

    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let row = self.query_one(sql::SELECT_IS_SHARED, &[&org.0, &id.0, &user.0])?;
        Fields::new(&row, "opportunity_share").get("shared")
    }

    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>> {
        self.collect(sql::SELECT_SHARES, &[&org.0, &id.0], read)
    }

    fn shares_with(&mut self, org: OrgId, user: UserId) -> Result<Vec<OpportunityShare>> {
        self.collect(sql::SELECT_SHARES_WITH, &[&org.0, &user.0], read)
    }

    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let removed = self.execute(sql::DELETE_SHARE, &[&org.0, &id.0, &user.0])?;
        Ok(removed > 0)
    }

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks> {
        let marks = self.one(sql::SELECT_MARKS, &[&org.0, &opportunity.0], read)?;
        marks.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.0 })
    }

    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()> {
        let updated = self.execute(
            sql::SET_MARKS,
            &[&marks.sql_at.map(Timestamp::to_jiff), &marks.dropped_at.map(Timestamp::to_jiff), &marks.drop_reason, &org.0, &opportunity.0],
        )?;
        found(updated, OpportunityId::LABEL, opportunity.0)
    }
}

impl PgTx<'_> {
    /// Takes the organisation's next `count` history sequence numbers. The row lock on the
    /// organisation serialises its writers until commit, so sequence order is commit order.
    pub(super) fn reserve_history_seq(&mut self, org: OrgId, count: usize) -> Result<std::ops::Range<i64>> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let row = self.query_opt(sql::RESERVE_HISTORY_SEQ, &[&count, &org.0])?;
        let Some(row) = row else {
            return Err(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 });
        };
        let last: i64 = Fields::new(&row, "organisation").get("history_seq")?;
        Ok(last - count + 1..last + 1)
    }
}

/// Runs `run` with an opportunity's values as `insert_opportunity` and `update_opportunity` bind
/// them: `$1` the organisation, `$2` to `$15` the columns from `name` to `close_reason`.
fn with_opportunity_params<T>(org: OrgId, opportunity: &Opportunity, run: impl FnOnce(&Params<'_>) -> T) -> T {
    run(&[
        &org.0,
        &opportunity.name,
        &opportunity.account_id.map(|id| id.0),
        &opportunity.owner_id.0,
        &opportunity.pipeline_id.0,
        &opportunity.stage_id.0,
        &opportunity.amount.map(|money| money.amount().to_string()),
        &opportunity.amount.map(|money| money.currency().code()),
        &opportunity.close_date,
        &opportunity.forecast_category.as_str(),
        &opportunity.next_step,
        &opportunity.status.as_str(),
        &opportunity.created_at.to_jiff(),
        &opportunity.closed_at.map(Timestamp::to_jiff),
        &opportunity.close_reason,
    ])
}
