//! Reading stored rows back into Pipewise values, written once for both engines.
//!
//! An engine implements [`EngineRow`] over its driver's row: how it reads an integer, a text, a
//! time or a date is its own (SQLite keeps times as microseconds and dates as text, PostgreSQL
//! has types for both). [`Fields`] makes that row the [`Columns`] of one row of one table, and the
//! records are decoded from those columns here, by column name, through [`FromRow`]. Every
//! surprise (a NULL where none belongs, a value of the wrong type, an unknown enum text, an
//! unparsable amount) becomes [`StoreError::Corrupt`] naming the table, the row and the column
//! ([`corrupt`]), never a panic.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use pipewise_core::gates::{CriterionKind, ExitCriterion, GateOverride};
use pipewise_core::history::{HistoryEvent, Source};
use pipewise_core::money::Decimal;
use pipewise_core::opportunity::{OppField, Opportunity, Status};
use pipewise_core::pipeline::{ForecastCategory, Pipeline, Stage, StageKind};
use pipewise_core::records::*;
use pipewise_core::user::{Locale, Role, User};
use pipewise_core::*;

use crate::{
    ActivityAggregate, ApiToken, AuditEvent, CheckEntry, Handoff, LoggedActivity, OpportunityMarks, OpportunityShare, Organisation,
    QuotaSubject, Result, Session, StoreError, StoredHealthSettings, StoredOverride, StoredQuota, WorkspaceChange, codec,
};

/// One row of one table as the decoders read it, column by column and by name: [`Fields`] over
/// an engine's row.
pub trait Columns {
    /// Reads the row's id from `column` and remembers it for error messages.
    fn key(&mut self, column: &str) -> Result<i64>;
    fn integer(&self, column: &str) -> Result<i64>;
    fn optional_integer(&self, column: &str) -> Result<Option<i64>>;
    /// A 32-bit integer column (positions, day counts).
    fn small_integer(&self, column: &str) -> Result<i32>;
    fn optional_small_integer(&self, column: &str) -> Result<Option<i32>>;
    fn text(&self, column: &str) -> Result<String>;
    fn optional_text(&self, column: &str) -> Result<Option<String>>;
    fn boolean(&self, column: &str) -> Result<bool>;
    fn timestamp(&self, column: &str) -> Result<Timestamp>;
    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>>;
    fn optional_date(&self, column: &str) -> Result<Option<Date>>;
    /// What is wrong with `column`, as [`corrupt`] words it.
    fn corrupt(&self, column: &str, problem: impl Display) -> StoreError;

    /// A column of any [`Column`] type, by inference.
    fn get<T: Column>(&self, column: &str) -> Result<T>
    where
        Self: Sized,
    {
        T::read(self, column)
    }

    /// A text column parsed by `parse` (an enum's `parse`, for instance).
    fn parsed<T>(&self, column: &str, parse: impl FnOnce(&str) -> Result<T, Problem>) -> Result<T> {
        let text = self.text(column)?;
        parse(&text).map_err(|problem| self.corrupt(column, problem))
    }

    /// An exact decimal, which both engines hand over as text (PostgreSQL selects `numeric`
    /// columns as `::text`).
    fn decimal(&self, column: &str) -> Result<Decimal> {
        let text = self.text(column)?;
        Decimal::from_str(&text).map_err(|error| self.corrupt(column, format!("{text:?} is not a decimal: {error}")))
    }

    /// An amount (a decimal as text) and its currency code; both or neither are set.
    fn money(&self, amount_column: &str, currency_column: &str) -> Result<Option<Money>> {
        let amount = self.optional_text(amount_column)?;
        let currency = self.optional_text(currency_column)?;
        match (amount, currency) {
            (None, None) => Ok(None),
            (Some(amount), Some(code)) => {
                let currency = Currency::from_code(&code).map_err(|problem| self.corrupt(currency_column, problem))?;
                let money = Money::parse_amount(&amount, currency).map_err(|problem| self.corrupt(amount_column, problem))?;
                Ok(Some(money))
            }
            _ => Err(self.corrupt(amount_column, format!("{amount_column} and {currency_column} must be set together"))),
        }
    }
}

/// `{table} {id}: {column}: {problem}`, or `{column}: {problem}` before the row's id is known.
pub fn corrupt(table: &'static str, key: Option<i64>, column: &str, problem: impl Display) -> StoreError {
    let detail = match key {
        Some(key) => format!("{table} {key}: {column}: {problem}"),
        None => format!("{column}: {problem}"),
    };
    StoreError::Corrupt { table, detail }
}

/// How an engine's driver reads a column as a `T` by itself, or what is wrong with it (a NULL, a
/// value of another type, a number out of range). An engine implements it once for every type its
/// driver converts (its `FromSql`); [`Fields`] names the table, the row and the column around the
/// problem.
pub trait Native<T> {
    fn native(&self, column: &str) -> Result<T, String>;
}

