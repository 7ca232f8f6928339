//! `pipewise serve`: the HTTP server on a multi-threaded runtime.

use std::sync::Arc;

use anyhow::{Context, Result};
use pipewise_app::Db;
use pipewise_web::AppState;
use pipewise_web::proxy::{Cidr, TrustedProxies};

/// How the server writes its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Starts the log on stderr: `format`, at the level `PIPEWISE_LOG` names (info by default).
/// An unknown level is refused, naming it.
pub fn init_log(format: LogFormat) -> Result<()> {
    let level = match std::env::var("PIPEWISE_LOG").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "" | "info" => tracing_subscriber::filter::LevelFilter::INFO,
        "off" => tracing_subscriber::filter::LevelFilter::OFF,
        "error" => tracing_subscriber::filter::LevelFilter::ERROR,
        "warn" => tracing_subscriber::filter::LevelFilter::WARN,
        "debug" => tracing_subscriber::filter::LevelFilter::DEBUG,
        "trace" => tracing_subscriber::filter::LevelFilter::TRACE,
        other => {
            return Err(crate::Hinted {
                error: format!("PIPEWISE_LOG={other:?} is not a log level"),
                hint: "use off, error, warn, info, debug or trace".into(),
            }
            .into());
        }
    };
    let builder = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot start the log: {error}"))
}

pub fn run(
    db_url: &str,
    addr: &str,
    secure_cookies: bool,
    trusted_proxies: &[String],
    smtp: Option<&str>,
    snapshots: Option<&std::path::Path>,
) -> Result<()> {
    let trusted_proxies = parse_trusted_proxies(trusted_proxies)?;
    let store = crate::db::open(db_url)?;
    let snapshots = snapshots.map(std::path::Path::to_path_buf).or_else(|| default_snapshots(db_url));
    serve(store, addr, secure_cookies, trusted_proxies, smtp, snapshots)
}

/// Where the projections' snapshots are kept when `--snapshots` is not given: beside a SQLite
/// file (`pipewise.db.snapshots/`); a PostgreSQL server's instances keep none unless told.
pub fn default_snapshots(db_url: &str) -> Option<std::path::PathBuf> {
    crate::db::sqlite_path(db_url).map(|path| std::path::PathBuf::from(format!("{path}.snapshots")))
}

/// The `--trusted-proxy` values (or `PIPEWISE_TRUSTED_PROXIES`, split at commas), each an IP
/// address or CIDR range. Empty values (a trailing comma) are skipped; anything else that does
/// not parse is refused, naming the value.
fn parse_trusted_proxies(values: &[String]) -> Result<TrustedProxies> {
    let mut ranges = Vec::new();
    for value in values.iter().filter(|value| !value.trim().is_empty()) {
        let range = value.parse::<Cidr>().map_err(|error| crate::Hinted {
            error: format!("--trusted-proxy {error}"),
            hint: "give each reverse proxy as an IP address (10.0.0.7, ::1) or a CIDR range (10.0.0.0/8, fd00::/8), with \
                   --trusted-proxy (repeatable) or PIPEWISE_TRUSTED_PROXIES (comma-separated)"
                .into(),
        })?;
        ranges.push(range);
    }
    Ok(TrustedProxies::new(ranges))
}

