//! Pay ([`PayTx`]): commission plans by version, who is paid under which plan, statements per
//! person per period (open, then locked for good), and disputes of a statement.
//!
//! A plan's definition and a statement's lines are JSON documents whose shape the application
//! layer owns (`pipewise_app::plan_codec`, `pipewise_app::pay`); the store keeps them as text.

use pipewise_core::error::Problem;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;

use crate::Result;

/// One version of a commission plan. Versions are never changed: an edit adds the next one, and
/// a statement names the version it was computed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPlan {
    pub name: String,
    pub version: u32,
    /// The plan's JSON definition.
    pub definition: String,
    pub created_at: Timestamp,
    pub created_by: Option<UserId>,
}

/// Who is paid under which plan (its latest version), from `first` to `last` (open-ended
/// without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanAssignment {
    pub user: UserId,
    pub plan: String,
    pub first: Date,
    pub last: Option<Date>,
}

/// Whether a statement may still be computed again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementStatus {
    Open,
    /// Never computed again; late changes become adjustment lines in the open period.
    Locked,
}

impl StatementStatus {
    pub fn code(self) -> &'static str {
        match self {
            StatementStatus::Open => "open",
            StatementStatus::Locked => "locked",
        }
    }

    pub fn parse(code: &str) -> std::result::Result<StatementStatus, Problem> {
        match code {
            "open" => Ok(StatementStatus::Open),
            "locked" => Ok(StatementStatus::Locked),
            other => Err(Problem::Invalid { value: other.to_owned(), expected: "open or locked" }),
        }
    }
}

/// One person's statement for one fiscal period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredStatement {
    /// 0 for one not stored yet.
    pub id: i64,
    pub user: UserId,
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
    pub plan: String,
    pub version: u32,
    pub total: Money,
    /// The statement's JSON document: its lines and what it carried out.
    pub document: String,
    pub status: StatementStatus,
    pub computed_at: Timestamp,
    pub locked_at: Option<Timestamp>,
    pub locked_by: Option<UserId>,
}

/// Where a dispute is in its workflow: open → in review → resolved → closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DisputeStatus {
    Open,
    InReview,
    Resolved,
    Closed,
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 4] = [DisputeStatus::Open, DisputeStatus::InReview, DisputeStatus::Resolved, DisputeStatus::Closed];

    pub fn code(self) -> &'static str {
        match self {
            DisputeStatus::Open => "open",
            DisputeStatus::InReview => "in_review",
            DisputeStatus::Resolved => "resolved",
            DisputeStatus::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> std::result::Result<DisputeStatus, Problem> {
        DisputeStatus::ALL
            .into_iter()
            .find(|status| status.code() == code)
            .ok_or_else(|| Problem::Invalid { value: code.to_owned(), expected: "open, in_review, resolved or closed" })
    }
}

/// A payee's question about a statement (or one of its lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDispute {
    /// 0 for one not stored yet.
    pub id: i64,
    pub statement_id: i64,
    /// The line disputed (0-based), or the whole statement.
    pub line: Option<u32>,
    /// What that line said when the dispute was opened (an open statement computed again may
    /// number its lines differently).
    pub line_label: Option<String>,
    pub status: DisputeStatus,
    pub note: String,
    pub resolution: Option<String>,
    pub opened_by: UserId,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: Option<UserId>,
}

/// One person's credit share of a deal: `revenue` shares add up to the deal, `overlay` ones are
/// on top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSplit {
    pub deal: OpportunityId,
    pub user: UserId,
    /// `revenue` or `overlay`.
    pub overlay: bool,
    /// A fraction: 0.5 is half the deal.
    pub share: pipewise_core::money::Decimal,
}

/// When a won deal was invoiced and its cash received, as ops recorded them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBilling {
    pub deal: OpportunityId,
    pub invoiced_on: Option<Date>,
    pub paid_on: Option<Date>,
}

/// A transaction's reads and writes of pay.
pub trait PayTx {
    /// Stores a new plan version (the application numbers it); returns the version's row id.
    fn insert_plan_version(&mut self, org: OrgId, plan: &StoredPlan) -> Result<i64>;
    /// Every version of every plan, by name and version.
    fn plan_versions(&mut self, org: OrgId) -> Result<Vec<StoredPlan>>;
    /// Creates the assignment, or replaces the one of that person starting that day; returns
    /// the one it replaced.
    fn put_assignment(&mut self, org: OrgId, assignment: &PlanAssignment) -> Result<Option<PlanAssignment>>;
    fn delete_assignment(&mut self, org: OrgId, user: UserId, first: Date) -> Result<Option<PlanAssignment>>;
    /// Every assignment, by person and first day.
    fn assignments(&mut self, org: OrgId) -> Result<Vec<PlanAssignment>>;
    /// Stores the statement, replacing the one of that person, kind and first day (which keeps its
    /// id); returns its id.
    fn put_statement(&mut self, org: OrgId, statement: &StoredStatement) -> Result<i64>;
    fn statement(&mut self, org: OrgId, id: i64) -> Result<Option<StoredStatement>>;
    /// The statement of that person, kind and first day.
    fn statement_of(&mut self, org: OrgId, user: UserId, kind: PeriodKind, first: Date) -> Result<Option<StoredStatement>>;
    /// A person's statements (everyone's without one), by first day then person.
    fn statements(&mut self, org: OrgId, user: Option<UserId>) -> Result<Vec<StoredStatement>>;
    fn insert_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<i64>;
    /// Changes a dispute's status, resolution and last change.
    fn update_dispute(&mut self, org: OrgId, dispute: &StoredDispute) -> Result<()>;
    fn dispute(&mut self, org: OrgId, id: i64) -> Result<Option<StoredDispute>>;
    /// The disputes of a statement (every one without it), by id.
    fn disputes(&mut self, org: OrgId, statement: Option<i64>) -> Result<Vec<StoredDispute>>;
    /// Replaces a deal's splits with `splits` (none: its owner is credited with all of it).
    fn set_splits(&mut self, org: OrgId, deal: OpportunityId, splits: &[StoredSplit]) -> Result<()>;
    /// Every split of the organisation's deals (of one deal with it), by deal, kind, then person.
    fn splits(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredSplit>>;
    /// Sets a deal's billing dates (both unset removes its row); returns what it had before.
    fn set_billing(&mut self, org: OrgId, billing: &StoredBilling) -> Result<Option<StoredBilling>>;
    /// The billing dates of the organisation's deals (of one deal with it), by deal.
    fn billing(&mut self, org: OrgId, deal: Option<OpportunityId>) -> Result<Vec<StoredBilling>>;
}
