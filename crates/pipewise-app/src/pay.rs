//! Pay (SPEC C9, issue 12): commission plans by version, who is paid under which plan, a
//! statement per person per fiscal period whose every line traces to its deal, credit and rule,
//! locking, adjustments and disputes.
//!
//! - **Plans.** Ops and admins save a plan's definition (`plan_codec`); every save is the next
//!   version and versions never change, so a statement names the version it was computed under.
//! - **Assignments.** A person is paid under a plan (its latest version) from a first day, to a
//!   last day or open-ended.
//! - **Statements.** [`compute_statement`] credits the person with their won deals closed in the
//!   period (100% revenue credit to the owner, in the reporting currency at the rate of the day
//!   the amount was set, the rate named on the line when the deal was in another currency),
//!   reads their stored quota and their team's, carries the cap excess and the draw owed from the
//!   period before, and stores the result with `pipewise_comp::compute`'s lines. A locked
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
use pipewise_comp::{Attainment, Credit, CreditFacts, FxUsed, Line, LineKind, LineRef, PeriodInput, Plan, SplitKind, Statement};
use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{FieldError, Problem, RecordRef, ValidationErrors};
use pipewise_core::fiscal::FiscalPeriod;
use pipewise_core::money::Decimal;
use pipewise_core::time::parse_date;
use pipewise_core::user::Role;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

pub const PLAN: &str = "comp_plan";
pub const ASSIGNMENT: &str = "comp_assignment";
pub const STATEMENT: &str = "pay_statement";
pub const DISPUTE: &str = "pay_dispute";
pub const DEAL_SPLIT: &str = "deal_split";

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
    let mut facts = Facts::gather_for(tx, ctx.org, projection, span_first(&statements, &period), period.last, Some(user))?;
    let assignments = tx.0.assignments(ctx.org)?;
    let plans = tx.0.plan_versions(ctx.org)?;
    compute_one(tx, ctx, projection, &mut facts, &period, &statements, &assignments, &plans, user)
}

/// The first day the facts must cover: the earliest locked statement of the period's kind
/// before it (whose recomputation may post adjustments), else the period's own.
fn span_first(statements: &[StoredStatement], period: &FiscalPeriod) -> Date {
    statements
        .iter()
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
    let plans = tx.0.plan_versions(ctx.org)?;
    let payees: BTreeSet<UserId> = assignments
        .iter()
        .filter(|assignment| assignment_for(&assignments, assignment.user, &period).is_some())
        .map(|assignment| assignment.user)
        .collect();
    let mut by_user: std::collections::BTreeMap<UserId, Vec<StoredStatement>> = std::collections::BTreeMap::new();
    for stored in tx.0.statements(ctx.org, None)? {
        by_user.entry(stored.user).or_default().push(stored);
    }
    let all: Vec<StoredStatement> = by_user.values().flatten().cloned().collect();
    let mut facts = Facts::gather(tx, ctx.org, projection, span_first(&all, &period), period.last)?;
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
    plans: &[StoredPlan],
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
    let stored_plan = plans
        .iter()
        .filter(|plan| plan.name == assignment.plan)
        .max_by_key(|plan| plan.version)
        .ok_or(StoreError::NotFound { kind: PLAN, id: 0 })?;
    let plan = decode(stored_plan)?;
    // Every stored document of the person, parsed once.
    let documents: std::collections::BTreeMap<i64, Value> =
        statements.iter().map(|stored| Ok((stored.id, parse_document(stored)?))).collect::<Result<_>>()?;
    let carried = Carried::into_period(period, statements, &documents);
    let mut statement = statement_for(tx, ctx.org, projection, facts, period, &plan, user, carried, None)?;

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
        let Some(earlier_plan) = plans.iter().find(|plan| plan.name == earlier.plan && plan.version == earlier.version) else { continue };
        let earlier_plan = decode(earlier_plan)?;
        let settled = settled_as(&locked, earlier, &documents)?;
        // The locked period's own days, whatever the calendar says now.
        let earlier_period = FiscalPeriod { kind: earlier.kind, year: 0, number: 0, first: earlier.first, last: earlier.last };
        let carried = Carried::into_period(&earlier_period, statements, &documents);
        let recomputed = statement_for(tx, ctx.org, projection, facts, &earlier_period, &earlier_plan, user, carried, None)?;
        let posted = pipewise_comp::adjustments(&settled, &recomputed);
        if !posted.is_empty() {
            statement.total += posted.iter().map(|line| line.amount).sum::<Decimal>();
            statement.lines.extend(posted);
            corrections.push(recomputed);
        }
    }

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