/// One row as an engine's driver reads it: the part of [`Columns`] that is the engine's own. The
/// driver reads integers, texts and booleans itself ([`Native`]); times and dates each engine
/// keeps its own way. Errors are the problem alone: [`Fields`] adds the table, the row and the
/// column.
pub trait EngineRow:
    Native<i64> + Native<Option<i64>> + Native<i32> + Native<Option<i32>> + Native<String> + Native<Option<String>> + Native<bool>
{
    fn timestamp(&self, column: &str) -> Result<Timestamp, String>;
    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>, String>;
    fn optional_date(&self, column: &str) -> Result<Option<Date>, String>;
}

/// One row of `table` as an engine reads it (`R`), column by column: the [`Columns`] of both
/// engines. It remembers the row's id once [`Columns::key`] has read it, so errors can point at
/// the row.
pub struct Fields<R> {
    row: R,
    table: &'static str,
    key: Option<i64>,
}

impl<R> Fields<R> {
    /// An engine's `row` of `table`, whose id is not read yet.
    pub fn new(row: impl Into<R>, table: &'static str) -> Fields<R> {
        Fields { row: row.into(), table, key: None }
    }

    /// A column as the engine's driver reads it into `T` (the [`Columns`] readers are made of this).
    pub fn value<T>(&self, column: &str) -> Result<T>
    where
        R: Native<T>,
    {
        self.named(column, self.row.native(column))
    }

    /// `read`'s problem with `column` as [`corrupt`] words it.
    fn named<T>(&self, column: &str, read: Result<T, String>) -> Result<T> {
        read.map_err(|problem| corrupt(self.table, self.key, column, problem))
    }
}

impl<R: EngineRow> Columns for Fields<R> {
    fn key(&mut self, column: &str) -> Result<i64> {
        let key: i64 = self.value(column)?;
        self.key = Some(key);
        Ok(key)
    }

    fn integer(&self, column: &str) -> Result<i64> {
        self.value(column)
    }

    fn optional_integer(&self, column: &str) -> Result<Option<i64>> {
        self.value(column)
    }

    fn small_integer(&self, column: &str) -> Result<i32> {
        self.value(column)
    }

    fn optional_small_integer(&self, column: &str) -> Result<Option<i32>> {
        self.value(column)
    }

    fn text(&self, column: &str) -> Result<String> {
        self.value(column)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>> {
        self.value(column)
    }

    fn boolean(&self, column: &str) -> Result<bool> {
        self.value(column)
    }

    fn timestamp(&self, column: &str) -> Result<Timestamp> {
        self.named(column, self.row.timestamp(column))
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>> {
        self.named(column, self.row.optional_timestamp(column))
    }

    fn optional_date(&self, column: &str) -> Result<Option<Date>> {
        self.named(column, self.row.optional_date(column))
    }

    fn corrupt(&self, column: &str, problem: impl Display) -> StoreError {
        corrupt(self.table, self.key, column, problem)
    }
}

/// A value [`Columns::get`] reads.
pub trait Column: Sized {
    fn read(row: &impl Columns, column: &str) -> Result<Self>;
}

macro_rules! column {
    ($($type:ty => $read:ident),* $(,)?) => {
        $(impl Column for $type {
            fn read(row: &impl Columns, column: &str) -> Result<Self> {
                row.$read(column)
            }
        })*
    };
}

column! {
    i64 => integer,
    Option<i64> => optional_integer,
    i32 => small_integer,
    Option<i32> => optional_small_integer,
    String => text,
    Option<String> => optional_text,
    bool => boolean,
    Timestamp => timestamp,
    Option<Timestamp> => optional_timestamp,
    Option<Date> => optional_date,
}

/// A record read from one row of [`FromRow::TABLE`] (selected with the columns `sql` lists).
pub trait FromRow: Sized {
    /// The table the row is of, for error messages.
    const TABLE: &'static str;
    fn from_row(fields: &mut impl Columns) -> Result<Self>;
}

impl FromRow for Organisation {
    const TABLE: &'static str = "organisation";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Organisation {
            id: OrgId(fields.key("organisation_id")?),
            name: fields.get("name")?,
            reporting_currency: fields.parsed("reporting_currency", Currency::from_code)?,
            time_zone: fields.parsed("time_zone", Zone::parse)?,
            fiscal: {
                let month = fields.small_integer("fiscal_year_start_month")?;
                let month =
                    u8::try_from(month).map_err(|_| fields.corrupt("fiscal_year_start_month", format!("{month} is not a month")))?;
                fiscal::FiscalCalendar::new(month).map_err(|problem| fields.corrupt("fiscal_year_start_month", problem))?
            },
            created_at: fields.timestamp("created_at")?,
        })
    }
}

