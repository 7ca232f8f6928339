//! `pipewise bench capture`: the shared mail corpus replayed through the whole capture path
//! (issue 15, point 8), side by side with raw `mail-parser` parsing of the same messages, in one
//! run.
//!
//! 1. Reads every message of `--email` (mbox files split), and repeats them to `--messages`,
//!    each copy's Message-ID rewritten (the original kept as `X-Original-Message-ID`) so that
//!    none is a duplicate; the copies go into mbox files of 5,000 messages.
//! 2. The reference: `MessageParser::parse` over the same messages, nothing else.
//! 3. For SQLite (always) and PostgreSQL (with `--pg URL`, in a schema dropped after): an
//!    organisation with an account for every company domain of the corpus (so that messages
//!    match), then `pipewise_app::capture` over the files as `pipewise capture` runs it: split,
//!    parse, dedupe key, match, check, store, audit. Timed, with the resident memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use pipewise_app as app;
use pipewise_app::capture::{CaptureFile, CaptureOptions, CaptureReport};
use pipewise_app::{Db, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_core::money::Currency;
use pipewise_core::records::NewAccount;
use pipewise_core::user::{Locale, NewUser, Role};
use pipewise_store::Store;

use crate::bench::{mib, rss_kib};

pub struct CaptureBenchOptions {
    pub messages: usize,
    pub email: PathBuf,
    pub out: PathBuf,
    pub pg: Option<String>,
}

/// Messages per mbox file handed to one capture.
const PER_FILE: usize = 5_000;

pub fn capture_bench(options: &CaptureBenchOptions) -> Result<()> {
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let corpus = corpus(&options.email)?;
    let copies: Vec<Vec<u8>> = (0..options.messages).map(|index| rewritten(&corpus[index % corpus.len()], index)).collect();
    let bytes: usize = copies.iter().map(Vec::len).sum();
    println!(
        "corpus: {} messages from {}; replayed as {} messages ({:.1} MiB), each Message-ID rewritten",
        corpus.len(),
        options.email.display(),
        copies.len(),
        bytes as f64 / 1048576.0
    );
    let files: Vec<CaptureFile> = copies
        .chunks(PER_FILE)
        .enumerate()
        .map(|(index, chunk)| CaptureFile { name: format!("bench-{index:04}.mbox"), bytes: mbox(chunk) })
        .collect();

    // The reference: the parser alone, over the same messages.
    let started = Instant::now();
    let mut parsed = 0usize;
    for message in &copies {
        parsed += usize::from(mail_parser::MessageParser::default().parse(message).is_some());
    }
    let parse_seconds = started.elapsed().as_secs_f64();
    let domains = company_domains(&corpus);

    let mut rows = Vec::new();
    let sqlite_path = options.out.join("capture-bench.db");
    for path in [&sqlite_path, &sqlite_path.with_extension("db-wal"), &sqlite_path.with_extension("db-shm")] {
        let _ = std::fs::remove_file(path);
    }
    let store: Arc<dyn Store> = Arc::from(crate::db::open_store(sqlite_path.to_str().context("a UTF-8 path")?)?);
    rows.push(("SQLite", run_engine("SQLite", store, &domains, &files)?));
    if let Some(url) = &options.pg {
        let schema = format!("bench_capture_{}", std::process::id());
        let mut client =
            postgres::Client::connect(url, postgres::NoTls).with_context(|| format!("cannot connect to {}", crate::db::redact(url)))?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))?;
        let result = (|| -> Result<(CaptureReport, f64)> {
            let store: Arc<dyn Store> = Arc::new(pipewise_store_postgres::PgStore::connect_with_schema(url, &schema)?);
            store.migrate()?;
            run_engine("PostgreSQL", store, &domains, &files)
        })();
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
        rows.push(("PostgreSQL", result?));
    }

    println!();
    println!(
        "{:<11} {:>9} {:>9} {:>9} {:>10} {:>12}   {:<22} {:>10} {:>12}",
        "engine", "messages", "logged", "refused", "seconds", "messages/s", "reference", "seconds", "messages/s"
    );
    for (engine, (report, seconds)) in &rows {
        println!(
            "{:<11} {:>9} {:>9} {:>9} {:>10.2} {:>12.0}   {:<22} {:>10.2} {:>12.0}",
            engine,
            report.items,
            report.emails,
            report.refused_count,
            seconds,
            report.items as f64 / seconds,
            "mail-parser parse only",
            parse_seconds,
            copies.len() as f64 / parse_seconds
        );
    }
    println!(
        "(the reference parses {parsed} of {} messages and nothing else; Pipewise splits the mbox, parses, hashes, matches, checks, stores and audits)",
        copies.len()
    );
    Ok(())
}

