//! Outbound webhooks (SPEC C11): an admin subscribes a URL to kinds of deal events; delivery
//! follows the organisation's history log in sequence order from where the webhook stands
//! (`delivered_seq`, stored after every answered event), so nothing is lost or reordered across
//! a restart: an event is delivered at least once, in order, and a receiver drops repeats by the
//! event's `id`. Each request is signed with the webhook's own secret (HMAC-SHA256 over the
//! timestamp and the body, Stripe's scheme), a failure is retried with backoff, and every attempt
//! is logged.
//!
//! The edge (the binary's dispatcher) sends; this module plans, signs, checks and records.

use hmac::{Hmac, KeyInit, Mac};
use pipewise_core::access::Access;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::webhook::{Event, Subscription};
use pipewise_core::*;
use pipewise_store::{NewWebhook, WebhookDelivery, WebhookProgress};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::secrets::{self, SecretKey};
use crate::*;

pub use pipewise_store::{StoredWebhook as Webhook, WebhookDelivery as Delivery};

/// History rows read per pass (a write to one deal is at most a dozen).
const PAGE: u32 = 500;
/// The longest URL accepted.
const MAX_URL: usize = 2_000;
/// The most webhooks an organisation may have.
const MAX_WEBHOOKS: usize = 20;

/// A webhook just made, with its signing secret: shown this once, never again.
#[derive(Clone, Debug)]
pub struct Created {
    pub id: i64,
    pub secret: String,
}

/// Subscribes `url` to the event kinds in `events` (see [`Subscription::parse`]), from the next
/// event on. Admins only; audited without the secret.
pub fn create_webhook(tx: &mut Tx, ctx: &WriteCtx, key: &SecretKey, url: &str, events: &str) -> Result<Created> {
    let access = writer_access(tx, ctx)?;
    require(access.can_manage_webhooks(), || "only an admin manages webhooks".into())?;
    let record = RecordRef::new_record("webhook");
    let mut errors = ValidationErrors::default();
    let url = url.trim();
    if let Err(problem) = check_url(url) {
        errors.push(&record, "url", problem);
    }
    let subscription = errors.check(&record, "events", Subscription::parse(events));
    if tx.0.webhooks(Some(ctx.org))?.len() >= MAX_WEBHOOKS {
        errors.push(&record, "url", Problem::OutOfRange { value: format!("webhook {}", MAX_WEBHOOKS + 1), range: "at most 20 webhooks" });
    }
    errors.into_result(())?;
    let events = subscription.map(|subscription| subscription.as_text()).unwrap_or_default();
    let secret = format!("whsec_{}", secrets::random_hex(24)?);
    let sealed = secrets::seal(key, &secret)?;
    let id = tx.0.put_webhook(ctx.org, &NewWebhook { url, events: &events, secret: &sealed, created_by: ctx.actor_id }, ctx.at)?;
    audit(tx, ctx, "webhook", id, "create", None, Some(json!({ "url": url, "events": events })))?;
    Ok(Created { id, secret })
}

/// An absolute `http` or `https` URL with a host and no credentials, on one line.
fn check_url(url: &str) -> std::result::Result<(), Problem> {
    let invalid = || Problem::Invalid {
        value: url.chars().take(200).collect(),
        expected: "an http:// or https:// address such as https://example.com/hooks",
    };
    if url.is_empty() {
        return Err(Problem::Required);
    }
    if url.len() > MAX_URL {
        return Err(Problem::TooLong { len: url.len(), max: MAX_URL });
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(invalid)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !authority.is_empty()
        && !authority.contains('@')
        && authority.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    Ok(())
}

/// Pauses (`active` false) or resumes a webhook. Admins only; audited.
pub fn set_webhook_active(tx: &mut Tx, ctx: &WriteCtx, id: i64, active: bool) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.can_manage_webhooks(), || "only an admin manages webhooks".into())?;
    if !tx.0.set_webhook_active(ctx.org, id, active)? {
        return Err(StoreError::NotFound { kind: "webhook", id });
    }
    audit(tx, ctx, "webhook", id, if active { "resume" } else { "pause" }, None, Some(json!({ "active": active })))
}

/// Removes a webhook and its delivery log. Admins only; audited.
pub fn delete_webhook(tx: &mut Tx, ctx: &WriteCtx, id: i64) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.can_manage_webhooks(), || "only an admin manages webhooks".into())?;
    let before = tx.0.webhooks(Some(ctx.org))?.into_iter().find(|webhook| webhook.id == id);
    let Some(before) = before else { return Err(StoreError::NotFound { kind: "webhook", id }) };
    tx.0.delete_webhook(ctx.org, id)?;
    audit(tx, ctx, "webhook", id, "delete", Some(json!({ "url": before.url, "events": before.events })), None)
}

