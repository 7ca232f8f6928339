//! `pipewise capture`: `.eml`, mbox and `.ics` files (or folders of them) logged as activities
//! (see `pipewise_app::capture`). The report goes to stdout (a summary and every refusal with its
//! file, place and reason, or JSON with `--json`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pipewise_app as app;
use pipewise_app::capture::{CaptureFile, CaptureOptions, CaptureReport};
use pipewise_app::{StoreError, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_core::user::Locale;
use pipewise_web::error::AppError;
use pipewise_web::i18n;
use serde_json::json;

pub struct CaptureArgs<'a> {
    pub db: &'a str,
    pub org: Option<i64>,
    pub actor: Option<&'a str>,
    pub paths: &'a [PathBuf],
    pub dry_run: bool,
    pub keep_unmatched: bool,
    pub json: bool,
}

pub fn run(args: &CaptureArgs<'_>) -> Result<()> {
    let mut paths = Vec::new();
    for path in args.paths {
        collect(path, &mut paths)?;
    }
    if paths.is_empty() {
        bail!("no file to capture: name .eml, .mbox or .ics files, or folders holding them");
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut total = 0usize;
    for path in &paths {
        let size = std::fs::metadata(path).map(|metadata| metadata.len() as usize).unwrap_or(0);
        total = total.saturating_add(size);
        if files.len() >= app::capture::MAX_FILES || total > app::capture::MAX_TOTAL_BYTES {
            bail!("too much at once: at most {} files and 256 MiB per capture; {} is over", app::capture::MAX_FILES, path.display());
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        files.push(CaptureFile { name: path.display().to_string(), bytes });
    }
    let store = crate::db::open(args.db)?;
    let org = crate::init::pick_organisation(&store, args.org)?;
    let actor_id = crate::init::actor_of(&store, org, args.actor)?;
    let ctx = WriteCtx { org, actor_id, source: Source::Import, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    let options = CaptureOptions { dry_run: args.dry_run, keep_unmatched: args.keep_unmatched, source: None };
    let started = std::time::Instant::now();
    let report = match app::capture::capture(&store, &ctx, &files, &options) {
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
    Ok(())
}

/// `path` itself, or the files under a folder (sorted, hidden ones left out).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !path.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read the folder {}", path.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| !path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.')))
        .collect();
    entries.sort();
    for entry in entries {
        collect(&entry, out)?;
    }
    Ok(())
}

fn worded_refusals(report: &CaptureReport) -> Vec<String> {
    worded(&report.refused)
}

fn worded(refusals: &[app::capture::CaptureRefusal]) -> Vec<String> {
    refusals
        .iter()
        .map(|refusal| {
            let place = match refusal.number {
                0 => refusal.file.clone(),
                number if refusal.line > 0 => format!("{} #{number} (line {})", refusal.file, refusal.line),
                number => format!("{} #{number}", refusal.file),
            };
            let id = refusal.id.as_ref().map(|id| format!(" <{id}>")).unwrap_or_default();
            format!("{place}{id}: {}", i18n::message(Locale::En, &refusal.reason))
        })
        .collect()
}

fn report_json(report: &CaptureReport, seconds: f64) -> serde_json::Value {
    json!({
        "files": report.files,
        "items": report.items,
        "emails": report.emails,
        "meetings": report.meetings,
        "with_contacts": report.with_contacts,
        "with_account": report.with_account,
        "with_deal": report.with_deal,
        "duplicates": report.duplicates,
        "refused_count": report.refused_count,
        "refused": worded_refusals(report),
        "commands_applied": report.commands_applied,
        "command_errors": worded(&report.command_errors),
        "committed": report.committed,
        "seconds": (seconds * 1000.0).round() / 1000.0,
    })
}

fn report_text(report: &CaptureReport, dry_run: bool, seconds: f64) -> String {
    let verb = if report.committed { "logged" } else { "would log" };
    let plural = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let mut out = format!(
        "{} files, {} messages and events read in {seconds:.1} s: {verb} {} and {} ({} with contacts, {} with an account, {} on a deal); {} duplicates; {} refused\n",
        report.files,
        report.items,
        plural(report.emails, "e-mail", "e-mails"),
        plural(report.meetings, "meeting", "meetings"),
        report.with_contacts,
        report.with_account,
        report.with_deal,
        report.duplicates,
        report.refused_count
    );
    for refusal in worded_refusals(report) {
        out.push_str(&format!("  {refusal}\n"));
    }
    let unlisted = report.refused_count.saturating_sub(report.refused.len());
    if unlisted > 0 {
        out.push_str(&format!("  … and {unlisted} more\n"));
    }
    if report.commands_applied > 0 || !report.command_errors.is_empty() {
        out.push_str(&format!("{} commands in mail applied; {} not:\n", report.commands_applied, report.command_errors.len()));
        for error in worded(&report.command_errors) {
            out.push_str(&format!("  {error}\n"));
        }
    }
    if dry_run {
        out.push_str("dry run: nothing was written\n");
    }
    out
}
