//! `pipewise bench import`: a large opportunities import (issue 14, point 3), side by side with
//! the database's own bulk load of the same file, in one run.
//!
//! 1. Writes the file: the real Maven CRM set's 8,800 deals repeated (each copy's ids suffixed)
//!    to `--rows` lines, Won, Lost, Engaging and Prospecting rows with their flaws.
//! 2. For SQLite (always) and PostgreSQL (with `--pg URL`, in a schema of its own that is dropped
//!    after): an organisation with the Maven team and accounts, then the file imported all or
//!    nothing, with its history (`pipewise_app::imports`, as `pipewise import` runs it), timed,
//!    with the resident memory before and after. Then the same file with one bad line near its
//!    end: refused, and nothing left behind (counted).
//! 3. The reference on the same file: `sqlite3`'s `.import --csv` into a table of text columns,
//!    and PostgreSQL's `COPY … FROM STDIN (FORMAT csv)`. Both load the raw text only: no
//!    validation, no names resolved, no history. Printed side by side in rows/s.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pipewise_app as app;
use pipewise_app::imports::{ImportOptions, ImportReport, Kind};
use pipewise_app::{Db, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_core::money::Currency;
use pipewise_core::user::{Locale, NewUser, Role};
use pipewise_store::Store;

use crate::bench::{mib, rss_kib};

pub struct ImportBenchOptions {
    pub rows: u64,
    pub maven: PathBuf,
    pub out: PathBuf,
    pub pg: Option<String>,
}

/// One engine's figures.
struct Timing {
    engine: &'static str,
    pipewise_seconds: f64,
    reference: &'static str,
    reference_seconds: Option<f64>,
}

pub fn import_bench(options: &ImportBenchOptions) -> Result<()> {
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let file = options.out.join(format!("opportunities-{}.csv", options.rows));
    let started = Instant::now();
    write_file(&options.maven.join("sales_pipeline.csv"), &file, options.rows, None)?;
    let bad = options.out.join(format!("opportunities-{}-bad.csv", options.rows));
    write_file(&options.maven.join("sales_pipeline.csv"), &bad, options.rows, Some(options.rows.saturating_sub(1)))?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "file: {} ({} rows, {:.1} MiB), written in {:.1} s",
        file.display(),
        options.rows,
        size as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    let mut timings = Vec::new();
    let sqlite_path = options.out.join("import-bench.db");
    for path in [&sqlite_path, &sqlite_path.with_extension("db-wal"), &sqlite_path.with_extension("db-shm")] {
        let _ = std::fs::remove_file(path);
    }
    let store: Arc<dyn Store> = Arc::from(crate::db::open_store(sqlite_path.to_str().context("a UTF-8 path")?)?);
    let pipewise_seconds = run_engine("SQLite", store, options, &file, &bad)?;
    let reference_seconds = sqlite_reference(&file, &options.out)?;
    timings.push(Timing { engine: "SQLite", pipewise_seconds, reference: "sqlite3 .import", reference_seconds });

    if let Some(url) = &options.pg {
        let schema = format!("bench_import_{}", std::process::id());
        let mut client =
            postgres::Client::connect(url, postgres::NoTls).with_context(|| format!("cannot connect to {}", crate::db::redact(url)))?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))?;
        let result = (|| -> Result<(f64, f64)> {
            let store: Arc<dyn Store> = Arc::new(pipewise_store_postgres::PgStore::connect_with_schema(url, &schema)?);
            store.migrate()?;
            let pipewise_seconds = run_engine("PostgreSQL", store, options, &file, &bad)?;
            Ok((pipewise_seconds, postgres_reference(&mut client, &schema, &file)?))
        })();
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
        let (pipewise_seconds, copy_seconds) = result?;
        timings.push(Timing {
            engine: "PostgreSQL",
            pipewise_seconds,
            reference: "COPY FROM STDIN",
            reference_seconds: Some(copy_seconds),
        });
    }

    println!();
    println!("{:<11} {:>16} {:>12}   {:<16} {:>12} {:>12}", "engine", "pipewise import", "rows/s", "reference", "seconds", "rows/s");
    for timing in &timings {
        let rate = |seconds: f64| options.rows as f64 / seconds;
        let (reference_seconds, reference_rate) = match timing.reference_seconds {
            Some(seconds) => (format!("{seconds:.1}"), format!("{:.0}", rate(seconds))),
            None => ("(missing)".to_owned(), String::new()),
        };
        println!(
            "{:<11} {:>14.1} s {:>12.0}   {:<16} {:>12} {:>12}",
            timing.engine,
            timing.pipewise_seconds,
            rate(timing.pipewise_seconds),
            timing.reference,
            reference_seconds,
            reference_rate
        );
    }
    println!("(the references load raw text; Pipewise checks every cell, resolves names, gates and writes each deal's history)");
    Ok(())
}

