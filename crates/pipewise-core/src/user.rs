//! Users, their roles and the reporting hierarchy (each user's manager).

use std::fmt;

use crate::error::{Problem, RecordRef, ValidationErrors};
use crate::id::{TeamId, UserId};
use crate::message::Message;
use crate::records::record_types;
use crate::text;
use crate::time::Timestamp;

/// What a user may do. Row visibility follows from the role and the reporting hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Ops,
    Manager,
    Rep,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Ops, Role::Manager, Role::Rep, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ops => "ops",
            Role::Manager => "manager",
            Role::Rep => "rep",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Role, Problem> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == raw.trim())
            .ok_or_else(|| Problem::Invalid { value: raw.to_owned(), expected: "one of admin, ops, manager, rep, viewer" })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The language a user reads Pipewise in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Ko,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ko => "ko",
        }
    }

    pub fn parse(raw: &str) -> Result<Locale, Problem> {
        match raw.trim() {
            "en" => Ok(Locale::En),
            "ko" => Ok(Locale::Ko),
            _ => Err(Problem::Invalid { value: raw.to_owned(), expected: "en or ko" }),
        }
    }
}

record_types! {
    /// Someone who signs in to Pipewise.
    User, NewUser; id: UserId
    shared {
        email: String,
        name: String,
        role: Role,
        manager_id: Option<UserId>,
        team_id: Option<TeamId>,
        /// IANA time zone used to display times, e.g. `Asia/Seoul`.
        time_zone: String,
        locale: Locale,
    }
    stored {
        active: bool,
        created_at: Timestamp,
    }
}

impl NewUser {
    /// Checks every field and returns the normalised user (trimmed, e-mail lower-cased).
    pub fn validated(mut self) -> Result<NewUser, ValidationErrors> {
        let record = RecordRef::new_record(UserId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(email) = errors.check(&record, "email", text::email(&self.email)) {
            self.email = email;
        }
        errors.required_text(&record, "name", &mut self.name, 200);
        if let Some(zone) = errors.check(&record, "time_zone", time_zone(&self.time_zone)) {
            self.time_zone = zone;
        }
        errors.into_result(self)
    }
}

/// Checks an IANA time zone name against the bundled database.
pub fn time_zone(raw: &str) -> Result<String, Problem> {
    let name = raw.trim();
    jiff::tz::TimeZone::get(name)
        .map(|_| name.to_owned())
        .map_err(|_| Problem::Invalid { value: raw.to_owned(), expected: "an IANA time zone such as Asia/Seoul" })
}

/// Refuses to make `manager` the manager of `user` when that would close a loop in the
/// hierarchy. `manager_of` gives each user's current manager.
pub fn check_manager(user: UserId, manager: UserId, manager_of: impl Fn(UserId) -> Option<UserId>) -> Result<(), Problem> {
    let mut current = Some(manager);
    let mut steps = 0;
    while let Some(id) = current {
        if id == user {
            return Err(Problem::Fact(Message::new("rule.manager_loop").text("manager", manager).text("user", user)));
        }
        steps += 1;
        if steps > 10_000 {
            return Err(Problem::Fact(Message::new("rule.hierarchy_loop")));
        }
        current = manager_of(id);
    }
    Ok(())
}

/// A person's team from a day on (SPEC C6: a past day's team figures keep the team each rep was
/// on that day). The application records one each time a user's team is set, on the
/// organisation's day of the change; a later change the same day replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub user: UserId,
    pub from: crate::Date,
    pub team: Option<TeamId>,
}

/// A team's people over a span of days ([`TeamHistory::crews`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Crew {
    /// On the team some day of the span.
    pub during: std::collections::BTreeSet<UserId>,
    /// On the team at the end of its last day.
    pub at_end: std::collections::BTreeSet<UserId>,
}

/// Who was on which team on which day.
///
/// Rule: on day `d` a person is on the team of their latest membership from `d` or earlier;
/// before their first, on their first's (a person's days before they were recorded are theirs
/// as first recorded); a person with no membership at all is on their current team every day.
#[derive(Clone, Debug, Default)]
pub struct TeamHistory {
    /// Per person, memberships by day (each day once).
    by_user: std::collections::BTreeMap<UserId, Vec<(crate::Date, Option<TeamId>)>>,
    /// Current teams, for people with no membership.
    current: std::collections::BTreeMap<UserId, Option<TeamId>>,
}

impl TeamHistory {
    /// Everyone on their current team every day.
    pub fn current(users: &[User]) -> TeamHistory {
        TeamHistory::new(users, Vec::new())
    }

