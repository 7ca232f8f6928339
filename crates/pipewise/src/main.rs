//! `pipewise`: one binary for the web app and API (`serve`), schema upgrades (`migrate`), a
//! demo organisation (`demo`) and scripted edits (`apply`). Data goes to stdout, logs and
//! progress to stderr; errors end with a `hint:` where one helps.

mod apply;
mod db;
mod demo;
mod serve;

use std::path::PathBuf;
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
    },
    /// Apply the database migrations that are not applied yet, and list them.
    Migrate {
        /// Database: a SQLite file path (default) or a postgres:// URL.
        #[arg(long, env = "PIPEWISE_DB", default_value = "pipewise.db")]
        db: String,
    },
    /// Create a demo organisation with 18 months of realistic history, then serve it.
    Demo {
        /// SQLite file to create. An existing demo file is replaced; any other file is left alone.
        #[arg(long, default_value = "pipewise-demo.db")]
        db: PathBuf,
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
        Command::Serve { db, addr, secure_cookies } => serve::run(&db, &addr, secure_cookies),
        Command::Migrate { db } => db::migrate(&db),
        Command::Demo { db, seed, today, addr, no_serve } => demo::run(&db, seed, today.as_deref(), &addr, no_serve),
        Command::Apply { db, org, actor } => apply::run(&db, org, actor.as_deref()),
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
