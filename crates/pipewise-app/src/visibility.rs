//! Whose figures a viewer may see: the one rule that pages, the API and the command line use to
//! resolve what a dashboard, a figure or a drill-down covers.
//!
//! - The deals a viewer may see are `Access::deal_scope()`'s: everything for admins, ops and
//!   viewers; their reporting tree for a manager; their own for a rep. A shared deal counts in
//!   its owner's figures, not in the figures of whoever it is shared with.
//! - A subject asked for by id is an owner (`owner`), else a team (`team`); an owner comes
//!   before a team when both are given. An owner the viewer may not see, or a team none of whose
//!   members the viewer may see, is answered exactly like one that does not exist
//!   ([`StoreError::NotFound`]): figures never tell what lies outside the viewer's scope, not
//!   even by being empty.
//! - A team the viewer sees part of covers the members the viewer may see.
//! - A team covers the people on it at the end of the figures' day ([`Roster::on`], by
//!   [`TeamHistory`]'s rule): a rep who moved team since still counts in the old team's past
//!   figures, and the new team's from the day of the move.
//! - With no subject asked for, [`Fallback`] says what to show: a page shows the viewer's own
//!   ground ([`Fallback::Home`]: the organisation, a manager's team, a rep's own figures), the
//!   API everything the viewer may see ([`Fallback::Everything`]).
//! - A figure counts a deal by its owner *on the figure's day*, so it may count deals the viewer
//!   may no longer see (handed to another team since: a past day's pipeline, a waterfall's start
//!   and "transferred out"). A list of deals behind a figure names only the deals the viewer may
//!   see now ([`OpenableDeals`], the rule of every deal read): the count stays, the ids of the
//!   others never appear.

use std::collections::BTreeSet;

use pipewise_analytics::Scope;
use pipewise_analytics::projection::Projection;
use pipewise_core::access::{Access, DealScope};
use pipewise_core::records::Team;
use pipewise_core::user::{Role, TeamHistory, User};
use pipewise_core::{Date, OpportunityId, OrgId, TeamId, UserId};

use crate::{OpportunityFilter, Result, StoreError, Tx};

/// What a dashboard (or a drill-down) covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Organisation,
    Team(TeamId),
    Rep(UserId),
    /// A manager who leads no team (or everything a manager may see): their reporting tree.
    Reports,
}

/// The subject with its owners, as far as the viewer may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub subject: Subject,
    /// `None`: every owner (the organisation).
    pub owners: Option<BTreeSet<UserId>>,
}

/// What to cover when the viewer asks for no subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// The viewer's own ground: the organisation for those who see all of it, a manager's
    /// team (or their reporting tree), a rep's own figures.
    Home,
    /// Everything the viewer may see.
    Everything,
}

/// The owners `access` may see deals of; `None` for everyone.
pub fn visible_owners(access: &Access) -> Option<BTreeSet<UserId>> {
    match access.deal_scope() {
        DealScope::All => None,
        DealScope::Owners { owners, .. } => Some(owners),
    }
}

fn narrow(visible: &Option<BTreeSet<UserId>>, wanted: BTreeSet<UserId>) -> BTreeSet<UserId> {
    match visible {
        None => wanted,
        Some(visible) => wanted.intersection(visible).copied().collect(),
    }
}

/// The organisation's people and teams, with who was on which team, read on one day.
#[derive(Clone, Copy, Debug)]
pub struct Roster<'a> {
    pub users: &'a [User],
    pub teams: &'a [Team],
    pub history: &'a TeamHistory,
    /// The figures' day: a team covers whoever was on it at its end.
    pub on: Date,
}

