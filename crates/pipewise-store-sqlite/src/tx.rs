//! One SQLite transaction: the primitive row operations of [`Tx`].

use std::sync::MutexGuard;

use pipewise_core::access::DealScope;
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
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::rows::*;

pub(crate) enum Conn<'a> {
    Writer(MutexGuard<'a, Connection>),
    Reader { store: &'a SqliteStore, connection: Option<Connection> },
}

pub(crate) struct SqliteTx<'a> {
    conn: Conn<'a>,
    finished: bool,
}

impl<'a> SqliteTx<'a> {
    pub(crate) fn new(conn: Conn<'a>) -> SqliteTx<'a> {
        SqliteTx { conn, finished: false }
    }

    fn db(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(guard) => guard,
            Conn::Reader { connection, .. } => connection.as_ref().expect("a reader holds its connection until dropped"),
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Rolling back can only fail if no transaction is open, which is what we want anyway.
            let _ = self.db().execute_batch("ROLLBACK");
        }
        if let Conn::Reader { store, connection } = &mut self.conn
            && let Some(connection) = connection.take()
        {
            store.return_reader(connection);
        }
    }
}

fn db_err(error: rusqlite::Error) -> StoreError {
    StoreError::database(error)
}

const USER_COLUMNS: &str = "user_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at";
const OPPORTUNITY_COLUMNS: &str = "opportunity_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date, \
     forecast_category, next_step, status, created_at, closed_at, close_reason";
const HISTORY_COLUMNS: &str = "seq, opportunity_id, field, old_value, new_value, at, actor_id, source";

fn user_row(row: &Row<'_>) -> rusqlite::Result<(User, String, String)> {
    let role: String = row.get(3)?;
    let locale: String = row.get(7)?;
    let user = User {
        id: UserId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        role: Role::Viewer,
        manager_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        team_id: row.get::<_, Option<i64>>(5)?.map(TeamId),
        time_zone: row.get(6)?,
        locale: Locale::En,
        active: row.get(8)?,
        created_at: timestamp(row.get(9)?),
    };
    Ok((user, role, locale))
}

fn finish_user((mut user, role, locale): (User, String, String)) -> Result<User> {
    user.role = parsed("app_user", &role, Role::parse)?;
    user.locale = parsed("app_user", &locale, Locale::parse)?;
    Ok(user)
}

/// Raw opportunity columns; decoding that can fail happens in [`finish_opportunity`].
type OpportunityRow = (Opportunity, Option<String>, Option<String>, Option<String>, String, String);

fn opportunity_row(row: &Row<'_>) -> rusqlite::Result<OpportunityRow> {
    let opportunity = Opportunity {
        id: OpportunityId(row.get(0)?),
        name: row.get(1)?,
        account_id: row.get::<_, Option<i64>>(2)?.map(AccountId),
        owner_id: UserId(row.get(3)?),
        pipeline_id: PipelineId(row.get(4)?),
        stage_id: StageId(row.get(5)?),
        amount: None,
        close_date: None,
        forecast_category: ForecastCategory::Pipeline,
        next_step: row.get(10)?,
        status: Status::Open,
        created_at: timestamp(row.get(12)?),
        closed_at: row.get::<_, Option<i64>>(13)?.map(timestamp),
        close_reason: row.get(14)?,
    };
    Ok((opportunity, row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?, row.get(11)?))
}

fn finish_opportunity((mut opportunity, amount, currency, close_date, category, status): OpportunityRow) -> Result<Opportunity> {
    opportunity.amount = money("opportunity", amount, currency)?;
    opportunity.close_date = date("opportunity", close_date)?;
    opportunity.forecast_category = parsed("opportunity", &category, ForecastCategory::parse)?;
    opportunity.status = parsed("opportunity", &status, Status::parse)?;
    Ok(opportunity)
}

type HistoryRow = (HistoryEvent, String, String);

fn history_row(row: &Row<'_>) -> rusqlite::Result<HistoryRow> {
    let event = HistoryEvent {
        seq: row.get(0)?,
        opportunity_id: OpportunityId(row.get(1)?),
        field: OppField::Name,
        old: row.get(3)?,
        new: row.get(4)?,
        at: timestamp(row.get(5)?),
        actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
        source: Source::System,
    };
    Ok((event, row.get(2)?, row.get(7)?))
}

fn finish_history((mut event, field, source): HistoryRow) -> Result<HistoryEvent> {
    event.field = OppField::parse_event(&field).ok_or_else(|| corrupt("opportunity_history", format!("unknown field {field:?}")))?;
    event.source = parsed("opportunity_history", &source, Source::parse)?;
    Ok(event)
}

type StageRow = (Stage, String, String, String);

fn stage_row(row: &Row<'_>) -> rusqlite::Result<StageRow> {
    let stage = Stage {
        id: StageId(row.get(0)?),
        pipeline_id: PipelineId(row.get(1)?),
        position: row.get(2)?,
        name_en: row.get(3)?,
        name_ko: row.get(4)?,
        kind: StageKind::Open,
        win_probability: Decimal::ZERO,
        forecast_category: ForecastCategory::Pipeline,
        counts_in_metrics: row.get(8)?,
        rotting_days: row.get(9)?,
        archived_at: row.get::<_, Option<i64>>(10)?.map(timestamp),
    };
    Ok((stage, row.get(5)?, row.get(6)?, row.get(7)?))
}

const CRITERION_COLUMNS: &str =
    "exit_criterion_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, archived_at";

type CriterionRow = (i64, i64, String, String, String, Option<String>, String, Option<i64>, Option<i64>);

fn criterion_row(row: &Row<'_>) -> rusqlite::Result<CriterionRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
}

fn finish_criterion(
    (id, stage, label_en, label_ko, kind, argument, origin, origin_opportunity, archived_at): CriterionRow,
) -> Result<(ExitCriterion, Option<Timestamp>)> {
    let kind =
        CriterionKind::decode(&kind, argument.as_deref()).map_err(|problem| corrupt("exit_criterion", format!("row {id}: {problem}")))?;
    let origin = pipewise_store::ops::origin_from_parts(&origin, origin_opportunity.map(OpportunityId))
        .map_err(|detail| corrupt("exit_criterion", format!("row {id}: {detail}")))?;
    let criterion = ExitCriterion { id, stage_id: StageId(stage), label_en, label_ko, kind, origin };
    Ok((criterion, archived_at.map(timestamp)))
}

fn finish_stage((mut stage, kind, probability, category): StageRow) -> Result<Stage> {
    stage.kind = parsed("stage", &kind, StageKind::parse)?;
    stage.win_probability = decimal("stage", &probability)?;
    stage.forecast_category = parsed("stage", &category, ForecastCategory::parse)?;
    Ok(stage)
}

fn handoff_row(row: &Row<'_>) -> rusqlite::Result<(Handoff, String)> {
    let handoff = Handoff {
        id: row.get(0)?,
        opportunity_id: OpportunityId(row.get(1)?),
        from_user_id: UserId(row.get(2)?),
        to_user_id: UserId(row.get(3)?),
        actor_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        stage_id: StageId(row.get(5)?),
        at: timestamp(row.get(6)?),
        source: Source::System,
        note: row.get(8)?,
    };
    Ok((handoff, row.get(7)?))
}

fn finish_handoff((mut handoff, source): (Handoff, String)) -> Result<Handoff> {
    handoff.source = parsed("handoff", &source, Source::parse)?;
    Ok(handoff)
}

