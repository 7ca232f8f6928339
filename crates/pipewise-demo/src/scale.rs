//! The scale data set (`pipewise demo --scale`): an organisation of any size, generated
//! deterministically from a seed and a "today", streaming, in bounded memory.
//!
//! The organisation (people in teams of about eight under managers, directors and a VP; both
//! pipeline templates; accounts and contacts; exchange rates) goes through [`ops`] like the
//! standard demo. Deals, their history and their activities, tens of millions of rows at full
//! scale, go through the bulk [`Tx`] methods instead: each deal is evolved in memory with
//! [`opportunity::create`] and [`opportunity::apply`] (the same rules `ops` applies), its
//! history is the [`history::diff`] of every step, and its final state is stored, so replaying
//! the history gives the stored row exactly. Each chunk of deals appends one audit entry
//! (`import`), so every write is still audited, at batch granularity.
//!
//! Bounded memory: deals are generated and written chunk by chunk ([`ScaleConfig::chunk_deals`]);
//! one thread plans the next chunks while the caller's thread writes, with at most two chunks
//! waiting. Each deal draws from its own random streams (seed, stream, deal index), so chunk
//! size and threads do not change the data.
//!
//! Sizes: history rows are one per changed field, and a deal's lifecycle alone (about nine
//! fields at creation, its stage moves, four or five fields to close) records a floor of events
//! per deal. Above that floor the requested total is met by budgeting minor edits (next steps,
//! close dates pushed, amount changes, forecast calls, hand-overs) per deal, calibrated on a
//! sample of deals; below it the floor is generated and [`ScaleSummary`] says so.

mod lifecycle;

use pipewise_app as app;
use std::cell::Cell;
use std::sync::mpsc;

use pipewise_app::{AuditEntry, Db, HistoryAppend, Result, StoreError, Tx};
use pipewise_core::error::ValidationErrors;
use pipewise_core::history::{self, Change, Source};
use pipewise_core::opportunity::{self, Opportunity};
use pipewise_core::records::NewActivity;
use pipewise_core::user::Role;
use pipewise_core::{AccountId, OpportunityId, OrgId, Timestamp, UserId};

use crate::activity::{self, Buyer};
use crate::clock::plus_days;
use crate::data;
use crate::deal::{DealPlan, DealSetup, DealSource, Outcome};
use crate::org;
use crate::rates;
use crate::rng::{Rng, Stream};
use crate::write::{self, Progress, StoredOrg, Writer};
use crate::{Checks, DemoCounts};

use self::lifecycle::EditDraw;

/// What to generate at scale. Build it with [`ScaleConfig::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleConfig {
    pub seed: u64,
    /// The data set's "today": deals are created over the `months` before it.
    pub now: Timestamp,
    pub months: u32,
    pub reps: u32,
    /// Reps per team (each team has a manager; every `team_size` teams get a director).
    pub team_size: u32,
    pub accounts_per_rep: u32,
    pub contacts_per_account: u32,
    pub opportunities: u64,
    /// History rows to aim for; `None` lets each deal record its lifecycle and a few edits.
    pub history: Option<u64>,
    pub activities: u64,
    /// Deals generated, held in memory and written per bulk call (with one audit entry).
    pub chunk_deals: u32,
    /// Deals written per transaction.
    pub deals_per_transaction: u32,
}

impl ScaleConfig {
    /// Deals over the last 35 months (the span of the vendored exchange rates), teams of eight,
    /// 50 accounts per rep with two contacts each, chunks of 2,000 deals, 50,000 deals per
    /// transaction.
    pub fn new(seed: u64, now: Timestamp, reps: u32, opportunities: u64, history: Option<u64>, activities: u64) -> ScaleConfig {
        ScaleConfig {
            seed,
            now,
            months: 35,
            reps,
            team_size: 8,
            accounts_per_rep: 50,
            contacts_per_account: 2,
            opportunities,
            history,
            activities,
            chunk_deals: 2_000,
            deals_per_transaction: 50_000,
        }
    }

