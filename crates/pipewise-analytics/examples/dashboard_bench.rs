//! Micro-benchmark of the analytics core at the SPEC's scale: 2,000 reps in 200 teams,
//! 1,000,000 opportunities and 10,000,000 history events, synthesised deterministically from a
//! seed (own PRNG), fed through `Projection::apply` as a log follower would, then every
//! dashboard figure timed warm.
//!
//! Run: `cargo run --release -p pipewise-analytics --example dashboard_bench [deals] [events]`.

// Amounts in cents are written `dollars_cents`.
#![allow(clippy::inconsistent_digit_grouping)]

use std::time::{Duration, Instant};

use pipewise_analytics::metrics::{conversion, coverage, outcomes, pipeline_by_stage, time_in_stage, velocity, waterfall};
use pipewise_analytics::{
    DashboardQuery, DealActivity, Period, Projection, Scope, dashboard, date_of_day, day, health::health, leaderboard,
};
use pipewise_core::fx::RateTable;
use pipewise_core::history::{HistoryEvent, Source};
use pipewise_core::opportunity::OppField;
use pipewise_core::pipeline::Pipeline;
use pipewise_core::{Currency, OpportunityId, PipelineId, TeamId, Timestamp, UserId, templates};
use rust_decimal::Decimal;

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const N_REPS: u64 = 2_000;
const REPS_PER_TEAM: u64 = 10;

struct Log {
    seq: i64,
    batch: Vec<HistoryEvent>,
}

impl Log {
    fn push(&mut self, id: i64, field: OppField, old: Option<String>, new: Option<String>, at: Timestamp) {
        self.seq += 1;
        self.batch.push(HistoryEvent {
            seq: self.seq,
            opportunity_id: OpportunityId(id),
            field,
            old,
            new,
            at,
            actor_id: None,
            source: Source::Demo,
        });
    }
}

fn at_day(day: i32, seconds: i64) -> Timestamp {
    Timestamp::from_micros(i64::from(day) * 86_400_000_000 + seconds * 1_000_000)
}

