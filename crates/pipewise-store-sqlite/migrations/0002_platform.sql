-- Sign-in, sessions, API tokens, deal sharing and the audit log (SPEC C12).

-- An argon2id hash in PHC string form; NULL means the user cannot sign in with a password.
ALTER TABLE app_user ADD COLUMN password_hash TEXT;

-- Server-side sessions. The cookie holds a random secret; only its SHA-256 is stored.
CREATE TABLE session (
    token_hash      TEXT    PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    user_id         INTEGER NOT NULL REFERENCES app_user,
    -- Every form post must carry this value (synchroniser token).
    csrf_token      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    client_address  TEXT
) WITHOUT ROWID;
CREATE INDEX session_user ON session (organisation_id, user_id);

-- API tokens act with their owner's rights. The token is shown once; only its SHA-256 is kept,
-- with a short prefix so the owner can tell tokens apart.
CREATE TABLE api_token (
    api_token_id    INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    user_id         INTEGER NOT NULL REFERENCES app_user,
    name            TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL UNIQUE,
    prefix          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX api_token_user ON api_token (organisation_id, user_id);

-- Every sign-in attempt, for throttling failures per account and per client address.
CREATE TABLE login_attempt (
    login_attempt_id INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL,
    client_address   TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    succeeded        INTEGER NOT NULL
);
CREATE INDEX login_attempt_email ON login_attempt (email, at);
CREATE INDEX login_attempt_client ON login_attempt (client_address, at);

-- A deal shared with a user who would not otherwise see it.
CREATE TABLE opportunity_share (
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    opportunity_id  INTEGER NOT NULL REFERENCES opportunity,
    user_id         INTEGER NOT NULL REFERENCES app_user,
    shared_by       INTEGER REFERENCES app_user,
    shared_at       INTEGER NOT NULL,
    PRIMARY KEY (opportunity_id, user_id)
) WITHOUT ROWID;
CREATE INDEX opportunity_share_user ON opportunity_share (organisation_id, user_id);

-- Every write: who, when, through which edge, which record, before and after (JSON).
-- Append-only, like opportunity_history.
CREATE TABLE audit_event (
    audit_event_id  INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    at              INTEGER NOT NULL,
    actor_id        INTEGER REFERENCES app_user,
    source          TEXT    NOT NULL,
    record_kind     TEXT    NOT NULL,
    record_id       INTEGER NOT NULL,
    action          TEXT    NOT NULL,
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX audit_event_organisation ON audit_event (organisation_id, audit_event_id);
CREATE INDEX audit_event_record ON audit_event (organisation_id, record_kind, record_id);

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
