//! [`OrganisationsTx`] for SQLite: organisations, users and teams.

use pipewise_core::money::Currency;
use pipewise_core::records::*;
use pipewise_core::user::{Locale, NewUser, Role, User};
use pipewise_core::*;
use pipewise_store::{Organisation, OrganisationsTx, Result, sql};
use rusqlite::params;

use crate::rows::{Fields, NamedRow, conflict_or};

use super::{SqliteTx, found};

impl OrganisationsTx for SqliteTx<'_> {
    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        self.returned_id(sql::INSERT_ORGANISATION, params![name, reporting_currency.code(), at.as_micros()]).map(OrgId)
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        self.one(sql::SELECT_ORGANISATION, [org.0], read_organisation)
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        self.collect(sql::SELECT_ORGANISATIONS, [], read_organisation)
    }

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId> {
        self.db()
            .prepare_cached(
                "INSERT INTO app_user (organisation_id, email, name, role, manager_id, team_id, time_zone, locale, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.insert(params![
                    org.0,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.manager_id.map(|id| id.0),
                    user.team_id.map(|id| id.0),
                    user.time_zone,
                    user.locale.as_str(),
                    at.as_micros()
                ])
            })
            .map(UserId)
            .map_err(|error| conflict_or(error, || format!("new user: email: {} already belongs to another user", user.email)))
    }

    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()> {
        self.execute(
            "UPDATE app_user SET manager_id = ?3 WHERE organisation_id = ?1 AND user_id = ?2",
            params![org.0, user.0, manager.map(|id| id.0)],
        )?;
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        self.one(sql::SELECT_USER, params![org.0, id.0], read_user)
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        self.one(sql::SELECT_USER_BY_EMAIL, params![org.0, email.to_lowercase()], read_user)
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        self.collect(sql::SELECT_USERS, [org.0], read_user)
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        self.returned_id(sql::INSERT_TEAM, params![org.0, team.name, team.manager_id.map(|id| id.0)]).map(TeamId)
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        self.one(sql::SELECT_TEAM, params![org.0, id.0], read_team)
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        self.collect(sql::SELECT_TEAMS, [org.0], read_team)
    }

    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE app_user SET email = ?3, name = ?4, role = ?5, manager_id = ?6, team_id = ?7, time_zone = ?8, locale = ?9, active = ?10
                 WHERE organisation_id = ?1 AND user_id = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    user.id.0,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.manager_id.map(|id| id.0),
                    user.team_id.map(|id| id.0),
                    user.time_zone,
                    user.locale.as_str(),
                    user.active
                ])
            })
            .map_err(|error| conflict_or(error, || format!("user {}: email: {} already belongs to another user", user.id, user.email)))?;
        found(changed, UserId::LABEL, user.id.0)
    }

    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()> {
        let changed = self.execute(
            "UPDATE team SET name = ?3, manager_id = ?4 WHERE organisation_id = ?1 AND team_id = ?2",
            params![org.0, team.id.0, team.name, team.manager_id.map(|id| id.0)],
        )?;
        found(changed, TeamId::LABEL, team.id.0)
    }
}

fn read_organisation(row: &NamedRow<'_, '_>) -> Result<Organisation> {
    let mut fields = Fields::new(row, "organisation");
    Ok(Organisation {
        id: OrgId(fields.key("organisation_id")?),
        name: fields.get("name")?,
        reporting_currency: fields.parsed("reporting_currency", Currency::from_code)?,
        created_at: fields.timestamp("created_at")?,
    })
}

/// A row of [`sql::USER_COLUMNS`].
pub(super) fn read_user(row: &NamedRow<'_, '_>) -> Result<User> {
    let mut fields = Fields::new(row, "app_user");
    Ok(User {
        id: UserId(fields.key("user_id")?),
        email: fields.get("email")?,
        name: fields.get("name")?,
        role: fields.parsed("role", Role::parse)?,
        manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
        team_id: fields.get::<Option<i64>>("team_id")?.map(TeamId),
        time_zone: fields.get("time_zone")?,
        locale: fields.parsed("locale", Locale::parse)?,
        active: fields.get("active")?,
        created_at: fields.timestamp("created_at")?,
    })
}

fn read_team(row: &NamedRow<'_, '_>) -> Result<Team> {
    let mut fields = Fields::new(row, "team");
    Ok(Team {
        id: TeamId(fields.key("team_id")?),
        name: fields.get("name")?,
        manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
    })
}
