//! Activities ([`ActivitiesTx`]): logged calls, e-mails, meetings and notes, and the per-deal
//! aggregates the analytics are made of.

use pipewise_core::records::*;
use pipewise_core::*;

use crate::Result;

/// Filters for listing activities, in id order; all set filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Whose activities the reader may see: those of deals in the scope, plus those logged by
    /// one of the scope's owners. `None` or `DealScope::All`: every activity.
    pub scope: Option<pipewise_core::access::DealScope>,
    pub opportunity_id: Option<OpportunityId>,
    pub account_id: Option<AccountId>,
    pub user_id: Option<UserId>,
    /// Only ids greater than this (pages in id order, for exports).
    pub after_id: Option<ActivityId>,
    pub limit: Option<u32>,
}

/// One deal's activity aggregates ([`Tx::activity_aggregates`](ActivitiesTx::activity_aggregates)):
/// what the analytics' activity facts are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityAggregate {
    pub opportunity_id: OpportunityId,
    /// The latest `occurred_at`.
    pub last_occurred: Timestamp,
    /// The latest `occurred_at` of an inbound activity.
    pub last_inbound: Option<Timestamp>,
    /// Activities other than internal ones that occurred in the touchpoint window.
    pub touchpoints: u32,
    /// The largest `logged_at − occurred_at`, in microseconds (negative if every activity was
    /// logged before the time it names).
    pub max_lag_micros: i64,
    /// Distinct contacts linked to the activities.
    pub contacts: u32,
}

/// An activity in a feed of new ones ([`Tx::activities_after`](ActivitiesTx::activities_after)):
/// its id, its deal and when it was logged.
pub type LoggedActivity = (ActivityId, Option<OpportunityId>, Timestamp);

/// One activity of a deal as the win-probability model reads it
/// ([`Tx::deal_touches`](ActivitiesTx::deal_touches)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealTouch {
    pub opportunity_id: OpportunityId,
    pub activity_id: ActivityId,
    pub occurred_at: Timestamp,
    pub logged_at: Timestamp,
    pub direction: Direction,
    /// The contacts it names, with their job titles, in contact order.
    pub contacts: Vec<(ContactId, Option<String>)>,
}

/// A contact an activity names, with the contact's title: `(activity, contact, title)`.
pub type TouchContact = (ActivityId, ContactId, Option<String>);

/// Gives each touch (in activity order) the contacts of `links` (in activity order).
pub fn attach_touch_contacts(touches: &mut [DealTouch], links: Vec<TouchContact>) {
    let mut cursor = 0;
    for (activity, contact, title) in links {
        while cursor < touches.len() && touches[cursor].activity_id < activity {
            cursor += 1;
        }
        if let Some(touch) = touches.get_mut(cursor).filter(|touch| touch.activity_id == activity) {
            touch.contacts.push((contact, title));
        }
    }
}

/// The company behind a deal: its account's size and industry
/// ([`Tx::deal_companies`](ActivitiesTx::deal_companies)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealCompany {
    pub opportunity_id: OpportunityId,
    pub employee_count: Option<i64>,
    pub industry: Option<String>,
}

/// Puts each deal's distinct contact count into its aggregate, both lists in opportunity order
/// (for engines that count contacts in a second query).
pub fn merge_contact_counts(aggregates: &mut [ActivityAggregate], contacts: Vec<(i64, i64)>) {
    let mut cursor = 0;
    for (opportunity, count) in contacts {
        while cursor < aggregates.len() && aggregates[cursor].opportunity_id.0 < opportunity {
            cursor += 1;
        }
        if let Some(aggregate) = aggregates.get_mut(cursor).filter(|aggregate| aggregate.opportunity_id.0 == opportunity) {
            aggregate.contacts = count.clamp(0, i64::from(u32::MAX)) as u32;
        }
    }
}

/// A transaction's reads and writes of activities, and the activity facts read by the analytics.
pub trait ActivitiesTx {
    fn insert_activity(&mut self, org: OrgId, activity: &NewActivity, logged_at: Timestamp) -> Result<ActivityId>;
    fn activity(&mut self, org: OrgId, id: ActivityId) -> Result<Option<Activity>>;
    /// A deal's activities, newest first.
    fn activities_of_opportunity(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>>;

    /// Activities matching `filter`, in id order.
    fn activities(&mut self, org: OrgId, filter: &ActivityFilter) -> Result<Vec<Activity>>;

    /// The time of each deal's latest activity, for deals that have one, in opportunity order;
    /// with `deals`, only those deals (read through the `activity_facts` index).
    fn last_activity_at(&mut self, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>>;
    /// Per deal with activities, in opportunity order, over the activities that had both
    /// occurred and been logged before `until` (every activity with `None`): see
    /// [`ActivityAggregate`]; the touchpoints count those that occurred in `[touch_from, touch_to)`.
    /// With `deals`, only those deals. One grouped scan of the `activity_facts` covering index
    /// (migration 0007), plus one of the activities' contact links: no activity row is
    /// materialised.
    fn activity_aggregates(
        &mut self,
        org: OrgId,
        until: Option<Timestamp>,
        touch_from: Timestamp,
        touch_to: Timestamp,
        deals: Option<&[OpportunityId]>,
    ) -> Result<Vec<ActivityAggregate>>;
    /// Every activity of `deals`, in activity order, with the contacts each names and their
    /// titles: what the win-probability model reads of a deal's activity and buying team.
    fn deal_touches(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealTouch>>;
    /// The size and industry of the account of each of `deals` that has one, in opportunity order.
    fn deal_companies(&mut self, org: OrgId, deals: &[OpportunityId]) -> Result<Vec<DealCompany>>;
    /// Up to `limit` activities with an id above `after`, in id order: each id with its deal and
    /// when it was logged (a follower's feed of new activities; ids are assigned in insertion
    /// order).
    fn activities_after(&mut self, org: OrgId, after: ActivityId, limit: u32) -> Result<Vec<LoggedActivity>>;
    /// The highest activity id of any organisation (0 with none): where a feed of new
    /// activities starts after a full read.
    fn max_activity_id(&mut self) -> Result<ActivityId>;
}
