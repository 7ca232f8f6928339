//! Keeps each organisation's analytics [`Projection`] current from the history log, and turns
//! a viewer's row visibility into an analytics [`Scope`].
//!
//! # One projection per organisation, following the log
//! [`Insights::load`] reads the organisation's pipelines, users (owner and team indexes),
//! exchange rates, the whole history log (paged by sequence number) and the activity facts,
//! and builds the columnar projection of `pipewise_analytics`. [`Insights::refresh`] then reads
//! only what the log gained since the projection's last sequence number
//! ([`pipewise_store::Tx::history_since`]) and applies it: when nothing changed it costs one
//! indexed range query that returns no row. Because sequence order is commit order and gap-free
//! (see ARCHITECTURE.md), a follower that remembers its last `seq` misses nothing; several
//! instances on one PostgreSQL each follow the same log and so each sees every instance's
//! writes, within one [`Insights::follow`] interval (or at once, for a reader that calls
//! `refresh` first, as the JSON API does).
//!
//! Activity facts (last activity and last inbound day, touchpoints in the last 30 days,
//! contacts engaged, overdue tasks, the longest logging lag) are not in the history log: they
//! are computed from the activities and tasks on load (one grouped scan of a covering index,
//! `Tx::activity_aggregates`), then brought up to date at most every
//! [`Insights::facts_every`] (default 30 s) by `refresh` from the activities added since (a
//! feed by activity id; whole again each day and every [`FULL_FACTS_EVERY`]: see `FactsFeed`),
//! or whole at once by [`Insights::refresh_facts`]. Users, teams, pipelines and rates are re-read with the facts,
//! and a pipeline at once when the log names a stage the projection does not know yet.
//!
//! # Activity facts as of a past day
//! The projection's own facts are today's. A figure as of an earlier day `d` must not use what
//! was not known at the end of `d` (UTC), so health as of `d` reads the facts of
//! [`activity_facts_as_of`], through [`Insights::with_as_of`] (or [`Insights::facts_as_of`]):
//! - an activity counts once it had both happened and been logged by the end of `d`
//!   (`occurred_at` and `logged_at` on or before it): last activity and last inbound day,
//!   touchpoints in the 30 days ending with `d`, contacts engaged;
//! - the longest logging lag is over the activities logged by the end of `d` (a lag is known
//!   once the activity is logged);
//! - a task is overdue as of `d` when it had been created by the end of `d`, was not done then
//!   (no completion time, or one after the end of `d`) and was due before `d`. Its due date and
//!   completion are those it had then: later changes are undone from the audit log
//!   ([`crate::activities::tasks_as_of`]), so completing, reopening or postponing a task
//!   today does not change the past.
//!
//! Activities are never edited or deleted, so these facts change only when something is
//! stored with a past time (an import, a generator). They are read from the store (one grouped
//! query bounded by the end of `d`, `Tx::activity_aggregates`, then the tasks and their audit
//! entries), kept for the last two days asked until the next whole recompute of today's facts
//! or an activity logged with a past time, and laid out by the deal indexes of the projection
//! they are used with (a refresh may add deals, a compaction renumbers them). For `d` today or
//! later the projection's own facts are used; the web edges also use them for the viewer's
//! local today, which may still be yesterday in UTC.
//! No trend offers activity-derived health: a trend of such a figure would need each day's own
//! facts.
//!
//! # Visibility
//! Figures served to a person cover the deals they may see as an *owner set*
//! ([`crate::visibility`]): `Access::deal_scope()` is `All` for admin, ops and viewer
//! (the organisation), the reporting tree for a manager (their own deals and every report's,
//! transitively) and the rep alone for a rep. Figures are attributed to deal owners, so a deal
//! *shared* with a rep stays in its owner's figures and not in the rep's: sharing lets the rep
//! open the deal (the lists of deals behind a figure name exactly the deals the viewer may
//! open, shared ones included: the pages read them through the visibility-checked `*_for`
//! reads, the API through [`crate::visibility::OpenableDeals`]) but does not make its amount
//! part of the rep's pipeline, win rate or leaderboard line. A team or owner outside that set
//! is answered as not found.

pub mod drill;
mod snapshot;

pub use snapshot::{Loaded, SNAPSHOT_EVERY, snapshot_path};

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipewise_analytics::projection::{Projection, ProjectionError};
use pipewise_analytics::{ActivityFacts, Day, DealActivity, date_of_day, day_of_date, day_of_timestamp};
use pipewise_core::fx::RateTable;
use pipewise_core::records::Task;
use pipewise_core::user::TeamHistory;
use pipewise_core::{ActivityId, OpportunityId, OrgId, Timestamp, Zone};
use pipewise_store::{ActivityAggregate, Store, StoreError, TaskFilter, Tx};

/// How many history events one read of the log takes.
pub const PAGE: u32 = 50_000;

/// How many past days' activity facts an [`Insights`] keeps.
const PAST_FACTS_KEPT: usize = 2;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The clock an [`Insights`] reads "today" from (for activity facts).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(|| Timestamp::from_jiff(jiff::Timestamp::now()))
}

