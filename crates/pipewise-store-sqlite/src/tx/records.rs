//! [`RecordsTx`] for SQLite: accounts, contacts, leads, tasks and counts.

use std::collections::HashMap;

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{RecordKind, RecordsTx, Result, TaskFilter, sql};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::{Fields, conflict_or, read};

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
        self.one(sql::SELECT_LEAD, params![org.0, id.0], read)
    }

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        self.collect(sql::SELECT_LEADS, [org.0], read)
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
        self.one(sql::SELECT_TASK, params![org.0, id.0], read)
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
        self.collect(&sql, rusqlite::params_from_iter(values), read)
    }

    fn count(&mut self, org: OrgId, kind: RecordKind) -> Result<i64> {
        let count = self.one(&sql::select_count(kind), [org.0], |row| Fields::new(row, kind.table()).get("n"))?;
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
            sql::UPDATE_CONTACT,
            params![contact.name, contact.phone, contact.title, contact.account_id.map(|id| id.0), org.0, contact.id.0],
        )?;
        found(changed, ContactId::LABEL, contact.id.0)?;
        self.execute(sql::DELETE_CONTACT_EMAILS, params![org.0, contact.id.0])?;
        self.insert_contact_emails(org, contact.id.0, &contact.emails)
    }

    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()> {
        let changed = self.execute(
            sql::UPDATE_LEAD,
            params![
                lead.name,
                lead.company,
                lead.email,
                lead.phone,
                lead.title,
                lead.source,
                lead.status.as_str(),
                lead.owner_id.map(|id| id.0),
                org.0,
                lead.id.0
            ],
        )?;
        found(changed, LeadId::LABEL, lead.id.0)
    }

    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()> {
        let changed = self.execute(
            sql::UPDATE_TASK,
            params![
                task.title,
                task.owner_id.0,
                task.due_on.map(|date| date.to_string()),
                task.completed_at.map(Timestamp::as_micros),
                org.0,
                task.id.0
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
                self.collect(sql::SELECT_ACCOUNT, params![org.0, id.0], read::<Account>)?,
                self.texts_by_parent(sql::SELECT_DOMAINS_OF_ACCOUNT, params![org.0, id.0], "account_domain", "account_id", "domain")?,
            ),
            None => (
                self.collect(sql::SELECT_ACCOUNTS, [org.0], read)?,
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
                self.collect(sql::SELECT_CONTACT, params![org.0, id.0], read::<Contact>)?,
                // SQLite's own: with the organisation in the condition too, the planner would
                // walk the organisation's addresses (`contact_email_address`) instead of the
                // contact's (the primary key).
                self.texts_by_parent(
                    "SELECT contact_id, email FROM contact_email WHERE contact_id = ?1 ORDER BY position",
                    [id.0],
                    "contact_email",
                    "contact_id",
                    "email",
                )?,
            ),
            None => (
                self.collect(sql::SELECT_CONTACTS, [org.0], read)?,
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
            sql::UPDATE_ACCOUNT,
            params![
                account.name,
                account.industry,
                account.employee_count,
                account.region,
                account.owner_id.map(|id| id.0),
                org.0,
                account.id.0
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
