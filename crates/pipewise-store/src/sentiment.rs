//! Sentiment ([`SentimentTx`]): each captured message's score, the reps' +/− ratings that
//! retrain the vocabulary, and the negative inbound messages an early warning lists.

use pipewise_core::*;

use crate::Result;

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
}