/// A webhook as its page shows it: secret left out, with how many events wait for it.
#[derive(Clone, Debug)]
pub struct WebhookState {
    pub webhook: Webhook,
    /// Subscribed events after where it stands (counted in the next [`PAGE`] history rows;
    /// `more` when the log goes on beyond them).
    pub waiting: usize,
    pub more: bool,
    pub deliveries: Vec<Delivery>,
}

/// The organisation's webhooks with their latest `deliveries` attempts. Admins only.
pub fn webhooks_for(tx: &mut Tx, org: OrgId, access: &Access, deliveries: u32) -> Result<Vec<WebhookState>> {
    require(access.can_manage_webhooks(), || "only an admin manages webhooks".into())?;
    let mut states = Vec::new();
    for mut webhook in tx.0.webhooks(Some(org))? {
        webhook.secret.clear();
        let rows = tx.0.history_since(org, webhook.delivered_seq, PAGE)?;
        let more = rows.len() == PAGE as usize;
        let subscription = Subscription::parse(&webhook.events).unwrap_or(Subscription::Every);
        let waiting = pipewise_core::webhook::events(&rows, more).iter().filter(|event| subscription.admits(&event.kinds)).count();
        let log = tx.0.webhook_deliveries(org, webhook.id, deliveries)?;
        states.push(WebhookState { waiting, more, deliveries: log, webhook });
    }
    Ok(states)
}

/// Every organisation's webhooks, secrets sealed, for the dispatcher.
pub fn webhooks_to_deliver(db: &Db) -> Result<Vec<Webhook>> {
    let mut tx = db.read()?;
    Ok(tx.0.webhooks(None)?.into_iter().filter(|webhook| webhook.active).collect())
}

/// How long the dispatcher waits after `failures` failed attempts in a row: 10 s, 20 s, 40 s …,
/// at most an hour. It never gives up: a receiver that comes back gets everything, in order.
pub fn backoff_seconds(failures: i32) -> i64 {
    (10i64 << failures.saturating_sub(1).clamp(0, 12)).min(3_600)
}

/// Whether `webhook` may be tried at `now`.
pub fn is_due(webhook: &Webhook, now: Timestamp) -> bool {
    webhook.active && webhook.next_attempt_at.is_none_or(|at| at <= now)
}

/// One request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub first_seq: i64,
    pub last_seq: i64,
    pub event: String,
    pub opportunity_id: OpportunityId,
    /// Stable across retries: `{webhook}-{last_seq}` (the `Pipewise-Delivery` header).
    pub delivery_id: String,
    pub body: String,
}

/// What waits for a webhook: the requests in order, and how far the log was read (events not
/// subscribed are passed over without a request).
#[derive(Clone, Debug)]
pub struct Pending {
    pub secret: String,
    pub requests: Vec<Outgoing>,
    pub read_through: i64,
}

/// Reads what waits for `webhook` after its place in the log: at most one page. `None` when its
/// secret does not open with `key` (the server's key changed).
pub fn pending(db: &Db, key: &SecretKey, webhook: &Webhook) -> Result<Option<Pending>> {
    let Some(secret) = secrets::open(key, &webhook.secret) else { return Ok(None) };
    let subscription = Subscription::parse(&webhook.events).unwrap_or(Subscription::Every);
    let rows = db.read()?.0.history_since(webhook.organisation_id, webhook.delivered_seq, PAGE)?;
    let events = pipewise_core::webhook::events(&rows, rows.len() == PAGE as usize);
    let read_through = events.last().map_or(webhook.delivered_seq, Event::last_seq);
    let requests = events
        .iter()
        .filter(|event| subscription.admits(&event.kinds))
        .map(|event| Outgoing {
            first_seq: event.first_seq(),
            last_seq: event.last_seq(),
            event: event.kind().as_str().to_owned(),
            opportunity_id: event.opportunity_id(),
            delivery_id: format!("{}-{}", webhook.id, event.last_seq()),
            body: payload(event, webhook.organisation_id).to_string(),
        })
        .collect();
    Ok(Some(Pending { secret, requests, read_through }))
}

/// The body a receiver gets: the event's identity (the same for every webhook, so a receiver
/// may drop repeats), its kinds, the deal, who did it through which edge, and every field's old
/// and new value as the history stores them.
pub fn payload(event: &Event<'_>, org: OrgId) -> Value {
    let first = &event.rows[0];
    let changes: Vec<Value> = event.rows.iter().map(|row| json!({ "field": row.field.as_str(), "old": row.old, "new": row.new })).collect();
    json!({
        "id": format!("{}-{}-{}", org.0, event.first_seq(), event.last_seq()),
        "type": event.kind().as_str(),
        "types": event.kinds.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
        "organisation_id": org.0,
        "sequence": { "first": event.first_seq(), "last": event.last_seq() },
        "occurred_at": first.at.to_string(),
        "opportunity_id": first.opportunity_id.0,
        "actor_id": first.actor_id.map(|id| id.0),
        "source": first.source.as_str(),
        "changes": changes,
    })
}

