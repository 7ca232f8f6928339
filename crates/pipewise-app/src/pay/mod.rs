//! Pay (SPEC C9, issue 12): commission plans by version, who is paid under which plan, a
//! statement per person per fiscal period whose every line traces to its deal, credit and rule,
//! locking, adjustments and disputes.
//!
//! - **Plans.** Ops and admins save a plan's definition (`plan_codec`); every save is the next
//!   version and versions never change, so a statement names the version it was computed under.
//! - **Assignments.** A person is paid under a plan (its latest version) from a first day, to a
//!   last day or open-ended.
//! - **Statements.** [`compute_statement`] credits the person with the won deals that fall in the
//!   period by the plan's timing (closed in it on booking; invoiced or paid in it on invoice or
//!   cash, held until the date is recorded), shared by their splits, else all to the owner who won
//!   them; in the plan's currency, converted at the close date's rate and named on the line when
//!   the deal was in another one; a deal reopened or lost since is kept or clawed back by the
//!   plan's window. It reads the person's stored quota (for the days they were on a plan, ramped
//!   in their first months) and their team's, carries the cap excess and the draw owed from the
//!   period before, stores the result with `pipewise_comp::compute`'s lines, and converts the
//!   total into the plan's payout currency once the payout day's rate is final. A locked
//!   statement is never computed again: a later computation of the next open period posts what
//!   changed in a locked one as adjustment lines there, each naming the line it corrects
//!   (`pipewise_comp::adjustments`), against what was last settled for that period.
//! - **Disputes** move open → in review → resolved → closed; the payee (or ops) opens one, ops
//!   review and resolve it, the payee or ops close it.
//! - **Who.** Ops and admins compute, lock and review; a person reads their own statements, a
//!   manager those of the people in their reporting line; viewers read no pay. Every write is
//!   audited in its transaction.

use std::collections::BTreeSet;

use pipewise_analytics::metrics::{WonDeal, won_by_owner};
use pipewise_analytics::{Period, Projection, date_of_day};
use pipewise_comp::{
    Attainment, Credit, CreditFacts, FxUsed, Line, LineKind, LineRef, PaidOut, PeriodInput, Plan, SplitKind, Statement, Timing,
};
use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{FieldError, Problem, RecordRef, ValidationErrors};
use pipewise_core::fiscal::FiscalPeriod;
use pipewise_core::money::Decimal;
use pipewise_core::time::parse_date;
use pipewise_core::user::Role;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

mod billing;
mod disputes;
mod document;
mod facts;
mod splits;

pub use billing::{billing_json, billing_of, set_billing};
pub use disputes::{dispute_json, disputes, move_dispute, open_dispute};
use document::{corrupt, decimal_of, document, lines_from, parse_document, statement_from, statement_summary};
pub use document::{decode_statement, kind_code, line_json, statement_json};
use facts::{Carried, Facts, Reach, settled_as, statement_for};
pub use splits::{set_splits, split_json, splits_of};

pub const PLAN: &str = "comp_plan";
pub const ASSIGNMENT: &str = "comp_assignment";
pub const STATEMENT: &str = "pay_statement";
pub const DISPUTE: &str = "pay_dispute";
pub const DEAL_SPLIT: &str = "deal_split";
pub const DEAL_BILLING: &str = "deal_billing";

/// The longest plan name and dispute note or resolution.
const MAX_NAME: usize = 120;
const MAX_NOTE: usize = 4_000;

fn pay_writer(tx: &mut Tx, ctx: &WriteCtx, what: &str) -> Result<Access> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || format!("only ops and admins {what}"))?;
    Ok(access)
}

/// Whose pay `access` may read: everyone's (`None`), or these people's.
pub fn pay_readers(access: &Access) -> Option<BTreeSet<UserId>> {
    match access {
        Access::System => None,
        Access::User(actor) => match actor.role {
            Role::Admin | Role::Ops => None,
            Role::Manager => Some(actor.tree.clone()),
            Role::Rep => Some([actor.user_id].into()),
            Role::Viewer => Some(BTreeSet::new()),
        },
    }
}

