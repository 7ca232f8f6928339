//! Who may see and change what (SPEC C12), as pure rules the store's query layer applies.
//!
//! - Admin and ops see and change everything in their organisation.
//! - A manager sees and changes the deals of everyone in their reporting tree (and their own).
//! - A rep sees and changes their own deals and those shared with them.
//! - A viewer sees every deal and changes nothing.
//! - Accounts, contacts, pipelines, teams and users are visible to everyone in the
//!   organisation. Accounts and contacts may be changed by every role but viewer; pipelines and
//!   teams by ops and admin; users by admin.
//!
//! A record someone may not see is treated exactly like one that does not exist.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::UserId;
use crate::user::{Role, User};

/// A signed-in user with what their role and place in the hierarchy let them reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The user and everyone below them in the reporting hierarchy.
    pub tree: BTreeSet<UserId>,
}

/// On whose behalf a write or read happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Pipewise itself or the operator of the machine (migrations, the demo generator, the CLI
    /// without `--as`): everything.
    System,
    User(Actor),
}

/// Whose deals a reader may see: everyone's, or those owned by some users plus those shared
/// with one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DealScope {
    All,
    Owners { owners: BTreeSet<UserId>, shared_with: UserId },
}

/// Kinds of record that are visible organisation-wide and differ only in who may change them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedKind {
    Account,
    Contact,
    Pipeline,
    Team,
    User,
    ExchangeRate,
}

impl Actor {
    /// Builds the actor for `user` from the organisation's users.
    pub fn new(user: &User, users: &[User]) -> Actor {
        Actor { user_id: user.id, role: user.role, tree: reporting_tree(user.id, users) }
    }
}

impl Access {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Access::System => None,
            Access::User(actor) => Some(actor.user_id),
        }
    }

    /// The deals this access may read.
    pub fn deal_scope(&self) -> DealScope {
        match self {
            Access::System => DealScope::All,
            Access::User(actor) => match actor.role {
                Role::Admin | Role::Ops | Role::Viewer => DealScope::All,
                Role::Manager => DealScope::Owners { owners: actor.tree.clone(), shared_with: actor.user_id },
                Role::Rep => DealScope::Owners { owners: [actor.user_id].into(), shared_with: actor.user_id },
            },
        }
    }

    /// Whether a deal owned by `owner` (and shared with this user or not) may be read.
    pub fn can_read_deal(&self, owner: UserId, shared_with_me: bool) -> bool {
        match self.deal_scope() {
            DealScope::All => true,
            DealScope::Owners { owners, .. } => owners.contains(&owner) || shared_with_me,
        }
    }

    /// Whether a deal owned by `owner` may be changed. Viewers change nothing.
    pub fn can_write_deal(&self, owner: UserId, shared_with_me: bool) -> bool {
        match self {
            Access::User(actor) if actor.role == Role::Viewer => false,
            _ => self.can_read_deal(owner, shared_with_me),
        }
    }

    /// Whether a deal may be given to `new_owner`: only to someone whose deals one may change.
    pub fn can_assign_deal_to(&self, new_owner: UserId) -> bool {
        self.can_write_deal(new_owner, false)
    }

    /// Whether records of `kind` may be created or changed.
    pub fn can_write(&self, kind: SharedKind) -> bool {
        let Access::User(actor) = self else { return true };
        match (kind, actor.role) {
            (_, Role::Admin) => true,
            (_, Role::Viewer) => false,
            (SharedKind::Account | SharedKind::Contact, _) => true,
            (SharedKind::Pipeline | SharedKind::Team | SharedKind::ExchangeRate, Role::Ops) => true,
            _ => false,
        }
    }

    /// Whether files of records may be imported: ops and admins (an import writes many records
    /// for many owners at once, and may record history that skipped the stage gates).
    pub fn can_import(&self) -> bool {
        match self {
            Access::System => true,
            Access::User(actor) => matches!(actor.role, Role::Admin | Role::Ops),
        }
    }

    /// Whether every user's mailboxes and quarantined mail may be read (their sync state and
    /// errors, never their passwords): admins only; others see their own.
    pub fn can_read_every_mailbox(&self) -> bool {
        self.can_read_audit()
    }

    /// Whether outbound webhooks may be seen and changed: admins only (a webhook sends every
    /// deal's changes to an address outside).
    pub fn can_manage_webhooks(&self) -> bool {
        self.can_read_audit()
    }

    /// Whether the audit log may be read: admins only.
    pub fn can_read_audit(&self) -> bool {
        match self {
            Access::System => true,
            Access::User(actor) => actor.role == Role::Admin,
        }
    }
}

