//! `pipewise bench pay`: pay at scale (issue 12, point 8), side by side with DuckDB computing the
//! same statement totals in SQL over the same won deals and quotas, in one run.
//!
//! 1. Opens the database; generates the scale data set into an empty one (as `bench dashboard`
//!    does), then, when it has no plan yet, sets every rep's and team's quarterly quotas and pays
//!    every rep under one plan (`pipewise_demo::set_quotas_and_pay`: 10% of bookings to quota,
//!    15% above, a quota-club bonus, a 60,000 cap), statements for every quarter up to today.
//! 2. Loads the projection, then times (median of `--runs`, each in a transaction rolled back):
//!    one rep's statement of the current quarter (`app::pay::compute_statement`), every
//!    statement of that quarter (`app::pay::compute_statements`), and the attainment figures
//!    (the leaderboard with every rep's stored quota, and team attainment beside the share at
//!    quota).
//! 3. Exports the quarter's credits as Pipewise made them (owner, close day, deal, amount in the
//!    plan's currency at the close date's rate) and the reps' quotas as CSV, runs
//!    `bench/duckdb_pay.py`, which computes every rep's total with the same rules in SQL (tier
//!    slices in booking order, each line rounded half-up to the cent, the bonus, the cap), fails
//!    loudly unless every total equals Pipewise's, and prints both timings.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use pipewise_analytics::{DashboardQuery, Period, Scope, day_of_date, leaderboard};
use pipewise_app as app;
use pipewise_app::WriteCtx;
use pipewise_core::UserId;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::user::Role;