fn may_read(access: &Access, user: UserId) -> bool {
    pay_readers(access).is_none_or(|people| people.contains(&user))
}

// ---------------------------------------------------------------------------------------------
// Plans and assignments.

/// Saves `definition` as plan `name`'s next version (its first when new). Every bad field named.
pub fn save_plan(tx: &mut Tx, ctx: &WriteCtx, name: &str, definition: &Value) -> Result<StoredPlan> {
    pay_writer(tx, ctx, "edit commission plans")?;
    let record = RecordRef::new_record(PLAN);
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        let problem = if name.is_empty() { Problem::Required } else { Problem::TooLong { len: name.chars().count(), max: MAX_NAME } };
        return Err(FieldError { record, field: "name", problem }.into());
    }
    let version = tx.0.plan_versions(ctx.org)?.iter().filter(|plan| plan.name == name).map(|plan| plan.version).max().unwrap_or(0) + 1;
    let plan = crate::plan_codec::plan_from_json(definition, name, version)?;
    let stored = StoredPlan {
        name: name.to_owned(),
        version,
        definition: crate::plan_codec::plan_json(&plan).to_string(),
        created_at: ctx.at,
        created_by: ctx.actor_id,
    };
    let id = tx.0.insert_plan_version(ctx.org, &stored)?;
    audit(tx, ctx, PLAN, id, "create", None, Some(plan_json(&stored)))?;
    Ok(stored)
}

/// Every version of every plan, by name and version.
pub fn plans(tx: &mut Tx, org: OrgId) -> Result<Vec<StoredPlan>> {
    tx.0.plan_versions(org)
}

/// A stored plan version as the API and the audit log show it.
pub fn plan_json(plan: &StoredPlan) -> Value {
    let definition: Value = serde_json::from_str(&plan.definition).unwrap_or(Value::Null);
    json!({
        "name": plan.name,
        "version": plan.version,
        "definition": definition,
        "created_at": plan.created_at.to_string(),
        "created_by": plan.created_by.map(|id| id.0),
    })
}

fn latest_plan(tx: &mut Tx, org: OrgId, name: &str) -> Result<Option<StoredPlan>> {
    Ok(tx.0.plan_versions(org)?.into_iter().filter(|plan| plan.name == name).max_by_key(|plan| plan.version))
}

/// Every plan version, decoded once: a batch of statements reads the same few plans for every
/// person and every locked period it re-checks.
struct Plans(std::collections::BTreeMap<(String, u32), Plan>);

impl Plans {
    fn decode_all(stored: &[StoredPlan]) -> Result<Plans> {
        stored.iter().map(|plan| Ok(((plan.name.clone(), plan.version), decode(plan)?))).collect::<Result<_>>().map(Plans)
    }

    fn version(&self, name: &str, version: u32) -> Option<&Plan> {
        self.0.get(&(name.to_owned(), version))
    }

    /// Whether any plan pays on invoice or cash: a credit then counts in the period of a date
    /// that may come long after the deal was won, so the facts reach back to every deal won by
    /// the period's end.
    fn billed(&self) -> bool {
        self.0.values().any(|plan| plan.timing != Timing::Booking)
    }

    /// Whether any plan keeps or counts a deal reopened or lost since it was won (a clawback
    /// window, or the reclaim option): only then are such deals read.
    fn reversals(&self) -> bool {
        self.0.values().any(|plan| plan.clawback != pipewise_comp::Clawback::default())
    }

    fn latest(&self, name: &str) -> Option<&Plan> {
        self.0.range((name.to_owned(), 0)..=(name.to_owned(), u32::MAX)).next_back().map(|(_, plan)| plan)
    }
}

fn decode(stored: &StoredPlan) -> Result<Plan> {
    let value: Value = serde_json::from_str(&stored.definition)
        .map_err(|error| StoreError::Corrupt { table: "comp_plan", detail: format!("{} v{}: {error}", stored.name, stored.version) })?;
    Ok(crate::plan_codec::plan_from_json(&value, &stored.name, stored.version)?)
}

