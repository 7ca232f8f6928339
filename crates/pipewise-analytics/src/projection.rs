//! The columnar projection: every deal's current state as struct-of-arrays columns, the compact
//! history needed to rebuild any past day, and the activity facts the store supplies.
//!
//! # What it holds
//! - Dimensions: pipelines and stages (a global stage index `u16`), owners (`u32` index per
//!   [`UserId`]), teams (`u32` index per [`TeamId`]), currencies seen.
//! - [`Deals`]: one entry per deal in each column (index `u32`), the state after every event
//!   applied so far.
//! - Per-deal event arrays: for every change after the deal's creation instant, the day, the
//!   field and the *old* value (the new value is the next change's old value, or the current
//!   column). Stored fields: owner, stage, amount, close date, forecast category, closed day.
//!   Next step and close reason are not analysed; the account and the name (lower-cased, in
//!   one text for all deals) are kept as the current state alone (what lists group by and
//!   search), never as of a past day; status and pipeline follow from
//!   the stage (a deal's status is its stage's kind, as `opportunity::apply` guarantees).
//! - [`ActivityFacts`]: per-deal activity columns the store fills (activities are not history).
//!
//! # Indexes
//! Deals, owners, teams and stages are addressed by dense `u32`/`u16` indexes. Owner, team and
//! stage indexes never change. Deal indexes are stable until [`Projection::compact`], which
//! orders the deals by when they last mattered and renumbers them ([`Projection::generation`]
//! counts compactions); look them up again with [`Projection::deal_index`] afterwards. `apply`
//! never renumbers.
//!
//! # Skipping what cannot matter
//! Most deals of a mature organisation closed long ago. The compaction puts the open deals
//! first (by owner) and then the closed ones by the later of their closed day and last change,
//! latest first, and keeps that key. A figure states the first day that can matter to it (its
//! *horizon*: the start of its window or period, the day after its as-of day) and visits only
//! [`Projection::candidates`]: the prefix of the order whose key is on or after the horizon,
//! the deals added since the compaction and the deals changed since (each listed once when
//! `apply` first touches it). A deal left out is closed, unchanged since, and closed and last
//! changed before the horizon, so as of any day the figure reads its state is its final one
//! and it adds to no figure of that horizon (property-tested against a full scan). The
//! follower compacts again when the changed deals grow many.
//!
//! # Replay rule ("as of")
//! The state as of day `d` is the state after applying, in sequence order, the deal's events
//! with `at` on or before the end of `d` (UTC). [`Projection::state_at`] computes it backwards
//! from the current columns: it undoes, newest first, the changes stamped after `d` by
//! restoring their old values. A deal whose last change is on or before `d` is read straight
//! from the columns, so figures as of today touch no event at all.
//! A deal created after `d` does not exist as of `d`.
//! Events arriving with an `at` earlier than the deal's last change are treated as stamped
//! with that change's day, as the store does (history is monotonic per deal).
//!
//! # Currency rule
//! Every amount is kept in minor units of the reporting currency (`i64`), converted **once,
//! when the amount is recorded**, with [`RateTable::convert`] at the rate in force on the day
//! the amount was set (the day of the event that set it): rate table rules apply (latest rate
//! on or before that day, at most 10 days old, half-to-even rounding once per line).
//! Why that day and not the as-of or close date: it is the only rate that is always known at
//! every as-of time the amount is visible (no figure uses a rate published later), and it keeps
//! exchange-rate moves out of the pipeline: an amount in the reporting currency changes only
//! when a person changes the deal, so the waterfall shows sales movement, not FX noise.
//! The native amount and its currency are kept too (current state only).
//! An amount that cannot be converted (no rate in force, or too large for the reporting
//! currency's minor units) is kept natively and counts as "no amount" in the reporting currency;
//! [`Projection::apply`] reports it.
//!
//! The conversion is a pure function of the stored data (the amounts, the days they were set and
//! the rate table), never of when an event was applied: a rate published after the amount was
//! applied (the day's ECB fixing comes in the afternoon), or a rate corrected, changes the
//! conversion as if it had been known all along. For that the projection keeps every amount
//! setting of the deals that ever had an amount in another currency ([`AmountSetting`]), and
//! [`Projection::set_rates`] converts them again when the table changes, rewriting the current
//! amounts and the old values in the event arrays. A follower and a projection rebuilt from the
//! store therefore agree to the cent (property-tested with several currencies and late rates).

use std::collections::HashMap;

use pipewise_core::fx::{FxError, RateTable};
use pipewise_core::history::HistoryEvent;
use pipewise_core::opportunity::OppField;
use pipewise_core::pipeline::{ForecastCategory, Pipeline, StageKind};
use pipewise_core::time::parse_date;
use pipewise_core::{Currency, Money, OpportunityId, Problem, StageId, TeamId, Timestamp, UserId, Zone};

use crate::{Day, NO_DAY, day_of_date, day_of_timestamp};

mod snapshot;
pub use snapshot::SnapshotError;

/// An absent amount.
pub const NO_AMOUNT: i64 = i64::MIN;
/// An absent stage (a deal whose creation has not been seen whole).
pub const NO_STAGE: u16 = u16::MAX;
/// An absent owner or team.
pub const NO_INDEX: u32 = u32::MAX;
/// A deal without an account (account ids are positive).
pub const NO_ACCOUNT: i64 = 0;
const NO_CURRENCY: u16 = u16::MAX;
/// Marks, in `event_field`, a close-date change that counted as a push.
const PUSHED: u8 = 0x80;
const PUSHED_CLOSE_DATE: u8 = Field::CloseDate as u8 | PUSHED;

/// The fields the event arrays keep, as stored in `event_field`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    Owner = 0,
    Stage = 1,
    Amount = 2,
    CloseDate = 3,
    Forecast = 4,
    ClosedDay = 5,
}

/// A stage as the analytics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageInfo {
    pub id: StageId,
    pub pipeline: u16,
    pub position: i32,
    pub kind: StageKind,
    /// Default win probability in basis points of one (percent × 100): 65 % is 6500.
    pub win_bp: i64,
    pub counts_in_metrics: bool,
    pub rotting_days: Option<i32>,
    pub name_en: String,
    pub name_ko: String,
}

impl StageInfo {
    #[inline]
    pub fn is_open(&self) -> bool {
        self.kind == StageKind::Open
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineInfo {
    pub id: pipewise_core::PipelineId,
    pub name: String,
    /// Global stage indexes in position order.
    pub stages: Vec<u16>,
}

/// The deals' current state, one entry per deal in each column.
#[derive(Clone, Debug, Default)]
pub struct Deals {
    pub id: Vec<OpportunityId>,
    /// The deal's account now, or [`NO_ACCOUNT`] (current state only: no figure reads it as of
    /// a past day).
    pub account: Vec<i64>,
    /// Where the deal's name, lower-cased, is in [`Projection::names`], and its length in bytes
    /// (current state only).
    name_start: Vec<u32>,
    name_len: Vec<u32>,
    pub owner: Vec<u32>,
    pub stage: Vec<u16>,
    /// [`forecast_index`] of the category.
    pub forecast: Vec<u8>,
    /// Minor units of the reporting currency, or [`NO_AMOUNT`].
    pub amount: Vec<i64>,
    /// Minor units of `currency`, or [`NO_AMOUNT`].
    pub amount_native: Vec<i64>,
    /// Index into [`Projection::currencies`].
    pub currency: Vec<u16>,
    pub close_day: Vec<Day>,
    pub created_day: Vec<Day>,
    /// The day the deal closed (won or lost), or [`NO_DAY`] while open.
    pub closed_day: Vec<Day>,
    pub stage_entered_day: Vec<Day>,
    /// The stage the deal was in before its last stage change ([`NO_STAGE`] if none).
    pub stage_before: Vec<u16>,
    /// The highest position among open stages the deal has ever been in (-1 if none).
    pub max_open_position: Vec<i16>,
    /// The same over the stages of its creation instant alone (a deal may be created and moved
    /// on at one instant; those moves are not in its event array).
    creation_max_open: Vec<i16>,
    /// The deal has had an amount in a currency other than the reporting one: its amount
    /// settings are kept in [`Projection::foreign`] from then on.
    foreign: Vec<bool>,
    /// How many times the close date moved later than the last one it had (clearing it and
    /// setting a later one is a push too).
    pub push_count: Vec<u16>,
    /// The last close date the deal had, kept while the date is cleared ([`NO_DAY`] if none).
    last_close_day: Vec<Day>,
    /// Day of the deal's last stored change, or its creation day.
    pub last_event_day: Vec<Day>,
    created_at: Vec<i64>,
    event_start: Vec<u32>,
    event_len: Vec<u32>,
    event_cap: Vec<u32>,
}

/// The per-deal activity facts the store fills (activities are not in opportunity history).
/// Absent facts mean "no activity recorded".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityFacts {
    pub last_activity_day: Vec<Day>,
    /// Last activity whose direction is inbound (from the customer).
    pub last_inbound_day: Vec<Day>,
    /// Touchpoints (calls, meetings, emails both ways) in the 30 days before the as-of day.
    pub touchpoints_30d: Vec<u32>,
    /// Distinct customer contacts engaged on the deal.
    pub contacts_engaged: Vec<u16>,
    /// Tasks and close-plan items past due and not done.
    pub overdue_tasks: Vec<u16>,
    /// The largest `logged_at − occurred_at` in days among the deal's activities.
    pub max_log_lag_days: Vec<i32>,
}

/// One deal's activity facts, for [`ActivityFacts::set`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DealActivity {
    pub last_activity: Option<Day>,
    pub last_inbound: Option<Day>,
    pub touchpoints_30d: u32,
    pub contacts_engaged: u16,
    pub overdue_tasks: u16,
    pub max_log_lag_days: i32,
}

