-- Outbound webhooks (SPEC C11, issue 14): an admin subscribes a URL to kinds of deal events;
-- delivery follows the organisation's history log by its sequence (`delivered_seq`: every
-- event up to it has been delivered or was not subscribed), so nothing is lost across a
-- restart. The signing secret is sealed with the server's key. Each attempt is logged.
-- The same tables, columns and names as the other engine's migration of the same name.
CREATE TABLE webhook (
    webhook_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    delivered_seq   BIGINT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error      TEXT,
    created_by      BIGINT REFERENCES app_user,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_organisation ON webhook (organisation_id);

CREATE TABLE webhook_delivery (
    delivery_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhook,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    first_seq       BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL,
    event           TEXT NOT NULL,
    opportunity_id  BIGINT,
    attempt         INTEGER NOT NULL,
    status          INTEGER,
    error           TEXT,
    duration_ms     INTEGER NOT NULL,
    attempted_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_delivery_webhook ON webhook_delivery (webhook_id, delivery_id);
