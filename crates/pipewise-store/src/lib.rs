//! The storage contract ([`Store`] and its transaction [`Tx`]) that the SQLite and PostgreSQL
//! engines implement, and [`ops`]: the validated operations every edge (CLI, API, web, import,
//! demo) writes through, which keep history in the same transaction as the change.
//!
//! Engines implement primitive reads and writes of rows; rules live in `pipewise-core` and are
//! applied in [`ops`], once for both engines.

pub mod ops;
pub mod workspace_codec;

use pipewise_core::fx::RateTable;
use pipewise_core::gates::{ExitCriterion, GateOverride, MoveCheck, NewExitCriterion};
use pipewise_core::history::{Change, HistoryEvent, ReplayError, Source};
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::pipeline::{NewPipeline, Pipeline};
use pipewise_core::pipeline::{NewStage, Stage};
use pipewise_core::records::*;
use pipewise_core::user::Locale;
use pipewise_core::user::{NewUser, User};
use pipewise_core::*;

/// Everything that can go wrong in a store. [`StoreError::Invalid`], [`StoreError::NotFound`]
/// and [`StoreError::Conflict`] are the user's to fix; the rest are internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    #[error("{kind} {id} does not exist")]
    NotFound { kind: &'static str, id: i64 },
    #[error("{0}")]
    Conflict(String),
    /// A forward stage move past unmet exit criteria, with every unmet criterion of every gate
    /// on the way. A manager in the owner's line, ops or an admin may override it with a reason
    /// (`OpportunityPatch::gate_override_reason`).
    #[error("{}", gate_refusal(.0))]
    GateRefused(Box<MoveCheck>),
    /// The actor may see the record but not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("stored history is unreadable: {0}")]
    Replay(#[from] ReplayError),
    #[error("stored {table} row is unreadable: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("database error: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error("migration {version} failed: {detail}")]
    Migration { version: i64, detail: String },
}

impl StoreError {
    /// A database error from an engine's driver.
    pub fn database(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Database(Box::new(error))
    }

    /// Whether a user can fix the problem (bad input, missing record, duplicate).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::Invalid(_)
                | StoreError::NotFound { .. }
                | StoreError::Conflict(_)
                | StoreError::Forbidden(_)
                | StoreError::GateRefused(_)
        )
    }
}

/// `stage 12 → 14 is refused: 3 exit criteria are not met:` and one line per unmet criterion,
/// stage by stage.
fn gate_refusal(check: &MoveCheck) -> String {
    let count = check.unmet().count();
    let noun = if count == 1 { "exit criterion is" } else { "exit criteria are" };
    format!(
        "moving from stage {} to stage {} is refused: {count} {noun} not met (a manager, ops or an admin may override with a reason):\n{}",
        check.from,
        check.to,
        check.describe(Locale::En)
    )
}

impl From<FieldError> for StoreError {
    fn from(error: FieldError) -> Self {
        StoreError::Invalid(error.into())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An organisation: the tenant every row belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    /// Figures across currencies are converted into this one.
    pub reporting_currency: Currency,
    pub created_at: Timestamp,
}

/// Who writes, when, and through which edge. `at` comes from the caller's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteCtx {
    pub org: OrgId,
    pub actor_id: Option<UserId>,
    pub source: Source,
    pub at: Timestamp,
}

/// A signed-in browser session. The cookie carries a secret; the store keeps its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub org: OrgId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub client_address: Option<String>,
}

