//! [`PgTx`]: one transaction on one pooled connection, and the SQL of every primitive of
//! [`Tx`]. Every statement is parameterised, prepared once per connection, and filtered by
//! `organisation_id`, except those that run before an organisation is known: looking a session
//! or an API token up by its hash, finding a user by e-mail for signing in, and counting
//! sign-in attempts.
//!
//! Values cross the wire as follows (see [`crate::fields`] for the way back):
//! times as binary `timestamptz` from `jiff::Timestamp`, dates as binary `date`, and exact
//! decimals (amounts, rates, win probabilities) as text cast in SQL (`$1::text::numeric`).

use std::collections::{BTreeMap, HashMap, HashSet};

use pipewise_core::access::DealScope;
use pipewise_core::error::RecordRef;
use pipewise_core::fx::RateTable;
use pipewise_core::gates::{self, CriterionKind, ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::{Change, HistoryEvent, Source};
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::opportunity::{OppField, Opportunity, Status};
use pipewise_core::pipeline::NewStage;
use pipewise_core::pipeline::{ForecastCategory, NewPipeline, Pipeline, Stage, StageKind};
use pipewise_core::records::*;
use pipewise_core::user::{Locale, NewUser, Role, User};
use pipewise_core::*;
use pipewise_store::{
    ActivityAggregate, ActivityFilter, ApiToken, AuditEntry, AuditEvent, AuditFilter, HistoryAppend, OpportunityFilter, Organisation,
    RecordKind, Result, Session, StoreError, TaskFilter, Tx,
};
use pipewise_store::{
    CheckEntry, Handoff, OpportunityMarks, OpportunityShare, StoredHealthSettings, StoredOverride, WorkspaceChange, workspace_codec,
};
use postgres::Row;
use postgres::types::ToSql;

use crate::error::{ConfigError, from_postgres};
use crate::fields::Fields;
use crate::pool::{Connection, Pool};

type Params<'a> = [&'a (dyn ToSql + Sync)];

const ORGANISATION_COLUMNS: &str = "organisation_id, name, reporting_currency, created_at";
const USER_COLUMNS: &str = "user_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at";
const TEAM_COLUMNS: &str = "team_id, name, manager_id";
const ACCOUNT_COLUMNS: &str = "account_id, name, industry, employee_count, region, owner_id, created_at";
const CONTACT_COLUMNS: &str = "contact_id, name, phone, title, account_id, created_at";
const STAGE_COLUMNS: &str = "stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability::text AS win_probability, \
     forecast_category, counts_in_metrics, rotting_days, archived_at";
const CRITERION_COLUMNS: &str =
    "exit_criterion_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, archived_at";
const OPPORTUNITY_COLUMNS: &str = "opportunity_id, name, account_id, owner_id, pipeline_id, stage_id, amount::text AS amount, currency, \
     close_date, forecast_category, next_step, status, created_at, closed_at, close_reason";
const HISTORY_COLUMNS: &str = "seq, opportunity_id, field, old_value, new_value, at, actor_id, source";
const LEAD_COLUMNS: &str = "lead_id, name, company, email, phone, title, source, status, owner_id, created_at";
const ACTIVITY_COLUMNS: &str =
    "activity_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id";
const TASK_COLUMNS: &str = "task_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at";
const SESSION_COLUMNS: &str = "token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address";
const API_TOKEN_COLUMNS: &str = "api_token_id, organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at";
const AUDIT_EVENT_COLUMNS: &str = "audit_event_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json";

/// A transaction that holds a pooled connection until it commits or is dropped.
pub(crate) struct PgTx<'store> {
    pool: &'store Pool,
    /// `None` only after [`Tx::commit`] or during [`Drop`].
    connection: Option<Connection>,
    /// A `REPEATABLE READ READ ONLY` snapshot, where row locks are neither possible nor needed.
    read_only: bool,
}

impl<'store> PgTx<'store> {
    /// Takes a connection and starts a transaction on it.
    pub(crate) fn begin(pool: &'store Pool, read_only: bool) -> Result<PgTx<'store>> {
        let mut connection = pool.take()?;
        let begin = if read_only { "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" } else { "BEGIN ISOLATION LEVEL READ COMMITTED" };
        if let Err(error) = connection.client.batch_execute(begin) {
            // A connection that cannot start a transaction is not worth keeping.
            drop(connection);
            pool.forget_one();
            return Err(from_postgres(error));
        }
        Ok(PgTx { pool, connection: Some(connection), read_only })
    }

    fn connection(&mut self) -> Result<&mut Connection> {
        self.connection.as_mut().ok_or_else(|| StoreError::database(ConfigError("the transaction has already ended".to_owned())))
    }

    fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query(&statement, params).map_err(from_postgres)
    }