/// Resolves the subject `viewer` asks for (`owner` before `team`) within what `access` may see;
/// see the module doc for the rule.
pub fn resolve_subject(
    access: &Access,
    viewer: &User,
    roster: Roster<'_>,
    owner: Option<UserId>,
    team: Option<TeamId>,
    fallback: Fallback,
) -> Result<Resolved> {
    let Roster { users, teams, history, on } = roster;
    let visible = visible_owners(access);
    let members = |team: TeamId| history.members_on(team, on);
    if let Some(id) = owner {
        let known = users.iter().any(|user| user.id == id);
        if !known || visible.as_ref().is_some_and(|visible| !visible.contains(&id)) {
            return Err(StoreError::NotFound { kind: UserId::LABEL, id: id.0 });
        }
        return Ok(Resolved { subject: Subject::Rep(id), owners: Some([id].into()) });
    }
    if let Some(id) = team {
        if !teams.iter().any(|candidate| candidate.id == id) {
            return Err(StoreError::NotFound { kind: TeamId::LABEL, id: id.0 });
        }
        let owners = narrow(&visible, members(id));
        if visible.is_some() && owners.is_empty() {
            return Err(StoreError::NotFound { kind: TeamId::LABEL, id: id.0 });
        }
        return Ok(Resolved { subject: Subject::Team(id), owners: Some(owners) });
    }
    let Some(tree) = visible else { return Ok(Resolved { subject: Subject::Organisation, owners: None }) };
    match (fallback, viewer.role) {
        (Fallback::Everything, _) => Ok(Resolved { subject: Subject::Reports, owners: Some(tree) }),
        (Fallback::Home, Role::Manager) => {
            let led = teams.iter().find(|team| team.manager_id == Some(viewer.id)).map(|team| team.id).or(viewer.team_id);
            let team_owners = led.map(|team| (team, narrow(&Some(tree.clone()), members(team))));
            match team_owners {
                Some((team, owners)) if !owners.is_empty() => Ok(Resolved { subject: Subject::Team(team), owners: Some(owners) }),
                _ => Ok(Resolved { subject: Subject::Reports, owners: Some(tree) }),
            }
        }
        (Fallback::Home, _) => Ok(Resolved { subject: Subject::Rep(viewer.id), owners: Some([viewer.id].into()) }),
    }
}

/// The analytics scope of `owners` (`None`: the organisation), as owner indexes of `projection`.
/// An owner the projection has no deals of adds nothing.
pub fn scope_of(projection: &Projection, owners: Option<&BTreeSet<UserId>>) -> Scope {
    match owners {
        None => Scope::org(),
        Some(owners) => Scope::owners(owners.iter().filter_map(|owner| projection.owner_index(*owner))),
    }
}

/// The scope of everything `access` may see.
pub fn scope_for(projection: &Projection, access: &Access) -> Scope {
    scope_of(projection, visible_owners(access).as_ref())
}

/// The deals a viewer may open, for the lists of deals behind a figure (drill-downs, flagged
/// deals): by the rule of every deal read, [`Access::can_read_deal`] on the deal's owner now
/// (the projection's current owner, which follows the history log) and whether the deal is
/// shared with the viewer. See the module doc for why a figure may count deals this does not
/// admit.
#[derive(Clone, Debug)]
pub struct OpenableDeals {
    /// `None`: nothing ([`OpenableDeals::nothing`]).
    access: Option<Access>,
    /// The deals shared with the viewer (none for those who see every deal).
    shared: BTreeSet<OpportunityId>,
}

impl OpenableDeals {
    /// Admits no deal: what a request starts from until [`OpenableDeals::load`] says more.
    pub fn nothing() -> OpenableDeals {
        OpenableDeals { access: None, shared: BTreeSet::new() }
    }

    /// What `access` may open in `org`: reads the deals shared with the viewer, unless they see
    /// every deal.
    pub fn load(tx: &mut Tx, org: OrgId, access: &Access) -> Result<OpenableDeals> {
        let shared = match access.deal_scope() {
            DealScope::All => BTreeSet::new(),
            // The store's own scope, with no owner: exactly the deals shared with the viewer.
            DealScope::Owners { shared_with, .. } => {
                let scope = DealScope::Owners { owners: BTreeSet::new(), shared_with };
                let filter = OpportunityFilter { scope: Some(scope), ..OpportunityFilter::default() };
                tx.0.opportunities(org, &filter)?.into_iter().map(|deal| deal.id).collect()
            }
        };
        Ok(OpenableDeals { access: Some(access.clone()), shared })
    }

