//! The statistical forecast (issue 13) served from an organisation's projection: fitted models
//! and finished forecasts are kept, so a second look costs nothing and a chart of past days
//! costs only its new points.
//!
//! A model is fitted for one window (an as-of day and a period) over the whole organisation;
//! the scope, which the caller resolves from what the viewer may see, only chooses the deals
//! simulated, so one model serves every viewer. Both are kept by window and by the projection's
//! revision: for an as-of day before the projection's latest day its
//! [`Projection::past_revision`] (a later event cannot change what was known then, so the
//! forecast of a past day is fitted once), else its [`Projection::revision`] (any change fits
//! again).

pub mod calls;
pub mod ledger;
pub mod record;
pub mod symptoms;
pub mod win;

use std::sync::{Arc, Mutex};

pub use calls::{CallBook, CallInput, call_json, calls_in, direct_reports, prepare_call, submit_call};
pub use ledger::{Ledger, ledger};
use pipewise_analytics::{Day, Period, Projection, Scope};
use pipewise_forecast::symptoms::Share;
pub use pipewise_forecast::{Basis, Categories, FLOOR_EXITS, FLOOR_WON, Forecast, Model, Mover, Window, categories};
pub use record::{ModelBook, forecasts_of_day, model_forecasts_in, record_due, record_model_forecasts};
pub use symptoms::{PersonSymptoms, QuarterSymptoms, SymptomsQuery, symptoms};
pub use win::{WinAnswer, WinBacktest, WinScore, win_backtest, win_model, win_score, win_score_if_ready};

/// Trials of a forecast.
pub const TRIALS: u32 = 10_000;
/// Trials of each past point of a chart (its band is drawn, not read to the unit).
pub const CHART_TRIALS: u32 = 2_000;
/// Models kept per organisation (the most recently used).
const MODELS_KEPT: usize = 24;
/// Forecasts kept per organisation.
const FORECASTS_KEPT: usize = 96;

/// Which state of the projection a window's results hold for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Past(u64),
    Current(u64),
}

fn stamp(projection: &Projection, window: Window) -> Stamp {
    stamp_as_of(projection, window.as_of)
}

fn stamp_as_of(projection: &Projection, as_of: Day) -> Stamp {
    if as_of < projection.max_day() { Stamp::Past(projection.past_revision()) } else { Stamp::Current(projection.revision()) }
}

/// A measure by owner kept by [`Models::measure`]: which one, over which days.
type MeasureKey = (&'static str, Period);

/// What a kept forecast answered.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Question {
    window: Window,
    scope: Scope,
    trials: u32,
    movers: usize,
}

/// The fitted models and finished forecasts of one organisation's projection.
#[derive(Default)]
pub struct Models {
    /// Most recently used first.
    models: Kept<Window, Arc<Model>>,
    forecasts: Kept<Question, Arc<Forecast>>,
    measures: Kept<MeasureKey, Arc<Vec<Share>>>,
    /// Win-probability models by the day they were fitted as of ([`win`]).
    wins: Kept<Day, Arc<pipewise_forecast::win::WinModel>>,
    /// The days a win model is being fitted for in the background.
    fitting: Mutex<Vec<Day>>,
    /// The last day this instance recorded the model's forecasts of, and when its last attempt
    /// failed ([`record`]).
    recorded: Mutex<(Option<Day>, Option<std::time::Instant>)>,
}

/// Values kept by key and by the projection's state they hold for, most recently used first.
type Kept<K, V> = Mutex<Vec<(K, Stamp, V)>>;

/// Measures by owner kept per organisation.
const MEASURES_KEPT: usize = 64;

/// Finds `key` in `entries` (most recently used first) and moves it to the front.
fn lookup<K: PartialEq, V: Clone>(entries: &mut Vec<(K, Stamp, V)>, key: &K, at: Stamp) -> Option<V> {
    let position = entries.iter().position(|(kept, stamp, _)| kept == key && *stamp == at)?;
    let entry = entries.remove(position);
    let value = entry.2.clone();
    entries.insert(0, entry);
    Some(value)
}

