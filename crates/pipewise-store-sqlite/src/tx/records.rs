//! [`RecordsTx`] for SQLite: accounts, contacts, leads, tasks and counts.

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::{RecordKind, RecordsTx, Result, TaskFilter};
use rusqlite::types::Value;
use rusqlite::{Row, params};

use crate::rows::{conflict_or, date, parsed, timestamp};

use super::{SqliteTx, db_err, found, identity, scope_condition};

const ACCOUNT_SELECT: &str = "SELECT account_id, name, industry, employee_count, region, owner_id, created_at FROM account";
const CONTACT_SELECT: &str = "SELECT contact_id, name, phone, title, account_id, created_at FROM contact";
const LEAD_COLUMNS: &str = "lead_id, name, company, email, phone, title, source, status, owner_id, created_at";
const TASK_COLUMNS: &str = "task_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at";

impl RecordsTx for SqliteTx<'_> {
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

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        let sql = format!("SELECT {LEAD_COLUMNS} FROM lead WHERE organisation_id = ?1 ORDER BY lead_id");
        self.collect(&sql, [org.0], lead_row, finish_lead)
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
}

impl SqliteTx<'_> {
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