/// A row of [`sql::USER_COLUMNS`](crate::sql::USER_COLUMNS).
impl FromRow for User {
    const TABLE: &'static str = "app_user";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(User {
            id: UserId(fields.key("user_id")?),
            email: fields.get("email")?,
            name: fields.get("name")?,
            role: fields.parsed("role", Role::parse)?,
            manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
            team_id: fields.get::<Option<i64>>("team_id")?.map(TeamId),
            time_zone: fields.get("time_zone")?,
            locale: fields.parsed("locale", Locale::parse)?,
            active: fields.get("active")?,
            created_at: fields.timestamp("created_at")?,
        })
    }
}

impl FromRow for Team {
    const TABLE: &'static str = "team";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Team {
            id: TeamId(fields.key("team_id")?),
            name: fields.get("name")?,
            manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
        })
    }
}

/// Without its domains, which are rows of their own.
impl FromRow for Account {
    const TABLE: &'static str = "account";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Account {
            id: AccountId(fields.key("account_id")?),
            name: fields.get("name")?,
            domains: Vec::new(),
            industry: fields.get("industry")?,
            employee_count: fields.get("employee_count")?,
            region: fields.get("region")?,
            owner_id: fields.get::<Option<i64>>("owner_id")?.map(UserId),
            created_at: fields.timestamp("created_at")?,
        })
    }
}

/// Without its e-mail addresses, which are rows of their own.
impl FromRow for Contact {
    const TABLE: &'static str = "contact";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Contact {
            id: ContactId(fields.key("contact_id")?),
            name: fields.get("name")?,
            emails: Vec::new(),
            phone: fields.get("phone")?,
            title: fields.get("title")?,
            account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
            created_at: fields.timestamp("created_at")?,
        })
    }
}

impl FromRow for Lead {
    const TABLE: &'static str = "lead";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Lead {
            id: LeadId(fields.key("lead_id")?),
            name: fields.get("name")?,
            company: fields.get("company")?,
            email: fields.get("email")?,
            phone: fields.get("phone")?,
            title: fields.get("title")?,
            source: fields.get("source")?,
            industry: fields.get("industry")?,
            employee_count: fields.get("employee_count")?,
            region: fields.get("region")?,
            status: fields.parsed("status", LeadStatus::parse)?,
            owner_id: fields.get::<Option<i64>>("owner_id")?.map(UserId),
            created_at: fields.timestamp("created_at")?,
        })
    }
}

/// A row of [`sql::TASK_COLUMNS`](crate::sql::TASK_COLUMNS).
impl FromRow for Task {
    const TABLE: &'static str = "task";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Task {
            id: TaskId(fields.key("task_id")?),
            title: fields.get("title")?,
            owner_id: UserId(fields.get("owner_id")?),
            due_on: fields.optional_date("due_on")?,
            completed_at: fields.optional_timestamp("completed_at")?,
            account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
            opportunity_id: fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
            lead_id: fields.get::<Option<i64>>("lead_id")?.map(LeadId),
            created_at: fields.timestamp("created_at")?,
        })
    }
}

impl FromRow for Opportunity {
    const TABLE: &'static str = "opportunity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Opportunity {
            id: OpportunityId(fields.key("opportunity_id")?),
            name: fields.get("name")?,
            account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
            owner_id: UserId(fields.get("owner_id")?),
            pipeline_id: PipelineId(fields.get("pipeline_id")?),
            stage_id: StageId(fields.get("stage_id")?),
            amount: fields.money("amount", "currency")?,
            close_date: fields.optional_date("close_date")?,
            forecast_category: fields.parsed("forecast_category", ForecastCategory::parse)?,
            next_step: fields.get("next_step")?,
            status: fields.parsed("status", Status::parse)?,
            created_at: fields.timestamp("created_at")?,
            closed_at: fields.optional_timestamp("closed_at")?,
            close_reason: fields.get("close_reason")?,
        })
    }
}

/// A row of [`sql::HISTORY_COLUMNS`](crate::sql::HISTORY_COLUMNS).
impl FromRow for HistoryEvent {
    const TABLE: &'static str = "opportunity_history";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        // Read in the order the statements select the columns (`history_columns!`): a
        // SQLite row finds each column at once instead of by a scan of the names, which the
        // projection's load of twenty million events notices.
        let seq = fields.key("seq")?;
        let opportunity_id = OpportunityId(fields.get("opportunity_id")?);
        let field = fields.parsed("field", |text| {
            OppField::parse_event(text).ok_or_else(|| Problem::Invalid { value: text.to_owned(), expected: "an opportunity field" })
        })?;
        Ok(HistoryEvent {
            seq,
            opportunity_id,
            field,
            old: fields.get("old_value")?,
            new: fields.get("new_value")?,
            at: fields.timestamp("at")?,
            actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
            source: fields.parsed("source", Source::parse)?,
        })
    }
}

impl FromRow for OpportunityShare {
    const TABLE: &'static str = "opportunity_share";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(OpportunityShare {
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            user_id: UserId(fields.get("user_id")?),
            shared_by: fields.get::<Option<i64>>("shared_by")?.map(UserId),
            shared_at: fields.timestamp("shared_at")?,
        })
    }
}