impl SqliteTx<'_> {
    fn collect<T, R>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: fn(&Row<'_>) -> rusqlite::Result<R>,
        finish: fn(R) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        let rows = statement.query_map(params, map).map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(finish(row.map_err(db_err)?)?);
        }
        Ok(out)
    }

    fn one<T, R>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: fn(&Row<'_>) -> rusqlite::Result<R>,
        finish: fn(R) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        let row = statement.query_row(params, map).optional().map_err(db_err)?;
        row.map(finish).transpose()
    }

    fn stages(&self, org: OrgId, pipeline: PipelineId) -> Result<Vec<Stage>> {
        self.collect(
            "SELECT stage_id, pipeline_id, position, name_en, name_ko, kind, win_probability, forecast_category, counts_in_metrics, rotting_days,
                    archived_at
             FROM stage WHERE organisation_id = ?1 AND pipeline_id = ?2 ORDER BY position",
            params![org.0, pipeline.0],
            stage_row,
            finish_stage,
        )
    }

    fn with_stages(&self, org: OrgId, (id, name, entry): (i64, String, Option<i64>)) -> Result<Pipeline> {
        let id = PipelineId(id);
        let stages = self.stages(org, id)?;
        let entry_stage_id = entry.map(StageId).filter(|entry| stages.iter().any(|stage| stage.id == *entry));
        let entry_stage_id = entry_stage_id.ok_or_else(|| corrupt("pipeline", format!("pipeline {id} has no valid entry stage")))?;
        Ok(Pipeline { id, name, entry_stage_id, stages })
    }

    fn account_domains(&self, account: AccountId) -> Result<Vec<String>> {
        let mut statement =
            self.db().prepare_cached("SELECT domain FROM account_domain WHERE account_id = ?1 ORDER BY position").map_err(db_err)?;
        let rows = statement.query_map([account.0], |row| row.get(0)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<String>>>().map_err(db_err)
    }

    fn contact_emails(&self, contact: ContactId) -> Result<Vec<String>> {
        let mut statement =
            self.db().prepare_cached("SELECT email FROM contact_email WHERE contact_id = ?1 ORDER BY position").map_err(db_err)?;
        let rows = statement.query_map([contact.0], |row| row.get(0)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<String>>>().map_err(db_err)
    }

    fn activity_contacts(&self, activity: ActivityId) -> Result<Vec<ContactId>> {
        let mut statement = self
            .db()
            .prepare_cached("SELECT contact_id FROM activity_contact WHERE activity_id = ?1 ORDER BY contact_id")
            .map_err(db_err)?;
        let rows = statement.query_map([activity.0], |row| row.get(0).map(ContactId)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<ContactId>>>().map_err(db_err)
    }

    fn insert_account_rows(&self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        let id = self
            .db()
            .prepare_cached(
                "INSERT INTO account (organisation_id, name, industry, employee_count, region, owner_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    account.name,
                    account.industry,
                    account.employee_count,
                    account.region,
                    account.owner_id.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map_err(db_err)?;
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO account_domain (organisation_id, domain, account_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, domain) in account.domains.iter().enumerate() {
            statement
                .execute(params![org.0, domain, id, position as i64])
                .map_err(|error| conflict_or(error, || format!("new account: domains: {domain} already belongs to another account")))?;
        }
        Ok(AccountId(id))
    }

    /// `(parent id, text)` rows of one organisation, grouped by parent in query order: one query
    /// for a whole list instead of one per record.
    fn texts_by_parent(&self, sql: &str, org: OrgId) -> Result<std::collections::HashMap<i64, Vec<String>>> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        let rows = statement.query_map([org.0], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))).map_err(db_err)?;
        let mut grouped: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        for row in rows {
            let (parent, text) = row.map_err(db_err)?;
            grouped.entry(parent).or_default().push(text);
        }
        Ok(grouped)
    }

    fn finish_accounts(&self, rows: Vec<Account>) -> Result<Vec<Account>> {
        rows.into_iter()
            .map(|mut account| {
                account.domains = self.account_domains(account.id)?;
                Ok(account)
            })
            .collect()
    }

    fn finish_contacts(&self, rows: Vec<Contact>) -> Result<Vec<Contact>> {
        rows.into_iter()
            .map(|mut contact| {
                contact.emails = self.contact_emails(contact.id)?;
                Ok(contact)
            })
            .collect()
    }

    fn finish_activities(&self, rows: Vec<Activity>) -> Result<Vec<Activity>> {
        rows.into_iter()
            .map(|mut activity| {
                activity.contact_ids = self.activity_contacts(activity.id)?;
                Ok(activity)
            })
            .collect()
    }

    fn update_account_rows(&self, org: OrgId, account: &Account) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE account SET name = ?3, industry = ?4, employee_count = ?5, region = ?6, owner_id = ?7
                 WHERE organisation_id = ?1 AND account_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    account.id.0,
                    account.name,
                    account.industry,
                    account.employee_count,
                    account.region,
                    account.owner_id.map(|id| id.0)
                ])
            })
            .map_err(db_err)?;
        found(changed, AccountId::LABEL, account.id.0)?;
        self.db()
            .prepare_cached("DELETE FROM account_domain WHERE organisation_id = ?1 AND account_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, account.id.0]))
            .map_err(db_err)?;
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO account_domain (organisation_id, domain, account_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, domain) in account.domains.iter().enumerate() {
            statement.execute(params![org.0, domain, account.id.0, position as i64]).map_err(|error| {
                conflict_or(error, || format!("account {}: domains: {domain} already belongs to another account", account.id))
            })?;
        }
        Ok(())
    }
}

const ACCOUNT_SELECT: &str = "SELECT account_id, name, industry, employee_count, region, owner_id, created_at FROM account";
const CONTACT_SELECT: &str = "SELECT contact_id, name, phone, title, account_id, created_at FROM contact";
const ACTIVITY_SELECT: &str =
    "SELECT activity_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id FROM activity";

fn account_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(row.get(0)?),
        name: row.get(1)?,
        domains: Vec::new(),
        industry: row.get(2)?,
        employee_count: row.get(3)?,
        region: row.get(4)?,
        owner_id: row.get::<_, Option<i64>>(5)?.map(UserId),
        created_at: timestamp(row.get(6)?),
    })
}

fn contact_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: ContactId(row.get(0)?),
        name: row.get(1)?,
        emails: Vec::new(),
        phone: row.get(2)?,
        title: row.get(3)?,
        account_id: row.get::<_, Option<i64>>(4)?.map(AccountId),
        created_at: timestamp(row.get(5)?),
    })
}

type ActivityRow = (Activity, String, String);

fn activity_row(row: &Row<'_>) -> rusqlite::Result<ActivityRow> {
    let activity = Activity {
        id: ActivityId(row.get(0)?),
        kind: ActivityKind::Note,
        direction: Direction::Internal,
        occurred_at: timestamp(row.get(3)?),
        logged_at: timestamp(row.get(4)?),
        subject: row.get(5)?,
        body: row.get(6)?,
        source: row.get(7)?,
        user_id: row.get::<_, Option<i64>>(8)?.map(UserId),
        account_id: row.get::<_, Option<i64>>(9)?.map(AccountId),
        opportunity_id: row.get::<_, Option<i64>>(10)?.map(OpportunityId),
        contact_ids: Vec::new(),
    };
    Ok((activity, row.get(1)?, row.get(2)?))
}

fn finish_activity((mut activity, kind, direction): ActivityRow) -> Result<Activity> {
    activity.kind = parsed("activity", &kind, ActivityKind::parse)?;
    activity.direction = parsed("activity", &direction, Direction::parse)?;
    Ok(activity)
}

fn identity<T>(value: T) -> Result<T> {
    Ok(value)
}