/// Serves `store` on `addr` until interrupted, printing the URL on stdout once listening.
/// Requests from `trusted_proxies` are attributed to the client they forward for.
///
/// With `snapshots`, each organisation's analytics projection is kept there between starts
/// (see `pipewise_app::insights::snapshot_path`): a restart reads it instead of replaying the
/// whole history log.
pub fn serve(
    store: Db,
    addr: &str,
    secure_cookies: bool,
    trusted_proxies: TrustedProxies,
    smtp: Option<&str>,
    snapshots: Option<std::path::PathBuf>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| crate::Hinted {
            error: format!("cannot listen on {addr}: {error}"),
            hint: "pass another address with --addr, e.g. --addr 127.0.0.1:8081".into(),
        })?;
        let local = listener.local_addr().context("the listener has no address")?;
        println!("Pipewise is serving on http://{local}/ (API: http://{local}/api/openapi.json); press Ctrl-C to stop");
        if !trusted_proxies.is_empty() {
            let ranges: Vec<String> = trusted_proxies.ranges().iter().map(ToString::to_string).collect();
            eprintln!("trusting X-Forwarded-For from {}", ranges.join(", "));
        }
        if let Some(smtp) = smtp {
            let (store, smtp) = (store.clone(), smtp.to_owned());
            let clock: Arc<dyn Fn() -> pipewise_core::Timestamp + Send + Sync> =
                Arc::new(|| pipewise_core::Timestamp::from_jiff(jiff::Timestamp::now()));
            let listener = crate::smtp::bind(&smtp).await?;
            tokio::spawn(crate::smtp::listen(listener, store, clock));
        }
        // Mailbox sync, every 5 minutes per mailbox (backing off when one fails), and webhook
        // delivery, every 2 seconds, when the server has the key that opens their secrets.
        let secret_key = match std::env::var_os("PIPEWISE_SECRET_KEY") {
            Some(_) => Some(crate::imap::secret_key()?),
            None => None,
        };
        if let Some(key) = secret_key.clone() {
            let (mailbox_store, mailbox_key) = (store.clone(), key.clone());
            std::thread::spawn(move || {
                loop {
                    if let Err(error) = crate::imap::sync_all(&mailbox_store, &mailbox_key, true, 300, &mut std::io::sink()) {
                        eprintln!("mailbox sync: {error:#}");
                    }
                    std::thread::sleep(std::time::Duration::from_secs(30));
                }
            });
            let store = store.clone();
            std::thread::spawn(move || {
                loop {
                    if let Err(error) = crate::webhook::deliver_all(&store, &key, true, &mut std::io::sink()) {
                        eprintln!("webhooks: {error:#}");
                    }
                    std::thread::sleep(std::time::Duration::from_secs(2));
                }
            });
        }
        // Each organisation's analytics projection loads on first use and follows the history log.
        let mut insights = store.following_insights(std::time::Duration::from_millis(100));
        if let Some(dir) = snapshots {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot make the snapshot folder {}", dir.display()))?;
            insights = insights.with_snapshots(dir);
        }
        let insights = Arc::new(insights);
        let metrics_token = std::env::var("PIPEWISE_METRICS_TOKEN").ok().filter(|token| !token.is_empty());
        let state =
            AppState { secure_cookies, trusted_proxies, insights: Some(insights), secret_key, metrics_token, ..AppState::new(store) };
        // The daily digests, checked every minute, when the server has an SMTP server to send them.
        if let Some(config) = crate::mailer::SmtpConfig::from_env()? {
            let state = state.clone();
            let base_url = std::env::var("PIPEWISE_PUBLIC_URL").ok();
            println!("daily digests go through {}:{}", config.host, config.port);
            std::thread::spawn(move || {
                let pass = crate::digest::Pass { ignore_hour: false, dry_run: false };
                loop {
                    if let Err(error) = crate::digest::send_due(&state, Some(&config), base_url.as_deref(), pass, &mut std::io::sink()) {
                        eprintln!("digests: {error:#}");
                    }
                    std::thread::sleep(std::time::Duration::from_secs(60));
                }
            });
        }
        pipewise_web::serve(listener, state).await.context("the server stopped with an error")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_kept_beside_a_sqlite_file_and_nowhere_for_postgresql() {
        let beside = |url: &str| default_snapshots(url).map(|path| path.display().to_string());
        assert_eq!(beside("pipewise.db").as_deref(), Some("pipewise.db.snapshots"));
        assert_eq!(beside("sqlite:data/p.db").as_deref(), Some("data/p.db.snapshots"));
        assert_eq!(beside("sqlite:///var/lib/p.db").as_deref(), Some("/var/lib/p.db.snapshots"));
        assert_eq!(beside("postgres://user@host/db"), None);
        assert_eq!(beside("postgresql://user@host/db"), None);
    }
}