/// What was last settled for `earlier`: the recomputation posted by the latest locked statement
/// that corrected it, else its own lines, less the corrections of other periods it carried.
fn settled_as(
    locked: &[StoredStatement],
    earlier: &StoredStatement,
    documents: &std::collections::BTreeMap<i64, Value>,
) -> Result<Statement> {
    let document = |stored: &StoredStatement| documents.get(&stored.id).ok_or_else(|| corrupt(stored, "its document was not read"));
    let mut settled = statement_from(earlier.clone(), document(earlier)?)?.statement;
    // A locked statement's own lines; its adjustment lines corrected other periods (a new line
    // of one names nothing it corrects, so the kind tells them apart, not `corrects`).
    settled.lines.retain(|line| !matches!(line.kind, LineKind::Adjustment | LineKind::Reclaim));
    for later in locked.iter().filter(|later| later.first > earlier.first) {
        if let Some(corrections) = document(later)?["corrections"].as_array() {
            for correction in corrections.iter().filter(|correction| correction["first"].as_str() == Some(&earlier.first.to_string())) {
                settled.lines = lines_from(&correction["lines"]).map_err(|detail| corrupt(later, detail))?;
            }
        }
    }
    Ok(settled)
}

/// What the period before carried into a period: the cap's excess and the draw still owed.
#[derive(Clone, Copy, Debug, Default)]
struct Carried {
    cap: Decimal,
    draw: Decimal,
}

impl Carried {
    fn from_document(value: &Value) -> Carried {
        Carried { cap: decimal_of(&value["cap_carried_out"]), draw: decimal_of(&value["draw_owed_out"]) }
    }

    /// What the statement of the period before `period`, among `statements` (with their parsed
    /// `documents`), carried out.
    fn into_period(period: &FiscalPeriod, statements: &[StoredStatement], documents: &std::collections::BTreeMap<i64, Value>) -> Carried {
        // The statement that ended the day before: found by its days, so a change of calendar
        // does not lose what it carried.
        let before = period.first.yesterday().ok();
        statements
            .iter()
            .find(|stored| stored.kind == period.kind && Some(stored.last) == before)
            .and_then(|stored| documents.get(&stored.id))
            .map_or_else(Carried::default, Carried::from_document)
    }
}

/// What statements read, gathered once for a span of days that covers every period computed:
/// the won deals by owner (one pass over the projection), each period's quotas (read once a
/// period), the organisation's people and calendar.
struct Facts {
    span: Period,
    won: Vec<Vec<WonDeal>>,
    books: std::collections::BTreeMap<(Date, Date), crate::quotas::QuotaBook>,
    /// For one person's statements: the quotas over the span of the person, their team and its
    /// members, read once (`None`: everyone's, read a period at a time).
    scoped: Option<Vec<StoredQuota>>,
    /// Every deal's splits (a deal without any credits its owner with all of it).
    splits: std::collections::BTreeMap<OpportunityId, Vec<pipewise_comp::Split>>,
    /// Each period's credits by person in a plan's currency, worked out once a period and currency.
    credits: std::collections::BTreeMap<(Date, Date, Currency), std::collections::BTreeMap<UserId, Vec<Credit>>>,
    /// The organisation's exchange rates: a credit is converted at its close date's rate.
    rates: Option<pipewise_core::fx::RateTable>,
    users: Vec<pipewise_core::user::User>,
}

impl Facts {
    /// Everyone's facts over `first..=last`.
    fn gather(tx: &mut Tx, org: OrgId, projection: &Projection, first: Date, last: Date) -> Result<Facts> {
        Facts::gather_for(tx, org, projection, first, last, None)
    }

