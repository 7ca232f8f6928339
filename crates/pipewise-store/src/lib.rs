//! The storage contract ([`Store`] and its transaction [`Tx`]) that the SQLite and PostgreSQL
//! engines implement: the row types, [`StoreError`], and how rows encode values ([`codec`]).
//!
//! Engines implement primitive reads and writes of rows and validate nothing: the rules live in
//! `pipewise-core`, and `pipewise-app` applies them once for both engines.
//!
//! [`Tx`] is made of one trait per area, each in a module of its own with that area's row types:
//! [`OrganisationsTx`] (`organisations`), [`RecordsTx`] (`records`), [`PipelinesTx`] (`pipelines`),
//! [`DealsTx`] (`deals`), [`ActivitiesTx`] (`activities`), [`AuthTx`] (`auth`), [`AuditTx`]
//! (`audit`), [`GatesTx`] (`gates`), [`WorkspaceTx`] (`workspace`), [`SettingsTx`] (`settings`),
//! [`QuotasTx`] (`quotas`), [`PayTx`] (`pay`), [`ForecastTx`] (`forecast`), [`ImportTx`] (`imports`) and [`BulkTx`] (`bulk`). Each engine implements every area in a module of the same name. A new area
//! adds a trait and a module here (and the trait to [`Tx`]'s supertraits), and a module to each
//! engine. Everything is re-exported at the crate root, and a `&mut dyn Tx` calls every area's
//! methods without importing the area traits.
//!
//! [`sql`] holds the SQL text both engines run unchanged, and [`rows`] reads the rows back into
//! records for both: an engine only says how its driver reads a column. [`conflict`] words the
//! conflicts both engines report.

pub mod codec;
pub mod conflict;
pub mod rows;
pub mod sql;

mod activities;
mod audit;
mod auth;
mod bulk;
mod deals;
mod digests;
mod forecast;
mod gates;
mod imports;
mod mailboxes;
mod organisations;
mod pay;
mod pipelines;
mod quotas;
mod records;
mod routing;
mod sentiment;
mod settings;
mod webhooks;
mod workspace;

pub use self::activities::*;
pub use self::audit::*;
pub use self::auth::*;
pub use self::bulk::*;
pub use self::deals::*;
pub use self::digests::*;
pub use self::forecast::*;
pub use self::gates::*;
pub use self::imports::*;
pub use self::mailboxes::*;
pub use self::organisations::*;
pub use self::pay::*;
pub use self::pipelines::*;
pub use self::quotas::*;
pub use self::records::*;
pub use self::routing::*;
pub use self::sentiment::*;
pub use self::settings::*;
pub use self::webhooks::*;
pub use self::workspace::*;

use pipewise_core::gates::MoveCheck;
use pipewise_core::history::{ReplayError, Source};
use pipewise_core::money::Currency;
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
    /// [`StoreError::Forbidden`] for a reason that is a fact for the edges to word: a gate
    /// override by someone who may not override (`pipewise_core::gates::may_override`).
    #[error("not allowed: {0}")]
    Refused(Message),
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
                | StoreError::Refused(_)
                | StoreError::GateRefused(_)
        )
    }
}

/// `moving from stage 12 to stage 14 is refused: 3 exit criteria are not met …` and one line
/// per unmet criterion, stage by stage, with the stage and the criterion (the reasons are
/// messages: the edges word them, see `MoveCheck::missing`).
fn gate_refusal(check: &MoveCheck) -> String {
    let count = check.unmet().count();
    let noun = if count == 1 { "exit criterion is" } else { "exit criteria are" };
    let lines: Vec<String> = check
        .missing
        .iter()
        .flat_map(|stage| stage.unmet.iter().map(move |unmet| format!("{}: {}", stage.stage_name_en, unmet.label_en)))
        .collect();
    format!(
        "moving from stage {} to stage {} is refused: {count} {noun} not met (a manager, ops or an admin may override with a reason):\n{}",
        check.from,
        check.to,
        lines.join("\n")
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
    /// Its days, periods and "today" are this zone's (UTC until an admin sets it).
    pub time_zone: Zone,
    /// Its fiscal years, quarters, months and weeks (the calendar year until ops set it).
    pub fiscal: fiscal::FiscalCalendar,
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

impl RecordKind {
    /// The table rows of this kind are kept in.
    pub fn table(self) -> &'static str {
        match self {
            RecordKind::User => "app_user",
            RecordKind::Team => "team",
            RecordKind::Account => "account",
            RecordKind::Contact => "contact",
            RecordKind::Pipeline => "pipeline",
            RecordKind::Opportunity => "opportunity",
            RecordKind::History => "opportunity_history",
            RecordKind::Lead => "lead",
            RecordKind::Activity => "activity",
            RecordKind::Task => "task",
            RecordKind::ExchangeRate => "exchange_rate",
            RecordKind::AuditEvent => "audit_event",
        }
    }
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

    /// The connection pool's use, for an engine that pools connections (`None` otherwise).
    fn pool_use(&self) -> Option<PoolUse> {
        None
    }
}

/// How many connections a pool holds open, how many of them are idle, and its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    pub open: usize,
    pub idle: usize,
    pub max: usize,
}

/// One transaction's primitive row operations. Nothing here validates or audits: `pipewise-app` does.
///
/// The operations are those of the area traits; `Tx` adds only [`Tx::commit`]. An engine
/// implements every area trait and `Tx` for its transaction type.
pub trait Tx:
    OrganisationsTx
    + RecordsTx
    + PipelinesTx
    + DealsTx
    + ActivitiesTx
    + AuthTx
    + AuditTx
    + GatesTx
    + WorkspaceTx
    + SettingsTx
    + QuotasTx
    + PayTx
    + ForecastTx
    + ImportTx
    + SentimentTx
    + MailboxTx
    + WebhookTx
    + DigestTx
    + LeadRoutingTx
    + LeadFormTx
    + BulkTx
{
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Runs `work` in one write transaction and commits it; on error nothing is kept.
pub fn transact<T>(store: &dyn Store, work: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut tx = store.write()?;
    let value = work(tx.as_mut())?;
    tx.commit()?;
    Ok(value)
}