/// One organisation's projection, kept current from the history log. See the crate docs.
pub struct Insights {
    store: Arc<dyn Store>,
    org: OrgId,
    /// The organisation's time zone when loaded: the projection's days are its days.
    zone: Zone,
    /// Set when the organisation's zone is found changed: its days are no longer these, and
    /// [`InsightsRegistry::get`] loads the organisation again.
    stale: AtomicBool,
    clock: Clock,
    projection: RwLock<Projection>,
    /// Serialises refreshes; holds when the facts were last recomputed.
    refreshing: Mutex<Option<Instant>>,
    facts_every_ms: AtomicU64,
    /// Events the projection refused (bad values); they are skipped, never retried.
    skipped: AtomicU64,
    /// The last sequence number read from the log (applied or skipped).
    cursor: AtomicI64,
    /// Where today's activity facts stand (see [`FactsFeed`]).
    feed: Mutex<FactsFeed>,
    past: PastFacts,
    /// The statistical forecast's fitted models.
    models: crate::forecast::Models,
    /// Where the follower keeps the projection's snapshot ([`snapshot`]), if anywhere.
    snapshot: Option<std::path::PathBuf>,
    /// When the last snapshot was written, and up to which sequence number.
    snapshot_written: Mutex<Option<(Instant, i64)>>,
}

/// The activity facts of the last past days asked for (see the crate docs), most recently
/// used first.
#[derive(Default)]
struct PastFacts {
    /// Bumped by every recompute of today's facts; an entry of an older generation is read
    /// again from the store.
    generation: AtomicU64,
    entries: Mutex<Vec<PastEntry>>,
    /// Held while a day's facts are read from the store, so that one read serves every
    /// request for that day that arrives meanwhile.
    reading: Mutex<()>,
}

struct PastEntry {
    day: Day,
    generation: u64,
    /// What the deals open that day were read under (see `Insights::past_facts_by_id`).
    past_revision: (bool, u64),
    by_id: Arc<HashMap<i64, DealActivity>>,
    /// The facts laid out by deal index, for a projection of this many deals and this
    /// compaction generation ([`Projection::generation`]).
    laid_out: Option<(usize, u64, Arc<ActivityFacts>)>,
}

impl std::fmt::Debug for Insights {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Insights").field("org", &self.org).field("last_seq", &self.last_seq()).finish()
    }
}

/// What [`Insights::refresh`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub events: u64,
    pub facts: bool,
}

impl Insights {
    /// Builds the projection of organisation `org` from the store (history, pipelines,
    /// users/teams as owner/team indexes, rates, activity facts).
    pub fn load(store: Arc<dyn Store>, org: OrgId) -> Result<Insights, StoreError> {
        Insights::load_with_clock(store, org, system_clock())
    }