/// The Maven file repeated to `rows` lines; with `bad_at`, that data line (1-based) has an
/// impossible engage date.
fn write_file(maven: &Path, out: &Path, rows: u64, bad_at: Option<u64>) -> Result<()> {
    let source = std::fs::read_to_string(maven).with_context(|| format!("cannot read {}", maven.display()))?;
    let mut lines = source.lines();
    let header = lines.next().context("an empty Maven file")?;
    let body: Vec<&str> = lines.filter(|line| !line.trim().is_empty()).collect();
    let mut writer =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?);
    writeln!(writer, "{header}")?;
    for index in 0..rows {
        let line = body[(index % body.len() as u64) as usize];
        let copy = index / body.len() as u64;
        let (id, rest) = line.split_once(',').context("a Maven line without an id")?;
        if bad_at == Some(index + 1) {
            let cells: Vec<&str> = rest.split(',').collect();
            writeln!(writer, "{id}-{copy},{},{},{},{},2017-02-30,{},{}", cells[0], cells[1], cells[2], cells[3], cells[5], cells[6])?;
        } else {
            writeln!(writer, "{id}-{copy},{rest}")?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// An organisation with the Maven team (the 35 agents as reps under their 6 managers), the
/// Simple pipeline first, an ops user, and the Maven accounts imported.
fn set_up(store: &Db, maven: &Path) -> Result<WriteCtx> {
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let teams = std::fs::read_to_string(maven.join("sales_teams.csv"))?;
    let ctx = store.transact(|tx| {
        let organisation = app::users::create_organisation(tx, "Maven import bench", Currency::USD, now)?;
        let system = WriteCtx { org: organisation.id, actor_id: None, source: Source::System, at: now };
        app::records::create_pipeline(tx, &system, pipewise_core::templates::simple())?;
        app::records::create_pipeline(tx, &system, pipewise_core::templates::b2b_the_model())?;
        let user = |email: String, name: &str, role, manager_id| NewUser {
            email,
            name: name.to_owned(),
            role,
            manager_id,
            team_id: None,
            time_zone: "UTC".into(),
            locale: Locale::En,
        };
        let ops = app::users::create_user(tx, &system, user("ops@maven.test".into(), "Olga Ops", Role::Ops, None))?;
        let mut managers = std::collections::HashMap::new();
        for line in teams.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let [agent, manager, ..] = cells.as_slice() else { continue };
            let email = |name: &str| format!("{}@maven.test", name.to_lowercase().replace(' ', "."));
            let manager_id = match managers.get(*manager) {
                Some(id) => *id,
                None => {
                    let id = app::users::create_user(tx, &system, user(email(manager), manager, Role::Manager, None))?.id;
                    managers.insert(manager.to_string(), id);
                    id
                }
            };
            app::users::create_user(tx, &system, user(email(agent), agent, Role::Rep, Some(manager_id)))?;
        }
        Ok(WriteCtx { actor_id: Some(ops.id), source: Source::Import, ..system })
    })?;
    let accounts = std::fs::File::open(maven.join("accounts.csv"))?;
    let report = app::imports::import(store, &ctx, accounts, &ImportOptions::new(Kind::Accounts), &mut |_| {})?;
    if !report.committed {
        bail!("the Maven accounts did not import: {:?}", report.errors.first());
    }
    Ok(ctx)
}

fn maven_options() -> ImportOptions {
    let mut options = ImportOptions::new(Kind::Opportunities);
    options.stages = vec![("Engaging".into(), "Qualification".into())];
    options.historical = Some("Maven CRM history, recorded before our gates".into());
    options.default_loss_reason = Some("Not recorded in the Maven export".into());
    options
}

/// Imports `file` (timed) and then `bad` (refused, nothing left); returns the import's seconds.
fn run_engine(engine: &str, raw: Arc<dyn Store>, options: &ImportBenchOptions, file: &Path, bad: &Path) -> Result<f64> {
    let store = Db::new(raw);
    let ctx = set_up(&store, &options.maven)?;
    // The bad file's ids are of another system, so it creates every row again until its bad line.
    let import = |path: &Path, system: &str| -> Result<(ImportReport, f64)> {
        let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        let options = ImportOptions { system: Some(system.to_owned()), ..maven_options() };
        let started = Instant::now();
        let report = app::imports::import(
            &store,
            &WriteCtx { at: Timestamp::from_jiff(jiff::Timestamp::now()), ..ctx },
            reader,
            &options,
            &mut |_| {},
        )?;
        Ok((report, started.elapsed().as_secs_f64()))
    };
    let before = rss_kib();
    let (report, seconds) = import(file, "maven")?;
    let after = rss_kib();
    if !report.committed || report.created != options.rows {
        bail!("{engine}: the import did not commit every row: {} created, first problem {:?}", report.created, report.errors.first());
    }
    println!(
        "{engine}: imported {} rows in {seconds:.1} s ({:.0} rows/s), resident memory {:.0} → {:.0} MiB (peak {:.0} MiB)",
        report.rows,
        report.rows as f64 / seconds,
        mib(before),
        mib(after),
        mib(peak_kib())
    );
    let deals = |store: &Db| -> Result<i64> { Ok(app::bulk::count(&mut store.read()?, ctx.org, app::RecordKind::Opportunity)?) };
    let kept = deals(&store)?;
    let (refused, refused_seconds) = import(bad, "maven-again")?;
    let first = refused.errors.first().map(ToString::to_string).unwrap_or_default();
    println!(
        "{engine}: the same rows again with a bad line at line {}: refused in {refused_seconds:.1} s ({} problem: {first}); deals before {kept}, after {}",
        options.rows.saturating_sub(1) + 1,
        refused.error_count,
        deals(&store)?
    );
    if refused.committed || deals(&store)? != kept {
        bail!("{engine}: a bad line left something behind");
    }
    Ok(seconds)
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("VmHWM:")).and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// `sqlite3`'s own CSV import of the file into a fresh database, timed; `None` (said loudly)
/// when the `sqlite3` program is missing.
fn sqlite_reference(file: &Path, out: &Path) -> Result<Option<f64>> {
    let db = out.join("sqlite3-import.db");
    let _ = std::fs::remove_file(&db);
    let started = Instant::now();
    let status = std::process::Command::new("sqlite3").arg(&db).arg(format!(".import --csv {} deal", file.display())).status();
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&db);
    match status {
        Ok(status) if status.success() => Ok(Some(seconds)),
        Ok(status) => bail!("sqlite3 .import failed: {status}"),
        Err(error) => {
            eprintln!("REFERENCE MISSING: cannot run sqlite3 ({error}); install the sqlite3 package");
            Ok(None)
        }
    }
}

/// PostgreSQL's `COPY` of the file into a table of text columns, timed.
fn postgres_reference(client: &mut postgres::Client, schema: &str, file: &Path) -> Result<f64> {
    let header = BufReader::new(std::fs::File::open(file)?).lines().next().context("an empty file")??;
    let columns: Vec<String> = header.split(',').map(|column| format!("{column} text")).collect();
    client.batch_execute(&format!("CREATE TABLE {schema}.copied ({})", columns.join(", ")))?;
    let started = Instant::now();
    let mut writer = client.copy_in(&format!("COPY {schema}.copied FROM STDIN (FORMAT csv, HEADER true)"))?;
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
    std::io::copy(&mut reader, &mut writer)?;
    let copied = writer.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    println!("PostgreSQL: COPY loaded {copied} rows in {seconds:.1} s");
    Ok(seconds)
}