    fn query_opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query_opt(&statement, params).map_err(from_postgres)
    }

    fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.query_one(&statement, params).map_err(from_postgres)
    }

    fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let connection = self.connection()?;
        let statement = connection.statement(sql)?;
        connection.client.execute(&statement, params).map_err(from_postgres)
    }

    /// Runs a statement without parameters or results, such as `SAVEPOINT`.
    fn simple(&mut self, sql: &str) -> Result<()> {
        self.connection()?.client.batch_execute(sql).map_err(from_postgres)
    }

    /// The id a `RETURNING` clause gave back in its first column.
    fn returned_id(&mut self, table: &'static str, sql: &str, params: &Params<'_>) -> Result<i64> {
        let row = self.query_one(sql, params)?;
        row.try_get(0).map_err(|error| crate::error::corrupt(table, format!("returned id: {}", crate::error::PostgresError(error))))
    }

    fn load_accounts(&mut self, org: OrgId, only: Option<AccountId>) -> Result<Vec<Account>> {
        let (rows, domain_rows) = match only {
            Some(id) => (
                self.query(
                    &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE organisation_id = $1 AND account_id = $2"),
                    &[&org.0, &id.0],
                )?,
                self.query(
                    "SELECT account_id, domain FROM account_domain WHERE organisation_id = $1 AND account_id = $2 ORDER BY position",
                    &[&org.0, &id.0],
                )?,
            ),
            None => (
                self.query(&format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE organisation_id = $1 ORDER BY account_id"), &[&org.0])?,
                self.query(
                    "SELECT account_id, domain FROM account_domain WHERE organisation_id = $1 ORDER BY account_id, position",
                    &[&org.0],
                )?,
            ),
        };
        let mut domains = group_texts(&domain_rows, "account_domain", "account_id", "domain")?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "account");
                let id = fields.key("account_id")?;
                Ok(Account {
                    id: AccountId(id),
                    name: fields.get("name")?,
                    domains: domains.remove(&id).unwrap_or_default(),
                    industry: fields.get("industry")?,
                    employee_count: fields.get("employee_count")?,
                    region: fields.get("region")?,
                    owner_id: fields.get::<Option<i64>>("owner_id")?.map(UserId),
                    created_at: fields.timestamp("created_at")?,
                })
            })
            .collect()
    }

    fn load_contacts(&mut self, org: OrgId, only: Option<ContactId>) -> Result<Vec<Contact>> {
        let (rows, email_rows) = match only {
            Some(id) => (
                self.query(
                    &format!("SELECT {CONTACT_COLUMNS} FROM contact WHERE organisation_id = $1 AND contact_id = $2"),
                    &[&org.0, &id.0],
                )?,
                self.query(
                    "SELECT contact_id, email FROM contact_email WHERE organisation_id = $1 AND contact_id = $2 ORDER BY position",
                    &[&org.0, &id.0],
                )?,
            ),
            None => (
                self.query(&format!("SELECT {CONTACT_COLUMNS} FROM contact WHERE organisation_id = $1 ORDER BY contact_id"), &[&org.0])?,
                self.query(
                    "SELECT contact_id, email FROM contact_email WHERE organisation_id = $1 ORDER BY contact_id, position",
                    &[&org.0],
                )?,
            ),
        };
        let mut emails = group_texts(&email_rows, "contact_email", "contact_id", "email")?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "contact");
                let id = fields.key("contact_id")?;
                Ok(Contact {
                    id: ContactId(id),
                    name: fields.get("name")?,
                    emails: emails.remove(&id).unwrap_or_default(),
                    phone: fields.get("phone")?,
                    title: fields.get("title")?,
                    account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
                    created_at: fields.timestamp("created_at")?,
                })
            })
            .collect()
    }

    fn load_pipelines(&mut self, org: OrgId, only: Option<PipelineId>) -> Result<Vec<Pipeline>> {
        let (rows, stage_rows) = match only {
            Some(id) => (
                self.query(
                    "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = $1 AND pipeline_id = $2",
                    &[&org.0, &id.0],
                )?,
                self.query(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 AND pipeline_id = $2 ORDER BY position"),
                    &[&org.0, &id.0],
                )?,
            ),
            None => (
                self.query(
                    "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = $1 ORDER BY pipeline_id",
                    &[&org.0],
                )?,
                self.query(
                    &format!("SELECT {STAGE_COLUMNS} FROM stage WHERE organisation_id = $1 ORDER BY pipeline_id, position"),
                    &[&org.0],
                )?,
            ),
        };
        let mut stages: HashMap<i64, Vec<Stage>> = HashMap::new();
        for row in &stage_rows {
            let stage = read_stage(row)?;
            stages.entry(stage.pipeline_id.0).or_default().push(stage);
        }
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "pipeline");
                let id = fields.key("pipeline_id")?;
                let entry_stage_id = fields.get::<Option<i64>>("entry_stage_id")?.map(StageId);
                let stages = stages.remove(&id).unwrap_or_default();
                let Some(entry_stage_id) = entry_stage_id.filter(|entry| stages.iter().any(|stage| stage.id == *entry)) else {
                    return Err(fields.corrupt("entry_stage_id", "is not one of the pipeline's stages"));
                };
                Ok(Pipeline { id: PipelineId(id), name: fields.get("name")?, entry_stage_id, stages })
            })
            .collect()
    }

    /// The activities `rows` describe, with their contacts.
    fn activities_from_rows(&mut self, org: OrgId, rows: &[Row]) -> Result<Vec<Activity>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|row| Fields::new(row, "activity").get("activity_id")).collect::<Result<_>>()?;
        let contact_rows = self.query(
            "SELECT activity_contact.activity_id, activity_contact.contact_id \
             FROM activity_contact JOIN activity ON activity.activity_id = activity_contact.activity_id \
             WHERE activity.organisation_id = $1 AND activity_contact.activity_id = ANY($2::bigint[]) \
             ORDER BY activity_contact.activity_id, activity_contact.contact_id",
            &[&org.0, &ids],
        )?;
        let mut contacts: HashMap<i64, Vec<ContactId>> = HashMap::new();
        for row in &contact_rows {
            let fields = Fields::new(row, "activity_contact");
            contacts.entry(fields.get("activity_id")?).or_default().push(ContactId(fields.get("contact_id")?));
        }
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "activity");
                let id = fields.key("activity_id")?;
                Ok(Activity {
                    id: ActivityId(id),
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
                    contact_ids: contacts.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    fn history_from_rows(rows: &[Row]) -> Result<Vec<HistoryEvent>> {
        rows.iter().map(read_history_event).collect()
    }
}

impl Tx for PgTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        let Some(mut connection) = self.connection.take() else {
            return Err(StoreError::database(ConfigError("the transaction has already ended".to_owned())));
        };
        match connection.client.batch_execute("COMMIT") {
            Ok(()) => {
                self.pool.give_back(connection);
                Ok(())
            }
            Err(error) => {
                // The server ended the transaction either way; a fresh connection is the safe bet.
                drop(connection);
                self.pool.forget_one();
                Err(from_postgres(error))
            }
        }
    }

    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        let id = self.returned_id(
            "organisation",
            "INSERT INTO organisation (name, reporting_currency, created_at) VALUES ($1, $2, $3) RETURNING organisation_id",
            &[&name, &reporting_currency.code(), &at.to_jiff()],
        )?;
        Ok(OrgId(id))
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        let row = self.query_opt(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisation WHERE organisation_id = $1"), &[&org.0])?;
        row.as_ref().map(read_organisation).transpose()
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        // The one query not keyed by an organisation: it lists them.
        let rows = self.query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisation ORDER BY organisation_id"), &[])?;
        rows.iter().map(read_organisation).collect()
    }

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId> {
        let row = self.query_opt(
            "INSERT INTO app_user (organisation_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9) \
             ON CONFLICT (organisation_id, email) DO NOTHING RETURNING user_id",
            &[
                &org.0,
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.manager_id.map(|id| id.0),
                &user.team_id.map(|id| id.0),
                &user.time_zone,
                &user.locale.as_str(),
                &at.to_jiff(),
            ],
        )?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!("new user: email: {} already belongs to another user", user.email)));
        };
        Ok(UserId(Fields::new(&row, "app_user").get("user_id")?))
    }

    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()> {
        let updated = self.execute(
            "UPDATE app_user SET manager_id = $3 WHERE organisation_id = $1 AND user_id = $2",
            &[&org.0, &user.0, &manager.map(|id| id.0)],
        )?;
        if updated == 0 {
            return Err(StoreError::NotFound { kind: UserId::LABEL, id: user.0 });
        }
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let row =
            self.query_opt(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = $1 AND user_id = $2"), &[&org.0, &id.0])?;
        row.as_ref().map(read_user).transpose()
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        // Addresses are stored lower-cased (see `pipewise_core::text::email`), so a lookup ignores case.
        let row = self.query_opt(
            &format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = $1 AND email = $2"),
            &[&org.0, &email.to_lowercase()],
        )?;
        row.as_ref().map(read_user).transpose()
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        let rows = self.query(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = $1 ORDER BY user_id"), &[&org.0])?;
        rows.iter().map(read_user).collect()
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        let id = self.returned_id(
            "team",
            "INSERT INTO team (organisation_id, name, manager_id) VALUES ($1, $2, $3) RETURNING team_id",
            &[&org.0, &team.name, &team.manager_id.map(|id| id.0)],
        )?;
        Ok(TeamId(id))
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        let row =
            self.query_opt(&format!("SELECT {TEAM_COLUMNS} FROM team WHERE organisation_id = $1 AND team_id = $2"), &[&org.0, &id.0])?;
        row.as_ref().map(read_team).transpose()
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        let rows = self.query(&format!("SELECT {TEAM_COLUMNS} FROM team WHERE organisation_id = $1 ORDER BY team_id"), &[&org.0])?;
        rows.iter().map(read_team).collect()
    }

    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        // A savepoint lets a taken domain undo the account row and leave the transaction usable.
        let guarded = !account.domains.is_empty();
        if guarded {
            self.simple("SAVEPOINT insert_account")?;
        }
        let id = self.returned_id(
            "account",
            "INSERT INTO account (organisation_id, name, industry, employee_count, region, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING account_id",
            &[
                &org.0,
                &account.name,
                &account.industry,
                &account.employee_count,
                &account.region,
                &account.owner_id.map(|id| id.0),
                &at.to_jiff(),
            ],
        )?;
        if !guarded {
            return Ok(AccountId(id));
        }
        let inserted = self.query(
            "INSERT INTO account_domain (organisation_id, domain, account_id, position) \
             SELECT $1, domain, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (domain, position) \
             ON CONFLICT (organisation_id, domain) DO NOTHING RETURNING domain",
            &[&org.0, &id, &account.domains],
        )?;
        let inserted: HashSet<String> =
            inserted.iter().map(|row| Fields::new(row, "account_domain").get::<String>("domain")).collect::<Result<_>>()?;
        if let Some(taken) = account.domains.iter().find(|domain| !inserted.contains(*domain)) {
            self.simple("ROLLBACK TO SAVEPOINT insert_account")?;
            return Err(StoreError::Conflict(format!("new account: domains: {taken} already belongs to another account")));
        }
        self.simple("RELEASE SAVEPOINT insert_account")?;
        Ok(AccountId(id))
    }

    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>> {
        Ok(self.load_accounts(org, Some(id))?.into_iter().next())
    }

    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>> {
        self.load_accounts(org, None)
    }

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId> {
        let id = self.returned_id(
            "contact",
            "INSERT INTO contact (organisation_id, name, phone, title, account_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING contact_id",
            &[&org.0, &contact.name, &contact.phone, &contact.title, &contact.account_id.map(|id| id.0), &at.to_jiff()],
        )?;
        if !contact.emails.is_empty() {
            self.execute(
                "INSERT INTO contact_email (organisation_id, email, contact_id, position) \
                 SELECT $1, email, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (email, position)",
                &[&org.0, &id, &contact.emails],
            )?;
        }
        Ok(ContactId(id))
    }

    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
        Ok(self.load_contacts(org, Some(id))?.into_iter().next())
    }

    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>> {
        self.load_contacts(org, None)
    }

    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let record = RecordRef::new_record(PipelineId::LABEL);
        if pipeline.entry_stage >= pipeline.stages.len() {
            let problem = Problem::Rule("the entry stage must be one of the pipeline's open stages".into());
            return Err(FieldError { record, field: "entry_stage", problem }.into());
        }
        let id = self.returned_id(
            "pipeline",
            "INSERT INTO pipeline (organisation_id, name) VALUES ($1, $2) RETURNING pipeline_id",
            &[&org.0, &pipeline.name],
        )?;
        let mut stage_ids = Vec::with_capacity(pipeline.stages.len());
        for (index, stage) in pipeline.stages.iter().enumerate() {
            let position = i32::try_from(index).map_err(|_| FieldError {
                record: record.clone(),
                field: "stages",
                problem: Problem::OutOfRange { value: index.to_string(), range: "at most 2,147,483,647 stages" },
            })?;
            let stage_id = self.returned_id(
                "stage",
                "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability, \
                 forecast_category, counts_in_metrics, rotting_days) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10) RETURNING stage_id",
                &[
                    &org.0,
                    &id,
                    &position,
                    &stage.name_en,
                    &stage.name_ko,
                    &stage.kind.as_str(),
                    &stage.win_probability.to_string(),
                    &stage.forecast_category.as_str(),
                    &stage.counts_in_metrics,
                    &stage.rotting_days,
                ],
            )?;
            stage_ids.push(stage_id);
        }
        self.execute(
            "UPDATE pipeline SET entry_stage_id = $3 WHERE organisation_id = $1 AND pipeline_id = $2",
            &[&org.0, &id, &stage_ids[pipeline.entry_stage]],
        )?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        Ok(self.load_pipelines(org, Some(id))?.into_iter().next())
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        self.load_pipelines(org, None)
    }

    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId> {
        let id = self.returned_id(
            "opportunity",
            "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, \
             close_date, forecast_category, next_step, status, created_at, closed_at, close_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING opportunity_id",
            &[
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
            ],
        )?;
        Ok(OpportunityId(id))
    }

    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()> {
        let updated = self.execute(
            "UPDATE opportunity SET name = $3, account_id = $4, owner_id = $5, pipeline_id = $6, stage_id = $7, \
             amount = $8::text::numeric, currency = $9, close_date = $10, forecast_category = $11, next_step = $12, \
             status = $13, created_at = $14, closed_at = $15, close_reason = $16 \
             WHERE organisation_id = $1 AND opportunity_id = $2",
            &[
                &org.0,
                &opportunity.id.0,
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
            ],
        )?;
        if updated == 0 {
            return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.id.0 });
        }
        Ok(())
    }

    fn opportunity(&mut self, org: OrgId, id: OpportunityId, lock: bool) -> Result<Option<Opportunity>> {
        // A read-only snapshot cannot take row locks, and nothing it does needs them.
        let locking = if lock && !self.read_only { " FOR UPDATE" } else { "" };
        let row = self.query_opt(
            &format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = $1 AND opportunity_id = $2{locking}"),
            &[&org.0, &id.0],
        )?;
        row.as_ref().map(read_opportunity).transpose()
    }

    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
        let owner = filter.owner_id.map(|id| id.0);
        let pipeline = filter.pipeline_id.map(|id| id.0);
        let account = filter.account_id.map(|id| id.0);
        let status = filter.status.map(Status::as_str);
        let after = filter.after_id.map(|id| id.0);
        let stage = filter.stage_id.map(|id| id.0);
        let limit = filter.limit.map(i64::from);
        let ids: Option<Vec<i64>> = filter.ids.as_ref().map(|ids| ids.iter().map(|id| id.0).collect());
        let scope = match &filter.scope {
            Some(DealScope::Owners { owners, shared_with }) => {
                Some((owners.iter().map(|owner| owner.0).collect::<Vec<i64>>(), shared_with.0))
            }
            Some(DealScope::All) | None => None,
        };
        let mut sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = $1");
        let mut conditions: Vec<(&str, &(dyn ToSql + Sync))> = Vec::new();
        if let Some(owner) = &owner {
            conditions.push(("owner_id =", owner));
        }
        if let Some(pipeline) = &pipeline {
            conditions.push(("pipeline_id =", pipeline));
        }
        if let Some(account) = &account {
            conditions.push(("account_id =", account));
        }
        if let Some(status) = &status {
            conditions.push(("status =", status));
        }
        if let Some(after) = &after {
            conditions.push(("opportunity_id >", after));
        }
        if let Some(stage) = &stage {
            conditions.push(("stage_id =", stage));
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        for (condition, value) in conditions {
            params.push(value);
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
        let rows = self.query(&sql, &params)?;
        rows.iter().map(read_opportunity).collect()
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
        let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
        // The row lock on the organisation serialises its writers until commit, so sequence
        // order is commit order.
        let row = self.query_opt(
            "UPDATE organisation SET history_seq = history_seq + $2 WHERE organisation_id = $1 RETURNING history_seq",
            &[&org.0, &count],
        )?;
        let Some(row) = row else {
            return Err(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 });
        };
        let last: i64 = Fields::new(&row, "organisation").get("history_seq")?;
        let first = last - count + 1;
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
        let rows = self.query(
            &format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY seq"),
            &[&org.0, &id.0],
        )?;
        Self::history_from_rows(&rows)
    }

    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>> {
        let rows = self.query(
            &format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
            &[&org.0, &after_seq, &i64::from(limit)],
        )?;
        Self::history_from_rows(&rows)
    }

    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>> {
        let rows = self.query(
            &format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = $1 AND at <= $2 ORDER BY seq"),
            &[&org.0, &t.to_jiff()],
        )?;
        Self::history_from_rows(&rows)
    }

    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>> {
        let row = self.query_one(
            "SELECT max(at) AS at FROM opportunity_history WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &id.0],
        )?;
        Fields::new(&row, "opportunity_history").optional_timestamp("at")
    }

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId> {
        let id = self.returned_id(
            "lead",
            "INSERT INTO lead (organisation_id, name, company, email, phone, title, source, status, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING lead_id",
            &[
                &org.0,
                &lead.name,
                &lead.company,
                &lead.email,
                &lead.phone,
                &lead.title,
                &lead.source,
                &lead.status.as_str(),
                &lead.owner_id.map(|id| id.0),
                &at.to_jiff(),
            ],
        )?;
        Ok(LeadId(id))
    }

    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>> {
        let row =
            self.query_opt(&format!("SELECT {LEAD_COLUMNS} FROM lead WHERE organisation_id = $1 AND lead_id = $2"), &[&org.0, &id.0])?;
        row.as_ref().map(read_lead).transpose()
    }

    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId> {
        let id = self.returned_id(
            "activity",
            "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, \
             account_id, opportunity_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING activity_id",
            &[
                &org.0,
                &activity.kind.as_str(),
                &activity.direction.as_str(),
                &activity.occurred_at.to_jiff(),
                &logged_at.to_jiff(),
                &activity.subject,
                &activity.body,
                &activity.source,
                &activity.user_id.map(|id| id.0),
                &activity.account_id.map(|id| id.0),
                &activity.opportunity_id.map(|id| id.0),
            ],
        )?;
        if !activity.contact_ids.is_empty() {
            let contact_ids: Vec<i64> = activity.contact_ids.iter().map(|id| id.0).collect();
            // The join keeps contacts of other organisations out.
            self.execute(
                "INSERT INTO activity_contact (activity_id, contact_id) \
                 SELECT DISTINCT $2::bigint, contact.contact_id FROM contact \
                 WHERE contact.organisation_id = $1 AND contact.contact_id = ANY($3::bigint[])",
                &[&org.0, &id, &contact_ids],
            )?;
        }
        Ok(ActivityId(id))
    }

    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
        let rows = self
            .query(&format!("SELECT {ACTIVITY_COLUMNS} FROM activity WHERE organisation_id = $1 AND activity_id = $2"), &[&org.0, &id.0])?;
        Ok(self.activities_from_rows(org, &rows)?.into_iter().next())
    }

    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
        let rows = self.query(
            &format!(
                "SELECT {ACTIVITY_COLUMNS} FROM activity WHERE organisation_id = $1 AND opportunity_id = $2 \
                 ORDER BY occurred_at DESC, activity_id DESC"
            ),
            &[&org.0, &id.0],
        )?;
        self.activities_from_rows(org, &rows)
    }

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId> {
        let id = self.returned_id(
            "task",
            "INSERT INTO task (organisation_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING task_id",
            &[
                &org.0,
                &task.title,
                &task.owner_id.0,
                &task.due_on,
                &task.completed_at.map(Timestamp::to_jiff),
                &task.account_id.map(|id| id.0),
                &task.opportunity_id.map(|id| id.0),
                &task.lead_id.map(|id| id.0),
                &at.to_jiff(),
            ],
        )?;
        Ok(TaskId(id))
    }

    fn task(&mut self, org: OrgId, id: TaskId) -> Result<Option<Task>> {
        let row =
            self.query_opt(&format!("SELECT {TASK_COLUMNS} FROM task WHERE organisation_id = $1 AND task_id = $2"), &[&org.0, &id.0])?;
        row.as_ref().map(read_task).transpose()
    }

    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>> {
        let owner = filter.owner_id.map(|id| id.0);
        let opportunity = filter.opportunity_id.map(|id| id.0);
        let (scoped, owners, shared_with) = scope_params(filter.scope.as_ref());
        let rows = self.query(
            &format!(
                "SELECT {TASK_COLUMNS} FROM task WHERE organisation_id = $1 AND ($2::bigint IS NULL OR owner_id = $2)
                 AND ($3::bigint IS NULL OR opportunity_id = $3) AND (NOT $4 OR completed_at IS NULL)
                 AND (NOT $5 OR owner_id = ANY($6::bigint[]) OR opportunity_id IN {VISIBLE_DEALS})
                 ORDER BY due_on IS NULL, due_on, task_id"
            ),
            &[&org.0, &owner, &opportunity, &filter.open_only, &scoped, &owners, &shared_with],
        )?;
        rows.iter().map(read_task).collect()
    }

    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
        let sql = |only: &str| {
            format!(
                "SELECT opportunity_id, max(occurred_at) AS last_at FROM activity WHERE organisation_id = $1 AND opportunity_id IS NOT NULL{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            )
        };
        let rows = match deals {
            None => self.query(&sql(""), &[&org.0])?,
            Some(deals) => {
                let ids: Vec<i64> = deals.iter().map(|id| id.0).collect();
                self.query(&sql(" AND opportunity_id = ANY($2)"), &[&org.0, &ids])?
            }
        };
        rows.iter()
            .map(|row| {
                let fields = Fields::new(row, "activity");
                let last: jiff::Timestamp = fields.get("last_at")?;
                Ok((OpportunityId(fields.get("opportunity_id")?), Timestamp::from_jiff(last)))
            })
            .collect()
    }

    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>> {
        let until = until.map(Timestamp::to_jiff);
        let (touch_from, touch_to) = (touch_from.to_jiff(), touch_to.to_jiff());
        let only: Option<Vec<i64>> = deals.map(|deals| deals.iter().map(|id| id.0).collect());
        // The bounds are spelt into the text only when given (no `$n IS NULL OR …`), so a cached
        // generic plan still uses the covering index for the deals named.
        let bounds = |prefix: &str, first: usize| {
            let mut sql = String::new();
            let mut next = first;
            if until.is_some() {
                sql.push_str(&format!(" AND {prefix}occurred_at < ${next} AND {prefix}logged_at < ${next}"));
                next += 1;
            }
            if only.is_some() {
                sql.push_str(&format!(" AND {prefix}opportunity_id = ANY(${next})"));
            }
            sql
        };
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&org.0, &touch_from, &touch_to];
        let mut contact_values: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        if let Some(until) = &until {
            values.push(until);
            contact_values.push(until);
        }
        if let Some(only) = &only {
            values.push(only);
            contact_values.push(only);
        }
        let rows = self.query(
            &format!(
                "SELECT opportunity_id, max(occurred_at) AS last_at, max(occurred_at) FILTER (WHERE direction = 'inbound') AS inbound_at,
                        count(*) FILTER (WHERE direction <> 'internal' AND occurred_at >= $2 AND occurred_at < $3) AS touchpoints,
                        (extract(epoch FROM max(logged_at - occurred_at)) * 1000000)::bigint AS lag
                 FROM activity
                 WHERE organisation_id = $1 AND opportunity_id IS NOT NULL{}
                 GROUP BY opportunity_id ORDER BY opportunity_id",
                bounds("", 4)
            ),
            &values,
        )?;
        let mut aggregates = rows
            .iter()
            .map(|row| {
                let fields = Fields::new(row, "activity");
                let last: jiff::Timestamp = fields.get("last_at")?;
                let inbound: Option<jiff::Timestamp> = fields.get("inbound_at")?;
                let touchpoints: i64 = fields.get("touchpoints")?;
                Ok(ActivityAggregate {
                    opportunity_id: OpportunityId(fields.get("opportunity_id")?),
                    last_occurred: Timestamp::from_jiff(last),
                    last_inbound: inbound.map(Timestamp::from_jiff),
                    touchpoints: touchpoints.clamp(0, i64::from(u32::MAX)) as u32,
                    max_lag_micros: fields.get("lag")?,
                    contacts: 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let contacts: Vec<(i64, i64)> = if only.is_some() {
            // A few deals: their activities by the deal index, then those activities' contact
            // links by the primary key. (Joined in one query, the planner misjudges the rows an
            // `= ANY` list yields and hashes every contact link of the database.)
            let rows = self.query(
                &format!(
                    "SELECT activity_id, opportunity_id FROM activity WHERE organisation_id = $1 AND opportunity_id IS NOT NULL{}",
                    bounds("", 2)
                ),
                &contact_values,
            )?;
            let mut deal_of = std::collections::HashMap::new();
            for row in &rows {
                let fields = Fields::new(row, "activity");
                deal_of.insert(fields.get::<i64>("activity_id")?, fields.get::<i64>("opportunity_id")?);
            }
            let ids: Vec<i64> = deal_of.keys().copied().collect();
            let rows = self.query("SELECT activity_id, contact_id FROM activity_contact WHERE activity_id = ANY($1)", &[&ids])?;
            let mut distinct: std::collections::BTreeMap<i64, std::collections::BTreeSet<i64>> = std::collections::BTreeMap::new();
            for row in &rows {
                let fields = Fields::new(row, "activity_contact");
                if let Some(deal) = deal_of.get(&fields.get::<i64>("activity_id")?) {
                    distinct.entry(*deal).or_default().insert(fields.get::<i64>("contact_id")?);
                }
            }
            distinct.into_iter().map(|(deal, contacts)| (deal, contacts.len() as i64)).collect()
        } else {
            let rows = self.query(
                &format!(
                    "SELECT a.opportunity_id, count(DISTINCT l.contact_id) AS contacts
                     FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id
                     WHERE a.organisation_id = $1 AND a.opportunity_id IS NOT NULL{}
                     GROUP BY a.opportunity_id ORDER BY a.opportunity_id",
                    bounds("a.", 2)
                ),
                &contact_values,
            )?;
            rows.iter()
                .map(|row| {
                    let fields = Fields::new(row, "activity_contact");
                    Ok((fields.get::<i64>("opportunity_id")?, fields.get::<i64>("contacts")?))
                })
                .collect::<Result<Vec<_>>>()?
        };
        pipewise_store::merge_contact_counts(&mut aggregates, contacts);
        Ok(aggregates)
    }

    fn max_activity_id(&mut self) -> Result<ActivityId> {
        let row = self.query_opt("SELECT max(activity_id) AS top FROM activity", &[])?;
        let top = match &row {
            Some(row) => Fields::new(row, "activity").get::<Option<i64>>("top")?,
            None => None,
        };
        Ok(ActivityId(top.unwrap_or(0)))
    }

    fn activities_after(
        &mut self,
        org: OrgId,
        after: ActivityId,
        limit: u32,
    ) -> Result<Vec<(ActivityId, Option<OpportunityId>, Timestamp)>> {
        let rows = self.query(
            "SELECT activity_id, opportunity_id, logged_at FROM activity WHERE activity_id > $2 AND organisation_id = $1
             ORDER BY activity_id LIMIT $3",
            &[&org.0, &after.0, &i64::from(limit)],
        )?;
        rows.iter()
            .map(|row| {
                let fields = Fields::new(row, "activity");
                let logged: jiff::Timestamp = fields.get("logged_at")?;
                Ok((
                    ActivityId(fields.get("activity_id")?),
                    fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
                    Timestamp::from_jiff(logged),
                ))
            })
            .collect()
    }

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        let rows = self.query(&format!("SELECT {LEAD_COLUMNS} FROM lead WHERE organisation_id = $1 ORDER BY lead_id"), &[&org.0])?;
        rows.iter().map(read_lead).collect()
    }

    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
        if rates.is_empty() {
            return Ok(());
        }
        // A rate table has one base; rates quoted against another cannot sit beside them.
        let other_base =
            self.query_opt("SELECT base FROM exchange_rate WHERE organisation_id = $1 AND base <> $2 LIMIT 1", &[&org.0, &base.code()])?;
        if let Some(row) = other_base {
            let stored: String = Fields::new(&row, "exchange_rate").get("base")?;
            return Err(StoreError::Conflict(format!(
                "exchange rates: base: the organisation's rates are quoted against {stored}, not {base}"
            )));
        }
        // One statement may not upsert a key twice: the last rate given for a day wins.
        let mut latest: BTreeMap<(&str, Date), Decimal> = BTreeMap::new();
        for (currency, date, per_base) in rates {
            latest.insert((currency.code(), *date), *per_base);
        }
        let currencies: Vec<&str> = latest.keys().map(|(code, _)| *code).collect();
        let dates: Vec<Date> = latest.keys().map(|(_, date)| *date).collect();
        let per_bases: Vec<String> = latest.values().map(Decimal::to_string).collect();
        self.execute(
            "INSERT INTO exchange_rate (organisation_id, base, currency, rate_date, per_base) \
             SELECT $1::bigint, $2::text, rate.currency, rate.rate_date, rate.per_base::numeric \
             FROM unnest($3::text[], $4::date[], $5::text[]) AS rate (currency, rate_date, per_base) \
             ON CONFLICT (organisation_id, currency, rate_date) DO UPDATE SET base = excluded.base, per_base = excluded.per_base",
            &[&org.0, &base.code(), &currencies, &dates, &per_bases],
        )?;
        Ok(())
    }

    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>> {
        let rows = self.query(
            "SELECT base, currency, rate_date, per_base::text AS per_base FROM exchange_rate \
             WHERE organisation_id = $1 ORDER BY currency, rate_date",
            &[&org.0],
        )?;
        let mut table: Option<RateTable> = None;
        for row in &rows {
            let fields = Fields::new(row, "exchange_rate");
            let base = fields.parsed("base", Currency::from_code)?;
            let table = table.get_or_insert_with(|| RateTable::new(base));
            if table.base() != base {
                return Err(fields.corrupt("base", format!("rates are quoted against both {} and {base}", table.base())));
            }
            let Some(date) = fields.optional_date("rate_date")? else {
                return Err(fields.corrupt("rate_date", "is NULL"));
            };
            table.insert(fields.parsed("currency", Currency::from_code)?, date, fields.decimal("per_base")?);
        }
        Ok(table)
    }

    fn count(&mut self, org: OrgId, kind: RecordKind) -> Result<i64> {
        let table = match kind {
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
        };
        let row = self.query_one(&format!("SELECT count(*) AS n FROM {table} WHERE organisation_id = $1"), &[&org.0])?;
        Fields::new(&row, table).get("n")
    }
    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.execute("UPDATE app_user SET password_hash = $3 WHERE organisation_id = $1 AND user_id = $2", &[&org.0, &user.0, &hash])?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        let row =
            self.query_opt("SELECT user_id, password_hash FROM app_user WHERE organisation_id = $1 AND user_id = $2", &[&org.0, &user.0])?;
        let Some(row) = row else { return Ok(None) };
        let mut fields = Fields::new(&row, "app_user");
        fields.key("user_id")?;
        fields.get("password_hash")
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        // Addresses are stored lower-cased, so a lookup ignores case.
        let rows = self.query(
            &format!("SELECT {USER_COLUMNS}, organisation_id FROM app_user WHERE email = $1 ORDER BY organisation_id, user_id"),
            &[&email.trim().to_lowercase()],
        )?;
        rows.iter()
            .map(|row| {
                let user = read_user(row)?;
                let org = Fields::new(row, "app_user").get("organisation_id")?;
                Ok((OrgId(org), user))
            })
            .collect()
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.execute(
            &format!("INSERT INTO session ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            &[
                &session.token_hash,
                &session.org.0,
                &session.user_id.0,
                &session.csrf_token,
                &session.created_at.to_jiff(),
                &session.last_seen_at.to_jiff(),
                &session.expires_at.to_jiff(),
                &session.client_address,
            ],
        )?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        let row = self.query_opt(&format!("SELECT {SESSION_COLUMNS} FROM session WHERE token_hash = $1"), &[&token_hash])?;
        row.as_ref().map(read_session).transpose()
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE session SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1",
            &[&token_hash, &last_seen_at.to_jiff(), &expires_at.to_jiff()],
        )?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.execute("DELETE FROM session WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()> {
        self.execute(
            "DELETE FROM session WHERE organisation_id = $1 AND user_id = $2 AND token_hash IS DISTINCT FROM $3::text",
            &[&org.0, &user.0, &except],
        )?;
        Ok(())
    }

    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64> {
        self.returned_id(
            "api_token",
            "INSERT INTO api_token (organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING api_token_id",
            &[
                &token.org.0,
                &token.user_id.0,
                &token.name,
                &token.token_hash,
                &token.prefix,
                &token.created_at.to_jiff(),
                &token.last_used_at.map(Timestamp::to_jiff),
                &token.revoked_at.map(Timestamp::to_jiff),
            ],
        )
    }

    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row = self.query_opt(&format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE token_hash = $1"), &[&token_hash])?;
        row.as_ref().map(read_api_token).transpose()
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        let rows = self.query(
            &format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE organisation_id = $1 AND user_id = $2 ORDER BY api_token_id"),
            &[&org.0, &user.0],
        )?;
        rows.iter().map(read_api_token).collect()
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.execute("UPDATE api_token SET last_used_at = $2 WHERE api_token_id = $1", &[&id, &at.to_jiff()])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        let revoked = self.execute(
            "UPDATE api_token SET revoked_at = $4 \
             WHERE organisation_id = $1 AND user_id = $2 AND api_token_id = $3 AND revoked_at IS NULL",
            &[&org.0, &user.0, &id, &at.to_jiff()],
        )?;
        Ok(revoked == 1)
    }

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()> {
        self.execute(
            "INSERT INTO login_attempt (email, client_address, at, succeeded) VALUES ($1, $2, $3, $4)",
            &[&email.trim().to_lowercase(), &client_address, &at.to_jiff(), &succeeded],
        )?;
        Ok(())
    }

    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
        // Two subqueries, so each count walks its own index.
        let row = self.query_one(
            "SELECT \
             (SELECT count(*) FROM login_attempt WHERE email = $1 AND at >= $3 AND NOT succeeded) AS by_email, \
             (SELECT count(*) FROM login_attempt WHERE client_address = $2 AND at >= $3 AND NOT succeeded) AS by_client",
            &[&email.trim().to_lowercase(), &client_address, &since.to_jiff()],
        )?;
        let fields = Fields::new(&row, "login_attempt");
        Ok((fields.get("by_email")?, fields.get("by_client")?))
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
        let row = self.query_one(
            "SELECT EXISTS (SELECT 1 FROM opportunity_share WHERE organisation_id = $1 AND opportunity_id = $2 AND user_id = $3) \
             AS shared",
            &[&org.0, &id.0, &user.0],
        )?;
        Fields::new(&row, "opportunity_share").get("shared")
    }

    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>> {
        let rows = self.query(
            "SELECT opportunity_id, user_id, shared_by, shared_at FROM opportunity_share \
             WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY user_id",
            &[&org.0, &id.0],
        )?;
        rows.iter()
            .map(|row| {
                let fields = Fields::new(row, "opportunity_share");
                Ok(OpportunityShare {
                    opportunity_id: OpportunityId(fields.get("opportunity_id")?),
                    user_id: UserId(fields.get("user_id")?),
                    shared_by: fields.get::<Option<i64>>("shared_by")?.map(UserId),
                    shared_at: fields.timestamp("shared_at")?,
                })
            })
            .collect()
    }

    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let removed = self.execute(
            "DELETE FROM opportunity_share WHERE organisation_id = $1 AND opportunity_id = $2 AND user_id = $3",
            &[&org.0, &id.0, &user.0],
        )?;
        Ok(removed > 0)
    }

    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()> {
        self.execute(
            "INSERT INTO audit_event (organisation_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &org.0,
                &entry.at.to_jiff(),
                &entry.actor_id.map(|id| id.0),
                &entry.source.as_str(),
                &entry.record_kind,
                &entry.record_id,
                &entry.action,
                &entry.before,
                &entry.after,
            ],
        )?;
        Ok(())
    }

    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let actor = filter.actor_id.map(|id| id.0);
        let limit = i64::from(filter.limit);
        let mut sql = format!("SELECT {AUDIT_EVENT_COLUMNS} FROM audit_event WHERE organisation_id = $1");
        let mut conditions: Vec<(&str, &(dyn ToSql + Sync))> = Vec::new();
        if let Some(actor) = &actor {
            conditions.push(("actor_id =", actor));
        }
        if let Some(kind) = &filter.record_kind {
            conditions.push(("record_kind =", kind));
        }
        if let Some(record_id) = &filter.record_id {
            conditions.push(("record_id =", record_id));
        }
        if let Some(before) = &filter.before_id {
            conditions.push(("audit_event_id <", before));
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        for (condition, value) in conditions {
            params.push(value);
            sql.push_str(&format!(" AND {condition} ${}", params.len()));
        }
        params.push(&limit);
        sql.push_str(&format!(" ORDER BY audit_event_id DESC LIMIT ${}", params.len()));
        let rows = self.query(&sql, &params)?;
        rows.iter().map(read_audit_event).collect()
    }

    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()> {
        let updated = self.execute(
            "UPDATE app_user SET email = $3, name = $4, role = $5, manager_id = $6, team_id = $7, time_zone = $8, locale = $9, \
             active = $10 WHERE organisation_id = $1 AND user_id = $2",
            &[
                &org.0,
                &user.id.0,
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.manager_id.map(|id| id.0),
                &user.team_id.map(|id| id.0),
                &user.time_zone,
                &user.locale.as_str(),
                &user.active,
            ],
        );
        let updated = match updated {
            Err(StoreError::Conflict(_)) => {
                return Err(StoreError::Conflict(format!("user {}: email: {} already belongs to another user", user.id, user.email)));
            }
            other => other?,
        };
        found(updated, UserId::LABEL, user.id.0)
    }

    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()> {
        let updated = self.execute(
            "UPDATE team SET name = $3, manager_id = $4 WHERE organisation_id = $1 AND team_id = $2",
            &[&org.0, &team.id.0, &team.name, &team.manager_id.map(|id| id.0)],
        )?;
        found(updated, TeamId::LABEL, team.id.0)
    }

    fn update_account(&mut self, org: OrgId, account: &Account) -> Result<()> {
        // A savepoint lets a taken domain undo the whole change and leave the transaction usable.
        self.simple("SAVEPOINT update_account")?;
        let updated = self.execute(
            "UPDATE account SET name = $3, industry = $4, employee_count = $5, region = $6, owner_id = $7 \
             WHERE organisation_id = $1 AND account_id = $2",
            &[
                &org.0,
                &account.id.0,
                &account.name,
                &account.industry,
                &account.employee_count,
                &account.region,
                &account.owner_id.map(|id| id.0),
            ],
        )?;
        if updated == 0 {
            self.simple("ROLLBACK TO SAVEPOINT update_account; RELEASE SAVEPOINT update_account")?;
            return Err(StoreError::NotFound { kind: AccountId::LABEL, id: account.id.0 });
        }
        self.execute("DELETE FROM account_domain WHERE organisation_id = $1 AND account_id = $2", &[&org.0, &account.id.0])?;
        let inserted = self.query(
            "INSERT INTO account_domain (organisation_id, domain, account_id, position) \
             SELECT $1, domain, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (domain, position) \
             ON CONFLICT (organisation_id, domain) DO NOTHING RETURNING domain",
            &[&org.0, &account.id.0, &account.domains],
        )?;
        let inserted: HashSet<String> =
            inserted.iter().map(|row| Fields::new(row, "account_domain").get::<String>("domain")).collect::<Result<_>>()?;
        if let Some(taken) = account.domains.iter().find(|domain| !inserted.contains(*domain)) {
            self.simple("ROLLBACK TO SAVEPOINT update_account; RELEASE SAVEPOINT update_account")?;
            return Err(StoreError::Conflict(format!("account {}: domains: {taken} already belongs to another account", account.id)));
        }
        self.simple("RELEASE SAVEPOINT update_account")?;
        Ok(())
    }

    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()> {
        let updated = self.execute(
            "UPDATE contact SET name = $3, phone = $4, title = $5, account_id = $6 WHERE organisation_id = $1 AND contact_id = $2",
            &[&org.0, &contact.id.0, &contact.name, &contact.phone, &contact.title, &contact.account_id.map(|id| id.0)],
        )?;
        found(updated, ContactId::LABEL, contact.id.0)?;
        self.execute("DELETE FROM contact_email WHERE organisation_id = $1 AND contact_id = $2", &[&org.0, &contact.id.0])?;
        self.execute(
            "INSERT INTO contact_email (organisation_id, email, contact_id, position) \
             SELECT $1, email, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (email, position)",
            &[&org.0, &contact.id.0, &contact.emails],
        )?;
        Ok(())
    }

    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()> {
        let updated = self.execute(
            "UPDATE lead SET name = $3, company = $4, email = $5, phone = $6, title = $7, source = $8, status = $9, owner_id = $10 \
             WHERE organisation_id = $1 AND lead_id = $2",
            &[
                &org.0,
                &lead.id.0,
                &lead.name,
                &lead.company,
                &lead.email,
                &lead.phone,
                &lead.title,
                &lead.source,
                &lead.status.as_str(),
                &lead.owner_id.map(|id| id.0),
            ],
        )?;
        found(updated, LeadId::LABEL, lead.id.0)
    }

    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()> {
        let updated = self.execute(
            "UPDATE task SET title = $3, owner_id = $4, due_on = $5, completed_at = $6 WHERE organisation_id = $1 AND task_id = $2",
            &[&org.0, &task.id.0, &task.title, &task.owner_id.0, &task.due_on, &task.completed_at.map(Timestamp::to_jiff)],
        )?;
        found(updated, TaskId::LABEL, task.id.0)
    }

    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>> {
        let opportunity = filter.opportunity_id.map(|id| id.0);
        let account = filter.account_id.map(|id| id.0);
        let user = filter.user_id.map(|id| id.0);
        let (scoped, owners, shared_with) = scope_params(filter.scope.as_ref());
        let rows = self.query(
            &format!(
                "SELECT {ACTIVITY_COLUMNS} FROM activity WHERE organisation_id = $1 AND ($2::bigint IS NULL OR opportunity_id = $2) \
                 AND ($3::bigint IS NULL OR account_id = $3) AND ($4::bigint IS NULL OR user_id = $4) \
                 AND (NOT $5 OR user_id = ANY($6::bigint[]) OR opportunity_id IN {VISIBLE_DEALS}) ORDER BY activity_id"
            ),
            &[&org.0, &opportunity, &account, &user, &scoped, &owners, &shared_with],
        )?;
        self.activities_from_rows(org, &rows)
    }

    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = pipewise_store::ops::origin_parts(criterion.origin);
        self.returned_id(
            "exit_criterion",
            "INSERT INTO exit_criterion (organisation_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING exit_criterion_id",
            &[
                &org.0,
                &criterion.stage_id.0,
                &criterion.label_en,
                &criterion.label_ko,
                &criterion.kind.kind_str(),
                &criterion.kind.argument(),
                &origin,
                &origin_opportunity.map(|id| id.0),
                &at.to_jiff(),
            ],
        )
    }

    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>> {
        let row = self.query_opt(
            &format!("SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = $1 AND exit_criterion_id = $2"),
            &[&org.0, &id],
        )?;
        row.as_ref().map(read_criterion).transpose()
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        let rows = self.query(
            &format!(
                "SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = $1 AND archived_at IS NULL \
                 AND stage_id IN (SELECT stage_id FROM stage WHERE organisation_id = $1 AND pipeline_id = $2) \
                 ORDER BY exit_criterion_id"
            ),
            &[&org.0, &pipeline.0],
        )?;
        rows.iter().map(|row| read_criterion(row).map(|(criterion, _)| criterion)).collect()
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let updated = self.execute(
            "UPDATE exit_criterion SET archived_at = $3 WHERE organisation_id = $1 AND exit_criterion_id = $2",
            &[&org.0, &id, &at.to_jiff()],
        )?;
        found(updated, gates::CRITERION_LABEL, id)
    }

    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64> {
        self.returned_id(
            "criterion_check",
            "INSERT INTO criterion_check (organisation_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING criterion_check_id",
            &[
                &org.0,
                &entry.opportunity_id.0,
                &entry.criterion_id,
                &entry.checked,
                &entry.evidence,
                &entry.at.to_jiff(),
                &entry.actor_id.map(|id| id.0),
                &entry.source.as_str(),
            ],
        )
    }

    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>> {
        let rows = self.query(
            "SELECT criterion_check_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source FROM criterion_check \
             WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY criterion_check_id",
            &[&org.0, &opportunity.0],
        )?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "criterion_check");
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
            })
            .collect()
    }

    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64> {
        self.returned_id(
            "gate_override",
            "INSERT INTO gate_override (organisation_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, \
             source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING gate_override_id",
            &[
                &org.0,
                &opportunity.0,
                &record.by.map(|id| id.0),
                &record.at.to_jiff(),
                &record.reason,
                &record.from_stage_id.0,
                &record.to_stage_id.0,
                &workspace_codec::unmet_to_json(&record.unmet),
                &source.as_str(),
            ],
        )
    }

    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>> {
        let rows = self.query(
            "SELECT gate_override_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source \
             FROM gate_override WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY gate_override_id",
            &[&org.0, &opportunity.0],
        )?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "gate_override");
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
                        unmet: workspace_codec::unmet_from_json(&unmet).map_err(|detail| fields.corrupt("unmet_json", detail))?,
                    },
                })
            })
            .collect()
    }

    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        let row = self.query_opt(
            "SELECT document FROM deal_workspace WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &opportunity.0],
        )?;
        row.as_ref().map(|row| Fields::new(row, "deal_workspace").get("document")).transpose()
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO deal_workspace (opportunity_id, organisation_id, document, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (opportunity_id) DO UPDATE SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at \
             WHERE deal_workspace.organisation_id = EXCLUDED.organisation_id",
            &[&opportunity.0, &org.0, &document, &at.to_jiff()],
        )?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.returned_id(
            "workspace_history",
            "INSERT INTO workspace_history (organisation_id, opportunity_id, part, old_json, new_json, at, actor_id, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING workspace_history_id",
            &[
                &org.0,
                &change.opportunity_id.0,
                &change.part,
                &change.old_json,
                &change.new_json,
                &change.at.to_jiff(),
                &change.actor_id.map(|id| id.0),
                &change.source.as_str(),
            ],
        )
    }

    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>> {
        let rows = self.query(
            "SELECT workspace_history_id, opportunity_id, part, old_json, new_json, at, actor_id, source FROM workspace_history \
             WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY workspace_history_id",
            &[&org.0, &opportunity.0],
        )?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "workspace_history");
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
            })
            .collect()
    }

    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64> {
        self.returned_id(
            "handoff",
            "INSERT INTO handoff (organisation_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING handoff_id",
            &[
                &org.0,
                &handoff.opportunity_id.0,
                &handoff.from_user_id.0,
                &handoff.to_user_id.0,
                &handoff.actor_id.map(|id| id.0),
                &handoff.stage_id.0,
                &handoff.at.to_jiff(),
                &handoff.source.as_str(),
                &handoff.note,
            ],
        )
    }

    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>> {
        let rows = self.query(
            &format!("SELECT {HANDOFF_COLUMNS} FROM handoff WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY handoff_id"),
            &[&org.0, &opportunity.0],
        )?;
        rows.iter().map(handoff_from_row).collect()
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        let rows =
            self.query(&format!("SELECT {HANDOFF_COLUMNS} FROM handoff WHERE organisation_id = $1 ORDER BY handoff_id"), &[&org.0])?;
        rows.iter().map(handoff_from_row).collect()
    }

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks> {
        let row = self.query_opt(
            "SELECT sql_at, dropped_at, drop_reason FROM opportunity WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &opportunity.0],
        )?;
        let row = row.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.0 })?;
        let fields = Fields::new(&row, "opportunity");
        Ok(OpportunityMarks {
            sql_at: fields.optional_timestamp("sql_at")?,
            dropped_at: fields.optional_timestamp("dropped_at")?,
            drop_reason: fields.get("drop_reason")?,
        })
    }

    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()> {
        let updated = self.execute(
            "UPDATE opportunity SET sql_at = $3, dropped_at = $4, drop_reason = $5 WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &opportunity.0, &marks.sql_at.map(Timestamp::to_jiff), &marks.dropped_at.map(Timestamp::to_jiff), &marks.drop_reason],
        )?;
        found(updated, OpportunityId::LABEL, opportunity.0)
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let row = self.query_opt("SELECT average_cycle_days FROM team WHERE organisation_id = $1 AND team_id = $2", &[&org.0, &team.0])?;
        let Some(row) = row else { return Ok(None) };
        let fields = Fields::new(&row, "team");
        let days: Option<i32> = fields.get("average_cycle_days")?;
        days.map(|days| u32::try_from(days).map_err(|_| fields.corrupt("average_cycle_days", days))).transpose()
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let days = days.map(|days| i32::try_from(days).unwrap_or(i32::MAX));
        let updated =
            self.execute("UPDATE team SET average_cycle_days = $3 WHERE organisation_id = $1 AND team_id = $2", &[&org.0, &team.0, &days])?;
        found(updated, TeamId::LABEL, team.0)
    }

    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>> {
        let row = self.query_opt("SELECT thresholds, updated_at, updated_by FROM health_settings WHERE organisation_id = $1", &[&org.0])?;
        let Some(row) = row else { return Ok(None) };
        let fields = Fields::new(&row, "health_settings");
        let updated_by: Option<i64> = fields.get("updated_by")?;
        Ok(Some(StoredHealthSettings {
            document: fields.get("thresholds")?,
            updated_at: fields.timestamp("updated_at")?,
            updated_by: updated_by.map(UserId),
        }))
    }

    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()> {
        self.execute(
            "INSERT INTO health_settings (organisation_id, thresholds, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organisation_id) DO UPDATE \
             SET thresholds = EXCLUDED.thresholds, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
            &[&org.0, &settings.document, &settings.updated_at.to_jiff(), &settings.updated_by.map(|id| id.0)],
        )?;
        Ok(())
    }

    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)> {
        // Epochs of timestamptz are exact numerics with microseconds: no float on the way.
        let row = self.query_one(
            "SELECT COUNT(*) AS deals, \
                    COALESCE(SUM((EXTRACT(EPOCH FROM opportunity.closed_at) - EXTRACT(EPOCH FROM opportunity.created_at)) * 1000000), 0)::bigint \
                    AS total_micros \
             FROM opportunity JOIN app_user ON app_user.user_id = opportunity.owner_id \
             WHERE opportunity.organisation_id = $1 AND app_user.team_id = $2 AND opportunity.status = 'won' \
               AND opportunity.closed_at IS NOT NULL",
            &[&org.0, &team.0],
        )?;
        let fields = Fields::new(&row, "opportunity");
        Ok((fields.get("deals")?, fields.get("total_micros")?))
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let updated = self.execute(
            "UPDATE pipeline SET name = $3, entry_stage_id = $4 WHERE organisation_id = $1 AND pipeline_id = $2",
            &[&org.0, &id.0, &name, &entry_stage_id.0],
        )?;
        found(updated, PipelineId::LABEL, id.0)
    }

    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId> {
        let id = self.returned_id(
            "stage",
            "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability, \
             forecast_category, counts_in_metrics, rotting_days) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), -1) + 1 FROM stage WHERE pipeline_id = $2), $3, $4, $5, $6::text::numeric, \
             $7, $8, $9) RETURNING stage_id",
            &[
                &org.0,
                &pipeline.0,
                &stage.name_en,
                &stage.name_ko,
                &stage.kind.as_str(),
                &stage.win_probability.to_string(),
                &stage.forecast_category.as_str(),
                &stage.counts_in_metrics,
                &stage.rotting_days,
            ],
        )?;
        Ok(StageId(id))
    }

    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()> {
        let updated = self.execute(
            "UPDATE stage SET name_en = $3, name_ko = $4, win_probability = $5::text::numeric, forecast_category = $6, \
             counts_in_metrics = $7, rotting_days = $8, archived_at = $9 WHERE organisation_id = $1 AND stage_id = $2",
            &[
                &org.0,
                &stage.id.0,
                &stage.name_en,
                &stage.name_ko,
                &stage.win_probability.to_string(),
                &stage.forecast_category.as_str(),
                &stage.counts_in_metrics,
                &stage.rotting_days,
                &stage.archived_at.map(Timestamp::to_jiff),
            ],
        )?;
        found(updated, StageId::LABEL, stage.id.0)
    }

    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()> {
        // Positions are unique per pipeline: park every stage on a negative position first.
        self.execute("UPDATE stage SET position = -1 - position WHERE organisation_id = $1 AND pipeline_id = $2", &[&org.0, &pipeline.0])?;
        for (index, stage) in order.iter().enumerate() {
            let position = i32::try_from(index).unwrap_or(i32::MAX);
            let updated = self.execute(
                "UPDATE stage SET position = $4 WHERE organisation_id = $1 AND pipeline_id = $2 AND stage_id = $3",
                &[&org.0, &pipeline.0, &stage.0, &position],
            )?;
            found(updated, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }

    // Bulk loading: one multi-row `INSERT … SELECT … FROM unnest(…)` per call, every column
    // travelling as one array parameter. Ids are reserved from the identity sequence first (one
    // statement), so the caller learns each row's id in slice order, and the rows are inserted
    // with `OVERRIDING SYSTEM VALUE`.

    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
        if opportunities.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.reserve_ids("opportunity", "opportunity_id", opportunities.len())?;
        let names: Vec<&str> = opportunities.iter().map(|deal| deal.name.as_str()).collect();
        let accounts: Vec<Option<i64>> = opportunities.iter().map(|deal| deal.account_id.map(|id| id.0)).collect();
        let owners: Vec<i64> = opportunities.iter().map(|deal| deal.owner_id.0).collect();
        let pipelines: Vec<i64> = opportunities.iter().map(|deal| deal.pipeline_id.0).collect();
        let stages: Vec<i64> = opportunities.iter().map(|deal| deal.stage_id.0).collect();
        let amounts: Vec<Option<String>> = opportunities.iter().map(|deal| deal.amount.map(|money| money.amount().to_string())).collect();
        let currencies: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.amount.map(|money| money.currency().code())).collect();
        let close_dates: Vec<Option<Date>> = opportunities.iter().map(|deal| deal.close_date).collect();
        let categories: Vec<&str> = opportunities.iter().map(|deal| deal.forecast_category.as_str()).collect();
        let next_steps: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.next_step.as_deref()).collect();
        let statuses: Vec<&str> = opportunities.iter().map(|deal| deal.status.as_str()).collect();
        let created: Vec<jiff::Timestamp> = opportunities.iter().map(|deal| deal.created_at.to_jiff()).collect();
        let closed: Vec<Option<jiff::Timestamp>> = opportunities.iter().map(|deal| deal.closed_at.map(Timestamp::to_jiff)).collect();
        let reasons: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.close_reason.as_deref()).collect();
        self.execute(
            "INSERT INTO opportunity (opportunity_id, organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount,              currency, close_date, forecast_category, next_step, status, created_at, closed_at, close_reason) OVERRIDING SYSTEM VALUE              SELECT id, $1::bigint, name, account_id, owner_id, pipeline_id, stage_id, amount::numeric, currency, close_date,              forecast_category, next_step, status, created_at, closed_at, close_reason              FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[],              $10::date[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[])              AS deal (id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date, forecast_category,              next_step, status, created_at, closed_at, close_reason)",
            &[
                &org.0,
                &ids,
                &names,
                &accounts,
                &owners,
                &pipelines,
                &stages,
                &amounts,
                &currencies,
                &close_dates,
                &categories,
                &next_steps,
                &statuses,
                &created,
                &closed,
                &reasons,
            ],
        )?;
        Ok(ids.into_iter().map(OpportunityId).collect())
    }

    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>> {
        if events.is_empty() {
            return Ok(0..0);
        }
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        // The same counter row as `append_history`: its lock serialises the organisation's
        // writers until commit, so sequence order stays commit order.
        let row = self.query_opt(
            "UPDATE organisation SET history_seq = history_seq + $2 WHERE organisation_id = $1 RETURNING history_seq",
            &[&org.0, &count],
        )?;
        let Some(row) = row else {
            return Err(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 });
        };
        let last: i64 = Fields::new(&row, "organisation").get("history_seq")?;
        let first = last - count + 1;
        let deals: Vec<i64> = events.iter().map(|event| event.opportunity_id.0).collect();
        let fields: Vec<&str> = events.iter().map(|event| event.change.field.as_str()).collect();
        let old_values: Vec<Option<&str>> = events.iter().map(|event| event.change.old.as_deref()).collect();
        let new_values: Vec<Option<&str>> = events.iter().map(|event| event.change.new.as_deref()).collect();
        let times: Vec<jiff::Timestamp> = events.iter().map(|event| event.at.to_jiff()).collect();
        let actors: Vec<Option<i64>> = events.iter().map(|event| event.actor_id.map(|id| id.0)).collect();
        let sources: Vec<&str> = events.iter().map(|event| event.source.as_str()).collect();
        self.execute(
            "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)              SELECT $1::bigint, $2::bigint + event.position - 1, event.opportunity_id, event.field, event.old_value, event.new_value,              event.at, event.actor_id, event.source              FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bigint[], $9::text[])              WITH ORDINALITY AS event (opportunity_id, field, old_value, new_value, at, actor_id, source, position)",
            &[&org.0, &first, &deals, &fields, &old_values, &new_values, &times, &actors, &sources],
        )?;
        Ok(first..last + 1)
    }

    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
        if activities.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.reserve_ids("activity", "activity_id", activities.len())?;
        let kinds: Vec<&str> = activities.iter().map(|(activity, _)| activity.kind.as_str()).collect();
        let directions: Vec<&str> = activities.iter().map(|(activity, _)| activity.direction.as_str()).collect();
        let occurred: Vec<jiff::Timestamp> = activities.iter().map(|(activity, _)| activity.occurred_at.to_jiff()).collect();
        let logged: Vec<jiff::Timestamp> = activities.iter().map(|(_, logged_at)| logged_at.to_jiff()).collect();
        let subjects: Vec<&str> = activities.iter().map(|(activity, _)| activity.subject.as_str()).collect();
        let bodies: Vec<Option<&str>> = activities.iter().map(|(activity, _)| activity.body.as_deref()).collect();
        let sources: Vec<&str> = activities.iter().map(|(activity, _)| activity.source.as_str()).collect();
        let users: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.user_id.map(|id| id.0)).collect();
        let accounts: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.account_id.map(|id| id.0)).collect();
        let deals: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.opportunity_id.map(|id| id.0)).collect();
        self.execute(
            "INSERT INTO activity (activity_id, organisation_id, kind, direction, occurred_at, logged_at, subject, body, source,              user_id, account_id, opportunity_id) OVERRIDING SYSTEM VALUE              SELECT id, $1::bigint, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id              FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],              $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])              AS activity (id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)",
            &[&org.0, &ids, &kinds, &directions, &occurred, &logged, &subjects, &bodies, &sources, &users, &accounts, &deals],
        )?;
        let mut link_activities: Vec<i64> = Vec::new();
        let mut link_contacts: Vec<i64> = Vec::new();
        let mut contacts: Vec<i64> = Vec::new();
        for ((activity, _), id) in activities.iter().zip(&ids) {
            contacts.clear();
            contacts.extend(activity.contact_ids.iter().map(|contact| contact.0));
            contacts.sort_unstable();
            contacts.dedup();
            link_activities.extend(std::iter::repeat_n(*id, contacts.len()));
            link_contacts.extend(&contacts);
        }
        if !link_activities.is_empty() {
            // The join keeps contacts of other organisations out, as `insert_activity` does.
            self.execute(
                "INSERT INTO activity_contact (activity_id, contact_id)                  SELECT link.activity_id, contact.contact_id FROM unnest($2::bigint[], $3::bigint[]) AS link (activity_id, contact_id)                  JOIN contact ON contact.organisation_id = $1 AND contact.contact_id = link.contact_id",
                &[&org.0, &link_activities, &link_contacts],
            )?;
        }
        Ok(ids.into_iter().map(ActivityId).collect())
    }

    fn database_size(&mut self) -> Result<u64> {
        let row = self.query_one("SELECT pg_database_size(current_database()) AS bytes", &[])?;
        let bytes: i64 = Fields::new(&row, "pg_database").get("bytes")?;
        Ok(bytes.max(0) as u64)
    }
}

