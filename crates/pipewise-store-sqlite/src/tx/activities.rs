//! [`ActivitiesTx`] for SQLite: activities, their contact links and the per-deal aggregates.

use pipewise_core::access::DealScope;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::{ActivitiesTx, ActivityAggregate, ActivityFilter, Result};
use rusqlite::types::Value;
use rusqlite::{Row, params};

use crate::rows::{parsed, timestamp};

use super::{SqliteTx, db_err, identity, scope_condition};

const ACTIVITY_SELECT: &str =
    "SELECT activity_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id FROM activity";

impl ActivitiesTx for SqliteTx<'_> {
    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId> {
        let id = self
            .db()
            .prepare_cached(
                "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    activity.kind.as_str(),
                    activity.direction.as_str(),
                    activity.occurred_at.as_micros(),
                    logged_at.as_micros(),
                    activity.subject,
                    activity.body,
                    activity.source,
                    activity.user_id.map(|id| id.0),
                    activity.account_id.map(|id| id.0),
                    activity.opportunity_id.map(|id| id.0)
                ])
            })
            .map_err(db_err)?;
        let mut statement =
            self.db().prepare_cached("INSERT INTO activity_contact (activity_id, contact_id) VALUES (?1, ?2)").map_err(db_err)?;
        for contact in &activity.contact_ids {
            statement.execute(params![id, contact.0]).map_err(db_err)?;
        }
        Ok(ActivityId(id))
    }

    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
        let sql = format!("{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND activity_id = ?2");
        let row = self.one(&sql, params![org.0, id.0], activity_row, finish_activity)?;
        Ok(self.finish_activities(row.into_iter().collect())?.pop())
    }

    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
        let sql =
            format!("{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND opportunity_id = ?2 ORDER BY occurred_at DESC, activity_id DESC");
        let rows = self.collect(&sql, params![org.0, id.0], activity_row, finish_activity)?;
        self.finish_activities(rows)
    }

    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>> {
        let mut sql = format!(
            "{ACTIVITY_SELECT} WHERE organisation_id = ?1 AND (?2 IS NULL OR opportunity_id = ?2) AND (?3 IS NULL OR account_id = ?3)
             AND (?4 IS NULL OR user_id = ?4)"
        );
        let mut values = vec![
            Value::Integer(org.0),
            filter.opportunity_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.account_id.map_or(Value::Null, |id| Value::Integer(id.0)),
            filter.user_id.map_or(Value::Null, |id| Value::Integer(id.0)),
        ];
        if let Some(DealScope::Owners { owners, shared_with }) = &filter.scope {
            sql.push_str(&scope_condition("user_id", owners, *shared_with, &mut values));
        }
        sql.push_str(" ORDER BY activity_id");
        let rows = self.collect(&sql, rusqlite::params_from_iter(values), activity_row, finish_activity)?;
        self.finish_activities(rows)
    }

    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
        let sql = |only: &str| {
            format!(
                "SELECT opportunity_id, max(occurred_at) FROM activity WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            )
        };
        let row = |row: &Row<'_>| Ok((OpportunityId(row.get(0)?), timestamp(row.get(1)?)));
        let Some(deals) = deals else { return self.collect(&sql(""), [org.0], row, identity) };
        // The deals as one JSON array parameter: one statement text whatever their number.
        let ids = format!("[{}]", deals.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(","));
        self.collect(&sql(" AND opportunity_id IN (SELECT value FROM json_each(?2))"), params![org.0, ids], row, identity)
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
                "SELECT opportunity_id, max(occurred_at), max(occurred_at) FILTER (WHERE direction = 'inbound'),
                        count(*) FILTER (WHERE direction <> 'internal' AND occurred_at >= ?3 AND occurred_at < ?4),
                        max(logged_at - occurred_at)
                 FROM activity
                 WHERE organisation_id = ?1 AND opportunity_id IS NOT NULL AND occurred_at < ?2 AND logged_at < ?2{only}
                 GROUP BY opportunity_id ORDER BY opportunity_id"
            );
            aggregates.extend(self.collect(
                &sql,
                params![org.0, until, touch_from.as_micros(), touch_to.as_micros()],
                |row| {
                    Ok(ActivityAggregate {
                        opportunity_id: OpportunityId(row.get(0)?),
                        last_occurred: timestamp(row.get(1)?),
                        last_inbound: row.get::<_, Option<i64>>(2)?.map(timestamp),
                        touchpoints: row.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                        max_lag_micros: row.get(4)?,
                        contacts: 0,
                    })
                },
                identity,
            )?);
            let sql = format!(
                "SELECT a.opportunity_id, count(DISTINCT l.contact_id)
                 FROM activity a JOIN activity_contact l ON l.activity_id = a.activity_id
                 WHERE a.organisation_id = ?1 AND a.opportunity_id IS NOT NULL AND a.occurred_at < ?2 AND a.logged_at < ?2{}
                 GROUP BY a.opportunity_id ORDER BY a.opportunity_id",
                only.replace("opportunity_id", "a.opportunity_id")
            );
            contacts.extend(self.collect(
                &sql,
                params![org.0, until],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
                identity,
            )?);
        }
        aggregates.sort_by_key(|aggregate| aggregate.opportunity_id);
        contacts.sort_unstable();
        pipewise_store::merge_contact_counts(&mut aggregates, contacts);
        Ok(aggregates)
    }

    fn activities_after(
        &mut self,
        org: OrgId,
        after: ActivityId,
        limit: u32,
    ) -> Result<Vec<(ActivityId, Option<OpportunityId>, Timestamp)>> {
        self.collect(
            // `+organisation_id`: walk the ids from the cursor, not the organisation's index.
            "SELECT activity_id, opportunity_id, logged_at FROM activity WHERE activity_id > ?2 AND +organisation_id = ?1
             ORDER BY activity_id LIMIT ?3",
            params![org.0, after.0, limit],
            |row| Ok((ActivityId(row.get(0)?), row.get::<_, Option<i64>>(1)?.map(OpportunityId), timestamp(row.get(2)?))),
            identity,
        )
    }

    fn max_activity_id(&mut self) -> Result<ActivityId> {
        let id: Option<i64> = self
            .db()
            .prepare_cached("SELECT max(activity_id) FROM activity")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(db_err)?;
        Ok(ActivityId(id.unwrap_or(0)))
    }
}

