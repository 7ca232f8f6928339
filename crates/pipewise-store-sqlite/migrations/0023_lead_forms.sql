-- Web forms that create leads (SPEC C10, issue 14): a form has a public key (it is written into
-- a web page), the source its leads get and where the visitor goes after sending; each
-- submission is kept with the client's address and what became of it (accepted, spam,
-- limited, invalid, duplicate), which limits how often one address may send. The same tables,
-- columns and names as the other engine's migration of the same name.
CREATE TABLE lead_form (
    form_id         INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    form_key        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,
    redirect_url    TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL
);
CREATE INDEX lead_form_organisation ON lead_form (organisation_id);

CREATE TABLE lead_form_submission (
    submission_id   INTEGER PRIMARY KEY,
    form_id         INTEGER NOT NULL REFERENCES lead_form,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    client_address  TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('accepted', 'spam', 'limited', 'invalid', 'duplicate')),
    email           TEXT,
    lead_id         INTEGER REFERENCES lead,
    submitted_at    INTEGER NOT NULL
);
CREATE INDEX lead_form_submission_client ON lead_form_submission (organisation_id, client_address, submitted_at);
CREATE INDEX lead_form_submission_form ON lead_form_submission (form_id, submitted_at);
