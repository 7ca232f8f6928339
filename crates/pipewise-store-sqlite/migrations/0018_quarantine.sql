-- Capture's quarantine (SPEC C4, issue 15): a message mailbox sync could not read is kept here
-- with its place (mailbox, folder, UID), its Message-ID when it has one, the reason (a catalog
-- message as JSON) and its size, never silently dropped. The same table, columns and names as
-- the other engine's migration of the same name.
CREATE TABLE capture_quarantine (
    quarantine_id   INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    user_id         INTEGER NOT NULL REFERENCES app_user,
    mailbox_id      INTEGER REFERENCES mailbox,
    place           TEXT NOT NULL,
    message_id      TEXT,
    reason          TEXT NOT NULL,
    quarantined_at  INTEGER NOT NULL
);
CREATE INDEX capture_quarantine_user ON capture_quarantine (organisation_id, user_id, quarantine_id);
