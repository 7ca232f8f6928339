//! `pipewise import`: a CSV export of accounts, contacts, leads, opportunities or activities, checked line by line and
//! written all or nothing (see `pipewise_app::imports`). The report goes to stdout (a table, or
//! JSON with `--json`), progress to stderr; the exit status is non-zero unless the file was
//! imported (a dry run that found no problem succeeds).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipewise_app as app;
use pipewise_app::imports::{Choice, DateOrder, ImportOptions, ImportReport, Kind};
use pipewise_app::{StoreError, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_core::user::Locale;
use pipewise_web::error::AppError;
use pipewise_web::i18n;
use serde_json::json;

/// What the command line asked for.
pub struct ImportArgs<'a> {
    pub db: &'a str,
    pub org: Option<i64>,
    pub actor: Option<&'a str>,
    pub kind: &'a str,
    pub file: &'a Path,
    pub map: &'a [String],
    pub stages: &'a [String],
    pub pipeline: Option<String>,
    pub default_owner: Option<String>,
    pub default_loss_reason: Option<String>,
    pub historical: Option<String>,
    pub day_first: bool,
    pub system: Option<String>,
    pub dry_run: bool,
    pub json: bool,
}

pub fn run(args: &ImportArgs<'_>) -> Result<()> {
    let Some(kind) = Kind::parse(args.kind) else {
        bail!("cannot import {:?}: choose accounts, contacts, leads, opportunities or activities", args.kind)
    };
    let mut options = ImportOptions::new(kind);
    for choice in args.map {
        options
            .choices
            .push(Choice::parse(choice).map_err(|problem| anyhow::anyhow!("--map {choice}: {}", i18n::problem(Locale::En, &problem)))?);
    }
    for stage in args.stages {
        let (from, to) =
            stage.split_once('=').with_context(|| format!("--stage {stage:?}: write the file's stage=the pipeline's stage"))?;
        options.stages.push((from.trim().to_owned(), to.trim().to_owned()));
    }
    options.pipeline = args.pipeline.clone();
    options.default_owner = args.default_owner.clone();
    options.default_loss_reason = args.default_loss_reason.clone();
    options.historical = args.historical.clone();
    options.date_order = if args.day_first { DateOrder::DayFirst } else { DateOrder::MonthFirst };
    options.system = args.system.clone();
    options.dry_run = args.dry_run;

    let store = crate::db::open(args.db)?;
    let org = crate::init::pick_organisation(&store, args.org)?;
    let actor_id = crate::init::actor_of(&store, org, args.actor)?;
    let file = File::open(args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {elapsed}").expect("a valid template").progress_chars("=> "),
    );
    bar.set_message(if args.dry_run { "checking" } else { "importing" });
    let ctx = WriteCtx { org, actor_id, source: Source::Import, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    let started = std::time::Instant::now();
    let result =
        app::imports::import(&store, &ctx, BufReader::with_capacity(1 << 20, file), &options, &mut |bytes| bar.set_position(bytes));
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(StoreError::Invalid(errors)) => bail!("{}", AppError::Invalid(errors).detail()),
        Err(error) => return Err(error.into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", report_json(&report, seconds));
    } else {
        print!("{}", report_text(&report, args.dry_run, seconds));
    }
    if report.error_count > 0 {
        bail!("{} problem(s) found: nothing was imported", report.error_count);
    }
    Ok(())
}

fn worded_errors(report: &ImportReport) -> Vec<String> {
    report
        .errors
        .iter()
        .map(|error| {
            let mut place = format!("line {}", error.line);
            if let Some(column) = &error.column {
                place.push_str(&format!(", column {column:?}"));
            }
            if let Some(field) = error.field {
                place.push_str(&format!(" ({field})"));
            }
            format!("{place}: {}", i18n::problem(Locale::En, &error.problem))
        })
        .collect()
}

fn report_json(report: &ImportReport, seconds: f64) -> serde_json::Value {
    json!({
        "kind": report.kind.as_str(),
        "vendor": report.vendor.map(|vendor| vendor.as_str()),
        "system": report.system,
        "mapping": report.mapping.iter().map(|(header, field)| json!({ "column": header, "field": field.map(|field| field.key()) })).collect::<Vec<_>>(),
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "accounts_created": report.accounts_created,
        "undated": report.undated,
        "error_count": report.error_count,
        "problems_by_field": report.problems_by_field.iter().map(|(field, count)| json!({ "field": field.map(|field| field.key()), "count": count })).collect::<Vec<_>>(),
        "errors": worded_errors(report),
        "committed": report.committed,
        "seconds": (seconds * 1000.0).round() / 1000.0,
    })
}

fn report_text(report: &ImportReport, dry_run: bool, seconds: f64) -> String {
    let mut out = String::new();
    let vendor = report.vendor.map_or("no particular CRM", |vendor| vendor.as_str());
    out.push_str(&format!("{} file; headers look like {vendor}; external ids of system {:?}\n", report.kind.as_str(), report.system));
    for (header, field) in &report.mapping {
        out.push_str(&format!("  {header:<32} → {}\n", field.map_or("(ignored)", |field| field.key())));
    }
    let verb = if report.committed {
        "imported"
    } else if dry_run && report.error_count == 0 {
        "would import"
    } else {
        "read"
    };
    out.push_str(&format!(
        "{} rows {verb} in {seconds:.1} s ({:.0} rows/s): {} created, {} updated, {} unchanged",
        report.rows,
        report.rows as f64 / seconds.max(1e-9),
        report.created,
        report.updated,
        report.unchanged
    ));
    if report.accounts_created > 0 {
        out.push_str(&format!("; {} new accounts", report.accounts_created));
    }
    out.push('\n');
    if report.undated > 0 {
        out.push_str(&format!("{} deals have no creation date: they are created at the import's time\n", report.undated));
    }
    if report.error_count > 0 {
        let by_field: Vec<String> = report
            .problems_by_field
            .iter()
            .map(|(field, count)| format!("{count} in {}", field.map_or("whole lines", |field| field.key())))
            .collect();
        out.push_str(&format!("{} problems ({}); nothing was written:\n", report.error_count, by_field.join(", ")));
    }
    for error in worded_errors(report) {
        out.push_str(&format!("  {error}\n"));
    }
    let unlisted = report.error_count.saturating_sub(report.errors.len() as u64);
    if unlisted > 0 {
        out.push_str(&format!("  … and {unlisted} more\n"));
    }
    if !report.committed && report.error_count == 0 && dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    out
}