    /// Every size that cannot work, at once.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut checks = Checks::new("scale configuration");
        checks.range("months", self.months.into(), 1, 120, "1 to 120");
        checks.range("reps", self.reps.into(), 1, 100_000, "1 to 100,000");
        checks.range("team_size", self.team_size.into(), 1, 1_000, "1 to 1,000");
        checks.range("accounts_per_rep", self.accounts_per_rep.into(), 1, 10_000, "1 to 10,000");
        checks.range("contacts_per_account", self.contacts_per_account.into(), 0, 100, "0 to 100");
        checks.range("opportunities", self.opportunities, 0, 100_000_000, "0 to 100,000,000");
        checks.range("activities", self.activities, 0, 2_000_000_000, "0 to 2,000,000,000");
        checks.range("chunk_deals", self.chunk_deals.into(), 1, 1_000_000, "1 to 1,000,000");
        checks.range("deals_per_transaction", self.deals_per_transaction.into(), 1, u64::from(u32::MAX), "at least 1");
        if let Some(history) = self.history {
            checks.range("history", history, 0, 2_000_000_000, "0 to 2,000,000,000");
        }
        checks.finish(self.now)
    }
}

/// The steps of a scale generation, in order, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScalePhase {
    /// Calibration, the organisation, users, teams, pipelines and exchange rates.
    Setup,
    Accounts,
    Contacts,
    /// Deals with their history and activities, counted in deals.
    Deals,
}

impl ScalePhase {
    pub const ALL: [ScalePhase; 4] = [ScalePhase::Setup, ScalePhase::Accounts, ScalePhase::Contacts, ScalePhase::Deals];

    pub fn label(self) -> &'static str {
        match self {
            ScalePhase::Setup => "setup",
            ScalePhase::Accounts => "accounts",
            ScalePhase::Contacts => "contacts",
            ScalePhase::Deals => "deals",
        }
    }
}

/// Rows of one chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkSize {
    pub deals: u64,
    pub history_events: u64,
    pub activities: u64,
}

/// What was created.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleSummary {
    pub organisation: OrgId,
    /// One login per role, in [`Role::ALL`] order: `(role, e-mail)`.
    pub users: Vec<(Role, String)>,
    pub counts: DemoCounts,
    pub rates_shifted_days: i64,
    /// History events per deal that lifecycles alone record (before minor edits), estimated
    /// on a sample: asking for fewer than this per deal gets this many.
    pub lifecycle_events_per_deal: f64,
    /// Minor edits per deal budgeted to reach the requested history.
    pub edits_per_deal: f64,
    pub chunks: u64,
    /// The largest chunk written, per kind of row: memory holds about this much at a time.
    pub largest_chunk: ChunkSize,
}

impl ScaleSummary {
    /// A warning when the requested history is below what the deals' lifecycles record.
    pub fn history_note(&self, config: &ScaleConfig) -> Option<String> {
        let requested = config.history?;
        let per_deal = requested as f64 / config.opportunities.max(1) as f64;
        (per_deal < self.lifecycle_events_per_deal * 0.97).then(|| {
            format!(
                "asked for {requested} history events ({per_deal:.1} per deal), but a deal's lifecycle alone records about {:.1} \
                 (one row per changed field: about 9 at creation, stage moves, 4 or 5 to close); generated {} instead",
                self.lifecycle_events_per_deal, self.counts.history_events
            )
        })
    }
}

/// Minor edits per deal when no history total is asked for.
const DEFAULT_EDITS_PER_DEAL: f64 = 3.0;
/// Deals sampled to calibrate edit and activity budgets.
const CALIBRATION_SAMPLE: u64 = 5_000;
/// Records (people, accounts, contacts) written per transaction during setup.
const SETUP_BATCH: u32 = 20_000;

