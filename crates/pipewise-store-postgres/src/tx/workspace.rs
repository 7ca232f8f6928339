//! [`WorkspaceTx`] for PostgreSQL: deal workspace documents and their edit log.

use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{Result, WorkspaceChange, WorkspaceTx, sql};

use crate::fields::Fields;

use super::PgTx;

impl WorkspaceTx for PgTx<'_> {
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        let row = self.query_opt(sql::SELECT_WORKSPACE_DOCUMENT, &[&org.0, &opportunity.0])?;
        row.as_ref().map(|row| Fields::new(row, "deal_workspace").get("document")).transpose()
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
        let rows = self.query(sql::SELECT_WORKSPACE_CHANGES, &[&org.0, &opportunity.0])?;
        rows.iter()
            .map(|row| {
                let mut fields = Fields::new(row, "workspace_history");
                Ok(WorkspaceChange {
                    id: fields.key("workspace_history_id")?,
                    opportunity_id: OpportunityId(fields.get("opportunity_id")?),
                    part: fields.get("part")?,
                    old_json: fields.get("old_json")?,
                    new_json: fields.get("new_json")?,
                    at: fields.timestamp("at")?,
                    actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
                    source: fields.parsed("source", Source::parse)?,
                })
            })
            .collect()
    }
}
