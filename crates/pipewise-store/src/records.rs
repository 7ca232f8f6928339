//! The plain records ([`RecordsTx`]): accounts, contacts, leads and tasks, and counting rows of any
//! kind.

use pipewise_core::records::*;
use pipewise_core::*;

use crate::{RecordKind, Result};

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

/// The key accounts and contacts are ordered and found by: the name in lower case (Unicode's,
/// which SQL's `lower()` is not on every engine). Stored beside the name (`name_key`) with an
/// index, so a list of 100,000 accounts pages in name order without reading them all; the
/// columns compare bytewise on both engines, as Rust compares strings.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// A `LIKE` pattern (escaped with `\`) matching text that holds `text` lower-cased.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from('%');
    for character in text.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// Which accounts a list shows; every part set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Accounts whose name (ignoring case) or one of whose domains holds this.
    pub text: Option<String>,
    /// Accounts whose name (ignoring case) holds this.
    pub name: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub owner_id: Option<UserId>,
}

/// A value a record filter's condition is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoundValue {
    Id(i64),
    Text(String),
}

impl AccountFilter {
    /// The filter as conditions on `account` (each starting ` AND`), whose placeholders are
    /// numbered from `$2` in order of appearance (`$1` is the organisation), and their values.
    pub fn conditions(&self) -> (String, Vec<BoundValue>) {
        let mut conditions = Conditions::default();
        if let Some(text) = &self.text {
            let n = conditions.bind(BoundValue::Text(contains_pattern(text)));
            conditions.sql.push_str(&format!(
                " AND (name_key LIKE ${n} ESCAPE '\\' OR account_id IN \
                 (SELECT account_id FROM account_domain WHERE organisation_id = $1 AND domain LIKE ${n} ESCAPE '\\'))"
            ));
        }
        if let Some(name) = &self.name {
            let n = conditions.bind(BoundValue::Text(contains_pattern(name)));
            conditions.sql.push_str(&format!(" AND name_key LIKE ${n} ESCAPE '\\'"));
        }
        conditions.equal("industry", self.industry.clone().map(BoundValue::Text));
        conditions.equal("region", self.region.clone().map(BoundValue::Text));
        conditions.equal("owner_id", self.owner_id.map(|id| BoundValue::Id(id.0)));
        (conditions.sql, conditions.values)
    }
}

/// The distinct values of the accounts' filterable fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFacets {
    pub industries: Vec<String>,
    pub regions: Vec<String>,
}

/// Which contacts a list shows; every part set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactFilter {
    /// Contacts whose name, e-mail address or title holds this, ignoring case (a title's case is
    /// folded by the engine's `lower()`: ASCII only on SQLite).
    pub text: Option<String>,
    pub account_id: Option<AccountId>,
}

impl ContactFilter {
    /// As [`AccountFilter::conditions`], on `contact`.
    pub fn conditions(&self) -> (String, Vec<BoundValue>) {
        let mut conditions = Conditions::default();
        if let Some(text) = &self.text {
            let n = conditions.bind(BoundValue::Text(contains_pattern(text)));
            conditions.sql.push_str(&format!(
                " AND (name_key LIKE ${n} ESCAPE '\\' OR lower(title) LIKE ${n} ESCAPE '\\' OR contact_id IN \
                 (SELECT contact_id FROM contact_email WHERE organisation_id = $1 AND email LIKE ${n} ESCAPE '\\'))"
            ));
        }
        conditions.equal("account_id", self.account_id.map(|id| BoundValue::Id(id.0)));
        (conditions.sql, conditions.values)
    }
}

/// Conditions being written, with their values.
#[derive(Default)]
struct Conditions {
    sql: String,
    values: Vec<BoundValue>,
}

impl Conditions {
    /// Binds `value` to the next placeholder and says its number.
    fn bind(&mut self, value: BoundValue) -> usize {
        self.values.push(value);
        self.values.len() + 1
    }

    fn equal(&mut self, column: &str, value: Option<BoundValue>) {
        if let Some(value) = value {
            let n = self.bind(value);
            self.sql.push_str(&format!(" AND {column} = ${n}"));
        }
    }
}

/// A page of a list ordered by name: which rows, in order, and how many match in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamePage<Id> {
    pub ids: Vec<Id>,
    pub total: u64,
}

/// Where a page of a list ordered by name starts and how long it is; `descending` reverses the
/// names, not the ids of equal names (ties stay in id order both ways, as a stable sort keeps
/// them). `limit: None` is every row from `offset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameOrder {
    pub descending: bool,
    pub offset: u64,
    pub limit: Option<u64>,
}

