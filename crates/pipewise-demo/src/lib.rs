//! Generates a realistic B2B sales organisation into a [`Store`], deterministically from a
//! seed: teams of reps with their managers, accounts and contacts drawn from real company data,
//! opportunities with their full history over the months before the demo's "today", their
//! activities and tasks, leads, and the ECB exchange rates for the currencies deals use.
//!
//! Everything goes through [`pipewise_app::ops`], so the demo obeys the same validation and
//! history rules as any other edge, and "as of" replays of the demo give its past exactly.
//!
//! Architecture invariants: no clock and no global random state. The same [`DemoConfig`] gives
//! the same database content. Each record draws from its own random stream (a stream tag and
//! the record's index), so planning is done one record at a time and sizes are parameters:
//! the default demo and a much larger one run the same code.

mod activity;
mod calls;
mod clock;
mod data;
mod deal;
mod generate;
mod lead;
mod names;
mod org;
mod phrases;
mod quotas;
mod rates;
mod rng;
mod scale;
mod write;

use pipewise_app::{Db, StoreError};
use pipewise_core::error::{Problem, RecordRef, ValidationErrors};
use pipewise_core::user::Role;
use pipewise_core::{OrgId, Timestamp};

pub use scale::{ChunkSize, ScaleConfig, ScalePhase, ScaleSummary, generate_scale};

/// What to generate. Build it with [`DemoConfig::standard`] and change sizes as needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    pub seed: u64,
    /// The demo's "today": history covers the `months` before it and nothing is after it.
    pub now: Timestamp,
    pub months: u32,
    pub teams: u32,
    /// Reps, spread evenly over the teams. Managers, a VP of sales, an admin, an ops person and
    /// a viewer come on top.
    pub reps: u32,
    pub accounts: u32,
    pub contacts: u32,
    pub opportunities: u32,
    /// On average; longer deals get more.
    pub activities_per_opportunity: u32,
    /// Tasks on deals, about this many in all; leads get their own follow-up tasks on top.
    pub tasks: u32,
    pub leads: u32,
    /// Records written per transaction: few large transactions are much faster.
    pub batch_size: u32,
}

impl DemoConfig {
    /// The default demo: 4 teams, 30 reps, 300 accounts, 1,500 contacts, 2,000 opportunities
    /// over 18 months, about 10 activities each, 400 leads.
    pub fn standard(seed: u64, now: Timestamp) -> DemoConfig {
        DemoConfig {
            seed,
            now,
            months: 18,
            teams: 4,
            reps: 30,
            accounts: 300,
            contacts: 1_500,
            opportunities: 2_000,
            activities_per_opportunity: 10,
            tasks: 1_000,
            leads: 400,
            batch_size: 20_000,
        }
    }

    /// Every size that cannot work, at once.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut checks = Checks::new("demo configuration");
        checks.range("months", self.months.into(), 1, 120, "1 to 120");
        checks.range("teams", self.teams.into(), 1, 10_000, "1 to 10,000");
        checks.range("reps", self.reps.into(), self.teams.max(1).into(), 1_000_000, "at least one per team, at most 1,000,000");
        checks.range("accounts", self.accounts.into(), 1, 10_000_000, "1 to 10,000,000");
        checks.range("activities_per_opportunity", self.activities_per_opportunity.into(), 0, 1_000, "0 to 1,000");
        checks.range("batch_size", self.batch_size.into(), 1, u32::MAX.into(), "at least 1");
        checks.finish(self.now)
    }
}

/// A configuration's values out of range, collected to be refused all at once.
struct Checks {
    record: RecordRef,
    errors: ValidationErrors,
}

impl Checks {
    fn new(configuration: &'static str) -> Checks {
        Checks { record: RecordRef::new_record(configuration), errors: ValidationErrors::default() }
    }

    fn range(&mut self, field: &'static str, value: u64, low: u64, high: u64, text: &'static str) {
        if !(low..=high).contains(&value) {
            self.errors.push(&self.record, field, Problem::OutOfRange { value: value.to_string(), range: text });
        }
    }

    /// The verdict, once "today" (`now`) is checked too.
    fn finish(mut self, now: Timestamp) -> Result<(), ValidationErrors> {
        let year = now.date_utc().year();
        if !(1950..=2150).contains(&year) {
            self.errors.push(&self.record, "now", Problem::OutOfRange { value: now.to_string(), range: "years 1950 to 2150" });
        }
        self.errors.into_result(())
    }
}

/// The steps of a generation, in order, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The organisation, users, teams, pipelines and exchange rates.
    Setup,
    Accounts,
    Contacts,
    /// Deals with their history, activities and tasks, counted in deals.
    Opportunities,
    /// Leads and their tasks.
    Leads,
}

impl Phase {
    pub const ALL: [Phase; 5] = [Phase::Setup, Phase::Accounts, Phase::Contacts, Phase::Opportunities, Phase::Leads];

    /// A short lower-case label for a progress bar.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Accounts => "accounts",
            Phase::Contacts => "contacts",
            Phase::Opportunities => "opportunities",
            Phase::Leads => "leads",
        }
    }
}

/// How many records the demo holds, as the store counts them, and how its deals ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoCounts {
    pub users: u64,
    pub teams: u64,
    pub pipelines: u64,
    pub accounts: u64,
    pub contacts: u64,
    pub opportunities: u64,
    pub history_events: u64,
    pub activities: u64,
    pub tasks: u64,
    pub leads: u64,
    pub exchange_rates: u64,
    pub open: u64,
    pub won: u64,
    /// Lost after stage 1.
    pub lost: u64,
    /// Dropped at B2B stage 1 (stored as lost, with one of seed 003's drop reasons).
    pub dropped: u64,
}

/// The demo organisation's name; `pipewise demo` only ever replaces a file holding this.
pub const ORGANISATION_NAME: &str = "Pipewise Demo";

/// What was created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub organisation: OrgId,
    /// One login per role, in [`Role::ALL`] order: `(role, e-mail)`.
    pub users: Vec<(Role, String)>,
    pub counts: DemoCounts,
    /// Days the ECB rate series was moved so that it covers the demo's period (see the
    /// README in `data/`); 0 when the real dates cover it.
    pub rates_shifted_days: i64,
}

/// Creates the demo organisation in `store` (which must be migrated), calling `progress` with
/// `(phase, done, total)` as it goes: at the start and end of each phase and about a hundred
/// times in between.
/// Sets the quotas and pay of an organisation generated without them (the scale data set), as
/// the demo does: every rep's and team's quarters of this fiscal year and the last from their
/// record since `first_day`, one plan for every rep, statements for every quarter up to today,
/// the closed ones locked. Returns (quotas set, statements computed).
pub fn set_quotas_and_pay(store: &Db, org: OrgId, first_day: pipewise_core::Date, now: Timestamp) -> Result<(u64, u64), StoreError> {
    Ok((quotas::set_quotas(store, org, first_day, now)?, quotas::set_pay(store, org, now)?))
}

pub fn generate(store: &Db, config: &DemoConfig, progress: &mut dyn FnMut(Phase, u64, u64)) -> Result<DemoSummary, StoreError> {
    config.check()?;
    generate::run(store, config, progress)
}