/// Pays `user` under plan `plan` from `first` (to `last`, or open-ended), replacing an
/// assignment of theirs that starts that day.
pub fn assign_plan(tx: &mut Tx, ctx: &WriteCtx, user: UserId, plan: &str, first: &str, last: Option<&str>) -> Result<PlanAssignment> {
    pay_writer(tx, ctx, "assign commission plans")?;
    let record = RecordRef::new_record(ASSIGNMENT);
    let mut errors = ValidationErrors::default();
    exists(tx.0.user(ctx.org, user)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, user.0);
    if latest_plan(tx, ctx.org, plan)?.is_none() {
        errors.push(&record, "plan", Problem::Invalid { value: plan.to_owned(), expected: "the name of a saved plan" });
    }
    let first = errors.check(&record, "first_day", parse_date(first));
    let last = match last {
        None => Some(None),
        Some(raw) => errors.check(&record, "last_day", parse_date(raw)).map(Some),
    };
    let (Some(first), Some(last)) = (first, last) else { return Err(errors.into()) };
    if last.is_some_and(|last| last < first) {
        errors.push(&record, "last_day", Problem::Invalid { value: format!("{last:?}"), expected: "a day on or after first_day" });
    }
    errors.into_result(())?;
    let assignment = PlanAssignment { user, plan: plan.to_owned(), first, last };
    let replaced = tx.0.put_assignment(ctx.org, &assignment)?;
    let after = assignment_json(&assignment);
    match replaced {
        Some(before) => audit_update(tx, ctx, ASSIGNMENT, user.0, assignment_json(&before), after).map(drop)?,
        None => audit(tx, ctx, ASSIGNMENT, user.0, "create", None, Some(after))?,
    }
    Ok(assignment)
}

pub fn assignment_json(assignment: &PlanAssignment) -> Value {
    json!({
        "user_id": assignment.user.0,
        "plan": assignment.plan,
        "first_day": assignment.first.to_string(),
        "last_day": assignment.last.map(|day| day.to_string()),
    })
}

/// The assignments `access` may read.
pub fn assignments(tx: &mut Tx, org: OrgId, access: &Access) -> Result<Vec<PlanAssignment>> {
    Ok(tx.0.assignments(org)?.into_iter().filter(|assignment| may_read(access, assignment.user)).collect())
}

/// The assignment that covers `period`'s first day, else the latest one that overlaps it.
fn assignment_for(all: &[PlanAssignment], user: UserId, period: &FiscalPeriod) -> Option<PlanAssignment> {
    let overlapping = |assignment: &&PlanAssignment| {
        assignment.user == user && assignment.first <= period.last && assignment.last.is_none_or(|last| last >= period.first)
    };
    let mut candidates: Vec<&PlanAssignment> = all.iter().filter(overlapping).collect();
    candidates.sort_by_key(|assignment| assignment.first);
    candidates
        .iter()
        .rev()
        .find(|assignment| assignment.first <= period.first)
        .or(candidates.last())
        .map(|assignment| (*assignment).clone())
}

// ---------------------------------------------------------------------------------------------
// Statements.

/// A stored statement with its lines decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayStatement {
    pub stored: StoredStatement,
    pub statement: Statement,
}

/// Computes `user`'s statement for the fiscal period `period_key` from `projection` (the
/// organisation's, current) and stores it; a locked one is returned as it is, never computed
/// again. Ops and admins only; audited.
pub fn compute_statement(tx: &mut Tx, ctx: &WriteCtx, projection: &Projection, user: UserId, period_key: &str) -> Result<PayStatement> {
    pay_writer(tx, ctx, "compute statements")?;
    let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    let record = RecordRef::new_record(STATEMENT);
    let period =
        organisation.fiscal.parse_key(period_key).map_err(|problem| FieldError { record: record.clone(), field: "period", problem })?;
    must_exist_user(tx, ctx.org, user, &record)?;
    let statements = tx.0.statements(ctx.org, Some(user))?;
    let assignments = tx.0.assignments(ctx.org)?;
    let plans = Plans::decode_all(&tx.0.plan_versions(ctx.org)?)?;
    let first = if plans.billed() { BILLED_FIRST } else { span_first(&statements, &period) };
    let reach = Reach { first, last: period.last, reversals: plans.reversals(), billed: plans.billed() };
    let mut facts = Facts::gather_for(tx, ctx.org, projection, reach, &assignments, Some(user))?;
    compute_one(tx, ctx, projection, &mut facts, &period, &statements, &assignments, &plans, user)
}