    /// The rule laid out for the deal indexes of `projection`: whether the viewer may read each
    /// owner's deals is worked out once per owner.
    pub fn in_projection<'a>(&'a self, projection: &'a Projection) -> OpenableIn<'a> {
        let owners = match &self.access {
            Some(access) => projection.owner_ids.iter().map(|owner| access.can_read_deal(*owner, false)).collect(),
            None => vec![false; projection.owner_ids.len()],
        };
        OpenableIn { projection, owners, shared: &self.shared }
    }
}

/// [`OpenableDeals`] for one projection.
pub struct OpenableIn<'a> {
    projection: &'a Projection,
    /// By owner index: whether the viewer may read the owner's deals.
    owners: Vec<bool>,
    shared: &'a BTreeSet<OpportunityId>,
}

impl OpenableIn<'_> {
    /// Whether the viewer may open deal index `deal`: one of an owner whose deals they may read
    /// (now), or one shared with them (`Access::can_read_deal(owner, shared)`).
    pub fn admits(&self, deal: u32) -> bool {
        let deals = self.projection.deals();
        let owner = deals.owner.get(deal as usize).and_then(|owner| self.owners.get(*owner as usize));
        owner.is_some_and(|readable| *readable || self.shared.contains(&deals.id[deal as usize]))
    }
}

#[cfg(test)]
mod tests {
    use pipewise_core::Timestamp;
    use pipewise_core::access::Actor;
    use pipewise_core::user::{self, Locale};

    use super::*;

    fn user(id: i64, role: Role, manager: Option<i64>, team: Option<i64>) -> User {
        User {
            id: UserId(id),
            email: format!("u{id}@acme.test"),
            name: format!("User {id}"),
            role,
            manager_id: manager.map(UserId),
            team_id: team.map(TeamId),
            time_zone: "UTC".into(),
            locale: Locale::En,
            active: true,
            created_at: Timestamp::from_micros(0),
        }
    }

    /// An admin (1); manager 2 leads team 10 with rep 3; manager 4 leads team 20 with rep 5;
    /// team 30 has no members.
    fn org() -> (Vec<User>, Vec<Team>) {
        let users = vec![
            user(1, Role::Admin, None, None),
            user(2, Role::Manager, None, Some(10)),
            user(3, Role::Rep, Some(2), Some(10)),
            user(4, Role::Manager, None, Some(20)),
            user(5, Role::Rep, Some(4), Some(20)),
        ];
        let team = |id: i64, manager: Option<i64>| Team { id: TeamId(id), name: format!("Team {id}"), manager_id: manager.map(UserId) };
        (users, vec![team(10, Some(2)), team(20, Some(4)), team(30, None)])
    }

    fn check(viewer: i64, owner: Option<i64>, team: Option<i64>, fallback: Fallback) -> std::result::Result<Resolved, String> {
        let (users, teams) = org();
        let viewer = users.iter().find(|user| user.id == UserId(viewer)).unwrap().clone();
        let access = Access::User(Actor::new(&viewer, &users));
        let history = TeamHistory::current(&users);
        let roster = Roster { users: &users, teams: &teams, history: &history, on: Date::constant(2026, 1, 1) };
        resolve_subject(&access, &viewer, roster, owner.map(UserId), team.map(TeamId), fallback).map_err(|error| error.to_string())
    }

    fn owners(ids: &[i64]) -> Option<BTreeSet<UserId>> {
        Some(ids.iter().copied().map(UserId).collect())
    }

