//! [`RecordsTx`] for SQLite: accounts, contacts, leads, tasks and counts.

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::{ACCOUNT_DOMAINS, CONTACT_EMAILS, Columns, FromRow, TextList};
use pipewise_store::{
    AccountFacets, AccountFilter, BoundValue, ContactFilter, NameOrder, NamePage, RecordKind, RecordsTx, Result, StoreError, TaskFilter,
    conflict, sql,
};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::{Fields, conflict_or, read};

use super::{SqliteTx, db_err, found, scope_condition};

/// One of an account's domains: the organisation, the domain, the account and its position.
const INSERT_ACCOUNT_DOMAIN: &str = "INSERT INTO account_domain (organisation_id, domain, account_id, position) VALUES (?1, ?2, ?3, ?4)";

/// One of a contact's e-mail addresses: the organisation, the address, the contact and its position.
const INSERT_CONTACT_EMAIL: &str = "INSERT INTO contact_email (organisation_id, email, contact_id, position) VALUES (?1, ?2, ?3, ?4)";

/// A contact's e-mail addresses (`?1`), by position. SQLite's own: with the organisation in the
/// condition too, the planner would walk the organisation's addresses (`contact_email_address`)
/// instead of the contact's (the primary key).
const SELECT_EMAILS_OF_CONTACT: &str = "SELECT contact_id, email FROM contact_email WHERE contact_id = ?1 ORDER BY position";

/// The accounts of the organisation (`?1`) that meet `rest` (a condition, its order and limit).
fn account_query(rest: &str) -> String {
    format!("SELECT {} FROM account WHERE organisation_id = ?1 AND {rest}", sql::ACCOUNT_COLUMNS)
}

