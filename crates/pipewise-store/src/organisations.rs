//! The organisation itself, its users and its teams ([`OrganisationsTx`]).

use pipewise_core::records::{NewTeam, Team};
use pipewise_core::user::{Membership, NewUser, User};
use pipewise_core::*;

use crate::{Organisation, Result};

/// A transaction's reads and writes of an organisation (the tenant), its users and its teams.
pub trait OrganisationsTx {
    fn insert_organisation(&mut self, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<OrgId>;
    fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>>;
    fn organisations(&mut self) -> Result<Vec<Organisation>>;
    fn set_organisation_time_zone(&mut self, org: OrgId, zone: &Zone) -> Result<()>;
    fn set_organisation_fiscal_year_start(&mut self, org: OrgId, calendar: fiscal::FiscalCalendar) -> Result<()>;

    fn insert_user(&mut self, org: OrgId, user: &NewUser, at: Timestamp) -> Result<UserId>;
    fn set_user_manager(&mut self, org: OrgId, user: UserId, manager: Option<UserId>) -> Result<()>;
    fn user(&mut self, org: OrgId, id: UserId) -> Result<Option<User>>;
    /// Looks a user up by e-mail address, ignoring case.
    fn user_by_email(&mut self, org: OrgId, email: &str) -> Result<Option<User>>;
    fn users(&mut self, org: OrgId) -> Result<Vec<User>>;

    fn insert_team(&mut self, org: OrgId, team: &NewTeam) -> Result<TeamId>;
    fn team(&mut self, org: OrgId, id: TeamId) -> Result<Option<Team>>;
    fn teams(&mut self, org: OrgId) -> Result<Vec<Team>>;

    // Whole-row updates for the partial updates of `pipewise-app` (each writes every changeable column
    // of the record; the app built and checked the next state). A missing row is `NotFound`.

    /// Writes e-mail, name, role, manager, team, time zone, locale and whether the user is active.
    /// A taken e-mail address is a [`StoreError::Conflict`](crate::StoreError::Conflict).
    fn update_user(&mut self, org: OrgId, user: &User) -> Result<()>;
    /// Writes name and manager.
    fn update_team(&mut self, org: OrgId, team: &Team) -> Result<()>;

    /// Records a person's team from a day on, replacing what that day had.
    fn record_membership(&mut self, org: OrgId, membership: &Membership) -> Result<()>;
    /// Every membership of the organisation's people, by person and day.
    fn memberships(&mut self, org: OrgId) -> Result<Vec<Membership>>;
}
