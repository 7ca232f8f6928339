//! [`LeadRoutingTx`] for SQLite.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{LeadAttempt, LeadRoute, LeadRoutingTx, Result, StoredQualification};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::SqliteTx;

const SELECT_RULES: &str = "SELECT rules FROM lead_routing WHERE organisation_id = ?1";
const PUT_RULES: &str = "INSERT INTO lead_routing (organisation_id, rules, updated_at) VALUES (?1, ?2, ?3) \
     ON CONFLICT (organisation_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at";
const PUT_ROUTE: &str = "INSERT INTO lead_route (lead_id, organisation_id, fit_score, routed_to, territory, routed_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (lead_id) DO UPDATE SET fit_score = excluded.fit_score, \
     routed_to = excluded.routed_to, territory = excluded.territory, routed_at = excluded.routed_at";
const SELECT_ROUTES: &str = "SELECT lead_id, fit_score, routed_to, territory, routed_at FROM lead_route \
     WHERE organisation_id = ?1 AND routed_at >= ?2 ORDER BY lead_id";
const SELECT_ROUTE: &str = "SELECT lead_id, fit_score, routed_to, territory, routed_at FROM lead_route \
     WHERE organisation_id = ?1 AND lead_id = ?2";

const PUT_ATTEMPT: &str = "INSERT INTO lead_attempt (organisation_id, lead_id, user_id, kind, reached, attempted_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const SELECT_ATTEMPTS: &str = "SELECT attempt_id, lead_id, user_id, kind, reached, attempted_at FROM lead_attempt \
     WHERE organisation_id = ?1 AND (?2 IS NULL OR lead_id = ?2) ORDER BY lead_id, attempted_at, attempt_id";

const PUT_QUALIFICATION: &str = "INSERT INTO lead_qualification (lead_id, organisation_id, answers, score, verdict, updated_by, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (lead_id) DO UPDATE SET answers = excluded.answers, \
     score = excluded.score, verdict = excluded.verdict, updated_by = excluded.updated_by, updated_at = excluded.updated_at";
const SELECT_QUALIFICATION: &str = "SELECT lead_id, answers, score, verdict, updated_by, updated_at FROM lead_qualification \
     WHERE organisation_id = ?1 AND lead_id = ?2";

impl LeadRoutingTx for SqliteTx<'_> {
    fn lead_routing(&mut self, org: OrgId) -> Result<Option<String>> {
        self.one(SELECT_RULES, params![org.0], |row| Fields::new(row, "lead_routing").get::<String>("rules"))
    }

    fn put_lead_routing(&mut self, org: OrgId, rules: &str, at: Timestamp) -> Result<()> {
        self.execute(PUT_RULES, params![org.0, rules, at.as_micros()])?;
        Ok(())
    }

    fn put_lead_route(&mut self, org: OrgId, route: &LeadRoute) -> Result<()> {
        self.execute(
            PUT_ROUTE,
            params![
                route.lead_id.0,
                org.0,
                route.fit_score,
                route.routed_to.map(|user| user.0),
                route.territory,
                route.routed_at.as_micros()
            ],
        )?;
        Ok(())
    }

    fn lead_routes(&mut self, org: OrgId, since: Timestamp) -> Result<Vec<LeadRoute>> {
        self.collect(SELECT_ROUTES, params![org.0, since.as_micros()], read)
    }

    fn lead_route(&mut self, org: OrgId, lead: LeadId) -> Result<Option<LeadRoute>> {
        self.one(SELECT_ROUTE, params![org.0, lead.0], read)
    }

    fn put_lead_attempt(&mut self, org: OrgId, attempt: &LeadAttempt) -> Result<()> {
        self.execute(
            PUT_ATTEMPT,
            params![org.0, attempt.lead_id.0, attempt.user_id.map(|user| user.0), attempt.kind, attempt.reached, attempt.at.as_micros()],
        )?;
        Ok(())
    }

    fn lead_attempts(&mut self, org: OrgId, lead: Option<LeadId>) -> Result<Vec<LeadAttempt>> {
        self.collect(SELECT_ATTEMPTS, params![org.0, lead.map(|lead| lead.0)], read)
    }

    fn put_lead_qualification(&mut self, org: OrgId, qualification: &StoredQualification) -> Result<()> {
        self.execute(
            PUT_QUALIFICATION,
            params![
                qualification.lead_id.0,
                org.0,
                qualification.answers,
                qualification.score,
                qualification.verdict,
                qualification.updated_by.map(|user| user.0),
                qualification.updated_at.as_micros()
            ],
        )?;
        Ok(())
    }

    fn lead_qualification(&mut self, org: OrgId, lead: LeadId) -> Result<Option<StoredQualification>> {
        self.one(SELECT_QUALIFICATION, params![org.0, lead.0], read)
    }
}
