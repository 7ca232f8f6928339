//! [`RecordsTx`] for SQLite: accounts, contacts, leads, tasks and counts.

use std::collections::HashMap;

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::{RecordKind, RecordsTx, Result, TaskFilter, sql};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::{Fields, NamedRow, conflict_or};

use super::{SqliteTx, db_err, found, scope_condition};

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
        Ok(self.load_accounts(org, Some(id))?.pop())
    }

    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>> {
        self.load_accounts(org, None)
    }

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId> {
        let id = self.returned_id(
            sql::INSERT_CONTACT,
            params![org.0, contact.name, contact.phone, contact.title, contact.account_id.map(|id| id.0), at.as_micros()],
        )?;
        self.insert_contact_emails(org, id, &contact.emails)?;
        Ok(ContactId(id))
    }

    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
        Ok(self.load_contacts(org, Some(id))?.pop())
    }

    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>> {
        self.load_contacts(org, None)
    }

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId> {
        let id = self.returned_id(
            sql::INSERT_LEAD,
            params![
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
            ],
        )?;
        Ok(LeadId(id))
    }

    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>> {
        self.one(sql::SELECT_LEAD, params![org.0, id.0], read_lead)
    }

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        self.collect(sql::SELECT_LEADS, [org.0], read_lead)
    }

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId> {
        let id = self.returned_id(
            sql::INSERT_TASK,
            params![
                org.0,
                task.title,
                task.owner_id.0,
                task.due_on.map(|date| date.to_string()),
                task.completed_at.map(Timestamp::as_micros),
                task.account_id.map(|id| id.0),
                task.opportunity_id.map(|id| id.0),
                task.lead_id.map(|id| id.0),
                at.as_micros()
            ],
        )?;
        Ok(TaskId(id))
    }

    fn task(&mut self, org: OrgId, id: TaskId) -> Result<Option<Task>> {
        self.one(sql::SELECT_TASK, params![org.0, id.0], read_task)
    }

    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut sql = format!(
            "SELECT {} FROM task WHERE organisation_id = ?1 AND (?2 IS NULL OR owner_id = ?2) AND (?3 IS NULL OR opportunity_id = ?3)
             AND (NOT ?4 OR completed_at IS NULL)",
            sql::TASK_COLUMNS
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
        self.collect(&sql, rusqlite::params_from_iter(values), read_task)
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
        let count = self.one(&format!("SELECT count(*) AS n FROM {table} WHERE organisation_id = ?1"), [org.0], |row| {
            Fields::new(row, table).get("n")
        })?;
        // An aggregate without GROUP BY always gives one row.
        Ok(count.unwrap_or(0))
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
        let changed = self.execute(
            "UPDATE contact SET name = ?3, phone = ?4, title = ?5, account_id = ?6 WHERE organisation_id = ?1 AND contact_id = ?2",
            params![org.0, contact.id.0, contact.name, contact.phone, contact.title, contact.account_id.map(|id| id.0)],
        )?;
        found(changed, ContactId::LABEL, contact.id.0)?;
        self.execute(sql::DELETE_CONTACT_EMAILS, params![org.0, contact.id.0])?;
        self.insert_contact_emails(org, contact.id.0, &contact.emails)
    }

    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()> {
        let changed = self.execute(
            "UPDATE lead SET name = ?3, company = ?4, email = ?5, phone = ?6, title = ?7, source = ?8, status = ?9, owner_id = ?10
             WHERE organisation_id = ?1 AND lead_id = ?2",
            params![
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
            ],
        )?;
        found(changed, LeadId::LABEL, lead.id.0)
    }

    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()> {
        let changed = self.execute(
            "UPDATE task SET title = ?3, owner_id = ?4, due_on = ?5, completed_at = ?6 WHERE organisation_id = ?1 AND task_id = ?2",
            params![
                org.0,
                task.id.0,
                task.title,
                task.owner_id.0,
                task.due_on.map(|date| date.to_string()),
                task.completed_at.map(Timestamp::as_micros)
            ],
        )?;
        found(changed, TaskId::LABEL, task.id.0)
    }
}