    /// With `person`, only what their statements read: their won deals and their team's, and
    /// those people's quotas (a handful of indexed reads instead of everyone's).
    fn gather_for(tx: &mut Tx, org: OrgId, projection: &Projection, first: Date, last: Date, person: Option<UserId>) -> Result<Facts> {
        let span = Period::new(pipewise_analytics::day_of_date(first), pipewise_analytics::day_of_date(last));
        let users = tx.0.users(org)?;
        let mut splits: std::collections::BTreeMap<OpportunityId, Vec<pipewise_comp::Split>> = std::collections::BTreeMap::new();
        for split in tx.0.splits(org, None)? {
            let kind = if split.overlay { SplitKind::Overlay } else { SplitKind::Revenue };
            splits.entry(split.deal).or_default().push(pipewise_comp::Split { person: split.user, kind, share: split.share });
        }
        let (won, scoped) = match person {
            None => (won_by_owner(projection, span, |_| true), None),
            Some(person) => {
                let team = users.iter().find(|user| user.id == person).and_then(|user| user.team_id);
                let people: Vec<UserId> =
                    users.iter().filter(|user| user.id == person || (team.is_some() && user.team_id == team)).map(|user| user.id).collect();
                let mut owners: BTreeSet<u32> = people.iter().filter_map(|user| projection.owner_index(*user)).collect();
                // The owners of deals split with these people.
                let deals = projection.deals();
                for (deal, parts) in &splits {
                    if parts.iter().any(|part| people.contains(&part.person))
                        && let Some(index) = projection.deal_index(*deal)
                    {
                        owners.insert(deals.owner[index as usize]);
                    }
                }
                let mut subjects: Vec<QuotaSubject> = people.iter().map(|user| QuotaSubject::User(*user)).collect();
                subjects.extend(team.map(QuotaSubject::Team));
                let mut quotas = Vec::new();
                for subject in subjects {
                    quotas.extend(tx.0.quotas_of(org, subject, first, last)?);
                }
                (won_by_owner(projection, span, |owner| owners.contains(&owner)), Some(quotas))
            }
        };
        let rates = tx.0.rate_table(org)?;
        Ok(Facts { span, won, books: Default::default(), scoped, splits, credits: Default::default(), rates, users })
    }

    /// Reads `period`'s quotas, once.
    fn load_book(&mut self, tx: &mut Tx, org: OrgId, period: &FiscalPeriod) -> Result<()> {
        if let std::collections::btree_map::Entry::Vacant(entry) = self.books.entry((period.first, period.last)) {
            let book = match &self.scoped {
                None => crate::quotas::quota_book(tx, org, &Access::System, period.first, period.last)?,
                Some(quotas) => crate::quotas::book_of(quotas, period.first, period.last),
            };
            entry.insert(book);
        }
        Ok(())
    }

    /// Works out `period`'s credits by person, once: each won deal closed in it shared by its
    /// splits (revenue shares adding up to the deal exactly, overlay on top), else all to its owner.
    fn load_credits(&mut self, projection: &Projection, period: &FiscalPeriod, currency: Currency) -> Result<()> {
        let key = (period.first, period.last, currency);
        if self.credits.contains_key(&key) {
            return Ok(());
        }
        let days = Period::from(period);
        debug_assert!(days.first >= self.span.first && days.last <= self.span.last, "the facts cover the period");
        let mut by_person: std::collections::BTreeMap<UserId, Vec<Credit>> = std::collections::BTreeMap::new();
        for (owner, deals) in self.won.iter().enumerate() {
            for deal in deals.iter().filter(|deal| days.contains(deal.closed_day)) {
                let owner_id = projection.owner_ids[owner];
                let whole = credit(deal, owner_id, currency, self.rates.as_ref(), projection)?;
                match self.splits.get(&deal.id) {
                    None => by_person.entry(owner_id).or_default().push(whole),
                    Some(splits) => {
                        let shared =
                            pipewise_comp::split_deal(deal.id, whole.amount, whole.currency, whole.booked_on, splits).map_err(|error| {
                                FieldError {
                                    record: RecordRef::new(DEAL_SPLIT, deal.id.0),
                                    field: "share",
                                    problem: Problem::Invalid {
                                        value: error.to_string(),
                                        expected: "splits whose revenue shares add up to 100%",
                                    },
                                }
                            })?;
                        for part in shared {
                            by_person.entry(part.person).or_default().push(Credit { fx: whole.fx, ..part });
                        }
                    }
                }
            }
        }
        self.credits.insert(key, by_person);
        Ok(())
    }
}

