//! [`LeadFormTx`] for PostgreSQL.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{FormSubmission, LeadForm, LeadFormTx, Result};

use crate::fields::{Fields, read};

use super::PgTx;

const PUT_FORM: &str = "INSERT INTO lead_form (organisation_id, form_key, name, source, redirect_url, active, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING form_id";
const FORM_COLUMNS: &str = "form_id, organisation_id, form_key, name, source, redirect_url, active, created_at";
const SET_ACTIVE: &str = "UPDATE lead_form SET active = $3 WHERE organisation_id = $1 AND form_id = $2";
const PUT_SUBMISSION: &str = "INSERT INTO lead_form_submission (form_id, organisation_id, client_address, outcome, email, lead_id, submitted_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const FROM_CLIENT: &str =
    "SELECT count(*) AS n FROM lead_form_submission WHERE organisation_id = $1 AND client_address = $2 AND submitted_at >= $3";
const ACCEPTED_EMAIL: &str =
    "SELECT count(*) AS n FROM lead_form_submission WHERE form_id = $1 AND email = $2 AND outcome = 'accepted' AND submitted_at >= $3";
const OUTCOMES: &str =
    "SELECT outcome, count(*) AS n FROM lead_form_submission WHERE form_id = $1 AND submitted_at >= $2 GROUP BY outcome ORDER BY outcome";

const PRUNE: &str = "DELETE FROM lead_form_submission WHERE form_id = $1 AND submitted_at < $2";

impl LeadFormTx for PgTx<'_> {
    fn put_lead_form(&mut self, org: OrgId, form: &LeadForm) -> Result<i64> {
        self.returned_id(
            "lead_form",
            PUT_FORM,
            &[&org.0, &form.key, &form.name, &form.source, &form.redirect_url, &form.active, &form.created_at.to_jiff()],
        )
    }

    fn lead_forms(&mut self, org: OrgId) -> Result<Vec<LeadForm>> {
        self.collect(&format!("SELECT {FORM_COLUMNS} FROM lead_form WHERE organisation_id = $1 ORDER BY form_id"), &[&org.0], read)
    }

    fn lead_form_by_key(&mut self, key: &str) -> Result<Option<LeadForm>> {
        self.one(&format!("SELECT {FORM_COLUMNS} FROM lead_form WHERE form_key = $1"), &[&key], read)
    }

    fn set_lead_form_active(&mut self, org: OrgId, id: i64, active: bool) -> Result<bool> {
        Ok(self.execute(SET_ACTIVE, &[&org.0, &id, &active])? > 0)
    }

    fn put_form_submission(&mut self, org: OrgId, submission: &FormSubmission) -> Result<()> {
        self.execute(
            PUT_SUBMISSION,
            &[
                &submission.form_id,
                &org.0,
                &submission.client_address,
                &submission.outcome,
                &submission.email,
                &submission.lead_id.map(|id| id.0),
                &submission.at.to_jiff(),
            ],
        )?;
        Ok(())
    }

    fn form_submissions_from(&mut self, org: OrgId, client_address: &str, since: Timestamp) -> Result<i64> {
        let count = self.one(FROM_CLIENT, &[&org.0, &client_address, &since.to_jiff()], |row| {
            Fields::new(row, "lead_form_submission").get::<i64>("n")
        })?;
        Ok(count.unwrap_or(0))
    }

    fn form_accepted_email(&mut self, form: i64, email: &str, since: Timestamp) -> Result<bool> {
        let count =
            self.one(ACCEPTED_EMAIL, &[&form, &email, &since.to_jiff()], |row| Fields::new(row, "lead_form_submission").get::<i64>("n"))?;
        Ok(count.unwrap_or(0) > 0)
    }

    fn form_outcomes(&mut self, form: i64, since: Timestamp) -> Result<Vec<(String, i64)>> {
        self.collect(OUTCOMES, &[&form, &since.to_jiff()], |row| {
            let fields = Fields::new(row, "lead_form_submission");
            Ok((fields.get::<String>("outcome")?, fields.get::<i64>("n")?))
        })
    }

    fn prune_form_submissions(&mut self, form: i64, before: Timestamp) -> Result<()> {
        self.execute(PRUNE, &[&form, &before.to_jiff()])?;
        Ok(())
    }
}