    /// [`Insights::load`] with the clock "today" is read from.
    pub fn load_with_clock(store: Arc<dyn Store>, org: OrgId, clock: Clock) -> Result<Insights, StoreError> {
        let mut tx = store.read()?;
        let organisation = tx.organisation(org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
        let reporting = organisation.reporting_currency;
        let rates = tx.rate_table(org)?.unwrap_or_else(|| RateTable::new(reporting));
        let mut projection = Projection::new_in(organisation.time_zone.clone(), reporting, rates);
        for pipeline in tx.pipelines(org)? {
            projection.add_pipeline(&pipeline);
        }
        projection.set_stage_history(&tx.stage_settings(org)?);
        register_people(tx.as_mut(), org, &mut projection)?;
        drop(tx);
        let insights = Insights::with_projection(store, org, organisation.time_zone.clone(), clock, projection);
        {
            let mut guard = insights.refreshing.lock().expect("refresh lock");
            insights.follow_log()?;
            insights.projection.write().expect("projection lock").compact();
            insights.update_facts(true)?;
            *guard = Some(Instant::now());
        }
        Ok(insights)
    }

    /// Insights over `projection` as it stands (nothing read yet past its last sequence
    /// number, no facts fed).
    fn with_projection(store: Arc<dyn Store>, org: OrgId, zone: Zone, clock: Clock, projection: Projection) -> Insights {
        Insights {
            store,
            org,
            zone,
            stale: AtomicBool::new(false),
            clock,
            projection: RwLock::new(projection),
            refreshing: Mutex::new(None),
            facts_every_ms: AtomicU64::new(30_000),
            skipped: AtomicU64::new(0),
            cursor: AtomicI64::new(0),
            feed: Mutex::new(FactsFeed::default()),
            past: PastFacts::default(),
            models: crate::forecast::Models::default(),
            snapshot: None,
            snapshot_written: Mutex::new(None),
        }
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The last sequence number applied.
    pub fn last_seq(&self) -> i64 {
        self.projection.read().expect("projection lock").last_seq()
    }

    /// How often `refresh` recomputes the activity facts (and re-reads people, pipelines and
    /// rates); default 30 s.
    pub fn facts_every(&self) -> Duration {
        Duration::from_millis(self.facts_every_ms.load(Ordering::Relaxed))
    }

    pub fn set_facts_every(&self, every: Duration) {
        self.facts_every_ms.store(every.as_millis() as u64, Ordering::Relaxed);
    }

    /// Events the projection could not apply (logged and skipped).
    pub fn skipped_events(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Applies what the log gained since the last call (`Tx::history_since` from the
    /// projection's last seq), plus fresh activity facts when they are due; cheap when nothing
    /// changed.
    pub fn refresh(&self) -> Result<(), StoreError> {
        self.refresh_report().map(|_| ())
    }

    /// [`Insights::refresh`], saying what it did.
    pub fn refresh_report(&self) -> Result<Refreshed, StoreError> {
        let mut last_facts = self.refreshing.lock().expect("refresh lock");
        let events = self.follow_log()?;
        let due = last_facts.is_none_or(|at| at.elapsed() >= self.facts_every());
        if due {
            self.update_facts(false)?;
            *last_facts = Some(Instant::now());
        }
        Ok(Refreshed { events, facts: due })
    }

    /// Follows the log, then recomputes the activity facts now, whole.
    pub fn refresh_facts(&self) -> Result<(), StoreError> {
        let mut last_facts = self.refreshing.lock().expect("refresh lock");
        self.follow_log()?;
        self.update_facts(true)?;
        *last_facts = Some(Instant::now());
        Ok(())
    }

    /// Follows the log, then brings the activity facts up to date now as a due `refresh` does:
    /// whole when the day changed or [`FULL_FACTS_EVERY`] passed, else from the activities
    /// added since (see [`FactsFeed`]).
    pub fn update_facts_now(&self) -> Result<(), StoreError> {
        let mut last_facts = self.refreshing.lock().expect("refresh lock");
        self.follow_log()?;
        self.update_facts(false)?;
        *last_facts = Some(Instant::now());
        Ok(())
    }

    /// Runs `f` on the current projection (read lock).
    pub fn with<R>(&self, f: impl FnOnce(&Projection) -> R) -> R {
        let projection = self.projection.read().expect("projection lock");
        f(&projection)
    }

    /// A read transaction on the organisation's store (for work done away from a request, such
    /// as fitting the win-probability model in the background).
    pub(crate) fn read_tx(&self) -> Result<crate::Tx<'_>, StoreError> {
        Ok(crate::Tx(self.store.read()?))
    }

    /// A write transaction on the organisation's store (for Pipewise's own daily writes).
    pub(crate) fn write_tx(&self) -> Result<crate::Tx<'_>, StoreError> {
        Ok(crate::Tx(self.store.write()?))
    }

    /// The statistical forecast's models fitted on this projection ([`crate::forecast`]).
    pub fn forecast_models(&self) -> &crate::forecast::Models {
        &self.models
    }

    /// The time zone whose days the projection counts in.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Whether the organisation's time zone changed since these were loaded (seen when the
    /// facts are next updated): they must be loaded again.
    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Acquire)
    }

    /// Today in the organisation's time zone, by the clock.
    fn today(&self) -> Day {
        day_of_timestamp((self.clock)(), &self.zone)
    }

    /// Runs `f` on the current projection with the activity facts as of the end of `day`
    /// (see the crate docs), laid out for exactly that projection; `None` when `day` is today
    /// or later, where the projection's own facts are right. Put them in
    /// `DashboardQuery::facts`, or give them to `health::deal_health`.
    ///
    /// Reads the store (outside the projection's lock) unless the day's facts are kept.
    pub fn with_as_of<R>(&self, day: Day, f: impl FnOnce(&Projection, Option<Arc<ActivityFacts>>) -> R) -> Result<R, StoreError> {
        if day >= self.today() {
            return Ok(self.with(|projection| f(projection, None)));
        }
        let (generation, by_id) = self.past_facts_by_id(day)?;
        let projection = self.projection.read().expect("projection lock");
        let facts = self.past_facts_laid_out(&projection, day, generation, &by_id);
        Ok(f(&projection, Some(facts)))
    }

    /// The activity facts as of the end of `day`, laid out by the deal indexes of the
    /// projection as it is now; `None` when `day` is today or later (see
    /// [`Insights::with_as_of`]).
    ///
    /// A refresh may add deals, which these facts do not cover, and a compaction renumbers
    /// the deals ([`Projection::generation`]): use them only with a projection of the same
    /// generation and size, or use [`Insights::with_as_of`], which reads both under one lock.
    pub fn facts_as_of(&self, day: Day) -> Result<Option<Arc<ActivityFacts>>, StoreError> {
        self.with_as_of(day, |_, facts| facts)
    }

