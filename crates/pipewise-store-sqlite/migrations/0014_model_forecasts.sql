-- The statistical forecast as it was made (SPEC C7, issue 13 point 4): each day, the model's
-- forecast of the running fiscal quarter for the organisation, each team and each owner, as of
-- the end of the day before, kept unchanged — so the model's track record is scored against
-- what it said then, not against what today's code would say of the past. One row per scope,
-- period and day: a second instance recording the same day adds nothing. Amounts are minor
-- units of the reporting currency then. scope_id is 0 for the organisation. The same table,
-- columns and names as the PostgreSQL migration of the same name.
CREATE TABLE model_forecast (
    model_forecast_id    INTEGER PRIMARY KEY,
    organisation_id      INTEGER NOT NULL REFERENCES organisation,
    scope_kind           TEXT NOT NULL CHECK (scope_kind IN ('organisation', 'team', 'user')),
    scope_id             INTEGER NOT NULL,
    period_kind          TEXT NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first         TEXT NOT NULL,
    period_last          TEXT NOT NULL CHECK (period_last >= period_first),
    as_of                TEXT NOT NULL,
    currency             TEXT NOT NULL,
    basis                TEXT NOT NULL CHECK (basis IN ('statistical', 'stage_weighted')),
    expected_minor       INTEGER NOT NULL,
    p10_minor            INTEGER,
    p50_minor            INTEGER,
    p90_minor            INTEGER,
    won_minor            INTEGER NOT NULL,
    stage_weighted_minor INTEGER NOT NULL,
    recorded_at          INTEGER NOT NULL,
    UNIQUE (organisation_id, period_kind, period_first, scope_kind, scope_id, as_of)
);
