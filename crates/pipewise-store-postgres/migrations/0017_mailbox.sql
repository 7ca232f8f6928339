-- Mailbox sync (SPEC C4, issue 15): a rep's IMAP mailbox, its password sealed with the
-- server's key (never stored or shown in the clear), and how far sync has read it: the
-- folder's UIDVALIDITY and the last UID taken, the last attempt and its error, and the
-- failures in a row (for backoff). The same table, columns and names as the other engine's
-- migration of the same name.
CREATE TABLE mailbox (
    mailbox_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    user_id         BIGINT NOT NULL REFERENCES app_user,
    host            TEXT NOT NULL,
    port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    username        TEXT NOT NULL,
    secret          TEXT NOT NULL,
    folder          TEXT NOT NULL,
    uidvalidity     BIGINT,
    last_uid        BIGINT NOT NULL DEFAULT 0,
    attempted_at    TIMESTAMPTZ,
    synced_at       TIMESTAMPTZ,
    last_error      TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, host, username, folder)
);
CREATE INDEX mailbox_organisation ON mailbox (organisation_id, user_id);
