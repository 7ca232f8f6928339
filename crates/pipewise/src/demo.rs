//! `pipewise demo`: generates the demo organisation into a SQLite file with a progress bar per
//! phase, prints one login per role, then serves it. With `--scale`, generates the scale data
//! set (any size, SQLite or PostgreSQL) with a progress bar per phase and reports its time,
//! size and peak memory.

use pipewise_app as app;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipewise_app::{Db, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::{Timestamp, time::parse_date};
use pipewise_demo::{DemoConfig, DemoCounts, ScaleConfig, ScalePhase};
use pipewise_store::Store;
use pipewise_store_sqlite::SqliteStore;

/// The demo's "today": 17:00 UTC on `--today`, or now.
fn demo_now(today: Option<&str>) -> Result<Timestamp> {
    Ok(match today {
        Some(text) => {
            let date = parse_date(text).map_err(|problem| anyhow::anyhow!("--today: {problem}"))?;
            Timestamp::start_of_day(date).plus_seconds(17 * 3600)
        }
        None => Timestamp::from_jiff(jiff::Timestamp::now()),
    })
}

fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

pub fn run(db: &str, seed: u64, today: Option<&str>, addr: &str, no_serve: bool) -> Result<()> {
    if is_postgres(db) {
        bail!(crate::Hinted {
            error: "the standard demo writes a SQLite file".into(),
            hint: "pass a file path with --db, or add --scale to generate into PostgreSQL".into(),
        });
    }
    let path = Path::new(db);
    let now = demo_now(today)?;
    prepare_file(path)?;
    let store = SqliteStore::open(path).with_context(|| format!("cannot create {}", path.display()))?;
    store.migrate()?;
    let store = Db::new(Arc::new(store));
    let started = Instant::now();
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len}").expect("a valid template").progress_chars("=> "));
    let config = DemoConfig::standard(seed, now);
    let summary = pipewise_demo::generate(&store, &config, &mut |phase, done, total| {
        bar.set_message(phase.label());
        bar.set_length(total);
        bar.set_position(done);
    })
    .context("generating the demo failed")?;
    bar.finish_and_clear();
    let DemoCounts { users, accounts, contacts, history_events, activities, tasks, leads, .. } = &summary.counts;
    eprintln!(
        "generated the demo in {:.1} s: {users} users, {accounts} accounts, {contacts} contacts, {}, {history_events} history events, \
         {activities} activities, {tasks} tasks, {leads} leads",
        started.elapsed().as_secs_f64(),
        deals_line(&summary.counts),
    );
    set_demo_passwords(&store, summary.organisation, &summary.users)?;
    println!("Demo database: {}", path.display());
    println!("Sign in as any of these, password {DEMO_PASSWORD:?}:");
    for (role, email) in &summary.users {
        println!("  {:<8} {email}", role.as_str());
    }
    if no_serve {
        return Ok(());
    }
    crate::serve::init_log(crate::serve::LogFormat::Text)?;
    crate::serve::serve(store, addr, false, Default::default(), None, crate::serve::default_snapshots(&path.display().to_string()))
}

/// What the summary of a generated data set says of its deals: `12 deals (5 open, 4 won, 2 lost,
/// 1 dropped at stage 1)`.
fn deals_line(counts: &DemoCounts) -> String {
    let DemoCounts { opportunities, open, won, lost, dropped, .. } = counts;
    format!("{opportunities} deals ({open} open, {won} won, {lost} lost, {dropped} dropped at stage 1)")
}

/// The password of the demo's printed logins.
pub const DEMO_PASSWORD: &str = "pipewise-demo";

