//! Who gets a new lead: the members of the first territory whose rule it matches (and who are
//! in the pool with some capacity), else the whole pool; among them, the one whose load (the
//! quality of the leads they got in the window, with this one added) is smallest for their
//! capacity. Ties go to whoever waited longest, then to the lower id, so the same inputs always
//! give the same owner, and every choice can be explained.

use pipewise_core::{Timestamp, UserId};

use crate::fit::Profile;
use crate::{Prospect, one_of, within};

/// A rep in the pool. Capacity weighs their share (2 takes twice the leads of 1); 0 takes none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub capacity: u32,
}

/// A territory: every condition given must hold; its members get its leads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Territory {
    pub name: String,
    pub regions: Vec<String>,
    pub industries: Vec<String>,
    pub min_employees: Option<i64>,
    pub max_employees: Option<i64>,
    pub members: Vec<UserId>,
}

impl Territory {
    pub fn matches(&self, prospect: &Prospect<'_>) -> bool {
        let text = |value: Option<&str>, allowed: &[String]| allowed.is_empty() || value.is_some_and(|value| one_of(value, allowed));
        text(prospect.region, &self.regions)
            && text(prospect.industry, &self.industries)
            && ((self.min_employees.is_none() && self.max_employees.is_none())
                || prospect.employee_count.is_some_and(|count| within(count, self.min_employees, self.max_employees)))
    }
}

/// An organisation's routing: its ideal customer, its pool and its territories, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub profile: Profile,
    pub pool: Vec<Member>,
    pub territories: Vec<Territory>,
}

impl Rules {
    /// A member's capacity; 0 outside the pool.
    pub fn capacity(&self, user: UserId) -> u32 {
        self.pool.iter().find(|member| member.user == user).map_or(0, |member| member.capacity)
    }

    /// Whether routing gives leads at all (someone in the pool has capacity).
    pub fn is_on(&self) -> bool {
        self.pool.iter().any(|member| member.capacity > 0)
    }
}

/// What a rep already got in the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    pub user: UserId,
    /// The summed quality of the leads routed to them.
    pub quality: f64,
    /// When they last got one.
    pub last: Option<Timestamp>,
}

/// Where a lead went.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// None when nobody could take it (no one in the pool has capacity).
    pub owner: Option<UserId>,
    /// The territory whose rule sent it; none for the pool.
    pub territory: Option<String>,
    /// The owner's load per capacity before and after this lead.
    pub share_before: f64,
    pub share_after: f64,
}

/// Routes a lead of `quality` (see [`crate::fit::Fit::quality`]).
pub fn route(rules: &Rules, prospect: &Prospect<'_>, quality: f64, loads: &[Load]) -> Route {
    let available = |user: &UserId| rules.capacity(*user) > 0;
    let territory =
        rules.territories.iter().filter(|territory| territory.matches(prospect)).find(|territory| territory.members.iter().any(available));
    let candidates: Vec<UserId> = match territory {
        Some(territory) => territory.members.iter().copied().filter(available).collect(),
        None => rules.pool.iter().filter(|member| member.capacity > 0).map(|member| member.user).collect(),
    };
    let load = |user: UserId| loads.iter().find(|load| load.user == user);
    let chosen = candidates.into_iter().min_by(|a, b| {
        let share = |user: UserId| (load(user).map_or(0.0, |load| load.quality) + quality) / f64::from(rules.capacity(user));
        let last = |user: UserId| load(user).and_then(|load| load.last);
        share(*a).total_cmp(&share(*b)).then_with(|| last(*a).cmp(&last(*b))).then_with(|| a.cmp(b))
    });
    match chosen {
        Some(user) => {
            let before = load(user).map_or(0.0, |load| load.quality) / f64::from(rules.capacity(user));
            Route {
                owner: Some(user),
                territory: territory.map(|territory| territory.name.clone()),
                share_before: before,
                share_after: before + quality / f64::from(rules.capacity(user)),
            }
        }
        None => Route { owner: None, territory: None, share_before: 0.0, share_after: 0.0 },
    }
}