/// An API token; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub org: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    /// The first characters of the token, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// One write, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
    /// `opportunity`, `account`, `user`, `session`, …
    pub record_kind: &'static str,
    pub record_id: i64,
    /// `create`, `update`, `share`, `sign_in`, `revoke`, …
    pub action: &'static str,
    /// The record's fields before and after, as JSON objects.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A deal shared with a user who would not otherwise see it (see [`ops::share_opportunity`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpportunityShare {
    pub opportunity_id: OpportunityId,
    pub user_id: UserId,
    /// Who shared it; `None` for the system.
    pub shared_by: Option<UserId>,
    pub shared_at: Timestamp,
}

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
    pub record_kind: String,
    pub record_id: i64,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Filters for reading the audit log, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<UserId>,
    pub record_kind: Option<String>,
    pub record_id: Option<i64>,
    /// Only entries with a smaller id (cursor pagination backwards in time).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Filters for listing opportunities; all set filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpportunityFilter {
    /// Whose deals the reader may see; [`DealScope::All`] by default.
    pub scope: Option<pipewise_core::access::DealScope>,
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
    pub account_id: Option<AccountId>,
    pub status: Option<Status>,
    /// Only ids greater than this (cursor pagination in id order).
    pub after_id: Option<OpportunityId>,
    pub stage_id: Option<StageId>,
    /// Only these deals (a dashboard's drill-down names the deals behind a figure).
    pub ids: Option<Vec<OpportunityId>>,
    pub limit: Option<u32>,
}

/// Filters for listing tasks, in due-date order (undated last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub owner_id: Option<UserId>,
    pub opportunity_id: Option<OpportunityId>,
    /// Only tasks not completed yet.
    pub open_only: bool,
    /// Whose tasks the reader may see: tasks of deals in the scope, plus tasks owned by one of
    /// the scope's owners. `None` or [`DealScope::All`](pipewise_core::access::DealScope::All): every task.
    pub scope: Option<pipewise_core::access::DealScope>,
}

/// Filters for listing activities, in id order; all set filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Whose activities the reader may see: those of deals in the scope, plus those logged by
    /// one of the scope's owners. `None` or `DealScope::All`: every activity.
    pub scope: Option<pipewise_core::access::DealScope>,
    pub opportunity_id: Option<OpportunityId>,
    pub account_id: Option<AccountId>,
    pub user_id: Option<UserId>,
}

/// One deal's activity aggregates ([`Tx::activity_aggregates`]): what the analytics' activity
/// facts are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityAggregate {
    pub opportunity_id: OpportunityId,
    /// The latest `occurred_at`.
    pub last_occurred: Timestamp,
    /// The latest `occurred_at` of an inbound activity.
    pub last_inbound: Option<Timestamp>,
    /// Activities other than internal ones that occurred in the touchpoint window.
    pub touchpoints: u32,
    /// The largest `logged_at − occurred_at`, in microseconds (negative if every activity was
    /// logged before the time it names).
    pub max_lag_micros: i64,
    /// Distinct contacts linked to the activities.
    pub contacts: u32,
}

/// Puts each deal's distinct contact count into its aggregate, both lists in opportunity order
/// (for engines that count contacts in a second query).
pub fn merge_contact_counts(aggregates: &mut [ActivityAggregate], contacts: Vec<(i64, i64)>) {
    let mut cursor = 0;
    for (opportunity, count) in contacts {
        while cursor < aggregates.len() && aggregates[cursor].opportunity_id.0 < opportunity {
            cursor += 1;
        }
        if let Some(aggregate) = aggregates.get_mut(cursor).filter(|aggregate| aggregate.opportunity_id.0 == opportunity) {
            aggregate.contacts = count.clamp(0, i64::from(u32::MAX)) as u32;
        }
    }
}

/// Record kinds, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    User,
    Team,
    Account,
    Contact,
    Pipeline,
    Opportunity,
    History,
    Lead,
    Activity,
    Task,
    ExchangeRate,
    AuditEvent,
}

/// One row of the append-only checklist log: a tick (with evidence) or its withdrawal. The
/// latest row of a criterion on a deal (by id) says whether it is ticked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckEntry {
    /// Ignored when appending.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    pub criterion_id: i64,
    /// `false` for an "uncheck".
    pub checked: bool,
    /// Set for a tick, `None` for an uncheck.
    pub evidence: Option<String>,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// A stored gate override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOverride {
    pub id: i64,
    pub opportunity_id: OpportunityId,
    pub source: Source,
    pub gate_override: GateOverride,
}

