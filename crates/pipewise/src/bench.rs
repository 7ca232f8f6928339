//! `pipewise bench dashboard`: the org-wide dashboard on Pipewise's projection side by side with
//! DuckDB computing the same figures in SQL over the same data, on this machine, in one run.
//!
//! 1. Opens the database; when it holds no organisation, generates the scale data set into it
//!    (`pipewise_demo::generate_scale`, deterministic from `--seed` and `--today`).
//! 2. Loads the projection ([`pipewise_app::insights::Insights::load`]) and reports the load time and
//!    the process's resident memory (`VmRSS` of `/proc/self/status`) before and after.
//! 3. Times every figure of the dashboard warm (median of `--runs`): each alone, as a page or
//!    an API call asks for it ("health counts" are the scope's per-deal flag counts, what the
//!    SQL side computes; the full health report with every rep's and team's flags is timed
//!    too, Pipewise only), and the whole dashboard in one call.
//! 4. Exports the same data as CSV (`deals`: the opportunity rows with amounts converted to the
//!    reporting currency at the rate of the day each was set, as the projection does; `events`:
//!    the history of owner, stage, amount, close date and close time, typed the same way;
//!    `stages`, `users`, and each deal's activity facts) plus the figures Pipewise computed,
//!    creates `target/bench-venv` with DuckDB from PyPI if missing, and runs
//!    `bench/duckdb_dashboard.py`, which loads the CSV into DuckDB tables (its load, like the
//!    projection's, is not part of the figure timings), computes every figure in SQL on two
//!    threads, fails loudly unless each equals Pipewise's, and prints the table.
//! 5. Measures how long after a write through `ops` the dashboard reflects it: by a reader's
//!    `refresh` (what the API does) and by the background follower (`follow`, 100 ms).

use pipewise_app as app;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pipewise_analytics::metrics::{coverage, outcomes, pipeline_by_stage, velocity, waterfall};
use pipewise_analytics::projection::{NO_AMOUNT, Projection};
use pipewise_analytics::{
    DashboardQuery, Day, NO_DAY, Scope, dashboard, date_of_day, day_of_timestamp, health::deal_flag_counts, health::health, leaderboard,
};
use pipewise_app::insights::Insights;
use pipewise_app::{Db, WriteCtx};
use pipewise_core::opportunity::{OppField, OpportunityPatch};
use pipewise_core::pipeline::StageKind;
use pipewise_core::{Money, OpportunityId, OrgId, Timestamp, Zone};
use pipewise_store::Store;
use serde_json::{Value, json};

pub struct BenchOptions {
    pub db: String,
    pub seed: u64,
    pub reps: u32,
    pub opportunities: u64,
    pub history: Option<u64>,
    pub activities: u64,
    pub today: Option<String>,
    pub runs: usize,
    pub out: PathBuf,
    pub skip_duckdb: bool,
}

