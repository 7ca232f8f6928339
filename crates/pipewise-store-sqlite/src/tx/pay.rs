//! [`PayTx`] for SQLite.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{PayTx, PlanAssignment, Result, StoredBilling, StoredDispute, StoredPlan, StoredSplit, StoredStatement, sql};
use rusqlite::params;

use crate::rows::read;

use super::SqliteTx;

impl PayTx for SqliteTx<'_> {
    fn insert_plan_version(&mut self, org: OrgId, plan: &StoredPlan) -> Result<i64> {
        self.returned_id(
            sql::INSERT_PLAN_VERSION,
            params![org.0, plan.name, plan.version, plan.definition, plan.created_at.as_micros(), plan.created_by.map(|id| id.0)],
        )
    }

    fn plan_versions(&mut self, org: OrgId) -> Result<Vec<StoredPlan>> {
        self.collect(sql::SELECT_PLAN_VERSIONS, params![org.0], read)
    }

    fn put_assignment(&mut self, org: OrgId, assignment: &PlanAssignment) -> Result<Option<PlanAssignment>> {
        let replaced = self.delete_assignment(org, assignment.user, assignment.first)?;
        self.execute(
            sql::INSERT_ASSIGNMENT,
            params![org.0, assignment.user.0, assignment.first.to_string(), assignment.plan, assignment.last.map(|day| day.to_string())],
        )?;
        Ok(replaced)
    }

    fn delete_assignment(&mut self, org: OrgId, user: UserId, first: Date) -> Result<Option<PlanAssignment>> {
        let key = params![org.0, user.0, first.to_string()];
        let found = self.one(sql::SELECT_ASSIGNMENT, key, read)?;
        if found.is_some() {
            self.execute(sql::DELETE_ASSIGNMENT, key)?;
        }
        Ok(found)
    }

    fn assignments(&mut self, org: OrgId) -> Result<Vec<PlanAssignment>> {
        self.collect(sql::SELECT_ASSIGNMENTS, params![org.0], read)
    }

    fn put_statement(&mut self, org: OrgId, statement: &StoredStatement) -> Result<i64> {
        self.returned_id(
            sql::PUT_STATEMENT_SQLITE,
            params![
                org.0,
                statement.user.0,
                statement.kind.code(),
                statement.first.to_string(),
                statement.last.to_string(),
                statement.plan,
                statement.version,
                statement.total.amount().to_string(),
                statement.total.currency().code(),
                statement.document,
                statement.status.code(),
                statement.computed_at.as_micros(),
                statement.locked_at.map(Timestamp::as_micros),
                statement.locked_by.map(|id| id.0),
            ],
        )
    }

    fn statement(&mut self, org: OrgId, id: i64) -> Result<Option<StoredStatement>> {
        self.one(sql::SELECT_STATEMENT_SQLITE, params![org.0, id], read)
    }

    fn statement_of(&mut self, org: OrgId, user: UserId, kind: PeriodKind, first: Date) -> Result<Option<StoredStatement>> {
        self.one(sql::SELECT_STATEMENT_OF_SQLITE, params![org.0, user.0, kind.code(), first.to_string()], read)
    }

    fn statements(&mut self, org: OrgId, user: Option<UserId>) -> Result<Vec<StoredStatement>> {
        self.collect(sql::SELECT_STATEMENTS_SQLITE, params![org.0, user.map(|id| id.0)], read)
    }

    fn insert_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<i64> {
        self.returned_id(
            "INSERT INTO pay_dispute (organisation_id, pay_statement_id, line_index, status, note, resolution, opened_by, opened_at, \
             updated_at, updated_by, line_label) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING pay_dispute_id",
            params![
                org.0,
                dispute.statement_id,
                dispute.line,
                dispute.status.code(),
                dispute.note,
                dispute.resolution,
                dispute.opened_by.0,
                dispute.opened_at.as_micros(),
                dispute.updated_at.as_micros(),
                dispute.updated_by.map(|id| id.0),
                dispute.line_label,
            ],
        )
    }

    fn update_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<()> {
        self.execute(
            sql::UPDATE_DISPUTE,
            params![
                dispute.status.code(),
                dispute.resolution,
                dispute.updated_at.as_micros(),
                dispute.updated_by.map(|id| id.0),
                org.0,
                dispute.id
            ],
        )?;
        Ok(())
    }

    fn dispute(&mut self, org: OrgId, id: i64) -> Result<Option<StoredDispute>> {
        self.one(sql::SELECT_DISPUTE, params![org.0, id], read)
    }

    fn disputes(&mut self, org: OrgId, statement: Option<i64>) -> Result<Vec<StoredDispute>> {
        self.collect(sql::SELECT_DISPUTES, params![org.0, statement], read)
    }

    fn set_splits(&mut self, org: OrgId, deal: OpportunityId, splits: &[StoredSplit]) -> Result<()> {
        self.execute(sql::DELETE_SPLITS, params![org.0, deal.0])?;
        for split in splits {
            self.execute(
                "INSERT INTO deal_split (organisation_id, opportunity_id, user_id, kind, share) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![org.0, deal.0, split.user.0, if split.overlay { "overlay" } else { "revenue" }, split.share.to_string()],
            )?;
        }
        Ok(())
    }

    fn splits(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredSplit>> {
        self.collect(sql::SELECT_SPLITS_SQLITE, params![org.0, deal.map(|deal| deal.0)], read)
    }

    fn set_billing(&mut self, org: OrgId, billing: &StoredBilling) -> Result<Option<StoredBilling>> {
        let before = self.billing(org, Some(billing.deal))?.pop();
        self.execute(sql::DELETE_BILLING, params![org.0, billing.deal.0])?;
        if billing.invoiced_on.is_some() || billing.paid_on.is_some() {
            let day = |day: Option<Date>| day.map(|day| day.to_string());
            self.execute(sql::INSERT_BILLING, params![org.0, billing.deal.0, day(billing.invoiced_on), day(billing.paid_on)])?;
        }
        Ok(before)
    }

    fn billing(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredBilling>> {
        self.collect(sql::SELECT_BILLING, params![org.0, deal.map(|deal| deal.0)], read)
    }
}