impl PgTx<'_> {
    /// Takes `n` values of `table.column`'s identity sequence in one statement, ascending.
    fn reserve_ids(&mut self, table: &'static str, column: &str, n: usize) -> Result<Vec<i64>> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let rows =
            self.query("SELECT nextval(pg_get_serial_sequence($1, $2)) AS id FROM generate_series(1, $3::bigint)", &[&table, &column, &n])?;
        let mut ids = rows.iter().map(|row| Fields::new(row, table).get::<i64>("id")).collect::<Result<Vec<i64>>>()?;
        ids.sort_unstable();
        Ok(ids)
    }
}

impl Drop for PgTx<'_> {
    /// Rolls back a transaction that was not committed, and keeps the connection only when the
    /// rollback worked.
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        match connection.client.batch_execute("ROLLBACK") {
            Ok(()) => self.pool.give_back(connection),
            Err(_) => {
                drop(connection);
                self.pool.forget_one();
            }
        }
    }
}

/// Texts of a child table (domains, e-mails) grouped by their parent's id, in row order.
fn group_texts(rows: &[Row], table: &'static str, parent_column: &str, text_column: &str) -> Result<HashMap<i64, Vec<String>>> {
    let mut grouped: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        let fields = Fields::new(row, table);
        grouped.entry(fields.get(parent_column)?).or_default().push(fields.get(text_column)?);
    }
    Ok(grouped)
}