/// `manager` and everyone who reports to them, directly or not.
pub fn reporting_tree(manager: UserId, users: &[User]) -> BTreeSet<UserId> {
    let mut reports: BTreeMap<UserId, Vec<UserId>> = BTreeMap::new();
    for user in users {
        if let Some(boss) = user.manager_id {
            reports.entry(boss).or_default().push(user.id);
        }
    }
    let mut tree = BTreeSet::from([manager]);
    let mut frontier = vec![manager];
    while let Some(next) = frontier.pop() {
        for report in reports.get(&next).into_iter().flatten() {
            if tree.insert(*report) {
                frontier.push(*report);
            }
        }
    }
    tree
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::user::Locale;

    fn user(id: i64, role: Role, manager: Option<i64>) -> User {
        User {
            id: UserId(id),
            email: format!("u{id}@example.com"),
            name: format!("User {id}"),
            role,
            manager_id: manager.map(UserId),
            team_id: None,
            time_zone: "UTC".into(),
            locale: Locale::En,
            active: true,
            created_at: Timestamp::from_micros(0),
        }
    }

    /// 1 VP ← 2 manager ← {3, 4} reps; 5 manager ← 6 rep; 7 viewer; 8 ops; 9 admin.
    fn org() -> Vec<User> {
        vec![
            user(1, Role::Manager, None),
            user(2, Role::Manager, Some(1)),
            user(3, Role::Rep, Some(2)),
            user(4, Role::Rep, Some(2)),
            user(5, Role::Manager, Some(1)),
            user(6, Role::Rep, Some(5)),
            user(7, Role::Viewer, None),
            user(8, Role::Ops, None),
            user(9, Role::Admin, None),
        ]
    }

    /// The access of user `id` of [`org`].
    pub(crate) fn access(id: i64) -> Access {
        let users = org();
        let user = users.iter().find(|user| user.id == UserId(id)).unwrap();
        Access::User(Actor::new(user, &users))
    }

    #[test]
    fn the_tree_is_transitive() {
        let ids = |set: BTreeSet<UserId>| set.into_iter().map(|id| id.0).collect::<Vec<_>>();
        assert_eq!(ids(reporting_tree(UserId(1), &org())), [1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(reporting_tree(UserId(2), &org())), [2, 3, 4]);
        assert_eq!(ids(reporting_tree(UserId(3), &org())), [3]);
    }

    #[test]
    fn deal_visibility_by_role() {
        // Rows: reader; columns: owner 3, owner 6, owner 6 shared with the reader.
        let cases = [
            (3, [true, false, true]),
            (2, [true, false, true]),
            (5, [false, true, true]),
            (1, [true, true, true]),
            (7, [true, true, true]),
            (8, [true, true, true]),
        ];
        for (reader, expected) in cases {
            let access = access(reader);
            let seen =
                [access.can_read_deal(UserId(3), false), access.can_read_deal(UserId(6), false), access.can_read_deal(UserId(6), true)];
            assert_eq!(seen, expected, "reader {reader}");
        }
        assert!(!access(7).can_write_deal(UserId(3), false), "a viewer reads only");
        assert!(access(3).can_write_deal(UserId(3), false));
        assert!(!access(3).can_write_deal(UserId(4), false), "a rep cannot change a peer's deal");
        assert!(!access(3).can_assign_deal_to(UserId(4)), "nor hand a deal to a peer");
        assert!(access(2).can_assign_deal_to(UserId(4)), "a manager can move deals within the team");
        assert!(Access::System.can_write_deal(UserId(6), false));
    }

    #[test]
    fn shared_records_by_role() {
        assert!(access(3).can_write(SharedKind::Account));
        assert!(!access(7).can_write(SharedKind::Contact));
        assert!(!access(3).can_write(SharedKind::Pipeline));
        assert!(access(8).can_write(SharedKind::Pipeline));
        assert!(!access(8).can_write(SharedKind::User), "ops does not manage users");
        assert!(!access(2).can_read_audit());
    }
}
