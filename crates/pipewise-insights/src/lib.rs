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
//! are recomputed from the activities and tasks on load and then at most every
//! [`Insights::facts_every`] (default 30 s) by `refresh`, or at once by
//! [`Insights::refresh_facts`]. Users, teams, pipelines and rates are re-read with the facts,
//! and a pipeline at once when the log names a stage the projection does not know yet.
//!
//! # Visibility
//! Figures served to a person cover the deals they may see as an *owner set*
//! ([`scope_for`], [`owner_set`]): `Access::deal_scope()` is `All` for admin, ops and viewer
//! (the organisation), the reporting tree for a manager (their own deals and every report's,
//! transitively) and the rep alone for a rep. Figures are attributed to deal owners, so a deal
//! *shared* with a rep stays in its owner's figures and not in the rep's: sharing lets the rep
//! open the deal (drill-downs list deals through the visibility-checked `ops::*_for` reads,
//! which include shared deals) but does not make its amount part of the rep's pipeline, win
//! rate or leaderboard line. A filter by team or owner narrows that set and never widens it.

pub mod drill;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipewise_analytics::projection::{Projection, ProjectionError};
use pipewise_analytics::{Day, DealActivity, Scope, day_of_date, day_of_timestamp};
use pipewise_core::access::{Access, DealScope};
use pipewise_core::fx::RateTable;
use pipewise_core::records::Direction;
use pipewise_core::{OrgId, TeamId, Timestamp, UserId};
use pipewise_store::{ActivityFilter, Store, StoreError, TaskFilter, Tx};

/// How many history events one read of the log takes.
pub const PAGE: u32 = 50_000;

/// The clock an [`Insights`] reads "today" from (for activity facts).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(|| Timestamp::from_jiff(jiff::Timestamp::now()))
}

/// One organisation's projection, kept current from the history log. See the crate docs.
pub struct Insights {
    store: Arc<dyn Store>,
    org: OrgId,
    clock: Clock,
    projection: RwLock<Projection>,
    /// Serialises refreshes; holds when the facts were last recomputed.
    refreshing: Mutex<Option<Instant>>,
    facts_every_ms: AtomicU64,
    /// Events the projection refused (bad values); they are skipped, never retried.
    skipped: AtomicU64,
    /// The last sequence number read from the log (applied or skipped).
    cursor: AtomicI64,
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
        let mut projection = Projection::new(reporting, rates);
        for pipeline in tx.pipelines(org)? {
            projection.add_pipeline(&pipeline);
        }
        register_people(tx.as_mut(), org, &mut projection)?;
        drop(tx);
        let insights = Insights {
            store,
            org,
            clock,
            projection: RwLock::new(projection),
            refreshing: Mutex::new(None),
            facts_every_ms: AtomicU64::new(30_000),
            skipped: AtomicU64::new(0),
            cursor: AtomicI64::new(0),
        };
        {
            let mut guard = insights.refreshing.lock().expect("refresh lock");
            insights.follow_log()?;
            insights.projection.write().expect("projection lock").compact();
            insights.recompute_facts()?;
            *guard = Some(Instant::now());
        }
        Ok(insights)
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
            self.recompute_facts()?;
            *last_facts = Some(Instant::now());
        }
        Ok(Refreshed { events, facts: due })
    }

    /// Follows the log, then recomputes the activity facts now.
    pub fn refresh_facts(&self) -> Result<(), StoreError> {
        let mut last_facts = self.refreshing.lock().expect("refresh lock");
        self.follow_log()?;
        self.recompute_facts()?;
        *last_facts = Some(Instant::now());
        Ok(())
    }

    /// Runs `f` on the current projection (read lock).
    pub fn with<R>(&self, f: impl FnOnce(&Projection) -> R) -> R {
        let projection = self.projection.read().expect("projection lock");
        f(&projection)
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
                        Ok(()) => failing.store(false, Ordering::Relaxed),
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

    /// Re-reads people, pipelines and rates, and recomputes the activity facts of every deal.
    fn recompute_facts(&self) -> Result<(), StoreError> {
        let today = day_of_timestamp((self.clock)());
        let mut tx = self.store.read()?;
        let rates = tx.rate_table(self.org)?;
        let pipelines = tx.pipelines(self.org)?;
        let facts = activity_facts(tx.as_mut(), self.org, today)?;
        let users = tx.users(self.org)?;
        drop(tx);
        let mut projection = self.projection.write().expect("projection lock");
        if let Some(rates) = rates {
            projection.set_rates(rates);
        }
        for pipeline in &pipelines {
            projection.add_pipeline(pipeline);
        }
        for user in &users {
            projection.set_team(user.id, user.team_id);
        }
        let n = projection.n_deals();
        for deal in 0..n as u32 {
            projection.activity.set(deal, DealActivity::default());
        }
        for (id, deal_facts) in facts {
            if let Some(deal) = projection.deal_index(pipewise_core::OpportunityId(id)) {
                projection.activity.set(deal, deal_facts);
            }
        }
        Ok(())
    }
}