/// The first day facts reach back to when a plan pays on invoice or cash.
const BILLED_FIRST: Date = Date::constant(1900, 1, 1);

/// The first day the facts must cover: the earliest locked statement of the period's kind
/// before it (whose recomputation may post adjustments), else the period's own.
fn span_first<'a>(statements: impl IntoIterator<Item = &'a StoredStatement>, period: &FiscalPeriod) -> Date {
    statements
        .into_iter()
        .filter(|stored| stored.status == StatementStatus::Locked && stored.kind == period.kind && stored.first < period.first)
        .map(|stored| stored.first)
        .min()
        .unwrap_or(period.first)
}

/// Computes and stores the statement of every person with a plan for the fiscal period
/// `period_key` (locked ones returned as they are), reading the projection's won deals and the
/// period's quotas once for all of them. Ops and admins only; each is audited.
pub fn compute_statements(tx: &mut Tx, ctx: &WriteCtx, projection: &Projection, period_key: &str) -> Result<Vec<PayStatement>> {
    pay_writer(tx, ctx, "compute statements")?;
    let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    let record = RecordRef::new_record(STATEMENT);
    let period = organisation.fiscal.parse_key(period_key).map_err(|problem| FieldError { record, field: "period", problem })?;
    let assignments = tx.0.assignments(ctx.org)?;
    let plans = Plans::decode_all(&tx.0.plan_versions(ctx.org)?)?;
    // Everyone with an assignment that covers some of the period.
    let payees: BTreeSet<UserId> = assignments
        .iter()
        .filter(|assignment| assignment.first <= period.last && assignment.last.is_none_or(|last| last >= period.first))
        .map(|assignment| assignment.user)
        .collect();
    let mut by_user: std::collections::BTreeMap<UserId, Vec<StoredStatement>> = std::collections::BTreeMap::new();
    for stored in tx.0.statements(ctx.org, None)? {
        by_user.entry(stored.user).or_default().push(stored);
    }
    let first = if plans.billed() { BILLED_FIRST } else { span_first(by_user.values().flatten(), &period) };
    let reach = Reach { first, last: period.last, reversals: plans.reversals(), billed: plans.billed() };
    let mut facts = Facts::gather(tx, ctx.org, projection, reach, &assignments)?;
    payees
        .into_iter()
        .map(|user| {
            let statements = by_user.remove(&user).unwrap_or_default();
            compute_one(tx, ctx, projection, &mut facts, &period, &statements, &assignments, &plans, user)
        })
        .collect()
}

