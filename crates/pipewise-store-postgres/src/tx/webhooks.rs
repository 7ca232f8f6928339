//! [`WebhookTx`] for PostgreSQL.

use pipewise_core::*;
use pipewise_store::{NewWebhook, Result, StoredWebhook, WebhookDelivery, WebhookProgress, WebhookTx};

use crate::fields::read;

use super::PgTx;

const PUT: &str = "INSERT INTO webhook (organisation_id, url, events, secret, delivered_seq, created_by, created_at) \
     SELECT $1::bigint, $2::text, $3::text, $4::text, history_seq, $5::bigint, $6::timestamptz FROM organisation WHERE organisation_id = $1 RETURNING webhook_id";
const SELECT: &str = "SELECT webhook_id, organisation_id, url, events, secret, active, delivered_seq, failures, next_attempt_at, \
     last_error, created_by, created_at FROM webhook WHERE ($1::bigint IS NULL OR organisation_id = $1) ORDER BY webhook_id";
const SET_ACTIVE: &str = "UPDATE webhook SET active = $3, failures = 0, next_attempt_at = NULL \
     WHERE organisation_id = $1 AND webhook_id = $2";
const DELETE_DELIVERIES: &str = "DELETE FROM webhook_delivery WHERE organisation_id = $1 AND webhook_id = $2";
const DELETE: &str = "DELETE FROM webhook WHERE organisation_id = $1 AND webhook_id = $2";
const PROGRESS: &str = "UPDATE webhook SET delivered_seq = GREATEST(delivered_seq, $2), failures = $3, next_attempt_at = $4, last_error = $5 WHERE webhook_id = $1";
const PUT_DELIVERY: &str = "INSERT INTO webhook_delivery (webhook_id, organisation_id, first_seq, last_seq, event, opportunity_id, \
     attempt, status, error, duration_ms, attempted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const SELECT_DELIVERIES: &str = "SELECT delivery_id, webhook_id, first_seq, last_seq, event, opportunity_id, attempt, status, error, \
     duration_ms, attempted_at FROM webhook_delivery WHERE organisation_id = $1 AND webhook_id = $2 ORDER BY delivery_id DESC LIMIT $3";

impl WebhookTx for PgTx<'_> {
    fn put_webhook(&mut self, org: OrgId, webhook: &NewWebhook<'_>, at: Timestamp) -> Result<i64> {
        self.returned_id(
            "webhook",
            PUT,
            &[&org.0, &webhook.url, &webhook.events, &webhook.secret, &webhook.created_by.map(|user| user.0), &at.to_jiff()],
        )
    }

    fn webhooks(&mut self, org: Option<OrgId>) -> Result<Vec<StoredWebhook>> {
        self.collect(SELECT, &[&org.map(|org| org.0)], read)
    }

    fn set_webhook_active(&mut self, org: OrgId, id: i64, active: bool) -> Result<bool> {
        Ok(self.execute(SET_ACTIVE, &[&org.0, &id, &active])? > 0)
    }

    fn delete_webhook(&mut self, org: OrgId, id: i64) -> Result<bool> {
        self.execute(DELETE_DELIVERIES, &[&org.0, &id])?;
        Ok(self.execute(DELETE, &[&org.0, &id])? > 0)
    }

    fn record_webhook_progress(&mut self, id: i64, progress: &WebhookProgress<'_>) -> Result<()> {
        self.execute(
            PROGRESS,
            &[&id, &progress.delivered_seq, &progress.failures, &progress.next_attempt_at.map(Timestamp::to_jiff), &progress.last_error],
        )?;
        Ok(())
    }

    fn put_webhook_deliveries(&mut self, org: OrgId, deliveries: &[WebhookDelivery]) -> Result<()> {
        for delivery in deliveries {
            self.execute(
                PUT_DELIVERY,
                &[
                    &delivery.webhook_id,
                    &org.0,
                    &delivery.first_seq,
                    &delivery.last_seq,
                    &delivery.event,
                    &delivery.opportunity_id.map(|id| id.0),
                    &delivery.attempt,
                    &delivery.status,
                    &delivery.error,
                    &delivery.duration_ms,
                    &delivery.attempted_at.to_jiff(),
                ],
            )?;
        }
        Ok(())
    }

    fn webhook_deliveries(&mut self, org: OrgId, id: i64, limit: u32) -> Result<Vec<WebhookDelivery>> {
        self.collect(SELECT_DELIVERIES, &[&org.0, &id, &i64::from(limit)], read)
    }
}