/// The statement `plan` gives `user` for the facts' period from the projection's won deals.
#[allow(clippy::too_many_arguments)]
fn statement_for(
    tx: &mut Tx,
    org: OrgId,
    projection: &Projection,
    facts: &mut Facts,
    period: &FiscalPeriod,
    plan: &Plan,
    user: UserId,
    carried: Carried,
    extra: Option<Credit>,
) -> Result<Statement> {
    facts.load_book(tx, org, period)?;
    facts.load_credits(projection, period, plan.currency)?;
    let facts = &*facts;
    let book = &facts.books[&(period.first, period.last)];
    let by_person = &facts.credits[&(period.first, period.last, plan.currency)];
    let mut credits: Vec<Credit> = by_person.get(&user).cloned().unwrap_or_default();
    // A what-if deal is the person's revenue, and so their team's.
    let extra_revenue = extra.as_ref().filter(|credit| credit.kind == SplitKind::Revenue).map_or(Decimal::ZERO, |credit| credit.amount);
    credits.extend(extra);
    // The team's bookings and quota, for team parts and bonuses.
    let team = facts.users.iter().find(|person| person.id == user).and_then(|person| person.team_id);
    let team_attainment = match team {
        None => None,
        Some(team) => {
            let members: Vec<UserId> = facts.users.iter().filter(|member| member.team_id == Some(team)).map(|member| member.id).collect();
            // A team books its members' revenue credits: a deal split inside the team counts once.
            let bookings: Decimal = members
                .iter()
                .filter_map(|member| by_person.get(member))
                .flatten()
                .filter(|credit| credit.kind == SplitKind::Revenue)
                .map(|credit| credit.amount)
                .sum::<Decimal>()
                + extra_revenue;
            let quota = book.teams.get(&team).copied().or_else(|| {
                let (sum, count) = book.sum_of(members.iter());
                (count > 0).then_some(sum)
            });
            quota.map(|quota| Attainment { bookings, quota })
        }
    };
    let Carried { cap: cap_carried_in, draw: draw_owed_in } = carried;
    let input = PeriodInput {
        payee: user,
        first: period.first,
        last: period.last,
        quota: book.users.get(&user).copied(),
        team: team_attainment,
        credits: &credits,
        cap_carried_in,
        draw_owed_in,
    };
    pipewise_comp::compute(plan, &input).map_err(|error| {
        FieldError {
            record: RecordRef::new_record(STATEMENT),
            field: "plan",
            problem: Problem::Invalid { value: error.to_string(), expected: "a plan that computes" },
        }
        .into()
    })
}

/// `person`'s whole credit for a won deal in `currency` (the plan's): the deal's own amount when
/// it is in that currency, else converted at the rate of its close date, the rate named on the
/// credit. Without a rate for that day, the projection's reporting amount (converted at the rate
/// of the day it was set) is used when the plan pays in the reporting currency, and named as
/// such; otherwise the statement cannot be computed and says why.
fn credit(
    deal: &WonDeal,
    person: UserId,
    currency: Currency,
    rates: Option<&pipewise_core::fx::RateTable>,
    projection: &Projection,
) -> Result<Credit> {
    let booked_on = date_of_day(deal.closed_day);
    let native_minor = u32::from(deal.currency.minor_units());
    let native = Money::new(Decimal::new(deal.amount_native, native_minor), deal.currency).map_err(|problem| FieldError {
        record: RecordRef::new(OpportunityId::LABEL, deal.id.0),
        field: "amount",
        problem,
    })?;
    let (amount, fx) = if deal.currency == currency {
        (native.amount(), None)
    } else {
        match rates.map(|rates| rates.convert(native, currency, booked_on)) {
            Some(Ok(converted)) if !native.amount().is_zero() => {
                let rate = (converted.amount() / native.amount()).round_dp(6);
                (converted.amount(), Some(FxUsed { from: deal.currency, rate, on: booked_on }))
            }
            Some(Ok(converted)) => (converted.amount(), None),
            _ if currency == projection.reporting_currency() => {
                let amount = Decimal::new(deal.amount, u32::from(currency.minor_units()));
                let rate = if native.amount().is_zero() { Decimal::ZERO } else { (amount / native.amount()).round_dp(6) };
                (amount, Some(FxUsed { from: deal.currency, rate, on: booked_on }))
            }
            _ => {
                let problem = Problem::Invalid {
                    value: format!("{} on {booked_on}", deal.currency.code()),
                    expected: "a currency with an exchange rate on the close date",
                };
                return Err(FieldError { record: RecordRef::new(OpportunityId::LABEL, deal.id.0), field: "currency", problem }.into());
            }
        }
    };
    Ok(Credit {
        deal: deal.id,
        person,
        kind: SplitKind::Revenue,
        share: Decimal::ONE,
        amount,
        currency,
        fx,
        booked_on,
        invoiced_on: None,
        paid_on: None,
    })
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
pub fn statement(tx: &mut Tx, org: OrgId, access: &Access, id: i64) -> Result<Option<PayStatement>> {
    match tx.0.statement(org, id)? {
        Some(stored) if may_read(access, stored.user) => Ok(Some(decode_statement(stored)?)),
        _ => Ok(None),
    }
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
    };
    let mut facts = Facts::gather_for(tx, org, projection, period.first, period.last, Some(user))?;
    let statements = tx.0.statements(org, Some(user))?;
    let documents: std::collections::BTreeMap<i64, Value> =
        statements.iter().map(|stored| Ok((stored.id, parse_document(stored)?))).collect::<Result<_>>()?;
    let carried = Carried::into_period(&period, &statements, &documents);
    let without = statement_for(tx, org, projection, &mut facts, &period, &plan, user, carried, None)?;
    let with = statement_for(tx, org, projection, &mut facts, &period, &plan, user, carried, Some(extra))?;
    Ok(Some(with.total - without.total))
}