impl FromRow for OpportunityMarks {
    const TABLE: &'static str = "opportunity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(OpportunityMarks {
            sql_at: fields.optional_timestamp("sql_at")?,
            dropped_at: fields.optional_timestamp("dropped_at")?,
            drop_reason: fields.get("drop_reason")?,
        })
    }
}

/// A pipeline row before its stages are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineRow {
    pub id: PipelineId,
    pub name: String,
    pub entry_stage_id: Option<StageId>,
}

impl PipelineRow {
    /// The pipeline with its stages (in position order), whose entry stage must be one of them.
    pub fn with_stages(self, stages: Vec<Stage>) -> Result<Pipeline> {
        let PipelineRow { id, name, entry_stage_id } = self;
        let Some(entry_stage_id) = entry_stage_id.filter(|entry| stages.iter().any(|stage| stage.id == *entry)) else {
            return Err(corrupt(PipelineRow::TABLE, Some(id.0), "entry_stage_id", "is not one of the pipeline's stages"));
        };
        Ok(Pipeline { id, name, entry_stage_id, stages })
    }
}

impl FromRow for PipelineRow {
    const TABLE: &'static str = "pipeline";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(PipelineRow {
            id: PipelineId(fields.key("pipeline_id")?),
            name: fields.get("name")?,
            entry_stage_id: fields.get::<Option<i64>>("entry_stage_id")?.map(StageId),
        })
    }
}

impl FromRow for Stage {
    const TABLE: &'static str = "stage";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Stage {
            id: StageId(fields.key("stage_id")?),
            pipeline_id: PipelineId(fields.get("pipeline_id")?),
            position: fields.get("position")?,
            name_en: fields.get("name_en")?,
            name_ko: fields.get("name_ko")?,
            kind: fields.parsed("kind", StageKind::parse)?,
            win_probability: fields.decimal("win_probability")?,
            forecast_category: fields.parsed("forecast_category", ForecastCategory::parse)?,
            counts_in_metrics: fields.get("counts_in_metrics")?,
            rotting_days: fields.get("rotting_days")?,
            archived_at: fields.optional_timestamp("archived_at")?,
        })
    }
}

/// A row of [`sql::ACTIVITY_COLUMNS`](crate::sql::ACTIVITY_COLUMNS), without its contacts, which
/// are rows of their own.
impl FromRow for Activity {
    const TABLE: &'static str = "activity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Activity {
            id: ActivityId(fields.key("activity_id")?),
            kind: fields.parsed("kind", ActivityKind::parse)?,
            direction: fields.parsed("direction", Direction::parse)?,
            occurred_at: fields.timestamp("occurred_at")?,
            logged_at: fields.timestamp("logged_at")?,
            subject: fields.get("subject")?,
            body: fields.get("body")?,
            source: fields.get("source")?,
            user_id: fields.get::<Option<i64>>("user_id")?.map(UserId),
            account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
            opportunity_id: fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
            contact_ids: Vec::new(),
        })
    }
}

/// `opportunity_id, last_at, inbound_at, touchpoints, lag` (microseconds), without the contacts,
/// which engines count in a query of their own ([`crate::merge_contact_counts`]).
impl FromRow for ActivityAggregate {
    const TABLE: &'static str = "activity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(ActivityAggregate {
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            last_occurred: fields.timestamp("last_at")?,
            last_inbound: fields.optional_timestamp("inbound_at")?,
            touchpoints: fields.get::<i64>("touchpoints")?.clamp(0, i64::from(u32::MAX)) as u32,
            max_lag_micros: fields.get("lag")?,
            contacts: 0,
        })
    }
}

/// A row of [`sql::AUDIT_EVENT_COLUMNS`](crate::sql::AUDIT_EVENT_COLUMNS).
impl FromRow for AuditEvent {
    const TABLE: &'static str = "audit_event";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(AuditEvent {
            id: fields.key("audit_event_id")?,
            at: fields.timestamp("at")?,
            actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
            source: fields.parsed("source", Source::parse)?,
            record_kind: fields.get("record_kind")?,
            record_id: fields.get("record_id")?,
            action: fields.get("action")?,
            before: fields.get("before_json")?,
            after: fields.get("after_json")?,
        })
    }
}

impl FromRow for Session {
    const TABLE: &'static str = "session";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        // No key for error messages: the token hash is as good as the cookie for looking one up.
        Ok(Session {
            token_hash: fields.get("token_hash")?,
            org: OrgId(fields.get("organisation_id")?),
            user_id: UserId(fields.get("user_id")?),
            csrf_token: fields.get("csrf_token")?,
            created_at: fields.timestamp("created_at")?,
            last_seen_at: fields.timestamp("last_seen_at")?,
            expires_at: fields.timestamp("expires_at")?,
            client_address: fields.get("client_address")?,
        })
    }
}

