-- Outbound webhooks (SPEC C11, issue 14): an admin subscribes a URL to kinds of deal events;
-- delivery follows the organisation's history log by its sequence (`delivered_seq`: every
-- event up to it has been delivered or was not subscribed), so nothing is lost across a
-- restart. The signing secret is sealed with the server's key. Each attempt is logged.
-- The same tables, columns and names as the other engine's migration of the same name.
CREATE TABLE webhook (
    webhook_id      INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    delivered_seq   INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_by      INTEGER REFERENCES app_user,
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhook_organisation ON webhook (organisation_id);

CREATE TABLE webhook_delivery (
    delivery_id     INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhook,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    first_seq       INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL,
    event           TEXT NOT NULL,
    opportunity_id  INTEGER,
    attempt         INTEGER NOT NULL,
    status          INTEGER,
    error           TEXT,
    duration_ms     INTEGER NOT NULL,
    attempted_at    INTEGER NOT NULL
);
CREATE INDEX webhook_delivery_webhook ON webhook_delivery (webhook_id, delivery_id);