// ---------------------------------------------------------------------------------------------
// Disputes.

/// Opens a dispute of statement `statement_id` (or of its line `line`): the payee or ops.
pub fn open_dispute(tx: &mut Tx, ctx: &WriteCtx, statement_id: i64, line: Option<u32>, note: &str) -> Result<StoredDispute> {
    let access = writer_access(tx, ctx)?;
    let stored = tx.0.statement(ctx.org, statement_id)?.filter(|stored| may_read(&access, stored.user));
    let stored = stored.ok_or(StoreError::NotFound { kind: STATEMENT, id: statement_id })?;
    require(access.user_id() == Some(stored.user) || access.can_write(SharedKind::Pipeline), || {
        "only the payee or ops open a dispute".into()
    })?;
    let record = RecordRef::new_record(DISPUTE);
    let mut errors = ValidationErrors::default();
    let note = note.trim();
    if note.is_empty() {
        errors.push(&record, "note", Problem::Required);
    } else if note.chars().count() > MAX_NOTE {
        errors.push(&record, "note", Problem::TooLong { len: note.chars().count(), max: MAX_NOTE });
    }
    let lines = decode_statement(stored.clone())?.statement.lines;
    if let Some(line) = line
        && line as usize >= lines.len()
    {
        errors.push(&record, "line", Problem::OutOfRange { value: line.to_string(), range: "a line of the statement" });
    }
    // What the line says now, kept with the dispute.
    let line_label = line.and_then(|line| lines.get(line as usize)).map(|line| {
        let deal = line.deal.map(|deal| format!(" deal {deal}")).unwrap_or_default();
        format!("{} v{} {}{deal}: {}", line.rule, line.version, line_json(line)["kind"].as_str().unwrap_or_default(), line.amount)
    });
    errors.into_result(())?;
    let actor = ctx.actor_id.ok_or_else(|| StoreError::Forbidden("a dispute is opened by a person".into()))?;
    let mut dispute = StoredDispute {
        id: 0,
        statement_id,
        line,
        line_label,
        status: DisputeStatus::Open,
        note: note.to_owned(),
        resolution: None,
        opened_by: actor,
        opened_at: ctx.at,
        updated_at: ctx.at,
        updated_by: Some(actor),
    };
    dispute.id = tx.0.insert_dispute(ctx.org, &dispute)?;
    audit(tx, ctx, DISPUTE, dispute.id, "create", None, Some(dispute_json(&dispute)))?;
    Ok(dispute)
}

/// Moves a dispute one step: open → in review and in review → resolved (ops and admins, a
/// resolution required to resolve), resolved → closed (the payee or ops).
pub fn move_dispute(tx: &mut Tx, ctx: &WriteCtx, id: i64, to: DisputeStatus, resolution: Option<&str>) -> Result<StoredDispute> {
    let access = writer_access(tx, ctx)?;
    let found = tx.0.dispute(ctx.org, id)?;
    let statement = match &found {
        Some(dispute) => tx.0.statement(ctx.org, dispute.statement_id)?.filter(|stored| may_read(&access, stored.user)),
        None => None,
    };
    let (Some(mut dispute), Some(statement)) = (found, statement) else { return Err(StoreError::NotFound { kind: DISPUTE, id }) };
    let ops = access.can_write(SharedKind::Pipeline);
    let payee = access.user_id() == Some(statement.user);
    let record = RecordRef::new(DISPUTE, id);
    let allowed = match (dispute.status, to) {
        (DisputeStatus::Open, DisputeStatus::InReview) | (DisputeStatus::InReview, DisputeStatus::Resolved) => ops,
        (DisputeStatus::Resolved, DisputeStatus::Closed) => ops || payee,
        _ => {
            let problem =
                Problem::Invalid { value: to.code().to_owned(), expected: "the next step: open → in_review → resolved → closed" };
            return Err(FieldError { record, field: "status", problem }.into());
        }
    };
    require(allowed, || "only ops and admins review and resolve disputes; the payee or ops close them".into())?;
    let before = dispute_json(&dispute);
    if to == DisputeStatus::Resolved {
        let text = resolution.map(str::trim).unwrap_or_default();
        if text.is_empty() || text.chars().count() > MAX_NOTE {
            let problem = if text.is_empty() { Problem::Required } else { Problem::TooLong { len: text.chars().count(), max: MAX_NOTE } };
            return Err(FieldError { record, field: "resolution", problem }.into());
        }
        dispute.resolution = Some(text.to_owned());
    }
    dispute.status = to;
    dispute.updated_at = ctx.at;
    dispute.updated_by = ctx.actor_id;
    tx.0.update_dispute(ctx.org, &dispute)?;
    audit_update(tx, ctx, DISPUTE, id, before, dispute_json(&dispute))?;
    Ok(dispute)
}

