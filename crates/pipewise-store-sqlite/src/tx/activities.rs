//! [`ActivitiesTx`] for SQLite: activities, their contact links and the per-deal aggregates.

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::{Columns, contact_count, latest_activity, logged_activity, touch_contact};
use pipewise_store::{ActivitiesTx, ActivityAggregate, ActivityFilter, DealCompany, DealTouch, LoggedActivity, Result, sql};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::{Fields, NamedRow, read};

use super::{SqliteTx, db_err, json_array, scope_condition};

/// Links an activity to a contact; `insert_activity` and the bulk loader run it.
pub(super) const INSERT_ACTIVITY_CONTACT: &str = "INSERT INTO activity_contact (activity_id, contact_id) VALUES (?1, ?2)";

/// [`sql::SELECT_LAST_ACTIVITY_AT`] for the deals of a JSON array (`?2`).
const SELECT_LAST_ACTIVITY_AT_OF_DEALS: &str = "SELECT opportunity_id, max(occurred_at) AS last_at FROM activity
     WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL AND opportunity_id IN (SELECT value FROM json_each(?2))
     GROUP BY opportunity_id ORDER BY opportunity_id";

/// The touches of the deals of a JSON array (`?2`), in activity order.
const SELECT_DEAL_TOUCHES: &str = "SELECT activity_id, opportunity_id, occurred_at, logged_at, direction FROM activity
     WHERE organisation_id = ?1 AND opportunity_id IN (SELECT value FROM json_each(?2)) ORDER BY activity_id";
/// The contacts those touches name, with their titles, in activity and contact order.
const SELECT_DEAL_TOUCH_CONTACTS: &str = "SELECT l.activity_id AS activity_id, l.contact_id AS contact_id, c.title AS title
     FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id JOIN contact c ON c.contact_id = l.contact_id
     WHERE a.organisation_id = ?1 AND a.opportunity_id IN (SELECT value FROM json_each(?2)) ORDER BY l.activity_id, l.contact_id";
/// The size and industry of the accounts of the deals of a JSON array (`?2`), in opportunity order.
const SELECT_DEAL_COMPANIES: &str = "SELECT o.opportunity_id AS opportunity_id, a.employee_count AS employee_count, a.industry AS industry
     FROM opportunity o JOIN account a ON a.account_id = o.account_id
     WHERE o.organisation_id = ?1 AND o.opportunity_id IN (SELECT value FROM json_each(?2)) ORDER BY o.opportunity_id";