fn set_demo_passwords(store: &Db, organisation: pipewise_core::OrgId, users: &[(pipewise_core::user::Role, String)]) -> Result<()> {
    let hash = pipewise_app::auth::hash_password(DEMO_PASSWORD).map_err(|error| anyhow::anyhow!("the demo password: {error}"))?;
    let ctx = WriteCtx { org: organisation, actor_id: None, source: Source::Demo, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    store.transact(|tx| {
        for (_, email) in users {
            if let Some(user) = app::users::user_by_email(tx, organisation, email)? {
                app::auth::set_password_hash(tx, &ctx, user.id, &hash, None)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// The sizes of `pipewise demo --scale`.
pub struct ScaleSizes {
    pub reps: u32,
    pub opportunities: u64,
    pub history: Option<u64>,
    pub activities: u64,
    pub chunk: u32,
}

/// `pipewise demo --scale`: the scale data set into a fresh SQLite file or an empty PostgreSQL
/// database, then its time, size and peak memory on stderr, the logins on stdout.
pub fn run_scale(db: &str, seed: u64, today: Option<&str>, sizes: &ScaleSizes, addr: &str, no_serve: bool) -> Result<()> {
    let now = demo_now(today)?;
    let mut config = ScaleConfig::new(seed, now, sizes.reps, sizes.opportunities, sizes.history, sizes.activities);
    config.chunk_deals = sizes.chunk;
    config.check().map_err(|errors| crate::Hinted { error: errors.to_string(), hint: "see pipewise demo --help".into() })?;
    let store: Db = if is_postgres(db) {
        let store = crate::db::open(db)?;
        let existing = app::users::organisations(&mut store.read()?)?;
        if !existing.is_empty() {
            bail!(crate::Hinted {
                error: format!(
                    "{} already holds {} organisation(s); the scale data set goes into an empty database",
                    crate::db::redact(db),
                    existing.len()
                ),
                hint: "create a fresh database (createdb) and pass its URL with --db".into(),
            });
        }
        store
    } else {
        let path = Path::new(db);
        prepare_file(path)?;
        let store = SqliteStore::open(path).with_context(|| format!("cannot create {}", path.display()))?;
        store.migrate()?;
        Db::new(Arc::new(store))
    };
    let started = Instant::now();
    let style = ProgressStyle::with_template("{msg:>9} [{bar:30}] {human_pos}/{human_len} {per_sec:>12} {elapsed_precise} eta {eta}")
        .expect("a valid template")
        .progress_chars("=> ");
    let mut bar: Option<(ScalePhase, ProgressBar)> = None;
    let summary = pipewise_demo::generate_scale(&store, &config, &mut |phase, done, total| {
        if bar.as_ref().is_none_or(|(current, _)| *current != phase) {
            if let Some((_, finished)) = bar.take() {
                finished.finish();
            }
            let fresh = ProgressBar::new(total).with_style(style.clone()).with_message(phase.label());
            bar = Some((phase, fresh));
        }
        if let Some((_, bar)) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .context("generating the scale data set failed")?;
    if let Some((_, finished)) = bar.take() {
        finished.finish();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counts = &summary.counts;
    let DemoCounts { users, teams, accounts, contacts, history_events, activities, .. } = counts;
    let (chunks, largest) = (summary.chunks, &summary.largest_chunk);
    eprintln!(
        "generated the scale data set in {elapsed:.1} s: {users} users, {teams} teams, {accounts} accounts, {contacts} contacts, {}, \
         {history_events} history events ({:.1} per deal), {activities} activities; {chunks} chunks, the largest {} deals / {} \
         history events / {} activities",
        deals_line(counts),
        counts.history_events as f64 / counts.opportunities.max(1) as f64,
        largest.deals,
        largest.history_events,
        largest.activities,
    );
    if let Some(note) = summary.history_note(&config) {
        eprintln!("warning: {note}");
    }
    match database_size(&store) {
        Some(bytes) => eprintln!("database size: {:.1} MiB", bytes as f64 / (1024.0 * 1024.0)),
        None => eprintln!("database size: unknown"),
    }
    match peak_rss_kib() {
        Some(kib) => eprintln!("peak resident memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => eprintln!("peak resident memory: unknown (no /proc/self/status)"),
    }
    set_demo_passwords(&store, summary.organisation, &summary.users)?;
    println!("Scale database: {}", crate::db::redact(db));
    println!("Sign in as any of these, password {DEMO_PASSWORD:?}:");
    for (role, email) in &summary.users {
        println!("  {:<8} {email}", role.as_str());
    }
    if no_serve {
        return Ok(());
    }
    crate::serve::init_log(crate::serve::LogFormat::Text)?;
    crate::serve::serve(store, addr, false, Default::default(), None, crate::serve::default_snapshots(db))
}

/// The process's peak resident set size in KiB, from `VmHWM` in `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Bytes the database takes: SQLite's pages (what the file holds once its WAL is checkpointed)
/// or the PostgreSQL database's size.
fn database_size(store: &Db) -> Option<u64> {
    app::bulk::database_size(&mut store.read().ok()?).ok()
}

/// Removes a previous demo file so the demo starts fresh; refuses to touch any other database.
fn prepare_file(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let is_demo = SqliteStore::open(path).ok().and_then(|store| store.read().ok()?.organisations().ok()).is_some_and(|organisations| {
        !organisations.is_empty() && organisations.iter().all(|organisation| organisation.name == pipewise_demo::ORGANISATION_NAME)
    });
    if !is_demo {
        bail!(crate::Hinted {
            error: format!("{} exists and is not a Pipewise demo database; it was left alone", path.display()),
            hint: "choose another file with --db".into(),
        });
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file).with_context(|| format!("cannot remove the old demo file {file}"))?;
        }
    }
    Ok(())
}