/// The disputes of a statement `access` may read.
pub fn disputes(tx: &mut Tx, org: OrgId, access: &Access, statement_id: i64) -> Result<Vec<StoredDispute>> {
    match tx.0.statement(org, statement_id)? {
        Some(stored) if may_read(access, stored.user) => tx.0.disputes(org, Some(statement_id)),
        _ => Ok(Vec::new()),
    }
}

pub fn dispute_json(dispute: &StoredDispute) -> Value {
    json!({
        "id": dispute.id,
        "statement_id": dispute.statement_id,
        "line": dispute.line,
        "line_label": dispute.line_label,
        "status": dispute.status.code(),
        "note": dispute.note,
        "resolution": dispute.resolution,
        "opened_by": dispute.opened_by.0,
        "opened_at": dispute.opened_at.to_string(),
        "updated_at": dispute.updated_at.to_string(),
        "updated_by": dispute.updated_by.map(|id| id.0),
    })
}

// ---------------------------------------------------------------------------------------------
// The statement document.

fn statement_summary(stored: &StoredStatement) -> Value {
    json!({
        "user_id": stored.user.0,
        "period_first": stored.first.to_string(),
        "period_last": stored.last.to_string(),
        "plan": stored.plan,
        "version": stored.version,
        "total": stored.total.amount().to_string(),
        "currency": stored.total.currency().code(),
        "status": stored.status.code(),
    })
}

/// A statement as the API shows it: its summary and every line with its trace.
pub fn statement_json(pay: &PayStatement) -> Value {
    let mut value = statement_summary(&pay.stored);
    value["id"] = json!(pay.stored.id);
    value["kind"] = json!(pay.stored.kind.code());
    value["computed_at"] = json!(pay.stored.computed_at.to_string());
    value["locked_at"] = json!(pay.stored.locked_at.map(|at| at.to_string()));
    value["attainment"] = attainment_json(pay.statement.attainment);
    value["lines"] = Value::Array(pay.statement.lines.iter().map(line_json).collect());
    value["held"] = json!(pay.statement.held);
    value
}

fn attainment_json(attainment: Option<Attainment>) -> Value {
    attainment.map_or(Value::Null, |attainment| {
        json!({ "bookings": attainment.bookings.to_string(), "quota": attainment.quota.to_string(), "fraction": attainment.fraction().map(|fraction| fraction.round_dp(4).to_string()) })
    })
}