    /// The day's facts by opportunity id, of the deals open then (the only ones health reads),
    /// kept or read now, with the generation they belong to. Kept while the facts are not
    /// recomputed and the deals open that day cannot have changed: the projection's past
    /// revision for a day before its latest, else its revision (an event stamped on or before
    /// the day may open or close a deal then).
    fn past_facts_by_id(&self, day: Day) -> Result<(u64, Arc<HashMap<i64, DealActivity>>), StoreError> {
        let stamp = |projection: &Projection| {
            if day < projection.max_day() { (false, projection.past_revision()) } else { (true, projection.revision()) }
        };
        let past_revision = self.with(stamp);
        let kept = |generation: u64| {
            let mut entries = self.past.entries.lock().expect("past facts lock");
            let position = entries
                .iter()
                .position(|entry| entry.day == day && entry.generation == generation && entry.past_revision == past_revision)?;
            let entry = entries.remove(position);
            let by_id = Arc::clone(&entry.by_id);
            entries.insert(0, entry);
            Some(by_id)
        };
        let generation = self.past.generation.load(Ordering::Acquire);
        if let Some(by_id) = kept(generation) {
            return Ok((generation, by_id));
        }
        let _reading = self.past.reading.lock().expect("past facts lock");
        // Another request may have read them while this one waited.
        let generation = self.past.generation.load(Ordering::Acquire);
        if let Some(by_id) = kept(generation) {
            return Ok((generation, by_id));
        }
        let (past_revision, open) = self.with(|projection| (stamp(projection), projection.open_on(day)));
        let by_id = {
            let mut tx = self.store.read()?;
            Arc::new(activity_facts_as_of(tx.as_mut(), self.org, &self.zone, day, Some(&open))?)
        };
        let mut entries = self.past.entries.lock().expect("past facts lock");
        entries.retain(|entry| entry.day != day);
        entries.insert(0, PastEntry { day, generation, past_revision, by_id: Arc::clone(&by_id), laid_out: None });
        entries.truncate(PAST_FACTS_KEPT);
        Ok((generation, by_id))
    }

    /// The day's facts laid out by the deal indexes of `projection`, kept for one projection
    /// size and compaction generation (a refresh adds deals; a compaction renumbers them).
    fn past_facts_laid_out(
        &self,
        projection: &Projection,
        day: Day,
        generation: u64,
        by_id: &HashMap<i64, DealActivity>,
    ) -> Arc<ActivityFacts> {
        let layout = (projection.n_deals(), projection.generation());
        let is_entry = |entry: &PastEntry| entry.day == day && entry.generation == generation;
        {
            let entries = self.past.entries.lock().expect("past facts lock");
            if let Some((n_deals, compaction, facts)) =
                entries.iter().find(|entry| is_entry(entry)).and_then(|entry| entry.laid_out.as_ref())
                && (*n_deals, *compaction) == layout
            {
                return Arc::clone(facts);
            }
        }
        let facts = Arc::new(lay_out(projection, by_id));
        let mut entries = self.past.entries.lock().expect("past facts lock");
        if let Some(entry) = entries.iter_mut().find(|entry| is_entry(entry)) {
            entry.laid_out = Some((layout.0, layout.1, Arc::clone(&facts)));
        }
        facts
    }

    /// Compacts the projection when many deals changed since the last compaction (figures visit
    /// every changed deal: see `Projection::candidates`). Only the follower thread does this,
    /// never a reader's request: it holds the write lock for a few hundred milliseconds at
    /// 1,000,000 deals. Activity facts are permuted with the deals; caches keyed on deal indexes
    /// carry the projection's generation.
    pub fn compact_if_due(&self) {
        let due = self.with(|projection| projection.changed_since_compaction() > (projection.n_deals() / 16).max(4096));
        if due {
            let _serial = self.refreshing.lock().expect("refresh lock");
            self.projection.write().expect("projection lock").compact();
        }
    }

    /// Starts a background thread that calls refresh every `interval` (default 100 ms) until
    /// the returned guard is dropped. Errors are reported on stderr and retried next time.
    pub fn follow(self: &Arc<Self>, interval: Duration) -> FollowGuard {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let insights = Arc::clone(self);
        let signal = Arc::clone(&stop);
        let failing = AtomicBool::new(false);
        let handle = std::thread::Builder::new()
            .name(format!("insights-{}", self.org.0))
            .spawn(move || {
                let (lock, condvar) = &*signal;
                let mut stopped = lock.lock().expect("follow lock");
                while !*stopped {
                    drop(stopped);
                    match insights.refresh() {
                        Ok(()) => {
                            failing.store(false, Ordering::Relaxed);
                            insights.compact_if_due();
                            insights.snapshot_if_due();
                            // The model's forecasts of the day, once a day (issue 13 point 4).
                            if let Err(error) = crate::forecast::record::record_due(&insights, (insights.clock)()) {
                                eprintln!(
                                    "insights: organisation {}: the model's forecasts of the day not recorded: {error}",
                                    insights.org.0
                                );
                            }
                        }
                        Err(error) => {
                            if !failing.swap(true, Ordering::Relaxed) {
                                eprintln!("insights: organisation {}: refresh failed (retrying): {error}", insights.org.0);
                            }
                        }
                    }
                    stopped = lock.lock().expect("follow lock");
                    if *stopped {
                        break;
                    }
                    stopped = condvar.wait_timeout(stopped, interval).expect("follow lock").0;
                }
            })
            .expect("a follower thread starts");
        FollowGuard { stop, handle: Some(handle) }
    }