impl Tx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        self.db().execute_batch("COMMIT").map_err(db_err)?;
        self.finished = true;
        Ok(())
    }

    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        self.db()
            .prepare_cached("INSERT INTO organisation (name, reporting_currency, created_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.insert(params![name, reporting_currency.code(), at.as_micros()]))
            .map(OrgId)
            .map_err(db_err)
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        self.one(
            "SELECT organisation_id, name, reporting_currency, created_at FROM organisation WHERE organisation_id = ?1",
            [org.0],
            organisation_row,
            finish_organisation,
        )
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        self.collect(
            "SELECT organisation_id, name, reporting_currency, created_at FROM organisation ORDER BY organisation_id",
            [],
            organisation_row,
            finish_organisation,
        )
    }

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId> {
        self.db()
            .prepare_cached(
                "INSERT INTO app_user (organisation_id, email, name, role, manager_id, team_id, time_zone, locale, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.manager_id.map(|id| id.0),
                    user.team_id.map(|id| id.0),
                    user.time_zone,
                    user.locale.as_str(),
                    at.as_micros()
                ])
            })
            .map(UserId)
            .map_err(|error| conflict_or(error, || format!("new user: email: {} already belongs to another user", user.email)))
    }

    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE app_user SET manager_id = ?3 WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, manager.map(|id| id.0)]))
            .map_err(db_err)?;
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 AND user_id = ?2");
        self.one(&sql, params![org.0, id.0], user_row, finish_user)
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 AND email = ?2");
        self.one(&sql, params![org.0, email.to_lowercase()], user_row, finish_user)
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 ORDER BY user_id");
        self.collect(&sql, [org.0], user_row, finish_user)
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        self.db()
            .prepare_cached("INSERT INTO team (organisation_id, name, manager_id) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.insert(params![org.0, team.name, team.manager_id.map(|id| id.0)]))
            .map(TeamId)
            .map_err(db_err)
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        self.one(
            "SELECT team_id, name, manager_id FROM team WHERE organisation_id = ?1 AND team_id = ?2",
            params![org.0, id.0],
            team_row,
            identity,
        )
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        self.collect("SELECT team_id, name, manager_id FROM team WHERE organisation_id = ?1 ORDER BY team_id", [org.0], team_row, identity)
    }

    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        // A taken domain must not leave the account row behind in a transaction that goes on.
        self.db().execute_batch("SAVEPOINT insert_account").map_err(db_err)?;
        let result = self.insert_account_rows(org, account, at);
        let end = if result.is_ok() { "RELEASE insert_account" } else { "ROLLBACK TO insert_account; RELEASE insert_account" };
        self.db().execute_batch(end).map_err(db_err)?;
        result
    }

    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>> {
        let sql = format!("{ACCOUNT_SELECT} WHERE organisation_id = ?1 AND account_id = ?2");
        let row = self.one(&sql, params![org.0, id.0], account_row, identity)?;
        Ok(self.finish_accounts(row.into_iter().collect())?.pop())
    }

    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>> {
        let sql = format!("{ACCOUNT_SELECT} WHERE organisation_id = ?1 ORDER BY account_id");
        let mut rows = self.collect(&sql, [org.0], account_row, identity)?;
        let mut domains = self.texts_by_parent(
            "SELECT account_id, domain FROM account_domain WHERE organisation_id = ?1 ORDER BY account_id, position",
            org,
        )?;
        for account in &mut rows {
            account.domains = domains.remove(&account.id.0).unwrap_or_default();
        }
        Ok(rows)
    }

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId> {
        let id = self
            .db()
            .prepare_cached(
                "INSERT INTO contact (organisation_id, name, phone, title, account_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    contact.name,
                    contact.phone,
                    contact.title,
                    contact.account_id.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map_err(db_err)?;
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO contact_email (organisation_id, email, contact_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, email) in contact.emails.iter().enumerate() {
            statement.execute(params![org.0, email, id, position as i64]).map_err(db_err)?;
        }
        Ok(ContactId(id))
    }

    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
        let sql = format!("{CONTACT_SELECT} WHERE organisation_id = ?1 AND contact_id = ?2");
        let row = self.one(&sql, params![org.0, id.0], contact_row, identity)?;
        Ok(self.finish_contacts(row.into_iter().collect())?.pop())
    }

    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>> {
        let sql = format!("{CONTACT_SELECT} WHERE organisation_id = ?1 ORDER BY contact_id");
        let mut rows = self.collect(&sql, [org.0], contact_row, identity)?;
        let mut emails = self
            .texts_by_parent("SELECT contact_id, email FROM contact_email WHERE organisation_id = ?1 ORDER BY contact_id, position", org)?;
        for contact in &mut rows {
            contact.emails = emails.remove(&contact.id.0).unwrap_or_default();
        }
        Ok(rows)
    }

    fn insert_pipeline(&mut self, org: OrgId, pipeline: &NewPipeline) -> Result<PipelineId> {
        let id = self
            .db()
            .prepare_cached("INSERT INTO pipeline (organisation_id, name) VALUES (?1, ?2)")
            .and_then(|mut statement| statement.insert(params![org.0, pipeline.name]))
            .map_err(db_err)?;
        let mut entry_stage_id = None;
        for (position, stage) in pipeline.stages.iter().enumerate() {
            let stage_id = self
                .db()
                .prepare_cached(
                    "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability,
                                        forecast_category, counts_in_metrics, rotting_days)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .and_then(|mut statement| {
                    statement.insert(params![
                        org.0,
                        id,
                        position as i64,
                        stage.name_en,
                        stage.name_ko,
                        stage.kind.as_str(),
                        stage.win_probability.to_string(),
                        stage.forecast_category.as_str(),
                        stage.counts_in_metrics,
                        stage.rotting_days
                    ])
                })
                .map_err(db_err)?;
            if position == pipeline.entry_stage {
                entry_stage_id = Some(stage_id);
            }
        }
        self.db()
            .prepare_cached("UPDATE pipeline SET entry_stage_id = ?2 WHERE pipeline_id = ?1")
            .and_then(|mut statement| statement.execute(params![id, entry_stage_id]))
            .map_err(db_err)?;
        Ok(PipelineId(id))
    }

    fn pipeline(&mut self, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
        let row = self.one(
            "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = ?1 AND pipeline_id = ?2",
            params![org.0, id.0],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            identity,
        )?;
        row.map(|row| self.with_stages(org, row)).transpose()
    }

    fn pipelines(&mut self, org: OrgId) -> Result<Vec<Pipeline>> {
        let rows = self.collect(
            "SELECT pipeline_id, name, entry_stage_id FROM pipeline WHERE organisation_id = ?1 ORDER BY pipeline_id",
            [org.0],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            identity,
        )?;
        rows.into_iter().map(|row| self.with_stages(org, row)).collect()
    }

    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId> {
        self.db()
            .prepare_cached(
                "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date,
                                          forecast_category, next_step, status, created_at, closed_at, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut statement| statement.insert(opportunity_params(org, opportunity)))
            .map(OpportunityId)
            .map_err(db_err)
    }

    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE opportunity SET name = ?2, account_id = ?3, owner_id = ?4, pipeline_id = ?5, stage_id = ?6, amount = ?7,
                        currency = ?8, close_date = ?9, forecast_category = ?10, next_step = ?11, status = ?12, created_at = ?13,
                        closed_at = ?14, close_reason = ?15
                 WHERE organisation_id = ?1 AND opportunity_id = ?16",
            )
            .and_then(|mut statement| {
                let mut values = opportunity_params(org, opportunity).to_vec();
                values.push(Value::Integer(opportunity.id.0));
                statement.execute(rusqlite::params_from_iter(values))
            })
            .map_err(db_err)?;
        if changed == 0 {
            return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.id.0 });
        }
        Ok(())
    }

    fn opportunity(&mut self, org: OrgId, id: OpportunityId, _lock: bool) -> Result<Option<Opportunity>> {
        // A SQLite write transaction already excludes every other writer.
        let sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = ?1 AND opportunity_id = ?2");
        self.one(&sql, params![org.0, id.0], opportunity_row, finish_opportunity)
    }

    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
        let mut sql = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunity WHERE organisation_id = ?1");
        let mut values = vec![Value::Integer(org.0)];
        let mut condition = |column: &str, value: Value| {
            values.push(value);
            sql.push_str(&format!(" AND {column} ?{}", values.len()));
        };
        if let Some(owner) = filter.owner_id {
            condition("owner_id =", Value::Integer(owner.0));
        }
        if let Some(pipeline) = filter.pipeline_id {
            condition("pipeline_id =", Value::Integer(pipeline.0));
        }
        if let Some(account) = filter.account_id {
            condition("account_id =", Value::Integer(account.0));
        }
        if let Some(status) = filter.status {
            condition("status =", Value::Text(status.as_str().to_owned()));
        }
        if let Some(after) = filter.after_id {
            condition("opportunity_id >", Value::Integer(after.0));
        }
        if let Some(stage) = filter.stage_id {
            condition("stage_id =", Value::Integer(stage.0));
        }
        if let Some(ids) = &filter.ids {
            // One JSON array parameter, like the owners below.
            values.push(Value::Text(format!("[{}]", ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(","))));
            sql.push_str(&format!(" AND opportunity_id IN (SELECT value FROM json_each(?{}))", values.len()));
        }
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            // The owners travel as one JSON array parameter, so the statement text (and its
            // cache entry) does not grow with a large reporting tree.
            let owners = format!("[{}]", owners.iter().map(|owner| owner.0.to_string()).collect::<Vec<_>>().join(","));
            values.push(Value::Text(owners));
            values.push(Value::Integer(shared_with.0));
            sql.push_str(&format!(
                " AND (owner_id IN (SELECT value FROM json_each(?{})) OR opportunity_id IN \
                 (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = ?1 AND user_id = ?{}))",
                values.len() - 1,
                values.len()
            ));
        }
        sql.push_str(" ORDER BY opportunity_id");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        self.collect(&sql, rusqlite::params_from_iter(values), opportunity_row, finish_opportunity)
    }

    fn lock_history(&mut self, _org: OrgId) -> Result<()> {
        // `BEGIN IMMEDIATE` already made this the only writer of the whole database.
        Ok(())
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
        let last: i64 = self
            .db()
            .prepare_cached("UPDATE organisation SET history_seq = history_seq + ?2 WHERE organisation_id = ?1 RETURNING history_seq")
            .and_then(|mut statement| statement.query_row(params![org.0, changes.len() as i64], |row| row.get(0)))
            .optional()
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })?;
        let first = last - changes.len() as i64 + 1;
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db_err)?;
        for (offset, change) in changes.iter().enumerate() {
            statement
                .execute(params![
                    org.0,
                    first + offset as i64,
                    id.0,
                    change.field.as_str(),
                    change.old,
                    change.new,
                    at.as_micros(),
                    actor_id.map(|id| id.0),
                    source.as_str()
                ])
                .map_err(db_err)?;
        }
        Ok(())
    }

    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>> {
        // The deal's own index: the planner would otherwise walk the organisation's whole log
        // in sequence order (the primary key matches `ORDER BY seq`), which is O(history).
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM opportunity_history INDEXED BY opportunity_history_deal
             WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq"
        );
        self.collect(&sql, params![org.0, id.0], history_row, finish_history)
    }

    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>> {
        let sql =
            format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
        self.collect(&sql, params![org.0, after_seq, limit], history_row, finish_history)
    }

    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM opportunity_history WHERE organisation_id = ?1 AND at <= ?2 ORDER BY seq");
        self.collect(&sql, params![org.0, t.as_micros()], history_row, finish_history)
    }

    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>> {
        let mut statement = self
            .db()
            .prepare_cached(
                "SELECT at FROM opportunity_history INDEXED BY opportunity_history_deal
                 WHERE opportunity_id = ?2 AND organisation_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .map_err(db_err)?;
        let at: Option<i64> = statement.query_row(params![org.0, id.0], |row| row.get(0)).optional().map_err(db_err)?;
        Ok(at.map(timestamp))
    }

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId> {
        self.db()
            .prepare_cached(
                "INSERT INTO lead (organisation_id, name, company, email, phone, title, source, status, owner_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    lead.name,
                    lead.company,
                    lead.email,
                    lead.phone,
                    lead.title,
                    lead.source,
                    lead.status.as_str(),
                    lead.owner_id.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map(LeadId)
            .map_err(db_err)
    }

    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>> {
        let sql = format!("SELECT {LEAD_COLUMNS} FROM lead WHERE organisation_id = ?1 AND lead_id = ?2");
        self.one(&sql, params![org.0, id.0], lead_row, finish_lead)
    }

    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId> {
        let id = self
            .db()
            .prepare_cached(
                "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    activity.kind.as_str(),
                    activity.direction.as_str(),
                    activity.occurred_at.as_micros(),
                    logged_at.as_micros(),
                    activity.subject,
                    activity.body,
                    activity.source,
                    activity.user_id.map(|id| id.0),
                    activity.account_id.map(|id| id.0),
                    activity.opportunity_id.map(|id| id.0)
                ])
            })
            .map_err(db_err)?;
        let mut statement =
            self.db().prepare_cached("INSERT INTO activity_contact (activity_id, contact_id) VALUES (?1, ?2)").map_err(db_err)?;
        for contact in &activity.contact_ids {
            statement.execute(params![id, contact.0]).map_err(db_err)?;
        }
        Ok(ActivityId(id))
    }

    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
        let sql = format!("{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND activity_id = ?2");
        let row = self.one(&sql, params![org.0, id.0], activity_row, finish_activity)?;
        Ok(self.finish_activities(row.into_iter().collect())?.pop())
    }

    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
        let sql =
            format!("{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY occurred_at DESC, activity_id DESC");
        let rows = self.collect(&sql, params![org.0, id.0], activity_row, finish_activity)?;
        self.finish_activities(rows)
    }

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId> {
        self.db()
            .prepare_cached(
                "INSERT INTO task (organisation_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    task.title,
                    task.owner_id.0,
                    task.due_on.map(|date| date.to_string()),
                    task.completed_at.map(Timestamp::as_micros),
                    task.account_id.map(|id| id.0),
                    task.opportunity_id.map(|id| id.0),
                    task.lead_id.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map(TaskId)
            .map_err(db_err)
    }

    fn task(&mut self, org: OrgId, id: TaskId) -> Result<Option<Task>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM task WHERE organisation_id = ?1 AND task_id = ?2");
        self.one(&sql, params![org.0, id.0], task_row, finish_task)
    }

    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut sql = format!(
            "SELECT {TASK_COLUMNS} FROM task WHERE organisation_id = ?1 AND (?2 IS NULL OR owner_id = ?2) AND (?3 IS NULL OR opportunity_id = ?3)
             AND (NOT ?4 OR completed_at IS NULL)"
        );
        let mut values = vec![
            Value::Integer(org.0),
            filter.owner_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.opportunity_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            Value::Integer(i64::from(filter.open_only)),
        ];
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            sql.push_str(&scope_condition("owner_id", owners, *shared_with, &mut values));
        }
        sql.push_str(" ORDER BY due_on IS NULL, due_on, task_id");
        self.collect(&sql, rusqlite::params_from_iter(values), task_row, finish_task)
    }

    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
        let sql = |only: &str| {
            format!(
                "SELECT opportunity_id, max(occurred_at) FROM activity WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            )
        };
        let row = |row: &Row<'_>| Ok((OpportunityId(row.get(0)?), timestamp(row.get(1)?)));
        let Some(deals) = deals else { return self.collect(&sql(""), [org.0], row, identity) };
        // The deals as one JSON array parameter: one statement text whatever their number.
        let ids = format!("[{}]", deals.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(","));
        self.collect(&sql(" AND opportunity_id IN (SELECT value FROM json_each(?2))"), params![org.0, ids], row, identity)
    }

    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>> {
        let until = until.map_or(i64::MAX, Timestamp::as_micros);
        // Every deal in one statement, or the named ones a few hundred at a time.
        let chunks: Vec<Option<&[OpportunityId]>> = match deals {
            None => vec![None],
            Some(deals) => deals.chunks(400).map(Some).collect(),
        };
        let mut aggregates = Vec::new();
        let mut contacts = Vec::new();
        for chunk in chunks {
            let only = chunk.map_or(String::new(), |ids| {
                let list: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
                format!(" AND opportunity_id IN ({})", list.join(","))
            });
            let sql = format!(
                "SELECT opportunity_id, max(occurred_at), max(occurred_at) FILTER (WHERE direction = 'inbound'),
                        count(*) FILTER (WHERE direction <> 'internal' AND occurred_at >= ?3 AND occurred_at < ?4),
                        max(logged_at - occurred_at)
                 FROM activity
                 WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL AND occurred_at < ?2 AND logged_at < ?2{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            );
            aggregates.extend(self.collect(
                &sql,
                params![org.0, until, touch_from.as_micros(), touch_to.as_micros()],
                |row| {
                    Ok(ActivityAggregate {
                        opportunity_id: OpportunityId(row.get(0)?),
                        last_occurred: timestamp(row.get(1)?),
                        last_inbound: row.get::<_, Option<i64>>(2)?.map(timestamp),
                        touchpoints: row.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                        max_lag_micros: row.get(4)?,
                        contacts: 0,
                    })
                },
                identity,
            )?);
            let sql = format!(
                "SELECT a.opportunity_id, count(DISTINCT l.contact_id)
                 FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id
                 WHERE a.organisation_id = ?1 AND a.opportunity_id IS NOT NULL AND a.occurred_at < ?2 AND a.logged_at < ?2{}
                 GROUP BY a.opportunity_id ORDER BY a.opportunity_id",
                only.replace("opportunity_id", "a.opportunity_id")
            );
            contacts.extend(self.collect(
                &sql,
                params![org.0, until],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
                identity,
            )?);
        }
        aggregates.sort_by_key(|aggregate| aggregate.opportunity_id);
        contacts.sort_unstable();
        pipewise_store::merge_contact_counts(&mut aggregates, contacts);
        Ok(aggregates)
    }

    fn max_activity_id(&mut self) -> Result<ActivityId> {
        let id: Option<i64> = self
            .db()
            .prepare_cached("SELECT max(activity_id) FROM activity")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(db_err)?;
        Ok(ActivityId(id.unwrap_or(0)))
    }

    fn activities_after(
        &mut self,
        org: OrgId,
        after: ActivityId,
        limit: u32,
    ) -> Result<Vec<(ActivityId, Option<OpportunityId>, Timestamp)>> {
        self.collect(
            // `+organisation_id`: walk the ids from the cursor, not the organisation's index.
            "SELECT activity_id, opportunity_id, logged_at FROM activity WHERE activity_id > ?2 AND +organisation_id = ?1
             ORDER BY activity_id LIMIT ?3",
            params![org.0, after.0, limit],
            |row| Ok((ActivityId(row.get(0)?), row.get::<_, Option<i64>>(1)?.map(OpportunityId), timestamp(row.get(2)?))),
            identity,
        )
    }

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        let sql = format!("SELECT {LEAD_COLUMNS} FROM lead WHERE organisation_id = ?1 ORDER BY lead_id");
        self.collect(&sql, [org.0], lead_row, finish_lead)
    }

    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
        let stored: Option<String> = self
            .db()
            .prepare_cached("SELECT base FROM exchange_rate WHERE organisation_id = ?1 AND base <> ?2 LIMIT 1")
            .and_then(|mut statement| statement.query_row(params![org.0, base.code()], |row| row.get(0)).optional())
            .map_err(db_err)?;
        if let Some(stored) = stored {
            return Err(StoreError::Conflict(format!(
                "exchange rates: base: the organisation's rates are quoted against {stored}, not {base}"
            )));
        }
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT OR REPLACE INTO exchange_rate (organisation_id, base, currency, rate_date, per_base) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db_err)?;
        for (currency, date, per_base) in rates {
            statement.execute(params![org.0, base.code(), currency.code(), date.to_string(), per_base.to_string()]).map_err(db_err)?;
        }
        Ok(())
    }

    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>> {
        let rows = self.collect(
            "SELECT base, currency, rate_date, per_base FROM exchange_rate WHERE organisation_id = ?1 ORDER BY currency, rate_date",
            [org.0],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?)),
            identity,
        )?;
        let mut table: Option<RateTable> = None;
        for (base, currency, rate_date, per_base) in rows {
            let base = parsed("exchange_rate", &base, Currency::from_code)?;
            let table = table.get_or_insert_with(|| RateTable::new(base));
            if table.base() != base {
                return Err(corrupt("exchange_rate", format!("rates quoted against both {} and {base}", table.base())));
            }
            let currency = parsed("exchange_rate", &currency, Currency::from_code)?;
            let rate_date = date("exchange_rate", Some(rate_date))?.expect("a date was given");
            table.insert(currency, rate_date, decimal("exchange_rate", &per_base)?);
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
        self.db().query_row(&format!("SELECT count(*) FROM {table} WHERE organisation_id = ?1"), [org.0], |row| row.get(0)).map_err(db_err)
    }

    fn set_password_hash(&mut self, org: OrgId, user: UserId, hash: &str) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE app_user SET password_hash = ?3 WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, hash]))
            .map_err(db_err)?;
        Ok(())
    }

    fn password_hash(&mut self, org: OrgId, user: UserId) -> Result<Option<String>> {
        self.db()
            .prepare_cached("SELECT password_hash FROM app_user WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.query_row(params![org.0, user.0], |row| row.get::<_, Option<String>>(0)).optional())
            .map(Option::flatten)
            .map_err(db_err)
    }

    fn users_by_email_everywhere(&mut self, email: &str) -> Result<Vec<(OrgId, User)>> {
        let sql = format!("SELECT {USER_COLUMNS}, organisation_id FROM app_user WHERE email = ?1 ORDER BY organisation_id, user_id");
        self.collect(
            &sql,
            [email.trim().to_lowercase()],
            |row| Ok((user_row(row)?, row.get::<_, i64>(10)?)),
            |(user, org)| Ok((OrgId(org), finish_user(user)?)),
        )
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO session (token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    session.token_hash,
                    session.org.0,
                    session.user_id.0,
                    session.csrf_token,
                    session.created_at.as_micros(),
                    session.last_seen_at.as_micros(),
                    session.expires_at.as_micros(),
                    session.client_address
                ])
            })
            .map_err(db_err)?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        self.one(
            "SELECT token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address
             FROM session WHERE token_hash = ?1",
            [token_hash],
            |row| {
                Ok(Session {
                    token_hash: row.get(0)?,
                    org: OrgId(row.get(1)?),
                    user_id: UserId(row.get(2)?),
                    csrf_token: row.get(3)?,
                    created_at: timestamp(row.get(4)?),
                    last_seen_at: timestamp(row.get(5)?),
                    expires_at: timestamp(row.get(6)?),
                    client_address: row.get(7)?,
                })
            },
            identity,
        )
    }

    fn touch_session(&mut self, token_hash: &str, last_seen_at: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE session SET last_seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1")
            .and_then(|mut statement| statement.execute(params![token_hash, last_seen_at.as_micros(), expires_at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.db()
            .prepare_cached("DELETE FROM session WHERE token_hash = ?1")
            .and_then(|mut statement| statement.execute([token_hash]))
            .map_err(db_err)?;
        Ok(())
    }

    fn delete_user_sessions(&mut self, org: OrgId, user: UserId, except: Option<&str>) -> Result<()> {
        self.db()
            .prepare_cached("DELETE FROM session WHERE organisation_id = ?1 AND user_id = ?2 AND token_hash IS NOT ?3")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, except]))
            .map_err(db_err)?;
        Ok(())
    }

    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO api_token (organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    token.org.0,
                    token.user_id.0,
                    token.name,
                    token.token_hash,
                    token.prefix,
                    token.created_at.as_micros(),
                    token.last_used_at.map(Timestamp::as_micros),
                    token.revoked_at.map(Timestamp::as_micros)
                ])
            })
            .map_err(db_err)
    }

    fn api_token(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE token_hash = ?1");
        self.one(&sql, [token_hash], api_token_row, identity)
    }

    fn api_tokens(&mut self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_token WHERE organisation_id = ?1 AND user_id = ?2 ORDER BY api_token_id");
        self.collect(&sql, params![org.0, user.0], api_token_row, identity)
    }

    fn touch_api_token(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached("UPDATE api_token SET last_used_at = ?2 WHERE api_token_id = ?1")
            .and_then(|mut statement| statement.execute(params![id, at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn revoke_api_token(&mut self, org: OrgId, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        self.db()
            .prepare_cached(
                "UPDATE api_token SET revoked_at = ?4
                 WHERE organisation_id = ?1 AND user_id = ?2 AND api_token_id = ?3 AND revoked_at IS NULL",
            )
            .and_then(|mut statement| statement.execute(params![org.0, user.0, id, at.as_micros()]))
            .map(|changed| changed == 1)
            .map_err(db_err)
    }

    fn record_login_attempt(&mut self, email: &str, client_address: &str, at: Timestamp, succeeded: bool) -> Result<()> {
        self.db()
            .prepare_cached("INSERT INTO login_attempt (email, client_address, at, succeeded) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut statement| statement.execute(params![email.trim().to_lowercase(), client_address, at.as_micros(), succeeded]))
            .map_err(db_err)?;
        Ok(())
    }

    fn failed_logins_since(&mut self, email: &str, client_address: &str, since: Timestamp) -> Result<(i64, i64)> {
        let count = |sql: &str, key: &str| -> Result<i64> {
            self.db()
                .prepare_cached(sql)
                .and_then(|mut statement| statement.query_row(params![key, since.as_micros()], |row| row.get(0)))
                .map_err(db_err)
        };
        let by_email =
            count("SELECT count(*) FROM login_attempt WHERE email = ?1 AND at >= ?2 AND NOT succeeded", &email.trim().to_lowercase())?;
        let by_client =
            count("SELECT count(*) FROM login_attempt WHERE client_address = ?1 AND at >= ?2 AND NOT succeeded", client_address)?;
        Ok((by_email, by_client))
    }

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT OR IGNORE INTO opportunity_share (organisation_id, opportunity_id, user_id, shared_by, shared_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| statement.execute(params![org.0, id.0, user.0, shared_by.map(|id| id.0), at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        self.db()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM opportunity_share WHERE organisation_id = ?1 AND opportunity_id = ?2 AND user_id = ?3)",
            )
            .and_then(|mut statement| statement.query_row(params![org.0, id.0, user.0], |row| row.get(0)))
            .map_err(db_err)
    }

    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>> {
        self.collect(
            "SELECT opportunity_id, user_id, shared_by, shared_at FROM opportunity_share
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY user_id",
            params![org.0, id.0],
            |row| {
                Ok(OpportunityShare {
                    opportunity_id: OpportunityId(row.get(0)?),
                    user_id: UserId(row.get(1)?),
                    shared_by: row.get::<_, Option<i64>>(2)?.map(UserId),
                    shared_at: timestamp(row.get(3)?),
                })
            },
            identity,
        )
    }

    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool> {
        let removed = self
            .db()
            .prepare_cached("DELETE FROM opportunity_share WHERE organisation_id = ?1 AND opportunity_id = ?2 AND user_id = ?3")
            .and_then(|mut statement| statement.execute(params![org.0, id.0, user.0]))
            .map_err(db_err)?;
        Ok(removed > 0)
    }

    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO audit_event (organisation_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    entry.at.as_micros(),
                    entry.actor_id.map(|id| id.0),
                    entry.source.as_str(),
                    entry.record_kind,
                    entry.record_id,
                    entry.action,
                    entry.before,
                    entry.after
                ])
            })
            .map_err(db_err)?;
        Ok(())
    }

    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let mut sql = "SELECT audit_event_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json
                       FROM audit_event WHERE organisation_id = ?1"
            .to_owned();
        let mut values = vec![Value::Integer(org.0)];
        let mut condition = |column: &str, value: Value| {
            values.push(value);
            sql.push_str(&format!(" AND {column} ?{}", values.len()));
        };
        if let Some(actor) = filter.actor_id {
            condition("actor_id =", Value::Integer(actor.0));
        }
        if let Some(kind) = &filter.record_kind {
            condition("record_kind =", Value::Text(kind.clone()));
        }
        if let Some(id) = filter.record_id {
            condition("record_id =", Value::Integer(id));
        }
        if let Some(before) = filter.before_id {
            condition("audit_event_id <", Value::Integer(before));
        }
        sql.push_str(&format!(" ORDER BY audit_event_id DESC LIMIT {}", filter.limit));
        self.collect(
            &sql,
            rusqlite::params_from_iter(values),
            |row| {
                let event = AuditEvent {
                    id: row.get(0)?,
                    at: timestamp(row.get(1)?),
                    actor_id: row.get::<_, Option<i64>>(2)?.map(UserId),
                    source: Source::System,
                    record_kind: row.get(4)?,
                    record_id: row.get(5)?,
                    action: row.get(6)?,
                    before: row.get(7)?,
                    after: row.get(8)?,
                };
                Ok((event, row.get::<_, String>(3)?))
            },
            |(mut event, source)| {
                event.source = parsed("audit_event", &source, Source::parse)?;
                Ok(event)
            },
        )
    }

    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE app_user SET email = ?3, name = ?4, role = ?5, manager_id = ?6, team_id = ?7, time_zone = ?8, locale = ?9, active = ?10
                 WHERE organisation_id = ?1 AND user_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    user.id.0,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.manager_id.map(|id| id.0),
                    user.team_id.map(|id| id.0),
                    user.time_zone,
                    user.locale.as_str(),
                    user.active
                ])
            })
            .map_err(|error| conflict_or(error, || format!("user {}: email: {} already belongs to another user", user.id, user.email)))?;
        found(changed, UserId::LABEL, user.id.0)
    }

    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE team SET name = ?3, manager_id = ?4 WHERE organisation_id = ?1 AND team_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, team.id.0, team.name, team.manager_id.map(|id| id.0)]))
            .map_err(db_err)?;
        found(changed, TeamId::LABEL, team.id.0)
    }

    fn update_account(&mut self, org: OrgId, account: &Account) -> Result<()> {
        // A taken domain must leave the account as it was in a transaction that goes on.
        self.db().execute_batch("SAVEPOINT update_account").map_err(db_err)?;
        let result = self.update_account_rows(org, account);
        let end = if result.is_ok() { "RELEASE update_account" } else { "ROLLBACK TO update_account; RELEASE update_account" };
        self.db().execute_batch(end).map_err(db_err)?;
        result
    }

    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE contact SET name = ?3, phone = ?4, title = ?5, account_id = ?6 WHERE organisation_id = ?1 AND contact_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    contact.id.0,
                    contact.name,
                    contact.phone,
                    contact.title,
                    contact.account_id.map(|id| id.0)
                ])
            })
            .map_err(db_err)?;
        found(changed, ContactId::LABEL, contact.id.0)?;
        self.db()
            .prepare_cached("DELETE FROM contact_email WHERE organisation_id = ?1 AND contact_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, contact.id.0]))
            .map_err(db_err)?;
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO contact_email (organisation_id, email, contact_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, email) in contact.emails.iter().enumerate() {
            statement.execute(params![org.0, email, contact.id.0, position as i64]).map_err(db_err)?;
        }
        Ok(())
    }

    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE lead SET name = ?3, company = ?4, email = ?5, phone = ?6, title = ?7, source = ?8, status = ?9, owner_id = ?10
                 WHERE organisation_id = ?1 AND lead_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    lead.id.0,
                    lead.name,
                    lead.company,
                    lead.email,
                    lead.phone,
                    lead.title,
                    lead.source,
                    lead.status.as_str(),
                    lead.owner_id.map(|id| id.0)
                ])
            })
            .map_err(db_err)?;
        found(changed, LeadId::LABEL, lead.id.0)
    }

    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE task SET title = ?3, owner_id = ?4, due_on = ?5, completed_at = ?6 WHERE organisation_id = ?1 AND task_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    task.id.0,
                    task.title,
                    task.owner_id.0,
                    task.due_on.map(|date| date.to_string()),
                    task.completed_at.map(Timestamp::as_micros)
                ])
            })
            .map_err(db_err)?;
        found(changed, TaskId::LABEL, task.id.0)
    }

    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>> {
        let mut sql = format!(
            "{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND (?2 IS NULL OR opportunity_id = ?2) AND (?3 IS NULL OR account_id = ?3)
             AND (?4 IS NULL OR user_id = ?4)"
        );
        let mut values = vec![
            Value::Integer(org.0),
            filter.opportunity_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.account_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.user_id.map_or(Value::Null, |id| Value::Integer(id.0)),
        ];
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            sql.push_str(&scope_condition("user_id", owners, *shared_with, &mut values));
        }
        sql.push_str(" ORDER BY activity_id");
        let rows = self.collect(&sql, rusqlite::params_from_iter(values), activity_row, finish_activity)?;
        self.finish_activities(rows)
    }

    // Stage gates, the deal workspace and the pipeline designer.

    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64> {
        let (origin, origin_opportunity) = pipewise_store::ops::origin_parts(criterion.origin);
        self.db()
            .prepare_cached(
                "INSERT INTO exit_criterion (organisation_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    criterion.stage_id.0,
                    criterion.label_en,
                    criterion.label_ko,
                    criterion.kind.kind_str(),
                    criterion.kind.argument(),
                    origin,
                    origin_opportunity.map(|id| id.0),
                    at.as_micros()
                ])
            })
            .map_err(db_err)
    }

    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>> {
        let sql = format!("SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = ?1 AND exit_criterion_id = ?2");
        self.one(&sql, params![org.0, id], criterion_row, finish_criterion)
    }

    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>> {
        let sql = format!(
            "SELECT {CRITERION_COLUMNS} FROM exit_criterion WHERE organisation_id = ?1 AND archived_at IS NULL
               AND stage_id IN (SELECT stage_id FROM stage WHERE organisation_id = ?1 AND pipeline_id = ?2)
             ORDER BY exit_criterion_id"
        );
        let rows = self.collect(&sql, params![org.0, pipeline.0], criterion_row, finish_criterion)?;
        Ok(rows.into_iter().map(|(criterion, _)| criterion).collect())
    }

    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE exit_criterion SET archived_at = ?3 WHERE organisation_id = ?1 AND exit_criterion_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, id, at.as_micros()]))
            .map_err(db_err)?;
        found(changed, gates::CRITERION_LABEL, id)
    }

    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO criterion_check (organisation_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    entry.opportunity_id.0,
                    entry.criterion_id,
                    entry.checked,
                    entry.evidence,
                    entry.at.as_micros(),
                    entry.actor_id.map(|id| id.0),
                    entry.source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>> {
        self.collect(
            "SELECT criterion_check_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source FROM criterion_check
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY criterion_check_id",
            params![org.0, opportunity.0],
            |row| {
                let entry = CheckEntry {
                    id: row.get(0)?,
                    opportunity_id: OpportunityId(row.get(1)?),
                    criterion_id: row.get(2)?,
                    checked: row.get(3)?,
                    evidence: row.get(4)?,
                    at: timestamp(row.get(5)?),
                    actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
                    source: Source::System,
                };
                Ok((entry, row.get::<_, String>(7)?))
            },
            |(mut entry, source)| {
                entry.source = parsed("criterion_check", &source, Source::parse)?;
                Ok(entry)
            },
        )
    }

    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO gate_override (organisation_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    opportunity.0,
                    record.by.map(|id| id.0),
                    record.at.as_micros(),
                    record.reason,
                    record.from_stage_id.0,
                    record.to_stage_id.0,
                    workspace_codec::unmet_to_json(&record.unmet),
                    source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>> {
        type Raw = (i64, i64, Option<i64>, i64, String, i64, i64, String, String);
        self.collect(
            "SELECT gate_override_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source FROM gate_override
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY gate_override_id",
            params![org.0, opportunity.0],
            |row| -> rusqlite::Result<Raw> {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
            },
            |(id, opportunity, actor, at, reason, from, to, unmet, source): Raw| {
                Ok(StoredOverride {
                    id,
                    opportunity_id: OpportunityId(opportunity),
                    source: parsed("gate_override", &source, Source::parse)?,
                    gate_override: GateOverride {
                        by: actor.map(UserId),
                        at: timestamp(at),
                        reason,
                        from_stage_id: StageId(from),
                        to_stage_id: StageId(to),
                        unmet: workspace_codec::unmet_from_json(&unmet).map_err(|detail| corrupt("gate_override", detail))?,
                    },
                })
            },
        )
    }

    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        self.one(
            "SELECT document FROM deal_workspace WHERE organisation_id = ?1 AND opportunity_id = ?2",
            params![org.0, opportunity.0],
            |row| row.get(0),
            identity,
        )
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO deal_workspace (opportunity_id, organisation_id, document, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (opportunity_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                 WHERE deal_workspace.organisation_id = excluded.organisation_id",
            )
            .and_then(|mut statement| statement.execute(params![opportunity.0, org.0, document, at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO workspace_history (organisation_id, opportunity_id, part, old_json, new_json, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    change.opportunity_id.0,
                    change.part,
                    change.old_json,
                    change.new_json,
                    change.at.as_micros(),
                    change.actor_id.map(|id| id.0),
                    change.source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>> {
        self.collect(
            "SELECT workspace_history_id, opportunity_id, part, old_json, new_json, at, actor_id, source FROM workspace_history
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY workspace_history_id",
            params![org.0, opportunity.0],
            |row| {
                let change = WorkspaceChange {
                    id: row.get(0)?,
                    opportunity_id: OpportunityId(row.get(1)?),
                    part: row.get(2)?,
                    old_json: row.get(3)?,
                    new_json: row.get(4)?,
                    at: timestamp(row.get(5)?),
                    actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
                    source: Source::System,
                };
                Ok((change, row.get::<_, String>(7)?))
            },
            |(mut change, source)| {
                change.source = parsed("workspace_history", &source, Source::parse)?;
                Ok(change)
            },
        )
    }

    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO handoff (organisation_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    handoff.opportunity_id.0,
                    handoff.from_user_id.0,
                    handoff.to_user_id.0,
                    handoff.actor_id.map(|id| id.0),
                    handoff.stage_id.0,
                    handoff.at.as_micros(),
                    handoff.source.as_str(),
                    handoff.note
                ])
            })
            .map_err(db_err)
    }

    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>> {
        self.collect(
            "SELECT handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note FROM handoff
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY handoff_id",
            params![org.0, opportunity.0],
            handoff_row,
            finish_handoff,
        )
    }

    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>> {
        self.collect(
            "SELECT handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note FROM handoff
             WHERE organisation_id = ?1 ORDER BY handoff_id",
            params![org.0],
            handoff_row,
            finish_handoff,
        )
    }

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks> {
        let marks = self.one(
            "SELECT sql_at, dropped_at, drop_reason FROM opportunity WHERE organisation_id = ?1 AND opportunity_id = ?2",
            params![org.0, opportunity.0],
            |row| {
                Ok(OpportunityMarks {
                    sql_at: row.get::<_, Option<i64>>(0)?.map(timestamp),
                    dropped_at: row.get::<_, Option<i64>>(1)?.map(timestamp),
                    drop_reason: row.get(2)?,
                })
            },
            identity,
        )?;
        marks.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity.0 })
    }

    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE opportunity SET sql_at = ?3, dropped_at = ?4, drop_reason = ?5 WHERE organisation_id = ?1 AND opportunity_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    opportunity.0,
                    marks.sql_at.map(Timestamp::as_micros),
                    marks.dropped_at.map(Timestamp::as_micros),
                    marks.drop_reason
                ])
            })
            .map_err(db_err)?;
        found(changed, OpportunityId::LABEL, opportunity.0)
    }

    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>> {
        let days = self.one(
            "SELECT average_cycle_days FROM team WHERE organisation_id = ?1 AND team_id = ?2",
            params![org.0, team.0],
            |row| row.get::<_, Option<u32>>(0),
            identity,
        )?;
        Ok(days.flatten())
    }

    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE team SET average_cycle_days = ?3 WHERE organisation_id = ?1 AND team_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, team.0, days]))
            .map_err(db_err)?;
        found(changed, TeamId::LABEL, team.0)
    }

    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>> {
        self.one(
            "SELECT thresholds, updated_at, updated_by FROM health_settings WHERE organisation_id = ?1",
            params![org.0],
            |row| {
                Ok(StoredHealthSettings {
                    document: row.get(0)?,
                    updated_at: timestamp(row.get(1)?),
                    updated_by: row.get::<_, Option<i64>>(2)?.map(UserId),
                })
            },
            identity,
        )
    }

    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO health_settings (organisation_id, thresholds, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (organisation_id) DO UPDATE
                 SET thresholds = excluded.thresholds, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .and_then(|mut statement| {
                statement.execute(params![org.0, settings.document, settings.updated_at.as_micros(), settings.updated_by.map(|id| id.0)])
            })
            .map_err(db_err)?;
        Ok(())
    }

    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)> {
        let totals = self.one(
            // Driven from the team's members through the owner index, not from every deal.
            "SELECT COUNT(*), COALESCE(SUM(closed_at - created_at), 0) FROM opportunity
             WHERE organisation_id = ?1 AND status = 'won' AND closed_at IS NOT NULL
               AND owner_id IN (SELECT user_id FROM app_user WHERE organisation_id = ?1 AND team_id = ?2)",
            params![org.0, team.0],
            |row| Ok((row.get(0)?, row.get(1)?)),
            identity,
        )?;
        Ok(totals.unwrap_or((0, 0)))
    }

    fn update_pipeline(&mut self, org: OrgId, id: PipelineId, name: &str, entry_stage_id: StageId) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached("UPDATE pipeline SET name = ?3, entry_stage_id = ?4 WHERE organisation_id = ?1 AND pipeline_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, id.0, name, entry_stage_id.0]))
            .map_err(db_err)?;
        found(changed, PipelineId::LABEL, id.0)
    }

    fn insert_stage(&mut self, org: OrgId, pipeline: PipelineId, stage: &NewStage) -> Result<StageId> {
        self.db()
            .prepare_cached(
                "INSERT INTO stage (organisation_id, pipeline_id, position, name_en, name_ko, kind, win_probability,
                                    forecast_category, counts_in_metrics, rotting_days)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM stage WHERE pipeline_id = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    pipeline.0,
                    stage.name_en,
                    stage.name_ko,
                    stage.kind.as_str(),
                    stage.win_probability.to_string(),
                    stage.forecast_category.as_str(),
                    stage.counts_in_metrics,
                    stage.rotting_days
                ])
            })
            .map(StageId)
            .map_err(db_err)
    }

    fn update_stage(&mut self, org: OrgId, stage: &Stage) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE stage SET name_en = ?3, name_ko = ?4, win_probability = ?5, forecast_category = ?6, counts_in_metrics = ?7,
                        rotting_days = ?8, archived_at = ?9
                 WHERE organisation_id = ?1 AND stage_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    stage.id.0,
                    stage.name_en,
                    stage.name_ko,
                    stage.win_probability.to_string(),
                    stage.forecast_category.as_str(),
                    stage.counts_in_metrics,
                    stage.rotting_days,
                    stage.archived_at.map(Timestamp::as_micros)
                ])
            })
            .map_err(db_err)?;
        found(changed, StageId::LABEL, stage.id.0)
    }

    fn set_stage_positions(&mut self, org: OrgId, pipeline: PipelineId, order: &[StageId]) -> Result<()> {
        // Positions are unique per pipeline: park every stage on a negative position first.
        self.db()
            .prepare_cached("UPDATE stage SET position = -1 - position WHERE organisation_id = ?1 AND pipeline_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, pipeline.0]))
            .map_err(db_err)?;
        let mut statement = self
            .db()
            .prepare_cached("UPDATE stage SET position = ?4 WHERE organisation_id = ?1 AND pipeline_id = ?2 AND stage_id = ?3")
            .map_err(db_err)?;
        for (position, stage) in order.iter().enumerate() {
            let changed = statement.execute(params![org.0, pipeline.0, stage.0, position as i64]).map_err(db_err)?;
            found(changed, StageId::LABEL, stage.0)?;
        }
        Ok(())
    }

    // Bulk loading: the single-row statements, prepared once and run in a loop inside the
    // caller's transaction, which is what makes SQLite fast (no per-row commit).

    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date,
                                          forecast_category, next_step, status, created_at, closed_at, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(db_err)?;
        opportunities
            .iter()
            .map(|opportunity| statement.insert(opportunity_params(org, opportunity)).map(OpportunityId).map_err(db_err))
            .collect()
    }

    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>> {
        if events.is_empty() {
            return Ok(0..0);
        }
        let count = events.len() as i64;
        let last: i64 = self
            .db()
            .prepare_cached("UPDATE organisation SET history_seq = history_seq + ?2 WHERE organisation_id = ?1 RETURNING history_seq")
            .and_then(|mut statement| statement.query_row(params![org.0, count], |row| row.get(0)))
            .optional()
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })?;
        let first = last - count + 1;
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db_err)?;
        for (offset, event) in events.iter().enumerate() {
            statement
                .execute(params![
                    org.0,
                    first + offset as i64,
                    event.opportunity_id.0,
                    event.change.field.as_str(),
                    event.change.old,
                    event.change.new,
                    event.at.as_micros(),
                    event.actor_id.map(|id| id.0),
                    event.source.as_str()
                ])
                .map_err(db_err)?;
        }
        Ok(first..last + 1)
    }

    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
        let mut insert = self
            .db()
            .prepare_cached(
                "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db_err)?;
        let mut link =
            self.db().prepare_cached("INSERT INTO activity_contact (activity_id, contact_id) VALUES (?1, ?2)").map_err(db_err)?;
        let mut ids = Vec::with_capacity(activities.len());
        let mut contacts = Vec::new();
        for (activity, logged_at) in activities {
            let id = insert
                .insert(params![
                    org.0,
                    activity.kind.as_str(),
                    activity.direction.as_str(),
                    activity.occurred_at.as_micros(),
                    logged_at.as_micros(),
                    activity.subject,
                    activity.body,
                    activity.source,
                    activity.user_id.map(|id| id.0),
                    activity.account_id.map(|id| id.0),
                    activity.opportunity_id.map(|id| id.0)
                ])
                .map_err(db_err)?;
            contacts.clear();
            contacts.extend(activity.contact_ids.iter().map(|contact| contact.0));
            contacts.sort_unstable();
            contacts.dedup();
            for contact in &contacts {
                link.execute(params![id, contact]).map_err(db_err)?;
            }
            ids.push(ActivityId(id));
        }
        Ok(ids)
    }

    fn database_size(&mut self) -> Result<u64> {
        let bytes: i64 = self
            .db()
            .query_row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", [], |row| row.get(0))
            .map_err(db_err)?;
        Ok(bytes.max(0) as u64)
    }
}