/// Generates the scale data set into `store` (migrated), calling `progress` with
/// `(phase, done, total)` at the start and end of each phase and about a hundred times between.
pub fn generate_scale(
    store: &Db,
    config: &ScaleConfig,
    progress: &mut dyn FnMut(ScalePhase, u64, u64),
) -> Result<ScaleSummary, StoreError> {
    config.check()?;
    let seed = config.seed;
    let now = config.now;
    let (start, org_created) = write::period(now, config.months);
    let n_teams = config.reps.div_ceil(config.team_size).max(1) as usize;
    let mut plan = org::plan_org(seed, n_teams, config.reps as usize, &data::maven_agents());
    org::add_directors(&mut plan, seed, config.team_size as usize);
    let companies = data::companies();
    let n_accounts = config.reps as usize * config.accounts_per_rep as usize;
    let (accounts, _) = org::plan_accounts(seed, n_accounts, &companies, &plan);
    let rates = rates::demo_rates(start, now);

    // Setup: the organisation, its people in reporting order, teams, pipelines and rates; the
    // accounts, created in the weeks before the first deals by their owners; and about
    // `contacts_per_account` contacts per account, planned in one go (names only).
    let mut writer = Writer::new(store, SETUP_BATCH, Progress::new(progress, ScalePhase::Setup));
    let org = write::create_organisation(&mut writer, ScalePhase::Setup, &plan, org_created, &rates.rows)?;
    let account_ids = write::create_accounts(&mut writer, ScalePhase::Accounts, &org, org_created, &accounts)?;
    let contacts = org::plan_contacts(seed, accounts.len() * config.contacts_per_account as usize, &accounts);
    let buyers = write::create_contacts(&mut writer, ScalePhase::Contacts, &org, &accounts, &account_ids, &contacts, |index, _| {
        plus_days(org_created, 2.0 + (index % 40) as f64 * 0.5)
    })?;
    let mut progress = writer.finish()?;
    drop(contacts);

    // Deals: calibrate the budgets on a sample, then stream chunks through the bulk path.
    let org_id = org.id;
    let mut world = World {
        seed,
        deals: DealSource::new(&plan, &accounts, start, now, &rates.table, org.b2b_stages.open.len(), org.simple_stages.open.len()),
        org,
        account_ids,
        buyers,
        mean_life: 1.0,
        edits_per_weight: 0.0,
        mean_edit_weight: 1.0,
        activities_per_weight: 0.0,
    };
    let calibration = world.calibrate(config)?;
    let n_deals = config.opportunities;
    let chunk_deals = u64::from(config.chunk_deals.max(1));
    progress.begin(ScalePhase::Deals, n_deals);
    let mut counts = DemoCounts::default();
    let mut chunks = 0u64;
    let mut largest = ChunkSize::default();
    let world = &world;
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = mpsc::sync_channel::<Result<Chunk>>(2);
        scope.spawn(move || {
            let mut first = 0;
            while first < n_deals {
                let last = (first + chunk_deals).min(n_deals);
                if sender.send(world.chunk(first..last)).is_err() {
                    break;
                }
                first = last;
            }
        });
        let mut written = || -> Result<()> {
            let mut tx: Option<Tx<'_>> = None;
            let mut in_tx = 0u64;
            for chunk in receiver.iter() {
                let chunk = chunk?;
                let size = chunk.size();
                let deals = chunk.deals.len() as u64;
                if tx.is_none() {
                    tx = Some(store.write()?);
                }
                write_chunk(tx.as_mut().expect("opened above"), org_id, now, chunk, &mut counts)?;
                chunks += 1;
                largest.deals = largest.deals.max(size.deals);
                largest.history_events = largest.history_events.max(size.history_events);
                largest.activities = largest.activities.max(size.activities);
                in_tx += deals;
                if in_tx >= u64::from(config.deals_per_transaction) {
                    tx.take().expect("open").commit()?;
                    in_tx = 0;
                }
                progress.advance(deals);
            }
            if let Some(tx) = tx.take() {
                tx.commit()?;
            }
            Ok(())
        };
        let result = written();
        // A failed write ends the planner too: its next send finds no receiver.
        drop(receiver);
        result
    })?;
    progress.finish();

    counts.count_stored(store, org_id)?;
    Ok(ScaleSummary {
        organisation: org_id,
        users: plan.logins(),
        counts,
        rates_shifted_days: rates.shifted_days,
        lifecycle_events_per_deal: calibration.lifecycle_events_per_deal,
        edits_per_deal: calibration.edits_per_deal,
        chunks,
        largest_chunk: largest,
    })
}

