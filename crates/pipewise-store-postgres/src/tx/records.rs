//! [`RecordsTx`] for PostgreSQL: accounts, contacts, leads, tasks and counts.

use std::collections::HashSet;

use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::{ACCOUNT_DOMAINS, CONTACT_EMAILS, Columns, FromRow, TextList};
use pipewise_store::{
    AccountFacets, AccountFilter, BoundValue, ContactFilter, NameOrder, NamePage, RecordKind, RecordsTx, Result, StoreError, TaskFilter,
    conflict, sql,
};

use crate::fields::{Fields, read};

use super::{Params, PgTx, VISIBLE_DEALS, found, scope_params};

/// A contact's e-mail addresses (`$2`), by position.
const SELECT_EMAILS_OF_CONTACT: &str =
    "SELECT contact_id, email FROM contact_email WHERE organisation_id = $1 AND contact_id = $2 ORDER BY position";

/// The accounts of the organisation (`$1`) that meet `rest` (a condition, its order and limit).
fn account_query(rest: &str) -> String {
    format!("SELECT {} FROM account WHERE organisation_id = $1 AND {rest}", sql::ACCOUNT_COLUMNS)
}

impl RecordsTx for PgTx<'_> {
    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId> {
        let insert = |tx: &mut PgTx<'_>| {
            let id = tx.returned_id(
                "account",
                sql::INSERT_ACCOUNT,
                &[
                    &org.0,
                    &account.name,
                    &account.industry,
                    &account.employee_count,
                    &account.region,
                    &account.owner_id.map(|id| id.0),
                    &at.to_jiff(),
                    &pipewise_store::name_key(&account.name),
                ],
            )?;
            tx.insert_account_domains(org, id, &account.domains, None)?;
            Ok(AccountId(id))
        };
        if account.domains.is_empty() {
            return insert(self);
        }
        // A savepoint lets a taken domain undo the account row and leave the transaction usable.
        sql::in_savepoint(self, "insert_account", PgTx::simple, insert)
    }

    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>> {
        Ok(self.with_texts(sql::SELECT_ACCOUNT, &ACCOUNT_DOMAINS, sql::SELECT_DOMAINS_OF_ACCOUNT, &[&org.0, &id.0])?.pop())
    }

    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>> {
        self.with_texts(sql::SELECT_ACCOUNTS, &ACCOUNT_DOMAINS, sql::SELECT_ACCOUNT_DOMAINS, &[&org.0])
    }

    fn accounts_by_ids(&mut self, org: OrgId, ids: &[AccountId]) -> Result<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let accounts = account_query("account_id = ANY($2::bigint[]) ORDER BY account_id");
        let domains = "SELECT account_id, domain FROM account_domain WHERE organisation_id = $1 \
                       AND account_id = ANY($2::bigint[]) ORDER BY account_id, position";
        self.with_texts(&accounts, &ACCOUNT_DOMAINS, domains, &[&org.0, &ids])
    }

    fn search_accounts(&mut self, org: OrgId, query: &str, limit: u32) -> Result<Vec<Account>> {
        let found = account_query(
            "strpos(lower(name), lower($2)) > 0 ORDER BY strpos(lower(name), lower($2)) <> 1, lower(name), account_id LIMIT $3",
        );
        let mut accounts = self.collect(&found, &[&org.0, &query, &i64::from(limit)], read)?;
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
        let mut values = |sql: &str| -> Result<Vec<String>> {
            self.query(sql, &[&org.0])?.iter().map(|row| row.try_get::<_, String>("value").map_err(crate::error::from_postgres)).collect()
        };
        Ok(AccountFacets { industries: values(sql::SELECT_ACCOUNT_INDUSTRIES)?, regions: values(sql::SELECT_ACCOUNT_REGIONS)? })
    }

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId> {
        let id = self.returned_id(
            "contact",
            sql::INSERT_CONTACT,
            &[
                &org.0,
                &contact.name,
                &contact.phone,
                &contact.title,
                &contact.account_id.map(|id| id.0),
                &at.to_jiff(),
                &pipewise_store::name_key(&contact.name),
            ],
        )?;
        self.insert_contact_emails(org, id, &contact.emails)?;
        Ok(ContactId(id))
    }

    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
        Ok(self.with_texts(sql::SELECT_CONTACT, &CONTACT_EMAILS, SELECT_EMAILS_OF_CONTACT, &[&org.0, &id.0])?.pop())
    }

    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>> {
        self.with_texts(sql::SELECT_CONTACTS, &CONTACT_EMAILS, sql::SELECT_CONTACT_EMAILS, &[&org.0])
    }

    fn contacts_of_account(&mut self, org: OrgId, account: AccountId) -> Result<Vec<Contact>> {
        self.with_texts(sql::SELECT_CONTACTS_OF_ACCOUNT, &CONTACT_EMAILS, sql::SELECT_EMAILS_OF_ACCOUNT_CONTACTS, &[&org.0, &account.0])
    }

    fn contact_page(&mut self, org: OrgId, filter: &ContactFilter, order: NameOrder) -> Result<NamePage<ContactId>> {
        let conditions = filter.conditions();
        self.name_page("contact", "contact_id", org, conditions, order, ContactId)
    }

    fn contacts_by_ids(&mut self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let contacts = format!(
            "SELECT {} FROM contact WHERE organisation_id = $1 AND contact_id = ANY($2::bigint[]) ORDER BY contact_id",
            sql::CONTACT_COLUMNS
        );
        let emails = "SELECT contact_id, email FROM contact_email WHERE organisation_id = $1 \
                      AND contact_id = ANY($2::bigint[]) ORDER BY contact_id, position";
        self.with_texts(&contacts, &CONTACT_EMAILS, emails, &[&org.0, &ids])
    }

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId> {
        let id = self.returned_id(
            "lead",
            sql::INSERT_LEAD,
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
                &lead.industry,
                &lead.employee_count,
                &lead.region,
            ],
        )?;
        Ok(LeadId(id))
    }

    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>> {
        self.one(sql::SELECT_LEAD, &[&org.0, &id.0], read)
    }

    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>> {
        self.collect(sql::SELECT_LEADS, &[&org.0], read)
    }

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId> {
        let id = self.returned_id(
            "task",
            sql::INSERT_TASK,
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
        self.one(sql::SELECT_TASK, &[&org.0, &id.0], read)
    }

    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>> {
        let owner = filter.owner_id.map(|id| id.0);
        let opportunity = filter.opportunity_id.map(|id| id.0);
        let (scoped, owners, shared_with) = scope_params(filter.scope.as_ref());
        self.collect(
            &format!(
                "SELECT {} FROM task WHERE organisation_id = $1 AND ($2::bigint IS NULL OR owner_id = $2)
                 AND ($3::bigint IS NULL OR opportunity_id = $3) AND (NOT $4 OR completed_at IS NULL)
                 AND (NOT $5 OR owner_id = ANY($6::bigint[]) OR opportunity_id IN {VISIBLE_DEALS})
                 ORDER BY due_on IS NULL, due_on, task_id",
                sql::TASK_COLUMNS
            ),
            &[&org.0, &owner, &opportunity, &filter.open_only, &scoped, &owners, &shared_with],
            read,
        )
    }

    fn count(&mut self, org: OrgId, kind: RecordKind) -> Result<i64> {
        let row = self.query_one(&sql::select_count(kind), &[&org.0])?;
        Fields::new(&row, kind.table()).get("n")
    }

    fn update_account(&mut self, org: OrgId, account: &Account) -> Result<()> {
        // A savepoint lets a taken domain undo the whole change and leave the transaction usable.
        sql::in_savepoint(self, "update_account", PgTx::simple, |tx| {
            let updated = tx.execute(
                sql::UPDATE_ACCOUNT,
                &[
                    &account.name,
                    &account.industry,
                    &account.employee_count,
                    &account.region,
                    &account.owner_id.map(|id| id.0),
                    &pipewise_store::name_key(&account.name),
                    &org.0,
                    &account.id.0,
                ],
            )?;
            found(updated, AccountId::LABEL, account.id.0)?;
            tx.execute(sql::DELETE_ACCOUNT_DOMAINS, &[&org.0, &account.id.0])?;
            tx.insert_account_domains(org, account.id.0, &account.domains, Some(account.id))
        })
    }

    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()> {
        let updated = self.execute(
            sql::UPDATE_CONTACT,
            &[
                &contact.name,
                &contact.phone,
                &contact.title,
                &contact.account_id.map(|id| id.0),
                &pipewise_store::name_key(&contact.name),
                &org.0,
                &contact.id.0,
            ],
        )?;
        found(updated, ContactId::LABEL, contact.id.0)?;
        self.execute(sql::DELETE_CONTACT_EMAILS, &[&org.0, &contact.id.0])?;
        self.insert_contact_emails(org, contact.id.0, &contact.emails)
    }

    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()> {
        let updated = self.execute(
            sql::UPDATE_LEAD,
            &[
                &lead.name,
                &lead.company,
                &lead.email,
                &lead.phone,
                &lead.title,
                &lead.source,
                &lead.status.as_str(),
                &lead.owner_id.map(|id| id.0),
                &lead.industry,
                &lead.employee_count,
                &lead.region,
                &org.0,
                &lead.id.0,
            ],
        )?;
        found(updated, LeadId::LABEL, lead.id.0)
    }

    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()> {
        let updated = self.execute(
            sql::UPDATE_TASK,
            &[&task.title, &task.owner_id.0, &task.due_on, &task.completed_at.map(Timestamp::to_jiff), &org.0, &task.id.0],
        )?;
        found(updated, TaskId::LABEL, task.id.0)
    }
}