impl FromRow for ApiToken {
    const TABLE: &'static str = "api_token";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(ApiToken {
            id: fields.key("api_token_id")?,
            org: OrgId(fields.get("organisation_id")?),
            user_id: UserId(fields.get("user_id")?),
            name: fields.get("name")?,
            token_hash: fields.get("token_hash")?,
            prefix: fields.get("prefix")?,
            created_at: fields.timestamp("created_at")?,
            last_used_at: fields.optional_timestamp("last_used_at")?,
            revoked_at: fields.optional_timestamp("revoked_at")?,
        })
    }
}

/// A list of texts a record keeps in a child table, a row per text in position order: an
/// account's domains ([`ACCOUNT_DOMAINS`]) and a contact's e-mail addresses ([`CONTACT_EMAILS`]).
pub struct TextList<T> {
    /// The child table, for error messages.
    pub table: &'static str,
    /// The child table's column that holds the record's id, and the one that holds the text.
    pub parent_column: &'static str,
    pub text_column: &'static str,
    id: fn(&T) -> i64,
    set: fn(&mut T, Vec<String>),
}

/// An account's domains: rows of `account_id, domain`.
pub const ACCOUNT_DOMAINS: TextList<Account> = TextList {
    table: "account_domain",
    parent_column: "account_id",
    text_column: "domain",
    id: |account| account.id.0,
    set: |account, domains| account.domains = domains,
};

/// A contact's e-mail addresses: rows of `contact_id, email`.
pub const CONTACT_EMAILS: TextList<Contact> = TextList {
    table: "contact_email",
    parent_column: "contact_id",
    text_column: "email",
    id: |contact| contact.id.0,
    set: |contact, emails| contact.emails = emails,
};

impl<T> TextList<T> {
    /// One row of the child table: the record's id and one of its texts.
    pub fn read(&self, fields: &impl Columns) -> Result<(i64, String)> {
        Ok((fields.get(self.parent_column)?, fields.get(self.text_column)?))
    }

    /// Gives each of `records` the texts listed under its id in `rows` ([`TextList::read`], in
    /// position order).
    pub fn attach(&self, records: &mut [T], rows: Vec<(i64, String)>) {
        attach(records, rows, self.id, self.set);
    }
}

/// Gives each record the children listed under its id: `children` are `(parent id, child)` pairs
/// in the order the record lists them (an account's domains, an activity's contacts), `id` is a
/// record's id and `set` gives a record its children (none for a record without any).
pub fn attach<T, C>(
    records: &mut [T],
    children: impl IntoIterator<Item = (i64, C)>,
    id: impl Fn(&T) -> i64,
    mut set: impl FnMut(&mut T, Vec<C>),
) {
    let mut grouped: HashMap<i64, Vec<C>> = HashMap::new();
    for (parent, child) in children {
        grouped.entry(parent).or_default().push(child);
    }
    for record in records {
        let children = grouped.remove(&id(record)).unwrap_or_default();
        set(record, children);
    }
}

/// A row of [`sql::SELECT_USERS_BY_EMAIL_EVERYWHERE`](crate::sql::SELECT_USERS_BY_EMAIL_EVERYWHERE):
/// a user and their organisation.
pub fn user_with_organisation(fields: &mut impl Columns) -> Result<(OrgId, User)> {
    let user = User::from_row(fields)?;
    Ok((OrgId(fields.get("organisation_id")?), user))
}

/// `opportunity_id, last_at`: the time of a deal's latest activity.
pub fn latest_activity(fields: &impl Columns) -> Result<(OpportunityId, Timestamp)> {
    Ok((OpportunityId(fields.get("opportunity_id")?), fields.timestamp("last_at")?))
}

/// `opportunity_id, contacts`: how many distinct contacts a deal's activities name (for
/// [`crate::merge_contact_counts`]).
pub fn contact_count(fields: &impl Columns) -> Result<(i64, i64)> {
    Ok((fields.get("opportunity_id")?, fields.get("contacts")?))
}

/// `activity_id, opportunity_id, occurred_at, logged_at, direction`: a touch, without its contacts.
impl FromRow for crate::DealTouch {
    const TABLE: &'static str = "activity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::DealTouch {
            activity_id: ActivityId(fields.key("activity_id")?),
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            occurred_at: fields.timestamp("occurred_at")?,
            logged_at: fields.timestamp("logged_at")?,
            direction: fields.parsed("direction", Direction::parse)?,
            contacts: Vec::new(),
        })
    }
}

/// `activity_id, contact_id, title`: a contact a touch names.
pub fn touch_contact(fields: &impl Columns) -> Result<crate::TouchContact> {
    Ok((ActivityId(fields.get("activity_id")?), ContactId(fields.get("contact_id")?), fields.get("title")?))
}