impl SqliteTx<'_> {
    fn activity_contacts(&self, activity: ActivityId) -> Result<Vec<ContactId>> {
        let mut statement = self
            .db()
            .prepare_cached("SELECT contact_id FROM activity_contact WHERE activity_id = ?1 ORDER BY contact_id")
            .map_err(db_err)?;
        let rows = statement.query_map([activity.0], |row| row.get(0).map(ContactId)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<ContactId>>>().map_err(db_err)
    }

    fn finish_activities(&self, rows: Vec<Activity>) -> Result<Vec<Activity>> {
        rows.into_iter()
            .map(|mut activity| {
                activity.contact_ids = self.activity_contacts(activity.id)?;
                Ok(activity)
            })
            .collect()
    }
}

type ActivityRow = (Activity, String, String);

fn activity_row(row: &Row<'_>) -> rusqlite::Result<ActivityRow> {
    let activity = Activity {
        id: ActivityId(row.get(0)?),
        kind: ActivityKind::Note,
        direction: Direction::Internal,
        occurred_at: timestamp(row.get(3)?),
        logged_at: timestamp(row.get(4)?),
        subject: row.get(5)?,
        body: row.get(6)?,
        source: row.get(7)?,
        user_id: row.get::<_, Option<i64>>(8)?.map(UserId),
        account_id: row.get::<_, Option<i64>>(9)?.map(AccountId),
        opportunity_id: row.get::<_, Option<i64>>(10)?.map(OpportunityId),
        contact_ids: Vec::new(),
    };
    Ok((activity, row.get(1)?, row.get(2)?))
}

fn finish_activity((mut activity, kind, direction): ActivityRow) -> Result<Activity> {
    activity.kind = parsed("activity", &kind, ActivityKind::parse)?;
    activity.direction = parsed("activity", &direction, Direction::parse)?;
    Ok(activity)
}