impl ActivityFacts {
    fn grow(&mut self, n: usize) {
        self.last_activity_day.resize(n, NO_DAY);
        self.last_inbound_day.resize(n, NO_DAY);
        self.touchpoints_30d.resize(n, 0);
        self.contacts_engaged.resize(n, 0);
        self.overdue_tasks.resize(n, 0);
        self.max_log_lag_days.resize(n, 0);
    }

    pub fn set(&mut self, deal: u32, facts: DealActivity) {
        let index = deal as usize;
        self.last_activity_day[index] = facts.last_activity.unwrap_or(NO_DAY);
        self.last_inbound_day[index] = facts.last_inbound.unwrap_or(NO_DAY);
        self.touchpoints_30d[index] = facts.touchpoints_30d;
        self.contacts_engaged[index] = facts.contacts_engaged;
        self.overdue_tasks[index] = facts.overdue_tasks;
        self.max_log_lag_days[index] = facts.max_log_lag_days;
    }

    pub fn get(&self, deal: u32) -> DealActivity {
        let index = deal as usize;
        let day = |value: Day| (value != NO_DAY).then_some(value);
        DealActivity {
            last_activity: day(self.last_activity_day[index]),
            last_inbound: day(self.last_inbound_day[index]),
            touchpoints_30d: self.touchpoints_30d[index],
            contacts_engaged: self.contacts_engaged[index],
            overdue_tasks: self.overdue_tasks[index],
            max_log_lag_days: self.max_log_lag_days[index],
        }
    }
}

/// One deal as of a day: what every figure reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealState {
    pub owner: u32,
    pub stage: u16,
    pub forecast: u8,
    /// Reporting-currency minor units, or [`NO_AMOUNT`].
    pub amount: i64,
    pub close_day: Day,
    pub created_day: Day,
    pub closed_day: Day,
    pub stage_entered_day: Day,
    pub stage_before: u16,
    pub push_count: u16,
}

impl DealState {
    /// A placeholder to write into.
    pub const EMPTY: DealState = DealState {
        owner: NO_INDEX,
        stage: NO_STAGE,
        forecast: 0,
        amount: NO_AMOUNT,
        close_day: NO_DAY,
        created_day: NO_DAY,
        closed_day: NO_DAY,
        stage_entered_day: NO_DAY,
        stage_before: NO_STAGE,
        push_count: 0,
    };

    /// The amount, with "no amount" as zero.
    #[inline]
    pub fn amount_or_zero(&self) -> i64 {
        if self.amount == NO_AMOUNT { 0 } else { self.amount }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    #[error("history event {seq} of opportunity {opportunity_id}: {field}: {problem}")]
    BadValue { seq: i64, opportunity_id: OpportunityId, field: OppField, problem: Problem },
    #[error("history event {seq} of opportunity {opportunity_id}: stage_id: stage {stage_id} is in no pipeline the projection knows")]
    UnknownStage { seq: i64, opportunity_id: OpportunityId, stage_id: i64 },
    /// The event was applied; its amount counts as "no amount" in the reporting currency until a
    /// rate for it is loaded.
    #[error("history event {seq} of opportunity {opportunity_id}: amount: {amount} kept out of reporting totals: {fx}")]
    NoRate { seq: i64, opportunity_id: OpportunityId, amount: Money, fx: FxError },
}

/// The forecast categories in column order.
pub const FORECAST_CATEGORIES: [ForecastCategory; 5] =
    [ForecastCategory::Pipeline, ForecastCategory::BestCase, ForecastCategory::Commit, ForecastCategory::Closed, ForecastCategory::Omitted];

pub fn forecast_index(category: ForecastCategory) -> u8 {
    FORECAST_CATEGORIES.iter().position(|candidate| *candidate == category).expect("every category is listed") as u8
}

/// Usual shares kept by (pipeline, as-of day, fewest deals, past revision, latest day); a clone
/// starts empty.
#[derive(Debug, Default)]
#[allow(clippy::type_complexity)]
struct UsualCache(std::sync::Mutex<Vec<((Option<u16>, Day, u32, u64, Day), std::sync::Arc<[u32]>)>>);

impl Clone for UsualCache {
    fn clone(&self) -> UsualCache {
        UsualCache::default()
    }
}

/// A win probability in percent as basis points of one (65 % is 6500), half to even.
fn win_bp(percent: rust_decimal::Decimal) -> i64 {
    (percent * rust_decimal::Decimal::ONE_HUNDRED).round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven).mantissa()
        as i64
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Projection {
    /// The organisation's time zone: every [`Day`] here is one of its days.
    zone: Zone,
    reporting: Currency,
    rates: RateTable,
    pub stages: Vec<StageInfo>,
    stage_by_id: HashMap<i64, u16>,
    pub pipelines: Vec<PipelineInfo>,
    pub owner_ids: Vec<UserId>,
    owner_by_id: HashMap<i64, u32>,
    /// Team index of each owner now, or [`NO_INDEX`].
    pub owner_team: Vec<u32>,
    /// The owners who changed team: their teams by day, `(from, team)` in day order (the last
    /// is `owner_team`'s); see [`Projection::team_on`]. Read from the store with the people,
    /// never from a snapshot.
    team_days: HashMap<u32, Vec<(Day, u32)>>,
    /// The stages whose settings changed: their win probability (basis points) and metrics
    /// flag by day, `(from, win_bp, counts)` in day order; see [`Projection::stage_settings_on`].
    /// Read from the store with the pipelines, never from a snapshot.
    stage_days: HashMap<u16, Vec<(Day, i64, bool)>>,
    /// [`crate::health::usual_stage_shares`] already worked out, while the past stands.
    usual: UsualCache,
    pub team_ids: Vec<TeamId>,
    team_by_id: HashMap<i64, u32>,
    pub currencies: Vec<Currency>,
    deal_by_id: HashMap<i64, u32>,
    deals: Deals,
    /// Every deal's name in lower case, one after another (a renamed deal's new name is added
    /// at the end; the compaction drops the old ones): found with one substring search.
    names: String,
    event_day: Vec<Day>,
    event_field: Vec<u8>,
    event_old: Vec<i64>,
    /// Amount settings of the deals with foreign amounts, in the order applied (see the currency
    /// rule).
    foreign: Vec<AmountSetting>,
    /// Event slots abandoned by relocation, reclaimed by [`Projection::compact`].
    garbage: usize,
    /// Filled by the store; one entry per deal.
    pub activity: ActivityFacts,
    last_seq: i64,
    max_day: Day,
    threads: usize,
    hot: HotOrder,
    /// Bumped by every change a figure may read (see [`Projection::revision`]).
    revision: u64,
    /// Bumped by the changes that may alter a figure as of any day (see
    /// [`Projection::past_revision`]).
    past_revision: u64,
}

/// The deals whose name holds a text (see [`Projection::names_holding`]).
pub struct NameMatch<'a> {
    deals: &'a Deals,
    /// Where the text starts in [`Projection::names`], in order.
    found: Vec<u32>,
    width: u32,
}

