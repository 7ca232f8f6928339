-- Sign-in, sessions, API tokens, deal sharing and the audit log (SPEC C12).
-- The same tables, columns, names and constraints as the SQLite migration of the same name.
-- Times are timestamptz (microseconds, which timestamptz keeps exactly); flags are boolean.

-- An argon2id hash in PHC string form; NULL means the user cannot sign in with a password.
ALTER TABLE app_user ADD COLUMN password_hash TEXT;

-- Server-side sessions. The cookie holds a random secret; only its SHA-256 is stored.
CREATE TABLE session (
    token_hash      TEXT        PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    user_id         BIGINT      NOT NULL REFERENCES app_user,
    -- Every form post must carry this value (synchroniser token).
    csrf_token      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    client_address  TEXT
);
-- Quoted: session_user is a reserved word (the SESSION_USER function) in PostgreSQL; the name is SQLite's.
CREATE INDEX "session_user" ON session (organisation_id, user_id);

-- API tokens act with their owner's rights. The token is shown once; only its SHA-256 is kept,
-- with a short prefix so the owner can tell tokens apart.
CREATE TABLE api_token (
    api_token_id    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    user_id         BIGINT      NOT NULL REFERENCES app_user,
    name            TEXT        NOT NULL,
    token_hash      TEXT        NOT NULL UNIQUE,
    prefix          TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_used_at    TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX api_token_user ON api_token (organisation_id, user_id);

-- Every sign-in attempt, for throttling failures per account and per client address.
-- Not keyed by organisation: an attempt comes before anyone knows which one the user is in.
CREATE TABLE login_attempt (
    login_attempt_id BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Lower-cased.
    email            TEXT        NOT NULL,
    client_address   TEXT        NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    succeeded        BOOLEAN     NOT NULL
);
CREATE INDEX login_attempt_email ON login_attempt (email, at);
CREATE INDEX login_attempt_client ON login_attempt (client_address, at);

-- A deal shared with a user who would not otherwise see it.
CREATE TABLE opportunity_share (
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    opportunity_id  BIGINT      NOT NULL REFERENCES opportunity,
    user_id         BIGINT      NOT NULL REFERENCES app_user,
    shared_by       BIGINT      REFERENCES app_user,
    shared_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (opportunity_id, user_id)
);
CREATE INDEX opportunity_share_user ON opportunity_share (organisation_id, user_id);

-- Every write: who, when, through which edge, which record, before and after (JSON).
-- Append-only, like opportunity_history (triggers below).
-- The JSON is kept as text, not jsonb, so it reads back byte for byte as it was written.
CREATE TABLE audit_event (
    audit_event_id  BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    at              TIMESTAMPTZ NOT NULL,
    actor_id        BIGINT      REFERENCES app_user,
    source          TEXT        NOT NULL,
    record_kind     TEXT        NOT NULL,
    record_id       BIGINT      NOT NULL,
    action          TEXT        NOT NULL,
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX audit_event_organisation ON audit_event (organisation_id, audit_event_id);
CREATE INDEX audit_event_record ON audit_event (organisation_id, record_kind, record_id);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
