//! `pipewise`: one binary for the web app and API (`serve`), schema upgrades (`migrate`), a
//! demo organisation (`demo`) and scripted edits (`apply`). Data goes to stdout, logs and
//! progress to stderr; errors end with a `hint:` where one helps.

mod apply;
mod backup;
mod bench;
mod bench_api;
mod bench_capture;
mod bench_forecast;
mod bench_import;
mod bench_pages;
mod bench_pay;
mod bench_start;
mod capture;
mod db;
mod demo;
mod digest;
mod export;
mod imap;
mod import;
mod init;
mod mailbox;
mod mailer;
mod portable;
mod serve;
mod smtp;
mod tls;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "pipewise", version, about = "Self-hosted sales pipeline, forecasting and sales performance.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and JSON API.
    Serve {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Address to listen on.
        #[arg(long, env = "PIPEWISE_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Mark session cookies Secure: set this when users reach Pipewise over HTTPS (behind a
        /// TLS-terminating proxy).
        #[arg(long, env = "PIPEWISE_SECURE_COOKIES")]
        secure_cookies: bool,
        /// A reverse proxy (an IP address or CIDR range: 10.0.0.7, 10.0.0.0/8, ::1, fd00::/8)
        /// whose X-Forwarded-For header names the client; repeat for several. Sign-in
        /// throttling and sessions then see each user's address instead of the proxy's. List
        /// only your own proxies: any address listed may claim to forward for whomever it likes.
        /// The variable takes a comma-separated list.
        #[arg(long = "trusted-proxy", value_name = "CIDR", env = "PIPEWISE_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<String>,
        /// Also listen for mail on this address (e.g. 127.0.0.1:2525): the drop box reps BCC or
        /// forward mail to, logged as the sending user's activities. Plain SMTP, no TLS or
        /// AUTH: keep it on a private network behind your mail relay.
        #[arg(long, value_name = "ADDR", env = "PIPEWISE_SMTP_ADDR")]
        smtp: Option<String>,
        /// The log's form: `text` (a line for people) or `json` (one object per line, for a log
        /// collector). Its level is PIPEWISE_LOG: off, error, warn, info (the default: a line per
        /// request), debug or trace.
        #[arg(long, value_name = "FORMAT", env = "PIPEWISE_LOG_FORMAT", default_value = "text")]
        log_format: serve::LogFormat,
        /// A folder where each organisation's analytics projection is kept between starts, so
        /// that a restart reads it instead of replaying the whole history log (checked against
        /// the log first, rebuilt when it does not match). Default: beside a SQLite file
        /// (`pipewise.db.snapshots`); none for PostgreSQL unless given (one per instance).
        #[arg(long, value_name = "DIR", env = "PIPEWISE_SNAPSHOTS")]
        snapshots: Option<std::path::PathBuf>,
    },
    /// Apply the database migrations that are not applied yet, and list them.
    Migrate {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
    },
    /// Create a demo organisation with 18 months of realistic history, then serve it.
    ///
    /// With --scale, generate an organisation of any size instead (by default the product
    /// brief's: 2,000 reps, 1,000,000 deals, 20,000,000 activities) over 35 months, streaming
    /// in bounded memory, into SQLite or PostgreSQL.
    Demo {
        /// SQLite file to create (an existing demo file is replaced; any other file is left
        /// alone), or with --scale a postgres:// URL of a database without organisations.
        #[arg(long, default_value = "pipewise-demo.db")]
        db: String,
        /// Generate the scale data set, sized by --reps, --opportunities, --history, --activities.
        #[arg(long)]
        scale: bool,
        /// Reps (in teams of eight under managers, directors and a VP); 50 accounts each.
        #[arg(long, requires = "scale", default_value_t = 2_000)]
        reps: u32,
        /// Opportunities, created over the 35 months before --today.
        #[arg(long, requires = "scale", default_value_t = 1_000_000)]
        opportunities: u64,
        /// History events to aim for (one per changed field). Defaults to each deal's lifecycle
        /// and about three minor edits; fewer than the lifecycles record is a warning.
        #[arg(long, requires = "scale")]
        history: Option<u64>,
        /// Activities (e-mails, calls, meetings, notes) on the deals.
        #[arg(long, requires = "scale", default_value_t = 20_000_000)]
        activities: u64,
        /// Deals generated and written per bulk call: memory holds about two of these.
        #[arg(long, requires = "scale", default_value_t = 2_000)]
        chunk: u32,
        /// The same seed (and --today) gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The demo's "today" (YYYY-MM-DD); its history covers the 18 months before. Defaults to today.
        #[arg(long)]
        today: Option<String>,
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Generate the data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply edits read as JSON Lines from stdin, one transaction per line, acknowledging each
    /// committed line on stdout as JSON.
    ///
    /// Lines look like {"op":"create_opportunity","name":"Acme","owner_id":3,"pipeline_id":1,"amount":"USD 1200"}
    /// or {"op":"update_opportunity","id":17,"stage_id":4,"close_date":"2027-01-31"}.
    /// Create an organisation with both pipeline templates and its first admin. The admin's
    /// password comes from PIPEWISE_ADMIN_PASSWORD or the first line of stdin.
    Init {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// The organisation's name.
        #[arg(long)]
        organisation: String,
        /// Reporting currency (ISO 4217).
        #[arg(long, default_value = "USD")]
        currency: String,
        /// The first admin's e-mail address.
        #[arg(long)]
        admin_email: String,
        /// The first admin's name.
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
        /// The admin's IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// The admin's language: en or ko.
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// Set a user's password (from PIPEWISE_ADMIN_PASSWORD or stdin) and end their sessions.
    Password {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Organisation id; may be left out when the database holds one organisation.
        #[arg(long)]
        org: Option<i64>,
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Import a CSV export of accounts, contacts, leads, opportunities or activities (Salesforce, HubSpot, Pipedrive or your
    /// own headers), all or nothing: every bad line is reported with its line, column and
    /// reason, and then nothing is written. Re-importing rows with external ids updates what the
    /// first import made.
    Import {
        /// What the file holds: accounts, contacts, leads, opportunities or activities.
        kind: String,
        /// The CSV file (UTF-8, with a header line).
        file: std::path::PathBuf,
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Organisation id; may be left out when the database holds one organisation.
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the ops user or admin importing (recorded in history and the audit log).
        #[arg(long = "as")]
        actor: Option<String>,
        /// Which column fills a field, over the recognised headers: field=Header, or field= to
        /// leave it empty. Fields: external_id, name, owner, account, pipeline, stage, status,
        /// amount, currency, close_date, created, closed, loss_reason, next_step, product;
        /// for accounts name, owner, industry, employees, website, region; for contacts name,
        /// first_name, last_name, email, phone, title, account, website; for leads the same
        /// (account is the company) with owner, status and source; for activities type, name (the
        /// subject), created (when), direction, owner, deal, account, email (the contacts), body.
        #[arg(long, value_name = "FIELD=HEADER")]
        map: Vec<String>,
        /// A stage name of the file and the pipeline stage it means: Engaging=Qualify.
        #[arg(long, value_name = "FILE=PIPELINE")]
        stage: Vec<String>,
        /// The pipeline of rows that name none (default: the first).
        #[arg(long)]
        pipeline: Option<String>,
        /// The owner (e-mail or name) of rows that name none.
        #[arg(long)]
        default_owner: Option<String>,
        /// The reason recorded for lost deals the file gives none.
        #[arg(long)]
        default_loss_reason: Option<String>,
        /// Import history that skipped the stage gates, for this reason (ops and admins;
        /// recorded in the audit log).
        #[arg(long, value_name = "REASON")]
        historical: Option<String>,
        /// Read 3/1/2017 as 3 January (default: 1 March).
        #[arg(long)]
        day_first: bool,
        /// Where the external ids come from (default: the CRM the headers show, else csv).
        #[arg(long)]
        system: Option<String>,
        /// Check every line and report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Log mail and meetings as activities: .eml files, mbox files (with or without `From `
    /// lines) and .ics calendars, or folders of them. Each message is matched to colleagues,
    /// contacts and accounts (by company domain; free mail never), linked to the account's open
    /// deal, and logged once (the same message again is a duplicate); every message or event not
    /// logged is listed with its file, place and reason.
    Capture {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Organisation id; may be left out when the database holds one organisation.
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the user capturing (the mailbox's owner; recorded in the audit log).
        #[arg(long = "as")]
        actor: Option<String>,
        /// Log messages that match no contact or account too.
        #[arg(long)]
        keep_unmatched: bool,
        /// Read and match everything and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reps' IMAP mailboxes: connect one (the password, or an app password, as one line on
    /// stdin, sealed with PIPEWISE_SECRET_KEY), sync every mailbox once, or list their state.
    /// `pipewise serve` syncs them every 5 minutes when PIPEWISE_SECRET_KEY is set.
    Mailbox {
        #[command(subcommand)]
        what: MailboxCommand,
    },
    /// Send the daily digests of at-risk deals that are due (each manager's, once a day, from
    /// 8:00 in the organisation's time zone) through PIPEWISE_SMTP (smtp://user:password@host:587,
    /// STARTTLS; or smtps://…), from PIPEWISE_MAIL_FROM, with links to PIPEWISE_PUBLIC_URL when
    /// set. `pipewise serve` does it every minute when PIPEWISE_SMTP is set.
    Digest {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Before 8:00 too.
        #[arg(long)]
        now: bool,
        /// Print each manager's digest instead of sending it; nothing is recorded.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the database while the server keeps writing: SQLite through its backup API (one
    /// consistent snapshot, checked), PostgreSQL through pg_dump (from PATH, custom format);
    /// with --portable, in Pipewise's own format, which either engine restores.
    Backup {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// The new file the backup goes to.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Write the portable format (to move between SQLite and PostgreSQL).
        #[arg(long)]
        portable: bool,
    },
    /// Restore a backup into a new, empty database: of the same engine (then migrate it), or of
    /// either engine for a portable backup (of this Pipewise's schema version).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
        /// The new database: a SQLite file that does not exist yet, or an empty postgres:// database.
        #[arg(long)]
        db: String,
    },
    /// Outbound webhooks (admins): subscribe a URL to deal events (signed with a secret shown
    /// once), list each webhook's state and latest deliveries, remove one, or deliver what
    /// waits now. `pipewise serve` delivers every 2 seconds when PIPEWISE_SECRET_KEY is set.
    Webhook {
        #[command(subcommand)]
        what: WebhookCommand,
    },
    /// Export the whole organisation as CSV files (users, accounts, contacts, opportunities,
    /// history, activities) into a folder; admins only. The opportunities file imports again.
    Export {
        /// The folder the files go to (created if missing; files of the same name are replaced).
        #[arg(long)]
        dir: std::path::PathBuf,
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Organisation id; may be left out when the database holds one organisation.
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the admin exporting (recorded in the audit log).
        #[arg(long = "as")]
        actor: Option<String>,
        /// Only these files: users, accounts, contacts, opportunities, history, activities.
        #[arg(long)]
        kind: Vec<String>,
    },
    /// Benchmarks, measured side by side in one run.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    Apply {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Organisation id; may be left out when the database holds one organisation.
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the user the edits are made as (recorded in history).
        #[arg(long = "as")]
        actor: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { db, addr, secure_cookies, trusted_proxies, smtp, log_format, snapshots } => serve::init_log(log_format)
            .and_then(|()| serve::run(&db, &addr, secure_cookies, &trusted_proxies, smtp.as_deref(), snapshots.as_deref())),
        Command::Migrate { db } => db::migrate(&db),
        Command::Demo { db, scale: false, seed, today, addr, no_serve, .. } => demo::run(&db, seed, today.as_deref(), &addr, no_serve),
        Command::Demo { db, scale: true, seed, today, addr, no_serve, reps, opportunities, history, activities, chunk } => {
            let sizes = demo::ScaleSizes { reps, opportunities, history, activities, chunk };
            demo::run_scale(&db, seed, today.as_deref(), &sizes, &addr, no_serve)
        }
        Command::Apply { db, org, actor } => apply::run(&db, org, actor.as_deref()),
        Command::Bench { what: BenchCommand::Dashboard { data, runs, out } } => bench::dashboard_bench(&data.options(runs, out)),
        Command::Bench { what: BenchCommand::Pay { data, runs, out } } => bench_pay::pay_bench(&data.options(runs, out)),
        Command::Bench { what: BenchCommand::Import { rows, maven, out, pg } } => {
            bench_import::import_bench(&bench_import::ImportBenchOptions { rows, maven, out, pg })
        }
        Command::Bench { what: BenchCommand::Capture { messages, email, out, pg } } => {
            bench_capture::capture_bench(&bench_capture::CaptureBenchOptions { messages, email, out, pg })
        }
        Command::Bench { what: BenchCommand::Pages { sets, runs, only, dump } } => {
            bench_pages::pages_bench(&bench_pages::PagesBenchOptions { sets, runs, only, dump })
        }
        Command::Bench { what: BenchCommand::Start { sets } } => bench_start::start_bench(&bench_start::StartBenchOptions { sets }),
        Command::Bench { what: BenchCommand::Api { sets, rates, seconds } } => {
            bench_api::api_bench(&bench_api::ApiBenchOptions { sets, rates, seconds })
        }
        Command::Bench { what: BenchCommand::Forecast { data, runs, win_only } } => {
            bench_forecast::forecast_bench(&data.options(runs, std::path::PathBuf::from("target/bench-forecast")), win_only)
        }
        Command::Init { db, organisation, currency, admin_email, admin_name, time_zone, locale } => init::init(
            &db,
            &init::InitOptions {
                organisation: &organisation,
                currency: &currency,
                admin_email: &admin_email,
                admin_name: &admin_name,
                time_zone: &time_zone,
                locale: &locale,
            },
        ),
        Command::Password { db, org, email } => init::set_password(&db, org, &email),
        Command::Mailbox { what: MailboxCommand::Connect { db, org, actor, host, port, user, folder, security } } => {
            mailbox::connect(&mailbox::ConnectArgs {
                db: &db,
                org,
                actor: actor.as_deref(),
                host: &host,
                port,
                username: &user,
                folder: folder.as_deref(),
                security: security.as_deref(),
            })
        }
        Command::Mailbox { what: MailboxCommand::Sync { db } } => mailbox::sync(&db),
        Command::Mailbox { what: MailboxCommand::List { db, org } } => mailbox::list(&db, org),
        Command::Digest { db, now, dry_run } => digest::run(&db, now, dry_run),
        Command::Backup { db, out, portable: false } => backup::backup(&db, &out),
        Command::Backup { db, out, portable: true } => portable::backup(&db, &out),
        Command::Restore { from, db } if portable::is_portable(&from) => portable::restore(&from, &db),
        Command::Restore { from, db } => backup::restore(&from, &db),
        Command::Webhook { what: WebhookCommand::Add { db, org, actor, url, event } } => {
            webhook::add(&db, org, actor.as_deref(), &url, &event)
        }
        Command::Webhook { what: WebhookCommand::List { db, org } } => webhook::list(&db, org),
        Command::Webhook { what: WebhookCommand::Remove { db, org, actor, id } } => webhook::remove(&db, org, actor.as_deref(), id),
        Command::Webhook { what: WebhookCommand::Deliver { db, now } } => webhook::deliver_once(&db, now),
        Command::Export { dir, db, org, actor, kind } => export::run(&db, org, actor.as_deref(), &dir, &kind),
        Command::Capture { paths, db, org, actor, keep_unmatched, dry_run, json } => {
            capture::run(&capture::CaptureArgs { db: &db, org, actor: actor.as_deref(), paths: &paths, dry_run, keep_unmatched, json })
        }
        Command::Import {
            kind,
            file,
            db,
            org,
            actor,
            map,
            stage,
            pipeline,
            default_owner,
            default_loss_reason,
            historical,
            day_first,
            system,
            dry_run,
            json,
        } => import::run(&import::ImportArgs {
            db: &db,
            org,
            actor: actor.as_deref(),
            kind: &kind,
            file: &file,
            map: &map,
            stages: &stage,
            pipeline,
            default_owner,
            default_loss_reason,
            historical,
            day_first,
            system,
            dry_run,
            json,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if let Some(hint) = hint_for(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The data set a benchmark runs on, generated into an empty database.
#[derive(clap::Args)]
struct DataSet {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(long, default_value = "target/bench-dashboard.db")]
    db: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 2_000)]
    reps: u32,
    #[arg(long, default_value_t = 1_000_000)]
    opportunities: u64,
    #[arg(long)]
    history: Option<u64>,
    #[arg(long, default_value_t = 2_000_000)]
    activities: u64,
    /// The data set's "today" when generating (YYYY-MM-DD), and the figures' as-of day (the
    /// dashboard's default: the last day in the history; pay's: 2026-06-15).
    #[arg(long)]
    today: Option<String>,
    /// Time Pipewise only.
    #[arg(long)]
    skip_duckdb: bool,
}

impl DataSet {
    fn options(self, runs: usize, out: std::path::PathBuf) -> bench::BenchOptions {
        bench::BenchOptions {
            db: self.db,
            seed: self.seed,
            reps: self.reps,
            opportunities: self.opportunities,
            history: self.history,
            activities: self.activities,
            today: self.today,
            runs,
            out,
            skip_duckdb: self.skip_duckdb,
        }
    }
}

#[derive(Subcommand)]
enum MailboxCommand {
    /// Connect the user's mailbox: TLS from the first byte on port 993, STARTTLS on any other
    /// (plain IMAP only to this machine, when the server offers no STARTTLS).
    Connect {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the user whose mailbox it is.
        #[arg(long = "as")]
        actor: Option<String>,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 993)]
        port: i32,
        /// The IMAP login.
        #[arg(long)]
        user: String,
        /// The folder to read (default INBOX).
        #[arg(long)]
        folder: Option<String>,
        /// `tls` or `starttls` (default: tls on port 993, starttls on any other).
        #[arg(long)]
        security: Option<String>,
    },
    /// Sync every mailbox once and say what each gave.
    Sync {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
    },
    /// Each mailbox's sync state and last error.
    List {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        #[arg(long)]
        org: Option<i64>,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Subscribe a URL (http:// or https://) to deal events, from the next one on.
    Add {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        #[arg(long)]
        org: Option<i64>,
        /// E-mail of the admin adding it (recorded in the audit log).
        #[arg(long = "as")]
        actor: Option<String>,
        url: String,
        /// An event kind (repeat for several): opportunity.created, opportunity.won,
        /// opportunity.lost, opportunity.reopened, opportunity.stage_changed,
        /// opportunity.updated; every kind when left out.
        #[arg(long)]
        event: Vec<String>,
    },
    /// Each webhook's state and its latest deliveries.
    List {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        #[arg(long)]
        org: Option<i64>,
    },
    /// Remove a webhook and its delivery log.
    Remove {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        #[arg(long)]
        org: Option<i64>,
        #[arg(long = "as")]
        actor: Option<String>,
        id: i64,
    },
    /// Deliver what waits for every webhook once, and say what each did.
    Deliver {
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
        /// Try failing webhooks now instead of after their backoff.
        #[arg(long)]
        now: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The org-wide dashboard on Pipewise's projection vs DuckDB (from PyPI, in
    /// target/bench-venv) computing the same figures in SQL over the same data; checks the
    /// numbers are identical and prints a table. Generates the scale data set into an empty
    /// database first.
    Dashboard {
        #[command(flatten)]
        data: DataSet,
        /// Timed runs per figure (the median is reported).
        #[arg(long, default_value_t = 15)]
        runs: usize,
        /// Where the CSV export and the figures go.
        #[arg(long, default_value = "target/bench-dashboard")]
        out: std::path::PathBuf,
    },
    /// Pay at scale: one rep's statement, every statement of the current quarter and the
    /// attainment figures, timed; DuckDB (from PyPI, in target/bench-venv) computes the same
    /// statement totals in SQL over the same won deals and quotas, and they must be equal.
    /// Generates the scale data set (and its quotas, plan and statements) into an empty database;
    /// the dashboard benchmark's data set serves too, once it has them.
    Pay {
        #[command(flatten)]
        data: DataSet,
        /// Timed runs per figure (the median is reported; at most 5 for every statement).
        #[arg(long, default_value_t = 9)]
        runs: usize,
        /// Where the CSV export goes.
        #[arg(long, default_value = "target/bench-pay")]
        out: std::path::PathBuf,
    },
    /// A large opportunities import all or nothing, with its history, on SQLite (and PostgreSQL
    /// with --pg), beside sqlite3's .import and PostgreSQL's COPY of the same file; then the same
    /// file with a bad line near its end, which must leave nothing behind.
    Import {
        /// Rows in the file (the Maven CRM set's 8,800 deals repeated).
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// The Maven CRM set's folder.
        #[arg(long, default_value = "../shared/data/pipeline/maven_crm_sales_opportunities")]
        maven: std::path::PathBuf,
        /// Where the files and the SQLite database go.
        #[arg(long, default_value = "target/bench-import")]
        out: std::path::PathBuf,
        /// A PostgreSQL URL: the import and COPY run there too, in a schema dropped after.
        #[arg(long)]
        pg: Option<String>,
    },
    /// Capture at speed: the shared mail corpus replayed (each Message-ID rewritten) through the
    /// whole capture path (split, parse, dedupe key, match, check, store, audit) on SQLite and,
    /// with `--pg`, PostgreSQL, beside mail-parser's parsing alone of the same messages.
    Capture {
        /// Messages to replay (the corpus repeated).
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// The mail corpus folder.
        #[arg(long, default_value = "../shared/data/email")]
        email: std::path::PathBuf,
        /// Where the SQLite database goes.
        #[arg(long, default_value = "target/bench-capture")]
        out: std::path::PathBuf,
        /// A PostgreSQL URL: the capture runs there too, in a schema dropped after.
        #[arg(long)]
        pg: Option<String>,
    },
    /// Every page a team opens (board, deal list with filters, sorts and pages, a deal, accounts,
    /// contacts, tasks, leads, the dashboard and a drill-down), timed through the real server on
    /// loopback for an admin and for the manager of the largest tree: p50, p95 and bytes, on the
    /// demo and the scale data set (and PostgreSQL with `--pg`) side by side.
    Pages {
        #[command(flatten)]
        sets: bench_pages::DataSets,
        /// Timed requests per page and reader, after one to warm.
        #[arg(long, default_value_t = 8)]
        runs: usize,
        /// Only the pages whose name contains this (e.g. "deals").
        #[arg(long)]
        only: Option<String>,
        /// A folder to write each page's HTML into.
        #[arg(long)]
        dump: Option<std::path::PathBuf>,
    },
    /// A cold start: `pipewise serve` from its start until it answers the dashboard, and its
    /// resident memory then, loading the projection from the store (replaying the history log)
    /// and then from the snapshot the first start wrote, on the demo and the scale data set.
    Start {
        #[command(flatten)]
        sets: bench_pages::DataSets,
    },
    /// The JSON API under a fixed rate of mixed calls (lists, deals, histories, pipeline figures
    /// and a PATCH in ten), open-loop as wrk2 holds a rate, through the real server with an API
    /// token; p50, p99, max and errors per rate, beside wrk driving the same mix (its script:
    /// crates/pipewise/bench/api.lua) on the demo and the scale data set.
    Api {
        #[command(flatten)]
        sets: bench_pages::DataSets,
        /// Requests per second to hold, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "2000,5000")]
        rates: Vec<u32>,
        /// Seconds per rate (and for wrk).
        #[arg(long, default_value_t = 60)]
        seconds: u32,
    },
    /// The statistical forecast at scale: the time to fit the quarter's model and to forecast
    /// the organisation, a team and a rep with 10,000 trials; then backtests of the last four
    /// quarters (every scope refitted as of the day): how often P10–P90 held the actual, and the
    /// error of the model beside the stage-weighted pipeline's; then the win-probability model:
    /// its fit time and Brier score beside the stage default's. Generates the scale data set
    /// into an empty database; the dashboard benchmark's data set serves too.
    Forecast {
        #[command(flatten)]
        data: DataSet,
        /// Timed runs per figure (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Only the win-probability model's part.
        #[arg(long)]
        win_only: bool,
    },
}

/// An error with advice for the user, printed after it as `hint: …`.
#[derive(Debug)]
pub struct Hinted {
    pub error: String,
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for Hinted {}

fn hint_for(error: &anyhow::Error) -> Option<String> {
    error.downcast_ref::<Hinted>().map(|hinted| hinted.hint.clone())
}
