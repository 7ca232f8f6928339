//! Webhooks ([`WebhookTx`]): an organisation's outbound subscriptions, how far each has
//! delivered the history log, and the log of every delivery attempt.

use pipewise_core::*;

use crate::Result;
use crate::rows::{Columns, FromRow};

/// A stored webhook. `secret` is the signing secret sealed by the application layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWebhook {
    pub id: i64,
    pub organisation_id: OrgId,
    pub url: String,
    /// The event kinds subscribed, separated by spaces (`*` for every kind).
    pub events: String,
    pub secret: String,
    /// A paused webhook keeps its place in the log and delivers nothing until resumed.
    pub active: bool,
    /// Every history event up to this sequence number has been delivered (or was not
    /// subscribed).
    pub delivered_seq: i64,
    /// Failed attempts in a row at the next delivery.
    pub failures: i32,
    /// Not before this time (after a failure, the backoff).
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// A new webhook's settings; it starts delivering after the history's sequence at creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a str,
    pub secret: &'a str,
    pub created_by: Option<UserId>,
}

/// Where a webhook stands after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookProgress<'a> {
    pub delivered_seq: i64,
    pub failures: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<&'a str>,
}

/// One attempt to deliver one event (`id` ignored when stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    /// The history events the attempt covered (`first_seq..=last_seq`).
    pub first_seq: i64,
    pub last_seq: i64,
    /// The event's kind (`opportunity.won`).
    pub event: String,
    pub opportunity_id: Option<OpportunityId>,
    /// 1 for the first attempt at this event, 2 for its first retry, …
    pub attempt: i32,
    /// The receiver's HTTP status; none when it did not answer.
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub attempted_at: Timestamp,
}

/// A transaction's reads and writes of webhooks.
pub trait WebhookTx {
    /// Stores a webhook that delivers the events after the organisation's current history
    /// sequence, and returns its id.
    fn put_webhook(&mut self, org: OrgId, webhook: &NewWebhook<'_>, at: Timestamp) -> Result<i64>;
    /// The webhooks of `org` (every organisation's with `None`), in id order.
    fn webhooks(&mut self, org: Option<OrgId>) -> Result<Vec<StoredWebhook>>;
    /// Pauses or resumes webhook `id` of `org`; `false` when there is none. Resuming clears the
    /// backoff.
    fn set_webhook_active(&mut self, org: OrgId, id: i64, active: bool) -> Result<bool>;
    /// Removes webhook `id` of `org` and its delivery log; `false` when there is none.
    fn delete_webhook(&mut self, org: OrgId, id: i64) -> Result<bool>;
    /// Records how far webhook `id` has delivered and its failures.
    fn record_webhook_progress(&mut self, id: i64, progress: &WebhookProgress<'_>) -> Result<()>;
    /// Logs delivery attempts.
    fn put_webhook_deliveries(&mut self, org: OrgId, deliveries: &[WebhookDelivery]) -> Result<()>;
    /// Webhook `id`'s latest attempts, newest first.
    fn webhook_deliveries(&mut self, org: OrgId, id: i64, limit: u32) -> Result<Vec<WebhookDelivery>>;
}

/// A row of the `webhook` table (every column).
impl FromRow for StoredWebhook {
    const TABLE: &'static str = "webhook";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(StoredWebhook {
            id: fields.key("webhook_id")?,
            organisation_id: OrgId(fields.get("organisation_id")?),
            url: fields.get("url")?,
            events: fields.get("events")?,
            secret: fields.get("secret")?,
            active: fields.get("active")?,
            delivered_seq: fields.get("delivered_seq")?,
            failures: fields.get("failures")?,
            next_attempt_at: fields.get("next_attempt_at")?,
            last_error: fields.get("last_error")?,
            created_by: fields.get::<Option<i64>>("created_by")?.map(UserId),
            created_at: fields.get("created_at")?,
        })
    }
}

/// A row of the `webhook_delivery` table (every column but the organisation).
impl FromRow for WebhookDelivery {
    const TABLE: &'static str = "webhook_delivery";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(WebhookDelivery {
            id: fields.key("delivery_id")?,
            webhook_id: fields.get("webhook_id")?,
            first_seq: fields.get("first_seq")?,
            last_seq: fields.get("last_seq")?,
            event: fields.get("event")?,
            opportunity_id: fields.get::<Option<i64>>("opportunity_id")?.map(OpportunityId),
            attempt: fields.get("attempt")?,
            status: fields.get("status")?,
            error: fields.get("error")?,
            duration_ms: fields.get("duration_ms")?,
            attempted_at: fields.get("attempted_at")?,
        })
    }
}