/// `opportunity_id, employee_count, industry`.
impl FromRow for crate::DealCompany {
    const TABLE: &'static str = "account";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::DealCompany {
            opportunity_id: OpportunityId(fields.key("opportunity_id")?),
            employee_count: fields.get("employee_count")?,
            industry: fields.get("industry")?,
        })
    }
}

/// `activity_id, opportunity_id, logged_at`: an activity in a feed of new ones.
pub fn logged_activity(fields: &impl Columns) -> Result<LoggedActivity> {
    Ok((
        ActivityId(fields.get("activity_id")?),
        fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
        fields.timestamp("logged_at")?,
    ))
}

/// An exit criterion and when it was archived.
impl FromRow for (ExitCriterion, Option<Timestamp>) {
    const TABLE: &'static str = "exit_criterion";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("exit_criterion_id")?;
        let kind: String = fields.get("kind")?;
        let argument: Option<String> = fields.get("argument")?;
        let kind = CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| fields.corrupt("argument", problem))?;
        let origin: String = fields.get("origin")?;
        let origin_opportunity = fields.get::<Option<i64>>("origin_opportunity_id")?.map(OpportunityId);
        let origin = codec::origin_from_parts(&origin, origin_opportunity).map_err(|detail| fields.corrupt("origin", detail))?;
        let criterion = ExitCriterion {
            id,
            stage_id: StageId(fields.get("stage_id")?),
            label_en: fields.get("label_en")?,
            label_ko: fields.get("label_ko")?,
            kind,
            origin,
        };
        Ok((criterion, fields.optional_timestamp("archived_at")?))
    }
}

impl FromRow for CheckEntry {
    const TABLE: &'static str = "criterion_check";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(CheckEntry {
            id: fields.key("criterion_check_id")?,
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            criterion_id: fields.get("exit_criterion_id")?,
            checked: fields.get("checked")?,
            evidence: fields.get("evidence")?,
            at: fields.timestamp("at")?,
            actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
            source: fields.parsed("source", Source::parse)?,
        })
    }
}

impl FromRow for StoredOverride {
    const TABLE: &'static str = "gate_override";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("gate_override_id")?;
        let unmet: String = fields.get("unmet_json")?;
        Ok(StoredOverride {
            id,
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            source: fields.parsed("source", Source::parse)?,
            gate_override: GateOverride {
                by: fields.get::<Option<i64>>("actor_id")?.map(UserId),
                at: fields.timestamp("at")?,
                reason: fields.get("reason")?,
                from_stage_id: StageId(fields.get("from_stage_id")?),
                to_stage_id: StageId(fields.get("to_stage_id")?),
                unmet: codec::unmet_from_json(&unmet).map_err(|detail| fields.corrupt("unmet_json", detail))?,
            },
        })
    }
}

impl FromRow for Handoff {
    const TABLE: &'static str = "handoff";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(Handoff {
            id: fields.key("handoff_id")?,
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            from_user_id: UserId(fields.get("from_user_id")?),
            to_user_id: UserId(fields.get("to_user_id")?),
            actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
            stage_id: StageId(fields.get("stage_id")?),
            at: fields.timestamp("at")?,
            source: fields.parsed("source", Source::parse)?,
            note: fields.get("note")?,
        })
    }
}

impl FromRow for StoredHealthSettings {
    const TABLE: &'static str = "health_settings";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(StoredHealthSettings {
            document: fields.get("thresholds")?,
            updated_at: fields.timestamp("updated_at")?,
            updated_by: fields.get::<Option<i64>>("updated_by")?.map(UserId),
        })
    }
}

impl FromRow for WorkspaceChange {
    const TABLE: &'static str = "workspace_history";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(WorkspaceChange {
            id: fields.key("workspace_history_id")?,
            opportunity_id: OpportunityId(fields.get("opportunity_id")?),
            part: fields.get("part")?,
            old_json: fields.get("old_json")?,
            new_json: fields.get("new_json")?,
            at: fields.timestamp("at")?,
            actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
            source: fields.parsed("source", Source::parse)?,
        })
    }
}

/// Adds one row of `exchange_rate` (`base, currency, rate_date, per_base`) to `table`, which
/// starts with the first row's base; a row quoted against another base is corrupt.
pub fn add_rate(table: &mut Option<pipewise_core::fx::RateTable>, fields: &impl Columns) -> Result<()> {
    let base = fields.parsed("base", Currency::from_code)?;
    let table = table.get_or_insert_with(|| pipewise_core::fx::RateTable::new(base));
    if table.base() != base {
        return Err(fields.corrupt("base", format!("rates are quoted against both {} and {base}", table.base())));
    }
    let Some(date) = fields.optional_date("rate_date")? else {
        return Err(fields.corrupt("rate_date", "is NULL"));
    };
    table.insert(fields.parsed("currency", Currency::from_code)?, date, fields.decimal("per_base")?);
    Ok(())
}