fn register_people(tx: &mut dyn Tx, org: OrgId, projection: &mut Projection) -> Result<(), StoreError> {
    for user in tx.users(org)? {
        projection.set_team(user.id, user.team_id);
    }
    Ok(())
}

/// Every deal's activity facts as of `today`, by opportunity id.
pub fn activity_facts(tx: &mut dyn Tx, org: OrgId, today: Day) -> Result<HashMap<i64, DealActivity>, StoreError> {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let mut facts: HashMap<i64, DealActivity> = HashMap::new();
    let mut contacts: HashMap<i64, HashSet<i64>> = HashMap::new();
    for activity in tx.activities(org, &ActivityFilter::default())? {
        let Some(deal) = activity.opportunity_id else { continue };
        let entry = facts.entry(deal.0).or_default();
        let day = day_of_timestamp(activity.occurred_at);
        entry.last_activity = Some(entry.last_activity.map_or(day, |last| last.max(day)));
        if activity.direction == Direction::Inbound {
            entry.last_inbound = Some(entry.last_inbound.map_or(day, |last| last.max(day)));
        }
        if activity.direction != Direction::Internal && day <= today && day > today - 30 {
            entry.touchpoints_30d += 1;
        }
        let lag = (activity.logged_at.as_micros() - activity.occurred_at.as_micros()).div_euclid(MICROS_PER_DAY);
        entry.max_log_lag_days = entry.max_log_lag_days.max(lag.clamp(0, i64::from(i32::MAX)) as i32);
        if !activity.contact_ids.is_empty() {
            contacts.entry(deal.0).or_default().extend(activity.contact_ids.iter().map(|contact| contact.0));
        }
    }
    for (deal, set) in contacts {
        if let Some(entry) = facts.get_mut(&deal) {
            entry.contacts_engaged = set.len().min(u16::MAX as usize) as u16;
        }
    }
    for task in tx.tasks(org, &TaskFilter { open_only: true, ..TaskFilter::default() })? {
        let (Some(deal), Some(due)) = (task.opportunity_id, task.due_on) else { continue };
        if day_of_date(due) < today {
            let entry = facts.entry(deal.0).or_default();
            entry.overdue_tasks = entry.overdue_tasks.saturating_add(1);
        }
    }
    Ok(facts)
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
    by_org: Mutex<HashMap<OrgId, Followed>>,
}

impl InsightsRegistry {
    /// Loads on first use; refreshed only by readers calling [`Insights::refresh`].
    pub fn new(store: Arc<dyn Store>) -> InsightsRegistry {
        InsightsRegistry { store, clock: system_clock(), follow: None, by_org: Mutex::new(HashMap::new()) }
    }

    /// Loads on first use and follows each organisation's log every `interval`.
    pub fn following(store: Arc<dyn Store>, interval: Duration) -> InsightsRegistry {
        InsightsRegistry { follow: Some(interval), ..InsightsRegistry::new(store) }
    }

    pub fn with_clock(mut self, clock: Clock) -> InsightsRegistry {
        self.clock = clock;
        self
    }

    /// The organisation's insights, loading them (and starting the follower) on first use.
    pub fn get(&self, org: OrgId) -> Result<Arc<Insights>, StoreError> {
        let mut by_org = self.by_org.lock().expect("registry lock");
        if let Some((insights, _)) = by_org.get(&org) {
            return Ok(Arc::clone(insights));
        }
        let insights = Arc::new(Insights::load_with_clock(Arc::clone(&self.store), org, Arc::clone(&self.clock))?);
        let guard = self.follow.map(|interval| insights.follow(interval));
        by_org.insert(org, (Arc::clone(&insights), guard));
        Ok(insights)
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

/// The owner indexes of the deals `access` may see, narrowed by a team and an owner filter;
/// `None` means every owner (the organisation). See the crate docs.
pub fn owner_set(projection: &Projection, access: &Access, team: Option<TeamId>, owner: Option<UserId>) -> Option<Vec<u32>> {
    let visible: Option<BTreeSet<u32>> = match access.deal_scope() {
        DealScope::All => None,
        DealScope::Owners { owners, .. } => Some(owners.iter().filter_map(|user| projection.owner_index(*user)).collect()),
    };
    let mut set = visible;
    if let Some(team) = team {
        let members: BTreeSet<u32> = projection.team_index(team).map(|team| projection.team_members(team).collect()).unwrap_or_default();
        set = Some(match set {
            None => members,
            Some(set) => set.intersection(&members).copied().collect(),
        });
    }
    if let Some(owner) = owner {
        let one: BTreeSet<u32> = projection.owner_index(owner).into_iter().collect();
        set = Some(match set {
            None => one,
            Some(set) => set.intersection(&one).copied().collect(),
        });
    }
    set.map(|set| set.into_iter().collect())
}

/// The analytics scope of what `access` may see (see the crate docs).
pub fn scope_for(projection: &Projection, access: &Access) -> Scope {
    match owner_set(projection, access, None, None) {
        None => Scope::org(),
        Some(owners) => Scope::owners(owners),
    }
}