/// One person's statement; `statements` are all of theirs as stored.
#[allow(clippy::too_many_arguments)]
fn compute_one(
    tx: &mut Tx,
    ctx: &WriteCtx,
    projection: &Projection,
    facts: &mut Facts,
    period: &FiscalPeriod,
    statements: &[StoredStatement],
    assignments: &[PlanAssignment],
    plans: &Plans,
    user: UserId,
) -> Result<PayStatement> {
    let record = RecordRef::new_record(STATEMENT);
    if let Some(stored) = statements.iter().find(|stored| stored.kind == period.kind && stored.first == period.first)
        && stored.status == StatementStatus::Locked
    {
        return decode_statement(stored.clone());
    }
    // A locked statement of other days that overlap (the fiscal calendar changed since) has paid
    // for some of them already.
    if let Some(overlap) = statements.iter().find(|stored| {
        stored.status == StatementStatus::Locked
            && stored.first != period.first
            && stored.first <= period.last
            && stored.last >= period.first
    }) {
        return Err(StoreError::Conflict(format!(
            "a locked statement of {} to {} covers part of {} to {}: compute the periods after it",
            overlap.first, overlap.last, period.first, period.last
        )));
    }
    let Some(assignment) = assignment_for(assignments, user, period) else {
        let problem = Problem::Invalid { value: period.key(), expected: "a period the person has a plan for (assign one first)" };
        return Err(FieldError { record, field: "plan", problem }.into());
    };
    let plan = plans.latest(&assignment.plan).ok_or(StoreError::NotFound { kind: PLAN, id: 0 })?;
    // Every stored document of the person, parsed once.
    let documents: std::collections::BTreeMap<i64, Value> =
        statements.iter().map(|stored| Ok((stored.id, parse_document(stored)?))).collect::<Result<_>>()?;
    let carried = Carried::into_period(period, statements, &documents);
    let mut statement = statement_for(tx, ctx.org, projection, facts, period, plan, user, carried, None)?;

    // What changed in this person's locked periods since they were settled, posted here.
    let mut corrections = Vec::new();
    let locked: Vec<StoredStatement> = statements
        .iter()
        .filter(|earlier| earlier.status == StatementStatus::Locked && earlier.kind == period.kind && earlier.first < period.first)
        .cloned()
        .collect();
    for earlier in &locked {
        // An open statement between them takes the corrections first: never posted twice.
        let taken = statements.iter().any(|between| {
            between.kind == period.kind
                && between.status == StatementStatus::Open
                && between.first > earlier.first
                && between.first < period.first
        });
        if taken {
            continue;
        }
        let Some(earlier_plan) = plans.version(&earlier.plan, earlier.version) else { continue };
        let settled = settled_as(&locked, earlier, &documents)?;
        // The locked period's own days, whatever the calendar says now.
        let earlier_period = FiscalPeriod { kind: earlier.kind, year: 0, number: 0, first: earlier.first, last: earlier.last };
        let carried = Carried::into_period(&earlier_period, statements, &documents);
        let recomputed = statement_for(tx, ctx.org, projection, facts, &earlier_period, earlier_plan, user, carried, None)?;
        let posted = pipewise_comp::adjustments(&settled, &recomputed);
        if !posted.is_empty() {
            statement.total += posted.iter().map(|line| line.amount).sum::<Decimal>();
            statement.lines.extend(posted);
            corrections.push(recomputed);
        }
    }

    statement.payout = facts.payout(plan, period.last, statement.total)?;
    let total =
        Money::new(statement.total, plan.currency).map_err(|problem| FieldError { record: record.clone(), field: "total", problem })?;
    let stored = StoredStatement {
        id: 0,
        user,
        kind: period.kind,
        first: period.first,
        last: period.last,
        plan: plan.name.clone(),
        version: plan.version,
        total,
        document: document(&statement, &corrections).to_string(),
        status: StatementStatus::Open,
        computed_at: ctx.at,
        locked_at: None,
        locked_by: None,
    };
    let id = tx.0.put_statement(ctx.org, &stored)?;
    let stored = StoredStatement { id, ..stored };
    audit(tx, ctx, STATEMENT, id, "compute", None, Some(statement_summary(&stored)))?;
    Ok(PayStatement { stored, statement })
}

fn must_exist_user(tx: &mut Tx, org: OrgId, user: UserId, record: &RecordRef) -> Result<()> {
    if tx.0.user(org, user)?.is_none() {
        return Err(FieldError {
            record: record.clone(),
            field: "user_id",
            problem: Problem::UnknownReference { kind: UserId::LABEL, id: user.0 },
        }
        .into());
    }
    Ok(())
}

/// Locks a statement: it is never computed again. Ops and admins; audited.
pub fn lock_statement(tx: &mut Tx, ctx: &WriteCtx, id: i64) -> Result<StoredStatement> {
    pay_writer(tx, ctx, "lock statements")?;
    let mut stored = tx.0.statement(ctx.org, id)?.ok_or(StoreError::NotFound { kind: STATEMENT, id })?;
    if stored.status == StatementStatus::Locked {
        return Ok(stored);
    }
    let before = statement_summary(&stored);
    stored.status = StatementStatus::Locked;
    stored.locked_at = Some(ctx.at);
    stored.locked_by = ctx.actor_id;
    tx.0.put_statement(ctx.org, &stored)?;
    let stored = tx.0.statement_of(ctx.org, stored.user, stored.kind, stored.first)?.ok_or(StoreError::NotFound { kind: STATEMENT, id })?;
    audit_update(tx, ctx, STATEMENT, stored.id, before, statement_summary(&stored))?;
    Ok(stored)
}

