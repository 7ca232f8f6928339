//! [`OrganisationsTx`] for SQLite: organisations, users and teams.

use pipewise_core::money::Currency;
use pipewise_core::records::*;
use pipewise_core::user::{Locale, NewUser, Role, User};
use pipewise_core::*;
use pipewise_store::{Organisation, OrganisationsTx, Result};
use rusqlite::{Row, params};

use crate::rows::{conflict_or, parsed, timestamp};

use super::{SqliteTx, db_err, found, identity};

pub(super) const USER_COLUMNS: &str = "user_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at";

impl OrganisationsTx for SqliteTx<'_> {
    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        self.db()
            .prepare_cached("INSERT INTO organisation (name, reporting_currency, created_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.insert(params![name, reporting_currency.code(), at.as_micros()]))
            .map(OrgId)
            .map_err(db_err)
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        self.one(
            "SELECT organisation_id, name, reporting_currency, created_at FROM organisation WHERE organisation_id = ?1",
            [org.0],
            organisation_row,
            finish_organisation,
        )
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        self.collect(
            "SELECT organisation_id, name, reporting_currency, created_at FROM organisation ORDER BY organisation_id",
            [],
            organisation_row,
            finish_organisation,
        )
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
        self.db()
            .prepare_cached("UPDATE app_user SET manager_id = ?3 WHERE organisation_id = ?1 AND user_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, user.0, manager.map(|id| id.0)]))
            .map_err(db_err)?;
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 AND user_id = ?2");
        self.one(&sql, params![org.0, id.0], user_row, finish_user)
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 AND email = ?2");
        self.one(&sql, params![org.0, email.to_lowercase()], user_row, finish_user)
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE organisation_id = ?1 ORDER BY user_id");
        self.collect(&sql, [org.0], user_row, finish_user)
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        self.db()
            .prepare_cached("INSERT INTO team (organisation_id, name, manager_id) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.insert(params![org.0, team.name, team.manager_id.map(|id| id.0)]))
            .map(TeamId)
            .map_err(db_err)
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        self.one(
            "SELECT team_id, name, manager_id FROM team WHERE organisation_id = ?1 AND team_id = ?2",
            params![org.0, id.0],
            team_row,
            identity,
        )
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        self.collect("SELECT team_id, name, manager_id FROM team WHERE organisation_id = ?1 ORDER BY team_id", [org.0], team_row, identity)
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
        let changed = self
            .db()
            .prepare_cached("UPDATE team SET name = ?3, manager_id = ?4 WHERE organisation_id = ?1 AND team_id = ?2")
            .and_then(|mut statement| statement.execute(params![org.0, team.id.0, team.name, team.manager_id.map(|id| id.0)]))
            .map_err(db_err)?;
        found(changed, TeamId::LABEL, team.id.0)
    }
}

fn organisation_row(row: &Row<'_>) -> rusqlite::Result<(Organisation, String)> {
    let organisation =
        Organisation { id: OrgId(row.get(0)?), name: row.get(1)?, reporting_currency: Currency::USD, created_at: timestamp(row.get(3)?) };
    Ok((organisation, row.get(2)?))
}

fn finish_organisation((mut organisation, currency): (Organisation, String)) -> Result<Organisation> {
    organisation.reporting_currency = parsed("organisation", &currency, Currency::from_code)?;
    Ok(organisation)
}

pub(super) fn user_row(row: &Row<'_>) -> rusqlite::Result<(User, String, String)> {
    let role: String = row.get(3)?;
    let locale: String = row.get(7)?;
    let user = User {
        id: UserId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        role: Role::Viewer,
        manager_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        team_id: row.get::<_, Option<i64>>(5)?.map(TeamId),
        time_zone: row.get(6)?,
        locale: Locale::En,
        active: row.get(8)?,
        created_at: timestamp(row.get(9)?),
    };
    Ok((user, role, locale))
}

pub(super) fn finish_user((mut user, role, locale): (User, String, String)) -> Result<User> {
    user.role = parsed("app_user", &role, Role::parse)?;
    user.locale = parsed("app_user", &locale, Locale::parse)?;
    Ok(user)
}

fn team_row(row: &Row<'_>) -> rusqlite::Result<Team> {
    Ok(Team { id: TeamId(row.get(0)?), name: row.get(1)?, manager_id: row.get::<_, Option<i64>>(2)?.map(UserId) })
}
