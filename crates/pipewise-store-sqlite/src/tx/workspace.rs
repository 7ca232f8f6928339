//! [`WorkspaceTx`] for SQLite: deal workspace documents and their edit log.

use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{Result, WorkspaceChange, WorkspaceTx};
use rusqlite::params;

use crate::rows::{parsed, timestamp};

use super::{SqliteTx, db_err, identity};

impl WorkspaceTx for SqliteTx<'_> {
    fn workspace_document(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Option<String>> {
        self.one(
            "SELECT document FROM deal_workspace WHERE organisation_id = ?1 AND opportunity_id = ?2",
            params![org.0, opportunity.0],
            |row| row.get(0),
            identity,
        )
    }

    fn put_workspace_document(&mut self, org: OrgId, opportunity: OpportunityId, document: &str, at: Timestamp) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO deal_workspace (opportunity_id, organisation_id, document, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (opportunity_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                 WHERE deal_workspace.organisation_id = excluded.organisation_id",
            )
            .and_then(|mut statement| statement.execute(params![opportunity.0, org.0, document, at.as_micros()]))
            .map_err(db_err)?;
        Ok(())
    }

    fn append_workspace_change(&mut self, org: OrgId, change: &WorkspaceChange) -> Result<i64> {
        self.db()
            .prepare_cached(
                "INSERT INTO workspace_history (organisation_id, opportunity_id, part, old_json, new_json, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    change.opportunity_id.0,
                    change.part,
                    change.old_json,
                    change.new_json,
                    change.at.as_micros(),
                    change.actor_id.map(|id| id.0),
                    change.source.as_str()
                ])
            })
            .map_err(db_err)
    }

    fn workspace_changes(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<WorkspaceChange>> {
        self.collect(
            "SELECT workspace_history_id, opportunity_id, part, old_json, new_json, at, actor_id, source FROM workspace_history
             WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY workspace_history_id",
            params![org.0, opportunity.0],
            |row| {
                let change = WorkspaceChange {
                    id: row.get(0)?,
                    opportunity_id: OpportunityId(row.get(1)?),
                    part: row.get(2)?,
                    old_json: row.get(3)?,
                    new_json: row.get(4)?,
                    at: timestamp(row.get(5)?),
                    actor_id: row.get::<_, Option<i64>>(6)?.map(UserId),
                    source: Source::System,
                };
                Ok((change, row.get::<_, String>(7)?))
            },
            |(mut change, source)| {
                change.source = parsed("workspace_history", &source, Source::parse)?;
                Ok(change)
            },
        )
    }
}
