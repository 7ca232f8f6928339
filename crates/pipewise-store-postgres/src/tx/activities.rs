//! [`ActivitiesTx`] for PostgreSQL: activities, their contact links and the per-deal aggregates.

use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::{Columns, attach, contact_count, latest_activity, logged_activity, touch_contact};
use pipewise_store::{ActivitiesTx, ActivityAggregate, ActivityFilter, DealCompany, DealTouch, LoggedActivity, Result, sql};
use postgres::Row;
use postgres::types::ToSql;

use crate::fields::{Fields, read};

/// [`sql::SELECT_LAST_ACTIVITY_AT`] for the deals of an array (`$2`).
const SELECT_LAST_ACTIVITY_AT_OF_DEALS: &str = "SELECT opportunity_id, max(occurred_at) AS last_at FROM activity \
     WHERE organisation_id = $1 AND opportunity_id IS NOT NULL AND opportunity_id = ANY($2) \
     GROUP BY opportunity_id ORDER BY opportunity_id";

/// The touches of the deals of an array (`$2`), in activity order.
const SELECT_DEAL_TOUCHES: &str = "SELECT activity_id, opportunity_id, occurred_at, logged_at, direction FROM activity \
     WHERE organisation_id = $1 AND opportunity_id = ANY($2) ORDER BY activity_id";
/// The contacts those touches name, with their titles, in activity and contact order.
const SELECT_DEAL_TOUCH_CONTACTS: &str = "SELECT l.activity_id AS activity_id, l.contact_id AS contact_id, c.title AS title \
     FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id JOIN contact c ON c.contact_id = l.contact_id \
     WHERE a.organisation_id = $1 AND a.opportunity_id = ANY($2) ORDER BY l.activity_id, l.contact_id";
/// The size and industry of the accounts of the deals of an array (`$2`), in opportunity order.
const SELECT_DEAL_COMPANIES: &str = "SELECT o.opportunity_id AS opportunity_id, a.employee_count AS employee_count, a.industry AS industry \
     FROM opportunity o JOIN account a ON a.account_id = o.account_id \
     WHERE o.organisation_id = $1 AND o.opportunity_id = ANY($2) ORDER BY o.opportunity_id";

use super::{PgTx, VISIBLE_DEALS, scope_params};