/// One edit of one part of a deal's workspace: the part's JSON before and after
/// ([`workspace_codec`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceChange {
    /// Ignored when appending.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    /// A `WorkspacePartName` as text.
    pub part: String,
    pub old_json: Option<String>,
    pub new_json: String,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// What the stage gates have stamped on a deal, beside its history-tracked fields.
///
/// Both are derivable from the stage history (and [`pipewise_core::gates::qualifies_as_sql`] /
/// [`pipewise_core::gates::counts_as_loss`]); the columns keep them at hand for lists and
/// metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpportunityMarks {
    /// When the deal first passed gate 1 (left a stage that does not count in metrics for one
    /// that does): it became a sales-qualified lead.
    pub sql_at: Option<Timestamp>,
    /// When the deal was dropped: closed as lost from a stage left out of metrics (stage 1 of The
    /// Model). A dropped deal is not a loss and never enters win rate. Cleared on reopening.
    pub dropped_at: Option<Timestamp>,
    /// The code of the stage-1 drop reason (`gates::STAGE_1_DROP_REASONS`) the close reason
    /// matched, if any.
    pub drop_reason: Option<String>,
}

/// One recorded handoff of a deal from one user to another (SPEC C2: inside sales hands cases to
/// field sales through stage 1). Append-only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// Ignored when inserting.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    /// Who handed the deal over: its owner before the handoff (the source the report counts by).
    pub from_user_id: UserId,
    /// The deal's owner after the handoff.
    pub to_user_id: UserId,
    /// Who performed the handoff: the owner themself, their manager, ops, an admin (`None`: the
    /// system).
    pub actor_id: Option<UserId>,
    /// The stage the deal was in when it was handed over.
    pub stage_id: StageId,
    pub at: Timestamp,
    pub source: Source,
    pub note: Option<String>,
}

/// An organisation's health settings as stored (SPEC C5 "configurable thresholds"): a JSON
/// object of the thresholds it changed from the defaults, by name (`{"untouched_days": 10}`), and
/// the last write. [`ops::health_thresholds`] reads it, [`ops::set_health_thresholds`] writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHealthSettings {
    pub document: String,
    pub updated_at: Timestamp,
    pub updated_by: Option<UserId>,
}

/// A database engine. Both engines pass the same contract suite (`pipewise-test-support`).
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;

    /// Applies the migrations not yet applied; returns the names of those it applied.
    fn migrate(&self) -> Result<Vec<String>>;

    /// Starts a read-write transaction. Dropping it without [`Tx::commit`] rolls back.
    fn write(&self) -> Result<Box<dyn Tx + '_>>;

    /// Starts a read-only transaction that sees one consistent snapshot.
    fn read(&self) -> Result<Box<dyn Tx + '_>>;
}

/// One transaction's primitive row operations. Nothing here validates: use [`ops`].
pub trait Tx {
    fn commit(self: Box<Self>) -> Result<()>;

    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId>;
    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>>;
    fn organisations(&mut self) -> Result<Vec<Organisation>>;

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId>;
    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()>;
    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>>;
    /// Looks a user up by e-mail address, ignoring case.
    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>>;
    fn users(&mut self, org: OrgId) -> Result<Vec<User>>;

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId>;
    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>>;
    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>>;

    /// Fails with [`StoreError::Conflict`] when a domain already belongs to another account,
    /// leaving nothing of the account behind (the transaction stays usable).
    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId>;
    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>>;
    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>>;

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId>;
    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>>;
    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>>;

    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId>;
    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>>;
    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>>;

    /// Inserts the row and returns its new id; `opportunity.id` is ignored.
    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId>;
    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()>;
    /// With `lock`, other writers of this deal wait until this transaction ends.
    fn opportunity(&mut self, org: OrgId, id: OpportunityId, lock: bool) -> Result<Option<Opportunity>>;
    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>>;

