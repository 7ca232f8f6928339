//! [`BulkTx`] for PostgreSQL: the bulk loaders (one multi-row `INSERT … SELECT … FROM unnest(…)` per
//! call) and the database size.

use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{BulkTx, HistoryAppend, Result};

use crate::fields::Fields;

use super::PgTx;

impl BulkTx for PgTx<'_> {
    // Bulk loading: one multi-row `INSERT … SELECT … FROM unnest(…)` per call, every column
    // travelling as one array parameter. Ids are reserved from the identity sequence first (one
    // statement), so the caller learns each row's id in slice order, and the rows are inserted
    // with `OVERRIDING SYSTEM VALUE`.

    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
        if opportunities.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.reserve_ids("opportunity", "opportunity_id", opportunities.len())?;
        let names: Vec<&str> = opportunities.iter().map(|deal| deal.name.as_str()).collect();
        let accounts: Vec<Option<i64>> = opportunities.iter().map(|deal| deal.account_id.map(|id| id.0)).collect();
        let owners: Vec<i64> = opportunities.iter().map(|deal| deal.owner_id.0).collect();
        let pipelines: Vec<i64> = opportunities.iter().map(|deal| deal.pipeline_id.0).collect();
        let stages: Vec<i64> = opportunities.iter().map(|deal| deal.stage_id.0).collect();
        let amounts: Vec<Option<String>> = opportunities.iter().map(|deal| deal.amount.map(|money| money.amount().to_string())).collect();
        let currencies: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.amount.map(|money| money.currency().code())).collect();
        let close_dates: Vec<Option<Date>> = opportunities.iter().map(|deal| deal.close_date).collect();
        let categories: Vec<&str> = opportunities.iter().map(|deal| deal.forecast_category.as_str()).collect();
        let next_steps: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.next_step.as_deref()).collect();
        let statuses: Vec<&str> = opportunities.iter().map(|deal| deal.status.as_str()).collect();
        let created: Vec<jiff::Timestamp> = opportunities.iter().map(|deal| deal.created_at.to_jiff()).collect();
        let closed: Vec<Option<jiff::Timestamp>> = opportunities.iter().map(|deal| deal.closed_at.map(Timestamp::to_jiff)).collect();
        let reasons: Vec<Option<&str>> = opportunities.iter().map(|deal| deal.close_reason.as_deref()).collect();
        self.execute(
            "INSERT INTO opportunity (opportunity_id, organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount,              currency, close_date, forecast_category, next_step, status, created_at, closed_at, close_reason) OVERRIDING SYSTEM VALUE              SELECT id, $1::bigint, name, account_id, owner_id, pipeline_id, stage_id, amount::numeric, currency, close_date,              forecast_category, next_step, status, created_at, closed_at, close_reason              FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[],              $10::date[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[])              AS deal (id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date, forecast_category,              next_step, status, created_at, closed_at, close_reason)",
            &[
                &org.0,
                &ids,
                &names,
                &accounts,
                &owners,
                &pipelines,
                &stages,
                &amounts,
                &currencies,
                &close_dates,
                &categories,
                &next_steps,
                &statuses,
                &created,
                &closed,
                &reasons,
            ],
        )?;
        Ok(ids.into_iter().map(OpportunityId).collect())
    }

    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>> {
        if events.is_empty() {
            return Ok(0..0);
        }
        // The same counter row as `append_history`: its lock serialises the organisation's
        // writers until commit, so sequence order stays commit order.
        let seqs = self.reserve_history_seq(org, events.len())?;
        let first = seqs.start;
        let deals: Vec<i64> = events.iter().map(|event| event.opportunity_id.0).collect();
        let fields: Vec<&str> = events.iter().map(|event| event.change.field.as_str()).collect();
        let old_values: Vec<Option<&str>> = events.iter().map(|event| event.change.old.as_deref()).collect();
        let new_values: Vec<Option<&str>> = events.iter().map(|event| event.change.new.as_deref()).collect();
        let times: Vec<jiff::Timestamp> = events.iter().map(|event| event.at.to_jiff()).collect();
        let actors: Vec<Option<i64>> = events.iter().map(|event| event.actor_id.map(|id| id.0)).collect();
        let sources: Vec<&str> = events.iter().map(|event| event.source.as_str()).collect();
        self.execute(
            "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)              SELECT $1::bigint, $2::bigint + event.position - 1, event.opportunity_id, event.field, event.old_value, event.new_value,              event.at, event.actor_id, event.source              FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bigint[], $9::text[])              WITH ORDINALITY AS event (opportunity_id, field, old_value, new_value, at, actor_id, source, position)",
            &[&org.0, &first, &deals, &fields, &old_values, &new_values, &times, &actors, &sources],
        )?;
        Ok(seqs)
    }

    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
        if activities.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.reserve_ids("activity", "activity_id", activities.len())?;
        let kinds: Vec<&str> = activities.iter().map(|(activity, _)| activity.kind.as_str()).collect();
        let directions: Vec<&str> = activities.iter().map(|(activity, _)| activity.direction.as_str()).collect();
        let occurred: Vec<jiff::Timestamp> = activities.iter().map(|(activity, _)| activity.occurred_at.to_jiff()).collect();
        let logged: Vec<jiff::Timestamp> = activities.iter().map(|(_, logged_at)| logged_at.to_jiff()).collect();
        let subjects: Vec<&str> = activities.iter().map(|(activity, _)| activity.subject.as_str()).collect();
        let bodies: Vec<Option<&str>> = activities.iter().map(|(activity, _)| activity.body.as_deref()).collect();
        let sources: Vec<&str> = activities.iter().map(|(activity, _)| activity.source.as_str()).collect();
        let users: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.user_id.map(|id| id.0)).collect();
        let accounts: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.account_id.map(|id| id.0)).collect();
        let deals: Vec<Option<i64>> = activities.iter().map(|(activity, _)| activity.opportunity_id.map(|id| id.0)).collect();
        self.execute(
            "INSERT INTO activity (activity_id, organisation_id, kind, direction, occurred_at, logged_at, subject, body, source,              user_id, account_id, opportunity_id) OVERRIDING SYSTEM VALUE              SELECT id, $1::bigint, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id              FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],              $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])              AS activity (id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)",
            &[&org.0, &ids, &kinds, &directions, &occurred, &logged, &subjects, &bodies, &sources, &users, &accounts, &deals],
        )?;
        let mut link_activities: Vec<i64> = Vec::new();
        let mut link_contacts: Vec<i64> = Vec::new();
        let mut contacts: Vec<i64> = Vec::new();
        for ((activity, _), id) in activities.iter().zip(&ids) {
            contacts.clear();
            contacts.extend(activity.contact_ids.iter().map(|contact| contact.0));
            contacts.sort_unstable();
            contacts.dedup();
            link_activities.extend(std::iter::repeat_n(*id, contacts.len()));
            link_contacts.extend(&contacts);
        }
        if !link_activities.is_empty() {
            // The join keeps contacts of other organisations out, as `insert_activity` does.
            self.execute(
                "INSERT INTO activity_contact (activity_id, contact_id)                  SELECT link.activity_id, contact.contact_id FROM unnest($2::bigint[], $3::bigint[]) AS link (activity_id, contact_id)                  JOIN contact ON contact.organisation_id = $1 AND contact.contact_id = link.contact_id",
                &[&org.0, &link_activities, &link_contacts],
            )?;
        }
        Ok(ids.into_iter().map(ActivityId).collect())
    }

    fn database_size(&mut self) -> Result<u64> {
        let row = self.query_one("SELECT pg_database_size(current_database()) AS bytes", &[])?;
        let bytes: i64 = Fields::new(&row, "pg_database").get("bytes")?;
        Ok(bytes.max(0) as u64)
    }
}

impl PgTx<'_> {
    /// Takes `n` values of `table.column`'s identity sequence in one statement, ascending.
    fn reserve_ids(&mut self, table: &'static str, column: &str, n: usize) -> Result<Vec<i64>> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let rows =
            self.query("SELECT nextval(pg_get_serial_sequence($1, $2)) AS id FROM generate_series(1, $3::bigint)", &[&table, &column, &n])?;
        let mut ids = rows.iter().map(|row| Fields::new(row, table).get::<i64>("id")).collect::<Result<Vec<i64>>>()?;
        ids.sort_unstable();
        Ok(ids)
    }
}