impl ActivitiesTx for PgTx<'_> {
    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId> {
        let id = self.returned_id(
            "activity",
            sql::INSERT_ACTIVITY,
            &[
                &org.0,
                &activity.kind.as_str(),
                &activity.direction.as_str(),
                &activity.occurred_at.to_jiff(),
                &logged_at.to_jiff(),
                &activity.subject,
                &activity.body,
                &activity.source,
                &activity.user_id.map(|id| id.0),
                &activity.account_id.map(|id| id.0),
                &activity.opportunity_id.map(|id| id.0),
            ],
        )?;
        if !activity.contact_ids.is_empty() {
            let contact_ids: Vec<i64> = activity.contact_ids.iter().map(|id| id.0).collect();
            // The join keeps contacts of other organisations out.
            self.execute(
                "INSERT INTO activity_contact (activity_id, contact_id) \
                 SELECT DISTINCT $2::bigint, contact.contact_id FROM contact \
                 WHERE contact.organisation_id = $1 AND contact.contact_id = ANY($3::bigint[])",
                &[&org.0, &id, &contact_ids],
            )?;
        }
        Ok(ActivityId(id))
    }

    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
        let activities = self.collect(sql::SELECT_ACTIVITY, &[&org.0, &id.0], read)?;
        Ok(self.with_contacts(org, activities)?.into_iter().next())
    }

    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
        let activities = self.collect(sql::SELECT_ACTIVITIES_OF_OPPORTUNITY, &[&org.0, &id.0], read)?;
        self.with_contacts(org, activities)
    }

    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>> {
        let opportunity = filter.opportunity_id.map(|id| id.0);
        let account = filter.account_id.map(|id| id.0);
        let user = filter.user_id.map(|id| id.0);
        let (after, limit) = (filter.after_id.map(|id| id.0), filter.limit.map(i64::from));
        let (scoped, owners, shared_with) = scope_params(filter.scope.as_ref());
        let activities = self.collect(
            &format!(
                "SELECT {} FROM activity WHERE organisation_id = $1 AND ($2::bigint IS NULL OR opportunity_id = $2) \
                 AND ($3::bigint IS NULL OR account_id = $3) AND ($4::bigint IS NULL OR user_id = $4) \
                 AND (NOT $5 OR user_id = ANY($6::bigint[]) OR opportunity_id IN {VISIBLE_DEALS}) \
                 AND ($8::bigint IS NULL OR activity_id > $8) ORDER BY activity_id LIMIT $9",
                sql::ACTIVITY_COLUMNS
            ),
            &[&org.0, &opportunity, &account, &user, &scoped, &owners, &shared_with, &after, &limit],
            read,
        )?;
        self.with_contacts(org, activities)
    }

    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
        let row = |row: &Row| latest_activity(&Fields::new(row, "activity"));
        let Some(deals) = deals else { return self.collect(sql::SELECT_LAST_ACTIVITY_AT, &[&org.0], row) };
        let ids: Vec<i64> = deals.iter().map(|id| id.0).collect();
        self.collect(SELECT_LAST_ACTIVITY_AT_OF_DEALS, &[&org.0, &ids], row)
    }

    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>> {
        let until = until.map(Timestamp::to_jiff);
        let (touch_from, touch_to) = (touch_from.to_jiff(), touch_to.to_jiff());
        let only: Option<Vec<i64>> = deals.map(|deals| deals.iter().map(|id| id.0).collect());
        // The bounds are spelt into the text only when given (no `$n IS NULL OR …`), so a cached
        // generic plan still uses the covering index for the deals named.
        let bounds = |prefix: &str, first: usize| {
            let mut sql = String::new();
            let mut next = first;
            if until.is_some() {
                sql.push_str(&format!(" AND {prefix}occurred_at < ${next} AND {prefix}logged_at < ${next}"));
                next += 1;
            }
            if only.is_some() {
                sql.push_str(&format!(" AND {prefix}opportunity_id = ANY(${next})"));
            }
            sql
        };
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&org.0, &touch_from, &touch_to];
        let mut contact_values: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        if let Some(until) = &until {
            values.push(until);
            contact_values.push(until);
        }
        if let Some(only) = &only {
            values.push(only);
            contact_values.push(only);
        }
        let mut aggregates = self.collect(
            &format!(
                "SELECT opportunity_id, max(occurred_at) AS last_at, max(occurred_at) FILTER (WHERE direction = 'inbound') AS inbound_at,
                        count(*) FILTER (WHERE direction <> 'internal' AND occurred_at >= $2 AND occurred_at < $3) AS touchpoints,
                        (extract(epoch FROM max(logged_at - occurred_at)) * 1000000)::bigint AS lag
                 FROM activity
                 WHERE organisation_id = $1 AND opportunity_id IS NOT NULL{}
                 GROUP BY opportunity_id ORDER BY opportunity_id",
                bounds("", 4)
            ),
            &values,
            read::<ActivityAggregate>,
        )?;
        let contacts: Vec<(i64, i64)> = if only.is_some() {
            // A few deals: their activities by the deal index, then those activities' contact
            // links by the primary key. (Joined in one query, the planner misjudges the rows an
            // `= ANY` list yields and hashes every contact link of the database.)
            let rows = self.query(
                &format!(
                    "SELECT activity_id, opportunity_id FROM activity WHERE organisation_id = $1 AND opportunity_id IS NOT NULL{}",
                    bounds("", 2)
                ),
                &contact_values,
            )?;
            let mut deal_of = std::collections::HashMap::new();
            for row in &rows {
                let fields = Fields::new(row, "activity");
                deal_of.insert(fields.get::<i64>("activity_id")?, fields.get::<i64>("opportunity_id")?);
            }
            let ids: Vec<i64> = deal_of.keys().copied().collect();
            let rows = self.query("SELECT activity_id, contact_id FROM activity_contact WHERE activity_id = ANY($1)", &[&ids])?;
            let mut distinct: std::collections::BTreeMap<i64, std::collections::BTreeSet<i64>> = std::collections::BTreeMap::new();
            for row in &rows {
                let fields = Fields::new(row, "activity_contact");
                if let Some(deal) = deal_of.get(&fields.get::<i64>("activity_id")?) {
                    distinct.entry(*deal).or_default().insert(fields.get::<i64>("contact_id")?);
                }
            }
            distinct.into_iter().map(|(deal, contacts)| (deal, contacts.len() as i64)).collect()
        } else {
            self.collect(
                &format!(
                    "SELECT a.opportunity_id, count(DISTINCT l.contact_id) AS contacts
                     FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id
                     WHERE a.organisation_id = $1 AND a.opportunity_id IS NOT NULL{}
                     GROUP BY a.opportunity_id ORDER BY a.opportunity_id",
                    bounds("a.", 2)
                ),
                &contact_values,
                |row| contact_count(&Fields::new(row, "activity_contact")),
            )?
        };
        pipewise_store::merge_contact_counts(&mut aggregates, contacts);
        Ok(aggregates)
    }

    fn deal_touches(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealTouch>> {
        let ids: Vec<i64> = deals.iter().map(|id| id.0).collect();
        let mut touches = self.collect(SELECT_DEAL_TOUCHES, &[&org.0, &ids], read)?;
        let links =
            self.collect(SELECT_DEAL_TOUCH_CONTACTS, &[&org.0, &ids], |row| touch_contact(&Fields::new(row, "activity_contact")))?;
        pipewise_store::attach_touch_contacts(&mut touches, links);
        Ok(touches)
    }

    fn deal_companies(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealCompany>> {
        let ids: Vec<i64> = deals.iter().map(|id| id.0).collect();
        self.collect(SELECT_DEAL_COMPANIES, &[&org.0, &ids], read)
    }

    fn activities_after(&mut self, org: OrgId, after: ActivityId, limit: u32) -> Result<Vec<LoggedActivity>> {
        self.collect(
            "SELECT activity_id, opportunity_id, logged_at FROM activity WHERE activity_id > $2 AND organisation_id = $1
             ORDER BY activity_id LIMIT $3",
            &[&org.0, &after.0, &i64::from(limit)],
            |row| logged_activity(&Fields::new(row, "activity")),
        )
    }

    fn max_activity_id(&mut self) -> Result<ActivityId> {
        let top = self.one(sql::SELECT_MAX_ACTIVITY_ID, &[], |row| Fields::new(row, "activity").get::<Option<i64>>("top"))?;
        Ok(ActivityId(top.flatten().unwrap_or(0)))
    }
}

impl PgTx<'_> {
    /// `activities` with their contacts.
    fn with_contacts(&mut self, org: OrgId, mut activities: Vec<Activity>) -> Result<Vec<Activity>> {
        if activities.is_empty() {
            return Ok(activities);
        }
        let ids: Vec<i64> = activities.iter().map(|activity| activity.id.0).collect();
        let contacts = self.collect(
            "SELECT activity_contact.activity_id, activity_contact.contact_id \
             FROM activity_contact JOIN activity ON activity.activity_id = activity_contact.activity_id \
             WHERE activity.organisation_id = $1 AND activity_contact.activity_id = ANY($2::bigint[]) \
             ORDER BY activity_contact.activity_id, activity_contact.contact_id",
            &[&org.0, &ids],
            |row| {
                let fields = Fields::new(row, "activity_contact");
                Ok((fields.get::<i64>("activity_id")?, ContactId(fields.get("contact_id")?)))
            },
        )?;
        attach(&mut activities, contacts, |activity| activity.id.0, |activity, contacts| activity.contact_ids = contacts);
        Ok(activities)
    }
}