impl ActivitiesTx for SqliteTx<'_> {
    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId> {
        let id = self.returned_id(sql::INSERT_ACTIVITY, activity_params(org, activity, logged_at))?;
        let mut statement = self.db().prepare_cached(INSERT_ACTIVITY_CONTACT).map_err(db_err)?;
        for contact in &activity.contact_ids {
            statement.execute(params![id, contact.0]).map_err(db_err)?;
        }
        Ok(ActivityId(id))
    }

    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
        let rows = self.collect(sql::SELECT_ACTIVITY, params![org.0, id.0], read)?;
        Ok(self.with_contacts(rows)?.pop())
    }

    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
        let rows = self.collect(sql::SELECT_ACTIVITIES_OF_OPPORTUNITY, params![org.0, id.0], read)?;
        self.with_contacts(rows)
    }

    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>> {
        let mut sql = format!(
            "SELECT {} FROM activity WHERE organisation_id = ?1 AND (?2 IS NULL OR opportunity_id = ?2) AND (?3 IS NULL OR account_id = ?3)
             AND (?4 IS NULL OR user_id = ?4) AND (?5 IS NULL OR activity_id > ?5)",
            sql::ACTIVITY_COLUMNS
        );
        let mut values = vec![
            Value::Integer(org.0),
            filter.opportunity_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.account_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.user_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.after_id.map_or(Value::Null, |id| Value::Integer(id.0)),
        ];
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            sql.push_str(&scope_condition("user_id", owners, *shared_with, &mut values));
        }
        sql.push_str(" ORDER BY activity_id");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let rows = self.collect(&sql, rusqlite::params_from_iter(values), read)?;
        self.with_contacts(rows)
    }

    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
        let row = |row: &NamedRow<'_, '_>| latest_activity(&Fields::new(row, "activity"));
        let Some(deals) = deals else { return self.collect(sql::SELECT_LAST_ACTIVITY_AT, [org.0], row) };
        self.collect(SELECT_LAST_ACTIVITY_AT_OF_DEALS, params![org.0, json_array(deals.iter().map(|id| id.0))], row)
    }

    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>> {
        let until = until.map_or(i64::MAX, Timestamp::as_micros);
        // Every deal in one statement, or the named ones a few hundred at a time.
        let chunks: Vec<Option<&[OpportunityId]>> = match deals {
            None => vec![None],
            Some(deals) => deals.chunks(400).map(Some).collect(),
        };
        let mut aggregates = Vec::new();
        let mut contacts = Vec::new();
        for chunk in chunks {
            let only = chunk.map_or(String::new(), |ids| {
                let list: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
                format!(" AND opportunity_id IN ({})", list.join(","))
            });
            let sql = format!(
                "SELECT opportunity_id, max(occurred_at) AS last_at, max(occurred_at) FILTER (WHERE direction = 'inbound') AS inbound_at,
                        count(*) FILTER (WHERE direction <> 'internal' AND occurred_at >= ?3 AND occurred_at < ?4) AS touchpoints,
                        max(logged_at - occurred_at) AS lag
                 FROM activity
                 WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL AND occurred_at < ?2 AND logged_at < ?2{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            );
            aggregates.extend(self.collect(
                &sql,
                params![org.0, until, touch_from.as_micros(), touch_to.as_micros()],
                read::<ActivityAggregate>,
            )?);
            let sql = format!(
                "SELECT a.opportunity_id AS opportunity_id, count(DISTINCT l.contact_id) AS contacts
                 FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id
                 WHERE a.organisation_id = ?1 AND a.opportunity_id IS NOT NULL AND a.occurred_at < ?2 AND a.logged_at < ?2{}
                 GROUP BY a.opportunity_id ORDER BY a.opportunity_id",
                only.replace("opportunity_id", "a.opportunity_id")
            );
            contacts.extend(self.collect(&sql, params![org.0, until], |row| contact_count(&Fields::new(row, "activity_contact")))?);
        }
        aggregates.sort_by_key(|aggregate| aggregate.opportunity_id);
        contacts.sort_unstable();
        pipewise_store::merge_contact_counts(&mut aggregates, contacts);
        Ok(aggregates)
    }

    fn deal_touches(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealTouch>> {
        let ids = json_array(deals.iter().map(|id| id.0));
        let mut touches = self.collect(SELECT_DEAL_TOUCHES, params![org.0, ids], read)?;
        let links =
            self.collect(SELECT_DEAL_TOUCH_CONTACTS, params![org.0, ids], |row| touch_contact(&Fields::new(row, "activity_contact")))?;
        pipewise_store::attach_touch_contacts(&mut touches, links);
        Ok(touches)
    }

    fn deal_companies(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealCompany>> {
        self.collect(SELECT_DEAL_COMPANIES, params![org.0, json_array(deals.iter().map(|id| id.0))], read)
    }

    fn activities_after(&mut self, org: OrgId, after: ActivityId, limit: u32) -> Result<Vec<LoggedActivity>> {
        self.collect(
            // `+organisation_id`: walk the ids from the cursor, not the organisation's index.
            "SELECT activity_id, opportunity_id, logged_at FROM activity WHERE activity_id > ?2 AND +organisation_id = ?1
             ORDER BY activity_id LIMIT ?3",
            params![org.0, after.0, limit],
            |row| logged_activity(&Fields::new(row, "activity")),
        )
    }

    fn max_activity_id(&mut self) -> Result<ActivityId> {
        let top = self.one(sql::SELECT_MAX_ACTIVITY_ID, [], |row| Fields::new(row, "activity").get::<Option<i64>>("top"))?;
        Ok(ActivityId(top.flatten().unwrap_or(0)))
    }
}

impl SqliteTx<'_> {
    /// `activities` with their contacts.
    fn with_contacts(&self, mut activities: Vec<Activity>) -> Result<Vec<Activity>> {
        for activity in &mut activities {
            activity.contact_ids = self.collect(
                "SELECT contact_id FROM activity_contact WHERE activity_id = ?1 ORDER BY contact_id",
                [activity.id.0],
                |row| Ok(ContactId(Fields::new(row, "activity_contact").get("contact_id")?)),
            )?;
        }
        Ok(activities)
    }
}

/// The values [`sql::INSERT_ACTIVITY`] binds (and the bulk loader's statement, which has the same
/// parameters).
pub(super) fn activity_params<'a>(org: OrgId, activity: &'a NewActivity, logged_at: Timestamp) -> impl rusqlite::Params + 'a {
    (
        org.0,
        activity.kind.as_str(),
        activity.direction.as_str(),
        activity.occurred_at.as_micros(),
        logged_at.as_micros(),
        activity.subject.as_str(),
        activity.body.as_deref(),
        activity.source.as_str(),
        activity.user_id.map(|id| id.0),
        activity.account_id.map(|id| id.0),
        activity.opportunity_id.map(|id| id.0),
    )
}
