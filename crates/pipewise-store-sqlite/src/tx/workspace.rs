//! [`WorkspaceTx`] for SQLite: deal workspace documents and their edit log.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{Result, StoredWorkspace, WorkspaceChange, WorkspaceTx, sql};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::SqliteTx;

impl WorkspaceTx for SqliteTx<'_> {
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        self.one(sql::SELECT_WORKSPACE_DOCUMENT, params![org.0, opportunity.0], |row| Fields::new(row, "deal_workspace").get("document"))
    }

    fn workspace_documents(&mut self, org: OrgId) -> Result<Vec<StoredWorkspace>> {
        self.collect(sql::SELECT_WORKSPACE_DOCUMENTS, params![org.0], read)
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.execute(sql::PUT_WORKSPACE_DOCUMENT, params![opportunity.0, org.0, document, at.as_micros()])?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.returned_id(
            sql::INSERT_WORKSPACE_CHANGE,
            params![
                org.0,
                change.opportunity_id.0,
                change.part,
                change.old_json,
                change.new_json,
                change.at.as_micros(),
                change.actor_id.map(|id| id.0),
                change.source.as_str()
            ],
        )
    }

    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>> {
        self.collect(sql::SELECT_WORKSPACE_CHANGES, params![org.0, opportunity.0], read)
    }
}
