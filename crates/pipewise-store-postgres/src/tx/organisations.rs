//! [`OrganisationsTx`] for PostgreSQL: organisations, users and teams.

use pipewise_core::money::Currency;
use pipewise_core::records::*;
use pipewise_core::user::{Membership, NewUser, User};
use pipewise_core::*;
use pipewise_store::rows::{Columns, FromRow};
use pipewise_store::{Organisation, OrganisationsTx, Result, StoreError, conflict, sql};

use crate::fields::{Fields, read};

use super::{PgTx, found};

impl OrganisationsTx for PgTx<'_> {
    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId> {
        let id = self.returned_id("organisation", sql::INSERT_ORGANISATION, &[&name, &reporting_currency.code(), &at.to_jiff()])?;
        Ok(OrgId(id))
    }

    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        self.one(sql::SELECT_ORGANISATION, &[&org.0], read)
    }

    fn organisations(&mut self) -> Result<Vec<Organisation>> {
        // The one query not keyed by an organisation: it lists them.
        self.collect(sql::SELECT_ORGANISATIONS, &[], read)
    }

    fn set_organisation_time_zone(&mut self, org: OrgId, zone: &Zone) -> Result<()> {
        let updated = self.execute(sql::UPDATE_ORGANISATION_TIME_ZONE, &[&zone.name(), &org.0])?;
        found(updated, "organisation", org.0)
    }

    fn set_organisation_fiscal_year_start(&mut self, org: OrgId, calendar: fiscal::FiscalCalendar) -> Result<()> {
        let updated = self.execute(sql::UPDATE_ORGANISATION_FISCAL_YEAR_START, &[&i32::from(calendar.start_month()), &org.0])?;
        found(updated, "organisation", org.0)
    }

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId> {
        let id = self.one(
            sql::INSERT_USER,
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
            |row| Fields::new(row, User::TABLE).get("user_id"),
        )?;
        id.map(UserId).ok_or_else(|| StoreError::Conflict(conflict::email_taken(None, &user.email)))
    }

    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()> {
        let updated = self.execute(sql::SET_USER_MANAGER, &[&manager.map(|id| id.0), &org.0, &user.0])?;
        if updated == 0 {
            return Err(StoreError::NotFound { kind: UserId::LABEL, id: user.0 });
        }
        Ok(())
    }

    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>> {
        self.one(sql::SELECT_USER, &[&org.0, &id.0], read)
    }

    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>> {
        // Addresses are stored lower-cased (see `pipewise_core::text::email`), so a lookup ignores case.
        self.one(sql::SELECT_USER_BY_EMAIL, &[&org.0, &email.to_lowercase()], read)
    }

    fn users(&mut self, org: OrgId) -> Result<Vec<User>> {
        self.collect(sql::SELECT_USERS, &[&org.0], read)
    }

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId> {
        let id = self.returned_id("team", sql::INSERT_TEAM, &[&org.0, &team.name, &team.manager_id.map(|id| id.0)])?;
        Ok(TeamId(id))
    }

    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>> {
        self.one(sql::SELECT_TEAM, &[&org.0, &id.0], read)
    }

    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>> {
        self.collect(sql::SELECT_TEAMS, &[&org.0], read)
    }

    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()> {
        let updated = self.execute(
            sql::UPDATE_USER,
            &[
                &user.email,
                &user.name,
                &user.role.as_str(),
                &user.manager_id.map(|id| id.0),
                &user.team_id.map(|id| id.0),
                &user.time_zone,
                &user.locale.as_str(),
                &user.active,
                &org.0,
                &user.id.0,
            ],
        );
        let updated = match updated {
            Err(StoreError::Conflict(_)) => {
                return Err(StoreError::Conflict(conflict::email_taken(Some(user.id), &user.email)));
            }
            other => other?,
        };
        found(updated, UserId::LABEL, user.id.0)
    }

    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()> {
        let updated = self.execute(sql::UPDATE_TEAM, &[&team.name, &team.manager_id.map(|id| id.0), &org.0, &team.id.0])?;
        found(updated, TeamId::LABEL, team.id.0)
    }

    fn record_membership(&mut self, org: OrgId, membership: &Membership) -> Result<()> {
        self.execute(sql::DELETE_MEMBERSHIP, &[&org.0, &membership.user.0, &membership.from])?;
        self.execute(sql::INSERT_MEMBERSHIP, &[&org.0, &membership.user.0, &membership.from, &membership.team.map(|id| id.0)])?;
        Ok(())
    }

    fn memberships(&mut self, org: OrgId) -> Result<Vec<Membership>> {
        self.collect(sql::SELECT_MEMBERSHIPS, &[&org.0], read)
    }
}