const TASK_COLUMNS: &str = "task_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at";

fn task_row(row: &Row<'_>) -> rusqlite::Result<(Task, Option<String>)> {
    let task = Task {
        id: TaskId(row.get(0)?),
        title: row.get(1)?,
        owner_id: UserId(row.get(2)?),
        due_on: None,
        completed_at: row.get::<_, Option<i64>>(4)?.map(timestamp),
        account_id: row.get::<_, Option<i64>>(5)?.map(AccountId),
        opportunity_id: row.get::<_, Option<i64>>(6)?.map(OpportunityId),
        lead_id: row.get::<_, Option<i64>>(7)?.map(LeadId),
        created_at: timestamp(row.get(8)?),
    };
    Ok((task, row.get(3)?))
}

fn finish_task((mut task, due_on): (Task, Option<String>)) -> Result<Task> {
    task.due_on = date("task", due_on)?;
    Ok(task)
}

const LEAD_COLUMNS: &str = "lead_id, name, company, email, phone, title, source, status, owner_id, created_at";

fn lead_row(row: &Row<'_>) -> rusqlite::Result<(Lead, String)> {
    let lead = Lead {
        id: LeadId(row.get(0)?),
        name: row.get(1)?,
        company: row.get(2)?,
        email: row.get(3)?,
        phone: row.get(4)?,
        title: row.get(5)?,
        source: row.get(6)?,
        status: LeadStatus::New,
        owner_id: row.get::<_, Option<i64>>(8)?.map(UserId),
        created_at: timestamp(row.get(9)?),
    };
    Ok((lead, row.get(7)?))
}