    /// Reads and applies the log past the projection's last seq, page by page. Returns how many
    /// events were applied.
    fn follow_log(&self) -> Result<u64, StoreError> {
        let mut applied = 0u64;
        loop {
            let after = self.cursor.load(Ordering::Acquire);
            let page = {
                let mut tx = self.store.read()?;
                tx.history_since(self.org, after, PAGE)?
            };
            if page.is_empty() {
                return Ok(applied);
            }
            let full = page.len() == PAGE as usize;
            let mut projection = self.projection.write().expect("projection lock");
            let mut pipelines_reloaded = false;
            for event in &page {
                match projection.apply(event) {
                    Ok(()) | Err(ProjectionError::NoRate { .. }) => applied += 1,
                    Err(ProjectionError::UnknownStage { .. }) if !pipelines_reloaded => {
                        // A pipeline or stage created after the load: read them and retry.
                        pipelines_reloaded = true;
                        let pipelines = self.store.read()?.pipelines(self.org)?;
                        for pipeline in &pipelines {
                            projection.add_pipeline(pipeline);
                        }
                        match projection.apply(event) {
                            Ok(()) | Err(ProjectionError::NoRate { .. }) => applied += 1,
                            Err(error) => self.skip(error),
                        }
                    }
                    Err(error) => self.skip(error),
                }
            }
            if let Some(last) = page.last() {
                self.cursor.store(last.seq, Ordering::Release);
            }
            if !full {
                return Ok(applied);
            }
        }
    }