impl PgTx<'_> {
    /// The records `sql` selects, with their texts of `list`, which `texts` selects (one statement
    /// for all of them); both statements take `params`.
    fn with_texts<T: FromRow>(&mut self, sql: &str, list: &TextList<T>, texts: &str, params: &Params<'_>) -> Result<Vec<T>> {
        let mut records = self.collect(sql, params, read)?;
        let texts = self.collect(texts, params, |row| list.read(&Fields::new(row, list.table)))?;
        list.attach(&mut records, texts);
        Ok(records)
    }

    /// A page of `table` in name order with its count, for [`RecordsTx::account_page`] and
    /// [`RecordsTx::contact_page`].
    fn name_page<Id>(
        &mut self,
        table: &str,
        id_column: &str,
        org: OrgId,
        mut conditions: (String, Vec<BoundValue>),
        order: NameOrder,
        id: fn(i64) -> Id,
    ) -> Result<NamePage<Id>> {
        fn bound<'a>(org: &'a i64, values: &'a [BoundValue]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
            std::iter::once(org as &(dyn postgres::types::ToSql + Sync))
                .chain(values.iter().map(|value| match value {
                    BoundValue::Id(id) => id as &(dyn postgres::types::ToSql + Sync),
                    BoundValue::Text(text) => text as &(dyn postgres::types::ToSql + Sync),
                }))
                .collect()
        }
        let count = format!("SELECT count(*) AS n FROM {table} WHERE organisation_id = $1{}", conditions.0);
        let total: i64 = self.query_one(&count, &bound(&org.0, &conditions.1))?.try_get("n").map_err(crate::error::from_postgres)?;
        let clauses = order.clauses(id_column, &mut conditions);
        let page = format!("SELECT {id_column} AS id FROM {table} WHERE organisation_id = $1{}{clauses}", conditions.0);
        let ids = self
            .query(&page, &bound(&org.0, &conditions.1))?
            .iter()
            .map(|row| row.try_get::<_, i64>("id").map(id).map_err(crate::error::from_postgres))
            .collect::<Result<Vec<Id>>>()?;
        Ok(NamePage { ids, total: u64::try_from(total).unwrap_or(0) })
    }

    /// Lists `domains` under `account` (`Some` when it is stored already) in order; a domain
    /// another account holds is a conflict, which leaves the transaction usable.
    fn insert_account_domains(&mut self, org: OrgId, account: i64, domains: &[String], stored: Option<AccountId>) -> Result<()> {
        if domains.is_empty() {
            return Ok(());
        }
        let inserted = self.query(
            "INSERT INTO account_domain (organisation_id, domain, account_id, position) \
             SELECT $1, domain, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (domain, position) \
             ON CONFLICT (organisation_id, domain) DO NOTHING RETURNING domain",
            &[&org.0, &account, &domains],
        )?;
        let inserted =
            inserted.iter().map(|row| Fields::new(row, "account_domain").get::<String>("domain")).collect::<Result<HashSet<String>>>()?;
        match domains.iter().find(|domain| !inserted.contains(*domain)) {
            Some(taken) => Err(StoreError::Conflict(conflict::domain_taken(stored, taken))),
            None => Ok(()),
        }
    }

    /// Lists `emails` under `contact` in order.
    fn insert_contact_emails(&mut self, org: OrgId, contact: i64, emails: &[String]) -> Result<()> {
        if !emails.is_empty() {
            self.execute(
                "INSERT INTO contact_email (organisation_id, email, contact_id, position) \
                 SELECT $1, email, $2, (position - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS listed (email, position)",
                &[&org.0, &contact, &emails],
            )?;
        }
        Ok(())
    }
}