impl RecordsTx for SqliteTx<'_> {
    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        // A taken domain must not leave the account row behind in a transaction that goes on.
        sql::in_savepoint(self, "insert_account", SqliteTx::batch, |tx| {
            let id = tx.returned_id(
                sql::INSERT_ACCOUNT,
                params![
                    org.0,
                    account.name,
                    account.industry,
                    account.employee_count,
                    account.region,
                    account.owner_id.map(|id| id.0),
                    at.as_micros(),
                    pipewise_store::name_key(&account.name)
                ],
            )?;
            tx.insert_account_domains(org, id, &account.domains, None)?;
            Ok(AccountId(id))
        })
    }

    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>> {
        let key = params![org.0, id.0];
        Ok(self.with_texts((sql::SELECT_ACCOUNT, key), &ACCOUNT_DOMAINS, (sql::SELECT_DOMAINS_OF_ACCOUNT, key))?.pop())
    }

    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>> {
        self.with_texts((sql::SELECT_ACCOUNTS, [org.0]), &ACCOUNT_DOMAINS, (sql::SELECT_ACCOUNT_DOMAINS, [org.0]))
    }

    fn accounts_by_ids(&mut self, org: OrgId, ids: &[AccountId]) -> Result<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One JSON array parameter, so the statement does not grow with the ids.
        let ids = super::json_array(ids.iter().map(|id| id.0));
        let accounts = account_query("account_id IN (SELECT value FROM json_each(?2)) ORDER BY account_id");
        // By account (`account_domain_account`): with the organisation in the condition, the
        // planner walks all its domains by the primary key instead. Only the domains of the
        // accounts found are attached.
        let domains = "SELECT account_id, domain FROM account_domain \
                       WHERE account_id IN (SELECT value FROM json_each(?1)) ORDER BY account_id, position";
        self.with_texts((&accounts, params![org.0, ids]), &ACCOUNT_DOMAINS, (domains, params![ids]))
    }

    fn search_accounts(&mut self, org: OrgId, query: &str, limit: u32) -> Result<Vec<Account>> {
        let found = account_query(
            "instr(lower(name), lower(?2)) > 0 ORDER BY instr(lower(name), lower(?2)) <> 1, lower(name), account_id LIMIT ?3",
        );
        let mut accounts = self.collect(&found, params![org.0, query, limit], read)?;
        let ids: Vec<AccountId> = accounts.iter().map(|account: &Account| account.id).collect();
        // The domains of the few found, listed in the same order.
        let with_domains = self.accounts_by_ids(org, &ids)?;
        for account in &mut accounts {
            if let Some(full) = with_domains.iter().find(|full| full.id == account.id) {
                account.domains = full.domains.clone();
            }
        }
        Ok(accounts)
    }

    fn account_page(&mut self, org: OrgId, filter: &AccountFilter, order: NameOrder) -> Result<NamePage<AccountId>> {
        let conditions = filter.conditions();
        self.name_page("account", "account_id", org, conditions, order, AccountId)
    }

    fn account_facets(&mut self, org: OrgId) -> Result<AccountFacets> {
        let values = |tx: &SqliteTx<'_>, sql: &str| -> Result<Vec<String>> {
            let mut statement = tx.db().prepare_cached(sql).map_err(super::db_err)?;
            statement.query_map([org.0], |row| row.get::<_, String>(0)).and_then(Iterator::collect).map_err(super::db_err)
        };
        Ok(AccountFacets { industries: values(self, sql::SELECT_ACCOUNT_INDUSTRIES)?, regions: values(self, sql::SELECT_ACCOUNT_REGIONS)? })
    }

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId> {
        let id = self.returned_id(
            sql::INSERT_CONTACT,
            params![
                org.0,
                contact.name,
                contact.phone,
                contact.title,
                contact.account_id.map(|id| id.0),
                at.as_micros(),
                pipewise_store::name_key(&contact.name)
            ],
        )?;
        self.insert_contact_emails(org, id, &contact.emails)?;
        Ok(ContactId(id))
    }

    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
        Ok(self.with_texts((sql::SELECT_CONTACT, params![org.0, id.0]), &CONTACT_EMAILS, (SELECT_EMAILS_OF_CONTACT, [id.0]))?.pop())
    }

    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>> {
        self.with_texts((sql::SELECT_CONTACTS, [org.0]), &CONTACT_EMAILS, (sql::SELECT_CONTACT_EMAILS, [org.0]))
    }

    fn contacts_of_account(&mut self, org: OrgId, account: AccountId) -> Result<Vec<Contact>> {
        let key = params![org.0, account.0];
        self.with_texts((sql::SELECT_CONTACTS_OF_ACCOUNT, key), &CONTACT_EMAILS, (sql::SELECT_EMAILS_OF_ACCOUNT_CONTACTS, key))
    }

    fn contact_page(&mut self, org: OrgId, filter: &ContactFilter, order: NameOrder) -> Result<NamePage<ContactId>> {
        let conditions = filter.conditions();
        self.name_page("contact", "contact_id", org, conditions, order, ContactId)
    }

    fn contacts_by_ids(&mut self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = super::json_array(ids.iter().map(|id| id.0));
        let contacts = format!(
            "SELECT {} FROM contact WHERE organisation_id = ?1 AND contact_id IN (SELECT value FROM json_each(?2)) ORDER BY contact_id",
            sql::CONTACT_COLUMNS
        );
        // By contact: the primary key, as `SELECT_EMAILS_OF_CONTACT` says.
        let emails = "SELECT contact_id, email FROM contact_email WHERE contact_id IN (SELECT value FROM json_each(?1)) \
                      ORDER BY contact_id, position";
        self.with_texts((&contacts, params![org.0, ids]), &CONTACT_EMAILS, (emails, params![ids]))
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
                at.as_micros(),
                lead.industry,
                lead.employee_count,
                lead.region
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
        sql::in_savepoint(self, "update_account", SqliteTx::batch, |tx| {
            let changed = tx.execute(
                sql::UPDATE_ACCOUNT,
                params![
                    account.name,
                    account.industry,
                    account.employee_count,
                    account.region,
                    account.owner_id.map(|id| id.0),
                    pipewise_store::name_key(&account.name),
                    org.0,
                    account.id.0
                ],
            )?;
            found(changed, AccountId::LABEL, account.id.0)?;
            tx.execute(sql::DELETE_ACCOUNT_DOMAINS, params![org.0, account.id.0])?;
            tx.insert_account_domains(org, account.id.0, &account.domains, Some(account.id))
        })
    }

    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()> {
        let changed = self.execute(
            sql::UPDATE_CONTACT,
            params![
                contact.name,
                contact.phone,
                contact.title,
                contact.account_id.map(|id| id.0),
                pipewise_store::name_key(&contact.name),
                org.0,
                contact.id.0
            ],
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
                lead.industry,
                lead.employee_count,
                lead.region,
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
    /// Runs statement text (savepoints).
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.db().execute_batch(sql).map_err(db_err)
    }

    /// The records one statement selects, with their texts of `list`, which another selects (one
    /// statement for all of them).
    fn with_texts<T: FromRow>(
        &self,
        (records, params): (&str, impl rusqlite::Params),
        list: &TextList<T>,
        (texts, texts_params): (&str, impl rusqlite::Params),
    ) -> Result<Vec<T>> {
        let mut records = self.collect(records, params, read)?;
        let texts = self.collect(texts, texts_params, |row| list.read(&Fields::new(row, list.table)))?;
        list.attach(&mut records, texts);
        Ok(records)
    }

    /// A page of `table` in name order with its count, for [`RecordsTx::account_page`] and
    /// [`RecordsTx::contact_page`].
    fn name_page<Id>(
        &self,
        table: &str,
        id_column: &str,
        org: OrgId,
        mut conditions: (String, Vec<BoundValue>),
        order: NameOrder,
        id: fn(i64) -> Id,
    ) -> Result<NamePage<Id>> {
        let bound = |values: &[BoundValue]| -> Vec<Value> {
            std::iter::once(Value::Integer(org.0))
                .chain(values.iter().map(|value| match value {
                    BoundValue::Id(id) => Value::Integer(*id),
                    BoundValue::Text(text) => Value::Text(text.clone()),
                }))
                .collect()
        };
        let count = format!("SELECT count(*) FROM {table} WHERE organisation_id = $1{}", conditions.0);
        let total: i64 = self
            .db()
            .prepare_cached(&count)
            .and_then(|mut statement| statement.query_row(rusqlite::params_from_iter(bound(&conditions.1)), |row| row.get(0)))
            .map_err(super::db_err)?;
        let clauses = order.clauses(id_column, &mut conditions);
        let page = format!("SELECT {id_column} FROM {table} WHERE organisation_id = $1{}{clauses}", conditions.0);
        let mut statement = self.db().prepare_cached(&page).map_err(super::db_err)?;
        let ids = statement
            .query_map(rusqlite::params_from_iter(bound(&conditions.1)), |row| row.get::<_, i64>(0))
            .and_then(|rows| rows.map(|row| row.map(id)).collect::<rusqlite::Result<Vec<Id>>>())
            .map_err(super::db_err)?;
        Ok(NamePage { ids, total: u64::try_from(total).unwrap_or(0) })
    }

    /// Lists `domains` under `account` (`Some` when it is stored already) in order; a domain
    /// another account holds is a conflict.
    fn insert_account_domains(&self, org: OrgId, account: i64, domains: &[String], stored: Option<AccountId>) -> Result<()> {
        self.insert_texts(INSERT_ACCOUNT_DOMAIN, org, account, domains, |error, domain| {
            conflict_or(error, || conflict::domain_taken(stored, domain))
        })
    }

    /// Lists `emails` under `contact` in order.
    fn insert_contact_emails(&self, org: OrgId, contact: i64, emails: &[String]) -> Result<()> {
        self.insert_texts(INSERT_CONTACT_EMAIL, org, contact, emails, |error, _| db_err(error))
    }

    /// Runs `sql` (the organisation, a text, its record `parent` and its position) for each of
    /// `texts` in order; `failed` says what a failure to list a text means.
    fn insert_texts(
        &self,
        sql: &str,
        org: OrgId,
        parent: i64,
        texts: &[String],
        failed: impl Fn(rusqlite::Error, &str) -> StoreError,
    ) -> Result<()> {
        let mut statement = self.db().prepare_cached(sql).map_err(db_err)?;
        for (position, text) in texts.iter().enumerate() {
            statement.execute(params![org.0, text, parent, position as i64]).map_err(|error| failed(error, text))?;
        }
        Ok(())
    }
}