/// Deals planned and evolved in memory, ready for the bulk path. Rows refer to their deal by
/// its index in `deals`, since ids are known only once the deals are stored.
struct Chunk {
    first: u64,
    deals: Vec<Opportunity>,
    outcomes: Vec<Outcome>,
    events: Vec<(u32, Change, Timestamp, Option<UserId>)>,
    activities: Vec<(u32, NewActivity, Timestamp)>,
}

impl Chunk {
    fn size(&self) -> ChunkSize {
        ChunkSize { deals: self.deals.len() as u64, history_events: self.events.len() as u64, activities: self.activities.len() as u64 }
    }
}

/// Writes one chunk with the bulk methods and audits it with one entry.
fn write_chunk(tx: &mut Tx, org: OrgId, now: Timestamp, chunk: Chunk, counts: &mut DemoCounts) -> Result<()> {
    let size = chunk.size();
    let ids = app::bulk::insert_opportunities(tx, org, &chunk.deals)?;
    let events: Vec<HistoryAppend> = chunk
        .events
        .into_iter()
        .map(|(deal, change, at, actor_id)| HistoryAppend {
            opportunity_id: ids[deal as usize],
            change,
            at,
            actor_id,
            source: Source::Demo,
        })
        .collect();
    let seqs = app::bulk::append_history(tx, org, &events)?;
    drop(events);
    let activities: Vec<(NewActivity, Timestamp)> = chunk
        .activities
        .into_iter()
        .map(|(deal, mut activity, logged_at)| {
            activity.opportunity_id = Some(ids[deal as usize]);
            (activity, logged_at)
        })
        .collect();
    let activity_ids = app::bulk::insert_activities(tx, org, &activities)?;
    for outcome in &chunk.outcomes {
        counts.add_outcome(*outcome);
    }
    let range = |first: Option<i64>, last: Option<i64>| match (first, last) {
        (Some(first), Some(last)) => format!("[{first},{last}]"),
        _ => "null".to_owned(),
    };
    let after = format!(
        "{{\"deal_indices\":[{},{}],\"opportunities\":{},\"opportunity_ids\":{},\"history_events\":{},\"history_seqs\":{},\
         \"activities\":{},\"activity_ids\":{}}}",
        chunk.first,
        chunk.first + size.deals.saturating_sub(1),
        size.deals,
        range(ids.first().map(|id| id.0), ids.last().map(|id| id.0)),
        size.history_events,
        range((!seqs.is_empty()).then_some(seqs.start), (!seqs.is_empty()).then_some(seqs.end - 1)),
        size.activities,
        range(activity_ids.first().map(|id| id.0), activity_ids.last().map(|id| id.0)),
    );
    let entry = AuditEntry {
        at: now,
        actor_id: None,
        source: Source::Demo,
        record_kind: OpportunityId::LABEL,
        record_id: ids.first().map_or(0, |id| id.0),
        action: "import",
        before: None,
        after: Some(after),
    };
    app::bulk::append_audit(tx, org, &entry)
}

/// The calibrated budgets.
struct Calibration {
    lifecycle_events_per_deal: f64,
    edits_per_deal: f64,
}