    #[test]
    fn with_no_subject_each_viewer_gets_their_ground() {
        assert_eq!(check(1, None, None, Fallback::Home), Ok(Resolved { subject: Subject::Organisation, owners: None }));
        assert_eq!(check(2, None, None, Fallback::Home), Ok(Resolved { subject: Subject::Team(TeamId(10)), owners: owners(&[2, 3]) }));
        assert_eq!(check(3, None, None, Fallback::Home), Ok(Resolved { subject: Subject::Rep(UserId(3)), owners: owners(&[3]) }));
        // The API's default: everything the viewer may see.
        assert_eq!(check(2, None, None, Fallback::Everything), Ok(Resolved { subject: Subject::Reports, owners: owners(&[2, 3]) }));
        assert_eq!(check(3, None, None, Fallback::Everything), Ok(Resolved { subject: Subject::Reports, owners: owners(&[3]) }));
        assert_eq!(check(1, None, None, Fallback::Everything), Ok(Resolved { subject: Subject::Organisation, owners: None }));
    }

    #[test]
    fn what_lies_outside_the_scope_is_not_found_on_every_edge() {
        for fallback in [Fallback::Home, Fallback::Everything] {
            assert_eq!(check(3, Some(5), None, fallback), Err("user 5 does not exist".into()));
            assert_eq!(check(3, Some(2), None, fallback), Err("user 2 does not exist".into()), "a rep does not see their manager");
            assert_eq!(check(2, None, Some(20), fallback), Err("team 20 does not exist".into()));
            assert_eq!(check(2, None, Some(30), fallback), Err("team 30 does not exist".into()), "an empty team shows nothing");
            assert_eq!(check(1, Some(99), None, fallback), Err("user 99 does not exist".into()));
            assert_eq!(check(1, None, Some(99), fallback), Err("team 99 does not exist".into()));
        }
    }

    #[test]
    fn within_the_scope_a_subject_narrows() {
        assert_eq!(check(2, Some(3), None, Fallback::Everything), Ok(Resolved { subject: Subject::Rep(UserId(3)), owners: owners(&[3]) }));
        assert_eq!(check(1, None, Some(20), Fallback::Home), Ok(Resolved { subject: Subject::Team(TeamId(20)), owners: owners(&[4, 5]) }));
        // An admin sees an empty team as empty; an owner comes before a team.
        assert_eq!(check(1, None, Some(30), Fallback::Home), Ok(Resolved { subject: Subject::Team(TeamId(30)), owners: owners(&[]) }));
        assert_eq!(check(1, Some(3), Some(20), Fallback::Home), Ok(Resolved { subject: Subject::Rep(UserId(3)), owners: owners(&[3]) }));
        // A rep sees the part of their own team that is theirs.
        assert_eq!(check(3, None, Some(10), Fallback::Home), Ok(Resolved { subject: Subject::Team(TeamId(10)), owners: owners(&[3]) }));
    }

    #[test]
    fn a_team_covers_whoever_was_on_it_on_the_figures_day() {
        // Rep 5 was on team 10 until 1 March and is on team 20 since.
        let (users, teams) = org();
        let admin = users[0].clone();
        let access = Access::User(Actor::new(&admin, &users));
        let history = TeamHistory::new(
            &users,
            vec![
                user::Membership { user: UserId(5), from: Date::constant(2025, 1, 1), team: Some(TeamId(10)) },
                user::Membership { user: UserId(5), from: Date::constant(2026, 3, 1), team: Some(TeamId(20)) },
            ],
        );
        let on = |day: Date, team: i64| {
            let roster = Roster { users: &users, teams: &teams, history: &history, on: day };
            resolve_subject(&access, &admin, roster, None, Some(TeamId(team)), Fallback::Home).unwrap().owners
        };
        assert_eq!(on(Date::constant(2026, 2, 28), 10), owners(&[2, 3, 5]));
        assert_eq!(on(Date::constant(2026, 2, 28), 20), owners(&[4]));
        assert_eq!(on(Date::constant(2026, 3, 1), 10), owners(&[2, 3]));
        assert_eq!(on(Date::constant(2026, 3, 1), 20), owners(&[4, 5]));
    }
}