/// Resident memory of this process in KiB.
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("VmRSS:")).and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn dashboard_bench(options: &BenchOptions) -> Result<()> {
    let raw: Arc<dyn Store> = Arc::from(crate::db::open_store(&options.db)?);
    let store = Db::new(raw.clone());
    let orgs = app::users::organisations(&mut store.read()?)?;
    let org = match orgs.first() {
        Some(org) => org.id,
        None => generate(&store, options)?,
    };
    let size = app::bulk::database_size(&mut store.read()?).unwrap_or(0);
    eprintln!("database: {} ({:.1} MiB), organisation {}", crate::db::redact(&options.db), size as f64 / 1048576.0, org.0);

    // Load.
    let rss_before = rss_kib();
    let started = Instant::now();
    let insights = Arc::new(Insights::load(raw.clone(), org).context("loading the projection failed")?);
    let load = started.elapsed();
    let rss_after = rss_kib();
    let (n_deals, n_events, bytes, today) = insights.with(|p| (p.n_deals(), p.n_events(), p.memory_bytes(), p.max_day()));
    let today = match &options.today {
        Some(text) => pipewise_analytics::day(text),
        None => today,
    };
    println!(
        "projection: {n_deals} deals, {n_events} stored events, last seq {}; loaded in {:.2} s; columns {:.1} MiB; \
         resident memory {:.1} MiB before, {:.1} MiB after (+{:.1} MiB)",
        insights.last_seq(),
        load.as_secs_f64(),
        bytes as f64 / 1048576.0,
        mib(rss_before),
        mib(rss_after),
        mib(rss_after.saturating_sub(rss_before))
    );
    let started = Instant::now();
    insights.refresh_facts().context("recomputing the activity facts failed")?;
    println!(
        "activity facts (every deal's last activity, touchpoints, contacts, logging lag, overdue tasks) recomputed from the store in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    insights.update_facts_now().context("updating the activity facts failed")?;
    println!(
        "activity facts brought up to date from the feed of new activities (what the 30 s refresh does between whole recomputes) in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    // Write → dashboard latency, first: the write is stamped on the as-of day, so both sides'
    // figures below include it.
    let latency = write_latency(&store, &insights, org, &DashboardQuery::new(today))?;

    // Figures, warm, with the organisation's health thresholds (its settings, else the defaults).
    let mut query = DashboardQuery::new(today);
    query.thresholds = app::settings::health_thresholds(&mut store.read()?, org)?;
    let quota = insights.with(|p| quota_for(p, &query));
    query.quota = Some(quota);
    let runs = options.runs.max(1);
    let mut timings: Vec<(&'static str, f64)> = Vec::new();
    let scope = Scope::org();
    let (from, to) = query.waterfall_span();
    let time = |run: &mut dyn FnMut()| {
        run(); // warm
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let timer = Instant::now();
                run();
                timer.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    insights.with(|p| {
        let q = &query;
        timings.push((
            "pipeline by stage",
            time(&mut || {
                std::hint::black_box(pipeline_by_stage(p, &scope, today, None));
            }),
        ));
        timings.push((
            "coverage",
            time(&mut || {
                std::hint::black_box(coverage(p, &scope, today, q.period, quota));
            }),
        ));
        timings.push((
            "win rate, cycle, deal size",
            time(&mut || {
                std::hint::black_box(outcomes(p, &scope, today, q.window));
            }),
        ));
        timings.push((
            "velocity",
            time(&mut || {
                std::hint::black_box(velocity(p, &scope, today, q.window));
            }),
        ));
        timings.push((
            "waterfall (quarter)",
            time(&mut || {
                std::hint::black_box(waterfall(p, &scope, q.period, from, to));
            }),
        ));
        timings.push((
            "health counts",
            time(&mut || {
                std::hint::black_box(deal_flag_counts(p, q));
            }),
        ));
        timings.push((
            "leaderboard",
            time(&mut || {
                std::hint::black_box(leaderboard(p, q));
            }),
        ));
        timings.push((
            "health report (reps, teams)",
            time(&mut || {
                std::hint::black_box(health(p, q));
            }),
        ));
        timings.push((
            "DASHBOARD (one call)",
            time(&mut || {
                std::hint::black_box(dashboard(p, q));
            }),
        ));
    });
    insights.with(|p| {
        let visited = |horizon: Day| p.candidates(horizon).len();
        println!(
            "deals visited per figure (of {}): as of the day {}, since the period's start {}, since the window's start {}, the dashboard {}",
            p.n_deals(),
            visited(today + 1),
            visited(query.period.first.min(today + 1)),
            visited(query.window.first.min(today + 1)),
            visited(query.horizon())
        );
    });
    let board = insights.with(|p| dashboard(p, &query));
    let counts = insights.with(|p| deal_flag_counts(p, &query));
    let org_health = &board.health.organisation;
    if (counts.open_deals, counts.flagged_deals, counts.deal_counts)
        != (org_health.open_deals, org_health.flagged_deals, org_health.deal_counts)
    {
        bail!("the health counts alone ({counts:?}) differ from the dashboard's ({org_health:?})");
    }
    let figures = figures_json(&insights, &query, &board);

    // Export and DuckDB.
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let export_started = Instant::now();
    export(raw.as_ref(), &insights, org, &options.out)?;
    eprintln!("exported the data set as CSV to {} in {:.1} s", options.out.display(), export_started.elapsed().as_secs_f64());
    let expected = json!({
        "as_of": today,
        "period": [query.period.first, query.period.last],
        "window": [query.window.first, query.window.last],
        "waterfall_span": [from, to],
        "horizon": query.play_horizon(),
        "quota": quota,
        "thresholds": thresholds_json(&query),
        "figures": figures,
        "timings_ms": timings.iter().map(|(name, ms)| json!([name, ms])).collect::<Vec<_>>(),
        "deals": n_deals,
        "runs": runs,
    });
    let expected_path = options.out.join("pipewise.json");
    std::fs::write(&expected_path, serde_json::to_vec_pretty(&expected)?)?;
    println!(
        "write → dashboard: the write (app::deals::update_opportunity + commit) took {:.1} ms; the dashboard showed it {:.1} ms after \
         the commit with a reader's refresh (as the API does), {:.1} ms after with the 100 ms background follower",
        latency.0, latency.1, latency.2
    );
    if options.skip_duckdb {
        println!("\nfigure | Pipewise ms");
        for (name, ms) in &timings {
            println!("{name} | {ms:.2}");
        }
        return Ok(());
    }
    run_reference("duckdb_dashboard.py", &options.out, runs)
}

/// Runs `bench/{script}` with DuckDB on the export in `out`; an error unless it ran and found
/// every figure equal to Pipewise's.
pub(crate) fn run_reference(script: &str, out: &Path, runs: usize) -> Result<()> {
    let python = venv_python()?;
    let script = workspace_root().join("bench").join(script);
    let status = std::process::Command::new(&python)
        .arg(&script)
        .arg(out)
        .arg(runs.to_string())
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !status.success() {
        bail!("the DuckDB side failed or its numbers differ from Pipewise's (see above)");
    }
    Ok(())
}

/// The quota the benchmark uses: twice what was won in the period so far plus the open
/// pipeline closing in it, rounded to a million minor units, so coverage is defined.
fn quota_for(projection: &Projection, query: &DashboardQuery) -> i64 {
    let cover = coverage(projection, &Scope::org(), query.as_of, query.period, i64::MAX / 4);
    let base = (cover.won_in_period + cover.open_closing_in_period / 3).max(1);
    ((base / 1_000_000 + 1) * 1_000_000) as i64
}

fn thresholds_json(query: &DashboardQuery) -> Value {
    let t = &query.thresholds;
    json!({
        "untouched_days": t.untouched_days, "going_dark_days": t.going_dark(), "pushed_min": t.pushed_min,
        "single_threaded_max_contacts": t.single_threaded_max_contacts, "late_update_days": t.late_update_days,
        "moving_days": t.moving_days, "touchpoints_healthy": t.touchpoints_healthy,
        "multi_threaded_min_contacts": t.multi_threaded_min_contacts,
    })
}

fn figures_json(insights: &Insights, query: &DashboardQuery, board: &pipewise_analytics::Dashboard) -> Value {
    insights.with(|p| {
        let lines: Vec<Value> = board
            .pipeline
            .lines
            .iter()
            .map(|line| json!([p.stages[line.stage as usize].id.0, line.count, line.amount.to_string(), line.weighted.to_string()]))
            .collect();
        let o = &board.outcomes;
        let coverage = board.coverage.expect("the bench gives a quota");
        let w = &board.waterfall;
        let buckets: Vec<Value> = pipewise_analytics::WaterfallBucket::ALL
            .into_iter()
            .map(|name| (name, w.bucket(name)))
            .map(|(name, bucket)| json!([name.as_str(), bucket.count, bucket.amount.to_string()]))
            .collect();
        let org = &board.health.organisation;
        let deal_counts: Vec<Value> = pipewise_analytics::health::FlagCode::DEAL
            .iter()
            .zip(org.deal_counts)
            .map(|(code, count)| json!([code.as_str(), count]))
            .collect();
        let leaders: Vec<Value> = board
            .leaderboard
            .iter()
            .map(|row| {
                json!([
                    row.user_id.0,
                    row.won_amount.to_string(),
                    row.won_count,
                    row.pipeline_amount.to_string(),
                    row.open_deals,
                    row.open_closing_in_period.to_string(),
                    row.outcomes.won,
                    row.outcomes.lost,
                    row.outcomes.won_cycle_days
                ])
            })
            .collect();
        let velocity = board.velocity.map(|v| v.per_day.to_string());
        let _ = query;
        json!({
            "pipeline": { "lines": lines, "count": board.pipeline.count, "amount": board.pipeline.amount.to_string(), "weighted": board.pipeline.weighted.to_string() },
            "coverage": { "open": coverage.open_closing_in_period.to_string(), "open_deals": coverage.open_deals_closing_in_period,
                          "won": coverage.won_in_period.to_string(), "remaining": coverage.remaining_quota.to_string(),
                          "ratio_6dp": coverage.ratio.map(|r| r.round(6).to_string()) },
            "outcomes": { "won": o.won, "lost": o.lost, "won_amount": o.won_amount.to_string(), "lost_amount": o.lost_amount.to_string(),
                          "won_cycle_days": o.won_cycle_days, "dropped": o.dropped,
                          "win_rate_6dp": o.win_rate_by_count().map(|r| r.round(6).to_string()),
                          "average_cycle_6dp": o.average_cycle_days().map(|r| r.round(6).to_string()) },
            "velocity_per_day": velocity,
            "waterfall": buckets,
            "health": { "open_deals": org.open_deals, "flagged_deals": org.flagged_deals, "deal_counts": deal_counts },
            "leaderboard": leaders,
        })
    })
}

/// Milliseconds from a write's commit to a dashboard that shows it, and the write's own time
/// (`app::deals::update_opportunity` and the commit): `(write, by a reader's refresh, by the follower)`.
fn write_latency(store: &Db, insights: &Arc<Insights>, org: OrgId, query: &DashboardQuery) -> Result<(f64, f64, f64)> {
    // An open deal in the pipeline: change its amount twice.
    let (id, amount) = insights.with(|p| {
        let deals = p.deals();
        (0..p.n_deals())
            .find(|&deal| {
                let stage = &p.stages[deals.stage[deal] as usize];
                stage.kind == StageKind::Open && stage.counts_in_metrics && deals.amount[deal] != NO_AMOUNT
            })
            .map(|deal| (deals.id[deal], deals.amount[deal]))
            .expect("an open deal")
    });
    let currency = insights.with(|p| p.reporting_currency());
    // Stamped at noon (UTC) of the as-of day; the store moves it later if the deal changed after.
    let now = Timestamp::from_micros(i64::from(query.as_of) * 86_400_000_000 + 43_200_000_000);
    let measure = |bump: i64, follow: bool| -> Result<(f64, f64)> {
        let money = Money::new(currency.amount_of(amount + bump), currency).map_err(|problem| anyhow::anyhow!("{problem}"))?;
        let before = insights.with(|p| dashboard(p, query).pipeline.amount);
        let ctx = WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now };
        let patch = OpportunityPatch { amount: Some(Some(money)), ..OpportunityPatch::default() };
        let _guard = follow.then(|| insights.follow(Duration::from_millis(100)));
        let write_timer = Instant::now();
        store.transact(|tx| app::deals::update_opportunity(tx, &ctx, id, &patch))?;
        let write_ms = write_timer.elapsed().as_secs_f64() * 1e3;
        let timer = Instant::now();
        loop {
            if !follow {
                insights.refresh()?;
            }
            let mut query = query.clone();
            query.as_of = query.as_of.max(day_of_timestamp(now, &Zone::utc()));
            if insights.with(|p| dashboard(p, &query).pipeline.amount) != before {
                return Ok((write_ms, timer.elapsed().as_secs_f64() * 1e3));
            }
            if timer.elapsed() > Duration::from_secs(10) {
                bail!("the dashboard did not reflect a write within 10 s");
            }
            if follow {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    };
    let (write_ms, by_refresh) = measure(100, false)?;
    let (_, by_follower) = measure(200, true)?;
    Ok((write_ms, by_refresh, by_follower))
}

/// The data set a benchmark runs on: the database of `options` (the scale data set generated
/// into it when empty), its first organisation, the benchmark's now (`--today` at 18:00 UTC) and
/// that day in the organisation's zone.
pub(crate) struct Opened {
    pub store: Db,
    pub org: OrgId,
    pub now: Timestamp,
    pub organisation: app::Organisation,
    pub today: pipewise_core::Date,
}

pub(crate) fn open_data_set(options: &BenchOptions) -> Result<Opened> {
    let raw: std::sync::Arc<dyn pipewise_store::Store> = std::sync::Arc::from(crate::db::open_store(&options.db)?);
    let store = Db::new(raw);
    let orgs = app::users::organisations(&mut store.read()?)?;
    let org = match orgs.first() {
        Some(org) => org.id,
        None => generate(&store, options)?,
    };
    let today_text = options.today.as_deref().unwrap_or("2026-06-15");
    let now: Timestamp = format!("{today_text}T18:00:00Z").parse().map_err(|_| anyhow::anyhow!("--today {today_text:?} is not a date"))?;
    let organisation = app::users::organisation(&mut store.read()?, org)?.context("the organisation is gone")?;
    let today = organisation.time_zone.date_of(now);
    Ok(Opened { store, org, now, organisation, today })
}

pub(crate) fn generate(store: &Db, options: &BenchOptions) -> Result<OrgId> {
    let today = options.today.as_deref().unwrap_or("2026-06-15");
    let now: Timestamp = format!("{today}T18:00:00Z").parse().map_err(|_| anyhow::anyhow!("--today {today:?} is not a date"))?;
    let config =
        pipewise_demo::ScaleConfig::new(options.seed, now, options.reps, options.opportunities, options.history, options.activities);
    eprintln!(
        "the database is empty: generating {} reps, {} opportunities, {} activities (seed {}) …",
        options.reps, options.opportunities, options.activities, options.seed
    );
    let started = Instant::now();
    let mut last = Instant::now();
    let summary = pipewise_demo::generate_scale(store, &config, &mut |phase, done, total| {
        if last.elapsed() > Duration::from_secs(5) || done == total {
            eprintln!("  {} {done}/{total}", phase.label());
            last = Instant::now();
        }
    })
    .context("generating the scale data set failed")?;
    let size = app::bulk::database_size(&mut store.read()?).unwrap_or(0);
    println!(
        "generated {} deals, {} history events, {} activities in {:.1} s; database {:.1} MiB",
        summary.counts.opportunities,
        summary.counts.history_events,
        summary.counts.activities,
        started.elapsed().as_secs_f64(),
        size as f64 / 1048576.0
    );
    Ok(summary.organisation)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// `target/bench-venv/bin/python`, creating the venv and installing DuckDB if missing.
fn venv_python() -> Result<PathBuf> {
    let venv = workspace_root().join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        eprintln!("creating {} …", venv.display());
        let status = std::process::Command::new("python3").arg("-m").arg("venv").arg(&venv).status().context("cannot run python3")?;
        if !status.success() {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    let has_duckdb = std::process::Command::new(&python).args(["-c", "import duckdb"]).output().is_ok_and(|out| out.status.success());
    if !has_duckdb {
        eprintln!("installing duckdb from PyPI into {} …", venv.display());
        let status =
            std::process::Command::new(venv.join("bin/pip")).args(["install", "-q", "duckdb"]).status().context("cannot run pip")?;
        if !status.success() {
            bail!("pip install duckdb failed");
        }
    }
    Ok(python)
}

/// Writes `stages.csv`, `users.csv`, `deals.csv` (current state and activity facts) and
/// `events.csv` (typed history) into `dir`.
fn export(store: &dyn Store, insights: &Insights, org: OrgId, dir: &Path) -> Result<()> {
    let file = |name: &str| -> Result<std::io::BufWriter<std::fs::File>> {
        Ok(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join(name))?))
    };
    let opt = |value: i64, none: i64| if value == none { String::new() } else { value.to_string() };
    let mut tx = store.read()?;
    let rates = tx.rate_table(org)?;
    let users = tx.users(org)?;
    drop(tx);
    insights.with(|p| -> Result<()> {
        let mut out = file("stages.csv")?;
        writeln!(out, "stage_id,pipeline_id,position,kind,counts,win_bp,rotting_days")?;
        for stage in &p.stages {
            let kind = match stage.kind {
                StageKind::Open => "open",
                StageKind::Won => "won",
                StageKind::Lost => "lost",
            };
            let rotting = stage.rotting_days.map_or(String::new(), |days| days.to_string());
            writeln!(
                out,
                "{},{},{},{kind},{},{},{rotting}",
                stage.id.0, p.pipelines[stage.pipeline as usize].id.0, stage.position, stage.counts_in_metrics, stage.win_bp
            )?;
        }
        out.flush()?;
        let mut out = file("users.csv")?;
        writeln!(out, "user_id,team_id")?;
        for user in &users {
            writeln!(out, "{},{}", user.id.0, user.team_id.map_or(String::new(), |team| team.0.to_string()))?;
        }
        out.flush()?;
        // Current state: what the opportunity rows hold, amounts converted as the projection
        // does; and each deal's activity facts.
        let mut out = file("deals.csv")?;
        writeln!(
            out,
            "opp_id,owner_id,stage_id,amount,close_day,created_day,closed_day,last_activity_day,last_inbound_day,touchpoints_30d,contacts_engaged,overdue_tasks,max_log_lag_days"
        )?;
        let deals = p.deals();
        let facts = &p.activity;
        for deal in 0..p.n_deals() {
            if deals.stage[deal] == pipewise_analytics::projection::NO_STAGE {
                continue;
            }
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                deals.id[deal].0,
                p.owner_ids[deals.owner[deal] as usize].0,
                p.stages[deals.stage[deal] as usize].id.0,
                opt(deals.amount[deal], NO_AMOUNT),
                opt(i64::from(deals.close_day[deal]), i64::from(NO_DAY)),
                deals.created_day[deal],
                opt(i64::from(deals.closed_day[deal]), i64::from(NO_DAY)),
                opt(i64::from(facts.last_activity_day[deal]), i64::from(NO_DAY)),
                opt(i64::from(facts.last_inbound_day[deal]), i64::from(NO_DAY)),
                facts.touchpoints_30d[deal],
                facts.contacts_engaged[deal],
                facts.overdue_tasks[deal],
                facts.max_log_lag_days[deal],
            )?;
        }
        out.flush()?;
        Ok(())
    })?;
    // History, typed: one row per change of owner, stage, amount (reporting minor units at the
    // rate of its day), close date (day) or close time (day); `creation` marks the deal's first
    // instant. Days are made monotonic per deal, as the store stamps them.
    let (reporting, rates) =
        insights.with(|p| (p.reporting_currency(), rates.unwrap_or_else(|| pipewise_core::fx::RateTable::new(p.reporting_currency()))));
    let mut out = file("events.csv")?;
    writeln!(out, "opp_id,seq,day,field,new_value,creation")?;
    let mut first_at: HashMap<i64, (i64, Day)> = HashMap::new();
    let mut after = 0;
    loop {
        let page = store.read()?.history_since(org, after, 200_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in &page {
            let raw_day = day_of_timestamp(event.at, &Zone::utc());
            let entry = first_at.entry(event.opportunity_id.0).or_insert((event.at.as_micros(), raw_day));
            let creation = entry.0 == event.at.as_micros();
            let day = raw_day.max(entry.1);
            entry.1 = day;
            let (field, value) = match event.field {
                OppField::Owner => ("owner", event.new.clone()),
                OppField::Stage => ("stage", event.new.clone()),
                OppField::Amount => (
                    "amount",
                    event.new.as_deref().and_then(|raw| {
                        let money: Money = raw.parse().ok()?;
                        rates
                            .convert(money, reporting, date_of_day(raw_day))
                            .ok()
                            .map(|converted| converted.amount().mantissa().to_string())
                    }),
                ),
                OppField::CloseDate => (
                    "close_day",
                    event
                        .new
                        .as_deref()
                        .and_then(|raw| pipewise_core::time::parse_date(raw).ok())
                        .map(|date| pipewise_analytics::day_of_date(date).to_string()),
                ),
                OppField::ClosedAt => (
                    "closed_day",
                    event
                        .new
                        .as_deref()
                        .and_then(|raw| raw.parse::<Timestamp>().ok())
                        .map(|at| day_of_timestamp(at, &Zone::utc()).to_string()),
                ),
                _ => continue,
            };
            writeln!(out, "{},{},{day},{field},{},{creation}", event.opportunity_id.0, event.seq, value.unwrap_or_default())?;
        }
    }
    out.flush()?;
    let _ = OpportunityId(0);
    Ok(())
}
