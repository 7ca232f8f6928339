//! [`WorkspaceTx`] for PostgreSQL: deal workspace documents and their edit log.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{Result, StoredWorkspace, WorkspaceChange, WorkspaceTx, sql};

use crate::fields::{Fields, read};

use super::PgTx;

impl WorkspaceTx for PgTx<'_> {
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        self.one(sql::SELECT_WORKSPACE_DOCUMENT, &[&org.0, &opportunity.0], |row| Fields::new(row, "deal_workspace").get("document"))
    }

    fn workspace_documents(&mut self, org: OrgId) -> Result<Vec<StoredWorkspace>> {
        self.collect(sql::SELECT_WORKSPACE_DOCUMENTS, &[&org.0], read)
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.execute(sql::PUT_WORKSPACE_DOCUMENT, &[&opportunity.0, &org.0, &document, &at.to_jiff()])?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.returned_id(
            "workspace_history",
            sql::INSERT_WORKSPACE_CHANGE,
            &[
                &org.0,
                &change.opportunity_id.0,
                &change.part,
                &change.old_json,
                &change.new_json,
                &change.at.to_jiff(),
                &change.actor_id.map(|id| id.0),
                &change.source.as_str(),
            ],
        )
    }

    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>> {
        self.collect(sql::SELECT_WORKSPACE_CHANGES, &[&org.0, &opportunity.0], read)
    }
}
