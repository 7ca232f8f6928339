//! The records `app::users` serves, each a [`Record`] for `api::crud`: the users of Pipewise
//! (role and place in the reporting hierarchy) and sales teams. Both are visible to everyone in
//! the organisation; list, get, create, patch.

use pipewise_app::{self as app, Tx, WriteCtx, input};
use pipewise_core::records::{NewTeam, Team, TeamPatch, UserPatch};
use pipewise_core::user::{NewUser, Role, User};
use pipewise_core::{TeamId, UserId, ValidationErrors};
use serde_json::Value;

use super::crud::{Patchable, Record};
use super::openapi::Resource;
use super::support::{Key, Query, SortField, names, text_key};
use super::views::{TeamView, UserView};
use super::{Param, Ty};
use crate::auth::Viewer;
use crate::error::AppError;

/// Users of Pipewise.
pub struct Users;

/// The filters of the user list; each unset one lets every user through.
pub struct UserFilter {
    role: Option<Role>,
    team: Option<TeamId>,
    manager: Option<UserId>,
    active: Option<bool>,
}

impl Record for Users {
    type Row = User;
    type View = UserView;
    type Id = UserId;
    type Filter = UserFilter;
    type New = NewUser;

    const PLURAL: &'static str = "users";
    const LABEL: &'static str = UserId::LABEL;
    const ID: fn(i64) -> UserId = UserId;

    fn resources() -> Vec<Resource> {
        vec![
            Resource::of::<UserView>()
                .required(&["email", "name", "role"])
                .writable(&["manager_id", "team_id", "time_zone", "locale"])
                .patch_only(&["active"]),
        ]
    }

    fn id(row: &User) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<User>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "name", key: |row| text_key(&row.name) },
            SortField { name: "email", key: |row| text_key(&row.email) },
            SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![
            Param::new("role", Ty::Enum(names(&Role::ALL, Role::as_str)), "Only users with this role."),
            Param::id("team_id", "Only members of this team."),
            Param::id("manager_id", "Only direct reports of this user."),
            Param::new("active", Ty::Boolean, "Only active (`true`) or deactivated (`false`) users."),
        ]
    }

    fn filter(query: &Query) -> Result<UserFilter, AppError> {
        Ok(UserFilter {
            role: query.parsed("role", Role::parse)?,
            team: query.id("team_id")?.map(TeamId),
            manager: query.id("manager_id")?.map(UserId),
            active: query.boolean("active")?,
        })
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _filter: &UserFilter) -> app::Result<Vec<User>> {
        app::users::users(tx, viewer.org)
    }

    fn keep(filter: &UserFilter, row: &User) -> bool {
        filter.role.is_none_or(|role| row.role == role)
            && filter.team.is_none_or(|team| row.team_id == Some(team))
            && filter.manager.is_none_or(|manager| row.manager_id == Some(manager))
            && filter.active.is_none_or(|active| row.active == active)
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: UserId) -> app::Result<Option<User>> {
        app::users::user(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewUser, ValidationErrors> {
        input::new_user(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewUser) -> app::Result<User> {
        app::users::create_user(tx, ctx, new)
    }
}

impl Patchable for Users {
    type Patch = UserPatch;

    fn parse_patch(id: UserId, body: &Value) -> Result<UserPatch, ValidationErrors> {
        input::user_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: UserId, patch: &UserPatch) -> app::Result<User> {
        app::users::update_user(tx, ctx, id, patch)
    }
}

/// Sales teams.
pub struct Teams;

impl Record for Teams {
    type Row = Team;
    type View = TeamView;
    type Id = TeamId;
    /// `manager_id`.
    type Filter = Option<UserId>;
    type New = NewTeam;

    const PLURAL: &'static str = "teams";
    const LABEL: &'static str = TeamId::LABEL;
    const ID: fn(i64) -> TeamId = TeamId;

    fn resources() -> Vec<Resource> {
        vec![Resource::of::<TeamView>().required(&["name"]).writable(&["manager_id"])]
    }

    fn id(row: &Team) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Team>> {
        vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
    }

    fn filters() -> Vec<Param> {
        vec![Param::id("manager_id", "Only teams led by this user.")]
    }

    fn filter(query: &Query) -> Result<Option<UserId>, AppError> {
        Ok(query.id("manager_id")?.map(UserId))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _manager: &Option<UserId>) -> app::Result<Vec<Team>> {
        app::users::teams(tx, viewer.org)
    }

    fn keep(manager: &Option<UserId>, row: &Team) -> bool {
        manager.is_none_or(|manager| row.manager_id == Some(manager))
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: TeamId) -> app::Result<Option<Team>> {
        app::users::team(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewTeam, ValidationErrors> {
        input::new_team(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewTeam) -> app::Result<Team> {
        app::users::create_team(tx, ctx, new)
    }
}

impl Patchable for Teams {
    type Patch = TeamPatch;

    fn parse_patch(id: TeamId, body: &Value) -> Result<TeamPatch, ValidationErrors> {
        input::team_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: TeamId, patch: &TeamPatch) -> app::Result<Team> {
        app::users::update_team(tx, ctx, id, patch)
    }
}
