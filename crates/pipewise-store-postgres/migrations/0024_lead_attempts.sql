-- Contact attempts on leads (SPEC C10, issue 14): each call, e-mail or message a rep tried,
-- whether the lead answered, and the last-chance message of the close-out. Speed to lead,
-- the cadence and the attempt limit learnt from converted leads read them. The same table,
-- columns and names as the other engine's migration of the same name.
CREATE TABLE lead_attempt (
    attempt_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    lead_id         BIGINT NOT NULL REFERENCES lead,
    user_id         BIGINT REFERENCES app_user,
    kind            TEXT NOT NULL CHECK (kind IN ('call', 'email', 'message', 'last_chance')),
    reached         BOOLEAN NOT NULL,
    attempted_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_attempt_lead ON lead_attempt (organisation_id, lead_id, attempted_at);