fn read_organisation(row: &Row) -> Result<Organisation> {
    let mut fields = Fields::new(row, "organisation");
    Ok(Organisation {
        id: OrgId(fields.key("organisation_id")?),
        name: fields.get("name")?,
        reporting_currency: fields.parsed("reporting_currency", Currency::from_code)?,
        created_at: fields.timestamp("created_at")?,
    })
}

fn read_user(row: &Row) -> Result<User> {
    let mut fields = Fields::new(row, "app_user");
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

fn read_team(row: &Row) -> Result<Team> {
    let mut fields = Fields::new(row, "team");
    Ok(Team {
        id: TeamId(fields.key("team_id")?),
        name: fields.get("name")?,
        manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
    })
}

fn read_stage(row: &Row) -> Result<Stage> {
    let mut fields = Fields::new(row, "stage");
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

fn read_criterion(row: &Row) -> Result<(ExitCriterion, Option<Timestamp>)> {
    let mut fields = Fields::new(row, "exit_criterion");
    let id = fields.key("exit_criterion_id")?;
    let kind: String = fields.get("kind")?;
    let argument: Option<String> = fields.get("argument")?;
    let kind = CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| fields.corrupt("argument", problem))?;
    let origin: String = fields.get("origin")?;
    let origin_opportunity = fields.get::<Option<i64>>("origin_opportunity_id")?.map(OpportunityId);
    let origin = pipewise_store::ops::origin_from_parts(&origin, origin_opportunity).map_err(|detail| fields.corrupt("origin", detail))?;
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

fn read_opportunity(row: &Row) -> Result<Opportunity> {
    let mut fields = Fields::new(row, "opportunity");
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

fn read_history_event(row: &Row) -> Result<HistoryEvent> {
    let mut fields = Fields::new(row, "opportunity_history");
    let seq = fields.key("seq")?;
    let field = fields.parsed("field", |text| {
        OppField::parse_event(text).ok_or_else(|| Problem::Invalid { value: text.to_owned(), expected: "an opportunity field" })
    })?;
    Ok(HistoryEvent {
        seq,
        opportunity_id: OpportunityId(fields.get("opportunity_id")?),
        field,
        old: fields.get("old_value")?,
        new: fields.get("new_value")?,
        at: fields.timestamp("at")?,
        actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
        source: fields.parsed("source", Source::parse)?,
    })
}

fn read_lead(row: &Row) -> Result<Lead> {
    let mut fields = Fields::new(row, "lead");
    Ok(Lead {
        id: LeadId(fields.key("lead_id")?),
        name: fields.get("name")?,
        company: fields.get("company")?,
        email: fields.get("email")?,
        phone: fields.get("phone")?,
        title: fields.get("title")?,
        source: fields.get("source")?,
        status: fields.parsed("status", LeadStatus::parse)?,
        owner_id: fields.get::<Option<i64>>("owner_id")?.map(UserId),
        created_at: fields.timestamp("created_at")?,
    })
}

fn read_task(row: &Row) -> Result<Task> {
    let mut fields = Fields::new(row, "task");
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

fn read_session(row: &Row) -> Result<Session> {
    // No key for error messages: the token hash is as good as the cookie for looking one up.
    let fields = Fields::new(row, "session");
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

fn read_api_token(row: &Row) -> Result<ApiToken> {
    let mut fields = Fields::new(row, "api_token");
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

fn read_audit_event(row: &Row) -> Result<AuditEvent> {
    let mut fields = Fields::new(row, "audit_event");
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

/// `Ok` when an update changed a row, else `NotFound`.
fn found(updated: u64, kind: &'static str, id: i64) -> Result<()> {
    if updated == 0 { Err(StoreError::NotFound { kind, id }) } else { Ok(()) }
}

/// The deals of a scope's owners (`$6`) and those shared with its reader (`$7`); `$1` is the
/// organisation.
const VISIBLE_DEALS: &str = "(SELECT opportunity_id FROM opportunity WHERE organisation_id = $1 AND (owner_id = ANY($6::bigint[]) \
     OR opportunity_id IN (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = $1 AND user_id = $7)))";

/// `(restricted, owners, shared_with)` for the `$5`, `$6`, `$7` of a scoped task or activity
/// query; unrestricted for no scope or [`DealScope::All`].
fn scope_params(scope: Option<&DealScope>) -> (bool, Vec<i64>, i64) {
    match scope {
        Some(DealScope::Owners { owners, shared_with }) => (true, owners.iter().map(|owner| owner.0).collect(), shared_with.0),
        Some(DealScope::All) | None => (false, Vec::new(), 0),
    }
}

const HANDOFF_COLUMNS: &str = "handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note";

fn handoff_from_row(row: &Row) -> Result<Handoff> {
    let mut fields = Fields::new(row, "handoff");
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