fn finish_lead((mut lead, status): (Lead, String)) -> Result<Lead> {
    lead.status = parsed("lead", &status, LeadStatus::parse)?;
    Ok(lead)
}

const API_TOKEN_COLUMNS: &str = "api_token_id, organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at";

fn api_token_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        org: OrgId(row.get(1)?),
        user_id: UserId(row.get(2)?),
        name: row.get(3)?,
        token_hash: row.get(4)?,
        prefix: row.get(5)?,
        created_at: timestamp(row.get(6)?),
        last_used_at: row.get::<_, Option<i64>>(7)?.map(timestamp),
        revoked_at: row.get::<_, Option<i64>>(8)?.map(timestamp),
    })
}

fn organisation_row(row: &Row<'_>) -> rusqlite::Result<(Organisation, String)> {
    let organisation =
        Organisation { id: OrgId(row.get(0)?), name: row.get(1)?, reporting_currency: Currency::USD, created_at: timestamp(row.get(3)?) };
    Ok((organisation, row.get(2)?))
}

fn finish_organisation((mut organisation, currency): (Organisation, String)) -> Result<Organisation> {
    organisation.reporting_currency = parsed("organisation", &currency, Currency::from_code)?;
    Ok(organisation)
}

fn team_row(row: &Row<'_>) -> rusqlite::Result<Team> {
    Ok(Team { id: TeamId(row.get(0)?), name: row.get(1)?, manager_id: row.get::<_, Option<i64>>(2)?.map(UserId) })
}