/// Every message of the corpus folder (mbox files split), licences and parser expectations left out.
fn corpus(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    let mut messages = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        messages.extend(pipewise_capture::mailbox::split(&bytes).into_iter().map(|piece| piece.bytes.into_owned()));
    }
    anyhow::ensure!(!messages.is_empty(), "no message under {}", dir.display());
    Ok(messages)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.flatten().map(|entry| entry.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|name| name.to_string_lossy().to_lowercase()).unwrap_or_default();
        if path.is_dir() {
            walk(&path, out)?;
        } else if !["license", "copying", "copyright", "notice", "readme", "apache-2.0", "mit."].iter().any(|skip| name.starts_with(skip))
            && !name.ends_with(".json")
            && !name.ends_with(".py")
            && !path.to_string_lossy().contains("cjkencodings")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Copy `index` of a message: a new Message-ID first, any earlier one renamed.
fn rewritten(message: &[u8], index: usize) -> Vec<u8> {
    let mut out = format!("Message-ID: <bench-{index}@pipewise.bench>\r\n").into_bytes();
    let mut in_headers = true;
    for line in message.split_inclusive(|byte| *byte == b'\n') {
        if in_headers && line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
            out.extend_from_slice(b"X-Original-");
        }
        if line == b"\n" || line == b"\r\n" {
            in_headers = false;
        }
        out.extend_from_slice(line);
    }
    out
}

/// Messages as one mbox: a separator line before each, body lines that start with `From `
/// quoted with `>`.
fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(messages.iter().map(|message| message.len() + 64).sum());
    for message in messages {
        out.extend_from_slice(b"From bench@pipewise.bench Mon Jan  1 00:00:00 2024\n");
        for line in message.split_inclusive(|byte| *byte == b'\n') {
            let arrows = line.iter().take_while(|byte| **byte == b'>').count();
            if line[arrows..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !message.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// The company domains on the corpus's messages, so that the organisation has their accounts.
fn company_domains(corpus: &[Vec<u8>]) -> Vec<String> {
    let mut domains = std::collections::BTreeSet::new();
    for message in corpus {
        if let Ok(mail) = pipewise_capture::message::read(message) {
            for party in std::iter::once(&mail.from).chain(&mail.recipients) {
                domains.extend(pipewise_capture::company_domain(party.domain()));
            }
        }
    }
    domains.into_iter().collect()
}

/// An organisation with a rep and an account per domain, then every file captured as the rep;
/// the report and the capture's seconds.
fn run_engine(engine: &str, raw: Arc<dyn Store>, domains: &[String], files: &[CaptureFile]) -> Result<(CaptureReport, f64)> {
    let store = Db::new(raw);
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let ctx = store.transact(|tx| {
        let organisation = app::users::create_organisation(tx, "Capture bench", Currency::USD, now)?;
        let system = WriteCtx { org: organisation.id, actor_id: None, source: Source::System, at: now };
        let rep = app::users::create_user(
            tx,
            &system,
            NewUser {
                email: "rep@pipewise.bench".into(),
                name: "Ravi Rep".into(),
                role: Role::Rep,
                manager_id: None,
                team_id: None,
                time_zone: "UTC".into(),
                locale: Locale::En,
            },
        )?;
        for domain in domains {
            let account = NewAccount {
                name: domain.clone(),
                domains: vec![domain.clone()],
                industry: None,
                employee_count: None,
                region: None,
                owner_id: Some(rep.id),
            };
            // A domain the account rules refuse (an odd corpus address) is left out.
            let _ = app::records::create_account(tx, &system, account);
        }
        Ok(WriteCtx { actor_id: Some(rep.id), source: Source::Import, ..system })
    })?;
    let rss_before = rss_kib();
    let started = Instant::now();
    let mut total = CaptureReport::default();
    for file in files {
        let report = app::capture::capture(&store, &ctx, std::slice::from_ref(file), &CaptureOptions::default())?;
        total.items += report.items;
        total.emails += report.emails;
        total.duplicates += report.duplicates;
        total.refused_count += report.refused_count;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{engine}: {} messages captured in {seconds:.2} s: {} logged, {} refused, {} duplicates; resident memory {:.0} → {:.0} MiB",
        total.items,
        total.emails,
        total.refused_count,
        total.duplicates,
        mib(rss_before),
        mib(rss_kib())
    );
    Ok((total, seconds))
}