impl NameMatch<'_> {
    /// Whether the name of the deal at `index` holds the text (an empty text is held by every
    /// name): a place it was found starts within the name and ends inside it too, since the
    /// names are not separated.
    pub fn holds(&self, index: usize) -> bool {
        if self.width == 0 {
            return true;
        }
        let (start, len) = (self.deals.name_start[index], self.deals.name_len[index]);
        if len < self.width {
            return false;
        }
        let first = self.found.partition_point(|at| *at < start);
        self.found.get(first).is_some_and(|at| *at <= start + len - self.width)
    }
}

/// One amount set on a deal that has had an amount in another currency than the reporting one.
#[derive(Clone, Copy, Debug)]
struct AmountSetting {
    deal: OpportunityId,
    /// Minor units of `currency`, or [`NO_AMOUNT`].
    native: i64,
    /// The day the amount was set, whose rate converts it.
    day: Day,
    /// Which of the deal's amount changes in its event array this setting made (the change's old
    /// value is the previous setting, converted), or [`NO_CHANGE`] when it was part of the
    /// deal's creation.
    change: u32,
    /// Index into [`Projection::currencies`].
    currency: u16,
}

const NO_CHANGE: u32 = u32::MAX;

/// The deals' order by when they last mattered, set by [`Projection::compact`]; see
/// [`Projection::candidates`].
#[derive(Clone, Debug, Default)]
struct HotOrder {
    /// Per deal `0..sorted`: its [`Projection::hot_key`] at the last compaction; non-increasing.
    key: Vec<Day>,
    /// Deals `0..sorted` were ordered by the last compaction; later ones were added since.
    sorted: usize,
    /// Deals below `sorted` changed since the last compaction, each once.
    changed: Vec<u32>,
    /// One bit per deal below `sorted`: listed in `changed`.
    changed_bits: Vec<u64>,
    /// Bumped by every compaction (deal indexes change).
    generation: u64,
    /// Every figure walks every deal (tests and benchmarks compare the two).
    full_scan: bool,
}

/// The deals a figure must visit for a horizon: see [`Projection::candidates`].
#[derive(Clone, Debug)]
pub struct Candidates {
    /// Deals `0..prefix` and `tail..n`, then `extra`.
    pub prefix: u32,
    pub tail: u32,
    pub n: u32,
    pub extra: Vec<u32>,
}

impl Candidates {
    /// How many deals the figure visits.
    pub fn len(&self) -> usize {
        self.prefix as usize + (self.n - self.tail) as usize + self.extra.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `visit` with the deals at positions `range` of the concatenation
    /// `0..prefix, tail..n, extra` (each deal once, in that order).
    #[inline(always)]
    pub fn for_each_in(&self, range: std::ops::Range<usize>, mut visit: impl FnMut(u32)) {
        let prefix = self.prefix as usize;
        let tail_len = (self.n - self.tail) as usize;
        let (start, end) = (range.start, range.end.min(self.len()));
        for position in start.min(prefix)..end.min(prefix) {
            visit(position as u32);
        }
        for position in start.max(prefix)..end.min(prefix + tail_len) {
            visit((position - prefix) as u32 + self.tail);
        }
        for position in start.max(prefix + tail_len)..end {
            visit(self.extra[position - prefix - tail_len]);
        }
    }
}

impl Projection {
    /// An empty projection reporting in `reporting`, converting with `rates`, its days in UTC.
    pub fn new(reporting: Currency, rates: RateTable) -> Projection {
        Projection::new_in(Zone::utc(), reporting, rates)
    }

    /// An empty projection whose days are those of `zone` (the organisation's): every event
    /// falls on its day there, so changing the zone means building the projection again.
    pub fn new_in(zone: Zone, reporting: Currency, rates: RateTable) -> Projection {
        Projection {
            zone,
            reporting,
            rates,
            stages: Vec::new(),
            stage_by_id: HashMap::new(),
            pipelines: Vec::new(),
            owner_ids: Vec::new(),
            owner_by_id: HashMap::new(),
            owner_team: Vec::new(),
            team_days: HashMap::new(),
            stage_days: HashMap::new(),
            usual: UsualCache::default(),
            team_ids: Vec::new(),
            team_by_id: HashMap::new(),
            currencies: Vec::new(),
            deal_by_id: HashMap::new(),
            deals: Deals::default(),
            names: String::new(),
            event_day: Vec::new(),
            event_field: Vec::new(),
            event_old: Vec::new(),
            foreign: Vec::new(),
            garbage: 0,
            activity: ActivityFacts::default(),
            last_seq: 0,
            max_day: NO_DAY,
            threads: 2,
            hot: HotOrder::default(),
            revision: 0,
            past_revision: 0,
        }
    }

    /// A projection of `events` (in sequence order) over `pipelines`, compacted, its days in UTC.
    pub fn build<'a>(
        reporting: Currency,
        rates: RateTable,
        pipelines: &[Pipeline],
        events: impl IntoIterator<Item = &'a HistoryEvent>,
    ) -> Result<Projection, ProjectionError> {
        Projection::build_in(Zone::utc(), reporting, rates, pipelines, events)
    }

