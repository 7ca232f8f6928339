//! Issue 13, point 6, on the standard demo: over its last four closed quarters, forecast on
//! each quarter's eve and at its middle with only what was known then, for every team and every
//! rep, the statistical forecast's error (WAPE) over all these forecasts beats the
//! stage-weighted pipeline's, and at the middle of the quarter it does for teams and reps each.
//! Each case's figures and the P10–P90 band's coverage are printed (`pipewise bench forecast`
//! prints the same at scale). On the eve a rep's number is mostly deals not created yet, where
//! the two are close (seed 7: 0.423 against 0.418).

use std::sync::Arc;

use pipewise_analytics::{Period, Scope, day_of_date};
use pipewise_core::Timestamp;
use pipewise_core::fiscal::PeriodKind;
use pipewise_demo::{DemoConfig, generate};
use pipewise_forecast::backtest;

fn now() -> Timestamp {
    "2026-11-22T18:00:00Z".parse().unwrap()
}

#[test]
fn the_forecast_beats_the_stage_weighted_pipeline_on_the_demos_past_quarters() {
    let db = pipewise_test_support::sqlite();
    let store = db.db();
    let summary = generate(&store, &DemoConfig::standard(7, now()), &mut |_, _, _| {}).unwrap();
    let insights = store.load_insights(summary.organisation, Arc::new(now)).unwrap();
    let organisation = pipewise_app::users::organisation(&mut store.read().unwrap(), summary.organisation).unwrap().unwrap();
    let calendar = organisation.fiscal;
    let mut quarter = calendar.period_of(PeriodKind::Quarter, organisation.time_zone.date_of(now()));
    let mut quarters = Vec::new();
    for _ in 0..4 {
        quarter = calendar.previous(&quarter);
        quarters.push(Period::new(day_of_date(quarter.first), day_of_date(quarter.last)));
    }
    let (mut model_error, mut stage_error, mut won) = (0.0, 0.0, 0.0);
    insights.with(|projection| {
        let teams: Vec<Scope> = (0..projection.team_ids.len() as u32).map(|team| Scope::owners(projection.team_members(team))).collect();
        let reps: Vec<Scope> = (0..projection.n_owners() as u32).map(|owner| Scope::owners([owner])).collect();
        for (lead, on) in [(0, "eve"), (45, "day 45")] {
            for (name, scopes) in [("teams", &teams), ("reps", &reps)] {
                let result = backtest(projection, &quarters, lead, scopes, 2_000, 7);
                let (model, stage) = result.wape().expect("won deals to score against");
                let coverage = result.coverage().unwrap_or_default();
                eprintln!(
                    "{name} on the {on}: {} samples, WAPE {model:.3} vs stage-weighted {stage:.3}, P10–P90 held {coverage:.2}",
                    result.scored()
                );
                assert!(result.scored() >= 8, "{name} on the {on}: too few samples");
                for sample in result.samples.iter().filter(|sample| sample.range.is_some()) {
                    model_error += (sample.expected - sample.actual).abs() as f64;
                    stage_error += (sample.stage_weighted - sample.actual).abs() as f64;
                    won += sample.actual as f64;
                }
                if lead > 0 {
                    assert!(model < stage, "{name} on the {on}: WAPE {model:.3} is not below the stage-weighted pipeline's {stage:.3}");
                }
            }
        }
    });
    let (model, stage) = (model_error / won, stage_error / won);
    eprintln!("all: WAPE {model:.3} vs stage-weighted {stage:.3}");
    assert!(model < stage, "over all the forecasts: WAPE {model:.3} is not below the stage-weighted pipeline's {stage:.3}");
}