impl FromRow for StoredQuota {
    const TABLE: &'static str = "quota";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let user = fields.get::<Option<i64>>("user_id")?;
        let team = fields.get::<Option<i64>>("team_id")?;
        let subject = match (user, team) {
            (Some(user), None) => QuotaSubject::User(UserId(user)),
            (None, Some(team)) => QuotaSubject::Team(TeamId(team)),
            _ => return Err(fields.corrupt("user_id", "exactly one of user_id and team_id must be set")),
        };
        let first = fields.optional_date("period_first")?.ok_or_else(|| fields.corrupt("period_first", "is missing"))?;
        let last = fields.optional_date("period_last")?.ok_or_else(|| fields.corrupt("period_last", "is missing"))?;
        Ok(StoredQuota {
            subject,
            kind: fields.parsed("period_kind", fiscal::PeriodKind::from_code)?,
            first,
            last,
            amount: fields.money("amount", "currency")?.ok_or_else(|| fields.corrupt("amount", "is missing"))?,
            updated_at: fields.timestamp("updated_at")?,
            updated_by: fields.get::<Option<i64>>("updated_by")?.map(UserId),
        })
    }
}

fn required_date(fields: &impl Columns, column: &str) -> Result<Date> {
    fields.optional_date(column)?.ok_or_else(|| fields.corrupt(column, "is missing"))
}

fn version(fields: &impl Columns, column: &str) -> Result<u32> {
    let version = fields.small_integer(column)?;
    u32::try_from(version).map_err(|_| fields.corrupt(column, format!("{version} is not a version")))
}

impl FromRow for crate::StoredPlan {
    const TABLE: &'static str = "comp_plan";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::StoredPlan {
            name: fields.text("name")?,
            version: version(fields, "version")?,
            definition: fields.text("definition")?,
            created_at: fields.timestamp("created_at")?,
            created_by: fields.get::<Option<i64>>("created_by")?.map(UserId),
        })
    }
}

impl FromRow for crate::PlanAssignment {
    const TABLE: &'static str = "comp_assignment";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::PlanAssignment {
            user: UserId(fields.integer("user_id")?),
            plan: fields.text("plan_name")?,
            first: required_date(fields, "first_day")?,
            last: fields.optional_date("last_day")?,
        })
    }
}

impl FromRow for crate::StoredStatement {
    const TABLE: &'static str = "pay_statement";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("pay_statement_id")?;
        Ok(crate::StoredStatement {
            id,
            user: UserId(fields.integer("user_id")?),
            kind: fields.parsed("period_kind", fiscal::PeriodKind::from_code)?,
            first: required_date(fields, "period_first")?,
            last: required_date(fields, "period_last")?,
            plan: fields.text("plan_name")?,
            version: version(fields, "plan_version")?,
            total: fields.money("total", "currency")?.ok_or_else(|| fields.corrupt("total", "is missing"))?,
            document: fields.text("document")?,
            status: fields.parsed("status", crate::StatementStatus::parse)?,
            computed_at: fields.timestamp("computed_at")?,
            locked_at: fields.optional_timestamp("locked_at")?,
            locked_by: fields.get::<Option<i64>>("locked_by")?.map(UserId),
        })
    }
}

impl FromRow for crate::StoredDispute {
    const TABLE: &'static str = "pay_dispute";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("pay_dispute_id")?;
        let line = fields.optional_small_integer("line_index")?;
        Ok(crate::StoredDispute {
            id,
            statement_id: fields.integer("pay_statement_id")?,
            line: line
                .map(|line| u32::try_from(line).map_err(|_| fields.corrupt("line_index", format!("{line} is negative"))))
                .transpose()?,
            line_label: fields.optional_text("line_label")?,
            status: fields.parsed("status", crate::DisputeStatus::parse)?,
            note: fields.text("note")?,
            resolution: fields.optional_text("resolution")?,
            opened_by: UserId(fields.integer("opened_by")?),
            opened_at: fields.timestamp("opened_at")?,
            updated_at: fields.timestamp("updated_at")?,
            updated_by: fields.get::<Option<i64>>("updated_by")?.map(UserId),
        })
    }
}

impl FromRow for crate::StoredSplit {
    const TABLE: &'static str = "deal_split";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let kind = fields.text("kind")?;
        let overlay = match kind.as_str() {
            "revenue" => false,
            "overlay" => true,
            other => return Err(fields.corrupt("kind", format!("{other:?} is not revenue or overlay"))),
        };
        Ok(crate::StoredSplit {
            deal: OpportunityId(fields.integer("opportunity_id")?),
            user: UserId(fields.integer("user_id")?),
            overlay,
            share: fields.decimal("share")?,
        })
    }
}

impl FromRow for crate::StoredWorkspace {
    const TABLE: &'static str = "deal_workspace";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::StoredWorkspace { deal: OpportunityId(fields.integer("opportunity_id")?), document: fields.text("document")? })
    }
}

