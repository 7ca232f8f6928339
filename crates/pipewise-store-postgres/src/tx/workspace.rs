//! [`WorkspaceTx`] for PostgreSQL: deal workspace documents and their edit log.

use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{Result, WorkspaceChange, WorkspaceTx};

use crate::fields::Fields;

use super::PgTx;

impl WorkspaceTx for PgTx<'_> {
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        let row = self.query_opt(
            "SELECT document FROM deal_workspace WHERE organisation_id = $1 AND opportunity_id = $2",
            &[&org.0, &opportunity.0],
        )?;
        row.as_ref().map(|row| Fields::new(row, "deal_workspace").get("document")).transpose()
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO deal_workspace (opportunity_id, organisation_id, document, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (opportunity_id) DO UPDATE SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at \
             WHERE deal_workspace.organisation_id = EXCLUDED.organisation_id",
            &[&opportunity.0, &org.0, &document, &at.to_jiff()],
        )?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.returned_id(
            "workspace_history",
            "INSERT INTO workspace_history (organisation_id, opportunity_id, part, old_json, new_json, at, actor_id, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING workspace_history_id",
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
        let rows = self.query(
            "SELECT workspace_history_id, opportunity_id, part, old_json, new_json, at, actor_id, source FROM workspace_history \
             WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY workspace_history_id",
            &[&org.0, &opportunity.0],
        )?;
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