/// A deal evolved through its plan: its final state, its history and who owned it when.
struct Evolved {
    deal: Opportunity,
    events: Vec<(Change, Timestamp, Option<UserId>)>,
    /// `(from, rep index)`, in time order.
    owners: Vec<(Timestamp, usize)>,
}

/// Everything deal planning reads, built once and shared by the planner thread.
struct World<'a> {
    seed: u64,
    deals: DealSource<'a>,
    org: StoredOrg,
    account_ids: Vec<AccountId>,
    /// Each account's contacts.
    buyers: Vec<Vec<Buyer>>,
    /// Average days from creation to close (or now), for sizing edits and activities.
    mean_life: f64,
    edits_per_weight: f64,
    mean_edit_weight: f64,
    activities_per_weight: f64,
}

impl World<'_> {
    /// The relative share of minor edits a deal gets: longer-lived deals are edited more.
    fn edit_weight(&self, draw: EditDraw) -> f64 {
        (0.3 + 0.7 * draw.life_days / self.mean_life) * (0.5 + draw.unit)
    }

    /// Sizes minor edits and activities per deal from a sample of deals, so that the totals
    /// come out as asked (history only down to what lifecycles record on their own).
    fn calibrate(&mut self, config: &ScaleConfig) -> Result<Calibration> {
        let n = config.opportunities;
        let step = n.div_ceil(CALIBRATION_SAMPLE).max(1);
        let sample: Vec<u64> = (0..n).step_by(step as usize).collect();
        if sample.is_empty() {
            return Ok(Calibration { lifecycle_events_per_deal: 0.0, edits_per_deal: 0.0 });
        }
        let size = sample.len() as f64;
        // Pass 1: lifecycles alone.
        let mut draws = Vec::with_capacity(sample.len());
        let mut lifecycle_events = 0.0;
        let mut lives = 0.0;
        for &index in &sample {
            let drawn = Cell::new(None);
            let (setup, plan) = self.plan(index, &|draw| {
                drawn.set(Some(draw));
                0.0
            });
            lifecycle_events += self.evolve(&setup, &plan)?.events.len() as f64;
            lives += plan.life_days();
            draws.push(drawn.get().unwrap_or(EditDraw { life_days: 0.0, unit: 0.5 }));
        }
        let lifecycle_per_deal = lifecycle_events / size;
        self.mean_life = (lives / size).max(1.0);
        self.mean_edit_weight = (draws.iter().map(|draw| self.edit_weight(*draw)).sum::<f64>() / size).max(1e-9);
        // Pass 2: what four edits per deal add, to learn the events per edit.
        let mut with_edits = 0.0;
        for &index in &sample {
            let (setup, plan) = self.plan(index, &|_| 4.0);
            with_edits += self.evolve(&setup, &plan)?.events.len() as f64;
        }
        let per_edit = ((with_edits / size - lifecycle_per_deal) / 4.0).max(0.3);
        let edits_per_deal = match config.history {
            Some(history) => ((history as f64 / n as f64 - lifecycle_per_deal) / per_edit).max(0.0),
            None => DEFAULT_EDITS_PER_DEAL,
        };
        self.edits_per_weight = edits_per_deal / self.mean_edit_weight;
        // Activities: a weight per deal from its life and its own stream's first draw.
        let mut activity_weights = 0.0;
        for &index in &sample {
            let (_, plan) = self.plan(index, &|_| 0.0);
            activity_weights +=
                activity::activity_weight(&mut Rng::stream(self.seed, Stream::ScaleActivities, index), &plan, self.mean_life);
        }
        let mean_activity_weight = (activity_weights / size).max(1e-9);
        self.activities_per_weight = config.activities as f64 / n as f64 / mean_activity_weight;
        Ok(Calibration { lifecycle_events_per_deal: lifecycle_per_deal, edits_per_deal })
    }

    /// Deal `index`'s setup and plan, the same every time it is asked for.
    fn plan(&self, index: u64, edits: &dyn Fn(EditDraw) -> f64) -> (DealSetup, DealPlan) {
        self.deals.plan(&mut Rng::stream(self.seed, Stream::ScaleDeal, index), |rng, input| lifecycle::plan(rng, input, edits))
    }

    /// Runs the plan through the deal rules: creation, then every move, collecting the diffs.
    fn evolve(&self, setup: &DealSetup, plan: &DealPlan) -> Result<Evolved> {
        let (pipeline, stages) = self.org.pipeline(setup.b2b);
        let staff = &self.org.staff;
        let owner = staff.user(setup.rep);
        let new = write::new_opportunity(plan, self.account_ids[setup.account], owner, stages.pipeline_id);
        let mut deal = opportunity::create(OpportunityId(0), &new, pipeline, plan.created_at)?;
        let mut events: Vec<(Change, Timestamp, Option<UserId>)> =
            history::diff(None, &deal).into_iter().map(|change| (change, plan.created_at, Some(owner))).collect();
        let mut owners = vec![(plan.created_at, setup.rep)];
        for step in write::moves(&plan.steps, setup.rep, self.deals.teammates(setup.account), stages, staff) {
            let next = opportunity::apply(&deal, &step.patch, pipeline, step.at)?;
            events.extend(history::diff(Some(&deal), &next).into_iter().map(|change| (change, step.at, Some(step.actor))));
            deal = next;
            if let Some(new_owner) = step.new_owner {
                owners.push((step.at, new_owner));
            }
        }
        Ok(Evolved { deal, events, owners })
    }

    /// Deal `index`'s activities, logged by whoever owned the deal then (or their manager).
    fn activities(&self, index: u64, setup: &DealSetup, plan: &DealPlan, owners: &[(Timestamp, usize)]) -> Vec<(NewActivity, Timestamp)> {
        let mut rng = Rng::stream(self.seed, Stream::ScaleActivities, index);
        let expected = self.activities_per_weight * activity::activity_weight(&mut rng, plan, self.mean_life);
        let count = expected.floor() as usize + usize::from(rng.chance(expected.fract()));
        if count == 0 {
            return Vec::new();
        }
        let buying_team = activity::draw_buying_team(&mut rng, &self.buyers[setup.account], |rng| 1 + rng.index(2));
        let person = self.deals.plan.rep_person(setup.rep);
        let account_id = self.account_ids[setup.account];
        activity::plan_team_activities(&mut rng, plan, self.deals.now, &buying_team, person, count)
            .into_iter()
            .map(|planned| {
                let owner = owners.iter().take_while(|(from, _)| *from <= planned.occurred_at).last().map_or(setup.rep, |(_, rep)| *rep);
                let user = self.org.staff.acting(owner, planned.by_manager);
                write::new_activity(planned, user, account_id, None, &buying_team)
            })
            .collect()
    }

    /// Deals `indices`, planned, evolved and with their activities.
    fn chunk(&self, indices: std::ops::Range<u64>) -> Result<Chunk> {
        let edits = |draw: EditDraw| self.edits_per_weight * self.edit_weight(draw);
        let mut chunk = Chunk { first: indices.start, deals: Vec::new(), outcomes: Vec::new(), events: Vec::new(), activities: Vec::new() };
        for index in indices {
            let (setup, plan) = self.plan(index, &edits);
            let evolved = self.evolve(&setup, &plan)?;
            let position = chunk.deals.len() as u32;
            chunk.events.extend(evolved.events.into_iter().map(|(change, at, actor)| (position, change, at, actor)));
            let activities = self.activities(index, &setup, &plan, &evolved.owners);
            chunk.activities.extend(activities.into_iter().map(|(activity, logged_at)| (position, activity, logged_at)));
            chunk.deals.push(evolved.deal);
            chunk.outcomes.push(plan.outcome);
        }
        Ok(chunk)
    }
}