impl FromRow for pipewise_core::pipeline::StageSettings {
    const TABLE: &'static str = "stage_settings";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(pipewise_core::pipeline::StageSettings {
            stage: StageId(fields.integer("stage_id")?),
            from: fields.optional_date("from_day")?.ok_or_else(|| fields.corrupt("from_day", "is missing"))?,
            win_probability: fields.decimal("win_probability")?,
            counts_in_metrics: fields.get("counts_in_metrics")?,
        })
    }
}

impl FromRow for pipewise_core::user::Membership {
    const TABLE: &'static str = "team_membership";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(pipewise_core::user::Membership {
            user: UserId(fields.integer("user_id")?),
            from: fields.optional_date("from_day")?.ok_or_else(|| fields.corrupt("from_day", "is missing"))?,
            team: fields.optional_integer("team_id")?.map(TeamId),
        })
    }
}

impl FromRow for crate::StoredBilling {
    const TABLE: &'static str = "deal_billing";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(crate::StoredBilling {
            deal: OpportunityId(fields.integer("opportunity_id")?),
            invoiced_on: fields.optional_date("invoiced_on")?,
            paid_on: fields.optional_date("paid_on")?,
        })
    }
}

impl FromRow for crate::StoredCall {
    const TABLE: &'static str = "forecast_call";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("forecast_call_id")?;
        let first = fields.optional_date("period_first")?.ok_or_else(|| fields.corrupt("period_first", "is missing"))?;
        let last = fields.optional_date("period_last")?.ok_or_else(|| fields.corrupt("period_last", "is missing"))?;
        let rollup = match (fields.optional_integer("rollup_commit_minor")?, fields.optional_integer("rollup_best_case_minor")?) {
            (Some(commit), Some(best_case)) => Some((commit, best_case)),
            (None, None) => None,
            _ => return Err(fields.corrupt("rollup_commit_minor", "the roll-up's commit and best case are set together")),
        };
        let model = match (
            fields.optional_integer("model_expected_minor")?,
            fields.optional_integer("model_p10_minor")?,
            fields.optional_integer("model_p90_minor")?,
        ) {
            (Some(expected), Some(p10), Some(p90)) => Some([expected, p10, p90]),
            (None, None, None) => None,
            _ => return Err(fields.corrupt("model_expected_minor", "the model's expected value, P10 and P90 are set together")),
        };
        Ok(crate::StoredCall {
            id,
            user: UserId(fields.integer("user_id")?),
            kind: fields.parsed("period_kind", fiscal::PeriodKind::from_code)?,
            first,
            last,
            currency: fields.parsed("currency", Currency::from_code)?,
            commit: fields.integer("commit_minor")?,
            best_case: fields.integer("best_case_minor")?,
            note: fields.text("note")?,
            rollup,
            closed: fields.integer("closed_minor")?,
            system_commit: fields.integer("system_commit_minor")?,
            system_best_case: fields.integer("system_best_case_minor")?,
            pipeline: fields.integer("pipeline_minor")?,
            model,
            submitted_at: fields.timestamp("submitted_at")?,
        })
    }
}

impl FromRow for crate::StoredModelForecast {
    const TABLE: &'static str = "model_forecast";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let id = fields.key("model_forecast_id")?;
        let first = fields.optional_date("period_first")?.ok_or_else(|| fields.corrupt("period_first", "is missing"))?;
        let last = fields.optional_date("period_last")?.ok_or_else(|| fields.corrupt("period_last", "is missing"))?;
        let as_of = fields.optional_date("as_of")?.ok_or_else(|| fields.corrupt("as_of", "is missing"))?;
        let kind = fields.text("scope_kind")?;
        let scope = crate::ForecastScope::from_columns(&kind, fields.integer("scope_id")?)
            .ok_or_else(|| fields.corrupt("scope_kind", format!("{kind:?} is not organisation, team or user")))?;
        let range =
            match (fields.optional_integer("p10_minor")?, fields.optional_integer("p50_minor")?, fields.optional_integer("p90_minor")?) {
                (Some(p10), Some(p50), Some(p90)) => Some([p10, p50, p90]),
                (None, None, None) => None,
                _ => return Err(fields.corrupt("p10_minor", "P10, P50 and P90 are set together")),
            };
        let basis = fields.text("basis")?;
        Ok(crate::StoredModelForecast {
            id,
            scope,
            kind: fields.parsed("period_kind", fiscal::PeriodKind::from_code)?,
            first,
            last,
            as_of,
            currency: fields.parsed("currency", Currency::from_code)?,
            statistical: match basis.as_str() {
                "statistical" => true,
                "stage_weighted" => false,
                _ => return Err(fields.corrupt("basis", format!("{basis:?} is not statistical or stage_weighted"))),
            },
            expected: fields.integer("expected_minor")?,
            range,
            won: fields.integer("won_minor")?,
            stage_weighted: fields.integer("stage_weighted_minor")?,
            recorded_at: fields.timestamp("recorded_at")?,
        })
    }
}