    /// [`Projection::build`] with the days of `zone`.
    pub fn build_in<'a>(
        zone: Zone,
        reporting: Currency,
        rates: RateTable,
        pipelines: &[Pipeline],
        events: impl IntoIterator<Item = &'a HistoryEvent>,
    ) -> Result<Projection, ProjectionError> {
        let mut projection = Projection::new_in(zone, reporting, rates);
        for pipeline in pipelines {
            projection.add_pipeline(pipeline);
        }
        for event in events {
            projection.apply(event)?;
        }
        projection.compact();
        Ok(projection)
    }

    /// How many threads figures use (default 2, the target machine's cores).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn reporting_currency(&self) -> Currency {
        self.reporting
    }

    /// Replaces the rate table and converts again every amount it affects, so each amount is
    /// converted as if the table had been known when it was applied (see the currency rule).
    /// An unchanged table changes nothing. Returns how many of the kept amounts now count as no
    /// amount (no rate in force, or too large), or `None` when the table is unchanged.
    pub fn set_rates(&mut self, rates: RateTable) -> Option<usize> {
        if rates == self.rates {
            return None;
        }
        self.rates = rates;
        self.revision += 1;
        self.past_revision += 1;
        Some(self.reconvert())
    }

    /// A number that changes whenever the deals or stages do (an event applied, new rates, a
    /// stage added or changed; not a compaction, which changes no figure): what a cache of
    /// anything computed from them keys on. Teams are not counted: scopes are built per request.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// A number that changes whenever something may alter a figure *as of a day before*
    /// [`Projection::max_day`]: new rates or stages, or an event stamped before the latest day (events
    /// come in time order as they are written, so a new one normally lands on or after the
    /// latest day, and a figure as of an earlier day reads only what was known by its end). A cache of past figures keys on this.
    pub fn past_revision(&self) -> u64 {
        self.past_revision
    }

    /// The deals open at the end of `day` (in an open stage then), by id: the only ones whose
    /// health a figure as of `day` reads.
    pub fn open_on(&self, day: Day) -> Vec<OpportunityId> {
        let candidates = self.candidates(day);
        let mut open = Vec::new();
        candidates.for_each_in(0..candidates.len(), |deal| {
            if let Some(state) = self.state_at(deal, day)
                && self.stages[usize::from(state.stage)].is_open()
            {
                open.push(self.deals.id[deal as usize]);
            }
        });
        open
    }

    /// An amount in minor units of the reporting currency, converted at the rate of `day`.
    fn to_reporting(&self, money: Money, day: Day) -> Result<i64, FxError> {
        let converted = self.rates.convert(money, self.reporting, crate::date_of_day(day))?;
        i64::try_from(converted.amount().mantissa())
            .ok()
            .filter(|minor| *minor != NO_AMOUNT)
            .ok_or(FxError::TooLarge { amount: money, to: self.reporting })
    }

    fn convert_setting(&self, setting: &AmountSetting) -> i64 {
        if setting.native == NO_AMOUNT {
            return NO_AMOUNT;
        }
        let currency = self.currencies[setting.currency as usize];
        let money = Money::new(currency.amount_of(setting.native), currency).expect("kept at the currency's scale");
        self.to_reporting(money, setting.day).unwrap_or(NO_AMOUNT)
    }

    /// Converts the kept amount settings again with the current rates: each deal's current
    /// amount and the old values of its amount changes.
    fn reconvert(&mut self) -> usize {
        let mut order: Vec<u32> = (0..self.foreign.len() as u32).collect();
        order.sort_by_key(|position| self.foreign[*position as usize].deal.0);
        let mut unconverted = 0;
        let mut start = 0;
        while start < order.len() {
            let id = self.foreign[order[start] as usize].deal;
            let end = start + order[start..].iter().take_while(|position| self.foreign[**position as usize].deal == id).count();
            let Some(deal) = self.deal_index(id).map(|deal| deal as usize) else {
                start = end;
                continue;
            };
            let mut previous = None;
            let mut changed = false;
            for position in &order[start..end] {
                let setting = self.foreign[*position as usize];
                let value = self.convert_setting(&setting);
                unconverted += usize::from(setting.native != NO_AMOUNT && value == NO_AMOUNT);
                if let (Some(old), true) = (previous, setting.change != NO_CHANGE) {
                    changed |= self.set_amount_change_old(deal, setting.change, old);
                }
                previous = Some(value);
            }
            if let Some(current) = previous
                && self.deals.amount[deal] != current
            {
                self.deals.amount[deal] = current;
                changed = true;
            }
            if changed {
                self.mark_changed(deal);
            }
            start = end;
        }
        unconverted
    }

    /// Sets the old value of the deal's `change`-th amount change; says whether it differed.
    fn set_amount_change_old(&mut self, deal: usize, change: u32, old: i64) -> bool {
        let start = self.deals.event_start[deal] as usize;
        let end = start + self.deals.event_len[deal] as usize;
        let slot = (start..end)
            .filter(|slot| self.event_field[*slot] == Field::Amount as u8)
            .nth(change as usize)
            .expect("a kept change is in the event array");
        let differs = self.event_old[slot] != old;
        self.event_old[slot] = old;
        differs
    }

    /// How many amount changes the deal's event array holds.
    fn amount_changes(&self, deal: usize) -> u32 {
        let start = self.deals.event_start[deal] as usize;
        let end = start + self.deals.event_len[deal] as usize;
        self.event_field[start..end].iter().filter(|field| **field == Field::Amount as u8).count() as u32
    }

    /// Registers a pipeline and its stages; returns its index. Registering again updates the
    /// stages' settings in place and adds new stages.
    pub fn add_pipeline(&mut self, pipeline: &Pipeline) -> u16 {
        let index = match self.pipelines.iter().position(|known| known.id == pipeline.id) {
            Some(index) => index as u16,
            None => {
                self.pipelines.push(PipelineInfo { id: pipeline.id, name: pipeline.name.clone(), stages: Vec::new() });
                (self.pipelines.len() - 1) as u16
            }
        };
        let mut order = Vec::new();
        for stage in &pipeline.stages {
            let win_bp = win_bp(stage.win_probability);
            let info = StageInfo {
                id: stage.id,
                pipeline: index,
                position: stage.position,
                kind: stage.kind,
                win_bp,
                counts_in_metrics: stage.counts_in_metrics,
                rotting_days: stage.rotting_days,
                name_en: stage.name_en.clone(),
                name_ko: stage.name_ko.clone(),
            };
            let stage_index = match self.stage_by_id.get(&stage.id.0) {
                Some(&known) => {
                    if self.stages[known as usize] != info {
                        self.stages[known as usize] = info;
                        self.revision += 1;
                        self.past_revision += 1;
                    }
                    known
                }
                None => {
                    self.revision += 1;
                    self.past_revision += 1;
                    self.stages.push(info);
                    let known = (self.stages.len() - 1) as u16;
                    self.stage_by_id.insert(stage.id.0, known);
                    known
                }
            };
            order.push(stage_index);
        }
        order.sort_by_key(|stage| self.stages[*stage as usize].position);
        self.pipelines[index as usize].stages = order;
        index
    }

    /// Keeps the recorded settings of each stage by day (`settings`: the store's, any order);
    /// a stage with none, or unknown here, keeps its settings every day. A past day's figures
    /// change when this does ([`Projection::past_revision`]).
    pub fn set_stage_history(&mut self, settings: &[pipewise_core::pipeline::StageSettings]) {
        let mut stage_days: HashMap<u16, Vec<(Day, i64, bool)>> = HashMap::new();
        for recorded in settings {
            let Some(stage) = self.stage_index(recorded.stage) else { continue };
            stage_days.entry(stage).or_default().push((
                crate::day_of_date(recorded.from),
                win_bp(recorded.win_probability),
                recorded.counts_in_metrics,
            ));
        }
        for days in stage_days.values_mut() {
            days.sort_by_key(|(from, _, _)| *from);
            days.dedup_by_key(|(from, _, _)| *from);
        }
        if stage_days != self.stage_days {
            self.stage_days = stage_days;
            self.revision += 1;
            self.past_revision += 1;
        }
    }

    /// The win probability (basis points) and metrics flag `stage` had at the end of `day`, when
    /// they differ from today's by the recorded settings (before the first recorded, the first);
    /// `None`: its settings now.
    pub fn stage_settings_on(&self, stage: u16, day: Day) -> Option<(i64, bool)> {
        let days = self.stage_days.get(&stage)?;
        if days.last().is_none_or(|(from, _, _)| day >= *from) {
            return None;
        }
        let after = days.partition_point(|(from, _, _)| *from <= day);
        let (_, win_bp, counts) = days[after.saturating_sub(1)];
        Some((win_bp, counts))
    }

    /// [`crate::health::usual_stage_shares`]`(self, pipeline, as_of, min_deals)`, kept while
    /// [`Projection::past_revision`] stands (they read only days before `as_of`, which is never
    /// after today: a new event today changes none of them).
    pub fn usual_shares(&self, pipeline: Option<u16>, as_of: Day, min_deals: u32) -> std::sync::Arc<[u32]> {
        let key = (pipeline, as_of, min_deals, self.past_revision, self.max_day.max(as_of));
        if let Some((_, shares)) = self.usual.0.lock().expect("usual shares lock").iter().find(|(kept, _)| *kept == key) {
            return std::sync::Arc::clone(shares);
        }
        let shares: std::sync::Arc<[u32]> = crate::health::usual_stage_shares(self, pipeline, as_of, min_deals).into();
        let mut kept = self.usual.0.lock().expect("usual shares lock");
        if kept.len() >= 16 {
            kept.remove(0);
        }
        kept.push((key, std::sync::Arc::clone(&shares)));
        shares
    }

    pub fn pipeline_index(&self, id: pipewise_core::PipelineId) -> Option<u16> {
        self.pipelines.iter().position(|known| known.id == id).map(|index| index as u16)
    }

    pub fn stage_index(&self, id: StageId) -> Option<u16> {
        self.stage_by_id.get(&id.0).copied()
    }

    /// The index of `user`, registering them (without a team) if new.
    pub fn owner(&mut self, user: UserId) -> u32 {
        if let Some(&index) = self.owner_by_id.get(&user.0) {
            return index;
        }
        let index = self.owner_ids.len() as u32;
        self.owner_ids.push(user);
        self.owner_team.push(NO_INDEX);
        self.owner_by_id.insert(user.0, index);
        index
    }

    pub fn owner_index(&self, user: UserId) -> Option<u32> {
        self.owner_by_id.get(&user.0).copied()
    }

    /// Puts `user` in `team` (or in none); returns the team's index.
    pub fn set_team(&mut self, user: UserId, team: Option<TeamId>) -> Option<u32> {
        let owner = self.owner(user) as usize;
        let team_index = team.map(|team| self.team_slot(team));
        self.owner_team[owner] = team_index.unwrap_or(NO_INDEX);
        team_index
    }

    /// Puts every person of `history` on their team now and keeps the teams of those who
    /// changed team by day ([`Projection::team_on`]). A past day's figures change when this
    /// does ([`Projection::past_revision`]).
    pub fn set_team_history(&mut self, history: &pipewise_core::user::TeamHistory) {
        let mut team_days = HashMap::new();
        for (user, spans) in history.spans(pipewise_core::Date::MIN) {
            let Some(&(_, now)) = spans.last() else { continue };
            let owner = self.owner(user);
            self.set_team(user, now);
            if spans.len() > 1 {
                let days = spans
                    .iter()
                    .map(|(from, team)| (crate::day_of_date(*from), team.map_or(NO_INDEX, |team| self.team_slot(team))))
                    .collect::<Vec<_>>();
                team_days.insert(owner, days);
            }
        }
        if team_days != self.team_days {
            self.team_days = team_days;
            self.revision += 1;
            self.past_revision += 1;
        }
    }

    /// The index of `team`, registering it if new.
    fn team_slot(&mut self, team: TeamId) -> u32 {
        match self.team_by_id.get(&team.0) {
            Some(&index) => index,
            None => {
                self.team_ids.push(team);
                let index = (self.team_ids.len() - 1) as u32;
                self.team_by_id.insert(team.0, index);
                index
            }
        }
    }

    /// The team index `owner` was on at the end of `day` ([`NO_INDEX`]: none), by the rule of
    /// [`pipewise_core::user::TeamHistory`]; on or after their last change, their team now.
    pub fn team_on(&self, owner: u32, day: Day) -> u32 {
        match self.team_days.get(&owner) {
            Some(days) if days.last().is_some_and(|(from, _)| day < *from) => {
                let after = days.partition_point(|(from, _)| *from <= day);
                days[after.saturating_sub(1)].1
            }
            _ => self.owner_team.get(owner as usize).copied().unwrap_or(NO_INDEX),
        }
    }

    pub fn team_index(&self, team: TeamId) -> Option<u32> {
        self.team_by_id.get(&team.0).copied()
    }

    /// Owner indexes of a team's members at the end of `day` ([`Projection::team_on`]).
    pub fn team_members_on(&self, team: u32, day: Day) -> impl Iterator<Item = u32> + '_ {
        (0..self.owner_team.len() as u32).filter(move |owner| self.team_on(*owner, day) == team)
    }

    /// Owner indexes of a team's members now.
    pub fn team_members(&self, team: u32) -> impl Iterator<Item = u32> + '_ {
        self.owner_team.iter().enumerate().filter(move |(_, t)| **t == team).map(|(owner, _)| owner as u32)
    }

    pub fn deal_index(&self, id: OpportunityId) -> Option<u32> {
        self.deal_by_id.get(&id.0).copied()
    }

    pub fn n_deals(&self) -> usize {
        self.deals.id.len()
    }

    pub fn n_owners(&self) -> usize {
        self.owner_ids.len()
    }

    /// The current-state columns.
    pub fn deals(&self) -> &Deals {
        &self.deals
    }

    /// The time zone whose days the projection counts.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The sequence number of the last event applied: follow the log from here.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Keeps the latest day; an event stamped before it (a backdated one) may change the past.
    fn note_day(&mut self, day: Day) {
        if day < self.max_day {
            self.past_revision += 1;
        }
        self.max_day = self.max_day.max(day);
    }

    /// The latest day any applied event is stamped with.
    pub fn max_day(&self) -> Day {
        self.max_day
    }

    /// Number of stored (post-creation) events.
    pub fn n_events(&self) -> usize {
        self.event_day.len() - self.garbage
    }

    /// Heap bytes held by the columns, event arrays and lookup maps (an estimate for maps).
    pub fn memory_bytes(&self) -> usize {
        fn bytes<T>(column: &Vec<T>) -> usize {
            column.capacity() * std::mem::size_of::<T>()
        }
        let deals = &self.deals;
        let columns = bytes(&deals.id)
            + bytes(&deals.account)
            + bytes(&deals.name_start)
            + bytes(&deals.name_len)
            + self.names.capacity()
            + bytes(&deals.owner)
            + bytes(&deals.stage)
            + bytes(&deals.forecast)
            + bytes(&deals.amount)
            + bytes(&deals.amount_native)
            + bytes(&deals.currency)
            + bytes(&deals.close_day)
            + bytes(&deals.created_day)
            + bytes(&deals.closed_day)
            + bytes(&deals.stage_entered_day)
            + bytes(&deals.stage_before)
            + bytes(&deals.max_open_position)
            + bytes(&deals.creation_max_open)
            + bytes(&deals.push_count)
            + bytes(&deals.last_close_day)
            + bytes(&deals.foreign)
            + bytes(&deals.last_event_day)
            + bytes(&deals.created_at)
            + bytes(&deals.event_start)
            + bytes(&deals.event_len)
            + bytes(&deals.event_cap);
        let events = bytes(&self.event_day) + bytes(&self.event_field) + bytes(&self.event_old);
        let activity = &self.activity;
        let facts = bytes(&activity.last_activity_day)
            + bytes(&activity.last_inbound_day)
            + bytes(&activity.touchpoints_30d)
            + bytes(&activity.contacts_engaged)
            + bytes(&activity.overdue_tasks)
            + bytes(&activity.max_log_lag_days);
        // A hashbrown entry (i64, u32) is 16 bytes plus one control byte, at up to 7/8 load.
        let map = self.deal_by_id.capacity() * 17;
        let hot = bytes(&self.hot.key) + bytes(&self.hot.changed) + bytes(&self.hot.changed_bits);
        columns + events + facts + map + hot
    }

    fn new_deal(&mut self, id: OpportunityId, at: Timestamp, day: Day) -> u32 {
        let index = self.deals.id.len() as u32;
        let deals = &mut self.deals;
        deals.id.push(id);
        deals.account.push(NO_ACCOUNT);
        deals.name_start.push(self.names.len() as u32);
        deals.name_len.push(0);
        deals.owner.push(NO_INDEX);
        deals.stage.push(NO_STAGE);
        deals.forecast.push(0);
        deals.amount.push(NO_AMOUNT);
        deals.amount_native.push(NO_AMOUNT);
        deals.currency.push(NO_CURRENCY);
        deals.close_day.push(NO_DAY);
        deals.created_day.push(day);
        deals.closed_day.push(NO_DAY);
        deals.stage_entered_day.push(day);
        deals.stage_before.push(NO_STAGE);
        deals.max_open_position.push(-1);
        deals.creation_max_open.push(-1);
        deals.foreign.push(false);
        deals.push_count.push(0);
        deals.last_close_day.push(NO_DAY);
        deals.last_event_day.push(day);
        deals.created_at.push(at.as_micros());
        deals.event_start.push(self.event_day.len() as u32);
        deals.event_len.push(0);
        deals.event_cap.push(0);
        self.deal_by_id.insert(id.0, index);
        self.activity.grow(self.deals.id.len());
        index
    }

    /// Appends one change to a deal's event array, moving the array to the end when full.
    fn push_event(&mut self, deal: usize, day: Day, code: u8, old: i64) {
        let deals = &mut self.deals;
        let (start, len, cap) = (deals.event_start[deal] as usize, deals.event_len[deal] as usize, deals.event_cap[deal] as usize);
        if len == cap {
            let new_start = self.event_day.len();
            let new_cap = (cap * 2).max(4);
            self.event_day.extend_from_within(start..start + len);
            self.event_field.extend_from_within(start..start + len);
            self.event_old.extend_from_within(start..start + len);
            let padding = new_cap - len;
            self.event_day.extend(std::iter::repeat_n(0, padding));
            self.event_field.extend(std::iter::repeat_n(0, padding));
            self.event_old.extend(std::iter::repeat_n(0, padding));
            self.garbage += cap;
            deals.event_start[deal] = new_start as u32;
            deals.event_cap[deal] = new_cap as u32;
        }
        let slot = deals.event_start[deal] as usize + len;
        self.event_day[slot] = day;
        self.event_field[slot] = code;
        self.event_old[slot] = old;
        deals.event_len[deal] = (len + 1) as u32;
    }

    /// When the deal last mattered, for [`Projection::candidates`]: `Day::MAX` while it is open
    /// (or not whole yet), else the later of its closed day and its last change.
    fn hot_key(&self, deal: usize) -> Day {
        let stage = self.deals.stage[deal];
        if stage == NO_STAGE || self.stages[stage as usize].is_open() {
            return Day::MAX;
        }
        self.deals.closed_day[deal].max(self.deals.last_event_day[deal])
    }

    /// Orders the deals by [`Projection::hot_key`], latest first (the open ones first, by owner,
    /// so per-rep sums stay in cache), and records the keys.
    fn cluster(&mut self) {
        let n = self.deals.id.len();
        let keys: Vec<Day> = (0..n).map(|deal| self.hot_key(deal)).collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|deal| {
            let deal = *deal as usize;
            (std::cmp::Reverse(keys[deal]), self.deals.owner[deal], self.deals.id[deal])
        });
        self.hot.key = order.iter().map(|deal| keys[*deal as usize]).collect();
        self.hot.sorted = n;
        self.hot.changed.clear();
        self.hot.changed_bits = vec![0; n.div_ceil(64)];
        self.hot.generation += 1;
        if order.iter().enumerate().all(|(position, deal)| position == *deal as usize) {
            return;
        }
        fn permute<T: Copy>(column: &mut Vec<T>, order: &[u32]) {
            *column = order.iter().map(|deal| column[*deal as usize]).collect();
        }
        let deals = &mut self.deals;
        permute(&mut deals.id, &order);
        permute(&mut deals.account, &order);
        permute(&mut deals.name_start, &order);
        permute(&mut deals.name_len, &order);
        permute(&mut deals.owner, &order);
        permute(&mut deals.stage, &order);
        permute(&mut deals.forecast, &order);
        permute(&mut deals.amount, &order);
        permute(&mut deals.amount_native, &order);
        permute(&mut deals.currency, &order);
        permute(&mut deals.close_day, &order);
        permute(&mut deals.created_day, &order);
        permute(&mut deals.closed_day, &order);
        permute(&mut deals.stage_entered_day, &order);
        permute(&mut deals.stage_before, &order);
        permute(&mut deals.max_open_position, &order);
        permute(&mut deals.creation_max_open, &order);
        permute(&mut deals.foreign, &order);
        permute(&mut deals.push_count, &order);
        permute(&mut deals.last_close_day, &order);
        permute(&mut deals.last_event_day, &order);
        permute(&mut deals.created_at, &order);
        permute(&mut deals.event_start, &order);
        permute(&mut deals.event_len, &order);
        permute(&mut deals.event_cap, &order);
        let facts = &mut self.activity;
        permute(&mut facts.last_activity_day, &order);
        permute(&mut facts.last_inbound_day, &order);
        permute(&mut facts.touchpoints_30d, &order);
        permute(&mut facts.contacts_engaged, &order);
        permute(&mut facts.overdue_tasks, &order);
        permute(&mut facts.max_log_lag_days, &order);
        for (index, id) in self.deals.id.iter().enumerate() {
            self.deal_by_id.insert(id.0, index as u32);
        }
    }

    /// Rewrites [`Projection::names`] in deal order, without the names deals no longer have.
    fn pack_names(&mut self) {
        let deals = &mut self.deals;
        let mut names = String::with_capacity(deals.name_len.iter().map(|len| *len as usize).sum());
        for (start, len) in deals.name_start.iter_mut().zip(&deals.name_len) {
            let from = *start as usize;
            *start = names.len() as u32;
            names.push_str(&self.names[from..from + *len as usize]);
        }
        self.names = names;
    }

    /// What finds the deals whose name (ignoring case) holds `needle`: every place it is found
    /// in all names at once, then [`NameMatch::holds`] per deal.
    pub fn names_holding(&self, needle: &str) -> NameMatch<'_> {
        let needle = needle.to_lowercase();
        // Every place, overlapping ones too: a match running from one name into the next must
        // not hide one that starts inside the next ("ba" + "aab", searched for "aa").
        let mut found = Vec::new();
        if !needle.is_empty() {
            let finder = memchr::memmem::Finder::new(needle.as_bytes());
            let haystack = self.names.as_bytes();
            let mut from = 0;
            while let Some(at) = finder.find(&haystack[from..]) {
                found.push((from + at) as u32);
                from += at + 1;
            }
        }
        NameMatch { deals: &self.deals, found, width: needle.len() as u32 }
    }

    /// Rewrites the event arrays with no gaps, each deal's events contiguous in deal order.
    ///
    /// Also orders the deals for [`Projection::candidates`] (see "Skipping what cannot
    /// matter"), which renumbers them: deal indexes are dense and stable between compactions, so
    /// look them up with [`Projection::deal_index`] after one.
    pub fn compact(&mut self) {
        self.cluster();
        self.defragment();
        self.pack_names();
    }

    /// Bumped by every [`Projection::compact`]: deal indexes taken under an earlier generation
    /// are stale.
    pub fn generation(&self) -> u64 {
        self.hot.generation
    }

    /// Deals changed since the last compaction, which every figure visits besides those the
    /// compaction ordered: compact again when this grows large (a compaction of 1,000,000 deals
    /// takes a few hundred milliseconds).
    pub fn changed_since_compaction(&self) -> usize {
        self.hot.changed.len() + (self.deals.id.len() - self.hot.sorted)
    }

    /// Makes every figure walk every deal (for tests and benchmarks that compare).
    pub fn set_full_scan(&mut self, full: bool) {
        self.hot.full_scan = full;
    }

    /// The deals a figure must visit when it reads states as of days on or after `horizon − 1`
    /// and, among closed deals, only cares about those closed, created or changed on or after
    /// `horizon`: every deal except those that were closed at the last compaction, have not
    /// changed since, and whose closed day and last change lie before `horizon`. Such a deal's
    /// state as of any day from its last change on is its current, closed state, so it adds
    /// nothing to the open pipeline, to the outcomes of a window starting on or after `horizon`,
    /// or to the waterfall of a period starting there. The deals are the compaction's prefix
    /// with keys on or after `horizon`, the deals added since, and the deals changed since.
    pub fn candidates(&self, horizon: Day) -> Candidates {
        let n = self.deals.id.len() as u32;
        if self.hot.full_scan {
            return Candidates { prefix: n, tail: n, n, extra: Vec::new() };
        }
        let prefix = self.hot.key.partition_point(|key| *key >= horizon) as u32;
        let extra = self.hot.changed.iter().copied().filter(|deal| *deal >= prefix).collect();
        Candidates { prefix, tail: self.hot.sorted as u32, n, extra }
    }

    /// Notes that `deal` changed, so [`Projection::candidates`] visits it whatever its old key.
    #[inline]
    fn mark_changed(&mut self, deal: usize) {
        if deal < self.hot.sorted {
            let (word, bit) = (deal / 64, 1u64 << (deal % 64));
            if self.hot.changed_bits[word] & bit == 0 {
                self.hot.changed_bits[word] |= bit;
                self.hot.changed.push(deal as u32);
            }
        }
    }

    /// Rewrites the event arrays with no gaps, keeping deal indexes. [`Projection::apply`]
    /// does this by itself when more than half the event slots are abandoned.
    fn defragment(&mut self) {
        let live: usize = self.deals.event_len.iter().map(|len| *len as usize).sum();
        // Room for the relocations of the changes that follow, so a follower's next writes do
        // not reallocate the whole array.
        let room = live + live / 8 + 4096;
        let mut day = Vec::with_capacity(room);
        let mut field = Vec::with_capacity(room);
        let mut old = Vec::with_capacity(room);
        for deal in 0..self.deals.id.len() {
            let (start, len) = (self.deals.event_start[deal] as usize, self.deals.event_len[deal] as usize);
            self.deals.event_start[deal] = day.len() as u32;
            self.deals.event_cap[deal] = len as u32;
            day.extend_from_slice(&self.event_day[start..start + len]);
            field.extend_from_slice(&self.event_field[start..start + len]);
            old.extend_from_slice(&self.event_old[start..start + len]);
        }
        self.event_day = day;
        self.event_field = field;
        self.event_old = old;
        self.garbage = 0;
    }

    /// Applies one history event; events must come in sequence order. An event whose `seq` is
    /// not above [`Projection::last_seq`] was applied before and is skipped, so a follower can
    /// re-read an overlapping page of the log safely.
    ///
    /// On [`ProjectionError::NoRate`] the event *is* applied (its amount counts as no amount);
    /// on the other errors nothing changes.
    pub fn apply(&mut self, event: &HistoryEvent) -> Result<(), ProjectionError> {
        if event.seq != 0 && event.seq <= self.last_seq {
            return Ok(());
        }
        self.revision += 1;
        let stored_field = match event.field {
            OppField::Owner => Some(Field::Owner),
            OppField::Stage => Some(Field::Stage),
            OppField::Amount => Some(Field::Amount),
            OppField::CloseDate => Some(Field::CloseDate),
            OppField::ForecastCategory => Some(Field::Forecast),
            OppField::ClosedAt => Some(Field::ClosedDay),
            _ => None,
        };
        let bad = |problem: Problem| ProjectionError::BadValue {
            seq: event.seq,
            opportunity_id: event.opportunity_id,
            field: event.field,
            problem,
        };
        let required = || event.new.as_deref().ok_or_else(|| bad(Problem::Required));
        let parse_id =
            |raw: &str| raw.trim().parse::<i64>().map_err(|_| bad(Problem::Invalid { value: raw.to_owned(), expected: "an id" }));
        let mut day = day_of_timestamp(event.at, &self.zone);
        let set_day = day;
        let Some(field) = stored_field else {
            let account = match (event.field, event.new.as_deref()) {
                (OppField::Account, Some(raw)) => Some(parse_id(raw)?),
                (OppField::Account, None) => Some(NO_ACCOUNT),
                _ => None,
            };
            let name = match (event.field, event.new.as_deref()) {
                (OppField::Name, Some(name)) => Some(name.to_lowercase()),
                _ => None,
            };
            if name.as_ref().is_some_and(|name| self.names.len() + name.len() > u32::MAX as usize) {
                return Err(bad(Problem::OutOfRange { value: "every deal's name".to_owned(), range: "4 GiB of names" }));
            }
            // Still a sign of life: the deal exists from its first event.
            let deal = match self.deal_index(event.opportunity_id) {
                Some(deal) => deal,
                None => self.new_deal(event.opportunity_id, event.at, day),
            };
            if let Some(account) = account {
                self.deals.account[deal as usize] = account;
            }
            if let Some(name) = name {
                // A renamed deal leaves its old name behind: counted as a change, so that the
                // follower's compaction (which packs the names) comes in time.
                self.mark_changed(deal as usize);
                self.deals.name_start[deal as usize] = self.names.len() as u32;
                self.deals.name_len[deal as usize] = name.len() as u32;
                self.names.push_str(&name);
            }
            self.last_seq = self.last_seq.max(event.seq);
            self.note_day(day);
            return Ok(());
        };
        // Parse before touching any state.
        let mut fx_problem = None;
        let mut new_money = None;
        let mut code = field as u8;
        let new: i64 = match field {
            Field::Owner => {
                let id = parse_id(required()?)?;
                self.owner(UserId(id)) as i64
            }
            Field::Stage => {
                let id = parse_id(required()?)?;
                let Some(stage) = self.stage_index(StageId(id)) else {
                    return Err(ProjectionError::UnknownStage { seq: event.seq, opportunity_id: event.opportunity_id, stage_id: id });
                };
                i64::from(stage)
            }
            Field::Amount => match event.new.as_deref() {
                None => NO_AMOUNT,
                Some(raw) => {
                    let money: Money = raw.parse().map_err(bad)?;
                    if i64::try_from(money.amount().mantissa()).is_err() {
                        return Err(bad(Problem::OutOfRange { value: money.to_string(), range: "64 bits of minor units" }));
                    }
                    new_money = Some(money);
                    match self.to_reporting(money, day) {
                        Ok(converted) => converted,
                        Err(fx) => {
                            fx_problem = Some((money, fx));
                            NO_AMOUNT
                        }
                    }
                }
            },
            Field::CloseDate => match event.new.as_deref() {
                None => NO_DAY.into(),
                Some(raw) => day_of_date(parse_date(raw).map_err(bad)?).into(),
            },
            Field::Forecast => forecast_index(ForecastCategory::parse(required()?).map_err(bad)?).into(),
            Field::ClosedDay => match event.new.as_deref() {
                None => NO_DAY.into(),
                Some(raw) => day_of_timestamp(raw.parse::<Timestamp>().map_err(bad)?, &self.zone).into(),
            },
        };
        let deal = match self.deal_index(event.opportunity_id) {
            Some(deal) => deal as usize,
            None => self.new_deal(event.opportunity_id, event.at, day) as usize,
        };
        let creation = self.deals.created_at[deal] == event.at.as_micros();
        day = day.max(self.deals.last_event_day[deal]);
        self.mark_changed(deal);
        let deals = &mut self.deals;
        let old: i64 = match field {
            Field::Owner => {
                let old = deals.owner[deal];
                deals.owner[deal] = new as u32;
                if old == NO_INDEX { -1 } else { i64::from(old) }
            }
            Field::Stage => {
                let old = deals.stage[deal];
                let stage = &self.stages[new as usize];
                deals.stage[deal] = new as u16;
                if !creation {
                    deals.stage_entered_day[deal] = day;
                    deals.stage_before[deal] = old;
                }
                if stage.is_open() {
                    deals.max_open_position[deal] = deals.max_open_position[deal].max(stage.position as i16);
                    if creation {
                        deals.creation_max_open[deal] = deals.creation_max_open[deal].max(stage.position as i16);
                    }
                }
                i64::from(old)
            }
            Field::Amount => {
                let old = deals.amount[deal];
                deals.amount[deal] = new;
                match new_money {
                    Some(money) => {
                        deals.amount_native[deal] = money.amount().mantissa() as i64;
                        let currency = money.currency();
                        let index = match self.currencies.iter().position(|known| *known == currency) {
                            Some(index) => index as u16,
                            None => {
                                self.currencies.push(currency);
                                (self.currencies.len() - 1) as u16
                            }
                        };
                        deals.currency[deal] = index;
                    }
                    None => {
                        deals.amount_native[deal] = NO_AMOUNT;
                        deals.currency[deal] = NO_CURRENCY;
                    }
                }
                old
            }
            Field::CloseDate => {
                let old = deals.close_day[deal];
                let new = new as Day;
                let last = deals.last_close_day[deal];
                if !creation && last != NO_DAY && new != NO_DAY && new > last {
                    deals.push_count[deal] = deals.push_count[deal].saturating_add(1);
                    code |= PUSHED;
                }
                if new != NO_DAY {
                    deals.last_close_day[deal] = new;
                }
                deals.close_day[deal] = new;
                old.into()
            }
            Field::Forecast => {
                let old = deals.forecast[deal];
                deals.forecast[deal] = new as u8;
                old.into()
            }
            Field::ClosedDay => {
                let old = deals.closed_day[deal];
                deals.closed_day[deal] = new as Day;
                old.into()
            }
        };
        if !creation {
            self.push_event(deal, day, code, old);
            self.deals.last_event_day[deal] = day;
        }
        if field == Field::Amount && (new_money.is_some_and(|money| money.currency() != self.reporting) || self.deals.foreign[deal]) {
            self.deals.foreign[deal] = true;
            let change = if creation { NO_CHANGE } else { self.amount_changes(deal) - 1 };
            let (native, currency) = (self.deals.amount_native[deal], self.deals.currency[deal]);
            self.foreign.push(AmountSetting { deal: event.opportunity_id, native, day: set_day, change, currency });
        }
        if !creation && self.garbage > 1 << 20 && self.garbage > self.event_day.len() / 2 {
            self.defragment();
        }
        self.last_seq = self.last_seq.max(event.seq);
        self.note_day(day);
        match fx_problem {
            Some((amount, fx)) => Err(ProjectionError::NoRate { seq: event.seq, opportunity_id: event.opportunity_id, amount, fx }),
            None => Ok(()),
        }
    }

    /// The deal as of the end of `day`, or `None` if it did not exist yet (or its creation is
    /// incomplete). See the replay rule in the module documentation.
    pub fn state_at(&self, deal: u32, day: Day) -> Option<DealState> {
        let mut state = DealState::EMPTY;
        self.state_into(deal, day, &mut state).then_some(state)
    }

    /// [`Projection::state_at`] for the hot loops: writes the state into `out` (field by field,
    /// so readers never stall on a copy of a half-written struct) and says whether the deal
    /// existed as of `day`.
    #[inline(always)]
    pub fn state_into(&self, deal: u32, day: Day, out: &mut DealState) -> bool {
        let deals = &self.deals;
        let index = deal as usize;
        if deals.last_event_day[index] > day {
            return self.rewind(index, day, out);
        }
        if deals.created_day[index] > day || deals.stage[index] == NO_STAGE {
            return false;
        }
        self.current(index, out);
        true
    }

    #[inline(always)]
    fn current(&self, index: usize, out: &mut DealState) {
        let deals = &self.deals;
        out.owner = deals.owner[index];
        out.stage = deals.stage[index];
        out.forecast = deals.forecast[index];
        out.amount = deals.amount[index];
        out.close_day = deals.close_day[index];
        out.created_day = deals.created_day[index];
        out.closed_day = deals.closed_day[index];
        out.stage_entered_day = deals.stage_entered_day[index];
        out.stage_before = deals.stage_before[index];
        out.push_count = deals.push_count[index];
    }

    /// Undoes the changes stamped after `day` (the slow path of [`Projection::state_into`]).
    #[inline(never)]
    fn rewind(&self, index: usize, day: Day, state: &mut DealState) -> bool {
        let mut rewinder = Rewinder::new(self, index);
        let exists = rewinder.to(day);
        *state = rewinder.state;
        exists
    }

    /// Calls `visit(k, &state)` with the deal's state as of the end of `days[k]`, for each of
    /// `days` (in **descending** order) on which it existed: one backward walk of its changes,
    /// however many days (what a trend reads).
    pub fn states_at_days(&self, deal: u32, days: &[Day], mut visit: impl FnMut(usize, &DealState)) {
        let index = deal as usize;
        let mut rewinder = Rewinder::new(self, index);
        for (k, &day) in days.iter().enumerate() {
            debug_assert!(k == 0 || day <= days[k - 1], "days in descending order");
            if self.deals.created_day[index] > day {
                return;
            }
            if rewinder.to(day) {
                visit(k, &rewinder.state);
            }
        }
    }

    /// The highest position among open stages the deal had reached by the end of `day`
    /// (-1 if it never was in an open stage).
    pub fn max_open_position_at(&self, deal: u32, day: Day, state: &DealState) -> i16 {
        let index = deal as usize;
        if self.deals.last_event_day[index] <= day {
            return self.deals.max_open_position[index];
        }
        let position = |stage: u16| {
            let info = &self.stages[stage as usize];
            if info.is_open() { info.position as i16 } else { -1 }
        };
        let mut best = position(state.stage).max(self.deals.creation_max_open[index]);
        for (stage_day, stage) in self.stage_changes(deal) {
            if stage_day > day {
                break;
            }
            best = best.max(position(stage));
        }
        best
    }

    /// The deal's stored changes, oldest first: (day, the field changed).
    pub fn changes(&self, deal: u32) -> impl Iterator<Item = (Day, Field)> + '_ {
        let index = deal as usize;
        let start = self.deals.event_start[index] as usize;
        let end = start + self.deals.event_len[index] as usize;
        (start..end).map(|position| {
            let field = match self.event_field[position] & !PUSHED {
                0 => Field::Owner,
                1 => Field::Stage,
                2 => Field::Amount,
                3 => Field::CloseDate,
                4 => Field::Forecast,
                _ => Field::ClosedDay,
            };
            (self.event_day[position], field)
        })
    }

    /// The deal's stored stage changes, oldest first: (day, the stage it left).
    pub fn stage_changes(&self, deal: u32) -> impl Iterator<Item = (Day, u16)> + '_ {
        let index = deal as usize;
        let start = self.deals.event_start[index] as usize;
        let end = start + self.deals.event_len[index] as usize;
        (start..end)
            .filter(|position| self.event_field[*position] == Field::Stage as u8)
            .map(|position| (self.event_day[position], self.event_old[position] as u16))
    }
}