/// The statements of `user` (everyone's `access` may read without one), by period.
pub fn statements(tx: &mut Tx, org: OrgId, access: &Access, user: Option<UserId>) -> Result<Vec<StoredStatement>> {
    Ok(tx.0.statements(org, user)?.into_iter().filter(|statement| may_read(access, statement.user)).collect())
}

/// One statement with its lines, if `access` may read it (else not found, like a missing one).
/// A payout still waiting for its day's rate when it was computed (or locked) is converted now
/// if that rate has become final since.
pub fn statement(tx: &mut Tx, org: OrgId, access: &Access, id: i64) -> Result<Option<PayStatement>> {
    let mut pay = match tx.0.statement(org, id)? {
        Some(stored) if may_read(access, stored.user) => decode_statement(stored)?,
        _ => return Ok(None),
    };
    if pay.statement.payout.is_some_and(|payout| payout.amount.is_none()) {
        let stored = tx.0.plan_versions(org)?.into_iter().find(|plan| plan.name == pay.stored.plan && plan.version == pay.stored.version);
        if let Some(stored) = stored {
            let plan = decode(&stored)?;
            let rates = tx.0.rate_table(org)?;
            pay.statement.payout = facts::payout_at(rates.as_ref(), &plan, pay.stored.last, pay.statement.total)?;
        }
    }
    Ok(Some(pay))
}

/// What a deal of `extra` booked on `today` would add to `user`'s statement for `period_key`:
/// the what-if a rep asks before chasing a deal. `None` when the reader may not see the person's
/// pay or the person has no plan for the period. Reads only.
#[allow(clippy::too_many_arguments)]
pub fn what_if(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    projection: &Projection,
    user: UserId,
    period_key: &str,
    extra: Decimal,
    today: Date,
) -> Result<Option<Decimal>> {
    if !may_read(access, user) {
        return Ok(None);
    }
    let organisation = tx.0.organisation(org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let Ok(period) = organisation.fiscal.parse_key(period_key) else { return Ok(None) };
    let assignments = tx.0.assignments(org)?;
    let Some(assignment) = assignment_for(&assignments, user, &period) else { return Ok(None) };
    let Some(stored_plan) = latest_plan(tx, org, &assignment.plan)? else { return Ok(None) };
    let plan = decode(&stored_plan)?;
    let day = today.clamp(period.first, period.last);
    let extra = Credit {
        deal: OpportunityId(0),
        person: user,
        kind: SplitKind::Revenue,
        share: Decimal::ONE,
        amount: extra,
        currency: plan.currency,
        fx: None,
        booked_on: day,
        invoiced_on: Some(day),
        paid_on: Some(day),
        reversed_on: None,
    };
    let first = if plan.timing == Timing::Booking { period.first } else { BILLED_FIRST };
    let reach = Reach {
        first,
        last: period.last,
        reversals: plan.clawback != pipewise_comp::Clawback::default(),
        billed: plan.timing != Timing::Booking,
    };
    let assignments = tx.0.assignments(org)?;
    let mut facts = Facts::gather_for(tx, org, projection, reach, &assignments, Some(user))?;
    let statements = tx.0.statements(org, Some(user))?;
    let documents: std::collections::BTreeMap<i64, Value> =
        statements.iter().map(|stored| Ok((stored.id, parse_document(stored)?))).collect::<Result<_>>()?;
    let carried = Carried::into_period(&period, &statements, &documents);
    let without = statement_for(tx, org, projection, &mut facts, &period, &plan, user, carried, None)?;
    let with = statement_for(tx, org, projection, &mut facts, &period, &plan, user, carried, Some(extra))?;
    Ok(Some(with.total - without.total))
}
