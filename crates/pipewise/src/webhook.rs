//! `pipewise webhook add|list|remove|deliver`, and the dispatcher `pipewise serve` runs every few
//! seconds when `PIPEWISE_SECRET_KEY` is set: each active webhook's waiting events are POSTed in
//! sequence order, signed (`pipewise_app::webhooks::signature`); the first failure stops that
//! webhook until its backoff ends, so a receiver never sees an event before an earlier one.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use pipewise_app::secrets::SecretKey;
use pipewise_app::webhooks::{self, Attempt, Outgoing, Webhook};
use pipewise_app::{Db, StoreError, WriteCtx};
use pipewise_core::Timestamp;
use pipewise_core::history::Source;
use pipewise_web::error::AppError;

/// Requests sent to one webhook in one pass at most (the rest wait for the next pass).
const PER_PASS: usize = 500;

fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// The HTTP client: ten seconds per request, no redirects (a receiver that moved says so), and
/// every status handed back rather than raised, so a 500 is logged as the receiver's answer.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("Pipewise-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Sends one request and says how it went.
fn send(agent: &ureq::Agent, url: &str, secret: &str, request: &Outgoing) -> Attempt {
    let at = now();
    let started = Instant::now();
    let signature = webhooks::signature(secret, at.as_micros().div_euclid(1_000_000), &request.body);
    let answer = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("Pipewise-Event", &request.event)
        .header("Pipewise-Delivery", &request.delivery_id)
        .header("Pipewise-Signature", &signature)
        .send(request.body.as_str());
    let duration_ms = started.elapsed().as_millis() as u64;
    match answer {
        Ok(response) => Attempt { status: Some(response.status().as_u16()), error: None, duration_ms, at },
        Err(error) => Attempt { status: None, error: Some(describe(&error)), duration_ms, at },
    }
}

/// Why a request got no answer, in words an admin can act on.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => "unreachable: the connection was refused".into(),
        ureq::Error::Timeout(_) => "no answer within 10 seconds".into(),
        ureq::Error::HostNotFound => "unreachable: the host name does not resolve".into(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => format!("TLS: {error}"),
        other => format!("unreachable: {other}"),
    }
}

/// What one pass did for one webhook.
pub struct Delivered {
    pub sent: usize,
    pub failed: Option<String>,
}

/// Delivers what waits for every active webhook (`due_only`: only those past their backoff),
/// printing a line for each that had anything to do.
pub fn deliver_all(db: &Db, key: &SecretKey, due_only: bool, out: &mut dyn Write) -> Result<()> {
    let agent = agent();
    for webhook in webhooks::webhooks_to_deliver(db)? {
        if due_only && !webhooks::is_due(&webhook, now()) {
            continue;
        }
        let url = webhook.url.clone();
        let delivered = deliver(db, key, &agent, webhook)?;
        match (delivered.sent, delivered.failed) {
            (0, None) => {}
            (sent, None) => writeln!(out, "{url}: {sent} delivered")?,
            (sent, Some(why)) => writeln!(out, "{url}: {sent} delivered, then failed: {why} (will retry)")?,
        }
    }
    Ok(())
}

/// Delivers what waits for one webhook, page after page, until it is caught up, fails, or has
/// sent [`PER_PASS`] requests.
pub fn deliver(db: &Db, key: &SecretKey, agent: &ureq::Agent, mut webhook: Webhook) -> Result<Delivered> {
    let mut sent = 0;
    loop {
        let Some(pending) = webhooks::pending(db, key, &webhook)? else {
            let why = "the signing secret does not open with this server's PIPEWISE_SECRET_KEY: create the webhook again";
            webhooks::unusable(db, &webhook, why, now())?;
            return Ok(Delivered { sent, failed: Some(why.into()) });
        };
        if pending.read_through == webhook.delivered_seq {
            return Ok(Delivered { sent, failed: None });
        }
        for request in &pending.requests {
            let attempt = send(agent, &webhook.url, &pending.secret, request);
            webhook = webhooks::record(db, &webhook, request, &attempt)?;
            if let Some(why) = &webhook.last_error {
                return Ok(Delivered { sent, failed: Some(why.clone()) });
            }
            sent += 1;
        }
        webhook = webhooks::passed_over(db, &webhook, pending.read_through)?;
        if sent >= PER_PASS {
            return Ok(Delivered { sent, failed: None });
        }
    }
}

pub fn add(db: &str, org: Option<i64>, actor: Option<&str>, url: &str, events: &[String]) -> Result<()> {
    let key = crate::imap::secret_key()?;
    let store = crate::db::open(db)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let actor_id = crate::init::actor_of(&store, org, actor)?;
    let ctx = WriteCtx { org, actor_id, source: Source::Cli, at: now() };
    let events = if events.is_empty() { "*".to_owned() } else { events.join(" ") };
    let created = match store.transact(|tx| webhooks::create_webhook(tx, &ctx, &key, url, &events)) {
        Ok(created) => created,
        Err(StoreError::Invalid(errors)) => bail!("{}", AppError::Invalid(errors).detail()),
        Err(error) => return Err(error.into()),
    };
    println!("webhook {} created for {url}", created.id);
    println!("signing secret (shown once; keep it with the receiver): {}", created.secret);
    Ok(())
}

pub fn list(db: &str, org: Option<i64>) -> Result<()> {
    let store = crate::db::open(db)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let mut tx = store.read()?;
    for state in webhooks::webhooks_for(&mut tx, org, &pipewise_core::access::Access::System, 5)? {
        let webhook = &state.webhook;
        let waiting = if state.more { format!("{}+", state.waiting) } else { state.waiting.to_string() };
        let health = match &webhook.last_error {
            Some(error) => format!("failing ({} in a row): {error}", webhook.failures),
            None if !webhook.active => "paused".to_owned(),
            None => "ok".to_owned(),
        };
        println!(
            "{} {} [{}]: delivered through history {}, {waiting} event(s) waiting; {health}",
            webhook.id, webhook.url, webhook.events, webhook.delivered_seq
        );
        for delivery in &state.deliveries {
            let answer = delivery.status.map_or_else(|| "no answer".to_owned(), |status| status.to_string());
            let error = delivery.error.as_deref().map(|error| format!(" ({error})")).unwrap_or_default();
            println!(
                "    {} {} #{} attempt {}: {answer}{error}, {} ms",
                delivery.attempted_at, delivery.event, delivery.last_seq, delivery.attempt, delivery.duration_ms
            );
        }
    }
    Ok(())
}

pub fn remove(db: &str, org: Option<i64>, actor: Option<&str>, id: i64) -> Result<()> {
    let store = crate::db::open(db)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let actor_id = crate::init::actor_of(&store, org, actor)?;
    let ctx = WriteCtx { org, actor_id, source: Source::Cli, at: now() };
    store.transact(|tx| webhooks::delete_webhook(tx, &ctx, id))?;
    println!("webhook {id} removed");
    Ok(())
}

/// One pass over every webhook (`now`: ignore backoff).
pub fn deliver_once(db: &str, ignore_backoff: bool) -> Result<()> {
    let key = crate::imap::secret_key()?;
    let store = crate::db::open(db)?;
    deliver_all(&store, &key, !ignore_backoff, &mut std::io::stdout())
}
