-- Lead routing (SPEC C10, issue 14): a lead's company industry, size and region (as accounts
-- have them), the organisation's routing rules (its ideal customer profile, the pool of reps
-- with their capacity, and territories; JSON written by the application layer), and how each
-- lead was scored and given an owner when it came in, which the fairness report reads. The same
-- tables, columns and names as the other engine's migration of the same name.
ALTER TABLE lead ADD COLUMN industry TEXT;
ALTER TABLE lead ADD COLUMN employee_count INTEGER;
ALTER TABLE lead ADD COLUMN region TEXT;

CREATE TABLE lead_routing (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisation,
    rules           TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE lead_route (
    lead_id         INTEGER PRIMARY KEY REFERENCES lead,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    fit_score       INTEGER NOT NULL CHECK (fit_score BETWEEN 0 AND 100),
    routed_to       INTEGER REFERENCES app_user,
    territory       TEXT,
    routed_at       INTEGER NOT NULL
);
CREATE INDEX lead_route_organisation ON lead_route (organisation_id, routed_at);
