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

/// The most time one webhook takes of a pass (a slow receiver must not hold the others back).
const PASS_BUDGET: Duration = Duration::from_secs(30);

/// Whether `address` is this machine or a private, link-local or otherwise internal network.
fn is_internal(address: std::net::IpAddr) -> bool {
    match address {
        std::net::IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(std::net::IpAddr::V4(v4)))
        }
    }
}

/// Why `url` may not be called: it resolves to an internal address (an organisation's admin
/// must not reach the server's own network), unless `PIPEWISE_WEBHOOKS_ALLOW_PRIVATE=1`.
fn refused(url: &str) -> Option<String> {
    if std::env::var("PIPEWISE_WEBHOOKS_ALLOW_PRIVATE").is_ok_and(|value| value == "1") {
        return None;
    }
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().unwrap_or(default_port)),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<std::net::IpAddr> = match std::net::ToSocketAddrs::to_socket_addrs(&(host, port)) {
        Ok(found) => found.map(|socket| socket.ip()).collect(),
        Err(_) => return None,
    };
    addresses.iter().any(|address| is_internal(*address)).then(|| {
        format!("refused: {host} is a private or local address (the server's operator may allow it with PIPEWISE_WEBHOOKS_ALLOW_PRIVATE=1)")
    })
}

/// Sends one request and says how it went.
fn send(agent: &ureq::Agent, url: &str, secret: &str, request: &Outgoing) -> Attempt {
    let at = now();
    let started = Instant::now();
    if let Some(why) = refused(url) {
        return Attempt { status: None, error: Some(why), duration_ms: 0, at };
    }
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
    let started = Instant::now();
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
            if started.elapsed() > PASS_BUDGET {
                // The rest waits for the next pass; the place is kept.
                return Ok(Delivered { sent, failed: None });
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_told_apart() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "203.0.114.1", "2606:4700::1111"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }
}
