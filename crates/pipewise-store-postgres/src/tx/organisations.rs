//! [`OrganisationsTx`] for PostgreSQL: organisations, users and teams.

use pipewise_core::money::Currency;
use pipewise_core::records::*;
use pipewise_core::user::{Locale, NewUser, Role, User};
use pipewise_core::*;
use pipewise_store::{Organisation, OrganisationsTx, Result, StoreError, sql};
use postgres::Row;

use crate::fields::Fields;

use super::{PgTx, found};

impl OrganisationsTx for PgTx<'_> {
    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        let id = self.returned_id("organisation", sql::INSERT_ORGANISATION, &[&name, &reporting_currency.code(), &at.to_jiff()])?;
        Ok(OrgId(id))
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        let row = self.query_opt(sql::SELECT_ORGANISATION, &[&org.0])?;
        row.as_ref().map(read_organisation).transpose()
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        // The one query not keyed by an organisation: it lists them.
        let rows = self.query(sql::SELECT_ORGANISATIONS, &[])?;
        rows.iter().map(read_organisation).collect()
    }

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId> {
        let row = self.query_opt(
            "INSERT INTO app_user (organisation_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9) \
             ON CONFLICT (organisation_id, email) DO NOTHING RETURNING user_id",
            &[
                &org.0,
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.manager_id.map(|id| id.0),
                &user.team_id.map(|id| id.0),
                &user.time_zone,
                &user.locale.as_str(),
                &at.to_jiff(),
            ],
        )?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!("new user: email: {} already belongs to another user", user.email)));
        };
        Ok(UserId(Fields::new(&row, "app_user").get("user_id")?))
    }

    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()> {
        let updated = self.execute(
            "UPDATE app_user SET manager_id = $3 WHERE organisation_id = $1 AND user_id = $2",
            &[&org.0, &user.0, &manager.map(|id| id.0)],
        )?;
        if updated == 0 {
            return Err(StoreError::NotFound { kind: UserId::LABEL, id: user.0 });
        }
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let row = self.query_opt(sql::SELECT_USER, &[&org.0, &id.0])?;
        row.as_ref().map(read_user).transpose()
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        // Addresses are stored lower-cased (see `pipewise_core::text::email`), so a lookup ignores case.
        let row = self.query_opt(sql::SELECT_USER_BY_EMAIL, &[&org.0, &email.to_lowercase()])?;
        row.as_ref().map(read_user).transpose()
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        let rows = self.query(sql::SELECT_USERS, &[&org.0])?;
        rows.iter().map(read_user).collect()
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        let id = self.returned_id("team", sql::INSERT_TEAM, &[&org.0, &team.name, &team.manager_id.map(|id| id.0)])?;
        Ok(TeamId(id))
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        let row = self.query_opt(sql::SELECT_TEAM, &[&org.0, &id.0])?;
        row.as_ref().map(read_team).transpose()
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        let rows = self.query(sql::SELECT_TEAMS, &[&org.0])?;
        rows.iter().map(read_team).collect()
    }

    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()> {
        let updated = self.execute(
            "UPDATE app_user SET email = $3, name = $4, role = $5, manager_id = $6, team_id = $7, time_zone = $8, locale = $9, \
             active = $10 WHERE organisation_id = $1 AND user_id = $2",
            &[
                &org.0,
                &user.id.0,
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.manager_id.map(|id| id.0),
                &user.team_id.map(|id| id.0),
                &user.time_zone,
                &user.locale.as_str(),
                &user.active,
            ],
        );
        let updated = match updated {
            Err(StoreError::Conflict(_)) => {
                return Err(StoreError::Conflict(format!("user {}: email: {} already belongs to another user", user.id, user.email)));
            }
            other => other?,
        };
        found(updated, UserId::LABEL, user.id.0)
    }

    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()> {
        let updated = self.execute(
            "UPDATE team SET name = $3, manager_id = $4 WHERE organisation_id = $1 AND team_id = $2",
            &[&org.0, &team.id.0, &team.name, &team.manager_id.map(|id| id.0)],
        )?;
        found(updated, TeamId::LABEL, team.id.0)
    }
}

fn read_organisation(row: &Row) -> Result<Organisation> {
    let mut fields = Fields::new(row, "organisation");
    Ok(Organisation {
        id: OrgId(fields.key("organisation_id")?),
        name: fields.get("name")?,
        reporting_currency: fields.parsed("reporting_currency", Currency::from_code)?,
        created_at: fields.timestamp("created_at")?,
    })
}

/// A row of [`sql::USER_COLUMNS`].
pub(super) fn read_user(row: &Row) -> Result<User> {
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

fn read_team(row: &Row) -> Result<Team> {
    let mut fields = Fields::new(row, "team");
    Ok(Team {
        id: TeamId(fields.key("team_id")?),
        name: fields.get("name")?,
        manager_id: fields.get::<Option<i64>>("manager_id")?.map(UserId),
    })
}
