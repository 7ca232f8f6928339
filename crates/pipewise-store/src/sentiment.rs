//! Sentiment ([`SentimentTx`]): each captured message's score, the reps' +/− ratings that
//! retrain the vocabulary, and the negative inbound messages an early warning lists.

use pipewise_core::*;

use crate::Result;
use crate::rows::{Columns, FromRow};

/// A rep's rating of an activity, with the activity's text (subject, a line break, body): what
/// the vocabulary is retrained from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatedText {
    pub activity_id: ActivityId,
    pub user_id: UserId,
    /// +1 or −1.
    pub rating: i8,
    pub text: String,
}

/// An activity's stored score: thousandths in −1000…1000, and the words that made it
/// (`word:weight` pairs, space-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivitySentiment {
    pub activity_id: ActivityId,
    pub score: i32,
    pub words: String,
    /// The reader's own rating, when asked for one reader.
    pub rating: Option<i8>,
}

/// A negative inbound message: what the early warning names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentimentAlert {
    pub activity_id: ActivityId,
    pub occurred_at: Timestamp,
    pub subject: String,
    pub score: i32,
    pub user_id: Option<UserId>,
    pub account_id: Option<AccountId>,
    pub opportunity_id: Option<OpportunityId>,
}

/// What one user's activities since a moment are made of: the ladder's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityMix {
    pub user_id: UserId,
    pub inbound: i64,
    pub outbound: i64,
    pub internal: i64,
    /// Captured ones: source `eml`, `mbox`, `ics`, `imap` or `smtp`.
    pub captured: i64,
    pub with_body: i64,
    /// The user's +/- ratings (of any time).
    pub ratings: i64,
}

/// A transaction's reads and writes of message sentiment and ratings.
pub trait SentimentTx {
    /// Sets (or replaces) `user`'s rating of `activity`, stamped `at`.
    fn put_activity_rating(&mut self, org: OrgId, activity: ActivityId, user: UserId, rating: i8, at: Timestamp) -> Result<()>;
    /// Every rating of the organisation with its activity's text, in the order they were
    /// given (by time, then activity, then user): the order retraining applies them in.
    fn activity_ratings(&mut self, org: OrgId) -> Result<Vec<RatedText>>;
    /// Sets (or replaces) the scores of activities.
    fn put_activity_sentiments(&mut self, org: OrgId, scores: &[(ActivityId, i32, String)]) -> Result<()>;
    /// The stored scores of `activities` (those that have one), in activity order, each with
    /// `reader`'s rating.
    fn activity_sentiments(&mut self, org: OrgId, activities: &[ActivityId], reader: UserId) -> Result<Vec<ActivitySentiment>>;
    /// Inbound activities that occurred at or after `since` with a score below `below`, newest
    /// first, at most `limit`.
    fn negative_inbound(&mut self, org: OrgId, since: Timestamp, below: i32, limit: u32) -> Result<Vec<SentimentAlert>>;
    /// Per user with activities that occurred at or after `since` (or ratings), in user order:
    /// one grouped scan of the organisation's activities and one of its ratings.
    fn activity_mix(&mut self, org: OrgId, since: Timestamp) -> Result<Vec<ActivityMix>>;
}

/// Puts each user's rating count into the mixes (both lists in user order), adding users who
/// only rated.
pub fn merge_ratings(mixes: &mut Vec<ActivityMix>, ratings: Vec<(i64, i64)>) {
    for (user, count) in ratings {
        match mixes.binary_search_by_key(&user, |mix| mix.user_id.0) {
            Ok(at) => mixes[at].ratings = count,
            Err(at) => mixes.insert(
                at,
                ActivityMix { user_id: UserId(user), inbound: 0, outbound: 0, internal: 0, captured: 0, with_body: 0, ratings: count },
            ),
        }
    }
}

/// A rating with its activity's `subject` and `body`.
impl FromRow for RatedText {
    const TABLE: &'static str = "activity_rating";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        let subject: String = fields.get("subject")?;
        let body: Option<String> = fields.get("body")?;
        Ok(RatedText {
            activity_id: ActivityId(fields.get("activity_id")?),
            user_id: UserId(fields.get("user_id")?),
            rating: fields.get::<i32>("rating")?.signum() as i8,
            text: format!("{subject}\n{}", body.unwrap_or_default()),
        })
    }
}

/// One user's grouped activity counts (`inbound`, `outbound`, `internal`, `captured`,
/// `with_body`); the ratings are counted apart.
impl FromRow for ActivityMix {
    const TABLE: &'static str = "activity";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(ActivityMix {
            user_id: UserId(fields.get("user_id")?),
            inbound: fields.get("inbound")?,
            outbound: fields.get("outbound")?,
            internal: fields.get("internal")?,
            captured: fields.get("captured")?,
            with_body: fields.get("with_body")?,
            ratings: 0,
        })
    }
}

/// A stored score with the reader's `rating` (null when none).
impl FromRow for ActivitySentiment {
    const TABLE: &'static str = "activity_sentiment";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(ActivitySentiment {
            activity_id: ActivityId(fields.get("activity_id")?),
            score: fields.get("score")?,
            words: fields.get("words")?,
            rating: fields.get::<Option<i32>>("rating")?.map(|rating| rating.signum() as i8),
        })
    }
}

/// A score with its activity's `occurred_at`, `subject`, `user_id`, `account_id` and `opportunity_id`.
impl FromRow for SentimentAlert {
    const TABLE: &'static str = "activity_sentiment";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(SentimentAlert {
            activity_id: ActivityId(fields.get("activity_id")?),
            occurred_at: fields.get("occurred_at")?,
            subject: fields.get("subject")?,
            score: fields.get("score")?,
            user_id: fields.get::<Option<i64>>("user_id")?.map(UserId),
            account_id: fields.get::<Option<i64>>("account_id")?.map(AccountId),
            opportunity_id: fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
        })
    }
}