    /// Takes the organisation's history lock (its sequence counter row) until the transaction
    /// ends. Writers call it before locking any deal, so all writers of one organisation take
    /// locks in the same order and cannot deadlock.
    fn lock_history(&mut self, org: OrgId) -> Result<()>;
    /// Appends `changes` with consecutive sequence numbers from the organisation's counter,
    /// which serialises writers so sequence order is commit order.
    fn append_history(
        &mut self,
        org: OrgId,
        id: OpportunityId,
        changes: &[Change],
        at: Timestamp,
        actor_id: Option<UserId>,
        source: Source,
    ) -> Result<()>;
    /// One deal's events in sequence order.
    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>>;
    /// Events with `seq > after_seq` in sequence order, at most `limit`.
    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>>;
    /// Every event with `at <= t`, in sequence order.
    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>>;
    /// The time of the deal's latest event.
    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>>;

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId>;
    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>>;

    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId>;
    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>>;
    /// A deal's activities, newest first.
    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>>;

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId>;
    fn task(&mut self, org: OrgId, id: TaskId) -> Result<Option<Task>>;
    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>>;
    /// The time of each deal's latest activity, for deals that have one, in opportunity order;
    /// with `deals`, only those deals (read through the `activity_facts` index).
    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>>;
    /// Per deal with activities, in opportunity order, over the activities that had both
    /// occurred and been logged before `until` (every activity with `None`): see
    /// [`ActivityAggregate`]; the touchpoints count those that occurred in `[touch_from, touch_to)`.
    /// With `deals`, only those deals. One grouped scan of the `activity_facts` covering index
    /// (migration 0007), plus one of the activities' contact links: no activity row is
    /// materialised.
    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>>;
    /// Up to `limit` activities with an id above `after`, in id order: each id with its deal and
    /// when it was logged (a follower's feed of new activities; ids are assigned in insertion
    /// order).
    fn activities_after(
        &mut self,
        org: OrgId,
        after: ActivityId,
        limit: u32,
    ) -> Result<Vec<(ActivityId, Option<OpportunityId>, Timestamp)>>;
    /// The highest activity id of any organisation (0 with none): where a feed of new
    /// activities starts after a full read.
    fn max_activity_id(&mut self) -> Result<ActivityId>;
    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>>;

    /// Stores rates quoted as units of `currency` per one unit of `base`; a rate already stored
    /// for the same currency and date is replaced. An organisation's rates share one base:
    /// rates against another base are refused with [`StoreError::Conflict`].
    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()>;
    /// All of the organisation's rates (`None` when it has none).
    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>>;

    fn count(&mut self, org: OrgId, kind: RecordKind) -> Result<i64>;

    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()>;
    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>>;
    /// Users with this e-mail address (ignoring case) in any organisation, for signing in.
    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>>;

    fn insert_session(&mut self, session: &Session) -> Result<()>;
    fn session(&mut self, token_hash: &str) -> Result<Option<Session>>;
    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()>;
    fn delete_session(&mut self, token_hash: &str) -> Result<()>;
    /// Ends every session of a user (after a password change), but `except` if given.
    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()>;