/// A deal's state walked backwards through its changes, day by day (see
/// [`Projection::state_into`] for the rule).
struct Rewinder<'a> {
    projection: &'a Projection,
    index: usize,
    state: DealState,
    /// Events `start..cursor` are still applied.
    start: usize,
    cursor: usize,
    stage_undone: bool,
}

impl<'a> Rewinder<'a> {
    fn new(projection: &'a Projection, index: usize) -> Rewinder<'a> {
        let deals = &projection.deals;
        let mut state = DealState::EMPTY;
        projection.current(index, &mut state);
        let start = deals.event_start[index] as usize;
        Rewinder { projection, index, state, start, cursor: start + deals.event_len[index] as usize, stage_undone: false }
    }

    /// Undoes the changes stamped after `day` not undone yet (days must not increase from one
    /// call to the next) and says whether the deal existed as of `day`.
    fn to(&mut self, day: Day) -> bool {
        let projection = self.projection;
        let deals = &projection.deals;
        let created_day = deals.created_day[self.index];
        if created_day > day || deals.stage[self.index] == NO_STAGE {
            return false;
        }
        let state = &mut self.state;
        let mut undone = false;
        while self.cursor > self.start && projection.event_day[self.cursor - 1] > day {
            self.cursor -= 1;
            undone = true;
            let old = projection.event_old[self.cursor];
            match projection.event_field[self.cursor] {
                0 => state.owner = if old < 0 { NO_INDEX } else { old as u32 },
                1 => {
                    state.stage = old as u16;
                    self.stage_undone = true;
                }
                2 => state.amount = old,
                3 => state.close_day = old as Day,
                PUSHED_CLOSE_DATE => {
                    state.push_count -= 1;
                    state.close_day = old as Day;
                }
                4 => state.forecast = old as u8,
                _ => state.closed_day = old as Day,
            }
        }
        if state.stage == NO_STAGE || state.owner == NO_INDEX {
            return false;
        }
        if undone && self.stage_undone {
            state.stage_entered_day = created_day;
            state.stage_before = NO_STAGE;
            for position in (self.start..self.cursor).rev() {
                if projection.event_field[position] == Field::Stage as u8 {
                    state.stage_entered_day = projection.event_day[position];
                    state.stage_before = projection.event_old[position] as u16;
                    break;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names sit one after another in one text: a match running from one into the next must
    /// not hide a match inside the next ("ba" then "aab", searched for "aa").
    #[test]
    fn a_match_across_two_names_hides_none_inside_the_next() {
        let mut projection = Projection::new(Currency::USD, RateTable::new(Currency::USD));
        for (seq, (id, name)) in [(1, "Ba"), (2, "Aab"), (3, "Renewal 20"), (4, "2020 expansion")].into_iter().enumerate() {
            let event = HistoryEvent {
                seq: seq as i64 + 1,
                opportunity_id: OpportunityId(id),
                field: OppField::Name,
                old: None,
                new: Some(name.to_owned()),
                at: Timestamp::from_micros(0),
                actor_id: None,
                source: pipewise_core::history::Source::Api,
            };
            projection.apply(&event).unwrap();
        }
        let holding = |text: &str| -> Vec<i64> {
            let names = projection.names_holding(text);
            (0..projection.n_deals()).filter(|index| names.holds(*index)).map(|index| projection.deals.id[index].0).collect()
        };
        assert_eq!(holding("aa"), [2]);
        assert_eq!(holding("2020"), [4]);
        assert_eq!(holding("a2"), Vec::<i64>::new(), "not across two names");
    }

    #[test]
    fn omitted_is_the_index_the_metrics_leave_out() {
        assert_eq!(forecast_index(ForecastCategory::Omitted), crate::metrics::OMITTED);
    }

    #[test]
    fn event_arrays_relocate_and_compact() {
        let mut projection = Projection::new(Currency::USD, RateTable::new(Currency::USD));
        let a = projection.new_deal(OpportunityId(1), Timestamp::from_micros(0), 0) as usize;
        let b = projection.new_deal(OpportunityId(2), Timestamp::from_micros(0), 0) as usize;
        for step in 0..9 {
            projection.push_event(a, step, Field::Amount as u8, i64::from(step));
            projection.push_event(b, step, Field::Amount as u8, 100 + i64::from(step));
        }
        assert!(projection.garbage > 0);
        let before: Vec<i64> = (0..9).map(|k| projection.event_old[projection.deals.event_start[b] as usize + k]).collect();
        projection.compact();
        assert_eq!(projection.garbage, 0);
        assert_eq!(projection.n_events(), 18);
        let after: Vec<i64> = (0..9).map(|k| projection.event_old[projection.deals.event_start[b] as usize + k]).collect();
        assert_eq!(before, after);
        assert_eq!(after, (100..109).collect::<Vec<i64>>());
    }
}
