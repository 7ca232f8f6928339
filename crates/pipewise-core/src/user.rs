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
}