    /// Stores the token (its `id` is ignored) and returns its id.
    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64>;
    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>>;
    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>>;
    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()>;
    /// Revokes one of `user`'s tokens; `false` when there is no such live token.
    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool>;

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()>;
    /// Failed sign-ins since `since`: `(for this e-mail, from this client address)`.
    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)>;

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()>;
    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool>;
    /// Whom deal `id` is shared with, in user id order.
    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>>;
    /// Ends the share of deal `id` with `user`; `false` when it was not shared with them.
    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool>;

    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()>;
    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>>;

    // Whole-row updates for the partial updates in `ops` (each writes every changeable column
    // of the record; `ops` built and checked the next state). A missing row is `NotFound`.

    /// Writes e-mail, name, role, manager, team, time zone, locale and whether the user is
    /// active. A taken e-mail address is a [`StoreError::Conflict`].
    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()>;
    /// Writes name and manager.
    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()>;
    /// Writes the fields and replaces the domains. A domain of another account is a
    /// [`StoreError::Conflict`] that leaves the account as it was (the transaction stays usable).
    fn update_account(&mut self, org: OrgId, account: &Account) -> Result<()>;
    /// Writes the fields and replaces the e-mail addresses.
    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()>;
    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()>;
    /// Writes title, owner, due date and completion time.
    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()>;
    /// Activities matching `filter`, in id order.
    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>>;

    // Stage gates, the deal workspace and the pipeline designer (SPEC C2, C3). Criteria, checks,
    // overrides and workspace history are append-only or archived, never deleted.

    /// Stores a criterion (already validated) and returns its id; ids grow, so id order is the
    /// order criteria were added in.
    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64>;
    /// One criterion, archived or not, with its archiving time.
    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>>;
    /// The criteria of every stage of `pipeline` that are not archived, in id order.
    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>>;
    /// Sets `archived_at`; `NotFound` for a missing criterion.
    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()>;

    /// Appends a tick or an uncheck and returns its id.
    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64>;
    /// Every tick and uncheck of a deal, in id order.
    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>>;

    /// Appends an override and returns its id.
    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64>;
    /// A deal's overrides, in id order.
    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>>;

    /// The deal's workspace document (JSON), if it has one.
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>>;
    /// Creates or replaces the deal's workspace document.
    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()>;
    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64>;
    /// A deal's workspace edits, in id order.
    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>>;

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks>;
    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()>;

    /// Appends a handoff (its `id` is ignored) and returns its id.
    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64>;
    /// A deal's handoffs, in id order.
    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>>;
    /// Every handoff of the organisation, in id order.
    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>>;

    /// The team's own average sales cycle in days, when ops set one.
    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>>;
    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()>;
    /// Over the won deals owned by the team's members: how many, and the sum of their cycles
    /// (`closed_at − created_at`) in microseconds.
    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)>;

    /// The organisation's health settings, `None` until they are first written.
    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>>;
    /// Creates or replaces the organisation's health settings.
    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()>;

    /// Writes the pipeline's name and entry stage.
    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()>;
    /// Adds a stage at the end of the pipeline (after its last position) and returns its id.
    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId>;
    /// Writes a stage's names, probability, category, metrics flag, rotting age and archiving
    /// time (not its kind, pipeline or position).
    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()>;
    /// Gives the stages positions 0, 1, … in the order of `order`, which lists every stage of the
    /// pipeline once.
    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()>;

    // Bulk loading, for the scale data set (`pipewise demo --scale`) and large imports: many
    // rows per call, written the fastest way each engine knows. Like every `Tx` write these
    // validate nothing and audit nothing; the caller checks its input and appends one audit
    // entry per batch. Ids and sequence numbers come from the same sources as single writes.

    /// Inserts the deals in slice order (each `opportunity.id` is ignored) and returns their new
    /// ids in the same order, ascending.
    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>>;
    /// Appends the events in slice order with consecutive sequence numbers taken from the
    /// organisation's counter, exactly as [`Tx::append_history`] does (so sequence order is
    /// still commit order, without gaps), and returns the sequence numbers used (empty for no
    /// events). Each deal's events must be in time order; the store does not re-stamp them.
    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>>;
    /// Inserts `(activity, logged_at)` pairs in slice order with their contact links and returns
    /// the new ids in the same order, ascending. A contact listed twice is linked once.
    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>>;
    /// Bytes the whole database takes on disk (SQLite: the main file's pages; PostgreSQL:
    /// `pg_database_size`), for reports after loading.
    fn database_size(&mut self) -> Result<u64>;
}

/// One history event for [`Tx::bulk_append_history`]: a field's change to a deal, when, by whom
/// and through which edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryAppend {
    pub opportunity_id: OpportunityId,
    pub change: Change,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// Runs `work` in one write transaction and commits it; on error nothing is kept.
pub fn transact<T>(store: &dyn Store, work: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut tx = store.write()?;
    let value = work(tx.as_mut())?;
    tx.commit()?;
    Ok(value)
}
