//! [`PayTx`] for PostgreSQL.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{
    PayTx, PlanAssignment, Result, StoreError, StoredBilling, StoredDispute, StoredPlan, StoredSplit, StoredStatement, sql,
};

use crate::fields::read;

use super::PgTx;

/// A version or line number as PostgreSQL's `integer`.
fn int4(value: u32, what: &'static str) -> Result<i32> {
    i32::try_from(value).map_err(|_| StoreError::Conflict(format!("{what} {value} is too large")))
}

impl PayTx for PgTx<'_> {
    fn insert_plan_version(&mut self, org: OrgId, plan: &StoredPlan) -> Result<i64> {
        let version = int4(plan.version, "plan version")?;
        self.returned_id(
            "comp_plan",
            sql::INSERT_PLAN_VERSION,
            &[&org.0, &plan.name, &version, &plan.definition, &plan.created_at.to_jiff(), &plan.created_by.map(|id| id.0)],
        )
    }

    fn plan_versions(&mut self, org: OrgId) -> Result<Vec<StoredPlan>> {
        self.collect(sql::SELECT_PLAN_VERSIONS, &[&org.0], read)
    }

    fn put_assignment(&mut self, org: OrgId, assignment: &PlanAssignment) -> Result<Option<PlanAssignment>> {
        let replaced = self.delete_assignment(org, assignment.user, assignment.first)?;
        self.execute(sql::INSERT_ASSIGNMENT, &[&org.0, &assignment.user.0, &assignment.first, &assignment.plan, &assignment.last])?;
        Ok(replaced)
    }

    fn delete_assignment(&mut self, org: OrgId, user: UserId, first: Date) -> Result<Option<PlanAssignment>> {
        let found = self.one(sql::SELECT_ASSIGNMENT, &[&org.0, &user.0, &first], read)?;
        if found.is_some() {
            self.execute(sql::DELETE_ASSIGNMENT, &[&org.0, &user.0, &first])?;
        }
        Ok(found)
    }

    fn assignments(&mut self, org: OrgId) -> Result<Vec<PlanAssignment>> {
        self.collect(sql::SELECT_ASSIGNMENTS, &[&org.0], read)
    }

    fn put_statement(&mut self, org: OrgId, statement: &StoredStatement) -> Result<i64> {
        let version = int4(statement.version, "plan version")?;
        self.returned_id(
            "pay_statement",
            sql::PUT_STATEMENT_POSTGRES,
            &[
                &org.0,
                &statement.user.0,
                &statement.kind.code(),
                &statement.first,
                &statement.last,
                &statement.plan,
                &version,
                &statement.total.amount().to_string(),
                &statement.total.currency().code(),
                &statement.document,
                &statement.status.code(),
                &statement.computed_at.to_jiff(),
                &statement.locked_at.map(Timestamp::to_jiff),
                &statement.locked_by.map(|id| id.0),
            ],
        )
    }

    fn statement(&mut self, org: OrgId, id: i64) -> Result<Option<StoredStatement>> {
        self.one(sql::SELECT_STATEMENT_POSTGRES, &[&org.0, &id], read)
    }

    fn statement_of(&mut self, org: OrgId, user: UserId, kind: PeriodKind, first: Date) -> Result<Option<StoredStatement>> {
        self.one(sql::SELECT_STATEMENT_OF_POSTGRES, &[&org.0, &user.0, &kind.code(), &first], read)
    }

    fn statements(&mut self, org: OrgId, user: Option<UserId>) -> Result<Vec<StoredStatement>> {
        self.collect(sql::SELECT_STATEMENTS_POSTGRES, &[&org.0, &user.map(|id| id.0)], read)
    }

    fn insert_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<i64> {
        let line = dispute.line.map(|line| int4(line, "line")).transpose()?;
        self.returned_id(
            "pay_dispute",
            "INSERT INTO pay_dispute (organisation_id, pay_statement_id, line_index, status, note, resolution, opened_by, opened_at, \
             updated_at, updated_by, line_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING pay_dispute_id",
            &[
                &org.0,
                &dispute.statement_id,
                &line,
                &dispute.status.code(),
                &dispute.note,
                &dispute.resolution,
                &dispute.opened_by.0,
                &dispute.opened_at.to_jiff(),
                &dispute.updated_at.to_jiff(),
                &dispute.updated_by.map(|id| id.0),
                &dispute.line_label,
            ],
        )
    }

    fn update_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<()> {
        self.execute(
            sql::UPDATE_DISPUTE,
            &[
                &dispute.status.code(),
                &dispute.resolution,
                &dispute.updated_at.to_jiff(),
                &dispute.updated_by.map(|id| id.0),
                &org.0,
                &dispute.id,
            ],
        )?;
        Ok(())
    }

    fn dispute(&mut self, org: OrgId, id: i64) -> Result<Option<StoredDispute>> {
        self.one(sql::SELECT_DISPUTE, &[&org.0, &id], read)
    }

    fn disputes(&mut self, org: OrgId, statement: Option<i64>) -> Result<Vec<StoredDispute>> {
        self.collect(sql::SELECT_DISPUTES, &[&org.0, &statement], read)
    }

    fn set_splits(&mut self, org: OrgId, deal: OpportunityId, splits: &[StoredSplit]) -> Result<()> {
        self.execute(sql::DELETE_SPLITS, &[&org.0, &deal.0])?;
        for split in splits {
            self.execute(
                "INSERT INTO deal_split (organisation_id, opportunity_id, user_id, kind, share) VALUES ($1, $2, $3, $4, $5::text::numeric)",
                &[&org.0, &deal.0, &split.user.0, &if split.overlay { "overlay" } else { "revenue" }, &split.share.to_string()],
            )?;
        }
        Ok(())
    }

    fn splits(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredSplit>> {
        self.collect(sql::SELECT_SPLITS_POSTGRES, &[&org.0, &deal.map(|deal| deal.0)], read)
    }

    fn set_billing(&mut self, org: OrgId, billing: &StoredBilling) -> Result<Option<StoredBilling>> {
        let before = self.billing(org, Some(billing.deal))?.pop();
        self.execute(sql::DELETE_BILLING, &[&org.0, &billing.deal.0])?;
        if billing.invoiced_on.is_some() || billing.paid_on.is_some() {
            self.execute(sql::INSERT_BILLING, &[&org.0, &billing.deal.0, &billing.invoiced_on, &billing.paid_on])?;
        }
        Ok(before)
    }

    fn billing(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredBilling>> {
        self.collect(sql::SELECT_BILLING, &[&org.0, &deal.map(|deal| deal.0)], read)
    }
}