fn opportunity_params(org: OrgId, opportunity: &Opportunity) -> [Value; 15] {
    let text = |value: Option<String>| value.map_or(Value::Null, Value::Text);
    let integer = |value: Option<i64>| value.map_or(Value::Null, Value::Integer);
    [
        Value::Integer(org.0),
        Value::Text(opportunity.name.clone()),
        integer(opportunity.account_id.map(|id| id.0)),
        Value::Integer(opportunity.owner_id.0),
        Value::Integer(opportunity.pipeline_id.0),
        Value::Integer(opportunity.stage_id.0),
        text(opportunity.amount.map(|money| money.amount().to_string())),
        text(opportunity.amount.map(|money| money.currency().code().to_owned())),
        text(opportunity.close_date.map(|date| date.to_string())),
        Value::Text(opportunity.forecast_category.as_str().to_owned()),
        text(opportunity.next_step.clone()),
        Value::Text(opportunity.status.as_str().to_owned()),
        Value::Integer(opportunity.created_at.as_micros()),
        integer(opportunity.closed_at.map(Timestamp::as_micros)),
        text(opportunity.close_reason.clone()),
    ]
}

/// `Ok` when an update changed a row, else `NotFound`.
fn found(changed: usize, kind: &'static str, id: i64) -> Result<()> {
    if changed == 0 { Err(StoreError::NotFound { kind, id }) } else { Ok(()) }
}

/// The condition that keeps rows (tasks, activities) whose deal is in the scope, or whose
/// `person_column` is one of the scope's owners. Appends its parameters to `values`; `?1` is
/// the organisation.
fn scope_condition(
    person_column: &str,
    owners: &std::collections::BTreeSet<UserId>,
    shared_with: UserId,
    values: &mut Vec<Value>,
) -> String {
    let owners = format!("[{}]", owners.iter().map(|owner| owner.0.to_string()).collect::<Vec<_>>().join(","));
    values.push(Value::Text(owners));
    values.push(Value::Integer(shared_with.0));
    let (owners, shared) = (values.len() - 1, values.len());
    format!(
        " AND ({person_column} IN (SELECT value FROM json_each(?{owners})) OR opportunity_id IN \
         (SELECT opportunity_id FROM opportunity WHERE organisation_id = ?1 AND (owner_id IN (SELECT value FROM json_each(?{owners})) \
         OR opportunity_id IN (SELECT opportunity_id FROM opportunity_share WHERE organisation_id = ?1 AND user_id = ?{shared}))))"
    )
}
