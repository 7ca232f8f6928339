//! The statistical forecast (issue 13) served from an organisation's projection: the fitted
//! models are kept, so a second scope or a second look at the same window costs only its
//! simulation.
//!
//! A model is fitted for one window (an as-of day and a period) over the whole organisation,
//! and cached by window and [`Projection::revision`]: any change to the deals or stages fits
//! again. The scope, which the caller resolves from what the viewer may see, only chooses the
//! deals simulated, so one model serves every viewer.

use std::sync::{Arc, Mutex};

use pipewise_analytics::{Day, Period, Projection, Scope};
pub use pipewise_forecast::{Basis, FLOOR_EXITS, FLOOR_WON, Forecast, Model, Mover, Window};

/// Trials of every simulation.
pub const TRIALS: u32 = 10_000;
/// Models kept per organisation (the most recently used).
const KEPT: usize = 16;

/// The fitted models of one organisation's projection.
#[derive(Default)]
pub struct Models {
    /// Most recently used first: (window, projection revision, model).
    entries: Mutex<Vec<(Window, u64, Arc<Model>)>>,
}

impl Models {
    /// The model of `window` on `projection`, fitted unless kept.
    pub fn model(&self, projection: &Projection, window: Window) -> Arc<Model> {
        let revision = projection.revision();
        let mut entries = self.entries.lock().expect("models lock");
        if let Some(position) = entries.iter().position(|(kept, at, _)| *kept == window && *at == revision) {
            let entry = entries.remove(position);
            let model = entry.2.clone();
            entries.insert(0, entry);
            return model;
        }
        entries.retain(|(_, at, _)| *at == revision);
        drop(entries);
        let model = Arc::new(pipewise_forecast::fit(projection, window));
        let mut entries = self.entries.lock().expect("models lock");
        entries.insert(0, (window, revision, model.clone()));
        entries.truncate(KEPT);
        model
    }
}

/// The seed of a window's simulation: fixed by the window alone, so the same question always
/// gets the same answer and different windows are not drawn alike.
pub fn seed_of(window: Window) -> u64 {
    let mut x = (window.as_of as u32 as u64) << 32 ^ (window.period.first as u32 as u64) ^ (window.period.last as u32 as u64).rotate_left(17);
    // SplitMix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The forecast of `scope` for `period` as of the end of `as_of`, naming up to `movers` deals.
pub fn forecast(models: &Models, projection: &Projection, as_of: Day, period: Period, scope: &Scope, movers: usize) -> Forecast {
    let window = Window::new(as_of, period);
    let model = models.model(projection, window);
    pipewise_forecast::forecast(&model, projection, scope, TRIALS, seed_of(window), movers)
}