fn document(statement: &Statement, corrections: &[Statement]) -> Value {
    json!({
        "attainment": attainment_json(statement.attainment),
        "lines": statement.lines.iter().map(line_json).collect::<Vec<_>>(),
        "cap_carried_out": statement.cap_carried_out.to_string(),
        "draw_owed_out": statement.draw_owed_out.to_string(),
        "held": statement.held,
        "corrections": corrections.iter().map(|correction| json!({
            "first": correction.first.to_string(),
            "lines": correction.lines.iter().map(line_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn kind_code(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Commission => "commission",
        LineKind::RetroactiveUplift => "retroactive_uplift",
        LineKind::Bonus => "bonus",
        LineKind::Incentive => "incentive",
        LineKind::Spiff => "spiff",
        LineKind::Gate => "gate",
        LineKind::Cap => "cap",
        LineKind::CapCarriedIn => "cap_carried_in",
        LineKind::DrawTopUp => "draw_top_up",
        LineKind::DrawRecovery => "draw_recovery",
        LineKind::Adjustment => "adjustment",
        LineKind::Reclaim => "reclaim",
    }
}

const LINE_KINDS: [LineKind; 12] = [
    LineKind::Commission,
    LineKind::RetroactiveUplift,
    LineKind::Bonus,
    LineKind::Incentive,
    LineKind::Spiff,
    LineKind::Gate,
    LineKind::Cap,
    LineKind::CapCarriedIn,
    LineKind::DrawTopUp,
    LineKind::DrawRecovery,
    LineKind::Adjustment,
    LineKind::Reclaim,
];

pub fn line_json(line: &Line) -> Value {
    json!({
        "rule": line.rule,
        "version": line.version,
        "kind": kind_code(line.kind),
        "deal_id": line.deal.map(|id| id.0),
        "credit": line.credit.as_ref().map(|credit| json!({
            "split": match credit.kind { SplitKind::Revenue => "revenue", SplitKind::Overlay => "overlay" },
            "share": credit.share.to_string(),
            "amount": credit.amount.to_string(),
            "booked_on": credit.booked_on.to_string(),
            "fx": credit.fx.map(|fx| json!({ "from": fx.from.code(), "rate": fx.rate.to_string(), "on": fx.on.to_string() })),
        })),
        "tier": line.tier,
        "base": line.base.to_string(),
        "rate": line.rate.map(|rate| rate.to_string()),
        "unrounded": line.unrounded.to_string(),
        "amount": line.amount.to_string(),
        "corrects": line.corrects.map(|corrects| json!({ "period_first": corrects.period_first.to_string(), "index": corrects.index })),
    })
}

fn decimal_of(value: &Value) -> Decimal {
    value.as_str().and_then(|text| text.parse().ok()).unwrap_or_default()
}

fn line_from(value: &Value) -> std::result::Result<Line, String> {
    let text = |key: &str| value[key].as_str().ok_or_else(|| format!("line.{key} is missing"));
    let decimal = |key: &str| text(key)?.parse::<Decimal>().map_err(|error| format!("line.{key}: {error}"));
    let date = |value: &Value, key: &str| {
        value[key].as_str().and_then(|text| text.parse::<Date>().ok()).ok_or_else(|| format!("line.{key} is not a date"))
    };
    let kind = LINE_KINDS.into_iter().find(|kind| Some(kind_code(*kind)) == value["kind"].as_str()).ok_or("line.kind is unknown")?;
    let credit = match &value["credit"] {
        Value::Null => None,
        credit => Some(CreditFacts {
            kind: if credit["split"] == "overlay" { SplitKind::Overlay } else { SplitKind::Revenue },
            share: credit["share"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.share")?,
            amount: credit["amount"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.amount")?,
            booked_on: date(credit, "booked_on")?,
            fx: match &credit["fx"] {
                Value::Null => None,
                fx => Some(FxUsed {
                    from: fx["from"].as_str().and_then(|code| Currency::from_code(code).ok()).ok_or("credit.fx.from")?,
                    rate: fx["rate"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.fx.rate")?,
                    on: date(fx, "on")?,
                }),
            },
        }),
    };
    Ok(Line {
        rule: text("rule")?.to_owned(),
        version: value["version"].as_u64().and_then(|version| u32::try_from(version).ok()).ok_or("line.version")?,
        kind,
        deal: value["deal_id"].as_i64().map(OpportunityId),
        credit,
        tier: value["tier"].as_u64().map(|tier| tier as usize),
        base: decimal("base")?,
        rate: value["rate"].as_str().map(|text| text.parse::<Decimal>()).transpose().map_err(|error| format!("line.rate: {error}"))?,
        unrounded: decimal("unrounded")?,
        amount: decimal("amount")?,
        corrects: match &value["corrects"] {
            Value::Null => None,
            corrects => Some(LineRef {
                period_first: date(corrects, "period_first")?,
                index: corrects["index"].as_u64().ok_or("corrects.index")? as usize,
            }),
        },
    })
}

fn lines_from(value: &Value) -> std::result::Result<Vec<Line>, String> {
    value.as_array().ok_or("lines is not a list")?.iter().map(line_from).collect()
}

fn corrupt(stored: &StoredStatement, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { table: "pay_statement", detail: format!("statement {}: {detail}", stored.id) }
}

fn parse_document(stored: &StoredStatement) -> Result<Value> {
    serde_json::from_str(&stored.document).map_err(|error| corrupt(stored, error))
}

/// A stored statement with its lines read back.
pub fn decode_statement(stored: StoredStatement) -> Result<PayStatement> {
    let value = parse_document(&stored)?;
    statement_from(stored, &value)
}

fn statement_from(stored: StoredStatement, value: &Value) -> Result<PayStatement> {
    let lines = lines_from(&value["lines"]).map_err(|detail| corrupt(&stored, detail))?;
    let attainment = match &value["attainment"] {
        Value::Null => None,
        attainment => Some(Attainment { bookings: decimal_of(&attainment["bookings"]), quota: decimal_of(&attainment["quota"]) }),
    };
    let statement = Statement {
        payee: stored.user,
        first: stored.first,
        last: stored.last,
        plan: stored.plan.clone(),
        version: stored.version,
        currency: stored.total.currency(),
        attainment,
        lines,
        total: stored.total.amount(),
        cap_carried_out: decimal_of(&value["cap_carried_out"]),
        draw_owed_out: decimal_of(&value["draw_owed_out"]),
        held: value["held"].as_u64().unwrap_or(0) as usize,
    };
    Ok(PayStatement { stored, statement })
}

// ---------------------------------------------------------------------------------------------
// Deal splits.

/// Replaces deal `deal`'s splits (empty: its owner is credited with all of it): revenue shares
/// add up to 100%, overlay shares are on top, each share more than 0 and at most 100%, a person
/// once per kind. Ops, admins and the managers in the owner's line; audited.
pub fn set_splits(tx: &mut Tx, ctx: &WriteCtx, deal: OpportunityId, splits: &[(UserId, SplitKind, Decimal)]) -> Result<Vec<StoredSplit>> {
    let access = writer_access(tx, ctx)?;
    let opportunity = crate::deals::opportunity_for(tx, ctx.org, &access, deal)?
        .ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: deal.0 })?;
    let manager_of_owner = matches!(&access, Access::User(actor) if actor.role == Role::Manager && actor.tree.contains(&opportunity.owner_id) && actor.user_id != opportunity.owner_id);
    // A manager credits the people of their reporting line, never themselves.
    let may_credit = |user: UserId| match &access {
        Access::User(actor) if actor.role == Role::Manager => actor.tree.contains(&user) && user != actor.user_id,
        _ => true,
    };
    require(access.can_write(SharedKind::Pipeline) || manager_of_owner, || {
        "only ops, admins and the owner's managers split a deal".into()
    })?;
    let record = RecordRef::new(DEAL_SPLIT, deal.0);
    let mut errors = ValidationErrors::default();
    let mut seen = BTreeSet::new();
    for (item, (user, kind, share)) in splits.iter().enumerate() {
        let in_item = |problem: Problem| Problem::InItem { item: item + 1, problem: Box::new(problem) };
        if tx.0.user(ctx.org, *user)?.is_none() {
            errors.push(&record, "user_id", in_item(Problem::UnknownReference { kind: UserId::LABEL, id: user.0 }));
        }
        if !may_credit(*user) {
            errors.push(
                &record,
                "user_id",
                in_item(Problem::Invalid { value: user.to_string(), expected: "someone in your reporting line other than you" }),
            );
        }
        if *share <= Decimal::ZERO || *share > Decimal::ONE {
            errors.push(
                &record,
                "share",
                in_item(Problem::OutOfRange { value: share.to_string(), range: "more than 0, at most 1 (100%)" }),
            );
        }
        if !seen.insert((*user, *kind == SplitKind::Overlay)) {
            errors.push(
                &record,
                "user_id",
                in_item(Problem::Invalid { value: user.to_string(), expected: "a person listed once per kind" }),
            );
        }
    }
    let revenue: Decimal = splits.iter().filter(|(_, kind, _)| *kind == SplitKind::Revenue).map(|(_, _, share)| *share).sum();
    if !splits.is_empty() && revenue != Decimal::ONE {
        errors.push(&record, "share", Problem::Invalid { value: revenue.to_string(), expected: "revenue shares that add up to 1 (100%)" });
    }
    errors.into_result(())?;
    let stored: Vec<StoredSplit> = splits
        .iter()
        .map(|(user, kind, share)| StoredSplit { deal, user: *user, overlay: *kind == SplitKind::Overlay, share: share.normalize() })
        .collect();
    let before: Vec<Value> = tx.0.splits(ctx.org, Some(deal))?.iter().map(split_json).collect();
    tx.0.set_splits(ctx.org, deal, &stored)?;
    audit_update(
        tx,
        ctx,
        DEAL_SPLIT,
        deal.0,
        json!({ "splits": before }),
        json!({ "splits": stored.iter().map(split_json).collect::<Vec<_>>() }),
    )?;
    Ok(stored)
}

/// A deal's splits, if `access` may see the deal.
pub fn splits_of(tx: &mut Tx, org: OrgId, access: &Access, deal: OpportunityId) -> Result<Option<Vec<StoredSplit>>> {
    if crate::deals::opportunity_for(tx, org, access, deal)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.splits(org, Some(deal))?))
}

pub fn split_json(split: &StoredSplit) -> Value {
    json!({ "user_id": split.user.0, "kind": if split.overlay { "overlay" } else { "revenue" }, "share": split.share.to_string() })
}