impl SqliteTx<'_> {
    /// One account (`only`) or every account of the organisation, with their domains: one query
    /// for the accounts and one for the domains.
    fn load_accounts(&self, org: OrgId, only: Option<AccountId>) -> Result<Vec<Account>> {
        let (mut accounts, mut domains) = match only {
            Some(id) => (
                self.collect(sql::SELECT_ACCOUNT, params![org.0, id.0], read_account)?,
                self.texts_by_parent(
                    "SELECT account_id, domain FROM account_domain WHERE account_id = ?1 ORDER BY position",
                    [id.0],
                    "account_domain",
                    "account_id",
                    "domain",
                )?,
            ),
            None => (
                self.collect(sql::SELECT_ACCOUNTS, [org.0], read_account)?,
                self.texts_by_parent(sql::SELECT_ACCOUNT_DOMAINS, [org.0], "account_domain", "account_id", "domain")?,
            ),
        };
        for account in &mut accounts {
            account.domains = domains.remove(&account.id.0).unwrap_or_default();
        }
        Ok(accounts)
    }

    /// One contact (`only`) or every contact of the organisation, with their e-mail addresses:
    /// one query for the contacts and one for the addresses.
    fn load_contacts(&self, org: OrgId, only: Option<ContactId>) -> Result<Vec<Contact>> {
        let (mut contacts, mut emails) = match only {
            Some(id) => (
                self.collect(sql::SELECT_CONTACT, params![org.0, id.0], read_contact)?,
                self.texts_by_parent(
                    "SELECT contact_id, email FROM contact_email WHERE contact_id = ?1 ORDER BY position",
                    [id.0],
                    "contact_email",
                    "contact_id",
                    "email",
                )?,
            ),
            None => (
                self.collect(sql::SELECT_CONTACTS, [org.0], read_contact)?,
                self.texts_by_parent(sql::SELECT_CONTACT_EMAILS, [org.0], "contact_email", "contact_id", "email")?,
            ),
        };
        for contact in &mut contacts {
            contact.emails = emails.remove(&contact.id.0).unwrap_or_default();
        }
        Ok(contacts)
    }

    /// The texts of a child table (domains, e-mail addresses) grouped by their parent's id, in
    /// row order.
    fn texts_by_parent(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        table: &'static str,
        parent_column: &str,
        text_column: &str,
    ) -> Result<HashMap<i64, Vec<String>>> {
        let rows = self.collect(sql, params, |row| {
            let fields = Fields::new(row, table);
            Ok((fields.get::<i64>(parent_column)?, fields.get::<String>(text_column)?))
        })?;
        let mut grouped: HashMap<i64, Vec<String>> = HashMap::new();
        for (parent, text) in rows {
            grouped.entry(parent).or_default().push(text);
        }
        Ok(grouped)
    }

    fn insert_account_rows(&self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        let id = self.returned_id(
            sql::INSERT_ACCOUNT,
            params![
                org.0,
                account.name,
                account.industry,
                account.employee_count,
                account.region,
                account.owner_id.map(|id| id.0),
                at.as_micros()
            ],
        )?;
        self.insert_account_domains(org, id, &account.domains, |domain| {
            format!("new account: domains: {domain} already belongs to another account")
        })?;
        Ok(AccountId(id))
    }

    fn update_account_rows(&self, org: OrgId, account: &Account) -> Result<()> {
        let changed = self.execute(
            "UPDATE account SET name = ?3, industry = ?4, employee_count = ?5, region = ?6, owner_id = ?7
             WHERE organisation_id = ?1 AND account_id = ?2",
            params![
                org.0,
                account.id.0,
                account.name,
                account.industry,
                account.employee_count,
                account.region,
                account.owner_id.map(|id| id.0)
            ],
        )?;
        found(changed, AccountId::LABEL, account.id.0)?;
        self.execute(sql::DELETE_ACCOUNT_DOMAINS, params![org.0, account.id.0])?;
        self.insert_account_domains(org, account.id.0, &account.domains, |domain| {
            format!("account {}: domains: {domain} already belongs to another account", account.id)
        })
    }

    /// Lists `domains` under `account` in order; a domain another account holds is a conflict
    /// worded by `taken`.
    fn insert_account_domains(&self, org: OrgId, account: i64, domains: &[String], taken: impl Fn(&str) -> String) -> Result<()> {
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO account_domain (organisation_id, domain, account_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, domain) in domains.iter().enumerate() {
            statement.execute(params![org.0, domain, account, position as i64]).map_err(|error| conflict_or(error, || taken(domain)))?;
        }
        Ok(())
    }

    /// Lists `emails` under `contact` in order.
    fn insert_contact_emails(&self, org: OrgId, contact: i64, emails: &[String]) -> Result<()> {
        let mut statement = self
            .db()
            .prepare_cached("INSERT INTO contact_email (organisation_id, email, contact_id, position) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db_err)?;
        for (position, email) in emails.iter().enumerate() {
            statement.execute(params![org.0, email, contact, position as i64]).map_err(db_err)?;
        }
        Ok(())
    }
}

fn read_account(row: &NamedRow<'_, '_>) -> Result<Account> {
    let mut fields = Fields::new(row, "account");
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

fn read_contact(row: &NamedRow<'_, '_>) -> Result<Contact> {
    let mut fields = Fields::new(row, "contact");
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

fn read_lead(row: &NamedRow<'_, '_>) -> Result<Lead> {
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

fn read_task(row: &NamedRow<'_, '_>) -> Result<Task> {
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
