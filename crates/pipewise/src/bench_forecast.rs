//! `pipewise bench forecast`: the statistical forecast at scale (issue 13, point 6).
//!
//! 1. Opens the database (generating the scale data set into an empty one, as `bench
//!    dashboard` does) and loads the projection.
//! 2. Times fitting the model for the current fiscal quarter as of today (median of `--runs`,
//!    each a fresh fit), then one forecast with 10,000 trials for the organisation, the first
//!    team and the first rep (warm: the model is fitted once, as the app keeps it).
//! 3. Backtests the last four complete fiscal quarters, forecast on each quarter's eve and at
//!    its middle, for the organisation, every team and every rep, each refitted with only what
//!    was known then: how often the P10–P90 band held the actual (80 % if calibrated), and the
//!    error (WAPE) of the model's expected value beside the stage-weighted pipeline's on the
//!    same samples.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use pipewise_analytics::{Period, Scope, date_of_day, day_of_date};
use pipewise_app as app;
use pipewise_core::fiscal::PeriodKind;
use pipewise_forecast::{Backtest, Window, backtest, fit, forecast};

use crate::bench::{BenchOptions, mib, rss_kib};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub fn forecast_bench(options: &BenchOptions, win_only: bool) -> Result<()> {
    let crate::bench::Opened { store, org, now, organisation, today } = crate::bench::open_data_set(options)?;
    let before = rss_kib();
    let started = Instant::now();
    let insights = store.load_insights(org, Arc::new(move || now))?;
    println!("projection: loaded in {:.1} s, +{:.0} MiB", started.elapsed().as_secs_f64(), mib(rss_kib().saturating_sub(before)));
    let runs = options.runs.max(1);
    let quarter = organisation.fiscal.period_of(PeriodKind::Quarter, today);
    if win_only {
        return win_bench(&store, org, &insights, now, day_of_date(quarter.first));
    }
    let window = Window::new(day_of_date(today), Period::from(&quarter));
    insights.with(|projection| -> Result<()> {
        let mut fits = Vec::new();
        let mut model = None;
        for _ in 0..runs {
            let started = Instant::now();
            model = Some(fit(projection, window));
            fits.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let model = model.expect("at least one run");
        // The rep with the most open deals now.
        let mut open_by_owner = vec![0u32; projection.n_owners()];
        for deal in 0..projection.n_deals() as u32 {
            if let Some(state) = projection.state_at(deal, window.as_of)
                && projection.stages[state.stage as usize].is_open()
            {
                open_by_owner[state.owner as usize] += 1;
            }
        }
        let busiest = (0..open_by_owner.len()).max_by_key(|owner| (open_by_owner[*owner], std::cmp::Reverse(*owner))).unwrap_or(0);
        let rep_scope = Scope::owners([busiest as u32]);
        let team_scope = match projection.team_ids.first() {
            Some(_) => Scope::owners(projection.team_members(0)),
            None => Scope::org(),
        };
        let scopes = [("organisation", Scope::org()), ("a team", team_scope), ("a rep", rep_scope)];
        let currency = projection.reporting_currency();
        let money = |minor: i64| currency.amount_of(minor).round_dp(0);
        println!(
            "\n{} deals; quarter {} as of {today}; model: {:?}, learnt from {} won and {} lost deals over {} weekly snapshots",
            projection.n_deals(),
            quarter.key(),
            model.basis,
            model.evidence.won,
            model.evidence.exits,
            model.evidence.snapshots
        );
        println!("figure | Pipewise ms (median of {runs}) | result ({})", currency.code());
        println!("fit the quarter's model | {:.1} | —", median(fits));
        for (name, scope) in &scopes {
            let mut times = Vec::new();
            let mut result = None;
            for _ in 0..runs {
                let started = Instant::now();
                result = Some(forecast(&model, projection, scope, app::forecast::TRIALS, app::forecast::seed_of(window), 10));
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            let result = result.expect("at least one run");
            let range = result
                .range
                .map_or("no range".to_owned(), |[p10, p50, p90]| format!("P10 {} P50 {} P90 {}", money(p10), money(p50), money(p90)));
            println!(
                "forecast of {name}, {} trials, {} open deals | {:.2} | expected {} ({range}), won {}, stage-weighted {}",
                app::forecast::TRIALS,
                result.open_deals,
                median(times),
                money(result.expected),
                money(result.won),
                money(result.stage_weighted)
            );
        }

        // The forecast page's band: the quarter's weekly points up to today, then the page again.
        let models = app::forecast::Models::default();
        let mut days: Vec<i32> = (0..).map(|week| window.period.first - 1 + 7 * week).take_while(|day| *day < window.as_of).collect();
        days.push(window.as_of);
        for (name, scope) in &scopes {
            let mut cold_warm = Vec::new();
            for _ in 0..2 {
                let started = Instant::now();
                for day in &days {
                    let trials = if *day == window.as_of { app::forecast::TRIALS } else { app::forecast::CHART_TRIALS };
                    models.forecast(projection, *day, window.period, scope, trials, 30);
                }
                cold_warm.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            println!(
                "the forecast page's {} points for {name}, first view / again | {:.0} / {:.2} | —",
                days.len(),
                cold_warm[0],
                cold_warm[1]
            );
        }

        Ok(())
    })?;

    // The forecast page's track record and hygiene for an admin: the ledger of four closed
    // quarters and the five symptoms of every manager (or rep, with no manager), first view and again.
    let users = app::users::users(&mut store.read()?, org)?;
    let managers: Vec<_> =
        users.iter().filter(|user| user.active && user.role == pipewise_core::user::Role::Manager).map(|user| user.id).collect();
    let people: Vec<_> = if managers.is_empty() {
        users.iter().filter(|user| user.active && user.role == pipewise_core::user::Role::Rep).take(40).map(|user| user.id).collect()
    } else {
        managers.into_iter().take(40).collect()
    };
    let mut timings = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        let mut tx = store.read()?;
        let ledger = app::forecast::ledger(&mut tx, org, &pipewise_core::access::Access::System, &insights, today, 4)?;
        let query = app::forecast::SymptomsQuery { people: &people, today, quarters: 4, ledger: &ledger };
        let found = app::forecast::symptoms(&mut tx, org, &pipewise_core::access::Access::System, &insights, query)?;
        timings.push((started.elapsed().as_secs_f64() * 1000.0, ledger.scored.len(), found.len()));
    }
    println!(
        "the ledger ({} calls scored) and {} people's symptoms over 5 quarters, first view / again | {:.0} / {:.0} | —",
        timings[0].1, timings[0].2, timings[0].0, timings[1].0
    );

    insights.with(|projection| -> Result<()> {
        // Backtests over the last four complete quarters.
        let mut quarters = Vec::new();
        let mut first = quarter.first;
        for _ in 0..4 {
            let previous = organisation.fiscal.period_of(PeriodKind::Quarter, first.yesterday().context("a day before")?);
            first = previous.first;
            quarters.push(Period::from(&previous));
        }
        quarters.reverse();
        let teams: Vec<Scope> = (0..projection.team_ids.len() as u32).map(|team| Scope::owners(projection.team_members(team))).collect();
        let reps: Vec<Scope> = (0..projection.n_owners() as u32).map(|owner| Scope::owners([owner])).collect();
        println!(
            "\nbacktest: quarters {} to {}, each refitted with only what was known on the day",
            date_of_day(quarters[0].first),
            date_of_day(quarters[3].last)
        );
        println!(
            "scopes | forecast on | samples | P10–P90 held the actual | below P10 / above P90 | WAPE model | WAPE stage-weighted | ms"
        );
        for (lead, on) in [(0, "the eve"), (45, "day 45")] {
            for (name, scopes) in [("organisation", vec![Scope::org()]), ("teams", teams.clone()), ("reps", reps.clone())] {
                let started = Instant::now();
                let result: Backtest = backtest(projection, &quarters, lead, &scopes, 2_000, 7);
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                let coverage = result.coverage().map_or("—".to_owned(), |coverage| format!("{:.0}%", coverage * 100.0));
                let (model, stage) = result.wape().map_or(("—".to_owned(), "—".to_owned()), |(model, stage)| {
                    (format!("{:.1}%", model * 100.0), format!("{:.1}%", stage * 100.0))
                });
                let (below, above) = result.misses();
                println!("{name} | {on} | {} | {coverage} | {below} / {above} | {model} | {stage} | {elapsed:.0}", result.scored());
            }
        }
        Ok(())
    })?;
    win_bench(&store, org, &insights, now, day_of_date(quarter.first))
}

/// The win-probability model: the time to fit it (reading each example's activities, contacts
/// and company from the store) and to score one deal, its Brier score on the held-out closed
/// deals beside each stage's default probability and own win rate, its reliability, and an
/// out-of-time check (fitted as of the quarter's eve, scoring the deals open then that have
/// closed since).
fn win_bench(
    store: &app::Db,
    org: pipewise_core::OrgId,
    insights: &app::insights::Insights,
    now: pipewise_core::Timestamp,
    quarter_first: i32,
) -> Result<()> {
    let today = pipewise_analytics::day_of_timestamp(now, insights.zone());
    let started = Instant::now();
    let model = app::forecast::win_model(&mut store.read()?, org, insights, today - 1)?;
    let fitted = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "\nwin-probability model as of {}: {:?}, {} closed deals looked at ({} won, {} lost); L2 strength {}, Platt ({:.2}, {:.2})",
        date_of_day(today - 1),
        model.basis,
        model.examples,
        model.won,
        model.lost,
        model.alpha,
        model.platt.0,
        model.platt.1
    );
    println!("figure | Pipewise ms | result");
    println!("fit (store reads included) | {fitted:.0} | —");
    // One deal scored the way the deal page does (the model kept).
    let open = insights.with(|projection| {
        (0..projection.n_deals() as u32)
            .rev()
            .find(|deal| {
                projection.state_at(*deal, today).is_some_and(|state| {
                    let stage = &projection.stages[state.stage as usize];
                    stage.is_open() && stage.counts_in_metrics
                })
            })
            .map(|deal| projection.deals().id[deal as usize])
    });
    if let Some(id) = open {
        let started = Instant::now();
        let answer = app::forecast::win_score(&mut store.read()?, org, &pipewise_core::access::Access::System, insights, id, now)?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let shown = answer
            .and_then(|answer| answer.score.ok())
            .map_or("refused".to_owned(), |score| format!("{:.1}% (base {:.1}%)", score.probability * 100.0, score.base * 100.0));
        println!("score opportunity {id} (model kept) | {elapsed:.1} | {shown}");
    }
    let held = &model.held_out;
    println!("\nheld-out closed deals (1 in 5 by id, never fitted on): {} ({} won)", held.deals, held.won);
    println!("Brier score (lower is better) | model | stage default probability | stage's own win rate");
    println!(
        "held out, on a day of each deal's open life | {:.4} | {:.4} | {:.4}",
        held.brier, held.brier_stage_default, held.brier_stage_rate
    );
    if let Some(check) = app::forecast::win_backtest(&mut store.read()?, org, insights, quarter_first - 1, today)? {
        println!(
            "out of time: fitted as of {}, the {} deals open then and closed since ({} won) | {:.4} | {:.4} | —",
            date_of_day(quarter_first - 1),
            check.deals,
            check.won,
            check.brier,
            check.brier_stage_default
        );
    }
    println!("reliability (held out) | deals | mean predicted | share won");
    for (bin, tenth) in held.reliability.iter().zip(0..) {
        if bin.deals > 0 {
            println!("{}–{}% | {} | {:.3} | {:.3}", tenth * 10, tenth * 10 + 10, bin.deals, bin.predicted, bin.observed);
        }
    }
    let weights: Vec<String> = model.weights.iter().map(|(factor, weight)| format!("{} {weight:.2}", factor.key())).collect();
    println!("factor weights (mean |log-odds| over the fitted deals): {}", weights.join(", "));
    Ok(())
}