use crate::bench::{BenchOptions, mib, rss_kib, run_reference};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub fn pay_bench(options: &BenchOptions) -> Result<()> {
    let crate::bench::Opened { store, org, now, organisation, today } = crate::bench::open_data_set(options)?;
    if app::pay::plans(&mut store.read()?, org)?.is_empty() {
        let started = Instant::now();
        let first_day = today.saturating_sub(jiff::Span::new().years(2));
        let (quotas, statements) = pipewise_demo::set_quotas_and_pay(&store, org, first_day, now)?;
        println!("set up {quotas} quotas, one plan and {statements} statements in {:.1} s", started.elapsed().as_secs_f64());
    }
    let before = rss_kib();
    let started = Instant::now();
    let insights = store.load_insights(org, Arc::new(move || now))?;
    println!("projection: loaded in {:.1} s, +{:.0} MiB", started.elapsed().as_secs_f64(), mib(rss_kib().saturating_sub(before)));

    let users = app::users::users(&mut store.read()?, org)?;
    let ops = users.iter().find(|user| matches!(user.role, Role::Ops | Role::Admin)).context("no ops or admin user")?;
    let ctx = WriteCtx { org, actor_id: Some(ops.id), source: Source::System, at: now };
    let quarter = organisation.fiscal.period_of(PeriodKind::Quarter, today);
    let key = quarter.key();
    let reps: Vec<UserId> = users.iter().filter(|user| user.role == Role::Rep).map(|user| user.id).collect();
    let rep = *reps.first().context("no reps")?;
    let runs = options.runs.max(1);

    // One rep's statement, and every statement of the quarter: computed, stored, rolled back.
    let mut one = Vec::new();
    let mut all = Vec::new();
    let mut totals: BTreeMap<UserId, Decimal> = BTreeMap::new();
    let mut credited: BTreeMap<UserId, BTreeMap<i64, (pipewise_core::Date, Decimal)>> = BTreeMap::new();
    insights.with(|projection| -> Result<()> {
        for _ in 0..runs {
            let mut tx = store.write()?;
            let started = Instant::now();
            app::pay::compute_statement(&mut tx, &ctx, projection, rep, &key)?;
            one.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        for _ in 0..runs.min(5) {
            let mut tx = store.write()?;
            let started = Instant::now();
            let statements = app::pay::compute_statements(&mut tx, &ctx, projection, &key)?;
            all.push(started.elapsed().as_secs_f64() * 1000.0);
            totals = statements.iter().map(|pay| (pay.stored.user, pay.stored.total.amount())).collect();
            credited = statements
                .iter()
                .map(|pay| {
                    let credits = pay
                        .statement
                        .lines
                        .iter()
                        .filter_map(|line| Some((line.deal?.0, (line.credit.as_ref()?.booked_on, line.credit.as_ref()?.amount))))
                        .collect();
                    (pay.stored.user, credits)
                })
                .collect();
        }
        Ok(())
    })?;

    // The attainment figures: the leaderboard with every rep's stored quota, then team
    // attainment beside the share at quota.
    let book = app::quotas::quota_book(&mut store.read()?, org, &pipewise_core::access::Access::System, quarter.first, quarter.last)?;
    let minor = u32::from(organisation.reporting_currency.minor_units());
    let mut attainment = Vec::new();
    let mut share = String::new();
    insights.with(|projection| {
        for _ in 0..runs {
            let started = Instant::now();
            let mut query = DashboardQuery::new(day_of_date(today));
            query.period = Period::from(&quarter);
            query.scope = Scope::org();
            query.rep_quotas = projection
                .owner_ids
                .iter()
                .map(|user| {
                    book.users
                        .get(user)
                        .and_then(|quota| i64::try_from((*quota * Decimal::from(10_i64.pow(minor))).trunc().mantissa()).ok())
                })
                .collect();
            let rows = leaderboard(projection, &query);
            let results: Vec<pipewise_comp::RepResult> = rows
                .iter()
                .filter(|row| book.users.contains_key(&row.user_id))
                .map(|row| pipewise_comp::RepResult {
                    person: row.user_id,
                    bookings: Decimal::from_i128_with_scale(row.won_amount, minor),
                    quota: book.users.get(&row.user_id).copied(),
                })
                .collect();
            let team = pipewise_comp::team_attainment(&results, None);
            attainment.push(started.elapsed().as_secs_f64() * 1000.0);
            share = format!(
                "{} reps, attainment {:.1}%, {} of {} at quota",
                results.len(),
                team.attainment.unwrap_or_default() * Decimal::ONE_HUNDRED,
                team.reps_at_quota,
                team.reps_with_quota
            );
        }
    });

    let deals = insights.with(|projection| projection.n_deals());
    println!("\n{deals} deals, {} reps, quarter {key}: {}", reps.len(), share);
    println!("figure | Pipewise ms (median of {runs})");
    println!("one rep's statement | {:.2}", median(one.clone()));
    println!("all {} statements of the quarter | {:.1}", totals.len(), median(all.clone()));
    println!("attainment figures (leaderboard + team vs share at quota) | {:.2}", median(attainment.clone()));

    // The same totals in DuckDB.
    std::fs::create_dir_all(&options.out)?;
    // The credits exactly as Pipewise made them (each deal's amount in the plan's currency at its
    // close date's rate): DuckDB checks the pay rules, not the conversion.
    let won_path = options.out.join("won.csv");
    let mut won_file = std::io::BufWriter::new(std::fs::File::create(&won_path)?);
    writeln!(won_file, "owner,closed_day,deal,amount")?;
    for (user, credits) in &credited {
        for (deal, (day, amount)) in credits {
            writeln!(won_file, "{},{},{},{}", user.0, day_of_date(*day), deal, amount)?;
        }
    }
    won_file.flush()?;
    let mut quota_file = std::io::BufWriter::new(std::fs::File::create(options.out.join("quotas.csv"))?);
    writeln!(quota_file, "owner,quota")?;
    for (user, quota) in &book.users {
        writeln!(quota_file, "{},{}", user.0, quota)?;
    }
    quota_file.flush()?;
    let mut totals_file = std::io::BufWriter::new(std::fs::File::create(options.out.join("pipewise_totals.csv"))?);
    writeln!(totals_file, "owner,total")?;
    for (user, total) in &totals {
        writeln!(totals_file, "{},{}", user.0, total)?;
    }
    totals_file.flush()?;
    std::fs::write(
        options.out.join("pipewise_timings.json"),
        serde_json::json!({ "one": median(one), "all": median(all), "attainment": median(attainment), "runs": runs }).to_string(),
    )?;
    if options.skip_duckdb {
        return Ok(());
    }
    run_reference("duckdb_pay.py", &options.out, runs)
}