/// The `Pipewise-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A
/// receiver recomputes it with its secret and refuses an old `t` (a replay).
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest: String = mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={unix_seconds},v1={digest}")
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The receiver's status; none when it did not answer.
    pub status: Option<u16>,
    /// Why it failed, when it did (a status outside 2xx, or no answer).
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// Records an attempt at `request`: logged; on success the webhook moves past the event, on
/// failure it waits its backoff. Returns the webhook as it now stands.
pub fn record(db: &Db, webhook: &Webhook, request: &Outgoing, attempt: &Attempt) -> Result<Webhook> {
    let ok = attempt.succeeded();
    let error = match (&attempt.error, attempt.status) {
        (Some(error), _) => Some(error.clone()),
        (None, Some(status)) if !ok => Some(format!("the receiver answered {status}")),
        _ => None,
    };
    let failures = if ok { 0 } else { webhook.failures.saturating_add(1) };
    let mut next = webhook.clone();
    next.failures = failures;
    next.last_error = error.clone();
    next.next_attempt_at = (!ok).then(|| attempt.at.plus_seconds(backoff_seconds(failures)));
    if ok {
        next.delivered_seq = request.last_seq;
    }
    let delivery = WebhookDelivery {
        id: 0,
        webhook_id: webhook.id,
        first_seq: request.first_seq,
        last_seq: request.last_seq,
        event: request.event.clone(),
        opportunity_id: Some(request.opportunity_id),
        attempt: webhook.failures.saturating_add(1),
        status: attempt.status.map(i32::from),
        error: error.map(|error| error.chars().take(500).collect()),
        duration_ms: i32::try_from(attempt.duration_ms).unwrap_or(i32::MAX),
        attempted_at: attempt.at,
    };
    let mut tx = db.write()?;
    tx.0.put_webhook_deliveries(webhook.organisation_id, &[delivery])?;
    tx.0.record_webhook_progress(webhook.id, &progress(&next))?;
    tx.commit()?;
    Ok(next)
}

/// Moves `webhook` past events it does not subscribe to (read through `seq`) once every
/// request before them was answered.
pub fn passed_over(db: &Db, webhook: &Webhook, seq: i64) -> Result<Webhook> {
    let mut next = webhook.clone();
    if seq <= webhook.delivered_seq {
        return Ok(next);
    }
    next.delivered_seq = seq;
    let mut tx = db.write()?;
    tx.0.record_webhook_progress(webhook.id, &progress(&next))?;
    tx.commit()?;
    Ok(next)
}

/// Records that a webhook could not be tried at all (its secret does not open).
pub fn unusable(db: &Db, webhook: &Webhook, why: &str, at: Timestamp) -> Result<()> {
    let mut next = webhook.clone();
    next.failures = webhook.failures.saturating_add(1);
    next.next_attempt_at = Some(at.plus_seconds(backoff_seconds(next.failures)));
    next.last_error = Some(why.to_owned());
    let mut tx = db.write()?;
    tx.0.record_webhook_progress(webhook.id, &progress(&next))?;
    tx.commit()
}

fn progress(webhook: &Webhook) -> WebhookProgress<'_> {
    WebhookProgress {
        delivered_seq: webhook.delivered_seq,
        failures: webhook.failures,
        next_attempt_at: webhook.next_attempt_at,
        last_error: webhook.last_error.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_and_body() {
        // Worked independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"whsec_test", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn failing_receivers_are_retried_with_growing_waits_up_to_an_hour() {
        let waits: Vec<i64> = (1..=4).map(backoff_seconds).collect();
        assert_eq!(waits, vec![10, 20, 40, 80]);
        assert_eq!(backoff_seconds(30), 3_600);
    }

    #[test]
    fn only_absolute_web_addresses_without_credentials_are_accepted() {
        assert!(check_url("https://hooks.example.com/pipewise?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/").is_ok());
        assert_eq!(check_url(""), Err(Problem::Required));
        for bad in ["ftp://example.com", "https://", "https://user:pass@example.com/", "https://exa mple.com", "example.com/hook"] {
            assert!(matches!(check_url(bad), Err(Problem::Invalid { .. })), "{bad}");
        }
        assert_eq!(check_url(&format!("https://example.com/{}", "a".repeat(2_000))), Err(Problem::TooLong { len: 2_020, max: MAX_URL }));
    }
}