    pub fn new(users: &[User], memberships: Vec<Membership>) -> TeamHistory {
        let mut by_user: std::collections::BTreeMap<UserId, Vec<(crate::Date, Option<TeamId>)>> = Default::default();
        for membership in memberships {
            by_user.entry(membership.user).or_default().push((membership.from, membership.team));
        }
        for spans in by_user.values_mut() {
            // The last recorded of a day stands.
            spans.reverse();
            spans.sort_by_key(|(from, _)| *from);
            spans.dedup_by_key(|(from, _)| *from);
        }
        let current = users.iter().map(|user| (user.id, user.team_id)).collect();
        TeamHistory { by_user, current }
    }

    /// The team `user` was on at the end of `day`.
    pub fn team_on(&self, user: UserId, day: crate::Date) -> Option<TeamId> {
        match self.by_user.get(&user) {
            Some(spans) => {
                let after = spans.partition_point(|(from, _)| *from <= day);
                spans[after.saturating_sub(1)].1
            }
            None => self.current.get(&user).copied().flatten(),
        }
    }

    /// Everyone known, recorded or current.
    fn people(&self) -> impl Iterator<Item = UserId> + '_ {
        self.current.keys().copied().chain(self.by_user.keys().copied().filter(|user| !self.current.contains_key(user)))
    }

    /// The members of `team` at the end of `day`.
    pub fn members_on(&self, team: TeamId, day: crate::Date) -> std::collections::BTreeSet<UserId> {
        self.people().filter(|user| self.team_on(*user, day) == Some(team)).collect()
    }

    /// Everyone on `team` on some day from `first` to `last`.
    pub fn members_during(&self, team: TeamId, first: crate::Date, last: crate::Date) -> std::collections::BTreeSet<UserId> {
        self.people()
            .filter(|user| {
                self.team_on(*user, first) == Some(team)
                    || self
                        .by_user
                        .get(user)
                        .is_some_and(|spans| spans.iter().any(|(from, on)| *from > first && *from <= last && *on == Some(team)))
            })
            .collect()
    }

    /// Every team `user` was on on some day from `first` to `last`.
    pub fn teams_during(&self, user: UserId, first: crate::Date, last: crate::Date) -> std::collections::BTreeSet<TeamId> {
        let mut teams: std::collections::BTreeSet<TeamId> = self.team_on(user, first).into_iter().collect();
        if let Some(spans) = self.by_user.get(&user) {
            teams.extend(spans.iter().filter(|(from, _)| *from > first && *from <= last).filter_map(|(_, team)| *team));
        }
        teams
    }

    /// Every team's people over `first..=last`, in one pass over everyone: those on it some day
    /// of it ([`TeamHistory::members_during`]) and those on it at the end of `last`
    /// ([`TeamHistory::members_on`]).
    pub fn crews(&self, first: crate::Date, last: crate::Date) -> std::collections::BTreeMap<TeamId, Crew> {
        let mut crews: std::collections::BTreeMap<TeamId, Crew> = std::collections::BTreeMap::new();
        for user in self.people() {
            for team in self.teams_during(user, first, last) {
                crews.entry(team).or_default().during.insert(user);
            }
            if let Some(team) = self.team_on(user, last) {
                crews.entry(team).or_default().at_end.insert(user);
            }
        }
        crews
    }

    /// Each person's days as `(from, team)` in day order (a person with no membership: their
    /// current team from `since`).
    pub fn spans(&self, since: crate::Date) -> impl Iterator<Item = (UserId, Vec<(crate::Date, Option<TeamId>)>)> + '_ {
        self.people().map(move |user| match self.by_user.get(&user) {
            Some(spans) => (user, spans.clone()),
            None => (user, vec![(since, self.current.get(&user).copied().flatten())]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::catalog::en_problem;
    use std::collections::HashMap;

    #[test]
    fn hierarchy_cycles_are_refused() {
        // 1 ← 2 ← 3 (3 reports to 2, 2 reports to 1).
        let managers: HashMap<UserId, UserId> = [(UserId(2), UserId(1)), (UserId(3), UserId(2))].into();
        let manager_of = |id: UserId| managers.get(&id).copied();
        assert!(check_manager(UserId(4), UserId(3), manager_of).is_ok());
        assert!(check_manager(UserId(1), UserId(3), manager_of).is_err(), "1 → 3 → 2 → 1");
        assert!(check_manager(UserId(2), UserId(2), manager_of).is_err(), "nobody manages themself");
        assert_eq!(
            en_problem(&check_manager(UserId(1), UserId(2), manager_of).unwrap_err()),
            "user 2 reports to user 1, so user 1 cannot report to them"
        );
    }

    #[test]
    fn new_users_are_normalised_and_checked() {
        let new = NewUser {
            email: " Kim@Example.COM ".into(),
            name: " 김영업 ".into(),
            role: Role::Rep,
            manager_id: None,
            team_id: None,
            time_zone: "Asia/Seoul".into(),
            locale: Locale::Ko,
        };
        let user = new.clone().validated().unwrap();
        assert_eq!((user.email.as_str(), user.name.as_str()), ("kim@example.com", "김영업"));
        let bad = NewUser { email: "nobody".into(), time_zone: "Mars/Olympus".into(), ..new };
        assert_eq!(
            bad.validated().unwrap_err().to_string(),
            "new user: email: \"nobody\" is not an e-mail address; \
             new user: time_zone: \"Mars/Olympus\" is not an IANA time zone such as Asia/Seoul"
        );
        assert_eq!(Role::parse("ops"), Ok(Role::Ops));
        assert!(Role::parse("boss").is_err());
    }

    #[test]
    fn a_persons_team_on_a_day_is_their_latest_membership_from_that_day_or_before() {
        use crate::Date;
        let day = |m: i8, d: i8| Date::new(2026, m, d).unwrap();
        let person = |id: i64, team: Option<i64>| User {
            id: UserId(id),
            email: format!("{id}@example.com"),
            name: format!("P{id}"),
            role: Role::Rep,
            manager_id: None,
            team_id: team.map(TeamId),
            time_zone: "UTC".into(),
            locale: Locale::En,
            active: true,
            created_at: Timestamp::from_micros(0),
        };
        let users = vec![person(1, Some(20)), person(2, Some(10)), person(3, None)];
        let at = |user: i64, from: Date, team: Option<i64>| Membership { user: UserId(user), from, team: team.map(TeamId) };
        // 1 joined team 10 on 1 January, moved to 20 on 15 February (first to 30, then 20 the
        // same day: the later stands); 3 left team 10 on 1 March; 2 has no membership recorded.
        let history = TeamHistory::new(
            &users,
            vec![
                at(1, day(1, 1), Some(10)),
                at(1, day(2, 15), Some(30)),
                at(1, day(2, 15), Some(20)),
                at(3, day(1, 1), Some(10)),
                at(3, day(3, 1), None),
            ],
        );
        assert_eq!(history.team_on(UserId(1), day(2, 14)), Some(TeamId(10)));
        assert_eq!(history.team_on(UserId(1), day(2, 15)), Some(TeamId(20)));
        assert_eq!(history.team_on(UserId(1), day(1, 1) - jiff::ToSpan::days(40)), Some(TeamId(10)), "before the first: the first");
        assert_eq!(history.team_on(UserId(2), day(1, 1)), Some(TeamId(10)), "none recorded: the current team");
        assert_eq!(history.team_on(UserId(3), day(3, 1)), None);
        let ids = |ids: &[i64]| ids.iter().copied().map(UserId).collect::<std::collections::BTreeSet<_>>();
        assert_eq!(history.members_on(TeamId(10), day(2, 1)), ids(&[1, 2, 3]));
        assert_eq!(history.members_on(TeamId(10), day(3, 1)), ids(&[2]));
        assert_eq!(history.members_on(TeamId(20), day(3, 1)), ids(&[1]));
        assert_eq!(history.members_during(TeamId(20), day(1, 1), day(3, 31)), ids(&[1]));
        assert_eq!(history.members_during(TeamId(10), day(3, 1), day(3, 31)), ids(&[2]));
        assert_eq!(history.members_during(TeamId(10), day(2, 1), day(3, 31)), ids(&[1, 2, 3]));
        assert!(history.members_during(TeamId(30), day(1, 1), day(12, 31)).is_empty(), "replaced the same day: never on it");
        let teams = |ids: &[i64]| ids.iter().copied().map(TeamId).collect::<std::collections::BTreeSet<_>>();
        assert_eq!(history.teams_during(UserId(1), day(1, 1), day(3, 31)), teams(&[10, 20]));
        assert_eq!(history.teams_during(UserId(1), day(2, 15), day(3, 31)), teams(&[20]));
        assert_eq!(history.teams_during(UserId(3), day(1, 1), day(12, 31)), teams(&[10]));
        // The crews of a span agree with the one-team questions.
        let crews = history.crews(day(2, 1), day(3, 31));
        for team in [10, 20, 30] {
            let crew = crews.get(&TeamId(team)).cloned().unwrap_or_default();
            assert_eq!(crew.during, history.members_during(TeamId(team), day(2, 1), day(3, 31)), "team {team}");
            assert_eq!(crew.at_end, history.members_on(TeamId(team), day(3, 31)), "team {team}");
        }
    }
}
