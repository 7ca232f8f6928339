//! The deal workspace ([`WorkspaceTx`], SPEC C3): each deal's workspace document and the log of
//! its edits.

use pipewise_core::history::Source;
use pipewise_core::*;

use crate::Result;

/// A deal's workspace document (JSON, `pipewise-app`'s `workspace_codec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWorkspace {
    pub deal: OpportunityId,
    pub document: String,
}

/// One edit of one part of a deal's workspace: the part's JSON before and after (`pipewise-app`'s
/// `workspace_codec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceChange {
    /// Ignored when appending.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    /// A `WorkspacePartName` as text.
    pub part: String,
    pub old_json: Option<String>,
    pub new_json: String,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// A transaction's reads and writes of deal workspaces.
pub trait WorkspaceTx {
    /// The deal's workspace document (JSON), if it has one.
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>>;
    /// Every workspace document of the organisation, by deal (what health reads the close
    /// plans' due items from).
    fn workspace_documents(&mut self, org: OrgId) -> Result<Vec<StoredWorkspace>>;
    /// Creates or replaces the deal's workspace document.
    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()>;
    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64>;
    /// A deal's workspace edits, in id order.
    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>>;
}
