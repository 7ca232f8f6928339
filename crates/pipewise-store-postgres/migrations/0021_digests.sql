-- Daily digests of at-risk deals (SPEC C11, issue 14): one row per manager per local day,
-- claimed before sending so that one server sends it once however many run (a failed one is
-- tried again a few times, a send that crashed midway after a while). `status` is sending,
-- sent, failed or empty (nothing at risk: nothing sent). The same table, columns and names as
-- the other engine's migration of the same name.
CREATE TABLE digest (
    digest_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    user_id         BIGINT NOT NULL REFERENCES app_user,
    day             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'empty')),
    attempts        INTEGER NOT NULL,
    deals           INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, day)
);
CREATE INDEX digest_organisation ON digest (organisation_id, day);