impl NameOrder {
    /// The `ORDER BY`, `LIMIT` and `OFFSET` clauses for a table whose key column is `id`, after
    /// `conditions` (from [`AccountFilter::conditions`] or [`ContactFilter::conditions`]): the
    /// limit and offset are bound, so the statement text does not change with the page.
    pub fn clauses(&self, id: &str, conditions: &mut (String, Vec<BoundValue>)) -> String {
        let direction = if self.descending { " DESC" } else { "" };
        let values = &mut conditions.1;
        values.push(BoundValue::Id(self.limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX))));
        values.push(BoundValue::Id(i64::try_from(self.offset).unwrap_or(i64::MAX)));
        let (limit, offset) = (values.len(), values.len() + 1);
        format!(" ORDER BY name_key{direction}, {id} LIMIT ${limit} OFFSET ${offset}")
    }
}

/// A transaction's reads and writes of the plain records: accounts, contacts, leads and tasks.
pub trait RecordsTx {
    /// Fails with [`StoreError::Conflict`](crate::StoreError::Conflict) when a domain already
    /// belongs to another account, leaving nothing of the account behind (the transaction stays
    /// usable).
    fn insert_account(&mut self, org: OrgId, account: &NewAccount, at: Timestamp) -> Result<AccountId>;
    fn account(&mut self, org: OrgId, id: AccountId) -> Result<Option<Account>>;
    fn accounts(&mut self, org: OrgId) -> Result<Vec<Account>>;
    /// The accounts among `ids` (in id order; unknown ids are skipped): what a page names, not
    /// every account of the organisation.
    fn accounts_by_ids(&mut self, org: OrgId, ids: &[AccountId]) -> Result<Vec<Account>>;
    /// At most `limit` accounts whose name holds `query` (ignoring case), those starting with it
    /// first, then by name: what a type-ahead picker offers.
    fn search_accounts(&mut self, org: OrgId, query: &str, limit: u32) -> Result<Vec<Account>>;
    /// The accounts `filter` lets through, ordered by name as `order` says (by the indexed
    /// [`name_key`]): the page's ids and how many match.
    fn account_page(&mut self, org: OrgId, filter: &AccountFilter, order: NameOrder) -> Result<NamePage<AccountId>>;
    /// The distinct industries and regions the organisation's accounts have (unordered): what a
    /// list's filters offer.
    fn account_facets(&mut self, org: OrgId) -> Result<AccountFacets>;

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId>;
    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>>;
    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>>;
    /// The contacts of one account, in id order.
    fn contacts_of_account(&mut self, org: OrgId, account: AccountId) -> Result<Vec<Contact>>;
    /// As [`RecordsTx::account_page`], for contacts.
    fn contact_page(&mut self, org: OrgId, filter: &ContactFilter, order: NameOrder) -> Result<NamePage<ContactId>>;
    /// The contacts among `ids` (in id order; unknown ids are skipped).
    fn contacts_by_ids(&mut self, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>>;

    fn insert_lead(&mut self, org: OrgId, lead: &NewLead, at: Timestamp) -> Result<LeadId>;
    fn lead(&mut self, org: OrgId, id: LeadId) -> Result<Option<Lead>>;
    fn leads(&mut self, org: OrgId) -> Result<Vec<Lead>>;

    fn insert_task(&mut self, org: OrgId, task: &NewTask, at: Timestamp) -> Result<TaskId>;
    fn task(&mut self, org: OrgId, id: TaskId) -> Result<Option<Task>>;
    fn tasks(&mut self, org: OrgId, filter: &TaskFilter) -> Result<Vec<Task>>;

    fn count(&mut self, org: OrgId, kind: RecordKind) -> Result<i64>;

    // Whole-row updates for the partial updates of `pipewise-app` (each writes every changeable column
    // of the record; the app built and checked the next state). A missing row is `NotFound`.

    /// Writes the fields and replaces the domains. A domain of another account is a
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) that leaves the account as it was (the
    /// transaction stays usable).
    fn update_account(&mut self, org: OrgId, account: &Account) -> Result<()>;
    /// Writes the fields and replaces the e-mail addresses.
    fn update_contact(&mut self, org: OrgId, contact: &Contact) -> Result<()>;
    fn update_lead(&mut self, org: OrgId, lead: &Lead) -> Result<()>;
    /// Writes title, owner, due date and completion time.
    fn update_task(&mut self, org: OrgId, task: &Task) -> Result<()>;
}