    fn skip(&self, error: ProjectionError) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        eprintln!("insights: organisation {}: skipping a history event: {error}", self.org.0);
    }

    /// Re-reads people, pipelines and rates, and brings today's activity facts up to date:
    /// whole with `full` or when due (see [`FactsFeed`]), else from the activities added since
    /// the feed's watermark. Either way the kept past days' facts are read again next time if
    /// anything was added.
    fn update_facts(&self, full: bool) -> Result<(), StoreError> {
        let today = self.today();
        let zone = self.zone.clone();
        let mut feed = self.feed.lock().expect("facts feed lock");
        let full = full || feed.day != today || feed.full_at.is_none_or(|at| at.elapsed() >= FULL_FACTS_EVERY);
        let mut tx = self.store.read()?;
        if tx.organisation(self.org)?.is_some_and(|organisation| organisation.time_zone != self.zone) {
            self.stale.store(true, Ordering::Release);
        }
        let rates = tx.rate_table(self.org)?;
        let pipelines = tx.pipelines(self.org)?;
        let stage_settings = tx.stage_settings(self.org)?;
        let people = TeamHistory::new(&tx.users(self.org)?, tx.memberships(self.org)?);
        let touch = (start_of(today - 29, &zone), start_of(today + 1, &zone));
        let (top, changed) = if full {
            // The highest id first: an activity added during the read is read again by the feed.
            let top = tx.max_activity_id()?.0;
            (top, Changed::All(activity_facts(tx.as_mut(), self.org, &zone, today)?))
        } else {
            let mut top = feed.watermark;
            let mut deals = BTreeSet::new();
            let mut backdated = false;
            loop {
                let page = tx.activities_after(self.org, ActivityId(top), FEED_PAGE)?;
                for (id, deal, logged_at) in &page {
                    top = top.max(id.0);
                    deals.extend(*deal);
                    backdated |= *logged_at < start_of(today, &zone);
                }
                if page.len() < FEED_PAGE as usize {
                    break;
                }
            }
            let deals: Vec<OpportunityId> = deals.into_iter().collect();
            let aggregates =
                if deals.is_empty() { Vec::new() } else { tx.activity_aggregates(self.org, None, touch.0, touch.1, Some(&deals))? };
            (top, Changed::Some { deals, aggregates, overdue: overdue_tasks(tx.as_mut(), self.org, today)?, backdated })
        };
        drop(tx);
        let mut projection = self.projection.write().expect("projection lock");
        if let Some(rates) = rates
            && let Some(unconverted) = projection.set_rates(rates)
            && unconverted > 0
        {
            eprintln!("insights: organisation {}: {unconverted} amounts have no exchange rate in force and count as no amount", self.org.0);
        }
        for pipeline in &pipelines {
            projection.add_pipeline(pipeline);
        }
        projection.set_stage_history(&stage_settings);
        projection.set_team_history(&people);
        let added = match changed {
            Changed::All(facts) => {
                for deal in 0..projection.n_deals() as u32 {
                    projection.activity.set(deal, DealActivity::default());
                }
                for (id, deal_facts) in facts {
                    if let Some(deal) = projection.deal_index(OpportunityId(id)) {
                        projection.activity.set(deal, deal_facts);
                    }
                }
                feed.day = today;
                feed.full_at = Some(Instant::now());
                // The feed reads the last FEED_MARGIN ids again for a while: an activity with a
                // lower id may commit after the scan (another organisation's, on PostgreSQL), or
                // belong to a deal the projection had not seen yet.
                feed.watermark = feed.watermark.max(top - FEED_MARGIN);
                feed.advance(top);
                true
            }
            Changed::Some { deals, aggregates, overdue, backdated } => {
                let mut facts = FactsBuilder::new(today, &zone);
                for aggregate in &aggregates {
                    facts.aggregate(aggregate);
                }
                let facts = facts.finish();
                for id in &deals {
                    if let Some(deal) = projection.deal_index(*id) {
                        projection.activity.set(deal, facts.get(&id.0).copied().unwrap_or_default());
                    }
                }
                // Overdue counts are re-counted for every deal below.
                projection.activity.overdue_tasks.fill(0);
                for (id, count) in overdue {
                    if let Some(deal) = projection.deal_index(OpportunityId(id)) {
                        projection.activity.overdue_tasks[deal as usize] = count;
                    }
                }
                feed.advance(top);
                // Activities logged now cannot change a past day; one logged with an earlier
                // time (an import) can.
                backdated
            }
        };
        drop(projection);
        if added {
            self.past.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// How many new activities one read of the feed takes.
const FEED_PAGE: u32 = 10_000;

/// How many ids below the highest one a whole recompute leaves for the feed to read again.
const FEED_MARGIN: i64 = 10_000;

/// How often today's activity facts are recomputed whole (besides the change of day).
pub const FULL_FACTS_EVERY: Duration = Duration::from_secs(600);

/// How long after an activity id is first read the feed stops reading it again.
const SETTLE: Duration = Duration::from_secs(60);

/// Where today's activity facts stand. They are recomputed whole (one grouped scan,
/// [`activity_facts`]) on load, when the day changes (touchpoints count the last 30 days) and
/// every [`FULL_FACTS_EVERY`]. In between, a due refresh reads the ids of the activities added
/// above the *watermark* ([`Tx::activities_after`]), re-aggregates just their deals
/// ([`Tx::activity_aggregates`] with those deals: exact, so reading an activity twice is
/// harmless) and re-counts the overdue tasks. The watermark lags the highest id read by
/// [`SETTLE`]: on PostgreSQL an id taken before another may commit after it, and is still read
/// as long as its transaction commits within that time (the next whole recompute catches any
/// later one); after a whole recompute the feed also reads the [`FEED_MARGIN`] ids below the
/// highest again. Activities are never edited or deleted, so new ids are the only change. The
/// kept past days' facts are dropped on a whole recompute and when the feed sees an activity
/// logged with a time before today (activities logged now cannot change a past day).
#[derive(Debug, Default)]
struct FactsFeed {
    day: Day,
    full_at: Option<Instant>,
    watermark: i64,
    /// (when, the highest id read then), oldest first.
    reads: std::collections::VecDeque<(Instant, i64)>,
}

impl FactsFeed {
    fn advance(&mut self, top: i64) {
        let now = Instant::now();
        self.reads.push_back((now, top));
        while let Some(&(at, id)) = self.reads.front() {
            if now.duration_since(at) < SETTLE {
                break;
            }
            self.watermark = self.watermark.max(id);
            self.reads.pop_front();
        }
    }
}

/// What an update of the facts read.
enum Changed {
    All(HashMap<i64, DealActivity>),
    Some { deals: Vec<OpportunityId>, aggregates: Vec<ActivityAggregate>, overdue: Vec<(i64, u16)>, backdated: bool },
}

/// Open tasks and close-plan items past due today, counted per deal (by opportunity id).
fn overdue_tasks(tx: &mut dyn Tx, org: OrgId, today: Day) -> Result<Vec<(i64, u16)>, StoreError> {
    let mut counts: HashMap<i64, u16> = HashMap::new();
    for task in tx.tasks(org, &TaskFilter { open_only: true, ..TaskFilter::default() })? {
        if let (Some(deal), Some(due)) = (task.opportunity_id, task.due_on)
            && day_of_date(due) < today
        {
            let count = counts.entry(deal.0).or_default();
            *count = count.saturating_add(1);
        }
    }
    for item in close_plan_dues(tx, org)? {
        if item.overdue_on(today) {
            let count = counts.entry(item.deal.0).or_default();
            *count = count.saturating_add(1);
        }
    }
    Ok(counts.into_iter().collect())
}

/// A close-plan item with a target date (SPEC C5: overdue close-plan items count with overdue
/// tasks).
struct PlanDue {
    deal: OpportunityId,
    target: pipewise_core::Date,
    done_on: Option<pipewise_core::Date>,
}

impl PlanDue {
    /// Due before `day` and not done by its end.
    fn overdue_on(&self, day: Day) -> bool {
        day_of_date(self.target) < day && self.done_on.is_none_or(|done| day_of_date(done) > day)
    }
}

/// Every close-plan item with a target date, from the deals' workspace documents as they are
/// now (a past day reads them too: an item done since counts as open then by its date done;
/// one added since with an earlier target date counts as if it had been there). A document that
/// does not read is logged and skipped.
fn close_plan_dues(tx: &mut dyn Tx, org: OrgId) -> Result<Vec<PlanDue>, StoreError> {
    let mut dues = Vec::new();
    for stored in tx.workspace_documents(org)? {
        let record = pipewise_core::error::RecordRef::new(OpportunityId::LABEL, stored.deal.0);
        let workspace = serde_json::from_str(&stored.document)
            .map_err(|error| error.to_string())
            .and_then(|value| crate::workspace_codec::from_json(&record, &value).map_err(|error| error.to_string()));
        match workspace {
            Ok(workspace) => dues.extend(
                workspace
                    .close_plan
                    .items
                    .iter()
                    .filter_map(|item| Some(PlanDue { deal: stored.deal, target: item.target_date?, done_on: item.done_on })),
            ),
            Err(error) => eprintln!("insights: organisation {}: deal {}'s workspace does not read: {error}", org.0, stored.deal.0),
        }
    }
    Ok(dues)
}

/// `by_id` laid out by the deal indexes of `projection`; a deal without facts has none.
fn lay_out(projection: &Projection, by_id: &HashMap<i64, DealActivity>) -> ActivityFacts {
    // A copy of the projection's columns has every column at the right length.
    let mut facts = projection.activity.clone();
    for deal in 0..projection.n_deals() as u32 {
        facts.set(deal, DealActivity::default());
    }
    for (id, deal_facts) in by_id {
        if let Some(deal) = projection.deal_index(OpportunityId(*id)) {
            facts.set(deal, *deal_facts);
        }
    }
    facts
}

fn register_people(tx: &mut dyn Tx, org: OrgId, projection: &mut Projection) -> Result<(), StoreError> {
    projection.set_team_history(&TeamHistory::new(&tx.users(org)?, tx.memberships(org)?));
    Ok(())
}

/// Every deal's activity facts as of `today`, by opportunity id: every activity stored and
/// every open task, as they are now.
pub fn activity_facts(tx: &mut dyn Tx, org: OrgId, zone: &Zone, today: Day) -> Result<HashMap<i64, DealActivity>, StoreError> {
    let mut facts = FactsBuilder::new(today, zone);
    for aggregate in tx.activity_aggregates(org, None, start_of(today - 29, zone), start_of(today + 1, zone), None)? {
        facts.aggregate(&aggregate);
    }
    for task in tx.tasks(org, &TaskFilter { open_only: true, ..TaskFilter::default() })? {
        facts.open_task(&task);
    }
    for item in close_plan_dues(tx, org)? {
        facts.plan_item(&item);
    }
    Ok(facts.finish())
}

/// The first instant of `day` in `zone`.
fn start_of(day: Day, zone: &Zone) -> Timestamp {
    zone.start_of(date_of_day(day))
}

/// Every deal's activity facts as of the end of `day` in `zone`, by opportunity id, counting only
/// what was known then (the rule is in the crate docs): activities happened and logged by
/// then, the logging lag of those logged by then, and the tasks open and past due then, as
/// they were then.
///
/// The activities are aggregated by the store, bounded by the end of `day`
/// ([`Tx::activity_aggregates`]: no activity row is read); the aggregates leave out activities
/// logged by then that had not happened yet, whose lag is negative and so counts as none. Then
/// every task of the organisation and the task entries of the audit log are read
/// ([`crate::activities::tasks_as_of`]). Close-plan items are read from the workspaces as they
/// are now (see `close_plan_dues`): not as known then.
///
/// With `deals`, only those deals' activities are read (a past day's health reads only the deals
/// open then: a tenth of a mature organisation's).
pub fn activity_facts_as_of(
    tx: &mut dyn Tx,
    org: OrgId,
    zone: &Zone,
    day: Day,
    deals: Option<&[OpportunityId]>,
) -> Result<HashMap<i64, DealActivity>, StoreError> {
    let (next_day, end) = (start_of(day + 1, zone), Timestamp::from_micros(start_of(day + 1, zone).as_micros() - 1));
    let mut facts = FactsBuilder::new(day, zone);
    // Touchpoints in the 30 days ending with `day`, as `FactsBuilder::happened` counts them.
    for aggregate in tx.activity_aggregates(org, Some(next_day), start_of(day - 29, zone), next_day, deals)? {
        facts.aggregate(&aggregate);
    }
    let only: Option<std::collections::HashSet<OpportunityId>> = deals.map(|deals| deals.iter().copied().collect());
    for task in crate::activities::stored_tasks_as_of(tx, org, end)? {
        let counted = only.as_ref().is_none_or(|only| task.opportunity_id.is_some_and(|deal| only.contains(&deal)));
        if counted && task.completed_at.is_none_or(|done| done > end) {
            facts.open_task(&task);
        }
    }
    for item in close_plan_dues(tx, org)? {
        if only.as_ref().is_none_or(|only| only.contains(&item.deal)) {
            facts.plan_item(&item);
        }
    }
    Ok(facts.finish())
}

/// Sums activities and tasks into each deal's facts as of `day`, by opportunity id.
struct FactsBuilder<'a> {
    day: Day,
    zone: &'a Zone,
    facts: HashMap<i64, DealActivity>,
}

impl<'a> FactsBuilder<'a> {
    fn new(day: Day, zone: &'a Zone) -> FactsBuilder<'a> {
        FactsBuilder { day, zone, facts: HashMap::new() }
    }

    /// A deal's activities as the store aggregated them (`Tx::activity_aggregates`, with the
    /// touchpoints of the 30 days ending with `day`).
    fn aggregate(&mut self, aggregate: &ActivityAggregate) {
        let entry = self.facts.entry(aggregate.opportunity_id.0).or_default();
        entry.last_activity = Some(day_of_timestamp(aggregate.last_occurred, self.zone));
        entry.last_inbound = aggregate.last_inbound.map(|at| day_of_timestamp(at, self.zone));
        entry.touchpoints_30d = aggregate.touchpoints;
        entry.contacts_engaged = aggregate.contacts.min(u32::from(u16::MAX)) as u16;
        let lag = aggregate.max_lag_micros.div_euclid(MICROS_PER_DAY);
        entry.max_log_lag_days = lag.clamp(0, i64::from(i32::MAX)) as i32;
    }

    /// A task not done as of `day`: overdue when it was due before `day`.
    fn open_task(&mut self, task: &Task) {
        let (Some(deal), Some(due)) = (task.opportunity_id, task.due_on) else { return };
        if day_of_date(due) < self.day {
            let entry = self.facts.entry(deal.0).or_default();
            entry.overdue_tasks = entry.overdue_tasks.saturating_add(1);
        }
    }

    /// A close-plan item: overdue when due before `day` and not done by its end.
    fn plan_item(&mut self, item: &PlanDue) {
        if item.overdue_on(self.day) {
            let entry = self.facts.entry(item.deal.0).or_default();
            entry.overdue_tasks = entry.overdue_tasks.saturating_add(1);
        }
    }

    fn finish(self) -> HashMap<i64, DealActivity> {
        self.facts
    }
}

/// Stops its follower thread when dropped.
pub struct FollowGuard {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for FollowGuard {
    fn drop(&mut self) {
        let (lock, condvar) = &*self.stop;
        *lock.lock().expect("follow lock") = true;
        condvar.notify_all();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// One organisation's insights and, when followed, the guard of its follower thread.
type Followed = (Arc<Insights>, Option<FollowGuard>);

/// The [`Insights`] of every organisation, loaded on first use and, when built with
/// [`InsightsRegistry::following`], each followed by a background thread.
pub struct InsightsRegistry {
    store: Arc<dyn Store>,
    clock: Clock,
    follow: Option<Duration>,
    /// The folder of the projections' snapshots (see [`snapshot`]), if any.
    snapshots: Option<std::path::PathBuf>,
    by_org: Mutex<HashMap<OrgId, Followed>>,
}

impl InsightsRegistry {
    /// Loads on first use; refreshed only by readers calling [`Insights::refresh`].
    pub fn new(store: Arc<dyn Store>) -> InsightsRegistry {
        InsightsRegistry { store, clock: system_clock(), follow: None, snapshots: None, by_org: Mutex::new(HashMap::new()) }
    }

    /// Loads on first use and follows each organisation's log every `interval`.
    pub fn following(store: Arc<dyn Store>, interval: Duration) -> InsightsRegistry {
        InsightsRegistry { follow: Some(interval), ..InsightsRegistry::new(store) }
    }

    pub fn with_clock(mut self, clock: Clock) -> InsightsRegistry {
        self.clock = clock;
        self
    }

    /// Keeps each organisation's projection as a snapshot in `dir` (written by the follower)
    /// and starts from it when it is still true of the store.
    pub fn with_snapshots(mut self, dir: std::path::PathBuf) -> InsightsRegistry {
        self.snapshots = Some(dir);
        self
    }

    /// The organisation's insights, loading them (and starting the follower) on first use.
    pub fn get(&self, org: OrgId) -> Result<Arc<Insights>, StoreError> {
        let mut by_org = self.by_org.lock().expect("registry lock");
        match by_org.get(&org) {
            Some((insights, _)) if !insights.is_stale() => return Ok(Arc::clone(insights)),
            // Its days changed: the follower stops when its guard is dropped with the entry.
            Some(_) => drop(by_org.remove(&org)),
            None => {}
        }
        let insights = match &self.snapshots {
            None => Insights::load_with_clock(Arc::clone(&self.store), org, Arc::clone(&self.clock))?,
            Some(dir) => {
                let path = snapshot_path(dir, org);
                let (mut insights, _) = Insights::load_or_restore(Arc::clone(&self.store), org, Arc::clone(&self.clock), &path)?;
                insights.snapshot = Some(path);
                insights
            }
        };
        let insights = Arc::new(insights);
        let guard = self.follow.map(|interval| insights.follow(interval));
        by_org.insert(org, (Arc::clone(&insights), guard));
        Ok(insights)
    }

    /// Forgets the organisation's insights (after its time zone changed here): the next
    /// [`InsightsRegistry::get`] loads them again.
    pub fn forget(&self, org: OrgId) {
        let removed = self.by_org.lock().expect("registry lock").remove(&org);
        drop(removed);
    }

    /// Each loaded organisation's lag: how many history events the store holds past the last
    /// one its projection applied, counted up to `cap`.
    pub fn lags(&self, cap: u32) -> Result<Vec<(OrgId, usize)>, StoreError> {
        let loaded: Vec<(OrgId, i64)> =
            self.by_org.lock().expect("registry lock").iter().map(|(org, (insights, _))| (*org, insights.last_seq())).collect();
        let mut tx = self.store.read()?;
        let mut lags = Vec::with_capacity(loaded.len());
        for (org, seq) in loaded {
            lags.push((org, tx.history_since(org, seq, cap)?.len()));
        }
        lags.sort_by_key(|(org, _)| *org);
        Ok(lags)
    }

    /// Loads every organisation now (for a server start).
    pub fn load_all(&self) -> Result<usize, StoreError> {
        let orgs = self.store.read()?.organisations()?;
        for organisation in &orgs {
            self.get(organisation.id)?;
        }
        Ok(orgs.len())
    }
}