fn keep<K, V>(entries: &mut Vec<(K, Stamp, V)>, key: K, at: Stamp, value: V, kept: usize) {
    // What was kept for an older state of the projection is never asked for again.
    entries.retain(|(_, stamp, _)| match (stamp, at) {
        (Stamp::Past(old), Stamp::Past(new)) => *old == new,
        (Stamp::Current(old), Stamp::Current(new)) => *old == new,
        _ => true,
    });
    entries.insert(0, (key, at, value));
    entries.truncate(kept);
}

impl Models {
    /// The model of `window` on `projection`, fitted unless kept.
    pub fn model(&self, projection: &Projection, window: Window) -> Arc<Model> {
        let at = stamp(projection, window);
        if let Some(model) = lookup(&mut self.models.lock().expect("models lock"), &window, at) {
            return model;
        }
        let model = Arc::new(pipewise_forecast::fit(projection, window));
        keep(&mut self.models.lock().expect("models lock"), window, at, model.clone(), MODELS_KEPT);
        model
    }

    /// The by-owner measure `name` over `period` as known at the end of `period.last`
    /// (`pipewise_forecast::symptoms`), computed by `compute` unless kept.
    pub fn measure(
        &self,
        projection: &Projection,
        name: &'static str,
        period: Period,
        compute: impl FnOnce(&Projection) -> Vec<Share>,
    ) -> Arc<Vec<Share>> {
        let key = (name, period);
        let at = stamp_as_of(projection, period.last);
        if let Some(kept) = lookup(&mut self.measures.lock().expect("measures lock"), &key, at) {
            return kept;
        }
        let measured = Arc::new(compute(projection));
        keep(&mut self.measures.lock().expect("measures lock"), key, at, measured.clone(), MEASURES_KEPT);
        measured
    }

    /// The forecast of `scope` for `period` as of the end of `as_of`, with `trials` and up to
    /// `movers` deals named, computed unless kept.
    pub fn forecast(
        &self,
        projection: &Projection,
        as_of: Day,
        period: Period,
        scope: &Scope,
        trials: u32,
        movers: usize,
    ) -> Arc<Forecast> {
        let window = Window::new(as_of, period);
        let question = Question { window, scope: scope.clone(), trials, movers };
        let at = stamp(projection, window);
        if let Some(forecast) = lookup(&mut self.forecasts.lock().expect("forecasts lock"), &question, at) {
            return forecast;
        }
        let model = self.model(projection, window);
        let forecast = Arc::new(pipewise_forecast::forecast(&model, projection, scope, trials, seed_of(window), movers));
        keep(&mut self.forecasts.lock().expect("forecasts lock"), question, at, forecast.clone(), FORECASTS_KEPT);
        forecast
    }
}

/// The fiscal period `key` names in the organisation's calendar, or an invalid `period` of a
/// new `record` (calls and recorded forecasts are read by period key alike).
fn period_named(
    tx: &mut crate::Tx,
    org: pipewise_core::OrgId,
    record: &'static str,
    key: &str,
) -> crate::Result<pipewise_core::fiscal::FiscalPeriod> {
    let organisation = crate::users::organisation(tx, org)?.ok_or(crate::StoreError::NotFound { kind: "organisation", id: org.0 })?;
    organisation.fiscal.parse_key(key).map_err(|problem| {
        let mut errors = pipewise_core::ValidationErrors::default();
        errors.push(&pipewise_core::RecordRef::new_record(record), "period", problem);
        crate::StoreError::from(errors)
    })
}

/// The seed of a window's simulation: fixed by the window alone, so the same question always
/// gets the same answer and different windows are not drawn alike.
pub fn seed_of(window: Window) -> u64 {
    let mut x =
        (window.as_of as u32 as u64) << 32 ^ (window.period.first as u32 as u64) ^ (window.period.last as u32 as u64).rotate_left(17);
    // SplitMix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
