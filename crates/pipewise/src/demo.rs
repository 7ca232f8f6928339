//! `pipewise demo`: generates the demo organisation into a SQLite file with a progress bar per
//! phase, prints one login per role, then serves it.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipewise_core::history::Source;
use pipewise_core::{Timestamp, time::parse_date};
use pipewise_demo::DemoConfig;
use pipewise_store::{Store, WriteCtx, ops, transact};
use pipewise_store_sqlite::SqliteStore;

pub fn run(path: &Path, seed: u64, today: Option<&str>, addr: &str, no_serve: bool) -> Result<()> {
    let now = match today {
        Some(text) => {
            let date = parse_date(text).map_err(|problem| anyhow::anyhow!("--today: {problem}"))?;
            Timestamp::start_of_day(date).plus_seconds(17 * 3600)
        }
        None => Timestamp::from_jiff(jiff::Timestamp::now()),
    };
    prepare_file(path)?;
    let store = SqliteStore::open(path).with_context(|| format!("cannot create {}", path.display()))?;
    store.migrate()?;
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
    let counts = &summary.counts;
    eprintln!(
        "generated the demo in {:.1} s: {} users, {} accounts, {} contacts, {} deals ({} open, {} won, {} lost, {} dropped at stage 1), \
         {} history events, {} activities, {} tasks, {} leads",
        started.elapsed().as_secs_f64(),
        counts.users,
        counts.accounts,
        counts.contacts,
        counts.opportunities,
        counts.open,
        counts.won,
        counts.lost,
        counts.dropped,
        counts.history_events,
        counts.activities,
        counts.tasks,
        counts.leads
    );
    set_demo_passwords(&store, &summary)?;
    println!("Demo database: {}", path.display());
    println!("Sign in as any of these, password {DEMO_PASSWORD:?}:");
    for (role, email) in &summary.users {
        println!("  {:<8} {email}", role.as_str());
    }
    if no_serve {
        return Ok(());
    }
    crate::serve::serve(Arc::new(store) as Arc<dyn Store>, addr, false)
}

/// The password of the demo's printed logins.
pub const DEMO_PASSWORD: &str = "pipewise-demo";

fn set_demo_passwords(store: &SqliteStore, summary: &pipewise_demo::DemoSummary) -> Result<()> {
    let hash = pipewise_web::auth::hash_password(DEMO_PASSWORD)
        .map_err(|error| anyhow::anyhow!("cannot hash the demo password: {}", error.detail()))?;
    let ctx =
        WriteCtx { org: summary.organisation, actor_id: None, source: Source::Demo, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    transact(store, |tx| {
        for (_, email) in &summary.users {
            if let Some(user) = tx.user_by_email(summary.organisation, email)? {
                ops::set_password_hash(tx, &ctx, user.id, &hash, None)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Removes a previous demo file so the demo starts fresh; refuses to touch any other database.
fn prepare_file(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let is_demo = SqliteStore::open(path)
        .ok()
        .and_then(|store| store.read().ok()?.organisations().ok())
        .is_some_and(|organisations| organisations.iter().all(|organisation| organisation.name == pipewise_demo::ORGANISATION_NAME));
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
