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

    fn insert_contact(&mut self, org: OrgId, contact: &NewContact, at: Timestamp) -> Result<ContactId>;
    fn contact(&mut self, org: OrgId, id: ContactId) -> Result<Option<Contact>>;
    fn contacts(&mut self, org: OrgId) -> Result<Vec<Contact>>;
    /// The contacts of one account, in id order.
    fn contacts_of_account(&mut self, org: OrgId, account: AccountId) -> Result<Vec<Contact>>;

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