fn money_text(currency: &str, minor: i64, minor_units: u32) -> String {
    format!("{currency} {}", Decimal::new(minor, minor_units))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_deals: u64 = args.get(1).and_then(|raw| raw.parse().ok()).unwrap_or(1_000_000);
    let n_events: u64 = args.get(2).and_then(|raw| raw.parse().ok()).unwrap_or(10 * n_deals);
    let first_day = day("2024-07-01");
    let today = day("2026-06-15");

    let b2b = templates::b2b_the_model().materialise(PipelineId(1), 1);
    let simple = templates::simple().materialise(PipelineId(2), 101);
    // Daily EUR-based rates for USD and KRW across the span.
    let mut rates = RateTable::new(Currency::EUR);
    let mut rng = Rng(0x5EED);
    for offset in -30..=(today - first_day + 10) {
        let date = date_of_day(first_day + offset);
        rates.insert(Currency::USD, date, Decimal::new(1_0500 + rng.below(1_500) as i64, 4));
        rates.insert(Currency::KRW, date, Decimal::new(1_400_00 + rng.below(15_000) as i64, 2));
    }
    let mut projection = Projection::new(Currency::USD, rates);
    if let Some(threads) = std::env::var("PIPEWISE_THREADS").ok().and_then(|raw| raw.parse().ok()) {
        projection.set_threads(threads);
    }
    projection.add_pipeline(&b2b);
    projection.add_pipeline(&simple);
    for rep in 0..N_REPS {
        projection.set_team(UserId(rep as i64 + 1), Some(TeamId((rep / REPS_PER_TEAM) as i64 + 1)));
    }

    eprintln!("generating and applying {n_deals} deals, {n_events} events …");
    let mut log = Log { seq: 0, batch: Vec::with_capacity(64) };
    let mut apply_time = Duration::ZERO;
    let mut applied: u64 = 0;
    let mut extra_left = n_events.saturating_sub(8 * n_deals);
    let started = Instant::now();
    for deal in 0..n_deals {
        let deals_left = n_deals - deal;
        let cap = 8 + (extra_left * 2 * rng.below(1_000) / 1_000 / deals_left).min(extra_left);
        let id = deal as i64 + 1;
        generate_deal(&mut rng, &mut log, id, cap, first_day, today, &b2b, &simple);
        let created = log.batch.len() as u64;
        extra_left = extra_left.saturating_sub(created.saturating_sub(8));
        let timer = Instant::now();
        for event in &log.batch {
            if let Err(error) = projection.apply(event) {
                panic!("{error}");
            }
        }
        apply_time += timer.elapsed();
        applied += created;
        log.batch.clear();
        let index = projection.deal_index(OpportunityId(id)).expect("just applied");
        let last_activity = today - rng.below(40) as i32;
        projection.activity.set(
            index,
            DealActivity {
                last_activity: Some(last_activity),
                last_inbound: Some(last_activity - rng.below(30) as i32),
                touchpoints_30d: rng.below(12) as u32,
                contacts_engaged: rng.below(5) as u16,
                overdue_tasks: if rng.chance(15) { 1 + rng.below(3) as u16 } else { 0 },
                max_log_lag_days: rng.below(10) as i32,
            },
        );
    }
    let compact = Instant::now();
    projection.compact();
    let compact_time = compact.elapsed();
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "data: {} deals, {} history events applied, {} stored after creation, {} reps",
        projection.n_deals(),
        applied,
        projection.n_events(),
        projection.n_owners()
    );
    println!(
        "apply: {:.3} s for {applied} events = {:.0} ns/event ({:.2} M events/s); compact {:.0} ms",
        apply_time.as_secs_f64(),
        apply_time.as_nanos() as f64 / applied as f64,
        applied as f64 / apply_time.as_secs_f64() / 1e6,
        compact_time.as_secs_f64() * 1e3
    );
    let bytes = projection.memory_bytes();
    println!(
        "memory: {:.1} MiB = {:.0} bytes per deal (columns, events, activity facts, id map)",
        bytes as f64 / 1048576.0,
        bytes as f64 / projection.n_deals() as f64
    );

    let mut query = DashboardQuery::new(today);
    query.quota = Some(4_000_000_000_00);
    query.rep_quotas = vec![Some(2_000_000_00); N_REPS as usize];
    let scope = Scope::org();
    if let Ok(profile) = std::env::var("PIPEWISE_BENCH_PROFILE") {
        // For a profiler: one figure, many times (`pipeline` or the dashboard).
        for _ in 0..100 {
            if profile == "pipeline" {
                std::hint::black_box(pipeline_by_stage(&projection, &scope, today, None));
            } else if profile == "waterfall" {
                let (from, to) = query.waterfall_span();
                std::hint::black_box(waterfall(&projection, &scope, query.period, from, to));
            } else if profile == "health" {
                std::hint::black_box(health(&projection, &query));
            } else {
                std::hint::black_box(dashboard(&projection, &query));
            }
        }
        return;
    }
    let (from, to) = query.waterfall_span();
    let threads = projection.threads();
    println!("\nfigure timings, warm, {threads} threads, as of {} (min / median of 15 runs, ms):", date_of_day(today));
    let past = today - 120;
    let team_scope = Scope::owners(projection.team_members(0).collect::<Vec<_>>());
    let window = query.window;
    let period = query.period;
    let total_min = std::cell::Cell::new(0.0);
    let figure = |name: &str, in_dashboard: bool, run: &mut dyn FnMut() -> u64| {
        let mut times = Vec::new();
        let mut check = 0;
        for _ in 0..15 {
            let timer = Instant::now();
            check = std::hint::black_box(run());
            times.push(timer.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        if in_dashboard {
            total_min.set(total_min.get() + times[0]);
        }
        println!("  {name:<44} {:>8.2} {:>8.2}   ({check})", times[0], times[7]);
    };
    figure("pipeline by stage", true, &mut || pipeline_by_stage(&projection, &scope, today, None).count);
    figure("coverage (quarter)", true, &mut || coverage(&projection, &scope, today, period, 4_000_000_000_00).open_deals_closing_in_period);
    figure("outcomes: win rate, cycle, deal size", true, &mut || outcomes(&projection, &scope, today, window).won);
    figure("velocity", true, &mut || velocity(&projection, &scope, today, window).map_or(0, |velocity| velocity.per_day as u64));
    figure("waterfall (quarter to date)", true, &mut || waterfall(&projection, &scope, period, from, to).end.count as u64);
    figure("health (deals, reps, teams, org)", true, &mut || health(&projection, &query).organisation.flagged_deals);
    figure("leaderboard", true, &mut || leaderboard(&projection, &query).len() as u64);
    println!("  {:<44} {:>8.2}", "sum of the figures above (min)", total_min.get());
    figure("DASHBOARD (one call, all of the above)", false, &mut || dashboard(&projection, &query).leaderboard.len() as u64);
    let mut past_query = query.clone();
    past_query.as_of = past;
    past_query.period = Period::quarter_of(past);
    past_query.window = Period::trailing(past, 365);
    figure("dashboard as of 120 days ago", false, &mut || dashboard(&projection, &past_query).leaderboard.len() as u64);
    let mut team_query = query.clone();
    team_query.scope = team_scope.clone();
    figure("dashboard for one team", false, &mut || dashboard(&projection, &team_query).leaderboard.len() as u64);
    figure("conversion (B2B pipeline)", false, &mut || conversion(&projection, &scope, 0, today, window)[0].reached);
    figure("time in stage", false, &mut || time_in_stage(&projection, &scope, today, window)[1].completed_stays);
    figure("waterfall, a year back", false, &mut || {
        waterfall(&projection, &scope, Period::quarter_of(today - 365), today - 455, today - 365).end.count as u64
    });

    // Follow the log: one more change, then the dashboard again.
    let deal = projection.deal_index(OpportunityId(7)).expect("deal 7");
    let stage = projection.deals().stage[deal as usize];
    let timer = Instant::now();
    let next_amount = "USD 12345.67".to_owned();
    log.push(7, OppField::Amount, None, Some(next_amount), at_day(today, 3600 * 12));
    let event = log.batch.pop().expect("pushed");
    projection.apply(&event).expect("applies");
    let applied_in = timer.elapsed();
    let board = dashboard(&projection, &query);
    println!(
        "\nfollow the log: one event applied in {:.1} µs; the next dashboard ({:.1} ms total) sees it (deal 7 in stage {stage}, pipeline {} deals)",
        applied_in.as_secs_f64() * 1e6,
        timer.elapsed().as_secs_f64() * 1e3,
        board.pipeline.count
    );
    let waterfall = board.waterfall;
    println!(
        "quarter waterfall reconciles: {} (start {} + movements = end {}, in USD cents)",
        waterfall.reconciles(),
        waterfall.start.amount,
        waterfall.end.amount
    );
}

/// Emits one deal's creation and later changes into `log`, at most `cap` events.
#[allow(clippy::too_many_arguments)]
fn generate_deal(rng: &mut Rng, log: &mut Log, id: i64, cap: u64, first_day: i32, today: i32, b2b: &Pipeline, simple: &Pipeline) {
    let pipeline = if rng.chance(80) { b2b } else { simple };
    let open: Vec<_> = pipeline.stages.iter().filter(|stage| stage.kind == pipewise_core::pipeline::StageKind::Open).collect();
    let won = pipeline.stages.iter().find(|stage| stage.kind == pipewise_core::pipeline::StageKind::Won).expect("won");
    let lost = pipeline.stages.iter().find(|stage| stage.kind == pipewise_core::pipeline::StageKind::Lost).expect("lost");
    let mut day = first_day + rng.below((today - first_day) as u64 + 1) as i32;
    let created = at_day(day, rng.below(80_000) as i64);
    let owner = 1 + rng.below(N_REPS) as i64;
    let (currency, minor_units, scale) = match rng.below(10) {
        0 | 1 => ("EUR", 2, 100),
        2 => ("KRW", 0, 1_500),
        _ => ("USD", 2, 100),
    };
    let mut amount = (1_000 + rng.below(50_000) + rng.below(4) * rng.below(150_000)) as i64 * scale;
    let mut close = day + 30 + rng.below(150) as i32;
    let mut stage_index = 0usize;
    let text = |value: i64| Some(value.to_string());
    let date = |day: i32| Some(date_of_day(day).to_string());
    log.push(id, OppField::Name, None, Some(format!("Deal {id}")), created);
    log.push(id, OppField::Owner, None, text(owner), created);
    log.push(id, OppField::Pipeline, None, text(pipeline.id.0), created);
    log.push(id, OppField::Stage, None, text(open[0].id.0), created);
    log.push(id, OppField::Amount, None, Some(money_text(currency, amount, minor_units)), created);
    log.push(id, OppField::CloseDate, None, date(close), created);
    log.push(id, OppField::ForecastCategory, None, Some(open[0].forecast_category.as_str().to_owned()), created);
    log.push(id, OppField::Status, None, Some("open".to_owned()), created);
    let mut used = 8;
    loop {
        day += 2 + rng.below(30) as i32;
        if day > today {
            break;
        }
        let at = at_day(day, rng.below(80_000) as i64);
        let roll = rng.below(100);
        if roll < 40 {
            // Advance one stage, or win from the last open stage.
            let (from, to, closing) = if stage_index + 1 < open.len() {
                (open[stage_index], open[stage_index + 1], false)
            } else {
                (open[stage_index], won, true)
            };
            let needed = if closing { 4 } else { 2 };
            if used + needed > cap {
                break;
            }
            log.push(id, OppField::Stage, text(from.id.0), text(to.id.0), at);
            log.push(
                id,
                OppField::ForecastCategory,
                None,
                Some(if closing { "closed".into() } else { to.forecast_category.as_str().to_owned() }),
                at,
            );
            used += needed;
            if closing {
                log.push(id, OppField::Status, None, Some("won".into()), at);
                log.push(id, OppField::ClosedAt, None, Some(at.to_string()), at);
                break;
            }
            stage_index += 1;
        } else if roll < 55 {
            // Won from wherever it is (an imported or fast deal).
            if used + 4 > cap || stage_index == 0 && pipeline.id == b2b.id {
                continue;
            }
            log.push(id, OppField::Stage, text(open[stage_index].id.0), text(won.id.0), at);
            log.push(id, OppField::ForecastCategory, None, Some("closed".into()), at);
            log.push(id, OppField::Status, None, Some("won".into()), at);
            log.push(id, OppField::ClosedAt, None, Some(at.to_string()), at);
            break;
        } else if roll < 70 {
            if used + 1 > cap {
                break;
            }
            let old = close;
            close += 7 + rng.below(60) as i32;
            log.push(id, OppField::CloseDate, date(old), date(close), at);
            used += 1;
        } else if roll < 85 {
            if used + 1 > cap {
                break;
            }
            let old = amount;
            amount = (amount * (70 + rng.below(60) as i64) / 100).max(scale);
            log.push(
                id,
                OppField::Amount,
                Some(money_text(currency, old, minor_units)),
                Some(money_text(currency, amount, minor_units)),
                at,
            );
            used += 1;
        } else {
            if used + 4 > cap {
                break;
            }
            log.push(id, OppField::Stage, text(open[stage_index].id.0), text(lost.id.0), at);
            log.push(id, OppField::ForecastCategory, None, Some("omitted".into()), at);
            log.push(id, OppField::Status, None, Some("lost".into()), at);
            log.push(id, OppField::ClosedAt, None, Some(at.to_string()), at);
            break;
        }
    }
}
