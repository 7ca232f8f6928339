//! [`SentimentTx`] for SQLite.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{ActivityMix, ActivitySentiment, RatedText, Result, SentimentAlert, SentimentTx, merge_ratings};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::SqliteTx;

const PUT_RATING: &str = "INSERT INTO activity_rating (activity_id, user_id, organisation_id, rating, rated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (activity_id, user_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at";
const SELECT_RATINGS: &str = "SELECT r.activity_id, r.user_id, r.rating, a.subject, a.body FROM activity_rating r \
     JOIN activity a ON a.activity_id = r.activity_id WHERE r.organisation_id = ?1 ORDER BY r.rated_at, r.activity_id, r.user_id";
const PUT_SENTIMENT: &str = "INSERT INTO activity_sentiment (activity_id, organisation_id, score, words) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (activity_id) DO UPDATE SET score = excluded.score, words = excluded.words";
const SELECT_SENTIMENT: &str = "SELECT s.activity_id, s.score, s.words, r.rating FROM activity_sentiment s \
     LEFT JOIN activity_rating r ON r.activity_id = s.activity_id AND r.user_id = ?3 WHERE s.organisation_id = ?1 AND s.activity_id = ?2";
const SELECT_NEGATIVE_INBOUND: &str = "SELECT a.activity_id, a.occurred_at, a.subject, s.score, a.user_id, a.account_id, a.opportunity_id \
     FROM activity_sentiment s JOIN activity a ON a.activity_id = s.activity_id \
     WHERE s.organisation_id = ?1 AND s.score < ?3 AND a.direction = 'inbound' AND a.occurred_at >= ?2 \
     ORDER BY a.occurred_at DESC, a.activity_id DESC LIMIT ?4";

const SELECT_MIX: &str = "SELECT user_id, sum(direction = 'inbound') AS inbound, sum(direction = 'outbound') AS outbound, \
     sum(direction = 'internal') AS internal, sum(source IN ('eml', 'mbox', 'ics', 'imap', 'smtp')) AS captured, \
     sum(body IS NOT NULL) AS with_body FROM activity WHERE organisation_id = ?1 AND occurred_at >= ?2 AND user_id IS NOT NULL \
     GROUP BY user_id ORDER BY user_id";
const SELECT_RATING_COUNTS: &str =
    "SELECT user_id, count(*) AS ratings FROM activity_rating WHERE organisation_id = ?1 GROUP BY user_id ORDER BY user_id";

impl SentimentTx for SqliteTx<'_> {
    fn put_activity_rating(&mut self, org: OrgId, activity: ActivityId, user: UserId, rating: i8, at: Timestamp) -> Result<()> {
        self.execute(PUT_RATING, params![activity.0, user.0, org.0, rating, at.as_micros()])?;
        Ok(())
    }

    fn activity_ratings(&mut self, org: OrgId) -> Result<Vec<RatedText>> {
        self.collect(SELECT_RATINGS, params![org.0], read)
    }

    fn put_activity_sentiments(&mut self, org: OrgId, scores: &[(ActivityId, i32, String)]) -> Result<()> {
        for (activity, score, words) in scores {
            self.execute(PUT_SENTIMENT, params![activity.0, org.0, score, words])?;
        }
        Ok(())
    }

    fn activity_sentiments(&mut self, org: OrgId, activities: &[ActivityId], reader: UserId) -> Result<Vec<ActivitySentiment>> {
        let mut ids: Vec<i64> = activities.iter().map(|id| id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.one(SELECT_SENTIMENT, params![org.0, id, reader.0], read)?);
        }
        Ok(out)
    }

    fn negative_inbound(&mut self, org: OrgId, since: Timestamp, below: i32, limit: u32) -> Result<Vec<SentimentAlert>> {
        self.collect(SELECT_NEGATIVE_INBOUND, params![org.0, since.as_micros(), below, limit], read)
    }

    fn activity_mix(&mut self, org: OrgId, since: Timestamp) -> Result<Vec<ActivityMix>> {
        let mut mixes = self.collect(SELECT_MIX, params![org.0, since.as_micros()], read)?;
        let ratings = self.collect(SELECT_RATING_COUNTS, params![org.0], |row| {
            let fields = Fields::new(row, "activity_rating");
            Ok((fields.get::<i64>("user_id")?, fields.get::<i64>("ratings")?))
        })?;
        merge_ratings(&mut mixes, ratings);
        Ok(mixes)
    }
}
